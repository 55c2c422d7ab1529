// SPDX-License-Identifier: MIT
/* The live strict-to-lazy flip: the sysfs type write, its failure paths, and seed 002's races. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/check.h>
#include <ih/coop.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/regress.h>
#include <ih/world.h>
#include "lib/scenarios.h"
#include "lib/test_iommu.h"

static struct ih_world *w;

static struct ih_world *new_world(void)
{
	struct ih_world_config cfg;
	struct ih_world *nw;

	ih_world_config_init(&cfg);
	cfg.ncpus = 2;
	cfg.log = "none";
	cfg.regressions = ""; /* only what a test switches on */
	cr_assert_eq(ih_world_create(&cfg, &nw), 0);
	return nw;
}

/* ---- The type write on the test IOMMU ---- */

static struct tiommu t;
static struct tfw fw;
static struct tfw_entry entries[1];
static struct tdriver drv;
static struct ih_device *dev;

static void setup(void)
{
	w = new_world();
	memset(&t, 0, sizeof(t));
	entries[0] = (struct tfw_entry){"dev0", tiommu_fwnode(&t), 0x10};
	fw = (struct tfw){.entries = entries, .count = 1};
	tfw_install(w, &fw);
	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	cr_assert_eq(ih_iommu_set_default_domain_type(w, IH_DOMAIN_DMA), 0);
	dev = NULL;
}

/* The IOMMU, a DMA-API driver and dev0 bound to it in a strict default domain. */
static void start(void)
{
	cr_assert_eq(tiommu_register(w, &t), 0);
	tdriver_init(&drv, "tdrv", false);
	cr_assert_eq(ih_driver_register(w, &drv.drv), 0);
	dev = tplat_add(w, "dev0");
	cr_assert_not_null(dev);
	cr_assert_eq(ih_device_driver(dev), &drv.drv);
	cr_assert_eq(ih_domain_type(ih_iommu_get_dma_domain(dev)), IH_DOMAIN_DMA);
}

static void teardown(void)
{
	if (dev) {
		ih_device_unregister(dev);
		ih_driver_unregister(w, &drv.drv);
		ih_iommu_device_unregister(w, &t.iommu);
	}
	cr_expect_eq(ih_report_total(w), 0, "a checker reported");
	cr_expect_eq(ih_warn_count(w), 0, "warnings counted");
	cr_expect_eq(ih_world_destroy(w), 0, "model memory leaked");
}

TestSuite(dma_flip, .init = setup, .fini = teardown);

/*
 * DMA -> DMA-FQ while the driver is bound keeps the domain and its mappings: the mapping
 * made while strict still translates, and its unmap is queued (no iotlb_sync).
 */
Test(dma_flip, type_write_on_a_bound_group_flips_the_live_domain)
{
	struct ih_iommu_domain *d;
	struct ih_dma_fq_stats st;
	ih_pa_t out;
	u64 a;

	start();
	d = ih_iommu_get_dma_domain(dev);
	cr_assert_eq(ih_dma_map_page(dev, 0x80000000, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
	cr_assert_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA_FQ), 0);
	cr_expect_eq(ih_iommu_get_dma_domain(dev), d, "the same domain, not a new one");
	cr_expect_eq(ih_domain_type(d), IH_DOMAIN_DMA_FQ);
	cr_expect(ih_dma_domain_is_lazy(d));
	cr_assert_eq(ih_dma_access(dev, a, 4, IH_DMA_TO_DEVICE, &out), 0);
	cr_expect_eq(out, 0x80000000);
	t.iotlb_sync = 0;
	cr_assert_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
	cr_expect_eq(t.iotlb_sync, 0, "lazy: no sync");
	cr_assert_eq(ih_dma_fq_get_stats(d, &st), 0);
	cr_expect_eq(st.queued, 1);
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA_FQ), 0,
		     "already lazy: nothing to do");
}

/* Every change other than strict to lazy needs an unowned group, as upstream. */
Test(dma_flip, other_type_changes_on_a_bound_group_are_ebusy)
{
	struct ih_iommu_domain *d;

	start();
	d = ih_iommu_get_dma_domain(dev);
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_IDENTITY), -EBUSY);
	cr_assert_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA_FQ), 0);
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA), -EBUSY,
		     "lazy to strict would need a new domain");
	cr_expect_eq(ih_iommu_get_dma_domain(dev), d);
	cr_expect_eq(ih_domain_type(d), IH_DOMAIN_DMA_FQ);
	/* Unbound, the group may change again (a new strict domain). */
	ih_device_unbind(dev);
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA), 0);
	cr_expect_neq(ih_iommu_get_dma_domain(dev), d);
	cr_expect_not(ih_dma_domain_is_lazy(ih_iommu_get_dma_domain(dev)));
}

/*
 * The queue's allocations fail one at a time (the ring array, then a ring's entries):
 * the flip returns -ENOMEM and the domain stays strict and usable, with nothing leaked.
 */
