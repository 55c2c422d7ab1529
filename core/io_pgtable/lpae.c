// SPDX-License-Identifier: MIT
/* ARM VMSAv8-64 (LPAE) stage 1 and stage 2 page tables for the SMMU, in simulated memory. */
#include <stdio.h>

#define IH_LOG_PREFIX "io-pgtable-lpae: "
#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/physmem.h>
#include <ih/sched.h>
#include "io_pgtable_priv.h"

/*
 * Locking: none, as in the kernel's io-pgtable-arm. Callers never map or unmap
 * overlapping ranges at the same time (the DMA layer hands out disjoint IOVA ranges), so
 * two walks only meet on the table entries above their leaves: a missing table is
 * installed with one compare-and-swap, and the loser frees its own copy and descends into
 * the winner's. A table, once installed, stays until an unmap of its parent entry's whole
 * span removes it (a block-sized unmap, freeing every table below) or the page table is
 * freed: a partial unmap that empties it leaves it in place, as the kernel does, so that
 * neither map nor unmap ever has to ask whether a neighbour still uses it (nor pay a walk
 * flush for it). The flush ops are called with nothing held.
 *
 * Descriptor layout: Arm ARM (DDI 0487) D8.3, "Translation table descriptor formats"
 * (VMSAv8-64, 48-bit OA, no LPA/LPA2):
 *
 *   63    55 54  53  52..48 47 ........ pg_shift  11  10  9:8  7:6   5   4:2     1    0
 *  | ign/0 |UXN|PXN|  0   |   output address    |nG |AF | SH | AP |NS |AttrIndx|type|valid|
 *
 * (stage 2: bits 7:6 are S2AP, bits 5:2 MemAttr, bit 54 XN[1], bit 53 XN[0] = 0).
 * Table descriptor: type = 1 at levels 0-2, next-level table address in [47:pg_shift].
 * Block descriptor: type = 0 at a level that allows blocks. Page descriptor: type = 1 at
 * level 3. Descriptors are little-endian; this host is little-endian, so a native u64
 * store is the hardware layout.
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "descriptors are stored natively");

#define LPAE_VALID	    BIT_ULL(0)
#define LPAE_TYPE	    BIT_ULL(1) /* table (levels 0-2) or page (level 3) */
#define LPAE_ATTRINDX	    GENMASK_ULL(4, 2)
#define LPAE_S2_MEMATTR	    GENMASK_ULL(5, 2)
#define LPAE_AP_UNPRIV	    BIT_ULL(6) /* AP[1] */
#define LPAE_AP_RDONLY	    BIT_ULL(7) /* AP[2] */
#define LPAE_S2AP_R	    BIT_ULL(6)
#define LPAE_S2AP_W	    BIT_ULL(7)
#define LPAE_SH		    GENMASK_ULL(9, 8)
#define LPAE_AF		    BIT_ULL(10)
#define LPAE_NG		    BIT_ULL(11) /* stage 1: tagged by ASID, not global */
#define LPAE_PXN	    BIT_ULL(53)
#define LPAE_UXN	    BIT_ULL(54) /* stage 2: XN[1] */
#define LPAE_OA_TOP	    47
#define LPAE_SH_OUTER	    2
#define LPAE_SH_INNER	    3
#define LPAE_S2_MEMATTR_NC  0x5 /* Normal, outer NC, inner NC */
#define LPAE_S2_MEMATTR_WB  0xf /* Normal, outer WB, inner WB */
#define LPAE_S2_MEMATTR_DEV 0x1 /* Device-nGnRE */
#define LPAE_MAX_LEVELS	    4
/* Arm ARM D8.2: at most 16 tables may be concatenated at the stage 2 start level. */
#define LPAE_S2_MAX_CONCAT 16

