// SPDX-License-Identifier: MIT
/* The flush queue: lazy IOTLB invalidation for DMA-FQ domains (per-CPU or single ring). */
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include <ih/world.h>
#include "check/check_priv.h"
#include "dma_priv.h"
#include "platform/world_priv.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "dma-fq: "

/*
 * Lock order: ring lock -> driver flush_iotlb_all -> IOVA allocator locks. The timer takes
 * each ring lock in turn, never two at once.
 */

struct ih_dma_state {
	struct ih_dma_fq_options fq_opts;
};

static void fix_options(struct ih_dma_fq_options *o)
{
	if (!o->size)
		o->size =
		    o->type == IH_DMA_FQ_SINGLE ? IH_DMA_FQ_SINGLE_SIZE : IH_DMA_FQ_PERCPU_SIZE;
	if (!o->timeout_ns)
		o->timeout_ns = o->type == IH_DMA_FQ_SINGLE ? IH_DMA_FQ_SINGLE_TIMEOUT_NS
							    : IH_DMA_FQ_PERCPU_TIMEOUT_NS;
}

static bool options_valid(const struct ih_dma_fq_options *o)
{
	return (o->type == IH_DMA_FQ_PERCPU || o->type == IH_DMA_FQ_SINGLE) &&
	       (!o->size || (IH_IS_POW2(o->size) && o->size >= 2 && o->size <= (1u << 20)));
}

void dma_fq_default_options(struct ih_world *w, struct ih_dma_fq_options *opts)
{
	struct ih_dma_state *st = __atomic_load_n(&w->dma, __ATOMIC_ACQUIRE);

	memset(opts, 0, sizeof(*opts));
	if (st)
		*opts = st->fq_opts;
	fix_options(opts);
}

static void dma_state_teardown(struct ih_world *w, void *arg)
{
	__atomic_store_n(&w->dma, NULL, __ATOMIC_RELEASE);
	ih_free(w, arg);
}

int ih_dma_set_default_fq_options(struct ih_world *w, const struct ih_dma_fq_options *opts)
{
	struct ih_dma_state *st;
	int ret = 0;

	if (!w || !opts || !options_valid(opts))
		return -EINVAL;
	ih_world_state_lock(w);
	st = w->dma;
	if (!st) {
		st = ih_alloc(w, sizeof(*st), "dma:state");
		if (!st || ih_world_add_teardown(w, dma_state_teardown, st)) {
			ih_free(w, st);
			ret = -ENOMEM;
			goto out_unlock;
		}
		__atomic_store_n(&w->dma, st, __ATOMIC_RELEASE);
	}
	st->fq_opts = *opts;
	fix_options(&st->fq_opts);
out_unlock:
	ih_world_state_unlock(w);
	return ret;
}

int dma_fq_build(struct ih_dma_cookie *cookie, const struct ih_dma_fq_options *opts,
		 struct ih_dma_fq **out)
{
	struct ih_world *w = cookie->w;
	unsigned int nrings = opts->type == IH_DMA_FQ_SINGLE ? 1 : ih_world_ncpus(w);
	struct ih_dma_fq *fq;
	unsigned int i;

	fq = ih_alloc(w, sizeof(*fq) + nrings * sizeof(fq->rings[0]), "dma:fq");
	if (!fq)
		return -ENOMEM;
	fq->opts = *opts;
	fq->nrings = nrings;
	for (i = 0; i < nrings; i++) {
		struct fq_ring *r = &fq->rings[i];

		r->entries = ih_alloc_array(w, opts->size, sizeof(*r->entries), "dma:fq");
		if (!r->entries)
			goto err_free_rings;
		r->mask = opts->size - 1;
		pthread_mutex_init(&r->lock, NULL);
	}
	*out = fq;
	return 0;

err_free_rings:
	while (i--) {
		pthread_mutex_destroy(&fq->rings[i].lock);
		ih_free(w, fq->rings[i].entries);
	}
	ih_free(w, fq);
	return -ENOMEM;
}

