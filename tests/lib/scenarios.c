// SPDX-License-Identifier: MIT
/* Known-bug scenarios shared by the Criterion tests and the bug-zoo runner. */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/coop.h>
#include <ih/diag.h>
#include <ih/iommu_group.h>
#include <ih/world.h>
#include "lib/rk_board.h"
#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"
#include "lib/scenarios.h"
#include "lib/test_iommu.h"

static int finish(struct ih_world *w, const char *what, int ret)
{
	if (!ret && ih_iommu_invariant_violations(w)) {
		fprintf(stderr, "%s: group invariant broken during the run\n", what);
		ret = 1;
	}
	if (!ret && ih_warn_count(w)) {
		fprintf(stderr, "%s: %lu warning(s)\n", what, ih_warn_count(w));
		ret = 1;
	}
	return ret;
}

/* ---- seed 000 ---- */

struct race_actors {
	struct ih_device *dev;
	struct tdriver *drv;
	int bind_ret;
};

static void race_bind(void *arg)
{
	struct race_actors *a = arg;

	a->bind_ret = ih_device_bind(a->dev, &a->drv->drv);
}

static void race_probe(void *arg)
{
	ih_iommu_probe_device(((struct race_actors *)arg)->dev);
}

int scenario_probe_race_script(struct ih_world *w)
{
	struct tiommu t = { 0 };
	struct tfw_entry e[1];
	struct tfw fw;
	struct ih_coop *coop;
	struct tdriver d;
	struct race_actors a = { 0 };
	int ret = 0;

	if (ih_coop_create(w, &coop))
		return 1;
	e[0] = (struct tfw_entry){ "dev0", tiommu_fwnode(&t), 0x10 };
	fw = (struct tfw){ .entries = e, .count = 1 };
	tfw_install(w, &fw);
	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_BIND);
	if (tiommu_register(w, &t))
		return 1;
	a.dev = tplat_add(w, "dev0");
	a.drv = &d;
	tdriver_init(&d, "tdrv", false);
	d.drv.id_table = NULL; /* binds only when asked */
	if (!a.dev || ih_driver_register(w, &d.drv) || ih_device_set_driver_override(a.dev, "tdrv"))
		return 1;
	ih_coop_add(coop, race_bind, &a, 0);
	ih_coop_add(coop, race_probe, &a, ih_world_ncpus(w) > 1 ? 1 : 0);
	if (ih_coop_run_script(coop, "A@fwspec:after-get B A", NULL, 0))
		ret = 1;
	ih_coop_destroy(coop);
	if (a.bind_ret || ih_device_driver(a.dev) != &d.drv || !a.dev->iommu_group) {
		fprintf(stderr, "probe-race: device ended unbound or unprobed\n");
		ret = 1;
	}
	ih_device_unregister(a.dev);
	ih_driver_unregister(w, &d.drv);
	ih_iommu_device_unregister(w, &t.iommu);
	return finish(w, "probe-race", ret);
}

/* ---- seed 003 ---- */

struct pci_pair {
	struct tiommu t;
	struct tfw_entry e[2];
	struct tfw fw;
	struct ih_pci_dev *host, *bridge, *fn[2];
	struct ih_driver nic;
};

static int pair_up(struct ih_world *w, struct pci_pair *p)
{
	struct ih_pci_desc hd = { .type = IH_PCI_HOST_BRIDGE, .subordinate = 0xff };
	struct ih_pci_desc bd = { .type = IH_PCI_PCIE_TO_PCI, .devfn = IH_PCI_DEVFN(1, 0),
				  .secondary = 1, .subordinate = 1 };
	struct ih_pci_desc ed = { .type = IH_PCI_ENDPOINT, .vendor = 0x1234 };

	p->t.pci_groups = true;
	p->e[0] = (struct tfw_entry){ "0000:01:00.0", tiommu_fwnode(&p->t), 0x100 };
	p->e[1] = (struct tfw_entry){ "0000:01:01.0", tiommu_fwnode(&p->t), 0x108 };
	p->fw = (struct tfw){ .entries = p->e, .count = 2 };
	p->nic = (struct ih_driver){ .name = "nic", .bus = &ih_pci_bus_type };
	tfw_install(w, &p->fw);
	/* No id_table: nic binds only where a scenario sets driver_override to it. */
	if (tiommu_register(w, &p->t) || ih_bus_register(w, &ih_pci_bus_type) ||
	    ih_driver_register(w, &p->nic) ||
	    ih_pci_dev_alloc(w, NULL, &hd, &p->host) || ih_device_add(&p->host->dev) ||
	    ih_pci_dev_alloc(w, &p->host->dev, &bd, &p->bridge) || ih_device_add(&p->bridge->dev))
		return 1;
	for (int i = 0; i < 2; i++) {
		ed.devfn = IH_PCI_DEVFN(i, 0);
		if (ih_pci_dev_alloc(w, &p->bridge->dev, &ed, &p->fn[i]) ||
		    ih_device_add(&p->fn[i]->dev))
			return 1;
	}
	return 0;
}

static void pair_down(struct ih_world *w, struct pci_pair *p)
{
	ih_driver_unregister(w, &p->nic);
	for (int i = 1; i >= 0; i--)
		ih_device_unregister(&p->fn[i]->dev);
	ih_device_unregister(&p->bridge->dev);
	ih_device_unregister(&p->host->dev);
	ih_iommu_device_unregister(w, &p->t.iommu);
}

