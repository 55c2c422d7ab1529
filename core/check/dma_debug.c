// SPDX-License-Identifier: MIT
/* dma-debug: every live DMA-API mapping per device, and the misuse it reveals. */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/iommu_group.h>
#include "check_priv.h"
#include "platform/world_priv.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "dma-debug: "

/*
 * Records live in a hash of (device, DMA address) with one lock per bucket, so map and
 * unmap on different addresses rarely meet. Duplicate keys are allowed (identity and
 * direct mappings of one PA twice); unmap picks the record that matches best. A small
 * ring of recently released (device, address, size) tells "already unmapped" from
 * "never mapped".
 */
struct ih_dma_debug_entry {
	const struct ih_device *dev;
	char dev_name[IH_REPORT_DEV_MAX];
	const struct ih_iommu_domain *domain;
	u64 dma;
	u64 size;
	enum ih_dma_dir dir;
	enum ih_dbg_type type;
	unsigned int nents;
	struct ih_dma_debug_entry *next;
};

static const char *const type_names[] = {
    [IH_DBG_PAGE] = "page",
    [IH_DBG_SG] = "sg list",
    [IH_DBG_COHERENT] = "coherent buffer",
    [IH_DBG_FIXED] = "fixed page",
};

static const char *const dir_names[] = {
    [IH_DMA_BIDIRECTIONAL] = "bidirectional",
    [IH_DMA_TO_DEVICE] = "to-device",
    [IH_DMA_FROM_DEVICE] = "from-device",
};

static unsigned int bucket_of(const struct ih_device *dev, u64 dma)
{
	u64 h = ((u64)(uintptr_t)dev >> 4) ^ ((dma >> 12) * 0x9e3779b97f4a7c15ULL);

	return (unsigned int)((h ^ (h >> 29)) % IH_DBG_BUCKETS);
}

int ih_dma_debug_check_dev(struct ih_device *dev, const char *call, bool map)
{
	struct ih_world *w = dev->world;
	struct ih_iommu_group *group;
	int ret = 0;

	if (!ih_check_on(w, IH_CHECK_DMA_DEBUG))
		return 0;
	if (!ih_device_driver(dev)) {
		ih_report(w, IH_REPORT_DMA_NO_DRIVER, dev->name, call, 0, 0,
			  "%s: %s on a device with no driver bound", dev->name, call);
		if (map)
			ret = -ENODEV;
	}
	group = ih_iommu_group_get(dev);
	if (group) {
		struct ih_iommu_domain *cur = ih_iommu_get_domain_for_dev(dev);
		struct ih_iommu_domain *def = ih_iommu_get_dma_domain(dev);

		if (!cur || cur != def) {
			ih_report(w, IH_REPORT_DMA_NO_DOMAIN, dev->name, call, 0, 0,
				  "%s: %s while the group is in %s domain, not its default",
				  dev->name, call, cur ? ih_domain_type_name(ih_domain_type(cur)) : "no");
			if (map)
				ret = -ENODEV;
		}
		ih_iommu_group_put(group);
	}
	return ret;
}

int ih_dma_debug_prepare(struct ih_world *w, struct ih_dma_debug_entry **e)
{
	*e = NULL;
	if (!ih_check_on(w, IH_CHECK_DMA_DEBUG))
		return 0;
	if (!ih_check_state(w))
		return -ENOMEM;
	*e = ih_alloc(w, sizeof(**e), "check:dma-entry");
	return *e ? 0 : -ENOMEM;
}

void ih_dma_debug_discard(struct ih_world *w, struct ih_dma_debug_entry *e)
{
	ih_free(w, e);
}

void ih_dma_debug_commit(struct ih_dma_debug_entry *e, struct ih_device *dev,
			 const struct ih_iommu_domain *domain, u64 dma, u64 size,
			 enum ih_dma_dir dir, enum ih_dbg_type type, unsigned int nents)
{
	struct ih_check_state *st;
	unsigned int b;

	if (!e)
		return;
	st = ih_check_state(dev->world); /* exists: prepare created it */
	e->dev = dev;
	snprintf(e->dev_name, sizeof(e->dev_name), "%s", dev->name);
	e->domain = domain;
	e->dma = dma;
	e->size = size;
	e->dir = dir;
	e->type = type;
	e->nents = nents;
	b = bucket_of(dev, dma);
	pthread_mutex_lock(&st->bucket_lock[b]);
	e->next = st->bucket[b];
	st->bucket[b] = e;
	pthread_mutex_unlock(&st->bucket_lock[b]);
}

