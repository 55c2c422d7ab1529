// SPDX-License-Identifier: MIT
/* Rockchip io-pgtable: v1 and v2 descriptor encodings, errors, flush counts, fault sweep. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/io_pgtable.h>
#include <ih/physmem.h>
#include <ih/world.h>
#include "lib/fault_sweep.h"
#include "lib/flush_recorder.h"

static struct ih_world *w;
static struct flush_recorder rec;

static void setup_at(ih_pa_t base)
{
	struct ih_world_config wc;

	ih_world_config_init(&wc);
	wc.physmem_base = base;
	wc.physmem_size = 64 * SZ_1M;
	cr_assert_eq(ih_world_create(&wc, &w), 0);
	flush_recorder_reset(&rec);
}

static void setup(void)
{
	setup_at(0x80000000);
}

/* Simulated memory at PA 0x5a_0000_0000: PA[39:36] = 0x5, PA[35:32] = 0xa. */
static void setup_high(void)
{
	/* Criterion runs the suite's init first: replace its world. */
	cr_assert_eq(ih_world_destroy(w), 0);
	setup_at(0x5a00000000ULL);
}

static void teardown(void)
{
	cr_expect_eq(ih_pm_pages_used(w), 0, "table pages left in simulated memory");
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(io_pgtable_rk, .init = setup, .fini = teardown);

static struct ih_io_pgtable_ops *mk(enum ih_io_pgtable_fmt fmt, struct ih_io_pgtable_cfg *cfg)
{
	struct ih_io_pgtable_ops *ops;

	memset(cfg, 0, sizeof(*cfg));
	cfg->pgsize_bitmap = ~0UL;
	cfg->tlb = &flush_recorder_ops;
	ops = ih_io_pgtable_alloc(w, fmt, cfg, &rec);
	cr_assert_not_null(ops);
	return ops;
}

static u32 ent(ih_pa_t table, size_t idx)
{
	u32 v;

	cr_assert_eq(ih_pm_load32(w, table + idx * 4, &v), 0);
	return v;
}

static int map(struct ih_io_pgtable_ops *ops, u64 iova, ih_pa_t pa, size_t size, size_t n, int prot)
{
	size_t mapped;

	return ops->map_pages(ops, iova, pa, size, n, prot, &mapped);
}

static size_t unmap(struct ih_io_pgtable_ops *ops, u64 iova, size_t size, size_t n)
{
	struct ih_iommu_iotlb_gather g;

	ih_iommu_iotlb_gather_init(&g);
	return ops->unmap_pages(ops, iova, size, n, &g);
}

Test(io_pgtable_rk, v1_dte_and_pte_encoding)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_RK_IOMMU_V1, &cfg);
	u64 iova = (0x12ULL << 22) | (0x34ULL << 12);
	ih_pa_t pt;
	u32 dte;

	cr_expect_eq(cfg.ias, 32);
	cr_expect_eq(cfg.oas, 32);
	cr_expect_eq(cfg.pgsize_bitmap, 0x007ff000UL);
	cr_expect_eq(cfg.rk_cfg.dte_addr_reg, (u32)cfg.rk_cfg.dte_addr);

	cr_assert_eq(map(ops, iova, 0x87654000, SZ_4K, 1, IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_assert_eq(map(ops, iova + SZ_4K, 0x87655000, SZ_4K, 1, IH_PROT_READ), 0);
	cr_assert_eq(map(ops, iova + 2 * SZ_4K, 0x87656000, SZ_4K, 1,
			 IH_PROT_WRITE | IH_PROT_CACHE | IH_PROT_NOEXEC | IH_PROT_PRIV),
		     0);
	/* DTE 0x12: PT address | valid, nothing else. */
	dte = ent(cfg.rk_cfg.dte_addr, 0x12);
	cr_expect_eq(dte & 0xfff, 0x1);
	pt = dte & 0xfffff000;
	/* PTE: page | W (bit 2) | R (bit 1) | valid; other flags are ignored. */
	cr_expect_eq(ent(pt, 0x34), 0x87654007);
	cr_expect_eq(ent(pt, 0x35), 0x87655003);
	cr_expect_eq(ent(pt, 0x36), 0x87656005);
	cr_expect_eq(ent(pt, 0x33), 0);
	cr_expect_eq(ops->iova_to_phys(ops, iova + 0xabc), 0x87654abc);
	cr_expect_eq(ops->iova_to_phys(ops, iova + 3 * SZ_4K), IH_PA_INVALID);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_rk, v1_refuses_addresses_above_4g)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_RK_IOMMU_V1, &cfg);

	cr_expect_eq(map(ops, 0, 0x100000000ULL, SZ_4K, 1, IH_PROT_READ), -ERANGE);
	cr_expect_eq(map(ops, 0, 0xfffff000ULL, SZ_4K, 2, IH_PROT_READ), -ERANGE);
	cr_expect_eq(map(ops, 1ULL << 32, 0, SZ_4K, 1, IH_PROT_READ), -ERANGE);
	cr_expect_eq(map(ops, 0xfffff000ULL, 0xfffff000ULL, SZ_4K, 1, IH_PROT_READ), 0);
	cr_expect_eq(ops->iova_to_phys(ops, 0xffffffffULL), 0xffffffffULL);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_rk, v2_packs_pa_39_32_into_bits_11_4, .init = setup_high)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_RK_IOMMU_V2, &cfg);
	u64 iova = (0x12ULL << 22) | (0x34ULL << 12);
	ih_pa_t pt;
	u32 dte;

	cr_expect_eq(cfg.oas, 40);
	/* The DT itself lives above 4G: DTE_ADDR carries PA[35:32] in 11:8, [39:36] in 7:4. */
	cr_expect_eq(cfg.rk_cfg.dte_addr >> 32, 0x5a);
	cr_expect_eq(cfg.rk_cfg.dte_addr_reg,
		     ((u32)cfg.rk_cfg.dte_addr & 0xfffff000) | 0xa00 | 0x50);

	cr_assert_eq(map(ops, iova, 0x5a12345000ULL, SZ_4K, 1, IH_PROT_READ | IH_PROT_WRITE), 0);
	dte = ent(cfg.rk_cfg.dte_addr, 0x12);
	cr_expect_eq(dte & 0xfff, 0xa51, "PT above 4G: nibbles a and 5, valid");
	pt = (dte & 0xfffff000) | (0xaULL << 32) | (0x5ULL << 36);
	/* 0x12345000 | PA[35:32]=0xa at 11:8 | PA[39:36]=0x5 at 7:4 | W | R | V */
	cr_expect_eq(ent(pt, 0x34), 0x12345a57);
	cr_expect_eq(ops->iova_to_phys(ops, iova + 0x10), 0x5a12345010ULL);

	/* Top of the 40-bit range, read-only: every address bit set, then R | V. */
	cr_assert_eq(map(ops, iova + SZ_4K, 0xfffffff000ULL, SZ_4K, 1, IH_PROT_READ), 0);
	cr_expect_eq(ent(pt, 0x35), 0xfffffff3);
	cr_assert_eq(map(ops, iova + 2 * SZ_4K, 0x1000, SZ_4K, 1, IH_PROT_WRITE), 0);
	cr_expect_eq(ent(pt, 0x36), 0x00001005);
	cr_expect_eq(map(ops, 0, 1ULL << 40, SZ_4K, 1, IH_PROT_READ), -ERANGE);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_rk, v1_cannot_point_at_a_table_above_4g, .init = setup_high)
{
	struct ih_io_pgtable_cfg cfg = {.pgsize_bitmap = SZ_4K};

	cr_expect_null(ih_io_pgtable_alloc(w, IH_RK_IOMMU_V1, &cfg, NULL));
}

