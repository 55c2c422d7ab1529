/* SPDX-License-Identifier: MIT */
/* Shared body of fuzz_dtb_probe and fuzz_iort_probe: bring a world up from firmware, check. */
#ifndef IH_FUZZ_FW_PROBE_H
#define IH_FUZZ_FW_PROBE_H

#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/fw_populate.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/world.h>

#include "board/board.h"
#include "fuzz_common.h"
#include "fw/pop_util.h"

/*
 * Input of both targets: a 4-byte control header, then the firmware blob.
 *
 *   byte 0  mode: bit 0 probe flow (0 bind-time, 1 probe-path);
 *                 bits 1-2 order (0 IOMMU driver and devices first, 1 IOMMU devices added
 *                 last, 2 IOMMU driver registered after the client drivers, 3 as 0);
 *                 bit 3 identity default domains instead of DMA;
 *                 bit 4 depopulate before unregistering the client drivers (else after);
 *                 bit 5 the board: emulated SMMUv3 / Rockchip IOMMUs and their real
 *                 drivers (hw/board) instead of the test IOMMU driver; bits 1-2 then
 *                 only choose IOMMU devices first (0) or last (1-3).
 *   byte 1  reserved (kept so the header stays 4 bytes when modes grow)
 *   byte 2-3 fail: 0, or the fail-th model allocation after parsing fails (LE u16)
 *
 * Per input, in a fresh world: parse (ih_dt_parse / ih_iort_parse: a rejected blob ends
 * the input); populate with the test IOMMU driver ("tiommu": one instance per IOMMU node,
 * registered with the node's fwnode) and bind test client drivers to every client and PCI
 * function; then check:
 *   - every group: ih_iommu_group_check() == 0, and ih_iommu_invariant_violations() == 0;
 *   - with no allocation failed, every device ends exactly as the firmware walk says: a
 *     fwspec for the one IOMMU its references name with their cells as IDs, none for no
 *     reference or for references to two IOMMUs, and a group whenever a fwspec exists;
 *   - a 4K map on each bound client's default DMA domain translates, and unmaps whole;
 *     with the board, a DMA through the emulated IOMMU (ih_dma_access()) reaches the
 *     mapped page, and faults once it is unmapped.
 * Then tear everything down; ih_world_destroy() must find no model memory left.
 */

struct fwp_expect {
	const void *fwnode;
	bool multi;
	unsigned int nids;
	u32 ids[1100];
};

static int fwp_collect(struct ih_device *dev, const struct ih_fw_iommu_args *args, void *arg)
{
	struct fwp_expect *e = arg;

	if (e->fwnode && e->fwnode != args->fwnode)
		e->multi = true;
	e->fwnode = args->fwnode;
	for (unsigned int i = 0; i < args->nargs && e->nids < ARRAY_SIZE(e->ids); i++)
		e->ids[e->nids++] = args->args[i];
	return 0;
}

/* Whether every master slot of the test IOMMU registered for @fwnode is taken. */
static bool fwp_stream_table_full(struct ih_world *w, const void *fwnode)
{
	struct ih_iommu_device *iommu = ih_iommu_device_find(w, fwnode);
	struct tiommu *t = iommu ? container_of(iommu, struct tiommu, iommu) : NULL;
	unsigned int used = 0;

	for (unsigned int i = 0; t && i < TIOMMU_MAX_MASTERS; i++)
		used += t->masters[i].domain != NULL;
	return used == TIOMMU_MAX_MASTERS;
}

