// SPDX-License-Identifier: MIT
/* Simulated physical memory: alignment, runs, zeroing, exhaustion, PA/VA, checked access. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/physmem.h>
#include <ih/world.h>

#define BASE 0x80000000ULL

static struct ih_world *w;

static void setup(void)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
}

static void teardown(void)
{
	cr_expect_eq(ih_pm_pages_used(w), 0, "the test leaked simulated memory");
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(physmem, .init = setup, .fini = teardown);

static struct ih_world *world_with_mem(ih_pa_t base, size_t size)
{
	struct ih_world_config cfg;
	struct ih_world *nw;

	ih_world_config_init(&cfg);
	cfg.physmem_base = base;
	cfg.physmem_size = size;
	cr_assert_eq(ih_world_create(&cfg, &nw), 0);
	return nw;
}

Test(physmem, default_arena_is_256m_at_2g)
{
	cr_expect_eq(ih_pm_base(w), BASE);
	cr_expect_eq(ih_pm_size(w), 256UL << 20);
	cr_expect_eq(ih_pm_pages_used(w), 0);
}

Test(physmem, allocations_honour_4k_16k_64k_alignment)
{
	static const size_t aligns[] = { SZ_4K, SZ_16K, SZ_64K };

	for (size_t i = 0; i < ARRAY_SIZE(aligns); i++) {
		/* A 4K block first pushes the next-fit hint off every larger boundary. */
		ih_pa_t pad = ih_pm_alloc(w, SZ_4K, SZ_4K, "test:pad");
		ih_pa_t pa = ih_pm_alloc(w, SZ_4K, aligns[i], "test:pm");

		cr_assert_neq(pa, IH_PA_INVALID);
		cr_expect(IH_IS_ALIGNED(pa, (ih_pa_t)aligns[i]), "PA 0x%llx not aligned to 0x%zx",
			  (unsigned long long)pa, aligns[i]);
		ih_pm_free(w, pa, SZ_4K);
		ih_pm_free(w, pad, SZ_4K);
	}
}

Test(physmem, alignment_is_of_the_pa_when_the_base_is_only_4k_aligned)
{
	/* Base 0x80001000: the first 64K-aligned PA is 0x80010000, frame 15 of the arena. */
	struct ih_world *nw = world_with_mem(0x80001000ULL, SZ_1M);
	ih_pa_t a = ih_pm_alloc(nw, SZ_4K, SZ_64K, "test:pm");
	ih_pa_t b = ih_pm_alloc(nw, SZ_16K, SZ_16K, "test:pm");
	ih_pa_t c = ih_pm_alloc(nw, SZ_4K, SZ_4K, "test:pm");

	cr_expect_eq(a, 0x80010000ULL);
	/* Next fit after a: 0x80011000, first 16K boundary 0x80014000. */
	cr_expect_eq(b, 0x80014000ULL);
	cr_expect_eq(c, 0x80018000ULL);
	ih_pm_free(nw, a, SZ_4K);
	ih_pm_free(nw, b, SZ_16K);
	ih_pm_free(nw, c, SZ_4K);
	cr_expect_eq(ih_world_destroy(nw), 0);
}

Test(physmem, bad_alignment_or_size_is_refused)
{
	cr_expect_eq(ih_pm_alloc(w, SZ_4K, 0, "test:pm"), IH_PA_INVALID);
	cr_expect_eq(ih_pm_alloc(w, SZ_4K, 3 * SZ_4K, "test:pm"), IH_PA_INVALID);
	cr_expect_eq(ih_pm_alloc(w, 0, SZ_4K, "test:pm"), IH_PA_INVALID);
	cr_expect_eq(ih_pm_alloc(w, ih_pm_size(w) + 1, SZ_4K, "test:pm"), IH_PA_INVALID);
	cr_expect_eq(ih_pm_pages_used(w), 0);
}

