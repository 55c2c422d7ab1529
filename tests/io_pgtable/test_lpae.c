// SPDX-License-Identifier: MIT
/* ARM LPAE io-pgtable: hand-computed descriptors per granule and stage, errors, flush counts. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/coop.h>
#include <ih/io_pgtable.h>
#include <ih/physmem.h>
#include <ih/world.h>
#include "lib/fault_sweep.h"
#include "lib/flush_recorder.h"

static struct ih_world *w;
static struct flush_recorder rec;

static void setup(void)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
	flush_recorder_reset(&rec);
}

static void teardown(void)
{
	cr_expect_eq(ih_pm_pages_used(w), 0, "table pages left in simulated memory");
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(io_pgtable_lpae, .init = setup, .fini = teardown);

static struct ih_io_pgtable_ops *mk(enum ih_io_pgtable_fmt fmt, unsigned long pgsizes,
				    unsigned int ias, unsigned int oas,
				    struct ih_io_pgtable_cfg *cfg)
{
	struct ih_io_pgtable_ops *ops;

	memset(cfg, 0, sizeof(*cfg));
	cfg->pgsize_bitmap = pgsizes;
	cfg->ias = ias;
	cfg->oas = oas;
	cfg->tlb = &flush_recorder_ops;
	ops = ih_io_pgtable_alloc(w, fmt, cfg, &rec);
	cr_assert_not_null(ops);
	return ops;
}

static u64 desc(ih_pa_t table, size_t idx)
{
	u64 v;

	cr_assert_eq(ih_pm_load64(w, table + idx * 8, &v), 0);
	return v;
}

/* A table descriptor carries the next table's address and bits[1:0] = 0b11, nothing else. */
static ih_pa_t next_table(u64 d, unsigned int pg_shift)
{
	cr_assert_eq(d & ~GENMASK_ULL(47, pg_shift), 3, "not a bare table descriptor: 0x%llx",
		     (unsigned long long)d);
	return d & GENMASK_ULL(47, pg_shift);
}

static int map(struct ih_io_pgtable_ops *ops, u64 iova, ih_pa_t pa, size_t size, size_t n, int prot,
	       size_t *mapped)
{
	size_t dummy;

	return ops->map_pages(ops, iova, pa, size, n, prot, mapped ? mapped : &dummy);
}

static size_t unmap(struct ih_io_pgtable_ops *ops, u64 iova, size_t size, size_t n)
{
	struct ih_iommu_iotlb_gather g;

	ih_iommu_iotlb_gather_init(&g);
	return ops->unmap_pages(ops, iova, size, n, &g);
}

