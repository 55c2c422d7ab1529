// SPDX-License-Identifier: MIT
/*
 * Benchmark: page_pool with in-flight tracking against the old untracked pool, measured
 * interleaved (tracked, untracked, tracked, ...) in one process, checkers off.
 *   recycle   alloc from the alloc cache + direct put (the NAPI fast path), and alloc
 *             with a ring refill + put from another CPU (the ring path);
 *   edge      a new page (allocated, DMA-mapped, tracked) returned at once (unmapped,
 *             untracked, freed): on a device without IOMMU (dma-direct, so the tracking
 *             cost is not buried) and behind the test IOMMU (strict DMA domain), pages
 *             from the address provider (no zeroing); the overhead is the median of the
 *             per-rep differences tracked - untracked (adjacent runs);
 *   index     the tracking table alone: insert + remove per page;
 *   scale     pages held out of one pool (128K, the largest pool seen in production) and
 *             of 200 pools (1.7M pages together), lazy (DMA-FQ) domain: time of
 *             page_pool_destroy (cache, ring, the scrub unmapping every page) and the
 *             tracking memory per page. Pages come from a provider of addresses outside
 *             simulated memory (nothing touches their contents), so the scale costs no
 *             host memory beyond metadata, IOVAs and page tables.
 * CLI: bench_page_pool [--smoke | --quick] [--reps R] [--no-scale]
 * Output: one JSON line; per measurement median, min and max ns per page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ih/check.h>
#include <ih/clock.h>
#include <ih/dma.h>
#include <ih/page_pool.h>
#include <ih/regress.h>
#include <ih/world.h>
#include "page_pool/pp_index.h"

/* The test IOMMU driver (a real driver against the core's ops, LPAE tables, a modelled TLB). */
#include "lib/test_iommu.h"

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct series {
	double *v;
	unsigned int n;
};

static void sort(struct series *s)
{
	qsort(s->v, s->n, sizeof(*s->v), cmp_d);
}

static void json_series(const char *name, struct series *s, bool comma)
{
	sort(s);
	printf("\"%s\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f}%s", name, s->v[s->n / 2],
	       s->v[0], s->v[s->n - 1], comma ? "," : "");
}

/* Page addresses outside simulated memory: nothing reads or writes them. */
struct fake_mem {
	ih_pa_t next;
};

static int fake_alloc(void *arg, struct ih_world *w, ih_pa_t *pa)
{
	struct fake_mem *m = arg;

	*pa = m->next;
	m->next += IH_PAGE_SIZE;
	return 0;
}

static void fake_free(void *arg, struct ih_world *w, ih_pa_t pa)
{
}

static const struct ih_page_pool_mem_ops fake_ops = {.alloc = fake_alloc, .free = fake_free};

struct rig {
	struct ih_world *w;
	struct tiommu t;
	struct tfw fw;
	struct tfw_entry e;
	struct tdriver drv;
	struct ih_device *iommu_dev, *direct_dev;
	struct fake_mem mem;
};

static int rig_up(struct rig *r, enum ih_domain_type type)
{
	struct ih_world_config cfg;

	memset(r, 0, sizeof(*r));
	ih_world_config_init(&cfg);
	cfg.log = "none";
	cfg.ncpus = 2;
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
	r->iommu_dev = tplat_add(r->w, "dev0");
	r->direct_dev = tplat_add(r->w, "dev1"); /* not in firmware: no IOMMU */
	r->mem.next = IH_ALIGN_UP(ih_pm_base(r->w) + ih_pm_size(r->w), (u64)SZ_1G);
	return r->iommu_dev && r->direct_dev ? 0 : -1;
}

static void rig_down(struct rig *r)
{
	ih_clock_advance(r->w, 2000000000ULL);
	ih_device_unregister(r->iommu_dev);
	ih_device_unregister(r->direct_dev);
	ih_driver_unregister(r->w, &r->drv.drv);
	ih_iommu_device_unregister(r->w, &r->t.iommu);
	ih_world_destroy(r->w);
}

static struct ih_page_pool *mkpool(struct rig *r, struct ih_device *dev, bool tracked,
				   unsigned int ring, bool fake)
{
	struct ih_page_pool_params p = {
	    .flags = IH_PP_FLAG_DMA_MAP,
	    .pool_size = ring,
	    .dev = dev,
	    .dma_dir = IH_DMA_FROM_DEVICE,
	    .mem_ops = fake ? &fake_ops : NULL,
	    .mem_arg = &r->mem,
	};
	struct ih_page_pool *pool;

	ih_regress_set(r->w, IH_REGRESS_PAGE_POOL_UNTRACKED, !tracked);
	if (ih_page_pool_create(r->w, &p, &pool)) {
		fprintf(stderr, "bench_page_pool: pool create failed\n");
		exit(1);
	}
	ih_regress_set(r->w, IH_REGRESS_PAGE_POOL_UNTRACKED, false);
	return pool;
}

static struct ih_pp_page *get(struct ih_page_pool *pool)
{
	struct ih_pp_page *p;

