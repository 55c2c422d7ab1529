// SPDX-License-Identifier: MIT
/*
 * TSan scenario: concurrent map/unmap on disjoint IOVA ranges of one io-pgtable.
 *
 * Threads: 2 (or more) workers, one per format, each owning its own 4K page inside the
 * same last-level table, a different 4M-aligned table each round for the first SPREAD
 * rounds, so the compare-and-swap installs of a new table race for real (both formats keep
 * emptied tables). Each worker maps, translates, unmaps its page in a loop.
 * Invariant: every translation a worker reads for its own page is the PA it mapped; after
 * the run the table holds nothing but the start table and walks clean.
 * Expected outcome: no ThreadSanitizer report, exit 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <ih/io_pgtable.h>
#include <ih/physmem.h>
#include <ih/world.h>

#define WORKERS 2
#define ROUNDS	3000
#define SPREAD	256 /* distinct last-level tables the workers walk through */

struct ctx {
	struct ih_io_pgtable_ops *ops;
	int go;
	int failed;
};

struct worker {
	struct ctx *c;
	unsigned int id;
	pthread_t tid;
};

static void *work(void *arg)
{
	struct worker *wk = arg;
	struct ih_io_pgtable_ops *ops = wk->c->ops;
	u64 base = 0x1000ULL * (wk->id + 1);
	ih_pa_t pa = 0x40000000ULL + 0x1000ULL * wk->id;

	while (!__atomic_load_n(&wk->c->go, __ATOMIC_ACQUIRE))
		;
	for (int i = 0; i < ROUNDS; i++) {
		struct ih_iommu_iotlb_gather g;
		u64 iova = base + ((u64)(i % SPREAD) << 22);
		size_t mapped;

		if (ops->map_pages(ops, iova, pa, SZ_4K, 1, IH_PROT_READ, &mapped) ||
		    ops->iova_to_phys(ops, iova + 8) != pa + 8) {
			__atomic_store_n(&wk->c->failed, 1, __ATOMIC_RELAXED);
			break;
		}
		ih_iommu_iotlb_gather_init(&g);
		g.queued = i & 1;
		if (ops->unmap_pages(ops, iova, SZ_4K, 1, &g) != SZ_4K) {
			__atomic_store_n(&wk->c->failed, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

static int run(struct ih_world *w, enum ih_io_pgtable_fmt fmt)
{
	struct ih_io_pgtable_cfg cfg = {.pgsize_bitmap = SZ_4K | SZ_2M, .ias = 48, .oas = 48};
	struct ih_pgtable_shadow *sh;
	struct worker wk[WORKERS];
	struct ctx c = {0};
	char msg[256];
	int ret = 0;

	if (fmt == IH_RK_IOMMU_V2)
		cfg = (struct ih_io_pgtable_cfg){.pgsize_bitmap = SZ_4K};
	c.ops = ih_io_pgtable_alloc(w, fmt, &cfg, NULL);
	if (!c.ops || ih_pgtable_shadow_create(w, fmt, &cfg, &sh)) {
		fprintf(stderr, "tsan_io_pgtable_disjoint: setup failed\n");
		return 1;
	}
	for (unsigned int i = 0; i < WORKERS; i++) {
		wk[i] = (struct worker){.c = &c, .id = i};
		if (pthread_create(&wk[i].tid, NULL, work, &wk[i]))
			return 1;
	}
	__atomic_store_n(&c.go, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < WORKERS; i++)
		pthread_join(wk[i].tid, NULL);
	if (c.failed) {
		fprintf(stderr, "tsan_io_pgtable_disjoint: fmt %d: a worker saw a wrong result\n",
			(int)fmt);
		ret = 1;
	}
	/* Everything was unmapped: the table must walk equal to an empty shadow. */
	if (ih_pgtable_check(c.ops, sh, msg, sizeof(msg))) {
		fprintf(stderr, "tsan_io_pgtable_disjoint: fmt %d: %s\n", (int)fmt, msg);
		ret = 1;
	}
	ih_pgtable_shadow_destroy(sh);
	ih_io_pgtable_free(c.ops);
	return ret;
}

int main(void)
{
	struct ih_world_config wc;
	struct ih_world *w;
	int ret;

	ih_world_config_init(&wc);
	wc.mode = IH_EXEC_CONCURRENT;
	wc.ncpus = WORKERS;
	wc.physmem_size = 16 * SZ_1M;
	printf("tsan_io_pgtable_disjoint: seed %llu, %d workers x %d rounds\n",
	       (unsigned long long)wc.seed, WORKERS, ROUNDS);
	if (ih_world_create(&wc, &w))
		return 1;
	ret = run(w, IH_ARM_64_LPAE_S1) | run(w, IH_ARM_64_LPAE_S2) | run(w, IH_RK_IOMMU_V2);
	if (ih_pm_pages_used(w) != 0)
		ret = 1;
	if (ih_world_destroy(w) != 0)
		ret = 1;
	printf("tsan_io_pgtable_disjoint: %s\n", ret ? "FAIL" : "ok");
	return ret;
}
