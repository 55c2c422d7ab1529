// SPDX-License-Identifier: MIT
/* World clock: virtual time and its timers, the real clock's timer thread, cancel. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <time.h>

#include <ih/alloc.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/world.h>

static struct ih_world *w;

static void setup(void)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
}

static void teardown(void)
{
	cr_expect_eq(ih_warn_count(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(clock, .init = setup, .fini = teardown);

/* A timer that logs (id, now) into a shared record each time it fires. */
struct rec {
	unsigned int n;
	unsigned int id[16];
	u64 now[16];
};

struct tmr {
	struct ih_timer t;
	struct ih_world *w;
	struct rec *rec;
	unsigned int id;
	unsigned int rearm_left; /* re-arm itself this many more times */
	u64 rearm_ns;
};

static void tmr_fire(struct ih_timer *t)
{
	struct tmr *m = container_of(t, struct tmr, t);
	struct rec *r = m->rec;

	if (r->n < ARRAY_SIZE(r->id)) {
		r->id[r->n] = m->id;
		r->now[r->n] = ih_clock_now_ns(m->w);
	}
	r->n++;
	if (m->rearm_left) {
		m->rearm_left--;
		ih_timer_arm(m->w, t, m->rearm_ns);
	}
}

static void tmr_init(struct tmr *m, struct rec *r, unsigned int id)
{
	*m = (struct tmr){ .w = w, .rec = r, .id = id };
	ih_timer_init(&m->t, tmr_fire);
}

Test(clock, virtual_clock_starts_at_zero_and_moves_only_when_advanced)
{
	cr_expect_eq(ih_clock_now_ns(w), 0);
	cr_expect_eq(ih_clock_advance(w, 1500), 0, "no timer ran");
	cr_expect_eq(ih_clock_now_ns(w), 1500);
	cr_expect_eq(ih_clock_now_ns(w), 1500);
}

Test(clock, advance_runs_due_timers_in_expiry_order_at_their_deadline)
{
	struct rec r = { 0 };
	struct tmr t1, t2, t3;

	tmr_init(&t1, &r, 1);
	tmr_init(&t2, &r, 2);
	tmr_init(&t3, &r, 3);
	cr_assert_eq(ih_timer_arm(w, &t1.t, 300), 0);
	cr_assert_eq(ih_timer_arm(w, &t2.t, 100), 0);
	cr_assert_eq(ih_timer_arm(w, &t3.t, 200), 0);
	cr_expect_eq(ih_clock_advance(w, 250), 2);
	cr_assert_eq(r.n, 2);
	cr_expect_eq(r.id[0], 2);
	cr_expect_eq(r.now[0], 100, "a callback sees its own deadline as now");
	cr_expect_eq(r.id[1], 3);
	cr_expect_eq(r.now[1], 200);
	cr_expect_eq(ih_clock_now_ns(w), 250);
	cr_expect(ih_timer_pending(w, &t1.t));
	cr_expect_not(ih_timer_pending(w, &t2.t));
	/* Deadline 300 is reached exactly: due timers include expiry == now. */
	cr_expect_eq(ih_clock_advance(w, 50), 1);
	cr_expect_eq(r.id[2], 1);
	cr_expect_eq(r.now[2], 300);
	cr_expect_eq(ih_clock_advance(w, 1000), 0, "one-shot timers do not fire again");
}

Test(clock, equal_deadlines_fire_in_arming_order)
{
	struct rec r = { 0 };
	struct tmr t[3];

	for (unsigned int i = 0; i < 3; i++) {
		tmr_init(&t[i], &r, i);
		cr_assert_eq(ih_timer_arm(w, &t[i].t, 10), 0);
	}
	cr_expect_eq(ih_clock_advance(w, 10), 3);
	cr_expect_eq(r.id[0], 0);
	cr_expect_eq(r.id[1], 1);
	cr_expect_eq(r.id[2], 2);
}

Test(clock, rearming_a_pending_timer_moves_it)
{
	struct rec r = { 0 };
	struct tmr t;

	tmr_init(&t, &r, 1);
	cr_assert_eq(ih_timer_arm(w, &t.t, 100), 0);
	cr_assert_eq(ih_timer_arm(w, &t.t, 500), 0);
	cr_expect_eq(ih_clock_advance(w, 200), 0, "the first deadline no longer exists");
	cr_expect(ih_timer_pending(w, &t.t));
	cr_expect_eq(ih_clock_advance(w, 300), 1, "fires once, at 500");
	cr_expect_eq(r.now[0], 500);
	/* Re-arm earlier: delay counts from now (500). */
	cr_assert_eq(ih_timer_arm(w, &t.t, 1000), 0);
	cr_assert_eq(ih_timer_arm(w, &t.t, 10), 0);
	cr_expect_eq(ih_clock_advance(w, 10), 1);
	cr_expect_eq(r.now[1], 510);
	cr_expect_eq(r.n, 2);
}