struct lpae {
	struct ih_io_pgtable iop;
	bool s2;
	unsigned int pg_shift;	  /* log2 of the granule */
	unsigned int bpl;	  /* index bits per full level: pg_shift - 3 */
	unsigned int start_level; /* 0..3 */
	unsigned int pgd_bits;	  /* index bits of the start level (concatenation included) */
	size_t pgd_alloc;	  /* bytes allocated for the start level */
	ih_pa_t pgd;
	/* The world's simulated memory, for table_va's inline bounds check. */
	u8 *pm_host;
	ih_pa_t pm_base;
	size_t pm_size;
};

static struct lpae *lpae_of(struct ih_io_pgtable_ops *ops)
{
	return container_of(iop_of(ops), struct lpae, iop);
}

static unsigned int lvl_shift(const struct lpae *d, unsigned int lvl)
{
	return d->pg_shift + (3 - lvl) * d->bpl;
}

static size_t lvl_entries(const struct lpae *d, unsigned int lvl)
{
	return (size_t)1 << (lvl == d->start_level ? d->pgd_bits : d->bpl);
}

static size_t granule(const struct lpae *d)
{
	return (size_t)1 << d->pg_shift;
}

/*
 * The host address of a table. Every walk step lands here, so the bounds check is the
 * one ih_pm_va() makes, done inline against the arena bounds taken at allocation (the
 * simulated memory of a world never moves) instead of a call per level.
 */
static inline u64 *table_va(struct lpae *d, ih_pa_t pa, unsigned int lvl)
{
	size_t len = lvl_entries(d, lvl) * sizeof(u64);

	/* Only this file writes table pointers; a bad one is a harness bug. */
	IH_BUG_ON(pa < d->pm_base || len > d->pm_size || pa - d->pm_base > d->pm_size - len,
		  "lpae: table PA 0x%llx at level %u outside simulated memory",
		  (unsigned long long)pa, lvl);
	return (u64 *)(d->pm_host + (pa - d->pm_base));
}

static u64 *entry_ptr(struct lpae *d, ih_pa_t table, unsigned int lvl, u64 iova)
{
	size_t idx = (iova >> lvl_shift(d, lvl)) & (lvl_entries(d, lvl) - 1);

	return table_va(d, table, lvl) + idx;
}

static u64 pte_load(const u64 *ptep)
{
	return __atomic_load_n(ptep, __ATOMIC_ACQUIRE);
}

/* Release: whatever the entry points to (a zeroed table, nothing) is visible first. */
static void pte_store(u64 *ptep, u64 val)
{
	__atomic_store_n(ptep, val, __ATOMIC_RELEASE);
}

static bool pte_is_table(u64 pte, unsigned int lvl)
{
	return lvl < 3 && (pte & (LPAE_VALID | LPAE_TYPE)) == (LPAE_VALID | LPAE_TYPE);
}

static ih_pa_t pte_table_pa(const struct lpae *d, u64 pte)
{
	return pte & GENMASK_ULL(LPAE_OA_TOP, d->pg_shift);
}

static ih_pa_t pte_leaf_pa(const struct lpae *d, u64 pte, unsigned int lvl)
{
	return pte & GENMASK_ULL(LPAE_OA_TOP, lvl_shift(d, lvl));
}

/* The level whose entries are @size bytes, or -1 when no level is. */
static int size_to_level(const struct lpae *d, size_t size)
{
	for (unsigned int lvl = d->start_level; lvl < LPAE_MAX_LEVELS; lvl++)
		if (((size_t)1 << lvl_shift(d, lvl)) == size)
			return (int)lvl;
	return -1;
}

