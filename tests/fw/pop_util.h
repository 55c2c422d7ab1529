/* SPDX-License-Identifier: MIT */
/* Test helpers for populated worlds: bring-up with the test IOMMU driver, state snapshots. */
#ifndef IH_TESTS_FW_POP_UTIL_H
#define IH_TESTS_FW_POP_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/fw_populate.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/world.h>

#include "fw/fw_util.h"
#include "lib/test_iommu.h"

/*
 * When the test IOMMU driver registers relative to the devices:
 *   POP_IOMMU_FIRST   driver registered, IOMMU devices added (and bound) before clients;
 *   POP_IOMMU_LAST    driver registered, IOMMU devices added after clients and functions;
 *   POP_IOMMU_LATE    IOMMU devices first but the driver only after client drivers bound
 *                     (clients defer, registration retries them).
 */
enum pop_order { POP_IOMMU_FIRST, POP_IOMMU_LAST, POP_IOMMU_LATE, POP_NORDERS };

struct pop_bringup {
	struct ih_world *w;
	struct ih_fw_population *p;
	struct tiommu_pdrv idrv;
	struct tdriver cdrv;
	struct ih_driver pdrv;
	bool idrv_on, cdrv_on, pdrv_on;
	unsigned long pci_probes;
};

static inline int pop_pci_probe(struct ih_device *dev)
{
	return 0;
}

static const struct ih_pci_device_id pop_pci_ids[] = {
    {IH_PCI_ANY_ID, IH_PCI_ANY_ID, 0, 0},
    {0, 0, 0, 0},
};

/* Every IOMMU device goes to the test IOMMU driver. */
static inline int pop_test_create_iommu(void *opaque, struct ih_world *w,
					const struct ih_fw_dev *fd, const char *name,
					struct ih_device **out)
{
	struct ih_platform_device *pdev;
	int ret = ih_platform_device_alloc(w, name, NULL, NULL, &pdev);

	if (ret)
		return ret;
	ret = ih_device_set_driver_override(&pdev->dev, "tiommu");
	if (ret) {
		ih_device_put(&pdev->dev);
		return ret;
	}
	*out = &pdev->dev;
	return 0;
}

static const struct ih_fw_populate_ops pop_test_ops = {.create_iommu = pop_test_create_iommu};

static inline int pop_register_iommu_drv(struct pop_bringup *b)
{
	int ret = ih_driver_register(b->w, &b->idrv.drv);

	b->idrv_on = !ret;
	return ret;
}

/* Client drivers: platform clients by override, PCI functions by a catch-all table. */
static inline int pop_register_client_drvs(struct pop_bringup *b)
{
	int ret;

	for (unsigned int i = 0; i < b->p->ndevs; i++) {
		const struct ih_fw_dev *fd = &b->p->devs[i];

		if (fd->kind == IH_FW_DEV_CLIENT && fd->dev) {
			ret = ih_device_set_driver_override(fd->dev, "tclient");
			if (ret)
				return ret;
		}
	}
	ret = ih_driver_register(b->w, &b->cdrv.drv);
	b->cdrv_on = !ret;
	if (ret)
		return ret;
	ret = ih_driver_register(b->w, &b->pdrv);
	b->pdrv_on = !ret;
	return ret;
}

/*
 * pop_bring_up() - a world with @flow, populated from @d or @t (exactly one non-NULL,
 * consumed) in @order with the test drivers. Returns 0 or the first error; on error the
 * world is still there for pop_tear_down().
 */
static inline int pop_bring_up(struct pop_bringup *b, struct ih_world *w, enum ih_probe_flow flow,
			       enum pop_order order, struct ih_dt_desc *d, struct ih_iort *t)
{
	unsigned int flags = order == POP_IOMMU_LAST ? IH_FW_POP_IOMMUS_LAST : 0;
	struct ih_fw_diag diag;
	int ret;

