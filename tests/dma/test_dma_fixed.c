// SPDX-License-Identifier: MIT
/* ih_dma_map_page_at / unmap_page_at: mappings at the caller's IOVA, strict and lazy. */
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

#define FIX_IOVA 0xfe980000ULL /* the 512 KiB coherent buffer of the trace */
#define SZ_8K	 0x2000UL
#define SZ_256K	 0x40000UL
#define SZ_512K	 0x80000UL

TestSuite(dma_fixed, .init = setup, .fini = teardown);

static bool iova_allocated(u64 iova, u64 *lo, u64 *hi)
{
	return ih_iova_find(ih_dma_iovad(dom()), iova >> 12, lo, hi) == 0;
}

static void iova_consistent(void)
{
	char msg[160];

	cr_expect_eq(ih_iova_check(ih_dma_iovad(dom()), msg, sizeof(msg)), 0, "%s", msg);
}

/*
 * Strict: the mapping sits exactly at the IOVA asked for (with the PA's offset), the
 * allocator's tree holds exactly those 128 pages, and the unmap syncs once before the
 * range goes back: afterwards the device faults and the tree no longer holds it.
 */
Test(dma_fixed, strict_map_at_translates_and_unmap_frees_the_range)
{
	ih_pa_t pa = 0x40000000, out = 0;
	u64 lo, hi;

	start(IH_DOMAIN_DMA);
	cr_assert_eq(ih_dma_map_page_at(dev, FIX_IOVA, pa, SZ_512K, IH_DMA_BIDIRECTIONAL, 0), 0);
	cr_assert(iova_allocated(FIX_IOVA + SZ_256K, &lo, &hi));
	cr_expect_eq(lo, FIX_IOVA >> 12);
	cr_expect_eq(hi, (FIX_IOVA + SZ_512K - 1) >> 12, "exactly 128 pages reserved");
	cr_assert_eq(ih_dma_access(dev, FIX_IOVA + 0x1234, 4, IH_DMA_FROM_DEVICE, &out), 0);
	cr_expect_eq(out, pa + 0x1234);
	cr_expect_eq(ih_dma_debug_live(w, dev), 1);
	iova_consistent();
	t.iotlb_sync = 0;
	cr_assert_eq(ih_dma_unmap_page_at(dev, FIX_IOVA, SZ_512K, IH_DMA_BIDIRECTIONAL, 0), 0);
	cr_expect_eq(t.iotlb_sync, 1);
	cr_expect_eq(ih_dma_access(dev, FIX_IOVA + 0x1234, 4, IH_DMA_FROM_DEVICE, NULL), -EFAULT);
	cr_expect_not(iova_allocated(FIX_IOVA, NULL, NULL), "back in the tree as free space");
	cr_expect_eq(ih_dma_debug_live(w, dev), 0);
	iova_consistent();
}