void dma_iova_release(struct ih_dma_cookie *cookie, u64 pfn, u64 pages, bool fixed,
		      const char *call)
{
	/* No check domain (the IOTLB checker was off at creation): not even a call. */
	if (cookie->check)
		ih_check_iova_release(cookie->w, cookie->check, pfn << cookie->shift,
				      pages << cookie->shift, call);
	if (!fixed) {
		if (!__atomic_load_n(&cookie->cached_frees, __ATOMIC_RELAXED))
			__atomic_store_n(&cookie->cached_frees, 1, __ATOMIC_RELAXED);
		ih_iova_free_fast(cookie->iovad, pfn, pages);
	} else if (ih_iova_free(cookie->iovad, pfn))
		IH_WARN_ON(cookie->w, true, "dma-fq: %s: fixed range at pfn 0x%llx not allocated",
			   cookie->name, (unsigned long long)pfn);
}

#define FQ_FREE_BATCH 64

/* Give @n allocator-placed ranges of @pages each back to the calling CPU's cache at once. */
static void fq_free_batch(struct ih_dma_cookie *cookie, const u64 *pfns, u64 pages,
			  unsigned int n)
{
	if (!__atomic_load_n(&cookie->cached_frees, __ATOMIC_RELAXED))
		__atomic_store_n(&cookie->cached_frees, 1, __ATOMIC_RELAXED);
	ih_iova_free_fast_batch(cookie->iovad, pfns, pages, n);
}

static bool ring_full(const struct fq_ring *r)
{
	return ((r->tail + 1) & r->mask) == r->head;
}

/*
 * Reclaim every entry whose stamp a finished flush has passed, or that a flush this
 * thread started after the entry was queued (@own: that flush's started count, 0 for
 * none) has completed. Called with the ring lock.
 */
static void ring_free_locked(struct ih_dma_cookie *cookie, struct fq_ring *r, u64 own)
{
	/* Acquire: pairs with the release increment after flush_iotlb_all returned. */
	u64 finished = __atomic_load_n(&cookie->flush_finish_cnt, __ATOMIC_ACQUIRE);
	u64 batch[FQ_FREE_BATCH], bpages = 0;
	unsigned int nb = 0;
	unsigned long n = 0;

	if (own > finished)
		finished = own;
	while (r->head != r->tail) {
		struct fq_entry *e = &r->entries[r->head];

		if (e->counter >= finished)
			break;
		if (e->fixed) {
			/* A caller-placed range goes back to the tree, not the caches. */
			dma_iova_release(cookie, e->iova_pfn, e->pages, true, "fq_reclaim");
		} else {
			/* The checker hears of each range before its batch goes back. */
			if (cookie->check)
				ih_check_iova_release(cookie->w, cookie->check,
						      e->iova_pfn << cookie->shift,
						      e->pages << cookie->shift, "fq_reclaim");
			/* Runs of one size go back under one cache lock, not one per entry. */
			if (nb == FQ_FREE_BATCH || (nb && e->pages != bpages)) {
				fq_free_batch(cookie, batch, bpages, nb);
				nb = 0;
			}
			bpages = e->pages;
			batch[nb++] = e->iova_pfn;
		}
		n++;
		r->head = (r->head + 1) & r->mask;
	}
	if (nb)
		fq_free_batch(cookie, batch, bpages, nb);
	/* One shared-counter update per call, not per entry: every CPU's queue writes it. */
	if (n)
		__atomic_fetch_add(&cookie->reclaimed, n, __ATOMIC_RELAXED);
}

/*
 * Invalidate the domain's whole IOTLB: every entry queued before the start is covered.
 * Return: this flush's started count (entries stamped below it are covered once it returns).
 */
static u64 fq_flush_iotlb(struct ih_dma_cookie *cookie)
{
	u64 started = __atomic_add_fetch(&cookie->flush_start_cnt, 1, __ATOMIC_SEQ_CST);

	cookie->domain->ops->flush_iotlb_all(cookie->domain);
	/* Release: a reclaimer that sees this count also sees the completed invalidation. */
	__atomic_fetch_add(&cookie->flush_finish_cnt, 1, __ATOMIC_RELEASE);
	return started;
}