static u64 prot_to_pte(const struct lpae *d, int prot, unsigned int lvl)
{
	u64 pte = LPAE_VALID | LPAE_AF | (lvl == 3 ? LPAE_TYPE : 0);
	/* Only cacheable Normal memory is inner shareable; MMIO wins over CACHE. */
	bool cacheable = (prot & IH_PROT_CACHE) && !(prot & IH_PROT_MMIO);

	pte |= FIELD_PREP(LPAE_SH, cacheable ? LPAE_SH_INNER : LPAE_SH_OUTER);
	if (d->s2) {
		unsigned int memattr = LPAE_S2_MEMATTR_NC;

		if (prot & IH_PROT_MMIO)
			memattr = LPAE_S2_MEMATTR_DEV;
		else if (prot & IH_PROT_CACHE)
			memattr = LPAE_S2_MEMATTR_WB;
		pte |= FIELD_PREP(LPAE_S2_MEMATTR, memattr);
		if (prot & IH_PROT_READ)
			pte |= LPAE_S2AP_R;
		if (prot & IH_PROT_WRITE)
			pte |= LPAE_S2AP_W;
		/* XN[1] alone: execute-never whether or not FEAT_XNX is implemented. */
		if (prot & IH_PROT_NOEXEC)
			pte |= LPAE_UXN;
	} else {
		unsigned int idx = IH_LPAE_MAIR_IDX_NC;

		if (prot & IH_PROT_MMIO)
			idx = IH_LPAE_MAIR_IDX_DEV;
		else if (prot & IH_PROT_CACHE)
			idx = IH_LPAE_MAIR_IDX_CACHE;
		pte |= FIELD_PREP(LPAE_ATTRINDX, idx);
		/*
		 * Every IOMMU domain has its own ASID: a global entry would be visible through
		 * other ASIDs and survive invalidation by ASID (Arm ARM D8.13.2, "Global and
		 * process-specific translation table entries").
		 */
		pte |= LPAE_NG;
		if (!(prot & IH_PROT_PRIV))
			pte |= LPAE_AP_UNPRIV;
		if (!(prot & IH_PROT_WRITE))
			pte |= LPAE_AP_RDONLY;
		if (prot & IH_PROT_NOEXEC)
			pte |= LPAE_UXN | LPAE_PXN;
	}
	return pte;
}

static ih_pa_t lpae_table_alloc(struct lpae *d, size_t size, const char *site)
{
	size_t sz = ih_max(size, (size_t)IH_PAGE_SIZE);
	ih_pa_t pa = ih_iop_table_alloc(&d->iop, sz, sz, site);

	if (pa == IH_PA_INVALID)
		return pa;
	/* The walker fetches tables through the output address space too. */
	if (!ih_iop_range_fits(pa, sz, 1, d->iop.cfg.oas)) {
		ih_log(d->iop.w, IH_LOG_GUEST_ERROR, "table at PA 0x%llx is beyond the %u-bit OAS",
		       (unsigned long long)pa, d->iop.cfg.oas);
		ih_iop_table_free(&d->iop, pa, sz);
		return IH_PA_INVALID;
	}
	return pa;
}

static size_t table_alloc_size(const struct lpae *d, unsigned int lvl)
{
	return lvl == d->start_level ? d->pgd_alloc : granule(d);
}

/* Free @table at @lvl and every table below it; its entries are already unreachable. */
static void free_tree(struct lpae *d, ih_pa_t table, unsigned int lvl)
{
	if (lvl < 3) {
		const u64 *t = table_va(d, table, lvl);
		size_t n = lvl_entries(d, lvl);

		for (size_t i = 0; i < n; i++) {
			u64 pte = pte_load(&t[i]);

			if (pte_is_table(pte, lvl))
				free_tree(d, pte_table_pa(d, pte), lvl + 1);
		}
	}
	ih_iop_table_free(&d->iop, table, table_alloc_size(d, lvl));
}

/* Whether the table entry @pte at @lvl leads to any leaf. */
static bool tree_live(struct lpae *d, u64 pte, unsigned int lvl)
{
	const u64 *t = table_va(d, pte_table_pa(d, pte), lvl + 1);
	size_t n = lvl_entries(d, lvl + 1);

	for (size_t i = 0; i < n; i++) {
		u64 e = pte_load(&t[i]);

		if (e && (!pte_is_table(e, lvl + 1) || tree_live(d, e, lvl + 1)))
			return true;
	}
	return false;
}

