// SPDX-License-Identifier: MIT
/*
 * Fuzz target: io-pgtable map/unmap/iova_to_phys sequences against the reference shadow.
 *
 * Targets: ih_io_pgtable_alloc/free, map_pages, unmap_pages, iova_to_phys of the LPAE
 * (stage 1, stage 2) and Rockchip (v1, v2) formats, ih_io_pgtable_set_quirks, and the
 * checker ih_pgtable_check() itself. After every operation the result must equal the
 * shadow's prediction and the table must walk equal to the shadow; any difference aborts
 * (IH_BUG_ON): it is a real finding.
 *
 * Input format (every multi-byte value little-endian; missing bytes read as 0):
 *   byte 0  format: % 4 = LPAE S1, LPAE S2, RK v1, RK v2
 *   byte 1  LPAE granule: % 3 = 4K, 16K, 64K
 *   byte 2  ias: LPAE 25 + b % 24; RK: 0 or >= 0x80 = default (32), else 22 + b % 11
 *   byte 3  oas: LPAE {32,36,40,42,44,48}[b % 6]; RK: < 0x80 = default (32 or 40),
 *           else 22 + (b - 0x80) % (default - 21)
 *   byte 4  flags: bit 0 NON_STRICT quirk, bit 1 coherent walk, bit 2 simulated memory at
 *           PA 0x5a_0000_0000 instead of 0x8000_0000, bit 3 drop the largest page size,
 *           bit 4 drop the middle one
 *   byte 5  failing allocation site: % 4 = none, tables, start table/DT, table object
 *   byte 6  which call of that site fails: 1 + b
 *   then up to 256 operations, each:
 *     u8 op: bits 1:0 kind (0 map, 1 unmap, 2 iova_to_phys, 3 toggle NON_STRICT live),
 *            bit 2 leave iova/pa unaligned, bit 3 map: high PA half / unmap: gather.queued,
 *            bit 4 map: allow unknown prot bits
 *     u8 size: picks the (b % n)-th page size of the table's pgsize_bitmap
 *     u8 region: bits 1:0 = iova base: 0, middle of the input range, last 64K units below
 *            the top, or (u32 << 16) anywhere (mostly out of range)
 *     u16 iova in units of the smallest page size, added to the base
 *     [region 3: u32 high part]
 *     u8 count: 1 + b % 16 pages (Rockchip capped at 8M per call)
 *     map only: u16 pa in smallest-page units, u8 prot
 *     iova_to_phys only: u16 byte offset added to iova
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/io_pgtable.h>
#include <ih/physmem.h>
#include <ih/world.h>
#include "fuzz_common.h"

struct fz_tlb {
	unsigned long add_page, walk, all;
};

static void fz_flush_all(void *cookie)
{
	((struct fz_tlb *)cookie)->all++;
}

static void fz_flush_walk(u64 iova, size_t size, size_t granule, void *cookie)
{
	/* A walk flush always covers whole, naturally aligned table spans. */
	IH_BUG_ON(!IH_IS_POW2(size) || !IH_IS_ALIGNED(iova, (u64)size) || granule > size,
		  "flush_walk(0x%llx, 0x%zx, 0x%zx) is not a table span", (unsigned long long)iova,
		  size, granule);
	((struct fz_tlb *)cookie)->walk++;
}

static void fz_add_page(struct ih_iommu_iotlb_gather *gather, u64 iova, size_t granule,
			void *cookie)
{
	ih_iommu_iotlb_gather_add_range(gather, iova, granule);
	((struct fz_tlb *)cookie)->add_page++;
}

static const struct ih_iommu_flush_ops fz_tlb_ops = {
    .tlb_flush_all = fz_flush_all,
    .tlb_flush_walk = fz_flush_walk,
    .tlb_add_page = fz_add_page,
};

static const char *const lpae_sites[] = {NULL, "io_pgtable:lpae-table", "io_pgtable:lpae-pgd",
					 "io_pgtable:lpae"};
static const char *const rk_sites[] = {NULL, "io_pgtable:rk-pt", "io_pgtable:rk-dt",
				       "io_pgtable:rk"};

static size_t nth_size(unsigned long bitmap, unsigned int k)
{
	unsigned int n = (unsigned int)__builtin_popcountl(bitmap);

	k %= n;
	for (unsigned int b = 0; b < 64; b++) {
		if (!(bitmap & (1UL << b)))
			continue;
		if (k-- == 0)
			return (size_t)1 << b;
	}
	return 0;
}

/* Drop block sizes the input asked to drop, keeping the granule. */
static unsigned long trim_sizes(unsigned long bitmap, u8 flags)
{
	unsigned long granule = bitmap & -bitmap;
	unsigned int n = (unsigned int)__builtin_popcountl(bitmap);

	if ((flags & 0x08) && n > 1)
		bitmap &= ~(1UL << (63 - __builtin_clzl(bitmap)));
	if ((flags & 0x10) && n > 2)
		bitmap &= ~(size_t)nth_size(bitmap, 1);
	return bitmap | granule;
}

