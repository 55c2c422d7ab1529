// SPDX-License-Identifier: MIT
/* ACPI IORT parsing: reference table, every error class, lookups, fault sweep, real tables. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

#include <ih/alloc.h>
#include <ih/fw_iort.h>
#include <ih/world.h>

#include "fw/fw_util.h"
#include "fw/iort_build.h"

static struct ih_world *w;
static struct iortb tb;

static void setup(void)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
	ib_reference(&tb);
}

static void teardown(void)
{
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(fw_iort, .init = setup, .fini = teardown);

static struct ih_iort *parse_ok(const u8 *buf, size_t len)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;
	int ret = ih_iort_parse(w, buf, len, 0, &t, &diag);

	cr_assert_eq(ret, 0, "%d at %s %s: %s", ret, diag.where, diag.prop, diag.reason);
	return t;
}

/* Parse @tb (after ib_finish unless @raw): exact errno, diagnostic offset, field, reason. */
static void expect_error(size_t len, int err, long offset, const char *field, const char *reason)
{
	struct ih_fw_diag diag;
	struct ih_iort *t = (void *)1;
	int ret = ih_iort_parse(w, tb.b, len, 0, &t, &diag);

	cr_expect_eq(ret, err, "got %d (%s: %s), want %d", ret, diag.where, diag.reason, err);
	cr_expect_null(t);
	cr_expect_eq(diag.err, err);
	cr_expect_eq(diag.offset, offset, "diag offset 0x%lx, want 0x%lx", diag.offset, offset);
	cr_expect_str_eq(diag.prop, field);
	cr_expect(strstr(diag.reason, reason) != NULL, "reason \"%s\" lacks \"%s\"", diag.reason,
		  reason);
	cr_expect_eq(ih_alloc_live_count(w), 0, "error path left memory behind");
}

Test(fw_iort, reference_table_decodes_every_node_type)
{
	struct ih_iort *t = parse_ok(tb.b, tb.len);
	const struct ih_iort_node *n;

	cr_expect_eq(t->length, IB_LEN);
	cr_expect_eq(t->revision, 3);
	cr_expect(t->checksum_ok);
	cr_expect_str_eq(t->oem_id, "IHTEST");
	cr_expect_str_eq(t->oem_table_id, "IHIORT  ");
	cr_assert_eq(t->nnodes, 8);
	cr_expect_eq(t->nmaps, 8);

	n = &t->nodes[0];
	cr_expect_eq(n->offset, IB_ITS);
	cr_expect_eq(n->type, IH_IORT_ITS_GROUP);
	cr_assert_eq(n->u.its.count, 1);
	cr_expect_eq(n->u.its.ids[0], 0);

	n = &t->nodes[1];
	cr_expect_eq(n->type, IH_IORT_SMMUV3);
	cr_expect_eq(n->revision, 4);
	cr_expect_eq(n->identifier, 1);
	cr_expect_eq(n->u.smmuv3.base, 0x09050000);
	cr_expect_eq(n->u.smmuv3.gsiv[0], 0x6a);
	cr_expect_eq(n->u.smmuv3.gsiv[1], 0);
	cr_expect_eq(n->u.smmuv3.deviceid_index, 1);
	cr_expect_eq(n->u.smmuv3.msi_map, 1, "PRI GSIV 0 at revision 4: the index is in use");
	cr_assert_eq(n->nmaps, 2);
	cr_expect_eq(n->maps[1].flags, IH_IORT_ID_SINGLE);
	cr_expect_eq(n->maps[1].target, 0);

	n = &t->nodes[2];
	cr_expect_eq(n->type, IH_IORT_ROOT_COMPLEX);
	cr_expect_eq(n->u.rc.cca, 1);
	cr_expect_eq(n->u.rc.mem_flags, 3);
	cr_expect_eq(n->u.rc.segment, 0);
	cr_expect(n->u.rc.has_addr_limit);
	cr_expect_eq(n->u.rc.addr_limit, 48);
	cr_assert_eq(n->nmaps, 2);
	cr_expect_eq(n->maps[0].id_count, 0xff, "stored as number of IDs minus one");
	cr_expect_eq(n->maps[0].target, 1);
	cr_expect_eq(n->maps[1].target, 0);

	n = &t->nodes[3];
	cr_expect_eq(n->type, IH_IORT_NAMED_COMPONENT);
	cr_expect_str_eq(n->u.nc.name, "\\_SB_.DEV0");
	cr_expect_eq(n->u.nc.addr_limit, 40);

	n = &t->nodes[4];
	cr_expect_eq(n->type, IH_IORT_PMCG);
	cr_expect_eq(n->u.pmcg.page0, 0x09060000);
	cr_expect_eq(n->u.pmcg.page1, 0x09070000);
	cr_expect_eq(n->u.pmcg.gsiv, 0x70);
	cr_expect_eq(n->u.pmcg.node, 1);

	n = &t->nodes[5];
	cr_expect_eq(n->type, IH_IORT_RMR);
	cr_assert_eq(n->u.rmr.nranges, 1);
	cr_expect_eq(n->u.rmr.ranges[0].base, 0x80000000);
	cr_expect_eq(n->u.rmr.ranges[0].length, 0x10000);

	n = &t->nodes[6];
	cr_expect_eq(n->type, IH_IORT_SMMU);
	cr_expect_eq(n->u.smmu.base, 0x2b500000);
	cr_expect_eq(n->u.smmu.span, 0x10000);
	cr_expect_eq(n->u.smmu.model, 3);
	cr_expect_eq(n->u.smmu.nctx, 2);

	cr_expect_eq(t->nodes[7].type, 7);
	cr_expect_str_eq(ih_iort_type_name(7), "unknown");

	cr_expect_eq(ih_iort_node_at(t, IB_PMCG), 4);
	cr_expect_eq(ih_iort_node_at(t, IB_PMCG + 1), -ENOENT);
	cr_expect_eq(ih_iort_find_named(t, "\\_SB_.DEV0"), 3);
	cr_expect_eq(ih_iort_find_named(t, "\\_SB_.DEV1"), -ENOENT);
	cr_expect_eq(ih_iort_find_rc(t, 0), 2);
	cr_expect_eq(ih_iort_find_rc(t, 1), -ENOENT);
	ih_iort_free(t);
}

