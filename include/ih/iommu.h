/* SPDX-License-Identifier: MIT */
/* The IOMMU core: instances, fwspec, both probe flows, groups, domains and DMA ownership. */
#ifndef IH_IOMMU_H
#define IH_IOMMU_H

#include <pthread.h>

#include <ih/compat.h>
#include <ih/io_pgtable.h>
#include <ih/physmem.h>

struct ih_world;
struct ih_device;
struct ih_iommu_device;
struct ih_iommu_group;
struct ih_iommu_domain;

/*
 * Lock order (outermost first):
 *   iommu probe lock (world) -> group mutex -> dev_iommu lock
 * The registry lock and the group-id lock are leaves.
 */

/* ------------------------------------------------------------------------------------------
 * Firmware references: what "iommus = <&smmu 0x10>" or an IORT mapping says about a device.
 */

#define IH_FW_MAX_ARGS 8

/**
 * struct ih_fw_iommu_args - one IOMMU reference of a device, as firmware states it.
 * @fwnode: the IOMMU's firmware node (compared by pointer only).
 * @nargs: cells after the phandle (#iommu-cells), or 1 for an IORT StreamID.
 * @args: the cells.
 */
struct ih_fw_iommu_args {
	const void *fwnode;
	unsigned int nargs;
	u32 args[IH_FW_MAX_ARGS];
};

typedef int (*ih_fw_iommu_ref_fn)(struct ih_device *dev, const struct ih_fw_iommu_args *args,
				  void *cb_arg);

/**
 * struct ih_fw_provider_ops - how the core asks firmware about a device's IOMMUs.
 * @for_each_iommu_ref: call @fn once per IOMMU reference of @dev, in firmware order; stop
 *	and return @fn's error if it fails. Return the number of references (0: the device is
 *	not behind an IOMMU) or a negative errno for broken firmware.
 *
 * The DT and IORT layers install one; tests install their own.
 */
struct ih_fw_provider_ops {
	int (*for_each_iommu_ref)(void *opaque, struct ih_device *dev, ih_fw_iommu_ref_fn fn,
				  void *cb_arg);
};

void ih_iommu_set_fw_provider(struct ih_world *w, const struct ih_fw_provider_ops *ops,
			      void *opaque);

/* ------------------------------------------------------------------------------------------
 * fwspec and per-device IOMMU state.
 */

/**
 * struct ih_iommu_fwspec - firmware-derived IDs of a device for one IOMMU.
 * @iommu_fwnode: the IOMMU instance's firmware node.
 * @num_ids: entries in @ids.
 * @ids: StreamIDs / master IDs. The array is reallocated as IDs are added, so a pointer to
 *	the fwspec is only stable under the probe lock (the seed-000 hazard).
 */
struct ih_iommu_fwspec {
	const void *iommu_fwnode;
	unsigned int num_ids;
	u32 ids[];
};

/**
 * struct ih_dev_iommu - the IOMMU core's state for one device (dev->iommu).
 * @lock: protects @priv against concurrent driver callbacks.
 * @fwspec: built by firmware parsing, installed before probe_device.
 * @iommu_dev: the instance that probed the device; NULL until probe succeeds.
 * @priv: the IOMMU driver's per-device data.
 * @attach_deferred: unused by the core; reserved for drivers.
 */
struct ih_dev_iommu {
	pthread_mutex_t lock;
	struct ih_iommu_fwspec *fwspec;
	struct ih_iommu_device *iommu_dev;
	void *priv;
};

/**
 * ih_iommu_fwspec_init() - start a fwspec of @dev for the IOMMU at @iommu_fwnode.
 *
 * Context: firmware parsing (of_iommu_configure). In the fixed code the probe lock is held.
 * Return: 0; -EPROBE_DEFER when no instance has registered @iommu_fwnode yet or it is not
 * ready; -EINVAL when @dev already has a fwspec for another IOMMU; -ENOMEM.
 */
int ih_iommu_fwspec_init(struct ih_device *dev, const void *iommu_fwnode);

/**
 * ih_iommu_fwspec_add_ids() - append @num IDs (called from a driver's of_xlate).
 * Return: 0, -EINVAL without a fwspec, -ENOMEM (the fwspec is then unchanged).
 */
int ih_iommu_fwspec_add_ids(struct ih_device *dev, const u32 *ids, unsigned int num);

/* The device's fwspec, or NULL. Stable only under the probe lock or while bound. */
struct ih_iommu_fwspec *ih_dev_iommu_fwspec_get(struct ih_device *dev);