Test(clock, cancel_disarms_and_says_whether_it_was_pending)
{
	struct rec r = { 0 };
	struct tmr t;

	tmr_init(&t, &r, 1);
	cr_expect_not(ih_timer_cancel(w, &t.t), "never armed");
	cr_assert_eq(ih_timer_arm(w, &t.t, 100), 0);
	cr_expect(ih_timer_pending(w, &t.t));
	cr_expect(ih_timer_cancel(w, &t.t));
	cr_expect_not(ih_timer_pending(w, &t.t));
	cr_expect_not(ih_timer_cancel(w, &t.t), "already cancelled");
	cr_expect_eq(ih_clock_advance(w, 1000), 0);
	cr_expect_eq(r.n, 0);
}

Test(clock, callback_rearming_itself_runs_again_within_the_same_advance)
{
	struct rec r = { 0 };
	struct tmr t;

	tmr_init(&t, &r, 7);
	t.rearm_left = 2;
	t.rearm_ns = 100;
	cr_assert_eq(ih_timer_arm(w, &t.t, 100), 0);
	/* 100, then re-armed for 200, then 300; the third run does not re-arm. */
	cr_expect_eq(ih_clock_advance(w, 1000), 3);
	cr_assert_eq(r.n, 3);
	cr_expect_eq(r.now[0], 100);
	cr_expect_eq(r.now[1], 200);
	cr_expect_eq(r.now[2], 300);
	cr_expect_not(ih_timer_pending(w, &t.t));
	cr_expect_eq(ih_clock_now_ns(w), 1000);
}

Test(clock, rearm_past_the_advance_target_waits_for_the_next_advance)
{
	struct rec r = { 0 };
	struct tmr t;

	tmr_init(&t, &r, 7);
	t.rearm_left = 1;
	t.rearm_ns = 100;
	cr_assert_eq(ih_timer_arm(w, &t.t, 50), 0);
	cr_expect_eq(ih_clock_advance(w, 100), 1, "the re-armed deadline is 150");
	cr_expect(ih_timer_pending(w, &t.t));
	cr_expect_eq(ih_clock_advance(w, 50), 1);
	cr_expect_eq(r.now[1], 150);
}

/* The kernel allows a timer callback to free the object its timer is embedded in. */
struct owned {
	struct ih_timer t;
	struct ih_world *w;
	unsigned int *fired;
};

static void owned_fire_and_free(struct ih_timer *t)
{
	struct owned *o = container_of(t, struct owned, t);

	(*o->fired)++;
	ih_free(o->w, o);
}

Test(clock, callback_may_free_the_timer_owner)
{
	struct owned *o = ih_alloc(w, sizeof(*o), "test:owned");
	unsigned int fired = 0;

	cr_assert_not_null(o);
	o->w = w;
	o->fired = &fired;
	ih_timer_init(&o->t, owned_fire_and_free);
	cr_assert_eq(ih_timer_arm(w, &o->t, 5), 0);
	/* ASan reports here if the clock touches the timer after its callback returned. */
	cr_expect_eq(ih_clock_advance(w, 5), 1);
	cr_expect_eq(fired, 1);
	cr_expect_eq(ih_alloc_live_count(w), 0);
}

Test(clock, advance_on_a_real_clock_is_einval)
{
	struct ih_world_config cfg;
	struct ih_world *rw;

	ih_world_config_init(&cfg);
	cfg.clock = IH_CLOCK_REAL;
	cr_assert_eq(ih_world_create(&cfg, &rw), 0);
	cr_expect_eq(ih_clock_advance(rw, 1), -EINVAL);
	cr_expect_eq(ih_world_destroy(rw), 0);
}