Test(physmem, small_alignment_is_raised_to_4k)
{
	ih_pa_t a = ih_pm_alloc(w, 8, 8, "test:pm");
	ih_pa_t b = ih_pm_alloc(w, 8, 1, "test:pm");

	cr_expect_eq(a, BASE);
	cr_expect_eq(b, BASE + SZ_4K, "8 bytes still take a whole frame");
	cr_expect_eq(ih_pm_pages_used(w), 2);
	ih_pm_free(w, a, 8);
	ih_pm_free(w, b, 8);
}

Test(physmem, runs_are_contiguous_and_disjoint)
{
	/* 5 frames (size rounded up), then 16 frames: next fit puts them back to back. */
	ih_pa_t q1 = ih_pm_alloc(w, 4 * SZ_4K + 1, SZ_4K, "test:queue");
	ih_pa_t q2 = ih_pm_alloc(w, SZ_64K, SZ_4K, "test:queue");
	u8 *v1, *v2;

	cr_assert_eq(q1, BASE);
	cr_assert_eq(q2, BASE + 5 * SZ_4K);
	cr_expect_eq(ih_pm_pages_used(w), 21);
	v1 = ih_pm_va(w, q1, 5 * SZ_4K);
	v2 = ih_pm_va(w, q2, SZ_64K);
	cr_assert_not_null(v1);
	cr_assert_not_null(v2);
	/* One host range per run: the run's last byte is its first plus length - 1. */
	cr_expect_eq(v2, v1 + 5 * SZ_4K);
	memset(v2, 0x5a, SZ_64K);
	cr_expect_eq(v1[5 * SZ_4K - 1], 0, "filling q2 must not touch q1");
	ih_pm_free(w, q1, 4 * SZ_4K + 1);
	ih_pm_free(w, q2, SZ_64K);
	cr_expect_eq(ih_pm_pages_used(w), 0);
}

Test(physmem, reused_frames_come_back_zeroed)
{
	ih_pa_t pa = ih_pm_alloc(w, 2 * SZ_4K, SZ_4K, "test:pm");
	ih_pa_t again;
	u8 *v = ih_pm_va(w, pa, 2 * SZ_4K);

	cr_assert_not_null(v);
	memset(v, 0xaa, 2 * SZ_4K);
	ih_pm_free(w, pa, 2 * SZ_4K);
	/* The freed run is the lowest free one, so next fit hands it out again. */
	again = ih_pm_alloc(w, 2 * SZ_4K, SZ_4K, "test:pm");
	cr_assert_eq(again, pa);
	for (size_t i = 0; i < 2 * SZ_4K; i++)
		cr_assert_eq(v[i], 0, "byte %zu not zeroed", i);
	ih_pm_free(w, again, 2 * SZ_4K);
}

Test(physmem, exhaustion_returns_invalid_and_recovers)
{
	struct ih_world *nw = world_with_mem(BASE, SZ_64K);
	ih_pa_t all = ih_pm_alloc(nw, SZ_64K, SZ_64K, "test:pm");
	ih_pa_t half;

	cr_assert_eq(all, BASE);
	cr_expect_eq(ih_pm_alloc(nw, SZ_4K, SZ_4K, "test:pm"), IH_PA_INVALID);
	ih_pm_free(nw, all, SZ_64K);
	half = ih_pm_alloc(nw, (8 * SZ_4K), SZ_4K, "test:pm");
	cr_expect_eq(half, BASE);
	/* 32K left, but not 64K-aligned 64K, and not 36K contiguous. */
	cr_expect_eq(ih_pm_alloc(nw, (8 * SZ_4K) + SZ_4K, SZ_4K, "test:pm"), IH_PA_INVALID);
	cr_expect_eq(ih_pm_alloc(nw, (8 * SZ_4K), SZ_64K, "test:pm"), IH_PA_INVALID);
	ih_pm_free(nw, half, (8 * SZ_4K));
	cr_expect_eq(ih_world_destroy(nw), 0);
}

