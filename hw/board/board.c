// SPDX-License-Identifier: MIT
/* A board: emulated SMMUv3 / Rockchip IOMMUs at populated firmware nodes, real drivers. */
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#define IH_LOG_PREFIX "board: "
#include <ih/diag.h>

#include "board.h"
#include "rk_iommu/rk_iommu_drv.h"
#include "smmuv3/smmuv3_drv.h"

/*
 * Lock order: none of the board's own. SMMUv3 probe and remove run under the SMMU
 * device's lock (driver core); the board's state is written at set-up and teardown only.
 */

struct ih_board {
	struct ih_world *w;
	struct ih_board_config cfg;
	struct ih_fw_populate_ops ops;
	struct ih_driver smmu_drv;
	bool smmu_drv_on;
	struct ih_driver *rk_drv;
};

/* An SMMUv3 platform device and its resources (what a DT `reg` gives a kernel driver). */
struct board_smmu_pdev {
	struct ih_platform_device pdev;
	struct ih_board *b;
	u64 base;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu; /* the bound driver's instance */
};

static const char *const board_smmu_compat[] = {"arm,smmu-v3", NULL};

void ih_board_config_init(struct ih_board_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	ih_smmuv3_hw_config_init(&cfg->smmu_hw);
	cfg->smmu_hw.sid_bits = 20;
}

static void board_smmu_release(struct ih_device *dev)
{
	struct board_smmu_pdev *sp = container_of(dev, struct board_smmu_pdev, pdev.dev);

	ih_smmuv3_hw_destroy(sp->hw);
	ih_free(dev->world, sp);
}

/* The board SMMU @dev is: only devices the board built carry its release function. */
static struct board_smmu_pdev *board_smmu_of(struct ih_device *dev)
{
	if (!dev || dev->release != board_smmu_release)
		return NULL;
	return container_of(dev, struct board_smmu_pdev, pdev.dev);
}

/* ---- The SMMUv3 platform driver: the kernel's arm_smmu_device_probe() entry ---- */

static int board_smmu_probe(struct ih_device *dev)
{
	struct board_smmu_pdev *sp = board_smmu_of(dev);
	struct ih_smmuv3_drv_config cfg;
	int ret;

	if (!sp)
		return -ENODEV; /* not a device the board built hardware for */
	ih_smmuv3_drv_config_init(&cfg);
	cfg.hw = sp->hw;
	cfg.mmio_base = sp->base;
	cfg.name = dev->name;
	cfg.sync_mode = sp->b->cfg.smmu_sync_msi ? IH_SMMUV3_SYNC_MSI : IH_SMMUV3_SYNC_POLL;
	/* Registration inside: in the probe-path flow it parses every waiting client. */
	ret = ih_smmuv3_probe(dev->world, &cfg, dev, dev->fwnode, &sp->smmu);
	if (ret)
		sp->smmu = NULL;
	return ret;
}

static void board_smmu_remove(struct ih_device *dev)
{
	struct board_smmu_pdev *sp = board_smmu_of(dev);

	ih_smmuv3_remove(sp->smmu);
	sp->smmu = NULL;
}

/* ---- Populate callback: hardware for each IOMMU node ---- */

static int board_make_smmu(struct ih_board *b, struct ih_world *w, const struct ih_fw_dev *fd,
			   const char *name, struct ih_device **out)
{
	struct board_smmu_pdev *sp;
	int ret;

	sp = ih_alloc(w, sizeof(*sp), "board:smmu-pdev");
	if (!sp)
		return -ENOMEM;
	ret = ih_smmuv3_hw_create(w, fd->res[0].base, &b->cfg.smmu_hw, &sp->hw);
	if (ret) {
		ih_free(w, sp);
		if (ret == -ENOMEM)
			return ret;
		/* A base the model cannot claim (overlap, alignment): no hardware there. */
		ih_log(w, IH_LOG_GUEST_ERROR, "%s: no SMMUv3 at %#llx (%d)", fd->what,
		       (unsigned long long)fd->res[0].base, ret);
		return -ENODEV;
	}
	ret = ih_platform_device_init(w, &sp->pdev, name, "arm,smmu-v3", NULL, board_smmu_release);
	if (ret) {
		ih_smmuv3_hw_destroy(sp->hw);
		ih_free(w, sp);
		return ret;
	}
	sp->b = b;
	sp->base = fd->res[0].base;
	*out = &sp->pdev.dev;
	return 0;
}

