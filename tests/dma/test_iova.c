// SPDX-License-Identifier: MIT
/* IOVA allocator: tree allocation, alignment, limits, caches across CPUs, depot trim, leaks. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/check.h>
#include <ih/clock.h>
#include <ih/iova.h>
#include <ih/world.h>
#include "lib/fault_sweep.h"

static struct ih_world *w;
static struct ih_iova_domain *iovad;

static void setup(void)
{
	struct ih_world_config cfg;

	ih_world_config_init(&cfg);
	cfg.ncpus = 2;
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	cr_assert_eq(ih_iova_domain_create(w, SZ_4K, 0x10, "test", &iovad), 0);
}

static void teardown(void)
{
	char msg[160] = "";

	if (iovad) {
		cr_expect_eq(ih_iova_check(iovad, msg, sizeof(msg)), 0, "%s", msg);
		ih_iova_domain_destroy(iovad);
	}
	cr_expect_eq(ih_world_destroy(w), 0, "model memory leaked");
}

TestSuite(iova, .init = setup, .fini = teardown);

static void expect_consistent(void)
{
	char msg[160] = "";

	cr_assert_eq(ih_iova_check(iovad, msg, sizeof(msg)), 0, "%s", msg);
}

/* Top-down: the first range ends at the limit, the next sits right below it. */
Test(iova, allocates_top_down_below_the_limit)
{
	u64 a, b, c;

	cr_assert_eq(ih_iova_alloc(iovad, 1, 0xfff, true, &a), 0);
	cr_expect_eq(a, 0xfff);
	cr_assert_eq(ih_iova_alloc(iovad, 4, 0xfff, true, &b), 0);
	cr_expect_eq(b, 0xff8, "4 pages aligned to 4 below 0xfff: 0xff8..0xffb");
	cr_assert_eq(ih_iova_alloc(iovad, 2, 0xfff, true, &c), 0);
	cr_expect_eq(c, 0xffc, "the aligned gap 0xffc..0xffd above b is the highest fit");
	expect_consistent();
	cr_expect_eq(ih_iova_free(iovad, b + 3), 0, "free by any pfn inside the range");
	cr_expect_eq(ih_iova_free(iovad, b), -ENOENT);
	cr_expect_eq(ih_iova_free(iovad, a), 0);
	cr_expect_eq(ih_iova_free(iovad, c), 0);
}

/* A 3-page size-aligned range takes 4-page alignment; unaligned ranges pack tightly. */
Test(iova, size_aligned_rounds_the_alignment_only)
{
	u64 a, b, lo, hi;

	cr_assert_eq(ih_iova_alloc(iovad, 3, 0x100, true, &a), 0);
	cr_expect_eq(a, 0xfc, "highest 4-aligned start with 3 pages ending at or below 0x100");
	cr_assert_eq(ih_iova_find(iovad, a + 2, &lo, &hi), 0);
	cr_expect_eq(lo, 0xfc);
	cr_expect_eq(hi, 0xfe);
	cr_assert_eq(ih_iova_alloc(iovad, 3, 0x100, false, &b), 0);
	cr_expect_eq(b, 0xf9, "unaligned: right below a");
	expect_consistent();
	ih_iova_free(iovad, a);
	ih_iova_free(iovad, b);
}

Test(iova, never_below_start_and_enomem_when_full)
{
	u64 pfn;
	int n = 0;

	/* [0x10, 0x1f] holds 16 pages. */
	while (ih_iova_alloc(iovad, 1, 0x1f, true, &pfn) == 0) {
		cr_expect_geq(pfn, 0x10);
		n++;
	}
	cr_expect_eq(n, 16);
	cr_expect_eq(ih_iova_alloc(iovad, 1, 0x1f, true, &pfn), -ENOMEM);
	cr_expect_eq(ih_iova_alloc(iovad, 0, 0x1f, true, &pfn), -EINVAL);
	expect_consistent();
	for (u64 p = 0x10; p <= 0x1f; p++)
		cr_expect_eq(ih_iova_free(iovad, p), 0);
}

