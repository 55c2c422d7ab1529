// SPDX-License-Identifier: MIT
/* Groups, default domains, DMA ownership (the four sibling cases of seed 003), map/unmap. */
#include <criterion/criterion.h>

#include <ih/regress.h>
#include <ih/sched.h>
#include <ih/diag.h>
#include <ih/world.h>
#include "lib/test_iommu.h"

static struct ih_world *w;
static struct tiommu t;
static struct tfw fw;
static struct tfw_entry entries[4];

/* Cleared by the one test that replays a bug on purpose. */
static bool expect_clean;

static void setup(void)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
	memset(&t, 0, sizeof(t));
	entries[0] = (struct tfw_entry){ "dev0", tiommu_fwnode(&t), 0x10 };
	entries[1] = (struct tfw_entry){ "dev1", tiommu_fwnode(&t), 0x11 };
	entries[2] = (struct tfw_entry){ "0000:01:00.0", tiommu_fwnode(&t), 0x100 };
	entries[3] = (struct tfw_entry){ "0000:01:01.0", tiommu_fwnode(&t), 0x108 };
	fw = (struct tfw){ .entries = entries, .count = 4 };
	tfw_install(w, &fw);
	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	expect_clean = true;
}

static void teardown(void)
{
	if (expect_clean)
		cr_expect_eq(ih_iommu_invariant_violations(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0, "model memory leaked");
}

TestSuite(iommu_group, .init = setup, .fini = teardown);

/*
 * Two PCI functions behind a PCIe-to-PCI bridge: both reach the IOMMU as the bridge's
 * alias 01:00.0, so they must share one group.
 */
struct pci_topo {
	struct ih_pci_dev *host, *bridge, *fn[2];
};

static void pci_topo_add(struct pci_topo *p)
{
	struct ih_pci_desc host = { .type = IH_PCI_HOST_BRIDGE, .secondary = 0, .subordinate = 0xff };
	struct ih_pci_desc br = { .type = IH_PCI_PCIE_TO_PCI, .devfn = IH_PCI_DEVFN(1, 0),
				  .secondary = 1, .subordinate = 1 };
	struct ih_pci_desc ep = { .type = IH_PCI_ENDPOINT, .vendor = 0x1234, .device = 0x1 };

	cr_assert_eq(ih_bus_register(w, &ih_pci_bus_type), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, NULL, &host, &p->host), 0);
	cr_assert_eq(ih_device_add(&p->host->dev), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, &p->host->dev, &br, &p->bridge), 0);
	cr_assert_eq(ih_device_add(&p->bridge->dev), 0);
	for (int i = 0; i < 2; i++) {
		ep.devfn = IH_PCI_DEVFN(i, 0);
		cr_assert_eq(ih_pci_dev_alloc(w, &p->bridge->dev, &ep, &p->fn[i]), 0);
		cr_assert_eq(ih_device_add(&p->fn[i]->dev), 0);
	}
}

/* Let @name (a driver without an id_table) match both functions on request. */
static void override_both(struct pci_topo *p, const char *name)
{
	for (int i = 0; i < 2; i++)
		cr_assert_eq(ih_device_set_driver_override(&p->fn[i]->dev, name), 0);
}

static void pci_topo_del(struct pci_topo *p)
{
	ih_device_unregister(&p->fn[1]->dev);
	ih_device_unregister(&p->fn[0]->dev);
	ih_device_unregister(&p->bridge->dev);
	ih_device_unregister(&p->host->dev);
}

Test(iommu_group, platform_devices_get_a_group_each)
{
	struct ih_device *a, *b;

	cr_assert_eq(tiommu_register(w, &t), 0);
	a = tplat_add(w, "dev0");
	b = tplat_add(w, "dev1");
	cr_assert(a->iommu_group && b->iommu_group);
	cr_expect_neq(a->iommu_group, b->iommu_group);
	cr_expect_eq(ih_iommu_group_num_devices(a->iommu_group), 1);
	ih_device_unregister(a);
	ih_device_unregister(b);
	ih_iommu_device_unregister(w, &t.iommu);
	cr_expect_eq(t.domains_alive, 0, "the last member freed the default domains");
}

Test(iommu_group, pci_functions_behind_pcie_to_pci_bridge_share_a_group)
{
	struct pci_topo p;

	t.pci_groups = true;
	cr_assert_eq(tiommu_register(w, &t), 0);
	pci_topo_add(&p);
	cr_assert_not_null(p.fn[0]->dev.iommu_group);
	cr_expect_eq(p.fn[0]->dev.iommu_group, p.fn[1]->dev.iommu_group);
	cr_expect_eq(ih_iommu_group_num_devices(p.fn[0]->dev.iommu_group), 2);
	cr_expect_eq(t.domains_alive, 1, "one default domain for the shared group");
	pci_topo_del(&p);
	ih_iommu_device_unregister(w, &t.iommu);
}

