// SPDX-License-Identifier: MIT
/* Trace replay: attribution, placement, findings with line numbers, both backends. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/check.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/iommu_group.h>
#include <ih/iova.h>
#include <ih/trace.h>
#include <ih/trace_replay.h>
#include <ih/world.h>
#include "board/trace_backend.h"

#define NVME	"0000:c2:00.0"
#define NIC	"0000:03:00.1"
#define SZ_8K	0x2000UL
#define SZ_512K 0x80000UL

static struct ih_trace_hw *hw;
static struct ih_trace_replay *rp;
static u64 next_line;

static void up(enum ih_trace_hw_kind kind, bool lazy, bool fast, bool dma_access,
	       const char *device)
{
	struct ih_trace_hw_config hc = {.kind = kind, .lazy = lazy};
	struct ih_trace_replay_config rc = {
	    .ops = ih_trace_hw_ops(), .fast = fast, .dma_access = dma_access, .device = device};

	cr_assert_eq(ih_trace_hw_create(&hc, &hw), 0);
	rc.opaque = hw;
	cr_assert_eq(ih_trace_replay_create(ih_trace_hw_world(hw), &rc, &rp), 0);
	next_line = 1;
}

static void down(void)
{
	ih_trace_replay_destroy(rp);
	cr_expect_eq(ih_trace_hw_destroy(hw), 0, "the replay leaked model memory");
}

/* ---- Events as the parser returns them ---- */

static struct ih_trace_event ev_base(enum ih_trace_kind kind, u64 ts_us, int cpu)
{
	struct ih_trace_event e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.line = next_line++;
	e.ts_ns = ts_us * 1000;
	e.cpu = cpu;
	e.pid = 100 + cpu;
	snprintf(e.comm, sizeof(e.comm), "kworker/%d", cpu);
	e.group_id = -1;
	return e;
}

static u64 feed(struct ih_trace_event e)
{
	cr_assert_eq(ih_trace_replay_event(rp, &e), 0);
	return e.line;
}

static u64 iommu_map(u64 ts_us, int cpu, u64 iova, u64 size)
{
	struct ih_trace_event e = ev_base(IH_TRACE_MAP, ts_us, cpu);

	e.iova = iova;
	e.iova_end = iova + size;
	e.paddr = 0x880000000ULL + iova;
	e.size = size;
	return feed(e);
}

static u64 iommu_unmap(u64 ts_us, int cpu, u64 iova, u64 size)
{
	struct ih_trace_event e = ev_base(IH_TRACE_UNMAP, ts_us, cpu);

	e.iova = iova;
	e.iova_end = iova + size;
	e.size = size;
	e.unmapped_size = size;
	return feed(e);
}

static u64 dma_rec(enum ih_trace_kind kind, u64 ts_us, int cpu, const char *dev, u64 iova, u64 size)
{
	struct ih_trace_event e = ev_base(kind, ts_us, cpu);

	snprintf(e.device, sizeof(e.device), "%s", dev);
	e.iova = iova;
	e.size = size;
	e.dir = IH_TRACE_DIR_BIDIRECTIONAL;
	return feed(e);
}

static u64 fault(u64 ts_us, const char *dev, u64 iova, bool write)
{
	struct ih_trace_event e = ev_base(IH_TRACE_IO_PAGE_FAULT, ts_us, 0);

	snprintf(e.device, sizeof(e.device), "%s", dev);
	snprintf(e.driver, sizeof(e.driver), "arm-smmu-v3");
	e.iova = iova;
	e.flags = write;
	return feed(e);
}

/* dma_map_page as the kernel traces it: iommu:map inside, then the dma: record. */
static u64 map_page(u64 ts_us, int cpu, const char *dev, u64 iova, u64 size)
{
	u64 line = iommu_map(ts_us, cpu, iova, size);

	dma_rec(IH_TRACE_DMA_MAP, ts_us, cpu, dev, iova, size);
	return line;
}

static u64 unmap_page(u64 ts_us, int cpu, const char *dev, u64 iova, u64 size)
{
	u64 line = iommu_unmap(ts_us, cpu, iova, size);

	dma_rec(IH_TRACE_DMA_UNMAP, ts_us, cpu, dev, iova, size);
	return line;
}

static void finish(void)
{
	cr_assert_eq(ih_trace_replay_finish(rp), 0);
}

static struct ih_trace_dev_summary dev_sum(const char *name)
{
	struct ih_trace_dev_summary s;

	for (size_t i = 0; i < ih_trace_replay_ndevices(rp); i++) {
		cr_assert_eq(ih_trace_replay_device(rp, i, &s), 0);
		if (!strcmp(s.name, name))
			return s;
	}
	cr_assert_fail("no device %s in the replay", name);
	return s;
}

static const struct ih_trace_finding *only_finding(enum ih_trace_finding_kind kind)
{
	cr_assert_eq(ih_trace_replay_nfindings(rp), 1, "%llu findings",
		     (unsigned long long)ih_trace_replay_nfindings(rp));
	cr_assert_eq(ih_trace_replay_finding(rp, 0)->kind, kind, "found %s",
		     ih_trace_finding_name(ih_trace_replay_finding(rp, 0)->kind));
	return ih_trace_replay_finding(rp, 0);
}

/* ---- Tests ---- */

/*
 * The pattern: a 512 KiB coherent buffer allocated at boot, freed minutes later,
 * and a device write 6 ms after the unmap. Strict: the access faults (as on the traced
 * machine) and the finding names both lines; 6 ms is inside the 10 ms lazy window.
 */