/*
 * A block is about to replace the table entry @pte at @ptep, whose tables (kept after
 * the unmaps that emptied them) hold no leaf. As io-pgtable-arm does before it writes a
 * block over a table: unhook it, flush the walk caches over the block's span, free it.
 */
static void drop_empty_tree(struct lpae *d, u64 *ptep, u64 pte, unsigned int lvl, u64 iova)
{
	u64 span = 1ULL << lvl_shift(d, lvl);

	pte_store(ptep, 0);
	ih_iop_flush_walk(&d->iop, iova & ~(span - 1), span, granule(d));
	free_tree(d, pte_table_pa(d, pte), lvl + 1);
}

/*
 * Install a zeroed table in the empty entry @ptep. Release: the zeroed table is visible
 * before the entry that points to it (a walker's acquire load pairs with it). Return: the
 * entry now in place (ours, or the table another mapper installed first), or 0 when no
 * table could be allocated.
 */
static u64 install_table(struct lpae *d, u64 *ptep)
{
	ih_pa_t next = lpae_table_alloc(d, granule(d), "io_pgtable:lpae-table");
	u64 expected = 0, new;

	if (next == IH_PA_INVALID)
		return 0;
	new = next | LPAE_TYPE | LPAE_VALID;
	/* Where another mapper may install the same entry first (tests script the race). */
	ih_sched_point(d->iop.w, "io_pgtable:lpae:before-install");
	if (__atomic_compare_exchange_n(ptep, &expected, new, false, __ATOMIC_RELEASE,
					__ATOMIC_ACQUIRE))
		return new;
	/* Another walk installed one first: nobody saw ours. */
	ih_iop_table_free(&d->iop, next, granule(d));
	return expected;
}

static int map_one(struct lpae *d, u64 iova, ih_pa_t paddr, unsigned int target, int prot)
{
	ih_pa_t table = d->pgd;

	for (unsigned int lvl = d->start_level;; lvl++) {
		u64 *ptep = entry_ptr(d, table, lvl, iova);
		u64 pte = pte_load(ptep);

		if (lvl == target) {
			/* A leaf, or a table holding smaller mappings: either way it is live. */
			if (pte && (!pte_is_table(pte, lvl) || tree_live(d, pte, lvl)))
				return -EEXIST;
			if (pte)
				drop_empty_tree(d, ptep, pte, lvl, iova);
			pte_store(ptep, paddr | prot_to_pte(d, prot, lvl));
			return 0;
		}
		/* A table installed before a failure further down stays, as in the kernel. */
		if (!pte) {
			pte = install_table(d, ptep);
			if (!pte)
				return -ENOMEM;
		}
		if (!pte_is_table(pte, lvl))
			return -EEXIST; /* a block covers this page */
		table = pte_table_pa(d, pte);
	}
}

static size_t unmap_one(struct lpae *d, u64 iova, size_t size, unsigned int target,
			struct ih_iommu_iotlb_gather *gather, bool lazy)
{
	ih_pa_t table = d->pgd;

	for (unsigned int lvl = d->start_level;; lvl++) {
		u64 *ptep = entry_ptr(d, table, lvl, iova);
		u64 pte = pte_load(ptep);

		if (!pte)
			return 0;
		if (lvl == target) {
			/*
			 * Kept tables that hold nothing: io-pgtable-arm frees them and counts the
			 * block as unmapped; here they are freed too but nothing was mapped, so
			 * nothing is counted and an unmap of an unmapped range stays visible.
			 */
			if (pte_is_table(pte, lvl) && !tree_live(d, pte, lvl)) {
				drop_empty_tree(d, ptep, pte, lvl, iova);
				return 0;
			}
			pte_store(ptep, 0);
			if (pte_is_table(pte, lvl)) {
				/* Smaller mappings under it go with the table. */
				ih_iop_flush_walk(&d->iop, iova, size, granule(d));
				free_tree(d, pte_table_pa(d, pte), lvl + 1);
			} else {
				ih_iop_leaf_removed(&d->iop, gather, lazy, iova, size);
			}
			/* An emptied table above stays: see the locking note at the top. */
			return size;
		}
		if (!pte_is_table(pte, lvl)) {
			ih_log(d->iop.w, IH_LOG_GUEST_ERROR,
			       "unmap of 0x%zx at iova 0x%llx inside a level %u block: not split",
			       size, (unsigned long long)iova, lvl);
			return 0;
		}
		table = pte_table_pa(d, pte);
	}
}

