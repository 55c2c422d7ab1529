// SPDX-License-Identifier: MIT
/* The DMA API over the test IOMMU: strict and lazy unmap, flush queue, sg, coherent, dma-debug. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/check.h>
#include <ih/clock.h>
#include <ih/dma.h>
#include <ih/iova.h>
#include <ih/physmem.h>
#include <ih/world.h>
#include "lib/fault_sweep.h"
#include "lib/test_iommu.h"
#include "dma_fixture.h"

#define SZ_8K 0x2000UL

TestSuite(dma, .init = setup, .fini = teardown);

/*
 * The io-pgtable frees a leaf table as soon as its last entry is unmapped, and flushes
 * its span from the TLB then (tlb_flush_walk), strict or lazy. Tests that look at what a
 * TLB keeps after an unmap first map a "keeper" page (the first allocation: the top of
 * the space), so the IOVAs that follow share its leaf table and the table stays.
 */
static u64 keeper_dma;

static void keeper_map(void)
{
	cr_assert_eq(ih_dma_map_page(dev, 0x80000000, SZ_4K, IH_DMA_TO_DEVICE, 0, &keeper_dma), 0);
}

static void keeper_unmap(void)
{
	cr_assert_eq(ih_dma_unmap_page(dev, keeper_dma, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
}

static ih_pa_t buf(size_t size)
{
	ih_pa_t pa = ih_pm_alloc(w, size, SZ_4K, "test:buf");

	cr_assert_neq(pa, IH_PA_INVALID);
	return pa;
}

/*
 * Strict: the DMA address keeps the offset, the device reaches the right PA, and the
 * unmap does one tlb_add_page and one iotlb_sync before the IOVA is free; then DMA faults.
 */
Test(dma, strict_map_translates_and_unmap_faults)
{
	ih_pa_t pa, out = 0;
	u64 dma;

	start(IH_DOMAIN_DMA);
	cr_expect_not(ih_dma_domain_is_lazy(dom()));
	pa = buf(SZ_8K);
	cr_assert_eq(ih_dma_map_page(dev, pa + 0x123, 0x100, IH_DMA_TO_DEVICE, 0, &dma), 0);
	cr_expect_eq(dma & 0xfff, 0x123);
	cr_expect_eq(ih_dma_debug_live(w, dev), 1);
	cr_assert_eq(ih_dma_access(dev, dma, 0x100, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, pa + 0x123);
	cr_expect_eq(tiommu_tlb_entries(&t), 1);
	t.tlb_add_page = t.iotlb_sync = 0;
	cr_assert_eq(ih_dma_unmap_page(dev, dma, 0x100, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(t.tlb_add_page, 1);
	cr_expect_eq(t.iotlb_sync, 1);
	cr_expect_eq(tiommu_tlb_entries(&t), 0, "the sync invalidated the entry");
	cr_expect_eq(ih_dma_access(dev, dma, 0x100, IH_DMA_TO_DEVICE, NULL), -EFAULT);
	cr_expect_eq(ih_dma_debug_live(w, dev), 0);
	ih_pm_free(w, pa, SZ_8K);
}

/* A mapping crossing a page boundary maps both pages; the IOVA comes back at once. */
Test(dma, strict_iova_is_reused_after_unmap)
{
	ih_pa_t pa = 0, out;
	u64 a, b;

	start(IH_DOMAIN_DMA);
	pa = buf(SZ_16K);
	cr_assert_eq(ih_dma_map_page(dev, pa + 0xff0, 0x20, IH_DMA_FROM_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_access(dev, a + 0x10, 1, IH_DMA_FROM_DEVICE, &out), 0);
	cr_expect_eq(out, pa + 0x1000, "second page of the mapping");
	cr_assert_eq(ih_dma_unmap_page(dev, a, 0x20, IH_DMA_FROM_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_map_page(dev, pa + 0x2000, 0x2000, IH_DMA_FROM_DEVICE, 0, &b), 0);
	cr_expect_eq(b, a - 0xff0, "the freed 2-page range is served from the CPU's cache");
	cr_assert_eq(ih_dma_unmap_page(dev, b, 0x2000, IH_DMA_FROM_DEVICE, 0), 0);
	ih_pm_free(w, pa, SZ_16K);
}

/*
 * Lazy: the unmap clears the table but invalidates nothing, so the device still reaches
 * the old PA through its TLB (no report: the IOVA is queued, not free). A new map gets
 * another IOVA. After the 10 ms timeout the queue is flushed: DMA faults and the IOVA is
 * reused.
 */
Test(dma, lazy_unmap_translates_until_the_timer_flushes)
{
	struct ih_dma_fq_stats st;
	ih_pa_t pa, out = 0;
	u64 a, b, c;

	start(IH_DOMAIN_DMA_FQ);
	cr_assert(ih_dma_domain_is_lazy(dom()));
	keeper_map();
	pa = buf(SZ_8K);
	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_BIDIRECTIONAL, 0, &a), 0);
	cr_assert_eq(ih_dma_access(dev, a, 8, IH_DMA_FROM_DEVICE, &out), 0);
	t.tlb_add_page = t.iotlb_sync = 0;
	cr_assert_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_BIDIRECTIONAL, 0), 0);
	cr_expect_eq(t.tlb_add_page, 0, "gather.queued: no leaf invalidation");
	cr_expect_eq(t.iotlb_sync, 0, "gather.queued: no sync");
	cr_expect_eq(ih_iommu_iova_to_phys(dom(), a), IH_PA_INVALID, "the table is clear");
	cr_expect_eq(ih_dma_access(dev, a, 8, IH_DMA_FROM_DEVICE, &out), 0, "stale TLB hit");
	cr_expect_eq(out, pa);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 1);
	cr_expect_eq(st.flush_started, 0);
	cr_assert_eq(ih_dma_map_page(dev, pa + SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &b), 0);
	cr_expect_neq(b, a, "a queued IOVA is not reusable yet");

	ih_clock_advance(w, IH_DMA_FQ_PERCPU_TIMEOUT_NS - 1);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 1, "not yet");
	ih_clock_advance(w, 1);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 0);
	cr_expect_eq(st.timer_flushes, 1);
	cr_expect_eq(st.flush_started, 1);
	cr_expect_eq(st.flush_finished, 1);
	cr_expect_eq(st.reclaimed, 1);
	cr_expect_eq(t.iotlb_flush_all, 1);
	cr_expect_eq(ih_dma_access(dev, a, 8, IH_DMA_FROM_DEVICE, NULL), -EFAULT);
	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_TO_DEVICE, 0, &c), 0);
	cr_expect_eq(c, a, "reclaimed IOVA reused");
	cr_assert_eq(ih_dma_unmap_page(dev, b, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, c, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	keeper_unmap();
	ih_pm_free(w, pa, SZ_8K);
}

/*
 * A ring of 4 holds 3 entries: the 4th unmap finds it full, flushes the IOTLB and
 * reclaims the 3 before queueing itself. The timer then flushes the last one.
 */
Test(dma, full_ring_forces_a_flush)
{
	struct ih_dma_fq_options o = {.type = IH_DMA_FQ_PERCPU, .size = 4};
	struct ih_dma_fq_stats st;
	u64 dma[4];
	ih_pa_t pa;

	cr_assert_eq(ih_dma_set_default_fq_options(w, &o), 0);
	start(IH_DOMAIN_DMA_FQ);
	pa = buf(SZ_16K);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(
		    ih_dma_map_page(dev, pa + i * SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &dma[i]), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(ih_dma_unmap_page(dev, dma[i], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 3);
	cr_expect_eq(st.full_flushes, 0);
	cr_assert_eq(ih_dma_unmap_page(dev, dma[3], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.full_flushes, 1);
	cr_expect_eq(st.reclaimed, 3);
	cr_expect_eq(st.queued, 1);
	cr_expect_eq(t.iotlb_flush_all, 1);
	ih_clock_advance(w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 0);
	cr_expect_eq(st.timer_flushes, 1);
	ih_pm_free(w, pa, SZ_16K);
}

/* Per-CPU rings: each CPU queues into its own; one timeout flushes both. Single: shared. */
Test(dma, percpu_and_single_queues)
{
	struct ih_dma_fq_options single = {.type = IH_DMA_FQ_SINGLE, .size = 4};
	struct ih_dma_fq_stats st;
	u64 dma[4];
	ih_pa_t pa;

	start(IH_DOMAIN_DMA_FQ);
	pa = buf(SZ_16K);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(
		    ih_dma_map_page(dev, pa + i * SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &dma[i]), 0);
	cr_assert_eq(ih_thread_set_cpu(w, 1), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, dma[0], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_thread_set_cpu(w, 0), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, dma[1], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 2);
	ih_clock_advance(w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 0);
	cr_expect_eq(st.reclaimed, 2);
	cr_expect_eq(t.iotlb_flush_all, 1, "one flush covers every ring");

	/* One shared ring of 4 (3 usable): CPUs 0 and 1 fill it together. */
	cr_assert_eq(ih_dma_set_fq_options(dom(), &single), 0);
	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_TO_DEVICE, 0, &dma[0]), 0);
	cr_assert_eq(ih_dma_map_page(dev, pa + SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &dma[1]), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, dma[0], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, dma[1], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_thread_set_cpu(w, 1), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, dma[2], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 3);
	cr_assert_eq(ih_dma_unmap_page(dev, dma[3], SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.full_flushes, 1, "the shared ring filled across CPUs");
	cr_assert_eq(ih_thread_set_cpu(w, 0), 0);
	ih_dma_fq_flush(dom());
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 0);
	ih_pm_free(w, pa, SZ_16K);
}

/*
 * A full ring while another CPU's flush is still in flight. CPU 0 starts a flush (started
 * 1, finished 0); in the middle of it CPU 1 queues 3 unmaps (stamped 1: its ring of 4 is
 * full) and a 4th: the forced flush makes started 2 but finished only 1, which does not
 * pass the stamps. The entries were queued before the forced flush started, so its
 * completion covers them: they are reclaimed and the 4th fits. (Going by the finished
 * count alone, the ring would stay full here; the TSan scenario first hit this.)
 */
static u64 inflight_dma[4];

static void unmap_on_cpu1_mid_flush(struct tiommu *ti)
{
	cr_assert_eq(ih_thread_set_cpu(w, 1), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(ih_dma_unmap_page(dev, inflight_dma[i], SZ_4K, IH_DMA_TO_DEVICE, 0),
			     0);
	cr_assert_eq(ih_thread_set_cpu(w, 0), 0);
}

Test(dma, full_ring_during_another_cpus_flush)
{
	struct ih_dma_fq_options o = {.type = IH_DMA_FQ_PERCPU, .size = 4};
	struct ih_dma_fq_stats st;
	u64 first;

	cr_assert_eq(ih_dma_set_default_fq_options(w, &o), 0);
	start(IH_DOMAIN_DMA_FQ);
	cr_assert_eq(ih_dma_map_page(dev, 0x80000000, SZ_4K, IH_DMA_TO_DEVICE, 0, &first), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(ih_dma_map_page(dev, 0x80001000 + i * SZ_4K, SZ_4K, IH_DMA_TO_DEVICE,
					     0, &inflight_dma[i]),
			     0);
	cr_assert_eq(ih_dma_unmap_page(dev, first, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	t.flush_all_hook = unmap_on_cpu1_mid_flush;
	ih_dma_fq_flush(dom());
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.flush_started, 2);
	cr_expect_eq(st.flush_finished, 2);
	cr_expect_eq(st.full_flushes, 1);
	cr_expect_eq(st.reclaimed, 4, "CPU 0's entry and CPU 1's first three");
	cr_expect_eq(st.queued, 1, "the 4th, stamped after the forced flush started");
	ih_clock_advance(w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 0);
}

/* A driver without flush_iotlb_all cannot have a flush queue: DMA-FQ becomes DMA. */
Test(dma, no_flush_all_falls_back_to_strict)
{
	t.no_flush_all = true;
	start(IH_DOMAIN_DMA_FQ);
	cr_expect_eq(dom()->type, IH_DOMAIN_DMA);
	cr_expect_not(ih_dma_domain_is_lazy(dom()));
	cr_expect_eq(ih_dma_init_fq(dom()), -EOPNOTSUPP);
}

/* The live flip: ih_dma_init_fq() on a strict domain makes the next unmap lazy. */
Test(dma, init_fq_makes_a_live_domain_lazy)
{
	struct ih_dma_fq_stats st;
	ih_pa_t pa;
	u64 a;

	start(IH_DOMAIN_DMA);
	pa = buf(SZ_4K);
	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_expect_eq(ih_dma_fq_get_stats(dom(), &st), -EINVAL);
	cr_assert_eq(ih_dma_init_fq(dom()), 0);
	cr_assert_eq(ih_dma_init_fq(dom()), 0, "idempotent");
	cr_assert(ih_dma_domain_is_lazy(dom()));
	t.iotlb_sync = 0;
	cr_assert_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(t.iotlb_sync, 0);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 1);
	ih_pm_free(w, pa, SZ_4K);
}

Test(dma, identity_domain_gives_iova_equal_pa)
{
	ih_pa_t pa, out;
	u64 dma;

	start(IH_DOMAIN_IDENTITY);
	pa = buf(SZ_4K);
	cr_assert_eq(ih_dma_map_page(dev, pa + 8, 64, IH_DMA_TO_DEVICE, 0, &dma), 0);
	cr_expect_eq(dma, pa + 8);
	cr_assert_eq(ih_dma_access(dev, dma, 64, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, pa + 8);
	cr_expect_eq(ih_dma_unmap_page(dev, dma, 64, IH_DMA_TO_DEVICE, 0), 0);
	ih_pm_free(w, pa, SZ_4K);
}

/* A device with no IOMMU (not in the firmware table) uses dma-direct: IOVA = PA. */
Test(dma, device_without_iommu_is_direct)
{
	struct ih_device *plain;
	ih_pa_t pa;
	u64 dma;

	start(IH_DOMAIN_DMA);
	plain = tplat_add(w, "plain");
	cr_assert_not_null(plain);
	cr_assert_eq(ih_device_driver(plain), &drv.drv);
	pa = buf(SZ_4K);
	cr_assert_eq(ih_dma_map_page(plain, pa, 16, IH_DMA_TO_DEVICE, 0, &dma), 0);
	cr_expect_eq(dma, pa);
	cr_expect_eq(ih_dma_unmap_page(plain, dma, 16, IH_DMA_TO_DEVICE, 0), 0);
	ih_device_unregister(plain);
	ih_pm_free(w, pa, SZ_4K);
}

/* A driver_managed_dma user claimed the group (blocked domain): DMA-API map is refused. */
Test(dma, map_in_a_blocked_group_is_refused)
{
	struct tdriver vfio;
	struct ih_report r;
	int owner;
	u64 dma;

	expect_clean = false;
	cr_assert_eq(tiommu_register(w, &t), 0);
	tdriver_init(&vfio, "vfio", true);
	cr_assert_eq(ih_driver_register(w, &vfio.drv), 0);
	dev = tplat_add(w, "dev0");
	cr_assert_eq(ih_device_driver(dev), &vfio.drv);
	cr_assert_eq(ih_iommu_device_claim_dma_owner(dev, &owner), 0);
	cr_expect_eq(ih_iommu_get_domain_for_dev(dev)->type, IH_DOMAIN_BLOCKED);
	cr_expect_eq(ih_dma_map_page(dev, 0x80000000, 16, IH_DMA_TO_DEVICE, 0, &dma), -ENODEV);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_NO_DOMAIN), 1);
	cr_assert(ih_report_last(w, &r));
	cr_expect_str_eq(r.dev, "dev0");
	cr_expect_str_eq(r.call, "dma_map_page");
	cr_expect(strstr(r.msg, "blocked") != NULL, "%s", r.msg);
	cr_expect_eq(ih_dma_debug_live(w, NULL), 0);
	ih_iommu_device_release_dma_owner(dev);
	ih_device_unregister(dev);
	dev = NULL;
	ih_driver_unregister(w, &vfio.drv);
}

Test(dma, map_without_a_driver_is_refused)
{
	struct ih_report r;
	u64 dma;

	expect_clean = false;
	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "dev0");
	cr_assert_null(ih_device_driver(dev));
	cr_expect_eq(ih_dma_map_page(dev, 0x80000000, 16, IH_DMA_TO_DEVICE, 0, &dma), -ENODEV);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_NO_DRIVER), 1);
	cr_expect_eq(ih_report_total(w), 1);
	cr_assert(ih_report_last(w, &r));
	cr_expect_str_eq(r.call, "dma_map_page");
	cr_expect_eq(ih_dma_debug_live(w, NULL), 0);
}