Test(trace_replay, access_after_unmap_names_both_lines)
{
	u64 unmap_line, fault_line;
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	iommu_map(5000000, 1, 0xfe980000, SZ_512K);
	dma_rec(IH_TRACE_DMA_ALLOC, 5000000, 1, NVME, 0xfe980000, SZ_512K);
	dma_rec(IH_TRACE_DMA_FREE, 185000000, 2, NVME, 0xfe980000, SZ_512K);
	unmap_line = iommu_unmap(185000000, 2, 0xfe980000, SZ_512K);
	fault_line = fault(185006000, NVME, 0xfe9a0040, true);
	finish();
	f = only_finding(IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect_str_eq(f->device, NVME);
	cr_expect_eq(f->line, fault_line);
	cr_expect_eq(f->other_line, unmap_line);
	cr_expect_eq(unmap_line, 4);
	cr_expect_eq(fault_line, 5);
	cr_expect_eq(f->iova, 0xfe9a0040);
	cr_expect_eq(f->other_size, SZ_512K);
	cr_expect(f->write);
	cr_expect_not(f->translated, "strict: the IOMMU faults the access");
	cr_expect_not(f->tlb_hit);
	cr_expect(f->lazy_window, "6 ms < 10 ms: lazy would still have had it queued");
	cr_expect_eq(f->ts_ns - f->other_ts_ns, 6000000);
	cr_expect_eq(dev_sum(NVME).maps, 1);
	cr_expect_eq(dev_sum(NVME).unmaps, 1);
	cr_expect_eq(dev_sum(NVME).faults, 1);
	down();
}

/*
 * Lazy with the dma-access model: the device read the buffer while it was mapped, so the
 * IOTLB holds it; 6 ms after the lazy unmap (timeout 10 ms) the write goes through the
 * stale entry: the hardware answer the finding carries. The flush at 10 ms ends it.
 */
Test(trace_replay, lazy_stale_entry_lets_the_late_access_through)
{
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, true, false, true, NULL);
	/* A neighbour keeps the leaf table (and the TLB entry) alive across the unmap. */
	map_page(1000, 0, NVME, 0xfe800000, SZ_4K);
	map_page(2000, 1, NVME, 0xfe980000, SZ_512K);
	unmap_page(90000, 2, NVME, 0xfe980000, SZ_512K);
	fault(96000, NVME, 0xfe980000, true);
	fault(101000, NVME, 0xfe980000, true); /* 11 ms: flushed by the timer */
	unmap_page(120000, 0, NVME, 0xfe800000, SZ_4K);
	finish();
	cr_assert_eq(ih_trace_replay_nfindings(rp), 2);
	f = ih_trace_replay_finding(rp, 0);
	cr_expect_eq(f->kind, IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect(f->tlb_hit, "the stale entry is still in the TLB");
	cr_expect(f->translated, "and lets the write through");
	cr_expect(f->lazy_window);
	f = ih_trace_replay_finding(rp, 1);
	cr_expect_eq(f->kind, IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect_not(f->translated, "after the timeout flush it faults");
	cr_expect_not(f->lazy_window);
	cr_expect(dev_sum(NVME).lazy);
	down();
}

/* Unmap of a range nothing maps; a second unmap of a range names the first (double unmap). */
Test(trace_replay, unmap_of_unmapped_range)
{
	const struct ih_trace_finding *f;
	u64 first, second;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	map_page(10, 0, NVME, 0xfff00000, SZ_4K);
	first = unmap_page(20, 0, NVME, 0xfff00000, SZ_4K);
	second = unmap_page(30, 0, NVME, 0xfff00000, SZ_4K);
	finish();
	f = only_finding(IH_TRACE_FIND_UNMAP_UNMAPPED);
	cr_expect_eq(f->line, second);
	cr_expect_eq(f->other_line, first);
	cr_expect_str_eq(f->device, NVME);
	down();
}

/*
 * An unmap of 8K where 16K was mapped: reported with the map's line; as in the kernel,
 * the other 8K stay mapped (live at the end).
 */
Test(trace_replay, unmap_size_differs_from_map)
{
	const struct ih_trace_finding *f;
	u64 map_line, unmap_line;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	map_line = map_page(10, 0, NVME, 0xfff00000, SZ_16K);
	unmap_line = unmap_page(20, 0, NVME, 0xfff00000, 0x2000);
	finish();
	cr_assert_eq(ih_trace_replay_nfindings(rp), 2);
	f = ih_trace_replay_finding(rp, 0);
	cr_expect_eq(f->kind, IH_TRACE_FIND_UNMAP_SIZE);
	cr_expect_eq(f->line, unmap_line);
	cr_expect_eq(f->other_line, map_line);
	cr_expect_eq(f->size, 0x2000);
	cr_expect_eq(f->other_size, SZ_16K);
	f = ih_trace_replay_finding(rp, 1);
	cr_expect_eq(f->kind, IH_TRACE_FIND_LIVE_AT_END);
	cr_expect_eq(f->iova, 0xfff02000);
	cr_expect_eq(f->size, 0x2000);
	cr_expect_eq(dev_sum(NVME).live, 1);
	down();
}

/*
 * iommu:unmap printing unmapped_size below size: the kernel stopped at a hole. 8K asked,
 * 4K unmapped: only the mapped 4K go, and the record is a size finding even though what
 * went matches the 4K map exactly; the neighbour mapped after the hole stays.
 */
Test(trace_replay, unmapped_size_short_of_size_unmaps_only_that)
{
	struct ih_trace_event e;
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	map_page(10, 0, NVME, 0xfff00000, SZ_4K);		/* lines 1, 2 */
	map_page(11, 0, NVME, 0xfff02000, SZ_4K);		/* lines 3, 4 */
	e = ev_base(IH_TRACE_UNMAP, 20, 0);			/* line 5 */
	e.iova = 0xfff00000;
	e.size = 3 * SZ_4K;
	e.iova_end = e.iova + e.size;
	e.unmapped_size = SZ_4K;
	feed(e);
	finish();
	cr_assert_eq(ih_trace_replay_nfindings(rp), 2);
	f = ih_trace_replay_finding(rp, 0);
	cr_expect_eq(f->kind, IH_TRACE_FIND_UNMAP_SIZE);
	cr_expect_eq(f->line, 5);
	cr_expect_eq(f->size, 3 * SZ_4K);
	cr_expect_eq(f->other_line, 1);
	cr_expect_eq(f->other_size, SZ_4K);
	f = ih_trace_replay_finding(rp, 1);
	cr_expect_eq(f->kind, IH_TRACE_FIND_LIVE_AT_END);
	cr_expect_eq(f->line, 3);
	cr_expect_eq(f->count, 1);
	down();
}

/* One unmap covering exactly several adjacent maps (an sg list) is not a finding. */
Test(trace_replay, one_unmap_of_adjacent_maps_is_clean)
{
	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	iommu_map(10, 0, 0xfff00000, SZ_4K);
	iommu_map(10, 0, 0xfff01000, SZ_4K);
	dma_rec(IH_TRACE_DMA_MAP_SG, 10, 0, NIC, 0xfff00000, SZ_4K);
	dma_rec(IH_TRACE_DMA_MAP_SG, 10, 0, NIC, 0xfff01000, SZ_4K);
	iommu_unmap(20, 0, 0xfff00000, 2 * SZ_4K);
	dma_rec(IH_TRACE_DMA_UNMAP_SG, 20, 0, NIC, 0xfff00000, SZ_4K);
	finish();
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0);
	cr_expect_eq(dev_sum(NIC).maps, 2);
	cr_expect_eq(dev_sum(NIC).unmaps, 1);
	down();
}

/* A map over a live mapping names the live one; the replay follows the trace. */
Test(trace_replay, map_over_live_mapping)
{
	const struct ih_trace_finding *f;
	u64 a, b;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	a = map_page(10, 0, NVME, 0xfff00000, SZ_16K);
	b = map_page(20, 0, NVME, 0xfff02000, SZ_4K);
	unmap_page(30, 0, NVME, 0xfff02000, SZ_4K);
	finish();
	f = only_finding(IH_TRACE_FIND_MAP_OVER_LIVE);
	cr_expect_eq(f->line, b);
	cr_expect_eq(f->other_line, a);
	cr_expect_eq(f->other_size, SZ_16K);
	down();
}

/* Mappings live at the end: one finding per device, counting them, naming the oldest. */
Test(trace_replay, live_at_end_per_device)
{
	const struct ih_trace_finding *f;
	u64 oldest;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	oldest = map_page(10, 0, NVME, 0xfff00000, SZ_4K);
	map_page(20, 0, NVME, 0xffe00000, SZ_8K);
	map_page(30, 0, NIC, 0xfff00000, SZ_4K);
	unmap_page(40, 0, NIC, 0xfff00000, SZ_4K);
	finish();
	f = only_finding(IH_TRACE_FIND_LIVE_AT_END);
	cr_expect_str_eq(f->device, NVME);
	cr_expect_eq(f->count, 2);
	cr_expect_eq(f->size, SZ_4K + SZ_8K);
	cr_expect_eq(f->line, oldest);
	down();
}

/* A device access at an IOVA nobody ever mapped. */
Test(trace_replay, access_to_never_mapped_iova)
{
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	fault(10, NVME, 0x1000, false);
	finish();
	f = only_finding(IH_TRACE_FIND_ACCESS_UNMAPPED);
	cr_expect_eq(f->line, 1);
	cr_expect_eq(f->other_line, 0);
	cr_expect_not(f->translated);
	down();
}

/*
 * Attribution: interleaved CPUs, each map paired with the dma: record of its own CPU and
 * task; the footprint peaks per device; no finding on a clean sequence.
 */
Test(trace_replay, attribution_follows_cpu_and_task)
{
	struct ih_trace_replay_stats st;
	struct ih_trace_dev_summary nvme, nic;

	up(IH_TRACE_HW_SMMUV3, true, false, true, NULL);
	iommu_map(10, 0, 0xfff00000, SZ_4K);
	iommu_map(10, 1, 0xfff00000 - SZ_64K, SZ_64K);
	dma_rec(IH_TRACE_DMA_MAP, 10, 1, NIC, 0xfff00000 - SZ_64K, SZ_64K);
	dma_rec(IH_TRACE_DMA_MAP, 10, 0, NVME, 0xfff00000, SZ_4K);
	unmap_page(20, 1, NIC, 0xfff00000 - SZ_64K, SZ_64K);
	unmap_page(30, 0, NVME, 0xfff00000, SZ_4K);
	finish();
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0);
	nvme = dev_sum(NVME);
	nic = dev_sum(NIC);
	cr_expect_eq(nvme.maps, 1);
	cr_expect_eq(nic.maps, 1);
	cr_expect_eq(nvme.peak_bytes, SZ_4K);
	cr_expect_eq(nic.peak_bytes, SZ_64K);
	cr_expect_eq(nic.peak_line, 2);
	cr_expect_eq(nic.hist[4], 1, "64K lands in bucket (32K, 64K]");
	cr_expect_eq(nvme.hist[0], 1);
	cr_expect_eq(nvme.accesses, 1, "the dma-access model touched the new mapping");
	cr_expect_eq(nvme.faults, 0);
	ih_trace_replay_get_stats(rp, &st);
	cr_expect_eq(st.attributed, 4);
	cr_expect_eq(st.fallback, 0);
	cr_expect_eq(st.applied_maps, 2);
	cr_expect_eq(st.applied_unmaps, 2);
	down();
}

