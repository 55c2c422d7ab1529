// SPDX-License-Identifier: MIT
/* Rockchip IOMMU two-level page tables (v1: 32-bit PA, v2: 40-bit PA), in simulated memory. */
#include <stdio.h>

#define IH_LOG_PREFIX "io-pgtable-rk: "
#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/physmem.h>
#include "io_pgtable_priv.h"

/*
 * No lock: page tables are installed by compare-and-swap and kept until the table is
 * freed, so a walk never meets a PT going away (callers do not overlap on one IOVA range,
 * as for io-pgtable-arm).
 *
 * Layout, from the public Rockchip register description (RK3288/RK3568 TRM "IOMMU"
 * chapter) as the upstream driver documents it in its comments:
 *
 *   IOVA:  31 ...... 22 21 ...... 12 11 ....... 0
 *         | DTE index  | PTE index  | page offset|
 *
 * The directory table (DT) and each page table (PT) are 1024 little-endian u32 entries,
 * one 4K page each. DTE_ADDR holds the DT address.
 *
 *   v1 DTE: [31:12] PT address          [11:1] 0              [0] valid
 *   v1 PTE: [31:12] page address        [11:3] 0 (cache attrs, unused) [2] W [1] R [0] V
 *   v2 DTE: [31:12] PA[31:12] [11:8] PA[35:32] [7:4] PA[39:36] [3:1] 0        [0] valid
 *   v2 PTE: [31:12] PA[31:12] [11:8] PA[35:32] [7:4] PA[39:36] [3] security=0 [2] W [1] R [0] V
 *
 * v2 packs the upper address nibbles the same way in DTEs, PTEs and DTE_ADDR (the layout
 * the 2023 "fix directory table address encoding" change established by testing; the
 * earlier v2 PTE bits 2/1 were swapped, fixed in 2022). Unmapped entries are written as 0.
 */
#define RK_ENTRIES     1024
#define RK_TABLE_SIZE  (RK_ENTRIES * sizeof(u32))
#define RK_DTE_SPAN    (1ULL << 22)
#define RK_PAGE	       SZ_4K
#define RK_VALID       BIT(0)
#define RK_PTE_READ    BIT(1)
#define RK_PTE_WRITE   BIT(2)
#define RK_ADDR_LO     GENMASK(31, 12)
#define RK_V2_ADDR_HI1 GENMASK(11, 8) /* PA[35:32] */
#define RK_V2_ADDR_HI2 GENMASK(7, 4)  /* PA[39:36] */
#define RK_PGSIZES     0x007ff000UL   /* 4K..4M, all mapped with 4K entries */

struct rk {
	struct ih_io_pgtable iop;
	bool v2;
	unsigned int addr_bits; /* what a descriptor can hold: 32 (v1) or 40 (v2) */
	ih_pa_t dt;
};

static struct rk *rk_of(struct ih_io_pgtable_ops *ops)
{
	return container_of(iop_of(ops), struct rk, iop);
}

static u32 rk_pack(const struct rk *d, ih_pa_t pa)
{
	u32 v = (u32)(pa & RK_ADDR_LO);

	if (d->v2)
		v |= (u32)FIELD_PREP(RK_V2_ADDR_HI1, (pa >> 32) & 0xf) |
		     (u32)FIELD_PREP(RK_V2_ADDR_HI2, (pa >> 36) & 0xf);
	return v;
}

static ih_pa_t rk_unpack(const struct rk *d, u32 v)
{
	ih_pa_t pa = v & RK_ADDR_LO;

	if (d->v2)
		pa |= (FIELD_GET(RK_V2_ADDR_HI1, v) << 32) | (FIELD_GET(RK_V2_ADDR_HI2, v) << 36);
	return pa;
}

static u32 *rk_table(struct rk *d, ih_pa_t pa)
{
	u32 *va = ih_pm_va(d->iop.w, pa, RK_TABLE_SIZE);

	IH_BUG_ON(!va, "rk: table PA 0x%llx outside simulated memory", (unsigned long long)pa);
	return va;
}

