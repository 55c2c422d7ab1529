// SPDX-License-Identifier: MIT
/* Device-tree parsing: every error class, the happy path, fault injection, real DTBs. */
#include <criterion/criterion.h>
#include <libfdt.h>

#include <ih/alloc.h>
#include <ih/fw_dt.h>
#include <ih/world.h>

#include "fw/fw_util.h"

static struct ih_world *w;

static void setup(void)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
}

static void teardown(void)
{
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(fw_dt, .init = setup, .fini = teardown);

static struct ih_dt_desc *parse_fixture(const char *name)
{
	struct ih_fw_diag diag;
	struct ih_dt_desc *d;
	size_t len;
	u8 *blob = fwt_dtc(name, &len);
	int ret;

	cr_assert_not_null(blob, "dtc failed on %s.dts", name);
	ret = ih_dt_parse(w, blob, len, &d, &diag);
	free(blob);
	cr_assert_eq(ret, 0, "%s: %d at %s %s: %s", name, ret, diag.where, diag.prop, diag.reason);
	return d;
}

/* Parse a malformed fixture: exact errno, node path, property and a word of the reason. */
static void expect_fixture_error(const char *name, int err, const char *where, const char *prop,
				 const char *reason)
{
	struct ih_fw_diag diag;
	struct ih_dt_desc *d = (void *)1;
	size_t len;
	u8 *blob = fwt_dtc(name, &len);
	int ret;

	cr_assert_not_null(blob, "dtc failed on %s.dts", name);
	ret = ih_dt_parse(w, blob, len, &d, &diag);
	free(blob);
	cr_expect_eq(ret, err, "%s: got %d (%s), want %d", name, ret, diag.reason, err);
	cr_expect_null(d);
	cr_expect_eq(diag.err, err);
	cr_expect_str_eq(diag.where, where);
	cr_expect_str_eq(diag.prop, prop);
	cr_expect(strstr(diag.reason, reason) != NULL, "%s: reason \"%s\" lacks \"%s\"", name,
		  diag.reason, reason);
	cr_expect_geq(diag.offset, 0);
	cr_expect_eq(ih_alloc_live_count(w), 0, "%s: error path left memory behind", name);
}

Test(fw_dt, good_fixture_describes_every_iommu_client_and_host)
{
	struct ih_dt_desc *d = parse_fixture("good");
	const struct ih_dt_iommu *io;
	const struct ih_dt_client *cl;
	const struct ih_dt_pci_host *h;
	int i;

	cr_expect_eq(d->nodes, 16);
	/* Found in walk order; the DART only when usb@fe080000 references it. */
	cr_assert_eq(d->niommus, 4);
	io = &d->iommus[0];
	cr_expect_str_eq(io->path, "/iommu@2b400000");
	cr_expect_eq(io->type, IH_DT_IOMMU_SMMUV3);
	cr_expect_str_eq(io->compatible, "arm,smmu-v3");
	cr_expect(io->enabled);
	cr_expect_eq(io->cells, 1);
	cr_expect_neq(io->phandle, 0);
	cr_assert_eq(io->reg.n, 1);
	cr_expect(io->reg.decoded);
	cr_expect_eq(io->reg.bank[0].base, 0x2b400000);
	cr_expect_eq(io->reg.bank[0].size, 0x20000);
	cr_expect_eq(io->client, -1);

	io = &d->iommus[1];
	cr_expect_str_eq(io->path, "/soc/iommu@fe043e00");
	cr_expect_eq(io->type, IH_DT_IOMMU_RK);
	cr_expect_eq(io->cells, 0);
	cr_assert_eq(io->reg.n, 2, "both banks of a 1+1-cell reg");
	cr_expect_eq(io->reg.bank[0].base, 0xfe043e00);
	cr_expect_eq(io->reg.bank[1].base, 0xfe043f00);
	cr_expect_eq(io->reg.bank[1].size, 0x100);

	io = &d->iommus[2];
	cr_expect_str_eq(io->path, "/soc/iommu@fe050000");
	cr_expect_eq(io->type, IH_DT_IOMMU_RK);
	cr_expect_not(io->enabled, "status = \"disabled\" is honoured");

	io = &d->iommus[3];
	cr_expect_str_eq(io->path, "/soc/iommu@fe070000");
	cr_expect_eq(io->type, IH_DT_IOMMU_UNKNOWN);
	cr_expect_eq(io->cells, 2);
	cr_expect_eq(ih_dt_find_iommu(d, "/soc/iommu@fe090000"), -ENOENT,
		     "an unreferenced IOMMU of unknown type is not recorded");
	cr_expect_eq(ih_dt_find_iommu_by_phandle(d, d->iommus[3].phandle), 3);

	cr_assert_eq(d->nclients, 7);
	i = ih_dt_find_client(d, "/soc/net@10001000");
	cr_assert_geq(i, 0);
	cl = &d->clients[i];
	cr_assert_eq(cl->nspecs, 2);
	cr_expect_eq(cl->specs[0].iommu, 0);
	cr_expect_eq(cl->specs[0].nargs, 1);
	cr_expect_eq(cl->specs[0].args[0], 0x20);
	cr_expect_eq(cl->specs[1].args[0], 0x21);
	cr_assert_eq(cl->reg.n, 2);
	cr_expect_eq(cl->reg.bank[1].base, 0x10002000);
	cr_expect_eq(cl->reg.bank[1].size, 0x100);

	cl = &d->clients[ih_dt_find_client(d, "/soc/gpu@10003000")];
	cr_expect_not(cl->enabled);

	cl = &d->clients[ih_dt_find_client(d, "/soc/vop@fe040000")];
	cr_assert_eq(cl->nspecs, 1);
	cr_expect_eq(cl->specs[0].iommu, 1);
	cr_expect_eq(cl->specs[0].nargs, 0, "#iommu-cells = 0: a bare phandle");

	cl = &d->clients[ih_dt_find_client(d, "/soc/isp@fe060000")];
	cr_expect_eq(cl->specs[0].iommu, 2, "a client of a disabled IOMMU still names it");

	cl = &d->clients[ih_dt_find_client(d, "/soc/usb@fe080000")];
	cr_assert_eq(cl->nspecs, 2);
	cr_expect_eq(cl->specs[0].iommu, 3);
	cr_expect_eq(cl->specs[0].nargs, 2);
	cr_expect_eq(cl->specs[0].args[0], 1);
	cr_expect_eq(cl->specs[0].args[1], 7);
	cr_expect_eq(cl->specs[1].iommu, 0);
	cr_expect_eq(cl->specs[1].args[0], 0x40);

	cl = &d->clients[ih_dt_find_client(d, "/pcie@40000000/ethernet@1,0")];
	cr_expect_eq(cl->reg.n, 1);
	cr_expect_not(cl->reg.decoded, "3-cell PCI addresses are counted, not decoded");
	cr_expect_null(cl->reg.bank);

	cr_assert_eq(d->nhosts, 1);
	h = &d->hosts[0];
	cr_expect_str_eq(h->path, "/pcie@40000000");
	cr_expect(h->iommu_map.present);
	cr_expect_eq(h->iommu_map.mask, 0x1ff);
	cr_assert_eq(h->iommu_map.n, 2);
	cr_expect_eq(h->iommu_map.e[1].rid_base, 0x100);
	cr_expect_eq(h->iommu_map.e[1].target, 0);
	cr_expect_eq(h->iommu_map.e[1].out_base, 0x20000);
	cr_expect_eq(h->iommu_map.e[1].length, 0x80);
	cr_expect(h->msi_map.present);
	cr_expect_eq(h->msi_map.mask, 0xffffffff, "absent msi-map-mask means all ones");
	cr_assert_eq(d->nmsi_ctrls, 1);
	cr_expect_str_eq(d->msi_ctrls[0].path, "/msi-controller@2f020000");
	ih_dt_free(d);
}

Test(fw_dt, iommu_map_masks_then_translates_first_match)
{
	struct ih_dt_desc *d = parse_fixture("good");
	const struct ih_dt_pci_host *h = &d->hosts[0];
	unsigned int iommu = 99;
	u32 sid = 0;

	/* rid 0x00ff: masked 0xff, entry 0 (0x000..0x0ff) -> 0x10000 + 0xff. */
	cr_expect_eq(ih_dt_map_rid(d, h, 0x00ff, &iommu, &sid), 0);
	cr_expect_eq(iommu, 0);
	cr_expect_eq(sid, 0x100ff);
	/* rid 0x0305: masked 0x105, entry 1 (0x100..0x17f) -> 0x20000 + 5. */
	cr_expect_eq(ih_dt_map_rid(d, h, 0x0305, &iommu, &sid), 0);
	cr_expect_eq(sid, 0x20005);
	/* rid 0x0200: masked 0x000 -> 0x10000; the mask comes before the compare. */
	cr_expect_eq(ih_dt_map_rid(d, h, 0x0200, &iommu, &sid), 0);
	cr_expect_eq(sid, 0x10000);
	/* rid 0x01a0: masked 0x1a0, beyond entry 1's 0x80 IDs: no translation. */
	sid = 0x1234;
	cr_expect_eq(ih_dt_map_rid(d, h, 0x01a0, &iommu, &sid), -ENODEV);
	cr_expect_eq(sid, 0x1234, "no output written on a miss");
	/* msi-map: identity over 64K IDs, no mask. */
	cr_expect_eq(ih_dt_map_msi(d, h, 0xbeef, &iommu, &sid), 0);
	cr_expect_eq(iommu, 0);
	cr_expect_eq(sid, 0xbeef);
	cr_expect_eq(ih_dt_map_msi(d, h, 0x10000, &iommu, &sid), -ENODEV);
	ih_dt_free(d);
}

Test(fw_dt, id_map_lookup_absent_map_is_enodev)
{
	struct ih_dt_id_map m = { .present = false, .mask = 0xffffffff };
	u32 out = 7;

	cr_expect_eq(ih_dt_id_map_lookup(&m, 0, NULL, &out), -ENODEV);
	cr_expect_eq(out, 7);
}

Test(fw_dt, id_map_lookup_last_id_of_a_full_range)
{
	struct ih_dt_map_entry e = { .rid_base = 0xffffff00, .out_base = 0, .length = 0x100 };
	struct ih_dt_id_map m = { .present = true, .mask = 0xffffffff, .n = 1, .e = &e };
	u32 out;

	cr_expect_eq(ih_dt_id_map_lookup(&m, 0xffffffff, NULL, &out), 0);
	cr_expect_eq(out, 0xff);
	cr_expect_eq(ih_dt_id_map_lookup(&m, 0xfffffeff, NULL, &out), -ENODEV);
}

Test(fw_dt, dangling_iommus_phandle_is_enoent)
{
	expect_fixture_error("iommus-dangling", -ENOENT, "/dev@2000", "iommus", "dangling phandle 0x77");
}

Test(fw_dt, iommus_cells_mismatch_is_einval)
{
	expect_fixture_error("iommus-cells-mismatch", -EINVAL, "/dev@2000", "iommus",
			     "entry 1 needs 1 cells");
}

Test(fw_dt, iommus_target_without_iommu_cells_is_einval)
{
	expect_fixture_error("iommus-cells-missing", -EINVAL, "/dev@2000", "iommus",
			     "/iommu@1000 has no #iommu-cells");
}

Test(fw_dt, huge_iommu_cells_is_einval)
{
	expect_fixture_error("iommus-cells-huge", -EINVAL, "/dev@2000", "iommus",
			     "#iommu-cells = 100");
}

Test(fw_dt, iommus_not_whole_cells_is_einval)
{
	expect_fixture_error("iommus-bad-length", -EINVAL, "/dev@2000", "iommus", "length 6");
}

Test(fw_dt, empty_iommus_is_einval)
{
	expect_fixture_error("iommus-empty", -EINVAL, "/dev@2000", "iommus", "empty");
}

Test(fw_dt, phandle_zero_is_einval)
{
	expect_fixture_error("iommus-phandle-zero", -EINVAL, "/dev@2000", "iommus",
			     "invalid phandle 0x0");
}

Test(fw_dt, iommu_map_entry_of_length_zero_is_einval)
{
	expect_fixture_error("iommu-map-zero-length", -EINVAL, "/pcie@4000", "iommu-map",
			     "entry 1 has length 0");
}

Test(fw_dt, iommu_map_rid_range_wrapping_32_bits_is_erange)
{
	expect_fixture_error("iommu-map-rid-wrap", -ERANGE, "/pcie@4000", "iommu-map",
			     "rid-base 0xffffff00 + length 0x200");
}

Test(fw_dt, iommu_map_output_range_wrapping_32_bits_is_erange)
{
	expect_fixture_error("iommu-map-out-wrap", -ERANGE, "/pcie@4000", "iommu-map",
			     "output base 0xfffffff0");
}

Test(fw_dt, iommu_map_not_four_cell_entries_is_einval)
{
	expect_fixture_error("iommu-map-bad-length", -EINVAL, "/pcie@4000", "iommu-map",
			     "length 12");
}

Test(fw_dt, iommu_map_dangling_phandle_is_enoent)
{
	expect_fixture_error("iommu-map-dangling", -ENOENT, "/pcie@4000", "iommu-map",
			     "dangling phandle 0x55");
}

Test(fw_dt, iommu_map_target_with_two_cells_is_einval)
{
	expect_fixture_error("iommu-map-cells-2", -EINVAL, "/pcie@4000", "iommu-map",
			     "#iommu-cells = 2");
}

Test(fw_dt, iommu_map_mask_of_two_cells_is_einval)
{
	expect_fixture_error("iommu-map-mask-bad-length", -EINVAL, "/pcie@4000", "iommu-map-mask",
			     "length 8");
}

Test(fw_dt, msi_map_dangling_phandle_is_enoent)
{
	expect_fixture_error("msi-map-dangling", -ENOENT, "/pcie@4000", "msi-map",
			     "dangling phandle 0x66");
}

Test(fw_dt, msi_map_entry_of_length_zero_is_einval)
{
	expect_fixture_error("msi-map-zero-length", -EINVAL, "/pcie@4000", "msi-map",
			     "entry 0 has length 0");
}

Test(fw_dt, msi_map_target_with_two_msi_cells_is_einval)
{
	expect_fixture_error("msi-map-msi-cells-2", -EINVAL, "/msi-controller@1000", "#msi-cells",
			     "is 2");
}

Test(fw_dt, msi_map_range_wrapping_32_bits_is_erange)
{
	expect_fixture_error("msi-map-rid-wrap", -ERANGE, "/pcie@4000", "msi-map",
			     "rid-base 0xfffffff0 + length 0x20");
}

Test(fw_dt, iommu_behind_itself_is_eloop)
{
	expect_fixture_error("loop-self", -ELOOP, "/iommu@1000", "iommus", "cycle");
}

Test(fw_dt, two_iommus_behind_each_other_is_eloop)
{
	expect_fixture_error("loop-two", -ELOOP, "/iommu@1000", "iommus", "cycle");
}

Test(fw_dt, host_whose_iommu_map_targets_itself_is_eloop)
{
	expect_fixture_error("loop-iommu-map-self", -ELOOP, "/pcie@4000", "iommu-map", "cycle");
}

Test(fw_dt, duplicate_phandle_is_einval)
{
	expect_fixture_error("phandle-dup", -EINVAL, "/iommu@2000", "phandle",
			     "also used by an earlier node");
}

Test(fw_dt, phandle_of_wrong_length_is_einval)
{
	expect_fixture_error("phandle-bad-length", -EINVAL, "/iommu@1000", "phandle", "length 8");
}

Test(fw_dt, reg_not_whole_banks_is_einval)
{
	expect_fixture_error("reg-bad-length", -EINVAL, "/dev@2000", "reg", "length 12");
}

Test(fw_dt, address_cells_beyond_libfdt_limit_keeps_libfdt_text)
{
	expect_fixture_error("address-cells-huge", -EINVAL, "/bus", "#address-cells",
			     "FDT_ERR_BADNCELLS");
}

Test(fw_dt, unterminated_compatible_is_einval)
{
	expect_fixture_error("compatible-unterminated", -EINVAL, "/dev@2000", "compatible",
			     "NUL-terminated");
}

Test(fw_dt, duplicate_sibling_names_are_einval)
{
	/* dtc merges same-named nodes, so build the blob with libfdt's sequential writer. */
	static u8 blob[1024];
	struct ih_fw_diag diag;
	struct ih_dt_desc *d = (void *)1;

	cr_assert_eq(fdt_create(blob, sizeof(blob)), 0);
	cr_assert_eq(fdt_finish_reservemap(blob), 0);
	cr_assert_eq(fdt_begin_node(blob, ""), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(fdt_begin_node(blob, "iommu@1000"), 0);
		cr_assert_eq(fdt_property_u32(blob, "#iommu-cells", 1), 0);
		cr_assert_eq(fdt_end_node(blob), 0);
	}
	cr_assert_eq(fdt_end_node(blob), 0);
	cr_assert_eq(fdt_finish(blob), 0);
	cr_assert_eq(fdt_check_full(blob, sizeof(blob)), 0, "libfdt itself accepts the blob");
	cr_expect_eq(ih_dt_parse(w, blob, fdt_totalsize(blob), &d, &diag), -EINVAL);
	cr_expect_null(d);
	cr_expect_str_eq(diag.where, "/iommu@1000");
	cr_expect(strstr(diag.reason, "duplicate sibling name"), "%s", diag.reason);
}

/* A chain of @depth nested nodes named @name, built with libfdt's sequential writer. */
static void build_nested(u8 *blob, size_t size, int depth, const char *name)
{
	cr_assert_eq(fdt_create(blob, (int)size), 0);
	cr_assert_eq(fdt_finish_reservemap(blob), 0);
	cr_assert_eq(fdt_begin_node(blob, ""), 0);
	for (int i = 0; i < depth; i++)
		cr_assert_eq(fdt_begin_node(blob, name), 0);
	for (int i = 0; i <= depth; i++)
		cr_assert_eq(fdt_end_node(blob), 0);
	cr_assert_eq(fdt_finish(blob), 0);
}

Test(fw_dt, nesting_deeper_than_limit_is_e2big)
{
	static u8 blob[8192];
	struct ih_fw_diag diag;
	struct ih_dt_desc *d;

	build_nested(blob, sizeof(blob), IH_DT_MAX_DEPTH, "a");
	cr_expect_eq(ih_dt_parse(w, blob, fdt_totalsize(blob), &d, &diag), 0, "%s", diag.reason);
	ih_dt_free(d);
	build_nested(blob, sizeof(blob), IH_DT_MAX_DEPTH + 1, "a");
	cr_expect_eq(ih_dt_parse(w, blob, fdt_totalsize(blob), &d, &diag), -E2BIG);
	cr_expect(strstr(diag.reason, "nesting deeper than 64"), "%s", diag.reason);
}

Test(fw_dt, path_longer_than_limit_is_enametoolong)
{
	static u8 blob[8192];
	struct ih_fw_diag diag;
	struct ih_dt_desc *d;
	char name[64];

	/* Ten levels of 50-character names: a 510-byte path fits, eleven do not. */
	memset(name, 'n', 50);
	name[50] = '\0';
	build_nested(blob, sizeof(blob), 10, name);
	cr_expect_eq(ih_dt_parse(w, blob, fdt_totalsize(blob), &d, &diag), 0, "%s", diag.reason);
	ih_dt_free(d);
	build_nested(blob, sizeof(blob), 11, name);
	cr_expect_eq(ih_dt_parse(w, blob, fdt_totalsize(blob), &d, &diag), -ENAMETOOLONG);
	cr_expect(strstr(diag.reason, "longer than 512"), "%s", diag.reason);
}

/* Blob-level faults: found by fdt_check_full() or the length check in front of it. */
static int parse_bytes(const u8 *blob, size_t len, struct ih_fw_diag *diag)
{
	struct ih_dt_desc *d = (void *)1;
	int ret = ih_dt_parse(w, blob, len, &d, diag);

	if (ret)
		cr_expect_null(d);
	else
		ih_dt_free(d);
	return ret;
}

Test(fw_dt, blob_shorter_than_header_is_eoverflow)
{
	struct ih_fw_diag diag;
	size_t len;
	u8 *blob = fwt_dtc("good", &len);

	cr_assert_not_null(blob);
	cr_expect_eq(parse_bytes(blob, 39, &diag), -EOVERFLOW);
	cr_expect(strstr(diag.reason, "shorter than an FDT header"));
	cr_expect_eq(parse_bytes(blob, 0, &diag), -EOVERFLOW);
	free(blob);
}

Test(fw_dt, bad_magic_is_einval_with_libfdt_text)
{
	struct ih_fw_diag diag;
	size_t len;
	u8 *blob = fwt_dtc("good", &len);

	cr_assert_not_null(blob);
	blob[0] ^= 0xff;
	cr_expect_eq(parse_bytes(blob, len, &diag), -EINVAL);
	cr_expect(strstr(diag.reason, "FDT_ERR_BADMAGIC"), "%s", diag.reason);
	cr_expect(strstr(diag.reason, "fdt_check_full"), "%s", diag.reason);
	free(blob);
}

Test(fw_dt, versions_before_16_are_refused_before_libfdt_sees_them)
{
	struct ih_fw_diag diag;
	size_t len;
	u8 *blob = fwt_dtc("good", &len);

	cr_assert_not_null(blob);
	/* libfdt 1.6.1 fdt_check_full() faults on these when last_comp_version allows them. */
	fdt_set_last_comp_version(blob, 0);
	for (u32 v = 1; v < 16; v++) {
		fdt_set_version(blob, v);
		cr_expect_eq(parse_bytes(blob, len, &diag), -EINVAL, "version %u", v);
		cr_expect(strstr(diag.reason, "predates 16"), "%s", diag.reason);
	}
	fdt_set_version(blob, 16);
	fdt_set_last_comp_version(blob, 16);
	cr_expect_eq(parse_bytes(blob, len, &diag), 0, "version 16: %s", diag.reason);
	free(blob);
}

Test(fw_dt, totalsize_beyond_buffer_is_eoverflow)
{
	struct ih_fw_diag diag;
	size_t len;
	u8 *blob = fwt_dtc("good", &len);

	cr_assert_not_null(blob);
	/* Same header, buffer cut by 8 bytes: totalsize now claims more than we have. */
	cr_expect_eq(parse_bytes(blob, len - 8, &diag), -EOVERFLOW);
	cr_expect(strstr(diag.reason, "FDT_ERR_TRUNCATED"), "%s", diag.reason);
	/* totalsize pointed far past the buffer. */
	fdt_set_totalsize(blob, 0x7ffffff0);
	cr_expect_eq(parse_bytes(blob, len, &diag), -EOVERFLOW);
	free(blob);
}

Test(fw_dt, totalsize_inside_header_is_rejected)
{
	struct ih_fw_diag diag;
	size_t len;
	u8 *blob = fwt_dtc("good", &len);

	cr_assert_not_null(blob);
	fdt_set_totalsize(blob, 16);
	cr_expect_eq(parse_bytes(blob, len, &diag), -EOVERFLOW);
	cr_expect(strstr(diag.reason, "FDT_ERR_TRUNCATED"), "%s", diag.reason);
	free(blob);
}

Test(fw_dt, struct_block_past_totalsize_is_rejected)
{
	struct ih_fw_diag diag;
	size_t len;
	u8 *blob = fwt_dtc("good", &len);

	cr_assert_not_null(blob);
	fdt_set_size_dt_struct(blob, fdt_size_dt_struct(blob) + 0x1000);
	cr_expect_lt(parse_bytes(blob, len, &diag), 0);
	cr_expect_neq(diag.err, 0);
	free(blob);
}

Test(fw_dt, every_truncation_of_a_blob_is_refused_without_leak)
{
	struct ih_fw_diag diag;
	size_t len;
	u8 *blob = fwt_dtc("good", &len);

	cr_assert_not_null(blob);
	for (size_t n = 0; n < len; n++) {
		/* A short buffer can never be whole: totalsize is the full length. */
		u8 *copy = malloc(n ? n : 1);

		memcpy(copy, blob, n);
		cr_assert_eq(parse_bytes(copy, n, &diag), -EOVERFLOW, "length %zu", n);
		free(copy);
	}
	cr_expect_eq(ih_alloc_live_count(w), 0);
	free(blob);
}

Test(fw_dt, null_diag_is_accepted)
{
	struct ih_dt_desc *d = (void *)1;
	size_t len;
	u8 *blob = fwt_dtc("loop-two", &len);

	cr_assert_not_null(blob);
	cr_expect_eq(ih_dt_parse(w, blob, len, &d, NULL), -ELOOP);
	cr_expect_null(d);
	free(blob);
}

/* Every allocation the parser makes, failed once in turn: -ENOMEM, a diagnostic, no leak. */
Test(fw_dt, each_allocation_failure_is_enomem_without_leak)
{
	struct ih_fw_diag diag;
	struct ih_dt_desc *d;
	unsigned long nth;
	size_t len;
	u8 *blob = fwt_dtc("good", &len);
	int ret;

	cr_assert_not_null(blob);
	for (nth = 1; nth < 10000; nth++) {
		ih_fault_fail_nth(w, nth);
		ret = ih_dt_parse(w, blob, len, &d, &diag);
		ih_fault_clear(w);
		if (!ret) {
			ih_dt_free(d);
			break;
		}
		cr_assert_eq(ret, -ENOMEM, "allocation %lu: %d (%s)", nth, ret, diag.reason);
		cr_assert_eq(diag.err, -ENOMEM);
		cr_assert_eq(ih_alloc_live_count(w), 0, "allocation %lu failed and leaked", nth);
	}
	/* ctx, blob, desc, phandle table, arrays, strings, regs: dozens, not one. */
	cr_expect_gt(nth, 20, "only %lu allocations", nth);
	cr_expect_lt(nth, 10000);
	free(blob);
}

/* ---- Real device trees against the oracle facts (corpus-real, pylibfdt) ---- */

struct dtb_case {
	char file[128];
	u8 *blob;
	size_t len;
	struct ih_dt_desc *d;
	bool skip;
};

static u8 *load_real_dtb(const char *file, size_t *len, bool *external)
{
	char path[1024], ext[512];
	u8 *blob;

	snprintf(path, sizeof(path), "%s/corpus/dtb/%s", IH_SOURCE_DIR, file);
	blob = fwt_read(path, len);
	*external = false;
	if (blob)
		return blob;
	*external = true;
	snprintf(path, sizeof(path), "%s/dtb/%s", fwt_corpus_real(ext, sizeof(ext)), file);
	return fwt_read(path, len);
}

static int map_target(const struct ih_dt_desc *d, bool msi, const char *path)
{
	if (!msi)
		return ih_dt_find_iommu(d, path);
	for (unsigned int i = 0; i < d->nmsi_ctrls; i++)
		if (!strcmp(d->msi_ctrls[i].path, path))
			return (int)i;
	return -ENOENT;
}

Test(fw_dt, real_dtbs_match_the_oracle_facts)
{
	char line[1024], path[512], ipath[512], ext[512];
	struct dtb_case c = { 0 };
	const struct ih_dt_client *cl = NULL;
	const struct ih_dt_id_map *m = NULL;
	unsigned int checked = 0, in_repo = 0, spec = 0, ent = 0, nclients = 0;
	bool msi = false, external;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fw/dtb_facts.txt", IH_SOURCE_DIR);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned int a, b, n, okay, cells, args[IH_DT_MAX_IOMMU_CELLS];
		int k;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "dtb %127s nodes %u", c.file, &n) == 2) {
			struct ih_fw_diag diag;

			c.blob = load_real_dtb(c.file, &c.len, &external);
			c.skip = !c.blob;
			nclients = 0;
			if (c.skip) {
				fwt_note("%s: not in corpus/dtb nor in %s: skipped", c.file,
					    fwt_corpus_real(ext, sizeof(ext)));
				continue;
			}
			cr_assert_eq(ih_dt_parse(w, c.blob, c.len, &c.d, &diag), 0, "%s: %s %s: %s",
				     c.file, diag.where, diag.prop, diag.reason);
			cr_expect_eq(c.d->nodes, n, "%s", c.file);
			checked++;
			in_repo += !external;
		} else if (c.skip) {
			if (!strcmp(line, "end\n"))
				c.skip = false;
			continue;
		} else if (sscanf(line, "provider %511s %u %u", path, &cells, &okay) == 3) {
			k = ih_dt_find_iommu(c.d, path);
			/* Unreferenced providers of other types are not recorded; the rest are. */
			if (k >= 0) {
				cr_expect_eq(c.d->iommus[k].cells, cells, "%s %s", c.file, path);
				cr_expect_eq(c.d->iommus[k].enabled, okay, "%s %s", c.file, path);
			}
		} else if (sscanf(line, "client %511s %u %u", path, &okay, &n) == 3) {
			k = ih_dt_find_client(c.d, path);
			cr_assert_geq(k, 0, "%s: client %s missing", c.file, path);
			cl = &c.d->clients[k];
			cr_expect_eq(cl->enabled, okay, "%s %s", c.file, path);
			cr_assert_eq(cl->nspecs, n, "%s %s", c.file, path);
			spec = 0;
			nclients++;
		} else if (sscanf(line, "spec %511s %u%n", ipath, &n, &k) == 2) {
			const char *p = line + k;
			int used;

			cr_assert_leq(n, IH_DT_MAX_IOMMU_CELLS);
			for (unsigned int i = 0; i < n; i++, p += used)
				cr_assert_eq(sscanf(p, "%u%n", &args[i], &used), 1);
			cr_assert_lt(spec, cl->nspecs);
			cr_expect_str_eq(c.d->iommus[cl->specs[spec].iommu].path, ipath, "%s %s",
					 c.file, cl->path);
			cr_assert_eq(cl->specs[spec].nargs, n, "%s %s", c.file, cl->path);
			for (unsigned int i = 0; i < n; i++)
				cr_expect_eq(cl->specs[spec].args[i], args[i], "%s %s", c.file,
					     cl->path);
			spec++;
		} else if (sscanf(line, "imap %511s %x %u", path, &a, &n) == 3 ||
			   sscanf(line, "mmap %511s %x %u", path, &a, &n) == 3) {
			msi = line[0] == 'm';
			k = ih_dt_find_host(c.d, path);
			cr_assert_geq(k, 0, "%s: host %s missing", c.file, path);
			m = msi ? &c.d->hosts[k].msi_map : &c.d->hosts[k].iommu_map;
			cr_expect(m->present);
			cr_expect_eq(m->mask, a, "%s %s", c.file, path);
			cr_assert_eq(m->n, n, "%s %s", c.file, path);
			ent = 0;
		} else if (sscanf(line, "ent %x %511s %x %x", &a, ipath, &b, &n) == 4) {
			const struct ih_dt_map_entry *e = &m->e[ent++];

			cr_expect_eq(e->rid_base, a);
			cr_expect_eq(e->out_base, b);
			cr_expect_eq(e->length, n);
			cr_expect_eq((int)e->target, map_target(c.d, msi, ipath), "%s %s", c.file,
				     ipath);
		} else if (!strcmp(line, "end\n")) {
			cr_expect_eq(c.d->nclients, nclients, "%s", c.file);
			ih_dt_free(c.d);
			free(c.blob);
			c.d = NULL;
			c.blob = NULL;
		} else {
			cr_assert_fail("bad fact line: %s", line);
		}
	}
	fclose(f);
	/* The nine small DTBs are in the repository; the four big ones come from outside. */
	cr_expect_eq(in_repo, 9);
	if (checked < 13)
		fwt_note("external corpus: %u of 4 large DTBs checked (set IH_CORPUS_REAL)",
			    checked - in_repo);
}