/* The end state of @fd against the firmware walk (no allocation failed). */
static void fwp_check_dev(struct pop_bringup *b, const struct ih_fw_dev *fd)
{
	struct fwp_expect e;
	struct ih_device *dev = fd->dev;
	struct ih_iommu_fwspec *fs = ih_dev_iommu_fwspec_get(dev);
	int n;

	memset(&e, 0, sizeof(e));
	n = ih_fw_for_each_iommu_ref(b->p, dev, fwp_collect, &e);
	/* The core caps a fwspec at 1024 IDs: more is refused as broken firmware. */
	if (n <= 0 || e.multi || e.nids > 1024) {
		IH_BUG_ON(fs, "%s: fwspec with %d refs (multi %d)", dev->name, n, e.multi);
		IH_BUG_ON(dev->iommu_group, "%s: group without IOMMU", dev->name);
		return;
	}
	if (!fs && fwp_stream_table_full(dev->world, e.fwnode))
		return; /* the test IOMMU's "stream table" has no slot left for it */
	IH_BUG_ON(!fs, "%s: %d refs but no fwspec", dev->name, n);
	IH_BUG_ON(fs->iommu_fwnode != e.fwnode, "%s: fwspec for another IOMMU", dev->name);
	IH_BUG_ON(fs->num_ids != e.nids, "%s: %u IDs, firmware says %u", dev->name, fs->num_ids,
		  e.nids);
	IH_BUG_ON(memcmp(fs->ids, e.ids, e.nids * sizeof(u32)), "%s: IDs differ", dev->name);
	IH_BUG_ON(!dev->iommu_group, "%s: fwspec but no group", dev->name);
}

/* A page mapped in a bound client's default DMA domain translates and unmaps. */
static void fwp_map_one(struct ih_world *w, struct ih_device *dev, bool hw)
{
	struct ih_iommu_domain *dom = ih_iommu_get_dma_domain(dev);
	const u64 iova = 0x100000;
	const ih_pa_t pa = 0x80042000;
	int ret;

	if (!dom || !ih_device_driver(dev) ||
	    (dom->type != IH_DOMAIN_DMA && dom->type != IH_DOMAIN_DMA_FQ))
		return;
	ret = ih_iommu_map(dom, iova, pa, SZ_4K, IH_PROT_READ | IH_PROT_WRITE);
	/* The chosen allocation may come after bring-up: here, in the map. */
	IH_BUG_ON(ret && !(ih_fault_injected(w) && ret == -ENOMEM), "%s: map %d", dev->name, ret);
	if (ret)
		return;
	IH_BUG_ON(ih_iommu_iova_to_phys(dom, iova + 0x123) != pa + 0x123, "%s", dev->name);
	if (hw) {
		ih_pa_t got = 0;

		/* The hardware walks the same table: same page, unless it ran out of memory. */
		ret = ih_dma_access(dev, iova + 0x40, 8, IH_DMA_TO_DEVICE, &got);
		IH_BUG_ON(ret && !(ih_fault_injected(w) && ret == -ENOMEM), "%s: DMA %d", dev->name,
			  ret);
		IH_BUG_ON(!ret && got != pa + 0x40, "%s: DMA reached %#llx", dev->name,
			  (unsigned long long)got);
	}
	IH_BUG_ON(ih_iommu_unmap(dom, iova, SZ_4K) != SZ_4K, "%s: unmap", dev->name);
	if (hw) {
		ih_pa_t got = 0;

		IH_BUG_ON(!ih_dma_access(dev, iova + 0x40, 8, IH_DMA_TO_DEVICE, &got),
			  "%s: DMA through an unmapped IOVA reached %#llx", dev->name,
			  (unsigned long long)got);
	}
	IH_BUG_ON(ih_iommu_iova_to_phys(dom, iova) != IH_PA_INVALID, "%s", dev->name);
}

