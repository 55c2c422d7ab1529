// SPDX-License-Identifier: MIT
/* Simulated physical memory: a lazily backed host mapping handed out in 4K frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <ih/physmem.h>
#include <ih/alloc.h>
#include <ih/diag.h>
#include "world_priv.h"

#define BITS_PER_LONG (8 * sizeof(unsigned long))

int ih_pm_init(struct ih_world *w)
{
	struct ih_physmem *pm = &w->pm;
	void *host;

	pm->base = w->cfg.physmem_base;
	pm->size = w->cfg.physmem_size;
	pm->nframes = pm->size >> IH_PAGE_SHIFT;
	/* MAP_NORESERVE: untouched frames cost nothing, so a fuzzer's world is cheap. */
	host = mmap(NULL, pm->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (host == MAP_FAILED)
		return -ENOMEM;
	pm->host = host;
	pm->bitmap = calloc((pm->nframes + BITS_PER_LONG - 1) / BITS_PER_LONG,
			    sizeof(unsigned long));
	if (!pm->bitmap) {
		munmap(host, pm->size);
		return -ENOMEM;
	}
	pthread_mutex_init(&pm->lock, NULL);
	return 0;
}

size_t ih_pm_fini(struct ih_world *w)
{
	struct ih_physmem *pm = &w->pm;
	size_t leaked = pm->used;

	if (leaked)
		fprintf(stderr, "ih: physmem: %zu frame(s) still allocated at world teardown\n",
			leaked);
	munmap(pm->host, pm->size);
	free(pm->bitmap);
	pthread_mutex_destroy(&pm->lock);
	return leaked;
}

static bool frame_used(const struct ih_physmem *pm, size_t f)
{
	return pm->bitmap[f / BITS_PER_LONG] & (1UL << (f % BITS_PER_LONG));
}

static void frames_set(struct ih_physmem *pm, size_t f, size_t n, bool used)
{
	for (size_t i = f; i < f + n; i++) {
		if (used)
			pm->bitmap[i / BITS_PER_LONG] |= 1UL << (i % BITS_PER_LONG);
		else
			pm->bitmap[i / BITS_PER_LONG] &= ~(1UL << (i % BITS_PER_LONG));
	}
}

/*
 * First run of @n free frames starting at @first plus a multiple of @step, scanning
 * [from, to) with @from >= @first. @first is the first frame whose PA has the wanted
 * alignment: the arena base is only 4K aligned, so frame indices align relative to it.
 */
static size_t find_run_locked(struct ih_physmem *pm, size_t first, size_t from, size_t to,
			      size_t n, size_t step)
{
	size_t f = first + IH_ALIGN_UP(from - first, step);

	while (f + n <= to) {
		size_t i;

		/* Skip whole words of used frames quickly. */
		if (step == 1 && pm->bitmap[f / BITS_PER_LONG] == ~0UL) {
			f = IH_ALIGN_UP(f + 1, BITS_PER_LONG);
			continue;
		}
		for (i = 0; i < n && !frame_used(pm, f + i); i++)
			;
		if (i == n)
			return f;
		f = first + IH_ALIGN_UP(f + i + 1 - first, step);
	}
	return SIZE_MAX;
}

ih_pa_t ih_pm_alloc(struct ih_world *w, size_t size, size_t align, const char *site)
{
	struct ih_physmem *pm = &w->pm;
	size_t n, step, f;

	if (size == 0 || size > pm->size || !IH_IS_POW2(align) || align > SZ_1G)
		return IH_PA_INVALID;
	if (align < IH_PAGE_SIZE)
		align = IH_PAGE_SIZE;
	/* The base is 4K aligned only: larger alignment is of the PA, not of the frame index. */
	if (ih_alloc_check_fault(w, site))
		return IH_PA_INVALID;
	n = IH_ALIGN_UP(size, (size_t)IH_PAGE_SIZE) >> IH_PAGE_SHIFT;
	step = align >> IH_PAGE_SHIFT;

	pthread_mutex_lock(&pm->lock);
	{
		/* Index of the first frame whose PA is @align aligned. */
		size_t first = (IH_ALIGN_UP(pm->base, (ih_pa_t)align) - pm->base) >> IH_PAGE_SHIFT;
		size_t hint = pm->hint < first ? first : first + IH_ALIGN_DOWN(pm->hint - first, step);

		f = find_run_locked(pm, first, hint, pm->nframes, n, step);
		if (f == SIZE_MAX)
			f = find_run_locked(pm, first, first, ih_min(hint + n, pm->nframes), n,
					    step);
	}
	if (f == SIZE_MAX) {
		pthread_mutex_unlock(&pm->lock);
		ih_log(w, IH_LOG_GUEST_ERROR, "physmem: no %zu contiguous frame(s) at %zu alignment",
		       n, align);
		return IH_PA_INVALID;
	}
	frames_set(pm, f, n, true);
	pm->used += n;
	pm->hint = f + n;
	pthread_mutex_unlock(&pm->lock);

	/* Reused frames carry old contents: hand out zeroes, as a fresh page would be. */
	memset(pm->host + (f << IH_PAGE_SHIFT), 0, n << IH_PAGE_SHIFT);
	return pm->base + ((ih_pa_t)f << IH_PAGE_SHIFT);
}