static struct ih_dt_desc *parse_real(const char *file, u8 **blob)
{
	struct ih_fw_diag diag;
	struct ih_dt_desc *d;
	bool external;
	size_t len;

	*blob = load_real_dtb(file, &len, &external);
	cr_assert_not_null(*blob, "%s missing", file);
	cr_assert_eq(ih_dt_parse(w, *blob, len, &d, &diag), 0, "%s: %s", file, diag.reason);
	return d;
}

Test(fw_dt, armada_8040_iommu_map_mask_0x31f_translates_by_hand)
{
	u8 *blob;
	struct ih_dt_desc *d = parse_real("armada-8040-mcbin.dtb", &blob);
	int h = ih_dt_find_host(d, "/cp0-bus/pcie@f2600000");
	unsigned int iommu;
	u32 sid;

	cr_assert_geq(h, 0);
	/* Entries: 0x000->0x480, 0x100->0x4a0, 0x200->0x4c0, 32 IDs each, mask 0x31f. */
	cr_expect_eq(ih_dt_map_rid(d, &d->hosts[h], 0x0123, &iommu, &sid), 0);
	cr_expect_eq(sid, 0x4a3, "0x123 & 0x31f = 0x103 -> 0x4a0 + 3");
	cr_expect_str_eq(d->iommus[iommu].path, "/soc/bus@f0000000/iommu@100000");
	cr_expect_not(d->iommus[iommu].enabled, "the AP806 SMMU is disabled in this tree");
	cr_expect_eq(ih_dt_map_rid(d, &d->hosts[h], 0x00e5, &iommu, &sid), 0);
	cr_expect_eq(sid, 0x485, "0xe5 & 0x31f = 0x005");
	cr_expect_eq(ih_dt_map_rid(d, &d->hosts[h], 0x0220, &iommu, &sid), 0);
	cr_expect_eq(sid, 0x4c0, "0x220 & 0x31f = 0x200: bit 5 is masked off");
	cr_expect_eq(ih_dt_map_rid(d, &d->hosts[h], 0x0301, &iommu, &sid), -ENODEV,
		     "0x301 & 0x31f = 0x301 is beyond every entry");
	ih_dt_free(d);
	free(blob);
}