/* Without dma: records, map/unmap go to --device; the replay's mapping is in the model. */
Test(trace_replay, unattributed_ops_go_to_the_named_device)
{
	struct ih_trace_replay_stats st;
	u64 lo, hi;

	up(IH_TRACE_HW_SMMUV3, false, true, false, "gpu0");
	iommu_map(10, 0, 0x100000000ULL, SZ_2M);
	iommu_map(11, 0, 0x100200000ULL, SZ_4K);
	iommu_unmap(12, 0, 0x100200000ULL, SZ_4K);
	for (int i = 0; i < IH_TRACE_REPLAY_WINDOW; i++)
		iommu_map(13 + i, 0, 0x200000000ULL + (u64)i * SZ_4K, SZ_4K);
	{
		struct ih_trace_dev_summary s = dev_sum("gpu0");
		struct ih_device *dev = NULL;

		cr_expect_eq(s.maps, 2, "the window holds the rest");
		cr_assert_eq(ih_trace_hw_ops()->get_device(hw, "gpu0", &dev), 0);
		cr_assert_eq(ih_iova_find(ih_dma_iovad(ih_iommu_get_dma_domain(dev)),
					  0x100000000ULL >> 12, &lo, &hi),
			     0);
		cr_expect_eq(lo, 0x100000000ULL >> 12);
		cr_expect_eq(hi, (0x100000000ULL + SZ_2M - 1) >> 12, "placed at the trace's IOVA");
		cr_expect_eq(ih_dma_access(dev, 0x100000000ULL + 0x1234, 4, IH_DMA_TO_DEVICE, NULL),
			     0);
	}
	for (int i = 0; i < IH_TRACE_REPLAY_WINDOW; i++)
		iommu_unmap(40 + i, 0, 0x200000000ULL + (u64)i * SZ_4K, SZ_4K);
	iommu_unmap(60, 0, 0x100000000ULL, SZ_2M);
	finish();
	ih_trace_replay_get_stats(rp, &st);
	cr_expect_eq(st.fallback, st.events);
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0);
	down();
}

