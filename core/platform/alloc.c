// SPDX-License-Identifier: MIT
/* The model allocator: zeroed blocks, a live list for leak reports, fault injection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include "world_priv.h"

/*
 * Each block carries a header in front of the caller's bytes. The header links the block
 * into the world's live list, so a leak names its site, and records the size for realloc.
 * Lock order: alloc.lock is a leaf; nothing is called with it held.
 */
struct ih_alloc_hdr {
	struct ih_alloc_hdr *prev, *next;
	const char *site;
	size_t size;
	u64 magic;
	max_align_t payload[];
};

#define IH_ALLOC_MAGIC 0x1a110cb10cULL
#define IH_ALLOC_FREED 0xdeadb10cULL

int ih_alloc_init(struct ih_world *w)
{
	if (pthread_mutex_init(&w->alloc.lock, NULL))
		return -ENOMEM;
	return 0;
}

size_t ih_alloc_fini(struct ih_world *w)
{
	struct ih_alloc_state *a = &w->alloc;
	size_t leaked = a->live_count;

	if (leaked) {
		fprintf(stderr, "ih: alloc: %zu block(s), %zu byte(s) leaked at world teardown:\n",
			a->live_count, a->live_bytes);
		ih_alloc_dump_live(w);
	}
	/* Free them anyway so the host leak checker reports only the model's own report. */
	while (a->live) {
		struct ih_alloc_hdr *h = a->live;

		a->live = h->next;
		free(h);
	}
	pthread_mutex_destroy(&a->lock);
	return leaked;
}

static struct ih_alloc_site_stat *site_stat_locked(struct ih_alloc_state *a, const char *site)
{
	/* Sites are string literals: compare by pointer first, by text to merge copies. */
	for (size_t i = 0; i < ih_min(a->nsites, (size_t)IH_ALLOC_MAX_SITES); i++)
		if (a->sites[i].site == site || !strcmp(a->sites[i].site, site))
			return &a->sites[i];
	if (a->nsites < IH_ALLOC_MAX_SITES) {
		a->sites[a->nsites].site = site;
		return &a->sites[a->nsites++];
	}
	a->nsites++;
	return NULL;
}

/* Decide whether this call fails. Called with a->lock held. */
static bool should_fail_locked(struct ih_alloc_state *a, const char *site)
{
	struct ih_alloc_site_stat *st = site_stat_locked(a, site);
	bool fail = false;

	if (st)
		st->calls++;
	a->calls++;
	if (a->fail_nth && a->calls == a->fail_nth) {
		a->fail_nth = 0;
		fail = true;
	}
	for (unsigned int i = 0; i < a->nsite_rules; i++) {
		if (strcmp(a->site_rules[i].site, site))
			continue;
		if (--a->site_rules[i].nth == 0) {
			a->site_rules[i] = a->site_rules[--a->nsite_rules];
			fail = true;
			break;
		}
	}
	if (a->fail_ppm && ih_splitmix64(&a->fail_rng) % 1000000 < a->fail_ppm)
		fail = true;
	if (fail) {
		a->injected++;
		if (st)
			st->failed++;
	}
	return fail;
}

/* ih_alloc_check_fault() - used by other allocators (simulated memory) for one decision. */
bool ih_alloc_check_fault(struct ih_world *w, const char *site)
{
	bool fail;

	pthread_mutex_lock(&w->alloc.lock);
	fail = should_fail_locked(&w->alloc, site);
	pthread_mutex_unlock(&w->alloc.lock);
	return fail;
}

static void link_locked(struct ih_alloc_state *a, struct ih_alloc_hdr *h)
{
	h->prev = NULL;
	h->next = a->live;
	if (a->live)
		a->live->prev = h;
	a->live = h;
	a->live_count++;
	a->live_bytes += h->size;
}

static void unlink_locked(struct ih_alloc_state *a, struct ih_alloc_hdr *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		a->live = h->next;
	if (h->next)
		h->next->prev = h->prev;
	a->live_count--;
	a->live_bytes -= h->size;
}

void *ih_alloc(struct ih_world *w, size_t size, const char *site)
{
	struct ih_alloc_state *a = &w->alloc;
	struct ih_alloc_hdr *h;

	IH_BUG_ON(!site || !site[0], "allocation without a site name");
	if (size == 0)
		size = 1;
	if (size > SIZE_MAX - sizeof(*h))
		return NULL;
	pthread_mutex_lock(&a->lock);
	if (should_fail_locked(a, site)) {
		pthread_mutex_unlock(&a->lock);
		return NULL;
	}
	pthread_mutex_unlock(&a->lock);

	h = calloc(1, sizeof(*h) + size);
	if (!h)
		return NULL;
	h->site = site;
	h->size = size;
	h->magic = IH_ALLOC_MAGIC;
	pthread_mutex_lock(&a->lock);
	link_locked(a, h);
	pthread_mutex_unlock(&a->lock);
	return h->payload;
}

