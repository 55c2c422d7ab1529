// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the streaming trace parser (core/trace/parse.c).
 *
 * Input: trace text as is (tracefs `trace` or `trace-cmd report` output, possibly mail-quoted
 * and wrapped; seeds: corpus/trace/, from corpus/gen_trace_corpus.sh; dictionary
 * corpus/trace.dict).
 *
 * Per input: every event is read from a memory reader, then again from a FILE reader over
 * the same bytes (fmemopen); both must agree event by event, error by error and counter by
 * counter. Invariants checked on each event and on the final counters:
 *  - ih_trace_next() returns 1, 0 or -EINVAL/-E2BIG, and the end is sticky;
 *  - events come in input order: record line numbers never go back, error lines neither;
 *  - names are NUL-terminated within IH_TRACE_NAME_MAX; kinds and directions in range;
 *  - iommu map/unmap: iova_end == iova + size without wrap; group_id only on group events;
 *  - scatterlist segments: seg < nsegs, consecutive, on one line; physical entries shared
 *    out in order: a dma_map_sg segment covers phys_count entries from paddr to paddr_last
 *    (one entry: paddr_last == paddr; none: both 0, and none for the segments after it),
 *    at most IH_TRACE_MAX_RECORD / 2 in all; other events none (phys_count and
 *    paddr_last 0);
 *  - lines == records + joined + skipped + rejected, events == sum of per_kind,
 *    errors == errors returned, bytes == input size.
 * Nothing survives the input; the readers are freed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ih/diag.h>
#include <ih/trace.h>

static void check_event(const struct ih_trace_event *ev, const struct ih_trace_event *prev,
			u64 last_line, u64 *phys_in_record)
{
	IH_BUG_ON((unsigned int)ev->kind >= IH_TRACE_KIND_COUNT, "kind %d", ev->kind);
	IH_BUG_ON((unsigned int)ev->dir > IH_TRACE_DIR_FROM_DEVICE, "dir %d", ev->dir);
	IH_BUG_ON(ev->line == 0 || ev->line < last_line, "line %llu after %llu",
		  (unsigned long long)ev->line, (unsigned long long)last_line);
	IH_BUG_ON(!memchr(ev->comm, 0, sizeof(ev->comm)) || !memchr(ev->device, 0,
		  sizeof(ev->device)) || !memchr(ev->driver, 0, sizeof(ev->driver)),
		  "unterminated name");
	IH_BUG_ON(ev->cpu < 0 || ev->pid < 0, "cpu %d pid %d", ev->cpu, ev->pid);
	if (ev->kind != IH_TRACE_DMA_MAP_SG && ev->kind != IH_TRACE_DMA_UNMAP_SG)
		IH_BUG_ON(ev->phys_count || ev->paddr_last, "physical entries on %s",
			  ih_trace_kind_name(ev->kind));
	switch (ev->kind) {
	case IH_TRACE_MAP:
	case IH_TRACE_UNMAP:
		IH_BUG_ON(ev->iova + ev->size < ev->iova || ev->iova_end != ev->iova + ev->size,
			  "range 0x%llx-0x%llx size 0x%llx", (unsigned long long)ev->iova,
			  (unsigned long long)ev->iova_end, (unsigned long long)ev->size);
		IH_BUG_ON(ev->device[0], "iommu map/unmap with a device");
		break;
	case IH_TRACE_ADD_TO_GROUP:
	case IH_TRACE_REMOVE_FROM_GROUP:
		IH_BUG_ON(!ev->device[0], "group event without device");
		break;
	case IH_TRACE_ATTACH:
	case IH_TRACE_IO_PAGE_FAULT:
		IH_BUG_ON(!ev->device[0], "event without device");
		IH_BUG_ON(ev->group_id != -1, "group id on a non-group event");
		break;
	case IH_TRACE_DMA_MAP_SG:
	case IH_TRACE_DMA_UNMAP_SG:
		IH_BUG_ON(ev->seg >= ev->nsegs, "seg %u of %u", ev->seg, ev->nsegs);
		if (ev->seg)
			IH_BUG_ON(!prev || prev->kind != ev->kind || prev->seg + 1 != ev->seg ||
				  prev->nsegs != ev->nsegs || prev->line != ev->line,
				  "segments out of order");
		IH_BUG_ON(ev->iova_end != ev->iova + ev->size, "segment end");
		if (!ev->seg)
			*phys_in_record = 0;
		*phys_in_record += ev->phys_count;
		IH_BUG_ON(*phys_in_record > IH_TRACE_MAX_RECORD / 2, "%llu physical entries",
			  (unsigned long long)*phys_in_record);
		if (ev->phys_count == 0)
			IH_BUG_ON(ev->paddr || ev->paddr_last, "no entry but a paddr");
		if (ev->phys_count == 1)
			IH_BUG_ON(ev->paddr_last != ev->paddr, "one entry, two paddrs");
		if (ev->seg)
			IH_BUG_ON(!prev->phys_count && ev->phys_count,
				  "an entry after a segment without one");
		/* fall through */
	default:
		IH_BUG_ON(!ev->device[0], "dma: event without device");
		IH_BUG_ON(ev->group_id != -1, "group id on a dma: event");
		IH_BUG_ON(ev->iova_end < ev->iova, "end below start");
		break;
	}
}