Test(io_pgtable_rk, bad_configurations_are_refused)
{
	struct ih_io_pgtable_cfg cfg = {.pgsize_bitmap = SZ_4K, .ias = 33};

	cr_expect_null(ih_io_pgtable_alloc(w, IH_RK_IOMMU_V2, &cfg, NULL));
	cfg = (struct ih_io_pgtable_cfg){.pgsize_bitmap = SZ_4K, .oas = 41};
	cr_expect_null(ih_io_pgtable_alloc(w, IH_RK_IOMMU_V2, &cfg, NULL));
	cfg = (struct ih_io_pgtable_cfg){.pgsize_bitmap = SZ_4K, .oas = 33};
	cr_expect_null(ih_io_pgtable_alloc(w, IH_RK_IOMMU_V1, &cfg, NULL));
	cfg = (struct ih_io_pgtable_cfg){.pgsize_bitmap = SZ_64K | SZ_2M};
	cr_expect_null(ih_io_pgtable_alloc(w, IH_RK_IOMMU_V1, &cfg, NULL));
}

Test(io_pgtable_rk, overlapping_chunk_is_eexist_and_writes_nothing)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_RK_IOMMU_V1, &cfg);
	size_t mapped = 7;

	cr_assert_eq(map(ops, 0x12000, 0x12000, SZ_4K, 1, IH_PROT_READ), 0);
	cr_expect_eq(ops->map_pages(ops, 0x10000, 0x40000, SZ_16K, 1, IH_PROT_READ, &mapped),
		     -EEXIST);
	cr_expect_eq(mapped, 0);
	cr_expect_eq(ops->iova_to_phys(ops, 0x10000), IH_PA_INVALID, "no PTE of the chunk");
	cr_expect_eq(ops->iova_to_phys(ops, 0x12000), 0x12000);
	/* Three 8K chunks from 0xe000: two map, the third (0x12000) collides. */
	cr_expect_eq(ops->map_pages(ops, 0xe000, 0x40000, 0x2000, 3, IH_PROT_READ, &mapped),
		     -EEXIST);
	cr_expect_eq(mapped, 0x4000);
	cr_expect_eq(ops->iova_to_phys(ops, 0x11000), 0x43000);
	cr_expect_eq(ops->iova_to_phys(ops, 0x13000), IH_PA_INVALID);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_rk, bad_arguments_are_einval)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_RK_IOMMU_V2, &cfg);

	cr_expect_eq(map(ops, 0x800, 0, SZ_4K, 1, IH_PROT_READ), -EINVAL);
	cr_expect_eq(map(ops, 0x10000, 0x1000, SZ_64K, 1, IH_PROT_READ), -EINVAL);
	cr_expect_eq(map(ops, 0, 0, 0x800000, 1, IH_PROT_READ), -EINVAL);
	cr_expect_eq(map(ops, 0, 0, SZ_4K, 1, IH_PROT_CACHE), -EINVAL);
	cr_expect_eq(map(ops, 0, 0, SZ_4K, 0, IH_PROT_READ), -EINVAL);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), SZ_4K);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_rk, unmap_invalidates_each_page_and_keeps_empty_pts)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_RK_IOMMU_V1, &cfg);
	u32 dte0, dte1;

	/* 0x3ff000 is the last page of PT 0, 0x400000 the first of PT 1. */
	cr_assert_eq(map(ops, 0x3ff000, 0x10000000, SZ_4K, 2, IH_PROT_READ), 0);
	cr_expect_eq(rec.ncalls, 0, "mapping flushes nothing");
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 3 * SZ_4K);
	dte0 = ent(cfg.rk_cfg.dte_addr, 0);
	dte1 = ent(cfg.rk_cfg.dte_addr, 1);
	cr_assert_eq(unmap(ops, 0x3ff000, SZ_4K, 2), 2 * SZ_4K);
	/*
	 * One 4K line per page (the hardware zaps lines) and nothing else: both PTs, now
	 * empty, stay installed (as the kernel's driver keeps them until the domain is
	 * freed), so no walk flush. Exactly 2 calls in this order.
	 */
	cr_assert_eq(rec.ncalls, 2);
	cr_expect_eq(rec.calls[0].kind, FLUSH_ADD_PAGE);
	cr_expect_eq(rec.calls[0].iova, 0x3ff000);
	cr_expect_eq(rec.calls[1].kind, FLUSH_ADD_PAGE);
	cr_expect_eq(rec.calls[1].iova, 0x400000);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 3 * SZ_4K);
	cr_expect_eq(ent(cfg.rk_cfg.dte_addr, 0), dte0, "DTE 0 unchanged");
	cr_expect_eq(ent(cfg.rk_cfg.dte_addr, 1), dte1, "DTE 1 unchanged");
	cr_expect_eq(ent(dte0 & 0xfffff000, 1023), 0, "PTE cleared");
	cr_expect_eq(ent(dte1 & 0xfffff000, 0), 0, "PTE cleared");
	/* Mapping there again reuses the kept PTs: no new table page. */
	cr_assert_eq(map(ops, 0x3ff000, 0x20000000, SZ_4K, 2, IH_PROT_READ), 0);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 3 * SZ_4K);
	cr_expect_eq(ops->iova_to_phys(ops, 0x400123), 0x20001123);
	ih_io_pgtable_free(ops);
	cr_expect_eq(rec.all, 1);
}