Test(io_pgtable_lpae, s1_4k_48bit_page_descriptor_and_indices)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops =
	    mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G | SZ_16K | SZ_64K, 48, 48, &cfg);
	u64 iova = (3ULL << 39) | (5ULL << 30) | (7ULL << 21) | (9ULL << 12);
	ih_pa_t t;

	cr_assert_eq(iova, 0x18140e09000ULL);
	/* 4K granule chosen; 16K/64K dropped; 48 bits = 4 levels from level 0. */
	cr_expect_eq(cfg.pgsize_bitmap, 0x40201000UL);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.t0sz, 16);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.tg0, 0);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.ips, 5);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.irgn0, 0);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.sh0, 2);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.mair, 0x04ff44ULL);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.ttbr % SZ_4K, 0);

	cr_assert_eq(map(ops, iova, 0x123456000ULL, SZ_4K, 1,
			 IH_PROT_READ | IH_PROT_WRITE | IH_PROT_CACHE, NULL),
		     0);
	/* L0[3] -> L1[5] -> L2[7] -> L3[9]. */
	t = next_table(desc(cfg.arm_lpae_s1_cfg.ttbr, 3), 12);
	t = next_table(desc(t, 5), 12);
	t = next_table(desc(t, 7), 12);
	/* page 0b11 | AttrIndx 1 (0x4) | AP[1] unpriv (0x40) | SH inner (0x300) | AF (0x400) | nG */
	cr_expect_eq(desc(t, 9), 0x123456f47ULL);
	cr_expect_eq(desc(t, 8), 0);
	cr_expect_eq(ops->iova_to_phys(ops, iova + 0x123), 0x123456123ULL);
	cr_expect_eq(ops->iova_to_phys(ops, iova + SZ_4K), IH_PA_INVALID);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 4 * SZ_4K);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, s1_4k_39bit_block_descriptors)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 39, 40, &cfg);
	ih_pa_t root = cfg.arm_lpae_s1_cfg.ttbr, t;

	/* 39 bits: 3 levels from level 1; T0SZ 25; IPS 2 = 40 bits. */
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.t0sz, 25);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.ips, 2);
	cr_expect_eq(cfg.pgsize_bitmap, 0x40201000UL);

	cr_assert_eq(map(ops, 0x40200000, 0x80000000, SZ_2M, 1,
			 IH_PROT_READ | IH_PROT_PRIV | IH_PROT_NOEXEC, NULL),
		     0);
	t = next_table(desc(root, 1), 12);
	/* block 0b01 | AP[2] read-only (0x80) | SH outer (0x200) | AF | nG | UXN+PXN (54:53) */
	cr_expect_eq(desc(t, 1), 0x0060000080000e81ULL);

	/* WRITE alone still reads at stage 1; MMIO -> AttrIndx 2 (0x8). */
	cr_assert_eq(map(ops, 0x80000000, 0x40000000, SZ_1G, 1, IH_PROT_WRITE | IH_PROT_MMIO, NULL),
		     0);
	cr_expect_eq(desc(root, 2), 0x40000e49ULL);
	cr_expect_eq(ops->iova_to_phys(ops, 0x80000000 + 0x12345678), 0x52345678ULL);
	cr_expect_eq(ops->iova_to_phys(ops, 0x40200000 + 0x1fffff), 0x801fffffULL);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, s1_16k_page_and_32m_block)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops =
	    mk(IH_ARM_64_LPAE_S1, SZ_16K | SZ_32M | SZ_64K | SZ_512M, 47, 48, &cfg);
	u64 iova = (2ULL << 36) | (3ULL << 25) | (4ULL << 14);
	ih_pa_t root = cfg.arm_lpae_s1_cfg.ttbr, t;

	cr_assert_eq(iova, 0x2006010000ULL);
	/* 16K: 11 bits per level; 47 bits = levels 1..3 with a full 2048-entry start table. */
	cr_expect_eq(cfg.pgsize_bitmap, (unsigned long)(SZ_16K | SZ_32M));
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.tg0, 2);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.t0sz, 17);

	cr_assert_eq(map(ops, iova, 0x1234c000, SZ_16K, 1, IH_PROT_READ, NULL), 0);
	t = next_table(desc(root, 2), 14);
	t = next_table(desc(t, 3), 14);
	/* page | AP unpriv + read-only (0xc0) | SH outer | AF | nG (0x800) */
	cr_expect_eq(desc(t, 4), 0x1234cec3ULL);

	cr_assert_eq(map(ops, (2ULL << 36) | (5ULL << 25), 0x6000000, SZ_32M, 1,
			 IH_PROT_READ | IH_PROT_WRITE | IH_PROT_CACHE | IH_PROT_NOEXEC, NULL),
		     0);
	t = next_table(desc(root, 2), 14);
	cr_expect_eq(desc(t, 5), 0x0060000006000f45ULL);
	cr_expect_eq(ops->iova_to_phys(ops, iova + 0x3fff), 0x1234ffffULL);
	/* 4K is no page size of this table. */
	cr_expect_eq(map(ops, 0, 0, SZ_4K, 1, IH_PROT_READ, NULL), -EINVAL);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, s1_64k_page_and_512m_block)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_64K | SZ_512M, 48, 48, &cfg);
	u64 iova = (5ULL << 42) | (6ULL << 29) | (7ULL << 16);
	ih_pa_t root = cfg.arm_lpae_s1_cfg.ttbr, t;

	cr_assert_eq(iova, 0x1400c0070000ULL);
	/* 64K: 13 bits per level; 48 bits = levels 1..3, start table of 64 entries. */
	cr_expect_eq(cfg.pgsize_bitmap, (unsigned long)(SZ_64K | SZ_512M));
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.tg0, 1);
	cr_expect_eq(cfg.arm_lpae_s1_cfg.tcr.t0sz, 16);

	cr_assert_eq(map(ops, iova, 0xabc0000, SZ_64K, 1, IH_PROT_READ | IH_PROT_WRITE, NULL), 0);
	t = next_table(desc(root, 5), 16);
	cr_expect_eq(t % SZ_64K, 0);
	t = next_table(desc(t, 6), 16);
	cr_expect_eq(desc(t, 7), 0xabc0e43ULL);

	cr_assert_eq(map(ops, (5ULL << 42) | (1ULL << 29), 0x40000000, SZ_512M, 1,
			 IH_PROT_READ | IH_PROT_WRITE, NULL),
		     0);
	t = next_table(desc(root, 5), 16);
	cr_expect_eq(desc(t, 1), 0x40000e41ULL);
	/* Two 64K tables and a 4K-rounded start table. */
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), SZ_4K + 2 * SZ_64K);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, s2_4k_40bit_concatenated_start_and_memattr)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S2, SZ_4K | SZ_2M | SZ_1G, 40, 40, &cfg);
	u64 iova = (513ULL << 30) | (2ULL << 21) | (3ULL << 12);
	ih_pa_t root = cfg.arm_lpae_s2_cfg.vttbr, t;

	cr_assert_eq(iova, 0x8040403000ULL);
	/* Level 0 would hold 2 entries: fold into two concatenated level-1 tables (8K). */
	cr_expect_eq(cfg.arm_lpae_s2_cfg.vtcr.t0sz, 24);
	cr_expect_eq(cfg.arm_lpae_s2_cfg.vtcr.sl0, 1);
	cr_expect_eq(cfg.arm_lpae_s2_cfg.vtcr.tg0, 0);
	cr_expect_eq(cfg.arm_lpae_s2_cfg.vtcr.ps, 2);
	cr_expect_eq(root % 0x2000, 0);

	cr_assert_eq(map(ops, iova, 0xfffffff000ULL, SZ_4K, 1,
			 IH_PROT_READ | IH_PROT_WRITE | IH_PROT_MMIO | IH_PROT_NOEXEC, NULL),
		     0);
	t = next_table(desc(root, 513), 12);
	t = next_table(desc(t, 2), 12);
	/* page | MemAttr 0x1 Device-nGnRE (0x4) | S2AP RW (0xc0) | SH outer | AF | XN[1] */
	cr_expect_eq(desc(t, 3), 0x004000fffffff6c7ULL);

	/* Write-only exists at stage 2; CACHE -> MemAttr 0xf, inner shareable. */
	cr_assert_eq(map(ops, 0x1000, 0x5000, SZ_4K, 1, IH_PROT_WRITE | IH_PROT_CACHE, NULL), 0);
	t = next_table(desc(root, 0), 12);
	t = next_table(desc(t, 0), 12);
	cr_expect_eq(desc(t, 1), 0x57bfULL);
	/* PRIV means nothing at stage 2: the same bits. */
	cr_assert_eq(
	    map(ops, 0x2000, 0x5000, SZ_4K, 1, IH_PROT_WRITE | IH_PROT_CACHE | IH_PROT_PRIV, NULL),
	    0);
	cr_expect_eq(desc(t, 2), 0x57bfULL);
	ih_io_pgtable_free(ops);
}

