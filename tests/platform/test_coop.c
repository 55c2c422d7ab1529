// SPDX-License-Identifier: MIT
/* The cooperative scheduler: scripts, lock hand-off, seeded, PCT and choice runs, pools. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <ih/coop.h>
#include <ih/mutex.h>
#include <ih/sched.h>
#include <ih/world.h>

static struct ih_world *w;
static struct ih_coop *c;

static void setup(void)
{
	struct ih_world_config cfg;

	ih_world_config_init(&cfg);
	cfg.ncpus = 4;
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	cr_assert_eq(ih_coop_create(w, &c), 0);
}

static void teardown(void)
{
	ih_coop_destroy(c);
	cr_expect_eq(ih_world_destroy(w), 0);
}

TestSuite(coop, .init = setup, .fini = teardown);

struct logbook {
	char buf[64];
	size_t n;
};

struct actor {
	struct logbook *log;
	char name;
};

/* Log "<name><step>" around two points p1 and p2. */
static void actor_fn(void *arg)
{
	struct actor *a = arg;

	a->log->buf[a->log->n++] = a->name;
	ih_sched_point(w, "p1");
	a->log->buf[a->log->n++] = (char)(a->name + 32);
	ih_sched_point(w, "p2");
	a->log->buf[a->log->n++] = '.';
}

Test(coop, script_orders_threads_at_points)
{
	struct logbook log = { 0 };
	struct actor a = { &log, 'A' }, b = { &log, 'B' };
	char trace[128];

	cr_assert_eq(ih_coop_add(c, actor_fn, &a, 0), 0);
	cr_assert_eq(ih_coop_add(c, actor_fn, &b, 1), 1);
	cr_assert_eq(ih_coop_run_script(c, "A@p1 B A", trace, sizeof(trace)), 0);
	/* A to p1, B to the end, A on. */
	cr_expect_str_eq(log.buf, "ABb.a.");
	cr_expect_str_eq(trace, "A@p1 B A");
}

Test(coop, script_with_two_points_interleaves_finely)
{
	struct logbook log = { 0 };
	struct actor a = { &log, 'A' }, b = { &log, 'B' };

	ih_coop_add(c, actor_fn, &a, 0);
	ih_coop_add(c, actor_fn, &b, 1);
	cr_assert_eq(ih_coop_run_script(c, "B@p1 A@p2 B@p2 A B", NULL, 0), 0);
	cr_expect_str_eq(log.buf, "BAab..");
}

Test(coop, bad_scripts_are_einval)
{
	struct logbook log = { 0 };
	struct actor a = { &log, 'A' };

	ih_coop_add(c, actor_fn, &a, 0);
	cr_expect_eq(ih_coop_run_script(c, "C", NULL, 0), -EINVAL, "no thread C");
	cr_expect_eq(ih_coop_run_script(c, "A@", NULL, 0), -EINVAL, "empty point name");
	cr_expect_eq(log.n, 0, "nothing ran");
	cr_expect_eq(ih_coop_run_script(c, "A@never", NULL, 0), -EINVAL,
		     "A finished without reaching the point");
	cr_expect_eq(log.n, 3, "but it did run to the end");
}

struct locker {
	struct ih_mutex *m;
	struct logbook *log;
	char name;
};

static void locker_fn(void *arg)
{
	struct locker *l = arg;

	ih_mutex_lock(l->m);
	l->log->buf[l->log->n++] = l->name;
	ih_sched_point(w, "held");
	l->log->buf[l->log->n++] = (char)(l->name + 32);
	ih_mutex_unlock(l->m);
	ih_sched_point(w, "released");
}

/* B wants the lock A holds: A runs until it lets go, then B (the script's choice) goes. */
Test(coop, blocked_step_lets_the_holder_run)
{
	struct ih_mutex m;
	struct logbook log = { 0 };
	struct locker a = { &m, &log, 'A' }, b = { &m, &log, 'B' };
	char trace[128];

	ih_mutex_init(&m);
	ih_coop_add(c, locker_fn, &a, 0);
	ih_coop_add(c, locker_fn, &b, 1);
	cr_assert_eq(ih_coop_run_script(c, "A@held B A", trace, sizeof(trace)), 0);
	cr_expect_str_eq(log.buf, "AaBb");
	cr_expect_str_eq(trace, "A@held B# A@released B A");
	ih_mutex_destroy(&m);
}

