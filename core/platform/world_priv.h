/* SPDX-License-Identifier: MIT */
/* struct ih_world itself: private to core/. Each module keeps its state in its own member. */
#ifndef IH_CORE_WORLD_PRIV_H
#define IH_CORE_WORLD_PRIV_H

#include <pthread.h>

#include <ih/world.h>
#include <ih/alloc.h>
#include <ih/check.h>
#include <ih/clock.h>
#include <ih/mmio.h>
#include <ih/sched.h>

/* Fault-injection and accounting state of ih_alloc(); lock order: leaf. */
#define IH_ALLOC_MAX_SITES 256
#define IH_FAULT_MAX_SITE_RULES 16

struct ih_alloc_hdr;

struct ih_alloc_state {
	pthread_mutex_t lock; /* protects everything below */
	struct ih_alloc_hdr *live; /* doubly linked list of live blocks */
	size_t live_count;
	size_t live_bytes;
	unsigned long calls; /* since the nth rule was armed */
	unsigned long fail_nth;
	struct {
		const char *site;
		unsigned long nth;
	} site_rules[IH_FAULT_MAX_SITE_RULES];
	unsigned int nsite_rules;
	u32 fail_ppm;
	u64 fail_rng;
	unsigned long injected;
	struct ih_alloc_site_stat sites[IH_ALLOC_MAX_SITES];
	size_t nsites; /* may exceed IH_ALLOC_MAX_SITES: later sites are counted, not listed */
};

/* Simulated physical memory: a 4K-frame bitmap over one host mapping. */
struct ih_physmem {
	pthread_mutex_t lock; /* protects bitmap, hint, used */
	u8 *host;
	ih_pa_t base;
	size_t size;
	size_t nframes;
	unsigned long *bitmap; /* bit set: frame in use */
	size_t hint;           /* next-fit start */
	size_t used;
	unsigned long faults; /* atomic */
};

struct ih_teardown {
	void (*fn)(struct ih_world *w, void *arg);
	void *arg;
	struct ih_teardown *next;
};

struct ih_clock_state {
	enum ih_clock_kind kind;
	u64 start_ns;      /* CLOCK_MONOTONIC at creation (real clock) */
	u64 virt_now_ns;   /* atomic; virtual clock */
	pthread_mutex_t lock; /* protects the timer list and thread state */
	pthread_cond_t cond;
	struct ih_timer *timers; /* pending, sorted by expiry */
	struct ih_timer *running; /* the callback running now, if any */
	pthread_t runner;         /* the thread running it */
	pthread_cond_t done;      /* signalled when a callback returns */
	pthread_t thread;
	bool thread_started;
	bool stopping;
};

struct ih_mmio_state {
	pthread_rwlock_t lock; /* protects the region list */
	struct ih_mmio_region *regions;
	ih_mmio_trace_fn trace;
	void *trace_opaque;
	unsigned long bad; /* atomic */
};

struct ih_sched_state {
	ih_sched_hook_fn hook;
	void *hook_opaque;
	u32 yield_ppm;
};

/*
 * The report sink (ih/check.h). Embedded and valid when zeroed, so a report never needs
 * an allocation: counts are atomics, the last report is guarded by a spin flag.
 */
struct ih_report_state {
	unsigned long counts[IH_REPORT_NR_KINDS]; /* atomic */
	unsigned long total;                      /* atomic */
	int last_lock;                            /* atomic spin flag for last */
	bool has_last;
	struct ih_report last;
	ih_report_fn fn; /* set-up time only */
	void *fn_opaque;
	unsigned int disabled; /* atomic; IH_CHECK_* bits switched off (0: all on) */
	int create_lock;       /* atomic spin flag: creation of check and dma state */
};

struct ih_world {
	struct ih_world_config cfg;
	unsigned int log_mask;
	u32 regress; /* atomic; bit per enum ih_regress, read only by the switched paths */
	unsigned long warnings; /* atomic */
	u64 rng;                /* atomic; ih_world_rand() */
	struct ih_alloc_state alloc;
	struct ih_physmem pm;
	struct ih_clock_state clock;
	struct ih_mmio_state mmio;
	struct ih_sched_state sched;
	pthread_mutex_t teardown_lock;
	struct ih_teardown *teardowns;
	/* Higher layers (base, iommu, dma, ...) hang their state here. */
	struct ih_base_state *base;
	struct ih_iommu_state *iommu;
	struct ih_report_state report;
	struct ih_check_state *check; /* core/check bookkeeping, created on first use */
	struct ih_dma_state *dma;     /* core/dma world-wide defaults, created on first use */
};

/* Module set-up and teardown called by world.c, in dependency order. */
int ih_alloc_init(struct ih_world *w);
size_t ih_alloc_fini(struct ih_world *w);
/* One fault-injection decision for @site, for allocators other than ih_alloc(). */
bool ih_alloc_check_fault(struct ih_world *w, const char *site);
int ih_pm_init(struct ih_world *w);
size_t ih_pm_fini(struct ih_world *w); /* returns frames still allocated */
int ih_clock_init(struct ih_world *w);
void ih_clock_fini(struct ih_world *w);
int ih_mmio_init(struct ih_world *w);
void ih_mmio_fini(struct ih_world *w);

/* splitmix64: the one PRNG used across the model. ih_mix64() is its output function. */
#define IH_SPLITMIX_STEP 0x9e3779b97f4a7c15ULL

static inline u64 ih_mix64(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline u64 ih_splitmix64(u64 *state)
{
	*state += IH_SPLITMIX_STEP;
	return ih_mix64(*state);
}

#endif /* IH_CORE_WORLD_PRIV_H */