Test(physmem, free_space_before_the_hint_is_found_again)
{
	struct ih_world *nw = world_with_mem(BASE, SZ_64K);
	ih_pa_t pa[16], big, small;

	for (int i = 0; i < 16; i++)
		cr_assert_eq(pa[i] = ih_pm_alloc(nw, SZ_4K, SZ_4K, "test:pm"), BASE + i * SZ_4K);
	/* Holes: frame 2, frames 10-11. Freeing moves the next-fit hint back to frame 2. */
	ih_pm_free(nw, pa[2], SZ_4K);
	ih_pm_free(nw, pa[10], SZ_4K);
	ih_pm_free(nw, pa[11], SZ_4K);
	/* 8K does not fit at 2, so it lands at 10 and the hint moves past it, to 12. */
	big = ih_pm_alloc(nw, 2 * SZ_4K, SZ_4K, "test:pm");
	cr_expect_eq(big, BASE + 10 * SZ_4K);
	/* Nothing is free from 12 on: the scan wraps and finds frame 2. */
	small = ih_pm_alloc(nw, SZ_4K, SZ_4K, "test:pm");
	cr_expect_eq(small, BASE + 2 * SZ_4K);
	cr_expect_eq(ih_pm_alloc(nw, SZ_4K, SZ_4K, "test:pm"), IH_PA_INVALID);
	for (int i = 0; i < 16; i++)
		if (i != 2 && i != 10 && i != 11)
			ih_pm_free(nw, pa[i], SZ_4K);
	ih_pm_free(nw, big, 2 * SZ_4K);
	ih_pm_free(nw, small, SZ_4K);
	cr_expect_eq(ih_world_destroy(nw), 0);
}

Test(physmem, pa_and_va_convert_both_ways_inside_the_arena_only)
{
	ih_pa_t pa = ih_pm_alloc(w, SZ_4K, SZ_4K, "test:pm");
	u8 *v = ih_pm_va(w, pa, SZ_4K);
	int on_stack;

	cr_assert_not_null(v);
	cr_expect_eq(ih_pm_pa(w, v), pa);
	cr_expect_eq(ih_pm_pa(w, v + 0x123), pa + 0x123);
	cr_expect_eq(ih_pm_va(w, pa + 0x123, 1), v + 0x123);
	cr_expect_eq(ih_pm_pa(w, &on_stack), IH_PA_INVALID);
	/* The last 4 bytes of the arena are inside; 8 bytes from there are not. */
	cr_expect_not_null(ih_pm_va(w, BASE + ih_pm_size(w) - 4, 4));
	cr_expect_null(ih_pm_va(w, BASE + ih_pm_size(w) - 4, 8));
	cr_expect_null(ih_pm_va(w, BASE - 1, 1));
	cr_expect_null(ih_pm_va(w, BASE + ih_pm_size(w), 1));
	cr_expect_null(ih_pm_va(w, ~0ULL - 3, 8));
	ih_pm_free(w, pa, SZ_4K);
}

Test(physmem, checked_accessors_round_trip_little_endian)
{
	ih_pa_t pa = ih_pm_alloc(w, SZ_4K, SZ_4K, "test:pm");
	u8 *v = ih_pm_va(w, pa, SZ_4K);
	u8 buf[6] = { 0 };
	u32 v32;
	u64 v64;

	cr_assert_eq(ih_pm_store32(w, pa + 4, 0x11223344), 0);
	cr_assert_eq(ih_pm_store64(w, pa + 8, 0x8877665544332211ULL), 0);
	cr_expect_eq(v[4], 0x44);
	cr_expect_eq(v[7], 0x11);
	cr_expect_eq(v[8], 0x11);
	cr_expect_eq(v[15], 0x88);
	cr_expect_eq(ih_pm_load32(w, pa + 4, &v32), 0);
	cr_expect_eq(v32, 0x11223344);
	cr_expect_eq(ih_pm_load64(w, pa + 8, &v64), 0);
	cr_expect_eq(v64, 0x8877665544332211ULL);
	cr_expect_eq(ih_pm_write(w, pa + 0x101, "abcdef", 6), 0);
	cr_expect_eq(ih_pm_read(w, pa + 0x101, buf, 6), 0);
	cr_expect_arr_eq(buf, "abcdef", 6);
	cr_expect_eq(ih_pm_faults(w), 0);
	ih_pm_free(w, pa, SZ_4K);
}

