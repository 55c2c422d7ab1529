/* SPDX-License-Identifier: MIT */
/* Test board for the Rockchip IOMMU driver: one IOMMU device, clients, firmware, drivers. */
#ifndef IH_TESTS_RK_BOARD_H
#define IH_TESTS_RK_BOARD_H

#include <ih/mmio.h>

#include "lib/test_iommu.h"
#include "rk_iommu/rk_iommu_drv.h"

#define RKB_MAX_CLIENTS 4
#define RKB_BANK0	0xfe043e00ULL /* RK3568 VOP MMU bank addresses */
#define RKB_BANK1	0xfe043f00ULL
#define RKB_V2_PM_BASE	0x2340000000ULL /* simulated memory with PA bits 39:32 set */

/*
 * struct rkb - a board: the IOMMU platform device, its driver, client platform devices
 * named in a test firmware provider (tfw) that points each at the IOMMU, and a client
 * driver (tdriver, compatible "test,dev"). Every step is separate so tests choose the
 * order; rkb_fini() undoes whatever was done, clients first.
 */
struct rkb {
	struct ih_world *w;
	struct ih_driver *rkdrv;
	struct ih_rk_iommu_pdev *pd;
	bool iommu_added;
	struct tfw fw;
	struct tfw_entry ent[RKB_MAX_CLIENTS];
	char names[RKB_MAX_CLIENTS][16];
	struct tdriver cdrv;
	bool cdrv_registered;
	struct ih_device *client[RKB_MAX_CLIENTS];
	unsigned int nclients;
	unsigned int nbanks;
	struct ih_mmio_region *bank[IH_RK_IOMMU_MAX_BANKS]; /* the test's own mapping */
};

/* A world whose simulated memory starts at @pm_base (16 MiB), or the default world for 0. */
struct ih_world *rkb_world(ih_pa_t pm_base);

/*
 * rkb_init() - create the IOMMU device (not added) in @w with @nbanks banks of hardware
 * version @v, compatible @compat (NULL: the one matching @v), and install the firmware.
 * Return: 0 or the error of ih_rk_iommu_pdev_create().
 */
int rkb_init(struct rkb *b, struct ih_world *w, enum ih_rk_iommu_version v, unsigned int nbanks,
	     const char *compat);

/* Name the client "clientN" in firmware and add it. Return: the device or NULL. */
struct ih_device *rkb_add_client(struct rkb *b);
int rkb_register_iommu_driver(struct rkb *b);
int rkb_add_iommu(struct rkb *b);
int rkb_register_client_driver(struct rkb *b);

/* Test-side register access to bank @i (maps the banks on first use). */
u32 rkb_readl(struct rkb *b, unsigned int i, u64 off);

/* Tear down in reverse: clients, client driver, IOMMU device, IOMMU driver. */
void rkb_fini(struct rkb *b);

#endif /* IH_TESTS_RK_BOARD_H */
