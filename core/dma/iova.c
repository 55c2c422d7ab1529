// SPDX-License-Identifier: MIT
/* IOVA allocator: AVL tree of allocated ranges with gap summaries, per-CPU magazines, depot. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/check.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/iova.h>
#include <ih/sched.h>
#include <ih/world.h>
#include "avl.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "iova: "

/*
 * Lock order: cpu_rcache.lock -> rcache.depot_lock -> iovad.tree_lock. The depot trim
 * timer takes depot_lock, then tree_lock, never a CPU lock.
 */

struct iova_node {
	struct ih_avl_node avl;
	u64 lo, hi; /* inclusive pfns */
	/* Subtree summary (see pull()). */
	u64 sub_lo, sub_hi;
	u64 max_gap;   /* widest free gap strictly inside the subtree, in pfns */
	int max_order; /* largest aligned 2^k block one of those gaps holds; -1: no gap */
};

struct iova_magazine {
	unsigned int size;
	u64 pfns[IH_IOVA_MAG_SIZE];
	struct iova_magazine *next; /* depot link */
};

/*
 * Padded to three cache lines: the CPUs' caches sit side by side in one array, and two
 * CPUs writing one line (lock, magazine pointers, counters) would bounce it between them
 * on every allocation, whatever the array's alignment.
 */
struct iova_cpu_rcache {
	pthread_mutex_t lock; /* protects loaded, prev, hits and misses */
	struct iova_magazine *loaded;
	struct iova_magazine *prev;
	unsigned long hits, misses; /* ih_iova_alloc_fast look-ups served / not served */
	char pad[192 - sizeof(pthread_mutex_t) - 2 * sizeof(void *) - 2 * sizeof(long)];
};

struct iova_rcache {
	pthread_mutex_t depot_lock; /* protects depot and depot_size */
	struct iova_magazine *depot;
	unsigned int depot_size;
	struct iova_cpu_rcache *cpu; /* [ncpus] */
};

struct ih_iova_domain {
	struct ih_world *w;
	const char *name;
	size_t granule;
	unsigned int shift;
	u64 start_pfn;
	unsigned int ncpus;
	pthread_mutex_t tree_lock; /* protects tree */
	struct ih_avl_tree tree;
	struct iova_rcache rcaches[IH_IOVA_RANGE_CACHE_MAX_SIZE];
	struct ih_timer trim_timer;
	bool trim_armed; /* atomic */
	/* Counters, atomic. */
	unsigned long tree_allocs, tree_frees, depot_trims;
};

#define NODE(n) container_of((n), struct iova_node, avl)

static int node_cmp(const struct ih_avl_node *a, const struct ih_avl_node *b)
{
	u64 x = NODE(a)->lo, y = NODE(b)->lo;

	return x < y ? -1 : x > y;
}

static inline unsigned int ilog2_u64(u64 v)
{
	return 63u - (unsigned int)__builtin_clzll(v);
}

/* Largest k such that a 2^k-aligned block of 2^k pfns fits in [lo, hi] (lo <= hi). */
static int gap_order(u64 lo, u64 hi)
{
	u64 len = hi - lo + 1;
	unsigned int k;
	u64 a;

	if (!len) /* the whole 64-bit space */
		return 63;
	k = ilog2_u64(len);
	a = IH_ALIGN_UP(lo, 1ULL << k);
	/* A gap of at least 2^(k+1) holds an aligned 2^k; one of 2^k may only hold 2^(k-1). */
	if (a >= lo && a - lo <= len - (1ULL << k))
		return (int)k;
	return (int)k - 1;
}

static void pull(struct ih_avl_node *an)
{
	struct iova_node *n = NODE(an);
	struct iova_node *l = an->left ? NODE(an->left) : NULL;
	struct iova_node *r = an->right ? NODE(an->right) : NULL;

	n->sub_lo = l ? l->sub_lo : n->lo;
	n->sub_hi = r ? r->sub_hi : n->hi;
	n->max_gap = 0;
	n->max_order = -1;
	if (l) {
		n->max_gap = l->max_gap;
		n->max_order = l->max_order;
		if (n->lo > l->sub_hi + 1) {
			n->max_gap = ih_max(n->max_gap, n->lo - l->sub_hi - 1);
			n->max_order = ih_max(n->max_order, gap_order(l->sub_hi + 1, n->lo - 1));
		}
	}
	if (r) {
		n->max_gap = ih_max(n->max_gap, r->max_gap);
		n->max_order = ih_max(n->max_order, r->max_order);
		if (r->sub_lo > n->hi + 1) {
			n->max_gap = ih_max(n->max_gap, r->sub_lo - n->hi - 1);
			n->max_order = ih_max(n->max_order, gap_order(n->hi + 1, r->sub_lo - 1));
		}
	}
}

