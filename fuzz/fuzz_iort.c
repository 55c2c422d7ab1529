// SPDX-License-Identifier: MIT
/*
 * Fuzz target: ACPI IORT parsing (core/fw/iort.c).
 *
 * Input: an IORT table, used as is (seeds: corpus/iort/, QEMU and iasl tables plus the
 * fixtures from corpus/gen_iort_seeds.py; dictionary corpus/iort.dict).
 *
 * Per input, in a fresh world: ih_iort_parse(); on success every lookup runs on what
 * parsed: node_at / find_named / find_rc for each node, ih_iort_map_id() towards SMMUs and
 * towards ITS groups from every node at 0, ~0 and the first, last and one-past-last input
 * ID of each mapping, ih_iort_map_index() for every mapping; results are checked against
 * the type masks. Then the table is parsed again in strict-checksum mode and once more with
 * one allocation made to fail (chosen from the input's bytes): 0, -EBADMSG or -ENOMEM only.
 * Nothing survives the input; a leak aborts.
 */
#include <stdint.h>
#include <stdlib.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/fw_iort.h>
#include <ih/world.h>

static void check_result(const struct ih_iort *t, int ret, u32 mask, unsigned int node)
{
	IH_BUG_ON(ret && ret != -ENODEV && ret != -ELOOP, "%d", ret);
	if (!ret)
		IH_BUG_ON(node >= t->nnodes || t->nodes[node].type >= 32 ||
			  !(mask & IH_IORT_TYPE_BIT(t->nodes[node].type)), "broken invariant");
}

static void exercise(const struct ih_iort *t)
{
	static const u32 masks[] = { IH_IORT_IOMMU_TYPES, IH_IORT_MSI_TYPES };
	struct ih_fw_diag diag;
	u32 seen = 0;

	for (u32 i = 0; i < t->nnodes; i++) {
		const struct ih_iort_node *n = &t->nodes[i];

		IH_BUG_ON(ih_iort_node_at(t, n->offset) != (int)i, "broken invariant");
		IH_BUG_ON((u64)n->offset + n->length > t->length, "broken invariant");
		if (n->type == IH_IORT_NAMED_COMPONENT)
			IH_BUG_ON(ih_iort_find_named(t, n->u.nc.name) < 0, "broken invariant");
		if (n->type == IH_IORT_ROOT_COMPLEX)
			IH_BUG_ON(ih_iort_find_rc(t, n->u.rc.segment) < 0, "broken invariant");
		seen += n->nmaps;
		for (unsigned int m = 0; m < ARRAY_SIZE(masks); m++) {
			unsigned int out;
			u32 id;
			int ret;

			ret = ih_iort_map_id(t, i, 0, masks[m], &out, &id, &diag);
			check_result(t, ret, masks[m], out);
			ret = ih_iort_map_id(t, i, 0xffffffffu, masks[m], &out, &id, &diag);
			check_result(t, ret, masks[m], out);
			for (u32 k = 0; k < n->nmaps; k++) {
				const struct ih_iort_id_map *map = &n->maps[k];
				const u32 probe[] = { map->input_base, map->input_base + map->id_count,
						      map->input_base + map->id_count + 1 };

				IH_BUG_ON(map->target >= t->nnodes, "broken invariant");
				IH_BUG_ON(t->nodes[map->target].offset != map->output_ref, "broken invariant");
				for (unsigned int p = 0; p < ARRAY_SIZE(probe); p++) {
					ret = ih_iort_map_id(t, i, probe[p], masks[m], &out, &id,
							     &diag);
					check_result(t, ret, masks[m], out);
				}
				ret = ih_iort_map_index(t, i, k, masks[m], &out, &id, &diag);
				check_result(t, ret, masks[m], out);
			}
		}
	}
	IH_BUG_ON(seen != t->nmaps, "broken invariant");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ih_world_config cfg;
	struct ih_fw_diag diag;
	struct ih_iort *t;
	struct ih_world *w;
	unsigned long nth = 1;
	int ret;

	ih_world_config_init(&cfg);
	cfg.physmem_size = SZ_64K;
	cfg.log = "none";
	if (ih_world_create(&cfg, &w))
		abort();
	ret = ih_iort_parse(w, data, size, 0, &t, &diag);
	IH_BUG_ON(ret != diag.err, "broken invariant");
	if (!ret) {
		exercise(t);
		ih_iort_free(t);
		ret = ih_iort_parse(w, data, size, IH_IORT_STRICT_CHECKSUM, &t, &diag);
		IH_BUG_ON(ret && ret != -EBADMSG, "%d", ret);
		if (!ret)
			ih_iort_free(t);
		for (size_t i = 0; i < size; i += 37)
			nth = nth * 31 + data[i];
		ih_fault_fail_nth(w, 1 + nth % 16);
		ret = ih_iort_parse(w, data, size, 0, &t, &diag);
		ih_fault_clear(w);
		IH_BUG_ON(ret && ret != -ENOMEM, "%d: %s", ret, diag.reason);
		if (!ret)
			ih_iort_free(t);
	} else {
		IH_BUG_ON(t, "broken invariant");
	}
	if (ih_world_destroy(w))
		abort();
	return 0;
}
