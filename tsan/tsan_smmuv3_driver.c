// SPDX-License-Identifier: MIT
/*
 * TSan scenario: the SMMUv3 driver under concurrent use through the IOMMU core.
 *
 * Threads: 2 client threads, each owning one platform device (StreamIDs 1 and 2, each in
 * its own default DMA domain, so distinct ASIDs), loop map -> DMA -> unmap -> DMA through
 * the core; the SMMU's hardware thread consumes the shared command queue; the driver's
 * event interrupt runs on whichever client thread faulted. Half the rounds use a range of
 * two pages so level-3 tables come and go (tlb_flush_walk from inside the io-pgtable
 * lock). The first run polls CMDQ_CONS for CMD_SYNC completion, the second uses MSIs.
 * Invariant: every mapped DMA reaches its own page, every unmapped one faults with
 * F_TRANSLATION, events drained == faults, no command error or timeout, no leak.
 * Expected outcome: exit 0 with no TSan report.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <ih/base.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"

#define MMIO_BASE 0x2b400000ULL
#define NTHREADS  2
#define ITERS	  2000

struct ctx {
	struct ih_world *w;
	struct ih_smmuv3 *smmu;
	char fwnode; /* its address is the SMMU's firmware node */
	struct ih_device *dev[NTHREADS];
	ih_pa_t buf[NTHREADS];
	int go;	    /* start flag, atomic */
	int failed; /* atomic */
};

struct worker {
	struct ctx *c;
	unsigned int id;
};

/* Firmware: "devN" sits behind the SMMU with StreamID N + 1. */
static int fw_for_each(void *opaque, struct ih_device *dev, ih_fw_iommu_ref_fn fn, void *arg)
{
	struct ctx *c = opaque;
	struct ih_fw_iommu_args args = {.fwnode = &c->fwnode, .nargs = 1};
	int ret;

	if (strncmp(dev->name, "dev", 3) || dev->name[3] < '0' || dev->name[3] > '9')
		return 0;
	args.args[0] = (u32)(dev->name[3] - '0') + 1;
	ret = fn(dev, &args, arg);
	return ret ? ret : 1;
}

static const struct ih_fw_provider_ops fw_ops = {.for_each_iommu_ref = fw_for_each};

/* A platform device named @name, added (its probe at add runs the firmware parsing). */
static struct ih_device *plat_add(struct ih_world *w, const char *name)
{
	struct ih_platform_device *pdev;

	if (!ih_bus_registered(w, &ih_platform_bus_type) &&
	    ih_bus_register(w, &ih_platform_bus_type))
		return NULL;
	if (ih_platform_device_alloc(w, name, "tsan,dev", NULL, &pdev))
		return NULL;
	if (ih_device_add(&pdev->dev)) {
		ih_device_put(&pdev->dev);
		return NULL;
	}
	return &pdev->dev;
}

static void fail(struct ctx *c, const char *what, unsigned int id, unsigned int i, int ret)
{
	fprintf(stderr, "thread %u round %u: %s (%d)\n", id, i, what, ret);
	__atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
}

static void *worker(void *arg)
{
	struct worker *wk = arg;
	struct ctx *c = wk->c;
	struct ih_device *dev = c->dev[wk->id];
	struct ih_iommu_domain *dom = ih_iommu_get_dma_domain(dev);
	u64 iova = 0x100000ULL * (wk->id + 1);

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		sched_yield();
	for (unsigned int i = 0; i < ITERS && !__atomic_load_n(&c->failed, __ATOMIC_RELAXED); i++) {
		size_t len = i & 1 ? 2 * SZ_4K : SZ_4K;
		ih_pa_t pa = 0;
		int ret;

		ret = ih_iommu_map(dom, iova, c->buf[wk->id], len, IH_PROT_READ | IH_PROT_WRITE);
		if (ret) {
			fail(c, "map", wk->id, i, ret);
			break;
		}
		ret = ih_dma_access(dev, iova + len - 8, 8, IH_DMA_FROM_DEVICE, &pa);
		if (ret || pa != c->buf[wk->id] + len - 8)
			fail(c, "DMA through a live mapping", wk->id, i, ret);
		if (ih_iommu_unmap(dom, iova, len) != len)
			fail(c, "unmap", wk->id, i, 0);
		ret = ih_dma_access(dev, iova, 8, IH_DMA_TO_DEVICE, &pa);
		if (ret != -EFAULT)
			fail(c, "DMA after unmap did not fault", wk->id, i, ret);
	}
	return NULL;
}