Test(io_pgtable_rk, four_megabyte_chunk_is_1024_ptes)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_RK_IOMMU_V1, &cfg);

	cr_assert_eq(map(ops, 0x800000, 0x20000000, 0x400000, 1, IH_PROT_READ), 0);
	cr_expect_eq(ops->iova_to_phys(ops, 0xbfffff), 0x203fffff);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 2 * SZ_4K);
	cr_expect_eq(unmap(ops, 0x800000, 0x400000, 1), 0x400000);
	cr_expect_eq(rec.add_page, 1024);
	cr_expect_eq(rec.walk, 0, "the emptied PT stays");
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 2 * SZ_4K);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_rk, unmap_stops_at_first_hole)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_RK_IOMMU_V2, &cfg);

	cr_assert_eq(map(ops, 0, 0, SZ_4K, 1, IH_PROT_READ), 0);
	cr_assert_eq(map(ops, 0x2000, 0, SZ_4K, 1, IH_PROT_READ), 0);
	cr_expect_eq(unmap(ops, 0, SZ_4K, 4), SZ_4K);
	cr_expect_eq(rec.walk, 0, "PT 0 still holds 0x2000");
	cr_expect_eq(unmap(ops, 0, SZ_16K, 1), 0);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_rk, non_strict_gathers_without_zapping_lines)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops;
	struct ih_iommu_iotlb_gather g;

	memset(&cfg, 0, sizeof(cfg));
	cfg.pgsize_bitmap = SZ_4K;
	cfg.quirks = IH_IO_PGTABLE_QUIRK_NON_STRICT;
	cfg.tlb = &flush_recorder_ops;
	ops = ih_io_pgtable_alloc(w, IH_RK_IOMMU_V1, &cfg, &rec);
	cr_assert_not_null(ops);
	cr_assert_eq(map(ops, 0x5000, 0, SZ_4K, 3, IH_PROT_READ), 0);
	ih_iommu_iotlb_gather_init(&g);
	cr_expect_eq(ops->unmap_pages(ops, 0x5000, SZ_4K, 3, &g), 3 * SZ_4K);
	cr_expect_eq(rec.add_page, 0);
	cr_expect_eq(rec.walk, 0, "the emptied PT stays: no walk flush");
	cr_expect_eq(g.start, 0x5000);
	cr_expect_eq(g.end, 0x7fff);
	ih_io_pgtable_free(ops);
}

