/* SPDX-License-Identifier: MIT */
/* Rockchip IOMMU driver: platform driver, IOMMU ops, and the board glue it probes from. */
#ifndef IH_HW_RK_IOMMU_DRV_H
#define IH_HW_RK_IOMMU_DRV_H

#include <pthread.h>

#include <ih/base.h>
#include <ih/iommu.h>

#include "rk_iommu_hw.h"

/*
 * Three pieces, as on a board running Linux:
 *
 * 1. The board (rk_iommu_board.c): a platform device that carries the IOMMU's resources,
 *    the way a DT node carries "reg" and "interrupts". struct ih_rk_iommu_pdev embeds the
 *    platform device and adds the bank MMIO bases, the emulated hardware behind them and an
 *    interrupt line the driver requests. It also holds the device's devres list (the model
 *    of devm_*: memory owned by whichever driver is bound, freed when it unbinds).
 *
 * 2. The platform driver (rk_iommu_drv.c), compatible "rockchip,iommu" (v1) and
 *    "rockchip,rk3568-iommu" (v2). Probe maps every bank, runs the DTE_ADDR self-test and
 *    FORCE_RESET on each, requests the interrupt, sets up the instance and registers it
 *    with ih_iommu_device_register(); remove unregisters, frees the interrupt, then the
 *    devres list (what the driver core's devres_release_all() does after remove).
 *
 * 3. The IOMMU ops (rk_iommu_drv_domain.c): of_xlate, probe/release_device, the generic
 *    device_group, and identity / blocked / paging domains whose tables are the io-pgtable
 *    IH_RK_IOMMU_V1 / IH_RK_IOMMU_V2 formats.
 *
 * Registration order (seed 001, research/mechanisms.md "Seed 2"): of_xlate allocates each
 * client's data with ih_rk_devm_kzalloc() against the instance's "DMA device", the IOMMU's
 * own platform device, so its lifetime is that of the IOMMU driver's binding (the fixed
 * upstream design, f48dcda8f6a4). The fixed probe sets that device before registering
 * (f90aa59eb299). With the replay switch IH_REGRESS_RK_DMA_DEV_ORDER ("rk-dma-dev-order")
 * probe sets it only after ih_iommu_device_register() returns, as before the fix; in the
 * probe-path flow registration runs of_xlate for every waiting client at once, and the
 * devres allocator dereferences the NULL owner device: SIGSEGV (a sanitizer build reports
 * the null member access in ih_rk_devm_kzalloc() called from of_xlate, then aborts). In
 * the bind-time flow of_xlate only runs at client bind, after probe returned, so the old
 * order does not crash there.
 *
 * Synchronisation: probe and remove run under the IOMMU device's lock (driver core).
 * Attach/detach of an instance serialise on its mutex; a domain's list of attached
 * instances has its own mutex, taken by the zaps that map, unmap and sync issue. The
 * interrupt handler takes no driver lock. Lock order:
 *   rk instance lock -> domain lock -> (emulated hardware lock, a leaf)
 *   io-pgtable table lock -> domain lock (flush ops are called under the table lock)
 * A client must be unbound (its DMA quiesced) before the IOMMU's driver unbinds: the
 * model has no device links to do that automatically.
 */

#define IH_RK_IOMMU_COMPAT_V1 "rockchip,iommu"
#define IH_RK_IOMMU_COMPAT_V2 "rockchip,rk3568-iommu"

/* ---- Board: the platform device and its resources ------------------------------------ */

/**
 * typedef ih_rk_iommu_irq_handler - a driver's handler for the instance's interrupt.
 * @data: as passed to ih_rk_iommu_pdev_request_irq().
 * @bank: the bank whose line went high.
 */
typedef void (*ih_rk_iommu_irq_handler)(void *data, unsigned int bank);

struct rk_devres;

