// SPDX-License-Identifier: MIT
/*
 * TSan scenario, seed 002: the live strict-to-lazy flip while unmaps and device DMA run,
 * on the SMMUv3 driver and its emulated SMMU (hardware thread, concurrent world).
 *
 * Threads, per round (all start together on the round's flag):
 *   2 unmappers (model CPUs 0 and 1): map a page of their own (alternating between two
 *     PAs), hand it to the device, wait for its DMA, unmap; ITERS times;
 *   a flipper (CPU 2): waits until unmapper 0 has done a seeded number of iterations,
 *     then writes "DMA-FQ" to the group's type (the live flip of that round's domain);
 *   a device (CPU 3): DMAs through every page handed to it and checks the PA it reached;
 *   plus the SMMU's hardware thread consuming the command queue and the world's timer
 *   thread running flush-queue timeouts.
 * Between rounds the main thread unbinds the driver, writes "DMA" (a fresh strict domain)
 * and binds again. A keeper page mapped for the round keeps the leaf table (and so any
 * stale TLB entry) alive. Schedule points yield at random (seeded) to widen windows.
 *
 * Invariant: every DMA reaches the page mapped at its IOVA now, no checker report, no
 * command error, no model leak. Expected outcome with every switch off: exit 0 and no
 * ThreadSanitizer report. IH_REGRESSIONS decides the switches (the zoo uses that): with
 * fq-domain-reread an unmap that straddles the flip frees its IOVA unsynced, the next map
 * on that CPU reuses it and the device reaches the old page (IOTLB-staleness reports,
 * exit 1); fq-flip-unordered lets an unmap see lazy mode before the queue exists.
 *
 * Usage: tsan_dma_flip [--reps N] [--rounds N] [--seed S] [--regress SWITCHES]
 * runs N repetitions (default 20; seeds S, S + 1, ...), each a fresh world of 40 rounds,
 * and stops at the first one where something fired; each prints its seed and outcome.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/base.h>
#include <ih/check.h>
#include <ih/dma.h>
#include <ih/iommu_group.h>
#include <ih/physmem.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include <ih/world.h>

#include "lib/test_iommu.h"
#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"

#define MMIO_BASE 0x2b400000ULL
#define NUNMAP	  2
#define ITERS	  24

enum { MB_EMPTY, MB_POSTED, MB_DONE };

/* One unmapper's page handed to the device. */
struct mailbox {
	int state; /* atomic: MB_* */
	u64 iova;
	ih_pa_t pa;
};

struct ctx {
	struct ih_world *w;
	struct ih_smmuv3 *smmu;
	char fwnode; /* its address is the SMMU's firmware node */
	struct tfw_entry e[1];
	struct tfw fw;
	struct tdriver drv;
	struct ih_device *dev;
	ih_pa_t mem;		     /* page 0: keeper; 1 + 2 * i + k: unmapper i's page k */
	unsigned int round;	     /* atomic: the round that may start */
	unsigned int done;	     /* atomic: threads finished with the round */
	unsigned int flip_at;	     /* this round's flip point (iterations of unmapper 0) */
	unsigned int progress;	     /* atomic: iterations unmapper 0 completed */
	unsigned int unmappers_left; /* atomic */
	struct mailbox mb[NUNMAP];
	unsigned long wrong_pa, errors; /* atomic */
	unsigned int rounds;
};

static void wait_round(struct ctx *c, unsigned int r)
{
	while (__atomic_load_n(&c->round, __ATOMIC_ACQUIRE) < r)
		sched_yield();
}

static void finish_round(struct ctx *c)
{
	__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
}

static void error(struct ctx *c, const char *what, int ret)
{
	if (__atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED) < 5)
		fprintf(stderr, "tsan_dma_flip: %s (%d)\n", what, ret);
}

struct unmapper {
	struct ctx *c;
	unsigned int id;
};

