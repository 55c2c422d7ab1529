// SPDX-License-Identifier: MIT
/* The shadow checker: it must notice each kind of corruption, and its own semantics. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/io_pgtable.h>
#include <ih/physmem.h>
#include <ih/world.h>

static struct ih_world *w;
static struct ih_io_pgtable_ops *ops;
static struct ih_pgtable_shadow *sh;
static struct ih_io_pgtable_cfg cfg;
static char msg[256];

static void mk(enum ih_io_pgtable_fmt fmt, unsigned long pgsizes, unsigned int ias,
	       unsigned int oas)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.pgsize_bitmap = pgsizes;
	cfg.ias = ias;
	cfg.oas = oas;
	ops = ih_io_pgtable_alloc(w, fmt, &cfg, NULL);
	cr_assert_not_null(ops);
	cr_assert_eq(ih_pgtable_shadow_create(w, fmt, &cfg, &sh), 0);
}

static void s1(void)
{
	mk(IH_ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G, 48, 48);
}

static void rk2(void)
{
	mk(IH_RK_IOMMU_V2, 0x7ff000, 0, 0);
}

static void teardown(void)
{
	ih_io_pgtable_free(ops);
	ih_pgtable_shadow_destroy(sh);
	cr_expect_eq(ih_pm_pages_used(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(io_pgtable_shadow, .fini = teardown);

/* Map in both, and require them equal. */
static void both_map(u64 iova, ih_pa_t pa, size_t size, size_t n, int prot)
{
	size_t m1, m2;

	cr_assert_eq(ops->map_pages(ops, iova, pa, size, n, prot, &m1), 0);
	cr_assert_eq(ih_pgtable_shadow_map(sh, iova, pa, size, n, prot, &m2), 0);
	cr_assert_eq(m1, m2);
	cr_assert_eq(ih_pgtable_check(ops, sh, msg, sizeof(msg)), 0, "%s", msg);
}

/* PA of the level-3 entry for @iova in a 4-level 4K table. */
static ih_pa_t l3_slot(u64 iova)
{
	ih_pa_t t = cfg.arm_lpae_s1_cfg.ttbr;
	u64 d;

	for (int lvl = 0; lvl < 3; lvl++) {
		cr_assert_eq(ih_pm_load64(w, t + ((iova >> (39 - 9 * lvl)) & 511) * 8, &d), 0);
		t = d & GENMASK_ULL(47, 12);
	}
	return t + ((iova >> 12) & 511) * 8;
}

static void expect_mismatch(const char *needle)
{
	cr_expect_eq(ih_pgtable_check(ops, sh, msg, sizeof(msg)), -EINVAL);
	cr_expect_not_null(strstr(msg, needle), "message \"%s\" lacks \"%s\"", msg, needle);
}

Test(io_pgtable_shadow, clear_access_flag_is_reported, .init = s1)
{
	u64 d;

	both_map(0x5000, 0x9000, SZ_4K, 1, IH_PROT_READ);
	cr_assert_eq(ih_pm_load64(w, l3_slot(0x5000), &d), 0);
	cr_assert_eq(ih_pm_store64(w, l3_slot(0x5000), d & ~BIT_ULL(10)), 0);
	expect_mismatch("AF clear");
}

Test(io_pgtable_shadow, wrong_output_address_is_reported, .init = s1)
{
	u64 d;

	both_map(0x5000, 0x9000, SZ_4K, 1, IH_PROT_READ);
	cr_assert_eq(ih_pm_load64(w, l3_slot(0x5000), &d), 0);
	cr_assert_eq(ih_pm_store64(w, l3_slot(0x5000), d + SZ_4K), 0);
	expect_mismatch("iova 0x5000: table has pa 0xa000");
}

Test(io_pgtable_shadow, wrong_permission_is_reported, .init = s1)
{
	u64 d;

	both_map(0x5000, 0x9000, SZ_4K, 1, IH_PROT_READ);
	cr_assert_eq(ih_pm_load64(w, l3_slot(0x5000), &d), 0);
	cr_assert_eq(ih_pm_store64(w, l3_slot(0x5000), d & ~BIT_ULL(7)), 0); /* now writable */
	expect_mismatch("prot 0x3");
}

Test(io_pgtable_shadow, missing_leaf_is_reported, .init = s1)
{
	size_t m;

	both_map(0x5000, 0x9000, SZ_4K, 1, IH_PROT_READ);
	cr_assert_eq(ih_pgtable_shadow_map(sh, 0x6000, 0x9000, SZ_4K, 1, IH_PROT_READ, &m), 0);
	expect_mismatch("iova 0x6000: shadow has pa 0x9000");
}

