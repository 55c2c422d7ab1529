// SPDX-License-Identifier: MIT
/* Choice bytes (ih_coop_run_choices) reach the known races: the fuzz_interleave channel. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/world.h>
#include "lib/scenarios.h"

enum race { PROBE_RACE, SIBLING, FQ_FLIP };

/* An empty choice string: not NULL, which would mean a seeded random run. */
static const u8 none[1];

/* The schedule the last run_choices() ran (a script). */
static char trace[512];

/*
 * One choice-driven run of @race on a fresh 2-CPU world with the replay switches
 * @switches ("" for none), as fuzz/fuzz_interleave.c runs it. Return: the scenario's verdict.
 */
static int run_choices(enum race race, const char *switches, const u8 *b, size_t n)
{
	struct scenario_sched s = { .choices = b, .nchoices = n, .trace = trace,
				    .tlen = sizeof(trace) };
	struct ih_world_config cfg;
	struct ih_world *w;
	int ret;

	ih_world_config_init(&cfg);
	cfg.ncpus = 2;
	cfg.log = "none";
	cfg.regressions = switches;
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	if (race == PROBE_RACE)
		ret = scenario_probe_race_run(w, &s);
	else if (race == SIBLING)
		ret = scenario_sibling_run(w, &s);
	else
		ret = scenario_fq_flip_run(w, &s);
	cr_expect_eq(ih_world_destroy(w), 0, "no model leak");
	return ret;
}

/*
 * Thread A unmaps, B flips to lazy; 0 picks A, 1 picks B while both run. 0 1: A first,
 * and at A's first point (dma:unmap:after-fq-read) B, which runs to its end (no bytes
 * left, B keeps running), then A: "A@dma:unmap:after-fq-read B A", the known script.
 * 0 0 1 stops A one point later (dma:unmap:before-sync): the same window.
 */
Test(coop_choices, fq_reread_window_is_two_bytes)
{
	static const u8 at_read[] = { 0, 1 }, at_sync[] = { 0, 0, 1 };

	cr_expect_eq(run_choices(FQ_FLIP, "fq-domain-reread", at_read, sizeof(at_read)), 1);
	cr_expect_str_eq(trace, "A@dma:unmap:after-fq-read B A");
	cr_expect_eq(run_choices(FQ_FLIP, "fq-domain-reread", at_sync, sizeof(at_sync)), 1);
	cr_expect_str_eq(trace, "A@dma:unmap:before-sync B A");
	cr_expect_eq(run_choices(FQ_FLIP, "", at_read, sizeof(at_read)), 0, "fixed code");
	cr_expect_str_eq(trace, "A@dma:unmap:after-fq-read B A", "the same schedule");
	cr_expect_eq(run_choices(FQ_FLIP, "", at_sync, sizeof(at_sync)), 0, "fixed code");
	cr_expect_eq(run_choices(FQ_FLIP, "fq-domain-reread", none, 0), 0,
		     "A then B is no race");
	cr_expect_str_eq(trace, "A B");
}

/*
 * 1 0: B first; with fq-flip-unordered its first point is dma:flip:published (the mode
 * public, the queue not yet built), where 0 hands over to A, whose unmap runs whole:
 * "B@dma:flip:published A B", the known script.
 */
Test(coop_choices, fq_unordered_window_is_two_bytes)
{
	static const u8 b[] = { 1, 0 };

	cr_expect_eq(run_choices(FQ_FLIP, "fq-flip-unordered", b, sizeof(b)), 1);
	cr_expect_str_eq(trace, "B@dma:flip:published A B");
	cr_expect_eq(run_choices(FQ_FLIP, "", b, sizeof(b)), 0, "fixed code");
}

/*
 * Two siblings, each bind, unbind, twice. With ownership-unserialised the points of an
 * attach are probe-after-set-driver, dma-configure-after-read-driver,
 * ownership:use-before-store, probe-before-probe; of an unbind unbind-before-remove,
 * unbind-before-dma-cleanup, ownership:unuse-before-store. The bytes: A attaches up to
 * probe-before-probe (0, 0 0 0), B the same (1, 1 1 1), A unbinds up to its read of
 * owner_cnt = 2 (0, 0 0), then B (1) runs on with no bytes left: its unbind stores 1,
 * and A's stale store of 1 loses it. owner_cnt stays one above the DMA-API users:
 * "A@base:probe-before-probe B@base:probe-before-probe A@ownership:unuse-before-store B A".
 */
Test(coop_choices, sibling_lost_unuse_is_twelve_bytes)
{
	static const u8 b[] = { 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1 };

	cr_expect_eq(run_choices(SIBLING, "ownership-unserialised", b, sizeof(b)), 1);
	cr_expect_str_eq(trace, "A@base:probe-before-probe B@base:probe-before-probe "
				"A@ownership:unuse-before-store B A");
	cr_expect_eq(run_choices(SIBLING, "ownership-unserialised", b, sizeof(b) - 1), 0,
		     "without the last switch A runs on and reads after B's store");
	cr_expect_eq(run_choices(SIBLING, "", b, sizeof(b)), 0, "fixed code");
}

/* The seed shapes of corpus/interleave/ stay clean on the fixed code in all three. */
Test(coop_choices, seed_shapes_are_clean_without_switches)
{
	u8 zeros[64] = { 0 }, ones[64], alt[64], mixed[64];

	memset(ones, 1, sizeof(ones));
	for (size_t i = 0; i < sizeof(alt); i++) {
		alt[i] = (u8)(i & 1);
		mixed[i] = (u8)(i * 37 + 11);
	}
	for (int r = PROBE_RACE; r <= FQ_FLIP; r++) {
		cr_expect_eq(run_choices(r, "", none, 0), 0, "race %d, no bytes", r);
		cr_expect_eq(run_choices(r, "", zeros, sizeof(zeros)), 0, "race %d, zeros", r);
		cr_expect_eq(run_choices(r, "", ones, sizeof(ones)), 0, "race %d, ones", r);
		cr_expect_eq(run_choices(r, "", alt, sizeof(alt)), 0, "race %d, alternating", r);
		cr_expect_eq(run_choices(r, "", mixed, sizeof(mixed)), 0, "race %d, mixed", r);
	}
}