Test(iommu_group, explicit_claim_is_ebusy_while_dma_api_owned)
{
	struct tdriver d;
	struct ih_device *dev;
	int owner;

	cr_assert_eq(tiommu_register(w, &t), 0);
	tdriver_init(&d, "tdrv", false);
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	dev = tplat_add(w, "dev0");
	cr_assert_eq(ih_device_driver(dev), &d.drv);
	cr_expect_eq(ih_iommu_group_claim_dma_owner(dev->iommu_group, &owner), -EBUSY);
	cr_expect_eq(ih_iommu_device_claim_dma_owner(dev, &owner), -EBUSY);
	ih_device_unbind(dev);
	cr_expect_eq(ih_iommu_device_claim_dma_owner(dev, &owner), 0);
	ih_iommu_device_release_dma_owner(dev);
	ih_device_unregister(dev);
	ih_driver_unregister(w, &d.drv);
	ih_iommu_device_unregister(w, &t.iommu);
}

/* Siblings: one explicitly owned by a driver-managed user, then a DMA-API driver tries. */
Test(iommu_group, dma_api_bind_fails_on_a_claimed_sibling_group)
{
	struct pci_topo p;
	struct ih_driver vfio = { .name = "vfio-like", .bus = &ih_pci_bus_type,
				  .driver_managed_dma = true };
	struct ih_driver nic = { .name = "nic", .bus = &ih_pci_bus_type };
	struct ih_iommu_group_info info;
	int owner;

	t.pci_groups = true;
	cr_assert_eq(tiommu_register(w, &t), 0);
	pci_topo_add(&p);
	cr_assert_eq(ih_driver_register(w, &vfio), 0);
	cr_assert_eq(ih_driver_register(w, &nic), 0);
	cr_assert_eq(ih_device_set_driver_override(&p.fn[0]->dev, "vfio-like"), 0);
	cr_assert_eq(ih_device_set_driver_override(&p.fn[1]->dev, "nic"), 0);
	cr_assert_eq(ih_device_bind(&p.fn[0]->dev, &vfio), 0);
	cr_assert_eq(ih_iommu_device_claim_dma_owner(&p.fn[0]->dev, &owner), 0);
	ih_iommu_group_get_info(p.fn[0]->dev.iommu_group, &info);
	cr_expect(info.explicit_owner);
	cr_expect_not(info.in_default_domain, "an explicit owner moves the group to blocking");

	cr_expect_eq(ih_device_bind(&p.fn[1]->dev, &nic), -EBUSY);
	cr_expect_null(ih_device_driver(&p.fn[1]->dev));

	ih_iommu_device_release_dma_owner(&p.fn[0]->dev);
	cr_expect_eq(ih_device_bind(&p.fn[1]->dev, &nic), 0, "unowned again: DMA API may bind");
	ih_iommu_group_get_info(p.fn[0]->dev.iommu_group, &info);
	cr_expect_eq(info.owner_cnt, 1);
	cr_expect(info.in_default_domain);

	ih_driver_unregister(w, &nic);
	ih_driver_unregister(w, &vfio);
	pci_topo_del(&p);
	ih_iommu_device_unregister(w, &t.iommu);
}

Test(iommu_group, two_dma_api_siblings_count_and_release_in_any_order)
{
	struct pci_topo p;
	struct ih_driver nic = { .name = "nic", .bus = &ih_pci_bus_type };
	struct ih_iommu_group_info info;

	t.pci_groups = true;
	cr_assert_eq(tiommu_register(w, &t), 0);
	pci_topo_add(&p);
	cr_assert_eq(ih_driver_register(w, &nic), 0);
	override_both(&p, "nic");
	cr_assert_eq(ih_device_bind(&p.fn[0]->dev, &nic), 0);
	cr_assert_eq(ih_device_bind(&p.fn[1]->dev, &nic), 0);
	ih_iommu_group_get_info(p.fn[0]->dev.iommu_group, &info);
	cr_expect_eq(info.owner_cnt, 2);
	ih_device_unbind(&p.fn[0]->dev);
	ih_iommu_group_get_info(p.fn[0]->dev.iommu_group, &info);
	cr_expect_eq(info.owner_cnt, 1);
	ih_device_unbind(&p.fn[1]->dev);
	ih_iommu_group_get_info(p.fn[0]->dev.iommu_group, &info);
	cr_expect_eq(info.owner_cnt, 0);
	ih_driver_unregister(w, &nic);
	pci_topo_del(&p);
	ih_iommu_device_unregister(w, &t.iommu);
}

