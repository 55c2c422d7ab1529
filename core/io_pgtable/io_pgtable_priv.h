/* SPDX-License-Identifier: MIT */
/* io-pgtable internals shared by the formats, the dispatcher and the shadow checker. */
#ifndef IH_CORE_IO_PGTABLE_PRIV_H
#define IH_CORE_IO_PGTABLE_PRIV_H

#include <pthread.h>

#include <ih/io_pgtable.h>

/*
 * struct ih_io_pgtable - what every format embeds first.
 * @ops: the public ops; container_of() leads back here.
 * @w: the world whose simulated memory holds the tables.
 * @fmt: the format.
 * @cfg: the caller's configuration with outputs filled in; @cfg.quirks may change at run
 *       time (ih_io_pgtable_set_quirks) and is read with READ_ONCE.
 * @cookie: passed to the flush ops.
 * @lock: serialises the Rockchip format's map/unmap/iova_to_phys and the shadow checker's
 *        walk (LPAE takes no lock: callers do not overlap; see lpae.c).
 * @table_bytes: simulated memory held in tables (atomic, relaxed).
 * @destroy: format hook, frees every table and the object.
 */
struct ih_io_pgtable {
	struct ih_io_pgtable_ops ops;
	struct ih_world *w;
	enum ih_io_pgtable_fmt fmt;
	struct ih_io_pgtable_cfg cfg;
	void *cookie;
	pthread_mutex_t lock;
	size_t table_bytes;
	void (*destroy)(struct ih_io_pgtable *iop);
};

static inline struct ih_io_pgtable *iop_of(const struct ih_io_pgtable_ops *ops)
{
	return container_of(ops, struct ih_io_pgtable, ops);
}

/* Format constructors: fill @cfg outputs and return the object, or NULL (logged). */
struct ih_io_pgtable *ih_lpae_alloc(struct ih_world *w, enum ih_io_pgtable_fmt fmt,
				    struct ih_io_pgtable_cfg *cfg, void *cookie);
struct ih_io_pgtable *ih_rk_alloc(struct ih_world *w, enum ih_io_pgtable_fmt fmt,
				  struct ih_io_pgtable_cfg *cfg, void *cookie);

/* Common pieces: lock init, table page allocation (counted), flush-op wrappers. */
int ih_iop_init(struct ih_io_pgtable *iop, struct ih_world *w, enum ih_io_pgtable_fmt fmt,
		const struct ih_io_pgtable_cfg *cfg, void *cookie);
void ih_iop_fini(struct ih_io_pgtable *iop);
ih_pa_t ih_iop_table_alloc(struct ih_io_pgtable *iop, size_t size, size_t align, const char *site);
void ih_iop_table_free(struct ih_io_pgtable *iop, ih_pa_t pa, size_t size);
void ih_iop_flush_walk(struct ih_io_pgtable *iop, u64 iova, size_t size, size_t granule);
/* A leaf at [iova, iova + size) was cleared: tlb_add_page when strict, else widen @gather. */
void ih_iop_leaf_removed(struct ih_io_pgtable *iop, struct ih_iommu_iotlb_gather *gather, bool lazy,
			 u64 iova, size_t size);
/* One snapshot of the strictness of an unmap call: the quirk or gather->queued. */
bool ih_iop_unmap_is_lazy(struct ih_io_pgtable *iop, const struct ih_iommu_iotlb_gather *gather);

/* True when [base, base + count * size) fits below 2^bits, without overflow. */
static inline bool ih_iop_range_fits(u64 base, size_t size, size_t count, unsigned int bits)
{
	u64 limit = bits >= 64 ? ~0ULL : (1ULL << bits);

	if (base >= limit || size == 0)
		return false;
	return count <= (limit - base) / size;
}

#endif /* IH_CORE_IO_PGTABLE_PRIV_H */