static void expect_last(enum ih_report_kind kind, const char *call, u64 iova)
{
	struct ih_report r;

	cr_assert(ih_report_last(w, &r));
	cr_expect_eq(r.kind, kind, "got %s", ih_report_kind_name(r.kind));
	cr_expect_str_eq(r.dev, "dev0");
	cr_expect_str_eq(r.call, call);
	cr_expect_eq(r.iova, iova);
}

/*
 * Every dma-debug unmap error: a negative errno, one report of the right kind naming the
 * device, the call and the address, and the mapping left intact (the right unmap works).
 */
Test(dma, bad_unmaps_are_reported_and_change_nothing)
{
	ih_pa_t pa, out;
	u64 dma;

	expect_clean = false;
	start(IH_DOMAIN_DMA);
	pa = buf(SZ_4K);
	cr_assert_eq(ih_dma_map_page(dev, pa, 0x200, IH_DMA_TO_DEVICE, 0, &dma), 0);

	cr_expect_eq(ih_dma_unmap_page(dev, dma + SZ_4K, 0x200, IH_DMA_TO_DEVICE, 0), -EINVAL);
	expect_last(IH_REPORT_DMA_UNKNOWN_UNMAP, "dma_unmap_page", dma + SZ_4K);
	cr_expect_eq(ih_dma_unmap_page(dev, dma, 0x100, IH_DMA_TO_DEVICE, 0), -EINVAL);
	expect_last(IH_REPORT_DMA_SIZE_MISMATCH, "dma_unmap_page", dma);
	cr_expect_eq(ih_dma_unmap_page(dev, dma, 0x200, IH_DMA_FROM_DEVICE, 0), -EINVAL);
	expect_last(IH_REPORT_DMA_DIR_MISMATCH, "dma_unmap_page", dma);
	cr_expect_eq(ih_dma_free_coherent(dev, 0x200, pa, dma), -EINVAL, "mapped as a page");
	expect_last(IH_REPORT_DMA_UNKNOWN_UNMAP, "dma_free_coherent", dma);
	cr_expect_eq(ih_report_total(w), 4);

	cr_assert_eq(ih_dma_access(dev, dma, 0x200, IH_DMA_TO_DEVICE, &out), 0, "still mapped");
	cr_expect_eq(out, pa);
	cr_expect_eq(ih_dma_unmap_page(dev, dma, 0x200, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_dma_unmap_page(dev, dma, 0x200, IH_DMA_TO_DEVICE, 0), -EINVAL);
	expect_last(IH_REPORT_DMA_DOUBLE_UNMAP, "dma_unmap_page", dma);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_DOUBLE_UNMAP), 1);
	cr_expect_eq(ih_report_count(w, IH_REPORT_IOTLB_STALE_AT_FREE), 0);
	ih_pm_free(w, pa, SZ_4K);
}