Test(iommu_group, failed_probe_releases_dma_api_ownership)
{
	struct tdriver d;
	struct ih_device *dev;
	struct ih_iommu_group_info info;

	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "dev0");
	tdriver_init(&d, "tdrv", false);
	d.probe_ret = -EIO;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_expect_eq(d.probes, 1);
	cr_expect_null(ih_device_driver(dev));
	ih_iommu_group_get_info(dev->iommu_group, &info);
	cr_expect_eq(info.owner_cnt, 0, "dma_cleanup ran after the failed probe");
	ih_device_unregister(dev);
	ih_driver_unregister(w, &d.drv);
	ih_iommu_device_unregister(w, &t.iommu);
}

Test(iommu_group, store_type_needs_an_unowned_group)
{
	struct tdriver d;
	struct ih_device *dev;
	struct ih_iommu_group_info info;

	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "dev0");
	cr_assert_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_IDENTITY), 0);
	ih_iommu_group_get_info(dev->iommu_group, &info);
	cr_expect_eq(info.default_type, IH_DOMAIN_IDENTITY);
	cr_expect(info.in_default_domain);
	cr_expect_eq(ih_iommu_iova_to_phys(ih_iommu_get_domain_for_dev(dev), 0x1234), 0x1234);

	tdriver_init(&d, "tdrv", false);
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA), -EBUSY);
	ih_device_unbind(dev);
	t.def_domain_type = IH_DOMAIN_IDENTITY;
	cr_expect_eq(ih_iommu_group_store_type(dev->iommu_group, IH_DOMAIN_DMA), -EINVAL,
		     "the driver insists on identity");
	cr_expect_eq(t.domains_alive, 1, "the old default domain was freed");
	ih_device_unregister(dev);
	ih_driver_unregister(w, &d.drv);
	ih_iommu_device_unregister(w, &t.iommu);
}

Test(iommu_group, blocked_domain_falls_back_to_an_empty_paging_domain)
{
	struct ih_device *dev;
	struct ih_iommu_domain *d;
	int owner;

	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "dev0");
	cr_assert_eq(ih_iommu_map(ih_iommu_get_dma_domain(dev), 0x100000, 0x80000000, SZ_4K,
				  IH_PROT_READ), 0);
	cr_assert_eq(ih_iommu_device_claim_dma_owner(dev, &owner), 0);
	d = ih_iommu_get_domain_for_dev(dev);
	cr_expect_eq(d->type, IH_DOMAIN_BLOCKED);
	cr_expect_eq(ih_iommu_iova_to_phys(d, 0x100000), IH_PA_INVALID, "blocked maps nothing");
	ih_iommu_device_release_dma_owner(dev);
	d = ih_iommu_get_domain_for_dev(dev);
	cr_expect_eq(d->type, IH_DOMAIN_DMA);
	cr_expect_eq(ih_iommu_iova_to_phys(d, 0x100123), 0x80000123);
	cr_expect_eq(ih_iommu_unmap(d, 0x100000, SZ_4K), SZ_4K);
	ih_device_unregister(dev);
	ih_iommu_device_unregister(w, &t.iommu);
}

/*
 * 2M + 4K at a 2M-aligned IOVA: one block and one page. Unmap in one call: the block and
 * the page are each one leaf, so two tlb_add_page calls and one iotlb_sync.
 */
