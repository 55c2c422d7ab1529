// SPDX-License-Identifier: MIT
/* The DMA API over the Rockchip IOMMU driver and the emulated unit: strict, lazy, staleness. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/check.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/world.h>
#include "lib/rk_board.h"

/*
 * Each test runs on a v1 unit with one bank (32-bit PAs, memory below 4G) and on a v2
 * unit with two banks (40-bit PAs: simulated memory and tables above 4G). The driver
 * zaps every bank alike, so zap counts are per bank times the bank count.
 *
 * Lazy on Rockchip: upstream offers no DMA-FQ domain for this unit, so the core's
 * DMA-FQ default falls back to a strict DMA domain. The tests then make it lazy with the
 * live flip (ih_dma_init_fq()), which only needs flush_iotlb_all (ZAP_CACHE on every
 * bank): that is how the flush queue gets in front of the zap path here.
 */
#define BUF_SIZE (64 * 1024)

struct rig {
	struct ih_world *w;
	struct rkb b;
	struct ih_device *dev;
	unsigned int nbanks;
	ih_pa_t buf;
	u64 keeper;
};

static void up(struct rig *r, enum ih_rk_iommu_version v, bool lazy)
{
	struct ih_iommu_domain *d;

	memset(r, 0, sizeof(*r));
	r->nbanks = v == IH_RK_IOMMU_HW_V2 ? 2 : 1;
	r->w = rkb_world(v == IH_RK_IOMMU_HW_V2 ? RKB_V2_PM_BASE : 0);
	cr_assert_not_null(r->w);
	if (lazy)
		cr_assert_eq(ih_iommu_set_default_domain_type(r->w, IH_DOMAIN_DMA_FQ), 0);
	cr_assert_eq(rkb_init(&r->b, r->w, v, r->nbanks, NULL), 0);
	cr_assert_eq(rkb_register_iommu_driver(&r->b), 0);
	cr_assert_eq(rkb_add_iommu(&r->b), 0);
	cr_assert_eq(rkb_register_client_driver(&r->b), 0);
	r->dev = rkb_add_client(&r->b);
	cr_assert_not_null(r->dev);
	cr_assert_eq(ih_device_driver(r->dev), &r->b.cdrv.drv);
	r->buf = ih_pm_alloc(r->w, BUF_SIZE, BUF_SIZE, "test:buf");
	cr_assert_neq(r->buf, IH_PA_INVALID);
	if (v == IH_RK_IOMMU_HW_V2)
		cr_expect_gt(r->buf, 0xffffffffULL, "v2 buffers sit above 4G");
	d = ih_iommu_get_dma_domain(r->dev);
	cr_assert_not_null(d);
	cr_expect_eq(d->type, IH_DOMAIN_DMA, "no DMA-FQ on this unit: strict fallback");
	cr_expect_not(ih_dma_domain_is_lazy(d));
	if (lazy) {
		cr_assert_eq(ih_dma_init_fq(d), 0);
		cr_assert(ih_dma_domain_is_lazy(d));
	}
}

static void down(struct rig *r, bool clean)
{
	if (clean)
		cr_expect_eq(ih_report_total(r->w), 0, "a checker reported on a correct run");
	ih_pm_free(r->w, r->buf, BUF_SIZE);
	rkb_fini(&r->b);
	cr_expect_eq(ih_warn_count(r->w), 0, "warnings counted");
	cr_expect_eq(ih_world_destroy(r->w), 0, "model memory leaked");
}

static struct ih_iommu_domain *dom(struct rig *r)
{
	return ih_iommu_get_dma_domain(r->dev);
}

static struct ih_rk_iommu_stats rk_stats(struct rig *r)
{
	struct ih_rk_iommu_stats st;

	cr_assert_eq(ih_rk_iommu_get_stats(ih_rk_iommu_pdev_dev(r->b.pd), &st), 0);
	return st;
}

static bool tlb_holds(struct rig *r, u64 iova)
{
	return ih_rk_iommu_hw_tlb_holds(r->b.pd->hw, iova);
}