Test(iova, reserve_blocks_a_window)
{
	u64 pfn;

	cr_assert_eq(ih_iova_reserve(iovad, 0x80, 0xff), 0);
	cr_expect_eq(ih_iova_reserve(iovad, 0xff, 0x100), -EEXIST);
	cr_assert_eq(ih_iova_alloc(iovad, 0x10, 0xff, true, &pfn), 0);
	cr_expect_eq(pfn, 0x70, "the highest 16-aligned slot under the reserved window");
	expect_consistent();
	ih_iova_free(iovad, pfn);
	ih_iova_free(iovad, 0x80);
}

/*
 * Random allocations and frees against a reference bitmap: every range the tree hands out
 * is free in the bitmap, aligned, under the limit; the check holds after every step.
 */
Test(iova, random_sequence_matches_a_reference_bitmap)
{
	enum { SPACE = 4096 };
	static u8 used[SPACE];
	struct {
		u64 pfn, size;
	} live[512];
	unsigned int nlive = 0;
	u64 rng = 42;

	memset(used, 0, sizeof(used));
	for (int step = 0; step < 4000; step++) {
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		if ((rng >> 60) < 9 && nlive < 512) {
			u64 size = 1 + ((rng >> 20) % 40), pfn;
			u64 limit = 0x10 + SPACE - 1 - ((rng >> 40) % 64);
			u64 align = 1;

			while (align < size)
				align <<= 1;
			if (ih_iova_alloc(iovad, size, limit, true, &pfn))
				continue;
			cr_assert_eq(pfn % align, 0);
			cr_assert(pfn >= 0x10 && pfn + size - 1 <= limit);
			for (u64 p = pfn; p < pfn + size; p++) {
				cr_assert_eq(used[p - 0x10], 0, "pfn 0x%llx handed out twice",
					     (unsigned long long)p);
				used[p - 0x10] = 1;
			}
			live[nlive].pfn = pfn;
			live[nlive++].size = size;
		} else if (nlive) {
			unsigned int i = (unsigned int)((rng >> 24) % nlive);

			cr_assert_eq(ih_iova_free(iovad, live[i].pfn), 0);
			for (u64 p = live[i].pfn; p < live[i].pfn + live[i].size; p++)
				used[p - 0x10] = 0;
			live[i] = live[--nlive];
		}
		if (step % 64 == 0)
			expect_consistent();
	}
	expect_consistent();
	while (nlive)
		cr_assert_eq(ih_iova_free(iovad, live[--nlive].pfn), 0);
}

/* The fast path rounds small sizes to powers of two and serves a freed range from the cache. */
Test(iova, fast_path_reuses_a_freed_range)
{
	struct ih_iova_stats st;
	u64 a, b;

	cr_assert_eq(ih_iova_alloc_fast(iovad, 3, 0xffff, true, &a), 0);
	cr_expect_eq(a % 4, 0);
	ih_iova_free_fast(iovad, a, 3);
	cr_assert_eq(ih_iova_alloc_fast(iovad, 4, 0xffff, true, &b), 0);
	cr_expect_eq(b, a, "order-2 cache hit");
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.cache_hits, 1);
	cr_expect_eq(st.cache_misses, 1);
	cr_expect_eq(st.ranges, 1);
	ih_iova_free_fast(iovad, b, 4);
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.cached, 1);
	cr_expect_eq(st.ranges, 1, "a cached range stays allocated in the tree");
	expect_consistent();
}

/*
 * Magazines move between CPUs: CPU 0 frees 3 x 127 + 1 ranges: its loaded and previous
 * magazines fill (254), the next free pushes a full magazine to the depot. CPU 1, whose
 * own magazines are empty, then allocates from the depot and gets CPU 0's ranges.
 */
