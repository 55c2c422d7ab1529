// SPDX-License-Identifier: MIT
/* page_pool on the test IOMMU: recycling, the ring, destroy, scrub, tracking, late returns. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/check.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/page_pool.h>
#include <ih/physmem.h>
#include <ih/regress.h>
#include <ih/world.h>
#include "lib/fault_sweep.h"
#include "lib/test_iommu.h"

#define SEC 1000000000ULL

static struct ih_world *w;
static struct tiommu t;
static struct tfw fw;
static struct tfw_entry entries[1];
static struct tdriver drv;
static struct ih_device *dev;
static unsigned int disconnects;

static void on_disconnect(void *arg, struct ih_page_pool *pool)
{
	(*(unsigned int *)arg)++;
}

/* A world with 2 CPUs, the test IOMMU, dev0 bound to a DMA-API driver in a @type domain. */
static void rig_up(struct ih_world *world, enum ih_domain_type type)
{
	w = world;
	memset(&t, 0, sizeof(t));
	entries[0] = (struct tfw_entry){"dev0", tiommu_fwnode(&t), 0x10};
	fw = (struct tfw){.entries = entries, .count = 1};
	tfw_install(w, &fw);
	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	cr_assert_eq(ih_iommu_set_default_domain_type(w, type), 0);
	cr_assert_eq(tiommu_register(w, &t), 0);
	tdriver_init(&drv, "tdrv", false);
	cr_assert_eq(ih_driver_register(w, &drv.drv), 0);
	dev = tplat_add(w, "dev0");
	cr_assert_not_null(dev);
	cr_assert_eq(ih_device_driver(dev), &drv.drv);
	disconnects = 0;
}

static void rig_down(void)
{
	ih_device_unregister(dev);
	ih_driver_unregister(w, &drv.drv);
	ih_iommu_device_unregister(w, &t.iommu);
}

static void setup(void)
{
	struct ih_world_config cfg;
	struct ih_world *world;

	ih_world_config_init(&cfg);
	cfg.ncpus = 2;
	cfg.log = "none";
	cr_assert_eq(ih_world_create(&cfg, &world), 0);
	rig_up(world, IH_DOMAIN_DMA);
}

static void teardown(void)
{
	if (dev)
		rig_down();
	cr_expect_eq(ih_world_destroy(w), 0, "model memory leaked");
}

TestSuite(page_pool, .init = setup, .fini = teardown);

static struct ih_page_pool_params params(unsigned int ring)
{
	return (struct ih_page_pool_params){
	    .flags = IH_PP_FLAG_DMA_MAP,
	    .pool_size = ring,
	    .cpu = 0,
	    .dev = dev,
	    .dma_dir = IH_DMA_FROM_DEVICE,
	    .name = "test",
	    .disconnect = on_disconnect,
	    .disconnect_arg = &disconnects,
	};
}

static struct ih_page_pool *mkpool(unsigned int ring)
{
	struct ih_page_pool_params p = params(ring);
	struct ih_page_pool *pool;

	cr_assert_eq(ih_page_pool_create(w, &p, &pool), 0);
	return pool;
}

static struct ih_page_pool_stats stats(struct ih_page_pool *pool)
{
	struct ih_page_pool_stats st;

	ih_page_pool_get_stats(pool, &st);
	return st;
}

static struct ih_pp_page *get(struct ih_page_pool *pool)
{
	struct ih_pp_page *page = NULL;

	cr_assert_eq(ih_page_pool_alloc_page(pool, &page), 0);
	cr_assert_not_null(page);
	return page;
}

Test(page_pool, new_page_is_mapped_once_and_stays_mapped_while_recycled)
{
	struct ih_page_pool *pool = mkpool(0);
	struct ih_pp_page *p = get(pool), *q;
	ih_pa_t pa = 0;

	cr_expect(ih_pp_page_is_pp(p));
	cr_expect_eq(ih_pp_page_dma_index(p), 1, "IDs are 1-based, as xa_alloc with ALLOC1");
	cr_expect_eq(ih_dma_access(dev, p->dma_addr + 8, 4, IH_DMA_FROM_DEVICE, &pa), 0);
	cr_expect_eq(pa, p->pa + 8, "the device reaches the page through the IOMMU");
	ih_page_pool_put_page(pool, p, true);
	q = get(pool);
	cr_expect_eq(q, p, "the alloc cache hands the same page back");
	cr_expect_eq(stats(pool).alloc_slow, 1);
	cr_expect_eq(stats(pool).alloc_fast, 1);
	cr_expect_eq(stats(pool).recycle_cached, 1);
	cr_expect_eq(ih_dma_debug_live(w, dev), 1, "one mapping across the recycle");
	ih_page_pool_put_page(pool, q, true);
	cr_expect_eq(ih_page_pool_destroy(pool), 0);
	cr_expect_eq(disconnects, 1, "nothing in flight: freed at once");
	cr_expect_eq(ih_dma_debug_live(w, dev), 0);
	cr_expect_eq(ih_report_total(w), 0);
}