static int board_make_rk(struct ih_board *b, struct ih_world *w, const struct ih_fw_dev *fd,
			 const char *name, struct ih_device **out)
{
	struct ih_rk_iommu_hw_config hw = {0};
	struct ih_rk_iommu_pdev *pd;
	int ret;

	hw.version =
	    strcmp(fd->compatible, IH_RK_IOMMU_COMPAT_V1) ? IH_RK_IOMMU_HW_V2 : IH_RK_IOMMU_HW_V1;
	hw.nbanks = ih_min(fd->nres, (unsigned int)IH_RK_IOMMU_MAX_BANKS);
	for (unsigned int i = 0; i < hw.nbanks; i++)
		hw.bank_base[i] = fd->res[i].base;
	hw.tlb_entries = b->cfg.rk_tlb_entries;
	hw.name = name;
	ret = ih_rk_iommu_pdev_create(w, name, fd->compatible, &hw, &pd);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		ih_log(w, IH_LOG_GUEST_ERROR, "%s: no Rockchip IOMMU at %#llx (%d)", fd->what,
		       (unsigned long long)fd->res[0].base, ret);
		return -ENODEV;
	}
	*out = ih_rk_iommu_pdev_dev(pd);
	return 0;
}

static int board_create_iommu(void *opaque, struct ih_world *w, const struct ih_fw_dev *fd,
			      const char *name, struct ih_device **out)
{
	struct ih_board *b = opaque;

	if (!fd->nres)
		return -ENODEV;
	if (fd->model == IH_FW_IOMMU_SMMUV3 && !b->cfg.no_smmuv3)
		return board_make_smmu(b, w, fd, name, out);
	if (fd->model == IH_FW_IOMMU_RK && !b->cfg.no_rk)
		return board_make_rk(b, w, fd, name, out);
	return -ENODEV;
}

/* ---- The board ---- */

int ih_board_create(struct ih_world *w, const struct ih_board_config *cfg, struct ih_board **out)
{
	struct ih_board *b;
	int ret;

	if (!w || !out)
		return -EINVAL;
	*out = NULL;
	b = ih_alloc(w, sizeof(*b), "board:board");
	if (!b)
		return -ENOMEM;
	b->w = w;
	if (cfg)
		b->cfg = *cfg;
	else
		ih_board_config_init(&b->cfg);
	b->ops.create_iommu = board_create_iommu;
	b->ops.opaque = b;
	if (!ih_bus_registered(w, &ih_platform_bus_type)) {
		ret = ih_bus_register(w, &ih_platform_bus_type);
		if (ret)
			goto err_free;
	}
	b->smmu_drv = (struct ih_driver){
	    .name = "arm-smmu-v3",
	    .bus = &ih_platform_bus_type,
	    .probe = board_smmu_probe,
	    .remove = board_smmu_remove,
	    .id_table = board_smmu_compat,
	};
	ret = ih_driver_register(w, &b->smmu_drv);
	if (ret)
		goto err_free;
	b->smmu_drv_on = true;
	ret = ih_rk_iommu_driver_register(w, &b->rk_drv);
	if (ret)
		goto err_smmu;
	*out = b;
	return 0;

err_smmu:
	ih_driver_unregister(w, &b->smmu_drv);
err_free:
	ih_free(w, b);
	return ret;
}

const struct ih_fw_populate_ops *ih_board_populate_ops(struct ih_board *b)
{
	return &b->ops;
}

void ih_board_destroy(struct ih_board *b)
{
	if (!b)
		return;
	ih_rk_iommu_driver_unregister(b->w, b->rk_drv);
	if (b->smmu_drv_on)
		ih_driver_unregister(b->w, &b->smmu_drv);
	ih_free(b->w, b);
}

int ih_board_iommu_info(struct ih_board *b, struct ih_device *dev, struct ih_board_iommu_info *info)
{
	struct board_smmu_pdev *sp = board_smmu_of(dev);
	struct ih_rk_iommu_pdev *pd;

	memset(info, 0, sizeof(*info));
	if (sp) {
		info->model = IH_FW_IOMMU_SMMUV3;
		info->base = sp->base;
		info->nbanks = 1;
		info->bound = sp->smmu != NULL;
		info->smmu_hw = sp->hw;
		info->smmu = sp->smmu;
		return 0;
	}
	pd = ih_rk_iommu_pdev_of(dev);
	if (pd) {
		info->model = IH_FW_IOMMU_RK;
		info->base = pd->bank_base[0];
		info->nbanks = pd->nbanks;
		info->bound = ih_device_driver(dev) == b->rk_drv;
		info->rk_hw = pd->hw;
		return 0;
	}
	return -ENODEV;
}
