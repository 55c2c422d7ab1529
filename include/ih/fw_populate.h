/* SPDX-License-Identifier: MIT */
/* Bring a world up from firmware: devices from a DT or IORT description, and its fw provider. */
#ifndef IH_FW_POPULATE_H
#define IH_FW_POPULATE_H

#include <ih/fw.h>
#include <ih/fw_dt.h>
#include <ih/fw_iort.h>
#include <ih/iommu.h>

struct ih_world;
struct ih_device;

/*
 * What gets created (the kernel's of_platform_populate() / ACPI scan, reduced to what the
 * IOMMU layers look at):
 *
 *   device tree                         IORT
 *   -----------                         ----
 *   enabled IOMMU node -> platform dev  SMMUv3 / SMMUv1-v2 node -> platform device
 *   enabled `iommus` client -> platform named component -> platform device named by its
 *                                         ACPI object name ("\_SB_.DPU0")
 *   enabled host with iommu-map ->      root complex -> PCI host bridge(s) of its segment
 *     PCI host bridge(s), segment = index
 *   one PCI endpoint per iommu-map      one PCI endpoint per ID mapping's InputBase
 *     entry, at RID = its rid-base        (RID = InputBase; IDs above 0xffff are skipped)
 *
 * Disabled nodes get no device (as of_platform_populate() skips them). ITS groups, PMCGs,
 * RMRs and MSI controllers get none either: nothing in the IOMMU layers binds them.
 *
 * PCI topology: an endpoint at RID (bus << 8 | devfn) sits directly below a host bridge
 * whose root bus is that bus; one host bridge is made per distinct bus number, as QEMU's
 * extra root buses (pxb-pcie) are. No bridges, so each endpoint's only DMA alias is its own
 * RID. Two requested endpoints with one RID make one function. Two IORT root complexes of
 * one segment: only the first gets devices (the one the kernel's segment lookup finds).
 *
 * Firmware nodes: dev->fwnode points at the firmware object the device was made from: a
 * struct ih_dt_iommu, ih_dt_client or ih_dt_pci_host in the DT description, a struct
 * ih_iort_node in the IORT description; PCI endpoints have none (their host bridge does).
 * An IOMMU instance must register with its device's fwnode: that pointer is what the
 * firmware provider hands the core for every client reference.
 *
 * Firmware provider (installed by populate, removed by depopulate) for_each_iommu_ref():
 *   DT platform client: each `iommus` entry in order, as (IOMMU fwnode, #iommu-cells args);
 *     an entry naming a disabled IOMMU is skipped: "no IOMMU" for it, not an error.
 *   DT PCI function: each DMA alias (ih_pci_for_each_dma_alias()) through the host's
 *     iommu-map (ih_dt_map_rid()) to (IOMMU fwnode, StreamID); an alias no entry covers,
 *     or one mapped to a disabled IOMMU, is skipped.
 *   IORT named component: each ID mapping (ih_iort_map_index()) that ends at an SMMU, as
 *     (SMMU node fwnode, StreamID); mappings that end elsewhere (an ITS) are skipped.
 *   IORT PCI function: each DMA alias through the root complex (ih_iort_lookup_smmu());
 *     aliases routed to no SMMU are skipped.
 *   Anything else (IOMMU nodes without `iommus`, host bridges, devices populate did not
 *   make): no reference.
 *
 * Ownership and lifetime: on success the population owns the description (freed by
 * depopulate) and holds one reference on each device it made. ih_fw_depopulate() deletes
 * the devices (clients, PCI functions, host bridges, then IOMMUs, each newest first),
 * uninstalls the provider and frees everything. When a world is destroyed with a
 * population still in place, the world's teardown depopulates it (this needs one small
 * anchor block per population, freed at world teardown). One population per world.
 *
 * Context: set-up and teardown; not concurrently with other calls on the same world's
 * device model from the caller (drivers may run their own threads).
 */

/* Most devices one population makes; a description asking for more is -E2BIG. */
#define IH_FW_POPULATE_MAX_DEVS 4096
/* MMIO windows kept per device. */
#define IH_FW_MAX_RES 4

enum ih_fw_dev_kind {
	IH_FW_DEV_IOMMU,       /* an IOMMU (platform device) */
	IH_FW_DEV_CLIENT,      /* a DT `iommus` client or an IORT named component */
	IH_FW_DEV_HOST_BRIDGE, /* a PCI host bridge (one root bus) */
	IH_FW_DEV_PCI_FN,      /* a PCI endpoint function */
};

enum ih_fw_iommu_model {
	IH_FW_IOMMU_UNKNOWN, /* no model in this harness: its clients wait forever */
	IH_FW_IOMMU_SMMUV3,  /* "arm,smmu-v3" / IORT SMMUv3 node */
	IH_FW_IOMMU_RK,	     /* "rockchip,iommu", "rockchip,rk3568-iommu" */
	IH_FW_IOMMU_SMMU,    /* IORT SMMUv1/v2 node */
};

/* One MMIO window (DT `reg` bank, IORT base address). */
struct ih_fw_res {
	u64 base;
	u64 size;
};

/**
 * struct ih_fw_dev - one device a population made (read-only for users).
 * @kind: what it is.
 * @dev: the device (the population holds a reference); NULL until created.
 * @fwnode: the firmware object (also in @dev->fwnode, except for PCI functions: NULL).
 * @what: the firmware's name for it: DT node path, ACPI object name, or
 *        "IORT node N @0xOFF" for SMMU and root complex nodes; NULL for PCI functions.
 * @compatible: DT first compatible, or the one the IORT node type implies
 *              ("arm,smmu-v3", "arm,smmu-v2"); "" when none.
 * @model: IOMMUs only.
 * @nres, @res: MMIO windows (IOMMUs and DT clients with a decoded `reg`).
 * @segment: PCI segment (host bridges and functions).
 * @bus: root bus of a host bridge, bus of a function.
 * @rid: a function's requester ID.
 * @host: index in &ih_fw_population.devs of a function's host bridge, else -1.
 * @index: index of the object in its description array (iommus/clients/hosts, or
 *         IORT nodes); -1 for PCI functions.
 */