/*
 * sg list: three entries with offsets get consecutive granule slices of one IOVA range;
 * each reaches its PA; unmap_sg releases everything; a wrong count is a size mismatch.
 */
Test(dma, sg_list_is_one_contiguous_iova_range)
{
	struct ih_dma_sg sg[3];
	ih_pa_t a, b, c, out;
	u64 base;

	start(IH_DOMAIN_DMA);
	a = buf(SZ_4K);
	b = buf(SZ_8K);
	c = buf(SZ_8K);
	memset(sg, 0, sizeof(sg));
	sg[0] = (struct ih_dma_sg){.pa = a + 0x10, .length = 0x100};
	sg[1] = (struct ih_dma_sg){.pa = b, .length = 0x2000};
	sg[2] = (struct ih_dma_sg){.pa = c + 0xff0, .length = 0x20};
	cr_assert_eq(ih_dma_map_sg(dev, sg, 3, IH_DMA_BIDIRECTIONAL, 0), 3);
	base = sg[0].dma_address - 0x10;
	cr_expect_eq(base & 0xfff, 0);
	cr_expect_eq(sg[1].dma_address, base + 0x1000);
	cr_expect_eq(sg[2].dma_address, base + 0x3ff0);
	cr_expect_eq(sg[2].dma_length, 0x20);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(
		    ih_dma_access(dev, sg[i].dma_address, sg[i].length, IH_DMA_FROM_DEVICE, &out),
		    0);
		cr_expect_eq(out, sg[i].pa);
	}
	cr_assert_eq(ih_dma_access(dev, sg[2].dma_address + 0x10, 1, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, c + 0x1000);
	cr_expect_eq(ih_dma_unmap_sg(dev, sg, 2, IH_DMA_BIDIRECTIONAL, 0), -EINVAL);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_SIZE_MISMATCH), 1);
	ih_report_reset(w);
	cr_assert_eq(ih_dma_unmap_sg(dev, sg, 3, IH_DMA_BIDIRECTIONAL, 0), 0);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(ih_dma_access(dev, sg[i].dma_address, 1, IH_DMA_TO_DEVICE, NULL),
			     -EFAULT);
	ih_pm_free(w, a, SZ_4K);
	ih_pm_free(w, b, SZ_8K);
	ih_pm_free(w, c, SZ_8K);
}

