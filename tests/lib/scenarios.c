// SPDX-License-Identifier: MIT
/* Known-bug scenarios shared by the Criterion tests and the bug-zoo runner. */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/check.h>
#include <ih/clock.h>
#include <ih/coop.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/iommu_group.h>
#include <ih/nic.h>
#include <ih/physmem.h>
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

/* One run of @coop as @s says; @horizon: the PCT change-point horizon of random runs. */
static int sched_run(struct ih_coop *coop, const struct scenario_sched *s, unsigned int horizon,
		     char *trace, size_t len)
{
	int ret;

	if (s->workers && ih_coop_use_workers(coop, s->workers))
		return -EINVAL;
	if (s->choices)
		ret = ih_coop_run_choices(coop, s->choices, s->nchoices, trace, len);
	else
		ret = ih_coop_run_random(coop, s->seed, s->pct_depth, horizon, trace, len);
	if (s->trace && s->tlen)
		snprintf(s->trace, s->tlen, "%s", trace);
	return ret;
}

/* How a failing schedule is named in a message ("seed 5" or "12 choice bytes"). */
static const char *sched_name(const struct scenario_sched *s, char *buf, size_t len)
{
	if (s->choices)
		snprintf(buf, len, "%zu choice byte(s)", s->nchoices);
	else
		snprintf(buf, len, "seed %llu (%s)", (unsigned long long)s->seed,
			 s->pct_depth ? "PCT" : "random");
	return buf;
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

/* ---- seed 004: page_pool pages returned after unbind or VF deletion ---- */

struct first_report {
	unsigned long n;
	struct ih_report r;
};

static void keep_first(void *opaque, const struct ih_report *r)
{
	struct first_report *f = opaque;

	if (!f->n++)
		f->r = *r;
}

/* Name the detector from the first report, as the zoo runner reads it. */
static int pp_verdict(struct ih_world *w, const char *what, struct first_report *f)
{
	if (!f->n)
		return 0;
	printf("%s: %s reported %lu time(s); first: %s (%s)\n", what,
	       f->r.kind == IH_REPORT_IOVA_LEAK ? "IOVA leak check" : "dma-debug", f->n,
	       f->r.msg, ih_report_kind_name(f->r.kind));
	return 1;
}

/*
 * Receive @n packets on @dev into the stack, give all but @k back at once (recycled),
 * so that @k pages stay out with the holder's 30 s defragmentation delay.
 */
static int pp_receive_keep(struct ih_netstack *ns, struct ih_device *dev, int n, unsigned int k)
{
	if (ih_nic_receive(dev, (unsigned int)n) != n)
		return 1;
	ih_netstack_release(ns, (unsigned int)n - k);
	return ih_netstack_held(ns) == k ? 0 : 1;
}

int scenario_page_pool_vf_delete(struct ih_world *w)
{
	static const char fwnode = 0; /* its address names the SMMU in firmware */
	struct tfw_entry e[3] = { { "0000:00:01.0", &fwnode, 0x8 },
				  { "0000:00:01.1", &fwnode, 0x9 },
				  { "0000:00:01.2", &fwnode, 0xa } };
	struct tfw fw = { .entries = e, .count = 3 };
	struct ih_pci_desc hd = { .type = IH_PCI_HOST_BRIDGE, .subordinate = 0xff };
	struct ih_pci_desc pd = { .type = IH_PCI_ENDPOINT, .devfn = IH_PCI_DEVFN(1, 0),
				  .vendor = IH_NIC_PCI_VENDOR, .device = IH_NIC_PCI_DEVICE_PF,
				  .class = 0x020000 };
	struct ih_netstack_config nsc = { .hold_ns = IH_NIC_DEFRAG_NS, .cpu = 1 };
	struct ih_nic_config nc = { .rx_ring_size = 32, .max_vfs = 2 };
	struct ih_smmuv3_hw_config hwcfg;
	struct ih_smmuv3_drv_config dcfg;
	struct first_report first = { 0 };
	struct ih_pci_dev *host = NULL, *pf = NULL;
	struct ih_nic_driver nd;
	struct ih_netstack *ns = NULL;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu;
	struct ih_device *vf;
	int ret = 1;

	ih_report_set_sink(w, keep_first, &first);
	ih_smmuv3_hw_config_init(&hwcfg);
	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.mmio_base = 0x2b400000;
	if (ih_smmuv3_hw_create(w, dcfg.mmio_base, &hwcfg, &hw))
		return 1;
	dcfg.hw = hw;
	tfw_install(w, &fw);
	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	ih_iommu_set_default_domain_type(w, IH_DOMAIN_DMA_FQ);
	if (ih_smmuv3_probe(w, &dcfg, NULL, &fwnode, &smmu)) {
		ih_smmuv3_hw_destroy(hw);
		return 1;
	}
	if (ih_netstack_create(w, &nsc, &ns))
		goto out_smmu;
	nc.stack = ns;
	nc.napi_cpu = 0;
	if (ih_bus_register(w, &ih_pci_bus_type) || ih_nic_driver_register(w, &nd, &nc))
		goto out_stack;
	if (ih_pci_dev_alloc(w, NULL, &hd, &host) || ih_device_add(&host->dev) ||
	    ih_pci_dev_alloc(w, &host->dev, &pd, &pf) || ih_device_add(&pf->dev))
		goto out_devs;
	/* echo 2 > sriov_numvfs; VF 0 receives; 4 of its pages stay in the stack. */
	if (ih_nic_sriov_configure(&pf->dev, 2) != 2 || !(vf = ih_nic_vf(&pf->dev, 0)) ||
	    !ih_nic_bound(vf) || pp_receive_keep(ns, vf, 16, 4)) {
		fprintf(stderr, "page-pool-vf-delete: set-up failed\n");
		goto out_devs;
	}
	/* echo 0 > sriov_numvfs: the VFs go away with their pages still out. */
	if (ih_nic_sriov_configure(&pf->dev, 0) != 0)
		goto out_devs;
	/* The defragmentation timeout gives the pages back; the retry worker runs after. */
	ih_clock_advance(w, IH_NIC_DEFRAG_NS + 1000000000ULL);
	ih_clock_advance(w, 1000000000ULL);
	ret = ih_nic_pools_live(&nd) != 1; /* the PF's */
	if (ret)
		fprintf(stderr, "page-pool-vf-delete: a VF's pool was never freed\n");
out_devs:
	if (pf)
		ih_device_unregister(&pf->dev);
	if (host)
		ih_device_unregister(&host->dev);
	ih_nic_driver_unregister(w, &nd);
out_stack:
	ih_netstack_destroy(ns);
	ih_clock_advance(w, 2000000000ULL);
	if (!ret && ih_nic_pools_live(&nd))
		ret = 1;
out_smmu:
	ih_smmuv3_remove(smmu);
	ih_smmuv3_hw_destroy(hw);
	ih_report_set_sink(w, NULL, NULL);
	ret |= pp_verdict(w, "page-pool-vf-delete", &first);
	return finish(w, "page-pool-vf-delete", ret);
}

int scenario_page_pool_rk_unbind(struct ih_world *w)
{
	struct ih_netstack_config nsc = { .hold_ns = IH_NIC_DEFRAG_NS, .cpu = 1 };
	struct ih_nic_config nc = { .rx_ring_size = 32 };
	struct first_report first = { 0 };
	struct ih_netstack *ns = NULL;
	struct ih_nic_driver nd;
	struct ih_device *client;
	struct rkb b = { 0 };
	int ret = 1;

	ih_report_set_sink(w, keep_first, &first);
	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	if (rkb_init(&b, w, IH_RK_IOMMU_HW_V1, 1, NULL) || rkb_register_iommu_driver(&b) ||
	    rkb_add_iommu(&b) || ih_netstack_create(w, &nsc, &ns))
		goto out;
	ih_iommu_set_default_domain_type(w, IH_DOMAIN_DMA);
	nc.stack = ns;
	if (ih_nic_driver_register(w, &nd, &nc))
		goto out;
	/* A platform device in firmware behind the RK IOMMU, bound to the NIC driver. */
	client = rkb_add_client(&b);
	if (!client || ih_device_set_driver_override(client, "ih-nic") ||
	    ih_device_attach(client) != 1 || !ih_nic_bound(client) ||
	    pp_receive_keep(ns, client, 16, 4)) {
		fprintf(stderr, "page-pool-rk-unbind: set-up failed\n");
		goto out_nic;
	}
	ih_device_unbind(client);
	ih_clock_advance(w, IH_NIC_DEFRAG_NS + 1000000000ULL);
	ih_clock_advance(w, 1000000000ULL);
	ret = ih_nic_pools_live(&nd) != 0;
	if (ret)
		fprintf(stderr, "page-pool-rk-unbind: the pool was never freed\n");
out_nic:
	ih_nic_driver_unregister(w, &nd);
out:
	rkb_fini(&b);
	ih_netstack_destroy(ns);
	ih_clock_advance(w, 2000000000ULL);
	ih_report_set_sink(w, NULL, NULL);
	ret |= pp_verdict(w, "page-pool-rk-unbind", &first);
	return finish(w, "page-pool-rk-unbind", ret);
}

/* ---- seed 002 ---- */

struct flip_rig {
	struct ih_world *w;
	char fwnode; /* its address names the SMMU in firmware */
	struct tfw_entry e[1];
	struct tfw fw;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu;
	struct tdriver drv;
	struct ih_device *dev;
	ih_pa_t mem; /* three pages: the keeper, the old buffer, the new one */
	u64 keeper, iova_old;
	int flip_ret;
};

static int flip_rig_up(struct ih_world *w, struct flip_rig *r)
{
	struct ih_smmuv3_hw_config hwcfg;
	struct ih_smmuv3_drv_config dcfg;

	memset(r, 0, sizeof(*r));
	r->w = w;
	r->e[0] = (struct tfw_entry){ "dev0", &r->fwnode, 0x10 };
	r->fw = (struct tfw){ .entries = r->e, .count = 1 };
	ih_smmuv3_hw_config_init(&hwcfg);
	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.mmio_base = 0x2b400000;
	if (ih_smmuv3_hw_create(w, dcfg.mmio_base, &hwcfg, &r->hw))
		return 1;
	dcfg.hw = r->hw;
	tfw_install(w, &r->fw);
	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	if (ih_iommu_set_default_domain_type(w, IH_DOMAIN_DMA) ||
	    ih_smmuv3_probe(w, &dcfg, NULL, &r->fwnode, &r->smmu))
		goto err_hw;
	if (!ih_bus_registered(w, &ih_platform_bus_type) &&
	    ih_bus_register(w, &ih_platform_bus_type))
		goto err_smmu;
	tdriver_init(&r->drv, "tdrv", false);
	if (ih_driver_register(w, &r->drv.drv))
		goto err_smmu;
	r->dev = tplat_add(w, "dev0");
	if (!r->dev)
		goto err_drv;
	r->mem = ih_pm_alloc(w, 3 * SZ_4K, SZ_4K, "scenario:buf");
	if (r->mem == IH_PA_INVALID || ih_device_driver(r->dev) != &r->drv.drv)
		goto err_dev;
	return 0;

err_dev:
	ih_pm_free(w, r->mem, 3 * SZ_4K);
	ih_device_unregister(r->dev);
err_drv:
	ih_driver_unregister(w, &r->drv.drv);
err_smmu:
	ih_smmuv3_remove(r->smmu);
err_hw:
	ih_smmuv3_hw_destroy(r->hw);
	return 1;
}

static void flip_rig_down(struct flip_rig *r)
{
	ih_device_unregister(r->dev);
	ih_driver_unregister(r->w, &r->drv.drv);
	ih_smmuv3_remove(r->smmu);
	ih_smmuv3_hw_destroy(r->hw);
	ih_pm_free(r->w, r->mem, 3 * SZ_4K);
}

/*
 * A strict default domain (a fresh one unless the current one is still strict: the type
 * of a bound group only goes to lazy), the keeper and the old buffer mapped, the old
 * buffer's translation in the SMMU's TLB.
 */
static int flip_round_prepare(struct flip_rig *r)
{
	ih_pa_t pa;

	if (ih_domain_type(ih_iommu_get_dma_domain(r->dev)) != IH_DOMAIN_DMA) {
		ih_device_unbind(r->dev);
		if (ih_iommu_group_store_type(r->dev->iommu_group, IH_DOMAIN_DMA) ||
		    ih_device_bind(r->dev, &r->drv.drv))
			return 1;
	}
	if (ih_dma_map_page(r->dev, r->mem, SZ_4K, IH_DMA_BIDIRECTIONAL, 0, &r->keeper) ||
	    ih_dma_map_page(r->dev, r->mem + SZ_4K, SZ_4K, IH_DMA_BIDIRECTIONAL, 0, &r->iova_old) ||
	    ih_dma_access(r->dev, r->iova_old, 8, IH_DMA_TO_DEVICE, &pa) || pa != r->mem + SZ_4K)
		return 1;
	return 0;
}

static void flip_actor_unmap(void *arg)
{
	struct flip_rig *r = arg;

	ih_dma_unmap_page(r->dev, r->iova_old, SZ_4K, IH_DMA_BIDIRECTIONAL, 0);
}

static void flip_actor_flip(void *arg)
{
	struct flip_rig *r = arg;

	r->flip_ret = ih_iommu_group_store_type(r->dev->iommu_group, IH_DOMAIN_DMA_FQ);
}

/* After the race: reuse, device DMA through the reused IOVA, clean up the round's maps. */
static int flip_round_finish(struct flip_rig *r, struct fq_flip_outcome *o)
{
	u64 iova_new;
	ih_pa_t reached = IH_PA_INVALID;

	if (ih_dma_map_page(r->dev, r->mem + 2 * SZ_4K, SZ_4K, IH_DMA_BIDIRECTIONAL, 0, &iova_new))
		return 1;
	ih_dma_access(r->dev, iova_new, 8, IH_DMA_TO_DEVICE, &reached);
	if (ih_dma_unmap_page(r->dev, iova_new, SZ_4K, IH_DMA_BIDIRECTIONAL, 0) ||
	    ih_dma_unmap_page(r->dev, r->keeper, SZ_4K, IH_DMA_BIDIRECTIONAL, 0))
		return 1;
	o->iova_old = r->iova_old;
	o->iova_new = iova_new;
	o->pa_old = r->mem + SZ_4K;
	o->pa_new = r->mem + 2 * SZ_4K;
	o->reached = reached;
	o->flip_ret = r->flip_ret;
	o->stale_at_free = ih_report_count(r->w, IH_REPORT_IOTLB_STALE_AT_FREE);
	o->stale_access = ih_report_count(r->w, IH_REPORT_IOTLB_STALE_ACCESS);
	o->reports = ih_report_total(r->w);
	return 0;
}

static void flip_print_report(struct ih_world *w, const char *what)
{
	struct ih_report rep;

	if (ih_report_last(w, &rep))
		fprintf(stderr, "%s: %s: %s (%lu report(s))\n", what, ih_report_kind_name(rep.kind),
			rep.msg, ih_report_total(w));
}

int scenario_fq_flip_script(struct ih_world *w, enum fq_flip_script which,
			    struct fq_flip_outcome *out)
{
	static const char *const scripts[] = {
		[FQ_FLIP_SCRIPT_REREAD] = "A@dma:unmap:after-fq-read B A",
		[FQ_FLIP_SCRIPT_UNORDERED] = "B@dma:flip:published A B",
	};
	struct fq_flip_outcome local;
	struct flip_rig r;
	struct ih_coop *coop;
	int ret = 0;

	if (!out)
		out = &local;
	memset(out, 0, sizeof(*out));
	if ((unsigned int)which >= ARRAY_SIZE(scripts) || flip_rig_up(w, &r))
		return 2;
	if (flip_round_prepare(&r) || ih_coop_create(w, &coop)) {
		ret = 2;
		goto out_down;
	}
	ih_coop_add(coop, flip_actor_unmap, &r, 0);
	ih_coop_add(coop, flip_actor_flip, &r, ih_world_ncpus(w) > 1 ? 1 : 0);
	if (ih_coop_run_script(coop, scripts[which], out->trace, sizeof(out->trace)))
		ret = 2;
	ih_coop_destroy(coop);
	if (!ret && flip_round_finish(&r, out))
		ret = 2;
	if (!ret && out->reports) {
		flip_print_report(w, "fq-flip-script");
		ret = 1;
	} else if (!ret && out->reached != out->pa_new) {
		fprintf(stderr, "fq-flip-script: DMA at 0x%llx reached 0x%llx, not 0x%llx\n",
			(unsigned long long)out->iova_new, (unsigned long long)out->reached,
			(unsigned long long)out->pa_new);
		ret = 1;
	}
out_down:
	flip_rig_down(&r);
	if (!ret && out->flip_ret) {
		fprintf(stderr, "fq-flip-script: the flip failed (%d)\n", out->flip_ret);
		ret = 2;
	}
	return ret == 1 ? 1 : finish(w, "fq-flip-script", ret);
}

/*
 * @rounds races on one rig, round i on schedule @s0 with seed @s0->seed + i (a choice
 * string is the same every round). Return: as scenario_fq_flip_explore().
 */
static int fq_flip_rounds(struct ih_world *w, unsigned int rounds,
			  const struct scenario_sched *s0)
{
	struct fq_flip_outcome o;
	struct flip_rig r;
	struct ih_coop *coop;
	char trace[256], name[48];
	int found = 0;

	if (flip_rig_up(w, &r))
		return -1;
	if (ih_coop_create(w, &coop)) {
		flip_rig_down(&r);
		return -1;
	}
	for (unsigned int i = 0; i < rounds && !found; i++) {
		struct scenario_sched s = *s0;

		s.seed += i;
		if (flip_round_prepare(&r)) {
			found = -1;
			break;
		}
		ih_coop_add(coop, flip_actor_unmap, &r, 0);
		ih_coop_add(coop, flip_actor_flip, &r, ih_world_ncpus(w) > 1 ? 1 : 0);
		if (sched_run(coop, &s, 16, trace, sizeof(trace)) ||
		    flip_round_finish(&r, &o) || r.flip_ret) {
			found = -1;
			break;
		}
		if (o.reports) {
			found = (int)i + 1;
			fprintf(stderr, "fq-flip-explore: %s, schedule \"%s\"\n",
				sched_name(&s, name, sizeof(name)), trace);
			flip_print_report(w, "fq-flip-explore");
		}
	}
	ih_coop_destroy(coop);
	flip_rig_down(&r);
	if (found >= 0 && !found && finish(w, "fq-flip-explore", 0))
		found = -1;
	return found;
}

int scenario_fq_flip_explore(struct ih_world *w, unsigned int seeds, u64 seed0,
			     unsigned int pct_depth)
{
	struct scenario_sched s = { .seed = seed0, .pct_depth = pct_depth };

	return fq_flip_rounds(w, seeds, &s);
}

/* ---- One explored schedule of each racy scenario ---- */

int scenario_probe_race_run(struct ih_world *w, const struct scenario_sched *s)
{
	struct tiommu t = { 0 };
	struct tfw_entry e[1];
	struct tfw fw;
	struct ih_coop *coop;
	struct tdriver d;
	struct race_actors a = { 0 };
	char trace[256];
	int ret = 0;

	if (ih_coop_create(w, &coop))
		return -1;
	e[0] = (struct tfw_entry){ "dev0", tiommu_fwnode(&t), 0x10 };
	fw = (struct tfw){ .entries = e, .count = 1 };
	tfw_install(w, &fw);
	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_BIND);
	if (tiommu_register(w, &t))
		return -1;
	a.dev = tplat_add(w, "dev0");
	a.drv = &d;
	tdriver_init(&d, "tdrv", false);
	d.drv.id_table = NULL; /* binds only when asked */
	if (!a.dev || ih_driver_register(w, &d.drv) || ih_device_set_driver_override(a.dev, "tdrv"))
		return -1;
	ih_coop_add(coop, race_bind, &a, 0);
	ih_coop_add(coop, race_probe, &a, ih_world_ncpus(w) > 1 ? 1 : 0);
	if (sched_run(coop, s, 32, trace, sizeof(trace)))
		ret = -1;
	ih_coop_destroy(coop);
	if (!ret && (a.bind_ret || ih_device_driver(a.dev) != &d.drv || !a.dev->iommu_group)) {
		fprintf(stderr, "probe-race: device ended unbound or unprobed (schedule \"%s\")\n",
			trace);
		ret = 1;
	}
	ih_device_unregister(a.dev);
	ih_driver_unregister(w, &d.drv);
	ih_iommu_device_unregister(w, &t.iommu);
	return ret < 0 ? ret : finish(w, "probe-race", ret);
}

