/* SPDX-License-Identifier: MIT */
/* MMIO: emulated devices claim address ranges; drivers map them and read/write registers. */
#ifndef IH_MMIO_H
#define IH_MMIO_H

#include <ih/compat.h>

struct ih_world;

/**
 * struct ih_mmio_ops - how an emulated device answers register accesses.
 * @read: value of the @size-byte (4 or 8) register at @off; unknown offsets read as zero.
 * @write: store @val to the @size-byte register at @off; unknown offsets ignore writes.
 *
 * Offsets are relative to the region base and already checked for bounds and natural
 * alignment. The device does its own locking.
 */
struct ih_mmio_ops {
	u64 (*read)(void *opaque, u64 off, unsigned int size);
	void (*write)(void *opaque, u64 off, u64 val, unsigned int size);
};

struct ih_mmio_region;

/**
 * ih_mmio_region_add() - claim [base, base + size) for a device.
 * Return: the region, or NULL: -EINVAL for zero size, wrap-around or overlap with another
 * region, -ENOMEM (in *err when @err is not NULL).
 */
struct ih_mmio_region *ih_mmio_region_add(struct ih_world *w, u64 base, u64 size,
					  const struct ih_mmio_ops *ops, void *opaque, int *err);
void ih_mmio_region_del(struct ih_world *w, struct ih_mmio_region *r);

/**
 * ih_ioremap() - map [base, base + size) for a driver; it must lie inside one region.
 * Return: the region to pass to ih_readl() and friends, or NULL.
 */
struct ih_mmio_region *ih_ioremap(struct ih_world *w, u64 base, u64 size);

/*
 * Register access. An access past the region or not naturally aligned does not reach the
 * device: reads return all ones (a bus error on real hardware) and a warning is counted.
 */
u32 ih_readl(struct ih_mmio_region *r, u64 off);
u64 ih_readq(struct ih_mmio_region *r, u64 off);
void ih_writel(struct ih_mmio_region *r, u32 val, u64 off);
void ih_writeq(struct ih_mmio_region *r, u64 val, u64 off);

/**
 * typedef ih_mmio_trace_fn - called for every access on @w when set.
 * @is_write: direction; @addr: absolute address; @size: 4 or 8; @val: value read or written.
 */
typedef void (*ih_mmio_trace_fn)(void *opaque, bool is_write, u64 addr, unsigned int size,
				 u64 val);
void ih_mmio_set_trace(struct ih_world *w, ih_mmio_trace_fn fn, void *opaque);

/* Accesses refused (bounds or alignment) so far. */
unsigned long ih_mmio_bad_accesses(struct ih_world *w);

#endif /* IH_MMIO_H */
