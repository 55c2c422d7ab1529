// SPDX-License-Identifier: MIT
/* Intrusive AVL tree with a subtree-summary hook (see avl.h). */
#include <stdio.h>

#include <ih/diag.h>
#include "avl.h"

static inline int h(const struct ih_avl_node *n)
{
	return n ? n->height : 0;
}

static void fix(struct ih_avl_tree *t, struct ih_avl_node *n)
{
	n->height = 1 + ih_max(h(n->left), h(n->right));
	if (t->pull)
		t->pull(n);
}

static struct ih_avl_node *rot_right(struct ih_avl_tree *t, struct ih_avl_node *n)
{
	struct ih_avl_node *l = n->left;

	n->left = l->right;
	l->right = n;
	fix(t, n);
	fix(t, l);
	return l;
}

static struct ih_avl_node *rot_left(struct ih_avl_tree *t, struct ih_avl_node *n)
{
	struct ih_avl_node *r = n->right;

	n->right = r->left;
	r->left = n;
	fix(t, n);
	fix(t, r);
	return r;
}

/* Restore the AVL property at @n, whose subtrees are balanced and differ by at most 2. */
static struct ih_avl_node *balance(struct ih_avl_tree *t, struct ih_avl_node *n)
{
	int bf;

	fix(t, n);
	bf = h(n->left) - h(n->right);
	if (bf > 1) {
		if (h(n->left->left) < h(n->left->right))
			n->left = rot_left(t, n->left);
		return rot_right(t, n);
	}
	if (bf < -1) {
		if (h(n->right->right) < h(n->right->left))
			n->right = rot_right(t, n->right);
		return rot_left(t, n);
	}
	return n;
}

void ih_avl_init(struct ih_avl_tree *t, ih_avl_cmp_fn cmp, ih_avl_pull_fn pull)
{
	t->root = NULL;
	t->cmp = cmp;
	t->pull = pull;
	t->count = 0;
}

static struct ih_avl_node *insert_rec(struct ih_avl_tree *t, struct ih_avl_node *at,
				      struct ih_avl_node *n, struct ih_avl_node **dup)
{
	int c;

	if (!at) {
		n->left = n->right = NULL;
		fix(t, n);
		return n;
	}
	c = t->cmp(n, at);
	if (c == 0) {
		*dup = at;
		return at;
	}
	if (c < 0)
		at->left = insert_rec(t, at->left, n, dup);
	else
		at->right = insert_rec(t, at->right, n, dup);
	return *dup ? at : balance(t, at);
}

struct ih_avl_node *ih_avl_insert(struct ih_avl_tree *t, struct ih_avl_node *n)
{
	struct ih_avl_node *dup = NULL;

	t->root = insert_rec(t, t->root, n, &dup);
	if (!dup)
		t->count++;
	return dup;
}

static struct ih_avl_node *remove_min(struct ih_avl_tree *t, struct ih_avl_node *n,
				      struct ih_avl_node **min)
{
	if (!n->left) {
		*min = n;
		return n->right;
	}
	n->left = remove_min(t, n->left, min);
	return balance(t, n);
}

static struct ih_avl_node *erase_rec(struct ih_avl_tree *t, struct ih_avl_node *at,
				     struct ih_avl_node *n)
{
	struct ih_avl_node *m;
	int c;

	IH_BUG_ON(!at, "avl: erase of a node that is not in the tree");
	c = t->cmp(n, at);
	if (c < 0) {
		at->left = erase_rec(t, at->left, n);
	} else if (c > 0) {
		at->right = erase_rec(t, at->right, n);
	} else {
		IH_BUG_ON(at != n, "avl: erase of a node whose key another node holds");
		if (!n->left)
			return n->right;
		if (!n->right)
			return n->left;
		/* Replace @n by the smallest node of its right subtree. */
		n->right = remove_min(t, n->right, &m);
		m->left = n->left;
		m->right = n->right;
		return balance(t, m);
	}
	return balance(t, at);
}

void ih_avl_erase(struct ih_avl_tree *t, struct ih_avl_node *n)
{
	t->root = erase_rec(t, t->root, n);
	n->left = n->right = NULL;
	t->count--;
}

struct ih_avl_node *ih_avl_first(const struct ih_avl_tree *t)
{
	struct ih_avl_node *n = t->root;

	while (n && n->left)
		n = n->left;
	return n;
}

struct ih_avl_node *ih_avl_last(const struct ih_avl_tree *t)
{
	struct ih_avl_node *n = t->root;

	while (n && n->right)
		n = n->right;
	return n;
}

struct ih_avl_node *ih_avl_next(const struct ih_avl_tree *t, const struct ih_avl_node *n)
{
	struct ih_avl_node *at = t->root, *succ = NULL;

	while (at) {
		if (t->cmp(n, at) < 0) {
			succ = at;
			at = at->left;
		} else {
			at = at->right;
		}
	}
	return succ;
}

static void drain_rec(struct ih_avl_node *n, void (*fn)(struct ih_avl_node *, void *), void *arg)
{
	struct ih_avl_node *l, *r;

	if (!n)
		return;
	l = n->left;
	r = n->right;
	drain_rec(l, fn, arg);
	drain_rec(r, fn, arg);
	fn(n, arg);
}

void ih_avl_drain(struct ih_avl_tree *t, void (*fn)(struct ih_avl_node *n, void *arg), void *arg)
{
	struct ih_avl_node *root = t->root;

	t->root = NULL;
	t->count = 0;
	drain_rec(root, fn, arg);
}

static int walk_rec(struct ih_avl_node *n, int (*fn)(struct ih_avl_node *, void *), void *arg)
{
	int ret;

	if (!n)
		return 0;
	ret = walk_rec(n->left, fn, arg);
	if (ret)
		return ret;
	ret = fn(n, arg);
	if (ret)
		return ret;
	return walk_rec(n->right, fn, arg);
}

int ih_avl_walk(const struct ih_avl_tree *t, int (*fn)(struct ih_avl_node *n, void *arg), void *arg)
{
	return walk_rec(t->root, fn, arg);
}

struct check_ctx {
	const struct ih_avl_tree *t;
	const struct ih_avl_node *prev;
	size_t count;
	const char *err;
};

static int check_rec(struct check_ctx *c, const struct ih_avl_node *n)
{
	int hl, hr;

	if (!n)
		return 0;
	hl = check_rec(c, n->left);
	if (c->err)
		return 0;
	if (c->prev && c->t->cmp(c->prev, n) >= 0) {
		c->err = "keys out of order";
		return 0;
	}
	c->prev = n;
	c->count++;
	hr = check_rec(c, n->right);
	if (c->err)
		return 0;
	if (n->height != 1 + ih_max(hl, hr))
		c->err = "stored height wrong";
	else if (hl - hr > 1 || hr - hl > 1)
		c->err = "unbalanced node";
	return n->height;
}

int ih_avl_check(const struct ih_avl_tree *t, char *msg, size_t len)
{
	struct check_ctx c = {.t = t};

	check_rec(&c, t->root);
	if (!c.err && c.count != t->count)
		c.err = "node count differs from the tree's count";
	if (!c.err)
		return 0;
	if (msg && len)
		snprintf(msg, len, "avl: %s", c.err);
	return -EUCLEAN;
}
