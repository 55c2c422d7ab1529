// SPDX-License-Identifier: MIT
/* Reference shadow of a page table and the checker that walks the real one against it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/physmem.h>
#include "io_pgtable_priv.h"

/*
 * Everything here is written a second time on purpose, without the table code's helpers:
 * argument checks, range arithmetic (in 128 bits), and the descriptor decoders (from the
 * Arm ARM D8.3 tables and the Rockchip layout), so that one mistake does not hide itself.
 * The checker starts from the hardware-facing configuration fields, as a walker would.
 */

struct sh_leaf {
	u64 iova;
	u64 size;
	ih_pa_t pa;
	int prot; /* normalised: what the format can express */
};

struct ih_pgtable_shadow {
	struct ih_world *w;
	enum ih_io_pgtable_fmt fmt;
	unsigned int ias, oas;
	unsigned long pgsize_bitmap;
	struct sh_leaf *v; /* sorted by iova, never overlapping */
	size_t n, cap;
};

typedef unsigned __int128 u128;

static bool is_rk(enum ih_io_pgtable_fmt fmt)
{
	return fmt == IH_RK_IOMMU_V1 || fmt == IH_RK_IOMMU_V2;
}

static bool fits(u64 base, u64 size, u64 count, unsigned int bits)
{
	return (u128)base + (u128)size * count <= ((u128)1 << bits);
}

static int normalise(enum ih_io_pgtable_fmt fmt, int prot)
{
	int attr = (prot & IH_PROT_MMIO) ? IH_PROT_MMIO : (prot & IH_PROT_CACHE);

	switch (fmt) {
	case IH_ARM_64_LPAE_S1:
		/* No write-only permission at stage 1: writable pages are readable. */
		return IH_PROT_READ | (prot & (IH_PROT_WRITE | IH_PROT_PRIV | IH_PROT_NOEXEC)) |
		       attr;
	case IH_ARM_64_LPAE_S2:
		return (prot & (IH_PROT_READ | IH_PROT_WRITE | IH_PROT_NOEXEC)) | attr;
	default:
		return prot & (IH_PROT_READ | IH_PROT_WRITE);
	}
}

int ih_pgtable_shadow_create(struct ih_world *w, enum ih_io_pgtable_fmt fmt,
			     const struct ih_io_pgtable_cfg *cfg, struct ih_pgtable_shadow **out)
{
	struct ih_pgtable_shadow *sh;

	if ((unsigned int)fmt >= IH_IO_PGTABLE_NUM_FMTS || !cfg || cfg->ias > 64 || cfg->oas > 64)
		return -EINVAL;
	sh = ih_alloc(w, sizeof(*sh), "io_pgtable:shadow");
	if (!sh)
		return -ENOMEM;
	sh->w = w;
	sh->fmt = fmt;
	sh->ias = cfg->ias;
	sh->oas = cfg->oas;
	sh->pgsize_bitmap = cfg->pgsize_bitmap;
	*out = sh;
	return 0;
}

void ih_pgtable_shadow_destroy(struct ih_pgtable_shadow *sh)
{
	if (!sh)
		return;
	ih_free(sh->w, sh->v);
	ih_free(sh->w, sh);
}

size_t ih_pgtable_shadow_count(const struct ih_pgtable_shadow *sh)
{
	return sh->n;
}