static int run(enum ih_smmuv3_sync_mode sync)
{
	struct ih_world_config wc;
	struct ih_smmuv3_drv_config dcfg;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3_stats st;
	struct ctx c;
	struct worker wk[NTHREADS];
	pthread_t th[NTHREADS];
	int ret = 0;

	memset(&c, 0, sizeof(c));
	ih_world_config_init(&wc);
	wc.mode = IH_EXEC_CONCURRENT;
	wc.clock = IH_CLOCK_REAL;
	wc.ncpus = 4;
	wc.physmem_size = 32UL << 20;
	wc.log = "none";
	printf("tsan_smmuv3_driver: seed %llu, sync by %s\n", (unsigned long long)wc.seed,
	       sync == IH_SMMUV3_SYNC_MSI ? "MSI" : "polling");
	if (ih_world_create(&wc, &c.w))
		return 1;
	ih_iommu_set_fw_provider(c.w, &fw_ops, &c);
	ih_iommu_set_probe_flow(c.w, IH_PROBE_FLOW_PROBE_PATH);
	if (ih_smmuv3_hw_create(c.w, MMIO_BASE, NULL, &hw))
		return 1;
	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.hw = hw;
	dcfg.mmio_base = MMIO_BASE;
	dcfg.sync_mode = sync;
	if (ih_smmuv3_probe(c.w, &dcfg, NULL, &c.fwnode, &c.smmu))
		return 1;
	for (unsigned int i = 0; i < NTHREADS; i++) {
		char name[8];

		snprintf(name, sizeof(name), "dev%u", i);
		c.dev[i] = plat_add(c.w, name);
		c.buf[i] = ih_pm_alloc(c.w, 2 * SZ_4K, SZ_4K, "tsan:buf");
		if (!c.dev[i] || !c.dev[i]->iommu_group || c.buf[i] == IH_PA_INVALID)
			return 1;
	}
	for (unsigned int i = 0; i < NTHREADS; i++) {
		wk[i] = (struct worker){.c = &c, .id = i};
		pthread_create(&th[i], NULL, worker, &wk[i]);
	}
	__atomic_store_n(&c.go, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);

	ih_smmuv3_get_stats(c.smmu, &st);
	if (c.failed || st.cmd_errors || st.timeouts ||
	    st.evt_translation != (u64)NTHREADS * ITERS || st.events != st.evt_translation) {
		fprintf(
		    stderr, "FAIL: failed %d cmd_errors %llu timeouts %llu events %llu (want %u)\n",
		    c.failed, (unsigned long long)st.cmd_errors, (unsigned long long)st.timeouts,
		    (unsigned long long)st.evt_translation, NTHREADS * ITERS);
		ret = 1;
	}
	printf("tsan_smmuv3_driver: %llu TLBIs, %llu CMD_SYNCs, %llu events\n",
	       (unsigned long long)st.tlbi, (unsigned long long)st.syncs,
	       (unsigned long long)st.events);
	for (unsigned int i = 0; i < NTHREADS; i++) {
		ih_device_unregister(c.dev[i]);
		ih_pm_free(c.w, c.buf[i], 2 * SZ_4K);
	}
	ih_smmuv3_remove(c.smmu);
	ih_smmuv3_hw_destroy(hw);
	if (ih_world_destroy(c.w))
		ret = 1;
	return ret;
}

int main(void)
{
	int ret = run(IH_SMMUV3_SYNC_POLL) || run(IH_SMMUV3_SYNC_MSI);

	printf("tsan_smmuv3_driver: %s\n", ret ? "FAIL" : "pass");
	return ret;
}