/* A trace replays the run it came from. */
Test(coop, trace_replays_as_script)
{
	struct ih_mutex m;
	struct logbook l1 = { 0 }, l2 = { 0 };
	struct locker a = { &m, &l1, 'A' }, b = { &m, &l1, 'B' };
	char trace[128], trace2[128];

	ih_mutex_init(&m);
	ih_coop_add(c, locker_fn, &a, 0);
	ih_coop_add(c, locker_fn, &b, 1);
	cr_assert_eq(ih_coop_run_random(c, 7, 0, 0, trace, sizeof(trace)), 0);
	a.log = b.log = &l2;
	ih_coop_add(c, locker_fn, &a, 0);
	ih_coop_add(c, locker_fn, &b, 1);
	cr_assert_eq(ih_coop_run_script(c, trace, trace2, sizeof(trace2)), 0);
	cr_expect_str_eq(l1.buf, l2.buf);
	cr_expect_str_eq(trace, trace2);
	ih_mutex_destroy(&m);
}

/* A lost update: read, point, write. Exploration must find the bad interleaving. */
struct racer {
	int *counter;
};

static void racer_fn(void *arg)
{
	struct racer *r = arg;
	int v = *r->counter;

	ih_sched_point(w, "after-read");
	*r->counter = v + 1;
}

static int seeds_to_lost_update(unsigned int depth)
{
	for (u64 seed = 1; seed <= 64; seed++) {
		int counter = 0;
		struct racer r = { &counter };

		ih_coop_add(c, racer_fn, &r, 0);
		ih_coop_add(c, racer_fn, &r, 1);
		cr_assert_eq(ih_coop_run_random(c, seed, depth, 4, NULL, 0), 0);
		if (counter != 2)
			return (int)seed;
	}
	return -1;
}

Test(coop, random_exploration_finds_a_lost_update)
{
	int uniform = seeds_to_lost_update(0);
	int pct = seeds_to_lost_update(2);

	cr_expect(uniform > 0 && uniform <= 16, "uniform random took %d seeds", uniform);
	cr_expect(pct > 0 && pct <= 16, "PCT depth 2 took %d seeds", pct);
}

Test(coop, same_seed_same_schedule)
{
	char t1[128], t2[128];

	for (int run = 0; run < 2; run++) {
		struct logbook log = { 0 };
		struct actor a = { &log, 'A' }, b = { &log, 'B' }, d = { &log, 'C' };

		ih_coop_add(c, actor_fn, &a, 0);
		ih_coop_add(c, actor_fn, &b, 1);
		ih_coop_add(c, actor_fn, &d, 2);
		cr_assert_eq(ih_coop_run_random(c, 99, 3, 8, run ? t2 : t1, sizeof(t1)), 0);
	}
	cr_expect_str_eq(t1, t2);
}

/* ---- choice-driven runs (ih_coop_run_choices) ---- */

/*
 * Two actors: decisions are the first pick and each point while both run. Bytes
 * 1 0 1 0: first pick 1 -> B; B@p1: 0 -> A; A@p1: 1 -> B; B@p2: 0 -> A; A@p2: the bytes
 * are out, A keeps running to its end; B is then the only candidate.
 */
Test(coop, choice_bytes_pick_among_runnable_threads)
{
	static const u8 choices[] = { 1, 0, 1, 0 };
	struct logbook log = { 0 };
	struct actor a = { &log, 'A' }, b = { &log, 'B' };
	char trace[128];

	ih_coop_add(c, actor_fn, &a, 0);
	ih_coop_add(c, actor_fn, &b, 1);
	cr_assert_eq(ih_coop_run_choices(c, choices, sizeof(choices), trace, sizeof(trace)), 0);
	cr_expect_str_eq(log.buf, "BAba..");
	cr_expect_str_eq(trace, "B@p1 A@p1 B@p2 A B");
}

Test(coop, empty_choices_run_each_thread_to_completion_in_order)
{
	struct logbook log = { 0 };
	struct actor a = { &log, 'A' }, b = { &log, 'B' };
	char trace[128];

	ih_coop_add(c, actor_fn, &a, 0);
	ih_coop_add(c, actor_fn, &b, 1);
	cr_assert_eq(ih_coop_run_choices(c, NULL, 0, trace, sizeof(trace)), 0);
	cr_expect_str_eq(log.buf, "Aa.Bb.");
	cr_expect_str_eq(trace, "A B");
}

