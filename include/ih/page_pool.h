/* SPDX-License-Identifier: MIT */
/* page_pool: DMA-mapped page recycling for a NIC, with in-flight DMA tracking. */
#ifndef IH_PAGE_POOL_H
#define IH_PAGE_POOL_H

#include <ih/clock.h>
#include <ih/compat.h>
#include <ih/iommu.h>
#include <ih/physmem.h>

struct ih_world;
struct ih_device;
struct ih_page_pool;

/*
 * A pool hands out 4K pages of simulated memory to one consumer (a NIC's NAPI context on
 * the pool's model CPU). With IH_PP_FLAG_DMA_MAP each page is DMA-mapped for the pool's
 * device once, when it enters the pool, and stays mapped while it is recycled: the
 * mapping is undone only when the page leaves the pool for good ("returned").
 *
 * Where a page goes when it is put back:
 *   alloc cache   an array only the consumer touches, no lock (allow_direct puts from the
 *                 NAPI context, and the first place an allocation looks);
 *   ring          a bounded multi-producer ring for pages recycled from any other CPU
 *                 (the consumer refills its cache from it);
 *   returned      ring full or pool destroyed and drained: unmapped and freed.
 * hold_cnt counts pages that entered the pool, release_cnt pages that were returned;
 * in flight = hold_cnt - release_cnt.
 *
 * Destroy (the driver's unbind): the cache and the ring are emptied, then every page
 * still mapped is unmapped (the "scrub", tracked pools only) while the driver is still
 * bound; pages still held elsewhere keep the pool object alive, and a retry worker on the
 * world clock empties the ring every retry period, warns about a stalled shutdown with
 * the in-flight count and age, and frees the pool once nothing is in flight.
 *
 * In-flight tracking (the fix that shipped upstream, ee62ce7a1d90): a per-pool table of
 * DMA-mapped pages indexed by an ID kept in the page's magic word. Unmapping takes the
 * page out of the table with one compare-and-swap on its entry, so each page is unmapped
 * exactly once whether the scrub or a late return gets there first, and a late return
 * that finds its entry gone makes no DMA call. Tracking costs one table insert per map
 * and one CAS plus an ID push per unmap; the recycle paths never touch the table. The
 * pool then holds no device reference.
 *
 * The replay switch page-pool-untracked (ih/regress.h) brings back the old pool: no
 * table, no scrub, a device reference instead, and every late return unmaps through the
 * DMA API on whatever the device has left (no driver, no domain, a deleted VF).
 *
 * Synchronisation:
 * | call                                 | may run concurrently with                   |
 * | ------------------------------------ | ------------------------------------------- |
 * | ih_page_pool_alloc_page              | puts and returns from other CPUs; never     |
 * |                                      | with itself, destroy or a direct put (the   |
 * |                                      | consumer's NAPI context is single)          |
 * | ih_page_pool_put_page, allow_direct  | as alloc (consumer only)                    |
 * | ih_page_pool_put_page, !allow_direct | anything, from any CPU, also after destroy  |
 * | ih_page_pool_return_page             | anything, from any CPU, also after destroy  |
 * | ih_page_pool_destroy                 | puts and returns from other CPUs (the       |
 * |                                      | consumer must have stopped: napi_disable)   |
 * | ih_page_pool_get_stats               | anything, while the pool exists             |
 * A pool object exists until its disconnect callback has run.
 */

#define IH_PP_FLAG_DMA_MAP BIT(0) /* map pages for params.dev, keep them mapped */
#define IH_PP_FLAGS_ALL	   IH_PP_FLAG_DMA_MAP

#define IH_PP_ALLOC_CACHE_SIZE	 128
#define IH_PP_ALLOC_CACHE_REFILL 64
#define IH_PP_RING_DEFAULT	 1024
#define IH_PP_RING_MAX		 32768
#define IH_PP_RETRY_NS		 1000000000ULL	/* the kernel retries every second */
#define IH_PP_WARN_NS		 60000000000ULL /* and warns every 60 s */

/*
 * The magic word of a pool page (the kernel's pp_magic). Bits 31:0 carry the signature
 * that marks the page as a pool page; bits 53:32 the page's tracking ID (1-based, 0: not
 * tracked). The signature mask leaves the ID bits out, so a tracked page still reads as a
 * pool page.
 */
