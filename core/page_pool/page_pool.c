// SPDX-License-Identifier: MIT
/* page_pool: alloc cache, recycle ring, DMA mapping with in-flight tracking, deferred release. */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/page_pool.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include <ih/world.h>
#include "pp_index.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "page_pool: "

/*
 * Lock order: the pool takes no lock of its own. The ring and the tracking table are
 * lock-free; the DMA API, the allocator and the clock take their own locks one at a time.
 *
 * Synchronisation table of the pool's fields:
 * | field            | written by                        | read by                         |
 * | ---------------- | --------------------------------- | ------------------------------- |
 * | cache, ncache    | the consumer; destroy (consumer   | the same                        |
 * |                  | stopped); retry                   |                                 |
 * | ring cells       | producers (any CPU): release seq  | consumer, destroy, retry:       |
 * |                  |                                   | acquire seq                     |
 * | hold_cnt         | the consumer (WRITE_ONCE)         | destroy, retry, stats           |
 * | release_cnt      | any returner: release add, the    | destroy, retry: acquire load    |
 * |                  | returner's last access to a pool  | (may then free the pool)        |
 * | destroyed        | destroy: release store            | put (direct check), alloc       |
 * | tracking slots   | see pp_index.h                    |                                 |
 * The exactly-once unmap of a tracked page is its slot's CAS (a claim). The slot says
 * "being unmapped" until the claimer's unmap is done, and the scrub waits for such slots:
 * when destroy returns, no unmap of the pool's pages is still running on another CPU, so
 * the driver may unbind (the kernel gets the same from an RCU grace period).
 */

/* One cell of the ring (a bounded multi-producer, multi-consumer queue of page pointers:
 * each cell's sequence number says whose turn it is). */
struct pp_ring_cell {
	u64 seq;
	struct ih_pp_page *page;
};

struct ih_page_pool {
	struct ih_world *w;
	struct ih_page_pool_params p;
	char name[IH_DEV_NAME_MAX + 8];
	bool tracked;		   /* fixed at create from the replay switch */
	struct ih_device *dev_ref; /* untracked pools only: the old get_device() */
	unsigned int user_cnt;	   /* atomic */
	bool destroyed;		   /* atomic */

	/* Consumer side. */
	unsigned int ncache;
	struct ih_pp_page *cache[IH_PP_ALLOC_CACHE_SIZE];
	u32 hold_cnt; /* written by the consumer only */

	/*
	 * The ring: producers' and consumers' positions and the release count kept on
	 * separate cache lines by padding (ih_alloc aligns to 16 bytes only).
	 */
	unsigned int ring_mask;
	struct pp_ring_cell *ring;
	char pad0[64];
	u64 enq;
	char pad1[64];
	u64 deq;
	char pad2[64];
	u32 release_cnt; /* atomic */
	char pad3[64];
	struct pp_index idx;

	/* Destroy and the retry worker. */
	struct ih_timer retry;
	u64 destroy_ns;
	u64 last_warn_ns;
	unsigned int destroy_cnt;
	bool scrubbed;

	/* Counters: the consumer's are written with WRITE_ONCE, others are atomic adds. */
	u64 alloc_fast, alloc_refill, alloc_slow, recycle_cached;
	u64 recycle_ring, recycle_ring_full, returned, dma_mapped, dma_unmaps;
	u64 dma_unmaps_after_destroy, late_returns_skipped, scrubbed_pages, stalled_warnings;
};

#define stat_add(pool, field, n)       __atomic_fetch_add(&(pool)->field, (n), __ATOMIC_RELAXED)
#define stat_inc_consumer(pool, field) WRITE_ONCE((pool)->field, READ_ONCE((pool)->field) + 1)

static void pp_retry_fn(struct ih_timer *t);

/* ---- Page memory ---- */

static int pm_page_alloc(void *arg, struct ih_world *w, ih_pa_t *pa)
{
	*pa = ih_pm_alloc(w, IH_PAGE_SIZE, IH_PAGE_SIZE, "page_pool:page-mem");
	return *pa == IH_PA_INVALID ? -ENOMEM : 0;
}

static void pm_page_free(void *arg, struct ih_world *w, ih_pa_t pa)
{
	ih_pm_free(w, pa, IH_PAGE_SIZE);
}

static const struct ih_page_pool_mem_ops pm_mem_ops = {
    .alloc = pm_page_alloc,
    .free = pm_page_free,
};

/* ---- The ring ---- */

