// SPDX-License-Identifier: MIT
/* IOTLB staleness: no TLB may translate an IOVA once it is free, and no device may use one. */
#include <stdio.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/iommu_group.h>
#include "check_priv.h"
#include "dma/avl.h"
#include "platform/world_priv.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "iotlb-check: "

/*
 * The checker keeps its own record of which IOVA ranges of each DMA domain are handed out
 * (allocated by the DMA layer and not yet given back), independent of the allocator and
 * its caches. Two questions are asked of it:
 *
 *  - at release (strict: after the sync; lazy: when the flush queue reclaims), each IOMMU
 *    instance behind the domain is asked through its hw_ops->tlb_covers() whether any TLB
 *    entry still translates part of the range. tlb_covers() does not tell contexts apart,
 *    so a hit is only reported when no other tracked DMA domain on the same instance has
 *    that range handed out (another domain's live entry is not stale);
 *  - at a device access (ih_dma_access() calls ih_check_dma_translate() per translated
 *    page), the PA the hardware produced is compared with the attached domain's page
 *    table: another PA is stale; no mapping is stale unless the IOVA is still handed out
 *    (an unmap in flight, or the lazy window before the queue flushes). The question is
 *    asked of the access's whole duration: one that began inside a handed-out range that
 *    was released before it ended ran concurrently with that unmap, and the hardware
 *    completes the unmap's invalidation only after such accesses, so it is not stale.
 *    Each range carries a sequence number to tell its lifetime from a later one's.
 */
struct range_node {
	struct ih_avl_node avl;
	u64 lo, hi; /* inclusive bytes */
	u64 seq;    /* this lifetime of the range, from 1 */
};

struct ih_check_domain {
	const struct ih_iommu_domain *domain;
	struct ih_iommu_device *iommu;
	pthread_mutex_t lock; /* protects ranges and next_seq */
	struct ih_avl_tree ranges;
	u64 next_seq;
	struct ih_check_domain *next; /* state's domains list */
};

#define RNODE(n) container_of((n), struct range_node, avl)

static int range_cmp(const struct ih_avl_node *a, const struct ih_avl_node *b)
{
	u64 x = RNODE(a)->lo, y = RNODE(b)->lo;

	return x < y ? -1 : x > y;
}

/* The handed-out range overlapping [lo, hi], or NULL (ranges never overlap each other). */
static struct range_node *overlap_locked(struct ih_check_domain *cd, u64 lo, u64 hi)
{
	struct ih_avl_node *an = cd->ranges.root;
	struct range_node *cand = NULL;

	/* The last range starting at or below @hi is the only one that can reach @lo. */
	while (an) {
		if (RNODE(an)->lo <= hi) {
			cand = RNODE(an);
			an = an->right;
		} else {
			an = an->left;
		}
	}
	return cand && cand->hi >= lo ? cand : NULL;
}

int ih_check_domain_create(struct ih_world *w, const struct ih_iommu_domain *domain,
			   struct ih_iommu_device *iommu, struct ih_check_domain **out)
{
	struct ih_check_state *st;
	struct ih_check_domain *cd;

	*out = NULL;
	if (!ih_check_on(w, IH_CHECK_IOTLB))
		return 0;
	st = ih_check_state(w);
	if (!st)
		return -ENOMEM;
	cd = ih_alloc(w, sizeof(*cd), "check:domain");
	if (!cd)
		return -ENOMEM;
	cd->domain = domain;
	cd->iommu = iommu;
	pthread_mutex_init(&cd->lock, NULL);
	ih_avl_init(&cd->ranges, range_cmp, NULL);
	pthread_mutex_lock(&st->domains_lock);
	cd->next = st->domains;
	st->domains = cd;
	pthread_mutex_unlock(&st->domains_lock);
	*out = cd;
	return 0;
}

static void free_range(struct ih_avl_node *n, void *arg)
{
	ih_free(arg, RNODE(n));
}