/*
 * Three actors, bytes 0 0 0 1: A first and on through p1 and p2 (0 = the first
 * candidate, A itself); A's end leaves candidates {B, C}, so 1 picks C, not B.
 * Then 5 alone: 5 % 3 = 2 picks C among {A, B, C}.
 */
Test(coop, choice_indexes_the_candidates_in_thread_order)
{
	static const u8 choices[] = { 0, 0, 0, 1 }, five[] = { 5 };
	struct logbook log = { 0 }, log2 = { 0 };
	struct actor a = { &log, 'A' }, b = { &log, 'B' }, d = { &log, 'C' };
	char trace[128];

	ih_coop_add(c, actor_fn, &a, 0);
	ih_coop_add(c, actor_fn, &b, 1);
	ih_coop_add(c, actor_fn, &d, 2);
	cr_assert_eq(ih_coop_run_choices(c, choices, sizeof(choices), trace, sizeof(trace)), 0);
	cr_expect_str_eq(log.buf, "Aa.Cc.Bb.");
	cr_expect_str_eq(trace, "A C B");

	a.log = b.log = d.log = &log2;
	ih_coop_add(c, actor_fn, &a, 0);
	ih_coop_add(c, actor_fn, &b, 1);
	ih_coop_add(c, actor_fn, &d, 2);
	cr_assert_eq(ih_coop_run_choices(c, five, sizeof(five), trace, sizeof(trace)), 0);
	cr_expect_str_eq(log2.buf, "Cc.Aa.Bb.");
	cr_expect_str_eq(trace, "C A B");
}

/*
 * Bytes 0 1 1 with a lock: 0 -> A, which takes the lock; A@held: 1 -> B; B blocks on
 * the lock and A is the only candidate (no byte); A@released: the last 1 -> B. Had the
 * forced move used a byte, the bytes would be out at A@released and A would run on.
 */
Test(coop, forced_decisions_consume_no_byte)
{
	static const u8 choices[] = { 0, 1, 1 };
	struct ih_mutex m;
	struct logbook log = { 0 };
	struct locker a = { &m, &log, 'A' }, b = { &m, &log, 'B' };
	char trace[128];

	ih_mutex_init(&m);
	ih_coop_add(c, locker_fn, &a, 0);
	ih_coop_add(c, locker_fn, &b, 1);
	cr_assert_eq(ih_coop_run_choices(c, choices, sizeof(choices), trace, sizeof(trace)), 0);
	cr_expect_str_eq(log.buf, "AaBb");
	cr_expect_str_eq(trace, "A@held B# A@released B A");
	ih_mutex_destroy(&m);
}

/* Every byte string's trace replays as a script to the same run and the same trace. */
Test(coop, choice_trace_replays_as_script)
{
	static const u8 choices[] = { 7, 2, 9, 4, 1, 1, 0, 3 };

	for (size_t n = 0; n <= sizeof(choices); n++) {
		struct logbook l1 = { 0 }, l2 = { 0 };
		struct actor a = { &l1, 'A' }, b = { &l1, 'B' }, d = { &l1, 'C' };
		char trace[128], trace2[128];

		ih_coop_add(c, actor_fn, &a, 0);
		ih_coop_add(c, actor_fn, &b, 1);
		ih_coop_add(c, actor_fn, &d, 2);
		cr_assert_eq(ih_coop_run_choices(c, choices, n, trace, sizeof(trace)), 0);
		a.log = b.log = d.log = &l2;
		ih_coop_add(c, actor_fn, &a, 0);
		ih_coop_add(c, actor_fn, &b, 1);
		ih_coop_add(c, actor_fn, &d, 2);
		cr_assert_eq(ih_coop_run_script(c, trace, trace2, sizeof(trace2)), 0);
		cr_expect_str_eq(l1.buf, l2.buf, "%zu bytes", n);
		cr_expect_str_eq(trace, trace2, "%zu bytes", n);
	}
}

Test(coop, null_choices_with_a_length_are_einval)
{
	struct logbook log = { 0 };
	struct actor a = { &log, 'A' };

	ih_coop_add(c, actor_fn, &a, 0);
	cr_expect_eq(ih_coop_run_choices(c, NULL, 1, NULL, 0), -EINVAL);
	cr_expect_eq(log.n, 0, "nothing ran");
	cr_expect_eq(ih_coop_run_choices(c, NULL, 0, NULL, 0), 0, "the thread is still there");
	cr_expect_str_eq(log.buf, "Aa.");
}