/* Real clock: shared state between the test thread and the world's timer thread. */
struct real_tmr {
	struct ih_timer t;
	struct ih_world *w;
	pthread_t caller;
	bool entered;  /* atomic */
	bool finished; /* atomic */
	bool on_caller;
	u64 fired_at;
	unsigned int hold_ms; /* callback runs this long */
	u64 rearm_ns;         /* callback re-arms itself once with this delay (0: no) */
};

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void real_fire(struct ih_timer *t)
{
	struct real_tmr *m = container_of(t, struct real_tmr, t);

	m->fired_at = ih_clock_now_ns(m->w);
	m->on_caller = pthread_equal(pthread_self(), m->caller);
	__atomic_store_n(&m->entered, true, __ATOMIC_RELEASE);
	if (m->hold_ms)
		sleep_ms(m->hold_ms);
	if (m->rearm_ns) {
		ih_timer_arm(m->w, t, m->rearm_ns);
		m->rearm_ns = 0;
	}
	__atomic_store_n(&m->finished, true, __ATOMIC_RELEASE);
}

static struct ih_world *real_world(void)
{
	struct ih_world_config cfg;
	struct ih_world *rw;

	ih_world_config_init(&cfg);
	cfg.clock = IH_CLOCK_REAL;
	cfg.mode = IH_EXEC_CONCURRENT;
	cr_assert_eq(ih_world_create(&cfg, &rw), 0);
	return rw;
}

/* Wait up to @ms for @flag; polling is fine in a test, never in the model. */
static bool wait_flag(bool *flag, unsigned int ms)
{
	for (unsigned int i = 0; i < ms; i++) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE))
			return true;
		sleep_ms(1);
	}
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

Test(clock, real_clock_is_monotonic_from_world_creation)
{
	struct ih_world *rw = real_world();
	u64 a = ih_clock_now_ns(rw);
	u64 b;

	sleep_ms(2);
	b = ih_clock_now_ns(rw);
	cr_expect_geq(b, a + 2000000, "2 ms passed: %llu -> %llu", (unsigned long long)a,
		      (unsigned long long)b);
	cr_expect_lt(a, 1000000000ULL, "a fresh world's clock is near zero");
	cr_expect_eq(ih_world_destroy(rw), 0);
}

Test(clock, real_timer_fires_on_the_timer_thread_after_its_deadline)
{
	struct ih_world *rw = real_world();
	struct real_tmr m = { .w = rw, .caller = pthread_self() };
	u64 armed_at;

	ih_timer_init(&m.t, real_fire);
	armed_at = ih_clock_now_ns(rw);
	cr_assert_eq(ih_timer_arm(rw, &m.t, 2000000), 0);
	/* Generous bound: the machine is shared; 2 ms may take far longer to come round. */
	cr_assert(wait_flag(&m.finished, 5000), "timer did not fire within 5 s");
	cr_expect_not(m.on_caller, "callbacks run on the world's timer thread");
	cr_expect_geq(m.fired_at, armed_at + 2000000, "fired before its deadline");
	cr_expect_not(ih_timer_pending(rw, &m.t));
	cr_expect_eq(ih_world_destroy(rw), 0);
}

Test(clock, real_cancel_waits_for_a_running_callback)
{
	struct ih_world *rw = real_world();
	struct real_tmr m = { .w = rw, .caller = pthread_self(), .hold_ms = 100 };

	ih_timer_init(&m.t, real_fire);
	cr_assert_eq(ih_timer_arm(rw, &m.t, 0), 0);
	cr_assert(wait_flag(&m.entered, 5000), "timer did not fire within 5 s");
	cr_expect_not(ih_timer_cancel(rw, &m.t), "a running timer is no longer pending");
	cr_expect(__atomic_load_n(&m.finished, __ATOMIC_ACQUIRE),
		  "cancel returned while the callback was still running");
	cr_expect_eq(ih_world_destroy(rw), 0);
}

Test(clock, real_cancel_leaves_a_self_rearming_timer_disarmed)
{
	struct ih_world *rw = real_world();
	struct real_tmr m = { .w = rw, .caller = pthread_self(), .hold_ms = 50 };

	/* The callback re-arms itself (far in the future) while cancel waits for it. */
	m.rearm_ns = 60ULL * 1000000000ULL;
	ih_timer_init(&m.t, real_fire);
	cr_assert_eq(ih_timer_arm(rw, &m.t, 0), 0);
	cr_assert(wait_flag(&m.entered, 5000), "timer did not fire within 5 s");
	ih_timer_cancel(rw, &m.t);
	cr_expect(__atomic_load_n(&m.finished, __ATOMIC_ACQUIRE));
	cr_expect_not(ih_timer_pending(rw, &m.t),
		      "after cancel the timer is neither running nor pending");
	cr_expect_eq(ih_warn_count(rw), 0);
	cr_expect_eq(ih_world_destroy(rw), 0);
}
