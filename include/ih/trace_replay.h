/* SPDX-License-Identifier: MIT */
/* Replay of a kernel iommu/dma trace through the model: per-device state, findings, cost. */
#ifndef IH_TRACE_REPLAY_H
#define IH_TRACE_REPLAY_H

#include <ih/compat.h>
#include <ih/trace.h>

struct ih_world;
struct ih_device;

/*
 * The replay feeds events from ih/trace.h, in trace order, into a world whose devices a
 * caller-supplied backend provides (core/ never knows the hardware: hw/board/
 * trace_backend.h builds an emulated SMMUv3 or Rockchip IOMMU with its real driver).
 *
 * Attribution. iommu:map and iommu:unmap name no device. The kernel emits them from
 * inside the DMA API call, on the same CPU and task as the dma: record of that call
 * (dma_map_page: iommu:map first; dma_free may come first). Events pass through a window
 * of IH_TRACE_REPLAY_WINDOW records and are applied in trace order when they leave it;
 * an iommu record leaving it takes the device of a dma: record of the same CPU and task,
 * of the same direction (map or unmap) and overlapping its IOVA range, looked for among
 * the newer records in the window first, then in the last dma: record that CPU showed.
 * Otherwise it goes to @device of the configuration, else to the only device the trace
 * named so far, else to a device named "unattributed". A trace without any iommu:map or
 * unmap so far (captured with `-e dma` only) replays its dma: records as the mappings.
 *
 * Placement. Every mapping is made with ih_dma_map_page_at() at the trace's IOVA onto
 * the same-numbered PA (page contents are not modelled), and unmapped with
 * ih_dma_unmap_page_at(), strict or lazy as the device's default domain is. A lazy replay
 * of a trace from a strict machine may find the kernel reusing an IOVA still waiting in
 * the model's flush queue: the replay then flushes that queue first (counted in
 * @forced_flushes). The virtual clock follows the timestamps (flush-queue timeouts fire
 * as on the traced machine) unless @fast. Each record's CPU becomes the calling model CPU
 * (modulo the world's CPU count), so per-CPU flush queues fill as they did.
 *
 * Device DMA. An io_page_fault record is a DMA by its device at its IOVA (flags bit 0:
 * write) through the emulated IOMMU (ih_dma_access()); with @dma_access every map is
 * followed by one access to its first page (filling the IOTLB as a device would).
 *
 * Memory: per device an AVL map of live mappings and a ring of the last
 * IH_TRACE_REPLAY_RECENT unmaps; the findings kept are capped at @max_findings (every one
 * is counted). Nothing grows with the trace's length.
 *
 * Synchronisation: one replay is used by one thread; the world must be sequential with a
 * virtual clock (or @fast).
 */

#define IH_TRACE_REPLAY_WINDOW 16
#define IH_TRACE_REPLAY_RECENT 256
#define IH_TRACE_HIST_BUCKETS  20 /* bucket i: sizes in (2^(11+i), 2^(12+i)]; 0: <= 4K */

/**
 * struct ih_trace_backend_ops - where devices come from.
 * @get_device: return the device named @name (a PCI BDF "0000:c2:00.0" or any other name),
 *	creating it on first use behind the backend's IOMMU with a driver bound and its
 *	default DMA domain ready. Return 0 and *@out, or a negative errno (the replay then
 *	records an error finding for the event and skips it).
 */
struct ih_trace_backend_ops {
	int (*get_device)(void *opaque, const char *name, struct ih_device **out);
};

/**
 * struct ih_trace_replay_config - what the replay does.
 * @ops, @opaque: the backend.
 * @device: fallback device for unattributed map/unmap (NULL: see above).
 * @fast: ignore timestamps: the clock does not move (flush queues flush when full).
 * @dma_access: model a device access into every new mapping.
 * @max_findings: findings kept for ih_trace_replay_finding() (0: 1000); more are counted.
 */
struct ih_trace_replay_config {
	const struct ih_trace_backend_ops *ops;
	void *opaque;
	const char *device;
	bool fast;
	bool dma_access;
	unsigned int max_findings;
};

