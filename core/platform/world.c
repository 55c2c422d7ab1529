// SPDX-License-Identifier: MIT
/* World life cycle, model CPUs and the world PRNG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/mutex.h>
#include "world_priv.h"

void ih_world_config_init(struct ih_world_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = IH_EXEC_SEQUENTIAL;
	cfg->clock = IH_CLOCK_VIRTUAL;
	cfg->ncpus = 1;
	cfg->physmem_base = 0x80000000ULL;
	cfg->physmem_size = 256UL << 20;
	cfg->seed = 1;
	cfg->log = NULL;
}

static int check_config(const struct ih_world_config *cfg)
{
	if (cfg->mode != IH_EXEC_SEQUENTIAL && cfg->mode != IH_EXEC_CONCURRENT) {
		fprintf(stderr, "ih: world: unknown execution mode %d\n", (int)cfg->mode);
		return -EINVAL;
	}
	if (cfg->clock != IH_CLOCK_VIRTUAL && cfg->clock != IH_CLOCK_REAL) {
		fprintf(stderr, "ih: world: unknown clock kind %d\n", (int)cfg->clock);
		return -EINVAL;
	}
	if (cfg->ncpus == 0 || cfg->ncpus > IH_MAX_CPUS) {
		fprintf(stderr, "ih: world: ncpus %u outside 1..%d\n", cfg->ncpus, IH_MAX_CPUS);
		return -EINVAL;
	}
	if (!IH_IS_ALIGNED(cfg->physmem_base, IH_PAGE_SIZE) ||
	    !IH_IS_ALIGNED(cfg->physmem_size, (size_t)IH_PAGE_SIZE) || cfg->physmem_size < SZ_64K ||
	    cfg->physmem_base + cfg->physmem_size < cfg->physmem_base ||
	    cfg->physmem_base + cfg->physmem_size == 0) {
		fprintf(stderr, "ih: world: bad simulated memory [0x%llx + 0x%zx]\n",
			(unsigned long long)cfg->physmem_base, cfg->physmem_size);
		return -EINVAL;
	}
	return 0;
}

/*
 * The calling thread's model CPU. Per thread, not per world: a thread acts as one CPU of
 * the world it last named. Keyed by world so a stale entry from another world reads as 0.
 */
static _Thread_local const struct ih_world *tls_world;
static _Thread_local unsigned int tls_cpu;

/* 8-byte aligned: ih_mutex keeps a waiters flag in bit 0 of a token. */
static _Thread_local u64 tls_token;

const void *ih_thread_token(void)
{
	return &tls_token;
}

int ih_thread_set_cpu(struct ih_world *w, unsigned int cpu)
{
	if (cpu >= w->cfg.ncpus)
		return -EINVAL;
	tls_world = w;
	tls_cpu = cpu;
	return 0;
}

unsigned int ih_cpu_id(const struct ih_world *w)
{
	return tls_world == w ? tls_cpu : 0;
}

int ih_world_create(const struct ih_world_config *cfg, struct ih_world **out)
{
	struct ih_world_config defaults;
	struct ih_world *w;
	const char *log;
	int ret;

	*out = NULL;
	if (!cfg) {
		ih_world_config_init(&defaults);
		cfg = &defaults;
	}
	ret = check_config(cfg);
	if (ret)
		return ret;

	/* The world itself is host memory: the model allocator lives inside it. */
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cfg = *cfg;
	w->cfg.log = NULL;
	w->rng = cfg->seed;
	w->log_mask = IH_LOG_WARN;
	log = cfg->log ? cfg->log : getenv("IH_LOG");
	if (log) {
		ret = ih_log_parse(log, &w->log_mask);
		if (ret)
			goto err_free_world;
	}
	log = cfg->regressions ? cfg->regressions : getenv("IH_REGRESSIONS");
	if (log) {
		ret = ih_regress_parse(log, &w->regress);
		if (ret)
			goto err_free_world;
	}
	w->cfg.regressions = NULL;
	pthread_mutex_init(&w->teardown_lock, NULL);

	ret = ih_alloc_init(w);
	if (ret)
		goto err_free_world;
	ret = ih_pm_init(w);
	if (ret)
		goto err_alloc;
	ret = ih_clock_init(w);
	if (ret)
		goto err_pm;
	ret = ih_mmio_init(w);
	if (ret)
		goto err_clock;

	ih_thread_set_cpu(w, 0);
	*out = w;
	return 0;

err_clock:
	ih_clock_fini(w);
err_pm:
	ih_pm_fini(w);
err_alloc:
	ih_alloc_fini(w);
err_free_world:
	free(w);
	return ret;
}

int ih_world_add_teardown(struct ih_world *w, void (*fn)(struct ih_world *w, void *arg),
			  void *arg)
{
	struct ih_teardown *t = malloc(sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_lock(&w->teardown_lock);
	t->next = w->teardowns;
	w->teardowns = t;
	pthread_mutex_unlock(&w->teardown_lock);
	return 0;
}

size_t ih_world_destroy(struct ih_world *w)
{
	size_t leaked;

	if (!w)
		return 0;
	/* Newest first: a later module may depend on an earlier one. */
	while (w->teardowns) {
		struct ih_teardown *t = w->teardowns;

		w->teardowns = t->next;
		t->fn(w, t->arg);
		free(t);
	}
	ih_mmio_fini(w);
	ih_clock_fini(w);
	/* A simulated-memory frame left allocated is a model leak too (a page table...). */
	leaked = ih_pm_fini(w);
	leaked += ih_alloc_fini(w);
	pthread_mutex_destroy(&w->teardown_lock);
	if (tls_world == w)
		tls_world = NULL;
	free(w);
	return leaked;
}

enum ih_exec_mode ih_world_mode(const struct ih_world *w)
{
	return w->cfg.mode;
}

unsigned int ih_world_ncpus(const struct ih_world *w)
{
	return w->cfg.ncpus;
}

u64 ih_world_seed(const struct ih_world *w)
{
	return w->cfg.seed;
}

u64 ih_world_rand(struct ih_world *w)
{
	/* splitmix64 on an atomic counter: each caller gets a distinct step. */
	return ih_mix64(__atomic_add_fetch(&w->rng, IH_SPLITMIX_STEP, __ATOMIC_RELAXED));
}
