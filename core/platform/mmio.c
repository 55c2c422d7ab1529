// SPDX-License-Identifier: MIT
/* MMIO regions: devices claim ranges, drivers map them and access registers. */
#include <inttypes.h>
#include <stdlib.h>

#include <ih/mmio.h>
#include <ih/alloc.h>
#include <ih/diag.h>
#include "world_priv.h"


/*
 * Regions are added at bring-up and removed at teardown; accesses take the rwlock for
 * reading only in ih_ioremap(), not per access: a driver must not use a mapping after the
 * device removed its region (as with a real iounmap ordering).
 */
struct ih_mmio_region {
	struct ih_world *w;
	u64 base;
	u64 size;
	const struct ih_mmio_ops *ops;
	void *opaque;
	struct ih_mmio_region *next;
};

int ih_mmio_init(struct ih_world *w)
{
	if (pthread_rwlock_init(&w->mmio.lock, NULL))
		return -ENOMEM;
	return 0;
}

void ih_mmio_fini(struct ih_world *w)
{
	while (w->mmio.regions) {
		struct ih_mmio_region *r = w->mmio.regions;

		IH_WARN_ON(w, 1, "mmio: region at 0x%" PRIx64 " not removed before teardown",
			   r->base);
		w->mmio.regions = r->next;
		ih_free(w, r);
	}
	pthread_rwlock_destroy(&w->mmio.lock);
}

struct ih_mmio_region *ih_mmio_region_add(struct ih_world *w, u64 base, u64 size,
					  const struct ih_mmio_ops *ops, void *opaque, int *err)
{
	struct ih_mmio_region *r;
	int ret = 0;

	if (!size || base + size < base || base + size == 0 || !ops || !ops->read ||
	    !ops->write) {
		ret = -EINVAL;
		goto out;
	}
	r = ih_alloc(w, sizeof(*r), "mmio:region");
	if (!r) {
		ret = -ENOMEM;
		goto out;
	}
	r->w = w;
	r->base = base;
	r->size = size;
	r->ops = ops;
	r->opaque = opaque;
	pthread_rwlock_wrlock(&w->mmio.lock);
	for (struct ih_mmio_region *o = w->mmio.regions; o; o = o->next) {
		if (base < o->base + o->size && o->base < base + size) {
			pthread_rwlock_unlock(&w->mmio.lock);
			ih_free(w, r);
			ret = -EINVAL;
			goto out;
		}
	}
	r->next = w->mmio.regions;
	w->mmio.regions = r;
	pthread_rwlock_unlock(&w->mmio.lock);
	if (err)
		*err = 0;
	return r;
out:
	if (err)
		*err = ret;
	return NULL;
}

void ih_mmio_region_del(struct ih_world *w, struct ih_mmio_region *r)
{
	if (!r)
		return;
	pthread_rwlock_wrlock(&w->mmio.lock);
	for (struct ih_mmio_region **pp = &w->mmio.regions; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	pthread_rwlock_unlock(&w->mmio.lock);
	ih_free(w, r);
}

struct ih_mmio_region *ih_ioremap(struct ih_world *w, u64 base, u64 size)
{
	struct ih_mmio_region *found = NULL;

	pthread_rwlock_rdlock(&w->mmio.lock);
	for (struct ih_mmio_region *r = w->mmio.regions; r; r = r->next) {
		if (base >= r->base && size <= r->size && base - r->base <= r->size - size) {
			found = r;
			break;
		}
	}
	pthread_rwlock_unlock(&w->mmio.lock);
	return found;
}

void ih_mmio_set_trace(struct ih_world *w, ih_mmio_trace_fn fn, void *opaque)
{
	pthread_rwlock_wrlock(&w->mmio.lock);
	w->mmio.trace = fn;
	w->mmio.trace_opaque = opaque;
	pthread_rwlock_unlock(&w->mmio.lock);
}

unsigned long ih_mmio_bad_accesses(struct ih_world *w)
{
	return __atomic_load_n(&w->mmio.bad, __ATOMIC_RELAXED);
}

static bool access_ok(struct ih_mmio_region *r, u64 off, unsigned int size, bool is_write)
{
	struct ih_world *w = r->w;

	if (off < r->size && size <= r->size - off && IH_IS_ALIGNED(off, (u64)size))
		return true;
	__atomic_fetch_add(&w->mmio.bad, 1, __ATOMIC_RELAXED);
	IH_WARN_ON(w, 1, "mmio: bad %u-byte %s at 0x%" PRIx64 " + 0x%" PRIx64, size,
		   is_write ? "write" : "read", r->base, off);
	return false;
}

static void trace(struct ih_mmio_region *r, bool is_write, u64 off, unsigned int size, u64 val)
{
	struct ih_world *w = r->w;

	if (w->mmio.trace)
		w->mmio.trace(w->mmio.trace_opaque, is_write, r->base + off, size, val);
	ih_log(w, IH_LOG_MMIO, "mmio: %s%u 0x%" PRIx64 " = 0x%" PRIx64, is_write ? "w" : "r",
	       size * 8, r->base + off, val);
}

static u64 mmio_read(struct ih_mmio_region *r, u64 off, unsigned int size)
{
	u64 val;

	if (!access_ok(r, off, size, false))
		return size == 4 ? 0xffffffffULL : ~0ULL;
	val = r->ops->read(r->opaque, off, size);
	if (size == 4)
		val &= 0xffffffffULL;
	trace(r, false, off, size, val);
	return val;
}

static void mmio_write(struct ih_mmio_region *r, u64 off, u64 val, unsigned int size)
{
	if (!access_ok(r, off, size, true))
		return;
	trace(r, true, off, size, val);
	r->ops->write(r->opaque, off, val, size);
}

u32 ih_readl(struct ih_mmio_region *r, u64 off)
{
	return (u32)mmio_read(r, off, 4);
}

u64 ih_readq(struct ih_mmio_region *r, u64 off)
{
	return mmio_read(r, off, 8);
}

void ih_writel(struct ih_mmio_region *r, u32 val, u64 off)
{
	mmio_write(r, off, val, 4);
}

void ih_writeq(struct ih_mmio_region *r, u64 val, u64 off)
{
	mmio_write(r, off, val, 8);
}
