// SPDX-License-Identifier: MIT
/*
 * TSan scenario: an IOMMU instance unregistered (its driver removed) while the devices
 * behind it are bound, their drivers mapping and unmapping and the devices DMA-ing.
 *
 * Rig, fresh in every repetition: an emulated SMMUv3 probed by its driver (concurrent world:
 * the SMMU's hardware thread consumes the command queue, the timer thread runs flush-queue
 * timeouts), NDEVS platform devices behind it bound to a DMA-API driver; even repetitions
 * strict (DMA) default domains, odd ones lazy (DMA-FQ).
 *
 * Threads, started together on a flag:
 *   I/O i (CPU i): device i's driver maps a page, hands it to the device, unmaps, as long as
 *      it is bound; its remove() stops the loop and waits until it has parked (napi_disable);
 *   device (CPU NDEVS): every device DMAs at the IOVA its driver last handed it, before,
 *      during and after the unregistration (ih_dma_access, through the SMMU while probed);
 *   remove (CPU NDEVS + 1): after a seeded delay, ih_smmuv3_remove(): the driver unregisters
 *      the instance and frees its queues and tables.
 *
 * What the model guarantees (ih_iommu_device_unregister() in include/ih/iommu.h), asserted
 * here once the removal returned: every device is unbound (its driver's remove ran once and
 * parked its I/O) and no longer behind an IOMMU (no group, no dev->iommu, its DMA goes
 * untranslated: PA == IOVA), the SMMU has no domain left (no warning), and nothing was
 * reported (dma-debug, IOTLB staleness, group invariants), no model leak. Expected outcome:
 * exit 0 with no ThreadSanitizer report. Arguments: [SEED] [REPS] (default 1 and 6).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/check.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/world.h>

#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"
#include "lib/test_iommu.h"

#define MMIO_BASE 0x2b400000ULL
#define NDEVS	  2
#define MAX_REPS  64
#define DMA_AFTER 100 /* device DMAs per device after the removal returned */

struct ctx;

struct io {
	struct ctx *c;
	unsigned int idx;
	struct ih_device *dev; /* this repetition's; written by main between repetitions */
	ih_pa_t buf;
	int on;		     /* atomic: the driver's I/O loop may run */
	unsigned int req;    /* atomic: remove()'s stop requests */
	unsigned int parked; /* atomic: the last stop request the loop honoured */
	u64 dma_at;	     /* atomic: the IOVA the device DMAs at (0: none yet) */
	unsigned long maps, parks, map_errors; /* this loop's thread only */
	unsigned long after_ok, after_bad;     /* the device thread only */
};

struct ctx {
	struct ih_world *w;
	char fwnode; /* its address names the SMMU in firmware */
	struct ih_driver drv;
	struct io io[NDEVS];
	struct ih_smmuv3 *smmu;
	unsigned int reps;
	unsigned int rep;     /* atomic: bumped by main to start a repetition */
	unsigned int done;    /* atomic: threads finished this repetition */
	unsigned int removed; /* atomic: the last repetition whose removal has returned */
	unsigned long delay[MAX_REPS];
	unsigned long dma_ok, dma_faults; /* the device thread only */
};

static struct io *io_of(struct ih_device *dev)
{
	struct ctx *c = container_of(dev->driver, struct ctx, drv);

	return &c->io[dev->name[3] - '0'];
}

static int drv_probe(struct ih_device *dev)
{
	__atomic_store_n(&io_of(dev)->on, 1, __ATOMIC_RELEASE);
	return 0;
}

/* napi_disable(): stop the I/O loop and wait until it has parked with nothing mapped. */
static void drv_remove(struct ih_device *dev)
{
	struct io *io = io_of(dev);
	unsigned int req = __atomic_add_fetch(&io->req, 1, __ATOMIC_ACQ_REL);

	__atomic_store_n(&io->on, 0, __ATOMIC_RELEASE);
	while (__atomic_load_n(&io->parked, __ATOMIC_ACQUIRE) != req)
		sched_yield();
}

static void wait_rep(struct ctx *c, unsigned int r)
{
	while (__atomic_load_n(&c->rep, __ATOMIC_ACQUIRE) != r)
		sched_yield();
}

static bool rep_over(struct ctx *c, unsigned int r)
{
	return __atomic_load_n(&c->removed, __ATOMIC_ACQUIRE) == r;
}