/* ---- Tree search ---- */

struct search {
	u64 start, limit; /* inclusive bounds */
	u64 size, align;
	int order; /* pass 1: required gap order; -1 in pass 2 */
	u64 result;
};

/* The highest @align-aligned start of @size pfns inside [lo, hi] clipped to the bounds. */
static bool fit_gap(struct search *s, u64 lo, u64 hi)
{
	u64 a;

	lo = ih_max(lo, s->start);
	hi = ih_min(hi, s->limit);
	if (lo > hi || hi - lo + 1 < s->size)
		return false;
	a = IH_ALIGN_DOWN(hi - s->size + 1, s->align);
	if (a < lo)
		return false;
	s->result = a;
	return true;
}

/* Can the free space strictly between @L and @R (exclusive edges) around @n hold a fit? */
static bool may_fit(const struct search *s, const struct iova_node *n, u64 L, u64 R)
{
	bool left_gap = n->sub_lo > L + 1, right_gap = R > n->sub_hi + 1;

	if (s->order >= 0)
		return n->max_order >= s->order ||
		       (left_gap && gap_order(L + 1, n->sub_lo - 1) >= s->order) ||
		       (right_gap && gap_order(n->sub_hi + 1, R - 1) >= s->order);
	return n->max_gap >= s->size || (left_gap && n->sub_lo - L - 1 >= s->size) ||
	       (right_gap && R - n->sub_hi - 1 >= s->size);
}

/*
 * Highest fit in the free space between the exclusive edges @L and @R, whose allocated
 * ranges are the subtree @an. Each gap is examined where a NULL child stands for it.
 */
static bool find_rec(struct search *s, struct ih_avl_node *an, u64 L, u64 R)
{
	struct iova_node *n;

	if (L >= s->limit || R <= s->start)
		return false;
	if (!an)
		return R - L >= 2 && fit_gap(s, L + 1, R - 1);
	n = NODE(an);
	if (!may_fit(s, n, L, R))
		return false;
	if (find_rec(s, an->right, n->hi, R))
		return true;
	return find_rec(s, an->left, L, n->lo);
}

static u64 roundup_pow2(u64 v)
{
	return v <= 1 ? 1 : 1ULL << (ilog2_u64(v - 1) + 1);
}

static int tree_alloc_locked(struct ih_iova_domain *iovad, struct iova_node *node, u64 size,
			     u64 limit_pfn, bool size_aligned)
{
	struct search s = {
	    .start = iovad->start_pfn,
	    .limit = limit_pfn,
	    .size = size,
	    .align = size_aligned ? roundup_pow2(size) : 1,
	};

	/* Pass 1: a gap holding a whole aligned block of the alignment always fits. */
	s.order = (int)ilog2_u64(s.align);
	if (s.align < size || !find_rec(&s, iovad->tree.root, s.start - 1, ~0ULL)) {
		/* Pass 2 (sizes below their alignment): gap width first, alignment at the leaf. */
		s.order = -1;
		if (s.align == size || !find_rec(&s, iovad->tree.root, s.start - 1, ~0ULL))
			return -ENOMEM;
	}
	node->lo = s.result;
	node->hi = s.result + size - 1;
	IH_BUG_ON(ih_avl_insert(&iovad->tree, &node->avl), "iova: allocated range overlaps");
	iovad->tree_allocs++;
	return 0;
}