Test(dma_flip, allocation_failure_halfway_leaves_the_domain_strict)
{
	struct ih_iommu_domain *d;
	u64 a;

	start();
	d = ih_iommu_get_dma_domain(dev);
	for (unsigned long nth = 1; nth <= 3; nth++) {
		cr_assert_eq(ih_fault_fail_site(w, "dma:fq", nth), 0);
		cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA_FQ), -ENOMEM,
			     "allocation %lu of the queue fails", nth);
		ih_fault_clear(w);
		cr_expect_eq(ih_domain_type(d), IH_DOMAIN_DMA);
		cr_expect_not(ih_dma_domain_is_lazy(d));
		cr_assert_eq(ih_dma_map_page(dev, 0x80000000, SZ_4K, IH_DMA_TO_DEVICE, 0, &a), 0);
		t.iotlb_sync = 0;
		cr_assert_eq(ih_dma_unmap_page(dev, a, SZ_4K, IH_DMA_TO_DEVICE, 0), 0);
		cr_expect_eq(t.iotlb_sync, 1, "still strict: one sync");
	}
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA_FQ), 0);
	cr_expect(ih_dma_domain_is_lazy(d));
}

/* A driver that cannot flush everything cannot have a flush queue. */
Test(dma_flip, driver_without_flush_all_cannot_flip)
{
	t.no_flush_all = true;
	start();
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA_FQ), -EOPNOTSUPP);
	cr_expect_eq(ih_domain_type(ih_iommu_get_dma_domain(dev)), IH_DOMAIN_DMA);
}

struct observer {
	struct ih_iommu_domain *d;
	enum ih_domain_type type;
	bool lazy;
};

static void observe(void *arg)
{
	struct observer *o = arg;

	o->type = ih_domain_type(o->d);
	o->lazy = ih_dma_domain_is_lazy(o->d);
}

static void flip(void *arg)
{
	(void)arg;
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA_FQ), 0);
}

/*
 * At "dma:flip:published" the fixed flip is lazy while the type still says DMA (the
 * benign window upstream kept); the unordered flip has already set the type, before the
 * queue exists.
 */
static void observe_published(bool unordered, struct observer *o)
{
	struct ih_coop *c;

	start();
	ih_regress_set(w, IH_REGRESS_FQ_FLIP_UNORDERED, unordered);
	o->d = ih_iommu_get_dma_domain(dev);
	cr_assert_eq(ih_coop_create(w, &c), 0);
	ih_coop_add(c, observe, o, 0);
	ih_coop_add(c, flip, NULL, 1);
	cr_assert_eq(ih_coop_run_script(c, "B@dma:flip:published A B", NULL, 0), 0);
	ih_coop_destroy(c);
	cr_expect_eq(ih_domain_type(o->d), IH_DOMAIN_DMA_FQ);
}

Test(dma_flip, fixed_flip_publishes_the_queue_before_the_type)
{
	struct observer o = {0};

	observe_published(false, &o);
	cr_expect_eq(o.type, IH_DOMAIN_DMA);
	cr_expect(o.lazy);
}

Test(dma_flip, unordered_flip_sets_the_type_before_the_queue_exists)
{
	struct observer o = {0};

	observe_published(true, &o);
	cr_expect_eq(o.type, IH_DOMAIN_DMA_FQ);
	cr_expect(o.lazy, "published with no queue behind it");
}

/* With fq-flip-unordered a failed build turns the type back (Will's error-path point). */
Test(dma_flip, unordered_flip_failure_turns_the_type_back)
{
	struct ih_iommu_domain *d;

	start();
	ih_regress_set(w, IH_REGRESS_FQ_FLIP_UNORDERED, true);
	d = ih_iommu_get_dma_domain(dev);
	cr_assert_eq(ih_fault_fail_site(w, "dma:fq", 1), 0);
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA_FQ), -ENOMEM);
	ih_fault_clear(w);
	cr_expect_eq(ih_domain_type(d), IH_DOMAIN_DMA);
	cr_expect_not(ih_dma_domain_is_lazy(d));
}

/* ---- Seed 002 replays on the SMMUv3 driver (tests/lib/scenarios.c) ---- */

static void nop(void)
{
}

static void fini_world(void)
{
	cr_expect_eq(ih_world_destroy(w), 0, "model memory leaked");
}

TestSuite(fq_flip_replay, .init = nop, .fini = fini_world);

static void script(enum ih_regress sw, bool on, enum fq_flip_script which,
		   struct fq_flip_outcome *o, int want)
{
	w = new_world();
	ih_regress_set(w, sw, on);
	cr_assert_eq(scenario_fq_flip_script(w, which, o), want);
}

/*
 * The reviewers' interleaving: the unmap's first read sees strict, the flip lands, the
 * second read sees lazy: the sync is skipped and the IOVA freed. It is reused for the next
 * buffer and the device's DMA through the stale TLB entry reaches the old buffer.
 */
