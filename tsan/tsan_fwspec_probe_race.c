// SPDX-License-Identifier: MIT
/*
 * TSan scenario, seed 000: fwspec built at driver bind (bind-time flow) while the IOMMU
 * registration's bus walk probes the same device.
 *
 * Threads: a binder (binds a fresh device: dma_configure parses firmware and builds the
 * fwspec, then replays the probe) and a prober (ih_iommu_probe_device on the same device,
 * as bus_iommu_probe does), started together on a flag for each of ROUNDS devices.
 * Invariant: both calls succeed or defer cleanly, the device ends bound and probed, no
 * model leak. Expected outcome: exit 0 with no ThreadSanitizer report on the fixed path;
 * with --regress (the fwspec-probe-race switch: no probe lock around fwspec creation)
 * TSan reports the race on the device's IOMMU data (a ctest expects that report).
 * --rounds N runs the first N rounds only (the zoo's explorer times repetitions of 30).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include <ih/world.h>
#include "lib/test_iommu.h"

#define ROUNDS 300

struct shared {
	struct ih_world *w;
	unsigned int rounds;
	struct ih_device *dev; /* this round's device */
	unsigned int round;    /* atomic: bumped by main to start a round */
	unsigned int done;     /* atomic: threads finished this round */
	struct tdriver drv;
};

static void wait_round(struct shared *s, unsigned int r)
{
	while (__atomic_load_n(&s->round, __ATOMIC_ACQUIRE) != r)
		sched_yield();
}

static void *binder(void *arg)
{
	struct shared *s = arg;

	ih_thread_set_cpu(s->w, 0);
	for (unsigned int r = 1; r <= s->rounds; r++) {
		wait_round(s, r);
		ih_device_bind(s->dev, &s->drv.drv);
		__atomic_fetch_add(&s->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *prober(void *arg)
{
	struct shared *s = arg;

	ih_thread_set_cpu(s->w, 1);
	for (unsigned int r = 1; r <= s->rounds; r++) {
		wait_round(s, r);
		ih_iommu_probe_device(s->dev);
		__atomic_fetch_add(&s->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bool regress = false;
	struct ih_world_config cfg;
	static struct tiommu t;
	static struct tfw_entry e[ROUNDS];
	static char names[ROUNDS][16];
	static struct tfw fw;
	struct shared s = { 0 };
	pthread_t th[2];
	int bad = 0;

	s.rounds = ROUNDS;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--regress"))
			regress = true;
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			s.rounds = (unsigned int)strtoul(argv[++i], NULL, 0);
	}
	if (!s.rounds || s.rounds > ROUNDS) {
		fprintf(stderr, "usage: tsan_fwspec_probe_race [--regress] [--rounds N <= %d]\n",
			ROUNDS);
		return 2;
	}

	ih_world_config_init(&cfg);
	cfg.mode = IH_EXEC_CONCURRENT;
	cfg.clock = IH_CLOCK_REAL;
	cfg.ncpus = 2;
	if (ih_world_create(&cfg, &s.w))
		return 1;
	/* --regress forces the switch; otherwise IH_REGRESSIONS decides (the zoo uses that). */
	if (regress)
		ih_regress_set(s.w, IH_REGRESS_FWSPEC_PROBE_RACE, true);
	regress = ih_regress_on(s.w, IH_REGRESS_FWSPEC_PROBE_RACE);
	/* Yield at a fifth of the schedule points: widens the windows between the steps. */
	ih_sched_set_random_yield(s.w, 200000);
	printf("tsan_fwspec_probe_race: %u rounds, %s\n", s.rounds, regress ? "regress" : "fixed");
	for (int i = 0; i < ROUNDS; i++) {
		snprintf(names[i], sizeof(names[i]), "dev%d", i);
		e[i] = (struct tfw_entry){ names[i], tiommu_fwnode(&t), (u32)i };
	}
	fw = (struct tfw){ .entries = e, .count = ROUNDS };
	tfw_install(s.w, &fw);
	ih_iommu_set_probe_flow(s.w, IH_PROBE_FLOW_BIND);
	if (tiommu_register(s.w, &t))
		return 1;
	if (ih_bus_register(s.w, &ih_platform_bus_type))
		return 1;
	tdriver_init(&s.drv, "tdrv", false);
	s.drv.drv.id_table = NULL; /* bind only on request: match by name never hits */
	if (ih_driver_register(s.w, &s.drv.drv))
		return 1;
	pthread_create(&th[0], NULL, binder, &s);
	pthread_create(&th[1], NULL, prober, &s);
	for (unsigned int r = 1; r <= s.rounds; r++) {
		struct ih_device *dev = tplat_add(s.w, names[r - 1]);

		if (!dev || ih_device_set_driver_override(dev, "tdrv"))
			return 1;
		s.dev = dev;
		__atomic_store_n(&s.done, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s.round, r, __ATOMIC_RELEASE);
		while (__atomic_load_n(&s.done, __ATOMIC_ACQUIRE) != 2)
			sched_yield();
		if (ih_device_driver(dev) != &s.drv.drv || !dev->iommu_group)
			bad++;
		ih_device_unregister(dev);
	}
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	ih_driver_unregister(s.w, &s.drv.drv);
	ih_iommu_device_unregister(s.w, &t.iommu);
	if (bad)
		fprintf(stderr, "tsan_fwspec_probe_race: %d round(s) ended unbound or unprobed\n", bad);
	if (ih_world_destroy(s.w) || bad)
		return 1;
	printf("tsan_fwspec_probe_race: pass\n");
	return 0;
}