/*
 * A lazy replay of a trace where the kernel reused an IOVA at once (a strict machine): the
 * range still waits in the model's flush queue, the replay flushes it and goes on cleanly.
 */
Test(trace_replay, reuse_of_a_queued_iova_forces_a_flush)
{
	struct ih_trace_replay_stats st;

	up(IH_TRACE_HW_SMMUV3, true, true, false, NULL);
	for (int i = 0; i < 4; i++) {
		map_page(10 + i, 0, NVME, 0xfff00000, SZ_4K);
		unmap_page(10 + i, 0, NVME, 0xfff00000, SZ_4K);
	}
	finish();
	ih_trace_replay_get_stats(rp, &st);
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0);
	cr_expect_eq(st.forced_flushes, 3);
	cr_expect_eq(st.applied_maps, 4);
	down();
}

/* A trace of dma: records only replays them as the mappings. */
Test(trace_replay, dma_only_trace_is_replayed_from_dma_records)
{
	const struct ih_trace_finding *f;
	u64 free_line;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	dma_rec(IH_TRACE_DMA_ALLOC, 10, 0, NVME, 0xfe980000, SZ_512K);
	free_line = dma_rec(IH_TRACE_DMA_FREE, 20, 0, NVME, 0xfe980000, SZ_512K);
	fault(21, NVME, 0xfe980000, true);
	finish();
	f = only_finding(IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect_eq(f->other_line, free_line);
	cr_expect_eq(dev_sum(NVME).maps, 1);
	down();
}

/* Rockchip: platform devices with their own IOMMU each, 32-bit IOVAs; the same findings. */
Test(trace_replay, rockchip_backend_finds_the_same)
{
	const struct ih_trace_finding *f;
	u64 unmap_line;

	up(IH_TRACE_HW_RK, true, false, true, NULL);
	map_page(10, 0, "ff900000.vop", 0xfe800000, SZ_4K);
	map_page(10, 0, "ff900000.vop", 0xfe980000, SZ_512K);
	unmap_line = unmap_page(90, 0, "ff900000.vop", 0xfe980000, SZ_512K);
	fault(96, "ff900000.vop", 0xfe980000, true);
	map_page(100, 1, "fdab0000.npu", 0x10000000, SZ_64K);
	unmap_page(110, 1, "fdab0000.npu", 0x10000000, SZ_64K);
	unmap_page(120, 0, "ff900000.vop", 0xfe800000, SZ_4K);
	finish();
	f = only_finding(IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect_eq(f->other_line, unmap_line);
	cr_expect(f->translated, "lazy: the stale TLB entry served it");
	cr_expect(dev_sum("ff900000.vop").lazy);
	cr_expect_eq(dev_sum("fdab0000.npu").maps, 1);
	down();
}

/* An IOVA beyond the Rockchip 32-bit space is a model error, not a crash. */
Test(trace_replay, iova_beyond_the_aperture_is_a_model_error)
{
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_RK, false, false, false, NULL);
	map_page(10, 0, "ff900000.vop", 0x100000000ULL, SZ_4K);
	unmap_page(20, 0, "ff900000.vop", 0x100000000ULL, SZ_4K);
	finish();
	f = only_finding(IH_TRACE_FIND_MODEL_ERROR);
	cr_expect_eq(f->err, -EINVAL);
	cr_expect_eq(f->line, 1);
	down();
}

/* Memory stays bounded: 100000 map/unmap pairs leave no more nodes than the peak. */
Test(trace_replay, memory_does_not_grow_with_the_trace)
{
	size_t blocks_after_warmup = 0; /* set at i == 1000 (gcc -O2 cannot tell) */

	up(IH_TRACE_HW_SMMUV3, true, false, false, NULL);
	for (unsigned int i = 0; i < 100000; i++) {
		u64 iova = 0xfff00000ULL - (u64)(i % 64) * SZ_4K;

		map_page(i, (int)(i % 4), NVME, iova, SZ_4K);
		unmap_page(i, (int)(i % 4), NVME, iova, SZ_4K);
		if (i == 1000)
			blocks_after_warmup = ih_alloc_live_count(ih_trace_hw_world(hw));
	}
	cr_expect_leq(ih_alloc_live_count(ih_trace_hw_world(hw)), blocks_after_warmup + 64);
	finish();
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0);
	down();
}

/* ---- Through the parser: hand-written trace text and the synthetic traces ---- */

/* Replay @text (trace text) through the parser; the parse must be error-free. */
static void replay_text(const char *text)
{
	struct ih_trace_reader *rd = ih_trace_reader_open_mem(text, strlen(text));
	struct ih_trace_event e;
	int ret;

	cr_assert_not_null(rd);
	while ((ret = ih_trace_next(rd, &e)) > 0)
		cr_assert_eq(ih_trace_replay_event(rp, &e), 0);
	cr_assert_eq(ret, 0, "parse error: %s", ih_trace_error(rd));
	ih_trace_reader_close(rd);
	finish();
}

static void replay_file(const char *name)
{
	char path[512];
	struct ih_trace_reader *rd;
	struct ih_trace_event e;
	FILE *fp;
	int ret;

	snprintf(path, sizeof(path), "%s/tests/trace/data/%s", IH_SOURCE_DIR, name);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s", path);
	rd = ih_trace_reader_open_file(fp);
	cr_assert_not_null(rd);
	while ((ret = ih_trace_next(rd, &e)) > 0)
		cr_assert_eq(ih_trace_replay_event(rp, &e), 0);
	cr_assert_eq(ret, 0, "%s: %s", name, ih_trace_error(rd));
	ih_trace_reader_close(rd);
	fclose(fp);
	finish();
}

#define REC(task, cpu, ts, text) "  " task " [00" #cpu "] ....  " ts ": " text "\n"