/**
 * enum ih_trace_finding_kind - what the replay found.
 * @IH_TRACE_FIND_ACCESS_AFTER_UNMAP: a device access (io_page_fault) inside a range the
 *	device had mapped and the trace unmapped: @line is the access, @other_line the unmap.
 *	A trace without dma: records leaves its mappings on the fallback device: an access
 *	by a device that knows nothing of the IOVA is judged against the fallback's.
 * @IH_TRACE_FIND_ACCESS_UNMAPPED: a device access at an IOVA the trace never mapped (or
 *	whose unmap is older than the last IH_TRACE_REPLAY_RECENT unmaps).
 * @IH_TRACE_FIND_UNMAP_UNMAPPED: an unmap of a range with nothing mapped; @other_line is
 *	the earlier unmap of it when the replay remembers one (a double unmap). A
 *	dma_unmap_sg segment of a dma:-only trace whose page nothing maps has @iova, @size 0.
 *	A dma_map_sg segment the IOMMU merged from several physical entries is unmapped
 *	once, by the dma_unmap_sg entry of its first page; that record's next entries are
 *	its other pages, and when the last of them is not the page the map ended with it is
 *	reported too (@iova, @size 0; @other_line and @other_iova/@other_size the map's).
 * @IH_TRACE_FIND_UNMAP_SIZE: an unmap that cuts a mapping or covers unmapped gaps:
 *	@other_line is the first map touched, @other_iova/@other_size its range. Exactly the
 *	unmapped range goes, as in the kernel: the parts of a cut mapping outside it stay
 *	mapped (re-made in the model as mappings of their own, with the map's line).
 * @IH_TRACE_FIND_MAP_OVER_LIVE: a map over a live mapping (@other_line, @other_size); the
 *	old mapping is dropped so the replay follows the trace.
 * @IH_TRACE_FIND_LIVE_AT_END: mappings of one device still live at the end: @size bytes
 *	in @count mappings, @line/@iova the oldest of them.
 * @IH_TRACE_FIND_MODEL_ERROR: the model refused an operation the trace made (an IOVA
 *	beyond the IOMMU's aperture, a device the backend cannot create): @err.
 */
enum ih_trace_finding_kind {
	IH_TRACE_FIND_ACCESS_AFTER_UNMAP,
	IH_TRACE_FIND_ACCESS_UNMAPPED,
	IH_TRACE_FIND_UNMAP_UNMAPPED,
	IH_TRACE_FIND_UNMAP_SIZE,
	IH_TRACE_FIND_MAP_OVER_LIVE,
	IH_TRACE_FIND_LIVE_AT_END,
	IH_TRACE_FIND_MODEL_ERROR,
	IH_TRACE_FIND_KIND_COUNT,
};

/* Short name of @kind ("access-after-unmap", ...). */
const char *ih_trace_finding_name(enum ih_trace_finding_kind kind);

/**
 * struct ih_trace_finding - one finding.
 * @kind: what.
 * @device: the device's name.
 * @line: line of the record that shows it (the access, the unmap, the map).
 * @other_line: the earlier record it conflicts with (the unmap, the map), 0 if none.
 * @ts_ns, @other_ts_ns: their timestamps.
 * @iova, @size: the range of @line's record.
 * @other_iova, @other_size: the range of @other_line's record (the unmap, the map).
 * @count: live-at-end: mappings still live.
 * @write: accesses: a write.
 * @tlb_hit: accesses: the emulated IOMMU's TLB still held an entry for the page when the
 *	access came (tlb_covers), so the access went through a stale translation.
 * @translated: accesses: the emulated IOMMU let the access through (else it faulted).
 * @lazy_window: access after unmap: the access came sooner after the unmap than the
 *	flush-queue timeout, so in lazy mode the IOVA would still have been waiting for its
 *	invalidation: a TLB entry filled before the unmap would have let the access through.
 * @err: model errors: the errno.
 */
struct ih_trace_finding {
	enum ih_trace_finding_kind kind;
	char device[IH_TRACE_NAME_MAX];
	u64 line, other_line;
	u64 ts_ns, other_ts_ns;
	u64 iova, size, other_iova, other_size;
	u64 count;
	bool write;
	bool tlb_hit;
	bool translated;
	bool lazy_window;
	int err;
};