Test(fw_iort, root_complex_ids_resolve_through_smmu_to_its)
{
	struct ih_iort *t = parse_ok(tb.b, tb.len);
	unsigned int node = 99;
	u32 id = 0;

	/* RID 0x10: map 0 of the RC -> SMMUv3, StreamID 0x100 + 0x10. */
	cr_expect_eq(ih_iort_lookup_smmu(t, 2, 0x10, &node, &id), 0);
	cr_expect_eq(node, 1);
	cr_expect_eq(id, 0x110);
	/* The last ID of the inclusive range [0, 0xff]. */
	cr_expect_eq(ih_iort_lookup_smmu(t, 2, 0xff, &node, &id), 0);
	cr_expect_eq(id, 0x1ff);
	/* RID 0x10 for MSIs: RC -> SMMUv3 (0x110) -> map 0 of the SMMU -> ITS 0x110. */
	cr_expect_eq(ih_iort_lookup_msi(t, 2, 0x10, &node, &id), 0);
	cr_expect_eq(node, 0);
	cr_expect_eq(id, 0x110);
	/* RID 0x2345 bypasses the SMMU: no IOMMU, DeviceID 0x100 + (0x2345 - 0x100). */
	cr_expect_eq(ih_iort_lookup_smmu(t, 2, 0x2345, &node, &id), -ENODEV);
	cr_expect_eq(ih_iort_lookup_msi(t, 2, 0x2345, &node, &id), 0);
	cr_expect_eq(node, 0);
	cr_expect_eq(id, 0x2345);
	/* Beyond every range of the RC. */
	cr_expect_eq(ih_iort_lookup_msi(t, 2, 0x10000, &node, &id), -ENODEV);
	ih_iort_free(t);
}

Test(fw_iort, smmu_deviceid_mapping_is_only_for_its_own_msi)
{
	struct ih_iort *t = parse_ok(tb.b, tb.len);
	unsigned int node;
	u32 id;

	/* Client StreamID 5 through the SMMU: map 0 (the single map 1 is skipped). */
	cr_expect_eq(ih_iort_map_id(t, 1, 5, IH_IORT_MSI_TYPES, &node, &id, NULL), 0);
	cr_expect_eq(node, 0);
	cr_expect_eq(id, 5);
	/* The SMMU's own MSI DeviceID: mapping index 1. */
	cr_expect_eq(ih_iort_map_index(t, 1, 1, IH_IORT_MSI_TYPES, &node, &id, NULL), 0);
	cr_expect_eq(id, 0x10000);
	cr_expect_eq(ih_iort_map_index(t, 1, 2, IH_IORT_MSI_TYPES, &node, &id, NULL), -EINVAL);
	ih_iort_free(t);
}

Test(fw_iort, named_component_single_and_indexed_mappings)
{
	struct ih_iort *t = parse_ok(tb.b, tb.len);
	unsigned int node;
	u32 id;

	/* A single mapping ignores the input ID. */
	cr_expect_eq(ih_iort_lookup_smmu(t, 3, 0x1234, &node, &id), 0);
	cr_expect_eq(node, 1);
	cr_expect_eq(id, 0x42);
	cr_expect_eq(ih_iort_map_index(t, 3, 1, IH_IORT_IOMMU_TYPES, &node, &id, NULL), 0);
	cr_expect_eq(id, 0x50);
	/* ...and on to the ITS through the SMMU. */
	cr_expect_eq(ih_iort_map_index(t, 3, 1, IH_IORT_MSI_TYPES, &node, &id, NULL), 0);
	cr_expect_eq(node, 0);
	cr_expect_eq(id, 0x50);
	/* PMCG: a single mapping is not an ID translation; by index it is its DeviceID. */
	cr_expect_eq(ih_iort_lookup_msi(t, 4, 0, &node, &id), -ENODEV);
	cr_expect_eq(ih_iort_map_index(t, 4, 0, IH_IORT_MSI_TYPES, &node, &id, NULL), 0);
	cr_expect_eq(id, 0x20000);
	/* RMR range map [0x42, 0x42] -> SMMUv3 0x42. */
	cr_expect_eq(ih_iort_lookup_smmu(t, 5, 0x42, &node, &id), 0);
	cr_expect_eq(node, 1);
	cr_expect_eq(ih_iort_lookup_smmu(t, 5, 0x43, &node, &id), -ENODEV);
	/* A start node already of the wanted type yields the ID untouched. */
	cr_expect_eq(ih_iort_lookup_smmu(t, 6, 0x77, &node, &id), 0);
	cr_expect_eq(node, 6);
	cr_expect_eq(id, 0x77);
	/* Bad arguments. */
	cr_expect_eq(ih_iort_map_id(t, 8, 0, IH_IORT_MSI_TYPES, &node, &id, NULL), -EINVAL);
	cr_expect_eq(ih_iort_map_id(t, 2, 0, 0, &node, &id, NULL), -EINVAL);
	ih_iort_free(t);
}

