/* SPDX-License-Identifier: MIT */
/* Log-bucket latency histogram for the benchmarks (HDR-style, 1/16 relative precision). */
#ifndef IH_BENCH_HIST_H
#define IH_BENCH_HIST_H

#include <string.h>

#include <ih/compat.h>

/*
 * Debian has no C HDR histogram package (only Java and Go ones), so this is a small one of
 * our own, in the same spirit: values (nanoseconds) below 16 get one bucket each; above,
 * each power of two [2^e, 2^(e+1)) is cut into 16 equal sub-buckets, so a bucket is at
 * most 1/16 (6.25%) of its value wide, whatever the magnitude. Values up to 2^44 ns
 * (about 4.9 hours) are kept; larger ones land in the last bucket.
 *
 *   value v < 16:   bucket v
 *   v >= 16:        e = floor(log2 v) (4..43), m = the 4 bits below the top bit
 *                   bucket 16 + (e - 4) * 16 + m,  covering [(16 + m) << (e - 4),
 *                                                           (17 + m) << (e - 4))
 *
 * Recording is a handful of instructions (count leading zeros, shift, increment) and
 * allocates nothing: one histogram per thread, merged after the run. A percentile is the
 * upper bound of the bucket that holds it (a conservative answer, never below the truth
 * by more than the bucket width); the exact minimum and maximum are kept beside.
 */

#define BH_SUB_BITS 4
#define BH_SUB	    (1u << BH_SUB_BITS)
#define BH_MAX_EXP  44
#define BH_BUCKETS  (BH_SUB + (BH_MAX_EXP - BH_SUB_BITS) * BH_SUB)

struct bench_hist {
	u64 count;
	u64 sum;
	u64 min;
	u64 max;
	u64 bucket[BH_BUCKETS];
};

static inline void bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = ~0ULL;
}

static inline unsigned int bench_hist_index(u64 v)
{
	unsigned int e, idx;

	if (v < BH_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v);
	idx = BH_SUB + (e - BH_SUB_BITS) * BH_SUB +
	      (unsigned int)((v >> (e - BH_SUB_BITS)) & (BH_SUB - 1));
	return idx < BH_BUCKETS ? idx : BH_BUCKETS - 1;
}

/* The lowest value of bucket @idx and the first value past it. */
static inline u64 bench_hist_lower(unsigned int idx)
{
	unsigned int e;

	if (idx < BH_SUB)
		return idx;
	e = (idx - BH_SUB) / BH_SUB + BH_SUB_BITS;
	return (u64)(BH_SUB + (idx - BH_SUB) % BH_SUB) << (e - BH_SUB_BITS);
}

static inline u64 bench_hist_upper(unsigned int idx)
{
	return idx + 1 < BH_BUCKETS ? bench_hist_lower(idx + 1) : ~0ULL;
}

static inline void bench_hist_add(struct bench_hist *h, u64 v)
{
	h->bucket[bench_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static inline void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
	for (unsigned int i = 0; i < BH_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

/*
 * The value at quantile @q (0 < q <= 1): upper bound of the bucket holding the
 * ceil(q * count)-th smallest sample, clamped to the exact maximum; 0 when empty.
 */
static inline u64 bench_hist_quantile(const struct bench_hist *h, double q)
{
	u64 rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (u64)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	for (unsigned int i = 0; i < BH_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			u64 up = bench_hist_upper(i) - 1;

			return up < h->max ? up : h->max;
		}
	}
	return h->max;
}

#endif /* IH_BENCH_HIST_H */