struct ih_fw_dev {
	enum ih_fw_dev_kind kind;
	struct ih_device *dev;
	const void *fwnode;
	const char *what;
	const char *compatible;
	enum ih_fw_iommu_model model;
	unsigned int nres;
	struct ih_fw_res res[IH_FW_MAX_RES];
	u16 segment;
	u8 bus;
	u16 rid;
	int host;
	int index;

	/* private: */
	char label[32];
};

struct ih_fw_population;

/**
 * struct ih_fw_populate_ops - how the caller (a board) takes part in populating.
 * @create_iommu: optional; make (initialise, not add) the device for IOMMU @fd, named
 *	@name, e.g. one that carries emulated hardware at @fd->res. Return 0 with *@out set
 *	(populate sets @out->fwnode and adds it; the device's release frees it), -ENODEV to
 *	let populate make a plain platform device, or another negative errno to fail the
 *	population. NULL: always a plain platform device.
 * @opaque: passed to @create_iommu.
 */
struct ih_fw_populate_ops {
	int (*create_iommu)(void *opaque, struct ih_world *w, const struct ih_fw_dev *fd,
			    const char *name, struct ih_device **out);
	void *opaque;
};

/* ih_fw_populate_*() flags. */
/* Add IOMMU devices after clients and PCI functions (default: IOMMUs first). */
#define IH_FW_POP_IOMMUS_LAST BIT(0)

/**
 * struct ih_fw_population - the devices made from one description.
 * @w: the world.
 * @dt: the DT description (owned), or NULL.
 * @iort: the IORT description (owned), or NULL.
 * @ndevs, @devs: the devices, in creation order: IOMMUs, clients, host bridges, functions.
 */
struct ih_fw_population {
	struct ih_world *w;
	struct ih_dt_desc *dt;
	struct ih_iort *iort;
	unsigned int ndevs;
	struct ih_fw_dev *devs;

	/* private: */
	unsigned int flags;
	unsigned int cap;
	struct ih_fw_pop_anchor *anchor;
};

/**
 * ih_fw_populate_dt() - make the devices @d describes and install its firmware provider.
 * @w: the world (the platform and PCI buses are registered in it when missing).
 * @d: the description from ih_dt_parse(); owned by the population on success, still the
 *     caller's on error.
 * @ops: NULL, or the board's callbacks.
 * @flags: 0 or %IH_FW_POP_IOMMUS_LAST.
 * @out: the population.
 * @diag: optional; names the node when a device cannot be made.
 *
 * Devices are added one by one: drivers already registered bind as they appear, IOMMU
 * drivers register their instances, and the core probes (and in the probe-path flow parses
 * firmware for) clients as it would at boot. A failed or deferred probe does not fail the
 * population.
 *
 * Context: set-up; no device lock held.
 * Return: 0; -EINVAL for NULL @w, @d or @out, or @d from another world; -E2BIG for more
 * than %IH_FW_POPULATE_MAX_DEVS devices; -ENOMEM; an error of @ops->create_iommu or of
 * ih_device_add(). On error every device made so far is deleted again and the provider
 * is uninstalled.
 */
int ih_fw_populate_dt(struct ih_world *w, struct ih_dt_desc *d,
		      const struct ih_fw_populate_ops *ops, unsigned int flags,
		      struct ih_fw_population **out, struct ih_fw_diag *diag);

/**
 * ih_fw_populate_iort() - the same from an IORT description @t (from ih_iort_parse()).
 * Return: as ih_fw_populate_dt().
 */
int ih_fw_populate_iort(struct ih_world *w, struct ih_iort *t, const struct ih_fw_populate_ops *ops,
			unsigned int flags, struct ih_fw_population **out, struct ih_fw_diag *diag);

/**
 * ih_fw_depopulate() - delete every device @p made, uninstall the provider, free the
 * description and @p. NULL is ignored.
 * Context: teardown; no device lock held. Client drivers may still be registered (their
 * devices are unbound by the deletion).
 */
void ih_fw_depopulate(struct ih_fw_population *p);

/**
 * ih_fw_dev_find() - the entry of @p for @dev, or NULL when @p did not make @dev.
 * Context: any thread while @p exists.
 */
const struct ih_fw_dev *ih_fw_dev_find(const struct ih_fw_population *p,
				       const struct ih_device *dev);

/**
 * ih_fw_for_each_iommu_ref() - what the installed provider reports for @dev (for tools
 * and tests: the same walk, without building a fwspec).
 * Return: the number of references, 0 for none, or @fn's or the walk's negative errno
 * (-EINVAL for an `iommus` entry with more than %IH_FW_MAX_ARGS cells, errors of
 * ih_iort_map_index() other than -ENODEV).
 */
int ih_fw_for_each_iommu_ref(struct ih_fw_population *p, struct ih_device *dev,
			     ih_fw_iommu_ref_fn fn, void *arg);

/* "iommu", "client", "host-bridge", "pci-function". */
const char *ih_fw_dev_kind_name(enum ih_fw_dev_kind kind);
/* "unknown", "smmu-v3", "rockchip", "smmu". */
const char *ih_fw_iommu_model_name(enum ih_fw_iommu_model model);

#endif /* IH_FW_POPULATE_H */