Test(fw_iort, end_of_one_range_and_start_of_next_takes_the_next)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;
	unsigned int node;
	u32 id;

	/* QEMU-style off-by-one: [0, 0x100] -> SMMU overlaps [0x100, 0xffff] -> ITS at 0x100. */
	ib_map(&tb, IB_RC, 0, 0, 0x100, 0x100, IB_SMMUV3, 0);
	ib_finish(&tb);
	t = parse_ok(tb.b, tb.len);
	cr_expect_eq(ih_iort_map_id(t, 2, 0x100, IH_IORT_MSI_TYPES, &node, &id, &diag), 0);
	cr_expect_eq(node, 0, "went straight to the ITS");
	cr_expect_eq(id, 0x100);
	cr_expect_eq(diag.warnings, 1);
	cr_expect(strstr(diag.reason, "ends mapping 0 and starts mapping 1"), "%s", diag.reason);
	cr_expect_eq(ih_iort_map_id(t, 2, 0xff, IH_IORT_IOMMU_TYPES, &node, &id, &diag), 0);
	cr_expect_eq(node, 1);
	cr_expect_eq(id, 0x1ff);
	cr_expect_eq(diag.warnings, 0);
	ih_iort_free(t);
}

Test(fw_iort, chain_longer_than_depth_limit_is_eloop)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;
	unsigned int node;
	u32 offs[12], id;
	u8 body[20] = { 0 };

	/* Twelve root complexes, each mapping everything to the next: acyclic but long. */
	ib_init(&tb, 0);
	for (int i = 0; i < 12; i++) {
		body[12] = (u8)i; /* segment */
		offs[i] = ib_node(&tb, 2, 0, body, 20, i < 11);
	}
	for (int i = 0; i < 11; i++)
		ib_map(&tb, offs[i], 0, 0, 0xffff, 0, offs[i + 1], 0);
	ib_finish(&tb);
	t = parse_ok(tb.b, tb.len);
	cr_expect_eq(ih_iort_map_id(t, 0, 1, IH_IORT_MSI_TYPES, &node, &id, &diag), -ELOOP);
	cr_expect(strstr(diag.reason, "more than 8"), "%s", diag.reason);
	cr_expect_eq(ih_iort_map_id(t, 4, 1, IH_IORT_TYPE_BIT(IH_IORT_ROOT_COMPLEX) << 0, &node,
				    &id, &diag),
		     0, "a root complex is already of the wanted type");
	ih_iort_free(t);
}

/* ---- header errors ---- */

Test(fw_iort, buffer_shorter_than_acpi_header_is_eoverflow)
{
	expect_error(35, -EOVERFLOW, 0, "Length", "shorter than the ACPI header");
}

Test(fw_iort, bad_signature_is_einval)
{
	tb.b[0] = 'X';
	expect_error(tb.len, -EINVAL, 0, "Signature", "is not \"IORT\"");
}

Test(fw_iort, table_length_past_buffer_is_eoverflow)
{
	expect_error(tb.len - 1, -EOVERFLOW, 4, "Length", "runs past the buffer");
}

Test(fw_iort, table_length_below_iort_header_is_einval)
{
	ib_put32(tb.b + 4, 40);
	expect_error(tb.len, -EINVAL, 4, "Length", "below the IORT header");
}

Test(fw_iort, bad_checksum_warns_by_default_and_fails_when_strict)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;

	tb.b[9] ^= 1;
	cr_assert_eq(ih_iort_parse(w, tb.b, tb.len, 0, &t, &diag), 0);
	cr_expect_not(t->checksum_ok);
	cr_expect_eq(diag.err, 0);
	cr_expect_eq(diag.warnings, 1);
	cr_expect(strstr(diag.reason, "checksum"));
	ih_iort_free(t);
	cr_expect_eq(ih_iort_parse(w, tb.b, tb.len, IH_IORT_STRICT_CHECKSUM, &t, &diag), -EBADMSG);
	cr_expect_null(t);
	cr_expect_eq(diag.offset, 9);
}

Test(fw_iort, withdrawn_table_revision_is_a_warning)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;

	tb.b[8] = 2;
	ib_finish(&tb);
	cr_assert_eq(ih_iort_parse(w, tb.b, tb.len, 0, &t, &diag), 0);
	cr_expect_eq(diag.warnings, 1);
	cr_expect(strstr(diag.reason, "revision 2"), "%s", diag.reason);
	ih_iort_free(t);
}

