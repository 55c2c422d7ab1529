// SPDX-License-Identifier: MIT
/*
 * Seed 000, scripted: the bind-time flow builds a fwspec from dma_configure while IOMMU
 * registration probes the same device. The interleaving from the thread, step by step:
 *   CPU0: bind -> dma_configure -> fwspec_init -> dev_iommu_get()       [fwspec:after-get]
 *   CPU1: registration probe -> probe_device fails (no fwspec yet) -> dev_iommu_free()
 *   CPU0: continues with the dev_iommu it fetched: use after free.
 * The cooperative scheduler replays it as the script "A@fwspec:after-get B A". In the fixed
 * code CPU0 holds the probe lock at that point, so CPU1 parks on it and runs after CPU0
 * lets go: the same script, no race.
 * Each run happens in a child process: the broken path must die (poisoned-pointer SEGV,
 * or an ASan report in sanitizer builds), the fixed path must exit cleanly.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ih/world.h>
#include "lib/scenarios.h"

/* Returns the child's wait status. */
static int run_scenario(bool regress)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct ih_world_config cfg;
		struct ih_world *w;
		int ret;

		ih_world_config_init(&cfg);
		cfg.ncpus = 2;
		cfg.regressions = regress ? "fwspec-probe-race" : "";
		if (ih_world_create(&cfg, &w))
			_exit(10);
		ret = scenario_probe_race_script(w);
		_exit(ret ? 12 : ih_world_destroy(w) ? 13 : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

Test(fwspec_race, fixed_bind_flow_serialises_fwspec_and_probe)
{
	int status = run_scenario(false);

	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "fixed path: status 0x%x (exit %d)", status, WEXITSTATUS(status));
}

Test(fwspec_race, unlocked_fwspec_build_uses_freed_dev_iommu)
{
	int status = run_scenario(true);

	/* Killed by SIGSEGV on the poisoned pointer, or ASan/UBSan aborting on the UAF. */
	cr_expect(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
					  WEXITSTATUS(status) < 10),
		  "the race must crash the model: status 0x%x", status);
}