/* The pattern in trace text (new format): both line numbers are the file's. */
Test(trace_replay, text_after_unmap_names_both_lines)
{
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	replay_text("# tracer: nop\n"
		    "#\n" /* lines 1-2 */
		    REC("kworker/0:2-87", 0, "1.530968",
			"map: IOMMU: iova=0x00000000fe980000 - 0x00000000fea00000 "
			"paddr=0x00000001c4000000 size=524288") /* 3 */
		    REC("kworker/0:2-87", 0, "1.530969",
			"dma_alloc: 0000:c2:00.0 dir=BIDIRECTIONAL dma_addr=fe980000 size=524288 "
			"virt_addr=ffff8000c0000000 flags=GFP_KERNEL attrs=") /* 4 */
		    REC("kworker/1:1-90", 1, "181.200100",
			"dma_free: 0000:c2:00.0 dir=BIDIRECTIONAL dma_addr=fe980000 size=524288 "
			"virt_addr=ffff8000c0000000 attrs=") /* 5 */
		    REC("kworker/1:1-90", 1, "181.200101",
			"unmap: IOMMU: iova=0x00000000fe980000 - 0x00000000fea00000 size=524288 "
			"unmapped_size=524288") /* 6 */
		    REC("<idle>-0", 1, "181.206101",
			"io_page_fault: IOMMU:arm-smmu-v3 0000:c2:00.0 iova=0x00000000fe9a0000 "
			"flags=0x0001") /* 7 */);
	f = only_finding(IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect_eq(f->line, 7);
	cr_expect_eq(f->other_line, 6);
	cr_expect_str_eq(f->device, "0000:c2:00.0");
	cr_expect(f->lazy_window);
	down();
}

/* Old format (no " - end"): a double unmap and a size mismatch, with their lines. */
Test(trace_replay, text_old_format_unmap_findings)
{
	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	replay_text(
	    REC("fio-2000", 0, "1.000001",
		"map: IOMMU: iova=0x00000000ffffe000 paddr=0x0000000108391000 size=8192")
		REC("fio-2000", 0, "1.000002",
		    "dma_map_page: 0000:01:00.0 dir=TO_DEVICE dma_addr=ffffe000 size=8192 "
		    "phys_addr=108391000 attrs=") REC("irq/57-nvme0q1-600", 0, "1.000010",
						      "unmap: IOMMU: iova=0x00000000ffffe000 "
						      "size=4096 unmapped_size=4096")
		    REC("irq/57-nvme0q1-600", 0, "1.000011",
			"dma_unmap_page: 0000:01:00.0 dir=TO_DEVICE dma_addr=ffffe000 size=4096 "
			"attrs=")
			REC("irq/57-nvme0q1-600", 0, "1.000020",
			    "unmap: IOMMU: iova=0x00000000ffffe000 size=8192 unmapped_size=0")
			    REC("irq/57-nvme0q1-600", 0, "1.000021",
				"dma_unmap_page: 0000:01:00.0 dir=TO_DEVICE dma_addr=ffffe000 "
				"size=8192 "
				"attrs="));
	/*
	 * Line 3 unmaps the first 4K of 8K: the second page stays mapped. Line 5 finds the
	 * first page gone (unmapped_size=0: the kernel stopped there): an unmap of nothing
	 * naming line 3, which leaves the second page live at the end (mapped at line 1).
	 */
	cr_assert_eq(ih_trace_replay_nfindings(rp), 3);
	cr_expect_eq(ih_trace_replay_finding(rp, 0)->kind, IH_TRACE_FIND_UNMAP_SIZE);
	cr_expect_eq(ih_trace_replay_finding(rp, 0)->line, 3);
	cr_expect_eq(ih_trace_replay_finding(rp, 0)->other_line, 1);
	cr_expect_eq(ih_trace_replay_finding(rp, 1)->kind, IH_TRACE_FIND_UNMAP_UNMAPPED);
	cr_expect_eq(ih_trace_replay_finding(rp, 1)->line, 5);
	cr_expect_eq(ih_trace_replay_finding(rp, 1)->other_line, 3);
	cr_expect_eq(ih_trace_replay_finding(rp, 2)->kind, IH_TRACE_FIND_LIVE_AT_END);
	cr_expect_eq(ih_trace_replay_finding(rp, 2)->line, 1);
	cr_expect_eq(ih_trace_replay_finding(rp, 2)->iova, 0xfffff000);
	cr_expect_eq(ih_trace_replay_finding(rp, 2)->size, 0x1000);
	down();
}

/* A map over a live mapping, and one left live at the end, in trace-cmd text. */
Test(trace_replay, text_map_over_live_and_live_at_end)
{
	up(IH_TRACE_HW_SMMUV3, true, false, false, NULL);
	replay_text("cpus=2\n"
		    "    napi-300   [001]  2.000001: map: IOMMU: iova=0x00000000fff00000 - "
		    "0x00000000fff01000 paddr=0x0000000200000000 size=4096\n"
		    "    napi-300   [001]  2.000002: dma_map_page: 0000:03:00.0 dir=FROM_DEVICE "
		    "dma_addr=fff00000 size=4096 phys_addr=200000000 attrs=\n"
		    "    napi-300   [001]  2.000003: map: IOMMU: iova=0x00000000fff00000 - "
		    "0x00000000fff01000 paddr=0x0000000200001000 size=4096\n"
		    "    napi-300   [001]  2.000004: dma_map_page: 0000:03:00.0 dir=FROM_DEVICE "
		    "dma_addr=fff00000 size=4096 phys_addr=200001000 attrs=\n");
	cr_assert_eq(ih_trace_replay_nfindings(rp), 2);
	cr_expect_eq(ih_trace_replay_finding(rp, 0)->kind, IH_TRACE_FIND_MAP_OVER_LIVE);
	cr_expect_eq(ih_trace_replay_finding(rp, 0)->line, 4);
	cr_expect_eq(ih_trace_replay_finding(rp, 0)->other_line, 2);
	cr_expect_eq(ih_trace_replay_finding(rp, 1)->kind, IH_TRACE_FIND_LIVE_AT_END);
	cr_expect_eq(ih_trace_replay_finding(rp, 1)->line, 4);
	cr_expect_eq(ih_trace_replay_finding(rp, 1)->count, 1);
	down();
}

/* The file name is stored inline: Criterion copies parameters into the test's process. */
struct clean_case {
	char file[32];
	enum ih_trace_hw_kind kind;
	bool lazy;
};

ParameterizedTestParameters(trace_replay, synthetic_clean_traces_are_clean)
{
	static struct clean_case cases[] = {
	    {"nvme.tracefs.txt", IH_TRACE_HW_SMMUV3, false},
	    {"nvme.tracefs.txt", IH_TRACE_HW_SMMUV3, true},
	    {"nvme-old.trace-cmd.txt", IH_TRACE_HW_SMMUV3, true},
	    {"net.trace-cmd.txt", IH_TRACE_HW_SMMUV3, false},
	    {"net.trace-cmd.txt", IH_TRACE_HW_RK, true},
	    {"gpu.tracefs.txt", IH_TRACE_HW_SMMUV3, true},
	    {"nvme.tracefs.txt", IH_TRACE_HW_RK, false},
	};

	return cr_make_param_array(struct clean_case, cases, ARRAY_SIZE(cases));
}

/* Every map attributed by its dma: record, every unmap matching: nothing found. */
ParameterizedTest(struct clean_case *c, trace_replay, synthetic_clean_traces_are_clean)
{
	struct ih_trace_replay_stats st;

	up(c->kind, c->lazy, false, true, NULL);
	replay_file(c->file);
	ih_trace_replay_get_stats(rp, &st);
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0, "%s: %llu findings, first %s line %llu",
		     c->file, (unsigned long long)ih_trace_replay_nfindings(rp),
		     ih_trace_replay_finding(rp, 0)
			 ? ih_trace_finding_name(ih_trace_replay_finding(rp, 0)->kind)
			 : "-",
		     ih_trace_replay_finding(rp, 0)
			 ? (unsigned long long)ih_trace_replay_finding(rp, 0)->line
			 : 0ULL);
	cr_expect_eq(st.fallback, 0);
	cr_expect_gt(st.applied_maps, 20);
	cr_expect_eq(st.applied_maps, st.applied_unmaps);
	cr_expect_eq(ih_report_total(ih_trace_hw_world(hw)), 0, "a model checker reported");
	down();
}

