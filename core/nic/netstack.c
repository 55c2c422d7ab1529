// SPDX-License-Identifier: MIT
/* The network-stack holder: keeps received pages for a delay on the world clock. */
#include <pthread.h>

#include <ih/alloc.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/nic.h>
#include <ih/world.h>

/*
 * Lock order: ns->lock -> clock lock (the timer is armed under ns->lock). Pages are given
 * back with ns->lock released: the pool may take the DMA layer's locks and the clock's.
 * Held pages wait in one list sorted by expiry (FIFO among equal delays); entries that
 * wait for an explicit release (no delay) sort last.
 */

#define HOLD_FOREVER UINT64_MAX

struct ns_skb {
	struct ih_pp_page *page;
	u64 expires_ns;
	struct ns_skb *next;
};

struct ih_netstack {
	struct ih_world *w;
	struct ih_netstack_config cfg;
	pthread_mutex_t lock; /* protects head, tail, held */
	struct ns_skb *head, *tail;
	unsigned int held;
	struct ih_timer timer;
};

/* Give a detached chain back, from the stack's CPU: recycled, or freed when @free. */
static unsigned int give_back_mode(struct ih_netstack *ns, struct ns_skb *chain, bool free)
{
	struct ih_world *w = ns->w;
	unsigned int cpu = ih_cpu_id(w), n = 0;

	ih_thread_set_cpu(w, ns->cfg.cpu);
	while (chain) {
		struct ns_skb *next = chain->next;
		struct ih_pp_page *page = chain->page;

		ih_free(w, chain);
		if (free)
			ih_page_pool_return_page(page->pp, page);
		else
			ih_page_pool_put_page(page->pp, page, false);
		chain = next;
		n++;
	}
	ih_thread_set_cpu(w, cpu);
	return n;
}

static unsigned int give_back(struct ih_netstack *ns, struct ns_skb *chain)
{
	return give_back_mode(ns, chain, ns->cfg.free_pages);
}

/* Arm the timer for the head's expiry, if it has one. */
static void rearm_locked(struct ih_netstack *ns)
{
	u64 now;

	if (!ns->head || ns->head->expires_ns == HOLD_FOREVER)
		return;
	now = ih_clock_now_ns(ns->w);
	ih_timer_arm(ns->w, &ns->timer,
		     ns->head->expires_ns > now ? ns->head->expires_ns - now : 0);
}

static void ns_timer_fn(struct ih_timer *t)
{
	struct ih_netstack *ns = container_of(t, struct ih_netstack, timer);
	struct ns_skb *due = NULL, **tail = &due;
	u64 now = ih_clock_now_ns(ns->w);

	pthread_mutex_lock(&ns->lock);
	while (ns->head && ns->head->expires_ns <= now) {
		struct ns_skb *s = ns->head;

		ns->head = s->next;
		s->next = NULL;
		*tail = s;
		tail = &s->next;
		ns->held--;
	}
	if (!ns->head)
		ns->tail = NULL;
	rearm_locked(ns);
	pthread_mutex_unlock(&ns->lock);
	give_back(ns, due);
}

int ih_netstack_create(struct ih_world *w, const struct ih_netstack_config *cfg,
		       struct ih_netstack **out)
{
	struct ih_netstack *ns;

	if (!w || !cfg || !out || cfg->cpu >= ih_world_ncpus(w))
		return -EINVAL;
	ns = ih_alloc(w, sizeof(*ns), "netstack:stack");
	if (!ns)
		return -ENOMEM;
	ns->w = w;
	ns->cfg = *cfg;
	pthread_mutex_init(&ns->lock, NULL);
	ih_timer_init(&ns->timer, ns_timer_fn);
	*out = ns;
	return 0;
}

int ih_netstack_hold(struct ih_netstack *ns, struct ih_pp_page *page, u64 delay_ns)
{
	struct ns_skb *s, **pp;

	s = ih_alloc(ns->w, sizeof(*s), "netstack:skb");
	if (!s)
		return -ENOMEM;
	if (!delay_ns)
		delay_ns = ns->cfg.hold_ns;
	s->page = page;
	s->expires_ns = delay_ns ? ih_clock_now_ns(ns->w) + delay_ns : HOLD_FOREVER;
	pthread_mutex_lock(&ns->lock);
	if (!ns->tail || ns->tail->expires_ns <= s->expires_ns) {
		/* The common case: one delay for everything, so the list stays FIFO. */
		if (ns->tail)
			ns->tail->next = s;
		else
			ns->head = s;
		ns->tail = s;
	} else {
		for (pp = &ns->head; (*pp)->expires_ns <= s->expires_ns; pp = &(*pp)->next)
			;
		s->next = *pp;
		*pp = s;
	}
	ns->held++;
	if (ns->head == s)
		rearm_locked(ns);
	pthread_mutex_unlock(&ns->lock);
	return 0;
}

static unsigned int release(struct ih_netstack *ns, unsigned int max, bool free)
{
	struct ns_skb *chain = NULL, **tail = &chain;

	pthread_mutex_lock(&ns->lock);
	for (unsigned int i = 0; i < max && ns->head; i++) {
		struct ns_skb *s = ns->head;

		ns->head = s->next;
		s->next = NULL;
		*tail = s;
		tail = &s->next;
		ns->held--;
	}
	if (!ns->head)
		ns->tail = NULL;
	pthread_mutex_unlock(&ns->lock);
	return give_back_mode(ns, chain, free);
}

unsigned int ih_netstack_release(struct ih_netstack *ns, unsigned int max)
{
	return release(ns, max, ns->cfg.free_pages);
}

unsigned int ih_netstack_free(struct ih_netstack *ns, unsigned int max)
{
	return release(ns, max, true);
}

unsigned int ih_netstack_held(struct ih_netstack *ns)
{
	unsigned int n;

	pthread_mutex_lock(&ns->lock);
	n = ns->held;
	pthread_mutex_unlock(&ns->lock);
	return n;
}

void ih_netstack_destroy(struct ih_netstack *ns)
{
	if (!ns)
		return;
	/* No lock held: the callback takes ns->lock. After this it neither runs nor is armed. */
	ih_timer_cancel(ns->w, &ns->timer);
	ih_netstack_release(ns, UINT32_MAX);
	pthread_mutex_destroy(&ns->lock);
	ih_free(ns->w, ns);
}
