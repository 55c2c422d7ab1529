// SPDX-License-Identifier: MIT
/* The DMA API over the SMMUv3 driver and the emulated SMMU: strict, lazy, staleness. */
#include <criterion/criterion.h>

#include <ih/base.h>
#include <ih/check.h>
#include <ih/clock.h>
#include <ih/dma.h>

#include "smmuv3/smmuv3_dtest.h"

/*
 * Each test runs twice: in a sequential world (the SMMU consumes commands on the CMDQ_PROD
 * write) and in a concurrent one (a hardware thread consumes them; the driver polls). The
 * clock is virtual in both, so the flush-queue timer fires exactly when a test advances
 * it. Every count below is the same in both modes: the hardware thread changes when a
 * command runs, never which commands the driver sends.
 */
#define SID 0x7

struct rig {
	struct dtest t;
	struct tdriver drv;
	struct ih_device *dev;
	u64 keeper;
};

/* An SMMU, the driver, a DMA-API client driver and dev0 bound to it in a @type domain. */
static void up(struct rig *r, enum ih_exec_mode mode, enum ih_domain_type type, bool forget)
{
	memset(r, 0, sizeof(*r));
	dt_init(&r->t, mode);
	r->t.dcfg.test_forget_tlbi = forget;
	cr_assert_eq(ih_iommu_set_default_domain_type(r->t.w, type), 0);
	dt_start(&r->t);
	dt_add_fw(&r->t, "dev0", SID);
	if (!ih_bus_registered(r->t.w, &ih_platform_bus_type))
		cr_assert_eq(ih_bus_register(r->t.w, &ih_platform_bus_type), 0);
	tdriver_init(&r->drv, "tdrv", false);
	cr_assert_eq(ih_driver_register(r->t.w, &r->drv.drv), 0);
	r->dev = tplat_add(r->t.w, "dev0");
	cr_assert_not_null(r->dev);
	cr_assert_eq(ih_device_driver(r->dev), &r->drv.drv);
	cr_assert_eq(ih_dma_domain_is_lazy(ih_iommu_get_dma_domain(r->dev)),
		     type == IH_DOMAIN_DMA_FQ);
}

static void down(struct rig *r, bool clean)
{
	if (clean)
		cr_expect_eq(ih_report_total(r->t.w), 0, "a checker reported on a correct run");
	ih_device_unregister(r->dev);
	ih_driver_unregister(r->t.w, &r->drv.drv);
	dt_fini(&r->t);
}

static struct ih_iommu_domain *dom(struct rig *r)
{
	return ih_iommu_get_dma_domain(r->dev);
}

/*
 * The io-pgtable frees a leaf table when its last entry goes and flushes its span from
 * the TLB then (tlb_flush_walk: a TLBI + CMD_SYNC), strict or lazy. Tests about what the
 * TLB keeps after an unmap first map a "keeper" page: the first IOVA handed out (the top
 * of the 48-bit space), so the IOVAs that follow share its level-3 table.
 */
static void keeper_map(struct rig *r)
{
	cr_assert_eq(
	    ih_dma_map_page(r->dev, r->t.buf + 0xf000, SZ_4K, IH_DMA_TO_DEVICE, 0, &r->keeper), 0);
	cr_expect_eq(r->keeper, (1ULL << 48) - SZ_4K, "top-down: the first IOVA is the last page");
}

