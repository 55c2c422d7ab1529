// SPDX-License-Identifier: MIT
/*
 * TSan scenario, seed 004: a NIC's page_pool torn down while its pages are out.
 *
 * Threads: a NAPI thread (CPU 0) polls a PCI NIC behind an emulated SMMUv3 (lazy DMA
 * domain; the SMMU's hardware thread consumes the command queue): each received page is
 * DMA-written through the SMMU, handed to the network stack and the descriptor refilled
 * from the pool (the alloc cache, the ring, or a new mapped page). A holder thread (CPU 2)
 * gives pages back from the stack, recycling them into the pool's ring from its CPU. An
 * unbind thread (CPU 1) unbinds the driver after a seeded delay: NAPI stops, the pool is
 * destroyed with pages in flight, and the holder keeps returning them afterwards. The
 * threads start together on a flag. REPS repetitions, each ending when the pool's retry
 * worker (on the real clock's timer thread) has freed the pool.
 *
 * Invariant (switch off): no checker report, no warning, no leak, and every pool freed;
 * expected outcome exit 0 with no ThreadSanitizer report. With page-pool-untracked on
 * (IH_REGRESSIONS decides, as the zoo runs it) the late returns unmap after the unbind and
 * the checkers report them: the program prints the detection rate and exits 1 when any
 * repetition was caught; --regress forces the switch on. Seed: the other argument, or 1.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/check.h>
#include <ih/diag.h>
#include <ih/nic.h>
#include <ih/regress.h>
#include <ih/world.h>

#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"
#include "lib/test_iommu.h"

#define MMIO_BASE 0x2b400000ULL
#define REPS	  20

struct ctx {
	struct ih_world *w;
	struct ih_device *dev;
	struct ih_netstack *ns;
	struct ih_nic_driver nd;
	unsigned int rep;	   /* atomic: bumped by main to start a repetition */
	unsigned int napi_done;	   /* atomic */
	unsigned int done;	   /* atomic: threads finished this repetition */
	unsigned int unbound;	   /* atomic: the last repetition whose unbind has returned */
	unsigned long delay[REPS]; /* unbind delay per repetition, in spins */
	unsigned long packets;	   /* NAPI thread only */
	unsigned long out_at_unbind; /* unbind thread only: pages in the stack just after */
};

static void wait_rep(struct ctx *c, unsigned int r)
{
	while (__atomic_load_n(&c->rep, __ATOMIC_ACQUIRE) != r)
		sched_yield();
}