#define IH_PP_SIGNATURE	      0x50504f40ULL /* "@OPP", arbitrary, low 2 bits clear */
#define IH_PP_MAGIC_MASK      GENMASK_ULL(31, 0)
#define IH_PP_DMA_INDEX_SHIFT 32
#define IH_PP_DMA_INDEX_BITS  22
#define IH_PP_DMA_INDEX_MASK                                                                       \
	GENMASK_ULL(IH_PP_DMA_INDEX_SHIFT + IH_PP_DMA_INDEX_BITS - 1, IH_PP_DMA_INDEX_SHIFT)
#define IH_PP_DMA_INDEX_MAX ((1U << IH_PP_DMA_INDEX_BITS) - 1)

/**
 * struct ih_pp_page - the metadata of one pool page (the kernel's struct page fields).
 * @pp_magic: signature and tracking ID; atomic (the scrub clears the ID of a page that
 *	another thread holds).
 * @pp: the pool the page belongs to.
 * @pa: the page's simulated-memory address (4K).
 * @dma_addr: its DMA address for the pool's device (DMA_MAP pools).
 */
struct ih_pp_page {
	u64 pp_magic;
	struct ih_page_pool *pp;
	ih_pa_t pa;
	u64 dma_addr;
};

/* ih_pp_page_is_pp() - whether @page carries the pool signature (page_pool_page_is_pp). */
static inline bool ih_pp_page_is_pp(const struct ih_pp_page *page)
{
	return (__atomic_load_n(&page->pp_magic, __ATOMIC_RELAXED) & IH_PP_MAGIC_MASK) ==
	       IH_PP_SIGNATURE;
}

/* ih_pp_page_dma_index() - @page's tracking ID, 0 when not (or no longer) tracked. */
static inline u32 ih_pp_page_dma_index(const struct ih_pp_page *page)
{
	return (u32)FIELD_GET(IH_PP_DMA_INDEX_MASK,
			      __atomic_load_n(&page->pp_magic, __ATOMIC_RELAXED));
}

/**
 * struct ih_page_pool_mem_ops - where pages come from (the kernel's memory providers).
 * @alloc: one 4K page; *@pa its address. Return 0 or -ENOMEM.
 * @free: give it back.
 * NULL ops: simulated memory (ih_pm_alloc, site "page_pool:page-mem").
 */
struct ih_page_pool_mem_ops {
	int (*alloc)(void *arg, struct ih_world *w, ih_pa_t *pa);
	void (*free)(void *arg, struct ih_world *w, ih_pa_t pa);
};

/**
 * struct ih_page_pool_params - what a pool is for.
 * @flags: IH_PP_FLAG_*.
 * @pool_size: ring entries, a power of two up to IH_PP_RING_MAX (0: 1024).
 * @cpu: the consumer's model CPU (the NAPI CPU).
 * @dev: the device pages are mapped for (required with IH_PP_FLAG_DMA_MAP).
 * @dma_dir: direction of the mappings (a NIC's RX pool: IH_DMA_FROM_DEVICE).
 * @name: for messages (copied; NULL: "pool").
 * @retry_ns: release retry period after destroy (0: IH_PP_RETRY_NS).
 * @warn_ns: interval of the stalled-shutdown warning (0: IH_PP_WARN_NS).
 * @disconnect: optional; called once when the pool object is finally freed (the pool
 *	is passed for identification only and is freed right after).
 * @disconnect_arg: its argument.
 * @mem_ops: page source (NULL: simulated memory); @mem_arg its argument.
 */
struct ih_page_pool_params {
	unsigned int flags;
	unsigned int pool_size;
	unsigned int cpu;
	struct ih_device *dev;
	enum ih_dma_dir dma_dir;
	const char *name;
	u64 retry_ns;
	u64 warn_ns;
	void (*disconnect)(void *arg, struct ih_page_pool *pool);
	void *disconnect_arg;
	const struct ih_page_pool_mem_ops *mem_ops;
	void *mem_arg;
};

/**
 * ih_page_pool_create() - a new pool with one user.
 * @w: the world (its clock runs the retry worker).
 * @params: copied.
 * @out: the pool.
 *
 * Whether the pool tracks its mappings is decided here, from the page-pool-untracked
 * switch. Allocation sites: "page_pool:pool", "page_pool:ring".
 *
 * Context: any thread. Return: 0; -EINVAL (NULL argument, unknown flag, bad ring size,
 * DMA_MAP without a device, CPU out of range); -ENOMEM.
 */
int ih_page_pool_create(struct ih_world *w, const struct ih_page_pool_params *params,
			struct ih_page_pool **out);

/* ih_page_pool_get() - one more user: ih_page_pool_destroy() must then be called once more. */
void ih_page_pool_get(struct ih_page_pool *pool);