static void keeper_unmap(struct rig *r)
{
	cr_assert_eq(ih_dma_unmap_page(r->dev, r->keeper, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
}

static struct ih_smmuv3_stats delta(struct rig *r, const struct ih_smmuv3_stats *before)
{
	struct ih_smmuv3_stats now = dt_stats(&r->t), d;

	memset(&d, 0, sizeof(d));
	d.tlbi = now.tlbi - before->tlbi;
	d.tlbi_va = now.tlbi_va - before->tlbi_va;
	d.tlbi_asid = now.tlbi_asid - before->tlbi_asid;
	d.syncs = now.syncs - before->syncs;
	d.cfgi = now.cfgi - before->cfgi;
	d.evt_translation = now.evt_translation - before->evt_translation;
	return d;
}

/* The last event is an F_TRANSLATION for a read or write of @iova by dev0. */
static void expect_translation_fault(struct rig *r, u64 iova, bool read)
{
	struct ih_smmuv3_event ev;

	cr_assert_eq(ih_smmuv3_last_event(r->t.smmu, &ev), 0);
	cr_expect_eq(ev.id, DT_EVT_F_TRANSLATION, "event 0x%x", ev.id);
	cr_expect_eq(ev.sid, SID);
	cr_expect_eq(ev.addr, iova);
	cr_expect_eq(ev.read, read);
}

#define BOTH_MODES(name)                                                                           \
	static void name(enum ih_exec_mode mode);                                                  \
	Test(dma_smmuv3, name##_sequential)                                                        \
	{                                                                                          \
		name(IH_EXEC_SEQUENTIAL);                                                          \
	}                                                                                          \
	Test(dma_smmuv3, name##_concurrent)                                                        \
	{                                                                                          \
		name(IH_EXEC_CONCURRENT);                                                          \
	}

/*
 * Strict: the DMA address keeps the offset and the device reaches the PA through the
 * SMMU. The unmap shares the keeper's level-3 table, so no table is freed: io-pgtable
 * gathers the one leaf and iotlb_sync sends one range TLBI_NH_VA (RIL, NUM 0) and one
 * CMD_SYNC before the IOVA goes back. The SMMU's TLB no longer covers it, the next DMA
 * records F_TRANSLATION, and the IOVA is handed out again at once.
 */
BOTH_MODES(strict_map_dma_unmap_faults_and_iova_is_reused)
static void strict_map_dma_unmap_faults_and_iova_is_reused(enum ih_exec_mode mode)
{
	struct rig r;
	struct ih_smmuv3_stats s0, d;
	ih_pa_t out = 0;
	u64 dma, again;

	up(&r, mode, IH_DOMAIN_DMA, false);
	keeper_map(&r);
	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf + 0x1234, 0x100, IH_DMA_FROM_DEVICE, 0, &dma),
		     0);
	cr_expect_eq(dma & 0xfff, 0x234);
	cr_assert_eq(ih_dma_access(r.dev, dma + 8, 4, IH_DMA_FROM_DEVICE, &out), 0);
	cr_expect_eq(out, r.t.buf + 0x123c);
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(r.t.hw, dma, 1), 1, "the access filled the TLB");

	s0 = dt_stats(&r.t);
	cr_assert_eq(ih_dma_unmap_page(r.dev, dma, 0x100, IH_DMA_FROM_DEVICE, 0), 0);
	d = delta(&r, &s0);
	cr_expect_eq(d.tlbi, 1);
	cr_expect_eq(d.tlbi_va, 1);
	cr_expect_eq(d.syncs, 1);
	cr_expect_eq(d.cfgi, 0);
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(r.t.hw, dma, 1), 0);

	cr_expect_eq(ih_dma_access(r.dev, dma + 8, 4, IH_DMA_FROM_DEVICE, NULL), -EFAULT);
	cr_expect_eq(delta(&r, &s0).evt_translation, 1);
	expect_translation_fault(&r, dma + 8, false);

	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf + 0x2000, SZ_4K, IH_DMA_TO_DEVICE, 0, &again),
		     0);
	cr_expect_eq(again, dma & ~0xfffULL, "the freed IOVA comes back from the CPU's cache");
	cr_assert_eq(ih_dma_access(r.dev, again, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, r.t.buf + 0x2000);
	cr_assert_eq(ih_dma_unmap_page(r.dev, again, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	keeper_unmap(&r);
	down(&r, true);
}

/*
 * Lazy: the unmap clears the PTE and sends nothing (gather.queued: no leaf TLBI, no
 * sync), so the SMMU keeps translating the old page from its TLB until the queue flushes;
 * the IOVA is still handed out then, so nothing is stale. At the 10 ms timeout the flush
 * is one TLBI_NH_ASID + CMD_SYNC (flush_iotlb_all); then DMA faults and the IOVA is reused.
 */
BOTH_MODES(lazy_unmap_translates_until_the_timer_flushes)
static void lazy_unmap_translates_until_the_timer_flushes(enum ih_exec_mode mode)
{
	struct rig r;
	struct ih_smmuv3_stats s0, d;
	struct ih_dma_fq_stats st;
	ih_pa_t out = 0;
	u64 a, b, c;

	up(&r, mode, IH_DOMAIN_DMA_FQ, false);
	keeper_map(&r);
	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf, SZ_4K, IH_DMA_BIDIRECTIONAL, 0, &a), 0);
	cr_assert_eq(ih_dma_access(r.dev, a + 0x40, 4, IH_DMA_FROM_DEVICE, &out), 0);
	cr_expect_eq(out, r.t.buf + 0x40);

	s0 = dt_stats(&r.t);
	cr_assert_eq(ih_dma_unmap_page(r.dev, a, SZ_4K, IH_DMA_BIDIRECTIONAL, 0), 0);
	d = delta(&r, &s0);
	cr_expect_eq(d.tlbi, 0, "lazy: no TLBI at unmap");
	cr_expect_eq(d.syncs, 0, "lazy: no CMD_SYNC at unmap");
	cr_expect_eq(ih_iommu_iova_to_phys(dom(&r), a), IH_PA_INVALID, "the table is clear");
	cr_expect_eq(ih_dma_access(r.dev, a + 0x40, 4, IH_DMA_FROM_DEVICE, &out), 0,
		     "the SMMU's TLB still translates");
	cr_expect_eq(out, r.t.buf + 0x40);
	cr_expect_eq(dt_stats(&r.t).events, s0.events, "a TLB hit records no event");
	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf + SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &b), 0);
	cr_expect_neq(b, a, "a queued IOVA is not handed out");

	ih_clock_advance(r.t.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS - 1);
	cr_assert_eq(ih_dma_fq_get_stats(dom(&r), &st), 0);
	cr_expect_eq(st.queued, 1, "not yet");
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(r.t.hw, a, SZ_4K), 1);
	ih_clock_advance(r.t.w, 1);
	cr_assert_eq(ih_dma_fq_get_stats(dom(&r), &st), 0);
	cr_expect_eq(st.queued, 0);
	cr_expect_eq(st.timer_flushes, 1);
	cr_expect_eq(st.reclaimed, 1);
	d = delta(&r, &s0);
	cr_expect_eq(d.tlbi, 1);
	cr_expect_eq(d.tlbi_asid, 1, "flush_iotlb_all is one TLBI_NH_ASID");
	cr_expect_eq(d.syncs, 1);
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(r.t.hw, a, SZ_4K), 0);

	cr_expect_eq(ih_dma_access(r.dev, a + 0x40, 4, IH_DMA_TO_DEVICE, NULL), -EFAULT);
	cr_expect_eq(delta(&r, &s0).evt_translation, 1);
	expect_translation_fault(&r, a + 0x40, true);
	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf + 0x3000, SZ_4K, IH_DMA_TO_DEVICE, 0, &c), 0);
	cr_expect_eq(c, a, "the reclaimed IOVA is reused");
	cr_assert_eq(ih_dma_access(r.dev, c, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, r.t.buf + 0x3000);
	cr_assert_eq(ih_dma_unmap_page(r.dev, b, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_unmap_page(r.dev, c, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	keeper_unmap(&r);
	ih_clock_advance(r.t.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	down(&r, true);
}

/*
 * A ring of 4 holds 3 entries: the 4th unmap finds it full and flushes synchronously
 * (one TLBI_NH_ASID + CMD_SYNC), reclaims the 3 and queues itself; the timer takes it.
 */
BOTH_MODES(full_ring_forces_one_flush)
static void full_ring_forces_one_flush(enum ih_exec_mode mode)
{
	struct ih_dma_fq_options o = {.type = IH_DMA_FQ_PERCPU, .size = 4};
	struct rig r;
	struct ih_smmuv3_stats s0, d;
	struct ih_dma_fq_stats st;
	u64 dma[4];

	up(&r, mode, IH_DOMAIN_DMA_FQ, false);
	cr_assert_eq(ih_dma_set_fq_options(dom(&r), &o), 0);
	keeper_map(&r);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf + i * SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0,
					     &dma[i]),
			     0);
	s0 = dt_stats(&r.t);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(ih_dma_unmap_page(r.dev, dma[i], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(delta(&r, &s0).tlbi, 0);
	cr_assert_eq(ih_dma_unmap_page(r.dev, dma[3], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_fq_get_stats(dom(&r), &st), 0);
	cr_expect_eq(st.full_flushes, 1);
	cr_expect_eq(st.reclaimed, 3);
	cr_expect_eq(st.queued, 1);
	d = delta(&r, &s0);
	cr_expect_eq(d.tlbi, 1);
	cr_expect_eq(d.tlbi_asid, 1);
	cr_expect_eq(d.syncs, 1);
	ih_clock_advance(r.t.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	cr_assert_eq(ih_dma_fq_get_stats(dom(&r), &st), 0);
	cr_expect_eq(st.queued, 0);
	cr_expect_eq(st.timer_flushes, 1);
	cr_expect_eq(delta(&r, &s0).tlbi_asid, 2);
	keeper_unmap(&r);
	ih_clock_advance(r.t.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	down(&r, true);
}

/*
 * Invalidation traffic for 8 single-page unmaps (plus one of 3 pages), strict vs lazy.
 * Strict: every unmap syncs its own gather before its IOVA is freed: one range TLBI_NH_VA
 * (RIL: pages 1 -> NUM 0, pages 3 -> NUM 2, SCALE 0: one command either way) and one
 * CMD_SYNC per call, 9 + 9. Lazy: the unmaps send nothing; the one timer flush is one
 * TLBI_NH_ASID + CMD_SYNC for all 9. No table is freed on either side (keeper page).
 */
static void traffic(enum ih_exec_mode mode, enum ih_domain_type type)
{
	struct rig r;
	struct ih_smmuv3_stats s0, d;
	u64 dma[9];
	bool lazy = type == IH_DOMAIN_DMA_FQ;

	up(&r, mode, type, false);
	keeper_map(&r);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf + i * SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0,
					     &dma[i]),
			     0);
	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf, 3 * SZ_4K, IH_DMA_TO_DEVICE, 0, &dma[8]), 0);
	s0 = dt_stats(&r.t);
	for (int i = 0; i < 9; i++)
		cr_assert_eq(ih_dma_unmap_page(r.dev, dma[i], i == 8 ? 3 * SZ_4K : SZ_4K,
					       IH_DMA_TO_DEVICE, 0),
			     0);
	d = delta(&r, &s0);
	cr_expect_eq(d.tlbi, lazy ? 0 : 9);
	cr_expect_eq(d.tlbi_va, lazy ? 0 : 9);
	cr_expect_eq(d.syncs, lazy ? 0 : 9);
	ih_clock_advance(r.t.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	d = delta(&r, &s0);
	cr_expect_eq(d.tlbi, lazy ? 1 : 9);
	cr_expect_eq(d.tlbi_asid, lazy ? 1 : 0);
	cr_expect_eq(d.syncs, lazy ? 1 : 9);
	cr_expect_eq(d.cfgi, 0);
	keeper_unmap(&r);
	ih_clock_advance(r.t.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	down(&r, true);
}

BOTH_MODES(exact_tlbi_and_sync_counts_strict)
static void exact_tlbi_and_sync_counts_strict(enum ih_exec_mode mode)
{
	traffic(mode, IH_DOMAIN_DMA);
}

BOTH_MODES(exact_tlbi_and_sync_counts_lazy)
static void exact_tlbi_and_sync_counts_lazy(enum ih_exec_mode mode)
{
	traffic(mode, IH_DOMAIN_DMA_FQ);
}

/*
 * The driver's test-only test_forget_tlbi knob (CMD_SYNCs, no TLBI): a strict unmap
 * frees an IOVA the SMMU's TLB still translates. The staleness checker reports it at the
 * free, and again when the device's DMA at the reused IOVA lands on the old PA.
 */
BOTH_MODES(forgotten_tlbi_is_caught_by_the_staleness_checker)
static void forgotten_tlbi_is_caught_by_the_staleness_checker(enum ih_exec_mode mode)
{
	struct rig r;
	struct ih_smmuv3_stats s0, d;
	struct ih_report rep;
	ih_pa_t out = 0;
	u64 a, b;

	up(&r, mode, IH_DOMAIN_DMA, true);
	keeper_map(&r);
	/* No DMA before the unmap: nothing cached, nothing stale, nothing reported. */
	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_unmap_page(r.dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_report_total(r.t.w), 0);

	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_access(r.dev, a, 4, IH_DMA_TO_DEVICE, &out), 0);
	s0 = dt_stats(&r.t);
	cr_assert_eq(ih_dma_unmap_page(r.dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	d = delta(&r, &s0);
	cr_expect_eq(d.tlbi, 0, "the knob drops the TLBI");
	cr_expect_eq(d.syncs, 1, "and keeps the CMD_SYNC");
	cr_expect_eq(ih_report_count(r.t.w, IH_REPORT_IOTLB_STALE_AT_FREE), 1);
	cr_assert(ih_report_last(r.t.w, &rep));
	cr_expect_str_eq(rep.dev, "smmuv3");
	cr_expect_str_eq(rep.call, "dma_unmap_page");
	cr_expect_eq(rep.iova, a);
	cr_expect_eq(rep.size, SZ_4K);

	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf + SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &b), 0);
	cr_expect_eq(b, a, "the IOVA is reused");
	cr_assert_eq(ih_dma_access(r.dev, b, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, r.t.buf, "the stale entry still points at the old PA");
	cr_expect_eq(ih_report_count(r.t.w, IH_REPORT_IOTLB_STALE_ACCESS), 1);
	cr_assert(ih_report_last(r.t.w, &rep));
	cr_expect_str_eq(rep.dev, "dev0");
	cr_expect_str_eq(rep.call, "device_dma");
	cr_expect_eq(rep.iova, b);
	cr_expect_eq(ih_report_total(r.t.w), 2);
	/* Freeing the domain's tables at teardown runs tlb_flush_all: a SYNC, no TLBI. */
	ih_report_reset(r.t.w);
	cr_assert_eq(ih_dma_unmap_page(r.dev, b, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	keeper_unmap(&r);
	down(&r, false);
}

/*
 * The knob also drops the flush queue's TLBI_NH_ASID (flush_iotlb_all is the same
 * helper), so a lazy domain is caught too, when the queue reclaims the IOVA.
 */
BOTH_MODES(forgotten_tlbi_is_caught_at_lazy_reclaim)
static void forgotten_tlbi_is_caught_at_lazy_reclaim(enum ih_exec_mode mode)
{
	struct rig r;
	struct ih_report rep;
	ih_pa_t out = 0;
	u64 a;

	up(&r, mode, IH_DOMAIN_DMA_FQ, true);
	keeper_map(&r);
	cr_assert_eq(ih_dma_map_page(r.dev, r.t.buf, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_access(r.dev, a, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_assert_eq(ih_dma_unmap_page(r.dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_report_total(r.t.w), 0, "queued: not free yet, not stale");
	ih_clock_advance(r.t.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	cr_expect_eq(ih_report_count(r.t.w, IH_REPORT_IOTLB_STALE_AT_FREE), 1);
	cr_assert(ih_report_last(r.t.w, &rep));
	cr_expect_str_eq(rep.call, "fq_reclaim");
	cr_expect_eq(rep.iova, a);
	ih_report_reset(r.t.w);
	keeper_unmap(&r);
	ih_clock_advance(r.t.w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	down(&r, false);
}
