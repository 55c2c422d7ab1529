// SPDX-License-Identifier: MIT
/*
 * Fuzz target: device-tree parsing (core/fw/dt.c).
 *
 * Input: a flattened device tree blob, used as is (seeds: corpus/dtb/, real boards and the
 * tests/fw/dts fixtures; dictionary corpus/dtb.dict).
 *
 * Per input, in a fresh world: ih_dt_parse(); on success every lookup runs on what parsed
 * (finders by path and phandle for each object, ih_dt_map_rid()/ih_dt_map_msi() at the
 * edges of every map entry and at 0 / ~0) and the description's invariants are checked;
 * then the same blob is parsed again with one allocation made to fail (which one is chosen
 * from the input's bytes) and must give 0 or -ENOMEM. Nothing survives the input; any leak
 * is reported by ih_world_destroy() and aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/fw_dt.h>
#include <ih/world.h>

static void check_map(const struct ih_dt_desc *d, const struct ih_dt_id_map *m, bool msi)
{
	unsigned int ntargets = msi ? d->nmsi_ctrls : d->niommus;

	for (unsigned int i = 0; i < m->n; i++) {
		const struct ih_dt_map_entry *e = &m->e[i];
		const u32 probe[] = { e->rid_base, e->rid_base + e->length - 1,
				      e->rid_base + e->length, e->rid_base - 1, 0, 0xffffffffu };

		IH_BUG_ON(e->target >= ntargets, "broken invariant");
		IH_BUG_ON(!e->length || (u64)e->rid_base + e->length > 0x100000000ull, "broken invariant");
		for (unsigned int k = 0; k < ARRAY_SIZE(probe); k++) {
			const struct ih_dt_map_entry *hit;
			u32 out, masked = probe[k] & m->mask;

			if (ih_dt_id_map_lookup(m, probe[k], &hit, &out))
				continue;
			/* The entry that matched covers the masked ID and translated it. */
			IH_BUG_ON(masked - hit->rid_base >= hit->length, "broken invariant");
			IH_BUG_ON(out != hit->out_base + (masked - hit->rid_base), "broken invariant");
		}
	}
}

static void exercise(const struct ih_dt_desc *d)
{
	for (unsigned int i = 0; i < d->niommus; i++) {
		const struct ih_dt_iommu *io = &d->iommus[i];

		IH_BUG_ON(ih_dt_find_iommu(d, io->path) != (int)i, "%s", io->path);
		if (io->phandle)
			IH_BUG_ON(ih_dt_find_iommu_by_phandle(d, io->phandle) != (int)i, "broken invariant");
		IH_BUG_ON(io->cells > IH_DT_MAX_IOMMU_CELLS, "broken invariant");
		IH_BUG_ON(io->client >= (int)d->nclients, "broken invariant");
		IH_BUG_ON(io->reg.decoded != (io->reg.bank != NULL || io->reg.n == 0), "broken invariant");
	}
	for (unsigned int i = 0; i < d->nclients; i++) {
		const struct ih_dt_client *cl = &d->clients[i];

		IH_BUG_ON(ih_dt_find_client(d, cl->path) != (int)i, "%s", cl->path);
		IH_BUG_ON(!cl->nspecs, "broken invariant");
		for (unsigned int k = 0; k < cl->nspecs; k++) {
			IH_BUG_ON(cl->specs[k].iommu >= d->niommus, "broken invariant");
			IH_BUG_ON(cl->specs[k].nargs != d->iommus[cl->specs[k].iommu].cells, "broken invariant");
		}
	}
	for (unsigned int i = 0; i < d->nhosts; i++) {
		const struct ih_dt_pci_host *h = &d->hosts[i];
		unsigned int idx;
		u32 id;

		IH_BUG_ON(ih_dt_find_host(d, h->path) != (int)i, "%s", h->path);
		IH_BUG_ON(!h->iommu_map.present && !h->msi_map.present, "broken invariant");
		check_map(d, &h->iommu_map, false);
		check_map(d, &h->msi_map, true);
		for (u32 rid = 0; rid < 0x10000; rid += 0x1111) {
			if (!ih_dt_map_rid(d, h, rid, &idx, &id))
				IH_BUG_ON(idx >= d->niommus || d->iommus[idx].cells != 1, "broken invariant");
			if (!ih_dt_map_msi(d, h, rid, &idx, &id))
				IH_BUG_ON(idx >= d->nmsi_ctrls, "broken invariant");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ih_world_config cfg;
	struct ih_fw_diag diag;
	struct ih_dt_desc *d;
	struct ih_world *w;
	unsigned long nth = 1;
	int ret;

	ih_world_config_init(&cfg);
	cfg.physmem_size = SZ_64K;
	cfg.log = "none";
	if (ih_world_create(&cfg, &w))
		abort();
	ret = ih_dt_parse(w, data, size, &d, &diag);
	IH_BUG_ON(ret != diag.err, "broken invariant");
	if (!ret) {
		exercise(d);
		ih_dt_free(d);
		/* Second pass with one allocation failing: success or a clean -ENOMEM. */
		for (size_t i = 0; i < size; i += 61)
			nth = nth * 31 + data[i];
		ih_fault_fail_nth(w, 1 + nth % 64);
		ret = ih_dt_parse(w, data, size, &d, &diag);
		ih_fault_clear(w);
		IH_BUG_ON(ret && ret != -ENOMEM, "%d: %s", ret, diag.reason);
		if (!ret)
			ih_dt_free(d);
	} else {
		IH_BUG_ON(d, "broken invariant");
	}
	if (ih_world_destroy(w))
		abort();
	return 0;
}