/* A DMA address keeps its offset; a PA with another offset inside the page is refused. */
Test(dma_fixed, offsets_must_agree)
{
	ih_pa_t out = 0;

	start(IH_DOMAIN_DMA);
	cr_expect_eq(
	    ih_dma_map_page_at(dev, FIX_IOVA + 0x10, 0x40000020, 0x100, IH_DMA_TO_DEVICE, 0),
	    -EINVAL);
	cr_expect_not(iova_allocated(FIX_IOVA, NULL, NULL), "nothing reserved on error");
	cr_assert_eq(
	    ih_dma_map_page_at(dev, FIX_IOVA + 0xff0, 0x40000ff0, 0x20, IH_DMA_TO_DEVICE, 0), 0);
	/* 0x20 bytes at offset 0xff0 cross into a second page: both are mapped. */
	cr_assert_eq(ih_dma_access(dev, FIX_IOVA + 0x1008, 1, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, 0x40001008);
	cr_assert_eq(ih_dma_unmap_page_at(dev, FIX_IOVA + 0xff0, 0x20, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_dma_map_page_at(dev, 0, 0, SZ_4K, IH_DMA_TO_DEVICE, 0), -EINVAL,
		     "pfn 0 is never handed out");
	cr_expect_eq(ih_dma_map_page_at(dev, 1ULL << 52, 1ULL << 52, SZ_4K, IH_DMA_TO_DEVICE, 0),
		     -EINVAL, "beyond the aperture");
}

/* Overlapping a live fixed range, in part or whole, is -EEXIST and changes nothing. */
Test(dma_fixed, overlapping_map_at_is_eexist)
{
	start(IH_DOMAIN_DMA);
	cr_assert_eq(ih_dma_map_page_at(dev, FIX_IOVA, 0x40000000, SZ_64K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_dma_map_page_at(dev, FIX_IOVA, 0x40000000, SZ_64K, IH_DMA_TO_DEVICE, 0),
		     -EEXIST);
	cr_expect_eq(ih_dma_map_page_at(dev, FIX_IOVA + SZ_64K - SZ_4K, 0x50000000, SZ_8K,
					IH_DMA_TO_DEVICE, 0),
		     -EEXIST, "last page overlaps");
	cr_expect_eq(
	    ih_dma_map_page_at(dev, FIX_IOVA - SZ_4K, 0x50000000, SZ_8K, IH_DMA_TO_DEVICE, 0),
	    -EEXIST, "first page overlaps");
	cr_assert_eq(
	    ih_dma_map_page_at(dev, FIX_IOVA + SZ_64K, 0x50000000, SZ_4K, IH_DMA_TO_DEVICE, 0), 0,
	    "the page just after is free");
	cr_expect_eq(ih_dma_debug_live(w, dev), 2);
	iova_consistent();
	cr_assert_eq(ih_dma_unmap_page_at(dev, FIX_IOVA, SZ_64K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_unmap_page_at(dev, FIX_IOVA + SZ_64K, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
}

/*
 * The allocator never hands out a fixed range: the first allocation takes the top of the
 * space; placing a fixed mapping exactly there after that IOVA was freed (it then sits in
 * a per-CPU cache) succeeds (the cache gives it back), and the next allocation goes around.
 */
Test(dma_fixed, allocations_never_overlap_a_fixed_range)
{
	u64 a, b;

	start(IH_DOMAIN_DMA);
	cr_assert_eq(ih_dma_map_page(dev, 0x40000000, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_map_page_at(dev, a, 0x40000000, SZ_4K, IH_DMA_TO_DEVICE, 0), 0,
		     "a cached range is not in use");
	iova_consistent();
	cr_assert_eq(ih_dma_map_page(dev, 0x40001000, SZ_4K, IH_DMA_TO_DEVICE, 0, &b), 0);
	cr_expect_neq(b, a);
	cr_assert_eq(ih_dma_unmap_page(dev, b, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_unmap_page_at(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	iova_consistent();
}

/*
 * Lazy: the unmap queues the range like any other (no sync, the TLB still translates it),
 * the same IOVA cannot be placed again while queued (-EEXIST), and after the 10 ms timeout
 * the range is back in the tree (not in a cache) and can be placed again.
 */
Test(dma_fixed, lazy_unmap_at_waits_in_the_flush_queue)
{
	struct ih_dma_fq_stats st;
	ih_pa_t out = 0;

	start(IH_DOMAIN_DMA_FQ);
	cr_assert(ih_dma_domain_is_lazy(dom()));
	/* A neighbour keeps the leaf table alive, so the TLB keeps what the unmap leaves. */
	cr_assert_eq(
	    ih_dma_map_page_at(dev, FIX_IOVA + SZ_8K, 0x40008000, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_map_page_at(dev, FIX_IOVA, 0x40000000, SZ_8K, IH_DMA_FROM_DEVICE, 0),
		     0);
	cr_assert_eq(ih_dma_access(dev, FIX_IOVA, 4, IH_DMA_FROM_DEVICE, &out), 0);
	t.iotlb_sync = 0;
	cr_assert_eq(ih_dma_unmap_page_at(dev, FIX_IOVA, SZ_8K, IH_DMA_FROM_DEVICE, 0), 0);
	cr_expect_eq(t.iotlb_sync, 0, "queued: no sync");
	cr_expect_eq(ih_dma_access(dev, FIX_IOVA, 4, IH_DMA_FROM_DEVICE, &out), 0, "stale hit");
	cr_expect_eq(out, 0x40000000);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 1);
	cr_expect(iova_allocated(FIX_IOVA, NULL, NULL), "queued, not free");
	cr_expect_eq(ih_dma_map_page_at(dev, FIX_IOVA, 0x40000000, SZ_4K, IH_DMA_TO_DEVICE, 0),
		     -EEXIST, "still waiting for its flush");
	ih_clock_advance(w, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
	cr_assert_eq(ih_dma_fq_get_stats(dom(), &st), 0);
	cr_expect_eq(st.queued, 0);
	cr_expect_eq(st.reclaimed, 1);
	cr_expect_eq(ih_dma_access(dev, FIX_IOVA, 4, IH_DMA_FROM_DEVICE, NULL), -EFAULT);
	cr_expect_not(iova_allocated(FIX_IOVA, NULL, NULL), "back in the tree");
	iova_consistent();
	cr_assert_eq(ih_dma_map_page_at(dev, FIX_IOVA, 0x40000000, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_unmap_page_at(dev, FIX_IOVA, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_assert_eq(ih_dma_unmap_page_at(dev, FIX_IOVA + SZ_8K, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	ih_dma_fq_flush(dom());
	iova_consistent();
}

/* dma-debug tells a fixed page from a page: the wrong unmap is reported and changes nothing. */
Test(dma_fixed, wrong_unmaps_are_reported)
{
	start(IH_DOMAIN_DMA);
	expect_clean = false;
	cr_assert_eq(ih_dma_map_page_at(dev, FIX_IOVA, 0x40000000, SZ_8K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_dma_unmap_page(dev, FIX_IOVA, SZ_8K, IH_DMA_TO_DEVICE, 0), -EINVAL);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_UNKNOWN_UNMAP), 1, "mapped as a fixed page");
	cr_expect_eq(ih_dma_unmap_page_at(dev, FIX_IOVA, SZ_4K, IH_DMA_TO_DEVICE, 0), -EINVAL);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_SIZE_MISMATCH), 1);
	cr_expect_eq(ih_dma_access(dev, FIX_IOVA + SZ_4K, 4, IH_DMA_TO_DEVICE, NULL), 0,
		     "still mapped");
	cr_assert_eq(ih_dma_unmap_page_at(dev, FIX_IOVA, SZ_8K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(ih_dma_unmap_page_at(dev, FIX_IOVA, SZ_8K, IH_DMA_TO_DEVICE, 0), -EINVAL);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_DOUBLE_UNMAP), 1);
	cr_expect_eq(ih_report_count(w, IH_REPORT_IOTLB_STALE_AT_FREE), 0);
}

/* An identity default domain has no IOVA space to place anything in. */
Test(dma_fixed, identity_domain_is_enodev)
{
	start(IH_DOMAIN_IDENTITY);
	cr_expect_eq(ih_dma_map_page_at(dev, FIX_IOVA, FIX_IOVA, SZ_4K, IH_DMA_TO_DEVICE, 0),
		     -ENODEV);
}

static void sweep_scenario(struct ih_world *sw, void *arg)
{
	enum ih_domain_type type = *(enum ih_domain_type *)arg;
	struct tiommu st;
	struct tfw sfw;
	struct tfw_entry e;
	struct tdriver sdrv;
	struct ih_device *d;
	int ret;

	memset(&st, 0, sizeof(st));
	e = (struct tfw_entry){"dev0", tiommu_fwnode(&st), 0x10};
	sfw = (struct tfw){.entries = &e, .count = 1};
	tfw_install(sw, &sfw);
	if (ih_bus_register(sw, &ih_platform_bus_type) ||
	    ih_iommu_set_default_domain_type(sw, type) || tiommu_register(sw, &st))
		goto out_fw;
	tdriver_init(&sdrv, "tdrv", false);
	if (ih_driver_register(sw, &sdrv.drv))
		goto out_iommu;
	d = tplat_add(sw, "dev0");
	if (d && ih_device_driver(d)) {
		ret = ih_dma_map_page_at(d, FIX_IOVA, 0x40000000, SZ_64K, IH_DMA_TO_DEVICE, 0);
		if (!ret) {
			cr_expect_eq(ih_dma_access(d, FIX_IOVA, 4, IH_DMA_TO_DEVICE, NULL), 0);
			cr_expect_eq(ih_dma_unmap_page_at(d, FIX_IOVA, SZ_64K, IH_DMA_TO_DEVICE, 0),
				     0);
			ih_clock_advance(sw, IH_DMA_FQ_PERCPU_TIMEOUT_NS);
		} else {
			/* -ENODEV: a failure earlier left the device without its DMA domain. */
			cr_expect(ret == -ENOMEM || ret == -ENODEV, "map_at: %d", ret);
			if (ret == -ENOMEM)
				cr_expect_eq(ih_dma_access(d, FIX_IOVA, 4, IH_DMA_TO_DEVICE, NULL),
					     -EFAULT, "nothing stays mapped");
		}
	}
	cr_expect_eq(ih_report_total(sw), 0, "a failed allocation confused a checker");
	if (d)
		ih_device_unregister(d);
	ih_driver_unregister(sw, &sdrv.drv);
out_iommu:
	ih_iommu_device_unregister(sw, &st.iommu);
out_fw:
	ih_iommu_set_fw_provider(sw, NULL, NULL);
}

/* Every allocation on the fixed path may fail: nothing stays mapped, reserved or leaked. */
Test(dma_fixed, each_allocation_may_fail)
{
	enum ih_domain_type types[] = {IH_DOMAIN_DMA, IH_DOMAIN_DMA_FQ};

	for (int i = 0; i < 2; i++) {
		cr_expect_geq(fault_sweep(sweep_scenario, &types[i], "iova:"), 1);
		cr_expect_geq(fault_sweep(sweep_scenario, &types[i], "check:"), 2);
	}
}