Test(dma, coherent_buffer_round_trip)
{
	ih_pa_t pa, out;
	u64 dma;
	u32 *cpu;

	expect_clean = false;
	start(IH_DOMAIN_DMA_FQ);
	cr_assert_eq(ih_dma_alloc_coherent(dev, 0x1800, &dma, &pa), 0);
	cr_expect_eq(pa & 0xfff, 0);
	cpu = ih_pm_va(w, pa, 0x1800);
	cr_assert_not_null(cpu);
	cpu[0x1000 / 4] = 0xfeedf00d;
	cr_assert_eq(ih_dma_access(dev, dma + 0x1000, 4, IH_DMA_FROM_DEVICE, &out), 0);
	cr_expect_eq(out, pa + 0x1000);
	cr_expect_eq(ih_dma_free_coherent(dev, 0x1800, pa + SZ_4K, dma), -EINVAL,
		     "wrong CPU address");
	cr_expect_eq(ih_dma_free_coherent(dev, 0x1800, pa, dma), 0);
	cr_expect_eq(ih_report_total(w), 1);
	cr_expect_eq(ih_dma_free_coherent(dev, 0x1800, pa, dma), -EINVAL);
	expect_last(IH_REPORT_DMA_DOUBLE_UNMAP, "dma_free_coherent", dma);
}

