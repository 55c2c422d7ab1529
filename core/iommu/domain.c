// SPDX-License-Identifier: MIT
/* Domains: allocation through the driver, attach, and map/unmap split into page sizes. */
#include <string.h>

#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/io_pgtable.h>
#include "iommu_priv.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "iommu-domain: "

static const char *const type_names[] = {
	[IH_DOMAIN_BLOCKED] = "blocked",  [IH_DOMAIN_IDENTITY] = "identity",
	[IH_DOMAIN_UNMANAGED] = "unmanaged", [IH_DOMAIN_DMA] = "DMA",
	[IH_DOMAIN_DMA_FQ] = "DMA-FQ",
};

const char *ih_domain_type_name(enum ih_domain_type type)
{
	return (unsigned int)type < ARRAY_SIZE(type_names) ? type_names[type] : "?";
}

int ih_domain_type_parse(const char *name, enum ih_domain_type *type)
{
	for (unsigned int i = 0; name && i < ARRAY_SIZE(type_names); i++) {
		if (!strcmp(name, type_names[i])) {
			*type = (enum ih_domain_type)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool is_paging(enum ih_domain_type type)
{
	return type == IH_DOMAIN_UNMANAGED || type == IH_DOMAIN_DMA || type == IH_DOMAIN_DMA_FQ;
}

/**
 * ih_iommu_domain_alloc_type() - ask @dev's IOMMU driver for a domain of @type.
 *
 * A driver without a native blocked domain gets an empty paging domain instead, which
 * blocks just as well. DMA-FQ falls back to DMA when the driver cannot do lazy flushing.
 */
int ih_iommu_domain_alloc_type(struct ih_device *dev, enum ih_domain_type type,
			       struct ih_iommu_domain **out)
{
	const struct ih_iommu_ops *ops = ih_dev_iommu_ops(dev);
	struct ih_iommu_domain *d = NULL;
	int ret;

	*out = NULL;
	if (!ops)
		return -ENODEV;
	ret = ops->domain_alloc(dev, type, &d);
	if (ret == -EOPNOTSUPP && type == IH_DOMAIN_BLOCKED)
		ret = ops->domain_alloc(dev, IH_DOMAIN_UNMANAGED, &d);
	else if (ret == -EOPNOTSUPP && type == IH_DOMAIN_DMA_FQ)
		return ih_iommu_domain_alloc_type(dev, IH_DOMAIN_DMA, out);
	if (ret)
		return ret;
	if (IH_WARN_ON(dev->world, !d || !d->ops || !d->ops->attach_dev,
		       "iommu-domain: driver returned an incomplete domain"))
		return -EINVAL;
	if (is_paging(type) && IH_WARN_ON(dev->world, !d->ops->map_pages || !d->ops->unmap_pages,
					  "iommu-domain: paging domain without map/unmap"))
		return -EINVAL;
	d->type = type;
	d->owner = ops;
	d->w = dev->world;
	if (!d->pgsize_bitmap)
		d->pgsize_bitmap = ops->pgsize_bitmap;
	/* DMA-API domains carry the DMA layer's cookie for exactly their lifetime. */
	if (type == IH_DOMAIN_DMA || type == IH_DOMAIN_DMA_FQ) {
		ret = ih_dma_domain_init(d, dev);
		if (ret) {
			d->ops->free(d);
			return ret;
		}
	}
	*out = d;
	return 0;
}

void ih_iommu_domain_destroy(struct ih_iommu_domain *domain)
{
	if (!domain)
		return;
	ih_dma_domain_fini(domain);
	if (domain->ops && domain->ops->free)
		domain->ops->free(domain);
}

int ih_iommu_domain_attach_dev(struct ih_iommu_domain *domain, struct ih_device *dev)
{
	if (!domain)
		return -EINVAL;
	return domain->ops->attach_dev(domain, dev);
}

int ih_iommu_domain_alloc(struct ih_device *dev, struct ih_iommu_domain **out)
{
	*out = NULL;
	if (!dev || !READ_ONCE(dev->iommu_group))
		return -ENODEV;
	return ih_iommu_domain_alloc_type(dev, IH_DOMAIN_UNMANAGED, out);
}

void ih_iommu_domain_free(struct ih_iommu_domain *domain)
{
	ih_iommu_domain_destroy(domain);
}

/*
 * The largest supported page size for the piece at @iova/@paddr of @size bytes, and how
 * many such pages to map before a larger size could take over.
 */
static size_t pick_pgsize(unsigned long bitmap, u64 iova, ih_pa_t paddr, size_t size,
			  size_t *count)
{
	u64 addr_merge = iova | paddr;
	unsigned long sizes = bitmap;
	unsigned long larger;
	size_t pgsize, n;
	unsigned int idx;

	/* Sizes no bigger than what is left and than the alignment of both addresses. */
	sizes &= size >= (1UL << 63) ? ~0UL : (2UL << (63 - __builtin_clzl(size))) - 1;
	if (addr_merge)
		sizes &= (2UL << __builtin_ctzll(addr_merge)) - 1;
	if (!sizes)
		return 0;
	idx = 63 - __builtin_clzl(sizes);
	pgsize = 1UL << idx;
	n = size >> idx;
	/* Stop where the next larger supported size becomes aligned. */
	larger = bitmap & ~((2UL << idx) - 1);
	if (larger) {
		size_t next = 1UL << __builtin_ctzl(larger);
		size_t to_boundary = next - (size_t)(addr_merge & (next - 1));

		if (to_boundary < size)
			n = ih_min(n, to_boundary >> idx);
	}
	*count = n;
	return pgsize;
}

static bool in_aperture(struct ih_iommu_domain *d, u64 iova, size_t size)
{
	if (!size || iova + size - 1 < iova)
		return false;
	if (d->aperture_end == 0 && d->aperture_start == 0)
		return true;
	return iova >= d->aperture_start && iova + size - 1 <= d->aperture_end;
}

int ih_iommu_map(struct ih_iommu_domain *domain, u64 iova, ih_pa_t paddr, size_t size,
		 int prot)
{
	unsigned long min_pgsize;
	size_t done = 0;
	int ret = 0;

	if (!domain || !is_paging(domain->type) || !domain->pgsize_bitmap)
		return -EINVAL;
	min_pgsize = 1UL << __builtin_ctzl(domain->pgsize_bitmap);
	if (!IH_IS_ALIGNED(iova | paddr | size, (u64)min_pgsize) || !in_aperture(domain, iova, size))
		return -EINVAL;
	while (done < size) {
		size_t count = 0, mapped = 0;
		size_t pgsize = pick_pgsize(domain->pgsize_bitmap, iova + done, paddr + done,
					    size - done, &count);

		if (!pgsize) {
			ret = -EINVAL;
			break;
		}
		ret = domain->ops->map_pages(domain, iova + done, paddr + done, pgsize, count, prot,
					     &mapped);
		done += mapped;
		if (ret)
			break;
		if (IH_WARN_ON(domain->w, !mapped, "iommu-domain: map_pages mapped nothing")) {
			ret = -EINVAL;
			break;
		}
	}
	/* All or nothing for the caller. */
	if (ret && done)
		ih_iommu_unmap(domain, iova, done);
	return ret;
}

size_t ih_iommu_unmap_fast(struct ih_iommu_domain *domain, u64 iova, size_t size,
			   struct ih_iommu_iotlb_gather *gather)
{
	unsigned long min_pgsize;
	size_t done = 0;

	if (!domain || !is_paging(domain->type) || !domain->pgsize_bitmap)
		return 0;
	min_pgsize = 1UL << __builtin_ctzl(domain->pgsize_bitmap);
	if (!IH_IS_ALIGNED(iova | size, (u64)min_pgsize) || !in_aperture(domain, iova, size))
		return 0;
	while (done < size) {
		size_t count = 0, got;
		size_t pgsize = pick_pgsize(domain->pgsize_bitmap, iova + done, 0, size - done,
					    &count);

		if (!pgsize)
			break;
		got = domain->ops->unmap_pages(domain, iova + done, pgsize, count, gather);
		if (!got)
			break;
		done += got;
	}
	return done;
}

void ih_iommu_iotlb_sync(struct ih_iommu_domain *domain, struct ih_iommu_iotlb_gather *gather)
{
	if (domain->ops->iotlb_sync)
		domain->ops->iotlb_sync(domain, gather);
	ih_iommu_iotlb_gather_init(gather);
}

size_t ih_iommu_unmap(struct ih_iommu_domain *domain, u64 iova, size_t size)
{
	struct ih_iommu_iotlb_gather gather;
	size_t done;

	ih_iommu_iotlb_gather_init(&gather);
	done = ih_iommu_unmap_fast(domain, iova, size, &gather);
	ih_iommu_iotlb_sync(domain, &gather);
	return done;
}

ih_pa_t ih_iommu_iova_to_phys(struct ih_iommu_domain *domain, u64 iova)
{
	if (!domain)
		return IH_PA_INVALID;
	if (domain->type == IH_DOMAIN_IDENTITY)
		return iova;
	if (!is_paging(domain->type) || !domain->ops->iova_to_phys)
		return IH_PA_INVALID;
	return domain->ops->iova_to_phys(domain, iova);
}