/* The synthetic after-unmap trace, as tracefs text and as a wrapped, quoted mail. */
Test(trace_replay, synthetic_after_unmap_trace_is_caught)
{
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	replay_file("after-unmap-fault.tracefs.txt");
	f = only_finding(IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect_eq(f->line, 79);
	cr_expect_eq(f->other_line, 78);
	down();
	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	replay_file("after-unmap-fault.mail.txt");
	f = only_finding(IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect_eq(f->line, 164);
	cr_expect_eq(f->other_line, 162);
	down();
}

/* ---- Review: edge cases of the replay (second read of issue 17) ---- */

/*
 * iommu_unmap() of part of a mapping unmaps exactly that part: the rest stays mapped on
 * the traced machine. 16K mapped, the first 8K unmapped (a size finding naming the map),
 * a device read of the last page still translates, and the unmap of the other 8K is clean.
 */
Test(trace_replay, partial_unmap_keeps_the_rest_mapped)
{
	const struct ih_trace_finding *f;
	struct ih_trace_replay_stats st;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	map_page(10, 0, NVME, 0xfff00000, SZ_16K);		/* lines 1, 2 */
	unmap_page(20, 0, NVME, 0xfff00000, SZ_8K);		/* lines 3, 4 */
	fault(30, NVME, 0xfff03000, false);			/* line 5 */
	unmap_page(40, 0, NVME, 0xfff02000, SZ_8K);		/* lines 6, 7 */
	finish();
	f = only_finding(IH_TRACE_FIND_UNMAP_SIZE);
	cr_expect_eq(f->line, 3);
	cr_expect_eq(f->other_line, 1);
	cr_expect_eq(f->iova, 0xfff00000);
	cr_expect_eq(f->size, SZ_8K);
	cr_expect_eq(f->other_iova, 0xfff00000);
	cr_expect_eq(f->other_size, SZ_16K);
	cr_expect_eq(dev_sum(NVME).accesses, 1);
	cr_expect_eq(dev_sum(NVME).faults, 0, "the last 8K were still mapped");
	cr_expect_eq(dev_sum(NVME).live, 0);
	cr_expect_eq(dev_sum(NVME).maps, 1);
	cr_expect_eq(dev_sum(NVME).unmaps, 2);
	ih_trace_replay_get_stats(rp, &st);
	cr_expect_eq(st.applied_maps, 2, "the map and the remaining 8K");
	cr_expect_eq(st.applied_unmaps, 2);
	down();
}

/* An unmap from the middle leaves both ends mapped; both are live at the end. */
Test(trace_replay, unmap_from_the_middle_keeps_both_ends)
{
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_RK, true, true, false, NULL);
	map_page(10, 0, "ff900000.vop", 0x10000000, SZ_16K); /* lines 1, 2 */
	unmap_page(20, 0, "ff900000.vop", 0x10001000, SZ_8K); /* lines 3, 4 */
	finish();
	cr_assert_eq(ih_trace_replay_nfindings(rp), 2);
	cr_expect_eq(ih_trace_replay_finding(rp, 0)->kind, IH_TRACE_FIND_UNMAP_SIZE);
	f = ih_trace_replay_finding(rp, 1);
	cr_expect_eq(f->kind, IH_TRACE_FIND_LIVE_AT_END);
	cr_expect_eq(f->count, 2);
	cr_expect_eq(f->size, 2 * SZ_4K);
	cr_expect_eq(f->line, 1, "the pieces keep the map's line");
	down();
}

/* iommu_map()/iommu_unmap() of 0 bytes change nothing: no finding, the mapping stays. */
Test(trace_replay, zero_size_map_and_unmap_change_nothing)
{
	struct ih_trace_replay_stats st;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	map_page(10, 0, NVME, 0xfff00000, SZ_16K);
	iommu_unmap(15, 0, 0xfff01000, 0);
	iommu_map(16, 0, 0xfff02000, 0);
	unmap_page(20, 0, NVME, 0xfff00000, SZ_16K);
	finish();
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0, "%s",
		     ih_trace_replay_nfindings(rp)
			 ? ih_trace_finding_name(ih_trace_replay_finding(rp, 0)->kind)
			 : "");
	cr_expect_eq(dev_sum(NVME).unmaps, 1);
	ih_trace_replay_get_stats(rp, &st);
	cr_expect_eq(st.ignored, 2);
	down();
}