static struct ih_mutex m1, m2;

static void ab_fn(void *arg)
{
	bool flip = arg != NULL;

	ih_mutex_lock(flip ? &m2 : &m1);
	ih_sched_point(w, "first");
	ih_mutex_lock(flip ? &m1 : &m2);
	ih_mutex_unlock(flip ? &m1 : &m2);
	ih_mutex_unlock(flip ? &m2 : &m1);
}

Test(coop, lock_order_inversion_is_reported_as_deadlock, .signal = SIGABRT)
{
	ih_mutex_init(&m1);
	ih_mutex_init(&m2);
	ih_coop_add(c, ab_fn, NULL, 0);
	ih_coop_add(c, ab_fn, (void *)1, 1);
	ih_coop_run_script(c, "A@first B@first A B", NULL, 0);
}

Test(coop, needs_a_sequential_world)
{
	struct ih_world_config cfg;
	struct ih_world *cw;
	struct ih_coop *cc;

	ih_world_config_init(&cfg);
	cfg.mode = IH_EXEC_CONCURRENT;
	cr_assert_eq(ih_world_create(&cfg, &cw), 0);
	cr_expect_eq(ih_coop_create(cw, &cc), -EINVAL);
	cr_expect_eq(ih_coop_create(w, &cc), -EINVAL, "w already has a scheduler");
	ih_world_destroy(cw);
}

/* Log "<name>", point p, "<lowercase name>", point p again, "." */
static void twice_fn(void *arg)
{
	struct actor *a = arg;

	for (int i = 0; i < 2; i++) {
		a->log->buf[a->log->n++] = (char)(a->name + 32 * i);
		ih_sched_point(w, "p");
	}
	a->log->buf[a->log->n++] = '.';
}

/*
 * A step "A@p" runs A to its next p only, so a switch at A's second p is traced as
 * "A@p A@p". Bytes 0 0 1: A first, stays at its first p (0), B at the second (1).
 */
Test(coop, trace_names_each_pass_of_a_repeated_point)
{
	static const u8 choices[] = { 0, 0, 1 };
	struct logbook l1 = { 0 }, l2 = { 0 };
	struct actor a1 = { &l1, 'A' }, b1 = { &l1, 'B' }, a2 = { &l2, 'A' }, b2 = { &l2, 'B' };
	char trace[128], trace2[128];

	ih_coop_add(c, twice_fn, &a1, 0);
	ih_coop_add(c, actor_fn, &b1, 1);
	cr_assert_eq(ih_coop_run_choices(c, choices, sizeof(choices), trace, sizeof(trace)), 0);
	cr_expect_str_eq(l1.buf, "AaBb..");
	cr_expect_str_eq(trace, "A@p A@p B A");
	ih_coop_add(c, twice_fn, &a2, 0);
	ih_coop_add(c, actor_fn, &b2, 1);
	cr_assert_eq(ih_coop_run_script(c, trace, trace2, sizeof(trace2)), 0);
	cr_expect_str_eq(l2.buf, "AaBb..");
	cr_expect_str_eq(trace2, trace);
}

/* The same for seeded runs: every seed's trace replays to the same run and trace. */
Test(coop, random_traces_with_repeated_points_replay)
{
	for (u64 seed = 1; seed <= 32; seed++) {
		struct logbook l1 = { 0 }, l2 = { 0 };
		struct actor a1 = { &l1, 'A' }, b1 = { &l1, 'B' };
		struct actor a2 = { &l2, 'A' }, b2 = { &l2, 'B' };
		char trace[128], trace2[128];

		ih_coop_add(c, twice_fn, &a1, 0);
		ih_coop_add(c, twice_fn, &b1, 1);
		cr_assert_eq(ih_coop_run_random(c, seed, 0, 0, trace, sizeof(trace)), 0);
		ih_coop_add(c, twice_fn, &a2, 0);
		ih_coop_add(c, twice_fn, &b2, 1);
		cr_assert_eq(ih_coop_run_script(c, trace, trace2, sizeof(trace2)), 0);
		cr_expect_str_eq(l2.buf, l1.buf, "seed %llu: %s", (unsigned long long)seed, trace);
		cr_expect_str_eq(trace2, trace, "seed %llu", (unsigned long long)seed);
	}
}

