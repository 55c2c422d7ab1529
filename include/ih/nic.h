/* SPDX-License-Identifier: MIT */
/* A NIC-like driver on page_pool (PCI with SR-IOV, and platform) and a network-stack holder. */
#ifndef IH_NIC_H
#define IH_NIC_H

#include <ih/base.h>
#include <ih/compat.h>
#include <ih/page_pool.h>

/*
 * Why this lives in core/: nothing here is hardware-specific. The driver only uses the
 * device model, the DMA API and ih_dma_access(), so it runs unchanged on a PCI function
 * behind SMMUv3, a platform device behind the Rockchip IOMMU, the test IOMMU or no IOMMU.
 *
 * The driver (one struct ih_nic_driver registers a PCI and a platform driver, both named
 * "ih-nic"): probe creates a DMA-mapped page_pool for the device and fills an RX ring of
 * descriptors from it; ih_nic_receive() is one NAPI poll: the "hardware" DMA-writes a
 * packet into each posted page through the IOMMU (ih_dma_access), the driver hands the
 * page to the network stack and refills the descriptor from the pool; remove stops NAPI,
 * puts the RX ring back and destroys the pool, with pages possibly still in the stack.
 * A PF supports SR-IOV: ih_nic_sriov_configure() (the sysfs sriov_numvfs file) creates VF
 * functions on the PF's bus, which the same driver binds, and deletes them again at 0,
 * whether or not their pages are still out (the path of the seed-004 crash).
 *
 * The network stack (struct ih_netstack) holds each page it is given for a delay on the
 * world clock (IP defragmentation keeps fragments up to 30 s) or until released, then
 * gives it back to its pool from its own model CPU: recycled into the pool's ring, or
 * freed (returned to the page allocator through the pool).
 *
 * Synchronisation:
 *   ih_nic_receive           any thread; takes the device lock (serialised with probe,
 *                            remove and SR-IOV changes, as NAPI is with napi_disable)
 *   ih_nic_sriov_configure   any thread; takes the PF's device lock
 *   ih_netstack_*            any thread; the holder's lock is a leaf except that the
 *                            timer is armed under it (netstack lock -> clock lock)
 */

/* Model PCI identity (not a real vendor's). */
#define IH_NIC_PCI_VENDOR    0x1de5
#define IH_NIC_PCI_DEVICE_PF 0x1000
#define IH_NIC_PCI_DEVICE_VF 0x1001
#define IH_NIC_COMPATIBLE    "ih,nic"
#define IH_NIC_MAX_VFS	     7
#define IH_NIC_PKT_LEN	     64
#define IH_NIC_DEFRAG_NS     30000000000ULL /* the longest an IPv4 fragment waits */

struct ih_netstack;

/**
 * struct ih_netstack_config - how the stack holds pages.
 * @hold_ns: default hold time per page (0: until ih_netstack_release()).
 * @cpu: the model CPU pages are given back from.
 * @free_pages: give pages back by freeing them (ih_page_pool_return_page) rather than
 *	recycling them into their pool's ring.
 */
struct ih_netstack_config {
	u64 hold_ns;
	unsigned int cpu;
	bool free_pages;
};

/**
 * ih_netstack_create() - an empty stack. Return: 0; -EINVAL (NULL, CPU out of range);
 * -ENOMEM (site "netstack:stack").
 */
int ih_netstack_create(struct ih_world *w, const struct ih_netstack_config *cfg,
		       struct ih_netstack **out);

/*
 * ih_netstack_destroy() - give every held page back now, then free the stack. NULL ignored.
 * Context: no other call on the stack may run.
 */
void ih_netstack_destroy(struct ih_netstack *ns);

/**
 * ih_netstack_hold() - keep @page for @delay_ns (0: the stack's default; with a default of
 * 0 too, until released). Return: 0; -ENOMEM (site "netstack:skb": the caller keeps the
 * page).
 */
int ih_netstack_hold(struct ih_netstack *ns, struct ih_pp_page *page, u64 delay_ns);

/* ih_netstack_release() - give back up to @max held pages now, oldest first. Return: how many. */
unsigned int ih_netstack_release(struct ih_netstack *ns, unsigned int max);

/* ih_netstack_free() - as ih_netstack_release(), but the pages are freed, not recycled. */
unsigned int ih_netstack_free(struct ih_netstack *ns, unsigned int max);

/* ih_netstack_held() - pages held now. */
unsigned int ih_netstack_held(struct ih_netstack *ns);