int ih_iova_alloc(struct ih_iova_domain *iovad, u64 size, u64 limit_pfn, bool size_aligned,
		  u64 *pfn)
{
	struct iova_node *node;
	int ret;

	if (!iovad || !size || !pfn || size > (1ULL << 52))
		return -EINVAL;
	node = ih_alloc(iovad->w, sizeof(*node), "iova:node");
	if (!node)
		return -ENOMEM;
	pthread_mutex_lock(&iovad->tree_lock);
	ret = tree_alloc_locked(iovad, node, size, limit_pfn, size_aligned);
	pthread_mutex_unlock(&iovad->tree_lock);
	if (ret) {
		ih_free(iovad->w, node);
		return ret;
	}
	*pfn = node->lo;
	return 0;
}

static struct iova_node *find_locked(struct ih_iova_domain *iovad, u64 pfn)
{
	struct ih_avl_node *an = iovad->tree.root;

	while (an) {
		struct iova_node *n = NODE(an);

		if (pfn < n->lo)
			an = an->left;
		else if (pfn > n->hi)
			an = an->right;
		else
			return n;
	}
	return NULL;
}

int ih_iova_find(struct ih_iova_domain *iovad, u64 pfn, u64 *lo, u64 *hi)
{
	struct iova_node *n;

	pthread_mutex_lock(&iovad->tree_lock);
	n = find_locked(iovad, pfn);
	if (n) {
		if (lo)
			*lo = n->lo;
		if (hi)
			*hi = n->hi;
	}
	pthread_mutex_unlock(&iovad->tree_lock);
	return n ? 0 : -ENOENT;
}

int ih_iova_free(struct ih_iova_domain *iovad, u64 pfn)
{
	struct iova_node *n;

	pthread_mutex_lock(&iovad->tree_lock);
	n = find_locked(iovad, pfn);
	if (n) {
		ih_avl_erase(&iovad->tree, &n->avl);
		iovad->tree_frees++;
	}
	pthread_mutex_unlock(&iovad->tree_lock);
	if (!n)
		return -ENOENT;
	ih_free(iovad->w, n);
	return 0;
}

int ih_iova_reserve(struct ih_iova_domain *iovad, u64 pfn_lo, u64 pfn_hi)
{
	struct iova_node *node, *succ;
	struct ih_avl_node *an;
	int ret = 0;

	if (!iovad || pfn_lo > pfn_hi)
		return -EINVAL;
	node = ih_alloc(iovad->w, sizeof(*node), "iova:node");
	if (!node)
		return -ENOMEM;
	node->lo = pfn_lo;
	node->hi = pfn_hi;
	pthread_mutex_lock(&iovad->tree_lock);
	/* Overlap: the last range starting at or below pfn_hi reaches pfn_lo. */
	succ = NULL;
	an = iovad->tree.root;
	while (an) {
		if (NODE(an)->lo <= pfn_hi) {
			succ = NODE(an);
			an = an->right;
		} else {
			an = an->left;
		}
	}
	if (succ && succ->hi >= pfn_lo)
		ret = -EEXIST;
	else
		IH_BUG_ON(ih_avl_insert(&iovad->tree, &node->avl), "iova: reserve overlaps");
	pthread_mutex_unlock(&iovad->tree_lock);
	if (ret)
		ih_free(iovad->w, node);
	return ret;
}

/* ---- Range caches ---- */

static unsigned int order_base_2(u64 size)
{
	return size <= 1 ? 0 : ilog2_u64(size - 1) + 1;
}

static struct iova_magazine *mag_alloc(struct ih_iova_domain *iovad)
{
	return ih_alloc(iovad->w, sizeof(struct iova_magazine), "iova:magazine");
}

/* Give every pfn of @mag back to the tree and empty it. */
static void mag_free_pfns(struct ih_iova_domain *iovad, struct iova_magazine *mag)
{
	struct iova_node *victims[IH_IOVA_MAG_SIZE];
	unsigned int n = 0;

	if (!mag || !mag->size)
		return;
	pthread_mutex_lock(&iovad->tree_lock);
	for (unsigned int i = 0; i < mag->size; i++) {
		struct iova_node *node = find_locked(iovad, mag->pfns[i]);

		IH_BUG_ON(!node, "iova %s: cached pfn 0x%llx is not allocated", iovad->name,
			  (unsigned long long)mag->pfns[i]);
		ih_avl_erase(&iovad->tree, &node->avl);
		iovad->tree_frees++;
		victims[n++] = node;
	}
	pthread_mutex_unlock(&iovad->tree_lock);
	for (unsigned int i = 0; i < n; i++)
		ih_free(iovad->w, victims[i]);
	mag->size = 0;
}

