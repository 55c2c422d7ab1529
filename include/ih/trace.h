/* SPDX-License-Identifier: MIT */
/* Kernel IOMMU/DMA trace text (trace-cmd report or tracefs): a streaming parser of events. */
#ifndef IH_TRACE_H
#define IH_TRACE_H

#include <stdio.h>

#include <ih/compat.h>

/*
 * Input is untrusted text: the output of `trace-cmd report` or of tracefs' `trace` file,
 * possibly pasted into a mail (long lines wrapped, quote markers, CRLF). One record is
 *
 *   <comm>-<pid> [<cpu>] <flags> <seconds.micro>: <event>: <text>
 *
 * where trace-cmd may omit the flags field. The parser reads records one at a time from a
 * FILE or a memory buffer with a bounded line buffer (no whole-file load), joins wrapped
 * continuation lines to the record they belong to, and returns the events this harness
 * replays. Records of any other event are counted and skipped; comment and header lines
 * ("# tracer: nop", "cpus=2", "version = 6") are skipped. A known event whose text does
 * not parse is an error carrying its line number; the caller may go on reading.
 */

/* Longest physical line or joined record kept; longer input is an error (-E2BIG). */
#define IH_TRACE_MAX_RECORD 4096
#define IH_TRACE_NAME_MAX   64 /* device, driver and comm names, NUL included */

enum ih_trace_kind {
	IH_TRACE_MAP,		/* iommu:map */
	IH_TRACE_UNMAP,		/* iommu:unmap */
	IH_TRACE_IO_PAGE_FAULT, /* iommu:io_page_fault */
	IH_TRACE_ATTACH,	/* iommu:attach_device_to_domain */
	IH_TRACE_ADD_TO_GROUP,	/* iommu:add_device_to_group */
	IH_TRACE_REMOVE_FROM_GROUP, /* iommu:remove_device_from_group */
	IH_TRACE_DMA_MAP,	/* dma:dma_map_page, dma_map_resource */
	IH_TRACE_DMA_UNMAP,	/* dma:dma_unmap_page, dma_unmap_resource */
	IH_TRACE_DMA_MAP_SG,	/* dma:dma_map_sg (one event per segment, see @seg) */
	IH_TRACE_DMA_UNMAP_SG,	/* dma:dma_unmap_sg (one event per segment) */
	IH_TRACE_DMA_ALLOC,	/* dma:dma_alloc (coherent buffer) */
	IH_TRACE_DMA_FREE,	/* dma:dma_free */
	IH_TRACE_KIND_COUNT,
};

/* Direction as the dma: events print it. */
enum ih_trace_dir {
	IH_TRACE_DIR_NONE,
	IH_TRACE_DIR_BIDIRECTIONAL,
	IH_TRACE_DIR_TO_DEVICE,
	IH_TRACE_DIR_FROM_DEVICE,
};

/**
 * struct ih_trace_event - one replayable record.
 * @kind: which event.
 * @line: 1-based number of the physical line the record starts on.
 * @ts_ns: timestamp in nanoseconds (seconds.micro of the record, times 1000).
 * @cpu: CPU field of the record.
 * @pid: task id of the record.
 * @comm: task name (truncated to IH_TRACE_NAME_MAX - 1 bytes).
 * @device: device name: dma: events (first field), io_page_fault, attach and group
 *	events; empty for iommu:map and iommu:unmap, which carry none.
 * @driver: io_page_fault only: the driver name after "IOMMU:".
 * @iova: first IOVA (dma: events: the dma_addr).
 * @iova_end: exclusive end printed by map/unmap (iova + size); equals @iova + @size
 *	when the record is in the older format without " - end".
 * @paddr: physical address (map, dma_map, dma_alloc when printed), else 0.
 * @size: size in bytes (io_page_fault: 0).
 * @unmapped_size: unmap only: what the kernel reported as unmapped.
 * @flags: io_page_fault flags (bit 0: write); dma: events: attrs when printed.
 * @group_id: add/remove group events: the group number, else -1.
 * @dir: dma: events: direction, else IH_TRACE_DIR_NONE.
 * @seg, @nsegs: dma_map_sg/dma_unmap_sg: this segment's index and the segment count.
 * @phys_count: dma_map_sg: how many phys_addrs entries this DMA segment covers, from
 *	@paddr to @paddr_last (1 when not merged, 0 when no physical entry is left for it);
 *	dma_unmap_sg as the kernel prints it (physical addresses only): 1; a record that
 *	also prints dma_addrs= and sizes= shares its entries as dma_map_sg. Other events: 0.
 * @paddr_last: dma_map_sg: the last physical entry this segment covers (@paddr when
 *	@phys_count is 1); dma_unmap_sg: likewise. Other events: 0.
 *
 * dma_map_sg gives one event per printed DMA segment (dma_addrs[i], sizes[i]). The kernel
 * prints the physical addresses of all nents scatterlist entries but the DMA address and
 * length of only the ents mapped segments: an IOMMU that merged entries prints fewer DMA
 * than physical entries. The entries are then shared out in order: @paddr is the first
 * entry a segment starts with and @phys_count how many it covers. The lengths of physical
 * entries are not printed, so the split is estimated: a segment covers at most the pages
 * its size spans (4 KiB pages, from @paddr's page offset), an entry not starting a page is
 * never merged onto the one before (the IOMMU only merges entries that start a page), every segment
 * gets at least one entry while any is left, and the last takes the rest. With as many
 * physical as DMA entries the split is one to one.
 * dma_unmap_sg prints only physical addresses: one event per phys_addrs[i] in @paddr with
 * @iova, @iova_end and @size 0 (the replay matches them to the dma_map_sg of those pages).
 * dma: events: @iova_end is @iova + @size, saturated at ~0 (a failed map prints
 * DMA_MAPPING_ERROR, all ones, as its dma_addr). iommu:map/unmap whose range wraps or whose
 * printed end is not iova + size are errors, so there @iova_end > @iova whenever @size > 0.
 */