/**
 * struct ih_nic_config - the driver's parameters (copied at registration).
 * @rx_ring_size: RX descriptors per device (0: 64).
 * @pool_size: page_pool ring entries (0: 256).
 * @napi_cpu: model CPU of the NAPI context (the pool's consumer).
 * @stack: where received pages go; NULL: consumed at once (recycled into the cache).
 * @hold_ns: hold time asked for each received page (0: the stack's default).
 * @pp_retry_ns: the pool's release retry period (0: the pool's default, 1 s).
 * @max_vfs: VFs a PF may create (0..IH_NIC_MAX_VFS).
 */
struct ih_nic_config {
	unsigned int rx_ring_size;
	unsigned int pool_size;
	unsigned int napi_cpu;
	struct ih_netstack *stack;
	u64 hold_ns;
	u64 pp_retry_ns;
	unsigned int max_vfs;
};

/**
 * struct ih_nic_driver - the driver pair; caller-owned memory that must stay valid until
 * it is unregistered and ih_nic_pools_live() is 0 (destroyed pools call back into it).
 * @pci, @plat: the drivers (private); @on_pci, @on_platform: which are registered.
 * @cfg: the parameters.
 * @pools_live: pools created and not yet freed (atomic; see ih_nic_pools_live()).
 * @probes, @removes: successful probes and removes (atomic).
 */
struct ih_nic_driver {
	struct ih_driver pci;
	struct ih_driver plat;
	bool on_pci, on_platform;
	struct ih_nic_config cfg;
	struct ih_world *w;
	unsigned long pools_live;
	unsigned long probes, removes;
};

/**
 * ih_nic_driver_register() - register the PCI driver (PF and VF IDs) and the platform
 * driver (IH_NIC_COMPATIBLE), each on its bus if that bus is registered in @w; each binds
 * matching devices at once.
 * Return: 0; -EINVAL (NULL, bad config); -ENODEV (neither bus registered); errors of
 * ih_driver_register().
 */
int ih_nic_driver_register(struct ih_world *w, struct ih_nic_driver *nd,
			   const struct ih_nic_config *cfg);

/* ih_nic_driver_unregister() - unbind every device and unregister the drivers (idempotent). */
void ih_nic_driver_unregister(struct ih_world *w, struct ih_nic_driver *nd);

/* ih_nic_pools_live() - pools of @nd not yet freed (destroyed ones wait for their pages). */
unsigned long ih_nic_pools_live(struct ih_nic_driver *nd);

/* ih_nic_bound() - whether @dev is bound to an ih-nic driver now. */
bool ih_nic_bound(struct ih_device *dev);

/**
 * ih_nic_receive() - one NAPI poll of up to @budget packets: for each posted RX page the
 * device DMA-writes IH_NIC_PKT_LEN bytes through the IOMMU, the page goes to the stack
 * and the descriptor is refilled from the pool.
 * Context: any thread; takes the device lock.
 * Return: packets received (a DMA fault or an empty descriptor ends the poll early);
 * -ENODEV when @dev is not bound to the NIC driver.
 */
int ih_nic_receive(struct ih_device *dev, unsigned int budget);

/**
 * ih_nic_sriov_configure() - write @numvfs to the PF's sriov_numvfs: create that many VFs
 * (each added, and bound when the driver matches), or delete them all with 0.
 * Allocation sites: the PCI bus's ("base:pci-device") and the VF's own probe.
 * Return: the number of VFs now; -ENODEV (not a PCI function other than a VF bound to the
 * NIC driver); -ERANGE
 * (more than max_vfs); -EBUSY (VFs exist and @numvfs is another non-zero count); errors
 * of VF creation (the VFs made so far are deleted again).
 */
int ih_nic_sriov_configure(struct ih_device *pf, unsigned int numvfs);

/* ih_nic_vf() - the PF's VF @i, or NULL (no reference: valid until the VFs are deleted). */
struct ih_device *ih_nic_vf(struct ih_device *pf, unsigned int i);

/* ih_nic_page_pool() - the bound device's pool, or NULL. */
struct ih_page_pool *ih_nic_page_pool(struct ih_device *dev);

/**
 * struct ih_nic_stats - one bound device's counters.
 * @rx_packets: packets received.
 * @rx_dma_faults: polls ended by a DMA the IOMMU refused (or translated elsewhere).
 * @rx_refill_failures: descriptors left empty because the pool had no page.
 * @rx_consumed: packets the stack did not keep (recycled directly).
 * @numvfs: VFs of a PF now.
 */
struct ih_nic_stats {
	unsigned long rx_packets;
	unsigned long rx_dma_faults;
	unsigned long rx_refill_failures;
	unsigned long rx_consumed;
	unsigned int numvfs;
};

/* Return: 0, or -ENODEV when @dev is not bound to the NIC driver. Takes the device lock. */
int ih_nic_get_stats(struct ih_device *dev, struct ih_nic_stats *st);

#endif /* IH_NIC_H */