static void fwp_run(struct ih_world *w, u8 mode, u16 fail, struct ih_dt_desc *d, struct ih_iort *t)
{
	enum pop_order order = (enum pop_order)((mode >> 1) & 3);
	enum ih_probe_flow flow = mode & 1 ? IH_PROBE_FLOW_PROBE_PATH : IH_PROBE_FLOW_BIND;
	struct pop_bringup b;
	bool faulted;
	int ret;

	if (order >= POP_NORDERS)
		order = POP_IOMMU_FIRST;
	if (mode & BIT(3))
		ih_iommu_set_default_domain_type(w, IH_DOMAIN_IDENTITY);
	if (fail)
		ih_fault_fail_nth(w, fail);
	ret = pop_bring_up(&b, w, flow, order, d, t);
	faulted = ih_fault_injected(w) != 0;
	IH_BUG_ON(ret && !(faulted && ret == -ENOMEM), "bring-up: %d", ret);
	if (b.p) {
		for (unsigned int i = 0; i < b.p->ndevs; i++) {
			const struct ih_fw_dev *fd = &b.p->devs[i];

			if (!fd->dev)
				continue;
			if (fd->dev->iommu_group)
				IH_BUG_ON(ih_iommu_group_check(fd->dev->iommu_group), "%s",
					  fd->dev->name);
			if (!ret && !faulted)
				fwp_check_dev(&b, fd);
			fwp_map_one(w, fd->dev, false);
		}
	}
	IH_BUG_ON(ih_iommu_invariant_violations(w), "group invariants broken");
	ih_fault_clear(w);
	if (mode & BIT(4)) {
		pop_tear_down(&b);
	} else {
		/* Client drivers go first: devices are unbound before they are deleted. */
		if (b.cdrv_on)
			ih_driver_unregister(w, &b.cdrv.drv);
		if (b.pdrv_on)
			ih_driver_unregister(w, &b.pdrv);
		b.cdrv_on = b.pdrv_on = false;
		pop_tear_down(&b);
	}
}

/*
 * With the board: only IOMMUs the board modelled register. A device's fwspec must still
 * name the IOMMU its firmware references name, and come with a group.
 */
static void fwp_check_dev_board(struct ih_fw_population *p, const struct ih_fw_dev *fd)
{
	struct fwp_expect e;
	struct ih_device *dev = fd->dev;
	struct ih_iommu_fwspec *fs = ih_dev_iommu_fwspec_get(dev);
	int n;

	if (!fs)
		return;
	memset(&e, 0, sizeof(e));
	n = ih_fw_for_each_iommu_ref(p, dev, fwp_collect, &e);
	IH_BUG_ON(n <= 0 || e.multi, "%s: fwspec with %d refs (multi %d)", dev->name, n, e.multi);
	IH_BUG_ON(fs->iommu_fwnode != e.fwnode, "%s: fwspec for another IOMMU", dev->name);
	IH_BUG_ON(!ih_iommu_device_find(dev->world, fs->iommu_fwnode), "%s: no instance",
		  dev->name);
	IH_BUG_ON(!dev->iommu_group, "%s: fwspec but no group", dev->name);
}

/*
 * Whether firmware gave another device of @p an ID of @dev on the same IOMMU (StreamID
 * aliasing across masters, e.g. a masked iommu-map or an IORT single mapping). One
 * StreamID has one STE, so the SMMUv3 driver refuses the second master (-EEXIST, as
 * Linux does): it ends with no fwspec and the first keeps the StreamID. This stays as a
 * guard for any driver that would accept both (the last attach would win).
 */
static bool fwp_id_shared(struct ih_fw_population *p, struct ih_device *dev)
{
	struct ih_iommu_fwspec *fs = ih_dev_iommu_fwspec_get(dev);

	for (unsigned int i = 0; fs && i < p->ndevs; i++) {
		struct ih_iommu_fwspec *o = ih_dev_iommu_fwspec_get(p->devs[i].dev);

		if (p->devs[i].dev == dev || !o || o->iommu_fwnode != fs->iommu_fwnode)
			continue;
		for (unsigned int a = 0; a < fs->num_ids; a++)
			for (unsigned int b = 0; b < o->num_ids; b++)
				if (fs->ids[a] == o->ids[b])
					return true;
	}
	return false;
}

static int fwp_client_probe(struct ih_device *dev)
{
	return 0;
}

static void fwp_run_board(struct ih_world *w, u8 mode, u16 fail, struct ih_dt_desc *d,
			  struct ih_iort *t)
{
	struct ih_driver cdrv = {
	    .name = "tclient", .bus = &ih_platform_bus_type, .probe = fwp_client_probe};
	struct ih_driver pdrv = {.name = "tpci",
				 .bus = &ih_pci_bus_type,
				 .probe = fwp_client_probe,
				 .id_table = pop_pci_ids};
	unsigned int flags = (mode >> 1) & 3 ? IH_FW_POP_IOMMUS_LAST : 0;
	struct ih_fw_population *p = NULL;
	bool cdrv_on = false, pdrv_on = false;
	struct ih_board *b;
	int ret;