/*
 * Mappings still live when the driver unbinds are reported; a later unmap from the
 * unbound device is reported too, and still releases the mapping.
 */
Test(dma, unbind_with_live_mappings_is_reported)
{
	ih_pa_t pa;
	u64 a, b;

	expect_clean = false;
	start(IH_DOMAIN_DMA);
	pa = buf(SZ_8K);
	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_map_page(dev, pa + SZ_4K, 8, IH_DMA_TO_DEVICE, 0, &b), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, b, 8, IH_DMA_TO_DEVICE, 0), 0);
	ih_device_unbind(dev);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_LEAK_AT_UNBIND), 1);
	expect_last(IH_REPORT_DMA_LEAK_AT_UNBIND, "driver_unbind", a);
	cr_expect_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_NO_DRIVER), 1);
	cr_expect_eq(ih_dma_debug_live(w, dev), 0);
	cr_expect_eq(ih_report_total(w), 2);
	ih_pm_free(w, pa, SZ_8K);
}

/* A DMA domain freed with a mapping still live: the mapping and its IOVA are reported. */
Test(dma, domain_freed_with_live_mappings_is_reported)
{
	struct ih_report r;
	ih_pa_t pa;
	u64 a;

	expect_clean = false;
	start(IH_DOMAIN_DMA_FQ);
	pa = buf(SZ_4K);
	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	ih_device_unregister(dev);
	dev = NULL;
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_LEAK_AT_UNBIND), 1);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_LEAK_AT_DOMAIN_FREE), 1);
	cr_expect_eq(ih_report_count(w, IH_REPORT_IOVA_LEAK), 1);
	cr_assert(ih_report_last(w, &r));
	cr_expect_eq(r.kind, IH_REPORT_IOVA_LEAK);
	cr_expect_eq(r.iova, a);
	cr_expect_eq(r.size, SZ_4K);
	cr_expect(strstr(r.dev, "dev0") != NULL, "the IOVA domain is named after it: %s", r.dev);
	cr_expect_eq(ih_dma_debug_live(w, NULL), 0);
	ih_pm_free(w, pa, SZ_4K);
}

