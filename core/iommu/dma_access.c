// SPDX-License-Identifier: MIT
/* A device's DMA as the bus master issues it: through the emulated IOMMU, page by page. */
#include "check/check_priv.h"
#include "iommu_priv.h"

int ih_dma_access(struct ih_device *dev, u64 iova, size_t len, enum ih_dma_dir dir, ih_pa_t *pa)
{
	struct ih_dev_iommu *param;
	struct ih_iommu_device *iommu;
	bool write = dir != IH_DMA_TO_DEVICE;
	u64 page, last;
	u32 sid;

	if (!dev || !len || iova + len - 1 < iova)
		return -EINVAL;
	param = READ_ONCE(dev->iommu);
	iommu = param ? param->iommu_dev : NULL;
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
		ih_pa_t out;
		int ret = iommu->hw_ops->translate(iommu->hw, sid, at, write, &out);

		if (ret)
			return ret;
		/* The IOTLB-staleness checker compares the result with the page table. */
		ih_check_dma_translate(dev, at, out);
		if (pa && at == iova)
			*pa = out;
		if (page == last)
			break;
	}
	return 0;
}
