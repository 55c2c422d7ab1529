/* SPDX-License-Identifier: MIT */
/* Checkers and the world's report sink: dma-debug, IOTLB staleness, leaks, invariants. */
#ifndef IH_CHECK_H
#define IH_CHECK_H

#include <ih/compat.h>

struct ih_world;
struct ih_device;

/*
 * Generic detectors that know nothing about which known bug (ih/regress.h) is switched
 * on, and never read a switch. Each finding becomes one report in the world's sink:
 * counted per kind, kept as "the last report", logged (IH_LOG_GUEST_ERROR for API misuse,
 * IH_LOG_WARN for everything else) and passed to an optional callback. Whether a report
 * is fatal is the caller's decision: a test asserts counts, a fuzzer aborts from the
 * callback. Every message names the device (or domain), the IOVA range and the call.
 *
 * Synchronisation: every function may be called from any thread at any time.
 */

/**
 * enum ih_report_kind - what a checker found.
 * @IH_REPORT_DMA_UNKNOWN_UNMAP: dma-debug: unmap/free of an address the device never
 *	mapped (or mapped as another kind: page, sg list, coherent buffer).
 * @IH_REPORT_DMA_DOUBLE_UNMAP: dma-debug: unmap of an address that was mapped and has
 *	already been unmapped.
 * @IH_REPORT_DMA_SIZE_MISMATCH: dma-debug: unmap with another size (or sg count) than the map.
 * @IH_REPORT_DMA_DIR_MISMATCH: dma-debug: unmap with another direction than the map.
 * @IH_REPORT_DMA_NO_DRIVER: dma-debug: a DMA-API call on a device with no driver bound.
 * @IH_REPORT_DMA_NO_DOMAIN: dma-debug: a DMA-API call on a device whose group is not in
 *	its default domain (blocked, or handed to an explicit owner).
 * @IH_REPORT_DMA_LEAK_AT_UNBIND: dma-debug: a mapping still live when the driver unbound.
 * @IH_REPORT_DMA_LEAK_AT_DOMAIN_FREE: dma-debug: a mapping still live when its DMA domain
 *	was freed.
 * @IH_REPORT_IOVA_LEAK: an IOVA domain destroyed with a range still allocated.
 * @IH_REPORT_IOTLB_STALE_AT_FREE: an IOVA range went back to the allocator while an IOMMU
 *	TLB still translated part of it.
 * @IH_REPORT_IOTLB_STALE_ACCESS: a device DMA translated through a TLB entry whose IOVA is
 *	free, or which the page table now maps to another PA.
 * @IH_REPORT_GROUP_INVARIANT: a group ownership invariant broke (ih_iommu_group_check()).
 */
enum ih_report_kind {
	IH_REPORT_DMA_UNKNOWN_UNMAP,
	IH_REPORT_DMA_DOUBLE_UNMAP,
	IH_REPORT_DMA_SIZE_MISMATCH,
	IH_REPORT_DMA_DIR_MISMATCH,
	IH_REPORT_DMA_NO_DRIVER,
	IH_REPORT_DMA_NO_DOMAIN,
	IH_REPORT_DMA_LEAK_AT_UNBIND,
	IH_REPORT_DMA_LEAK_AT_DOMAIN_FREE,
	IH_REPORT_IOVA_LEAK,
	IH_REPORT_IOTLB_STALE_AT_FREE,
	IH_REPORT_IOTLB_STALE_ACCESS,
	IH_REPORT_GROUP_INVARIANT,
	IH_REPORT_NR_KINDS,
};

/* The kind's short name ("dma-double-unmap"), or "?". */
const char *ih_report_kind_name(enum ih_report_kind kind);

#define IH_REPORT_DEV_MAX 64
#define IH_REPORT_MSG_MAX 256

/**
 * struct ih_report - one finding.
 * @kind: what was found.
 * @call: the API call that caused it ("dma_unmap_page", "fq_reclaim", "device_dma").
 * @dev: the device's name (or the IOVA domain's name), "" when none.
 * @iova: first address of the range concerned.
 * @size: bytes in the range (0 when not applicable).
 * @msg: the whole message, as logged.
 */
struct ih_report {
	enum ih_report_kind kind;
	const char *call;
	char dev[IH_REPORT_DEV_MAX];
	u64 iova;
	u64 size;
	char msg[IH_REPORT_MSG_MAX];
};

typedef void (*ih_report_fn)(void *opaque, const struct ih_report *r);

/**
 * ih_report_set_sink() - also call @fn(@opaque, report) for every report (NULL: none).
 * The callback runs on the reporting thread, possibly with model locks held: it may
 * record or abort, not call back into the model. Set-up time only.
 */
void ih_report_set_sink(struct ih_world *w, ih_report_fn fn, void *opaque);

/**
 * ih_report() - file a report (for checkers and core layers).
 * @dev: device or object name, or NULL.
 * @call: a string literal naming the call.
 *
 * Context: any thread. Allocates nothing (a report is never lost to fault injection).
 */
IH_PRINTF(7, 8)
void ih_report(struct ih_world *w, enum ih_report_kind kind, const char *dev, const char *call,
	       u64 iova, u64 size, const char *fmt, ...);

/* Reports of @kind / of every kind since the world was created or last reset. */
unsigned long ih_report_count(struct ih_world *w, enum ih_report_kind kind);
unsigned long ih_report_total(struct ih_world *w);

/* ih_report_last() - copy the newest report to @out. Return: false when there is none. */
bool ih_report_last(struct ih_world *w, struct ih_report *out);

/* ih_report_reset() - zero every count and forget the last report. */
void ih_report_reset(struct ih_world *w);

/* Which checkers run (all by default). Benchmarks switch them off for speed. */
enum ih_check_flags {
	IH_CHECK_DMA_DEBUG = 1u << 0, /* DMA-API bookkeeping and its reports */
	IH_CHECK_IOTLB = 1u << 1,     /* IOTLB staleness at IOVA free and at device access */
	IH_CHECK_ALL = IH_CHECK_DMA_DEBUG | IH_CHECK_IOTLB,
};

/**
 * ih_check_set_enabled() - run the checkers in @mask from now on.
 * Context: set-up time (before DMA-API calls): a mapping made while dma-debug was off is
 * unknown to it, and unmapping it later is reported.
 */
void ih_check_set_enabled(struct ih_world *w, unsigned int mask);
unsigned int ih_check_enabled(struct ih_world *w);

/* ih_dma_debug_live() - mappings dma-debug holds for @dev (NULL: every device). */
size_t ih_dma_debug_live(struct ih_world *w, const struct ih_device *dev);

#endif /* IH_CHECK_H */
