/* SPDX-License-Identifier: MIT */
/* The world: every piece of model state hangs off one of these. */
#ifndef IH_WORLD_H
#define IH_WORLD_H

#include <ih/compat.h>
#include <ih/physmem.h>

struct ih_world;

/*
 * Sequential: one thread; emulated hardware acts synchronously when a driver rings a
 * doorbell; with the virtual clock every run is deterministic (fuzzing, scripted replays).
 * Concurrent: real threads; hardware may run in threads of its own and completion is
 * observed by polling, as on silicon (TSan scenarios, benchmarks).
 */
enum ih_exec_mode {
	IH_EXEC_SEQUENTIAL,
	IH_EXEC_CONCURRENT,
};

enum ih_clock_kind {
	IH_CLOCK_VIRTUAL, /* advances only through ih_clock_advance() */
	IH_CLOCK_REAL,    /* CLOCK_MONOTONIC; timers fire from a timer thread */
};

#define IH_MAX_CPUS 64

/**
 * struct ih_world_config - how to build a world.
 * @mode: sequential or concurrent execution.
 * @clock: virtual or real clock.
 * @ncpus: model CPUs (1..IH_MAX_CPUS); per-CPU caches and queues are sized by it.
 * @physmem_base: PA of the first byte of simulated memory (4K aligned).
 * @physmem_size: bytes of simulated memory (4K multiple, at least 64K).
 * @seed: seed for every pseudo-random choice the model makes (eviction, yields).
 * @log: log categories as in IH_LOG; NULL reads the IH_LOG environment variable.
 * @regressions: known-bug switches as in IH_REGRESSIONS ("name,name"); NULL reads the
 *	IH_REGRESSIONS environment variable (see ih/regress.h).
 */
struct ih_world_config {
	enum ih_exec_mode mode;
	enum ih_clock_kind clock;
	unsigned int ncpus;
	ih_pa_t physmem_base;
	size_t physmem_size;
	u64 seed;
	const char *log;
	const char *regressions;
};

/* Defaults: sequential, virtual clock, 1 CPU, 256 MiB at 0x80000000, seed 1, log from env. */
void ih_world_config_init(struct ih_world_config *cfg);

/**
 * ih_world_create() - build a world.
 * @cfg: the configuration; NULL for the defaults.
 * @out: the new world.
 *
 * The calling thread becomes model CPU 0 of the new world (see ih_thread_set_cpu()).
 *
 * Return: 0; -EINVAL for a bad configuration, an unknown IH_LOG category or an unknown
 * IH_REGRESSIONS switch (a message says which); -ENOMEM when host memory runs out.
 */
int ih_world_create(const struct ih_world_config *cfg, struct ih_world **out);

/**
 * ih_world_destroy() - tear down a world and everything it still owns.
 *
 * Modules registered with ih_world_add_teardown() are torn down first, newest first.
 * Model memory still allocated after that is a leak: each ih_alloc() block is reported on
 * stderr, and so is the number of simulated-memory frames (ih_pm_alloc()) not freed.
 *
 * Return: leaked ih_alloc() blocks plus leaked 4K simulated-memory frames (0 when clean).
 * NULL is ignored and returns 0.
 */
size_t ih_world_destroy(struct ih_world *w);

enum ih_exec_mode ih_world_mode(const struct ih_world *w);
unsigned int ih_world_ncpus(const struct ih_world *w);
u64 ih_world_seed(const struct ih_world *w);

/**
 * ih_world_add_teardown() - run @fn(@w, @arg) when @w is destroyed, newest first.
 * Modules use it to free state they keep on the world.
 * Return: 0 or -ENOMEM.
 */
int ih_world_add_teardown(struct ih_world *w, void (*fn)(struct ih_world *w, void *arg),
			  void *arg);

/**
 * ih_thread_set_cpu() - the calling thread acts as model CPU @cpu of @w from now on.
 * Return: 0, or -EINVAL when @cpu >= ncpus.
 */
int ih_thread_set_cpu(struct ih_world *w, unsigned int cpu);

/* ih_cpu_id() - the calling thread's model CPU in @w (0 if never set). */
unsigned int ih_cpu_id(const struct ih_world *w);

/* ih_world_rand() - next value of the world's seeded PRNG (thread-safe). */
u64 ih_world_rand(struct ih_world *w);

#endif /* IH_WORLD_H */