/* The driver's per-device data. */
void *ih_dev_iommu_priv_get(struct ih_device *dev);
void ih_dev_iommu_priv_set(struct ih_device *dev, void *priv);

/* ------------------------------------------------------------------------------------------
 * Domains.
 */

enum ih_domain_type {
	IH_DOMAIN_BLOCKED,
	IH_DOMAIN_IDENTITY,
	IH_DOMAIN_UNMANAGED, /* paging, owned by a driver-managed user (VFIO-like) */
	IH_DOMAIN_DMA,       /* paging, DMA API, strict invalidation */
	IH_DOMAIN_DMA_FQ,    /* paging, DMA API, lazy invalidation through the flush queue */
};

const char *ih_domain_type_name(enum ih_domain_type type);
/* "blocked", "identity", "unmanaged", "DMA", "DMA-FQ" (the sysfs names); -EINVAL otherwise. */
int ih_domain_type_parse(const char *name, enum ih_domain_type *type);

/* Mapping permissions are the io-pgtable IH_PROT_* bits. */

/**
 * struct ih_iommu_domain_ops - a driver's operations on one domain.
 * @attach_dev: make @dev translate through @domain (program STE/DTE, invalidate caches).
 * @map_pages: map @pgcount pages of @pgsize at @iova to @paddr; *@mapped gets the bytes
 *	mapped even on error.
 * @unmap_pages: unmap; return bytes unmapped. Leaf invalidations are added to @gather.
 * @flush_iotlb_all: invalidate everything the domain may have cached (may be NULL).
 * @iotlb_sync: complete the invalidations gathered in @gather (may be NULL).
 * @iova_to_phys: walk the domain's tables; IH_PA_INVALID when unmapped.
 * @set_pgtable_quirks: set the IH_IO_PGTABLE_QUIRK_* bits of the domain's live io-pgtable
 *	(may be NULL). Only the fq-flip-unordered replay calls it: the pre-5.15 flip made a
 *	live table NON_STRICT this way; the fixed flip passes gather->queued instead. Return
 *	0 or -EINVAL (unknown bits, no table).
 * @free: release the domain.
 */
struct ih_iommu_domain_ops {
	int (*attach_dev)(struct ih_iommu_domain *domain, struct ih_device *dev);
	int (*map_pages)(struct ih_iommu_domain *domain, u64 iova, ih_pa_t paddr, size_t pgsize,
			 size_t pgcount, int prot, size_t *mapped);
	size_t (*unmap_pages)(struct ih_iommu_domain *domain, u64 iova, size_t pgsize,
			      size_t pgcount, struct ih_iommu_iotlb_gather *gather);
	void (*flush_iotlb_all)(struct ih_iommu_domain *domain);
	void (*iotlb_sync)(struct ih_iommu_domain *domain, struct ih_iommu_iotlb_gather *gather);
	ih_pa_t (*iova_to_phys)(struct ih_iommu_domain *domain, u64 iova);
	int (*set_pgtable_quirks)(struct ih_iommu_domain *domain, unsigned long quirks);
	void (*free)(struct ih_iommu_domain *domain);
};

/**
 * struct ih_iommu_domain - a translation context; embedded in the driver's own domain.
 * @type: what the domain is for. It changes on a live domain only from DMA to DMA-FQ
 *	(the strict-to-lazy flip, under the group mutex): read it with ih_domain_type()
 *	wherever the domain may be in use.
 * @ops: the driver's operations.
 * @pgsize_bitmap: page sizes the domain can map.
 * @aperture_start, @aperture_end: IOVA range the domain translates (inclusive).
 * @owner: the iommu_ops that allocated it.
 * @w: the world.
 * @dma_cookie: the DMA layer's state for DMA/DMA-FQ domains.
 */
struct ih_iommu_domain {
	enum ih_domain_type type;
	const struct ih_iommu_domain_ops *ops;
	unsigned long pgsize_bitmap;
	u64 aperture_start;
	u64 aperture_end;
	const struct ih_iommu_ops *owner;
	struct ih_world *w;
	void *dma_cookie;
};

/* The type of a domain that may be in use (a relaxed read: the flip may change it). */
static inline enum ih_domain_type ih_domain_type(const struct ih_iommu_domain *domain)
{
	return READ_ONCE(domain->type);
}

/* ------------------------------------------------------------------------------------------
 * IOMMU instances and their driver ops.
 */