	if (ih_page_pool_alloc_page(pool, &p)) {
		fprintf(stderr, "bench_page_pool: alloc failed\n");
		exit(1);
	}
	return p;
}

/* ns per alloc + direct put, @n times on a warm cache. */
static double recycle_direct(struct ih_page_pool *pool, unsigned int n)
{
	u64 t0 = now_ns();

	for (unsigned int i = 0; i < n; i++)
		ih_page_pool_put_page(pool, get(pool), true);
	return (double)(now_ns() - t0) / n;
}

/* ns per page: 32 pages put from CPU 1 into the ring, then allocated back on CPU 0. */
static double recycle_ring(struct rig *r, struct ih_page_pool *pool, unsigned int n)
{
	struct ih_pp_page *p[32];
	u64 t0 = now_ns();

	for (unsigned int i = 0; i < n / 32; i++) {
		for (int k = 0; k < 32; k++)
			p[k] = get(pool);
		ih_thread_set_cpu(r->w, 1);
		for (int k = 0; k < 32; k++)
			ih_page_pool_put_page(pool, p[k], false);
		ih_thread_set_cpu(r->w, 0);
	}
	return (double)(now_ns() - t0) / (n / 32 * 32);
}

/* ns per page that enters the pool (map, track) and leaves it at once (unmap, untrack). */
static double edge(struct ih_page_pool *pool, unsigned int n)
{
	u64 t0 = now_ns();

	for (unsigned int i = 0; i < n; i++)
		ih_page_pool_return_page(pool, get(pool));
	return (double)(now_ns() - t0) / n;
}

/* ns per insert + claim + release on the table alone, 64 pages in flight. */
static double index_ops(struct pp_index *ix, unsigned int n)
{
	static u64 pages[64];
	u32 ids[64];
	u64 t0 = now_ns();

	for (unsigned int i = 0; i < n / 64; i++) {
		for (int k = 0; k < 64; k++)
			pp_index_insert(ix, &pages[k], &ids[k]);
		for (int k = 0; k < 64; k++)
			if (pp_index_claim(ix, ids[k], &pages[k]))
				pp_index_release(ix, ids[k]);
	}
	return (double)(now_ns() - t0) / (n / 64 * 64);
}

struct scale_result {
	double destroy_ms;     /* total over the pools */
	double max_pool_ms;    /* the slowest single destroy */
	double bytes_per_page; /* tracking table memory / pages out */
	double setup_s;
};