static int fails(struct ih_device *dev)
{
	return -EIO;
}

int scenario_failed_probe(struct ih_world *w)
{
	struct pci_pair p = { 0 };
	struct ih_driver bad = { .name = "bad", .bus = &ih_pci_bus_type, .probe = fails };
	int ret = 0;

	if (pair_up(w, &p) || ih_driver_register(w, &bad) ||
	    ih_device_set_driver_override(&p.fn[0]->dev, "bad"))
		return 1;
	ih_device_bind(&p.fn[0]->dev, &bad);
	if (ih_iommu_group_check(p.fn[0]->dev.iommu_group))
		ret = 1;
	ih_driver_unregister(w, &bad);
	pair_down(w, &p);
	return finish(w, "failed-probe", ret);
}

/* Bind (through the override) and unbind, twice. */
static void churn(void *arg)
{
	struct ih_device *dev = arg;

	for (int i = 0; i < 2; i++) {
		ih_device_attach(dev);
		if (ih_device_driver(dev))
			ih_device_unbind(dev);
	}
}

int scenario_sibling_explore(struct ih_world *w, unsigned int seeds)
{
	struct pci_pair p = { 0 };
	struct ih_coop *coop;
	int found = 0;

	if (pair_up(w, &p) || ih_coop_create(w, &coop) ||
	    ih_device_set_driver_override(&p.fn[0]->dev, "nic") ||
	    ih_device_set_driver_override(&p.fn[1]->dev, "nic"))
		return -1;
	for (unsigned int s = 1; s <= seeds && !found; s++) {
		ih_coop_add(coop, churn, &p.fn[0]->dev, 0);
		ih_coop_add(coop, churn, &p.fn[1]->dev, ih_world_ncpus(w) > 1 ? 1 : 0);
		if (ih_coop_run_random(coop, s, 0, 0, NULL, 0))
			found = -1;
		else if (ih_iommu_group_check(p.fn[0]->dev.iommu_group) ||
			 ih_iommu_invariant_violations(w))
			found = (int)s;
	}
	ih_coop_destroy(coop);
	if (found)
		fprintf(stderr, "sibling-explore: group invariant broken under seed %d\n", found);
	pair_down(w, &p);
	return found;
}

/* ---- seed 001 ---- */

int scenario_rk_probe_order(struct ih_world *w)
{
	struct rkb b = { 0 };
	struct ih_device *client;
	struct ih_iommu_domain *dom;
	ih_pa_t buf, pa = 0;
	int ret = 0;

	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	if (rkb_init(&b, w, IH_RK_IOMMU_HW_V2, 2, NULL) || rkb_register_iommu_driver(&b))
		return 1;
	client = rkb_add_client(&b);
	if (!client || rkb_register_client_driver(&b) || rkb_add_iommu(&b))
		ret = 1;
	dom = client ? ih_iommu_get_domain_for_dev(client) : NULL;
	buf = ih_pm_alloc(w, SZ_4K, SZ_4K, "zoo:buf");
	if (!ret && (!dom || ih_device_driver(client) != &b.cdrv.drv ||
		     ih_iommu_map(dom, 0x100000, buf, SZ_4K, IH_PROT_READ | IH_PROT_WRITE) ||
		     ih_dma_access(client, 0x100010, 4, IH_DMA_FROM_DEVICE, &pa) || pa != buf + 0x10 ||
		     ih_iommu_unmap(dom, 0x100000, SZ_4K) != SZ_4K)) {
		fprintf(stderr, "rk-probe-order: the client does not DMA through its IOMMU\n");
		ret = 1;
	}
	if (buf != IH_PA_INVALID)
		ih_pm_free(w, buf, SZ_4K);
	rkb_fini(&b);
	return finish(w, "rk-probe-order", ret);
}

/* ---- seed 000, the of_xlate leak ---- */

int scenario_smmuv3_xlate_error(struct ih_world *w)
{
	static const char fwnode = 0; /* its address names the SMMU in firmware */
	struct ih_smmuv3_hw_config hwcfg;
	struct ih_smmuv3_drv_config dcfg;
	struct tfw_entry e[1] = { { "dev0", &fwnode, 0x10 } };
	struct tfw fw = { .entries = e, .count = 1 };
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu;
	struct ih_device *dev;
	int ret = 0;

	ih_smmuv3_hw_config_init(&hwcfg);
	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.mmio_base = 0x2b400000;
	if (ih_smmuv3_hw_create(w, dcfg.mmio_base, &hwcfg, &hw))
		return 1;
	dcfg.hw = hw;
	tfw_install(w, &fw);
	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	if (ih_smmuv3_probe(w, &dcfg, NULL, &fwnode, &smmu)) {
		ih_smmuv3_hw_destroy(hw);
		return 1;
	}
	/* The client's probe fails after of_xlate: its StreamID array cannot be allocated. */
	ih_fault_fail_site(w, "smmuv3:master-sids", 1);
	dev = tplat_add(w, "dev0");
	if (!dev || dev->iommu_group) {
		fprintf(stderr, "smmuv3-xlate-error: the client probe was meant to fail\n");
		ret = 1;
	}
	ih_fault_clear(w);
	if (dev)
		ih_device_unregister(dev);
	ih_smmuv3_remove(smmu);
	ih_smmuv3_hw_destroy(hw);
	return finish(w, "smmuv3-xlate-error", ret);
}