static int ring_init(struct ih_page_pool *pool, unsigned int size)
{
	pool->ring = ih_alloc_array(pool->w, size, sizeof(*pool->ring), "page_pool:ring");
	if (!pool->ring)
		return -ENOMEM;
	pool->ring_mask = size - 1;
	for (unsigned int i = 0; i < size; i++)
		pool->ring[i].seq = i;
	return 0;
}

/* Return: true when @page is in the ring; false when it is full. */
static bool ring_produce(struct ih_page_pool *pool, struct ih_pp_page *page)
{
	u64 pos = __atomic_load_n(&pool->enq, __ATOMIC_RELAXED);
	struct pp_ring_cell *c;

	for (;;) {
		s64 dif;

		c = &pool->ring[pos & pool->ring_mask];
		/* Acquire: the consumer that freed this cell is done reading it. */
		dif = (s64)(__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) - pos);
		if (dif == 0) {
			if (__atomic_compare_exchange_n(&pool->enq, &pos, pos + 1, true,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
				break;
		} else if (dif < 0) {
			return false;
		} else {
			pos = __atomic_load_n(&pool->enq, __ATOMIC_RELAXED);
		}
	}
	c->page = page;
	/* Release: the consumer that sees the new sequence sees the page (and its state). */
	__atomic_store_n(&c->seq, pos + 1, __ATOMIC_RELEASE);
	return true;
}

static struct ih_pp_page *ring_consume(struct ih_page_pool *pool)
{
	u64 pos = __atomic_load_n(&pool->deq, __ATOMIC_RELAXED);
	struct ih_pp_page *page;
	struct pp_ring_cell *c;

	for (;;) {
		s64 dif;

		c = &pool->ring[pos & pool->ring_mask];
		/* Acquire: pairs with the producer's release of the cell. */
		dif = (s64)(__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) - (pos + 1));
		if (dif == 0) {
			if (__atomic_compare_exchange_n(&pool->deq, &pos, pos + 1, true,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
				break;
		} else if (dif < 0) {
			return NULL;
		} else {
			pos = __atomic_load_n(&pool->deq, __ATOMIC_RELAXED);
		}
	}
	page = c->page;
	/* Release: the cell may be produced into again, one lap later. */
	__atomic_store_n(&c->seq, pos + pool->ring_mask + 1, __ATOMIC_RELEASE);
	return page;
}

/* ---- Create ---- */

int ih_page_pool_create(struct ih_world *w, const struct ih_page_pool_params *params,
			struct ih_page_pool **out)
{
	struct ih_page_pool *pool;
	unsigned int size;
	int ret;

	if (!w || !params || !out || (params->flags & ~IH_PP_FLAGS_ALL) ||
	    params->cpu >= ih_world_ncpus(w))
		return -EINVAL;
	size = params->pool_size ? params->pool_size : IH_PP_RING_DEFAULT;
	if (!IH_IS_POW2(size) || size < 2 || size > IH_PP_RING_MAX)
		return -EINVAL;
	if ((params->flags & IH_PP_FLAG_DMA_MAP) && !params->dev)
		return -EINVAL;
	pool = ih_alloc(w, sizeof(*pool), "page_pool:pool");
	if (!pool)
		return -ENOMEM;
	pool->w = w;
	pool->p = *params;
	pool->p.pool_size = size;
	if (!pool->p.mem_ops)
		pool->p.mem_ops = &pm_mem_ops;
	if (!pool->p.retry_ns)
		pool->p.retry_ns = IH_PP_RETRY_NS;
	if (!pool->p.warn_ns)
		pool->p.warn_ns = IH_PP_WARN_NS;
	snprintf(pool->name, sizeof(pool->name), "%s", params->name ? params->name : "pool");
	pool->p.name = pool->name;
	pool->user_cnt = 1;
	ret = ring_init(pool, size);
	if (ret)
		goto err_free_pool;
	pp_index_init(&pool->idx, w);
	ih_timer_init(&pool->retry, pp_retry_fn);
	if (pool->p.flags & IH_PP_FLAG_DMA_MAP) {
		/*
		 * The fix tracks every mapping so that destroy can undo them while the driver is
		 * still bound, and needs no device reference. The old pool only pinned the
		 * struct device, which keeps neither a driver nor a domain alive.
		 */
		pool->tracked = !ih_regress_on(w, IH_REGRESS_PAGE_POOL_UNTRACKED);
		if (!pool->tracked)
			pool->dev_ref = ih_device_get(params->dev);
	}
	*out = pool;
	return 0;

err_free_pool:
	ih_free(w, pool);
	return ret;
}

void ih_page_pool_get(struct ih_page_pool *pool)
{
	__atomic_fetch_add(&pool->user_cnt, 1, __ATOMIC_RELAXED);
}

const char *ih_page_pool_name(const struct ih_page_pool *pool)
{
	return pool->name;
}

/* ---- DMA mapping and tracking ---- */

static struct ih_device *pool_dev(struct ih_page_pool *pool)
{
	return pool->p.dev;
}

static void pp_dma_unmap(struct ih_page_pool *pool, struct ih_pp_page *page)
{
	ih_dma_unmap_page(pool_dev(pool), page->dma_addr, IH_PAGE_SIZE, pool->p.dma_dir, 0);
	stat_add(pool, dma_unmaps, 1);
	stat_add(pool, dma_mapped, -1);
}

static void pp_set_index(struct ih_pp_page *page, u32 id)
{
	u64 m = __atomic_load_n(&page->pp_magic, __ATOMIC_RELAXED) & ~IH_PP_DMA_INDEX_MASK;

	__atomic_store_n(&page->pp_magic, m | FIELD_PREP(IH_PP_DMA_INDEX_MASK, id),
			 __ATOMIC_RELAXED);
}

static int pp_dma_map(struct ih_page_pool *pool, struct ih_pp_page *page)
{
	u32 id;
	int ret;

	ret = ih_dma_map_page(pool_dev(pool), page->pa, IH_PAGE_SIZE, pool->p.dma_dir, 0,
			      &page->dma_addr);
	if (ret)
		return ret;
	if (pool->tracked) {
		ret = pp_index_insert(&pool->idx, page, &id);
		if (ret) {
			ih_dma_unmap_page(pool_dev(pool), page->dma_addr, IH_PAGE_SIZE,
					  pool->p.dma_dir, 0);
			return ret;
		}
		pp_set_index(page, id);
	}
	stat_add(pool, dma_mapped, 1);
	return 0;
}

/*
 * Undo the page's mapping unless someone already did. Tracked: whoever takes the page's
 * table entry unmaps; a late return after the scrub finds it gone and makes no DMA call.
 * Untracked (the old code): unmap through the DMA API, whatever state the device is in.
 */
static void pp_release_dma(struct ih_page_pool *pool, struct ih_pp_page *page)
{
	u32 id;

	if (!pool->tracked) {
		if (__atomic_load_n(&pool->destroyed, __ATOMIC_ACQUIRE))
			stat_add(pool, dma_unmaps_after_destroy, 1);
		pp_dma_unmap(pool, page);
		return;
	}
	/* Acquire: pairs with the scrub clearing the ID once it is done with the page. */
	id = (u32)FIELD_GET(IH_PP_DMA_INDEX_MASK, __atomic_load_n(&page->pp_magic, __ATOMIC_ACQUIRE));
	if (!pp_index_claim(&pool->idx, id, page)) {
		stat_add(pool, late_returns_skipped, 1);
		return;
	}
	pp_set_index(page, 0);
	ih_sched_point(pool->w, "page_pool:release-dma-before-unmap");
	pp_dma_unmap(pool, page);
	pp_index_release(&pool->idx, id);
}

/*
 * The scrub's per-page step (the entry is already taken). The page's ID is cleared only
 * after the unmap, with release ordering: a late return that reads the ID first fails to
 * claim the entry and waits for the scrub to let go of it; one that reads the cleared ID
 * (acquire) knows the scrub is done with the page. Either way it never frees the page's
 * metadata under this unmap (found by tsan_page_pool under load).
 */
static void pp_scrub_one(void *p, void *arg)
{
	struct ih_page_pool *pool = arg;
	struct ih_pp_page *page = p;

	pp_dma_unmap(pool, page);
	__atomic_and_fetch(&page->pp_magic, ~IH_PP_DMA_INDEX_MASK, __ATOMIC_RELEASE);
	stat_add(pool, scrubbed_pages, 1);
}

/* ---- Pages in and out ---- */

static int pp_alloc_slow(struct ih_page_pool *pool, struct ih_pp_page **out)
{
	struct ih_world *w = pool->w;
	struct ih_pp_page *page;
	int ret;

	page = ih_alloc(w, sizeof(*page), "page_pool:page");
	if (!page)
		return -ENOMEM;
	ret = pool->p.mem_ops->alloc(pool->p.mem_arg, w, &page->pa);
	if (ret)
		goto err_free_meta;
	page->pp = pool;
	__atomic_store_n(&page->pp_magic, IH_PP_SIGNATURE, __ATOMIC_RELAXED);
	if (pool->p.flags & IH_PP_FLAG_DMA_MAP) {
		ret = pp_dma_map(pool, page);
		if (ret)
			goto err_free_mem;
	}
	WRITE_ONCE(pool->hold_cnt, READ_ONCE(pool->hold_cnt) + 1);
	stat_inc_consumer(pool, alloc_slow);
	*out = page;
	return 0;

err_free_mem:
	pool->p.mem_ops->free(pool->p.mem_arg, w, page->pa);
err_free_meta:
	ih_free(w, page);
	return ret;
}

int ih_page_pool_alloc_page(struct ih_page_pool *pool, struct ih_pp_page **page)
{
	unsigned int n;

	if (!pool || !page ||
	    IH_WARN_ON(pool->w, __atomic_load_n(&pool->destroyed, __ATOMIC_RELAXED),
		       "page_pool: %s: allocation from a destroyed pool", pool->name))
		return -EINVAL;
	/* Fast path: the consumer's own cache, no atomic operation at all. */
	if (ih_likely(pool->ncache)) {
		*page = pool->cache[--pool->ncache];
		stat_inc_consumer(pool, alloc_fast);
		return 0;
	}
	/* Refill the cache from the ring (pages recycled by other CPUs). */
	for (n = 0; n < IH_PP_ALLOC_CACHE_REFILL; n++) {
		struct ih_pp_page *p = ring_consume(pool);

		if (!p)
			break;
		pool->cache[pool->ncache++] = p;
	}
	if (n) {
		stat_inc_consumer(pool, alloc_refill);
		*page = pool->cache[--pool->ncache];
		return 0;
	}
	return pp_alloc_slow(pool, page);
}

/* The page leaves the pool: unmap, free, then count it (the last access to @pool). */
static void pp_return(struct ih_page_pool *pool, struct ih_pp_page *page)
{
	struct ih_world *w = pool->w;
	const struct ih_page_pool_mem_ops *ops = pool->p.mem_ops;
	void *mem_arg = pool->p.mem_arg;

	if (pool->p.flags & IH_PP_FLAG_DMA_MAP)
		pp_release_dma(pool, page);
	stat_add(pool, returned, 1);
	__atomic_store_n(&page->pp_magic, 0, __ATOMIC_RELAXED);
	ops->free(mem_arg, w, page->pa);
	ih_free(w, page);
	/* Release: the retry worker that sees the count sees everything above done. */
	__atomic_fetch_add(&pool->release_cnt, 1, __ATOMIC_RELEASE);
}

static bool page_of(struct ih_page_pool *pool, struct ih_pp_page *page)
{
	return !IH_WARN_ON(pool->w, !page || page->pp != pool || !ih_pp_page_is_pp(page),
			   "page_pool: %s: put of a page that is not one of the pool's",
			   pool->name);
}

void ih_page_pool_put_page(struct ih_page_pool *pool, struct ih_pp_page *page, bool allow_direct)
{
	if (!pool || !page_of(pool, page))
		return;
	if (allow_direct && !__atomic_load_n(&pool->destroyed, __ATOMIC_RELAXED) &&
	    pool->ncache < IH_PP_ALLOC_CACHE_SIZE) {
		pool->cache[pool->ncache++] = page;
		stat_inc_consumer(pool, recycle_cached);
		return;
	}
	/* Counted first: once the page is in the ring the pool may be freed under us. */
	stat_add(pool, recycle_ring, 1);
	if (ring_produce(pool, page))
		return;
	stat_add(pool, recycle_ring, -1);
	stat_add(pool, recycle_ring_full, 1);
	pp_return(pool, page);
}

void ih_page_pool_return_page(struct ih_page_pool *pool, struct ih_pp_page *page)
{
	if (!pool || !page_of(pool, page))
		return;
	pp_return(pool, page);
}

/* ---- Destroy and the retry worker ---- */

static s32 pp_inflight(struct ih_page_pool *pool)
{
	u32 release = __atomic_load_n(&pool->release_cnt, __ATOMIC_ACQUIRE);

	return (s32)(READ_ONCE(pool->hold_cnt) - release);
}

s32 ih_page_pool_inflight(struct ih_page_pool *pool)
{
	return pp_inflight(pool);
}

/*
 * Return what can be returned: the cache (empty after the first time: direct puts are
 * off) and the ring, then unmap every page still tracked (the scrub, first time only),
 * then the ring again (pages put meanwhile). Return: pages in flight after.
 */
static s32 pp_release(struct ih_page_pool *pool)
{
	struct ih_pp_page *page;

	WRITE_ONCE(pool->destroy_cnt, pool->destroy_cnt + 1);
	while (pool->ncache)
		pp_return(pool, pool->cache[--pool->ncache]);
	while ((page = ring_consume(pool)))
		pp_return(pool, page);
	if (pool->tracked && !pool->scrubbed) {
		pool->scrubbed = true;
		/* Returns by other CPUs that claimed a page first finish their unmap first. */
		pp_index_take_all(&pool->idx, pp_scrub_one, pool);
	}
	while ((page = ring_consume(pool)))
		pp_return(pool, page);
	return pp_inflight(pool);
}

static void pp_free(struct ih_page_pool *pool)
{
	struct ih_world *w = pool->w;

	IH_BUG_ON(pp_inflight(pool), "page_pool: %s freed with pages in flight", pool->name);
	pp_index_fini(&pool->idx);
	ih_free(w, pool->ring);
	/* The old pool's device reference is dropped last, as put_device() was. */
	if (pool->dev_ref)
		ih_device_put(pool->dev_ref);
	if (pool->p.disconnect)
		pool->p.disconnect(pool->p.disconnect_arg, pool);
	ih_free(w, pool);
}

static void pp_retry_fn(struct ih_timer *t)
{
	struct ih_page_pool *pool = container_of(t, struct ih_page_pool, retry);
	struct ih_world *w = pool->w;
	s32 inflight = pp_release(pool);
	u64 now;

	if (inflight <= 0) {
		pp_free(pool);
		return;
	}
	now = ih_clock_now_ns(w);
	if (now - pool->last_warn_ns >= pool->p.warn_ns) {
		pool->last_warn_ns = now;
		stat_add(pool, stalled_warnings, 1);
		ih_log(w, IH_LOG_WARN,
		       "%s: stalled pool shutdown, %d page(s) in flight after %llu s", pool->name,
		       inflight, (unsigned long long)((now - pool->destroy_ns) / 1000000000ULL));
	}
	ih_timer_arm(w, &pool->retry, pool->p.retry_ns);
}

int ih_page_pool_destroy(struct ih_page_pool *pool)
{
	struct ih_world *w;

	if (!pool)
		return 0;
	w = pool->w;
	if (IH_WARN_ON(w, __atomic_load_n(&pool->destroyed, __ATOMIC_ACQUIRE),
		       "page_pool: %s destroyed twice", pool->name))
		return -EINVAL;
	if (__atomic_sub_fetch(&pool->user_cnt, 1, __ATOMIC_ACQ_REL))
		return 0;
	/* From now on puts go to the ring (no direct recycling) and allocations are refused. */
	__atomic_store_n(&pool->destroyed, true, __ATOMIC_RELEASE);
	pool->destroy_ns = ih_clock_now_ns(w);
	pool->last_warn_ns = pool->destroy_ns;
	if (pp_release(pool) <= 0) {
		pp_free(pool);
		return 0;
	}
	ih_timer_arm(w, &pool->retry, pool->p.retry_ns);
	return 0;
}

void ih_page_pool_get_stats(struct ih_page_pool *pool, struct ih_page_pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->hold_cnt = READ_ONCE(pool->hold_cnt);
	st->release_cnt = __atomic_load_n(&pool->release_cnt, __ATOMIC_ACQUIRE);
	st->inflight = (s32)(st->hold_cnt - st->release_cnt);
	st->alloc_fast = READ_ONCE(pool->alloc_fast);
	st->alloc_refill = READ_ONCE(pool->alloc_refill);
	st->alloc_slow = READ_ONCE(pool->alloc_slow);
	st->recycle_cached = READ_ONCE(pool->recycle_cached);
	st->recycle_ring = READ_ONCE(pool->recycle_ring);
	st->recycle_ring_full = READ_ONCE(pool->recycle_ring_full);
	st->returned = READ_ONCE(pool->returned);
	st->dma_mapped = READ_ONCE(pool->dma_mapped);
	st->dma_unmaps = READ_ONCE(pool->dma_unmaps);
	st->dma_unmaps_after_destroy = READ_ONCE(pool->dma_unmaps_after_destroy);
	st->late_returns_skipped = READ_ONCE(pool->late_returns_skipped);
	st->scrubbed = READ_ONCE(pool->scrubbed_pages);
	st->tracked = pool->tracked;
	st->dma_index_ids = pp_index_ids(&pool->idx);
	st->dma_index_bytes = pool->tracked ? pp_index_bytes(&pool->idx) : 0;
	st->destroyed = __atomic_load_n(&pool->destroyed, __ATOMIC_ACQUIRE);
	st->destroy_cnt = READ_ONCE(pool->destroy_cnt);
	st->stalled_warnings = READ_ONCE(pool->stalled_warnings);
}