Test(fw_iort, node_offset_inside_header_is_einval)
{
	ib_put32(tb.b + 40, 0x20);
	ib_finish(&tb);
	expect_error(tb.len, -EINVAL, 40, "NodeOffset", "inside the header");
}

Test(fw_iort, node_offset_beyond_length_is_eoverflow)
{
	ib_put32(tb.b + 40, tb.len + 0x10);
	ib_finish(&tb);
	expect_error(tb.len, -EOVERFLOW, 36, "NodeCount", "cannot fit");
}

Test(fw_iort, node_count_beyond_table_is_eoverflow)
{
	/* 0x10000000 nodes of at least 16 bytes: refused before any allocation. */
	ib_put32(tb.b + 36, 0x10000000);
	tb.b[9] = 0;
	expect_error(tb.len, -EOVERFLOW, 36, "NodeCount", "cannot fit");
}

Test(fw_iort, node_count_one_too_many_runs_past_the_table)
{
	/* 9 nodes claimed, 8 present: the ninth header would start at the table's end. */
	tb.nnodes = 9;
	ib_finish(&tb);
	expect_error(tb.len, -EOVERFLOW, IB_LEN, "Length", "node header runs past the table");
}

Test(fw_iort, zero_nodes_is_an_empty_table)
{
	struct ih_iort *t;

	tb.nnodes = 0;
	ib_finish(&tb);
	t = parse_ok(tb.b, tb.len);
	cr_expect_eq(t->nnodes, 0);
	cr_expect_eq(ih_iort_find_rc(t, 0), -ENOENT);
	ih_iort_free(t);
}

Test(fw_iort, nodes_without_any_mapping_parse)
{
	struct ih_iort *t;
	unsigned int node;
	u32 id;
	u8 body[8] = { 1, 0, 0, 0, 7, 0, 0, 0 };

	/* Two ITS groups and nothing that maps to them (found by fuzz_iort). */
	ib_init(&tb, 3);
	ib_node(&tb, 0, 1, body, 8, 0);
	ib_node(&tb, 0, 1, body, 8, 0);
	ib_finish(&tb);
	t = parse_ok(tb.b, tb.len);
	cr_expect_eq(t->nnodes, 2);
	cr_expect_eq(t->nmaps, 0);
	cr_expect_null(t->nodes[1].maps);
	cr_expect_eq(t->nodes[1].u.its.ids[0], 7);
	cr_expect_eq(ih_iort_lookup_smmu(t, 0, 1, &node, &id), -ENODEV);
	cr_expect_eq(ih_iort_lookup_msi(t, 1, 1, &node, &id), 0);
	cr_expect_eq(node, 1);
	ih_iort_free(t);
}

/* ---- node errors ---- */

Test(fw_iort, node_length_below_header_is_einval)
{
	ib_put16(tb.b + IB_RC + 1, 8);
	ib_finish(&tb);
	expect_error(tb.len, -EINVAL, IB_RC + 1, "Length", "below the node header");
}

Test(fw_iort, zero_length_node_is_einval)
{
	ib_put16(tb.b + IB_ITS + 1, 0);
	ib_finish(&tb);
	expect_error(tb.len, -EINVAL, IB_ITS + 1, "Length", "below the node header");
}

Test(fw_iort, node_running_past_table_is_eoverflow)
{
	ib_put16(tb.b + IB_IWB + 1, 0x1d);
	ib_finish(&tb);
	expect_error(tb.len, -EOVERFLOW, IB_IWB + 1, "Length", "runs past the table");
}

Test(fw_iort, node_shorter_than_its_type_is_einval)
{
	/* An SMMUv3 node cut to 56 bytes cannot hold its GSIVs. */
	tb.b[IB_SMMUV3 + 8] = 0;
	ib_put16(tb.b + IB_SMMUV3 + 1, 56);
	ib_finish(&tb);
	expect_error(tb.len, -EINVAL, IB_SMMUV3 + 1, "Length", "below its fixed fields (60)");
}

Test(fw_iort, mapping_count_overflowing_node_is_eoverflow)
{
	ib_put32(tb.b + IB_RC + 8, 0x0ccccccd); /* * 20 wraps 32 bits to 4 */
	ib_finish(&tb);
	expect_error(tb.len, -EOVERFLOW, IB_RC + 8, "NumIdMappings", "run past the node");
}

Test(fw_iort, mapping_array_inside_node_header_is_einval)
{
	ib_put32(tb.b + IB_RC + 12, 8);
	ib_finish(&tb);
	expect_error(tb.len, -EINVAL, IB_RC + 12, "IdArrayRef", "inside the header");
}

Test(fw_iort, output_reference_not_at_node_start_is_einval)
{
	ib_map(&tb, IB_RC, 1, 0x100, 0xfeff, 0x100, IB_ITS + 4, 0);
	ib_finish(&tb);
	/* Mapping 1 of the RC: array at node + 36, 20 bytes per mapping, reference at +12. */
	expect_error(tb.len, -EINVAL, IB_RC + 36 + 20 + 12, "OutputReference",
		     "0x34 is not a node start");
}

Test(fw_iort, output_reference_beyond_table_is_einval)
{
	ib_map(&tb, IB_RC, 0, 0, 0xff, 0x100, 0xfffffff0, 0);
	ib_finish(&tb);
	expect_error(tb.len, -EINVAL, IB_RC + 36 + 12, "OutputReference", "not a node start");
}

