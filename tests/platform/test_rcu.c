// SPDX-License-Identifier: MIT
/* RCU wrapper: publish/dereference, nesting, grace periods wait for readers, callbacks. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <ih/alloc.h>
#include <ih/rcu.h>
#include <ih/world.h>

struct item {
	int value;
	struct ih_world *w;
	unsigned int *freed;
	struct ih_rcu_head rcu;
};

Test(rcu, dereference_returns_what_was_assigned)
{
	struct item a = { .value = 1 }, b = { .value = 2 };
	struct item *p = NULL;

	ih_rcu_assign_pointer(p, &a);
	ih_rcu_read_lock();
	cr_expect_eq(ih_rcu_dereference(p), &a);
	cr_expect_eq(ih_rcu_dereference(p)->value, 1);
	ih_rcu_read_unlock();
	ih_rcu_assign_pointer(p, &b);
	ih_rcu_read_lock();
	cr_expect_eq(ih_rcu_dereference(p)->value, 2);
	ih_rcu_read_unlock();
	ih_rcu_assign_pointer(p, NULL);
	cr_expect_null(p);
}

Test(rcu, read_lock_nests_and_is_visible)
{
	cr_expect_not(ih_rcu_read_lock_held());
	ih_rcu_read_lock();
	ih_rcu_read_lock();
	cr_expect(ih_rcu_read_lock_held());
	ih_rcu_read_unlock();
	cr_expect(ih_rcu_read_lock_held(), "still inside the outer section");
	ih_rcu_read_unlock();
	cr_expect_not(ih_rcu_read_lock_held());
	/* No reader: a grace period ends at once. */
	ih_synchronize_rcu();
}

Test(rcu, synchronize_inside_reader_is_a_harness_bug, .signal = SIGABRT)
{
	ih_rcu_read_lock();
	ih_synchronize_rcu();
}

struct gp_race {
	bool reader_in;  /* atomic */
	bool sync_start; /* atomic */
	bool sync_done;  /* atomic */
	bool done_seen_inside;
};

static void *reader_thread(void *arg)
{
	struct gp_race *g = arg;
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

	ih_rcu_read_lock();
	__atomic_store_n(&g->reader_in, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&g->sync_start, __ATOMIC_ACQUIRE))
		;
	/* Give a wrong synchronize 50 ms to return while we are still inside. */
	nanosleep(&ts, NULL);
	g->done_seen_inside = __atomic_load_n(&g->sync_done, __ATOMIC_ACQUIRE);
	ih_rcu_read_unlock();
	return NULL;
}

Test(rcu, synchronize_waits_for_a_pre_existing_reader)
{
	struct gp_race g = { 0 };
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, reader_thread, &g), 0);
	while (!__atomic_load_n(&g.reader_in, __ATOMIC_ACQUIRE))
		;
	__atomic_store_n(&g.sync_start, true, __ATOMIC_RELEASE);
	ih_synchronize_rcu();
	__atomic_store_n(&g.sync_done, true, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	cr_expect_not(g.done_seen_inside, "synchronize returned while a reader was inside");
}

static void item_free_rcu(struct ih_rcu_head *rh)
{
	struct item *it = container_of(rh, struct item, rcu);

	__atomic_add_fetch(it->freed, (unsigned int)it->value, __ATOMIC_RELAXED);
	ih_free(it->w, it);
}

Test(rcu, call_rcu_callbacks_have_all_run_after_barrier)
{
	struct ih_world *w;
	unsigned int freed = 0;

	cr_assert_eq(ih_world_create(NULL, &w), 0);
	/* Values 1, 2, 4, 8: the sum says each callback ran exactly once on its own item. */
	for (int i = 0; i < 4; i++) {
		struct item *it = ih_alloc(w, sizeof(*it), "test:item");

		cr_assert_not_null(it);
		it->value = 1 << i;
		it->w = w;
		it->freed = &freed;
		ih_call_rcu(&it->rcu, item_free_rcu);
	}
	ih_rcu_barrier();
	cr_expect_eq(__atomic_load_n(&freed, __ATOMIC_RELAXED), 15);
	cr_expect_eq(ih_alloc_live_count(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}
