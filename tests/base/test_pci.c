// SPDX-License-Identifier: MIT
/* PCI: requester IDs, names, bridge ranges, host-bridge walk, DMA aliases, id matching. */
#include "base/base_test.h"

static struct ih_world *w;
static unsigned long expected_warns;

/*
 * The topology (segment 0, host bridge over buses 00..1f, behind a platform controller):
 *
 *   pci0000:00
 *   +- 00:1c.0 root port        [01..05]
 *   |  +- 01:00.0 endpoint                      RID 0x0100
 *   +- 00:1d.0 root port        [06..09]
 *   |  +- 06:00.0 switch up     [07..09]
 *   |     +- 07:02.0 switch down [08..09]
 *   |        +- 08:00.0 PCIe-to-PCI [09..09]
 *   |           +- 09:04.1 endpoint             RID 0x0921, alias 0x0900
 *   +- 00:1e.0 root port        [10..14]
 *      +- 10:00.0 PCIe-to-PCI   [11..14]
 *         +- 11:03.0 PCI-to-PCI [12..12]        RID 0x1118
 *            +- 12:05.2 endpoint                RID 0x122a, aliases 0x1118, 0x1100
 */
static struct ih_platform_device *ctrl;
static struct ih_pci_dev *hb, *rp1, *ep1, *rp2, *swu, *swd, *pcie2pci, *ep2, *rp3, *br3, *conv,
	*ep3;

static struct ih_pci_dev *mk(struct ih_device *up, enum ih_pci_type type, u8 devfn, u8 sec,
			     u8 sub)
{
	struct ih_pci_desc d = {
		.type = type,
		.devfn = devfn,
		.vendor = 0x1234,
		.device = 0x5678,
		.secondary = sec,
		.subordinate = sub,
	};
	struct ih_pci_dev *p;

	cr_assert_eq(ih_pci_dev_alloc(w, up, &d, &p), 0);
	cr_assert_eq(ih_device_add(&p->dev), 0);
	return p;
}

static void setup(void)
{
	struct ih_pci_desc hd = { .type = IH_PCI_HOST_BRIDGE, .segment = 0, .secondary = 0x00,
				  .subordinate = 0x1f };

	w = tworld(IH_EXEC_SEQUENTIAL);
	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	cr_assert_eq(ih_bus_register(w, &ih_pci_bus_type), 0);
	cr_assert_eq(ih_platform_device_alloc(w, "pcie@40000000", "pci-host-ecam-generic", NULL,
					      &ctrl), 0);
	cr_assert_eq(ih_device_add(&ctrl->dev), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, &ctrl->dev, &hd, &hb), 0);
	cr_assert_eq(ih_device_add(&hb->dev), 0);
	rp1 = mk(&hb->dev, IH_PCI_ROOT_PORT, IH_PCI_DEVFN(0x1c, 0), 0x01, 0x05);
	ep1 = mk(&rp1->dev, IH_PCI_ENDPOINT, IH_PCI_DEVFN(0, 0), 0, 0);
	rp2 = mk(&hb->dev, IH_PCI_ROOT_PORT, IH_PCI_DEVFN(0x1d, 0), 0x06, 0x09);
	swu = mk(&rp2->dev, IH_PCI_SWITCH_UPSTREAM, IH_PCI_DEVFN(0, 0), 0x07, 0x09);
	swd = mk(&swu->dev, IH_PCI_SWITCH_DOWNSTREAM, IH_PCI_DEVFN(2, 0), 0x08, 0x09);
	pcie2pci = mk(&swd->dev, IH_PCI_PCIE_TO_PCI, IH_PCI_DEVFN(0, 0), 0x09, 0x09);
	ep2 = mk(&pcie2pci->dev, IH_PCI_ENDPOINT, IH_PCI_DEVFN(4, 1), 0, 0);
	rp3 = mk(&hb->dev, IH_PCI_ROOT_PORT, IH_PCI_DEVFN(0x1e, 0), 0x10, 0x14);
	br3 = mk(&rp3->dev, IH_PCI_PCIE_TO_PCI, IH_PCI_DEVFN(0, 0), 0x11, 0x14);
	conv = mk(&br3->dev, IH_PCI_PCI_TO_PCI, IH_PCI_DEVFN(3, 0), 0x12, 0x12);
	ep3 = mk(&conv->dev, IH_PCI_ENDPOINT, IH_PCI_DEVFN(5, 2), 0, 0);
}

