/* SPDX-License-Identifier: MIT */
/* Test helper: io-pgtable flush ops that record every call, to assert exact counts. */
#ifndef IH_TESTS_FLUSH_RECORDER_H
#define IH_TESTS_FLUSH_RECORDER_H

#include <ih/io_pgtable.h>

enum flush_kind {
	FLUSH_ALL,
	FLUSH_WALK,
	FLUSH_ADD_PAGE,
};

struct flush_call {
	enum flush_kind kind;
	u64 iova;
	size_t size; /* span for FLUSH_WALK, granule for FLUSH_ADD_PAGE */
	size_t granule;
};

#define FLUSH_RECORDER_MAX 4096

/*
 * struct flush_recorder - pass as the cookie with flush_recorder_ops. Counts every call;
 * keeps the first FLUSH_RECORDER_MAX calls in order. tlb_add_page also widens the gather
 * and sets its pgsize, as a driver would.
 */
struct flush_recorder {
	unsigned int all, walk, add_page;
	size_t ncalls;
	struct flush_call calls[FLUSH_RECORDER_MAX];
};

extern const struct ih_iommu_flush_ops flush_recorder_ops;

void flush_recorder_reset(struct flush_recorder *r);

#endif /* IH_TESTS_FLUSH_RECORDER_H */