void ih_pm_free(struct ih_world *w, ih_pa_t pa, size_t size)
{
	struct ih_physmem *pm = &w->pm;
	size_t f, n;

	IH_BUG_ON(pa < pm->base || pa - pm->base >= pm->size || !IH_IS_ALIGNED(pa, IH_PAGE_SIZE),
		  "ih_pm_free of PA 0x%llx outside the arena", (unsigned long long)pa);
	f = (pa - pm->base) >> IH_PAGE_SHIFT;
	n = IH_ALIGN_UP(size, (size_t)IH_PAGE_SIZE) >> IH_PAGE_SHIFT;
	IH_BUG_ON(n == 0 || f + n > pm->nframes, "ih_pm_free: bad size 0x%zx", size);
	pthread_mutex_lock(&pm->lock);
	for (size_t i = f; i < f + n; i++)
		IH_BUG_ON(!frame_used(pm, i), "ih_pm_free: frame at PA 0x%llx is not allocated",
			  (unsigned long long)(pm->base + ((ih_pa_t)i << IH_PAGE_SHIFT)));
	frames_set(pm, f, n, false);
	pm->used -= n;
	if (f < pm->hint)
		pm->hint = f;
	pthread_mutex_unlock(&pm->lock);
}

static bool range_ok(const struct ih_physmem *pm, ih_pa_t pa, size_t len)
{
	return len <= pm->size && pa >= pm->base && pa - pm->base <= pm->size - len;
}

void *ih_pm_va(struct ih_world *w, ih_pa_t pa, size_t len)
{
	if (!range_ok(&w->pm, pa, len))
		return NULL;
	return w->pm.host + (pa - w->pm.base);
}

ih_pa_t ih_pm_pa(struct ih_world *w, const void *va)
{
	const u8 *p = va;

	if (p < w->pm.host || p >= w->pm.host + w->pm.size)
		return IH_PA_INVALID;
	return w->pm.base + (ih_pa_t)(p - w->pm.host);
}

ih_pa_t ih_pm_base(struct ih_world *w)
{
	return w->pm.base;
}

size_t ih_pm_size(struct ih_world *w)
{
	return w->pm.size;
}

size_t ih_pm_pages_used(struct ih_world *w)
{
	size_t n;

	pthread_mutex_lock(&w->pm.lock);
	n = w->pm.used;
	pthread_mutex_unlock(&w->pm.lock);
	return n;
}

static int pm_fault(struct ih_world *w, ih_pa_t pa, size_t len)
{
	__atomic_fetch_add(&w->pm.faults, 1, __ATOMIC_RELAXED);
	ih_log(w, IH_LOG_GUEST_ERROR, "physmem: access of %zu byte(s) at PA 0x%llx refused", len,
	       (unsigned long long)pa);
	return -EFAULT;
}

int ih_pm_read(struct ih_world *w, ih_pa_t pa, void *buf, size_t len)
{
	if (!range_ok(&w->pm, pa, len)) {
		memset(buf, 0, len);
		return pm_fault(w, pa, len);
	}
	memcpy(buf, w->pm.host + (pa - w->pm.base), len);
	return 0;
}

int ih_pm_write(struct ih_world *w, ih_pa_t pa, const void *buf, size_t len)
{
	if (!range_ok(&w->pm, pa, len))
		return pm_fault(w, pa, len);
	memcpy(w->pm.host + (pa - w->pm.base), buf, len);
	return 0;
}

/*
 * Single-copy atomic accesses. Acquire on loads: a walker that sees a table descriptor
 * must also see the table the driver filled before publishing it with a release store.
 */
#define PM_ACCESSOR(bits)                                                                          \
	int ih_pm_load##bits(struct ih_world *w, ih_pa_t pa, u##bits *val)                         \
	{                                                                                          \
		*val = 0;                                                                          \
		if (!range_ok(&w->pm, pa, bits / 8) || !IH_IS_ALIGNED(pa, (ih_pa_t)(bits / 8)))    \
			return pm_fault(w, pa, bits / 8);                                          \
		*val = __atomic_load_n((u##bits *)(w->pm.host + (pa - w->pm.base)),              \
				       __ATOMIC_ACQUIRE);                                          \
		return 0;                                                                          \
	}                                                                                          \
	int ih_pm_store##bits(struct ih_world *w, ih_pa_t pa, u##bits val)                         \
	{                                                                                          \
		if (!range_ok(&w->pm, pa, bits / 8) || !IH_IS_ALIGNED(pa, (ih_pa_t)(bits / 8)))    \
			return pm_fault(w, pa, bits / 8);                                          \
		__atomic_store_n((u##bits *)(w->pm.host + (pa - w->pm.base)), val,               \
				 __ATOMIC_RELEASE);                                                \
		return 0;                                                                          \
	}

PM_ACCESSOR(32)
PM_ACCESSOR(64)

unsigned long ih_pm_faults(struct ih_world *w)
{
	return __atomic_load_n(&w->pm.faults, __ATOMIC_RELAXED);
}
