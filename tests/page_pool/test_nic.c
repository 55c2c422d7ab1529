// SPDX-License-Identifier: MIT
/* The NIC driver model on page_pool: receive, the stack's hold, unbind and VF deletion. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/check.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/nic.h>
#include <ih/regress.h>
#include <ih/world.h>
#include "lib/scenarios.h"
#include "lib/test_iommu.h"

#define SEC 1000000000ULL

static struct ih_world *mkworld(bool untracked)
{
	struct ih_world_config cfg;
	struct ih_world *w;

	ih_world_config_init(&cfg);
	cfg.ncpus = 2;
	cfg.log = "none";
	cfg.regressions = untracked ? "page-pool-untracked" : "";
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	return w;
}

/* ---- The seed's paths on the real drivers (scenarios shared with the bug zoo) ---- */

Test(nic_seed004, vf_deleted_behind_smmuv3_with_pages_out_is_clean_when_tracked)
{
	struct ih_world *w = mkworld(false);

	cr_expect_eq(scenario_page_pool_vf_delete(w), 0);
	cr_expect_eq(ih_report_total(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}

Test(nic_seed004, vf_deleted_behind_smmuv3_with_pages_out_is_caught_untracked)
{
	struct ih_world *w = mkworld(true);

	cr_expect_eq(scenario_page_pool_vf_delete(w), 1);
	/* 4 pages out: each mapping outlives the VF's driver, then its domain (and IOVA);
	 * each late return calls the DMA API on a driverless device for a forgotten address. */
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_LEAK_AT_UNBIND), 4);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_LEAK_AT_DOMAIN_FREE), 4);
	cr_expect_eq(ih_report_count(w, IH_REPORT_IOVA_LEAK), 4);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_NO_DRIVER), 4);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_UNKNOWN_UNMAP), 4);
	cr_expect_eq(ih_world_destroy(w), 0, "the old pool's device reference was dropped too");
}

Test(nic_seed004, rk_platform_device_unbound_with_pages_out_is_clean_when_tracked)
{
	struct ih_world *w = mkworld(false);

	cr_expect_eq(scenario_page_pool_rk_unbind(w), 0);
	cr_expect_eq(ih_report_total(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}

Test(nic_seed004, rk_platform_device_unbound_with_pages_out_is_caught_untracked)
{
	struct ih_world *w = mkworld(true);

	cr_expect_eq(scenario_page_pool_rk_unbind(w), 1);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_LEAK_AT_UNBIND), 4);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_NO_DRIVER), 4);
	cr_expect_eq(ih_world_destroy(w), 0);
}

/* ---- Driver details on the test IOMMU (PCI PF at 00:01.0, VFs at 00:01.1-2) ---- */

static struct ih_world *w;
static struct tiommu t;
static struct tfw fw;
static struct tfw_entry ent[3];
static struct ih_pci_dev *host, *pf;
static struct ih_nic_driver nd;
static struct ih_netstack *ns;

static void up(bool untracked, u64 hold_ns, bool free_pages)
{
	struct ih_pci_desc hd = {.type = IH_PCI_HOST_BRIDGE, .subordinate = 0xff};
	struct ih_pci_desc pd = {.type = IH_PCI_ENDPOINT,
				 .devfn = IH_PCI_DEVFN(1, 0),
				 .vendor = IH_NIC_PCI_VENDOR,
				 .device = IH_NIC_PCI_DEVICE_PF};
	struct ih_netstack_config nsc = {.hold_ns = hold_ns, .cpu = 1, .free_pages = free_pages};
	struct ih_nic_config nc = {.rx_ring_size = 8, .max_vfs = 2};

	w = mkworld(untracked);
	memset(&t, 0, sizeof(t));
	ent[0] = (struct tfw_entry){"0000:00:01.0", tiommu_fwnode(&t), 0x8};
	ent[1] = (struct tfw_entry){"0000:00:01.1", tiommu_fwnode(&t), 0x9};
	ent[2] = (struct tfw_entry){"0000:00:01.2", tiommu_fwnode(&t), 0xa};
	fw = (struct tfw){.entries = ent, .count = 3};
	tfw_install(w, &fw);
	cr_assert_eq(tiommu_register(w, &t), 0);
	cr_assert_eq(ih_bus_register(w, &ih_pci_bus_type), 0);
	cr_assert_eq(ih_netstack_create(w, &nsc, &ns), 0);
	nc.stack = ns;
	cr_assert_eq(ih_nic_driver_register(w, &nd, &nc), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, NULL, &hd, &host), 0);
	cr_assert_eq(ih_device_add(&host->dev), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, &host->dev, &pd, &pf), 0);
	cr_assert_eq(ih_device_add(&pf->dev), 0);
	cr_assert(ih_nic_bound(&pf->dev));
}