	memset(b, 0, sizeof(*b));
	b->w = w;
	tiommu_pdrv_init(&b->idrv);
	tdriver_init(&b->cdrv, "tclient", false);
	b->pdrv = (struct ih_driver){.name = "tpci",
				     .bus = &ih_pci_bus_type,
				     .probe = pop_pci_probe,
				     .id_table = pop_pci_ids};
	ih_iommu_set_probe_flow(w, flow);
	if (order != POP_IOMMU_LATE) {
		ret = ih_bus_registered(w, &ih_platform_bus_type)
			  ? 0
			  : ih_bus_register(w, &ih_platform_bus_type);
		if (!ret)
			ret = pop_register_iommu_drv(b);
		if (ret) {
			ih_dt_free(d);
			ih_iort_free(t);
			return ret;
		}
	}
	ret = d ? ih_fw_populate_dt(w, d, &pop_test_ops, flags, &b->p, &diag)
		: ih_fw_populate_iort(w, t, &pop_test_ops, flags, &b->p, &diag);
	if (ret) {
		ih_dt_free(d);
		ih_iort_free(t);
		return ret;
	}
	ret = pop_register_client_drvs(b);
	if (!ret && order == POP_IOMMU_LATE)
		ret = pop_register_iommu_drv(b);
	return ret;
}

static inline void pop_tear_down(struct pop_bringup *b)
{
	ih_fw_depopulate(b->p);
	b->p = NULL;
	if (b->cdrv_on)
		ih_driver_unregister(b->w, &b->cdrv.drv);
	if (b->pdrv_on)
		ih_driver_unregister(b->w, &b->pdrv);
	if (b->idrv_on)
		ih_driver_unregister(b->w, &b->idrv.drv);
}

/* Index in the population of the IOMMU whose fwnode is @fwnode, or -1. */
static inline int pop_iommu_index(const struct ih_fw_population *p, const void *fwnode)
{
	for (unsigned int i = 0; i < p->ndevs; i++)
		if (p->devs[i].kind == IH_FW_DEV_IOMMU && p->devs[i].fwnode == fwnode)
			return (int)i;
	return -1;
}

/*
 * pop_snapshot() - one line per device: name, bound driver, fwspec (IOMMU device name and
 * IDs), group size, default domain type, owner count; group ids are left out (they count
 * allocation order, which differs between flows). Also checks every group's invariants.
 */
static inline void pop_snapshot(const struct pop_bringup *b, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < b->p->ndevs && n < size; i++) {
		struct ih_device *dev = b->p->devs[i].dev;
		struct ih_iommu_fwspec *fs = ih_dev_iommu_fwspec_get(dev);
		struct ih_driver *drv = ih_device_driver(dev);

		n += (size_t)snprintf(buf + n, size - n, "%s drv=%s", dev->name,
				      drv ? drv->name : "-");
		if (fs && n < size) {
			int k = pop_iommu_index(b->p, fs->iommu_fwnode);

			n += (size_t)snprintf(buf + n, size - n, " iommu=%s ids=",
					      k >= 0 ? b->p->devs[k].dev->name : "?");
			for (unsigned int j = 0; j < fs->num_ids && n < size; j++)
				n += (size_t)snprintf(buf + n, size - n, "%s%x", j ? "," : "",
						      fs->ids[j]);
		}
		if (dev->iommu_group && n < size) {
			struct ih_iommu_group_info info;

			ih_iommu_group_check(dev->iommu_group);
			ih_iommu_group_get_info(dev->iommu_group, &info);
			n += (size_t)snprintf(
			    buf + n, size - n, " group(n=%u def=%s owners=%u%s)", info.num_devices,
			    info.has_default ? ih_domain_type_name(info.default_type) : "-",
			    info.owner_cnt, info.in_default_domain ? " in-def" : "");
		}
		if (n < size)
			n += (size_t)snprintf(buf + n, size - n, "\n");
	}
}

/* The population entry of the device named @name, or NULL. */
static inline const struct ih_fw_dev *pop_by_name(const struct ih_fw_population *p,
						  const char *name)
{
	for (unsigned int i = 0; i < p->ndevs; i++)
		if (p->devs[i].dev && !strcmp(p->devs[i].dev->name, name))
			return &p->devs[i];
	return NULL;
}

#endif /* IH_TESTS_FW_POP_UTIL_H */
