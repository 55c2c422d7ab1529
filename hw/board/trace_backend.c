// SPDX-License-Identifier: MIT
/* Trace-replay backend: devices named by a trace, behind an emulated SMMUv3 or Rockchip IOMMU. */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/check.h>
#include <ih/dma.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/world.h>

#include "rk_iommu/rk_iommu_drv.h"
#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"
#include "trace_backend.h"

#define TH_SMMU_MMIO	 0x2b400000ULL
#define TH_RK_MMIO	 0xfd000000ULL /* bank i at + i * 0x1000 */
#define TH_MAX_DEVICES	 256
#define TH_MAX_HOSTS	 64
#define TH_PLATFORM_SID0 0x10000 /* above every requester ID */
#define TH_DRIVER	 "trace-client"
#define TH_SMMU_SID_BITS 20
#define TH_DEFAULT_NCPUS 8
#define TH_PHYSMEM	 (256 * SZ_1M)

struct th_client {
	char name[IH_DEV_NAME_MAX];
	bool pci;
	u32 sid;
	const void *fwnode;
	struct ih_device *dev;
	struct ih_rk_iommu_pdev *rk; /* rk: its own IOMMU */
	bool rk_added;
	bool ok; /* bound, with its DMA domain ready */
};

struct th_host {
	u16 segment;
	u8 bus;
	struct ih_pci_dev *host;
};

struct ih_trace_hw {
	struct ih_trace_hw_config cfg;
	struct ih_world *w;
	/* smmuv3 */
	struct ih_smmuv3_hw *smmu_hw;
	struct ih_smmuv3 *smmu;
	char smmu_fwnode; /* its address is the SMMU's firmware node */
	/* rk */
	struct ih_driver *rk_drv;
	/* clients */
	struct ih_driver plat_drv, pci_drv;
	bool plat_drv_on, pci_drv_on;
	struct th_client *clients;
	unsigned int nclients;
	struct th_host hosts[TH_MAX_HOSTS];
	unsigned int nhosts;
	u32 next_platform_sid;
};

const char *ih_trace_hw_kind_name(enum ih_trace_hw_kind kind)
{
	return kind == IH_TRACE_HW_RK ? "rk" : "smmuv3";
}

struct ih_world *ih_trace_hw_world(struct ih_trace_hw *b)
{
	return b->w;
}

/* ---- Firmware: device name -> IOMMU node + ID ---- */

static int th_fw_for_each(void *opaque, struct ih_device *dev, ih_fw_iommu_ref_fn fn, void *arg)
{
	struct ih_trace_hw *b = opaque;
	bool pci = ih_dev_is_pci(dev);

	for (unsigned int i = 0; i < b->nclients; i++) {
		struct th_client *c = &b->clients[i];
		struct ih_fw_iommu_args args = {.fwnode = c->fwnode, .nargs = 1};
		int ret;

		if (c->pci != pci || strcmp(c->name, dev->name))
			continue;
		args.args[0] = c->sid;
		ret = fn(dev, &args, arg);
		return ret ? ret : 1;
	}
	return 0; /* host bridges, the IOMMUs' own devices */
}

static const struct ih_fw_provider_ops th_fw_ops = {.for_each_iommu_ref = th_fw_for_each};

/* ---- The client driver: binds, so that the DMA API is usable ---- */

static int th_client_probe(struct ih_device *dev)
{
	return 0;
}

static void th_driver_init(struct ih_driver *drv, const struct ih_bus_type *bus)
{
	memset(drv, 0, sizeof(*drv));
	drv->name = TH_DRIVER;
	drv->bus = bus;
	drv->probe = th_client_probe;
}

/* ---- Devices ---- */

/*
 * "SSSS:BB:DD.F" exactly as the PCI core names a function (lower-case hex, no sign): any
 * other spelling ("0000:01:-0.0", "0000:C2:00.0") would name a function that already
 * has its canonical name, so it is a platform device of its own.
 */
static bool parse_bdf(const char *name, u16 *seg, u8 *bus, u8 *devfn)
{
	unsigned int s, bu, d, f;
	char canon[16];
	int n = -1;

	if (strlen(name) != 12 || sscanf(name, "%4x:%2x:%2x.%1x%n", &s, &bu, &d, &f, &n) != 4 ||
	    n < 0 || name[n] || d > 0x1f || f > 7)
		return false;
	snprintf(canon, sizeof(canon), "%04x:%02x:%02x.%x", s, bu, d, f);
	if (strcmp(canon, name))
		return false;
	*seg = (u16)s;
	*bus = (u8)bu;
	*devfn = IH_PCI_DEVFN(d, f);
	return true;
}