	ih_iommu_set_probe_flow(w, mode & 1 ? IH_PROBE_FLOW_PROBE_PATH : IH_PROBE_FLOW_BIND);
	if (mode & BIT(3))
		ih_iommu_set_default_domain_type(w, IH_DOMAIN_IDENTITY);
	if (fail)
		ih_fault_fail_nth(w, fail);
	ret = ih_board_create(w, NULL, &b);
	if (ret) {
		IH_BUG_ON(!(ih_fault_injected(w) && ret == -ENOMEM), "board: %d", ret);
		ih_dt_free(d);
		ih_iort_free(t);
		ih_fault_clear(w);
		return;
	}
	ret = d ? ih_fw_populate_dt(w, d, ih_board_populate_ops(b), flags, &p, NULL)
		: ih_fw_populate_iort(w, t, ih_board_populate_ops(b), flags, &p, NULL);
	if (ret) {
		IH_BUG_ON(!(ih_fault_injected(w) && ret == -ENOMEM), "populate: %d", ret);
		ih_dt_free(d);
		ih_iort_free(t);
	} else {
		for (unsigned int i = 0; i < p->ndevs && !ret; i++)
			if (p->devs[i].kind == IH_FW_DEV_CLIENT)
				ret = ih_device_set_driver_override(p->devs[i].dev, "tclient");
		IH_BUG_ON(ret, "driver_override: %d", ret);
		cdrv_on = !ih_driver_register(w, &cdrv);
		pdrv_on = !ih_driver_register(w, &pdrv);
		IH_BUG_ON(!(cdrv_on && pdrv_on) && !ih_fault_injected(w), "client drivers");
		for (unsigned int i = 0; i < p->ndevs; i++) {
			const struct ih_fw_dev *fd = &p->devs[i];

			if (fd->dev->iommu_group)
				IH_BUG_ON(ih_iommu_group_check(fd->dev->iommu_group), "%s",
					  fd->dev->name);
			fwp_check_dev_board(p, fd);
			fwp_map_one(w, fd->dev, !fwp_id_shared(p, fd->dev));
		}
	}
	IH_BUG_ON(ih_iommu_invariant_violations(w), "group invariants broken");
	ih_fault_clear(w);
	if (cdrv_on)
		ih_driver_unregister(w, &cdrv);
	if (pdrv_on)
		ih_driver_unregister(w, &pdrv);
	if (mode & BIT(4)) {
		ih_board_destroy(b);
		ih_fw_depopulate(p);
	} else {
		ih_fw_depopulate(p);
		ih_board_destroy(b);
	}
}

/* Header decode + world around one input; @parse turns the blob into a description. */
static int fwp_one_input(const uint8_t *data, size_t size,
			 int (*parse)(struct ih_world *w, const u8 *blob, size_t len,
				      struct ih_dt_desc **d, struct ih_iort **t))
{
	struct fz_in in = fz_init(data, size);
	struct ih_world_config cfg;
	struct ih_dt_desc *d = NULL;
	struct ih_iort *t = NULL;
	struct ih_world *w;
	u8 mode = fz_u8(&in);
	u16 fail;

	fz_u8(&in);
	fail = fz_u16(&in);
	ih_world_config_init(&cfg);
	cfg.log = "none";
	if (ih_world_create(&cfg, &w))
		abort();
	if (!parse(w, in.p, in.n, &d, &t)) {
		if (mode & BIT(5))
			fwp_run_board(w, mode, fail, d, t);
		else
			fwp_run(w, mode, fail, d, t);
	}
	if (ih_world_destroy(w))
		abort();
	return 0;
}

#endif /* IH_FUZZ_FW_PROBE_H */