struct s2_geom {
	unsigned long pgsizes;
	unsigned int ias;
	u8 sl0, t0sz;
	size_t start_bytes;
	unsigned long out_sizes;
};

Test(io_pgtable_lpae, s2_start_level_and_sl0_per_granule)
{
	/*
	 * Hand-derived: levels = ceil((ias - pg_shift) / (pg_shift - 3)), start = 4 - levels,
	 * folded to level 1 when level 0 would have <= 16 entries; SL0 as VTCR_EL2.
	 */
	static const struct s2_geom g[] = {
	    {SZ_4K | SZ_2M | SZ_1G, 48, 2, 16, 0x1000, 0x40201000},  /* L0, 512 entries */
	    {SZ_4K | SZ_2M | SZ_1G, 44, 2, 20, 0x1000, 0x40201000},  /* L0, 32 entries */
	    {SZ_4K | SZ_2M | SZ_1G, 43, 1, 21, 0x10000, 0x40201000}, /* 16 x L1 */
	    {SZ_4K | SZ_2M | SZ_1G, 32, 1, 32, 0x1000, 0x40201000},  /* L1, 4 entries */
	    {SZ_4K | SZ_2M | SZ_1G, 30, 0, 34, 0x1000, 0x201000},    /* L2: no 1G */
	    {SZ_16K | SZ_32M, 48, 2, 16, 0x8000, 0x2004000},	     /* 2 x L1 */
	    {SZ_16K | SZ_32M, 36, 1, 28, 0x4000, 0x2004000},	     /* L2, 2048 */
	    {SZ_64K | SZ_512M, 48, 2, 16, 0x1000, 0x20010000},	     /* L1, 64 */
	    {SZ_64K | SZ_512M, 42, 1, 22, 0x10000, 0x20010000},	     /* L2, 8192 */
	    {SZ_64K | SZ_512M, 29, 0, 35, 0x10000, 0x10000},	     /* L3, 8192: no 512M */
	};

	for (size_t i = 0; i < ARRAY_SIZE(g); i++) {
		struct ih_io_pgtable_cfg cfg;
		struct ih_io_pgtable_ops *ops =
		    mk(IH_ARM_64_LPAE_S2, g[i].pgsizes, g[i].ias, 48, &cfg);

		cr_expect_eq(cfg.arm_lpae_s2_cfg.vtcr.sl0, g[i].sl0, "case %zu", i);
		cr_expect_eq(cfg.arm_lpae_s2_cfg.vtcr.t0sz, g[i].t0sz, "case %zu", i);
		cr_expect_eq(cfg.pgsize_bitmap, g[i].out_sizes, "case %zu", i);
		cr_expect_eq(ih_io_pgtable_table_bytes(ops), g[i].start_bytes, "case %zu", i);
		cr_expect_eq(cfg.arm_lpae_s2_cfg.vttbr % g[i].start_bytes, 0, "case %zu", i);
		ih_io_pgtable_free(ops);
	}
}

Test(io_pgtable_lpae, bad_configurations_are_refused)
{
	struct ih_io_pgtable_cfg cfg = {.pgsize_bitmap = SZ_4K, .ias = 48, .oas = 48};

	cfg.ias = 49;
	cr_expect_null(ih_io_pgtable_alloc(w, IH_ARM_64_LPAE_S1, &cfg, NULL));
	cfg.ias = 24;
	cr_expect_null(ih_io_pgtable_alloc(w, IH_ARM_64_LPAE_S1, &cfg, NULL));
	cfg.ias = 48;
	cfg.oas = 39; /* not a PARange value */
	cr_expect_null(ih_io_pgtable_alloc(w, IH_ARM_64_LPAE_S2, &cfg, NULL));
	cfg.oas = 48;
	cfg.pgsize_bitmap = SZ_2M | 0x2000;
	cr_expect_null(ih_io_pgtable_alloc(w, IH_ARM_64_LPAE_S1, &cfg, NULL));
	cfg.pgsize_bitmap = SZ_4K;
	cfg.quirks = BIT(7);
	cr_expect_null(ih_io_pgtable_alloc(w, IH_ARM_64_LPAE_S1, &cfg, NULL));
	cfg.quirks = 0;
	cr_expect_null(ih_io_pgtable_alloc(w, IH_IO_PGTABLE_NUM_FMTS, &cfg, NULL));
	cr_expect_eq(ih_alloc_live_count(w), 0);
}