Test(page_pool, puts_from_another_cpu_go_through_the_ring)
{
	struct ih_page_pool *pool = mkpool(0);
	struct ih_pp_page *p[3];

	for (int i = 0; i < 3; i++)
		p[i] = get(pool);
	cr_assert_eq(ih_thread_set_cpu(w, 1), 0);
	for (int i = 0; i < 3; i++)
		ih_page_pool_put_page(pool, p[i], false);
	cr_assert_eq(ih_thread_set_cpu(w, 0), 0);
	cr_expect_eq(stats(pool).recycle_ring, 3);
	/* One refill moves all three into the cache; the last one in comes out first. */
	cr_expect_eq(get(pool), p[2]);
	cr_expect_eq(stats(pool).alloc_refill, 1);
	cr_expect_eq(get(pool), p[1]);
	cr_expect_eq(get(pool), p[0]);
	cr_expect_eq(stats(pool).alloc_slow, 3, "no new page while recycled ones are there");
	for (int i = 0; i < 3; i++)
		ih_page_pool_put_page(pool, p[i], true);
	ih_page_pool_destroy(pool);
	cr_expect_eq(disconnects, 1);
}

Test(page_pool, full_ring_returns_the_page)
{
	struct ih_page_pool *pool = mkpool(2);
	struct ih_pp_page *p[3];

	for (int i = 0; i < 3; i++)
		p[i] = get(pool);
	for (int i = 0; i < 3; i++)
		ih_page_pool_put_page(pool, p[i], false);
	cr_expect_eq(stats(pool).recycle_ring, 2, "the ring holds 2");
	cr_expect_eq(stats(pool).recycle_ring_full, 1);
	cr_expect_eq(stats(pool).returned, 1);
	cr_expect_eq(stats(pool).dma_mapped, 2, "the returned page was unmapped");
	cr_expect_eq(stats(pool).inflight, 2);
	ih_page_pool_destroy(pool);
	cr_expect_eq(disconnects, 1);
	cr_expect_eq(ih_report_total(w), 0);
}

Test(page_pool, destroy_with_nothing_out_frees_at_once)
{
	struct ih_page_pool *pool = mkpool(0);

	for (int i = 0; i < 4; i++)
		ih_page_pool_put_page(pool, get(pool), true); /* the same page each time */
	cr_expect_eq(ih_page_pool_destroy(pool), 0);
	cr_expect_eq(disconnects, 1);
	cr_expect_eq(ih_dma_debug_live(w, dev), 0);
}

Test(page_pool, destroy_with_one_page_out_scrubs_it_and_waits_for_it)
{
	struct ih_page_pool *pool = mkpool(0);
	struct ih_pp_page *out = get(pool), *back = get(pool);
	struct ih_page_pool_stats st;

	ih_page_pool_put_page(pool, back, true);
	cr_expect_eq(ih_page_pool_destroy(pool), 0);
	st = stats(pool);
	cr_expect_eq(disconnects, 0, "a page is still out");
	cr_expect_eq(st.inflight, 1);
	cr_expect_eq(st.dma_mapped, 0, "destroy unmapped the page still out");
	cr_expect_eq(st.scrubbed, 1);
	cr_expect_eq(ih_pp_page_dma_index(out), 0, "its ID is cleared");
	cr_expect_eq(ih_dma_debug_live(w, dev), 0);
	/* The late return makes no DMA call. */
	ih_page_pool_put_page(pool, out, false);
	ih_clock_advance(w, SEC);
	cr_expect_eq(disconnects, 1, "the retry worker freed the pool");
	cr_expect_eq(ih_report_total(w), 0);
}