Test(physmem, checked_accessors_refuse_bad_pas_and_count_faults)
{
	ih_pa_t end = BASE + ih_pm_size(w);
	u8 buf[8];
	u32 v32 = 0xdead;
	u64 v64 = 0xdead;

	/* Unaligned for the width. */
	cr_expect_eq(ih_pm_load32(w, BASE + 2, &v32), -EFAULT);
	cr_expect_eq(v32, 0, "a refused load leaves 0");
	cr_expect_eq(ih_pm_load64(w, BASE + 4, &v64), -EFAULT);
	cr_expect_eq(v64, 0);
	cr_expect_eq(ih_pm_store32(w, BASE + 1, 1), -EFAULT);
	cr_expect_eq(ih_pm_store64(w, BASE + 12, 1), -EFAULT);
	cr_expect_eq(ih_pm_faults(w), 4);
	/* Below, at and across the end of the arena, and a wrapping PA. */
	cr_expect_eq(ih_pm_load32(w, BASE - 4, &v32), -EFAULT);
	cr_expect_eq(ih_pm_load64(w, end, &v64), -EFAULT);
	cr_expect_eq(ih_pm_store64(w, ~0ULL - 7, 1), -EFAULT);
	memset(buf, 0x77, sizeof(buf));
	cr_expect_eq(ih_pm_read(w, end - 4, buf, 8), -EFAULT);
	for (int i = 0; i < 8; i++)
		cr_expect_eq(buf[i], 0, "a refused read zeroes the buffer");
	cr_expect_eq(ih_pm_write(w, end - 4, buf, 8), -EFAULT);
	cr_expect_eq(ih_pm_write(w, BASE - 1, buf, 1), -EFAULT);
	cr_expect_eq(ih_pm_faults(w), 10);
	/* Exactly the last 8 bytes are fine (and refused stores wrote nothing). */
	cr_expect_eq(ih_pm_load64(w, end - 8, &v64), 0);
	cr_expect_eq(v64, 0);
	cr_expect_eq(ih_pm_faults(w), 10);
	cr_expect_eq(ih_warn_count(w), 0, "bad PAs are hardware errors, not harness warnings");
}

Test(physmem, fault_injection_fails_the_named_site)
{
	struct ih_alloc_site_stat st[4];
	ih_pa_t pa;
	size_t n;

	cr_assert_eq(ih_fault_fail_site(w, "test:pm-site", 2), 0);
	pa = ih_pm_alloc(w, SZ_4K, SZ_4K, "test:pm-site");
	cr_assert_neq(pa, IH_PA_INVALID, "first call passes");
	cr_expect_eq(ih_pm_alloc(w, SZ_4K, SZ_4K, "test:pm-site"), IH_PA_INVALID);
	cr_expect_eq(ih_pm_pages_used(w), 1, "a failed allocation takes no frame");
	cr_expect_eq(ih_fault_injected(w), 1);
	n = ih_alloc_sites(w, st, ARRAY_SIZE(st));
	cr_assert_eq(n, 1);
	cr_expect_str_eq(st[0].site, "test:pm-site");
	cr_expect_eq(st[0].calls, 2);
	cr_expect_eq(st[0].failed, 1);
	ih_pm_free(w, pa, SZ_4K);
}

Test(physmem, free_of_an_unallocated_frame_is_a_harness_bug, .signal = SIGABRT)
{
	ih_pm_free(w, BASE, SZ_4K);
}
