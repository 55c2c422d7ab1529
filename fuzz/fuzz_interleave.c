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
 * Findings (IH_BUG_ON): the scenario's detector fired (a broken group invariant, a
 * warning, an IOTLB-staleness or dma-debug report, a device that ended unbound or DMA
 * that reached the wrong page), any other checker report, a rig that failed to build,
 * or a model leak at world teardown. The scenario prints its report and the schedule
 * (a script for ih_coop_run_script()) first; a clean run prints nothing.
 */
#include <stddef.h>
#include <stdint.h>

#include <ih/check.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Not NULL: a NULL choice string would make the scenario run a seeded schedule. */
	static const u8 no_choices[1];
	struct scenario_sched s = { .choices = no_choices };
	struct ih_world_config cfg;
	struct ih_world *w;
	unsigned int race = size ? data[0] % ARRAY_SIZE(races) : 0;
	int ret;

	if (size > 1) {
		s.choices = data + 1;
		s.nchoices = size - 1;
	}
	ih_world_config_init(&cfg);
	cfg.log = "none";
	cfg.ncpus = 2;
	IH_BUG_ON(ih_world_create(&cfg, &w), "world");
	ret = races[race].run(w, &s);
	IH_BUG_ON(ret < 0, "%s: the rig failed under %zu choice byte(s)", races[race].name,
		  s.nchoices);
	IH_BUG_ON(ret, "%s: a detector fired under %zu choice byte(s)", races[race].name,
		  s.nchoices);
	IH_BUG_ON(ih_report_total(w), "%s: %lu checker report(s)", races[race].name,
		  ih_report_total(w));
	IH_BUG_ON(ih_world_destroy(w), "%s: model leak at world teardown", races[race].name);
	return 0;
}