static void check(struct ih_io_pgtable_ops *ops, struct ih_pgtable_shadow *sh, unsigned int op)
{
	char msg[256];
	int ret = ih_pgtable_check(ops, sh, msg, sizeof(msg));

	IH_BUG_ON(ret, "op %u: table and shadow differ: %s", op, msg);
}

static void run_ops(struct ih_world *w, struct fz_in *in, struct ih_io_pgtable_ops *ops,
		    struct ih_pgtable_shadow *sh, struct fz_tlb *tlb, bool rk)
{
	const struct ih_io_pgtable_cfg *cfg = ih_io_pgtable_cfg_of(ops);
	size_t minpg = cfg->pgsize_bitmap & -cfg->pgsize_bitmap;
	u64 ias_top = 1ULL << cfg->ias;
	unsigned long quirks = cfg->quirks;
	u64 span = 0x10000 * (u64)minpg;
	u64 top_base = span < ias_top ? ias_top - span : 0;

	for (unsigned int i = 0; i < 256 && !fz_empty(in); i++) {
		u8 op = fz_u8(in), kind = op & 3;
		size_t pgsize = nth_size(cfg->pgsize_bitmap, fz_u8(in));
		u8 region = fz_u8(in) & 3;
		u64 units = fz_u16(in), iova;
		size_t count;

		switch (region) {
		case 0:
			iova = 0;
			break;
		case 1:
			iova = ias_top / 2;
			break;
		case 2:
			iova = top_base;
			break;
		default:
			iova = (u64)fz_u32(in) << 16;
			break;
		}
		iova += units * minpg;
		if (!(op & 0x04))
			iova = IH_ALIGN_DOWN(iova, (u64)pgsize);
		count = 1 + fz_u8(in) % 16;
		if (rk && count * pgsize > 8 * SZ_1M)
			count = ih_max((size_t)1, 8 * SZ_1M / pgsize);

		if (kind == 0) {
			ih_pa_t pa = (u64)fz_u16(in) * minpg;
			int prot = fz_u8(in), ret, sret;
			size_t mapped, smapped;

			if (op & 0x08)
				pa += 1ULL << (cfg->oas - 1);
			if (!(op & 0x04))
				pa = IH_ALIGN_DOWN(pa, (u64)pgsize);
			if (!(op & 0x10))
				prot &= IH_PROT_ALL;
			ret = ops->map_pages(ops, iova, pa, pgsize, count, prot, &mapped);
			IH_BUG_ON(mapped % pgsize || mapped > count * pgsize, "op %u: mapped 0x%zx",
				  i, mapped);
			if (ret == -ENOMEM) {
				/* Injected (or the arena ran out): what was mapped stays mapped. */
				sret = mapped
					   ? ih_pgtable_shadow_map(sh, iova, pa, pgsize,
								   mapped / pgsize, prot, &smapped)
					   : 0;
				IH_BUG_ON(sret,
					  "op %u: partial map of 0x%zx does not fit the shadow "
					  "(%d)",
					  i, mapped, sret);
			} else {
				sret = ih_pgtable_shadow_map(sh, iova, pa, pgsize, count, prot,
							     &smapped);
				IH_BUG_ON(
				    ret != sret || mapped != smapped,
				    "op %u: map(0x%llx, 0x%llx, 0x%zx x %zu, 0x%x) = %d/0x%zx, "
				    "shadow %d/0x%zx",
				    i, (unsigned long long)iova, (unsigned long long)pa, pgsize,
				    count, prot, ret, mapped, sret, smapped);
			}
		} else if (kind == 1) {
			struct ih_iommu_iotlb_gather g;
			unsigned long adds = tlb->add_page;
			size_t got, want;
			bool lazy;

			ih_iommu_iotlb_gather_init(&g);
			g.queued = op & 0x08;
			lazy = g.queued || (quirks & IH_IO_PGTABLE_QUIRK_NON_STRICT);
			got = ops->unmap_pages(ops, iova, pgsize, count, &g);
			want = ih_pgtable_shadow_unmap(sh, iova, pgsize, count);
			IH_BUG_ON(got != want,
				  "op %u: unmap(0x%llx, 0x%zx x %zu) = 0x%zx, shadow 0x%zx", i,
				  (unsigned long long)iova, pgsize, count, got, want);
			IH_BUG_ON(lazy && tlb->add_page != adds, "op %u: lazy unmap added pages",
				  i);
			/* Whatever was gathered lies inside what was unmapped. */
			IH_BUG_ON(g.start <= g.end && (g.start < iova || g.end >= iova + got),
				  "op %u: gather [0x%llx, 0x%llx] outside [0x%llx, +0x%zx)", i,
				  (unsigned long long)g.start, (unsigned long long)g.end,
				  (unsigned long long)iova, got);
		} else if (kind == 2) {
			u64 x = iova + fz_u16(in);
			ih_pa_t got = ops->iova_to_phys(ops, x);
			ih_pa_t want = ih_pgtable_shadow_iova_to_phys(sh, x);

			IH_BUG_ON(got != want,
				  "op %u: iova_to_phys(0x%llx) = 0x%llx, shadow 0x%llx", i,
				  (unsigned long long)x, (unsigned long long)got,
				  (unsigned long long)want);
		} else {
			quirks ^= IH_IO_PGTABLE_QUIRK_NON_STRICT;
			IH_BUG_ON(ih_io_pgtable_set_quirks(ops, quirks), "set_quirks refused");
		}
		check(ops, sh, i);
	}
	(void)w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int oas_bits[] = {32, 36, 40, 42, 44, 48};
	static const unsigned long granules[] = {
	    SZ_4K | SZ_2M | SZ_1G,
	    SZ_16K | SZ_32M,
	    SZ_64K | SZ_512M,
	};
	struct fz_in in = fz_init(data, size);
	enum ih_io_pgtable_fmt fmt = (enum ih_io_pgtable_fmt)(fz_u8(&in) % 4);
	u8 gsel = fz_u8(&in) % 3, b_ias = fz_u8(&in), b_oas = fz_u8(&in), flags = fz_u8(&in);
	u8 site = fz_u8(&in) % 4;
	unsigned long nth = 1UL + fz_u8(&in);
	bool rk = fmt == IH_RK_IOMMU_V1 || fmt == IH_RK_IOMMU_V2;
	struct ih_world_config wc;
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops;
	struct ih_pgtable_shadow *sh;
	struct fz_tlb tlb = {0};
	struct ih_world *w;
	size_t leaked;

