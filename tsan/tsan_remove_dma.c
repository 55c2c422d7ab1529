// SPDX-License-Identifier: MIT
/*
 * TSan scenario: device removal racing DMA unmap and device DMA on the same device.
 *
 * Rig: an emulated SMMUv3 with its driver (concurrent world: the SMMU's hardware thread
 * consumes the command queue, the real clock's timer thread runs the flush-queue timeouts),
 * one platform device "dev0" (StreamID 0x10) bound to a DMA-API driver. Even repetitions
 * give the device a strict (DMA) default domain, odd ones a lazy (DMA-FQ) one.
 *
 * Threads, started together on a flag in every repetition:
 *   I/O (CPU 0): the driver's own I/O loop: map a page, let the device at it, unmap, as
 *      long as the driver is bound. The driver's remove() stops it and waits until the loop
 *      has parked with nothing mapped (napi_disable), so an unmap is in flight whenever the
 *      removal starts;
 *   device (CPU 2): the bus master: keeps DMA-ing at the IOVA the driver last handed it
 *      (ih_dma_access through the SMMU), before, during and after the removal (it holds a
 *      reference on the device, as a hot-unplugged device's in-flight DMA outlives it);
 *   remove (CPU 1): after a seeded delay, unbinds the driver and deletes the device (even
 *      repetitions unbind first through the sysfs file, odd ones delete with the driver
 *      bound, so the unbind runs inside ih_device_del()).
 *
 * Invariant: no checker report (dma-debug, IOTLB staleness, group invariants), no warning,
 * no model leak, the driver parked once per repetition. Expected outcome: exit 0 with no
 * ThreadSanitizer report. No replay switch covers this path; it is a false-alarm scenario.
 * Arguments: [SEED] [REPS] (default 1 and 8).
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
#define MAX_REPS  64

struct ctx {
	struct ih_world *w;
	char fwnode; /* its address names the SMMU in firmware */
	struct ih_driver drv;
	struct ih_device *dev; /* this repetition's device; written by main between them */
	ih_pa_t buf;
	unsigned int reps;
	unsigned int rep;	/* atomic: bumped by main to start a repetition */
	unsigned int done;	/* atomic: threads finished this repetition */
	unsigned int removed;	/* atomic: the last repetition whose removal has returned */
	int io_on;		/* atomic: the driver's I/O loop may run */
	unsigned int io_req;	/* atomic: remove()'s stop requests */
	unsigned int io_parked; /* atomic: the last stop request the I/O loop honoured */
	u64 dma_at;		/* atomic: the IOVA the device DMAs at (0: none yet) */
	unsigned long delay[MAX_REPS];
	/* statistics: each written by one thread only, read after the joins */
	unsigned long maps, dma_ok, dma_faults, parks, map_errors;
};

static struct ctx *ctx_of(struct ih_device *dev)
{
	return container_of(dev->driver, struct ctx, drv);
}

static int drv_probe(struct ih_device *dev)
{
	__atomic_store_n(&ctx_of(dev)->io_on, 1, __ATOMIC_RELEASE);
	return 0;
}