static void teardown(void)
{
	struct ih_pci_dev *all[] = { ep3, conv, br3, rp3, ep2, pcie2pci, swd, swu, rp2, ep1, rp1,
				     hb };

	/* Leaves first: children hold references on their parents anyway. */
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		cr_expect_eq(ih_device_unregister(&all[i]->dev), 0);
	cr_expect_eq(ih_device_unregister(&ctrl->dev), 0);
	cr_expect_eq(ih_warn_count(w), expected_warns, "warnings: %lu, expected %lu",
		     ih_warn_count(w), expected_warns);
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(pci, .init = setup, .fini = teardown);

Test(pci, devfn_and_requester_id_macros)
{
	cr_expect_eq(IH_PCI_DEVFN(0x1c, 0), 0xe0);
	cr_expect_eq(IH_PCI_DEVFN(5, 2), 0x2a);
	cr_expect_eq(IH_PCI_SLOT(0x2a), 5);
	cr_expect_eq(IH_PCI_FUNC(0x2a), 2);
	cr_expect_eq(IH_PCI_DEVID(0x12, 0x2a), 0x122a);
	cr_expect_eq(IH_PCI_DEVID(0xff, 0xff), 0xffff);
}

Test(pci, names_and_requester_ids_follow_the_topology)
{
	cr_expect_str_eq(ih_dev_name(&hb->dev), "pci0000:00");
	cr_expect_str_eq(ih_dev_name(&rp1->dev), "0000:00:1c.0");
	cr_expect_str_eq(ih_dev_name(&ep2->dev), "0000:09:04.1");
	cr_expect_str_eq(ih_dev_name(&ep3->dev), "0000:12:05.2");
	cr_expect_eq(ih_pci_dev_id(&rp1->dev), 0x00e0);
	cr_expect_eq(ih_pci_dev_id(&ep1->dev), 0x0100);
	cr_expect_eq(ih_pci_dev_id(&swd->dev), 0x0710);
	cr_expect_eq(ih_pci_dev_id(&ep2->dev), 0x0921);
	cr_expect_eq(ih_pci_dev_id(&conv->dev), 0x1118);
	cr_expect_eq(ih_pci_dev_id(&ep3->dev), 0x122a);
	cr_expect_eq(ep3->dev.pci->bus, 0x12);
	cr_expect_eq(ep3->dev.pci->segment, 0);
	cr_expect_eq(ih_pci_dev_id(&hb->dev), -EINVAL, "a host bridge has no requester ID");
	cr_expect_eq(ih_pci_dev_id(&ctrl->dev), -EINVAL, "not a PCI device");
	cr_expect_eq(ih_pci_dev_id(NULL), -EINVAL);
	cr_expect(ih_dev_is_pci(&ep1->dev));
	cr_expect_not(ih_dev_is_pci(&ctrl->dev));
}

Test(pci, walk_up_reaches_the_host_bridge_and_its_controller)
{
	cr_expect_eq(ih_pci_get_host_bridge(&ep3->dev), &hb->dev);
	cr_expect_eq(ih_pci_get_host_bridge(&ep1->dev), &hb->dev);
	cr_expect_eq(ih_pci_get_host_bridge(&hb->dev), &hb->dev);
	cr_expect_null(ih_pci_get_host_bridge(&ctrl->dev));
	/* What pci dma_configure uses for the firmware node: the bridge's parent. */
	cr_expect_eq(ih_pci_get_host_bridge(&ep3->dev)->parent, &ctrl->dev);
}

Test(pci, pcie_endpoint_below_a_root_port_has_no_alias)
{
	struct ih_device *host = NULL;
	u16 rids[4];

	cr_expect_eq(ih_pci_dma_aliases(&ep1->dev, rids, 4, &host), 1);
	cr_expect_eq(rids[0], 0x0100);
	cr_expect_eq(host, &hb->dev);
}

Test(pci, switch_ports_add_nothing_and_pcie_to_pci_bridge_aliases_to_secondary_bus)
{
	u16 rids[4];

	/* Own ID 09:04.1, then the PCIe-to-PCI bridge's (secondary bus 09, devfn 00.0). */
	cr_expect_eq(ih_pci_dma_aliases(&ep2->dev, rids, 4, NULL), 2);
	cr_expect_eq(rids[0], 0x0921);
	cr_expect_eq(rids[1], 0x0900);
	/* The switch ports themselves are PCIe: only their own ID. */
	cr_expect_eq(ih_pci_dma_aliases(&swd->dev, rids, 4, NULL), 1);
	cr_expect_eq(rids[0], 0x0710);
	/* The PCIe-to-PCI bridge as a requester itself: its own ID only. */
	cr_expect_eq(ih_pci_dma_aliases(&pcie2pci->dev, rids, 4, NULL), 1);
	cr_expect_eq(rids[0], 0x0800);
}

Test(pci, conventional_bridge_behind_pcie_to_pci_gives_two_aliases_in_walk_order)
{
	u16 rids[4];

	/* 12:05.2, then the PCI-to-PCI bridge's own 11:03.0, then (11, 00.0) from 10:00.0. */
	cr_expect_eq(ih_pci_dma_aliases(&ep3->dev, rids, 4, NULL), 3);
	cr_expect_eq(rids[0], 0x122a);
	cr_expect_eq(rids[1], 0x1118);
	cr_expect_eq(rids[2], 0x1100);
	/* A short array still reports the full count. */
	cr_expect_eq(ih_pci_dma_aliases(&ep3->dev, rids, 1, NULL), 3);
	cr_expect_eq(rids[0], 0x122a);
}

struct who_rid {
	struct ih_device *who[4];
	u16 rid[4];
	int n;
	int stop_at;
};

static int record_alias(struct ih_device *who, u16 rid, void *data)
{
	struct who_rid *r = data;

	r->who[r->n] = who;
	r->rid[r->n] = rid;
	return ++r->n == r->stop_at ? 77 : 0;
}

Test(pci, alias_callback_names_the_bridge_and_can_stop_the_walk)
{
	struct who_rid r = { .stop_at = 0 };

	cr_expect_eq(ih_pci_for_each_dma_alias(&ep3->dev, record_alias, &r), 0);
	cr_assert_eq(r.n, 3);
	cr_expect_eq(r.who[0], &ep3->dev);
	cr_expect_eq(r.who[1], &conv->dev);
	cr_expect_eq(r.who[2], &br3->dev);

	memset(&r, 0, sizeof(r));
	r.stop_at = 2;
	cr_expect_eq(ih_pci_for_each_dma_alias(&ep3->dev, record_alias, &r), 77);
	cr_expect_eq(r.n, 2);
	cr_expect_eq(ih_pci_for_each_dma_alias(&hb->dev, record_alias, &r), -EINVAL);
	cr_expect_eq(ih_pci_for_each_dma_alias(&ep3->dev, NULL, &r), -EINVAL);
	cr_expect_eq(ih_pci_for_each_dma_alias(&ctrl->dev, record_alias, &r), -EINVAL);
}

Test(pci, broken_parent_chain_is_enodev)
{
	struct ih_pci_desc d = { .type = IH_PCI_ENDPOINT, .devfn = IH_PCI_DEVFN(1, 0) };
	struct ih_pci_dev *orphan;
	u16 rids[2];

	cr_assert_eq(ih_pci_dev_alloc(w, &rp1->dev, &d, &orphan), 0);
	orphan->dev.parent = NULL;
	cr_expect_eq(ih_pci_dma_aliases(&orphan->dev, rids, 2, NULL), -ENODEV);
	cr_expect_null(ih_pci_get_host_bridge(&orphan->dev));
	ih_device_put(&orphan->dev);
}

Test(pci, second_segment_names_and_ids)
{
	struct ih_pci_desc hd = { .type = IH_PCI_HOST_BRIDGE, .segment = 1, .secondary = 0x80,
				  .subordinate = 0x8f };
	struct ih_pci_desc ed = { .type = IH_PCI_ENDPOINT, .devfn = IH_PCI_DEVFN(1, 0) };
	struct ih_pci_dev *hb1, *e;

	cr_assert_eq(ih_pci_dev_alloc(w, NULL, &hd, &hb1), 0);
	cr_assert_eq(ih_device_add(&hb1->dev), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, &hb1->dev, &ed, &e), 0);
	cr_assert_eq(ih_device_add(&e->dev), 0);
	cr_expect_str_eq(ih_dev_name(&hb1->dev), "pci0001:80");
	cr_expect_str_eq(ih_dev_name(&e->dev), "0001:80:01.0");
	cr_expect_eq(e->dev.pci->segment, 1);
	cr_expect_eq(ih_pci_dev_id(&e->dev), 0x8008);
	cr_expect_eq(ih_device_unregister(&e->dev), 0);
	cr_expect_eq(ih_device_unregister(&hb1->dev), 0);
}