/* Index of the first leaf that ends after @x (leaves are sorted and disjoint). */
static size_t first_ending_after(const struct ih_pgtable_shadow *sh, u64 x)
{
	size_t lo = 0, hi = sh->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sh->v[mid].iova + sh->v[mid].size > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static bool overlaps(const struct ih_pgtable_shadow *sh, u64 x, u64 len)
{
	size_t i = first_ending_after(sh, x);

	return i < sh->n && sh->v[i].iova < x + len;
}

static int insert(struct ih_pgtable_shadow *sh, u64 iova, u64 size, ih_pa_t pa, int prot)
{
	size_t i = first_ending_after(sh, iova);

	if (sh->n == sh->cap) {
		size_t cap = sh->cap ? 2 * sh->cap : 64;
		struct sh_leaf *v = ih_realloc(sh->w, sh->v, cap * sizeof(*v), "io_pgtable:shadow");

		if (!v)
			return -ENOMEM;
		sh->v = v;
		sh->cap = cap;
	}
	memmove(&sh->v[i + 1], &sh->v[i], (sh->n - i) * sizeof(*sh->v));
	sh->v[i] = (struct sh_leaf){.iova = iova, .size = size, .pa = pa, .prot = prot};
	sh->n++;
	return 0;
}

static void remove_range(struct ih_pgtable_shadow *sh, size_t i, size_t count)
{
	memmove(&sh->v[i], &sh->v[i + count], (sh->n - i - count) * sizeof(*sh->v));
	sh->n -= count;
}

static bool size_ok(const struct ih_pgtable_shadow *sh, size_t pgsize)
{
	return pgsize && !(pgsize & (pgsize - 1)) && (pgsize & sh->pgsize_bitmap);
}

int ih_pgtable_shadow_map(struct ih_pgtable_shadow *sh, u64 iova, ih_pa_t paddr, size_t pgsize,
			  size_t pgcount, int prot, size_t *mapped)
{
	int np = normalise(sh->fmt, prot);

	*mapped = 0;
	if ((prot & ~(int)IH_PROT_ALL) || !(prot & (IH_PROT_READ | IH_PROT_WRITE)))
		return -EINVAL;
	if (!size_ok(sh, pgsize) || pgcount == 0 || iova % pgsize || paddr % pgsize)
		return -EINVAL;
	if (!fits(iova, pgsize, pgcount, sh->ias) || !fits(paddr, pgsize, pgcount, sh->oas))
		return -ERANGE;
	for (size_t i = 0; i < pgcount; i++) {
		u64 x = iova + i * pgsize;
		ih_pa_t p = paddr + i * pgsize;

		if (overlaps(sh, x, pgsize))
			return -EEXIST;
		if (is_rk(sh->fmt)) {
			for (u64 off = 0; off < pgsize; off += SZ_4K)
				if (insert(sh, x + off, SZ_4K, p + off, np))
					return -ENOMEM;
		} else if (insert(sh, x, pgsize, p, np)) {
			return -ENOMEM;
		}
		*mapped += pgsize;
	}
	return 0;
}

size_t ih_pgtable_shadow_unmap(struct ih_pgtable_shadow *sh, u64 iova, size_t pgsize,
			       size_t pgcount)
{
	size_t done = 0;

	if (!size_ok(sh, pgsize) || pgcount == 0 || iova % pgsize ||
	    !fits(iova, pgsize, pgcount, sh->ias))
		return 0;
	if (is_rk(sh->fmt)) {
		/* No blocks: 4K entries one by one until the first hole. */
		for (u64 x = iova; done < pgsize * pgcount; x += SZ_4K) {
			size_t i = first_ending_after(sh, x);

			if (i == sh->n || sh->v[i].iova != x)
				break;
			remove_range(sh, i, 1);
			done += SZ_4K;
		}
		return done;
	}
	for (size_t k = 0; k < pgcount; k++) {
		u64 x = iova + k * pgsize;
		size_t i = first_ending_after(sh, x), j;

		if (i == sh->n || sh->v[i].iova >= x + pgsize)
			break; /* nothing mapped here */
		if (sh->v[i].size > pgsize)
			break; /* inside a bigger block: refused, not split */
		for (j = i; j < sh->n && sh->v[j].iova < x + pgsize; j++)
			;
		remove_range(sh, i, j - i);
		done += pgsize;
	}
	return done;
}

ih_pa_t ih_pgtable_shadow_iova_to_phys(const struct ih_pgtable_shadow *sh, u64 iova)
{
	size_t i = first_ending_after(sh, iova);

	if (i < sh->n && sh->v[i].iova <= iova)
		return sh->v[i].pa + (iova - sh->v[i].iova);
	return IH_PA_INVALID;
}

/* ---- the checker ---- */

struct walk {
	struct ih_world *w;
	const struct ih_pgtable_shadow *sh;
	enum ih_io_pgtable_fmt fmt;
	size_t k; /* next shadow leaf to match */
	int err;
	char *msg;
	size_t len;
	/* LPAE geometry, decoded from the published fields */
	unsigned int pg_shift, bpl, start;
	unsigned int oas;
};

IH_PRINTF(3, 4) static int fail(struct walk *wk, int err, const char *fmt, ...)
{
	va_list ap;

	if (wk->err)
		return wk->err;
	wk->err = err;
	if (wk->msg && wk->len) {
		va_start(ap, fmt);
		vsnprintf(wk->msg, wk->len, fmt, ap);
		va_end(ap);
	}
	return err;
}

static void leaf(struct walk *wk, u64 iova, u64 size, ih_pa_t pa, int prot)
{
	const struct sh_leaf *e;

	if (wk->err)
		return;
	if (wk->k >= wk->sh->n) {
		fail(wk, -EINVAL,
		     "iova 0x%llx: table maps 0x%llx bytes to pa 0x%llx prot 0x%x, shadow has "
		     "nothing",
		     (unsigned long long)iova, (unsigned long long)size, (unsigned long long)pa,
		     prot);
		return;
	}
	e = &wk->sh->v[wk->k];
	if (e->iova != iova || e->size != size || e->pa != pa || e->prot != prot) {
		if (e->iova < iova)
			fail(wk, -EINVAL,
			     "iova 0x%llx: shadow has pa 0x%llx size 0x%llx prot 0x%x, table has "
			     "nothing",
			     (unsigned long long)e->iova, (unsigned long long)e->pa,
			     (unsigned long long)e->size, e->prot);
		else
			fail(wk, -EINVAL,
			     "iova 0x%llx: table has pa 0x%llx size 0x%llx prot 0x%x, shadow has "
			     "iova 0x%llx pa 0x%llx size 0x%llx prot 0x%x",
			     (unsigned long long)iova, (unsigned long long)pa,
			     (unsigned long long)size, prot, (unsigned long long)e->iova,
			     (unsigned long long)e->pa, (unsigned long long)e->size, e->prot);
		return;
	}
	wk->k++;
}

/* VMSAv8-64 fields (Arm ARM D8.3), the checker's own copy. */
#define D_VALID	   BIT_ULL(0)
#define D_TABLE	   BIT_ULL(1)
#define D_LO_ATTR  GENMASK_ULL(11, 2)
#define D_ATTRINDX GENMASK_ULL(4, 2)
#define D_NS	   BIT_ULL(5)
#define D_MEMATTR  GENMASK_ULL(5, 2)
#define D_AP1	   BIT_ULL(6)
#define D_AP2	   BIT_ULL(7)
#define D_SH	   GENMASK_ULL(9, 8)
#define D_AF	   BIT_ULL(10)
#define D_NG	   BIT_ULL(11)
#define D_PXN	   BIT_ULL(53)
#define D_UXN	   BIT_ULL(54)

static unsigned int lpae_shift(const struct walk *wk, unsigned int lvl)
{
	return wk->pg_shift + (3 - lvl) * wk->bpl;
}

static bool lpae_block_level(const struct walk *wk, unsigned int lvl)
{
	return lvl == 2 || (lvl == 1 && wk->pg_shift == 12);
}

static int lpae_leaf_prot(struct walk *wk, u64 d, u64 iova, unsigned int lvl)
{
	int prot = 0;
	u64 sh = FIELD_GET(D_SH, d);

	if (!(d & D_AF))
		return fail(wk, -EINVAL, "iova 0x%llx level %u: AF clear", (unsigned long long)iova,
			    lvl);
	if (wk->fmt == IH_ARM_64_LPAE_S1) {
		switch (FIELD_GET(D_ATTRINDX, d)) {
		case 0:
			break;
		case 1:
			prot |= IH_PROT_CACHE;
			break;
		case 2:
			prot |= IH_PROT_MMIO;
			break;
		default:
			return fail(wk, -EINVAL, "iova 0x%llx level %u: AttrIndx %u unused",
				    (unsigned long long)iova, lvl,
				    (unsigned int)FIELD_GET(D_ATTRINDX, d));
		}
		if ((d & D_NS) || !(d & D_NG))
			return fail(wk, -EINVAL, "iova 0x%llx level %u: NS set or nG clear",
				    (unsigned long long)iova, lvl);
		prot |= IH_PROT_READ;
		if (!(d & D_AP2))
			prot |= IH_PROT_WRITE;
		if (!(d & D_AP1))
			prot |= IH_PROT_PRIV;
		if (!!(d & D_UXN) != !!(d & D_PXN))
			return fail(wk, -EINVAL, "iova 0x%llx level %u: UXN and PXN disagree",
				    (unsigned long long)iova, lvl);
		if (d & D_UXN)
			prot |= IH_PROT_NOEXEC;
	} else {
		switch (FIELD_GET(D_MEMATTR, d)) {
		case 0x5:
			break;
		case 0xf:
			prot |= IH_PROT_CACHE;
			break;
		case 0x1:
			prot |= IH_PROT_MMIO;
			break;
		default:
			return fail(wk, -EINVAL, "iova 0x%llx level %u: MemAttr 0x%x unexpected",
				    (unsigned long long)iova, lvl,
				    (unsigned int)FIELD_GET(D_MEMATTR, d));
		}
		if (d & D_PXN)
			return fail(wk, -EINVAL, "iova 0x%llx level %u: XN[0] set",
				    (unsigned long long)iova, lvl);
		if (d & D_AP1)
			prot |= IH_PROT_READ;
		if (d & D_AP2)
			prot |= IH_PROT_WRITE;
		if (d & D_UXN)
			prot |= IH_PROT_NOEXEC;
		if (!(prot & (IH_PROT_READ | IH_PROT_WRITE)))
			return fail(wk, -EINVAL, "iova 0x%llx level %u: S2AP grants nothing",
				    (unsigned long long)iova, lvl);
	}
	if (sh != ((prot & IH_PROT_CACHE) ? 3u : 2u))
		return fail(wk, -EINVAL, "iova 0x%llx level %u: SH %u for prot 0x%x",
			    (unsigned long long)iova, lvl, (unsigned int)sh, prot);
	return prot;
}

static void lpae_walk(struct walk *wk, ih_pa_t table, unsigned int lvl, u64 base,
		      unsigned int nbits)
{
	size_t n = (size_t)1 << nbits;
	const u64 *t = ih_pm_va(wk->w, table, n * sizeof(u64));
	unsigned int shift = lpae_shift(wk, lvl);
	u64 oa_mask = GENMASK_ULL(47, shift);

	if (!t) {
		fail(wk, -EFAULT, "level %u table at pa 0x%llx is outside simulated memory", lvl,
		     (unsigned long long)table);
		return;
	}
	for (size_t i = 0; i < n && !wk->err; i++) {
		u64 d = __atomic_load_n(&t[i], __ATOMIC_ACQUIRE);
		u64 iova = base + ((u64)i << shift);

		if (!(d & D_VALID)) {
			if (d)
				fail(wk, -EINVAL,
				     "iova 0x%llx level %u: invalid entry 0x%llx not zero",
				     (unsigned long long)iova, lvl, (unsigned long long)d);
			continue;
		}
		if (lvl < 3 && (d & D_TABLE)) {
			u64 next_mask = GENMASK_ULL(47, wk->pg_shift);

			if (d & ~(next_mask | D_VALID | D_TABLE))
				fail(wk, -EINVAL,
				     "iova 0x%llx level %u: table entry 0x%llx has "
				     "attribute or reserved bits",
				     (unsigned long long)iova, lvl, (unsigned long long)d);
			else
				lpae_walk(wk, d & next_mask, lvl + 1, iova, wk->bpl);
			continue;
		}
		if (lvl == 3 && !(d & D_TABLE)) {
			fail(wk, -EINVAL, "iova 0x%llx: reserved level-3 descriptor 0x%llx",
			     (unsigned long long)iova, (unsigned long long)d);
			continue;
		}
		if (lvl < 3 && !lpae_block_level(wk, lvl)) {
			fail(wk, -EINVAL, "iova 0x%llx: block at level %u is not allowed",
			     (unsigned long long)iova, lvl);
			continue;
		}
		{
			u64 allowed = D_VALID | D_TABLE | D_LO_ATTR | oa_mask | D_PXN | D_UXN;
			ih_pa_t pa = d & oa_mask;
			int prot;

			if (d & ~allowed) {
				fail(wk, -EINVAL, "iova 0x%llx level %u: reserved bits in 0x%llx",
				     (unsigned long long)iova, lvl, (unsigned long long)d);
				continue;
			}
			if (!fits(pa, 1ULL << shift, 1, wk->oas)) {
				fail(wk, -EINVAL, "iova 0x%llx: pa 0x%llx beyond the %u-bit OAS",
				     (unsigned long long)iova, (unsigned long long)pa, wk->oas);
				continue;
			}
			prot = lpae_leaf_prot(wk, d, iova, lvl);
			if (prot >= 0)
				leaf(wk, iova, 1ULL << shift, pa, prot);
		}
	}
	/*
	 * An empty table below the start level is legal: io-pgtable-arm frees a table only
	 * when an unmap covers its parent entry's span, or with the whole page table.
	 */
}

static int tg0_to_shift(unsigned int tg0)
{
	return tg0 == 0 ? 12 : tg0 == 1 ? 16 : tg0 == 2 ? 14 : -1;
}

static int ps_to_bits(unsigned int ps)
{
	static const unsigned int bits[] = {32, 36, 40, 42, 44, 48};

	return ps < ARRAY_SIZE(bits) ? (int)bits[ps] : -1;
}

static void lpae_check(struct walk *wk, const struct ih_io_pgtable_cfg *cfg)
{
	bool s2 = wk->fmt == IH_ARM_64_LPAE_S2;
	unsigned int t0sz = s2 ? cfg->arm_lpae_s2_cfg.vtcr.t0sz : cfg->arm_lpae_s1_cfg.tcr.t0sz;
	unsigned int tg0 = s2 ? cfg->arm_lpae_s2_cfg.vtcr.tg0 : cfg->arm_lpae_s1_cfg.tcr.tg0;
	unsigned int ps = s2 ? cfg->arm_lpae_s2_cfg.vtcr.ps : cfg->arm_lpae_s1_cfg.tcr.ips;
	ih_pa_t root = s2 ? cfg->arm_lpae_s2_cfg.vttbr : cfg->arm_lpae_s1_cfg.ttbr;
	int shift = tg0_to_shift(tg0), oas = ps_to_bits(ps);
	unsigned int ias = 64 - t0sz, root_bits;

	if (shift < 0 || oas < 0 || t0sz < 16 || t0sz > 39) {
		fail(wk, -EINVAL, "bad TG0 %u, PS %u or T0SZ %u", tg0, ps, t0sz);
		return;
	}
	if ((unsigned int)oas != cfg->oas || ias != cfg->ias) {
		fail(wk, -EINVAL, "T0SZ %u / PS %u say ias %u oas %d, cfg says %u / %u", t0sz, ps,
		     ias, oas, cfg->ias, cfg->oas);
		return;
	}
	wk->pg_shift = (unsigned int)shift;
	wk->bpl = wk->pg_shift - 3;
	wk->oas = (unsigned int)oas;
	if (!s2) {
		/* Stage 1: the start level follows from T0SZ and the granule (D8.2). */
		unsigned int levels = (ias - wk->pg_shift + wk->bpl - 1) / wk->bpl;

		wk->start = 4 - levels;
	} else {
		unsigned int sl0 = cfg->arm_lpae_s2_cfg.vtcr.sl0;

		if (sl0 > 2) {
			fail(wk, -EINVAL, "VTCR.SL0 %u is reserved", sl0);
			return;
		}
		/* 4K: SL0 2/1/0 = level 0/1/2; 16K and 64K: level 1/2/3. */
		wk->start = (wk->pg_shift == 12 ? 2 : 3) - sl0;
	}
	if (ias <= lpae_shift(wk, wk->start)) {
		fail(wk, -EINVAL, "start level %u resolves no input bit for ias %u", wk->start,
		     ias);
		return;
	}
	root_bits = ias - lpae_shift(wk, wk->start);
	/* One table, or (stage 2) at most 16 concatenated ones. */
	if (root_bits > wk->bpl + (s2 ? 4 : 0)) {
		fail(wk, -EINVAL, "start level %u needs %u index bits (ias %u)", wk->start,
		     root_bits, ias);
		return;
	}
	if (root & ((8ULL << root_bits) - 1)) {
		fail(wk, -EINVAL, "start table pa 0x%llx not aligned to its 0x%llx bytes",
		     (unsigned long long)root, 8ULL << root_bits);
		return;
	}
	if (!s2 && cfg->arm_lpae_s1_cfg.mair != 0x04ff44) {
		fail(wk, -EINVAL, "MAIR 0x%llx is not NC/WB/Device at 0/1/2",
		     (unsigned long long)cfg->arm_lpae_s1_cfg.mair);
		return;
	}
	lpae_walk(wk, root, wk->start, 0, root_bits);
}

static ih_pa_t rk_addr(bool v2, u32 v)
{
	ih_pa_t pa = v & 0xfffff000u;

	if (v2)
		pa |= ((ih_pa_t)((v >> 8) & 0xf) << 32) | ((ih_pa_t)((v >> 4) & 0xf) << 36);
	return pa;
}

static void rk_check(struct walk *wk, const struct ih_io_pgtable_cfg *cfg)
{
	bool v2 = wk->fmt == IH_RK_IOMMU_V2;
	u32 dte_rsv = v2 ? 0xe : 0xffe, pte_rsv = v2 ? 0x8 : 0xff8;
	ih_pa_t dt = cfg->rk_cfg.dte_addr;
	const u32 *d;

	if (rk_addr(v2, cfg->rk_cfg.dte_addr_reg) != dt || (cfg->rk_cfg.dte_addr_reg & 0x1)) {
		fail(wk, -EINVAL, "DTE_ADDR value 0x%x does not encode DT pa 0x%llx",
		     cfg->rk_cfg.dte_addr_reg, (unsigned long long)dt);
		return;
	}
	d = ih_pm_va(wk->w, dt, 4096);
	if (!d) {
		fail(wk, -EFAULT, "DT at pa 0x%llx outside simulated memory",
		     (unsigned long long)dt);
		return;
	}
	for (u32 i = 0; i < 1024 && !wk->err; i++) {
		u32 dte = __atomic_load_n(&d[i], __ATOMIC_ACQUIRE);
		const u32 *pt;
		size_t live = 0;

		if (!(dte & 1)) {
			if (dte)
				fail(wk, -EINVAL, "DTE %u: invalid entry 0x%x not zero", i, dte);
			continue;
		}
		if (dte & dte_rsv) {
			fail(wk, -EINVAL, "DTE %u: reserved bits in 0x%x", i, dte);
			continue;
		}
		pt = ih_pm_va(wk->w, rk_addr(v2, dte), 4096);
		if (!pt) {
			fail(wk, -EFAULT, "DTE %u: PT pa 0x%llx outside simulated memory", i,
			     (unsigned long long)rk_addr(v2, dte));
			continue;
		}
		for (u32 j = 0; j < 1024 && !wk->err; j++) {
			u32 pte = __atomic_load_n(&pt[j], __ATOMIC_ACQUIRE);
			u64 iova = ((u64)i << 22) | ((u64)j << 12);
			int prot = 0;

			if (!(pte & 1)) {
				if (pte)
					fail(wk, -EINVAL, "iova 0x%llx: invalid PTE 0x%x not zero",
					     (unsigned long long)iova, pte);
				continue;
			}
			live++;
			if (pte & pte_rsv) {
				fail(wk, -EINVAL, "iova 0x%llx: reserved bits in PTE 0x%x",
				     (unsigned long long)iova, pte);
				continue;
			}
			if (pte & 0x2)
				prot |= IH_PROT_READ;
			if (pte & 0x4)
				prot |= IH_PROT_WRITE;
			if (!prot) {
				fail(wk, -EINVAL, "iova 0x%llx: PTE 0x%x grants nothing",
				     (unsigned long long)iova, pte);
				continue;
			}
			leaf(wk, iova, SZ_4K, rk_addr(v2, pte), prot);
		}
		if (!wk->err && live == 0)
			fail(wk, -EINVAL, "DTE %u: empty PT was not freed", i);
	}
}

int ih_pgtable_check(struct ih_io_pgtable_ops *ops, const struct ih_pgtable_shadow *sh, char *msg,
		     size_t len)
{
	struct ih_io_pgtable *iop = iop_of(ops);
	struct walk wk = {
	    .w = iop->w,
	    .sh = sh,
	    .fmt = iop->fmt,
	    .msg = msg,
	    .len = len,
	};

	if (msg && len)
		msg[0] = '\0';
	if (sh->fmt != iop->fmt)
		return fail(&wk, -EINVAL, "shadow format %d, table format %d", (int)sh->fmt,
			    (int)iop->fmt);
	pthread_mutex_lock(&iop->lock);
	if (is_rk(iop->fmt))
		rk_check(&wk, &iop->cfg);
	else
		lpae_check(&wk, &iop->cfg);
	pthread_mutex_unlock(&iop->lock);
	if (!wk.err && wk.k < sh->n)
		fail(&wk, -EINVAL,
		     "iova 0x%llx: shadow has pa 0x%llx size 0x%llx prot 0x%x, "
		     "table has nothing",
		     (unsigned long long)sh->v[wk.k].iova, (unsigned long long)sh->v[wk.k].pa,
		     (unsigned long long)sh->v[wk.k].size, sh->v[wk.k].prot);
	return wk.err;
}