Test(fw_iort, input_range_wrapping_32_bits_is_erange)
{
	ib_map(&tb, IB_RC, 0, 0xffffff00, 0x100, 0x0, IB_SMMUV3, 0);
	ib_finish(&tb);
	expect_error(tb.len, -ERANGE, IB_RC + 36 + 4, "IdCount", "wraps 32 bits");
}

Test(fw_iort, output_range_wrapping_32_bits_is_erange)
{
	ib_map(&tb, IB_RC, 0, 0, 0xff, 0xffffff80, IB_SMMUV3, 0);
	ib_finish(&tb);
	expect_error(tb.len, -ERANGE, IB_RC + 36 + 8, "OutputBase", "wraps 32 bits");
}

Test(fw_iort, full_32_bit_range_is_accepted)
{
	struct ih_iort *t;
	unsigned int node;
	u32 id;

	ib_map(&tb, IB_SMMUV3, 0, 0, 0xffffffff, 0, IB_ITS, 0);
	ib_finish(&tb);
	t = parse_ok(tb.b, tb.len);
	cr_expect_eq(ih_iort_map_id(t, 1, 0xffffffff, IH_IORT_MSI_TYPES, &node, &id, NULL), 0);
	cr_expect_eq(id, 0xffffffff);
	ih_iort_free(t);
}

Test(fw_iort, cyclic_output_references_are_eloop)
{
	/* The SMMUv3's client map now points back at the RC: RC -> SMMUv3 -> RC. */
	ib_map(&tb, IB_SMMUV3, 0, 0, 0xffff, 0, IB_RC, 0);
	ib_finish(&tb);
	/* The walk enters at the SMMUv3; the RC's map 0 is the edge that closes the cycle. */
	expect_error(tb.len, -ELOOP, IB_RC, "OutputReference",
		     "mapping 0 closes a reference cycle through node @0x48");
}

Test(fw_iort, node_referencing_itself_is_eloop)
{
	ib_map(&tb, IB_RMR, 0, 0x42, 0, 0x42, IB_RMR, 0);
	ib_finish(&tb);
	expect_error(tb.len, -ELOOP, IB_RMR, "OutputReference", "reference cycle");
}

Test(fw_iort, its_identifiers_past_node_are_eoverflow)
{
	ib_put32(tb.b + IB_ITS + 16, 3);
	ib_finish(&tb);
	expect_error(tb.len, -EOVERFLOW, IB_ITS + 16, "ItsCount", "run past the node");
}

Test(fw_iort, named_component_name_without_nul_is_eoverflow)
{
	/* Fill the node from the name to its end (over the mappings) with 'A'. */
	tb.b[IB_NC + 8] = 0;
	memset(tb.b + IB_NC + 29, 'A', IB_PMCG - IB_NC - 29);
	ib_finish(&tb);
	expect_error(tb.len, -EOVERFLOW, IB_NC + 29, "DeviceName", "no NUL");
}

Test(fw_iort, rmr_ranges_past_node_are_eoverflow)
{
	ib_put32(tb.b + IB_RMR + 20, 3);
	ib_finish(&tb);
	expect_error(tb.len, -EOVERFLOW, IB_RMR + 20, "NumMemRangeDesc", "run past the node");
}

Test(fw_iort, smmu_context_interrupts_past_node_are_eoverflow)
{
	ib_put32(tb.b + IB_SMMU + 44, 3);
	ib_finish(&tb);
	expect_error(tb.len, -EOVERFLOW, IB_SMMU + 44, "ContextInterruptCount",
		     "run past the node");
}

Test(fw_iort, pmcg_reference_not_at_node_start_is_einval)
{
	ib_put32(tb.b + IB_PMCG + 28, IB_SMMUV3 + 1);
	ib_finish(&tb);
	expect_error(tb.len, -EINVAL, IB_PMCG + 28, "NodeReference", "not a node start");
}

Test(fw_iort, deviceid_index_beyond_mappings_is_a_warning)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;

	ib_put32(tb.b + IB_SMMUV3 + 64, 7);
	ib_finish(&tb);
	cr_assert_eq(ih_iort_parse(w, tb.b, tb.len, 0, &t, &diag), 0);
	cr_expect_eq(diag.warnings, 1);
	cr_expect_eq(t->nodes[1].u.smmuv3.msi_map, -1);
	ih_iort_free(t);
}

Test(fw_iort, revision_0_smmuv3_ignores_deviceid_index)
{
	struct iortb copy = tb;
	struct ih_iort *t;

	copy.b[IB_SMMUV3 + 3] = 0;
	ib_finish(&copy);
	t = parse_ok(copy.b, copy.len);
	cr_expect_eq(t->nodes[1].u.smmuv3.msi_map, -1);
	ih_iort_free(t);
}

Test(fw_iort, every_truncation_of_the_table_is_refused_without_leak)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;

	for (u32 n = 0; n < tb.len; n++) {
		u8 *copy = malloc(n ? n : 1);

		memcpy(copy, tb.b, n);
		cr_assert_eq(ih_iort_parse(w, copy, n, 0, &t, &diag), -EOVERFLOW, "length %u", n);
		free(copy);
	}
	cr_expect_eq(ih_alloc_live_count(w), 0);
}