Test(pci, inconsistent_topology_is_rejected_with_a_warning)
{
	struct ih_pci_desc d = { .type = IH_PCI_ROOT_PORT, .devfn = IH_PCI_DEVFN(2, 0) };
	struct ih_pci_dev *p = (void *)1;

	/* Range beyond the host bridge's 00..1f. */
	d.secondary = 0x15;
	d.subordinate = 0x20;
	cr_expect_eq(ih_pci_dev_alloc(w, &hb->dev, &d, &p), -EINVAL);
	cr_expect_null(p);
	/* Secondary not below its own bus (00). */
	d.secondary = 0x00;
	d.subordinate = 0x01;
	cr_expect_eq(ih_pci_dev_alloc(w, &hb->dev, &d, &p), -EINVAL);
	/* Reversed range. */
	d.secondary = 0x18;
	d.subordinate = 0x17;
	cr_expect_eq(ih_pci_dev_alloc(w, &hb->dev, &d, &p), -EINVAL);
	/* A bridge under the root port 1c.0 must stay within 01..05. */
	d.type = IH_PCI_SWITCH_UPSTREAM;
	d.secondary = 0x02;
	d.subordinate = 0x06;
	cr_expect_eq(ih_pci_dev_alloc(w, &rp1->dev, &d, &p), -EINVAL);
	/* An endpoint cannot be an upstream; neither can a platform device or nothing. */
	d.type = IH_PCI_ENDPOINT;
	cr_expect_eq(ih_pci_dev_alloc(w, &ep1->dev, &d, &p), -EINVAL);
	cr_expect_eq(ih_pci_dev_alloc(w, &ctrl->dev, &d, &p), -EINVAL);
	cr_expect_eq(ih_pci_dev_alloc(w, NULL, &d, &p), -EINVAL);
	/* Host bridge with a reversed range; unknown type. */
	d.type = IH_PCI_HOST_BRIDGE;
	d.secondary = 0x40;
	d.subordinate = 0x3f;
	cr_expect_eq(ih_pci_dev_alloc(w, NULL, &d, &p), -EINVAL);
	d.type = (enum ih_pci_type)42;
	cr_expect_eq(ih_pci_dev_alloc(w, NULL, &d, &p), -EINVAL);
	cr_expect_eq(ih_pci_dev_alloc(w, NULL, NULL, &p), -EINVAL);
	cr_expect_null(p);
	expected_warns = 10;
}

