// SPDX-License-Identifier: MIT
/*
 * Seed 000, scripted: the bind-time flow builds a fwspec from dma_configure while IOMMU
 * registration probes the same device. The interleaving from the thread, step by step:
 *   CPU0: bind -> dma_configure -> fwspec_init -> dev_iommu_get()       [fwspec:after-get]
 *   CPU1: registration probe -> probe_device fails (no fwspec yet) -> dev_iommu_free()
 *   CPU0: continues with the dev_iommu it fetched: use after free.
 * A schedule hook plays CPU1 at CPU0's schedule point, unless CPU1 would block on the probe
 * lock there (the fixed code holds it), in which case CPU1 runs after CPU0 lets go.
 * Each run happens in a child process: the broken path must die (poisoned-pointer SEGV,
 * or an ASan report in sanitizer builds), the fixed path must exit cleanly.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include <ih/world.h>
#include "lib/test_iommu.h"

struct cpu1 {
	struct ih_world *w;
	struct ih_device *dev;
	bool ran, deferred;
};

/* CPU1's step: registration's bus walk reaching this device. */
static void cpu1_probe(struct cpu1 *c)
{
	c->ran = true;
	ih_iommu_probe_device(c->dev);
}

static void hook(void *opaque, const char *name)
{
	struct cpu1 *c = opaque;

	if (c->ran || c->deferred || strcmp(name, "fwspec:after-get"))
		return;
	if (ih_iommu_probe_lock_held(c->w))
		c->deferred = true; /* CPU1 would wait for the lock: it runs after CPU0 */
	else
		cpu1_probe(c);
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
		struct ih_world *w;
		struct tdriver d;
		struct cpu1 c = { 0 };
		int ret;

		if (ih_world_create(NULL, &w))
			_exit(10);
		ih_regress_set(w, IH_REGRESS_FWSPEC_PROBE_RACE, regress);
		e[0] = (struct tfw_entry){ "dev0", tiommu_fwnode(&t), 0x10 };
		fw = (struct tfw){ .entries = e, .count = 1 };
		tfw_install(w, &fw);
		ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_BIND);
		if (tiommu_register(w, &t))
			_exit(11);
		c.w = w;
		c.dev = tplat_add(w, "dev0");
		ih_sched_set_hook(w, hook, &c);
		tdriver_init(&d, "tdrv", false);
		ret = ih_driver_register(w, &d.drv);
		if (c.deferred)
			cpu1_probe(&c);
		ih_sched_set_hook(w, NULL, NULL);
		if (ret || !c.ran || ih_device_driver(c.dev) != &d.drv || !c.dev->iommu_group)
			_exit(12);
		ih_device_unregister(c.dev);
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