Test(iova, magazines_move_between_two_cpus)
{
	enum { N = 2 * IH_IOVA_MAG_SIZE + 1 };
	static u64 pfns[N];
	struct ih_iova_stats st;
	u64 got;
	bool found = false;

	for (int i = 0; i < N; i++)
		cr_assert_eq(ih_iova_alloc_fast(iovad, 1, 0xfffff, true, &pfns[i]), 0);
	cr_assert_eq(ih_thread_set_cpu(w, 0), 0);
	for (int i = 0; i < N; i++)
		ih_iova_free_fast(iovad, pfns[i], 1);
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.depot_mags, 1);
	cr_expect_eq(st.cached, N);
	cr_assert_eq(ih_thread_set_cpu(w, 1), 0);
	cr_assert_eq(ih_iova_alloc_fast(iovad, 1, 0xfffff, true, &got), 0);
	for (int i = 0; i < N; i++)
		found |= pfns[i] == got;
	cr_expect(found, "CPU 1 reuses a range CPU 0 freed");
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.depot_mags, 0, "the full magazine moved to CPU 1");
	cr_expect_eq(st.cache_hits, 1);
	expect_consistent();
	ih_iova_free_fast(iovad, got, 1);
	cr_assert_eq(ih_thread_set_cpu(w, 0), 0);
}

/*
 * The flush queue's batch free: 2 x 127 + 1 single pages in one call fill CPU 0's loaded
 * and prev magazines and push one full magazine to the depot, exactly as 255 single frees
 * would (same stats as magazines_move_between_two_cpus); ranges of a size too big for the
 * caches (64 pages: order 6) go back to the tree one by one.
 */
Test(iova, batch_free_fills_the_magazines_as_single_frees)
{
	enum { N = 2 * IH_IOVA_MAG_SIZE + 1 };
	static u64 pfns[N];
	struct ih_iova_stats st;
	u64 big[2];

	for (int i = 0; i < N; i++)
		cr_assert_eq(ih_iova_alloc_fast(iovad, 1, 0xfffff, true, &pfns[i]), 0);
	cr_assert_eq(ih_iova_alloc_fast(iovad, 64, 0xfffff, true, &big[0]), 0);
	cr_assert_eq(ih_iova_alloc_fast(iovad, 64, 0xfffff, true, &big[1]), 0);
	cr_assert_eq(ih_thread_set_cpu(w, 0), 0);
	ih_iova_free_fast_batch(iovad, pfns, 1, N);
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.depot_mags, 1);
	cr_expect_eq(st.cached, N);
	cr_expect_eq(st.ranges, N + 2);
	ih_iova_free_fast_batch(iovad, big, 64, 2);
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.cached, N, "order 6 is not cached");
	cr_expect_eq(st.ranges, N);
	expect_consistent();
	/* Every cached pfn comes back to CPU 0 before the tree is asked again. */
	for (int i = 0; i < N; i++) {
		u64 got;

		cr_assert_eq(ih_iova_alloc_fast(iovad, 1, 0xfffff, true, &got), 0);
	}
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.cache_hits, N);
	cr_expect_eq(st.cached, 0);
	ih_iova_cache_flush(iovad);
	for (int i = 0; i < N; i++)
		cr_expect_eq(ih_iova_free(iovad, pfns[i]), 0);
}

/*
 * Depot trim: with 2 CPUs the depot keeps 2 magazines. Free 6 x 127 ranges on one CPU:
 * 2 magazines stay loaded/prev, 4 go to the depot; each 100 ms the deferred work gives one
 * magazine back to the tree, until 2 are left.
 */
