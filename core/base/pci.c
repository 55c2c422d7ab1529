// SPDX-License-Identifier: MIT
/* The PCI bus: requester IDs, bridges with bus ranges, DMA alias walk to the host bridge. */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/diag.h>
#include "base_priv.h"

/*
 * Lock order: none taken here. PCI identities are read-only after ih_pci_dev_alloc(),
 * and the alias walk follows parent links that stay valid while the device is added
 * (each added device holds a reference on its parent).
 */

static bool pci_is_bridge_type(enum ih_pci_type t)
{
	return t != IH_PCI_ENDPOINT;
}

static int pci_match(struct ih_device *dev, struct ih_driver *drv)
{
	const struct ih_pci_info *info = dev->pci;
	const struct ih_pci_device_id *id = drv->id_table;

	/* Host bridges are the root complex, not functions: no driver binds them. */
	if (!info || info->type == IH_PCI_HOST_BRIDGE)
		return 0;
	if (dev->driver_override[0])
		return !strcmp(dev->driver_override, drv->name);
	if (!id)
		return 0;
	for (; id->vendor || id->device || id->class_mask; id++) {
		if (id->vendor != IH_PCI_ANY_ID && id->vendor != info->vendor)
			continue;
		if (id->device != IH_PCI_ANY_ID && id->device != info->device)
			continue;
		if ((id->class ^ info->class) & id->class_mask)
			continue;
		return 1;
	}
	return 0;
}

const struct ih_bus_type ih_pci_bus_type = {
	.name = "pci",
	.match = pci_match,
	.dma_configure = ih_base_bus_dma_configure,
	.dma_cleanup = ih_base_bus_dma_cleanup,
};

static void pci_dev_release(struct ih_device *dev)
{
	ih_free(dev->world, ih_to_pci_dev(dev));
}

bool ih_dev_is_pci(const struct ih_device *dev)
{
	return dev && dev->bus == &ih_pci_bus_type && dev->pci;
}

int ih_pci_dev_alloc(struct ih_world *w, struct ih_device *upstream,
		     const struct ih_pci_desc *desc, struct ih_pci_dev **out)
{
	const struct ih_pci_info *up = NULL;
	struct ih_pci_info info = { 0 };
	char name[IH_DEV_NAME_MAX];
	struct ih_pci_dev *pdev;
	int ret;

	if (IH_WARN_ON(w, !w || !desc || !out, "pci alloc: NULL argument"))
		return -EINVAL;
	*out = NULL;
	if (IH_WARN_ON(w, (unsigned int)desc->type > IH_PCI_PCI_TO_PCI, "pci alloc: type %d",
		       (int)desc->type))
		return -EINVAL;
	info.type = desc->type;
	info.vendor = desc->vendor;
	info.device = desc->device;
	info.class = desc->class & 0xffffff;

	if (desc->type == IH_PCI_HOST_BRIDGE) {
		if (IH_WARN_ON(w, desc->secondary > desc->subordinate,
			       "pci host bridge: bus range %02x..%02x reversed", desc->secondary,
			       desc->subordinate))
			return -EINVAL;
		info.segment = desc->segment;
		info.bus = desc->secondary;
		info.secondary = desc->secondary;
		info.subordinate = desc->subordinate;
		snprintf(name, sizeof(name), "pci%04x:%02x", info.segment, info.bus);
	} else {
		if (IH_WARN_ON(w, !ih_dev_is_pci(upstream) ||
					  !pci_is_bridge_type(upstream->pci->type),
			       "pci alloc: upstream is not a PCI bridge or host bridge"))
			return -EINVAL;
		up = upstream->pci;
		/* A function sits on the bus right below its upstream bridge, in its segment. */
		info.segment = up->segment;
		info.bus = up->secondary;
		info.devfn = desc->devfn;
		if (pci_is_bridge_type(desc->type)) {
			/*
			 * PCI-to-PCI Bridge Architecture spec, secondary/subordinate bus number
			 * registers: the bridge forwards [secondary, subordinate], which must lie
			 * below its own bus and inside what its upstream forwards.
			 */
			if (IH_WARN_ON(w, desc->secondary <= info.bus ||
						  desc->secondary > desc->subordinate ||
						  desc->subordinate > up->subordinate,
				       "pci bridge %02x:%02x.%x: bus range %02x..%02x outside "
				       "%02x..%02x",
				       info.bus, IH_PCI_SLOT(info.devfn), IH_PCI_FUNC(info.devfn),
				       desc->secondary, desc->subordinate, info.bus + 1,
				       up->subordinate))
				return -EINVAL;
			info.secondary = desc->secondary;
			info.subordinate = desc->subordinate;
		}
		snprintf(name, sizeof(name), "%04x:%02x:%02x.%x", info.segment, info.bus,
			 IH_PCI_SLOT(info.devfn), IH_PCI_FUNC(info.devfn));
	}

	pdev = ih_alloc(w, sizeof(*pdev), "base:pci-device");
	if (!pdev)
		return -ENOMEM;
	ret = ih_device_init(w, &pdev->dev, &ih_pci_bus_type, upstream, name, pci_dev_release);
	if (ret) {
		ih_free(w, pdev);
		return ret;
	}
	pdev->info = info;
	pdev->dev.pci = &pdev->info;
	*out = pdev;
	return 0;
}

