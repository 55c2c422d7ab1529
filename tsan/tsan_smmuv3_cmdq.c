// SPDX-License-Identifier: MIT
/*
 * TSan scenario: driver threads share the emulated SMMUv3 command queue with its hardware
 * thread.
 *
 * Threads: 2 driver threads each post TLBI_NH_ASID + CMD_SYNC(MSI to a private word) under
 * a driver-side producer lock and wait for their own MSI; 1 "device" thread translates DMA
 * through the SMMU meanwhile; the SMMU's hardware thread consumes the queue.
 * Invariant: every CMD_SYNC completes (its MSI value arrives), no command error, and the
 * device counts exactly the TLBIs and syncs that were posted.
 * Expected outcome: exit 0 with no TSan report.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include <ih/mmio.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "smmuv3/smmuv3_hw.h"

/* Test-local layout (IHI 0070 6.2, 4.x, 5.x), independent of the device's own header. */
#define R_CR0	     0x20
#define R_CR0ACK     0x24
#define R_STRTAB     0x80
#define R_STRTAB_CFG 0x88
#define R_CMDQ_BASE  0x90
#define R_CMDQ_PROD  0x98
#define R_CMDQ_CONS  0x9c
#define R_EVTQ_BASE  0xa0
#define CR0_ON	     (BIT(0) | BIT(2) | BIT(3))
#define CMDQ_LOG2    8
#define OP_TLBI_ASID 0x11
#define OP_SYNC	     0x46
#define SYNC_CS_IRQ  (1ULL << 12)
#define ITERS	     2000
#define NDRV	     2
#define MMIO_BASE    0x2b400000ULL

struct ctx {
	struct ih_world *w;
	struct ih_smmuv3_hw *hw;
	struct ih_mmio_region *r;
	ih_pa_t cmdq, msi;
	pthread_mutex_t prod_lock; /* serialises producers: protects prod */
	u32 prod;
	int go;	     /* start flag, atomic */
	int drivers; /* drivers still running, atomic */
	int failed;  /* atomic */
};

struct drv {
	struct ctx *c;
	unsigned int id;
};

static void post(struct ctx *c, u64 c0, u64 c1)
{
	u32 m = (2u << CMDQ_LOG2) - 1;
	ih_pa_t at;

	/* Never overrun CONS: wait while the queue is full. */
	while ((((c->prod ^ ih_readl(c->r, R_CMDQ_CONS)) & m) == (1u << CMDQ_LOG2)))
		sched_yield();
	at = c->cmdq + (u64)(c->prod & ((1u << CMDQ_LOG2) - 1)) * 16;
	ih_pm_store64(c->w, at, c0);
	ih_pm_store64(c->w, at + 8, c1);
	c->prod = (c->prod + 1) & m;
}

static void *driver(void *arg)
{
	struct drv *d = arg;
	struct ctx *c = d->c;
	ih_pa_t slot = c->msi + 4ULL * d->id;

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		sched_yield();
	for (u32 i = 1; i <= ITERS; i++) {
		u32 v = 0;
		long spins = 0;

		pthread_mutex_lock(&c->prod_lock);
		post(c, OP_TLBI_ASID | ((u64)(d->id + 1) << 48), 0);
		post(c, OP_SYNC | SYNC_CS_IRQ | ((u64)i << 32), slot & GENMASK_ULL(51, 2));
		ih_writel(c->r, c->prod, R_CMDQ_PROD);
		pthread_mutex_unlock(&c->prod_lock);
		while (ih_pm_load32(c->w, slot, &v) == 0 && v != i) {
			if (++spins > 200000000L) {
				fprintf(stderr, "driver %u: sync %u never completed\n", d->id, i);
				__atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
				goto out;
			}
			sched_yield();
		}
	}
out:
	__atomic_fetch_sub(&c->drivers, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *device(void *arg)
{
	struct ctx *c = arg;

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		sched_yield();
	while (__atomic_load_n(&c->drivers, __ATOMIC_ACQUIRE) > 0) {
		ih_pa_t pa;

		/* Bypass STE: the point is lock traffic against the command consumer. */
		if (ih_smmuv3_hw_translate(c->hw, 0, false, 0, 0x1000, false, &pa) || pa != 0x1000)
			__atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	struct ih_world_config wc;
	struct ctx c = {0};
	struct drv d[NDRV];
	pthread_t th[NDRV + 1];
	struct ih_smmuv3_hw_stats st;
	ih_pa_t strtab, evtq;
	int ret = 0;

	ih_world_config_init(&wc);
	wc.mode = IH_EXEC_CONCURRENT;
	wc.clock = IH_CLOCK_REAL;
	wc.ncpus = 4;
	wc.physmem_size = 16UL << 20;
	wc.log = "none";
	printf("tsan_smmuv3_cmdq: seed %llu\n", (unsigned long long)wc.seed);
	if (ih_world_create(&wc, &c.w) || ih_smmuv3_hw_create(c.w, MMIO_BASE, NULL, &c.hw))
		return 1;
	c.r = ih_ioremap(c.w, MMIO_BASE, IH_SMMUV3_MMIO_SIZE);
	c.cmdq = ih_pm_alloc(c.w, 16u << CMDQ_LOG2, 4096, "tsan:cmdq");
	evtq = ih_pm_alloc(c.w, 4096, 4096, "tsan:evtq");
	strtab = ih_pm_alloc(c.w, 4096, 4096, "tsan:strtab");
	c.msi = ih_pm_alloc(c.w, 4096, 4096, "tsan:msi");
	pthread_mutex_init(&c.prod_lock, NULL);
	/* STE 0: valid, bypass (Config 0b100). */
	ih_pm_store64(c.w, strtab, 1 | (4 << 1));
	ih_writeq(c.r, c.cmdq | CMDQ_LOG2, R_CMDQ_BASE);
	ih_writeq(c.r, evtq | 7, R_EVTQ_BASE);
	ih_writeq(c.r, strtab, R_STRTAB);
	ih_writel(c.r, 6, R_STRTAB_CFG);
	ih_writel(c.r, CR0_ON, R_CR0);
	while (ih_readl(c.r, R_CR0ACK) != CR0_ON)
		sched_yield();
	c.drivers = NDRV;
	for (unsigned int i = 0; i < NDRV; i++) {
		d[i] = (struct drv){.c = &c, .id = i};
		pthread_create(&th[i], NULL, driver, &d[i]);
	}
	pthread_create(&th[NDRV], NULL, device, &c);
	__atomic_store_n(&c.go, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i <= NDRV; i++)
		pthread_join(th[i], NULL);
	ih_smmuv3_hw_stats(c.hw, &st);
	if (c.failed || st.cmd_errors || st.syncs != NDRV * ITERS || st.tlbi != NDRV * ITERS) {
		fprintf(stderr, "FAIL: failed %d errors %llu syncs %llu tlbi %llu\n", c.failed,
			(unsigned long long)st.cmd_errors, (unsigned long long)st.syncs,
			(unsigned long long)st.tlbi);
		ret = 1;
	}
	ih_smmuv3_hw_destroy(c.hw);
	pthread_mutex_destroy(&c.prod_lock);
	ih_pm_free(c.w, c.msi, 4096);
	ih_pm_free(c.w, strtab, 4096);
	ih_pm_free(c.w, evtq, 4096);
	ih_pm_free(c.w, c.cmdq, 16u << CMDQ_LOG2);
	if (ih_world_destroy(c.w))
		ret = 1;
	printf("tsan_smmuv3_cmdq: %s\n", ret ? "FAIL" : "pass");
	return ret;
}