static bool prot_ok(int prot)
{
	return !(prot & ~(int)IH_PROT_ALL) && (prot & (IH_PROT_READ | IH_PROT_WRITE));
}

static int lpae_map_pages(struct ih_io_pgtable_ops *ops, u64 iova, ih_pa_t paddr, size_t pgsize,
			  size_t pgcount, int prot, size_t *mapped)
{
	struct lpae *d = lpae_of(ops);
	const struct ih_io_pgtable_cfg *cfg = &d->iop.cfg;
	size_t done = 0;
	int target, ret = 0;

	if (mapped)
		*mapped = 0;
	if (!prot_ok(prot) || !IH_IS_POW2(pgsize) || !(pgsize & cfg->pgsize_bitmap) ||
	    pgcount == 0 || !IH_IS_ALIGNED(iova, (u64)pgsize) || !IH_IS_ALIGNED(paddr, (u64)pgsize))
		return -EINVAL;
	if (!ih_iop_range_fits(iova, pgsize, pgcount, cfg->ias) ||
	    !ih_iop_range_fits(paddr, pgsize, pgcount, cfg->oas))
		return -ERANGE;
	target = size_to_level(d, pgsize);
	IH_BUG_ON(target < 0, "lpae: size 0x%zx in the bitmap has no level", pgsize);

	for (size_t i = 0; i < pgcount; i++) {
		ret = map_one(d, iova + i * pgsize, paddr + i * pgsize, (unsigned int)target, prot);
		if (ret)
			break;
		done += pgsize;
	}
	if (mapped)
		*mapped = done;
	return ret;
}

static size_t lpae_unmap_pages(struct ih_io_pgtable_ops *ops, u64 iova, size_t pgsize,
			       size_t pgcount, struct ih_iommu_iotlb_gather *gather)
{
	struct lpae *d = lpae_of(ops);
	const struct ih_io_pgtable_cfg *cfg = &d->iop.cfg;
	size_t total = 0;
	int target;
	bool lazy;

	if (IH_WARN_ON(d->iop.w, !gather, "unmap_pages without a gather"))
		return 0;
	if (!IH_IS_POW2(pgsize) || !(pgsize & cfg->pgsize_bitmap) || pgcount == 0 ||
	    !IH_IS_ALIGNED(iova, (u64)pgsize) ||
	    !ih_iop_range_fits(iova, pgsize, pgcount, cfg->ias))
		return 0;
	target = size_to_level(d, pgsize);
	IH_BUG_ON(target < 0, "lpae: size 0x%zx in the bitmap has no level", pgsize);
	/* One snapshot of strictness for the whole call (the 5.15 fix). */
	lazy = ih_iop_unmap_is_lazy(&d->iop, gather);

	for (size_t i = 0; i < pgcount; i++) {
		size_t n =
		    unmap_one(d, iova + i * pgsize, pgsize, (unsigned int)target, gather, lazy);

		if (!n)
			break;
		total += n;
	}
	return total;
}