static bool recently_released(struct ih_check_state *st, const struct ih_device *dev, u64 dma)
{
	bool found = false;

	pthread_mutex_lock(&st->recent_lock);
	for (unsigned int i = 0; i < IH_DBG_RECENT && !found; i++)
		found = st->recent[i].dev == dev && st->recent[i].size && st->recent[i].dma == dma;
	pthread_mutex_unlock(&st->recent_lock);
	return found;
}

static void remember_released(struct ih_check_state *st, const struct ih_device *dev, u64 dma,
			      u64 size)
{
	pthread_mutex_lock(&st->recent_lock);
	st->recent[st->recent_next].dev = dev;
	st->recent[st->recent_next].dma = dma;
	st->recent[st->recent_next].size = size;
	st->recent_next = (st->recent_next + 1) % IH_DBG_RECENT;
	pthread_mutex_unlock(&st->recent_lock);
}

static void forget_recent(struct ih_check_state *st, const struct ih_device *dev, u64 dma)
{
	pthread_mutex_lock(&st->recent_lock);
	for (unsigned int i = 0; i < IH_DBG_RECENT; i++)
		if (st->recent[i].dev == dev && st->recent[i].dma == dma)
			st->recent[i].size = 0;
	pthread_mutex_unlock(&st->recent_lock);
}

int ih_dma_debug_unmap(struct ih_device *dev, u64 dma, u64 size, enum ih_dma_dir dir,
		       enum ih_dbg_type type, unsigned int nents, const char *call)
{
	struct ih_world *w = dev->world;
	struct ih_dma_debug_entry **pp, **best = NULL, *e;
	struct ih_check_state *st;
	int score = -1;
	unsigned int b;

	if (!ih_check_on(w, IH_CHECK_DMA_DEBUG))
		return 0;
	st = ih_check_state(w);
	if (!st)
		return 0; /* never recorded anything */
	b = bucket_of(dev, dma);
	pthread_mutex_lock(&st->bucket_lock[b]);
	/* Best match: same key, then same type, size and direction. */
	for (pp = &st->bucket[b]; *pp; pp = &(*pp)->next) {
		int s;

		e = *pp;
		if (e->dev != dev || e->dma != dma)
			continue;
		s = 1 + (e->type == type) * 4 + (e->size == size) * 2 + (e->dir == dir);
		if (s > score) {
			score = s;
			best = pp;
		}
	}
	if (!best) {
		pthread_mutex_unlock(&st->bucket_lock[b]);
		if (recently_released(st, dev, dma))
			ih_report(w, IH_REPORT_DMA_DOUBLE_UNMAP, dev->name, call, dma, size,
				  "%s: %s of [0x%llx, +0x%llx) which is already unmapped",
				  dev->name, call, (unsigned long long)dma,
				  (unsigned long long)size);
		else
			ih_report(w, IH_REPORT_DMA_UNKNOWN_UNMAP, dev->name, call, dma, size,
				  "%s: %s of [0x%llx, +0x%llx) which the device never mapped",
				  dev->name, call, (unsigned long long)dma,
				  (unsigned long long)size);
		return -EINVAL;
	}
	e = *best;
	if (e->type != type) {
		pthread_mutex_unlock(&st->bucket_lock[b]);
		ih_report(w, IH_REPORT_DMA_UNKNOWN_UNMAP, dev->name, call, dma, size,
			  "%s: %s of [0x%llx, +0x%llx), which was mapped as a %s", dev->name, call,
			  (unsigned long long)dma, (unsigned long long)size, type_names[e->type]);
		return -EINVAL;
	}
	if (e->size != size || e->nents != nents) {
		u64 msize = e->size;
		unsigned int mnents = e->nents;

		pthread_mutex_unlock(&st->bucket_lock[b]);
		ih_report(w, IH_REPORT_DMA_SIZE_MISMATCH, dev->name, call, dma, size,
			  "%s: %s of [0x%llx, +0x%llx) (%u entries), mapped with size 0x%llx (%u "
			  "entries)",
			  dev->name, call, (unsigned long long)dma, (unsigned long long)size, nents,
			  (unsigned long long)msize, mnents);
		return -EINVAL;
	}
	if (e->dir != dir) {
		enum ih_dma_dir mdir = e->dir;

		pthread_mutex_unlock(&st->bucket_lock[b]);
		ih_report(w, IH_REPORT_DMA_DIR_MISMATCH, dev->name, call, dma, size,
			  "%s: %s of [0x%llx, +0x%llx) as %s, mapped %s", dev->name, call,
			  (unsigned long long)dma, (unsigned long long)size, dir_names[dir],
			  dir_names[mdir]);
		return -EINVAL;
	}
	*best = e->next;
	pthread_mutex_unlock(&st->bucket_lock[b]);
	remember_released(st, dev, dma, size);
	ih_free(w, e);
	return 0;
}