Test(fw_iort, each_allocation_failure_is_enomem_without_leak)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;
	unsigned long nth;
	int ret;

	for (nth = 1; nth < 1000; nth++) {
		ih_fault_fail_nth(w, nth);
		ret = ih_iort_parse(w, tb.b, tb.len, 0, &t, &diag);
		ih_fault_clear(w);
		if (!ret) {
			ih_iort_free(t);
			break;
		}
		cr_assert_eq(ret, -ENOMEM, "allocation %lu: %d (%s)", nth, ret, diag.reason);
		cr_assert_eq(ih_alloc_live_count(w), 0, "allocation %lu failed and leaked", nth);
	}
	/* table, nodes, maps, ITS ids, NC name, RMR ranges, two cycle-check arrays. */
	cr_expect_eq(nth, 9);
}

/* ---- real tables against the oracle facts (our walker cross-checked with two iasl) ---- */

static u8 *load_real_iort(const char *file, size_t *len, bool *external)
{
	static const char *const sub[] = { "qemu-7.2-virt", "acpica-templates", "servers",
					   "aarch64-laptops" };
	char path[1024], ext[512];
	u8 *blob;

	snprintf(path, sizeof(path), "%s/corpus/iort/%s", IH_SOURCE_DIR, file);
	blob = fwt_read(path, len);
	*external = false;
	if (blob)
		return blob;
	*external = true;
	for (unsigned int i = 0; i < ARRAY_SIZE(sub); i++) {
		snprintf(path, sizeof(path), "%s/iort/%s/%s", fwt_corpus_real(ext, sizeof(ext)),
			 sub[i], file);
		blob = fwt_read(path, len);
		if (blob)
			return blob;
	}
	return NULL;
}

struct fact_node {
	u32 offset, type, rev, length, nmaps;
	char extra[256];
};

Test(fw_iort, real_tables_match_the_oracle_facts)
{
	char line[512], file[160], ext[512], path[512];
	static struct fact_node nodes[64];
	static u32 maps[512][5];
	unsigned int nn = 0, nm = 0, checked = 0, in_repo = 0, size, length, rev, csum, count,
		     total;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fw/iort_facts.txt", IH_SOURCE_DIR);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct fact_node *fn;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "table %159s size %u length %u rev %u checksum %u nodes %u maps %u",
			   file, &size, &length, &rev, &csum, &count, &total) == 7) {
			nn = nm = 0;
		} else if (nn < ARRAY_SIZE(nodes) &&
			   sscanf(line, "node %x %u %u %u %u %255[^\n]", &nodes[nn].offset,
				  &nodes[nn].type, &nodes[nn].rev, &nodes[nn].length,
				  &nodes[nn].nmaps, nodes[nn].extra) >= 5) {
			nn++;
		} else if (nm < ARRAY_SIZE(maps) &&
			   sscanf(line, "map %x %x %x %x %x", &maps[nm][0], &maps[nm][1],
				  &maps[nm][2], &maps[nm][3], &maps[nm][4]) == 5) {
			nm++;
		} else if (!strcmp(line, "end\n")) {
			struct ih_fw_diag diag;
			struct ih_iort *t;
			bool external, dangling = false;
			size_t len;
			u8 *blob = load_real_iort(file, &len, &external);
			unsigned int mi = 0;
			int ret;

			if (!blob) {
				fwt_note("%s: not in corpus/iort nor in %s: skipped", file,
					    fwt_corpus_real(ext, sizeof(ext)));
				continue;
			}
			checked++;
			in_repo += !external;
			cr_assert_eq(len, size, "%s", file);
			for (unsigned int k = 0; k < nm; k++) {
				bool hit = false;

				for (unsigned int j = 0; j < nn; j++)
					hit |= nodes[j].offset == maps[k][3];
				dangling |= !hit;
			}
			ret = ih_iort_parse(w, blob, len, 0, &t, &diag);
			free(blob);
			if (length > size) {
				/* The UTF-8-mangled Surface table. */
				cr_expect_eq(ret, -EOVERFLOW, "%s", file);
				continue;
			}
			if (dangling) {
				/* iasl templates: their mappings point at offset 0 or mid-node. */
				cr_expect_eq(ret, -EINVAL, "%s", file);
				cr_expect_str_eq(diag.prop, "OutputReference", "%s", file);
				continue;
			}
			cr_assert_eq(ret, 0, "%s: %s %s: %s", file, diag.where, diag.prop,
				     diag.reason);
			cr_expect_eq(t->length, length, "%s", file);
			cr_expect_eq(t->revision, rev, "%s", file);
			cr_expect_eq(t->checksum_ok, csum, "%s", file);
			cr_expect_eq(diag.warnings, !csum, "%s: only a bad checksum warns", file);
			cr_assert_eq(t->nnodes, count, "%s", file);
			cr_assert_eq(t->nnodes, nn, "%s", file);
			cr_expect_eq(t->nmaps, total, "%s", file);
			for (unsigned int j = 0; j < nn; j++) {
				const struct ih_iort_node *n = &t->nodes[j];
				unsigned long long v;
				unsigned int u;
				char s[128];

				fn = &nodes[j];
				cr_expect_eq(n->offset, fn->offset, "%s node %u", file, j);
				cr_expect_eq(n->type, fn->type, "%s node %u", file, j);
				cr_expect_eq(n->revision, fn->rev, "%s node %u", file, j);
				cr_expect_eq(n->length, fn->length, "%s node %u", file, j);
				cr_assert_eq(n->nmaps, fn->nmaps, "%s node %u", file, j);
				if (sscanf(fn->extra, "its=%u", &u) == 1)
					cr_expect_eq(n->u.its.count, u, "%s node %u", file, j);
				if (sscanf(fn->extra, "name=%127s", s) == 1)
					cr_expect_str_eq(n->u.nc.name, s, "%s node %u", file, j);
				if (sscanf(fn->extra, "seg=%u", &u) == 1)
					cr_expect_eq(n->u.rc.segment, u, "%s node %u", file, j);
				if (sscanf(fn->extra, "base=%llx model=%u", &v, &u) == 2) {
					cr_expect_eq(n->type == IH_IORT_SMMU ? n->u.smmu.base :
									       n->u.smmuv3.base,
						     v, "%s node %u", file, j);
					cr_expect_eq(n->type == IH_IORT_SMMU ? n->u.smmu.model :
									       n->u.smmuv3.model,
						     u, "%s node %u", file, j);
				}
				for (unsigned int k = 0; k < n->nmaps; k++, mi++) {
					const struct ih_iort_id_map *m = &n->maps[k];

					cr_expect_eq(m->input_base, maps[mi][0], "%s", file);
					cr_expect_eq(m->id_count, maps[mi][1], "%s", file);
					cr_expect_eq(m->output_base, maps[mi][2], "%s", file);
					cr_expect_eq(m->output_ref, maps[mi][3], "%s", file);
					cr_expect_eq(m->flags, maps[mi][4], "%s", file);
					cr_expect_eq(t->nodes[m->target].offset, maps[mi][3], "%s",
						     file);
				}
			}
			cr_expect_eq(mi, nm, "%s", file);
			ih_iort_free(t);
		} else {
			cr_assert_fail("bad fact line: %s", line);
		}
	}
	fclose(f);
	/* QEMU x3 and the two iasl templates are in the repository. */
	cr_expect_eq(in_repo, 5);
	if (checked < 36)
		fwt_note("external corpus: %u of 31 firmware IORTs checked (set IH_CORPUS_REAL)",
			    checked - in_repo);
}

