/* SPDX-License-Identifier: MIT */
/* The model's one allocator: zeroed memory, leak accounting and fault injection. */
#ifndef IH_ALLOC_H
#define IH_ALLOC_H

#include <ih/compat.h>

struct ih_world;

/**
 * ih_alloc() - allocate @size zeroed bytes for the model.
 * @w: the world that owns the memory.
 * @size: bytes; 0 is treated as 1.
 * @site: a string literal naming the call site ("base:device"); fault injection and the
 *        leak report key on it.
 *
 * Every allocation the model makes comes here, so a test or fuzzer can make any of them
 * fail (see ih_fault_*) and ih_world_destroy() can name what leaked.
 *
 * Context: any thread.
 * Return: the memory, or NULL when the allocation failed or was made to fail.
 */
void *ih_alloc(struct ih_world *w, size_t size, const char *site);

/* ih_alloc_array() - @n elements of @size bytes; NULL also when n * size overflows. */
void *ih_alloc_array(struct ih_world *w, size_t n, size_t size, const char *site);

/**
 * ih_realloc() - resize a block from ih_alloc(); new tail bytes are zeroed.
 * Return: the new block, or NULL (the old block is then untouched and still owned).
 */
void *ih_realloc(struct ih_world *w, void *p, size_t size, const char *site);

/* ih_free() - release a block from ih_alloc(); NULL is ignored. */
void ih_free(struct ih_world *w, void *p);

/* Live blocks and bytes of @w right now (a test asserts 0 after teardown). */
size_t ih_alloc_live_count(struct ih_world *w);
size_t ih_alloc_live_bytes(struct ih_world *w);

/**
 * ih_alloc_dump_live() - print every live block (site, size) to stderr.
 * Return: the number of live blocks.
 */
size_t ih_alloc_dump_live(struct ih_world *w);

/*
 * Fault injection. Modes combine: a call fails if any armed rule says so. Counting starts
 * when a rule is armed. Injected failures are counted per site.
 */

/* Fail the @nth (1-based) allocation from now on, once. 0 disarms. */
void ih_fault_fail_nth(struct ih_world *w, unsigned long nth);

/**
 * ih_fault_fail_site() - fail the @nth (1-based) call from @site, once.
 * Return: 0, -EINVAL for NULL/empty @site or @nth == 0, -ENOSPC when too many sites are armed.
 */
int ih_fault_fail_site(struct ih_world *w, const char *site, unsigned long nth);

/* Fail each call with probability @ppm / 1e6, from a private PRNG seeded with @seed. */
void ih_fault_fail_random(struct ih_world *w, u32 ppm, u64 seed);

/* Disarm every rule. */
void ih_fault_clear(struct ih_world *w);

/* Failures injected so far (all sites). */
unsigned long ih_fault_injected(struct ih_world *w);

/**
 * struct ih_alloc_site_stat - per-site counters.
 * @site: the site string.
 * @calls: allocations attempted from it.
 * @failed: of which were made to fail.
 */
struct ih_alloc_site_stat {
	const char *site;
	unsigned long calls;
	unsigned long failed;
};

/**
 * ih_alloc_sites() - copy up to @max per-site counters into @out, in first-seen order.
 * Return: the number of sites known (may exceed @max). A test sweeps "fail each site
 * once" by running a scenario, listing its sites, then re-running it per site.
 */
size_t ih_alloc_sites(struct ih_world *w, struct ih_alloc_site_stat *out, size_t max);

#endif /* IH_ALLOC_H */