static void *unmapper(void *arg)
{
	struct unmapper *u = arg;
	struct ctx *c = u->c;
	struct mailbox *mb = &c->mb[u->id];

	ih_thread_set_cpu(c->w, u->id);
	for (unsigned int r = 1; r <= c->rounds; r++) {
		wait_round(c, r);
		for (unsigned int i = 0; i < ITERS; i++) {
			ih_pa_t pa = c->mem + (1 + 2 * u->id + (i & 1)) * SZ_4K;
			u64 iova;
			int ret =
			    ih_dma_map_page(c->dev, pa, SZ_4K, IH_DMA_BIDIRECTIONAL, 0, &iova);

			if (ret) {
				error(c, "map", ret);
				break;
			}
			mb->iova = iova;
			mb->pa = pa;
			__atomic_store_n(&mb->state, MB_POSTED, __ATOMIC_RELEASE);
			while (__atomic_load_n(&mb->state, __ATOMIC_ACQUIRE) != MB_DONE)
				sched_yield();
			__atomic_store_n(&mb->state, MB_EMPTY, __ATOMIC_RELAXED);
			ret = ih_dma_unmap_page(c->dev, iova, SZ_4K, IH_DMA_BIDIRECTIONAL, 0);
			if (ret)
				error(c, "unmap", ret);
			if (u->id == 0)
				__atomic_store_n(&c->progress, i + 1, __ATOMIC_RELEASE);
		}
		__atomic_fetch_sub(&c->unmappers_left, 1, __ATOMIC_RELEASE);
		finish_round(c);
	}
	return NULL;
}

static void *flipper(void *arg)
{
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, 2);
	for (unsigned int r = 1; r <= c->rounds; r++) {
		int ret;

		wait_round(c, r);
		while (__atomic_load_n(&c->progress, __ATOMIC_ACQUIRE) < c->flip_at)
			sched_yield();
		ret = ih_iommu_group_store_type(c->dev->iommu_group, IH_DOMAIN_DMA_FQ);
		if (ret)
			error(c, "flip", ret);
		finish_round(c);
	}
	return NULL;
}

static void *device(void *arg)
{
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, 3);
	for (unsigned int r = 1; r <= c->rounds; r++) {
		wait_round(c, r);
		while (__atomic_load_n(&c->unmappers_left, __ATOMIC_ACQUIRE)) {
			for (unsigned int i = 0; i < NUNMAP; i++) {
				struct mailbox *mb = &c->mb[i];
				ih_pa_t pa = IH_PA_INVALID;
				int ret;

				if (__atomic_load_n(&mb->state, __ATOMIC_ACQUIRE) != MB_POSTED)
					continue;
				ret = ih_dma_access(c->dev, mb->iova, 8, IH_DMA_FROM_DEVICE, &pa);
				if (ret)
					error(c, "DMA through a live mapping", ret);
				else if (pa != mb->pa)
					__atomic_fetch_add(&c->wrong_pa, 1, __ATOMIC_RELAXED);
				__atomic_store_n(&mb->state, MB_DONE, __ATOMIC_RELEASE);
			}
			sched_yield();
		}
		finish_round(c);
	}
	return NULL;
}

/* A strict default domain with the keeper mapped, before a round. */
static int prepare_round(struct ctx *c, u64 *keeper)
{
	if (ih_domain_type(ih_iommu_get_dma_domain(c->dev)) != IH_DOMAIN_DMA) {
		ih_device_unbind(c->dev);
		if (ih_iommu_group_store_type(c->dev->iommu_group, IH_DOMAIN_DMA) ||
		    ih_device_bind(c->dev, &c->drv.drv))
			return 1;
	}
	return ih_dma_map_page(c->dev, c->mem, SZ_4K, IH_DMA_BIDIRECTIONAL, 0, keeper) != 0;
}