static void rk_scenario(struct ih_world *sw, void *arg)
{
	enum ih_io_pgtable_fmt fmt = *(const enum ih_io_pgtable_fmt *)arg;
	static const struct {
		bool unmap;
		u64 iova;
		size_t size, n;
	} steps[] = {
	    {false, 0x0, SZ_4K, 3},	   {false, 0x3ff000, SZ_4K, 2},
	    {false, 0x800000, SZ_64K, 2},  {false, 0xc00000, 0x400000, 1},
	    {true, 0x1000, SZ_4K, 1},	   {true, 0x3ff000, SZ_4K, 2},
	    {false, 0x1000, SZ_4K, 1},	   {true, 0x0, SZ_4K, 3},
	    {true, 0xc00000, 0x400000, 1}, {false, 0xfff000, SZ_4K, 2},
	};
	struct ih_io_pgtable_cfg cfg = {.pgsize_bitmap = 0x7ff000};
	struct ih_io_pgtable_ops *ops;
	struct ih_pgtable_shadow *sh = NULL;
	char msg[256];

	ops = ih_io_pgtable_alloc(sw, fmt, &cfg, NULL);
	if (!ops)
		return;
	cr_assert_eq(ih_pgtable_shadow_create(sw, fmt, &cfg, &sh), 0);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		if (steps[i].unmap) {
			struct ih_iommu_iotlb_gather g;

			ih_iommu_iotlb_gather_init(&g);
			cr_assert_eq(
			    ops->unmap_pages(ops, steps[i].iova, steps[i].size, steps[i].n, &g),
			    ih_pgtable_shadow_unmap(sh, steps[i].iova, steps[i].size, steps[i].n),
			    "step %zu", i);
		} else {
			size_t mapped, smapped;
			int ret = ops->map_pages(ops, steps[i].iova, steps[i].iova + 0x40000000,
						 steps[i].size, steps[i].n, IH_PROT_WRITE, &mapped);

			if (ret == -ENOMEM) {
				if (mapped)
					cr_assert_eq(ih_pgtable_shadow_map(
							 sh, steps[i].iova,
							 steps[i].iova + 0x40000000, steps[i].size,
							 mapped / steps[i].size, IH_PROT_WRITE,
							 &smapped),
						     0);
			} else {
				cr_assert_eq(ret,
					     ih_pgtable_shadow_map(sh, steps[i].iova,
								   steps[i].iova + 0x40000000,
								   steps[i].size, steps[i].n,
								   IH_PROT_WRITE, &smapped),
					     "step %zu", i);
				cr_assert_eq(mapped, smapped, "step %zu", i);
			}
		}
		cr_assert_eq(ih_pgtable_check(ops, sh, msg, sizeof(msg)), 0, "step %zu: %s", i,
			     msg);
	}
	ih_io_pgtable_free(ops);
	ih_pgtable_shadow_destroy(sh);
}

Test(io_pgtable_rk, fault_injection_sweep_v1)
{
	enum ih_io_pgtable_fmt fmt = IH_RK_IOMMU_V1;

	cr_expect_eq(fault_sweep(rk_scenario, &fmt, "io_pgtable:rk"), 3);
}

Test(io_pgtable_rk, fault_injection_sweep_v2)
{
	enum ih_io_pgtable_fmt fmt = IH_RK_IOMMU_V2;

	cr_expect_eq(fault_sweep(rk_scenario, &fmt, "io_pgtable:rk"), 3);
}
