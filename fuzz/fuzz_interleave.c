// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the thread interleaving itself. The input chooses one of the racy
 * known-bug scenarios of tests/lib/scenarios.h and then, decision by decision, which
 * logical thread of the cooperative scheduler runs next (ih_coop_run_choices()), so
 * libFuzzer's coverage guidance searches the schedules of the fixed code. Each input gets
 * a fresh sequential 2-CPU world (log "none"; replay switches only from IH_REGRESSIONS,
 * unset when fuzzing: the bug zoo sets it to replay a seed against an old code path).
 *
 * Input format:
 *   byte 0   the scenario, b % 3:
 *            0 probe_race: bind-time fwspec creation (A) vs registration's probe of the
 *              same device (B), seed 000;
 *            1 sibling: two PCI devices behind a PCIe-to-PCI bridge (one IOMMU group)
 *              each bind and unbind twice (A: 01:00.0, B: 01:01.0), seed 003;
 *            2 fq_flip: a strict unmap (A) vs the live "DMA-FQ" type write (B) on an
 *              SMMUv3 with its emulated hardware, then IOVA reuse and device DMA, seed 002.
 *   byte 1.. the choice bytes: at each decision with two or more runnable threads (the
 *            first pick, a schedule point, a thread blocking or finishing) the next byte
 *            b picks runnable thread b % n in A, B order; forced moves take no byte.
 *            When they run out, the running thread keeps going (then A, then B).
 *   An empty input is scenario 0 with no choice bytes.
 *
 * Feedback: edges alone hardly tell interleavings apart (a scenario runs the same code in
 * most orders), so each pair of consecutive steps of the schedule that ran ("A@p" then
 * "B@q", from the trace) also bumps one of libFuzzer's extra counters, hashed: an input
 * that makes a new hand-over, or makes one more often, is kept.
 *
 * Findings (IH_BUG_ON): the scenario's detector fired (a broken group invariant, a
 * warning, an IOTLB-staleness or dma-debug report, a device that ended unbound or DMA
 * that reached the wrong page), any other checker report, a rig that failed to build,
 * or a model leak at world teardown. The scenario prints its report and the schedule
 * (a script for ih_coop_run_script()) first; a clean run prints nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ih/check.h>
#include <ih/coop.h>
#include <ih/diag.h>
#include <ih/world.h>
#include "lib/scenarios.h"

static const struct {
	const char *name;
	int (*run)(struct ih_world *w, const struct scenario_sched *s);
} races[] = {
	{ "probe_race", scenario_probe_race_run },
	{ "sibling", scenario_sibling_run },
	{ "fq_flip", scenario_fq_flip_run },
};

#define SCHED_COUNTERS 4096

/*
 * libFuzzer's extra-counter section (it finds it by name, reads it after each input and
 * clears it before the next): feedback only, and with the worker pool below the only
 * state outside an input's run. The replay driver and other engines leave it unread.
 */
__attribute__((section("__libfuzzer_extra_counters"))) static u8 sched_counters[SCHED_COUNTERS];

static u32 fnv1a(u32 h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (u8)p[i]) * 16777619u;
	return h;
}

/* One counter per (race, step, next step) of the trace "A@p B@q A ...". */
static void schedule_feedback(unsigned int race, const char *trace)
{
	size_t plen = 0, len;
	const char *prev = "";

	while (*trace) {
		u32 h = fnv1a(2166136261u ^ race, prev, plen);
		u8 *c;

		len = strcspn(trace, " ");
		h = fnv1a(h * 16777619u, trace, len);
		c = &sched_counters[h % SCHED_COUNTERS];
		if (*c < 255)
			(*c)++;
		prev = trace;
		plen = len;
		trace += len;
		trace += strspn(trace, " ");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Not NULL: a NULL choice string would make the scenario run a seeded schedule. */
	static const u8 no_choices[1];
	/*
	 * Pooled pthreads for the logical threads, kept from input to input (reached from
	 * here, so not a leak): ASan keeps memory for every pthread ever created, which grew
	 * RSS by ~0.4 MB per 1000 inputs when each run started its own.
	 */
	static struct ih_coop_workers *workers;
	char trace[1024];
	struct scenario_sched s = { .choices = no_choices, .trace = trace, .tlen = sizeof(trace) };
	struct ih_world_config cfg;
	struct ih_world *w;
	unsigned int race = size ? data[0] % ARRAY_SIZE(races) : 0;
	int ret;

	if (!workers)
		IH_BUG_ON(ih_coop_workers_create(&workers), "coop workers");
	s.workers = workers;
	if (size > 1) {
		s.choices = data + 1;
		s.nchoices = size - 1;
	}
	ih_world_config_init(&cfg);
	cfg.log = "none";
	cfg.ncpus = 2;
	IH_BUG_ON(ih_world_create(&cfg, &w), "world");
	trace[0] = '\0';
	ret = races[race].run(w, &s);
	schedule_feedback(race, trace);
	IH_BUG_ON(ret < 0, "%s: the rig failed under %zu choice byte(s)", races[race].name,
		  s.nchoices);
	IH_BUG_ON(ret, "%s: a detector fired under %zu choice byte(s)", races[race].name,
		  s.nchoices);
	IH_BUG_ON(ih_report_total(w), "%s: %lu checker report(s)", races[race].name,
		  ih_report_total(w));
	IH_BUG_ON(ih_world_destroy(w), "%s: model leak at world teardown", races[race].name);
	return 0;
}
