// SPDX-License-Identifier: MIT
/*
 * zoo_scenarios NAME: run one known-bug scenario on a fresh world whose replay switches
 * come from IH_REGRESSIONS, as `scripts/ih zoo` does for every switch and, with none on,
 * for the false-alarm pass. Exit 0: the model stayed consistent; 1: a detector fired (the
 * message says which); 2: usage. A memory error crashes the process instead, as in the
 * kernel; the sanitizer (or the poisoned pointer's SEGV) is then the detector.
 *
 * zoo_scenarios --schedule RACE SEED DEPTH: one schedule of a racy scenario (RACE is
 * probe-race, sibling or fq-flip; DEPTH 0 uniform random, else PCT of that depth), in this
 * process: the replay of what --explore found. Exits as above.
 * zoo_scenarios --explore RACE random|pct SEED0 MAX: seeds SEED0, SEED0 + 1, ... up to MAX
 * of them, each schedule in a forked child (a memory error only ends the child), until a
 * detector fires; prints "zoo-explore: RACE MODE found after N seed(s) (seed S)" and exits
 * 0, or "not found" and exits 1. PCT runs at depth 3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ih/world.h>
#include "lib/scenarios.h"

static int run_sibling_explore(struct ih_world *w)
{
	int seed = scenario_sibling_explore(w, 50);

	if (seed > 0)
		printf("zoo: found after %d seed(s)\n", seed);
	return seed != 0;
}

static int run_fq_reread_script(struct ih_world *w)
{
	return scenario_fq_flip_script(w, FQ_FLIP_SCRIPT_REREAD, NULL);
}

static int run_fq_unordered_script(struct ih_world *w)
{
	return scenario_fq_flip_script(w, FQ_FLIP_SCRIPT_UNORDERED, NULL);
}

static int run_fq_flip_explore(struct ih_world *w)
{
	int n = scenario_fq_flip_explore(w, 400, 1, 0);

	if (n > 0)
		printf("zoo: found after %d seed(s)\n", n);
	return n != 0;
}

static const struct {
	const char *name;
	int (*run)(struct ih_world *w);
} scenarios[] = {
	{ "probe-race-script", scenario_probe_race_script },
	{ "failed-probe", scenario_failed_probe },
	{ "sibling-explore", run_sibling_explore },
	{ "rk-probe-order", scenario_rk_probe_order },
	{ "smmuv3-xlate-error", scenario_smmuv3_xlate_error },
	{ "page-pool-vf-delete", scenario_page_pool_vf_delete },
	{ "page-pool-rk-unbind", scenario_page_pool_rk_unbind },
	{ "fq-reread-script", run_fq_reread_script },
	{ "fq-unordered-script", run_fq_unordered_script },
	{ "fq-flip-explore", run_fq_flip_explore },
};

static const struct {
	const char *name;
	int (*run)(struct ih_world *w, u64 seed, unsigned int pct_depth);
} races[] = {
	{ "probe-race", scenario_probe_race_schedule },
	{ "sibling", scenario_sibling_schedule },
	{ "fq-flip", scenario_fq_flip_schedule },
};

#define EXPLORE_PCT_DEPTH 3

/* One schedule on a fresh world: 0 clean, 1 caught (a report or a leak), 2 rig failure. */
static int run_schedule(int race, u64 seed, unsigned int depth)
{
	struct ih_world_config cfg;
	struct ih_world *w;
	size_t leaked;
	int ret;

	ih_world_config_init(&cfg);
	cfg.ncpus = 2;
	if (ih_world_create(&cfg, &w))
		return 2;
	ret = races[race].run(w, seed, depth);
	leaked = ih_world_destroy(w);
	if (leaked)
		printf("zoo: %zu model block(s) leaked at world teardown\n", leaked);
	if (ret < 0)
		return 2;
	return ret || leaked ? 1 : 0;
}

static int find_race(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(races); i++)
		if (!strcmp(name, races[i].name))
			return (int)i;
	return -1;
}

static int explore(int race, bool pct, u64 seed0, unsigned long max)
{
	unsigned int depth = pct ? EXPLORE_PCT_DEPTH : 0;

	for (unsigned long i = 0; i < max; i++) {
		u64 seed = seed0 + i;
		int status;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 2;
		if (!pid) {
			/* The child's reports (a sanitizer's too) would drown the result. */
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0) {
				dup2(null, 1);
				dup2(null, 2);
			}
			_exit(run_schedule(race, seed, depth));
		}
		if (waitpid(pid, &status, 0) != pid)
			return 2;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
			fprintf(stderr, "zoo-explore: %s: the rig failed under seed %llu\n",
				races[race].name, (unsigned long long)seed);
			return 2;
		}
		printf("zoo-explore: %s %s found after %lu seed(s) (seed %llu; replay: "
		       "zoo_scenarios --schedule %s %llu %u)\n",
		       races[race].name, pct ? "pct" : "random", i + 1, (unsigned long long)seed,
		       races[race].name, (unsigned long long)seed, depth);
		return 0;
	}
	printf("zoo-explore: %s %s not found in %lu seed(s)\n", races[race].name,
	       pct ? "pct" : "random", max);
	return 1;
}

int main(int argc, char **argv)
{
	struct ih_world_config cfg;
	struct ih_world *w;
	size_t leaked;
	int ret, race;

	if (argc == 5 && !strcmp(argv[1], "--schedule") && (race = find_race(argv[2])) >= 0)
		return run_schedule(race, strtoull(argv[3], NULL, 0),
				    (unsigned int)strtoul(argv[4], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "--explore") && (race = find_race(argv[2])) >= 0 &&
	    (!strcmp(argv[3], "random") || !strcmp(argv[3], "pct")))
		return explore(race, !strcmp(argv[3], "pct"), strtoull(argv[4], NULL, 0),
			       strtoul(argv[5], NULL, 0));

	for (size_t i = 0; argc == 2 && i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(argv[1], scenarios[i].name))
			continue;
		ih_world_config_init(&cfg);
		cfg.ncpus = 2;
		if (ih_world_create(&cfg, &w))
			return 2;
		ret = scenarios[i].run(w);
		leaked = ih_world_destroy(w);
		if (leaked)
			printf("zoo: %zu model block(s) leaked at world teardown\n", leaked);
		return ret || leaked ? 1 : 0;
	}
	fprintf(stderr, "usage: zoo_scenarios NAME | --schedule RACE SEED DEPTH | --explore RACE "
			"random|pct SEED0 MAX\nnames:");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(stderr, " %s", scenarios[i].name);
	fprintf(stderr, "\nraces:");
	for (size_t i = 0; i < ARRAY_SIZE(races); i++)
		fprintf(stderr, " %s", races[i].name);
	fputc('\n', stderr);
	return 2;
}
