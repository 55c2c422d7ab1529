// SPDX-License-Identifier: MIT
/* A device's DMA as the bus master issues it: through the emulated IOMMU, page by page. */
#include "check/check_priv.h"
#include "iommu_priv.h"
#include "platform/world_priv.h"

/*
 * The access holds the core's dma_lock for read from its first read of dev->iommu to its
 * last check: a removal racing it (release_device, the last member leaving a group, an
 * IOMMU unregistering) unpublishes what it reads and waits for it before freeing anything,
 * as the hardware finishes in-flight transactions before an invalidation completes. A
 * device released meanwhile is seen either whole or not at all (then: no IOMMU).
 */
static int dma_access_locked(struct ih_device *dev, u64 iova, size_t len, enum ih_dma_dir dir,
			     ih_pa_t *pa)
{
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);
	struct ih_iommu_device *iommu = param ? READ_ONCE(param->iommu_dev) : NULL;
	bool write = dir != IH_DMA_TO_DEVICE;
	u64 page, last;
	u32 sid;

	if (!iommu) {
		if (pa)
			*pa = iova;
		return 0;
	}
	if (!iommu->hw_ops || !iommu->hw_ops->translate || !param->fwspec ||
	    !param->fwspec->num_ids)
		return -EOPNOTSUPP;
	sid = param->fwspec->ids[0];
	last = (iova + len - 1) & ~(u64)(SZ_4K - 1);
	for (page = iova & ~(u64)(SZ_4K - 1);; page += SZ_4K) {
		u64 at = page < iova ? iova : page;
		struct ih_check_dma_token token;
		ih_pa_t out;
		int ret;

		/* The IOTLB-staleness checker compares the result with the page table. */
		ih_check_dma_begin(dev, at, &token);
		ret = iommu->hw_ops->translate(iommu->hw, sid, at, write, &out);
		if (ret)
			return ret;
		ih_check_dma_translate(dev, at, out, &token);
		if (pa && at == iova)
			*pa = out;
		if (page == last)
			break;
	}
	return 0;
}

int ih_dma_access(struct ih_device *dev, u64 iova, size_t len, enum ih_dma_dir dir, ih_pa_t *pa)
{
	struct ih_iommu_state *st;
	int ret;

	if (!dev || !len || iova + len - 1 < iova)
		return -EINVAL;
	st = __atomic_load_n(&dev->world->iommu, __ATOMIC_ACQUIRE);
	if (!st) {
		/* No IOMMU core in this world: nothing translates. */
		if (pa)
			*pa = iova;
		return 0;
	}
	pthread_rwlock_rdlock(&st->dma_lock);
	ret = dma_access_locked(dev, iova, len, dir, pa);
	pthread_rwlock_unlock(&st->dma_lock);
	return ret;
}