static bool mag_full(const struct iova_magazine *mag)
{
	return mag->size == IH_IOVA_MAG_SIZE;
}

/* Pop a pfn whose range of @size ends at or below @limit_pfn; 0 when there is none. */
static u64 mag_pop(struct iova_magazine *mag, u64 limit_pfn, u64 size)
{
	for (int i = (int)mag->size - 1; i >= 0; i--) {
		u64 pfn = mag->pfns[i];

		if (pfn + size - 1 <= limit_pfn) {
			mag->pfns[i] = mag->pfns[--mag->size];
			return pfn;
		}
	}
	return 0;
}

static void trim_timer_fn(struct ih_timer *t);

static void depot_push_locked(struct ih_iova_domain *iovad, struct iova_rcache *rc,
			      struct iova_magazine *mag)
{
	mag->next = rc->depot;
	rc->depot = mag;
	rc->depot_size++;
	/* Keep about one spare magazine per CPU; trim the rest later (deferred work). */
	if (rc->depot_size > iovad->ncpus &&
	    !__atomic_exchange_n(&iovad->trim_armed, true, __ATOMIC_ACQ_REL))
		ih_timer_arm(iovad->w, &iovad->trim_timer, IH_IOVA_DEPOT_DELAY_NS);
}

static struct iova_magazine *depot_pop_locked(struct iova_rcache *rc)
{
	struct iova_magazine *mag = rc->depot;

	if (mag) {
		rc->depot = mag->next;
		rc->depot_size--;
		mag->next = NULL;
	}
	return mag;
}

/* The timer: give one magazine per over-full order back to the tree, re-arm if needed. */
static void trim_timer_fn(struct ih_timer *t)
{
	struct ih_iova_domain *iovad = container_of(t, struct ih_iova_domain, trim_timer);
	bool again = false;

	__atomic_store_n(&iovad->trim_armed, false, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < IH_IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		struct iova_rcache *rc = &iovad->rcaches[i];
		struct iova_magazine *mag = NULL;

		pthread_mutex_lock(&rc->depot_lock);
		if (rc->depot_size > iovad->ncpus)
			mag = depot_pop_locked(rc);
		again |= rc->depot_size > iovad->ncpus;
		if (mag) {
			mag_free_pfns(iovad, mag);
			__atomic_fetch_add(&iovad->depot_trims, 1, __ATOMIC_RELAXED);
		}
		pthread_mutex_unlock(&rc->depot_lock);
		ih_free(iovad->w, mag);
	}
	if (again && !__atomic_exchange_n(&iovad->trim_armed, true, __ATOMIC_ACQ_REL))
		ih_timer_arm(iovad->w, &iovad->trim_timer, IH_IOVA_DEPOT_DELAY_NS);
}

static struct iova_cpu_rcache *this_cpu(struct ih_iova_domain *iovad, struct iova_rcache *rc)
{
	return &rc->cpu[ih_cpu_id(iovad->w) % iovad->ncpus];
}

/* Put @pfn into @cpu's cache, its lock held. Return: false when it must go to the tree. */
static bool rcache_insert_locked(struct ih_iova_domain *iovad, struct iova_rcache *rc,
				 struct iova_cpu_rcache *cpu, u64 pfn)
{
	bool ok = true;

	if (!mag_full(cpu->loaded)) {
		/* room */
	} else if (!mag_full(cpu->prev)) {
		struct iova_magazine *tmp = cpu->loaded;

		cpu->loaded = cpu->prev;
		cpu->prev = tmp;
	} else {
		struct iova_magazine *fresh = mag_alloc(iovad);

		if (fresh) {
			pthread_mutex_lock(&rc->depot_lock);
			depot_push_locked(iovad, rc, cpu->loaded);
			pthread_mutex_unlock(&rc->depot_lock);
			cpu->loaded = fresh;
		} else {
			ok = false;
		}
	}
	if (ok)
		cpu->loaded->pfns[cpu->loaded->size++] = pfn;
	return ok;
}