Test(fw_iort, qemu_virt_smmuv3_overlap_at_0x100_goes_to_the_its)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;
	bool external;
	unsigned int node;
	size_t len;
	u32 id;
	u8 *blob = load_real_iort("virt-smmuv3.IORT.dat", &len, &external);

	cr_assert_not_null(blob);
	t = parse_ok(blob, len);
	free(blob);
	cr_assert_eq(t->nodes[2].type, IH_IORT_ROOT_COMPLEX);
	cr_expect_eq(t->nodes[1].u.smmuv3.base, 0x09050000);
	cr_expect_eq(ih_iort_lookup_smmu(t, 2, 0xff, &node, &id), 0);
	cr_expect_eq(node, 1);
	cr_expect_eq(id, 0xff);
	/* [0, 0x100] -> SMMU and [0x100, 0xffff] -> ITS: 0x100 takes the later range. */
	cr_expect_eq(ih_iort_map_id(t, 2, 0x100, IH_IORT_IOMMU_TYPES, &node, &id, &diag), -ENODEV);
	cr_expect_eq(diag.warnings, 1);
	cr_expect_eq(ih_iort_lookup_msi(t, 2, 0x100, &node, &id), 0);
	cr_expect_eq(node, 0);
	cr_expect_eq(id, 0x100);
	ih_iort_free(t);
}

Test(fw_iort, qemu_pxb_bus_ranges_split_between_smmu_and_its)
{
	struct ih_iort *t;
	bool external;
	unsigned int node;
	size_t len;
	u32 id;
	u8 *blob = load_real_iort("virt-smmuv3_pxb.IORT.dat", &len, &external);

	cr_assert_not_null(blob);
	t = parse_ok(blob, len);
	free(blob);
	/* Bus 128 and bus 200 host bridges sit behind the SMMU, the gaps go to the ITS. */
	cr_expect_eq(ih_iort_lookup_smmu(t, 2, 0x8001, &node, &id), 0);
	cr_expect_eq(id, 0x8001);
	cr_expect_eq(ih_iort_lookup_smmu(t, 2, 0xc9ff, &node, &id), 0);
	cr_expect_eq(ih_iort_lookup_smmu(t, 2, 0x8200, &node, &id), -ENODEV);
	cr_expect_eq(ih_iort_lookup_smmu(t, 2, 0xca00, &node, &id), -ENODEV);
	cr_expect_eq(ih_iort_lookup_msi(t, 2, 0xca00, &node, &id), 0);
	cr_expect_eq(id, 0xca00);
	ih_iort_free(t);
}