struct ih_trace_event {
	enum ih_trace_kind kind;
	u64 line;
	u64 ts_ns;
	int cpu;
	int pid;
	char comm[IH_TRACE_NAME_MAX];
	char device[IH_TRACE_NAME_MAX];
	char driver[IH_TRACE_NAME_MAX];
	u64 iova;
	u64 iova_end;
	u64 paddr;
	u64 size;
	u64 unmapped_size;
	u32 flags;
	int group_id;
	enum ih_trace_dir dir;
	unsigned int seg;
	unsigned int nsegs;
	unsigned int phys_count;
	u64 paddr_last;
};

/**
 * struct ih_trace_stats - what a reader has seen so far.
 * @lines: physical lines read.
 * @records: records (after joining continuations) recognised as trace records.
 * @events: events returned, per kind in @per_kind.
 * @unknown: records of other events, counted and skipped.
 * @skipped: header, comment and blank lines.
 * @joined: continuation lines joined to the record before them.
 * @errors: errors returned: malformed known events, lines with NUL bytes, overlong lines
 *	or records, read errors (each returned once).
 * @bytes: input bytes consumed.
 * @rejected: physical lines refused outright (NUL byte, over IH_TRACE_MAX_RECORD bytes,
 *	read error). Every line counts once: @lines = @records + @joined + @skipped + @rejected.
 */
struct ih_trace_stats {
	u64 lines;
	u64 records;
	u64 events;
	u64 per_kind[IH_TRACE_KIND_COUNT];
	u64 unknown;
	u64 skipped;
	u64 joined;
	u64 errors;
	u64 bytes;
	u64 rejected;
};

struct ih_trace_reader;

/**
 * ih_trace_reader_open_file() - read records from an open stream.
 * @fp: the stream; not closed by the reader.
 *
 * Return: a reader (plain heap memory, not a world's) or NULL on allocation failure.
 */
struct ih_trace_reader *ih_trace_reader_open_file(FILE *fp);

/**
 * ih_trace_reader_open_mem() - read records from a buffer.
 * @buf: the bytes; need not be NUL-terminated; may contain NUL bytes (an error).
 * @len: their count.
 *
 * The buffer must outlive the reader.
 *
 * Return: a reader or NULL on allocation failure.
 */
struct ih_trace_reader *ih_trace_reader_open_mem(const void *buf, size_t len);

/**
 * ih_trace_next() - the next replayable event.
 * @r: the reader.
 * @ev: filled on success.
 *
 * Return: 1 with @ev filled; 0 at the end of input; -EINVAL for a malformed known event
 * or a line with NUL bytes, -E2BIG for a record longer than IH_TRACE_MAX_RECORD,
 * -EIO for a read error. After an error, ih_trace_error() describes it and the next call
 * goes on with the following record.
 */
int ih_trace_next(struct ih_trace_reader *r, struct ih_trace_event *ev);

/**
 * ih_trace_error() - the last error's message, "line N: what" (empty if none).
 * @r: the reader.
 */
const char *ih_trace_error(const struct ih_trace_reader *r);

/** ih_trace_error_line() - line number of the last error (0 if none). */
u64 ih_trace_error_line(const struct ih_trace_reader *r);

/** ih_trace_get_stats() - copy the reader's counters into @st. */
void ih_trace_get_stats(const struct ih_trace_reader *r, struct ih_trace_stats *st);

/** ih_trace_reader_close() - free the reader (NULL is fine). */
void ih_trace_reader_close(struct ih_trace_reader *r);

/** ih_trace_kind_name() - the event name of @kind ("map", "dma_alloc", ...). */
const char *ih_trace_kind_name(enum ih_trace_kind kind);

/** ih_trace_dir_name() - the kernel's name of @dir ("TO_DEVICE", ...; "NONE" if unknown). */
const char *ih_trace_dir_name(enum ih_trace_dir dir);

#endif /* IH_TRACE_H */
