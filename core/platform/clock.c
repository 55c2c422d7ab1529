// SPDX-License-Identifier: MIT
/* World clock (virtual or monotonic) and one-shot timers. */
#include <stdlib.h>
#include <time.h>

#include <ih/clock.h>
#include <ih/diag.h>
#include "world_priv.h"

/*
 * Lock order: clock.lock is taken alone; callbacks run with it released.
 * A timer is on the pending list iff armed; clock.running names the one callback in
 * progress, so ih_timer_cancel() can wait for it (as del_timer_sync() does). The clock
 * never touches a timer after its callback returns: the callback may free its owner.
 */

static u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

int ih_clock_init(struct ih_world *w)
{
	struct ih_clock_state *c = &w->clock;
	pthread_condattr_t attr;

	c->kind = w->cfg.clock;
	c->start_ns = mono_ns();
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&c->done, NULL);
	return 0;
}

void ih_clock_fini(struct ih_world *w)
{
	struct ih_clock_state *c = &w->clock;

	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (c->thread_started)
		pthread_join(c->thread, NULL);
	IH_WARN_ON(w, c->timers != NULL, "clock: timer still armed at world teardown");
	pthread_cond_destroy(&c->cond);
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->lock);
}

u64 ih_clock_now_ns(struct ih_world *w)
{
	if (w->clock.kind == IH_CLOCK_VIRTUAL)
		return __atomic_load_n(&w->clock.virt_now_ns, __ATOMIC_ACQUIRE);
	return mono_ns() - w->clock.start_ns;
}

void ih_timer_init(struct ih_timer *t, ih_timer_fn fn)
{
	t->fn = fn;
	t->expires_ns = 0;
	t->next = NULL;
	t->armed = false;
}

static void unlink_locked(struct ih_clock_state *c, struct ih_timer *t)
{
	for (struct ih_timer **pp = &c->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			t->next = NULL;
			t->armed = false;
			return;
		}
	}
}

static void insert_locked(struct ih_clock_state *c, struct ih_timer *t)
{
	struct ih_timer **pp = &c->timers;

	/* Stable: equal expiry fires in arming order. */
	while (*pp && (*pp)->expires_ns <= t->expires_ns)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

/* Pop the first timer due at @now and mark it running; NULL if none. */
static struct ih_timer *pop_due_locked(struct ih_clock_state *c, u64 now)
{
	struct ih_timer *t = c->timers;

	if (!t || t->expires_ns > now)
		return NULL;
	c->timers = t->next;
	t->next = NULL;
	t->armed = false;
	c->running = t;
	return t;
}

static void run_locked(struct ih_clock_state *c, struct ih_timer *t)
{
	c->runner = pthread_self();
	pthread_mutex_unlock(&c->lock);
	t->fn(t);
	pthread_mutex_lock(&c->lock);
	c->running = NULL;
	pthread_cond_broadcast(&c->done);
}

static void *timer_thread(void *arg)
{
	struct ih_world *w = arg;
	struct ih_clock_state *c = &w->clock;

	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		u64 now = ih_clock_now_ns(w);
		struct ih_timer *t = pop_due_locked(c, now);

		if (t) {
			run_locked(c, t);
			continue;
		}
		if (c->timers) {
			u64 abs = c->start_ns + c->timers->expires_ns;
			struct timespec ts = { .tv_sec = (time_t)(abs / 1000000000ULL),
					       .tv_nsec = (long)(abs % 1000000000ULL) };

			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		} else {
			pthread_cond_wait(&c->cond, &c->lock);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int ih_clock_advance(struct ih_world *w, u64 ns)
{
	struct ih_clock_state *c = &w->clock;
	struct ih_timer *t;
	u64 target;
	int ran = 0;

	if (c->kind != IH_CLOCK_VIRTUAL)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	target = c->virt_now_ns + ns;
	/* Step the clock to each expiry in turn, so a callback sees its own deadline as now. */
	while (c->timers && c->timers->expires_ns <= target) {
		if (c->timers->expires_ns > c->virt_now_ns)
			__atomic_store_n(&c->virt_now_ns, c->timers->expires_ns, __ATOMIC_RELEASE);
		t = pop_due_locked(c, c->virt_now_ns);
		run_locked(c, t);
		ran++;
	}
	__atomic_store_n(&c->virt_now_ns, target, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
	return ran;
}

int ih_timer_arm(struct ih_world *w, struct ih_timer *t, u64 delay_ns)
{
	struct ih_clock_state *c = &w->clock;
	int ret = 0;

	pthread_mutex_lock(&c->lock);
	if (c->kind == IH_CLOCK_REAL && !c->thread_started) {
		if (pthread_create(&c->thread, NULL, timer_thread, w)) {
			ret = -ENOMEM;
			goto out;
		}
		c->thread_started = true;
	}
	if (t->armed)
		unlink_locked(c, t);
	t->expires_ns = ih_clock_now_ns(w) + delay_ns;
	insert_locked(c, t);
	pthread_cond_broadcast(&c->cond);
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

bool ih_timer_cancel(struct ih_world *w, struct ih_timer *t)
{
	struct ih_clock_state *c = &w->clock;
	bool was;

	pthread_mutex_lock(&c->lock);
	was = t->armed;
	if (was)
		unlink_locked(c, t);
	/*
	 * Wait out a running callback, unless we are it (it may cancel itself). The callback
	 * may re-arm its own timer meanwhile: disarm again after each wait, so that on return
	 * the timer is neither running nor pending, as with del_timer_sync().
	 */
	while (c->running == t && !pthread_equal(c->runner, pthread_self())) {
		pthread_cond_wait(&c->done, &c->lock);
		if (t->armed)
			unlink_locked(c, t);
	}
	pthread_mutex_unlock(&c->lock);
	return was;
}

bool ih_timer_pending(struct ih_world *w, struct ih_timer *t)
{
	bool armed;

	pthread_mutex_lock(&w->clock.lock);
	armed = t->armed;
	pthread_mutex_unlock(&w->clock.lock);
	return armed;
}