static void down(void)
{
	ih_device_unregister(&pf->dev);
	ih_device_unregister(&host->dev);
	ih_nic_driver_unregister(w, &nd);
	ih_netstack_destroy(ns);
	ih_clock_advance(w, 2 * SEC);
	cr_expect_eq(ih_nic_pools_live(&nd), 0);
	ih_iommu_device_unregister(w, &t.iommu);
	cr_expect_eq(ih_warn_count(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0, "model memory leaked");
}

static struct ih_page_pool_stats ppstats(struct ih_page_pool *pool)
{
	struct ih_page_pool_stats st;

	ih_page_pool_get_stats(pool, &st);
	return st;
}

Test(nic, bind_fills_the_rx_ring_from_the_pool)
{
	struct ih_page_pool *pool;

	up(false, 0, false);
	pool = ih_nic_page_pool(&pf->dev);
	cr_assert_not_null(pool);
	cr_expect_eq(ppstats(pool).alloc_slow, 8, "one page per descriptor");
	cr_expect_eq(ppstats(pool).dma_mapped, 8);
	cr_expect_eq(ih_nic_pools_live(&nd), 1);
	down();
}

Test(nic, receive_hands_pages_to_the_stack_and_refills)
{
	struct ih_page_pool *pool;
	struct ih_nic_stats st;

	up(false, 0, false);
	pool = ih_nic_page_pool(&pf->dev);
	cr_expect_eq(ih_nic_receive(&pf->dev, 5), 5);
	cr_expect_eq(ih_netstack_held(ns), 5);
	cr_assert_eq(ih_nic_get_stats(&pf->dev, &st), 0);
	cr_expect_eq(st.rx_packets, 5);
	cr_expect_eq(st.rx_dma_faults, 0);
	cr_expect_eq(ppstats(pool).alloc_slow, 13, "8 posted at bind, 5 refills");
	/* The stack gives them back from CPU 1: into the ring, and the next refills use them. */
	cr_expect_eq(ih_netstack_release(ns, 5), 5);
	cr_expect_eq(ppstats(pool).recycle_ring, 5);
	cr_expect_eq(ih_nic_receive(&pf->dev, 5), 5);
	cr_expect_eq(ppstats(pool).alloc_slow, 13, "refilled from the ring, no new page");
	cr_expect_eq(ppstats(pool).alloc_refill, 1);
	ih_netstack_release(ns, 5);
	down();
}

Test(nic, stack_gives_pages_back_after_its_delay)
{
	struct ih_page_pool *pool;

	up(false, 30 * SEC, false);
	pool = ih_nic_page_pool(&pf->dev);
	cr_expect_eq(ih_nic_receive(&pf->dev, 3), 3);
	ih_clock_advance(w, 29 * SEC);
	cr_expect_eq(ih_netstack_held(ns), 3);
	ih_clock_advance(w, SEC);
	cr_expect_eq(ih_netstack_held(ns), 0);
	cr_expect_eq(ppstats(pool).recycle_ring, 3);
	down();
}

Test(nic, unbind_with_pages_out_unmaps_them_and_late_returns_make_no_dma_call)
{
	struct ih_page_pool *pool;
	struct ih_page_pool_stats st;

	/* Half a second off the retry worker's beat, so the pool is still there to look at. */
	up(false, 30 * SEC + SEC / 2, true);
	pool = ih_nic_page_pool(&pf->dev);
	cr_expect_eq(ih_nic_receive(&pf->dev, 6), 6);
	cr_expect_eq(ih_device_unbind(&pf->dev), 0);
	st = ppstats(pool);
	cr_expect(st.destroyed);
	cr_expect_eq(st.dma_mapped, 0, "after destroy nothing is mapped");
	cr_expect_eq(st.scrubbed, 6);
	cr_expect_eq(st.inflight, 6);
	cr_expect_eq(ih_nic_pools_live(&nd), 1);
	ih_clock_advance(w, 30 * SEC + SEC / 2); /* the stack frees them: late returns */
	st = ppstats(pool);
	cr_expect_eq(st.dma_unmaps, 8 + 6, "ring pages at unbind, scrubbed pages; none after");
	cr_expect_eq(st.late_returns_skipped, 6);
	ih_clock_advance(w, SEC);
	cr_expect_eq(ih_nic_pools_live(&nd), 0);
	cr_expect_eq(ih_report_total(w), 0);
	down();
}

Test(nic, untracked_unbind_with_pages_out_is_reported)
{
	up(true, 30 * SEC, true);
	cr_expect_eq(ih_nic_receive(&pf->dev, 6), 6);
	cr_expect_eq(ih_device_unbind(&pf->dev), 0);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_LEAK_AT_UNBIND), 6);
	ih_clock_advance(w, 30 * SEC);
	cr_expect_eq(ih_report_count(w, IH_REPORT_DMA_NO_DRIVER), 6);
	down();
}

