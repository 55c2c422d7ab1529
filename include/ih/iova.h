/* SPDX-License-Identifier: MIT */
/* IOVA allocator: size-aligned ranges in a balanced tree, plus per-CPU range caches. */
#ifndef IH_IOVA_H
#define IH_IOVA_H

#include <ih/compat.h>

struct ih_world;
struct ih_iova_domain;

/*
 * Addresses are in page frames (pfn = iova >> granule shift). A domain hands out ranges
 * inside [start_pfn, limit_pfn] (the limit is per call: the device's DMA mask) and never
 * pfn 0.
 *
 * Tree: every allocated range is a node of an AVL tree keyed by its first pfn; each node
 * also summarises its subtree (lowest and highest pfn, widest free gap and the largest
 * naturally aligned power-of-two block a gap can hold), so finding the highest free
 * range that fits under the limit is one descent: O(log n) for power-of-two sizes. Other
 * sizes (aligned to the next power of two) take a second descent on gap width only when
 * the first finds nothing. Free is a lookup and an erase: O(log n). One mutex (the
 * kernel's rbtree spinlock) protects the tree.
 *
 * Range caches (the kernel's "rcache", for sizes of 1 to 32 pages, orders 0..5): each
 * model CPU (ih_cpu_id()) has a loaded and a previous magazine of up to 127 pfns per
 * order; a free goes to the calling CPU's magazines, an allocation is served from them
 * first, and full magazines move through a per-order depot of full magazines shared by
 * all CPUs. So a range freed on one CPU is reused on another once its magazine reaches
 * the depot. Cached ranges stay allocated in the tree until a depot trim (deferred work
 * on the world clock, 100 ms by default, while the depot holds more than one magazine
 * per CPU) or ih_iova_cache_flush() gives them back.
 *
 * Synchronisation: every call may run on any thread concurrently with any other, except
 * ih_iova_domain_destroy() (nothing else may run on the domain). Lock order:
 * per-CPU cache lock -> depot lock -> tree lock. Schedule points: "iova:free-fast",
 * "iova:alloc-fast".
 */

#define IH_IOVA_RANGE_CACHE_MAX_SIZE 6		  /* orders 0..5: up to 32 pages */
#define IH_IOVA_MAG_SIZE	     127	  /* pfns per magazine */
#define IH_IOVA_DEPOT_DELAY_NS	     100000000ULL /* 100 ms */

/**
 * struct ih_iova_stats - counters of one domain.
 * @ranges: ranges allocated in the tree now (including cached ones).
 * @cached: ranges held by the per-CPU magazines and the depot now.
 * @depot_mags: full magazines in the depot now (all orders).
 * @tree_allocs, @tree_frees: tree operations so far.
 * @cache_hits, @cache_misses: cache look-ups from ih_iova_alloc_fast().
 * @depot_trims: magazines given back by the deferred trim.
 */
struct ih_iova_stats {
	unsigned long ranges;
	unsigned long cached;
	unsigned long depot_mags;
	unsigned long tree_allocs;
	unsigned long tree_frees;
	unsigned long cache_hits;
	unsigned long cache_misses;
	unsigned long depot_trims;
};

/**
 * ih_iova_domain_create() - an empty domain.
 * @w: the world (its CPU count sizes the caches; its clock runs the depot trim).
 * @granule: bytes per pfn (a power of two, at least 4K).
 * @start_pfn: lowest pfn handed out; 0 is raised to 1.
 * @name: for messages (kept by pointer: a string that outlives the domain).
 * @out: the domain.
 *
 * Allocation sites: "iova:domain", "iova:magazine" (also on the free path: a failure
 * there sends the range back to the tree instead) and "iova:node".
 *
 * Context: any thread. Return: 0; -EINVAL for a bad @granule; -ENOMEM.
 */
int ih_iova_domain_create(struct ih_world *w, size_t granule, u64 start_pfn, const char *name,
			  struct ih_iova_domain **out);