/* napi_disable(): stop the I/O loop and wait until it has parked with nothing mapped. */
static void drv_remove(struct ih_device *dev)
{
	struct ctx *c = ctx_of(dev);
	unsigned int req = __atomic_add_fetch(&c->io_req, 1, __ATOMIC_ACQ_REL);

	__atomic_store_n(&c->io_on, 0, __ATOMIC_RELEASE);
	while (__atomic_load_n(&c->io_parked, __ATOMIC_ACQUIRE) != req)
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
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, 0);
	for (unsigned int r = 1; r <= c->reps; r++) {
		wait_rep(c, r);
		while (!rep_over(c, r)) {
			struct ih_device *dev = c->dev;
			u64 iova;

			if (!__atomic_load_n(&c->io_on, __ATOMIC_ACQUIRE)) {
				unsigned int req = __atomic_load_n(&c->io_req, __ATOMIC_ACQUIRE);

				if (__atomic_load_n(&c->io_parked, __ATOMIC_RELAXED) != req) {
					__atomic_store_n(&c->io_parked, req, __ATOMIC_RELEASE);
					c->parks++;
				}
				sched_yield();
				continue;
			}
			if (ih_dma_map_page(dev, c->buf, SZ_4K, IH_DMA_BIDIRECTIONAL, 0, &iova)) {
				c->map_errors++;
				continue;
			}
			c->maps++;
			__atomic_store_n(&c->dma_at, iova, __ATOMIC_RELEASE);
			for (volatile int spin = 0; spin < 20000; spin++)
				;
			ih_dma_unmap_page(dev, iova, SZ_4K, IH_DMA_BIDIRECTIONAL, 0);
		}
		__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *device_dma(void *arg)
{
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, 2);
	for (unsigned int r = 1; r <= c->reps; r++) {
		int after = 0;

		wait_rep(c, r);
		/* Keep going a while after the removal: in-flight DMA outlives the device. */
		while (after < 200) {
			u64 iova = __atomic_load_n(&c->dma_at, __ATOMIC_ACQUIRE);
			ih_pa_t pa;

			if (rep_over(c, r))
				after++;
			if (!iova) {
				sched_yield();
				continue;
			}
			if (ih_dma_access(c->dev, iova + 0x10, 8, IH_DMA_FROM_DEVICE, &pa))
				c->dma_faults++;
			else
				c->dma_ok++;
		}
		__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *remover(void *arg)
{
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, 1);
	for (unsigned int r = 1; r <= c->reps; r++) {
		wait_rep(c, r);
		for (volatile unsigned long spin = 0; spin < c->delay[r - 1]; spin++)
			;
		if (r % 2 == 0)
			ih_device_unbind(c->dev);
		ih_device_del(c->dev);
		__atomic_store_n(&c->removed, r, __ATOMIC_RELEASE);
		__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static const char *const compat[] = {"test,dev", NULL};

int main(int argc, char **argv)
{
	static struct ctx c;
	struct tfw_entry e[1] = {{"dev0", &c.fwnode, 0x10}};
	struct tfw fw = {.entries = e, .count = 1};
	struct ih_smmuv3_hw_config hwcfg;
	struct ih_smmuv3_drv_config dcfg;
	struct ih_world_config cfg;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu;
	unsigned int bad = 0, reported = 0;
	u64 seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	pthread_t th[3];

	c.reps = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 8;
	if (!c.reps || c.reps > MAX_REPS) {
		fprintf(stderr, "usage: tsan_remove_dma [SEED] [REPS <= %d]\n", MAX_REPS);
		return 2;
	}
	ih_world_config_init(&cfg);
	cfg.mode = IH_EXEC_CONCURRENT;
	cfg.clock = IH_CLOCK_REAL;
	cfg.ncpus = 3;
	cfg.seed = seed;
	cfg.log = "none";
	if (ih_world_create(&cfg, &c.w))
		return 1;
	printf("tsan_remove_dma: %u repetitions, seed %llu\n", c.reps, (unsigned long long)seed);
	for (unsigned int i = 0; i < c.reps; i++)
		c.delay[i] = ih_world_rand(c.w) % 4000000;

	ih_smmuv3_hw_config_init(&hwcfg);
	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.mmio_base = MMIO_BASE;
	tfw_install(c.w, &fw);
	ih_iommu_set_probe_flow(c.w, IH_PROBE_FLOW_PROBE_PATH);
	if (ih_smmuv3_hw_create(c.w, MMIO_BASE, &hwcfg, &hw))
		return 1;
	dcfg.hw = hw;
	c.drv = (struct ih_driver){.name = "dmadrv",
				   .bus = &ih_platform_bus_type,
				   .probe = drv_probe,
				   .remove = drv_remove,
				   .id_table = compat};
	c.buf = ih_pm_alloc(c.w, SZ_4K, SZ_4K, "tsan:buf");
	if (c.buf == IH_PA_INVALID || ih_smmuv3_probe(c.w, &dcfg, NULL, &c.fwnode, &smmu) ||
	    ih_bus_register(c.w, &ih_platform_bus_type) || ih_driver_register(c.w, &c.drv))
		return 1;

	pthread_create(&th[0], NULL, io_loop, &c);
	pthread_create(&th[1], NULL, remover, &c);
	pthread_create(&th[2], NULL, device_dma, &c);
	for (unsigned int r = 1; r <= c.reps; r++) {
		enum ih_domain_type type = r % 2 ? IH_DOMAIN_DMA_FQ : IH_DOMAIN_DMA;
		unsigned long before = ih_report_total(c.w);
		struct ih_device *dev;

		/* Set-up between repetitions: no other thread is in the model now. */
		ih_iommu_set_default_domain_type(c.w, type);
		dev = tplat_add(c.w, "dev0");
		if (!dev || dev->driver != &c.drv ||
		    ih_domain_type(ih_iommu_get_dma_domain(dev)) != type) {
			/* The threads wait for this repetition forever: exit ends them. */
			fprintf(stderr, "tsan_remove_dma: repetition %u: set-up failed\n", r);
			return 1;
		}
		c.dev = dev;
		__atomic_store_n(&c.dma_at, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c.done, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c.rep, r, __ATOMIC_RELEASE);
		while (__atomic_load_n(&c.done, __ATOMIC_ACQUIRE) != 3)
			sched_yield();
		ih_device_put(dev); /* tplat_add's reference: the device is freed now */
		if (ih_report_total(c.w) != before) {
			struct ih_report rep;

			if (ih_report_last(c.w, &rep))
				fprintf(stderr, "tsan_remove_dma: repetition %u (%s): %s: %s\n", r,
					ih_domain_type_name(type), ih_report_kind_name(rep.kind),
					rep.msg);
			reported++;
		}
	}
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);

	ih_driver_unregister(c.w, &c.drv);
	ih_smmuv3_remove(smmu);
	ih_smmuv3_hw_destroy(hw);
	ih_pm_free(c.w, c.buf, SZ_4K);
	printf("tsan_remove_dma: %lu maps, %lu DMAs reached memory, %lu faulted, %lu parks\n",
	       c.maps, c.dma_ok, c.dma_faults, c.parks);
	if (c.parks != c.reps || c.map_errors) {
		fprintf(stderr, "tsan_remove_dma: %lu parks for %u removals, %lu map errors\n",
			c.parks, c.reps, c.map_errors);
		bad++;
	}
	if (ih_warn_count(c.w) || ih_iommu_invariant_violations(c.w))
		bad++;
	if (ih_world_destroy(c.w))
		bad++;
	if (reported || bad) {
		fprintf(stderr, "tsan_remove_dma: FAIL: %u repetition(s) reported, %u failure(s)\n",
			reported, bad);
		return 1;
	}
	printf("tsan_remove_dma: pass, 0 reports over %u repetitions\n", c.reps);
	return 0;
}