Test(io_pgtable_lpae, overlapping_map_is_eexist)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 40, &cfg);
	size_t mapped = 99;

	cr_assert_eq(map(ops, 0x1000, 0x1000, SZ_4K, 1, IH_PROT_READ, NULL), 0);
	cr_expect_eq(map(ops, 0x1000, 0x9000, SZ_4K, 1, IH_PROT_READ, &mapped), -EEXIST);
	cr_expect_eq(mapped, 0);
	/* A 2M block where a table holds a 4K page. */
	cr_expect_eq(map(ops, 0, 0, SZ_2M, 1, IH_PROT_READ, NULL), -EEXIST);
	/* A 4K page under a 2M block. */
	cr_assert_eq(map(ops, SZ_2M, SZ_2M, SZ_2M, 1, IH_PROT_READ, NULL), 0);
	cr_expect_eq(map(ops, SZ_2M + 0x5000, 0, SZ_4K, 1, IH_PROT_READ, NULL), -EEXIST);
	/* Four pages from 0: page 0 maps, page 1 (0x1000) collides. */
	cr_expect_eq(map(ops, 0, 0x100000, SZ_4K, 4, IH_PROT_READ, &mapped), -EEXIST);
	cr_expect_eq(mapped, SZ_4K, "page 0 stays mapped, page 1 collides");
	cr_expect_eq(ops->iova_to_phys(ops, 0), 0x100000);
	cr_expect_eq(ops->iova_to_phys(ops, 0x1000), 0x1000, "the old mapping is untouched");
	cr_expect_eq(ops->iova_to_phys(ops, 0x2000), IH_PA_INVALID);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, bad_arguments_are_einval_or_erange)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 40, &cfg);
	const int rw = IH_PROT_READ | IH_PROT_WRITE;

	cr_expect_eq(map(ops, 0x1800, 0x1000, SZ_4K, 1, rw, NULL), -EINVAL);
	cr_expect_eq(map(ops, 0x1000, 0x1800, SZ_4K, 1, rw, NULL), -EINVAL);
	cr_expect_eq(map(ops, 0x1000, 0x1000, 0x2000, 1, rw, NULL), -EINVAL);
	cr_expect_eq(map(ops, 0x1000, 0x1000, SZ_16K, 1, rw, NULL), -EINVAL);
	cr_expect_eq(map(ops, 0x1000, 0x1000, SZ_4K, 0, rw, NULL), -EINVAL);
	cr_expect_eq(map(ops, 0x1000, 0x1000, SZ_4K, 1, 0, NULL), -EINVAL);
	cr_expect_eq(map(ops, 0x1000, 0x1000, SZ_4K, 1, IH_PROT_NOEXEC, NULL), -EINVAL);
	cr_expect_eq(map(ops, 0x1000, 0x1000, SZ_4K, 1, rw | 0x40, NULL), -EINVAL);
	cr_expect_eq(map(ops, 0x200000, 0x1000, SZ_2M, 1, rw, NULL), -EINVAL);
	/* EINVAL is decided before ERANGE. */
	cr_expect_eq(map(ops, (1ULL << 48) + 0x800, 0, SZ_4K, 1, rw, NULL), -EINVAL);
	cr_expect_eq(map(ops, 1ULL << 48, 0, SZ_4K, 1, rw, NULL), -ERANGE);
	cr_expect_eq(map(ops, (1ULL << 48) - SZ_4K, 0, SZ_4K, 2, rw, NULL), -ERANGE);
	cr_expect_eq(map(ops, 0, 1ULL << 40, SZ_4K, 1, rw, NULL), -ERANGE);
	cr_expect_eq(map(ops, 0, (1ULL << 40) - SZ_4K, SZ_4K, 2, rw, NULL), -ERANGE);
	cr_expect_eq(map(ops, 0, 0, SZ_4K, SIZE_MAX / 2, rw, NULL), -ERANGE);
	/* The last page of both ranges is fine. */
	cr_expect_eq(map(ops, (1ULL << 48) - SZ_4K, (1ULL << 40) - SZ_4K, SZ_4K, 1, rw, NULL), 0);
	cr_expect_eq(ops->iova_to_phys(ops, (1ULL << 48) - 1), (1ULL << 40) - 1);
	cr_expect_eq(ops->iova_to_phys(ops, 1ULL << 48), IH_PA_INVALID);
	cr_expect_eq(rec.ncalls, 0, "no error path touched the TLB");
	/* Unmap refuses bad arguments silently (returns 0). */
	cr_expect_eq(unmap(ops, (1ULL << 48) - SZ_4K, 0x2000, 1), 0);
	cr_expect_eq(unmap(ops, (1ULL << 48) - SZ_4K, SZ_4K, 0), 0);
	cr_expect_eq(unmap(ops, (1ULL << 48) - SZ_4K, SZ_4K, 2), 0);
	cr_expect_eq(unmap(ops, (1ULL << 48) - SZ_4K, SZ_4K, 1), SZ_4K);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, map_issues_no_flush)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48, &cfg);

	/* Invalid entries are never cached (Arm ARM D8.14): filling one needs no TLBI. */
	cr_assert_eq(map(ops, 0, 0, SZ_4K, 300, IH_PROT_READ, NULL), 0);
	cr_expect_eq(rec.ncalls, 0);
	ih_io_pgtable_free(ops);
	cr_expect_eq(rec.all, 1, "free flushes everything exactly once");
	cr_expect_eq(rec.ncalls, 1);
}