struct result {
	u64 events, errors, hash;
	struct ih_trace_stats st;
};

static void mix(u64 *h, u64 v)
{
	*h = (*h ^ v) * 0x100000001b3ull;
}

static void drain(struct ih_trace_reader *r, size_t size, struct result *res)
{
	struct ih_trace_event ev, prev;
	u64 last_line = 0, last_err = 0, sum = 0, phys_in_record = 0;
	bool have_prev = false;
	int ret;

	memset(res, 0, sizeof(*res));
	res->hash = 0xcbf29ce484222325ull;
	while ((ret = ih_trace_next(r, &ev)) != 0) {
		if (ret < 0) {
			IH_BUG_ON(ret != -EINVAL && ret != -E2BIG, "ret %d", ret);
			IH_BUG_ON(ih_trace_error_line(r) < last_err, "error lines go back");
			IH_BUG_ON(strncmp(ih_trace_error(r), "line ", 5), "message '%s'",
				  ih_trace_error(r));
			last_err = ih_trace_error_line(r);
			res->errors++;
			mix(&res->hash, (u64)-ret);
			mix(&res->hash, last_err);
			have_prev = false;
			continue;
		}
		IH_BUG_ON(ret != 1, "ret %d", ret);
		check_event(&ev, have_prev ? &prev : NULL, last_line, &phys_in_record);
		last_line = ev.line;
		prev = ev;
		have_prev = true;
		res->events++;
		mix(&res->hash, ev.kind);
		mix(&res->hash, ev.line);
		mix(&res->hash, ev.iova);
		mix(&res->hash, ev.size);
		mix(&res->hash, ev.ts_ns);
		mix(&res->hash, ev.paddr);
		mix(&res->hash, ev.paddr_last);
		mix(&res->hash, ev.phys_count);
	}
	IH_BUG_ON(ih_trace_next(r, &ev) != 0, "end not sticky");
	ih_trace_get_stats(r, &res->st);
	for (int k = 0; k < IH_TRACE_KIND_COUNT; k++)
		sum += res->st.per_kind[k];
	IH_BUG_ON(res->st.events != res->events || sum != res->events, "event counts");
	IH_BUG_ON(res->st.errors != res->errors, "error counts");
	IH_BUG_ON(res->st.lines != res->st.records + res->st.joined + res->st.skipped +
					   res->st.rejected,
		  "line counts");
	IH_BUG_ON(res->st.bytes != size, "bytes %llu of %zu", (unsigned long long)res->st.bytes,
		  size);
	IH_BUG_ON(res->st.unknown > res->st.records, "unknown counts");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result a, b;
	struct ih_trace_reader *r;
	FILE *fp;

	r = ih_trace_reader_open_mem(data, size);
	IH_BUG_ON(!r, "out of memory");
	drain(r, size, &a);
	ih_trace_reader_close(r);

	/* fmemopen refuses an empty buffer on some libcs. */
	if (!size)
		return 0;
	fp = fmemopen((void *)data, size, "r");
	IH_BUG_ON(!fp, "fmemopen");
	r = ih_trace_reader_open_file(fp);
	IH_BUG_ON(!r, "out of memory");
	drain(r, size, &b);
	ih_trace_reader_close(r);
	fclose(fp);
	IH_BUG_ON(a.hash != b.hash || a.events != b.events || a.errors != b.errors ||
			  memcmp(&a.st, &b.st, sizeof(a.st)),
		  "memory and FILE readers disagree");
	return 0;
}