/**
 * struct ih_iommu_ops - what an IOMMU driver provides to the core.
 * @of_xlate: turn one firmware reference into IDs (ih_iommu_fwspec_add_ids) and driver
 *	per-device data. Called from firmware parsing.
 * @probe_device: claim @dev; set *@iommu to the instance. -ENODEV: not ours.
 * @release_device: undo probe_device.
 * @device_group: find or make @dev's group (ih_generic_device_group,
 *	ih_pci_device_group or the driver's own); return a reference in *@group.
 * @domain_alloc: allocate a domain of @type for @dev (paging types, and identity/blocked
 *	when the driver has no static ones). -EOPNOTSUPP when the type is not supported.
 * @def_domain_type: a type @dev must have, or 0 for no preference (optional).
 * @pgsize_bitmap: page sizes of the instance's paging domains.
 */
struct ih_iommu_ops {
	int (*of_xlate)(struct ih_device *dev, const struct ih_fw_iommu_args *args);
	int (*probe_device)(struct ih_device *dev, struct ih_iommu_device **iommu);
	void (*release_device)(struct ih_device *dev);
	int (*device_group)(struct ih_device *dev, struct ih_iommu_group **group);
	int (*domain_alloc)(struct ih_device *dev, enum ih_domain_type type,
			    struct ih_iommu_domain **domain);
	int (*def_domain_type)(struct ih_device *dev);
	unsigned long pgsize_bitmap;
};

/**
 * struct ih_iommu_hw_ops - how a device's DMA reaches the emulated IOMMU hardware.
 * @translate: translate one access from master @sid at @iova as the hardware would
 *	(TLB, table walk, fault event). Return 0 and *@pa, or a negative errno when the
 *	hardware faults or aborts the access (it records its own architected event).
 * @tlb_covers: whether any TLB entry of the hardware still translates some address in
 *	[iova, iova + size) (for the IOTLB-staleness checker). Optional.
 *
 * Not a driver operation: the silicon's. A driver sets it when it registers an instance
 * that has emulated hardware behind it, so ih_dma_access() can reach the hardware without
 * core/ knowing about hw/.
 */
struct ih_iommu_hw_ops {
	int (*translate)(void *hw, u32 sid, u64 iova, bool write, ih_pa_t *pa);
	bool (*tlb_covers)(void *hw, u64 iova, size_t size);
};

/**
 * struct ih_iommu_device - one registered IOMMU instance; embedded in the driver's state.
 * @ops: the driver's ops.
 * @fwnode: the firmware node clients reference.
 * @dev: the IOMMU's own (platform) device.
 * @name: for messages.
 * @ready: set once registration has probed every waiting device (read with acquire).
 * @hw_ops: the hardware behind the instance (set by the driver before registering), or NULL.
 * @hw: the cookie passed to @hw_ops.
 * @next: registry link (core private).
 */
struct ih_iommu_device {
	const struct ih_iommu_ops *ops;
	const void *fwnode;
	struct ih_device *dev;
	const char *name;
	bool ready;
	const struct ih_iommu_hw_ops *hw_ops;
	void *hw;
	struct ih_iommu_device *next;
};

/**
 * ih_iommu_device_register() - make @iommu visible and probe every device waiting for it.
 *
 * Probes every device of every bus (the kernel's bus_iommu_probe), then marks @iommu ready
 * and retries deferred driver probes. In the probe-path flow this runs firmware parsing,
 * and so the driver's of_xlate, for each waiting device during the call.
 *
 * Context: process; takes the probe lock per device.
 * Return: 0, -EINVAL (NULL ops or fwnode), -EEXIST (fwnode already registered).
 */
int ih_iommu_device_register(struct ih_world *w, struct ih_iommu_device *iommu,
			     const struct ih_iommu_ops *ops, const void *fwnode,
			     struct ih_device *hwdev);

