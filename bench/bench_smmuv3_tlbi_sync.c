// SPDX-License-Identifier: MIT
/*
 * Benchmark: cost of one TLBI_NH_VA + CMD_SYNC round trip on the emulated SMMUv3, in a
 * sequential world (consumed on the doorbell) and a concurrent one (hardware thread,
 * driver polls CMDQ_CONS), run interleaved (seq, conc, seq, conc, ...) in one process.
 * CLI: bench_smmuv3_tlbi_sync [--smoke | --quick] [--rounds N] [--reps R]
 * Output: one JSON line with the median and spread of ns per round trip for each mode.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ih/mmio.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "smmuv3/smmuv3_hw.h"

#define MMIO_BASE 0x2b400000ULL
#define LOG2	  8

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

/* ns per round trip for @rounds TLBI + SYNC pairs; 0 on failure. */
static double run(enum ih_exec_mode mode, unsigned int rounds)
{
	struct ih_world_config wc;
	struct ih_world *w;
	struct ih_smmuv3_hw *hw;
	struct ih_mmio_region *r;
	ih_pa_t q;
	u32 prod = 0, m = (2u << LOG2) - 1;
	u64 t0, t1;
	double res = 0;

	ih_world_config_init(&wc);
	wc.mode = mode;
	wc.physmem_size = 1UL << 20;
	wc.log = "none";
	if (ih_world_create(&wc, &w))
		return 0;
	if (ih_smmuv3_hw_create(w, MMIO_BASE, NULL, &hw))
		goto destroy_world;
	r = ih_ioremap(w, MMIO_BASE, IH_SMMUV3_MMIO_SIZE);
	q = ih_pm_alloc(w, 16u << LOG2, 4096, "bench:cmdq");
	ih_writeq(r, q | LOG2, 0x90);
	ih_writel(r, 8, 0x20); /* CMDQEN */
	while (ih_readl(r, 0x24) != 8)
		sched_yield();
	t0 = now_ns();
	for (unsigned int i = 0; i < rounds; i++) {
		ih_pa_t at = q + (u64)(prod & ((1u << LOG2) - 1)) * 16;

		ih_pm_store64(w, at, 0x12 | (1ULL << 48));
		ih_pm_store64(w, at + 8, 0x1000 | 1);
		prod = (prod + 1) & m;
		at = q + (u64)(prod & ((1u << LOG2) - 1)) * 16;
		ih_pm_store64(w, at, 0x46);
		ih_pm_store64(w, at + 8, 0);
		prod = (prod + 1) & m;
		ih_writel(r, prod, 0x98);
		while ((ih_readl(r, 0x9c) & m) != prod)
			;
	}
	t1 = now_ns();
	res = (double)(t1 - t0) / rounds;
	ih_smmuv3_hw_destroy(hw);
	ih_pm_free(w, q, 16u << LOG2);
destroy_world:
	ih_world_destroy(w);
	return res;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned int rounds = 20000, reps = 7;
	double seq[64], conc[64];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			rounds = 200;
			reps = 1;
		} else if (!strcmp(argv[i], "--quick")) {
			rounds = 2000;
			reps = 5;
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			rounds = (unsigned int)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			reps = (unsigned int)strtoul(argv[++i], NULL, 0);
		}
	}
	if (!rounds || !reps || reps > 64)
		return 2;
	run(IH_EXEC_SEQUENTIAL, rounds / 10 + 1); /* warm-up */
	for (unsigned int i = 0; i < reps; i++) {
		seq[i] = run(IH_EXEC_SEQUENTIAL, rounds);
		conc[i] = run(IH_EXEC_CONCURRENT, rounds);
		if (seq[i] <= 0 || conc[i] <= 0)
			return 1;
	}
	qsort(seq, reps, sizeof(double), cmp);
	qsort(conc, reps, sizeof(double), cmp);
	printf("{\"bench\":\"smmuv3_tlbi_sync\",\"rounds\":%u,\"reps\":%u,"
	       "\"sequential_ns\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
	       "\"concurrent_ns\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f}}\n",
	       rounds, reps, seq[reps / 2], seq[0], seq[reps - 1], conc[reps / 2], conc[0],
	       conc[reps - 1]);
	return 0;
}