Test(io_pgtable_lpae, unmapping_last_page_keeps_its_tables_without_flush_walk)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48, &cfg);
	ih_pa_t t;

	cr_assert_eq(map(ops, 0x1000, 0x7000, SZ_4K, 1, IH_PROT_READ, NULL), 0);
	cr_assert_eq(ih_io_pgtable_table_bytes(ops), 4 * SZ_4K);
	cr_assert_eq(unmap(ops, 0x1000, SZ_4K, 1), SZ_4K);
	/*
	 * As io-pgtable-arm: the level-3, 2 and 1 tables are empty now but stay installed
	 * (only a block-sized unmap of a parent entry, or freeing the page table, removes a
	 * table). So exactly one call, the leaf invalidation, and no walk flush; the root,
	 * L1, L2 and L3 tables (4 x 4K) are all still there.
	 */
	cr_expect_eq(rec.add_page, 1);
	cr_expect_eq(rec.walk, 0);
	cr_assert_eq(rec.ncalls, 1);
	cr_expect_eq(rec.calls[0].kind, FLUSH_ADD_PAGE);
	cr_expect_eq(rec.calls[0].iova, 0x1000);
	cr_expect_eq(rec.calls[0].granule, SZ_4K);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 4 * SZ_4K);
	/* L0[0] -> L1[0] -> L2[0] -> L3: entry 1 cleared, the tables above still linked. */
	t = next_table(desc(cfg.arm_lpae_s1_cfg.ttbr, 0), 12);
	t = next_table(desc(t, 0), 12);
	t = next_table(desc(t, 0), 12);
	cr_expect_eq(desc(t, 1), 0);
	/* Mapping the page again reuses them: no new table. */
	cr_assert_eq(map(ops, 0x1000, 0x7000, SZ_4K, 1, IH_PROT_READ, NULL), 0);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 4 * SZ_4K);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, unmapping_one_of_two_pages_keeps_the_table)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48, &cfg);
	struct ih_iommu_iotlb_gather g;

	cr_assert_eq(map(ops, 0x1000, 0x7000, SZ_4K, 2, IH_PROT_READ, NULL), 0);
	ih_iommu_iotlb_gather_init(&g);
	cr_assert_eq(ops->unmap_pages(ops, 0x1000, SZ_4K, 1, &g), SZ_4K);
	/* The level-3 table still holds 0x2000: one leaf invalidation, nothing freed. */
	cr_expect_eq(rec.add_page, 1);
	cr_expect_eq(rec.walk, 0);
	cr_expect_eq(g.start, 0x1000);
	cr_expect_eq(g.end, 0x1fff);
	cr_expect_eq(g.pgsize, SZ_4K);
	cr_expect_eq(ops->iova_to_phys(ops, 0x2000), 0x8000);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, unmap_at_table_level_removes_smaller_mappings)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48, &cfg);

	cr_assert_eq(map(ops, 0, 0x100000, SZ_4K, 4, IH_PROT_READ, NULL), 0);
	cr_assert_eq(unmap(ops, 0, SZ_2M, 1), SZ_2M);
	/*
	 * The level-2 entry held a table: one walk flush over its 2M (covering the four
	 * leaves, so no per-page invalidation) and the level-3 table is freed. The level-2
	 * and level-1 tables, empty now, stay (the kernel frees them only with a 1G or 512G
	 * unmap): root + L1 + L2 = 3 x 4K.
	 */
	cr_expect_eq(rec.add_page, 0);
	cr_expect_eq(rec.walk, 1);
	cr_expect_eq(rec.ncalls, 1);
	cr_expect_eq(rec.calls[0].size, SZ_2M);
	cr_expect_eq(ops->iova_to_phys(ops, 0x3000), IH_PA_INVALID);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 3 * SZ_4K);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, partial_unmap_of_block_is_refused_not_split)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48, &cfg);

	cr_assert_eq(map(ops, SZ_2M, 0x40000000, SZ_2M, 1, IH_PROT_READ, NULL), 0);
	cr_expect_eq(unmap(ops, SZ_2M + 0x1000, SZ_4K, 1), 0);
	cr_expect_eq(unmap(ops, SZ_2M, SZ_4K, 1), 0);
	cr_expect_eq(rec.ncalls, 0, "a refused unmap flushes nothing");
	cr_expect_eq(ops->iova_to_phys(ops, SZ_2M + 0x1000), 0x40001000);
	/*
	 * Unmapping what was mapped works: one 2M leaf invalidation. The level-2 and level-1
	 * tables it leaves empty stay (as io-pgtable-arm): no walk flush.
	 */
	cr_expect_eq(unmap(ops, SZ_2M, SZ_2M, 1), SZ_2M);
	cr_expect_eq(rec.add_page, 1);
	cr_expect_eq(rec.calls[0].granule, SZ_2M);
	cr_expect_eq(rec.walk, 0);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 3 * SZ_4K);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, unmap_stops_at_first_hole)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48, &cfg);

	cr_assert_eq(map(ops, 0, 0, SZ_4K, 2, IH_PROT_READ, NULL), 0);
	cr_assert_eq(map(ops, 0x3000, 0, SZ_4K, 1, IH_PROT_READ, NULL), 0);
	cr_expect_eq(unmap(ops, 0, SZ_4K, 4), 2 * SZ_4K);
	cr_expect_eq(ops->iova_to_phys(ops, 0x3000), 0);
	cr_expect_eq(unmap(ops, 0, SZ_4K, 1), 0);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, non_strict_quirk_gathers_without_leaf_invalidation)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops;
	struct ih_iommu_iotlb_gather g;

	memset(&cfg, 0, sizeof(cfg));
	cfg.pgsize_bitmap = SZ_4K | SZ_2M;
	cfg.ias = 48;
	cfg.oas = 48;
	cfg.quirks = IH_IO_PGTABLE_QUIRK_NON_STRICT;
	cfg.tlb = &flush_recorder_ops;
	ops = ih_io_pgtable_alloc(w, IH_ARM_64_LPAE_S1, &cfg, &rec);
	cr_assert_not_null(ops);
	cr_assert_eq(map(ops, 0x10000, 0, SZ_4K, 3, IH_PROT_READ, NULL), 0);
	ih_iommu_iotlb_gather_init(&g);
	cr_expect_eq(ops->unmap_pages(ops, 0x10000, SZ_4K, 2, &g), 2 * SZ_4K);
	/* The flush queue will invalidate: no tlb_add_page, but the range is recorded. */
	cr_expect_eq(rec.ncalls, 0);
	cr_expect_eq(g.start, 0x10000);
	cr_expect_eq(g.end, 0x11fff);
	cr_expect_eq(g.pgsize, 0, "only the driver sets pgsize");
	/*
	 * The last page empties the level-3 table, which stays (as io-pgtable-arm): still
	 * nothing to invalidate now, and no walk flush.
	 */
	cr_expect_eq(ops->unmap_pages(ops, 0x12000, SZ_4K, 1, &g), SZ_4K);
	cr_expect_eq(rec.add_page, 0);
	cr_expect_eq(rec.walk, 0);
	cr_expect_eq(g.end, 0x12fff);
	/*
	 * A 2M block over the emptied table: it is unhooked, walk-flushed over its 2M (never
	 * deferred: the memory is reused) and freed before the block is written.
	 */
	cr_expect_eq(map(ops, 0, 0x40000000, SZ_2M, 1, IH_PROT_READ, NULL), 0);
	cr_expect_eq(rec.walk, 1);
	cr_expect_eq(rec.calls[0].iova, 0);
	cr_expect_eq(rec.calls[0].size, SZ_2M);
	cr_expect_eq(ops->iova_to_phys(ops, 0x12345), 0x40012345);
	ih_io_pgtable_free(ops);
}