/* Every record matching @match, taken out of the hash when @remove. */
static void for_each_matching(struct ih_check_state *st,
			      bool (*match)(const struct ih_dma_debug_entry *e, const void *key),
			      const void *key, bool remove,
			      void (*fn)(struct ih_world *w, const struct ih_dma_debug_entry *e))
{
	for (unsigned int b = 0; b < IH_DBG_BUCKETS; b++) {
		struct ih_dma_debug_entry *taken = NULL;

		pthread_mutex_lock(&st->bucket_lock[b]);
		for (struct ih_dma_debug_entry **pp = &st->bucket[b]; *pp;) {
			struct ih_dma_debug_entry *e = *pp;

			if (!match(e, key)) {
				pp = &e->next;
				continue;
			}
			fn(st->w, e);
			if (remove) {
				*pp = e->next;
				e->next = taken;
				taken = e;
			} else {
				pp = &e->next;
			}
		}
		pthread_mutex_unlock(&st->bucket_lock[b]);
		while (taken) {
			struct ih_dma_debug_entry *next = taken->next;

			forget_recent(st, taken->dev, taken->dma);
			ih_free(st->w, taken);
			taken = next;
		}
	}
}

static bool match_domain(const struct ih_dma_debug_entry *e, const void *key)
{
	return e->domain == key;
}

static bool match_dev(const struct ih_dma_debug_entry *e, const void *key)
{
	return e->dev == key;
}

static bool match_all(const struct ih_dma_debug_entry *e, const void *key)
{
	return true;
}

static void report_domain_leak(struct ih_world *w, const struct ih_dma_debug_entry *e)
{
	ih_report(w, IH_REPORT_DMA_LEAK_AT_DOMAIN_FREE, e->dev_name, "domain_free", e->dma, e->size,
		  "%s: %s [0x%llx, +0x%llx) %s still mapped when its DMA domain was freed",
		  e->dev_name, type_names[e->type], (unsigned long long)e->dma,
		  (unsigned long long)e->size, dir_names[e->dir]);
}

static void report_unbind_leak(struct ih_world *w, const struct ih_dma_debug_entry *e)
{
	ih_report(w, IH_REPORT_DMA_LEAK_AT_UNBIND, e->dev_name, "driver_unbind", e->dma, e->size,
		  "%s: %s [0x%llx, +0x%llx) %s still mapped after the driver unbound", e->dev_name,
		  type_names[e->type], (unsigned long long)e->dma, (unsigned long long)e->size,
		  dir_names[e->dir]);
}

static void nothing(struct ih_world *w, const struct ih_dma_debug_entry *e)
{
}

void ih_dma_debug_domain_gone(struct ih_world *w, const struct ih_iommu_domain *domain)
{
	struct ih_check_state *st = __atomic_load_n(&w->check, __ATOMIC_ACQUIRE);

	if (st)
		for_each_matching(st, match_domain, domain, true, report_domain_leak);
}

void ih_dma_debug_unbound(struct ih_world *w, struct ih_device *dev)
{
	struct ih_check_state *st = __atomic_load_n(&w->check, __ATOMIC_ACQUIRE);

	/* The records stay: the mappings are still there, as the kernel's dma-debug keeps them. */
	if (st && ih_check_on(w, IH_CHECK_DMA_DEBUG))
		for_each_matching(st, match_dev, dev, false, report_unbind_leak);
}

void ih_dma_debug_fini(struct ih_check_state *st)
{
	for_each_matching(st, match_all, NULL, true, nothing);
}

size_t ih_dma_debug_live(struct ih_world *w, const struct ih_device *dev)
{
	struct ih_check_state *st = __atomic_load_n(&w->check, __ATOMIC_ACQUIRE);
	size_t n = 0;

	if (!st)
		return 0;
	for (unsigned int b = 0; b < IH_DBG_BUCKETS; b++) {
		pthread_mutex_lock(&st->bucket_lock[b]);
		for (struct ih_dma_debug_entry *e = st->bucket[b]; e; e = e->next)
			n += !dev || e->dev == dev;
		pthread_mutex_unlock(&st->bucket_lock[b]);
	}
	return n;
}
