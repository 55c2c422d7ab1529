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

#include <ih/coop.h>
#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include <ih/world.h>
#include "lib/test_iommu.h"

struct actors {
	struct ih_device *dev;
	struct tdriver *drv;
	int bind_ret;
};

/* CPU0: driver bind of the device (bind-time flow: parses firmware, replays the probe). */
static void cpu0_bind(void *arg)
{
	struct actors *a = arg;

	a->bind_ret = ih_device_bind(a->dev, &a->drv->drv);
}

/* CPU1: registration's bus walk reaching the same device. */
static void cpu1_probe(void *arg)
{
	ih_iommu_probe_device(((struct actors *)arg)->dev);
}

/* Returns the child's wait status. */
static int run_scenario(bool regress)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		static struct tiommu t;
		static struct tfw_entry e[1];
		static struct tfw fw;
		struct ih_world_config cfg;
		struct ih_world *w;
		struct ih_coop *coop;
		struct tdriver d;
		struct actors a = { 0 };

		ih_world_config_init(&cfg);
		cfg.ncpus = 2;
		if (ih_world_create(&cfg, &w) || ih_coop_create(w, &coop))
			_exit(10);
		ih_regress_set(w, IH_REGRESS_FWSPEC_PROBE_RACE, regress);
		e[0] = (struct tfw_entry){ "dev0", tiommu_fwnode(&t), 0x10 };
		fw = (struct tfw){ .entries = e, .count = 1 };
		tfw_install(w, &fw);
		ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_BIND);
		if (tiommu_register(w, &t))
			_exit(11);
		a.dev = tplat_add(w, "dev0");
		a.drv = &d;
		tdriver_init(&d, "tdrv", false);
		d.drv.id_table = NULL; /* binds only when asked */
		if (ih_driver_register(w, &d.drv) || ih_device_set_driver_override(a.dev, "tdrv"))
			_exit(11);
		ih_coop_add(coop, cpu0_bind, &a, 0);
		ih_coop_add(coop, cpu1_probe, &a, 1);
		if (ih_coop_run_script(coop, "A@fwspec:after-get B A", NULL, 0))
			_exit(12);
		ih_coop_destroy(coop);
		if (a.bind_ret || ih_device_driver(a.dev) != &d.drv || !a.dev->iommu_group)
			_exit(12);
		ih_device_unregister(a.dev);
		ih_driver_unregister(w, &d.drv);
		ih_iommu_device_unregister(w, &t.iommu);
		_exit(ih_world_destroy(w) ? 13 : 0);
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