void dma_fq_queue(struct ih_dma_cookie *cookie, struct ih_dma_fq *fq, u64 pfn, u64 pages,
		  bool fixed)
{
	struct fq_ring *r = &fq->rings[fq->nrings == 1 ? 0 : ih_cpu_id(cookie->w) % fq->nrings];
	unsigned int idx;

	pthread_mutex_lock(&r->lock);
	/* Make room with what earlier flushes already cover, then force a flush if full. */
	ring_free_locked(cookie, r, 0);
	if (ring_full(r)) {
		u64 own;

		__atomic_fetch_add(&cookie->full_flushes, 1, __ATOMIC_RELAXED);
		own = fq_flush_iotlb(cookie);
		/*
		 * The finished count alone may still be below our stamps when another CPU's
		 * flush started before ours and has not finished (finished counts flushes,
		 * not which ones): then the ring would stay full. Every entry here was queued
		 * before our flush started, so our completed flush covers them all.
		 */
		ring_free_locked(cookie, r, own);
	}
	IH_BUG_ON(ring_full(r), "dma-fq: ring still full after a flush");
	idx = r->tail;
	r->tail = (r->tail + 1) & r->mask;
	r->entries[idx].iova_pfn = pfn;
	r->entries[idx].pages = pages;
	r->entries[idx].fixed = fixed;
	/* Stamped after the leaf entries were cleared: only a flush started later covers it. */
	r->entries[idx].counter = __atomic_load_n(&cookie->flush_start_cnt, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&r->lock);

	/* Arm the timer once; the timeout clears the flag before it flushes. */
	if (!__atomic_load_n(&cookie->timer_on, __ATOMIC_RELAXED) &&
	    !__atomic_exchange_n(&cookie->timer_on, 1, __ATOMIC_ACQ_REL))
		ih_timer_arm(cookie->w, &cookie->fq_timer, fq->opts.timeout_ns);
}

static void fq_flush_all_rings(struct ih_dma_cookie *cookie, struct ih_dma_fq *fq)
{
	/*
	 * Entries queued after our flush started are stamped with at least its count: a
	 * ring may keep those, and what only someone else's unfinished flush covers.
	 */
	u64 own = fq_flush_iotlb(cookie);

	for (unsigned int i = 0; i < fq->nrings; i++) {
		pthread_mutex_lock(&fq->rings[i].lock);
		ring_free_locked(cookie, &fq->rings[i], own);
		pthread_mutex_unlock(&fq->rings[i].lock);
	}
}

void dma_fq_timeout(struct ih_timer *t)
{
	struct ih_dma_cookie *cookie = container_of(t, struct ih_dma_cookie, fq_timer);
	struct ih_dma_fq *fq = cookie->fq;

	__atomic_store_n(&cookie->timer_on, 0, __ATOMIC_RELEASE);
	__atomic_fetch_add(&cookie->timer_flushes, 1, __ATOMIC_RELAXED);
	fq_flush_all_rings(cookie, fq);
}

void dma_fq_destroy(struct ih_dma_cookie *cookie, struct ih_dma_fq *fq)
{
	if (!fq)
		return;
	/* Everything queued is covered by this flush and reclaimed now. */
	fq_flush_all_rings(cookie, fq);
	for (unsigned int i = 0; i < fq->nrings; i++) {
		IH_BUG_ON(fq->rings[i].head != fq->rings[i].tail,
			  "dma-fq: entries left after a flush");
		pthread_mutex_destroy(&fq->rings[i].lock);
		ih_free(cookie->w, fq->rings[i].entries);
	}
	ih_free(cookie->w, fq);
}

void ih_dma_fq_flush(struct ih_iommu_domain *domain)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);
	struct ih_iommu_domain *fqd;

	if (!cookie)
		return;
	fqd = __atomic_load_n(&cookie->fq_domain, __ATOMIC_ACQUIRE);
	if (fqd)
		fq_flush_all_rings(cookie, cookie->fq);
}

/*
 * fq-flip-unordered: the flip as v2/v3 of the 2021 series had it (Will's review). The type
 * was already set by the caller; the mode is published with a relaxed store and io-pgtable
 * told NON_STRICT through the driver's set_pgtable_quirks before the queue exists, and a
 * failed build turns the type back to DMA while the quirk stays. Cookie mutex held.
 */
