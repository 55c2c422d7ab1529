// SPDX-License-Identifier: MIT
/*
 * zoo_scenarios NAME: run one known-bug scenario on a fresh world whose replay switches
 * come from IH_REGRESSIONS, as `scripts/ih zoo` does for every switch and, with none on,
 * for the false-alarm pass. Exit 0: the model stayed consistent; 1: a detector fired (the
 * message says which); 2: usage. A memory error crashes the process instead, as in the
 * kernel; the sanitizer (or the poisoned pointer's SEGV) is then the detector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/world.h>
#include "lib/scenarios.h"

static int run_sibling_explore(struct ih_world *w)
{
	int seed = scenario_sibling_explore(w, 50);

	if (seed > 0)
		printf("zoo: found after %d seed(s)\n", seed);
	return seed != 0;
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
};

int main(int argc, char **argv)
{
	struct ih_world_config cfg;
	struct ih_world *w;
	size_t leaked;
	int ret;

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
	fprintf(stderr, "usage: zoo_scenarios NAME; names:");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(stderr, " %s", scenarios[i].name);
	fputc('\n', stderr);
	return 2;
}
