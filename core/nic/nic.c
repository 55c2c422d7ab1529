// SPDX-License-Identifier: MIT
/* A NIC-like driver: page_pool per device, an RX ring, NAPI-style receive, SR-IOV VFs. */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/nic.h>
#include <ih/world.h>

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "nic: "

/*
 * Lock order: PF device lock -> VF device lock (SR-IOV changes bind and unbind VFs under
 * the PF's lock, as the sysfs sriov_numvfs store does). Receive takes the device lock, so
 * a poll never overlaps probe or remove: that is this model's napi_disable.
 */

struct nic_priv {
	struct ih_nic_driver *nd;
	struct ih_device *dev;
	struct ih_page_pool *pool;
	unsigned int rx_size, rx_next;
	struct ih_pp_page **rx; /* pages posted to the device, NULL: empty descriptor */
	struct ih_pci_dev *vfs[IH_NIC_MAX_VFS];
	unsigned int numvfs;
	struct ih_nic_stats stats;
};

static const struct ih_pci_device_id nic_pci_ids[] = {
    {.vendor = IH_NIC_PCI_VENDOR, .device = IH_NIC_PCI_DEVICE_PF},
    {.vendor = IH_NIC_PCI_VENDOR, .device = IH_NIC_PCI_DEVICE_VF},
    {0},
};

static const char *const nic_compatible[] = {IH_NIC_COMPATIBLE, NULL};

static int nic_probe(struct ih_device *dev);

static bool is_nic(struct ih_device *dev)
{
	struct ih_driver *drv = ih_device_driver(dev);

	return drv && drv->probe == nic_probe;
}

static struct ih_nic_driver *nic_driver_of(struct ih_device *dev)
{
	if (dev->bus == &ih_pci_bus_type)
		return container_of(dev->driver, struct ih_nic_driver, pci);
	return container_of(dev->driver, struct ih_nic_driver, plat);
}

static void nic_pool_gone(void *arg, struct ih_page_pool *pool)
{
	struct ih_nic_driver *nd = arg;

	__atomic_fetch_sub(&nd->pools_live, 1, __ATOMIC_RELEASE);
}

/* Put the RX ring's pages back (NAPI stopped: we are the consumer) and destroy the pool. */
static void nic_free_rx(struct nic_priv *priv)
{
	for (unsigned int i = 0; i < priv->rx_size; i++) {
		if (priv->rx[i])
			ih_page_pool_put_page(priv->pool, priv->rx[i], true);
		priv->rx[i] = NULL;
	}
	ih_page_pool_destroy(priv->pool);
	priv->pool = NULL;
}

static int nic_probe(struct ih_device *dev)
{
	struct ih_nic_driver *nd = nic_driver_of(dev);
	struct ih_world *w = dev->world;
	struct ih_page_pool_params pp = {
	    .flags = IH_PP_FLAG_DMA_MAP,
	    .pool_size = nd->cfg.pool_size,
	    .cpu = nd->cfg.napi_cpu,
	    .dev = dev,
	    .dma_dir = IH_DMA_FROM_DEVICE,
	    .retry_ns = nd->cfg.pp_retry_ns,
	    .disconnect = nic_pool_gone,
	    .disconnect_arg = nd,
	};
	struct nic_priv *priv;
	char name[IH_DEV_NAME_MAX + 8];
	int ret;

	priv = ih_alloc(w, sizeof(*priv), "nic:priv");
	if (!priv)
		return -ENOMEM;
	priv->nd = nd;
	priv->dev = dev;
	priv->rx_size = nd->cfg.rx_ring_size;
	priv->rx = ih_alloc_array(w, priv->rx_size, sizeof(*priv->rx), "nic:rx-ring");
	if (!priv->rx) {
		ret = -ENOMEM;
		goto err_free_priv;
	}
	snprintf(name, sizeof(name), "nic %s", dev->name);
	pp.name = name;
	ret = ih_page_pool_create(w, &pp, &priv->pool);
	if (ret)
		goto err_free_rx;
	__atomic_fetch_add(&nd->pools_live, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < priv->rx_size; i++) {
		ret = ih_page_pool_alloc_page(priv->pool, &priv->rx[i]);
		if (ret)
			goto err_free_pool;
	}
	ih_dev_set_drvdata(dev, priv);
	__atomic_fetch_add(&nd->probes, 1, __ATOMIC_RELAXED);
	ih_log(w, IH_LOG_INFO, "%s: up, %u RX descriptors", dev->name, priv->rx_size);
	return 0;

err_free_pool:
	nic_free_rx(priv);
err_free_rx:
	ih_free(w, priv->rx);
err_free_priv:
	ih_free(w, priv);
	return ret;
}