Test(page_pool, destroy_with_all_pages_out_then_unbind_and_late_returns_are_clean)
{
	struct ih_page_pool *pool = mkpool(0);
	struct ih_pp_page *p[16];
	struct ih_page_pool_stats st;

	for (int i = 0; i < 16; i++)
		p[i] = get(pool);
	ih_page_pool_destroy(pool);
	st = stats(pool);
	cr_expect_eq(st.scrubbed, 16);
	cr_expect_eq(st.dma_mapped, 0);
	cr_expect_eq(st.dma_unmaps, 16);
	ih_device_unbind(dev);
	cr_expect_eq(ih_report_total(w), 0, "no mapping outlived the driver");
	for (int i = 0; i < 16; i++)
		ih_page_pool_return_page(pool, p[i]);
	st = stats(pool);
	cr_expect_eq(st.dma_unmaps, 16, "late returns made no DMA call");
	cr_expect_eq(st.late_returns_skipped, 16);
	cr_expect_eq(st.inflight, 0);
	ih_clock_advance(w, SEC);
	cr_expect_eq(disconnects, 1);
	cr_expect_eq(ih_report_total(w), 0);
}

Test(page_pool, untracked_late_returns_unmap_after_unbind_and_are_reported)
{
	struct ih_page_pool *pool;
	struct ih_pp_page *p[16];
	struct ih_page_pool_stats st;

	ih_regress_set(w, IH_REGRESS_PAGE_POOL_UNTRACKED, true);
	pool = mkpool(0);
	for (int i = 0; i < 16; i++)
		p[i] = get(pool);
	cr_expect_eq(stats(pool).dma_index_bytes, 0, "no table");
	cr_expect_eq(ih_pp_page_dma_index(p[0]), 0);
	ih_page_pool_destroy(pool);
	cr_expect_eq(stats(pool).dma_mapped, 16, "the old pool leaves pages out mapped");
	ih_device_unbind(dev);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_LEAK_AT_UNBIND), 16);
	for (int i = 0; i < 16; i++)
		ih_page_pool_put_page(pool, p[i], false);
	ih_clock_advance(w, SEC); /* the retry worker drains the ring: the seed's trace */
	cr_expect_eq(disconnects, 1);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_NO_DRIVER), 16,
		     "each late unmap is a DMA-API call on a device with no driver");
	(void)st;
}

Test(page_pool, stalled_shutdown_warns_every_interval_with_count_and_age)
{
	struct ih_page_pool *pool = mkpool(0);
	struct ih_pp_page *p = get(pool), *q = get(pool);

	ih_page_pool_destroy(pool);
	ih_clock_advance(w, 59 * SEC);
	cr_expect_eq(stats(pool).stalled_warnings, 0);
	cr_expect_eq(stats(pool).destroy_cnt, 60, "destroy, then one retry a second");
	ih_clock_advance(w, SEC);
	cr_expect_eq(stats(pool).stalled_warnings, 1, "at 60 s");
	ih_clock_advance(w, 60 * SEC);
	cr_expect_eq(stats(pool).stalled_warnings, 2, "and again at 120 s");
	ih_page_pool_return_page(pool, p);
	ih_page_pool_put_page(pool, q, false);
	cr_expect_eq(disconnects, 0, "only the worker frees the pool");
	ih_clock_advance(w, SEC);
	cr_expect_eq(disconnects, 1);
}

Test(page_pool, second_user_keeps_the_pool_until_its_destroy)
{
	struct ih_page_pool *pool = mkpool(0);

	ih_page_pool_get(pool);
	ih_page_pool_put_page(pool, get(pool), true);
	cr_expect_eq(ih_page_pool_destroy(pool), 0);
	cr_expect_eq(disconnects, 0);
	cr_expect_not(stats(pool).destroyed);
	cr_expect_eq(ih_page_pool_destroy(pool), 0);
	cr_expect_eq(disconnects, 1);
	cr_expect_eq(ih_warn_count(w), 0);
}

Test(page_pool, destroy_twice_while_waiting_is_refused_with_a_warning)
{
	struct ih_page_pool *pool = mkpool(0);
	struct ih_pp_page *p = get(pool);

	cr_expect_eq(ih_page_pool_destroy(pool), 0);
	cr_expect_eq(ih_page_pool_destroy(pool), -EINVAL);
	cr_expect_eq(ih_warn_count(w), 1);
	cr_expect_eq(stats(pool).scrubbed, 1, "no second scrub");
	cr_expect_eq(ih_page_pool_alloc_page(pool, &p), -EINVAL, "and no allocation");
	cr_expect_eq(ih_warn_count(w), 2);
	ih_page_pool_return_page(pool, p);
	ih_clock_advance(w, SEC);
	cr_expect_eq(disconnects, 1);
}