/* ---- pooled pthreads (ih_coop_workers) ---- */

struct seat {
	pthread_t self;
	unsigned int cpu;
};

/* The actor, recording which pthread and model CPU carried it. */
static void seated_fn(void *arg)
{
	struct seat *s = arg;

	s->self = pthread_self();
	s->cpu = ih_cpu_id(w);
	ih_sched_point(w, "p1");
}

/*
 * On a pool, runs keep their schedule and trace, logical thread i always rides worker i
 * (the same pthread, run after run), with its own model CPU; the lock hand-off parks a
 * pooled thread as it parks a fresh one; and the pool outlives a scheduler and its world.
 */
Test(coop, worker_pool_runs_the_same_schedules_on_reused_pthreads)
{
	static const u8 choices[] = { 1, 0, 1, 0 };
	struct ih_coop_workers *pool;
	struct seat s1[2], s2[2];
	struct logbook log = { 0 };
	struct actor a = { &log, 'A' }, b = { &log, 'B' };
	struct ih_mutex m;
	struct locker la = { &m, &log, 'A' }, lb = { &m, &log, 'B' };
	char trace[128];

	cr_assert_eq(ih_coop_workers_create(&pool), 0);
	cr_assert_eq(ih_coop_use_workers(c, pool), 0);
	ih_coop_add(c, actor_fn, &a, 0);
	ih_coop_add(c, actor_fn, &b, 1);
	cr_assert_eq(ih_coop_run_choices(c, choices, sizeof(choices), trace, sizeof(trace)), 0);
	cr_expect_str_eq(log.buf, "BAba..");
	cr_expect_str_eq(trace, "B@p1 A@p1 B@p2 A B");

	for (int run = 0; run < 2; run++) {
		struct seat *s = run ? s2 : s1;

		ih_coop_add(c, seated_fn, &s[0], 2);
		ih_coop_add(c, seated_fn, &s[1], 3);
		cr_assert_eq(ih_coop_run_choices(c, choices, sizeof(choices), NULL, 0), 0);
	}
	cr_expect(pthread_equal(s1[0].self, s2[0].self), "A rides worker 0 every run");
	cr_expect(pthread_equal(s1[1].self, s2[1].self), "B rides worker 1 every run");
	cr_expect(!pthread_equal(s1[0].self, s1[1].self));
	cr_expect(!pthread_equal(s1[0].self, pthread_self()));
	cr_expect_eq(s1[0].cpu, 2);
	cr_expect_eq(s1[1].cpu, 3);

	memset(&log, 0, sizeof(log));
	ih_mutex_init(&m);
	ih_coop_add(c, locker_fn, &la, 0);
	ih_coop_add(c, locker_fn, &lb, 1);
	cr_assert_eq(ih_coop_run_script(c, "A@held B A", trace, sizeof(trace)), 0);
	cr_expect_str_eq(log.buf, "AaBb");
	cr_expect_str_eq(trace, "A@held B# A@released B A");
	ih_mutex_destroy(&m);

	/* A second world and scheduler on the same pool. */
	{
		struct ih_world_config cfg;
		struct ih_world *w2, *w1 = w;
		struct ih_coop *c2;

		ih_world_config_init(&cfg);
		cfg.ncpus = 2;
		cr_assert_eq(ih_world_create(&cfg, &w2), 0);
		cr_assert_eq(ih_coop_create(w2, &c2), 0);
		cr_assert_eq(ih_coop_use_workers(c2, pool), 0);
		w = w2; /* seated_fn asks the global world for its CPU */
		ih_coop_add(c2, seated_fn, &s2[0], 1);
		ih_coop_add(c2, seated_fn, &s2[1], 0);
		cr_assert_eq(ih_coop_run_choices(c2, NULL, 0, trace, sizeof(trace)), 0);
		w = w1;
		cr_expect_str_eq(trace, "A B");
		cr_expect(pthread_equal(s1[0].self, s2[0].self));
		cr_expect_eq(s2[0].cpu, 1);
		cr_expect_eq(s2[1].cpu, 0);
		ih_coop_destroy(c2);
		cr_expect_eq(ih_world_destroy(w2), 0);
	}
	cr_assert_eq(ih_coop_use_workers(c, NULL), 0);
	ih_coop_workers_destroy(pool);
	ih_coop_workers_destroy(NULL);
}
