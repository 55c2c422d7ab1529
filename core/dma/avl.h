/* SPDX-License-Identifier: MIT */
/* An intrusive AVL tree with an augmentation hook, for the IOVA allocator and checkers. */
#ifndef IH_CORE_DMA_AVL_H
#define IH_CORE_DMA_AVL_H

#include <ih/compat.h>

/*
 * Height-balanced (AVL) binary search tree without parent pointers. Insert and erase
 * are recursive and rebuild the path bottom-up, calling @pull on every node whose
 * children changed, so a node may keep values summarised over its subtree (the IOVA
 * allocator keeps its largest free gap there). Depth is at most 1.44 log2(n + 2): every
 * operation is O(log n). Users descend from @root themselves for lookups.
 *
 * Not locked: the owner serialises every call on one tree.
 */
struct ih_avl_node {
	struct ih_avl_node *left;
	struct ih_avl_node *right;
	int height;
};

/* Order of two nodes: <0, 0 (same key), >0. */
typedef int (*ih_avl_cmp_fn)(const struct ih_avl_node *a, const struct ih_avl_node *b);
/* Recompute @n's subtree summary from its own key and its children (may be NULL). */
typedef void (*ih_avl_pull_fn)(struct ih_avl_node *n);

struct ih_avl_tree {
	struct ih_avl_node *root;
	ih_avl_cmp_fn cmp;
	ih_avl_pull_fn pull;
	size_t count;
};

void ih_avl_init(struct ih_avl_tree *t, ih_avl_cmp_fn cmp, ih_avl_pull_fn pull);

/* ih_avl_insert() - add @n. Return: NULL, or the node with the same key (@n not added). */
struct ih_avl_node *ih_avl_insert(struct ih_avl_tree *t, struct ih_avl_node *n);

/* ih_avl_erase() - remove @n, which must be in @t (a harness bug otherwise). */
void ih_avl_erase(struct ih_avl_tree *t, struct ih_avl_node *n);

/* ih_avl_first() / ih_avl_last() - the smallest / largest node, or NULL. */
struct ih_avl_node *ih_avl_first(const struct ih_avl_tree *t);
struct ih_avl_node *ih_avl_last(const struct ih_avl_tree *t);

/* ih_avl_next() - the node after @n in order (a descent from the root), or NULL. */
struct ih_avl_node *ih_avl_next(const struct ih_avl_tree *t, const struct ih_avl_node *n);

/*
 * ih_avl_drain() - empty the tree, calling @fn on every node in post-order (children
 * before parents), so @fn may free the node.
 */
void ih_avl_drain(struct ih_avl_tree *t, void (*fn)(struct ih_avl_node *n, void *arg), void *arg);

/*
 * ih_avl_walk() - call @fn on every node in order; stops at the first non-zero return.
 * Return: that value, or 0.
 */
int ih_avl_walk(const struct ih_avl_tree *t, int (*fn)(struct ih_avl_node *n, void *arg),
		void *arg);

/**
 * ih_avl_check() - structural check: keys strictly increasing, stored heights right,
 * balance factors in -1..1, @count equal to the number of nodes.
 * Return: 0, or -EUCLEAN (@msg, when not NULL, says what is wrong).
 */
int ih_avl_check(const struct ih_avl_tree *t, char *msg, size_t len);

#endif /* IH_CORE_DMA_AVL_H */