/* Put @pfn into the calling CPU's cache. Return: false when it must go to the tree. */
static bool rcache_insert(struct ih_iova_domain *iovad, struct iova_rcache *rc, u64 pfn)
{
	struct iova_cpu_rcache *cpu = this_cpu(iovad, rc);
	bool ok;

	pthread_mutex_lock(&cpu->lock);
	ok = rcache_insert_locked(iovad, rc, cpu, pfn);
	pthread_mutex_unlock(&cpu->lock);
	return ok;
}

static u64 rcache_get(struct ih_iova_domain *iovad, struct iova_rcache *rc, u64 limit_pfn, u64 size)
{
	struct iova_cpu_rcache *cpu = this_cpu(iovad, rc);
	struct iova_magazine *empty = NULL;
	u64 pfn = 0;

	pthread_mutex_lock(&cpu->lock);
	if (!cpu->loaded->size && cpu->prev->size) {
		struct iova_magazine *tmp = cpu->loaded;

		cpu->loaded = cpu->prev;
		cpu->prev = tmp;
	} else if (!cpu->loaded->size) {
		struct iova_magazine *full;

		pthread_mutex_lock(&rc->depot_lock);
		full = depot_pop_locked(rc);
		pthread_mutex_unlock(&rc->depot_lock);
		if (full) {
			empty = cpu->loaded;
			cpu->loaded = full;
		}
	}
	if (cpu->loaded->size)
		pfn = mag_pop(cpu->loaded, limit_pfn, size);
	if (pfn)
		cpu->hits++;
	else
		cpu->misses++;
	pthread_mutex_unlock(&cpu->lock);
	ih_free(iovad->w, empty);
	return pfn;
}

void ih_iova_cache_flush(struct ih_iova_domain *iovad)
{
	for (unsigned int i = 0; i < IH_IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		struct iova_rcache *rc = &iovad->rcaches[i];
		struct iova_magazine *mag;

		for (unsigned int c = 0; c < iovad->ncpus; c++) {
			pthread_mutex_lock(&rc->cpu[c].lock);
			mag_free_pfns(iovad, rc->cpu[c].loaded);
			mag_free_pfns(iovad, rc->cpu[c].prev);
			pthread_mutex_unlock(&rc->cpu[c].lock);
		}
		pthread_mutex_lock(&rc->depot_lock);
		while ((mag = depot_pop_locked(rc))) {
			mag_free_pfns(iovad, mag);
			ih_free(iovad->w, mag);
		}
		pthread_mutex_unlock(&rc->depot_lock);
	}
}

int ih_iova_alloc_fast(struct ih_iova_domain *iovad, u64 size, u64 limit_pfn, bool flush_rcache,
		       u64 *pfn)
{
	unsigned int order;
	int ret;

	if (!iovad || !size || !pfn)
		return -EINVAL;
	/* Small sizes become powers of two so that a freed range fits its cache's order. */
	if (size < (1ULL << (IH_IOVA_RANGE_CACHE_MAX_SIZE - 1)))
		size = roundup_pow2(size);
	order = order_base_2(size);
	ih_sched_point(iovad->w, "iova:alloc-fast");
	if (order < IH_IOVA_RANGE_CACHE_MAX_SIZE) {
		u64 got = rcache_get(iovad, &iovad->rcaches[order], limit_pfn, size);

		if (got) {
			*pfn = got;
			return 0;
		}
	}
	ret = ih_iova_alloc(iovad, size, limit_pfn, true, pfn);
	if (ret == -ENOMEM && flush_rcache) {
		/* Cached ranges may be what fills the space: give them back and retry. */
		ih_iova_cache_flush(iovad);
		ret = ih_iova_alloc(iovad, size, limit_pfn, true, pfn);
	}
	return ret;
}

void ih_iova_free_fast(struct ih_iova_domain *iovad, u64 pfn, u64 size)
{
	unsigned int order = order_base_2(size);

	ih_sched_point(iovad->w, "iova:free-fast");
	if (order < IH_IOVA_RANGE_CACHE_MAX_SIZE &&
	    rcache_insert(iovad, &iovad->rcaches[order], pfn))
		return;
	if (ih_iova_free(iovad, pfn))
		IH_WARN_ON(iovad->w, true, "iova %s: free of unallocated pfn 0x%llx", iovad->name,
			   (unsigned long long)pfn);
}