/**
 * struct ih_rk_iommu_pdev - a Rockchip IOMMU platform device and its resources.
 * @pdev: the platform device (first member: a NULL device maps to a NULL pdev).
 * @nbanks: register banks (the "reg" entries), 1..IH_RK_IOMMU_MAX_BANKS.
 * @bank_base: MMIO base of each bank; each window is IH_RK_IOMMU_BANK_SIZE bytes.
 * @hw: the emulated hardware answering at those bases.
 *
 * Every platform device whose compatible string names a Rockchip IOMMU must be created by
 * ih_rk_iommu_pdev_create() (as every platform device must be a struct
 * ih_platform_device): the driver finds the resources by container_of.
 * The remaining members are private to the board code.
 */
struct ih_rk_iommu_pdev {
	struct ih_platform_device pdev;
	unsigned int nbanks;
	u64 bank_base[IH_RK_IOMMU_MAX_BANKS];
	struct ih_rk_iommu_hw *hw;

	/* private: */
	u32 magic;
	struct rk_irq_action {
		ih_rk_iommu_irq_handler fn;
		void *data;
	} irq_storage, *irq_action;  /* irq_action: atomic, NULL while no handler */
	unsigned long spurious_irqs; /* atomic: raised with no handler requested */
	pthread_mutex_t devres_lock; /* protects devres and devres_count */
	struct rk_devres *devres;
	unsigned int devres_count;
};

/**
 * ih_rk_iommu_pdev_create() - build the emulated IOMMU described by @hw_cfg and a platform
 * device for it (initialised, not added: the caller ih_device_add()s it).
 * @w: the world.
 * @name: device name, unique on the platform bus.
 * @compatible: IH_RK_IOMMU_COMPAT_V1 or _V2 normally; any string is accepted (a mismatch
 *	with @hw_cfg->version is what the driver's DTE_ADDR self-test finds).
 * @hw_cfg: the hardware; its @irq and @irq_opaque are replaced by the device's interrupt
 *	line. @hw_cfg->bank_base and @hw_cfg->nbanks become the device's resources.
 * @out: the device. Its firmware node (what clients' references name) is the device
 *	itself unless the caller sets pdev.dev.fwnode before adding it. The last
 *	ih_device_put() destroys the hardware and frees the device.
 *
 * Registers the platform bus in @w if needed.
 *
 * Context: set-up.
 * Return: 0; -EINVAL for a bad name or hardware configuration; -ENOMEM (site
 * "rk_iommu:board-pdev" and the hardware's sites).
 */
int ih_rk_iommu_pdev_create(struct ih_world *w, const char *name, const char *compatible,
			    const struct ih_rk_iommu_hw_config *hw_cfg,
			    struct ih_rk_iommu_pdev **out);

static inline struct ih_device *ih_rk_iommu_pdev_dev(struct ih_rk_iommu_pdev *pd)
{
	return &pd->pdev.dev;
}

/* The firmware node clients reference this IOMMU by (dev.fwnode). */
static inline const void *ih_rk_iommu_pdev_fwnode(struct ih_rk_iommu_pdev *pd)
{
	return pd->pdev.dev.fwnode;
}

/**
 * ih_rk_iommu_pdev_of() - the Rockchip IOMMU device @dev is, or NULL when @dev is NULL,
 * not on the platform bus or not created by ih_rk_iommu_pdev_create().
 */
struct ih_rk_iommu_pdev *ih_rk_iommu_pdev_of(struct ih_device *dev);

/**
 * ih_rk_iommu_pdev_request_irq() - connect @fn to the device's interrupt line.
 * Context: probe (the device lock held). Return: 0; -EINVAL for NULL @fn; -EBUSY when a
 * handler is already connected.
 */
int ih_rk_iommu_pdev_request_irq(struct ih_rk_iommu_pdev *pd, ih_rk_iommu_irq_handler fn,
				 void *data);

/**
 * ih_rk_iommu_pdev_free_irq() - disconnect the handler. Interrupts raised afterwards are
 * counted as spurious. Context: remove; no DMA through the instance may be in flight.
 */
void ih_rk_iommu_pdev_free_irq(struct ih_rk_iommu_pdev *pd);

/* Interrupts raised while no handler was connected. */
unsigned long ih_rk_iommu_pdev_spurious_irqs(struct ih_rk_iommu_pdev *pd);