void ih_check_domain_destroy(struct ih_world *w, struct ih_check_domain *cd)
{
	struct ih_check_state *st = __atomic_load_n(&w->check, __ATOMIC_ACQUIRE);

	if (!cd)
		return;
	pthread_mutex_lock(&st->domains_lock);
	for (struct ih_check_domain **pp = &st->domains; *pp; pp = &(*pp)->next) {
		if (*pp == cd) {
			*pp = cd->next;
			break;
		}
	}
	pthread_mutex_unlock(&st->domains_lock);
	/* Ranges still handed out are leaks the IOVA allocator reports itself. */
	ih_avl_drain(&cd->ranges, free_range, w);
	pthread_mutex_destroy(&cd->lock);
	ih_free(w, cd);
}

int ih_check_iova_alloc(struct ih_world *w, struct ih_check_domain *cd, u64 iova, u64 size)
{
	struct range_node *r;

	if (!cd || !size)
		return 0;
	r = ih_alloc(w, sizeof(*r), "check:iova");
	if (!r)
		return -ENOMEM;
	r->lo = iova;
	r->hi = iova + size - 1;
	pthread_mutex_lock(&cd->lock);
	r->seq = ++cd->next_seq;
	IH_BUG_ON(overlap_locked(cd, r->lo, r->hi),
		  "iotlb-check: IOVA [0x%llx, +0x%llx) handed out twice", (unsigned long long)iova,
		  (unsigned long long)size);
	ih_avl_insert(&cd->ranges, &r->avl);
	pthread_mutex_unlock(&cd->lock);
	return 0;
}

/*
 * Does a TLB of @cd's instance translate part of [lo, hi] that no other tracked DMA domain
 * on it has handed out? tlb_covers() cannot tell contexts apart, and another domain's entry
 * is only legitimate while its range is handed out. The other domains' range locks are held
 * across the TLB look-up, so the answer is one instant's: an entry can only be (re)filled
 * through a live mapping, whose range is added before the map and removed only after the
 * invalidation, and neither can happen while we hold the locks. Lock order: domains_lock ->
 * every other domain's lock, in list order -> the hardware's own lock.
 */
static bool stale_in_tlb(struct ih_check_state *st, struct ih_check_domain *cd, u64 lo, u64 hi)
{
	const struct ih_iommu_hw_ops *hw = cd->iommu->hw_ops;
	bool stale;

	pthread_mutex_lock(&st->domains_lock);
	for (struct ih_check_domain *o = st->domains; o; o = o->next)
		if (o != cd && o->iommu == cd->iommu)
			pthread_mutex_lock(&o->lock);
	stale = hw->tlb_covers(cd->iommu->hw, lo, hi - lo + 1);
	for (struct ih_check_domain *o = st->domains; o; o = o->next) {
		if (o == cd || o->iommu != cd->iommu)
			continue;
		if (stale && overlap_locked(o, lo, hi))
			stale = false;
		pthread_mutex_unlock(&o->lock);
	}
	pthread_mutex_unlock(&st->domains_lock);
	return stale;
}

void ih_check_iova_release(struct ih_world *w, struct ih_check_domain *cd, u64 iova, u64 size,
			   const char *call)
{
	struct ih_check_state *st = __atomic_load_n(&w->check, __ATOMIC_ACQUIRE);
	const struct ih_iommu_hw_ops *hw;
	struct range_node *r;

	if (!cd || !size)
		return;
	pthread_mutex_lock(&cd->lock);
	r = overlap_locked(cd, iova, iova + size - 1);
	if (r)
		ih_avl_erase(&cd->ranges, &r->avl);
	pthread_mutex_unlock(&cd->lock);
	ih_free(w, r);
	if (!ih_check_on(w, IH_CHECK_IOTLB) || !cd->iommu)
		return;
	hw = cd->iommu->hw_ops;
	if (!hw || !hw->tlb_covers || !stale_in_tlb(st, cd, iova, iova + size - 1))
		return;
	ih_report(w, IH_REPORT_IOTLB_STALE_AT_FREE, cd->iommu->name, call, iova, size,
		  "%s: IOVA [0x%llx, 0x%llx) of a %s domain goes back to the allocator while the "
		  "TLB still translates it",
		  cd->iommu->name ? cd->iommu->name : "iommu", (unsigned long long)iova,
		  (unsigned long long)(iova + size),
		  ih_domain_type_name(ih_domain_type(cd->domain)));
}