static ih_pa_t lpae_iova_to_phys(struct ih_io_pgtable_ops *ops, u64 iova)
{
	struct lpae *d = lpae_of(ops);
	ih_pa_t table = d->pgd, pa = IH_PA_INVALID;

	if (!ih_iop_range_fits(iova, 1, 1, d->iop.cfg.ias))
		return IH_PA_INVALID;
	for (unsigned int lvl = d->start_level; lvl < LPAE_MAX_LEVELS; lvl++) {
		u64 pte = pte_load(entry_ptr(d, table, lvl, iova));

		if (!pte)
			break;
		if (!pte_is_table(pte, lvl)) {
			pa = pte_leaf_pa(d, pte, lvl) |
			     (iova & GENMASK_ULL(lvl_shift(d, lvl) - 1, 0));
			break;
		}
		table = pte_table_pa(d, pte);
	}
	return pa;
}

static void lpae_destroy(struct ih_io_pgtable *iop)
{
	struct lpae *d = container_of(iop, struct lpae, iop);

	free_tree(d, d->pgd, d->start_level);
	ih_iop_fini(iop);
	ih_free(iop->w, d);
}

/* PARange / IPS / PS encoding, Arm ARM D19 ID_AA64MMFR0_EL1.PARange. */
static int oas_to_ps(unsigned int oas)
{
	static const unsigned int bits[] = {32, 36, 40, 42, 44, 48};

	for (unsigned int i = 0; i < ARRAY_SIZE(bits); i++)
		if (bits[i] == oas)
			return (int)i;
	return -1;
}

/* TG0 encoding shared by TCR_ELx and VTCR_EL2: 0 = 4K, 1 = 64K, 2 = 16K. */
static u8 granule_to_tg0(unsigned int pg_shift)
{
	return pg_shift == 12 ? 0 : pg_shift == 16 ? 1 : 2;
}

/* Keep the page sizes of the chosen granule that this geometry can hold as leaves. */
static unsigned long leaf_sizes(const struct lpae *d)
{
	unsigned long sizes = 0;

	for (unsigned int lvl = d->start_level; lvl < LPAE_MAX_LEVELS; lvl++) {
		/* Blocks: level 2 for every granule, level 1 with 4K only (no LPA2). */
		bool leaf = lvl == 3 || lvl == 2 || (lvl == 1 && d->pg_shift == 12);

		if (leaf)
			sizes |= 1UL << lvl_shift(d, lvl);
	}
	return sizes;
}

struct ih_io_pgtable *ih_lpae_alloc(struct ih_world *w, enum ih_io_pgtable_fmt fmt,
				    struct ih_io_pgtable_cfg *cfg, void *cookie)
{
	struct lpae *d;
	unsigned int pg_shift, va_bits, levels;
	int ps = oas_to_ps(cfg->oas);

	if (cfg->pgsize_bitmap & SZ_4K)
		pg_shift = 12;
	else if (cfg->pgsize_bitmap & SZ_16K)
		pg_shift = 14;
	else if (cfg->pgsize_bitmap & SZ_64K)
		pg_shift = 16;
	else {
		ih_log(w, IH_LOG_GUEST_ERROR, "pgsize_bitmap 0x%lx has no 4K/16K/64K granule",
		       cfg->pgsize_bitmap);
		return NULL;
	}
	/* T0SZ 16..39 (Arm ARM D8.2, no TTST/LVA). */
	if (cfg->ias < 25 || cfg->ias > 48 || ps < 0) {
		ih_log(w, IH_LOG_GUEST_ERROR, "unsupported ias %u / oas %u", cfg->ias, cfg->oas);
		return NULL;
	}
	d = ih_alloc(w, sizeof(*d), "io_pgtable:lpae");
	if (!d)
		return NULL;
	d->pm_base = ih_pm_base(w);
	d->pm_size = ih_pm_size(w);
	d->pm_host = ih_pm_va(w, d->pm_base, 1);
	if (ih_iop_init(&d->iop, w, fmt, cfg, cookie))
		goto err_free;
	d->s2 = fmt == IH_ARM_64_LPAE_S2;
	d->pg_shift = pg_shift;
	d->bpl = pg_shift - 3;
	va_bits = cfg->ias - pg_shift;
	levels = (va_bits + d->bpl - 1) / d->bpl;
	d->start_level = LPAE_MAX_LEVELS - levels;
	d->pgd_bits = va_bits - (levels - 1) * d->bpl;
	/*
	 * Stage 2 may concatenate up to 16 tables at the start level instead of walking a
	 * tiny level-0 table (Arm ARM D8.2, "Concatenated translation tables"); like the
	 * kernel, only a level-0 start is folded, which always gives a valid VTCR.SL0.
	 */
	if (d->s2 && d->start_level == 0 && (1u << d->pgd_bits) <= LPAE_S2_MAX_CONCAT) {
		d->start_level = 1;
		d->pgd_bits += d->bpl;
	}
	d->pgd_alloc = ih_max(((size_t)1 << d->pgd_bits) * sizeof(u64), (size_t)IH_PAGE_SIZE);
	d->pgd = lpae_table_alloc(d, d->pgd_alloc, "io_pgtable:lpae-pgd");
	if (d->pgd == IH_PA_INVALID)
		goto err_fini;