static u32 ent_load(const u32 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Release: a PT is zeroed before the DTE pointing to it becomes visible. */
static void ent_store(u32 *p, u32 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static u32 *dte_ptr(struct rk *d, u64 iova)
{
	return rk_table(d, d->dt) + ((iova >> 22) & (RK_ENTRIES - 1));
}

static u32 *pte_ptr(struct rk *d, ih_pa_t pt, u64 iova)
{
	return rk_table(d, pt) + ((iova >> 12) & (RK_ENTRIES - 1));
}

static ih_pa_t rk_table_alloc(struct rk *d, const char *site)
{
	ih_pa_t pa = ih_iop_table_alloc(&d->iop, RK_TABLE_SIZE, RK_TABLE_SIZE, site);

	if (pa != IH_PA_INVALID && !ih_iop_range_fits(pa, RK_TABLE_SIZE, 1, d->addr_bits)) {
		ih_log(d->iop.w, IH_LOG_GUEST_ERROR, "table at PA 0x%llx is beyond %u bits",
		       (unsigned long long)pa, d->addr_bits);
		ih_iop_table_free(&d->iop, pa, RK_TABLE_SIZE);
		return IH_PA_INVALID;
	}
	return pa;
}

/*
 * Install a PT under the DTE for @iova, or use the one already there. Page tables stay
 * installed until the table is freed (as the kernel's rockchip-iommu driver keeps them
 * until the domain goes), so a valid DTE never changes and map/unmap need no lock: a new
 * PT goes in by compare-and-swap, and the loser of a race frees its own (never visible).
 */
static int pt_get(struct rk *d, u32 *dte, ih_pa_t *pt)
{
	u32 v = ent_load(dte);
	ih_pa_t fresh;

	if (v & RK_VALID) {
		*pt = rk_unpack(d, v);
		return 0;
	}
	fresh = rk_table_alloc(d, "io_pgtable:rk-pt");
	if (fresh == IH_PA_INVALID)
		return -ENOMEM;
	/* Release on success: the zeroed PT is visible before the DTE that points to it. */
	if (__atomic_compare_exchange_n(dte, &v, rk_pack(d, fresh) | RK_VALID, false,
					__ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
		*pt = fresh;
		return 0;
	}
	ih_iop_table_free(&d->iop, fresh, RK_TABLE_SIZE);
	*pt = rk_unpack(d, v);
	return 0;
}

/* Map one chunk of @size (<= 4M, aligned, so inside one PT) or nothing at all. */
static int map_chunk(struct rk *d, u64 iova, ih_pa_t paddr, size_t size, u32 flags)
{
	size_t n = size / RK_PAGE;
	ih_pa_t pt;
	u32 *pte;
	int ret;

	ret = pt_get(d, dte_ptr(d, iova), &pt);
	if (ret)
		return ret;
	pte = pte_ptr(d, pt, iova);
	for (size_t i = 0; i < n; i++)
		if (ent_load(&pte[i]))
			return -EEXIST;
	for (size_t i = 0; i < n; i++)
		ent_store(&pte[i], rk_pack(d, paddr + i * RK_PAGE) | flags | RK_VALID);
	return 0;
}

static int rk_map_pages(struct ih_io_pgtable_ops *ops, u64 iova, ih_pa_t paddr, size_t pgsize,
			size_t pgcount, int prot, size_t *mapped)
{
	struct rk *d = rk_of(ops);
	const struct ih_io_pgtable_cfg *cfg = &d->iop.cfg;
	size_t done = 0;
	u32 flags = 0;
	int ret = 0;

	if (mapped)
		*mapped = 0;
	if ((prot & ~(int)IH_PROT_ALL) || !(prot & (IH_PROT_READ | IH_PROT_WRITE)) ||
	    !IH_IS_POW2(pgsize) || !(pgsize & cfg->pgsize_bitmap) || pgcount == 0 ||
	    !IH_IS_ALIGNED(iova, (u64)pgsize) || !IH_IS_ALIGNED(paddr, (u64)pgsize))
		return -EINVAL;
	if (!ih_iop_range_fits(iova, pgsize, pgcount, cfg->ias) ||
	    !ih_iop_range_fits(paddr, pgsize, pgcount, cfg->oas))
		return -ERANGE;
	if (prot & IH_PROT_READ)
		flags |= RK_PTE_READ;
	if (prot & IH_PROT_WRITE)
		flags |= RK_PTE_WRITE;

	for (size_t i = 0; i < pgcount; i++) {
		ret = map_chunk(d, iova + i * pgsize, paddr + i * pgsize, pgsize, flags);
		if (ret)
			break;
		done += pgsize;
	}
	if (mapped)
		*mapped = done;
	return ret;
}

static size_t rk_unmap_pages(struct ih_io_pgtable_ops *ops, u64 iova, size_t pgsize, size_t pgcount,
			     struct ih_iommu_iotlb_gather *gather)
{
	struct rk *d = rk_of(ops);
	const struct ih_io_pgtable_cfg *cfg = &d->iop.cfg;
	u64 total, cur = iova;
	size_t done = 0;
	bool lazy;

	if (IH_WARN_ON(d->iop.w, !gather, "unmap_pages without a gather"))
		return 0;
	if (!IH_IS_POW2(pgsize) || !(pgsize & cfg->pgsize_bitmap) || pgcount == 0 ||
	    !IH_IS_ALIGNED(iova, (u64)pgsize) ||
	    !ih_iop_range_fits(iova, pgsize, pgcount, cfg->ias))
		return 0;
	total = (u64)pgsize * pgcount;
	lazy = ih_iop_unmap_is_lazy(&d->iop, gather);

	/*
	 * 4K at a time, stopping at the first hole, as the hardware format has no blocks.
	 * Emptied PTs stay installed (nothing to unhook, no walk-cache flush), so the PT of
	 * one 4M span is looked up once. Callers do not overlap on one range (as for
	 * io-pgtable-arm): a load and a release store per PTE, no read-modify-write.
	 */
	while (done < total) {
		u32 v = ent_load(dte_ptr(d, cur));
		u32 *pt;

		if (!(v & RK_VALID))
			break;
		pt = rk_table(d, rk_unpack(d, v));
		do {
			u32 *pp = pt + ((cur >> 12) & (RK_ENTRIES - 1));

			if (!(ent_load(pp) & RK_VALID))
				return done;
			ent_store(pp, 0);
			ih_iop_leaf_removed(&d->iop, gather, lazy, cur, RK_PAGE);
			cur += RK_PAGE;
			done += RK_PAGE;
		} while (done < total && (cur & (RK_DTE_SPAN - 1)));
	}
	return done;
}

static ih_pa_t rk_iova_to_phys(struct ih_io_pgtable_ops *ops, u64 iova)
{
	struct rk *d = rk_of(ops);
	ih_pa_t pa = IH_PA_INVALID;
	u32 v;

	if (!ih_iop_range_fits(iova, 1, 1, d->iop.cfg.ias))
		return IH_PA_INVALID;
	v = ent_load(dte_ptr(d, iova));
	if (v & RK_VALID) {
		v = ent_load(pte_ptr(d, rk_unpack(d, v), iova));
		if (v & RK_VALID)
			pa = rk_unpack(d, v) | (iova & (RK_PAGE - 1));
	}
	return pa;
}

static void rk_destroy(struct ih_io_pgtable *iop)
{
	struct rk *d = container_of(iop, struct rk, iop);
	const u32 *dt = rk_table(d, d->dt);

	for (size_t i = 0; i < RK_ENTRIES; i++) {
		u32 v = ent_load(&dt[i]);

		if (v & RK_VALID)
			ih_iop_table_free(iop, rk_unpack(d, v), RK_TABLE_SIZE);
	}
	ih_iop_table_free(iop, d->dt, RK_TABLE_SIZE);
	ih_iop_fini(iop);
	ih_free(iop->w, d);
}

struct ih_io_pgtable *ih_rk_alloc(struct ih_world *w, enum ih_io_pgtable_fmt fmt,
				  struct ih_io_pgtable_cfg *cfg, void *cookie)
{
	unsigned int addr_bits = fmt == IH_RK_IOMMU_V2 ? 40 : 32;
	struct rk *d;

	if (cfg->ias == 0)
		cfg->ias = 32;
	if (cfg->oas == 0)
		cfg->oas = addr_bits;
	cfg->pgsize_bitmap &= RK_PGSIZES;
	if (cfg->ias > 32 || cfg->ias < 22 || cfg->oas > addr_bits || cfg->oas < 22 ||
	    !(cfg->pgsize_bitmap & RK_PAGE)) {
		ih_log(w, IH_LOG_GUEST_ERROR, "unsupported ias %u / oas %u / pgsizes 0x%lx",
		       cfg->ias, cfg->oas, cfg->pgsize_bitmap);
		return NULL;
	}
	d = ih_alloc(w, sizeof(*d), "io_pgtable:rk");
	if (!d)
		return NULL;
	if (ih_iop_init(&d->iop, w, fmt, cfg, cookie))
		goto err_free;
	d->v2 = fmt == IH_RK_IOMMU_V2;
	d->addr_bits = addr_bits;
	d->dt = rk_table_alloc(d, "io_pgtable:rk-dt");
	if (d->dt == IH_PA_INVALID)
		goto err_fini;
	cfg->rk_cfg.dte_addr = d->dt;
	cfg->rk_cfg.dte_addr_reg = rk_pack(d, d->dt);
	d->iop.cfg = *cfg;
	d->iop.ops = (struct ih_io_pgtable_ops){
	    .map_pages = rk_map_pages,
	    .unmap_pages = rk_unmap_pages,
	    .iova_to_phys = rk_iova_to_phys,
	};
	d->iop.destroy = rk_destroy;
	return &d->iop;

err_fini:
	ih_iop_fini(&d->iop);
err_free:
	ih_free(w, d);
	return NULL;
}
