// SPDX-License-Identifier: MIT
/* io-pgtable dispatcher: format selection, common helpers, gather helpers. */
#include <limits.h>
#include <stdio.h>

#define IH_LOG_PREFIX "io-pgtable: "
#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/physmem.h>
#include "io_pgtable_priv.h"

void ih_iommu_iotlb_gather_init(struct ih_iommu_iotlb_gather *gather)
{
	gather->start = ULLONG_MAX;
	gather->end = 0;
	gather->pgsize = 0;
	gather->queued = false;
}

void ih_iommu_iotlb_gather_add_range(struct ih_iommu_iotlb_gather *gather, u64 iova, size_t size)
{
	u64 end = iova + size - 1;

	if (size == 0)
		return;
	if (iova < gather->start)
		gather->start = iova;
	if (end > gather->end)
		gather->end = end;
}

bool ih_iommu_iotlb_gather_is_disjoint(const struct ih_iommu_iotlb_gather *gather, u64 iova,
				       size_t size)
{
	u64 end = iova + size - 1;

	if (gather->start > gather->end || size == 0)
		return false;
	/* Touching ranges merge into one invalidation: only a real gap counts. */
	return end + 1 < gather->start || iova > gather->end + 1;
}

int ih_iop_init(struct ih_io_pgtable *iop, struct ih_world *w, enum ih_io_pgtable_fmt fmt,
		const struct ih_io_pgtable_cfg *cfg, void *cookie)
{
	iop->w = w;
	iop->fmt = fmt;
	iop->cfg = *cfg;
	iop->cookie = cookie;
	iop->table_bytes = 0;
	return -pthread_mutex_init(&iop->lock, NULL);
}

void ih_iop_fini(struct ih_io_pgtable *iop)
{
	pthread_mutex_destroy(&iop->lock);
}

ih_pa_t ih_iop_table_alloc(struct ih_io_pgtable *iop, size_t size, size_t align, const char *site)
{
	ih_pa_t pa = ih_pm_alloc(iop->w, size, align, site);

	if (pa != IH_PA_INVALID)
		__atomic_fetch_add(&iop->table_bytes, IH_ALIGN_UP(size, (size_t)IH_PAGE_SIZE),
				   __ATOMIC_RELAXED);
	return pa;
}

void ih_iop_table_free(struct ih_io_pgtable *iop, ih_pa_t pa, size_t size)
{
	ih_pm_free(iop->w, pa, size);
	__atomic_fetch_sub(&iop->table_bytes, IH_ALIGN_UP(size, (size_t)IH_PAGE_SIZE),
			   __ATOMIC_RELAXED);
}

void ih_iop_flush_walk(struct ih_io_pgtable *iop, u64 iova, size_t size, size_t granule)
{
	const struct ih_iommu_flush_ops *tlb = iop->cfg.tlb;

	if (tlb && tlb->tlb_flush_walk)
		tlb->tlb_flush_walk(iova, size, granule, iop->cookie);
}

bool ih_iop_unmap_is_lazy(struct ih_io_pgtable *iop, const struct ih_iommu_iotlb_gather *gather)
{
	return gather->queued || (READ_ONCE(iop->cfg.quirks) & IH_IO_PGTABLE_QUIRK_NON_STRICT);
}

void ih_iop_leaf_removed(struct ih_io_pgtable *iop, struct ih_iommu_iotlb_gather *gather, bool lazy,
			 u64 iova, size_t size)
{
	const struct ih_iommu_flush_ops *tlb = iop->cfg.tlb;

	if (lazy) {
		/* The flush queue invalidates everything later; still say what went. */
		ih_iommu_iotlb_gather_add_range(gather, iova, size);
		return;
	}
	if (tlb && tlb->tlb_add_page)
		tlb->tlb_add_page(gather, iova, size, iop->cookie);
	else
		ih_iommu_iotlb_gather_add_range(gather, iova, size);
}

struct ih_io_pgtable_ops *ih_io_pgtable_alloc(struct ih_world *w, enum ih_io_pgtable_fmt fmt,
					      struct ih_io_pgtable_cfg *cfg, void *cookie)
{
	struct ih_io_pgtable *iop = NULL;

	if (!w || !cfg)
		return NULL;
	if (cfg->quirks & ~(unsigned long)IH_IO_PGTABLE_QUIRKS_ALL) {
		ih_log(w, IH_LOG_GUEST_ERROR, "unknown quirk bits 0x%lx", cfg->quirks);
		return NULL;
	}
	switch (fmt) {
	case IH_ARM_64_LPAE_S1:
	case IH_ARM_64_LPAE_S2:
		iop = ih_lpae_alloc(w, fmt, cfg, cookie);
		break;
	case IH_RK_IOMMU_V1:
	case IH_RK_IOMMU_V2:
		iop = ih_rk_alloc(w, fmt, cfg, cookie);
		break;
	default:
		ih_log(w, IH_LOG_GUEST_ERROR, "unknown format %d", (int)fmt);
		return NULL;
	}
	return iop ? &iop->ops : NULL;
}

void ih_io_pgtable_free(struct ih_io_pgtable_ops *ops)
{
	struct ih_io_pgtable *iop;
	const struct ih_iommu_flush_ops *tlb;

	if (!ops)
		return;
	iop = iop_of(ops);
	tlb = iop->cfg.tlb;
	/* Nothing may still be cached once the table memory goes back to the pool. */
	if (tlb && tlb->tlb_flush_all)
		tlb->tlb_flush_all(iop->cookie);
	iop->destroy(iop);
}

int ih_io_pgtable_set_quirks(struct ih_io_pgtable_ops *ops, unsigned long quirks)
{
	if (quirks & ~(unsigned long)IH_IO_PGTABLE_QUIRKS_ALL)
		return -EINVAL;
	WRITE_ONCE(iop_of(ops)->cfg.quirks, quirks);
	return 0;
}

enum ih_io_pgtable_fmt ih_io_pgtable_fmt_of(const struct ih_io_pgtable_ops *ops)
{
	return iop_of(ops)->fmt;
}

const struct ih_io_pgtable_cfg *ih_io_pgtable_cfg_of(const struct ih_io_pgtable_ops *ops)
{
	return &iop_of(ops)->cfg;
}

size_t ih_io_pgtable_table_bytes(const struct ih_io_pgtable_ops *ops)
{
	return __atomic_load_n(&iop_of(ops)->table_bytes, __ATOMIC_RELAXED);
}