static struct ih_check_domain *find_cd_locked(struct ih_check_state *st,
					      const struct ih_iommu_domain *domain)
{
	for (struct ih_check_domain *cd = st->domains; cd; cd = cd->next)
		if (cd->domain == domain)
			return cd;
	return NULL;
}

/* The sequence number of @domain's handed-out range covering @iova now, 0 when it is free. */
static u64 live_seq(struct ih_world *w, const struct ih_iommu_domain *domain, u64 iova)
{
	struct ih_check_state *st = __atomic_load_n(&w->check, __ATOMIC_ACQUIRE);
	struct ih_check_domain *cd;
	struct range_node *r;
	u64 seq = 0;

	if (!st)
		return 0;
	pthread_mutex_lock(&st->domains_lock);
	cd = find_cd_locked(st, domain);
	if (cd) {
		pthread_mutex_lock(&cd->lock);
		r = overlap_locked(cd, iova, iova);
		seq = r ? r->seq : 0;
		pthread_mutex_unlock(&cd->lock);
	}
	pthread_mutex_unlock(&st->domains_lock);
	return seq;
}

static bool translates_dma(const struct ih_iommu_domain *domain)
{
	enum ih_domain_type type = ih_domain_type(domain);

	return type == IH_DOMAIN_DMA || type == IH_DOMAIN_DMA_FQ || type == IH_DOMAIN_UNMANAGED;
}

void ih_check_dma_begin(struct ih_device *dev, u64 iova, struct ih_check_dma_token *t)
{
	struct ih_iommu_domain *domain;

	*t = (struct ih_check_dma_token){ 0 };
	if (!ih_check_on(dev->world, IH_CHECK_IOTLB))
		return;
	domain = ih_iommu_get_domain_for_dev(dev);
	if (!domain || !translates_dma(domain))
		return;
	t->domain = domain;
	t->seq = live_seq(dev->world, domain, iova);
}

void ih_check_dma_translate(struct ih_device *dev, u64 iova, ih_pa_t pa,
			    const struct ih_check_dma_token *t)
{
	struct ih_world *w = dev->world;
	struct ih_iommu_domain *domain;
	enum ih_domain_type type;
	ih_pa_t want;
	u64 seq;

	if (!ih_check_on(w, IH_CHECK_IOTLB))
		return;
	domain = ih_iommu_get_domain_for_dev(dev);
	if (!domain || !translates_dma(domain))
		return;
	type = ih_domain_type(domain);
	want = ih_iommu_iova_to_phys(domain, iova);
	if (want == pa)
		return;
	/* Attached elsewhere meanwhile, or its range released during the access: concurrent. */
	seq = live_seq(w, domain, iova);
	if (t->domain != domain || (t->seq && t->seq != seq))
		return;
	if (want != IH_PA_INVALID) {
		ih_report(w, IH_REPORT_IOTLB_STALE_ACCESS, dev->name, "device_dma", iova, 1,
			  "%s: DMA at IOVA 0x%llx reached PA 0x%llx through the IOMMU, but the %s "
			  "domain now maps it to PA 0x%llx",
			  dev->name, (unsigned long long)iova, (unsigned long long)pa,
			  ih_domain_type_name(type), (unsigned long long)want);
		return;
	}
	if (seq)
		return; /* unmapped but not yet reusable: the lazy window */
	ih_report(w, IH_REPORT_IOTLB_STALE_ACCESS, dev->name, "device_dma", iova, 1,
		  "%s: DMA at IOVA 0x%llx reached PA 0x%llx through the IOMMU, but the IOVA is "
		  "free in the %s domain",
		  dev->name, (unsigned long long)iova, (unsigned long long)pa,
		  ih_domain_type_name(type));
}
