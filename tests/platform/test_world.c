// SPDX-License-Identifier: MIT
/* World life cycle: config checks, logging config, model CPUs, teardown order, PRNG. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/physmem.h>
#include <ih/world.h>

static int create_cfg(const struct ih_world_config *cfg)
{
	struct ih_world *w = (struct ih_world *)cfg; /* must be reset to NULL on failure */
	int ret = ih_world_create(cfg, &w);

	if (ret)
		cr_expect_null(w, "a failed create leaves *out NULL");
	else
		cr_expect_eq(ih_world_destroy(w), 0);
	return ret;
}

/* Create a world from the defaults changed by the assignments to c_ given, expect @ret. */
#define EXPECT_CREATE(ret, ...)                                                                    \
	do {                                                                                       \
		struct ih_world_config c_;                                                         \
		ih_world_config_init(&c_);                                                         \
		__VA_ARGS__;                                                                       \
		cr_expect_eq(create_cfg(&c_), (ret), "%s", #__VA_ARGS__);                          \
	} while (0)

Test(world, defaults_are_sequential_virtual_one_cpu_seed_one)
{
	struct ih_world_config cfg;
	struct ih_world *w;

	ih_world_config_init(&cfg);
	cr_expect_eq(cfg.mode, IH_EXEC_SEQUENTIAL);
	cr_expect_eq(cfg.clock, IH_CLOCK_VIRTUAL);
	cr_expect_eq(cfg.ncpus, 1);
	cr_expect_eq(cfg.physmem_base, 0x80000000ULL);
	cr_expect_eq(cfg.physmem_size, 256UL << 20);
	cr_expect_eq(cfg.seed, 1);
	cr_expect_null(cfg.log);
	cr_assert_eq(ih_world_create(NULL, &w), 0);
	cr_expect_eq(ih_world_mode(w), IH_EXEC_SEQUENTIAL);
	cr_expect_eq(ih_world_ncpus(w), 1);
	cr_expect_eq(ih_world_seed(w), 1);
	cr_expect_eq(ih_pm_base(w), 0x80000000ULL);
	cr_expect_eq(ih_warn_count(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}

Test(world, bad_configs_are_einval)
{
	EXPECT_CREATE(-EINVAL, c_.ncpus = 0);
	EXPECT_CREATE(-EINVAL, c_.ncpus = IH_MAX_CPUS + 1);
	EXPECT_CREATE(-EINVAL, c_.physmem_base = 0x80000800ULL);
	EXPECT_CREATE(-EINVAL, c_.physmem_size = SZ_1M + 0x800);
	EXPECT_CREATE(-EINVAL, c_.physmem_size = SZ_64K - SZ_4K);
	EXPECT_CREATE(-EINVAL, c_.physmem_base = ~0ULL - 0xfffULL, c_.physmem_size = SZ_64K);
	/* An arena ending exactly at 2^64 has no representable end. */
	EXPECT_CREATE(-EINVAL, c_.physmem_base = 0ULL - SZ_64K, c_.physmem_size = SZ_64K);
	EXPECT_CREATE(-EINVAL, c_.mode = (enum ih_exec_mode)7);
	EXPECT_CREATE(-EINVAL, c_.clock = (enum ih_clock_kind)9);
}

Test(world, limit_configs_are_accepted)
{
	EXPECT_CREATE(0, c_.ncpus = IH_MAX_CPUS);
	EXPECT_CREATE(0, c_.physmem_size = SZ_64K);
	EXPECT_CREATE(0, c_.physmem_base = 0x1000, c_.physmem_size = SZ_1M);
	EXPECT_CREATE(0, c_.mode = IH_EXEC_CONCURRENT, c_.clock = IH_CLOCK_REAL);
}

Test(world, unknown_log_category_is_einval)
{
	EXPECT_CREATE(-EINVAL, c_.log = "guest_error,bogus");
	EXPECT_CREATE(0, c_.log = "guest_error,unimp,trace");
	EXPECT_CREATE(0, c_.log = "all");
	EXPECT_CREATE(0, c_.log = "none");
}

Test(world, ih_log_from_the_environment_is_checked_too)
{
	/* Criterion runs each test in its own process: the variable stays local. */
	setenv("IH_LOG", "mmio,nonsense", 1);
	EXPECT_CREATE(-EINVAL);
	/* cfg.log wins over the environment. */
	EXPECT_CREATE(0, c_.log = "info");
	setenv("IH_LOG", "mmio,info", 1);
	EXPECT_CREATE(0);
}

Test(world, log_parse_builds_the_category_mask)
{
	unsigned int m = 0x1234;

	cr_expect_eq(ih_log_parse("guest_error,mmio", &m), 0);
	cr_expect_eq(m, IH_LOG_GUEST_ERROR | IH_LOG_MMIO);
	cr_expect_eq(ih_log_parse("", &m), 0);
	cr_expect_eq(m, 0);
	cr_expect_eq(ih_log_parse("trace,,warn,", &m), 0, "empty items are tolerated");
	cr_expect_eq(m, IH_LOG_TRACE | IH_LOG_WARN);
	cr_expect_eq(ih_log_parse("all", &m), 0);
	cr_expect_eq(m, ~0u);
	cr_expect_eq(ih_log_parse("all,none,info", &m), 0, "none resets, later names add");
	cr_expect_eq(m, IH_LOG_INFO);
	m = 77;
	cr_expect_eq(ih_log_parse("mmi", &m), -EINVAL, "prefixes are not names");
	cr_expect_eq(ih_log_parse("mmio2", &m), -EINVAL);
	cr_expect_eq(m, 77, "the mask is untouched on error");
	cr_expect_eq(ih_log_parse(NULL, &m), -EINVAL);
}

Test(world, log_mask_decides_what_is_enabled)
{
	struct ih_world_config cfg;
	struct ih_world *w;

	ih_world_config_init(&cfg);
	cfg.log = "mmio";
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	cr_expect(ih_log_enabled(w, IH_LOG_MMIO));
	cr_expect_not(ih_log_enabled(w, IH_LOG_TRACE));
	cr_expect_not(ih_log_enabled(w, IH_LOG_WARN), "an explicit list replaces the default");
	cr_expect_not(ih_log_enabled(NULL, IH_LOG_MMIO));
	cr_expect_eq(ih_world_destroy(w), 0);
}

static void *cpu_of_new_thread(void *arg)
{
	return (void *)(uintptr_t)ih_cpu_id(arg);
}

Test(world, thread_set_cpu_checks_bounds)
{
	struct ih_world_config cfg;
	struct ih_world *w, *other;
	pthread_t t;
	void *res;

	ih_world_config_init(&cfg);
	cfg.ncpus = 4;
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	cr_expect_eq(ih_cpu_id(w), 0, "the creating thread is CPU 0");
	cr_expect_eq(ih_thread_set_cpu(w, 3), 0);
	cr_expect_eq(ih_cpu_id(w), 3);
	cr_expect_eq(ih_thread_set_cpu(w, 4), -EINVAL);
	cr_expect_eq(ih_thread_set_cpu(w, ~0u), -EINVAL);
	cr_expect_eq(ih_cpu_id(w), 3, "a refused call changes nothing");
	/* Per thread: a new thread starts as CPU 0. */
	cr_assert_eq(pthread_create(&t, NULL, cpu_of_new_thread, w), 0);
	pthread_join(t, &res);
	cr_expect_eq((uintptr_t)res, 0);
	/* A thread acts for the world it last named; another world reads 0. */
	cr_assert_eq(ih_world_create(NULL, &other), 0);
	cr_expect_eq(ih_cpu_id(w), 0, "creating a world made this thread its CPU 0");
	cr_expect_eq(ih_cpu_id(other), 0);
	cr_expect_eq(ih_thread_set_cpu(w, 2), 0);
	cr_expect_eq(ih_cpu_id(w), 2);
	cr_expect_eq(ih_world_destroy(other), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}

struct td_log {
	unsigned int n;
	int order[4];
	void *block;
};

static void td_record(struct ih_world *w, void *arg, int id)
{
	struct td_log *log = arg;

	if (log->n < ARRAY_SIZE(log->order))
		log->order[log->n] = id;
	log->n++;
	if (id == 1) {
		/* The oldest module frees its state: teardowns run before the leak check. */
		ih_free(w, log->block);
	}
}

static void td1(struct ih_world *w, void *arg) { td_record(w, arg, 1); }
static void td2(struct ih_world *w, void *arg) { td_record(w, arg, 2); }
static void td3(struct ih_world *w, void *arg) { td_record(w, arg, 3); }

Test(world, teardowns_run_newest_first_before_the_leak_check)
{
	struct td_log log = { 0 };
	struct ih_world *w;

	cr_assert_eq(ih_world_create(NULL, &w), 0);
	log.block = ih_alloc(w, 32, "test:module-state");
	cr_assert_not_null(log.block);
	cr_assert_eq(ih_world_add_teardown(w, td1, &log), 0);
	cr_assert_eq(ih_world_add_teardown(w, td2, &log), 0);
	cr_assert_eq(ih_world_add_teardown(w, td3, &log), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
	cr_assert_eq(log.n, 3);
	cr_expect_eq(log.order[0], 3);
	cr_expect_eq(log.order[1], 2);
	cr_expect_eq(log.order[2], 1);
}

Test(world, destroy_returns_the_leaked_block_count)
{
	struct ih_world *w;

	cr_expect_eq(ih_world_destroy(NULL), 0);
	cr_assert_eq(ih_world_create(NULL, &w), 0);
	cr_assert_not_null(ih_alloc(w, 8, "test:leak"));
	cr_assert_not_null(ih_alloc(w, 8, "test:leak"));
	/* Reported on stderr, freed anyway (LeakSanitizer stays quiet), and counted. */
	cr_expect_eq(ih_world_destroy(w), 2);
}

Test(world, destroy_counts_simulated_memory_left_allocated)
{
	struct ih_world *w;

	cr_assert_eq(ih_world_create(NULL, &w), 0);
	cr_assert_neq(ih_pm_alloc(w, 3 * SZ_4K, SZ_4K, "test:pm-leak"), IH_PA_INVALID);
	/* Three 4K frames still allocated: a leaked page table must fail the usual check. */
	cr_expect_eq(ih_world_destroy(w), 3);
}

static struct ih_world *seeded(u64 seed)
{
	struct ih_world_config cfg;
	struct ih_world *w;

	ih_world_config_init(&cfg);
	cfg.seed = seed;
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	return w;
}

Test(world, rand_is_splitmix64_of_the_seed)
{
	struct ih_world *w = seeded(0);

	/* splitmix64 reference outputs for seed 0 (Vigna's splitmix64.c). */
	cr_expect_eq(ih_world_rand(w), 0xe220a8397b1dcdafULL);
	cr_expect_eq(ih_world_rand(w), 0x6e789e6aa1b965f4ULL);
	cr_expect_eq(ih_world_rand(w), 0x06c45d188009454fULL);
	cr_expect_eq(ih_world_destroy(w), 0);
}

Test(world, rand_is_deterministic_per_seed)
{
	struct ih_world *a = seeded(42), *b = seeded(42), *c = seeded(43);
	bool differs = false;

	for (int i = 0; i < 64; i++) {
		u64 va = ih_world_rand(a);

		cr_assert_eq(va, ih_world_rand(b), "same seed, draw %d differs", i);
		differs |= va != ih_world_rand(c);
	}
	cr_expect(differs, "seeds 42 and 43 gave the same 64 draws");
	cr_expect_eq(ih_world_seed(c), 43);
	cr_expect_eq(ih_world_destroy(a), 0);
	cr_expect_eq(ih_world_destroy(b), 0);
	cr_expect_eq(ih_world_destroy(c), 0);
}