Test(nic, sriov_creates_vfs_that_bind_and_deletes_them_at_zero)
{
	struct ih_device *vf;

	up(false, 0, false);
	cr_expect_eq(ih_nic_sriov_configure(&pf->dev, 3), -ERANGE);
	cr_expect_eq(ih_nic_sriov_configure(&pf->dev, 2), 2);
	cr_expect_eq(ih_nic_pools_live(&nd), 3);
	vf = ih_nic_vf(&pf->dev, 1);
	cr_assert_not_null(vf);
	cr_expect_str_eq(vf->name, "0000:00:01.2");
	cr_expect(ih_nic_bound(vf));
	cr_expect_eq(ih_nic_sriov_configure(vf, 1), -ENODEV, "a VF has no VFs");
	cr_expect_eq(ih_nic_sriov_configure(&pf->dev, 1), -EBUSY);
	cr_expect_eq(ih_nic_receive(vf, 2), 2);
	ih_netstack_release(ns, 2);
	cr_expect_eq(ih_nic_sriov_configure(&pf->dev, 0), 0);
	cr_expect_null(ih_nic_vf(&pf->dev, 0));
	cr_expect_eq(ih_nic_pools_live(&nd), 1);
	down();
}

Test(nic, unbound_device_does_not_receive)
{
	up(false, 0, false);
	cr_expect_eq(ih_device_unbind(&pf->dev), 0);
	cr_expect_eq(ih_nic_receive(&pf->dev, 1), -ENODEV);
	cr_expect_eq(ih_nic_sriov_configure(&pf->dev, 1), -ENODEV);
	down();
}

Test(nic, refill_failure_leaves_an_empty_descriptor_retried_later)
{
	struct ih_nic_stats st;

	up(false, 0, false);
	cr_assert_eq(ih_fault_fail_site(w, "page_pool:page", 1), 0);
	cr_expect_eq(ih_nic_receive(&pf->dev, 1), 1);
	cr_assert_eq(ih_nic_get_stats(&pf->dev, &st), 0);
	cr_expect_eq(st.rx_refill_failures, 1);
	/* 7 posted pages, then the empty slot is refilled before use. */
	cr_expect_eq(ih_nic_receive(&pf->dev, 8), 8);
	ih_netstack_release(ns, 100);
	down();
}