Test(page_pool, foreign_page_is_refused)
{
	struct ih_page_pool *a = mkpool(0), *b = mkpool(0);
	struct ih_pp_page *p = get(a);

	ih_page_pool_put_page(b, p, true);
	cr_expect_eq(ih_warn_count(w), 1);
	cr_expect_eq(stats(b).recycle_cached, 0);
	ih_page_pool_put_page(a, p, true);
	ih_page_pool_destroy(a);
	ih_page_pool_destroy(b);
	cr_expect_eq(disconnects, 2);
}

Test(page_pool, freed_ids_are_reused)
{
	struct ih_page_pool *pool = mkpool(0);
	struct ih_pp_page *a = get(pool), *b = get(pool), *c;

	cr_expect_eq(ih_pp_page_dma_index(a), 1);
	cr_expect_eq(ih_pp_page_dma_index(b), 2);
	ih_page_pool_return_page(pool, a);
	c = get(pool);
	cr_expect_eq(ih_pp_page_dma_index(c), 1, "the freed ID comes back first");
	cr_expect_eq(stats(pool).dma_index_ids, 2);
	ih_page_pool_put_page(pool, b, true);
	ih_page_pool_put_page(pool, c, true);
	ih_page_pool_destroy(pool);
}

Test(page_pool, tracking_memory_is_the_radix_levels_in_use)
{
	struct ih_page_pool_params pp = params(0);
	struct ih_page_pool *pool;
	static struct ih_pp_page *p[2048];

	pp.flags = IH_PP_FLAG_DMA_MAP;
	cr_assert_eq(ih_page_pool_create(w, &pp, &pool), 0);
	cr_expect_eq(stats(pool).dma_index_bytes, 512, "the embedded top level");
	for (int i = 0; i < 2048; i++)
		p[i] = get(pool);
	/* IDs 1..2048: leaves for 0-1023, 1024-2047 and 2048, one mid: 512 + 512 + 3 * 8192. */
	cr_expect_eq(stats(pool).dma_index_bytes, 512 + 512 + 3 * 8192);
	for (int i = 0; i < 2048; i++)
		ih_page_pool_return_page(pool, p[i]);
	ih_page_pool_destroy(pool);
	cr_expect_eq(disconnects, 1);
}

Test(page_pool, pool_without_dma_map_maps_nothing)
{
	struct ih_page_pool_params pp = params(0);
	struct ih_page_pool *pool;
	struct ih_pp_page *p;

	pp.flags = 0;
	pp.dev = NULL;
	cr_assert_eq(ih_page_pool_create(w, &pp, &pool), 0);
	p = get(pool);
	cr_expect_eq(ih_dma_debug_live(w, NULL), 0);
	cr_expect_eq(ih_pp_page_dma_index(p), 0);
	ih_page_pool_destroy(pool);
	ih_page_pool_return_page(pool, p);
	ih_clock_advance(w, SEC);
	cr_expect_eq(disconnects, 1);
}

Test(page_pool, bad_parameters_are_einval)
{
	struct ih_page_pool_params pp = params(3);
	struct ih_page_pool *pool;

	cr_expect_eq(ih_page_pool_create(w, &pp, &pool), -EINVAL, "ring not a power of two");
	pp = params(0);
	pp.dev = NULL;
	cr_expect_eq(ih_page_pool_create(w, &pp, &pool), -EINVAL, "DMA_MAP without a device");
	pp = params(0);
	pp.cpu = 2;
	cr_expect_eq(ih_page_pool_create(w, &pp, &pool), -EINVAL, "no CPU 2");
	pp = params(0);
	pp.flags = 0x80;
	cr_expect_eq(ih_page_pool_create(w, &pp, &pool), -EINVAL);
	pp = params(IH_PP_RING_MAX * 2);
	cr_expect_eq(ih_page_pool_create(w, &pp, &pool), -EINVAL);
}

/* ---- Allocation failure at every site: create, refill, tracking insert ---- */

/* Create a pool, take 3 pages (one per slow path), recycle one, destroy with two out. */
static void sweep_body(void)
{
	struct ih_page_pool_params pp = params(0);
	struct ih_page_pool *pool;
	struct ih_pp_page *p[3];
	int n = 0, ret;

	ret = ih_page_pool_create(w, &pp, &pool);
	if (ret) {
		cr_expect_eq(ret, -ENOMEM);
		return;
	}
	while (n < 3) {
		ret = ih_page_pool_alloc_page(pool, &p[n]);
		if (ret) {
			cr_expect(ret == -ENOMEM, "alloc: %d", ret);
			break;
		}
		n++;
	}
	if (n)
		ih_page_pool_put_page(pool, p[--n], true);
	ih_page_pool_destroy(pool);
	if (n) /* else the pool is already gone */
		cr_expect_eq(stats(pool).dma_mapped, 0);
	cr_expect_eq(disconnects, n ? 0 : 1);
	while (n)
		ih_page_pool_put_page(pool, p[--n], false);
	ih_clock_advance(w, SEC);
	cr_expect_eq(disconnects, 1, "the pool was freed");
}

