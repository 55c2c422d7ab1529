// SPDX-License-Identifier: MIT
/*
 * Fuzz target: trace replay (core/trace/replay.c) through the hardware backend
 * (hw/board/trace_backend.c), fed by the streaming parser.
 *
 * Input: byte 0 chooses the replay, the rest is trace text (tracefs `trace` or
 * `trace-cmd report` output, possibly mail-quoted; seeds: corpus/trace_replay/, made by
 * corpus/gen_trace_replay_corpus.sh from tests/trace/data/ and corpus/trace/; dictionary
 * corpus/trace_replay.dict, a copy of corpus/trace.dict):
 *   bit 0: Rockchip backend (else SMMUv3)     bit 1: lazy (else strict)
 *   bit 2: --fast (timestamps ignored)        bit 3: the --dma-access model
 *   bit 4: a fallback device named "fb" (--device)
 *   bit 5: keep at most 4 findings (the cap path)
 *
 * Work per input is bounded: at most RP_FZ_EVENTS events are fed, the backend makes at
 * most RP_FZ_DEVICES devices, and map/unmap records larger than RP_FZ_MAX_SIZE (Rockchip:
 * 4K pages only, so a 4 GiB map is a million PTE writes) are skipped.
 *
 * Checked after the replay finished and was destroyed:
 *  - no model leak at world destroy, no harness warning (IH_WARN_ON) in the world;
 *  - the world's report sink saw nothing but stale-TLB accesses, and those no more than
 *    the access findings: every other report is the model disagreeing with itself
 *    (dma-debug size/direction mismatches, IOVA leaks, stale entries at free...);
 *  - every kept finding has 1 <= line <= lines read; an earlier record it names comes
 *    before it; live-at-end findings count mappings; findings per kind add up over the
 *    devices to the replay's totals (model errors of devices never made aside).
 * Deterministic: the world's seeded PRNG and virtual clock; nothing kept between inputs.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <ih/check.h>
#include <ih/diag.h>
#include <ih/trace.h>
#include <ih/trace_replay.h>
#include <ih/world.h>

#include "board/trace_backend.h"

#define RP_FZ_EVENTS   2048
#define RP_FZ_DEVICES  6
#define RP_FZ_MAX_SIZE (1ULL << 36)
#define RP_FZ_RK_MAX   (64ULL << 20)

struct rp_fz_sink {
	unsigned long per_kind[IH_REPORT_NR_KINDS];
};

static void rp_fz_report(void *opaque, const struct ih_report *r)
{
	struct rp_fz_sink *s = opaque;

	if ((unsigned int)r->kind < IH_REPORT_NR_KINDS)
		s->per_kind[r->kind]++;
}

/* Too costly to bound per input (see the header): not fed. */
static bool rp_fz_skip(const struct ih_trace_event *ev, bool rk)
{
	u64 max = rk ? RP_FZ_RK_MAX : RP_FZ_MAX_SIZE;
	u64 size = ev->size;

	if (ev->kind == IH_TRACE_MAP || ev->kind == IH_TRACE_UNMAP)
		size = ev->iova_end - ev->iova;
	return size > max;
}