/* One repetition: a fresh world, @rounds rounds. Return: 0 clean, 1 something fired. */
static int run_once(u64 seed, unsigned int rounds, const char *regress)
{
	struct ih_world_config wc;
	struct ih_smmuv3_drv_config dcfg;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3_stats st;
	struct unmapper um[NUNMAP];
	pthread_t th[NUNMAP + 2];
	static struct ctx c;
	unsigned long reports;
	int ret = 0;

	memset(&c, 0, sizeof(c));
	c.rounds = rounds;
	ih_world_config_init(&wc);
	wc.mode = IH_EXEC_CONCURRENT;
	wc.clock = IH_CLOCK_REAL;
	wc.ncpus = 4;
	wc.physmem_size = 32UL << 20;
	wc.seed = seed;
	wc.log = "none";
	wc.regressions = regress; /* NULL: IH_REGRESSIONS decides */
	if (ih_world_create(&wc, &c.w))
		return 1;
	printf("tsan_dma_flip: seed %llu, %u rounds, switches:%s%s\n", (unsigned long long)seed,
	       c.rounds, ih_regress_on(c.w, IH_REGRESS_FQ_DOMAIN_REREAD) ? " fq-domain-reread" : "",
	       ih_regress_on(c.w, IH_REGRESS_FQ_FLIP_UNORDERED) ? " fq-flip-unordered" : "");

	ih_sched_set_random_yield(c.w, 200000);
	c.e[0] = (struct tfw_entry){"dev0", &c.fwnode, 0x10};
	c.fw = (struct tfw){.entries = c.e, .count = 1};
	tfw_install(c.w, &c.fw);
	ih_iommu_set_probe_flow(c.w, IH_PROBE_FLOW_PROBE_PATH);
	ih_iommu_set_default_domain_type(c.w, IH_DOMAIN_DMA);
	if (ih_smmuv3_hw_create(c.w, MMIO_BASE, NULL, &hw))
		return 1;
	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.hw = hw;
	dcfg.mmio_base = MMIO_BASE;
	if (ih_smmuv3_probe(c.w, &dcfg, NULL, &c.fwnode, &c.smmu) ||
	    ih_bus_register(c.w, &ih_platform_bus_type))
		return 1;
	tdriver_init(&c.drv, "tdrv", false);
	if (ih_driver_register(c.w, &c.drv.drv))
		return 1;
	c.dev = tplat_add(c.w, "dev0");
	c.mem = ih_pm_alloc(c.w, (1 + 2 * NUNMAP) * SZ_4K, SZ_4K, "tsan:buf");
	if (!c.dev || ih_device_driver(c.dev) != &c.drv.drv || c.mem == IH_PA_INVALID)
		return 1;

	for (unsigned int i = 0; i < NUNMAP; i++) {
		um[i] = (struct unmapper){.c = &c, .id = i};
		pthread_create(&th[i], NULL, unmapper, &um[i]);
	}
	pthread_create(&th[NUNMAP], NULL, flipper, &c);
	pthread_create(&th[NUNMAP + 1], NULL, device, &c);
	for (unsigned int r = 1; r <= c.rounds; r++) {
		u64 keeper;

		if (prepare_round(&c, &keeper)) {
			/* The threads wait for rounds that never come: give up at once. */
			fprintf(stderr, "tsan_dma_flip: round %u set-up failed\n", r);
			exit(1);
		}
		c.flip_at = (unsigned int)(ih_world_rand(c.w) % ITERS);
		__atomic_store_n(&c.progress, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c.unmappers_left, NUNMAP, __ATOMIC_RELAXED);
		__atomic_store_n(&c.done, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c.round, r, __ATOMIC_RELEASE);
		while (__atomic_load_n(&c.done, __ATOMIC_ACQUIRE) < NUNMAP + 2)
			sched_yield();
		if (ih_dma_unmap_page(c.dev, keeper, SZ_4K, IH_DMA_BIDIRECTIONAL, 0))
			error(&c, "keeper unmap", r);
	}
	for (unsigned int i = 0; i < NUNMAP + 2; i++)
		pthread_join(th[i], NULL);

	reports = ih_report_total(c.w);
	ih_smmuv3_get_stats(c.smmu, &st);
	printf("tsan_dma_flip: %u rounds, %lu checker report(s) (%lu stale at free, %lu stale "
	       "access), %lu DMA(s) reached a stale page, %llu TLBIs, %llu CMD_SYNCs\n",
	       c.rounds, reports, ih_report_count(c.w, IH_REPORT_IOTLB_STALE_AT_FREE),
	       ih_report_count(c.w, IH_REPORT_IOTLB_STALE_ACCESS), c.wrong_pa,
	       (unsigned long long)st.tlbi, (unsigned long long)st.syncs);
	if (reports) {
		struct ih_report rep;

		if (ih_report_last(c.w, &rep))
			printf("tsan_dma_flip: last report: %s: %s\n",
			       ih_report_kind_name(rep.kind), rep.msg);
		ret = 1;
	}
	if (c.errors || c.wrong_pa || st.cmd_errors || st.timeouts)
		ret = 1;
	ih_device_unregister(c.dev);
	ih_driver_unregister(c.w, &c.drv.drv);
	ih_pm_free(c.w, c.mem, (1 + 2 * NUNMAP) * SZ_4K);
	ih_smmuv3_remove(c.smmu);
	ih_smmuv3_hw_destroy(hw);
	if (ih_world_destroy(c.w)) {
		printf("tsan_dma_flip: model memory leaked\n");
		ret = 1;
	}
	return ret;
}

int main(int argc, char **argv)
{
	const char *regress = NULL;
	unsigned int rounds = 40, reps = 20;
	u64 seed = 1;
	int ret = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rounds"))
			rounds = (unsigned int)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--reps"))
			reps = (unsigned int)strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--regress"))
			regress = argv[i + 1];
	}
	/* Stop at the first repetition where something fired: its seed replays it. */
	for (unsigned int rep = 0; rep < reps && !ret; rep++)
		ret = run_once(seed + rep, rounds, regress);
	printf("tsan_dma_flip: %s\n", ret ? "FAIL" : "pass");
	return ret;
}