static void *io_loop(void *arg)
{
	struct io *io = arg;
	struct ctx *c = io->c;

	ih_thread_set_cpu(c->w, io->idx);
	for (unsigned int r = 1; r <= c->reps; r++) {
		wait_rep(c, r);
		while (!rep_over(c, r)) {
			u64 iova;

			if (!__atomic_load_n(&io->on, __ATOMIC_ACQUIRE)) {
				unsigned int req = __atomic_load_n(&io->req, __ATOMIC_ACQUIRE);

				if (__atomic_load_n(&io->parked, __ATOMIC_RELAXED) != req) {
					__atomic_store_n(&io->parked, req, __ATOMIC_RELEASE);
					io->parks++;
				}
				sched_yield();
				continue;
			}
			if (ih_dma_map_page(io->dev, io->buf, SZ_4K, IH_DMA_BIDIRECTIONAL, 0,
					    &iova)) {
				io->map_errors++;
				continue;
			}
			io->maps++;
			__atomic_store_n(&io->dma_at, iova, __ATOMIC_RELEASE);
			for (volatile int spin = 0; spin < 20000; spin++)
				;
			ih_dma_unmap_page(io->dev, iova, SZ_4K, IH_DMA_BIDIRECTIONAL, 0);
		}
		__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *device_dma(void *arg)
{
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, NDEVS);
	for (unsigned int r = 1; r <= c->reps; r++) {
		int after = 0;

		wait_rep(c, r);
		while (after < DMA_AFTER) {
			bool over = rep_over(c, r);

			after += over;
			for (unsigned int i = 0; i < NDEVS; i++) {
				struct io *io = &c->io[i];
				u64 iova = __atomic_load_n(&io->dma_at, __ATOMIC_ACQUIRE);
				ih_pa_t pa;
				int ret;

				if (!iova) {
					sched_yield();
					continue;
				}
				ret =
				    ih_dma_access(io->dev, iova + 0x10, 8, IH_DMA_FROM_DEVICE, &pa);
				if (over) {
					/* Unregistered: the DMA goes untranslated now. */
					if (!ret && pa == iova + 0x10)
						io->after_ok++;
					else
						io->after_bad++;
				} else if (ret) {
					c->dma_faults++;
				} else {
					c->dma_ok++;
				}
			}
		}
		__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *remover(void *arg)
{
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, NDEVS + 1);
	for (unsigned int r = 1; r <= c->reps; r++) {
		wait_rep(c, r);
		for (volatile unsigned long spin = 0; spin < c->delay[r - 1]; spin++)
			;
		ih_smmuv3_remove(c->smmu);
		__atomic_store_n(&c->removed, r, __ATOMIC_RELEASE);
		__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static const char *const compat[] = {"test,dev", NULL};

/* After the removal returned: the guarantee of ih_iommu_device_unregister(). */
static int check_torn_down(struct ctx *c, unsigned int r, unsigned long parks_before[NDEVS])
{
	int bad = 0;

	for (unsigned int i = 0; i < NDEVS; i++) {
		struct io *io = &c->io[i];
		struct ih_device *dev = io->dev;

		if (ih_device_driver(dev) || dev->iommu || dev->iommu_group ||
		    io->parks != parks_before[i] + 1 || io->after_bad) {
			fprintf(stderr,
				"tsan_iommu_unregister: repetition %u: %s: driver %s, iommu %s, "
				"group %s, %lu park(s), %lu translated DMA(s) after the removal\n",
				r, dev->name, ih_device_driver(dev) ? "still bound" : "gone",
				dev->iommu ? "left" : "gone", dev->iommu_group ? "left" : "gone",
				io->parks - parks_before[i], io->after_bad);
			bad = 1;
		}
	}
	return bad;
}

int main(int argc, char **argv)
{
	static struct ctx c;
	struct tfw_entry e[NDEVS] = {{"dev0", &c.fwnode, 0x10}, {"dev1", &c.fwnode, 0x11}};
	struct tfw fw = {.entries = e, .count = NDEVS};
	struct ih_smmuv3_hw_config hwcfg;
	struct ih_smmuv3_drv_config dcfg;
	struct ih_world_config cfg;
	unsigned int bad = 0, reported = 0;
	u64 seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	pthread_t th[NDEVS + 2];

	c.reps = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 6;
	if (!c.reps || c.reps > MAX_REPS) {
		fprintf(stderr, "usage: tsan_iommu_unregister [SEED] [REPS <= %d]\n", MAX_REPS);
		return 2;
	}
	ih_world_config_init(&cfg);
	cfg.mode = IH_EXEC_CONCURRENT;
	cfg.clock = IH_CLOCK_REAL;
	cfg.ncpus = NDEVS + 2;
	cfg.seed = seed;
	cfg.log = "none";
	if (ih_world_create(&cfg, &c.w))
		return 1;
	printf("tsan_iommu_unregister: %u repetitions, %d devices, seed %llu\n", c.reps, NDEVS,
	       (unsigned long long)seed);
	for (unsigned int i = 0; i < c.reps; i++)
		c.delay[i] = ih_world_rand(c.w) % 4000000;
	ih_smmuv3_hw_config_init(&hwcfg);
	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.mmio_base = MMIO_BASE;
	tfw_install(c.w, &fw);
	ih_iommu_set_probe_flow(c.w, IH_PROBE_FLOW_PROBE_PATH);
	c.drv = (struct ih_driver){.name = "dmadrv",
				   .bus = &ih_platform_bus_type,
				   .probe = drv_probe,
				   .remove = drv_remove,
				   .id_table = compat};
	if (ih_bus_register(c.w, &ih_platform_bus_type) || ih_driver_register(c.w, &c.drv))
		return 1;
	for (unsigned int i = 0; i < NDEVS; i++) {
		c.io[i] = (struct io){.c = &c, .idx = i};
		c.io[i].buf = ih_pm_alloc(c.w, SZ_4K, SZ_4K, "tsan:buf");
		if (c.io[i].buf == IH_PA_INVALID)
			return 1;
		pthread_create(&th[i], NULL, io_loop, &c.io[i]);
	}
	pthread_create(&th[NDEVS], NULL, device_dma, &c);
	pthread_create(&th[NDEVS + 1], NULL, remover, &c);

	for (unsigned int r = 1; r <= c.reps; r++) {
		enum ih_domain_type type = r % 2 ? IH_DOMAIN_DMA_FQ : IH_DOMAIN_DMA;
		unsigned long before = ih_report_total(c.w), parks[NDEVS];
		struct ih_smmuv3_hw *hw;

		/* Set-up between repetitions: no other thread is in the model now. */
		ih_iommu_set_default_domain_type(c.w, type);
		if (ih_smmuv3_hw_create(c.w, MMIO_BASE, &hwcfg, &hw))
			return 1;
		dcfg.hw = hw;
		if (ih_smmuv3_probe(c.w, &dcfg, NULL, &c.fwnode, &c.smmu))
			return 1;
		for (unsigned int i = 0; i < NDEVS; i++) {
			char name[8];
			struct ih_device *dev;

			snprintf(name, sizeof(name), "dev%u", i);
			dev = tplat_add(c.w, name);
			if (!dev || dev->driver != &c.drv ||
			    ih_domain_type(ih_iommu_get_dma_domain(dev)) != type) {
				/* The threads wait for this repetition forever: exit ends them. */
				fprintf(stderr,
					"tsan_iommu_unregister: repetition %u: set-up failed\n", r);
				return 1;
			}
			c.io[i].dev = dev;
			c.io[i].after_ok = c.io[i].after_bad = 0;
			__atomic_store_n(&c.io[i].dma_at, 0, __ATOMIC_RELAXED);
			parks[i] = c.io[i].parks;
		}
		__atomic_store_n(&c.done, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c.rep, r, __ATOMIC_RELEASE);
		while (__atomic_load_n(&c.done, __ATOMIC_ACQUIRE) != NDEVS + 2)
			sched_yield();
		bad += check_torn_down(&c, r, parks);
		for (unsigned int i = 0; i < NDEVS; i++)
			ih_device_unregister(c.io[i].dev);
		ih_smmuv3_hw_destroy(hw);
		if (ih_report_total(c.w) != before) {
			struct ih_report rep;

			if (ih_report_last(c.w, &rep))
				fprintf(stderr,
					"tsan_iommu_unregister: repetition %u (%s): %s: %s\n", r,
					ih_domain_type_name(type), ih_report_kind_name(rep.kind),
					rep.msg);
			reported++;
		}
	}
	for (unsigned int i = 0; i < NDEVS + 2; i++)
		pthread_join(th[i], NULL);
	ih_driver_unregister(c.w, &c.drv);
	for (unsigned int i = 0; i < NDEVS; i++) {
		ih_pm_free(c.w, c.io[i].buf, SZ_4K);
		if (c.io[i].map_errors)
			bad++;
	}
	printf("tsan_iommu_unregister: %lu + %lu maps, %lu DMAs translated, %lu faulted before "
	       "the removals returned\n",
	       c.io[0].maps, c.io[1].maps, c.dma_ok, c.dma_faults);
	if (ih_warn_count(c.w) || ih_iommu_invariant_violations(c.w)) {
		fprintf(stderr, "tsan_iommu_unregister: %lu warning(s), %lu invariant report(s)\n",
			ih_warn_count(c.w), ih_iommu_invariant_violations(c.w));
		bad++;
	}
	if (ih_world_destroy(c.w))
		bad++;
	if (reported || bad) {
		fprintf(stderr,
			"tsan_iommu_unregister: FAIL: %u repetition(s) reported, %u "
			"failure(s)\n",
			reported, bad);
		return 1;
	}
	printf("tsan_iommu_unregister: pass, 0 reports over %u repetitions\n", c.reps);
	return 0;
}