/**
 * struct ih_trace_dev_summary - one device's replay.
 * @name: its name.
 * @maps, @unmaps: map and unmap operations applied.
 * @bytes_mapped, @bytes_unmapped: their bytes.
 * @hist: map sizes (see IH_TRACE_HIST_BUCKETS).
 * @live, @live_bytes: mappings live now.
 * @peak_bytes: largest @live_bytes seen; @peak_line, @peak_ts_ns: when first reached.
 * @accesses: device accesses replayed (faults and the dma-access model).
 * @faults: of which the emulated IOMMU refused.
 * @findings: findings per kind on this device.
 * @lazy: its default domain unmaps lazily.
 */
struct ih_trace_dev_summary {
	char name[IH_TRACE_NAME_MAX];
	u64 maps, unmaps;
	u64 bytes_mapped, bytes_unmapped;
	u64 hist[IH_TRACE_HIST_BUCKETS];
	u64 live, live_bytes;
	u64 peak_bytes, peak_line, peak_ts_ns;
	u64 accesses, faults;
	u64 findings[IH_TRACE_FIND_KIND_COUNT];
	bool lazy;
};

/**
 * struct ih_trace_replay_stats - the whole replay.
 * @events: events fed.
 * @applied_maps, @applied_unmaps: map and unmap operations made on the model.
 * @attributed: iommu records given the device of a dma: record.
 * @fallback: iommu records given the fallback device.
 * @standalone: dma: records replayed as mappings (trace without iommu records).
 * @forced_flushes: flush-queue flushes the replay forced to place a reused IOVA.
 * @findings: findings per kind (all, kept or not).
 * @ignored: records the replay does not act on (group events, map/unmap of 0 bytes, ...).
 * @first_ts_ns, @last_ts_ns: timestamps of the first and last events.
 */
struct ih_trace_replay_stats {
	u64 events;
	u64 applied_maps, applied_unmaps;
	u64 attributed, fallback, standalone;
	u64 forced_flushes;
	u64 findings[IH_TRACE_FIND_KIND_COUNT];
	u64 ignored;
	u64 first_ts_ns, last_ts_ns;
};

struct ih_trace_replay;

/**
 * ih_trace_replay_create() - a replay into @w.
 * Allocation sites: "trace:replay", later "trace:dev", "trace:map", "trace:findings".
 * Return: 0; -EINVAL (NULL @w, @cfg, @cfg->ops or ops->get_device, or @out); -ENOMEM.
 */
int ih_trace_replay_create(struct ih_world *w, const struct ih_trace_replay_config *cfg,
			   struct ih_trace_replay **out);

/**
 * ih_trace_replay_event() - feed the next event (trace order).
 * Return: 0; -EINVAL (NULL argument, or the replay is finished); -ENOMEM (the replay's
 * own memory ran out: the event was not applied, and the caller should stop).
 */
int ih_trace_replay_event(struct ih_trace_replay *r, const struct ih_trace_event *ev);

/**
 * ih_trace_replay_finish() - the end of the trace: apply what the window holds, flush the
 * flush queues, and record the live-at-end findings. Further events are refused.
 * Return: 0 or -ENOMEM.
 */
int ih_trace_replay_finish(struct ih_trace_replay *r);

void ih_trace_replay_get_stats(const struct ih_trace_replay *r, struct ih_trace_replay_stats *st);

/* Findings of every kind so far. */
u64 ih_trace_replay_nfindings(const struct ih_trace_replay *r);

/* ih_trace_replay_finding() - the @i-th kept finding (trace order), or NULL. */
const struct ih_trace_finding *ih_trace_replay_finding(const struct ih_trace_replay *r, size_t i);

/* Devices the replay used, in order of first use. */
size_t ih_trace_replay_ndevices(const struct ih_trace_replay *r);

/* ih_trace_replay_device() - the @i-th device's summary into @out. Return: 0 or -ENOENT. */
int ih_trace_replay_device(const struct ih_trace_replay *r, size_t i,
			   struct ih_trace_dev_summary *out);

/**
 * ih_trace_replay_destroy() - unmap what the replay still has mapped (the world's
 * devices stay; their flush queues are flushed) and free the replay. NULL is ignored.
 */
void ih_trace_replay_destroy(struct ih_trace_replay *r);

#endif /* IH_TRACE_REPLAY_H */