Test(fw_iort, morello_smmu_own_msi_uses_deviceid_index)
{
	struct ih_iort *t;
	bool external;
	unsigned int node;
	size_t len;
	u32 id;
	u8 *blob = load_real_iort("arm-morello-fvp.IORT.dat", &len, &external);

	if (!blob) {
		fwt_note("%s: external corpus absent, skipped", __func__);
		cr_skip_test("external corpus not found (IH_CORPUS_REAL)");
	}
	t = parse_ok(blob, len);
	free(blob);
	cr_assert_eq(t->nodes[3].type, IH_IORT_SMMUV3);
	cr_expect_eq(t->nodes[3].u.smmuv3.base, 0x4f400000);
	cr_expect_eq(t->nodes[3].u.smmuv3.msi_map, 1);
	cr_expect_eq(ih_iort_lookup_smmu(t, 2, 0x1234, &node, &id), 0);
	cr_expect_eq(node, 3);
	cr_expect_eq(id, 0x1234);
	/* Client MSIs go to the second ITS group, the SMMU's own to the first. */
	cr_expect_eq(ih_iort_lookup_msi(t, 2, 0x1234, &node, &id), 0);
	cr_expect_eq(t->nodes[node].offset, 0x48);
	cr_expect_eq(id, 0x1234);
	cr_expect_eq(ih_iort_map_index(t, 3, 1, IH_IORT_MSI_TYPES, &node, &id, NULL), 0);
	cr_expect_eq(t->nodes[node].offset, 0x30);
	cr_expect_eq(id, 0);
	ih_iort_free(t);
}

Test(fw_iort, x13s_smmu_bases_match_its_device_tree)
{
	static const u64 want[] = { 0x15000000, 0x3da0000, 0x14f80000 };
	struct ih_iort *t;
	bool external;
	size_t len;
	u8 *blob = load_real_iort("lenovo-thinkpad-x13s.IORT.dat", &len, &external);

	if (!blob) {
		fwt_note("%s: external corpus absent, skipped", __func__);
		cr_skip_test("external corpus not found (IH_CORPUS_REAL)");
	}
	t = parse_ok(blob, len);
	free(blob);
	for (unsigned int k = 0; k < ARRAY_SIZE(want); k++) {
		bool found = false;

		for (u32 i = 0; i < t->nnodes; i++) {
			const struct ih_iort_node *n = &t->nodes[i];

			found |= (n->type == IH_IORT_SMMU && n->u.smmu.base == want[k]) ||
				 (n->type == IH_IORT_SMMUV3 && n->u.smmuv3.base == want[k]);
		}
		cr_expect(found, "SMMU at 0x%llx", (unsigned long long)want[k]);
	}
	ih_iort_free(t);
}

/*
 * Differential against ACPICA: `iasl -d` (the installed acpica-tools) disassembles each
 * real table; the node types it prints, in order, and the number of ID mappings it dumps
 * (one "Output Reference" line each) must equal what we parsed.
 */
static int iasl_facts(const u8 *blob, size_t len, u32 *types, unsigned int max, u32 *nmaps)
{
	char dir[] = "/tmp/ih-iasl-XXXXXX", path[256], cmd[512], line[512];
	unsigned int n = 0;
	FILE *f;

	*nmaps = 0;
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.dat", dir);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(blob, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d t.dat >/dev/null 2>&1", dir);
	cr_assert_eq(system(cmd), 0, "iasl -d failed");
	snprintf(path, sizeof(path), "%s/t.dsl", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strchr(line, ']');
		unsigned int v;

		if (!p)
			continue;
		p += strspn(p + 1, " ") + 1;
		if (sscanf(p, "Type : %x", &v) == 1 && n < max)
			types[n++] = v;
		else if (!strncmp(p, "Output Reference :", 18))
			(*nmaps)++;
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	return (int)n;
}

Test(fw_iort, node_types_and_mapping_counts_agree_with_iasl)
{
	char line[512], file[160], path[512];
	unsigned int compared = 0, listed = 0;
	FILE *f;

	/* Every table of the oracle list that parses (not the templates, not the corrupt one). */
	snprintf(path, sizeof(path), "%s/tests/fw/iort_facts.txt", IH_SOURCE_DIR);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct ih_fw_diag diag;
		u32 types[64], nmaps;
		struct ih_iort *t;
		bool external;
		size_t len;
		u8 *blob;
		int n;

		if (sscanf(line, "table %159s", file) != 1)
			continue;
		listed++;
		blob = load_real_iort(file, &len, &external);
		if (!blob)
			continue;
		if (ih_iort_parse(w, blob, len, 0, &t, &diag)) {
			free(blob);
			continue;
		}
		n = iasl_facts(blob, len, types, ARRAY_SIZE(types), &nmaps);
		free(blob);
		cr_expect_eq((u32)n, t->nnodes, "%s: iasl shows %d nodes", file, n);
		for (int k = 0; k < n && (u32)k < t->nnodes; k++)
			cr_expect_eq(t->nodes[k].type, types[k], "%s node %d", file, k);
		cr_expect_eq(nmaps, t->nmaps, "%s: iasl dumps %u mappings", file, nmaps);
		ih_iort_free(t);
		compared++;
	}
	fclose(f);
	cr_expect_geq(compared, 3, "the QEMU tables are in the repository");
	if (compared < listed - 3)
		fwt_note("iasl differential: %u tables compared (external corpus absent?)",
			    compared);
}