static int th_host_get(struct ih_trace_hw *b, u16 seg, u8 bus, struct ih_device **out)
{
	struct ih_pci_desc hd = {
	    .type = IH_PCI_HOST_BRIDGE, .segment = seg, .secondary = bus, .subordinate = bus};
	struct th_host *h;
	int ret;

	for (unsigned int i = 0; i < b->nhosts; i++)
		if (b->hosts[i].segment == seg && b->hosts[i].bus == bus) {
			*out = &b->hosts[i].host->dev;
			return 0;
		}
	if (b->nhosts == TH_MAX_HOSTS)
		return -ENOSPC;
	h = &b->hosts[b->nhosts];
	ret = ih_pci_dev_alloc(b->w, NULL, &hd, &h->host);
	if (ret)
		return ret;
	ret = ih_device_add(&h->host->dev);
	if (ret) {
		ih_device_put(&h->host->dev);
		return ret;
	}
	h->segment = seg;
	h->bus = bus;
	b->nhosts++;
	*out = &h->host->dev;
	return 0;
}

static int th_rk_iommu(struct ih_trace_hw *b, struct th_client *c, unsigned int idx)
{
	struct ih_rk_iommu_hw_config cfg = {
	    .version = IH_RK_IOMMU_HW_V2,
	    .nbanks = 1,
	    .bank_base = {TH_RK_MMIO + (u64)idx * 0x1000},
	    .seed = 7,
	};
	char name[IH_DEV_NAME_MAX];
	int ret;

	/* A space: no trace can name a device like this (its names are single words). */
	snprintf(name, sizeof(name), "trace mmu%u", idx);
	ret = ih_rk_iommu_pdev_create(b->w, name, IH_RK_IOMMU_COMPAT_V2, &cfg, &c->rk);
	if (ret)
		return ret;
	c->fwnode = ih_rk_iommu_pdev_fwnode(c->rk);
	ret = ih_device_add(ih_rk_iommu_pdev_dev(c->rk));
	c->rk_added = !ret;
	return ret;
}

static int th_add_device(struct ih_trace_hw *b, struct th_client *c)
{
	struct ih_device *dev, *host;
	u16 seg;
	u8 bus, devfn;
	int ret;

	if (b->cfg.kind == IH_TRACE_HW_SMMUV3 && parse_bdf(c->name, &seg, &bus, &devfn)) {
		struct ih_pci_desc d = {
		    .type = IH_PCI_ENDPOINT, .devfn = devfn, .vendor = 0x1af4, .device = 0x1000};
		struct ih_pci_dev *p;

		c->pci = true;
		c->sid = IH_PCI_DEVID(bus, devfn);
		ret = th_host_get(b, seg, bus, &host);
		if (ret)
			return ret;
		ret = ih_pci_dev_alloc(b->w, host, &d, &p);
		if (ret)
			return ret;
		dev = &p->dev;
	} else {
		struct ih_platform_device *pdev;
		struct ih_device *other;

		/* A name already on the bus (PCI-like spellings aside, none should be) is refused.
		 */
		other = ih_bus_find_device_by_name(b->w, &ih_platform_bus_type, c->name);
		if (other) {
			ih_device_put(other);
			return -EEXIST;
		}
		if (b->cfg.kind == IH_TRACE_HW_SMMUV3)
			c->sid = b->next_platform_sid++;
		ret = ih_platform_device_alloc(b->w, c->name, NULL, NULL, &pdev);
		if (ret)
			return ret;
		dev = &pdev->dev;
	}
	ret = ih_device_set_driver_override(dev, TH_DRIVER);
	if (!ret)
		ret = ih_device_add(dev);
	if (ret) {
		ih_device_put(dev);
		return ret;
	}
	c->dev = dev;
	return 0;
}