static void *napi(void *arg)
{
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, 0);
	for (unsigned int r = 1; r <= REPS; r++) {
		wait_rep(c, r);
		for (int got; (got = ih_nic_receive(c->dev, 8)) >= 0;)
			c->packets += (unsigned long)got;
		__atomic_store_n(&c->napi_done, r, __ATOMIC_RELEASE);
		__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *holder(void *arg)
{
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, 2);
	for (unsigned int r = 1; r <= REPS; r++) {
		wait_rep(c, r);
		/* Keep giving pages back, also after the unbind, until NAPI stopped and none left.
		 */
		while (__atomic_load_n(&c->napi_done, __ATOMIC_ACQUIRE) != r ||
		       ih_netstack_held(c->ns)) {
			/*
			 * Every fourth repetition the stack holds its pages until the unbind has
			 * returned (a defrag timeout longer than the unbind), so some returns are
			 * late whatever the scheduler does.
			 */
			if (r % 4 == 0 && __atomic_load_n(&c->unbound, __ATOMIC_ACQUIRE) != r) {
				sched_yield();
				continue;
			}
			if (!ih_netstack_release(c->ns, 3))
				sched_yield();
		}
		__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *unbinder(void *arg)
{
	struct ctx *c = arg;

	ih_thread_set_cpu(c->w, 1);
	for (unsigned int r = 1; r <= REPS; r++) {
		volatile unsigned long spin = 0;

		wait_rep(c, r);
		while (spin < c->delay[r - 1])
			spin++;
		ih_device_unbind(c->dev);
		c->out_at_unbind += ih_netstack_held(c->ns);
		__atomic_store_n(&c->unbound, r, __ATOMIC_RELEASE);
		__atomic_fetch_add(&c->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static const char fwnode = 0;
	struct tfw_entry e[1] = {{"0000:00:01.0", &fwnode, 0x8}};
	struct tfw fw = {.entries = e, .count = 1};
	struct ih_pci_desc hd = {.type = IH_PCI_HOST_BRIDGE, .subordinate = 0xff};
	struct ih_pci_desc pd = {.type = IH_PCI_ENDPOINT,
				 .devfn = IH_PCI_DEVFN(1, 0),
				 .vendor = IH_NIC_PCI_VENDOR,
				 .device = IH_NIC_PCI_DEVICE_PF};
	struct ih_netstack_config nsc = {.cpu = 2};
	struct ih_nic_config nc = {.rx_ring_size = 32, .pool_size = 64, .pp_retry_ns = 1000000ULL};
	bool force = false;
	u64 seed = 1;
	struct ih_smmuv3_hw_config hwcfg;
	struct ih_smmuv3_drv_config dcfg;
	struct ih_world_config cfg;
	struct ih_pci_dev *host, *pf;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu;
	static struct ctx c;
	unsigned int caught = 0, bad = 0;
	bool regress;
	pthread_t th[3];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--regress"))
			force = true;
		else
			seed = strtoull(argv[i], NULL, 0);
	}
	ih_world_config_init(&cfg);
	cfg.mode = IH_EXEC_CONCURRENT;
	cfg.clock = IH_CLOCK_REAL;
	cfg.ncpus = 3;
	cfg.seed = seed;
	cfg.log = "none";
	if (ih_world_create(&cfg, &c.w))
		return 1;
	if (force)
		ih_regress_set(c.w, IH_REGRESS_PAGE_POOL_UNTRACKED, true);
	regress = ih_regress_on(c.w, IH_REGRESS_PAGE_POOL_UNTRACKED);
	printf("tsan_page_pool: %d repetitions, seed %llu, %s\n", REPS, (unsigned long long)seed,
	       regress ? "page-pool-untracked" : "fixed");
	for (int i = 0; i < REPS; i++)
		c.delay[i] = (ih_world_rand(c.w) % 2000000) * (unsigned long)(i % 4 + 1);

	ih_smmuv3_hw_config_init(&hwcfg);
	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.mmio_base = MMIO_BASE;
	tfw_install(c.w, &fw);
	ih_iommu_set_probe_flow(c.w, IH_PROBE_FLOW_PROBE_PATH);
	ih_iommu_set_default_domain_type(c.w, IH_DOMAIN_DMA_FQ);
	if (ih_smmuv3_hw_create(c.w, MMIO_BASE, &hwcfg, &hw))
		return 1;
	dcfg.hw = hw;
	if (ih_smmuv3_probe(c.w, &dcfg, NULL, &fwnode, &smmu) ||
	    ih_netstack_create(c.w, &nsc, &c.ns) || ih_bus_register(c.w, &ih_pci_bus_type))
		return 1;
	nc.stack = c.ns;
	if (ih_nic_driver_register(c.w, &c.nd, &nc) || ih_pci_dev_alloc(c.w, NULL, &hd, &host) ||
	    ih_device_add(&host->dev) || ih_pci_dev_alloc(c.w, &host->dev, &pd, &pf) ||
	    ih_device_add(&pf->dev))
		return 1;
	c.dev = &pf->dev;

	pthread_create(&th[0], NULL, napi, &c);
	pthread_create(&th[1], NULL, holder, &c);
	pthread_create(&th[2], NULL, unbinder, &c);
	for (unsigned int r = 1; r <= REPS; r++) {
		unsigned long before = ih_report_total(c.w);

		if (!ih_nic_bound(c.dev) && ih_device_attach(c.dev) != 1) {
			fprintf(stderr, "tsan_page_pool: rebind failed in repetition %u\n", r);
			bad++;
			break;
		}
		__atomic_store_n(&c.done, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&c.rep, r, __ATOMIC_RELEASE);
		while (__atomic_load_n(&c.done, __ATOMIC_ACQUIRE) != 3)
			sched_yield();
		/* The pool's retry worker frees it once the last page is back. */
		while (ih_nic_pools_live(&c.nd))
			sched_yield();
		if (ih_report_total(c.w) != before)
			caught++;
	}
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	pthread_join(th[2], NULL);

	ih_device_unregister(&pf->dev);
	ih_device_unregister(&host->dev);
	ih_nic_driver_unregister(c.w, &c.nd);
	ih_netstack_destroy(c.ns);
	ih_smmuv3_remove(smmu);
	ih_smmuv3_hw_destroy(hw);
	printf("tsan_page_pool: %lu packets received, %lu pages in the stack right after the "
	       "unbinds\n",
	       c.packets, c.out_at_unbind);
	if (ih_warn_count(c.w))
		bad++;
	if (ih_world_destroy(c.w))
		bad++;
	if (regress) {
		printf("tsan_page_pool: dma-debug caught the late unmaps in %u/%d repetitions\n",
		       caught, REPS);
		return caught || bad ? 1 : 0;
	}
	if (caught || bad) {
		fprintf(stderr, "tsan_page_pool: %u repetition(s) reported, %u failure(s)\n",
			caught, bad);
		return 1;
	}
	printf("tsan_page_pool: pass, 0 reports over %d repetitions\n", REPS);
	return 0;
}
