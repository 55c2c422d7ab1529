// SPDX-License-Identifier: MIT
/* Test helper: io-pgtable flush ops that record every call. */
#include <string.h>

#include "lib/flush_recorder.h"

static void record(struct flush_recorder *r, enum flush_kind kind, u64 iova, size_t size,
		   size_t granule)
{
	if (r->ncalls < FLUSH_RECORDER_MAX)
		r->calls[r->ncalls] = (struct flush_call){kind, iova, size, granule};
	r->ncalls++;
}

static void rec_flush_all(void *cookie)
{
	struct flush_recorder *r = cookie;

	r->all++;
	record(r, FLUSH_ALL, 0, 0, 0);
}

static void rec_flush_walk(u64 iova, size_t size, size_t granule, void *cookie)
{
	struct flush_recorder *r = cookie;

	r->walk++;
	record(r, FLUSH_WALK, iova, size, granule);
}

static void rec_add_page(struct ih_iommu_iotlb_gather *gather, u64 iova, size_t granule,
			 void *cookie)
{
	struct flush_recorder *r = cookie;

	r->add_page++;
	record(r, FLUSH_ADD_PAGE, iova, granule, granule);
	ih_iommu_iotlb_gather_add_range(gather, iova, granule);
	gather->pgsize = granule;
}

const struct ih_iommu_flush_ops flush_recorder_ops = {
    .tlb_flush_all = rec_flush_all,
    .tlb_flush_walk = rec_flush_walk,
    .tlb_add_page = rec_add_page,
};

void flush_recorder_reset(struct flush_recorder *r)
{
	memset(r, 0, sizeof(*r));
}
