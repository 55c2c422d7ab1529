// SPDX-License-Identifier: MIT
/*
 * TSan scenario: RCU readers against an updater that replaces and reclaims an object.
 *
 * Threads: 2 readers and 1 updater (plus liburcu's call_rcu thread), started together on
 * a flag. The updater publishes ITERS generations of a small object; each replaced object
 * is reclaimed after a grace period, alternately by ih_synchronize_rcu() + ih_free() and
 * by ih_call_rcu() with a callback that frees it. Readers loop until told to stop: lock,
 * dereference, check the object, unlock.
 *
 * Invariant: a reader always sees a whole object (b == ~a, a == gen * K) and, per reader,
 * generations never go backwards; after ih_rcu_barrier() every queued callback has run;
 * the world ends with no model leak.
 *
 * Expected outcome: no ThreadSanitizer report, exit 0 (1 when the invariant breaks).
 * With --skip-grace-period the updater frees the old object right after publishing the
 * new one; ThreadSanitizer must then report a data race or heap-use-after-free between a
 * reader and the free (ctest test tsan_rcu_skip_grace_period expects exactly that), which
 * shows that the RCU annotations in core/platform/rcu.c hide no real bug.
 *
 * Usage: tsan_rcu [--skip-grace-period] [--seed=N]; the seed (printed) varies the random
 * yields inside read-side sections and the updater's pacing.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ih/alloc.h>
#include <ih/rcu.h>
#include <ih/sched.h>
#include <ih/world.h>

#define NREADERS 2
#define ITERS    400
#define K        0x9e3779b97f4a7c15ULL

struct scenario;

struct obj {
	u64 gen;
	u64 a;
	u64 b;
	struct scenario *s; /* for the call_rcu callback */
	struct ih_rcu_head rcu;
};

struct scenario {
	struct ih_world *w;
	bool skip_grace_period;
	struct obj *cur;             /* RCU-protected; written by the updater only */
	unsigned int ready;          /* atomic: threads waiting for go */
	bool go;                     /* atomic: start flag */
	bool stop;                   /* atomic: readers stop */
	unsigned long callbacks_run; /* atomic */
	unsigned long callbacks_queued;
	unsigned long syncs;
	bool alloc_failed;
};

struct reader {
	struct scenario *s;
	unsigned int cpu;
	unsigned long reads;
	unsigned long violations;
};

static void wait_for_go(struct scenario *s)
{
	__atomic_add_fetch(&s->ready, 1, __ATOMIC_RELAXED);
	/* Acquire pairs with main's release of go: set-up is visible to every thread. */
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		sched_yield();
}

static struct obj *obj_new(struct scenario *s, u64 gen)
{
	struct obj *o = ih_alloc(s->w, sizeof(*o), "tsan_rcu:obj");

	if (!o)
		return NULL;
	o->gen = gen;
	o->a = gen * K;
	o->b = ~o->a;
	o->s = s;
	return o;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct scenario *s = r->s;
	u64 last_gen = 0;

	ih_thread_set_cpu(s->w, r->cpu);
	wait_for_go(s);
	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		struct obj *o;

		ih_rcu_read_lock();
		o = ih_rcu_dereference(s->cur);
		/* Check the object twice around a possible yield: a long-lived reference. */
		if (o->b != ~o->a || o->a != o->gen * K || o->gen < last_gen)
			r->violations++;
		ih_sched_point(s->w, "tsan_rcu:reader-inside");
		if (o->b != ~o->a || o->a != o->gen * K)
			r->violations++;
		last_gen = o->gen;
		ih_rcu_read_unlock();
		r->reads++;
	}
	return NULL;
}

static void obj_free_rcu(struct ih_rcu_head *rh)
{
	struct obj *o = container_of(rh, struct obj, rcu);
	struct scenario *s = o->s;

	ih_free(s->w, o);
	__atomic_add_fetch(&s->callbacks_run, 1, __ATOMIC_RELAXED);
}

