// SPDX-License-Identifier: MIT
/* Test board for the Rockchip IOMMU driver. */
#include <stdio.h>
#include <string.h>

#include <ih/world.h>
#include "lib/rk_board.h"

struct ih_world *rkb_world(ih_pa_t pm_base)
{
	struct ih_world_config wc;
	struct ih_world *w;

	ih_world_config_init(&wc);
	if (pm_base) {
		wc.physmem_base = pm_base;
		wc.physmem_size = 16 * SZ_1M;
	}
	return ih_world_create(&wc, &w) ? NULL : w;
}

int rkb_init(struct rkb *b, struct ih_world *w, enum ih_rk_iommu_version v, unsigned int nbanks,
	     const char *compat)
{
	struct ih_rk_iommu_hw_config cfg = {
	    .version = v,
	    .nbanks = nbanks,
	    .bank_base = {RKB_BANK0, RKB_BANK1},
	    .seed = 7,
	};

	memset(b, 0, sizeof(*b));
	b->w = w;
	b->nbanks = nbanks;
	if (!compat)
		compat = v == IH_RK_IOMMU_HW_V2 ? IH_RK_IOMMU_COMPAT_V2 : IH_RK_IOMMU_COMPAT_V1;
	b->fw.entries = b->ent;
	tfw_install(w, &b->fw);
	return ih_rk_iommu_pdev_create(w, "vop-mmu", compat, &cfg, &b->pd);
}

struct ih_device *rkb_add_client(struct rkb *b)
{
	unsigned int n = b->nclients;

	if (n >= RKB_MAX_CLIENTS)
		return NULL;
	snprintf(b->names[n], sizeof(b->names[n]), "client%u", n);
	b->ent[n] = (struct tfw_entry){b->names[n], ih_rk_iommu_pdev_fwnode(b->pd), 0};
	b->fw.count = n + 1;
	b->client[n] = tplat_add(b->w, b->names[n]);
	if (!b->client[n])
		return NULL;
	b->nclients++;
	return b->client[n];
}

int rkb_register_iommu_driver(struct rkb *b)
{
	return ih_rk_iommu_driver_register(b->w, &b->rkdrv);
}

int rkb_add_iommu(struct rkb *b)
{
	int ret = ih_device_add(ih_rk_iommu_pdev_dev(b->pd));

	b->iommu_added = !ret;
	return ret;
}

int rkb_register_client_driver(struct rkb *b)
{
	int ret;

	tdriver_init(&b->cdrv, "client-drv", false);
	ret = ih_driver_register(b->w, &b->cdrv.drv);
	b->cdrv_registered = !ret;
	return ret;
}

u32 rkb_readl(struct rkb *b, unsigned int i, u64 off)
{
	if (!b->bank[i])
		b->bank[i] = ih_ioremap(b->w, i ? RKB_BANK1 : RKB_BANK0, IH_RK_IOMMU_BANK_SIZE);
	return b->bank[i] ? ih_readl(b->bank[i], off) : 0xffffffffu;
}

void rkb_fini(struct rkb *b)
{
	for (unsigned int i = b->nclients; i-- > 0;)
		ih_device_unregister(b->client[i]);
	if (b->cdrv_registered)
		ih_driver_unregister(b->w, &b->cdrv.drv);
	if (b->pd) {
		if (b->iommu_added)
			ih_device_unregister(ih_rk_iommu_pdev_dev(b->pd));
		else
			ih_device_put(ih_rk_iommu_pdev_dev(b->pd));
	}
	ih_rk_iommu_driver_unregister(b->w, b->rkdrv);
	/* The provider points into @b: unhook it before @b goes away. */
	ih_iommu_set_fw_provider(b->w, NULL, NULL);
	memset(b, 0, sizeof(*b));
}