void *ih_alloc_array(struct ih_world *w, size_t n, size_t size, const char *site)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return ih_alloc(w, bytes, site);
}

static struct ih_alloc_hdr *hdr_of(void *p)
{
	struct ih_alloc_hdr *h = container_of(p, struct ih_alloc_hdr, payload);

	IH_BUG_ON(h->magic != IH_ALLOC_MAGIC, "ih_free/ih_realloc of %p: not a live model block%s",
		  p, h->magic == IH_ALLOC_FREED ? " (freed twice)" : "");
	return h;
}

void *ih_realloc(struct ih_world *w, void *p, size_t size, const char *site)
{
	struct ih_alloc_hdr *h;
	void *n;

	if (!p)
		return ih_alloc(w, size, site);
	h = hdr_of(p);
	n = ih_alloc(w, size, site);
	if (!n)
		return NULL;
	memcpy(n, p, ih_min(h->size, size ? size : 1));
	ih_free(w, p);
	return n;
}

void ih_free(struct ih_world *w, void *p)
{
	struct ih_alloc_hdr *h;

	if (!p)
		return;
	h = hdr_of(p);
	pthread_mutex_lock(&w->alloc.lock);
	unlink_locked(&w->alloc, h);
	pthread_mutex_unlock(&w->alloc.lock);
	h->magic = IH_ALLOC_FREED;
	/* Poison, as slab debugging does: a use after free reads garbage pointers and faults
	 * even in builds without ASan. */
	memset(h->payload, 0x6b, h->size);
	free(h);
}

size_t ih_alloc_live_count(struct ih_world *w)
{
	size_t n;

	pthread_mutex_lock(&w->alloc.lock);
	n = w->alloc.live_count;
	pthread_mutex_unlock(&w->alloc.lock);
	return n;
}

size_t ih_alloc_live_bytes(struct ih_world *w)
{
	size_t n;

	pthread_mutex_lock(&w->alloc.lock);
	n = w->alloc.live_bytes;
	pthread_mutex_unlock(&w->alloc.lock);
	return n;
}

size_t ih_alloc_dump_live(struct ih_world *w)
{
	size_t n = 0;

	pthread_mutex_lock(&w->alloc.lock);
	for (struct ih_alloc_hdr *h = w->alloc.live; h; h = h->next, n++)
		fprintf(stderr, "ih: alloc:   live block of %zu byte(s) from %s\n", h->size,
			h->site);
	pthread_mutex_unlock(&w->alloc.lock);
	return n;
}

void ih_fault_fail_nth(struct ih_world *w, unsigned long nth)
{
	pthread_mutex_lock(&w->alloc.lock);
	w->alloc.fail_nth = nth;
	w->alloc.calls = 0;
	pthread_mutex_unlock(&w->alloc.lock);
}

int ih_fault_fail_site(struct ih_world *w, const char *site, unsigned long nth)
{
	struct ih_alloc_state *a = &w->alloc;
	int ret = 0;

	if (!site || !site[0] || nth == 0)
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	if (a->nsite_rules == IH_FAULT_MAX_SITE_RULES) {
		ret = -ENOSPC;
	} else {
		a->site_rules[a->nsite_rules].site = site;
		a->site_rules[a->nsite_rules].nth = nth;
		a->nsite_rules++;
	}
	pthread_mutex_unlock(&a->lock);
	return ret;
}

void ih_fault_fail_random(struct ih_world *w, u32 ppm, u64 seed)
{
	pthread_mutex_lock(&w->alloc.lock);
	w->alloc.fail_ppm = ih_min(ppm, 1000000u);
	w->alloc.fail_rng = seed;
	pthread_mutex_unlock(&w->alloc.lock);
}

void ih_fault_clear(struct ih_world *w)
{
	pthread_mutex_lock(&w->alloc.lock);
	w->alloc.fail_nth = 0;
	w->alloc.nsite_rules = 0;
	w->alloc.fail_ppm = 0;
	pthread_mutex_unlock(&w->alloc.lock);
}

unsigned long ih_fault_injected(struct ih_world *w)
{
	unsigned long n;

	pthread_mutex_lock(&w->alloc.lock);
	n = w->alloc.injected;
	pthread_mutex_unlock(&w->alloc.lock);
	return n;
}

size_t ih_alloc_sites(struct ih_world *w, struct ih_alloc_site_stat *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&w->alloc.lock);
	n = w->alloc.nsites;
	for (size_t i = 0; i < ih_min(ih_min(n, max), (size_t)IH_ALLOC_MAX_SITES); i++)
		out[i] = w->alloc.sites[i];
	pthread_mutex_unlock(&w->alloc.lock);
	return n;
}