void ih_iova_free_fast_batch(struct ih_iova_domain *iovad, const u64 *pfns, u64 size,
			     unsigned int n)
{
	unsigned int order = order_base_2(size), i = 0;

	ih_sched_point(iovad->w, "iova:free-fast");
	if (order < IH_IOVA_RANGE_CACHE_MAX_SIZE) {
		struct iova_rcache *rc = &iovad->rcaches[order];
		struct iova_cpu_rcache *cpu = this_cpu(iovad, rc);

		pthread_mutex_lock(&cpu->lock);
		while (i < n && rcache_insert_locked(iovad, rc, cpu, pfns[i]))
			i++;
		pthread_mutex_unlock(&cpu->lock);
	}
	for (; i < n; i++)
		if (ih_iova_free(iovad, pfns[i]))
			IH_WARN_ON(iovad->w, true, "iova %s: free of unallocated pfn 0x%llx",
				   iovad->name, (unsigned long long)pfns[i]);
}

/* ---- Domain ---- */

int ih_iova_domain_create(struct ih_world *w, size_t granule, u64 start_pfn, const char *name,
			  struct ih_iova_domain **out)
{
	struct ih_iova_domain *iovad;
	unsigned int i, c;

	*out = NULL;
	if (!IH_IS_POW2(granule) || granule < SZ_4K)
		return -EINVAL;
	iovad = ih_alloc(w, sizeof(*iovad), "iova:domain");
	if (!iovad)
		return -ENOMEM;
	iovad->w = w;
	iovad->name = name ? name : "iova";
	iovad->granule = granule;
	iovad->shift = ilog2_u64(granule);
	iovad->start_pfn = start_pfn ? start_pfn : 1;
	iovad->ncpus = ih_world_ncpus(w);
	pthread_mutex_init(&iovad->tree_lock, NULL);
	ih_avl_init(&iovad->tree, node_cmp, pull);
	ih_timer_init(&iovad->trim_timer, trim_timer_fn);
	for (i = 0; i < IH_IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		struct iova_rcache *rc = &iovad->rcaches[i];

		pthread_mutex_init(&rc->depot_lock, NULL);
		rc->cpu = ih_alloc_array(w, iovad->ncpus, sizeof(*rc->cpu), "iova:domain");
		if (!rc->cpu)
			goto err_free_rcaches;
		for (c = 0; c < iovad->ncpus; c++) {
			pthread_mutex_init(&rc->cpu[c].lock, NULL);
			rc->cpu[c].loaded = mag_alloc(iovad);
			rc->cpu[c].prev = mag_alloc(iovad);
			if (!rc->cpu[c].loaded || !rc->cpu[c].prev)
				goto err_free_rcaches;
		}
	}
	*out = iovad;
	return 0;

err_free_rcaches:
	ih_iova_domain_destroy(iovad);
	return -ENOMEM;
}

static void leak_node(struct ih_avl_node *an, void *arg)
{
	struct ih_iova_domain *iovad = arg;
	struct iova_node *n = NODE(an);

	ih_report(iovad->w, IH_REPORT_IOVA_LEAK, iovad->name, "iova_domain_destroy",
		  n->lo << iovad->shift, (n->hi - n->lo + 1) << iovad->shift,
		  "iova %s: destroyed with [0x%llx, 0x%llx) still allocated", iovad->name,
		  (unsigned long long)(n->lo << iovad->shift),
		  (unsigned long long)((n->hi + 1) << iovad->shift));
	ih_free(iovad->w, n);
}