	cfg->pgsize_bitmap &= leaf_sizes(d);
	if (d->s2) {
		/* VTCR_EL2.SL0 counts down from the deepest start level the granule allows. */
		unsigned int sl = d->start_level + (pg_shift == 12 ? 1 : 0);

		cfg->arm_lpae_s2_cfg.vttbr = d->pgd;
		cfg->arm_lpae_s2_cfg.vtcr.t0sz = (u8)(64 - cfg->ias);
		cfg->arm_lpae_s2_cfg.vtcr.sl0 = (u8)(3 - sl);
		cfg->arm_lpae_s2_cfg.vtcr.tg0 = granule_to_tg0(pg_shift);
		cfg->arm_lpae_s2_cfg.vtcr.irgn0 = cfg->coherent_walk ? 1 : 0;
		cfg->arm_lpae_s2_cfg.vtcr.orgn0 = cfg->coherent_walk ? 1 : 0;
		cfg->arm_lpae_s2_cfg.vtcr.sh0 = cfg->coherent_walk ? LPAE_SH_INNER : LPAE_SH_OUTER;
		cfg->arm_lpae_s2_cfg.vtcr.ps = (u8)ps;
	} else {
		cfg->arm_lpae_s1_cfg.ttbr = d->pgd;
		cfg->arm_lpae_s1_cfg.tcr.t0sz = (u8)(64 - cfg->ias);
		cfg->arm_lpae_s1_cfg.tcr.tg0 = granule_to_tg0(pg_shift);
		cfg->arm_lpae_s1_cfg.tcr.irgn0 = cfg->coherent_walk ? 1 : 0;
		cfg->arm_lpae_s1_cfg.tcr.orgn0 = cfg->coherent_walk ? 1 : 0;
		cfg->arm_lpae_s1_cfg.tcr.sh0 = cfg->coherent_walk ? LPAE_SH_INNER : LPAE_SH_OUTER;
		cfg->arm_lpae_s1_cfg.tcr.ips = (u8)ps;
		cfg->arm_lpae_s1_cfg.mair =
		    ((u64)IH_LPAE_MAIR_ATTR_NC << (8 * IH_LPAE_MAIR_IDX_NC)) |
		    ((u64)IH_LPAE_MAIR_ATTR_CACHE << (8 * IH_LPAE_MAIR_IDX_CACHE)) |
		    ((u64)IH_LPAE_MAIR_ATTR_DEV << (8 * IH_LPAE_MAIR_IDX_DEV));
	}
	d->iop.cfg = *cfg;
	d->iop.ops = (struct ih_io_pgtable_ops){
	    .map_pages = lpae_map_pages,
	    .unmap_pages = lpae_unmap_pages,
	    .iova_to_phys = lpae_iova_to_phys,
	};
	d->iop.destroy = lpae_destroy;
	return &d->iop;

err_fini:
	ih_iop_fini(&d->iop);
err_free:
	ih_free(w, d);
	return NULL;
}