Test(fq_flip_replay, reread_frees_an_unsynced_iova_and_the_device_reaches_the_old_buffer)
{
	struct fq_flip_outcome o;

	script(IH_REGRESS_FQ_DOMAIN_REREAD, true, FQ_FLIP_SCRIPT_REREAD, &o, 1);
	cr_expect_str_eq(o.trace, "A@dma:unmap:after-fq-read B A");
	cr_expect_eq(o.flip_ret, 0);
	cr_expect_eq(o.iova_new, o.iova_old, "the unsynced IOVA is handed out again");
	cr_expect_eq(o.reached, o.pa_old, "the stale entry still points at the old buffer");
	cr_expect_eq(o.stale_at_free, 1, "freed while the TLB still translates it");
	cr_expect_eq(o.stale_access, 1, "the device DMA through the stale entry");
	cr_expect_eq(o.reports, 2);
}

/* The same schedule on the fixed path: the unmap's one snapshot said strict, so it syncs. */
Test(fq_flip_replay, reread_script_is_clean_with_one_snapshot)
{
	struct fq_flip_outcome o;

	script(IH_REGRESS_FQ_DOMAIN_REREAD, false, FQ_FLIP_SCRIPT_REREAD, &o, 0);
	cr_expect_str_eq(o.trace, "A@dma:unmap:after-fq-read B A");
	cr_expect_eq(o.iova_new, o.iova_old, "strict: synced, freed, reused");
	cr_expect_eq(o.reached, o.pa_new);
	cr_expect_eq(o.reports, 0);
}

/*
 * The flip published lazy mode (and the NON_STRICT quirk) before its queue existed: the
 * unmap skips the sync, finds no queue and frees the IOVA; reuse and device DMA as above.
 */
Test(fq_flip_replay, unordered_flip_lets_an_unmap_free_an_unsynced_iova)
{
	struct fq_flip_outcome o;

	script(IH_REGRESS_FQ_FLIP_UNORDERED, true, FQ_FLIP_SCRIPT_UNORDERED, &o, 1);
	cr_expect_str_eq(o.trace, "B@dma:flip:published A B");
	cr_expect_eq(o.flip_ret, 0);
	cr_expect_eq(o.iova_new, o.iova_old);
	cr_expect_eq(o.reached, o.pa_old);
	cr_expect_eq(o.stale_at_free, 1);
	cr_expect_eq(o.stale_access, 1);
}

/* Fixed: the published queue is complete, the unmap queues its IOVA (not reused yet). */
Test(fq_flip_replay, unordered_script_is_clean_with_the_ordered_flip)
{
	struct fq_flip_outcome o;

	script(IH_REGRESS_FQ_FLIP_UNORDERED, false, FQ_FLIP_SCRIPT_UNORDERED, &o, 0);
	cr_expect_neq(o.iova_new, o.iova_old, "the old IOVA waits in the flush queue");
	cr_expect_eq(o.reached, o.pa_new);
	cr_expect_eq(o.reports, 0);
}

/* Each script finds its own bug only: the other switch leaves it clean. */
Test(fq_flip_replay, each_script_needs_its_own_switch)
{
	script(IH_REGRESS_FQ_FLIP_UNORDERED, true, FQ_FLIP_SCRIPT_REREAD, NULL, 0);
	fini_world();
	script(IH_REGRESS_FQ_DOMAIN_REREAD, true, FQ_FLIP_SCRIPT_UNORDERED, NULL, 0);
}

#define EXPLORE_SEEDS 400

/* Random and PCT schedules with every switch off: no report in any of them. */
Test(fq_flip_replay, exploration_with_switches_off_is_clean, .timeout = 120)
{
	w = new_world();
	cr_expect_eq(scenario_fq_flip_explore(w, 200, 1, 0), 0, "uniform random");
	fini_world();
	w = new_world();
	cr_expect_eq(scenario_fq_flip_explore(w, 200, 1, 2), 0, "PCT depth 2");
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Ten explorations from different seed bases; each must find the bug within the budget. */
static void explore_finds(enum ih_regress sw, unsigned int pct_depth)
{
	int n[10];

	for (int run = 0; run < 10; run++) {
		w = new_world();
		ih_regress_set(w, sw, true);
		n[run] = scenario_fq_flip_explore(w, EXPLORE_SEEDS, 1 + 1000 * (u64)run, pct_depth);
		cr_expect_gt(n[run], 0, "run %d found nothing in %d seeds", run, EXPLORE_SEEDS);
		if (run < 9)
			fini_world();
	}
	qsort(n, 10, sizeof(n[0]), cmp_int);
	printf("fq_flip_replay: %s, %s: seeds needed over 10 runs: min %d, median %d, max %d\n",
	       ih_regress_name(sw), pct_depth ? "PCT depth 2" : "uniform random", n[0],
	       (n[4] + n[5]) / 2, n[9]);
}

Test(fq_flip_replay, exploration_finds_the_reread, .timeout = 120)
{
	explore_finds(IH_REGRESS_FQ_DOMAIN_REREAD, 0);
	fini_world();
	explore_finds(IH_REGRESS_FQ_DOMAIN_REREAD, 2);
}

Test(fq_flip_replay, exploration_finds_the_unordered_flip, .timeout = 120)
{
	explore_finds(IH_REGRESS_FQ_FLIP_UNORDERED, 0);
	fini_world();
	explore_finds(IH_REGRESS_FQ_FLIP_UNORDERED, 2);
}
