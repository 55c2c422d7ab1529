/* SPDX-License-Identifier: MIT */
/* The page_pool tracking table: DMA-mapped pages by ID, lock-free removal (private). */
#ifndef IH_CORE_PP_INDEX_H
#define IH_CORE_PP_INDEX_H

#include <ih/compat.h>
#include <ih/page_pool.h>

struct ih_world;

/*
 * A three-level radix of 64-bit slots indexed by ID (1..IH_PP_DMA_INDEX_MAX):
 * top (64 pointers, embedded) -> mid (64 pointers) -> leaf (1024 slots). Mids and leaves
 * are allocated as IDs grow and freed only with the table, so a slot, once it exists,
 * stays at one address: a lookup is three dependent loads and never takes a lock.
 *
 * A slot holds:
 *   0                      never used (above the high-water mark)
 *   a page pointer         the page is mapped and tracked under this ID
 *   page pointer | 2       the page is being unmapped by whoever claimed it
 *   1                      free
 * Removal is a claim, one CAS from the page pointer to pointer | 2, so of several racing
 * claimers (a late return, the scrub) exactly one wins, and a stale claimer whose ID now
 * names another page fails; the winner unmaps, then frees the slot with a release store.
 * The scrub waits for a slot being unmapped by someone else to become free, so that when
 * it is done no unmap of the pool's pages is still running (the kernel waits for an RCU
 * grace period there). The claim is the only atomic read-modify-write of tracking: the single
 * inserter finds free IDs itself, scanning a few slots after a cursor (a free slot is
 * written only by the inserter, so a plain release store claims it), and takes a new ID
 * above the high-water mark when the scan finds none (then skips scanning for a while, so
 * a pool that only grows pays almost nothing for it). IDs stay dense: with a fraction f
 * of the slots below the mark free, a scan of PP_IDX_SCAN slots misses with
 * probability (1 - f)^PP_IDX_SCAN, so the mark settles a few percent above the live count.
 *
 * Synchronisation:
 *   pp_index_insert        the consumer only (one at a time)
 *   pp_index_claim/release any thread, concurrently with everything
 *   pp_index_take_all      any thread, concurrently with removers (not with insert)
 *   pp_index_fini          nothing else
 * Memory order: insert publishes a new leaf (release) before raising the high-water mark
 * (release); removers and the walk read both with acquire. Slot CASes are acq_rel; the
 * inserter's scan reads a slot relaxed (a free slot carries nothing to acquire).
 */

#define PP_IDX_LEAF_BITS    10
#define PP_IDX_MID_BITS	    6
#define PP_IDX_TOP_BITS	    6
#define PP_IDX_LEAF_SIZE    (1U << PP_IDX_LEAF_BITS)
#define PP_IDX_MID_SIZE	    (1U << PP_IDX_MID_BITS)
#define PP_IDX_TOP_SIZE	    (1U << PP_IDX_TOP_BITS)
#define PP_IDX_SCAN	    32 /* slots looked at per insert */
#define PP_IDX_SCAN_BACKOFF 64 /* inserts that grow without scanning after a miss */

struct pp_idx_leaf {
	u64 slot[PP_IDX_LEAF_SIZE];
};

struct pp_idx_mid {
	struct pp_idx_leaf *leaf[PP_IDX_MID_SIZE];
};

struct pp_index {
	struct ih_world *w;
	struct pp_idx_mid *top[PP_IDX_TOP_SIZE]; /* atomic pointers */
	u32 hwm;				 /* atomic: highest ID ever handed out */
	u32 cursor;				 /* inserter only: where the next scan starts */
	u32 skip_scan; /* inserter only: inserts left before scanning again */
	size_t bytes;  /* atomic: memory of mids and leaves */
};

_Static_assert(PP_IDX_LEAF_BITS + PP_IDX_MID_BITS + PP_IDX_TOP_BITS == IH_PP_DMA_INDEX_BITS,
	       "the radix covers the ID bits of pp_magic");

void pp_index_init(struct pp_index *ix, struct ih_world *w);
void pp_index_fini(struct pp_index *ix);

/**
 * pp_index_insert() - track @page under a free ID.
 * Return: 0 and *@id; -ENOSPC (no ID left); -ENOMEM (site "page_pool:dma-index").
 */
int pp_index_insert(struct pp_index *ix, void *page, u32 *id);

/*
 * pp_index_claim() - claim @page in slot @id for unmapping. Return: true when this call
 * did; the caller unmaps, then calls pp_index_release().
 */
bool pp_index_claim(struct pp_index *ix, u32 id, const void *page);
void pp_index_release(struct pp_index *ix, u32 id);

/*
 * pp_index_take_all() - claim every tracked page (the scrub), call @fn on each one this
 * call claimed, free its slot; wait for slots claimed by others to be freed. Return: pages
 * taken.
 */
unsigned long pp_index_take_all(struct pp_index *ix, void (*fn)(void *page, void *arg), void *arg);

/* pp_index_ids() - the high-water mark; pp_index_bytes() - memory of the table. */
u32 pp_index_ids(struct pp_index *ix);
size_t pp_index_bytes(struct pp_index *ix);

#endif /* IH_CORE_PP_INDEX_H */