/**
 * ih_iova_domain_destroy() - give back every cached range, then free the domain. A range
 * still allocated is reported (IH_REPORT_IOVA_LEAK, one report per range) and freed.
 * NULL is ignored. Context: no other call on the domain may run.
 * Return: ranges that were still allocated.
 */
size_t ih_iova_domain_destroy(struct ih_iova_domain *iovad);

size_t ih_iova_granule(const struct ih_iova_domain *iovad);
unsigned int ih_iova_shift(const struct ih_iova_domain *iovad);
u64 ih_iova_start_pfn(const struct ih_iova_domain *iovad);

/**
 * ih_iova_alloc() - allocate @size pfns from the tree, at the highest address that fits.
 * @limit_pfn: highest pfn the range may use (inclusive).
 * @size_aligned: align the range to @size rounded up to a power of two.
 * @pfn: out, the first pfn.
 * Return: 0; -EINVAL (@size 0); -ENOMEM (no room under the limit, or no memory).
 */
int ih_iova_alloc(struct ih_iova_domain *iovad, u64 size, u64 limit_pfn, bool size_aligned,
		  u64 *pfn);

/* ih_iova_free() - free the tree range containing @pfn. Return: 0, -ENOENT. */
int ih_iova_free(struct ih_iova_domain *iovad, u64 pfn);

/**
 * ih_iova_reserve() - mark [pfn_lo, pfn_hi] as never to be handed out (an MSI window).
 * Return: 0; -EINVAL (lo > hi); -EEXIST (overlaps an allocated range); -ENOMEM.
 */
int ih_iova_reserve(struct ih_iova_domain *iovad, u64 pfn_lo, u64 pfn_hi);

/* ih_iova_find() - the allocated range containing @pfn. Return: 0, or -ENOENT. */
int ih_iova_find(struct ih_iova_domain *iovad, u64 pfn, u64 *lo, u64 *hi);

/**
 * ih_iova_alloc_fast() - as the DMA layer allocates: sizes up to 32 pages are rounded up
 * to a power of two and tried in the calling CPU's cache first; then the tree; when the
 * tree is full and @flush_rcache, every cache is given back and the tree tried again.
 * Return: 0 and *@pfn; -EINVAL; -ENOMEM.
 */
int ih_iova_alloc_fast(struct ih_iova_domain *iovad, u64 size, u64 limit_pfn, bool flush_rcache,
		       u64 *pfn);

/**
 * ih_iova_free_fast() - give back a range from ih_iova_alloc_fast() (the same @size):
 * into the calling CPU's cache when it fits there, else to the tree.
 * The caller guarantees @pfn/@size came from ih_iova_alloc_fast() and are not free yet
 * (dma-debug checks that for the DMA API, as in the kernel).
 */
void ih_iova_free_fast(struct ih_iova_domain *iovad, u64 pfn, u64 size);

/**
 * ih_iova_free_fast_batch() - ih_iova_free_fast() of @n ranges of the same @size, taking
 * the calling CPU's cache lock once for all of them (the flush queue reclaims in runs).
 * Context: as ih_iova_free_fast().
 */
void ih_iova_free_fast_batch(struct ih_iova_domain *iovad, const u64 *pfns, u64 size,
			     unsigned int n);

/* ih_iova_cache_flush() - give every cached range (all CPUs, the depot) back to the tree. */
void ih_iova_cache_flush(struct ih_iova_domain *iovad);

/**
 * ih_iova_check() - consistency of the whole domain: the tree's shape and subtree
 * summaries, no overlapping or out-of-range node, and every cached pfn the start of a
 * distinct allocated range of its cache's order.
 * Context: any thread; it takes every lock of the domain, so deferred work (depot trim,
 * flush-queue reclaim) may run meanwhile. Takes several per-CPU locks: not from a caller
 * holding one.
 * Return: 0, or -EUCLEAN with @msg (may be NULL) naming the first problem.
 */
int ih_iova_check(struct ih_iova_domain *iovad, char *msg, size_t len);

void ih_iova_get_stats(struct ih_iova_domain *iovad, struct ih_iova_stats *st);

#endif /* IH_IOVA_H */
