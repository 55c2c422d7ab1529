/* SPDX-License-Identifier: MIT */
/* Private state of the DMA layer: the cookie of a DMA domain and its flush queue. */
#ifndef IH_CORE_DMA_PRIV_H
#define IH_CORE_DMA_PRIV_H

#include <pthread.h>

#include <ih/clock.h>
#include <ih/dma.h>
#include <ih/iova.h>
#include <ih/mutex.h>

struct ih_check_domain;

/* One queued unmap: its IOVA range and the flush count it must wait for. */
struct fq_entry {
	u64 iova_pfn;
	u64 pages;
	u64 counter; /* flushes started when it was queued */
	bool fixed;  /* placed by ih_dma_map_page_at(): goes back to the tree, not a cache */
};

/*
 * A ring of power-of-two size; full when tail + 1 == head (one slot stays free).
 * The lock protects head, tail and the entries. Padded to two cache lines so that the
 * per-CPU rings, side by side in one array, never share a line whatever its alignment.
 */
struct fq_ring {
	pthread_mutex_t lock;
	unsigned int head, tail, mask;
	struct fq_entry *entries;
	char pad[128 - sizeof(pthread_mutex_t) - 3 * sizeof(int) - sizeof(void *)];
};

struct ih_dma_fq {
	struct ih_dma_fq_options opts;
	unsigned int nrings;
	struct fq_ring rings[];
};

/*
 * Flush-queue synchronisation table (the kernel's, in C11 terms):
 * | field            | written by                      | read by                        |
 * | ---------------- | ------------------------------- | ------------------------------ |
 * | fq               | init_fq, before the release of  | unmap after the acquire of     |
 * |                  | fq_domain (mutex held)          | fq_domain; timer; fini         |
 * | fq_domain        | init_fq: release store          | unmap: ONE acquire load        |
 * | flush_start_cnt  | fq_flush_iotlb: atomic inc      | queue: stamp (relaxed, under   |
 * |                  | before flush_iotlb_all          | the ring lock)                 |
 * | flush_finish_cnt | fq_flush_iotlb: release inc     | reclaim: acquire load          |
 * |                  | after flush_iotlb_all returned  |                                |
 * | timer_on         | queue: exchange; timer: store   | queue: relaxed pre-check       |
 * A reclaim that sees finish_cnt > stamp also sees the flush's invalidation complete.
 */
struct ih_dma_cookie {
	struct ih_world *w;
	struct ih_iommu_domain *domain;
	struct ih_iova_domain *iovad;
	struct ih_check_domain *check;
	unsigned int shift;
	size_t granule;
	u64 limit_pfn;
	char name[80];
	struct ih_mutex mutex; /* serialises init_fq and set_fq_options */
	struct ih_dma_fq_options fq_opts;
	struct ih_dma_fq *fq;
	struct ih_iommu_domain *fq_domain; /* NULL: strict */
	u64 flush_start_cnt;
	u64 flush_finish_cnt;
	struct ih_timer fq_timer;
	int timer_on;
	unsigned long full_flushes, timer_flushes, reclaimed; /* atomic */
	/* Set once a range went to the allocator's per-CPU caches (atomic): only then can a
	 * fixed placement collide with a cached, unused range. */
	int cached_frees;
};

static inline struct ih_dma_cookie *dma_cookie(const struct ih_iommu_domain *domain)
{
	return domain ? (struct ih_dma_cookie *)domain->dma_cookie : NULL;
}

/* Pages the allocator really hands out for @pages (small sizes become powers of two). */
static inline u64 dma_iova_pages(u64 pages)
{
	if (pages < (1ULL << (IH_IOVA_RANGE_CACHE_MAX_SIZE - 1)) && pages > 1)
		return 1ULL << (64 - __builtin_clzll(pages - 1));
	return pages;
}

/* flush_queue.c */
int dma_fq_build(struct ih_dma_cookie *cookie, const struct ih_dma_fq_options *opts,
		 struct ih_dma_fq **out);
void dma_fq_destroy(struct ih_dma_cookie *cookie, struct ih_dma_fq *fq);
void dma_fq_queue(struct ih_dma_cookie *cookie, struct ih_dma_fq *fq, u64 pfn, u64 pages,
		  bool fixed);
void dma_fq_timeout(struct ih_timer *t);
/*
 * Give a range back to the allocator, asking the staleness checker first. A @fixed range
 * (ih_dma_map_page_at()) was reserved in the tree at any alignment: it goes back to the
 * tree, never into a per-CPU cache, whose entries must be size-aligned allocations.
 */
void dma_iova_release(struct ih_dma_cookie *cookie, u64 pfn, u64 pages, bool fixed,
		      const char *call);
void dma_fq_default_options(struct ih_world *w, struct ih_dma_fq_options *opts);

#endif /* IH_CORE_DMA_PRIV_H */