/*
 * The silicon's side of client DMA, for the instance's hw_ops (cookie: the device's @hw):
 * translate -> ih_rk_iommu_hw_translate() (every bank in turn; the master ID is unused,
 * one master per instance), tlb_covers -> ih_rk_iommu_hw_tlb_holds() page by page.
 */
extern const struct ih_iommu_hw_ops ih_rk_iommu_hw_ops;

/* ---- devres: the model of devm_kzalloc() on a Rockchip IOMMU device ------------------- */

/**
 * ih_rk_devm_kzalloc() - zeroed memory owned by @dev's current driver binding.
 * @dev: the owner, a device from ih_rk_iommu_pdev_create(). Like devm_kzalloc(), the
 *	allocator dereferences its owner before anything else: a NULL @dev is a NULL
 *	pointer dereference, exactly what seed 001 hit in devm_kmalloc().
 * @size: bytes.
 * @site: allocation site for fault injection.
 *
 * Context: any thread. Return: the memory, or NULL when the allocation fails.
 */
void *ih_rk_devm_kzalloc(struct ih_device *dev, size_t size, const char *site);

/**
 * ih_rk_devres_release_all() - free everything ih_rk_devm_kzalloc() gave for @dev, newest
 * first (what the driver core does after remove or a failed probe).
 * Context: the device lock held, no user of the memory left.
 */
void ih_rk_devres_release_all(struct ih_device *dev);

/* Blocks on @dev's devres list now. */
unsigned int ih_rk_devres_count(struct ih_device *dev);

/* ---- The platform driver ---------------------------------------------------------------- */

/**
 * ih_rk_iommu_driver_register() - register the Rockchip IOMMU platform driver in @w; it
 * binds to every Rockchip IOMMU device added before or after.
 * @out: the driver, for ih_rk_iommu_driver_unregister().
 *
 * Context: set-up; no device lock held.
 * Return: 0; -ENOMEM (site "rk_iommu:driver"); errors of ih_driver_register().
 */
int ih_rk_iommu_driver_register(struct ih_world *w, struct ih_driver **out);

/**
 * ih_rk_iommu_driver_unregister() - unbind from every device (remove runs for each) and
 * free the driver. NULL is ignored.
 */
void ih_rk_iommu_driver_unregister(struct ih_world *w, struct ih_driver *drv);

/**
 * struct ih_rk_iommu_stats - what one bound instance has done.
 * @version: the format the instance drives (from its compatible string).
 * @nbanks: banks driven.
 * @clients: client devices probed and not released.
 * @xlates: of_xlate calls that allocated client data.
 * @attaches: domain attaches that programmed the hardware (paging or blocked).
 * @detaches: switches to paging off (identity attach, domain freed, remove).
 * @zap_lines: ZAP_ONE_LINE writes issued (per bank).
 * @zap_caches: ZAP_CACHE commands issued (per bank).
 * @page_faults: page faults the interrupt handler reported and resumed.
 * @bus_errors: bus errors it reported.
 * @unhandled_irqs: handler calls that found INT_STATUS empty.
 * @last_fault_iova: PAGE_FAULT_ADDR of the last page fault or bus error.
 * @last_fault_bank: its bank.
 * @last_fault_write: whether the last page fault was a write.
 */
struct ih_rk_iommu_stats {
	enum ih_rk_iommu_version version;
	unsigned int nbanks;
	unsigned long clients;
	unsigned long xlates;
	unsigned long attaches;
	unsigned long detaches;
	unsigned long zap_lines;
	unsigned long zap_caches;
	unsigned long page_faults;
	unsigned long bus_errors;
	unsigned long unhandled_irqs;
	u32 last_fault_iova;
	unsigned int last_fault_bank;
	bool last_fault_write;
};

/**
 * ih_rk_iommu_get_stats() - counters of the instance bound to @iommu_dev.
 * Context: any thread. Return: 0; -ENODEV when @iommu_dev is not a Rockchip IOMMU device
 * bound to this driver.
 */
int ih_rk_iommu_get_stats(struct ih_device *iommu_dev, struct ih_rk_iommu_stats *st);

#endif /* IH_HW_RK_IOMMU_DRV_H */