static void sriov_disable_locked(struct nic_priv *priv)
{
	while (priv->numvfs) {
		struct ih_pci_dev *vf = priv->vfs[--priv->numvfs];

		priv->vfs[priv->numvfs] = NULL;
		ih_device_unregister(&vf->dev);
	}
}

static void nic_remove(struct ih_device *dev)
{
	struct nic_priv *priv = ih_dev_get_drvdata(dev);
	struct ih_world *w = dev->world;

	/* The kernel's PF remove disables SR-IOV first: the VFs' drivers go before the PF's. */
	sriov_disable_locked(priv);
	nic_free_rx(priv);
	ih_dev_set_drvdata(dev, NULL);
	__atomic_fetch_add(&priv->nd->removes, 1, __ATOMIC_RELAXED);
	ih_free(w, priv->rx);
	ih_free(w, priv);
}

int ih_nic_driver_register(struct ih_world *w, struct ih_nic_driver *nd,
			   const struct ih_nic_config *cfg)
{
	int ret;

	if (!w || !nd || !cfg || cfg->max_vfs > IH_NIC_MAX_VFS ||
	    cfg->napi_cpu >= ih_world_ncpus(w))
		return -EINVAL;
	memset(nd, 0, sizeof(*nd));
	nd->w = w;
	nd->cfg = *cfg;
	if (!nd->cfg.rx_ring_size)
		nd->cfg.rx_ring_size = 64;
	if (!nd->cfg.pool_size)
		nd->cfg.pool_size = 256;
	nd->pci = (struct ih_driver){.name = "ih-nic",
				     .bus = &ih_pci_bus_type,
				     .probe = nic_probe,
				     .remove = nic_remove,
				     .id_table = nic_pci_ids};
	nd->plat = (struct ih_driver){.name = "ih-nic",
				      .bus = &ih_platform_bus_type,
				      .probe = nic_probe,
				      .remove = nic_remove,
				      .id_table = nic_compatible};
	/* Each driver goes on its bus when that bus exists in the world. */
	if (ih_bus_registered(w, &ih_pci_bus_type)) {
		ret = ih_driver_register(w, &nd->pci);
		if (ret)
			return ret;
		nd->on_pci = true;
	}
	if (ih_bus_registered(w, &ih_platform_bus_type)) {
		ret = ih_driver_register(w, &nd->plat);
		if (ret) {
			ih_nic_driver_unregister(w, nd);
			return ret;
		}
		nd->on_platform = true;
	}
	return nd->on_pci || nd->on_platform ? 0 : -ENODEV;
}

void ih_nic_driver_unregister(struct ih_world *w, struct ih_nic_driver *nd)
{
	if (nd->on_platform)
		ih_driver_unregister(w, &nd->plat);
	if (nd->on_pci)
		ih_driver_unregister(w, &nd->pci);
	nd->on_platform = nd->on_pci = false;
}

unsigned long ih_nic_pools_live(struct ih_nic_driver *nd)
{
	return __atomic_load_n(&nd->pools_live, __ATOMIC_ACQUIRE);
}

bool ih_nic_bound(struct ih_device *dev)
{
	return dev && is_nic(dev);
}

/* The descriptor's page: the device writes a packet into it through the IOMMU. */
static int nic_rx_one(struct nic_priv *priv, struct ih_pp_page *page)
{
	struct ih_world *w = priv->dev->world;
	u8 pkt[IH_NIC_PKT_LEN];
	ih_pa_t pa;
	int ret;

	ret = ih_dma_access(priv->dev, page->dma_addr, sizeof(pkt), IH_DMA_FROM_DEVICE, &pa);
	if (ret || pa != page->pa) {
		ih_log(w, IH_LOG_GUEST_ERROR, "%s: RX DMA at 0x%llx: %d, reached 0x%llx not 0x%llx",
		       priv->dev->name, (unsigned long long)page->dma_addr, ret,
		       (unsigned long long)pa, (unsigned long long)page->pa);
		return ret ? ret : -EFAULT;
	}
	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, &priv->stats.rx_packets, sizeof(priv->stats.rx_packets));
	/* Pages outside simulated memory (a benchmark's provider) carry no data. */
	ih_pm_write(w, pa, pkt, sizeof(pkt));
	return 0;
}

