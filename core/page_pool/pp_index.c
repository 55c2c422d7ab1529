// SPDX-License-Identifier: MIT
/* The page_pool tracking table: a radix of slots by ID, CAS removal, lock-free ID reuse. */
#include <sched.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/sched.h>
#include "pp_index.h"

#define SLOT_FREE	1ULL
#define SLOT_UNMAPPING	2ULL /* or'ed into the page pointer while its unmap runs */
#define SLOT_IS_PAGE(v) ((v) != 0 && !((v)&3))

void pp_index_init(struct pp_index *ix, struct ih_world *w)
{
	memset(ix, 0, sizeof(*ix));
	ix->w = w;
	ix->bytes = sizeof(ix->top);
}

void pp_index_fini(struct pp_index *ix)
{
	for (unsigned int t = 0; t < PP_IDX_TOP_SIZE; t++) {
		struct pp_idx_mid *mid = ix->top[t];

		if (!mid)
			continue;
		for (unsigned int m = 0; m < PP_IDX_MID_SIZE; m++)
			ih_free(ix->w, mid->leaf[m]);
		ih_free(ix->w, mid);
		ix->top[t] = NULL;
	}
}

/* The slot of @id, or NULL when its leaf does not exist. */
static u64 *slot_of(struct pp_index *ix, u32 id)
{
	struct pp_idx_mid *mid;
	struct pp_idx_leaf *leaf;

	mid =
	    __atomic_load_n(&ix->top[id >> (PP_IDX_LEAF_BITS + PP_IDX_MID_BITS)], __ATOMIC_ACQUIRE);
	if (!mid)
		return NULL;
	leaf = __atomic_load_n(&mid->leaf[(id >> PP_IDX_LEAF_BITS) & (PP_IDX_MID_SIZE - 1)],
			       __ATOMIC_ACQUIRE);
	return leaf ? &leaf->slot[id & (PP_IDX_LEAF_SIZE - 1)] : NULL;
}