/**
 * ih_iommu_device_unregister() - take @iommu away, with its devices still bound or not.
 *
 * What it guarantees (Linux unbinds a supplier's consumers through their device links
 * before the supplier's driver goes; the model does the same here):
 *  1. @iommu is unpublished first: a device probing or binding from now on that firmware
 *     puts behind it defers (-EPROBE_DEFER) until an instance registers again;
 *  2. every device @iommu serves is, under its device lock (no bind slips in), unbound
 *     from its driver: the driver's remove stops its DMA-API use, the bus's dma_cleanup
 *     drops the DMA-API claim, a driver_managed_dma driver releases its ownership; then
 *     released: it leaves its group (a group's last member frees its domains),
 *     release_device runs, dev->iommu is freed;
 *  3. device DMA in flight on other threads (ih_dma_access()) completes before anything
 *     it reads is freed; afterwards a device's DMA no longer goes through @iommu (it is
 *     treated as behind no IOMMU), so the caller may free the instance and the hardware
 *     behind it once this returns.
 * The devices stay added, unbound. An unregistered @iommu only warns.
 *
 * Context: process; no device lock held except, possibly, ones of devices it serves; not
 * from a served device's driver callbacks.
 */
void ih_iommu_device_unregister(struct ih_world *w, struct ih_iommu_device *iommu);

/* The instance registered for @fwnode, or NULL. */
struct ih_iommu_device *ih_iommu_device_find(struct ih_world *w, const void *fwnode);

/* ------------------------------------------------------------------------------------------
 * Probe flows.
 */

/**
 * enum ih_probe_flow - where firmware parsing runs.
 * @IH_PROBE_FLOW_BIND: 2017-2024. Parsing runs from the bus's dma_configure at driver
 *	bind, which then replays ih_iommu_probe_device(); registration also probes bus
 *	devices, and the two meet concurrently.
 * @IH_PROBE_FLOW_PROBE_PATH: 2025. ih_iommu_probe_device() runs parsing itself for a
 *	device with no driver bound yet; at bind the core only checks the device was probed.
 */
enum ih_probe_flow {
	IH_PROBE_FLOW_BIND,
	IH_PROBE_FLOW_PROBE_PATH,
};

void ih_iommu_set_probe_flow(struct ih_world *w, enum ih_probe_flow flow);
enum ih_probe_flow ih_iommu_probe_flow(struct ih_world *w);

/**
 * ih_iommu_probe_device() - probe @dev with its IOMMU and put it in a group.
 * Context: process; takes the probe lock.
 * Return: 0 (also when already probed); -ENODEV when @dev has no IOMMU; -EPROBE_DEFER;
 * errors from firmware parsing or the driver.
 */
int ih_iommu_probe_device(struct ih_device *dev);

/* ih_iommu_release_device() - undo probe: leave the group, release_device, free dev->iommu. */
void ih_iommu_release_device(struct ih_device *dev);

/**
 * ih_iommu_dma_configure() - the IOMMU part of a bus's dma_configure hook.
 * Bind flow: parse firmware, then replay ih_iommu_probe_device(). Probe-path flow: check
 * the device was probed (probing it late with a counted "late probe at bind" warning).
 * Then, unless the driver is driver_managed_dma, take DMA-API ownership of the group.
 * Return: 0 or a negative errno (-EPROBE_DEFER while the IOMMU is missing).
 */
int ih_iommu_dma_configure(struct ih_device *dev);

/* ih_iommu_dma_cleanup() - the bus's dma_cleanup: drop DMA-API ownership taken at configure. */
void ih_iommu_dma_cleanup(struct ih_device *dev);

/* ------------------------------------------------------------------------------------------
 * Device DMA through the emulated hardware.
 */

enum ih_dma_dir {
	IH_DMA_BIDIRECTIONAL,
	IH_DMA_TO_DEVICE,   /* the device reads memory */
	IH_DMA_FROM_DEVICE, /* the device writes memory */
};

/**
 * ih_dma_access() - a DMA by @dev of @len bytes at @iova, translated page by page (4K)
 * through the emulated IOMMU exactly as the hardware would (its first StreamID / master
 * ID is used). A device not behind an IOMMU accesses @iova directly.
 * @pa: optional out, the PA of the first byte.
 *
 * Context: any thread; the hardware does its own locking.
 * Return: 0; -EINVAL (@len 0 or wrapping); -EOPNOTSUPP when the instance has no
 * emulated hardware; the hardware's error for the first page that faults.
 */
int ih_dma_access(struct ih_device *dev, u64 iova, size_t len, enum ih_dma_dir dir, ih_pa_t *pa);

/* Probes, late probes at bind, probe failures, for tests and the CLI. */
struct ih_iommu_stats {
	unsigned long probes;
	unsigned long probe_failures;
	unsigned long late_probes_at_bind;
	unsigned long xlate_calls;
};
void ih_iommu_get_stats(struct ih_world *w, struct ih_iommu_stats *st);

#endif /* IH_IOMMU_H */
