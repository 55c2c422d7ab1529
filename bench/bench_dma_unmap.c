// SPDX-License-Identifier: MIT
/*
 * Benchmark (first rough cut; the benchmark issue measures properly): cost per 4K page of
 * ih_dma_unmap_page() in a strict (DMA) and a lazy (DMA-FQ) domain of the test IOMMU
 * driver, run interleaved (strict, lazy, strict, lazy, ...) in one process, with the
 * checkers off. Each round maps a batch of 4K pages, then times unmapping them all; the
 * lazy side includes its share of flush-queue flushes (a full ring forces one).
 * CLI: bench_dma_unmap [--smoke] [--reps R] [--batch B]
 * Output: one JSON line: median, min and max ns per unmapped page for each mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ih/check.h>
#include <ih/clock.h>
#include <ih/dma.h>
#include <ih/world.h>

/* The test IOMMU driver (a real driver against the core's ops, LPAE tables, a modelled TLB). */
#include "../tests/lib/test_iommu.c"

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

struct rig {
	struct ih_world *w;
	struct tiommu t;
	struct tfw fw;
	struct tfw_entry e;
	struct tdriver drv;
	struct ih_device *dev;
	u64 *dma;
};

static int rig_up(struct rig *r, enum ih_domain_type type, unsigned int batch)
{
	struct ih_world_config cfg;

	memset(r, 0, sizeof(*r));
	ih_world_config_init(&cfg);
	cfg.log = "none";
	if (ih_world_create(&cfg, &r->w))
		return -1;
	ih_check_set_enabled(r->w, 0);
	r->e = (struct tfw_entry){"dev0", tiommu_fwnode(&r->t), 0x10};
	r->fw = (struct tfw){.entries = &r->e, .count = 1};
	tfw_install(r->w, &r->fw);
	if (ih_bus_register(r->w, &ih_platform_bus_type) ||
	    ih_iommu_set_default_domain_type(r->w, type) || tiommu_register(r->w, &r->t))
		return -1;
	tdriver_init(&r->drv, "tdrv", false);
	if (ih_driver_register(r->w, &r->drv.drv))
		return -1;
	r->dev = tplat_add(r->w, "dev0");
	r->dma = calloc(batch, sizeof(*r->dma));
	return r->dev && ih_device_driver(r->dev) && r->dma ? 0 : -1;
}

static void rig_down(struct rig *r)
{
	ih_clock_advance(r->w, 2000000000ULL);
	ih_device_unregister(r->dev);
	ih_driver_unregister(r->w, &r->drv.drv);
	ih_iommu_device_unregister(r->w, &r->t.iommu);
	ih_world_destroy(r->w);
	free(r->dma);
}

/* ns per page to unmap @batch 4K pages mapped just before. */
static double round_ns(struct rig *r, unsigned int batch)
{
	u64 t0, t1;

	for (unsigned int i = 0; i < batch; i++)
		if (ih_dma_map_page(r->dev, 0x4000000000ULL + i * SZ_4K, SZ_4K, IH_DMA_TO_DEVICE, 0,
				    &r->dma[i]))
			return -1;
	t0 = now_ns();
	for (unsigned int i = 0; i < batch; i++)
		ih_dma_unmap_page(r->dev, r->dma[i], SZ_4K, IH_DMA_TO_DEVICE, 0);
	t1 = now_ns();
	return (double)(t1 - t0) / batch;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned int reps = 21, batch = 4096;
	struct rig strict, lazy;
	double *s, *l;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			reps = 3;
			batch = 256;
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			reps = (unsigned int)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
			batch = (unsigned int)atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: %s [--smoke] [--reps R] [--batch B]\n", argv[0]);
			return 2;
		}
	}
	if (!reps || !batch)
		return 2;
	s = calloc(reps, sizeof(*s));
	l = calloc(reps, sizeof(*l));
	if (!s || !l || rig_up(&strict, IH_DOMAIN_DMA, batch) ||
	    rig_up(&lazy, IH_DOMAIN_DMA_FQ, batch)) {
		fprintf(stderr, "bench_dma_unmap: set-up failed\n");
		return 1;
	}
	/* Warm-up: fill the IOVA caches and tables once on each side. */
	round_ns(&strict, batch);
	round_ns(&lazy, batch);
	for (unsigned int i = 0; i < reps; i++) {
		s[i] = round_ns(&strict, batch);
		l[i] = round_ns(&lazy, batch);
		if (s[i] < 0 || l[i] < 0) {
			fprintf(stderr, "bench_dma_unmap: map failed\n");
			return 1;
		}
	}
	qsort(s, reps, sizeof(*s), cmp_d);
	qsort(l, reps, sizeof(*l), cmp_d);
	printf("{\"bench\":\"dma_unmap\",\"backend\":\"test-iommu\",\"page\":4096,\"batch\":%u,"
	       "\"reps\":%u,\"strict_ns_per_page\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
	       "\"lazy_ns_per_page\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f}}\n",
	       batch, reps, s[reps / 2], s[0], s[reps - 1], l[reps / 2], l[0], l[reps - 1]);
	rig_down(&strict);
	rig_down(&lazy);
	free(s);
	free(l);
	return 0;
}