/* Make sure the leaf of @id exists (inserter only). */
static int grow(struct pp_index *ix, u32 id)
{
	unsigned int t = id >> (PP_IDX_LEAF_BITS + PP_IDX_MID_BITS);
	unsigned int m = (id >> PP_IDX_LEAF_BITS) & (PP_IDX_MID_SIZE - 1);
	struct pp_idx_mid *mid = ix->top[t];
	struct pp_idx_leaf *leaf;

	if (!mid) {
		mid = ih_alloc(ix->w, sizeof(*mid), "page_pool:dma-index");
		if (!mid)
			return -ENOMEM;
		__atomic_fetch_add(&ix->bytes, sizeof(*mid), __ATOMIC_RELAXED);
		/* Release: a reader that finds the mid sees it zeroed. */
		__atomic_store_n(&ix->top[t], mid, __ATOMIC_RELEASE);
	}
	if (mid->leaf[m])
		return 0;
	leaf = ih_alloc(ix->w, sizeof(*leaf), "page_pool:dma-index");
	if (!leaf)
		return -ENOMEM;
	__atomic_fetch_add(&ix->bytes, sizeof(*leaf), __ATOMIC_RELAXED);
	__atomic_store_n(&mid->leaf[m], leaf, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Look for a free slot among the next PP_IDX_SCAN IDs after the cursor (wrapping below the
 * high-water mark). Only the inserter turns a free slot into a page, so a plain release
 * store claims it: removers only ever CAS a page pointer, never a free slot.
 */
static u32 scan_free(struct pp_index *ix, u32 hwm)
{
	u32 id = ix->cursor;

	for (unsigned int n = 0; n < PP_IDX_SCAN && n < hwm; n++) {
		u64 *s;

		id = id >= hwm ? 1 : id + 1;
		s = slot_of(ix, id);
		if (__atomic_load_n(s, __ATOMIC_RELAXED) == SLOT_FREE) {
			ix->cursor = id;
			return id;
		}
	}
	ix->cursor = id;
	return 0;
}

int pp_index_insert(struct pp_index *ix, void *page, u32 *id)
{
	u32 hwm = __atomic_load_n(&ix->hwm, __ATOMIC_RELAXED), i = 0;
	int ret;

	IH_BUG_ON((uintptr_t)page & 1, "tracked page %p is not aligned", page);
	/* After a scan that found nothing, grow for a while before scanning again. */
	if (ix->skip_scan)
		ix->skip_scan--;
	else if (!(i = scan_free(ix, hwm)) && hwm >= PP_IDX_SCAN)
		ix->skip_scan = PP_IDX_SCAN_BACKOFF; /* a small table is cheap to scan whole */
	if (i) {
		/* Release: whoever reads the slot sees the page's metadata. */
		__atomic_store_n(slot_of(ix, i), (u64)(uintptr_t)page, __ATOMIC_RELEASE);
		*id = i;
		return 0;
	}
	i = hwm + 1;
	if (i > IH_PP_DMA_INDEX_MAX)
		return -ENOSPC;
	ret = grow(ix, i);
	if (ret)
		return ret;
	__atomic_store_n(slot_of(ix, i), (u64)(uintptr_t)page, __ATOMIC_RELEASE);
	/* Release: the walk that reads the new mark finds the leaf and the slot. */
	__atomic_store_n(&ix->hwm, i, __ATOMIC_RELEASE);
	*id = i;
	return 0;
}

bool pp_index_claim(struct pp_index *ix, u32 id, const void *page)
{
	u64 expected = (u64)(uintptr_t)page;
	u64 *s;

	if (!id || id > __atomic_load_n(&ix->hwm, __ATOMIC_ACQUIRE))
		return false;
	s = slot_of(ix, id);
	if (!s)
		return false;
	/* The one atomic read-modify-write of tracking: of racing claimers exactly one wins. */
	if (__atomic_compare_exchange_n(s, &expected, expected | SLOT_UNMAPPING, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return true;
	/*
	 * Lost to the scrub, which is unmapping this very page: wait until it lets go of the
	 * slot (its release store), so the loser cannot free the page's metadata under the
	 * scrub's unmap (found by tsan_page_pool under load).
	 */
	while (expected == ((u64)(uintptr_t)page | SLOT_UNMAPPING)) {
		ih_sched_point(ix->w, "page_pool:claim-wait");
		sched_yield();
		expected = __atomic_load_n(s, __ATOMIC_ACQUIRE);
	}
	return false;
}

void pp_index_release(struct pp_index *ix, u32 id)
{
	/* Release: the unmap is complete for a scrub that sees the slot free. */
	__atomic_store_n(slot_of(ix, id), SLOT_FREE, __ATOMIC_RELEASE);
}

unsigned long pp_index_take_all(struct pp_index *ix, void (*fn)(void *page, void *arg), void *arg)
{
	u32 hwm = __atomic_load_n(&ix->hwm, __ATOMIC_ACQUIRE);
	unsigned long taken = 0;

	for (u32 id = 1; id <= hwm; id++) {
		u64 *s = slot_of(ix, id);
		u64 v = __atomic_load_n(s, __ATOMIC_ACQUIRE);

		/* A claimer is unmapping this page right now: its unmap must end before ours. */
		while (v & SLOT_UNMAPPING) {
			ih_sched_point(ix->w, "page_pool:scrub-wait");
			sched_yield();
			v = __atomic_load_n(s, __ATOMIC_ACQUIRE);
		}
		if (!SLOT_IS_PAGE(v) ||
		    !__atomic_compare_exchange_n(s, &v, v | SLOT_UNMAPPING, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		fn((void *)(uintptr_t)v, arg);
		__atomic_store_n(s, SLOT_FREE, __ATOMIC_RELEASE);
		taken++;
	}
	return taken;
}

u32 pp_index_ids(struct pp_index *ix)
{
	return __atomic_load_n(&ix->hwm, __ATOMIC_ACQUIRE);
}

size_t pp_index_bytes(struct pp_index *ix)
{
	return __atomic_load_n(&ix->bytes, __ATOMIC_RELAXED);
}
