// SPDX-License-Identifier: MIT
/* Schedule points: the hook sees every point in order; without one, points are cheap. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/sched.h>
#include <ih/world.h>

struct point_log {
	unsigned int n;
	const char *name[8];
};

static void record_point(void *opaque, const char *name)
{
	struct point_log *log = opaque;

	if (log->n < ARRAY_SIZE(log->name))
		log->name[log->n] = name;
	log->n++;
}

static struct ih_world *world(enum ih_exec_mode mode, u64 seed)
{
	struct ih_world_config cfg;
	struct ih_world *w;

	ih_world_config_init(&cfg);
	cfg.mode = mode;
	cfg.seed = seed;
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	return w;
}

Test(sched, hook_receives_point_names_in_order_with_its_opaque)
{
	struct ih_world *w = world(IH_EXEC_SEQUENTIAL, 1);
	struct point_log log = { 0 };

	ih_sched_set_hook(w, record_point, &log);
	ih_sched_point(w, "fwspec:after-get");
	ih_sched_point(w, "group:attach");
	ih_sched_point(w, "fwspec:after-get");
	cr_assert_eq(log.n, 3);
	cr_expect_str_eq(log.name[0], "fwspec:after-get");
	cr_expect_str_eq(log.name[1], "group:attach");
	cr_expect_str_eq(log.name[2], "fwspec:after-get");
	/* Cleared: points no longer reach it. */
	ih_sched_set_hook(w, NULL, NULL);
	ih_sched_point(w, "after-clear");
	cr_expect_eq(log.n, 3);
	cr_expect_eq(ih_world_destroy(w), 0);
}

Test(sched, hook_also_runs_in_concurrent_mode_instead_of_random_yields)
{
	struct ih_world *w = world(IH_EXEC_CONCURRENT, 5);
	struct ih_world *ref = world(IH_EXEC_CONCURRENT, 5);
	struct point_log log = { 0 };

	ih_sched_set_random_yield(w, 1000000);
	ih_sched_set_hook(w, record_point, &log);
	for (int i = 0; i < 4; i++)
		ih_sched_point(w, "p");
	cr_expect_eq(log.n, 4);
	/* The hook replaces the random yield: no PRNG step was taken. */
	cr_expect_eq(ih_world_rand(w), ih_world_rand(ref));
	cr_expect_eq(ih_world_destroy(w), 0);
	cr_expect_eq(ih_world_destroy(ref), 0);
}

Test(sched, no_hook_in_sequential_mode_is_a_no_op)
{
	struct ih_world *w = world(IH_EXEC_SEQUENTIAL, 9);
	struct ih_world *ref = world(IH_EXEC_SEQUENTIAL, 9);

	/* Even with yields at every point, a sequential world neither yields nor draws. */
	ih_sched_set_random_yield(w, 1000000);
	for (int i = 0; i < 16; i++)
		ih_sched_point(w, "p");
	cr_expect_eq(ih_world_rand(w), ih_world_rand(ref), "the PRNG stream was disturbed");
	cr_expect_eq(ih_world_destroy(w), 0);
	cr_expect_eq(ih_world_destroy(ref), 0);
}

Test(sched, random_yield_in_concurrent_mode_draws_from_the_world_prng)
{
	struct ih_world *w = world(IH_EXEC_CONCURRENT, 9);
	struct ih_world *ref = world(IH_EXEC_CONCURRENT, 9);

	/* The counterpart of the test above: one draw per point, so the streams diverge. */
	ih_sched_set_random_yield(w, 1000000);
	ih_sched_point(w, "p");
	ih_world_rand(ref);
	cr_expect_eq(ih_world_rand(w), ih_world_rand(ref));
	/* Yield rate 0: points draw nothing. */
	ih_sched_set_random_yield(w, 0);
	ih_sched_point(w, "p");
	cr_expect_eq(ih_world_rand(w), ih_world_rand(ref));
	cr_expect_eq(ih_world_destroy(w), 0);
	cr_expect_eq(ih_world_destroy(ref), 0);
}