int ih_nic_receive(struct ih_device *dev, unsigned int budget)
{
	struct nic_priv *priv;
	struct ih_nic_driver *nd;
	int done = 0;

	if (!dev)
		return -ENODEV;
	ih_device_lock(dev);
	if (!is_nic(dev) || !(priv = ih_dev_get_drvdata(dev))) {
		ih_device_unlock(dev);
		return -ENODEV;
	}
	nd = priv->nd;
	while ((unsigned int)done < budget) {
		unsigned int slot = priv->rx_next;
		struct ih_pp_page *page = priv->rx[slot];

		if (!page) {
			/* An earlier refill failed: try again before the device uses the slot. */
			if (ih_page_pool_alloc_page(priv->pool, &priv->rx[slot])) {
				priv->stats.rx_refill_failures++;
				break;
			}
			page = priv->rx[slot];
		}
		if (nic_rx_one(priv, page)) {
			priv->stats.rx_dma_faults++;
			break;
		}
		priv->rx[slot] = NULL;
		priv->rx_next = (slot + 1) % priv->rx_size;
		priv->stats.rx_packets++;
		done++;
		if (!nd->cfg.stack || ih_netstack_hold(nd->cfg.stack, page, nd->cfg.hold_ns)) {
			/* Consumed in NAPI context: straight back into the alloc cache. */
			ih_page_pool_put_page(priv->pool, page, true);
			priv->stats.rx_consumed++;
		}
		if (ih_page_pool_alloc_page(priv->pool, &priv->rx[slot])) {
			priv->rx[slot] = NULL;
			priv->stats.rx_refill_failures++;
		}
	}
	ih_device_unlock(dev);
	return done;
}

/* ---- SR-IOV ---- */

static int sriov_enable_locked(struct nic_priv *priv, unsigned int numvfs)
{
	struct ih_device *pf = priv->dev;
	struct ih_pci_desc d = {
	    .type = IH_PCI_ENDPOINT,
	    .vendor = IH_NIC_PCI_VENDOR,
	    .device = IH_NIC_PCI_DEVICE_VF,
	    .class = 0x020000, /* network controller, Ethernet */
	};
	int ret;

	if (IH_PCI_FUNC(pf->pci->devfn) + numvfs > 7)
		return -ERANGE;
	for (unsigned int i = 0; i < numvfs; i++) {
		struct ih_pci_dev *vf;

		/* VF i is function PF + 1 + i on the PF's bus (no ARI in this model). */
		d.devfn = (u8)(pf->pci->devfn + 1 + i);
		ret = ih_pci_dev_alloc(pf->world, pf->parent, &d, &vf);
		if (ret)
			goto err_disable;
		ret = ih_device_add(&vf->dev);
		if (ret) {
			ih_device_put(&vf->dev);
			goto err_disable;
		}
		priv->vfs[priv->numvfs++] = vf;
	}
	return 0;

err_disable:
	sriov_disable_locked(priv);
	return ret;
}

int ih_nic_sriov_configure(struct ih_device *pf, unsigned int numvfs)
{
	struct nic_priv *priv;
	int ret;

	if (!pf || !ih_dev_is_pci(pf))
		return -ENODEV;
	ih_device_lock(pf);
	priv = is_nic(pf) ? ih_dev_get_drvdata(pf) : NULL;
	if (!priv ||
	    (pf->pci->vendor == IH_NIC_PCI_VENDOR && pf->pci->device == IH_NIC_PCI_DEVICE_VF)) {
		ret = -ENODEV;
	} else if (numvfs > priv->nd->cfg.max_vfs) {
		ret = -ERANGE;
	} else if (numvfs == priv->numvfs) {
		ret = (int)numvfs;
	} else if (numvfs && priv->numvfs) {
		ret = -EBUSY;
	} else if (!numvfs) {
		sriov_disable_locked(priv);
		ret = 0;
	} else {
		ret = sriov_enable_locked(priv, numvfs);
		if (!ret)
			ret = (int)numvfs;
	}
	ih_device_unlock(pf);
	return ret;
}

struct ih_device *ih_nic_vf(struct ih_device *pf, unsigned int i)
{
	struct ih_device *vf = NULL;
	struct nic_priv *priv;

	if (!pf)
		return NULL;
	ih_device_lock(pf);
	priv = is_nic(pf) ? ih_dev_get_drvdata(pf) : NULL;
	if (priv && i < priv->numvfs)
		vf = &priv->vfs[i]->dev;
	ih_device_unlock(pf);
	return vf;
}

struct ih_page_pool *ih_nic_page_pool(struct ih_device *dev)
{
	struct ih_page_pool *pool = NULL;
	struct nic_priv *priv;

	if (!dev)
		return NULL;
	ih_device_lock(dev);
	priv = is_nic(dev) ? ih_dev_get_drvdata(dev) : NULL;
	if (priv)
		pool = priv->pool;
	ih_device_unlock(dev);
	return pool;
}

int ih_nic_get_stats(struct ih_device *dev, struct ih_nic_stats *st)
{
	struct nic_priv *priv;

	if (!dev)
		return -ENODEV;
	ih_device_lock(dev);
	priv = is_nic(dev) ? ih_dev_get_drvdata(dev) : NULL;
	if (priv) {
		*st = priv->stats;
		st->numvfs = priv->numvfs;
	}
	ih_device_unlock(dev);
	return priv ? 0 : -ENODEV;
}