static void *updater_main(void *arg)
{
	struct scenario *s = arg;

	ih_thread_set_cpu(s->w, NREADERS);
	wait_for_go(s);
	for (u64 gen = 2; gen <= ITERS + 1; gen++) {
		struct obj *n = obj_new(s, gen);
		struct obj *old = s->cur;

		if (!n) {
			s->alloc_failed = true;
			break;
		}
		ih_rcu_assign_pointer(s->cur, n);
		if (s->skip_grace_period) {
			/* The bug under test: a reader may still hold @old. */
			ih_free(s->w, old);
		} else if (gen % 2) {
			ih_call_rcu(&old->rcu, obj_free_rcu);
			s->callbacks_queued++;
		} else {
			ih_synchronize_rcu();
			s->syncs++;
			ih_free(s->w, old);
		}
		/* Seeded pacing: sometimes let the readers run on the new object first. */
		if (ih_world_rand(s->w) % 4 == 0)
			sched_yield();
	}
	/* Release pairs with the readers' acquire of stop. */
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	return NULL;
}

static u64 parse_args(int argc, char **argv, bool *skip)
{
	struct timespec ts;
	u64 seed;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--skip-grace-period")) {
			*skip = true;
		} else if (!strncmp(argv[i], "--seed=", 7)) {
			seed = strtoull(argv[i] + 7, NULL, 0);
		} else {
			fprintf(stderr, "usage: %s [--skip-grace-period] [--seed=N]\n", argv[0]);
			exit(2);
		}
	}
	return seed;
}

int main(int argc, char **argv)
{
	struct scenario s = { 0 };
	struct reader readers[NREADERS];
	pthread_t tid[NREADERS + 1];
	struct ih_world_config cfg;
	unsigned long violations = 0, reads = 0;
	size_t leaked;
	int ret;

	ih_world_config_init(&cfg);
	cfg.mode = IH_EXEC_CONCURRENT;
	cfg.ncpus = NREADERS + 1;
	cfg.seed = parse_args(argc, argv, &s.skip_grace_period);
	printf("tsan_rcu: seed=%llu readers=%d iterations=%d%s\n", (unsigned long long)cfg.seed,
	       NREADERS, ITERS, s.skip_grace_period ? " skip-grace-period" : "");
	fflush(stdout);
	ret = ih_world_create(&cfg, &s.w);
	if (ret) {
		fprintf(stderr, "tsan_rcu: world: %s\n", strerror(-ret));
		return 1;
	}
	/* Yield inside 1 in 8 read-side sections to stretch them across updates. */
	ih_sched_set_random_yield(s.w, 125000);
	s.cur = obj_new(&s, 1);
	if (!s.cur) {
		fprintf(stderr, "tsan_rcu: out of memory\n");
		return 1;
	}

	for (unsigned int i = 0; i < NREADERS; i++) {
		readers[i] = (struct reader){ .s = &s, .cpu = i };
		if (pthread_create(&tid[i], NULL, reader_main, &readers[i]))
			return 1;
	}
	if (pthread_create(&tid[NREADERS], NULL, updater_main, &s))
		return 1;
	while (__atomic_load_n(&s.ready, __ATOMIC_RELAXED) != NREADERS + 1)
		sched_yield();
	/* Release: the world and the first object happen-before every thread's start. */
	__atomic_store_n(&s.go, true, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < NREADERS + 1; i++)
		pthread_join(tid[i], NULL);

	/* Every reader has stopped: the last object needs no grace period. */
	ih_free(s.w, s.cur);
	ih_rcu_barrier();
	for (unsigned int i = 0; i < NREADERS; i++) {
		violations += readers[i].violations;
		reads += readers[i].reads;
	}
	printf("tsan_rcu: reads=%lu syncs=%lu callbacks=%lu/%lu violations=%lu\n", reads, s.syncs,
	       __atomic_load_n(&s.callbacks_run, __ATOMIC_RELAXED), s.callbacks_queued,
	       violations);
	ret = 0;
	if (s.alloc_failed || violations ||
	    __atomic_load_n(&s.callbacks_run, __ATOMIC_RELAXED) != s.callbacks_queued) {
		fprintf(stderr, "tsan_rcu: FAIL: invariant broken\n");
		ret = 1;
	}
	leaked = ih_world_destroy(s.w);
	if (leaked) {
		fprintf(stderr, "tsan_rcu: FAIL: %zu model block(s) leaked\n", leaked);
		ret = 1;
	}
	if (s.skip_grace_period)
		fprintf(stderr, "tsan_rcu: no ThreadSanitizer report without grace periods\n");
	return ret;
}