/*
 * A block-sized unmap over a kept, emptied table unmapped nothing: it returns 0 (the kernel
 * counts the block; the model keeps "unmap of an unmapped range" visible), yet frees the
 * table after a walk flush over the block, as the kernel does. Found by fuzz_io_pgtable.
 */
Test(io_pgtable_lpae, block_unmap_over_emptied_table_unmaps_nothing_and_frees_it)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48, &cfg);
	struct ih_iommu_iotlb_gather g;
	size_t pages;

	cr_assert_eq(map(ops, 0x200000, 0x1000, SZ_4K, 1, IH_PROT_READ, NULL), 0);
	ih_iommu_iotlb_gather_init(&g);
	cr_assert_eq(ops->unmap_pages(ops, 0x200000, SZ_4K, 1, &g), SZ_4K);
	pages = ih_pm_pages_used(w);
	flush_recorder_reset(&rec);
	ih_iommu_iotlb_gather_init(&g);
	cr_expect_eq(ops->unmap_pages(ops, 0x200000, SZ_2M, 2, &g), 0);
	cr_expect_eq(rec.walk, 1);
	cr_expect_eq(rec.add_page, 0);
	cr_expect_eq(rec.calls[0].iova, 0x200000);
	cr_expect_eq(rec.calls[0].size, SZ_2M);
	cr_expect_eq(ih_pm_pages_used(w), pages - 1, "the level-3 table is freed");
	cr_expect_eq(g.start, ~0ULL, "nothing gathered");
	/* With a live page under it, the whole block goes and counts. */
	cr_assert_eq(map(ops, 0x400000, 0x1000, SZ_4K, 2, IH_PROT_READ, NULL), 0);
	cr_expect_eq(ops->unmap_pages(ops, 0x400000, SZ_2M, 1, &g), SZ_2M);
	cr_expect_eq(ops->iova_to_phys(ops, 0x401000), IH_PA_INVALID);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, queued_gather_is_lazy_and_quirk_can_flip_live)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S2, SZ_4K | SZ_2M | SZ_1G, 40, 40, &cfg);
	struct ih_iommu_iotlb_gather g;

	cr_assert_eq(map(ops, 0, 0, SZ_4K, 4, IH_PROT_READ, NULL), 0);
	ih_iommu_iotlb_gather_init(&g);
	g.queued = true;
	cr_expect_eq(ops->unmap_pages(ops, 0, SZ_4K, 1, &g), SZ_4K);
	cr_expect_eq(rec.ncalls, 0, "queued: the caller's flush queue invalidates");
	ih_iommu_iotlb_gather_init(&g);
	cr_expect_eq(ops->unmap_pages(ops, 0x1000, SZ_4K, 1, &g), SZ_4K);
	cr_expect_eq(rec.add_page, 1, "strict again with a fresh gather");
	cr_expect_eq(ih_io_pgtable_set_quirks(ops, BIT(5)), -EINVAL);
	cr_expect_eq(ih_io_pgtable_set_quirks(ops, IH_IO_PGTABLE_QUIRK_NON_STRICT), 0);
	ih_iommu_iotlb_gather_init(&g);
	cr_expect_eq(ops->unmap_pages(ops, 0x2000, SZ_4K, 1, &g), SZ_4K);
	cr_expect_eq(rec.add_page, 1, "the live quirk made it lazy");
	cr_expect_eq(g.start, 0x2000);
	ih_io_pgtable_free(ops);
}

