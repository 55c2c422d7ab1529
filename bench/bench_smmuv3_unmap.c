// SPDX-License-Identifier: MIT
/*
 * Benchmark: one ih_iommu_map + ih_iommu_unmap of 4K through the SMMUv3 driver, whose
 * unmap costs one TLBI_NH_VA + one CMD_SYNC (a neighbouring page stays mapped so no table
 * is freed). Two worlds side by side: sequential (the SMMU consumes on the CMDQ_PROD
 * write) and concurrent (hardware thread, driver polls CMDQ_CONS), measured interleaved
 * (seq, conc, seq, conc, ...) in one process on this noisy shared machine.
 * CLI: bench_smmuv3_unmap [--smoke] [--rounds N] [--reps R] [--msi]
 * Output: one JSON line: median/min/max ns per map+unmap for each mode, the per-rep
 * concurrent/sequential ratio (median/min/max), and the TLBIs and syncs per op.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ih/base.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"

#define MMIO_BASE 0x2b400000ULL
#define IOVA	  0x40000000ULL
#define MAX_REPS  64

struct setup {
	struct ih_world *w;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu;
	struct ih_device *dev;
	struct ih_iommu_domain *dom;
	ih_pa_t buf;
	char fwnode;
};

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static int fw_for_each(void *opaque, struct ih_device *dev, ih_fw_iommu_ref_fn fn, void *arg)
{
	struct setup *s = opaque;
	struct ih_fw_iommu_args args = {.fwnode = &s->fwnode, .nargs = 1, .args = {0x10}};
	int ret = fn(dev, &args, arg);

	return ret ? ret : 1;
}

static const struct ih_fw_provider_ops fw_ops = {.for_each_iommu_ref = fw_for_each};

static int setup_init(struct setup *s, enum ih_exec_mode mode, bool msi)
{
	struct ih_world_config wc;
	struct ih_smmuv3_drv_config dcfg;
	struct ih_platform_device *pdev;

	memset(s, 0, sizeof(*s));
	ih_world_config_init(&wc);
	wc.mode = mode;
	wc.clock = mode == IH_EXEC_CONCURRENT ? IH_CLOCK_REAL : IH_CLOCK_VIRTUAL;
	wc.physmem_size = 16UL << 20;
	wc.log = "none";
	if (ih_world_create(&wc, &s->w))
		return -1;
	ih_iommu_set_fw_provider(s->w, &fw_ops, s);
	ih_iommu_set_probe_flow(s->w, IH_PROBE_FLOW_PROBE_PATH);
	if (ih_smmuv3_hw_create(s->w, MMIO_BASE, NULL, &s->hw))
		return -1;
	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.hw = s->hw;
	dcfg.mmio_base = MMIO_BASE;
	dcfg.sync_mode = msi ? IH_SMMUV3_SYNC_MSI : IH_SMMUV3_SYNC_POLL;
	if (ih_smmuv3_probe(s->w, &dcfg, NULL, &s->fwnode, &s->smmu))
		return -1;
	if (ih_bus_register(s->w, &ih_platform_bus_type) ||
	    ih_platform_device_alloc(s->w, "dev0", "bench,dev", NULL, &pdev))
		return -1;
	s->dev = &pdev->dev;
	if (ih_device_add(s->dev) || !s->dev->iommu_group)
		return -1;
	s->dom = ih_iommu_get_dma_domain(s->dev);
	s->buf = ih_pm_alloc(s->w, 2 * SZ_4K, SZ_4K, "bench:buf");
	if (!s->dom || s->buf == IH_PA_INVALID)
		return -1;
	/* The neighbour keeps the level-3 table alive: each unmap is one TLBI + one sync. */
	return ih_iommu_map(s->dom, IOVA + SZ_4K, s->buf + SZ_4K, SZ_4K, IH_PROT_READ);
}

static void setup_fini(struct setup *s)
{
	ih_iommu_unmap(s->dom, IOVA + SZ_4K, SZ_4K);
	ih_device_unregister(s->dev);
	ih_smmuv3_remove(s->smmu);
	ih_smmuv3_hw_destroy(s->hw);
	ih_pm_free(s->w, s->buf, 2 * SZ_4K);
	ih_world_destroy(s->w);
}

/* ns per map+unmap over @rounds; 0 on failure. */
static double run(struct setup *s, unsigned int rounds)
{
	u64 t0 = now_ns();

	for (unsigned int i = 0; i < rounds; i++) {
		if (ih_iommu_map(s->dom, IOVA, s->buf, SZ_4K, IH_PROT_READ | IH_PROT_WRITE))
			return 0;
		if (ih_iommu_unmap(s->dom, IOVA, SZ_4K) != SZ_4K)
			return 0;
	}
	return (double)(now_ns() - t0) / rounds;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned int rounds = 20000, reps = 9;
	bool msi = false;
	double seq[MAX_REPS], conc[MAX_REPS], ratio[MAX_REPS];
	struct setup s, c;
	struct ih_smmuv3_stats st0, st1;
	double tlbi_per_op, sync_per_op;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			rounds = 200;
			reps = 1;
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			rounds = (unsigned int)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			reps = (unsigned int)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--msi")) {
			msi = true;
		} else {
			fprintf(stderr, "usage: %s [--smoke] [--rounds N] [--reps R] [--msi]\n",
				argv[0]);
			return 2;
		}
	}
	if (!rounds || !reps || reps > MAX_REPS)
		return 2;
	if (setup_init(&s, IH_EXEC_SEQUENTIAL, msi) || setup_init(&c, IH_EXEC_CONCURRENT, msi)) {
		fprintf(stderr, "bench_smmuv3_unmap: set-up failed\n");
		return 1;
	}
	/* Warm-up, then the traffic check: exactly one TLBI and one sync per unmap. */
	run(&s, rounds / 10 + 1);
	run(&c, rounds / 10 + 1);
	ih_smmuv3_get_stats(c.smmu, &st0);
	for (unsigned int i = 0; i < reps; i++) {
		seq[i] = run(&s, rounds);
		conc[i] = run(&c, rounds);
		if (seq[i] <= 0 || conc[i] <= 0)
			return 1;
		ratio[i] = conc[i] / seq[i];
	}
	ih_smmuv3_get_stats(c.smmu, &st1);
	tlbi_per_op = (double)(st1.tlbi - st0.tlbi) / ((double)rounds * reps);
	sync_per_op = (double)(st1.syncs - st0.syncs) / ((double)rounds * reps);
	setup_fini(&s);
	setup_fini(&c);
	qsort(seq, reps, sizeof(double), cmp);
	qsort(conc, reps, sizeof(double), cmp);
	qsort(ratio, reps, sizeof(double), cmp);
	printf("{\"bench\":\"smmuv3_unmap\",\"sync\":\"%s\",\"rounds\":%u,\"reps\":%u,"
	       "\"sequential_ns\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
	       "\"concurrent_ns\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f},"
	       "\"ratio_conc_over_seq\":{\"median\":%.2f,\"min\":%.2f,\"max\":%.2f},"
	       "\"tlbi_per_op\":%.3f,\"sync_per_op\":%.3f}\n",
	       msi ? "msi" : "poll", rounds, reps, seq[reps / 2], seq[0], seq[reps - 1],
	       conc[reps / 2], conc[0], conc[reps - 1], ratio[reps / 2], ratio[0], ratio[reps - 1],
	       tlbi_per_op, sync_per_op);
	return tlbi_per_op == 1.0 && sync_per_op == 1.0 ? 0 : 1;
}