Test(iova, depot_is_trimmed_on_the_world_clock)
{
	enum { N = 6 * IH_IOVA_MAG_SIZE };
	static u64 pfns[N];
	struct ih_iova_stats st;

	for (int i = 0; i < N; i++)
		cr_assert_eq(ih_iova_alloc_fast(iovad, 1, 0xfffff, true, &pfns[i]), 0);
	for (int i = 0; i < N; i++)
		ih_iova_free_fast(iovad, pfns[i], 1);
	ih_iova_get_stats(iovad, &st);
	/* Frees 255, 382, 509 and 636 each find both magazines full and push one. */
	cr_expect_eq(st.depot_mags, 4);
	cr_expect_eq(st.ranges, N);
	ih_clock_advance(w, IH_IOVA_DEPOT_DELAY_NS - 1);
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.depot_mags, 4, "not yet");
	ih_clock_advance(w, 1);
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.depot_mags, 3);
	cr_expect_eq(st.depot_trims, 1);
	cr_expect_eq(st.ranges, N - IH_IOVA_MAG_SIZE, "the trimmed ranges are free in the tree");
	ih_clock_advance(w, IH_IOVA_DEPOT_DELAY_NS);
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.depot_mags, 2);
	ih_clock_advance(w, IH_IOVA_DEPOT_DELAY_NS);
	ih_iova_get_stats(iovad, &st);
	cr_expect_eq(st.depot_mags, 2, "down to one per CPU: no more trimming");
	cr_expect_eq(st.depot_trims, 2);
	expect_consistent();
}

/* A tree exhausted by cached ranges flushes the caches and retries. */
Test(iova, full_tree_flushes_the_caches)
{
	u64 pfn, big;

	/* 0x10..0x1f: 16 pages. Fill with singles, cache them all, then ask for 16. */
	for (int i = 0; i < 16; i++)
		cr_assert_eq(ih_iova_alloc_fast(iovad, 1, 0x1f, true, &pfn), 0);
	for (u64 p = 0x10; p <= 0x1f; p++)
		ih_iova_free_fast(iovad, p, 1);
	cr_expect_eq(ih_iova_alloc_fast(iovad, 16, 0x1f, false, &big), -ENOMEM);
	cr_assert_eq(ih_iova_alloc_fast(iovad, 16, 0x1f, true, &big), 0);
	cr_expect_eq(big, 0x10);
	ih_iova_free_fast(iovad, big, 16);
	expect_consistent();
}

/* Destroying a domain with ranges still allocated reports each one, naming the range. */
Test(iova, destroy_reports_each_leaked_range)
{
	struct ih_report r;
	u64 a, b, c;

	cr_assert_eq(ih_iova_alloc(iovad, 1, 0xfff, true, &a), 0);
	cr_assert_eq(ih_iova_alloc(iovad, 2, 0xfff, true, &b), 0);
	cr_assert_eq(ih_iova_alloc_fast(iovad, 1, 0xfff, true, &c), 0);
	ih_iova_free_fast(iovad, c, 1); /* cached: free to its user, not a leak */
	cr_expect_eq(ih_iova_domain_destroy(iovad), 2);
	iovad = NULL;
	cr_expect_eq(ih_report_count(w, IH_REPORT_IOVA_LEAK), 2);
	cr_assert(ih_report_last(w, &r));
	cr_expect_str_eq(r.dev, "test");
	cr_expect_str_eq(r.call, "iova_domain_destroy");
	cr_expect(r.iova == a << 12 || r.iova == b << 12);
	cr_expect(strstr(r.msg, "still allocated") != NULL, "%s", r.msg);
}

static void sweep_scenario(struct ih_world *sw, void *arg)
{
	struct ih_iova_domain *d;
	u64 pfns[300];
	int n = 0;

	if (ih_iova_domain_create(sw, SZ_4K, 1, "sweep", &d))
		return;
	for (int i = 0; i < 300; i++)
		if (!ih_iova_alloc_fast(d, 1 + (i % 3), 0xfffff, true, &pfns[n]))
			n++;
	for (int i = 0; i < n; i++)
		ih_iova_free_fast(d, pfns[i], 1 + (i % 3));
	cr_assert_eq(ih_iova_check(d, NULL, 0), 0);
	cr_assert_eq(ih_iova_domain_destroy(d), 0, "a failed allocation leaked a range");
}

/* Every allocation site may fail: nothing leaks, no range is lost or handed out twice. */
Test(iova, each_allocation_may_fail)
{
	cr_expect_geq(fault_sweep(sweep_scenario, NULL, "iova:"), 3);
}
