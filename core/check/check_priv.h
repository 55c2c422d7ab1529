/* SPDX-License-Identifier: MIT */
/* Hooks the DMA layer and the IOMMU core call into the checkers (core/check private). */
#ifndef IH_CORE_CHECK_PRIV_H
#define IH_CORE_CHECK_PRIV_H

#include <pthread.h>

#include <ih/base.h>
#include <ih/check.h>
#include <ih/iommu.h>
#include "platform/world_priv.h"

/*
 * Lock order: dma-debug bucket lock, recent lock, domains lock and a check domain's lock
 * are leaves, except that a check domain's staleness query calls the hardware's
 * tlb_covers (which takes the hardware's own locks) with no checker lock held.
 */

#define IH_DBG_BUCKETS 256
#define IH_DBG_RECENT  64

struct ih_dma_debug_entry;
struct ih_check_domain;

struct ih_check_state {
	struct ih_world *w;
	struct ih_bus_notifier nb;
	pthread_mutex_t bucket_lock[IH_DBG_BUCKETS]; /* each protects its bucket list */
	struct ih_dma_debug_entry *bucket[IH_DBG_BUCKETS];
	pthread_mutex_t recent_lock; /* protects recent[] and recent_next */
	struct {
		const struct ih_device *dev;
		u64 dma;
		u64 size;
	} recent[IH_DBG_RECENT];
	unsigned int recent_next;
	pthread_mutex_t domains_lock; /* protects the domains list */
	struct ih_check_domain *domains;
};

/*
 * A spin flag of the world that serialises first-use creation of the check and dma
 * states (rare; never held across anything that could take it again).
 */
void ih_world_state_lock(struct ih_world *w);
void ih_world_state_unlock(struct ih_world *w);

/* The world's checker state, created on first use; NULL when memory runs out. */
struct ih_check_state *ih_check_state(struct ih_world *w);

/*
 * Whether checker @flag (IH_CHECK_*) runs in @w now. Inline: the DMA hot paths ask before
 * every hook, and with the checkers off (benchmarks) that question must cost one load,
 * not a call.
 */
static inline bool ih_check_on(struct ih_world *w, unsigned int flag)
{
	return !(__atomic_load_n(&w->report.disabled, __ATOMIC_RELAXED) & flag);
}

/* ---- dma-debug (dma_debug.c) ---- */

enum ih_dbg_type {
	IH_DBG_PAGE,
	IH_DBG_SG,
	IH_DBG_COHERENT,
	IH_DBG_FIXED, /* ih_dma_map_page_at(): a page at the caller's IOVA */
};

/**
 * ih_dma_debug_check_dev() - is @dev fit for a DMA-API call? Reports a device with no
 * driver bound (IH_REPORT_DMA_NO_DRIVER) and a group outside its default domain
 * (IH_REPORT_DMA_NO_DOMAIN).
 * @map: the call creates a mapping (refused) rather than releasing one (allowed: the
 *	mapping is still released so that nothing leaks).
 * Return: 0, or -ENODEV for a refused call.
 */
int ih_dma_debug_check_dev(struct ih_device *dev, const char *call, bool map);

/*
 * ih_dma_debug_prepare() - memory for the record of a mapping about to be made, so that
 * the map can fail cleanly before it changes anything. *@e is NULL when dma-debug is off.
 * Return: 0 or -ENOMEM (site "check:dma-entry").
 */
int ih_dma_debug_prepare(struct ih_world *w, struct ih_dma_debug_entry **e);
void ih_dma_debug_discard(struct ih_world *w, struct ih_dma_debug_entry *e);
/* ih_dma_debug_commit() - record the mapping in @e (NULL: nothing to do). */
void ih_dma_debug_commit(struct ih_dma_debug_entry *e, struct ih_device *dev,
			 const struct ih_iommu_domain *domain, u64 dma, u64 size,
			 enum ih_dma_dir dir, enum ih_dbg_type type, unsigned int nents);

/**
 * ih_dma_debug_unmap() - find and forget the record of the mapping an unmap releases.
 * Reports an unknown or already-unmapped address, another size (or sg count), another
 * direction; the record then stays.
 * Return: 0 (found, or dma-debug off), -EINVAL (reported).
 */
int ih_dma_debug_unmap(struct ih_device *dev, u64 dma, u64 size, enum ih_dma_dir dir,
		       enum ih_dbg_type type, unsigned int nents, const char *call);

/* ih_dma_debug_domain_gone() - report and forget every record made in @domain. */
void ih_dma_debug_domain_gone(struct ih_world *w, const struct ih_iommu_domain *domain);

/* Notifier hook: report every record of @dev (driver unbound). */
void ih_dma_debug_unbound(struct ih_world *w, struct ih_device *dev);

/* Teardown: free every record silently. */
void ih_dma_debug_fini(struct ih_check_state *st);

/* ---- IOTLB staleness (iotlb.c) ---- */

/**
 * ih_check_domain_create() - the checker's view of DMA domain @domain behind @iommu: the
 * IOVA ranges handed out and not yet given back. Site "check:domain".
 * Return: 0 (*@out NULL when the IOTLB checker is off); -ENOMEM.
 */
int ih_check_domain_create(struct ih_world *w, const struct ih_iommu_domain *domain,
			   struct ih_iommu_device *iommu, struct ih_check_domain **out);
void ih_check_domain_destroy(struct ih_world *w, struct ih_check_domain *cd);

/* An IOVA range was handed out for a mapping. Return: 0 or -ENOMEM ("check:iova"). */
int ih_check_iova_alloc(struct ih_world *w, struct ih_check_domain *cd, u64 iova, u64 size);

/*
 * ih_check_iova_release() - [iova, iova + size) goes back to the allocator now: ask each
 * IOMMU TLB whether it still translates any of it (IH_REPORT_IOTLB_STALE_AT_FREE).
 */
void ih_check_iova_release(struct ih_world *w, struct ih_check_domain *cd, u64 iova, u64 size,
			   const char *call);

/**
 * struct ih_check_dma_token - what the IOTLB checker saw when a device access began.
 * @domain: the attached domain then (NULL: none, or the checker is off).
 * @seq: the handed-out IOVA range covering the access then (its sequence number in the
 *	domain), 0 when the IOVA was free.
 */
struct ih_check_dma_token {
	const struct ih_iommu_domain *domain;
	u64 seq;
};

/* ih_check_dma_begin() - note, before the hardware translates @dev's access at @iova. */
void ih_check_dma_begin(struct ih_device *dev, u64 iova, struct ih_check_dma_token *t);

/*
 * ih_check_dma_translate() - the hardware translated @dev's access at @iova to @pa: report
 * it when the page table of the attached domain maps @iova elsewhere, or maps nothing
 * and the IOVA is free (IH_REPORT_IOTLB_STALE_ACCESS). An access that began while the
 * IOVA was handed out in a range released meanwhile is not reported: it ran concurrently
 * with that unmap, whose invalidation the hardware completes only after such accesses.
 */
void ih_check_dma_translate(struct ih_device *dev, u64 iova, ih_pa_t pa,
			    const struct ih_check_dma_token *t);

#endif /* IH_CORE_CHECK_PRIV_H */
