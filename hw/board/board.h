/* SPDX-License-Identifier: MIT */
/* A board: emulated IOMMU hardware for populated firmware nodes, and the real drivers. */
#ifndef IH_HW_BOARD_H
#define IH_HW_BOARD_H

#include <ih/fw_populate.h>
#include <ih/iommu.h>

#include "smmuv3/smmuv3_hw.h"

struct ih_world;
struct ih_device;
struct ih_board;
struct ih_smmuv3;
struct ih_rk_iommu_hw;

/*
 * What a machine's firmware describes, made real: for every enabled IOMMU node of a
 * modelled type with an MMIO window, the board builds the emulated hardware at that base
 * and gives the node a device the real driver binds:
 *
 *   "arm,smmu-v3" / IORT SMMUv3   ih_smmuv3_hw at res[0]; the board's platform driver
 *                                 "arm-smmu-v3" probes it with ih_smmuv3_probe()
 *   "rockchip,iommu",             ih_rk_iommu_pdev_create() with one bank per `reg` entry
 *   "rockchip,rk3568-iommu"       (v1 / v2 by compatible); the Rockchip platform driver
 *                                 (ih_rk_iommu_driver_register()) binds it
 *
 * Anything else (unknown types, IORT SMMUv1/v2, no `reg`, hardware that cannot be built
 * at that base, e.g. two IOMMUs at one address) gets a plain device no driver binds: its
 * clients wait for it (deferred probe), as on a kernel without that driver.
 *
 * Use:
 *	ih_board_create(w, NULL, &b);                       drivers registered
 *	ih_fw_populate_dt(w, d, ih_board_populate_ops(b), 0, &p, &diag);
 *	... client drivers, DMA ...
 *	ih_fw_depopulate(p);  ih_board_destroy(b);          (either order works)
 *
 * Synchronisation: set-up and teardown only, from one thread.
 */

/**
 * struct ih_board_config - how the board builds its hardware.
 * @smmu_hw: the emulated SMMUv3s' features (ih_smmuv3_hw_config_init() defaults, with
 *	20 StreamID bits so that IORT tables with segment-scaled StreamIDs fit).
 * @smmu_sync_msi: the SMMUv3 driver completes CMD_SYNC by MSI (else by polling).
 * @rk_tlb_entries: TLB slots per Rockchip bank (0: the hardware default).
 * @no_smmuv3, @no_rk: leave that kind out (its nodes get plain devices).
 */
struct ih_board_config {
	struct ih_smmuv3_hw_config smmu_hw;
	bool smmu_sync_msi;
	unsigned int rk_tlb_entries;
	bool no_smmuv3;
	bool no_rk;
};

/* ih_board_config_init() - the defaults described above. */
void ih_board_config_init(struct ih_board_config *cfg);

/**
 * ih_board_create() - register the IOMMU drivers the board needs in @w.
 * @cfg: NULL for the defaults; copied.
 * @out: the board.
 *
 * Context: set-up; no device lock held.
 * Return: 0; -EINVAL for NULL @w or @out; -ENOMEM (site "board:board" and the drivers'
 * registration sites); errors of ih_driver_register().
 */
int ih_board_create(struct ih_world *w, const struct ih_board_config *cfg, struct ih_board **out);

/**
 * ih_board_populate_ops() - the callbacks to pass to ih_fw_populate_dt() /
 * ih_fw_populate_iort() so IOMMU nodes get the board's hardware. Valid while @b exists.
 */
const struct ih_fw_populate_ops *ih_board_populate_ops(struct ih_board *b);

/**
 * ih_board_destroy() - unregister the drivers (every bound IOMMU is removed; its clients
 * lose their IOMMU state) and free the board. The hardware goes with its device. NULL is
 * ignored.
 * Context: teardown; client DMA through the IOMMUs must have stopped.
 */
void ih_board_destroy(struct ih_board *b);

/**
 * struct ih_board_iommu_info - what the board made for one IOMMU device.
 * @model: the kind of hardware, %IH_FW_IOMMU_UNKNOWN for a plain device.
 * @base: MMIO base of the (first) register window.
 * @nbanks: Rockchip banks (1 for an SMMUv3).
 * @bound: a driver is bound and its instance registered.
 * @smmu_hw: the emulated SMMUv3 (NULL for other kinds).
 * @smmu: the SMMUv3 driver's instance while bound, else NULL (for its stats, events and
 *	raw commands: ih_smmuv3_get_stats(), ih_smmuv3_drain_events(), ...).
 * @rk_hw: the emulated Rockchip IOMMU (NULL for other kinds).
 */
struct ih_board_iommu_info {
	enum ih_fw_iommu_model model;
	u64 base;
	unsigned int nbanks;
	bool bound;
	struct ih_smmuv3_hw *smmu_hw;
	struct ih_smmuv3 *smmu;
	struct ih_rk_iommu_hw *rk_hw;
};

/**
 * ih_board_iommu_info() - describe @dev, an IOMMU device made through @b's populate ops.
 * Return: 0; -ENODEV when @dev has no board hardware (a plain device).
 */
int ih_board_iommu_info(struct ih_board *b, struct ih_device *dev,
			struct ih_board_iommu_info *info);

#endif /* IH_HW_BOARD_H */