static struct ih_world *sweep_world(enum ih_domain_type type)
{
	struct ih_world_config cfg;
	struct ih_world *world;

	ih_world_config_init(&cfg);
	cfg.log = "none";
	cr_assert_eq(ih_world_create(&cfg, &world), 0);
	rig_up(world, type);
	return world;
}

/*
 * Fail, one run each, every call the body makes to a site starting with @prefix (calls
 * made while the rig is built are not swept: the rig is not under test). Return: runs.
 */
static unsigned int pool_sweep(enum ih_domain_type type, const char *prefix)
{
	struct ih_alloc_site_stat before[64], after[64];
	size_t nb, na;
	unsigned int runs = 0;

	sweep_world(type);
	nb = ih_alloc_sites(w, before, ARRAY_SIZE(before));
	sweep_body();
	na = ih_alloc_sites(w, after, ARRAY_SIZE(after));
	cr_assert_leq(na, ARRAY_SIZE(after));
	rig_down();
	cr_assert_eq(ih_world_destroy(w), 0);
	for (size_t s = 0; s < na; s++) {
		unsigned long calls = after[s].calls;

		if (strncmp(after[s].site, prefix, strlen(prefix)))
			continue;
		for (size_t b = 0; b < nb; b++)
			if (!strcmp(before[b].site, after[s].site))
				calls -= before[b].calls;
		for (unsigned long nth = 1; nth <= calls; nth++) {
			sweep_world(type);
			cr_assert_eq(ih_fault_fail_site(w, after[s].site, nth), 0);
			sweep_body();
			cr_expect_eq(ih_fault_injected(w), 1, "%s #%lu", after[s].site, nth);
			rig_down();
			cr_expect_eq(ih_report_total(w), 0, "%s #%lu", after[s].site, nth);
			cr_expect_eq(ih_warn_count(w), 0, "%s #%lu", after[s].site, nth);
			cr_expect_eq(ih_pm_pages_used(w), 0, "%s #%lu", after[s].site, nth);
			cr_expect_eq(ih_world_destroy(w), 0, "%s #%lu leaked", after[s].site, nth);
			runs++;
		}
	}
	return runs;
}

Test(page_pool_faults, every_pool_allocation_fails_cleanly)
{
	/* pool, ring, 3 x (page, page-mem), dma-index x 3 (mid, leaf, nothing new). */
	cr_expect_eq(pool_sweep(IH_DOMAIN_DMA, "page_pool:"), 2 + 3 * 2 + 2);
}

Test(page_pool_faults, every_dma_layer_allocation_during_refill_fails_cleanly)
{
	cr_expect_gt(pool_sweep(IH_DOMAIN_DMA_FQ, "check:"), 0);
	cr_expect_gt(pool_sweep(IH_DOMAIN_DMA_FQ, "iova:"), 0);
	cr_expect_gt(pool_sweep(IH_DOMAIN_DMA, "io_pgtable"), 0);
}

Test(page_pool_faults, tracking_insert_failure_unmaps_the_page)
{
	struct ih_page_pool_params pp;
	struct ih_page_pool *pool;
	struct ih_pp_page *p;

	sweep_world(IH_DOMAIN_DMA);
	pp = params(0);
	cr_assert_eq(ih_page_pool_create(w, &pp, &pool), 0);
	cr_assert_eq(ih_fault_fail_site(w, "page_pool:dma-index", 1), 0);
	cr_expect_eq(ih_page_pool_alloc_page(pool, &p), -ENOMEM);
	cr_expect_eq(ih_dma_debug_live(w, dev), 0, "the mapping was undone");
	cr_expect_eq(stats(pool).hold_cnt, 0);
	cr_expect_eq(ih_page_pool_alloc_page(pool, &p), 0, "the next try succeeds");
	cr_expect_eq(ih_pp_page_dma_index(p), 1);
	ih_page_pool_put_page(pool, p, true);
	ih_page_pool_destroy(pool);
	rig_down();
	cr_expect_eq(ih_report_total(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}