/*
 * A driver whose iotlb_sync forgets the TLBI: the staleness checker reports the IOVA at
 * its free (the TLB still translates it) and the device's next DMA through the stale
 * entry once the IOVA maps another PA. This is what shows the checker can fail.
 */
Test(dma, forgetful_iotlb_sync_is_caught)
{
	struct ih_report r;
	ih_pa_t pa, out;
	u64 a, b;

	expect_clean = false;
	t.forgetful_sync = true;
	start(IH_DOMAIN_DMA);
	keeper_map();
	pa = buf(SZ_8K);
	/* No DMA before the unmap: nothing cached, nothing stale, nothing reported. */
	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_report_total(w), 0);

	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_access(dev, a, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_report_count(w, IH_REPORT_IOTLB_STALE_AT_FREE), 1);
	cr_assert(ih_report_last(w, &r));
	cr_expect_str_eq(r.dev, "tiommu");
	cr_expect_str_eq(r.call, "dma_unmap_page");
	cr_expect_eq(r.iova, a);
	cr_expect_eq(r.size, SZ_4K);

	cr_assert_eq(ih_dma_map_page(dev, pa + SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0, &b), 0);
	cr_expect_eq(b, a, "the IOVA is reused");
	cr_assert_eq(ih_dma_access(dev, b, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, pa, "the stale entry still points at the old PA");
	cr_expect_eq(ih_report_count(w, IH_REPORT_IOTLB_STALE_ACCESS), 1);
	cr_assert(ih_report_last(w, &r));
	cr_expect_str_eq(r.dev, "dev0");
	cr_expect_str_eq(r.call, "device_dma");
	cr_expect_eq(r.iova, b);
	cr_expect(strstr(r.msg, "maps it to PA") != NULL, "%s", r.msg);
	t.forgetful_sync = false;
	cr_assert_eq(ih_dma_unmap_page(dev, b, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	keeper_unmap();
	ih_pm_free(w, pa, SZ_8K);
}

/* The same driver bug in a lazy domain is harmless: the queue's flush-all covers it. */
Test(dma, forgetful_sync_is_harmless_when_lazy)
{
	ih_pa_t pa, out;
	u64 a;

	t.forgetful_sync = true;
	start(IH_DOMAIN_DMA_FQ);
	keeper_map();
	pa = buf(SZ_4K);
	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_access(dev, a, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_dma_access(dev, a, 4, IH_DMA_TO_DEVICE, NULL), 0, "lazy window");
	ih_clock_advance(w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	cr_expect_eq(ih_dma_access(dev, a, 4, IH_DMA_TO_DEVICE, NULL), -EFAULT);
	keeper_unmap();
	ih_pm_free(w, pa, SZ_4K);
}

/* Turning the checkers off stops the bookkeeping: nothing recorded, nothing reported. */
Test(dma, checkers_can_be_switched_off)
{
	ih_pa_t pa;
	u64 a;

	ih_check_set_enabled(w, 0);
	cr_expect_eq(ih_check_enabled(w), 0);
	start(IH_DOMAIN_DMA);
	pa = buf(SZ_4K);
	cr_assert_eq(ih_dma_map_page(dev, pa, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_expect_eq(ih_dma_debug_live(w, NULL), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	ih_pm_free(w, pa, SZ_4K);
	ih_check_set_enabled(w, IH_CHECK_ALL);
}

/* Scenario for the fault sweep: strict and lazy devices, every kind of call, teardown. */
static void sweep_scenario(struct ih_world *sw, void *arg)
{
	enum ih_domain_type type = *(enum ih_domain_type *)arg;
	struct tiommu st;
	struct tfw sfw;
	struct tfw_entry se = {"dev0", tiommu_fwnode(&st), 0x10};
	struct tdriver sd;
	struct ih_device *d;
	struct ih_dma_sg sg[2] = {{.pa = 0x80001000, .length = 0x1800},
				  {.pa = 0x80004010, .length = 0x10}};
	ih_pa_t cpa;
	u64 dma[3];
	int ok[3];

	memset(&st, 0, sizeof(st));
	if (ih_bus_register(sw, &ih_platform_bus_type))
		return;
	sfw = (struct tfw){.entries = &se, .count = 1};
	tfw_install(sw, &sfw);
	if (ih_iommu_set_default_domain_type(sw, type) || tiommu_register(sw, &st))
		return;
	tdriver_init(&sd, "tdrv", false);
	if (ih_driver_register(sw, &sd.drv))
		goto out_iommu;
	d = tplat_add(sw, "dev0");
	if (!d)
		goto out_driver;
	if (ih_device_driver(d)) {
		ok[0] = ih_dma_map_page(d, 0x80000000, 0x3000, IH_DMA_TO_DEVICE, 0, &dma[0]) == 0;
		ok[1] = ih_dma_map_sg(d, sg, 2, IH_DMA_FROM_DEVICE, 0) == 2;
		ok[2] = ih_dma_alloc_coherent(d, 0x100, &dma[2], &cpa) == 0;
		if (ok[0])
			cr_assert_eq(ih_dma_unmap_page(d, dma[0], 0x3000, IH_DMA_TO_DEVICE, 0), 0);
		if (ok[1])
			cr_assert_eq(ih_dma_unmap_sg(d, sg, 2, IH_DMA_FROM_DEVICE, 0), 0);
		if (ok[2])
			cr_assert_eq(ih_dma_free_coherent(d, 0x100, cpa, dma[2]), 0);
		ih_clock_advance(sw, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	}
	cr_assert_eq(ih_report_total(sw), 0, "a failed allocation confused a checker");
	ih_device_unregister(d);
out_driver:
	ih_driver_unregister(sw, &sd.drv);
out_iommu:
	ih_iommu_device_unregister(sw, &st.iommu);
}

Test(dma, each_dma_allocation_may_fail)
{
	enum ih_domain_type types[] = {IH_DOMAIN_DMA, IH_DOMAIN_DMA_FQ};

	for (int i = 0; i < 2; i++) {
		cr_expect_geq(fault_sweep(sweep_scenario, &types[i], "dma:"), 2);
		cr_expect_geq(fault_sweep(sweep_scenario, &types[i], "check:"), 3);
		cr_expect_geq(fault_sweep(sweep_scenario, &types[i], "iova:"), 3);
	}
}