	ih_world_config_init(&wc);
	wc.physmem_size = 64 * SZ_1M;
	wc.physmem_base = (flags & 0x04) ? 0x5a00000000ULL : 0x80000000ULL;
	wc.log = "none";
	IH_BUG_ON(ih_world_create(&wc, &w), "world");

	memset(&cfg, 0, sizeof(cfg));
	cfg.quirks = (flags & 1) ? IH_IO_PGTABLE_QUIRK_NON_STRICT : 0;
	cfg.coherent_walk = flags & 2;
	cfg.tlb = &fz_tlb_ops;
	if (rk) {
		unsigned int max_oas = fmt == IH_RK_IOMMU_V2 ? 40 : 32;

		cfg.pgsize_bitmap = 0x7ff000;
		cfg.ias = (b_ias == 0 || b_ias >= 0x80) ? 0 : 22 + b_ias % 11;
		cfg.oas = b_oas < 0x80 ? 0 : 22 + (b_oas - 0x80) % (max_oas - 21);
	} else {
		cfg.pgsize_bitmap = trim_sizes(granules[gsel], flags);
		cfg.ias = 25 + b_ias % 24;
		cfg.oas = oas_bits[b_oas % 6];
	}
	if (site)
		IH_BUG_ON(ih_fault_fail_site(w, (rk ? rk_sites : lpae_sites)[site], nth), "arm");

	ops = ih_io_pgtable_alloc(w, fmt, &cfg, &tlb);
	if (ops) {
		IH_BUG_ON(ih_pgtable_shadow_create(w, fmt, &cfg, &sh), "shadow");
		check(ops, sh, 0);
		run_ops(w, &in, ops, sh, &tlb, rk);
		ih_io_pgtable_free(ops);
		IH_BUG_ON(tlb.all != 1, "free flushed all %lu times", tlb.all);
		ih_pgtable_shadow_destroy(sh);
	} else {
		/*
		 * Only an injected failure, or simulated memory the format cannot point at
		 * (tables must sit below 2^oas for LPAE, below 4G for Rockchip v1), may refuse
		 * a valid configuration.
		 */
		unsigned int reach = rk ? (fmt == IH_RK_IOMMU_V1 ? 32 : 40) : cfg.oas;
		bool out_of_reach = wc.physmem_base + wc.physmem_size > (1ULL << reach);

		IH_BUG_ON(!ih_fault_injected(w) && !out_of_reach,
			  "alloc refused fmt %d ias %u oas %u sizes 0x%lx", (int)fmt, cfg.ias,
			  cfg.oas, cfg.pgsize_bitmap);
	}
	IH_BUG_ON(ih_pm_pages_used(w) != 0, "table pages leaked");
	leaked = ih_world_destroy(w);
	IH_BUG_ON(leaked, "%zu model blocks leaked", leaked);
	return 0;
}
