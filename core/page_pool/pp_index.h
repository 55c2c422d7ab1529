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
 *   a page pointer (even)  the page is mapped and tracked under this ID
 *   (next << 1) | 1        free; next free ID on a free list (0 ends it)
 * Removal is one CAS from the page pointer to 1, so of several racing removers (a late
 * return, the scrub) exactly one wins, and a stale remover whose ID now names another
 * page fails. The winner then pushes the ID on a shared lock-free stack (push only, so no
 * ABA); the single inserter takes the whole stack with one exchange into a private list.
 *
 * Synchronisation:
 *   pp_index_insert        the consumer only (one at a time)
 *   pp_index_remove        any thread, concurrently with everything
 *   pp_index_take_all      any thread, concurrently with removers (not with insert)
 *   pp_index_fini          nothing else
 * Memory order: insert publishes a new leaf (release) before raising the high-water mark
 * (release); removers and the walk read both with acquire. Slot CASes are acq_rel.
 */

#define PP_IDX_LEAF_BITS 10
#define PP_IDX_MID_BITS	 6
#define PP_IDX_TOP_BITS	 6
#define PP_IDX_LEAF_SIZE (1U << PP_IDX_LEAF_BITS)
#define PP_IDX_MID_SIZE	 (1U << PP_IDX_MID_BITS)
#define PP_IDX_TOP_SIZE	 (1U << PP_IDX_TOP_BITS)

struct pp_idx_leaf {
	u64 slot[PP_IDX_LEAF_SIZE];
};

struct pp_idx_mid {
	struct pp_idx_leaf *leaf[PP_IDX_MID_SIZE];
};

struct pp_index {
	struct ih_world *w;
	struct pp_idx_mid *top[PP_IDX_TOP_SIZE]; /* atomic pointers */
	u32 hwm;	 /* atomic: highest ID ever handed out */
	u32 free_local;	 /* inserter only: its private free list */
	u32 free_shared; /* atomic: top of the removers' stack */
	size_t bytes;	 /* atomic: memory of mids and leaves */
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

/* pp_index_remove() - take @page out of slot @id. Return: true when this call did. */
bool pp_index_remove(struct pp_index *ix, u32 id, const void *page);

/*
 * pp_index_take_all() - take every tracked page out (the scrub) and call @fn on each one
 * this call took. IDs are not recycled (the table is about to go). Return: pages taken.
 */
unsigned long pp_index_take_all(struct pp_index *ix, void (*fn)(void *page, void *arg),
				void *arg);

/* pp_index_ids() - the high-water mark; pp_index_bytes() - memory of the table. */
u32 pp_index_ids(struct pp_index *ix);
size_t pp_index_bytes(struct pp_index *ix);

#endif /* IH_CORE_PP_INDEX_H */