Test(iommu_group, map_splits_into_largest_pages)
{
	struct ih_device *dev;
	struct ih_iommu_domain *d;

	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "dev0");
	d = ih_iommu_get_dma_domain(dev);
	cr_assert_eq(ih_iommu_map(d, 0x40000000, 0x90000000, SZ_2M + SZ_4K,
				  IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_expect_eq(ih_iommu_iova_to_phys(d, 0x401fffff), 0x901fffff);
	cr_expect_eq(ih_iommu_iova_to_phys(d, 0x40200010), 0x90200010);
	cr_expect_eq(ih_iommu_map(d, 0x40000000, 0x90000000, SZ_4K, IH_PROT_READ), -EEXIST);
	cr_expect_eq(ih_iommu_map(d, 0x40000800, 0x90000000, SZ_4K, IH_PROT_READ), -EINVAL);
	t.tlb_add_page = t.iotlb_sync = 0;
	cr_expect_eq(ih_iommu_unmap(d, 0x40000000, SZ_2M + SZ_4K), SZ_2M + SZ_4K);
	cr_expect_eq(t.tlb_add_page, 2);
	cr_expect_eq(t.iotlb_sync, 1);
	cr_expect_eq(ih_iommu_iova_to_phys(d, 0x40000000), IH_PA_INVALID);
	ih_device_unregister(dev);
	ih_iommu_device_unregister(w, &t.iommu);
}

/*
 * ownership-unserialised: the old lockless owner_cnt update. A schedule hook binds the
 * sibling at the point between read and store of the first bind's claim (what a second
 * CPU binding the sibling would do): one increment is lost, and the generic invariant
 * check sees owner_cnt != number of DMA-API users.
 */
struct sibling_hook {
	struct ih_device *sibling;
	struct ih_driver *drv;
	bool fired;
	int ret;
};

static void bind_sibling(void *opaque, const char *name)
{
	struct sibling_hook *h = opaque;

	if (h->fired || strcmp(name, "ownership:use-before-store"))
		return;
	h->fired = true;
	h->ret = ih_device_bind(h->sibling, h->drv);
}

static void race_two_binds(bool regress, unsigned int *owner_cnt, int *check, bool *fired)
{
	struct ih_driver nic = { .name = "nic", .bus = &ih_pci_bus_type };
	struct ih_iommu_group_info info;
	struct sibling_hook h = { 0 };
	struct pci_topo p;

	ih_regress_set(w, IH_REGRESS_OWNERSHIP_UNSERIALISED, regress);
	t.pci_groups = true;
	cr_assert_eq(tiommu_register(w, &t), 0);
	pci_topo_add(&p);
	cr_assert_eq(ih_driver_register(w, &nic), 0); /* no id_table: binds only on request */
	override_both(&p, "nic");
	h.sibling = &p.fn[1]->dev;
	h.drv = &nic;
	ih_sched_set_hook(w, bind_sibling, &h);
	cr_assert_eq(ih_device_bind(&p.fn[0]->dev, &nic), 0);
	ih_sched_set_hook(w, NULL, NULL);
	if (!h.fired)
		cr_assert_eq(ih_device_bind(&p.fn[1]->dev, &nic), 0);
	else
		cr_assert_eq(h.ret, 0);
	ih_iommu_group_get_info(p.fn[0]->dev.iommu_group, &info);
	*owner_cnt = info.owner_cnt;
	*check = ih_iommu_group_check(p.fn[0]->dev.iommu_group);
	*fired = h.fired;
	ih_regress_set(w, IH_REGRESS_OWNERSHIP_UNSERIALISED, false);
	ih_driver_unregister(w, &nic);
	pci_topo_del(&p);
	ih_iommu_device_unregister(w, &t.iommu);
}

Test(iommu_group, unserialised_ownership_loses_a_count_and_is_detected)
{
	unsigned int cnt;
	int check;
	bool fired;

	expect_clean = false;
	race_two_binds(true, &cnt, &check, &fired);
	cr_expect(fired);
	cr_expect_eq(cnt, 1, "one of two increments was lost");
	cr_expect_eq(check, -EUCLEAN);
	cr_expect_geq(ih_iommu_invariant_violations(w), 1);
}

Test(iommu_group, serialised_ownership_counts_both)
{
	unsigned int cnt;
	int check;
	bool fired;

	race_two_binds(false, &cnt, &check, &fired);
	cr_expect_not(fired, "the fixed path has no window inside the count update");
	cr_expect_eq(cnt, 2);
	cr_expect_eq(check, 0);
	cr_expect_eq(ih_warn_count(w), 0);
}

/* ownership-unserialised also drops dma_cleanup after a failed probe (pre-25f3bcfc54bc). */
static unsigned long failed_probe_violations(bool regress)
{
	struct tdriver d;
	struct ih_device *dev;
	unsigned long v;

	ih_regress_set(w, IH_REGRESS_OWNERSHIP_UNSERIALISED, regress);
	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "dev0");
	tdriver_init(&d, "tdrv", false);
	d.probe_ret = -EIO;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_assert_null(ih_device_driver(dev));
	v = ih_iommu_group_check(dev->iommu_group) ? 1 : 0;
	ih_regress_set(w, IH_REGRESS_OWNERSHIP_UNSERIALISED, false);
	ih_device_unregister(dev);
	ih_driver_unregister(w, &d.drv);
	ih_iommu_device_unregister(w, &t.iommu);
	return v;
}

Test(iommu_group, failed_probe_without_dma_cleanup_leaves_a_stale_claim)
{
	expect_clean = false;
	cr_expect_eq(failed_probe_violations(true), 1,
		     "a DMA-API claim survives with no driver bound: the check must see it");
}

Test(iommu_group, failed_probe_with_dma_cleanup_is_clean)
{
	cr_expect_eq(failed_probe_violations(false), 0);
}