size_t ih_iova_domain_destroy(struct ih_iova_domain *iovad)
{
	size_t leaked;

	if (!iovad)
		return 0;
	ih_timer_cancel(iovad->w, &iovad->trim_timer);
	/* Cached ranges are free as far as users are concerned: give them back silently. */
	for (unsigned int i = 0; i < IH_IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		struct iova_rcache *rc = &iovad->rcaches[i];
		struct iova_magazine *mag;

		while ((mag = depot_pop_locked(rc))) {
			mag_free_pfns(iovad, mag);
			ih_free(iovad->w, mag);
		}
		pthread_mutex_destroy(&rc->depot_lock);
		if (!rc->cpu)
			continue;
		for (unsigned int c = 0; c < iovad->ncpus; c++) {
			mag_free_pfns(iovad, rc->cpu[c].loaded);
			mag_free_pfns(iovad, rc->cpu[c].prev);
			ih_free(iovad->w, rc->cpu[c].loaded);
			ih_free(iovad->w, rc->cpu[c].prev);
			pthread_mutex_destroy(&rc->cpu[c].lock);
		}
		ih_free(iovad->w, rc->cpu);
	}
	/* What is left was never given back: report each range. */
	leaked = iovad->tree.count;
	ih_avl_drain(&iovad->tree, leak_node, iovad);
	pthread_mutex_destroy(&iovad->tree_lock);
	ih_free(iovad->w, iovad);
	return leaked;
}

size_t ih_iova_granule(const struct ih_iova_domain *iovad)
{
	return iovad->granule;
}

unsigned int ih_iova_shift(const struct ih_iova_domain *iovad)
{
	return iovad->shift;
}

u64 ih_iova_start_pfn(const struct ih_iova_domain *iovad)
{
	return iovad->start_pfn;
}

/* ---- Consistency ---- */

struct iova_check {
	struct ih_iova_domain *iovad;
	const struct iova_node *prev;
	char *msg;
	size_t len;
};

static int check_node(struct ih_avl_node *an, void *arg)
{
	struct iova_check *c = arg;
	struct iova_node *n = NODE(an);
	struct iova_node probe = *n;

	if (n->lo > n->hi || n->lo < c->iovad->start_pfn) {
		snprintf(c->msg, c->len, "iova: range [0x%llx, 0x%llx] is empty or below start",
			 (unsigned long long)n->lo, (unsigned long long)n->hi);
		return -EUCLEAN;
	}
	if (c->prev && c->prev->hi >= n->lo) {
		snprintf(c->msg, c->len, "iova: ranges at pfn 0x%llx and 0x%llx overlap",
			 (unsigned long long)c->prev->lo, (unsigned long long)n->lo);
		return -EUCLEAN;
	}
	c->prev = n;
	/* Recompute the summary and compare with what is stored. */
	pull(&probe.avl);
	if (probe.sub_lo != n->sub_lo || probe.sub_hi != n->sub_hi || probe.max_gap != n->max_gap ||
	    probe.max_order != n->max_order) {
		snprintf(c->msg, c->len, "iova: stale subtree summary at pfn 0x%llx",
			 (unsigned long long)n->lo);
		return -EUCLEAN;
	}
	return 0;
}