Test(io_pgtable_lpae, allocation_failure_mid_map_reports_partial_and_stays_consistent)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48, &cfg);
	struct ih_pgtable_shadow *sh;
	size_t mapped = 0, sm;
	char msg[256];

	cr_assert_eq(ih_pgtable_shadow_create(w, IH_ARM_64_LPAE_S1, &cfg, &sh), 0);
	/*
	 * Pages 0x1ff000 and 0x200000 straddle a level-2 boundary: the first needs level 1,
	 * 2 and 3 tables (3 allocations), the second a new level-3 table (the 4th).
	 */
	cr_assert_eq(ih_fault_fail_site(w, "io_pgtable:lpae-table", 4), 0);
	cr_expect_eq(map(ops, 0x1ff000, 0x1ff000, SZ_4K, 2, IH_PROT_READ, &mapped), -ENOMEM);
	cr_expect_eq(mapped, SZ_4K);
	cr_expect_eq(rec.ncalls, 0, "no table was unhooked");
	cr_assert_eq(ih_pgtable_shadow_map(sh, 0x1ff000, 0x1ff000, SZ_4K, 1, IH_PROT_READ, &sm), 0);
	cr_expect_eq(ih_pgtable_check(ops, sh, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 4 * SZ_4K);
	ih_io_pgtable_free(ops);
	ih_pgtable_shadow_destroy(sh);
}

Test(io_pgtable_lpae, allocation_failure_keeps_tables_it_installed)
{
	struct ih_io_pgtable_cfg cfg;
	struct ih_io_pgtable_ops *ops = mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48, &cfg);
	size_t mapped = 1;
	ih_pa_t l1;

	/*
	 * The level-1 table is installed, the level-2 one fails. As io-pgtable-arm, the
	 * level-1 table stays (empty, linked from L0[0]): no walk flush, root + L1 = 2 x 4K.
	 */
	cr_assert_eq(ih_fault_fail_site(w, "io_pgtable:lpae-table", 2), 0);
	cr_expect_eq(map(ops, 0x1000, 0x1000, SZ_4K, 1, IH_PROT_READ, &mapped), -ENOMEM);
	cr_expect_eq(mapped, 0);
	cr_expect_eq(rec.ncalls, 0);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 2 * SZ_4K);
	l1 = next_table(desc(cfg.arm_lpae_s1_cfg.ttbr, 0), 12);
	cr_expect_eq(desc(l1, 0), 0);
	/* The retry uses it: two more tables (L2, L3), 4 x 4K in all. */
	cr_expect_eq(map(ops, 0x1000, 0x1000, SZ_4K, 1, IH_PROT_READ, &mapped), 0);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 4 * SZ_4K);
	cr_expect_eq(next_table(desc(cfg.arm_lpae_s1_cfg.ttbr, 0), 12), l1);
	ih_io_pgtable_free(ops);
}

/*
 * A scenario over every LPAE allocation site: maps and unmaps of pages and blocks, each
 * result compared with the shadow. With one allocation made to fail it must still end
 * consistent and leak-free.
 */