Test(pci, two_functions_at_one_address_fail_the_second_add)
{
	struct ih_pci_desc d = { .type = IH_PCI_ENDPOINT, .devfn = IH_PCI_DEVFN(0, 0) };
	struct ih_pci_dev *dup;

	cr_assert_eq(ih_pci_dev_alloc(w, &rp1->dev, &d, &dup), 0);
	cr_expect_eq(ih_device_add(&dup->dev), -EEXIST);
	ih_device_put(&dup->dev);
	expected_warns = 1;
}

static const struct ih_pci_device_id nvme_ids[] = {
	{ .vendor = IH_PCI_ANY_ID, .device = IH_PCI_ANY_ID, .class = 0x010802,
	  .class_mask = 0xffffff },
	{ 0 },
};

static const struct ih_pci_device_id everything_ids[] = {
	{ .vendor = IH_PCI_ANY_ID, .device = IH_PCI_ANY_ID },
	{ 0 },
};

static const struct ih_pci_device_id vendor_ids[] = {
	{ .vendor = 0x8086, .device = 0x1234 },
	{ 0 },
};

Test(pci, drivers_match_by_ids_and_class_and_never_the_host_bridge)
{
	struct ih_pci_desc nd = { .type = IH_PCI_ENDPOINT, .devfn = IH_PCI_DEVFN(0, 0),
				  .vendor = 0x144d, .device = 0xa808, .class = 0x010802 };
	struct ih_pci_desc id = { .type = IH_PCI_ENDPOINT, .devfn = IH_PCI_DEVFN(0, 1),
				  .vendor = 0x8086, .device = 0x1234, .class = 0x020000 };
	struct tdrv nvme, intel, all;
	struct ih_pci_dev *n, *i;

	tdrv_setup(&nvme, &ih_pci_bus_type, "nvme", NULL);
	nvme.drv.id_table = nvme_ids;
	tdrv_setup(&intel, &ih_pci_bus_type, "e1000", NULL);
	intel.drv.id_table = vendor_ids;
	tdrv_setup(&all, &ih_pci_bus_type, "catch-all", NULL);
	all.drv.id_table = everything_ids;
	cr_assert_eq(ih_driver_register(w, &nvme.drv), 0);
	cr_assert_eq(ih_driver_register(w, &intel.drv), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, &rp1->dev, &nd, &n), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, &swd->dev, &id, &i), 0);
	cr_assert_eq(ih_device_add(&n->dev), -EEXIST, "01:00.0 is taken by ep1");
	ih_device_put(&n->dev);
	nd.devfn = IH_PCI_DEVFN(0, 3);
	cr_assert_eq(ih_pci_dev_alloc(w, &rp1->dev, &nd, &n), 0);
	cr_assert_eq(ih_device_add(&n->dev), 0);
	cr_assert_eq(ih_device_add(&i->dev), 0);
	cr_expect_eq(ih_device_driver(&n->dev), &nvme.drv);
	cr_expect_eq(ih_device_driver(&i->dev), &intel.drv);
	/* The catch-all binds every unbound function, bridges included, never the host bridge. */
	cr_assert_eq(ih_driver_register(w, &all.drv), 0);
	cr_expect_null(ih_device_driver(&hb->dev));
	cr_expect_eq(ih_device_driver(&rp1->dev), &all.drv);
	cr_expect_eq(ih_device_driver(&ep3->dev), &all.drv);
	/* rp1 ep1 rp2 swu swd pcie2pci ep2 rp3 br3 conv ep3: n and i were bound already. */
	cr_expect_eq(all.probes, 11);
	cr_expect_eq(ih_device_unregister(&n->dev), 0);
	cr_expect_eq(ih_device_unregister(&i->dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &all.drv), 0);
	cr_expect_eq(ih_driver_unregister(w, &intel.drv), 0);
	cr_expect_eq(ih_driver_unregister(w, &nvme.drv), 0);
	expected_warns = 1; /* the duplicate 01:00.0 */
}