int scenario_sibling_run(struct ih_world *w, const struct scenario_sched *s)
{
	struct pci_pair p = { 0 };
	struct ih_coop *coop;
	char trace[512], name[48];
	int ret = 0;

	if (pair_up(w, &p) || ih_coop_create(w, &coop) ||
	    ih_device_set_driver_override(&p.fn[0]->dev, "nic") ||
	    ih_device_set_driver_override(&p.fn[1]->dev, "nic"))
		return -1;
	ih_coop_add(coop, churn, &p.fn[0]->dev, 0);
	ih_coop_add(coop, churn, &p.fn[1]->dev, ih_world_ncpus(w) > 1 ? 1 : 0);
	if (sched_run(coop, s, 64, trace, sizeof(trace)))
		ret = -1;
	else if (ih_iommu_group_check(p.fn[0]->dev.iommu_group) || ih_iommu_invariant_violations(w))
		ret = 1;
	ih_coop_destroy(coop);
	if (ret > 0)
		fprintf(stderr, "sibling: group invariant broken under %s (schedule \"%s\")\n",
			sched_name(s, name, sizeof(name)), trace);
	pair_down(w, &p);
	return ret;
}

int scenario_fq_flip_run(struct ih_world *w, const struct scenario_sched *s)
{
	int n = fq_flip_rounds(w, 1, s);

	return n > 0 ? 1 : n;
}

int scenario_probe_race_schedule(struct ih_world *w, u64 seed, unsigned int pct_depth)
{
	struct scenario_sched s = { .seed = seed, .pct_depth = pct_depth };

	return scenario_probe_race_run(w, &s);
}

int scenario_sibling_schedule(struct ih_world *w, u64 seed, unsigned int pct_depth)
{
	struct scenario_sched s = { .seed = seed, .pct_depth = pct_depth };

	return scenario_sibling_run(w, &s);
}

int scenario_fq_flip_schedule(struct ih_world *w, u64 seed, unsigned int pct_depth)
{
	struct scenario_sched s = { .seed = seed, .pct_depth = pct_depth };

	return scenario_fq_flip_run(w, &s);
}