int ih_pci_dev_id(const struct ih_device *dev)
{
	if (!ih_dev_is_pci(dev) || dev->pci->type == IH_PCI_HOST_BRIDGE)
		return -EINVAL;
	return IH_PCI_DEVID(dev->pci->bus, dev->pci->devfn);
}

struct ih_device *ih_pci_get_host_bridge(struct ih_device *dev)
{
	while (ih_dev_is_pci(dev)) {
		if (dev->pci->type == IH_PCI_HOST_BRIDGE)
			return dev;
		dev = dev->parent;
	}
	return NULL;
}

int ih_pci_for_each_dma_alias(struct ih_device *dev,
			      int (*fn)(struct ih_device *who, u16 rid, void *data), void *data)
{
	struct ih_device *up;
	int ret;

	if (!fn || ih_pci_dev_id(dev) < 0)
		return -EINVAL;
	ret = fn(dev, (u16)ih_pci_dev_id(dev), data);
	if (ret)
		return ret;
	for (up = dev->parent;; up = up->parent) {
		if (!ih_dev_is_pci(up))
			return -ENODEV;
		switch (up->pci->type) {
		case IH_PCI_HOST_BRIDGE:
			return 0;
		case IH_PCI_ROOT_PORT:
		case IH_PCI_SWITCH_UPSTREAM:
		case IH_PCI_SWITCH_DOWNSTREAM:
			/* PCIe carries the requester ID end to end: no alias. */
			continue;
		case IH_PCI_PCIE_TO_PCI:
			/* Conventional PCI has no requester ID: the bridge supplies one. */
			ret = fn(up, IH_PCI_DEVID(up->pci->secondary, 0), data);
			break;
		case IH_PCI_PCI_TO_PCI:
			/* A conventional bridge masters what it forwards under its own ID. */
			ret = fn(up, (u16)ih_pci_dev_id(up), data);
			break;
		case IH_PCI_ENDPOINT:
		default:
			return -ENODEV;
		}
		if (ret)
			return ret;
	}
}

struct alias_collect {
	u16 *rids;
	size_t max;
	int n;
};

static int alias_collect_one(struct ih_device *who, u16 rid, void *data)
{
	struct alias_collect *c = data;

	if ((size_t)c->n < c->max)
		c->rids[c->n] = rid;
	c->n++;
	return 0;
}

int ih_pci_dma_aliases(struct ih_device *dev, u16 *rids, size_t max,
		       struct ih_device **host_bridge)
{
	struct alias_collect c = { .rids = rids, .max = rids ? max : 0 };
	int ret;

	if (host_bridge)
		*host_bridge = NULL;
	ret = ih_pci_for_each_dma_alias(dev, alias_collect_one, &c);
	if (ret)
		return ret;
	if (host_bridge)
		*host_bridge = ih_pci_get_host_bridge(dev);
	return c.n;
}