static int dma_init_fq_unordered(struct ih_dma_cookie *cookie, struct ih_iommu_domain *domain)
{
	struct ih_dma_fq *fq;
	int ret;

	WRITE_ONCE(cookie->fq_domain, domain);
	if (domain->ops->set_pgtable_quirks)
		domain->ops->set_pgtable_quirks(domain, IH_IO_PGTABLE_QUIRK_NON_STRICT);
	ih_sched_point(cookie->w, "dma:flip:published");
	ret = dma_fq_build(cookie, &cookie->fq_opts, &fq);
	if (ret) {
		WRITE_ONCE(cookie->fq_domain, NULL);
		WRITE_ONCE(domain->type, IH_DOMAIN_DMA);
		return ret;
	}
	WRITE_ONCE(cookie->fq, fq);
	return 0;
}

int ih_dma_init_fq(struct ih_iommu_domain *domain)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);
	struct ih_dma_fq *fq;
	int ret = 0;

	if (!cookie)
		return -EINVAL;
	if (!domain->ops->flush_iotlb_all)
		return -EOPNOTSUPP;
	ih_mutex_lock(&cookie->mutex);
	if (cookie->fq_domain)
		goto out_unlock;
	if (ih_regress_on(cookie->w, IH_REGRESS_FQ_FLIP_UNORDERED)) {
		ret = dma_init_fq_unordered(cookie, domain);
		goto out_unlock;
	}
	/* Build everything first: a failure here leaves the domain strict and untouched. */
	ret = dma_fq_build(cookie, &cookie->fq_opts, &fq);
	if (ret)
		goto out_unlock;
	ih_sched_point(cookie->w, "dma:flip:queue-built");
	WRITE_ONCE(cookie->fq, fq);
	/* Release: an unmap that acquires fq_domain sees the whole queue built. */
	__atomic_store_n(&cookie->fq_domain, domain, __ATOMIC_RELEASE);
	/* Lazy from here on while the type may still say DMA: a benign window (the caller
	 * sets the type next), and the point where the unordered flip is at its worst. */
	ih_sched_point(cookie->w, "dma:flip:published");
out_unlock:
	ih_mutex_unlock(&cookie->mutex);
	return ret;
}

int ih_dma_set_fq_options(struct ih_iommu_domain *domain, const struct ih_dma_fq_options *opts)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);
	struct ih_dma_fq_options o;
	struct ih_dma_fq *fq;
	int ret;

	if (!cookie || !opts || !options_valid(opts))
		return -EINVAL;
	o = *opts;
	fix_options(&o);
	ih_mutex_lock(&cookie->mutex);
	if (!cookie->fq_domain) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = dma_fq_build(cookie, &o, &fq);
	if (ret)
		goto out_unlock;
	ih_timer_cancel(cookie->w, &cookie->fq_timer);
	__atomic_store_n(&cookie->timer_on, 0, __ATOMIC_RELAXED);
	dma_fq_destroy(cookie, cookie->fq);
	WRITE_ONCE(cookie->fq, fq);
	cookie->fq_opts = o;
out_unlock:
	ih_mutex_unlock(&cookie->mutex);
	return ret;
}

int ih_dma_fq_get_stats(struct ih_iommu_domain *domain, struct ih_dma_fq_stats *st)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);
	struct ih_dma_fq *fq;

	memset(st, 0, sizeof(*st));
	if (!cookie || !__atomic_load_n(&cookie->fq_domain, __ATOMIC_ACQUIRE))
		return -EINVAL;
	fq = cookie->fq;
	st->flush_started = __atomic_load_n(&cookie->flush_start_cnt, __ATOMIC_RELAXED);
	st->flush_finished = __atomic_load_n(&cookie->flush_finish_cnt, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < fq->nrings; i++) {
		pthread_mutex_lock(&fq->rings[i].lock);
		st->queued += (fq->rings[i].tail - fq->rings[i].head) & fq->rings[i].mask;
		pthread_mutex_unlock(&fq->rings[i].lock);
	}
	st->full_flushes = __atomic_load_n(&cookie->full_flushes, __ATOMIC_RELAXED);
	st->timer_flushes = __atomic_load_n(&cookie->timer_flushes, __ATOMIC_RELAXED);
	st->reclaimed = __atomic_load_n(&cookie->reclaimed, __ATOMIC_RELAXED);
	return 0;
}