static void rp_fz_check_findings(struct ih_trace_replay *rp, const struct ih_trace_stats *ps)
{
	struct ih_trace_replay_stats st;
	u64 per_dev[IH_TRACE_FIND_KIND_COUNT] = {0};
	const struct ih_trace_finding *f;

	ih_trace_replay_get_stats(rp, &st);
	for (size_t i = 0; (f = ih_trace_replay_finding(rp, i)); i++) {
		IH_BUG_ON((unsigned int)f->kind >= IH_TRACE_FIND_KIND_COUNT, "kind %d", f->kind);
		IH_BUG_ON(!f->line || f->line > ps->lines, "%s: line %llu of %llu lines",
			  ih_trace_finding_name(f->kind), (unsigned long long)f->line,
			  (unsigned long long)ps->lines);
		IH_BUG_ON(f->other_line && f->other_line >= f->line,
			  "%s: line %llu names the later line %llu", ih_trace_finding_name(f->kind),
			  (unsigned long long)f->line, (unsigned long long)f->other_line);
		IH_BUG_ON(!memchr(f->device, 0, sizeof(f->device)), "unterminated device name");
		IH_BUG_ON(f->kind == IH_TRACE_FIND_LIVE_AT_END && (!f->count || !f->size),
			  "live-at-end of %llu mappings, %llu bytes", (unsigned long long)f->count,
			  (unsigned long long)f->size);
		IH_BUG_ON(f->kind == IH_TRACE_FIND_MODEL_ERROR && f->err >= 0, "model error %d",
			  f->err);
	}
	for (size_t i = 0; i < ih_trace_replay_ndevices(rp); i++) {
		struct ih_trace_dev_summary s;

		IH_BUG_ON(ih_trace_replay_device(rp, i, &s), "device %zu", i);
		for (unsigned int k = 0; k < IH_TRACE_FIND_KIND_COUNT; k++)
			per_dev[k] += s.findings[k];
		IH_BUG_ON(s.faults > s.accesses, "%llu faults of %llu accesses",
			  (unsigned long long)s.faults, (unsigned long long)s.accesses);
	}
	for (unsigned int k = 0; k < IH_TRACE_FIND_KIND_COUNT; k++)
		IH_BUG_ON(k == IH_TRACE_FIND_MODEL_ERROR ? per_dev[k] > st.findings[k]
							 : per_dev[k] != st.findings[k],
			  "%s: %llu over the devices, %llu in all", ih_trace_finding_name(k),
			  (unsigned long long)per_dev[k], (unsigned long long)st.findings[k]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ih_trace_hw_config hc = {.ncpus = 4, .max_devices = RP_FZ_DEVICES};
	struct ih_trace_replay_config rc = {.ops = ih_trace_hw_ops()};
	struct ih_trace_replay_stats st;
	struct ih_trace_reader *rd;
	struct ih_trace_replay *rp;
	struct ih_trace_hw *hw;
	struct ih_trace_event ev;
	struct ih_trace_stats ps;
	struct rp_fz_sink sink = {{0}};
	struct ih_world *w;
	unsigned int fed = 0;
	unsigned long warns, stale;
	u8 mode;
	int ret;

	if (!size)
		return 0;
	mode = data[0];
	hc.kind = mode & 1 ? IH_TRACE_HW_RK : IH_TRACE_HW_SMMUV3;
	hc.lazy = mode & 2;
	rc.fast = mode & 4;
	rc.dma_access = mode & 8;
	rc.device = mode & 16 ? "fb" : NULL;
	rc.max_findings = mode & 32 ? 4 : 0;
	IH_BUG_ON(ih_trace_hw_create(&hc, &hw), "backend");
	w = ih_trace_hw_world(hw);
	ih_report_set_sink(w, rp_fz_report, &sink);
	rc.opaque = hw;
	IH_BUG_ON(ih_trace_replay_create(w, &rc, &rp), "replay");
	rd = ih_trace_reader_open_mem(data + 1, size - 1);
	IH_BUG_ON(!rd, "reader");
	while (fed < RP_FZ_EVENTS && (ret = ih_trace_next(rd, &ev)) != 0) {
		if (ret < 0)
			continue; /* parse errors are fuzz_trace's business */
		if (rp_fz_skip(&ev, hc.kind == IH_TRACE_HW_RK))
			continue;
		fed++;
		IH_BUG_ON(ih_trace_replay_event(rp, &ev), "replay_event at line %llu",
			  (unsigned long long)ev.line);
	}
	IH_BUG_ON(ih_trace_replay_finish(rp), "finish");
	IH_BUG_ON(ih_trace_replay_event(rp, &ev) != -EINVAL, "an event after the end");
	ih_trace_get_stats(rd, &ps);
	ih_trace_replay_get_stats(rp, &st);
	IH_BUG_ON(st.events != fed, "%llu events applied of %u fed", (unsigned long long)st.events,
		  fed);
	rp_fz_check_findings(rp, &ps);
	ih_trace_replay_destroy(rp);
	ih_trace_reader_close(rd);
	warns = ih_warn_count(w);
	IH_BUG_ON(warns, "%lu harness warning(s) in the replay", (unsigned long)warns);
	/* The sink stays on through the teardown: leaks at unbind are reports too. */
	IH_BUG_ON(ih_trace_hw_destroy(hw), "the replay leaked model memory");
	stale = sink.per_kind[IH_REPORT_IOTLB_STALE_ACCESS];
	sink.per_kind[IH_REPORT_IOTLB_STALE_ACCESS] = 0;
	for (unsigned int k = 0; k < IH_REPORT_NR_KINDS; k++)
		IH_BUG_ON(sink.per_kind[k], "the model reported %s %lu time(s)",
			  ih_report_kind_name(k), sink.per_kind[k]);
	IH_BUG_ON(stale > st.findings[IH_TRACE_FIND_ACCESS_AFTER_UNMAP] +
			      st.findings[IH_TRACE_FIND_ACCESS_UNMAPPED],
		  "%lu stale-TLB accesses, %llu access findings", stale,
		  (unsigned long long)(st.findings[IH_TRACE_FIND_ACCESS_AFTER_UNMAP] +
				       st.findings[IH_TRACE_FIND_ACCESS_UNMAPPED]));
	return 0;
}