/*
 * dma:-only trace: a dma_unmap_sg segment whose page nothing maps is an unmap of nothing;
 * it must not touch the mapping that happens to contain IOVA 0x0..., and names no range.
 */
Test(trace_replay, unmap_sg_of_an_unknown_page_touches_nothing)
{
	struct ih_trace_event e;
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	e = ev_base(IH_TRACE_DMA_MAP_SG, 10, 0); /* line 1 */
	snprintf(e.device, sizeof(e.device), "%s", NIC);
	e.iova = 0x1000;
	e.size = SZ_4K;
	e.iova_end = 0x2000;
	e.paddr = 0x40001000;
	feed(e);
	e = ev_base(IH_TRACE_DMA_UNMAP_SG, 20, 0); /* line 2: another page */
	snprintf(e.device, sizeof(e.device), "%s", NIC);
	e.paddr = 0x50000000;
	feed(e);
	e = ev_base(IH_TRACE_DMA_UNMAP_SG, 30, 0); /* line 3: the mapped page */
	snprintf(e.device, sizeof(e.device), "%s", NIC);
	e.paddr = 0x40001000;
	feed(e);
	finish();
	f = only_finding(IH_TRACE_FIND_UNMAP_UNMAPPED);
	cr_expect_eq(f->line, 2);
	cr_expect_eq(f->iova, 0);
	cr_expect_eq(f->size, 0);
	cr_expect_eq(dev_sum(NIC).live, 0);
	cr_expect_eq(dev_sum(NIC).unmaps, 2);
	down();
}

/* Feed trace text through the parser into the replay (no parse error allowed). */
static void feed_text(const char *text)
{
	struct ih_trace_reader *tr = ih_trace_reader_open_mem(text, strlen(text));
	struct ih_trace_event e;
	int ret;

	cr_assert_not_null(tr);
	while ((ret = ih_trace_next(tr, &e)) == 1)
		cr_assert_eq(ih_trace_replay_event(rp, &e), 0);
	cr_assert_eq(ret, 0, "%s", ih_trace_error(tr));
	ih_trace_reader_close(tr);
}

#define SG_MAP4                                                                            \
	"fio-77 [003] ..... 7.000000: dma_map_sg: " NVME " dir=TO_DEVICE nents=4/4 ents=1/1 "  \
	"dma_addrs={0xfff00000} sizes={0x4000} "                                           \
	"phys_addrs={0x1234000,0x5678000,0x9abc000,0x2000000} attrs=\n"

/*
 * dma:-only trace, a 4-page scatterlist the IOMMU merged into one DMA segment: the unmap
 * of its four pages unmaps it once, with no finding and nothing live at the end.
 */
Test(trace_replay, merged_sg_mapping_is_unmapped_once_by_its_pages)
{
	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	feed_text(SG_MAP4 "fio-77 [003] ..... 7.000100: dma_unmap_sg: " NVME " dir=TO_DEVICE "
			  "phys_addrs={0x1234000,0x5678000,0x9abc000,0x2000000} attrs=\n");
	finish();
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0, "%s at line %llu",
		     ih_trace_finding_name(ih_trace_replay_finding(rp, 0)->kind),
		     (unsigned long long)ih_trace_replay_finding(rp, 0)->line);
	cr_expect_eq(dev_sum(NVME).maps, 1);
	cr_expect_eq(dev_sum(NVME).unmaps, 1);
	cr_expect_eq(dev_sum(NVME).bytes_unmapped, 0x4000);
	cr_expect_eq(dev_sum(NVME).live, 0);
	down();
}

/*
 * Two merged segments (3 + 2 pages) and a second scatterlist mapped one entry per segment:
 * each DMA segment is unmapped once, all clean.
 */
Test(trace_replay, partly_merged_and_unmerged_sg_mappings_unmap_clean)
{
	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	feed_text("fio-77 [003] ..... 7.000000: dma_map_sg: " NVME " dir=TO_DEVICE "
		  "dma_addrs={0x10000,0x20000} sizes={0x3000,0x2000} "
		  "phys_addrs={0x1000,0x7000,0x9000,0x4000,0x5000} attrs=\n"
		  "fio-77 [003] ..... 7.000010: dma_map_sg: " NVME " dir=FROM_DEVICE "
		  "dma_addrs={0x30000,0x40000} sizes={0x1000,0x1000} "
		  "phys_addrs={0xa0000,0xb0000} attrs=\n"
		  "fio-77 [003] ..... 7.000100: dma_unmap_sg: " NVME " dir=TO_DEVICE "
		  "phys_addrs={0x1000,0x7000,0x9000,0x4000,0x5000} attrs=\n"
		  "fio-77 [003] ..... 7.000110: dma_unmap_sg: " NVME " dir=FROM_DEVICE "
		  "phys_addrs={0xa0000,0xb0000} attrs=\n");
	finish();
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0);
	cr_expect_eq(dev_sum(NVME).maps, 4);
	cr_expect_eq(dev_sum(NVME).unmaps, 4);
	cr_expect_eq(dev_sum(NVME).bytes_unmapped, 0x7000);
	cr_expect_eq(dev_sum(NVME).live, 0);
	down();
}

/*
 * Mismatched dma_unmap_sg records still report: a page never mapped (line 2), and the
 * merged mapping's pages ending on another page than the map's last (line 3: the
 * mapping goes at its first page, the stray last page is an unmap of nothing).
 */