/*
 * The Rockchip table frees a PTE table when its last page goes, zapping the 4M it
 * covered (a whole-cache zap): tests about what the TLB keeps after an unmap first map a
 * "keeper" page, the first IOVA handed out (the top of the 32-bit space), so the IOVAs
 * that follow share its PTE table.
 */
static void keeper_map(struct rig *r)
{
	cr_assert_eq(
	    ih_dma_map_page(r->dev, r->buf + 0xf000, SZ_4K, IH_DMA_TO_DEVICE, 0, &r->keeper), 0);
	cr_expect_eq(r->keeper, 0xfffff000ULL, "top-down: the first IOVA is the last page");
}

static void keeper_unmap(struct rig *r)
{
	cr_assert_eq(ih_dma_unmap_page(r->dev, r->keeper, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
}

#define BOTH_VERSIONS(name)                                                                        \
	static void name(enum ih_rk_iommu_version v);                                              \
	Test(dma_rk, name##_v1)                                                                    \
	{                                                                                          \
		name(IH_RK_IOMMU_HW_V1);                                                           \
	}                                                                                          \
	Test(dma_rk, name##_v2)                                                                    \
	{                                                                                          \
		name(IH_RK_IOMMU_HW_V2);                                                           \
	}

/*
 * Strict: the device reaches the PA; the unmap's iotlb_sync zaps the one line (per bank)
 * before the IOVA is free; the next DMA page-faults (the handler reports it and resumes
 * the master); the IOVA is handed out again at once.
 */
BOTH_VERSIONS(strict_map_dma_unmap_faults_and_iova_is_reused)
static void strict_map_dma_unmap_faults_and_iova_is_reused(enum ih_rk_iommu_version v)
{
	struct rig r;
	struct ih_rk_iommu_stats s0, s1;
	ih_pa_t out = 0;
	u64 dma, again;

	up(&r, v, false);
	keeper_map(&r);
	cr_assert_eq(ih_dma_map_page(r.dev, r.buf + 0x1234, 0x100, IH_DMA_FROM_DEVICE, 0, &dma), 0);
	cr_expect_eq(dma & 0xfff, 0x234);
	cr_assert_eq(ih_dma_access(r.dev, dma + 8, 4, IH_DMA_FROM_DEVICE, &out), 0);
	cr_expect_eq(out, r.buf + 0x123c);
	cr_expect(tlb_holds(&r, dma), "the access filled the TLB");

	s0 = rk_stats(&r);
	cr_assert_eq(ih_dma_unmap_page(r.dev, dma, 0x100, IH_DMA_FROM_DEVICE, 0), 0);
	s1 = rk_stats(&r);
	cr_expect_eq(s1.zap_lines - s0.zap_lines, r.nbanks, "one ZAP_ONE_LINE per bank");
	cr_expect_eq(s1.zap_caches - s0.zap_caches, 0);
	cr_expect_not(tlb_holds(&r, dma));

	cr_expect_eq(ih_dma_access(r.dev, dma + 8, 4, IH_DMA_FROM_DEVICE, NULL), -EFAULT);
	s1 = rk_stats(&r);
	cr_expect_eq(s1.page_faults - s0.page_faults, 1);
	cr_expect_eq(s1.last_fault_iova, (u32)(dma + 8));
	cr_expect(s1.last_fault_write, "FROM_DEVICE is a write by the device");

	cr_assert_eq(ih_dma_map_page(r.dev, r.buf + 0x2000, SZ_4K, IH_DMA_TO_DEVICE, 0, &again), 0);
	cr_expect_eq(again, dma & ~0xfffULL, "the freed IOVA comes back from the CPU's cache");
	cr_assert_eq(ih_dma_access(r.dev, again, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, r.buf + 0x2000);
	cr_assert_eq(ih_dma_unmap_page(r.dev, again, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	keeper_unmap(&r);
	down(&r, true);
}

/*
 * Lazy: the unmap clears the PTE and zaps nothing, so the unit keeps translating the old
 * page from its TLB until the queue flushes (the IOVA is still queued: nothing stale). At
 * the 10 ms timeout flush_iotlb_all is one ZAP_CACHE per bank; then DMA faults and the
 * IOVA is reused.
 */
BOTH_VERSIONS(lazy_unmap_translates_until_the_timer_flushes)
static void lazy_unmap_translates_until_the_timer_flushes(enum ih_rk_iommu_version v)
{
	struct rig r;
	struct ih_rk_iommu_stats s0, s1;
	struct ih_dma_fq_stats st;
	ih_pa_t out = 0;
	u64 a, b, c;

	up(&r, v, true);
	keeper_map(&r);
	cr_assert_eq(ih_dma_map_page(r.dev, r.buf, SZ_4K, IH_DMA_BIDIRECTIONAL, 0, &a), 0);
	cr_assert_eq(ih_dma_access(r.dev, a + 0x40, 4, IH_DMA_TO_DEVICE, &out), 0);

	s0 = rk_stats(&r);
	cr_assert_eq(ih_dma_unmap_page(r.dev, a, SZ_4K, IH_DMA_BIDIRECTIONAL, 0), 0);
	s1 = rk_stats(&r);
	cr_expect_eq(s1.zap_lines - s0.zap_lines, 0, "lazy: no zap at unmap");
	cr_expect_eq(s1.zap_caches - s0.zap_caches, 0);
	cr_expect_eq(ih_iommu_iova_to_phys(dom(&r), a), IH_PA_INVALID, "the table is clear");
	cr_expect_eq(ih_dma_access(r.dev, a + 0x40, 4, IH_DMA_TO_DEVICE, &out), 0,
		     "the TLB still translates");
	cr_expect_eq(out, r.buf + 0x40);
	cr_expect_eq(rk_stats(&r).page_faults, s0.page_faults);
	cr_expect(tlb_holds(&r, a));
	/*
	 * The next IOVA down shares a's 16-PTE line, and map zaps the first and last line of
	 * every new mapping: that evicts a's stale entry early (upstream does the same).
	 */
	cr_assert_eq(ih_dma_map_page(r.dev, r.buf + SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &b), 0);
	cr_expect_neq(b, a, "a queued IOVA is not handed out");
	cr_expect_eq(b, a - SZ_4K);
	cr_expect_not(tlb_holds(&r, a), "evicted by b's map-time zap");

	s0 = rk_stats(&r);
	ih_clock_advance(r.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS - 1);
	cr_assert_eq(ih_dma_fq_get_stats(dom(&r), &st), 0);
	cr_expect_eq(st.queued, 1, "not yet");
	ih_clock_advance(r.w, 1);
	cr_assert_eq(ih_dma_fq_get_stats(dom(&r), &st), 0);
	cr_expect_eq(st.queued, 0);
	cr_expect_eq(st.timer_flushes, 1);
	cr_expect_eq(st.reclaimed, 1);
	s1 = rk_stats(&r);
	cr_expect_eq(s1.zap_caches - s0.zap_caches, r.nbanks, "one ZAP_CACHE per bank");
	cr_expect_eq(s1.zap_lines - s0.zap_lines, 0);

	cr_expect_eq(ih_dma_access(r.dev, a + 0x40, 4, IH_DMA_TO_DEVICE, NULL), -EFAULT);
	s1 = rk_stats(&r);
	cr_expect_eq(s1.page_faults - s0.page_faults, 1);
	cr_expect_eq(s1.last_fault_iova, (u32)(a + 0x40));
	cr_expect_not(s1.last_fault_write);
	cr_assert_eq(ih_dma_map_page(r.dev, r.buf + 0x3000, SZ_4K, IH_DMA_TO_DEVICE, 0, &c), 0);
	cr_expect_eq(c, a, "the reclaimed IOVA is reused");
	cr_assert_eq(ih_dma_access(r.dev, c, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, r.buf + 0x3000);
	cr_assert_eq(ih_dma_unmap_page(r.dev, b, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_unmap_page(r.dev, c, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	keeper_unmap(&r);
	ih_clock_advance(r.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	down(&r, true);
}

/* A ring of 4 holds 3: the 4th unmap flushes (ZAP_CACHE per bank) and reclaims 3. */
BOTH_VERSIONS(full_ring_forces_one_flush)
static void full_ring_forces_one_flush(enum ih_rk_iommu_version v)
{
	struct ih_dma_fq_options o = {.type = IH_DMA_FQ_PERCPU, .size = 4};
	struct rig r;
	struct ih_rk_iommu_stats s0, s1;
	struct ih_dma_fq_stats st;
	u64 dma[4];

	up(&r, v, true);
	cr_assert_eq(ih_dma_set_fq_options(dom(&r), &o), 0);
	keeper_map(&r);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(
		    ih_dma_map_page(r.dev, r.buf + i * SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &dma[i]),
		    0);
	s0 = rk_stats(&r);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(ih_dma_unmap_page(r.dev, dma[i], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(rk_stats(&r).zap_caches, s0.zap_caches);
	cr_assert_eq(ih_dma_unmap_page(r.dev, dma[3], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_fq_get_stats(dom(&r), &st), 0);
	cr_expect_eq(st.full_flushes, 1);
	cr_expect_eq(st.reclaimed, 3);
	cr_expect_eq(st.queued, 1);
	s1 = rk_stats(&r);
	cr_expect_eq(s1.zap_caches - s0.zap_caches, r.nbanks);
	cr_expect_eq(s1.zap_lines - s0.zap_lines, 0);
	ih_clock_advance(r.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	cr_assert_eq(ih_dma_fq_get_stats(dom(&r), &st), 0);
	cr_expect_eq(st.queued, 0);
	cr_expect_eq(st.timer_flushes, 1);
	cr_expect_eq(rk_stats(&r).zap_caches - s0.zap_caches, 2 * r.nbanks);
	keeper_unmap(&r);
	ih_clock_advance(r.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	down(&r, true);
}

/*
 * Zap traffic for 8 single-page unmaps and one of 3 pages, strict vs lazy. Strict: each
 * unmap's iotlb_sync zaps the lines of its own gather before the IOVA is freed: 1 line
 * per page, 8 + 3 = 11 ZAP_ONE_LINE per bank, no ZAP_CACHE. Lazy: the unmaps zap
 * nothing; the one timer flush is one ZAP_CACHE per bank for all of them. No PTE table
 * is freed on either side (keeper page).
 */
static void traffic(enum ih_rk_iommu_version v, bool lazy)
{
	struct rig r;
	struct ih_rk_iommu_stats s0, s1;
	u64 dma[9];

	up(&r, v, lazy);
	keeper_map(&r);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(
		    ih_dma_map_page(r.dev, r.buf + i * SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &dma[i]),
		    0);
	cr_assert_eq(ih_dma_map_page(r.dev, r.buf, 3 * SZ_4K, IH_DMA_TO_DEVICE, 0, &dma[8]), 0);
	s0 = rk_stats(&r);
	for (int i = 0; i < 9; i++)
		cr_assert_eq(ih_dma_unmap_page(r.dev, dma[i], i == 8 ? 3 * SZ_4K : SZ_4K,
					       IH_DMA_TO_DEVICE, 0),
			     0);
	s1 = rk_stats(&r);
	cr_expect_eq(s1.zap_lines - s0.zap_lines, lazy ? 0 : 11 * r.nbanks);
	cr_expect_eq(s1.zap_caches - s0.zap_caches, 0);
	ih_clock_advance(r.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	s1 = rk_stats(&r);
	cr_expect_eq(s1.zap_lines - s0.zap_lines, lazy ? 0 : 11 * r.nbanks);
	cr_expect_eq(s1.zap_caches - s0.zap_caches, lazy ? r.nbanks : 0);
	keeper_unmap(&r);
	ih_clock_advance(r.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	down(&r, true);
}

BOTH_VERSIONS(exact_zap_counts_strict)
static void exact_zap_counts_strict(enum ih_rk_iommu_version v)
{
	traffic(v, false);
}

BOTH_VERSIONS(exact_zap_counts_lazy)
static void exact_zap_counts_lazy(enum ih_rk_iommu_version v)
{
	traffic(v, true);
}

/*
 * The driver's test-only forgetful-zap knob: a strict unmap frees an IOVA the unit's TLB
 * still translates. The staleness checker reports it at the free, and again when the
 * device's DMA at the freed IOVA still lands on the old PA. (Mapping the IOVA again would
 * not show a stale PA here: the driver zaps the first and last line of every new mapping.)
 */
BOTH_VERSIONS(forgotten_zap_is_caught_by_the_staleness_checker)
static void forgotten_zap_is_caught_by_the_staleness_checker(enum ih_rk_iommu_version v)
{
	struct rig r;
	struct ih_rk_iommu_stats s0;
	struct ih_report rep;
	ih_pa_t out = 0;
	u64 a;

	up(&r, v, false);
	cr_assert_eq(ih_rk_iommu_set_test_forget_zap(ih_rk_iommu_pdev_dev(r.b.pd), true), 0);
	keeper_map(&r);
	cr_assert_eq(ih_dma_map_page(r.dev, r.buf, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_access(r.dev, a, 4, IH_DMA_TO_DEVICE, &out), 0);
	s0 = rk_stats(&r);
	cr_assert_eq(ih_dma_unmap_page(r.dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(rk_stats(&r).zap_lines, s0.zap_lines, "the knob drops the zap");
	cr_expect_eq(ih_report_count(r.w, IH_REPORT_IOTLB_STALE_AT_FREE), 1);
	cr_assert(ih_report_last(r.w, &rep));
	cr_expect_str_eq(rep.dev, "vop-mmu");
	cr_expect_str_eq(rep.call, "dma_unmap_page");
	cr_expect_eq(rep.iova, a);
	cr_expect_eq(rep.size, SZ_4K);

	cr_assert_eq(ih_dma_access(r.dev, a, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, r.buf, "the stale line still points at the old PA");
	cr_expect_eq(ih_report_count(r.w, IH_REPORT_IOTLB_STALE_ACCESS), 1);
	cr_assert(ih_report_last(r.w, &rep));
	cr_expect_str_eq(rep.dev, "client0");
	cr_expect_str_eq(rep.call, "device_dma");
	cr_expect_eq(rep.iova, a);
	cr_expect_eq(ih_report_total(r.w), 2);
	cr_assert_eq(ih_rk_iommu_set_test_forget_zap(ih_rk_iommu_pdev_dev(r.b.pd), false), 0);
	keeper_unmap(&r);
	down(&r, false);
}

/* The same knob in a lazy domain is harmless: the queue's ZAP_CACHE covers everything. */
BOTH_VERSIONS(forgotten_zap_is_harmless_when_lazy)
static void forgotten_zap_is_harmless_when_lazy(enum ih_rk_iommu_version v)
{
	struct rig r;
	ih_pa_t out = 0;
	u64 a;

	up(&r, v, true);
	cr_assert_eq(ih_rk_iommu_set_test_forget_zap(ih_rk_iommu_pdev_dev(r.b.pd), true), 0);
	keeper_map(&r);
	cr_assert_eq(ih_dma_map_page(r.dev, r.buf, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_access(r.dev, a, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_assert_eq(ih_dma_unmap_page(r.dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_dma_access(r.dev, a, 4, IH_DMA_TO_DEVICE, NULL), 0, "lazy window");
	ih_clock_advance(r.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	cr_expect_eq(ih_dma_access(r.dev, a, 4, IH_DMA_TO_DEVICE, NULL), -EFAULT);
	keeper_unmap(&r);
	ih_clock_advance(r.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	down(&r, true);
}