static void lpae_scenario(struct ih_world *sw, void *arg)
{
	enum ih_io_pgtable_fmt fmt = *(const enum ih_io_pgtable_fmt *)arg;
	static const struct {
		bool unmap;
		u64 iova;
		size_t size, n;
	} steps[] = {
	    {false, 0x0, SZ_4K, 3},	   {false, 0x1ff000, SZ_4K, 2},
	    {false, 0x400000, SZ_2M, 2},   {false, 0x40000000, SZ_1G, 1},
	    {false, 1ULL << 39, SZ_4K, 1}, {true, 0x1000, SZ_4K, 1},
	    {true, 0x200000, SZ_2M, 1},	   {false, 0x1000, SZ_4K, 1},
	    {true, 0x0, SZ_1G, 1},	   {true, 1ULL << 39, SZ_4K, 1},
	    {false, 0x7fe000, SZ_4K, 4},
	};
	struct ih_io_pgtable_cfg cfg = {
	    .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
	    .ias = 48,
	    .oas = 48,
	};
	struct ih_io_pgtable_ops *ops;
	struct ih_pgtable_shadow *sh = NULL;
	char msg[256];

	ops = ih_io_pgtable_alloc(sw, fmt, &cfg, NULL);
	if (!ops)
		return; /* the failed allocation was the table object or its start table */
	cr_assert_eq(ih_pgtable_shadow_create(sw, fmt, &cfg, &sh), 0);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		if (steps[i].unmap) {
			struct ih_iommu_iotlb_gather g;
			size_t got, want;

			ih_iommu_iotlb_gather_init(&g);
			got = ops->unmap_pages(ops, steps[i].iova, steps[i].size, steps[i].n, &g);
			want =
			    ih_pgtable_shadow_unmap(sh, steps[i].iova, steps[i].size, steps[i].n);
			cr_assert_eq(got, want, "step %zu", i);
		} else {
			size_t mapped, smapped;
			int ret = ops->map_pages(ops, steps[i].iova, steps[i].iova, steps[i].size,
						 steps[i].n, IH_PROT_READ, &mapped);

			if (ret == -ENOMEM) {
				cr_assert_eq(mapped % steps[i].size, 0);
				if (mapped)
					cr_assert_eq(ih_pgtable_shadow_map(
							 sh, steps[i].iova, steps[i].iova,
							 steps[i].size, mapped / steps[i].size,
							 IH_PROT_READ, &smapped),
						     0);
			} else {
				int sret = ih_pgtable_shadow_map(sh, steps[i].iova, steps[i].iova,
								 steps[i].size, steps[i].n,
								 IH_PROT_READ, &smapped);

				cr_assert_eq(ret, sret, "step %zu", i);
				cr_assert_eq(mapped, smapped, "step %zu", i);
			}
		}
		cr_assert_eq(ih_pgtable_check(ops, sh, msg, sizeof(msg)), 0, "step %zu: %s", i,
			     msg);
	}
	ih_io_pgtable_free(ops);
	ih_pgtable_shadow_destroy(sh);
}

Test(io_pgtable_lpae, fault_injection_sweep_s1)
{
	enum ih_io_pgtable_fmt fmt = IH_ARM_64_LPAE_S1;

	/* The shadow's own site is the checker, not the code under test: not swept. */
	cr_expect_geq(fault_sweep(lpae_scenario, &fmt, "io_pgtable:lpae"), 3);
}

Test(io_pgtable_lpae, fault_injection_sweep_s2)
{
	enum ih_io_pgtable_fmt fmt = IH_ARM_64_LPAE_S2;

	cr_expect_geq(fault_sweep(lpae_scenario, &fmt, "io_pgtable:lpae"), 3);
}

struct racer {
	struct ih_io_pgtable_ops *ops;
	u64 iova;
	int ret;
};

static void racer_fn(void *arg)
{
	struct racer *r = arg;

	r->ret = r->ops->map_pages(r->ops, r->iova, r->iova, SZ_4K, 1, IH_PROT_READ, NULL);
}

Test(io_pgtable_lpae, table_install_race_loser_frees_its_copy_and_uses_the_winners)
{
	struct ih_world_config wc;
	struct ih_world *w2;
	struct ih_coop *c;
	struct ih_io_pgtable_cfg cfg = {.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
					.ias = 48,
					.oas = 48,
					.tlb = &flush_recorder_ops};
	struct ih_io_pgtable_ops *ops;
	struct racer a, b;
	char trace[128];

	ih_world_config_init(&wc);
	wc.ncpus = 2;
	cr_assert_eq(ih_world_create(&wc, &w2), 0);
	cr_assert_eq(ih_coop_create(w2, &c), 0);
	ops = ih_io_pgtable_alloc(w2, IH_ARM_64_LPAE_S1, &cfg, &rec);
	cr_assert_not_null(ops);
	a = (struct racer){ops, 0x1000, 1};
	b = (struct racer){ops, 0x2000, 1};
	cr_assert_eq(ih_coop_add(c, racer_fn, &a, 0), 0);
	cr_assert_eq(ih_coop_add(c, racer_fn, &b, 1), 1);
	/*
	 * A allocates its level-1 table and stops before the compare-and-swap; B installs
	 * level 1, 2 and 3 and maps 0x2000; A's swap fails: it frees its copy and walks
	 * B's tables, where level 2 and 3 exist already. Root + one table per level =
	 * 4 x 4K, nothing leaked, no walk flush (nothing published was removed).
	 */
	cr_assert_eq(
	    ih_coop_run_script(c, "A@io_pgtable:lpae:before-install B A", trace, sizeof(trace)), 0);
	cr_expect_eq(a.ret, 0);
	cr_expect_eq(b.ret, 0);
	cr_expect_eq(ih_io_pgtable_table_bytes(ops), 4 * SZ_4K);
	cr_expect_eq(ops->iova_to_phys(ops, 0x1000), 0x1000);
	cr_expect_eq(ops->iova_to_phys(ops, 0x2000), 0x2000);
	cr_expect_eq(rec.ncalls, 0);
	ih_io_pgtable_free(ops);
	ih_coop_destroy(c);
	cr_expect_eq(ih_pm_pages_used(w2), 0);
	cr_expect_eq(ih_world_destroy(w2), 0);
}
