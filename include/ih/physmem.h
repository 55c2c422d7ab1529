/* SPDX-License-Identifier: MIT */
/* Simulated physical memory: page tables, queues and stream tables live here, by PA. */
#ifndef IH_PHYSMEM_H
#define IH_PHYSMEM_H

#include <ih/compat.h>

struct ih_world;

/*
 * The arena is one reserved mapping, [base, base + size), handed out in 4K frames.
 * Untouched frames cost nothing (the host maps them lazily). Drivers allocate from it and
 * hand PAs to emulated hardware, which reads and writes only through the checked accessors
 * below: a bad PA from a driver or a fuzzer is an error the device turns into its
 * architected fault, never a host crash.
 */

typedef u64 ih_pa_t;

#define IH_PA_INVALID ((ih_pa_t)~0ULL)
#define IH_PAGE_SHIFT 12
#define IH_PAGE_SIZE  (1UL << IH_PAGE_SHIFT)

/**
 * ih_pm_alloc() - allocate @size bytes of zeroed, contiguous simulated memory.
 * @w: the world.
 * @size: bytes, rounded up to 4K.
 * @align: power of two, at least 4K (use 64K for a 64K-granule table).
 * @site: allocation site name, shared with ih_alloc()'s fault injection.
 *
 * Context: any thread.
 * Return: the PA, or IH_PA_INVALID when the arena is full, @align is bad, or the
 * allocation was made to fail.
 */
ih_pa_t ih_pm_alloc(struct ih_world *w, size_t size, size_t align, const char *site);

/**
 * ih_pm_free() - free memory from ih_pm_alloc(); @size must match the allocation.
 * A bad PA or size is a harness bug (IH_BUG_ON): only the model frees.
 */
void ih_pm_free(struct ih_world *w, ih_pa_t pa, size_t size);

/**
 * ih_pm_va() - host pointer to [pa, pa + len) for the side that owns it (a driver and its
 * own tables). Return: the pointer, or NULL when the range is not inside the arena.
 */
void *ih_pm_va(struct ih_world *w, ih_pa_t pa, size_t len);

/* ih_pm_pa() - PA of a host pointer inside the arena, or IH_PA_INVALID. */
ih_pa_t ih_pm_pa(struct ih_world *w, const void *va);

/* Arena bounds and use. */
ih_pa_t ih_pm_base(struct ih_world *w);
size_t ih_pm_size(struct ih_world *w);
size_t ih_pm_pages_used(struct ih_world *w);

/*
 * Checked accessors for emulated hardware. Each returns 0, or -EFAULT when the range is
 * outside the arena or unaligned for its width (the access does nothing; loads leave *val
 * at 0). 64-bit loads and stores are single atomic accesses: acquire loads pair with the
 * driver's release stores when it publishes a descriptor, as a hardware walker needs.
 */
int ih_pm_read(struct ih_world *w, ih_pa_t pa, void *buf, size_t len);
int ih_pm_write(struct ih_world *w, ih_pa_t pa, const void *buf, size_t len);
int ih_pm_load32(struct ih_world *w, ih_pa_t pa, u32 *val);
int ih_pm_load64(struct ih_world *w, ih_pa_t pa, u64 *val);
int ih_pm_store32(struct ih_world *w, ih_pa_t pa, u32 val);
int ih_pm_store64(struct ih_world *w, ih_pa_t pa, u64 val);

/* Bad accesses refused by the accessors above, for tests. */
unsigned long ih_pm_faults(struct ih_world *w);

#endif /* IH_PHYSMEM_H */