Test(trace_replay, unmap_sg_of_pages_never_mapped_is_still_reported)
{
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	feed_text(SG_MAP4 "fio-77 [003] ..... 7.000100: dma_unmap_sg: " NVME " dir=TO_DEVICE "
			  "phys_addrs={0x7777000} attrs=\n"
			  "fio-77 [003] ..... 7.000200: dma_unmap_sg: " NVME " dir=TO_DEVICE "
			  "phys_addrs={0x1234000,0x5678000,0x9abc000,0x3000000} attrs=\n");
	finish();
	cr_assert_eq(ih_trace_replay_nfindings(rp), 2);
	f = ih_trace_replay_finding(rp, 0);
	cr_expect_eq(f->kind, IH_TRACE_FIND_UNMAP_UNMAPPED);
	cr_expect_eq(f->line, 2);
	cr_expect_eq(f->iova, 0);
	cr_expect_eq(f->size, 0);
	f = ih_trace_replay_finding(rp, 1);
	cr_expect_eq(f->kind, IH_TRACE_FIND_UNMAP_UNMAPPED);
	cr_expect_eq(f->line, 3);
	cr_expect_eq(f->iova, 0);
	cr_expect_eq(f->other_line, 1);
	cr_expect_eq(f->other_iova, 0xfff00000);
	cr_expect_eq(f->other_size, 0x4000);
	cr_expect_eq(dev_sum(NVME).live, 0);
	cr_expect_eq(dev_sum(NVME).unmaps, 2);
	down();
}

/* dma_unmap_sg by page stays fast with many live mappings (an index, not a walk). */
Test(trace_replay, unmap_sg_by_page_with_many_live_mappings)
{
	struct ih_trace_event e;

	up(IH_TRACE_HW_SMMUV3, false, true, false, NULL);
	for (unsigned int i = 0; i < 20000; i++) {
		e = ev_base(IH_TRACE_DMA_MAP_SG, i, 0);
		snprintf(e.device, sizeof(e.device), "%s", NIC);
		e.iova = 0x80000000ULL + (u64)i * SZ_4K;
		e.size = SZ_4K;
		e.paddr = 0x100000000ULL + (u64)(19999 - i) * SZ_4K;
		feed(e);
	}
	for (unsigned int i = 0; i < 20000; i++) {
		e = ev_base(IH_TRACE_DMA_UNMAP_SG, 20000 + i, 0);
		snprintf(e.device, sizeof(e.device), "%s", NIC);
		e.paddr = 0x100000000ULL + (u64)i * SZ_4K;
		feed(e);
	}
	finish();
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0);
	cr_expect_eq(dev_sum(NIC).live, 0);
	cr_expect_eq(dev_sum(NIC).peak_bytes, 20000ULL * SZ_4K);
	down();
}

/*
 * A trace without dma: records (kernels before the dma: events) with two devices named by
 * group events: map/unmap go to the fallback device, the fault names the NVMe. The issue's
 * after-unmap access must still be found, with both lines and the unmapped range.
 */
Test(trace_replay, iommu_only_trace_finds_access_after_unmap)
{
	struct ih_trace_event e;
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	e = ev_base(IH_TRACE_ATTACH, 1, 0);
	snprintf(e.device, sizeof(e.device), "%s", NVME);
	feed(e);							/* line 1 */
	e = ev_base(IH_TRACE_ATTACH, 2, 0);
	snprintf(e.device, sizeof(e.device), "%s", NIC);
	feed(e);							/* line 2 */
	iommu_map(5000000, 1, 0xfe980000, SZ_512K);			/* line 3 */
	iommu_unmap(185000000, 2, 0xfe980000, SZ_512K);			/* line 4 */
	fault(185006000, NVME, 0xfe9a0040, true);			/* line 5 */
	finish();
	f = only_finding(IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect_str_eq(f->device, NVME);
	cr_expect_eq(f->line, 5);
	cr_expect_eq(f->other_line, 4);
	cr_expect_eq(f->other_iova, 0xfe980000);
	cr_expect_eq(f->other_size, SZ_512K);
	cr_expect(f->lazy_window);
	cr_expect_not(f->translated);
	down();
}

/* The finding of the pattern carries the unmapped range, not the faulting page. */
Test(trace_replay, access_after_unmap_carries_the_unmapped_range)
{
	const struct ih_trace_finding *f;

	up(IH_TRACE_HW_SMMUV3, false, false, false, NULL);
	map_page(10, 0, NVME, 0xfe980000, SZ_512K);
	unmap_page(20, 0, NVME, 0xfe980000, SZ_512K);
	fault(26, NVME, 0xfe9a0040, false);
	finish();
	f = only_finding(IH_TRACE_FIND_ACCESS_AFTER_UNMAP);
	cr_expect_eq(f->other_iova, 0xfe980000);
	cr_expect_eq(f->iova, 0xfe9a0040);
	down();
}

/*
 * Device names that spell an existing PCI function another way ("0000:01:-0.0" scans as
 * 0000:01:00.0, so does upper case) are devices of their own, not a second add of the
 * function (which the device core refuses with a warning); a name the Rockchip backend
 * once gave its own IOMMUs ("mmu1") is a client like any other.
 */
Test(trace_replay, device_names_that_alias_a_pci_function_are_their_own)
{
	up(IH_TRACE_HW_SMMUV3, false, true, false, NULL);
	map_page(10, 0, "0000:01:00.0", 0xfff00000, SZ_4K);
	map_page(11, 1, "0000:01:-0.0", 0xfff00000, SZ_4K);
	map_page(12, 2, "0000:01:00.A", 0xfff00000, SZ_4K);
	unmap_page(20, 0, "0000:01:00.0", 0xfff00000, SZ_4K);
	unmap_page(21, 1, "0000:01:-0.0", 0xfff00000, SZ_4K);
	unmap_page(22, 2, "0000:01:00.A", 0xfff00000, SZ_4K);
	finish();
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0);
	cr_expect_eq(ih_trace_replay_ndevices(rp), 3);
	cr_expect_eq(ih_warn_count(ih_trace_hw_world(hw)), 0);
	down();

	up(IH_TRACE_HW_RK, false, true, false, NULL);
	map_page(10, 0, "mmu1", 0x10000000, SZ_4K);
	map_page(11, 1, "ff900000.vop", 0x10000000, SZ_4K);
	unmap_page(20, 0, "mmu1", 0x10000000, SZ_4K);
	unmap_page(21, 1, "ff900000.vop", 0x10000000, SZ_4K);
	finish();
	cr_expect_eq(ih_trace_replay_nfindings(rp), 0);
	cr_expect_eq(ih_warn_count(ih_trace_hw_world(hw)), 0);
	down();
}
