/* SPDX-License-Identifier: MIT */
/* The world clock and one-shot timers for deferred work (flush-queue timeouts, retries). */
#ifndef IH_CLOCK_H
#define IH_CLOCK_H

#include <ih/compat.h>

struct ih_world;
struct ih_timer;

typedef void (*ih_timer_fn)(struct ih_timer *t);

/**
 * struct ih_timer - a one-shot timer embedded in its owner (container_of from @fn).
 * Fields are private to core/platform/clock.c; initialise with ih_timer_init().
 */
struct ih_timer {
	ih_timer_fn fn;
	u64 expires_ns;
	struct ih_timer *next;
	bool armed;
};

/*
 * Synchronisation:
 *   ih_timer_arm / ih_timer_cancel / ih_timer_pending: any thread, any time.
 *   The callback runs with no clock lock held and may re-arm its own timer.
 *   Virtual clock: callbacks run inside ih_clock_advance(), on the advancing thread.
 *   Real clock: callbacks run on the world's timer thread.
 */

/* Now, in nanoseconds since the world was created. */
u64 ih_clock_now_ns(struct ih_world *w);

/**
 * ih_clock_advance() - move the virtual clock forward by @ns and run every timer due, in
 * expiry order. Return: timers run, or -EINVAL on a real-clock world.
 */
int ih_clock_advance(struct ih_world *w, u64 ns);

void ih_timer_init(struct ih_timer *t, ih_timer_fn fn);

/**
 * ih_timer_arm() - fire @t once, @delay_ns from now. Re-arming a pending timer moves it.
 * Return: 0, or -ENOMEM when the real-clock timer thread cannot start.
 */
int ih_timer_arm(struct ih_world *w, struct ih_timer *t, u64 delay_ns);

/**
 * ih_timer_cancel() - disarm @t and wait until its callback is not running (unless called
 * from that callback). A callback that re-arms its own timer while cancel waits is
 * disarmed again: on return @t is neither pending nor running.
 * Return: true if it was pending when cancel was called.
 */
bool ih_timer_cancel(struct ih_world *w, struct ih_timer *t);

bool ih_timer_pending(struct ih_world *w, struct ih_timer *t);

#endif /* IH_CLOCK_H */
