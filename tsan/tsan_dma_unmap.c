// SPDX-License-Identifier: MIT
/*
 * TSan scenario: DMA-API map / device DMA / unmap under real threads, strict and lazy.
 *
 * Threads: 2 workers, running as model CPUs 0 and 1, each mapping, DMA-ing through the
 * test IOMMU's modelled TLB and unmapping pages on two devices at once: dev0 in a lazy
 * (DMA-FQ) domain with small per-CPU rings (full-ring flushes from both CPUs), dev1 in a
 * strict (DMA) domain; the world's timer thread runs the flush-queue timeouts and the
 * IOVA depot trim concurrently. All start together on a flag. Checkers on.
 * Invariant: every call succeeds, every DMA inside a live mapping reaches its PA, no
 * checker report, the allocators' consistency checks pass at the end, no model leak.
 * Expected outcome: exit 0 with no ThreadSanitizer report.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/check.h>
#include <ih/clock.h>
#include <ih/dma.h>
#include <ih/iova.h>
#include <ih/world.h>

#include "lib/test_iommu.h"

#define ROUNDS 3000
#define BATCH  8

static struct ih_world *w;
static struct ih_device *devs[2];
static int start_flag;
static int failures;

static void fail(const char *what, long v)
{
	fprintf(stderr, "tsan_dma_unmap: %s (%ld)\n", what, v);
	__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	unsigned int cpu = (unsigned int)(uintptr_t)arg;
	u64 dma[2][BATCH];

	ih_thread_set_cpu(w, cpu);
	while (!__atomic_load_n(&start_flag, __ATOMIC_ACQUIRE))
		;
	for (int r = 0; r < ROUNDS && !__atomic_load_n(&failures, __ATOMIC_RELAXED); r++) {
		for (int d = 0; d < 2; d++) {
			for (int i = 0; i < BATCH; i++) {
				ih_pa_t pa =
				    0x4000000000ULL + ((u64)cpu << 30) + (u64)i * SZ_4K + 0x40;
				ih_pa_t out;
				int ret = ih_dma_map_page(devs[d], pa, 0x100, IH_DMA_BIDIRECTIONAL,
							  0, &dma[d][i]);

				if (ret) {
					fail("map", ret);
					return NULL;
				}
				ret = ih_dma_access(devs[d], dma[d][i], 0x100, IH_DMA_FROM_DEVICE,
						    &out);
				if (ret || out != pa)
					fail("DMA inside a live mapping", ret);
			}
			for (int i = 0; i < BATCH; i++) {
				int ret = ih_dma_unmap_page(devs[d], dma[d][i], 0x100,
							    IH_DMA_BIDIRECTIONAL, 0);

				if (ret)
					fail("unmap", ret);
			}
		}
	}
	return NULL;
}

int main(void)
{
	struct ih_dma_fq_options o = {.type = IH_DMA_FQ_PERCPU, .size = 16, .timeout_ns = 200000};
	struct ih_world_config cfg;
	struct tiommu t;
	struct tfw fw;
	struct tfw_entry e[2];
	struct tdriver drv;
	pthread_t th[2];
	char msg[200];
	size_t leaked;

	ih_world_config_init(&cfg);
	cfg.mode = IH_EXEC_CONCURRENT;
	cfg.clock = IH_CLOCK_REAL;
	cfg.ncpus = 2;
	cfg.seed = 7;
	printf("tsan_dma_unmap: seed %llu\n", (unsigned long long)cfg.seed);
	if (ih_world_create(&cfg, &w))
		return 1;
	memset(&t, 0, sizeof(t));
	e[0] = (struct tfw_entry){"dev0", tiommu_fwnode(&t), 0x10};
	e[1] = (struct tfw_entry){"dev1", tiommu_fwnode(&t), 0x11};
	fw = (struct tfw){.entries = e, .count = 2};
	tfw_install(w, &fw);
	if (ih_bus_register(w, &ih_platform_bus_type) || ih_dma_set_default_fq_options(w, &o) ||
	    tiommu_register(w, &t))
		return 1;
	tdriver_init(&drv, "tdrv", false);
	if (ih_driver_register(w, &drv.drv))
		return 1;
	ih_iommu_set_default_domain_type(w, IH_DOMAIN_DMA_FQ);
	devs[0] = tplat_add(w, "dev0");
	ih_iommu_set_default_domain_type(w, IH_DOMAIN_DMA);
	devs[1] = tplat_add(w, "dev1");
	if (!devs[0] || !devs[1] || !ih_dma_domain_is_lazy(ih_iommu_get_dma_domain(devs[0])) ||
	    ih_dma_domain_is_lazy(ih_iommu_get_dma_domain(devs[1])))
		return 1;
	for (uintptr_t i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	__atomic_store_n(&start_flag, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ih_dma_fq_flush(ih_iommu_get_dma_domain(devs[0]));
	for (int d = 0; d < 2; d++) {
		if (ih_iova_check(ih_dma_iovad(ih_iommu_get_dma_domain(devs[d])), msg,
				  sizeof(msg))) {
			fail(msg, d);
		}
	}
	if (ih_report_total(w))
		fail("checker reports", (long)ih_report_total(w));
	ih_device_unregister(devs[0]);
	ih_device_unregister(devs[1]);
	ih_driver_unregister(w, &drv.drv);
	ih_iommu_device_unregister(w, &t.iommu);
	leaked = ih_world_destroy(w);
	if (leaked)
		fail("model memory leaked", (long)leaked);
	printf("tsan_dma_unmap: %s\n", failures ? "FAIL" : "ok");
	return failures ? 1 : 0;
}