Test(fw_dt, rk3568_odroid_has_rockchip_iommus_one_disabled)
{
	u8 *blob;
	struct ih_dt_desc *d = parse_real("rk3568-odroid-m1.dtb", &blob);
	unsigned int rk = 0, disabled = 0;

	for (unsigned int i = 0; i < d->niommus; i++) {
		if (d->iommus[i].type != IH_DT_IOMMU_RK)
			continue;
		rk++;
		disabled += !d->iommus[i].enabled;
		cr_expect_eq(d->iommus[i].cells, 0);
		cr_expect_geq(d->iommus[i].reg.n, 1);
		cr_expect(d->iommus[i].reg.decoded);
	}
	cr_expect_eq(rk, 4);
	cr_expect_eq(disabled, 1);
	ih_dt_free(d);
	free(blob);
}

Test(fw_dt, fvp_smmu_v3_and_identity_iommu_map)
{
	u8 *blob;
	struct ih_dt_desc *d = parse_real("fvp-base-revc.dtb", &blob);
	int i = ih_dt_find_iommu(d, "/iommu@2b400000");
	unsigned int iommu;
	u32 sid;

	cr_assert_geq(i, 0);
	cr_expect_eq(d->iommus[i].type, IH_DT_IOMMU_SMMUV3);
	cr_assert_geq(d->iommus[i].reg.n, 1);
	cr_expect_eq(d->iommus[i].reg.bank[0].base, 0x2b400000);
	cr_assert_eq(d->nhosts, 1);
	cr_expect_eq(ih_dt_map_rid(d, &d->hosts[0], 0xabcd, &iommu, &sid), 0);
	cr_expect_eq((int)iommu, i);
	cr_expect_eq(sid, 0xabcd);
	cr_expect_eq(ih_dt_map_rid(d, &d->hosts[0], 0x10000, &iommu, &sid), -ENODEV);
	ih_dt_free(d);
	free(blob);
}

/*
 * A property length that wraps libfdt 1.6.1's tag walk back onto itself made
 * fdt_check_full() loop forever (found by the OSS-Fuzz check): the parser now refuses a
 * property running past the structure block before libfdt sees the blob.
 */
Test(dt_regress, wrapping_property_length_is_einval_not_a_hang, .timeout = 10)
{
	struct ih_world *v;
	struct ih_fw_diag diag;
	struct ih_dt_desc *d;
	FILE *f = fopen(IH_SOURCE_DIR "/corpus/regress/dtb/hang-prop-len-fffffff4", "rb");
	static u8 buf[4096];
	size_t n;

	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	cr_assert_eq(ih_world_create(NULL, &v), 0);
	cr_expect_eq(ih_dt_parse(v, buf, n, &d, &diag), -EINVAL);
	cr_expect(strstr(diag.reason, "runs past the structure block") != NULL, "%s", diag.reason);
	cr_expect_eq(ih_world_destroy(v), 0);
}