static int check_mag(struct ih_iova_domain *iovad, const struct iova_magazine *mag,
		     unsigned int order, u64 *seen, size_t *nseen, char *msg, size_t len)
{
	if (mag->size > IH_IOVA_MAG_SIZE) {
		snprintf(msg, len, "iova: magazine of order %u holds %u pfns", order, mag->size);
		return -EUCLEAN;
	}
	for (unsigned int i = 0; i < mag->size; i++) {
		struct iova_node *n = find_locked(iovad, mag->pfns[i]);

		if (!n || n->lo != mag->pfns[i] || n->hi - n->lo + 1 != (1ULL << order)) {
			snprintf(msg, len,
				 "iova: cached pfn 0x%llx (order %u) is not an allocated range of "
				 "that order",
				 (unsigned long long)mag->pfns[i], order);
			return -EUCLEAN;
		}
		seen[(*nseen)++] = mag->pfns[i];
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Check the caches of one order; called with all its locks held (cpu, depot, tree). */
static int check_order_locked(struct ih_iova_domain *iovad, unsigned int order, char *msg,
			      size_t len)
{
	struct iova_rcache *rc = &iovad->rcaches[order];
	size_t max = (2 * iovad->ncpus + rc->depot_size) * (size_t)IH_IOVA_MAG_SIZE, nseen = 0;
	u64 *seen;
	int ret = 0;

	/* Host memory: a checker must not fail under the model's fault injection. */
	seen = malloc(max * sizeof(*seen) + 1);
	IH_BUG_ON(!seen, "iova: host memory for the check");
	for (unsigned int k = 0; k < iovad->ncpus && !ret; k++) {
		ret = check_mag(iovad, rc->cpu[k].loaded, order, seen, &nseen, msg, len);
		if (!ret)
			ret = check_mag(iovad, rc->cpu[k].prev, order, seen, &nseen, msg, len);
	}
	for (struct iova_magazine *m = rc->depot; m && !ret; m = m->next) {
		if (!mag_full(m)) {
			snprintf(msg, len, "iova: depot magazine of order %u not full", order);
			ret = -EUCLEAN;
		} else {
			ret = check_mag(iovad, m, order, seen, &nseen, msg, len);
		}
	}
	/* A pfn cached twice would be handed out twice (orders cannot share a start pfn). */
	if (!ret && nseen > 1) {
		qsort(seen, nseen, sizeof(*seen), cmp_u64);
		for (size_t i = 1; i < nseen && !ret; i++) {
			if (seen[i] == seen[i - 1]) {
				snprintf(msg, len, "iova: pfn 0x%llx cached twice",
					 (unsigned long long)seen[i]);
				ret = -EUCLEAN;
			}
		}
	}
	free(seen);
	return ret;
}

int ih_iova_check(struct ih_iova_domain *iovad, char *msg, size_t len)
{
	char dummy[8];
	struct iova_check c = {
	    .iovad = iovad, .msg = msg ? msg : dummy, .len = msg ? len : sizeof(dummy)};
	int ret;

	pthread_mutex_lock(&iovad->tree_lock);
	ret = ih_avl_check(&iovad->tree, c.msg, c.len);
	if (!ret)
		ret = ih_avl_walk(&iovad->tree, check_node, &c);
	pthread_mutex_unlock(&iovad->tree_lock);
	/*
	 * Each order under all of its locks, in the documented order (CPU locks in CPU order:
	 * nobody else holds two), so deferred work running meanwhile is seen consistently.
	 */
	for (unsigned int i = 0; i < IH_IOVA_RANGE_CACHE_MAX_SIZE && !ret; i++) {
		struct iova_rcache *rc = &iovad->rcaches[i];

		for (unsigned int k = 0; k < iovad->ncpus; k++)
			pthread_mutex_lock(&rc->cpu[k].lock);
		pthread_mutex_lock(&rc->depot_lock);
		pthread_mutex_lock(&iovad->tree_lock);
		ret = check_order_locked(iovad, i, c.msg, c.len);
		pthread_mutex_unlock(&iovad->tree_lock);
		pthread_mutex_unlock(&rc->depot_lock);
		for (unsigned int k = iovad->ncpus; k-- > 0;)
			pthread_mutex_unlock(&rc->cpu[k].lock);
	}
	return ret;
}

void ih_iova_get_stats(struct ih_iova_domain *iovad, struct ih_iova_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&iovad->tree_lock);
	st->ranges = iovad->tree.count;
	st->tree_allocs = iovad->tree_allocs;
	st->tree_frees = iovad->tree_frees;
	pthread_mutex_unlock(&iovad->tree_lock);
	for (unsigned int i = 0; i < IH_IOVA_RANGE_CACHE_MAX_SIZE; i++) {
		struct iova_rcache *rc = &iovad->rcaches[i];

		pthread_mutex_lock(&rc->depot_lock);
		st->depot_mags += rc->depot_size;
		st->cached += (unsigned long)rc->depot_size * IH_IOVA_MAG_SIZE;
		pthread_mutex_unlock(&rc->depot_lock);
		for (unsigned int c = 0; c < iovad->ncpus; c++) {
			pthread_mutex_lock(&rc->cpu[c].lock);
			st->cached += rc->cpu[c].loaded->size + rc->cpu[c].prev->size;
			st->cache_hits += rc->cpu[c].hits;
			st->cache_misses += rc->cpu[c].misses;
			pthread_mutex_unlock(&rc->cpu[c].lock);
		}
	}
	st->depot_trims = __atomic_load_n(&iovad->depot_trims, __ATOMIC_RELAXED);
}