/* @npools pools with @per pages each held out; destroy each, then return the pages. */
static int scale(unsigned int npools, unsigned int per, struct scale_result *res)
{
	struct rig r;
	struct ih_page_pool **pools = calloc(npools, sizeof(*pools));
	struct ih_pp_page **out = calloc((size_t)npools * per, sizeof(*out));
	size_t bytes = 0;
	u64 t0;

	if (!pools || !out || rig_up(&r, IH_DOMAIN_DMA_FQ))
		return -1;
	memset(res, 0, sizeof(*res));
	t0 = now_ns();
	for (unsigned int p = 0; p < npools; p++) {
		struct ih_page_pool_stats st;

		pools[p] = mkpool(&r, r.iommu_dev, true, 1024, true);
		for (unsigned int i = 0; i < per; i++)
			out[(size_t)p * per + i] = get(pools[p]);
		ih_page_pool_get_stats(pools[p], &st);
		bytes += st.dma_index_bytes;
	}
	res->setup_s = (double)(now_ns() - t0) / 1e9;
	res->bytes_per_page = (double)bytes / ((double)npools * per);
	for (unsigned int p = 0; p < npools; p++) {
		u64 a = now_ns(), b;

		ih_page_pool_destroy(pools[p]);
		b = now_ns();
		res->destroy_ms += (double)(b - a) / 1e6;
		if ((double)(b - a) / 1e6 > res->max_pool_ms)
			res->max_pool_ms = (double)(b - a) / 1e6;
	}
	for (size_t i = 0; i < (size_t)npools * per; i++)
		ih_page_pool_return_page(out[i]->pp, out[i]);
	rig_down(&r);
	free(pools);
	free(out);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int reps = 21, n = 20000, big = 131072, npools = 200, per = 8536;
	bool do_scale = true, smoke = false;
	struct series rd[2], rr[2], ed[2], ei[2], ix, dd, di;
	struct ih_page_pool *pd[2], *pe[2], *pi[2];
	struct scale_result one, many;
	struct pp_index index;
	struct rig r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
			reps = 3;
			n = 512;
			big = 2048;
			npools = 4;
			per = 512;
		} else if (!strcmp(argv[i], "--quick")) {
			/* scripts/ih demo: a few seconds, the full shape at a smaller scale. */
			reps = 5;
			n = 4096;
			big = 16384;
			npools = 32;
			per = 2048;
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			reps = (unsigned int)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--no-scale")) {
			do_scale = false;
		} else {
			fprintf(stderr, "usage: %s [--smoke | --quick] [--reps R] [--no-scale]\n",
				argv[0]);
			return 2;
		}
	}
	if (!reps)
		return 2;
	for (int k = 0; k < 2; k++) {
		struct series *all[] = {&rd[k], &rr[k], &ed[k], &ei[k]};

		for (unsigned int j = 0; j < ARRAY_SIZE(all); j++) {
			all[j]->v = calloc(reps, sizeof(double));
			all[j]->n = reps;
		}
	}
	ix.v = calloc(reps, sizeof(double));
	ix.n = reps;
	dd.v = calloc(reps, sizeof(double));
	dd.n = reps;
	di.v = calloc(reps, sizeof(double));
	di.n = reps;
	if (rig_up(&r, IH_DOMAIN_DMA)) {
		fprintf(stderr, "bench_page_pool: set-up failed\n");
		return 1;
	}
	/* [0] tracked, [1] untracked. Recycling on the IOMMU device (no DMA call anyway). */
	for (int k = 0; k < 2; k++) {
		pd[k] = mkpool(&r, r.iommu_dev, k == 0, 1024, false);
		pe[k] = mkpool(&r, r.direct_dev, k == 0, 1024, true);
		pi[k] = mkpool(&r, r.iommu_dev, k == 0, 1024, true);
	}
	pp_index_init(&index, r.w);
	/* Warm-up: caches, IOVA magazines, tables. */
	for (int k = 0; k < 2; k++) {
		recycle_direct(pd[k], n);
		recycle_ring(&r, pd[k], n);
		edge(pe[k], n / 4);
		edge(pi[k], n / 4);
	}
	index_ops(&index, n);
	for (unsigned int i = 0; i < reps; i++) {
		for (int k = 0; k < 2; k++) {
			rd[k].v[i] = recycle_direct(pd[k], n);
			rr[k].v[i] = recycle_ring(&r, pd[k], n);
			ed[k].v[i] = edge(pe[k], n);
			ei[k].v[i] = edge(pi[k], n / 4);
		}
		ix.v[i] = index_ops(&index, n);
		/* Paired: each rep's tracked run against the untracked run right after it. */
		dd.v[i] = ed[0].v[i] - ed[1].v[i];
		di.v[i] = ei[0].v[i] - ei[1].v[i];
	}
	pp_index_fini(&index);
	for (int k = 0; k < 2; k++) {
		ih_page_pool_destroy(pd[k]);
		ih_page_pool_destroy(pe[k]);
		ih_page_pool_destroy(pi[k]);
	}
	rig_down(&r);
	if (do_scale && (scale(1, big, &one) || scale(npools, per, &many))) {
		fprintf(stderr, "bench_page_pool: scale set-up failed\n");
		return 1;
	}
	printf("{\"bench\":\"page_pool\",\"backend\":\"test-iommu\",\"smoke\":%s,\"reps\":%u,"
	       "\"pages_per_rep\":%u,",
	       smoke ? "true" : "false", reps, n);
	printf("\"recycle_direct_ns\":{");
	json_series("tracked", &rd[0], true);
	json_series("untracked", &rd[1], false);
	printf("},\"recycle_ring_ns\":{");
	json_series("tracked", &rr[0], true);
	json_series("untracked", &rr[1], false);
	printf("},\"edge_direct_ns\":{");
	json_series("tracked", &ed[0], true);
	json_series("untracked", &ed[1], false);
	printf("},\"edge_iommu_strict_ns\":{");
	json_series("tracked", &ei[0], true);
	json_series("untracked", &ei[1], false);
	printf("},");
	json_series("edge_direct_tracking_overhead_ns", &dd, true);
	json_series("edge_iommu_tracking_overhead_ns", &di, true);
	/* On a loaded machine the fastest runs are the least disturbed ones: also min - min. */
	printf("\"edge_direct_overhead_min_vs_min_ns\":%.1f,\"edge_iommu_overhead_min_vs_min_ns\":%"
	       ".1f,",
	       ed[0].v[0] - ed[1].v[0], ei[0].v[0] - ei[1].v[0]);
	json_series("index_insert_claim_release_ns", &ix, do_scale);
	if (do_scale)
		printf("\"scale\":{\"one_pool\":{\"pages\":%u,\"destroy_ms\":%.1f,"
		       "\"tracking_bytes_per_page\":%.2f,\"setup_s\":%.1f},"
		       "\"many_pools\":{\"pools\":%u,\"pages\":%u,\"destroy_total_ms\":%.1f,"
		       "\"destroy_max_pool_ms\":%.2f,\"tracking_bytes_per_page\":%.2f,"
		       "\"setup_s\":%.1f}}",
		       big, one.destroy_ms, one.bytes_per_page, one.setup_s, npools, npools * per,
		       many.destroy_ms, many.max_pool_ms, many.bytes_per_page, many.setup_s);
	printf("}\n");
	for (int k = 0; k < 2; k++) {
		free(rd[k].v);
		free(rr[k].v);
		free(ed[k].v);
		free(ei[k].v);
	}
	free(ix.v);
	free(dd.v);
	free(di.v);
	return 0;
}