static int th_get_device(void *opaque, const char *name, struct ih_device **out)
{
	struct ih_trace_hw *b = opaque;
	struct ih_iommu_domain *dom;
	struct th_client *c;
	int ret;

	for (unsigned int i = 0; i < b->nclients; i++)
		if (!strcmp(b->clients[i].name, name)) {
			if (!b->clients[i].ok)
				return -ENODEV;
			*out = b->clients[i].dev;
			return 0;
		}
	if (!name[0] || strlen(name) >= IH_DEV_NAME_MAX)
		return -EINVAL;
	if (b->nclients == b->cfg.max_devices)
		return -ENOSPC;
	/* The entry stays even when the device cannot be made: the name is refused once. */
	c = &b->clients[b->nclients++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (b->cfg.kind == IH_TRACE_HW_RK) {
		ret = th_rk_iommu(b, c, b->nclients - 1);
		if (ret)
			return ret;
	} else {
		c->fwnode = &b->smmu_fwnode;
	}
	ret = th_add_device(b, c);
	if (ret)
		return ret;
	if (!ih_device_driver(c->dev))
		return -ENODEV;
	dom = ih_iommu_get_dma_domain(c->dev);
	if (!dom || !ih_dma_iovad(dom))
		return -ENODEV;
	if (b->cfg.lazy && !ih_dma_domain_is_lazy(dom)) {
		ret = ih_dma_init_fq(dom);
		if (ret)
			return ret;
	}
	c->ok = true;
	*out = c->dev;
	return 0;
}

static const struct ih_trace_backend_ops th_ops = {.get_device = th_get_device};

const struct ih_trace_backend_ops *ih_trace_hw_ops(void)
{
	return &th_ops;
}

/* ---- Set-up and teardown ---- */

int ih_trace_hw_create(const struct ih_trace_hw_config *cfg, struct ih_trace_hw **out)
{
	struct ih_world_config wc;
	struct ih_trace_hw *b;
	struct ih_world *w;
	int ret;

	if (!cfg || !out || (cfg->kind != IH_TRACE_HW_SMMUV3 && cfg->kind != IH_TRACE_HW_RK))
		return -EINVAL;
	ih_world_config_init(&wc);
	wc.ncpus = cfg->ncpus ? cfg->ncpus : TH_DEFAULT_NCPUS;
	wc.physmem_size = TH_PHYSMEM;
	wc.log = "none";
	ret = ih_world_create(&wc, &w);
	if (ret)
		return ret;
	b = ih_alloc(w, sizeof(*b), "trace:hw");
	if (!b) {
		ih_world_destroy(w);
		return -ENOMEM;
	}
	b->cfg = *cfg;
	if (!b->cfg.max_devices)
		b->cfg.max_devices = TH_MAX_DEVICES;
	b->w = w;
	b->next_platform_sid = TH_PLATFORM_SID0;
	b->clients = ih_alloc_array(w, b->cfg.max_devices, sizeof(*b->clients), "trace:hw");
	if (!b->clients) {
		ret = -ENOMEM;
		goto err;
	}
	if (cfg->checkers_off)
		ih_check_set_enabled(w, 0);
	ih_iommu_set_fw_provider(w, &th_fw_ops, b);
	/* Rockchip: the driver makes DMA domains; lazy comes from ih_dma_init_fq() per device. */
	ret = ih_iommu_set_default_domain_type(
	    w, cfg->lazy && cfg->kind == IH_TRACE_HW_SMMUV3 ? IH_DOMAIN_DMA_FQ : IH_DOMAIN_DMA);
	if (!ret)
		ret = ih_bus_register(w, &ih_platform_bus_type);
	if (!ret && cfg->kind == IH_TRACE_HW_SMMUV3)
		ret = ih_bus_register(w, &ih_pci_bus_type);
	if (ret)
		goto err;
	if (cfg->kind == IH_TRACE_HW_SMMUV3) {
		struct ih_smmuv3_hw_config hc;
		struct ih_smmuv3_drv_config dc;

		ih_smmuv3_hw_config_init(&hc);
		hc.sid_bits = TH_SMMU_SID_BITS;
		ret = ih_smmuv3_hw_create(w, TH_SMMU_MMIO, &hc, &b->smmu_hw);
		if (ret)
			goto err;
		ih_smmuv3_drv_config_init(&dc);
		dc.hw = b->smmu_hw;
		dc.mmio_base = TH_SMMU_MMIO;
		ret = ih_smmuv3_probe(w, &dc, NULL, &b->smmu_fwnode, &b->smmu);
		if (ret)
			goto err;
	} else {
		ret = ih_rk_iommu_driver_register(w, &b->rk_drv);
		if (ret)
			goto err;
	}
	th_driver_init(&b->plat_drv, &ih_platform_bus_type);
	ret = ih_driver_register(w, &b->plat_drv);
	if (ret)
		goto err;
	b->plat_drv_on = true;
	if (cfg->kind == IH_TRACE_HW_SMMUV3) {
		th_driver_init(&b->pci_drv, &ih_pci_bus_type);
		ret = ih_driver_register(w, &b->pci_drv);
		if (ret)
			goto err;
		b->pci_drv_on = true;
	}
	*out = b;
	return 0;

err:
	ih_trace_hw_destroy(b);
	return ret;
}

size_t ih_trace_hw_destroy(struct ih_trace_hw *b)
{
	struct ih_world *w;

	if (!b)
		return 0;
	w = b->w;
	for (unsigned int i = b->nclients; i-- > 0;) {
		struct th_client *c = &b->clients[i];

		if (c->dev)
			ih_device_unregister(c->dev);
	}
	for (unsigned int i = b->nhosts; i-- > 0;)
		ih_device_unregister(&b->hosts[i].host->dev);
	if (b->pci_drv_on)
		ih_driver_unregister(w, &b->pci_drv);
	if (b->plat_drv_on)
		ih_driver_unregister(w, &b->plat_drv);
	for (unsigned int i = b->nclients; i-- > 0;) {
		struct th_client *c = &b->clients[i];

		if (c->rk && c->rk_added)
			ih_device_unregister(ih_rk_iommu_pdev_dev(c->rk));
		else if (c->rk)
			ih_device_put(ih_rk_iommu_pdev_dev(c->rk));
	}
	if (b->rk_drv)
		ih_rk_iommu_driver_unregister(w, b->rk_drv);
	if (b->smmu)
		ih_smmuv3_remove(b->smmu);
	if (b->smmu_hw)
		ih_smmuv3_hw_destroy(b->smmu_hw);
	ih_iommu_set_fw_provider(w, NULL, NULL);
	ih_free(w, b->clients);
	ih_free(w, b);
	return ih_world_destroy(w);
}