/**
 * ih_page_pool_alloc_page() - a page for the consumer: from the alloc cache, else a
 * refill from the ring, else a new page (allocated, DMA-mapped and tracked).
 * @page: out.
 *
 * Allocation sites of a new page: "page_pool:page", "page_pool:page-mem" (default mem
 * ops), the DMA layer's, "page_pool:dma-index" (table growth).
 *
 * Context: the consumer only (see the table above).
 * Return: 0; -EINVAL (NULL, or the pool is destroyed); -ENOMEM; -ENOSPC (tracking IDs
 * exhausted); the DMA API's map error. Nothing is left allocated or mapped on error.
 */
int ih_page_pool_alloc_page(struct ih_page_pool *pool, struct ih_pp_page **page);

/**
 * ih_page_pool_put_page() - give @page back to @pool for recycling.
 * @allow_direct: the caller is the consumer (NAPI context): the page may go to the alloc
 *	cache. Ignored once the pool is destroyed.
 *
 * Into the alloc cache (direct), else the ring, else (ring full) returned. A page that is
 * not a page of @pool is refused with a counted warning.
 * Context: see the table above.
 */
void ih_page_pool_put_page(struct ih_page_pool *pool, struct ih_pp_page *page, bool allow_direct);

/**
 * ih_page_pool_return_page() - @page leaves @pool for good, now: unmapped (unless already
 * unmapped by the scrub) and freed. The path the network stack takes when it frees a
 * page instead of recycling it, and the pool's own when its ring is full.
 * Context: any thread.
 */
void ih_page_pool_return_page(struct ih_page_pool *pool, struct ih_pp_page *page);

/**
 * ih_page_pool_destroy() - drop a user; the last one destroys the pool: the alloc cache
 * and the ring are returned, every page still mapped is unmapped (tracked pools), and
 * the object is freed now when nothing is in flight, else by the retry worker later.
 *
 * Context: process; the consumer must have stopped. NULL is ignored.
 * Return: 0; -EINVAL with a counted warning when the pool was already destroyed and is
 * still waiting for pages (a pool already freed cannot be recognised: that is a use
 * after free, as in the kernel).
 */
int ih_page_pool_destroy(struct ih_page_pool *pool);

/**
 * struct ih_page_pool_stats - counters of one pool.
 * @hold_cnt, @release_cnt: pages that entered / left the pool; @inflight their difference.
 * @alloc_fast: allocations served by the alloc cache.
 * @alloc_refill: refills of the cache from the ring.
 * @alloc_slow: new pages.
 * @recycle_cached: puts into the alloc cache.
 * @recycle_ring: puts into the ring.
 * @recycle_ring_full: puts that found the ring full (the page was returned).
 * @returned: pages returned (left the pool).
 * @dma_mapped: pages DMA-mapped now (tracked or not).
 * @dma_unmaps: DMA unmaps the pool made.
 * @dma_unmaps_after_destroy: of which after destroy had returned (untracked pools only).
 * @late_returns_skipped: returns that found their tracking entry already gone.
 * @scrubbed: pages the scrub unmapped.
 * @tracked: the pool keeps the tracking table.
 * @dma_index_ids: tracking IDs handed out so far (the table's high-water mark).
 * @dma_index_bytes: memory of the tracking table.
 * @destroyed: destroy has run; @destroy_cnt: releases run since (destroy + retries).
 * @stalled_warnings: stalled-shutdown warnings logged.
 */
struct ih_page_pool_stats {
	u32 hold_cnt;
	u32 release_cnt;
	s32 inflight;
	u64 alloc_fast;
	u64 alloc_refill;
	u64 alloc_slow;
	u64 recycle_cached;
	u64 recycle_ring;
	u64 recycle_ring_full;
	u64 returned;
	u64 dma_mapped;
	u64 dma_unmaps;
	u64 dma_unmaps_after_destroy;
	u64 late_returns_skipped;
	u64 scrubbed;
	bool tracked;
	u32 dma_index_ids;
	size_t dma_index_bytes;
	bool destroyed;
	unsigned int destroy_cnt;
	u64 stalled_warnings;
};

/* ih_page_pool_get_stats() - copy @pool's counters (while the pool exists). */
void ih_page_pool_get_stats(struct ih_page_pool *pool, struct ih_page_pool_stats *st);

/* ih_page_pool_inflight() - hold_cnt - release_cnt now. */
s32 ih_page_pool_inflight(struct ih_page_pool *pool);

/* ih_page_pool_name() - the name given at create. */
const char *ih_page_pool_name(const struct ih_page_pool *pool);

#endif /* IH_PAGE_POOL_H */