Test(io_pgtable_shadow, empty_lpae_table_left_behind_is_legal, .init = s1)
{
	both_map(0x5000, 0x9000, SZ_4K, 1, IH_PROT_READ);
	/*
	 * Clear the leaf behind the table code's back: its level-3 table is now empty, which
	 * is what an unmap leaves too (io-pgtable-arm keeps emptied tables). Nothing to report.
	 */
	cr_assert_eq(ih_pm_store64(w, l3_slot(0x5000), 0), 0);
	cr_assert_eq(ih_pgtable_shadow_unmap(sh, 0x5000, SZ_4K, 1), SZ_4K);
	cr_expect_eq(ih_pgtable_check(ops, sh, msg, sizeof(msg)), 0, "%s", msg);
}

Test(io_pgtable_shadow, stale_bits_in_invalid_entry_are_reported, .init = s1)
{
	cr_assert_eq(ih_pm_store64(w, cfg.arm_lpae_s1_cfg.ttbr + 8 * 7, 0x2), 0);
	expect_mismatch("invalid entry 0x2 not zero");
}

Test(io_pgtable_shadow, s1_semantics_normalise_and_refuse_block_split, .init = s1)
{
	size_t m;

	/* Stage 1 has no write-only: the shadow expects READ | WRITE. */
	both_map(SZ_2M, SZ_2M, SZ_2M, 1, IH_PROT_WRITE | IH_PROT_CACHE | IH_PROT_MMIO);
	cr_expect_eq(ih_pgtable_shadow_unmap(sh, SZ_2M, SZ_4K, 1), 0);
	cr_expect_eq(ih_pgtable_shadow_iova_to_phys(sh, SZ_2M + 0x10), SZ_2M + 0x10);
	both_map(SZ_1G, 0, SZ_4K, 3, IH_PROT_READ);
	cr_expect_eq(ih_pgtable_shadow_count(sh), 4);
	/* A 1G unmap over three pages takes them all. */
	cr_expect_eq(ih_pgtable_shadow_unmap(sh, SZ_1G, SZ_1G, 1), SZ_1G);
	cr_expect_eq(ih_pgtable_shadow_count(sh), 1);
	cr_expect_eq(ih_pgtable_shadow_map(sh, SZ_2M, 0, SZ_4K, 1, IH_PROT_READ, &m), -EEXIST);
	cr_expect_eq(ih_pgtable_shadow_map(sh, 0, 0, SZ_4K, 1, 0, &m), -EINVAL);
	cr_expect_eq(ih_pgtable_shadow_map(sh, 1ULL << 48, 0, SZ_4K, 1, IH_PROT_READ, &m), -ERANGE);
	cr_expect_eq(
	    ops->unmap_pages(ops, SZ_1G, SZ_1G, 1, &(struct ih_iommu_iotlb_gather){.start = ~0ULL}),
	    SZ_1G);
	cr_expect_eq(ih_pgtable_check(ops, sh, msg, sizeof(msg)), 0, "%s", msg);
}

Test(io_pgtable_shadow, rk_reserved_security_bit_is_reported, .init = rk2)
{
	ih_pa_t pt;
	u32 dte, pte;

	both_map(0x1000, 0x3000, SZ_4K, 1, IH_PROT_READ);
	cr_assert_eq(ih_pm_load32(w, cfg.rk_cfg.dte_addr, &dte), 0);
	pt = dte & 0xfffff000;
	cr_assert_eq(ih_pm_load32(w, pt + 4, &pte), 0);
	cr_assert_eq(ih_pm_store32(w, pt + 4, pte | 0x8), 0);
	expect_mismatch("reserved bits in PTE");
}

Test(io_pgtable_shadow, rk_empty_pt_is_reported, .init = rk2)
{
	ih_pa_t pt;
	u32 dte;

	both_map(0x4000, 0x8000, SZ_16K, 1, IH_PROT_READ | IH_PROT_WRITE);
	cr_expect_eq(ih_pgtable_shadow_count(sh), 4, "the shadow keeps Rockchip leaves at 4K");
	cr_assert_eq(ih_pm_load32(w, cfg.rk_cfg.dte_addr, &dte), 0);
	pt = dte & 0xfffff000;
	for (int i = 0; i < 4; i++)
		cr_assert_eq(ih_pm_store32(w, pt + 4 * (4 + i), 0), 0);
	cr_expect_eq(ih_pgtable_shadow_unmap(sh, 0x8000, SZ_4K, 8), 0, "0x8000 not mapped");
	cr_expect_eq(ih_pgtable_shadow_unmap(sh, 0x4000, SZ_4K, 8), 4 * SZ_4K);
	expect_mismatch("empty PT");
}

Test(io_pgtable_shadow, mismatched_format_is_refused, .init = rk2)
{
	struct ih_pgtable_shadow *other;

	cr_assert_eq(ih_pgtable_shadow_create(w, IH_RK_IOMMU_V1, &cfg, &other), 0);
	cr_expect_eq(ih_pgtable_check(ops, other, msg, sizeof(msg)), -EINVAL);
	ih_pgtable_shadow_destroy(other);
	cr_expect_eq(ih_pgtable_shadow_create(w, IH_IO_PGTABLE_NUM_FMTS, &cfg, &other), -EINVAL);
}
