// SPDX-License-Identifier: MIT
/* SMMUv3 driver under fault injection: every allocation site fails once, cleanly. */
#include <criterion/criterion.h>

#include <ih/base.h>
#include <ih/diag.h>

#include "lib/fault_sweep.h"
#include "smmuv3/smmuv3_dtest.h"

/*
 * Probe the SMMU with a device waiting for it, map, translate, unmap, fault, claim the
 * group for an explicit owner (blocked domain), release it, and tear everything down. An
 * injected failure may stop the story at any step; whatever happened must be undone, and
 * whatever succeeded must behave exactly as without fault injection.
 */
static void scenario(struct ih_world *w, void *arg)
{
	struct ih_smmuv3_drv_config dcfg;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu = NULL;
	struct tfw fw = {0};
	char fwnode;
	struct tfw_entry e = {"dev0", &fwnode, 0x123};
	struct ih_device *dev;
	ih_pa_t buf, pa = 0;
	int owner, ret;

	(void)arg;
	fw.entries = &e;
	fw.count = 1;
	tfw_install(w, &fw);
	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	cr_assert_eq(ih_smmuv3_hw_create(w, DT_MMIO_BASE, NULL, &hw), 0);
	buf = ih_pm_alloc(w, SZ_4K, SZ_4K, "test:buf");
	cr_assert_neq(buf, IH_PA_INVALID);
	dev = tplat_add(w, "dev0");
	cr_assert_not_null(dev);

	ih_smmuv3_drv_config_init(&dcfg);
	dcfg.hw = hw;
	dcfg.mmio_base = DT_MMIO_BASE;
	ret = ih_smmuv3_probe(w, &dcfg, NULL, &fwnode, &smmu);
	if (ret) {
		cr_expect_eq(ret, -ENOMEM);
		cr_expect_eq(ih_readl(ih_ioremap(w, DT_MMIO_BASE, 0x100), 0x24), 0,
			     "a failed probe leaves the SMMU disabled");
		goto out;
	}
	if (dev->iommu_group) {
		struct ih_iommu_domain *dom = ih_iommu_get_dma_domain(dev);

		ret = ih_iommu_map(dom, 0x10000, buf, SZ_4K, IH_PROT_READ | IH_PROT_WRITE);
		if (ret) {
			cr_expect_eq(ret, -ENOMEM);
		} else {
			cr_expect_eq(ih_dma_access(dev, 0x10008, 4, IH_DMA_FROM_DEVICE, &pa), 0);
			cr_expect_eq(pa, buf + 8);
			cr_expect_eq(ih_iommu_unmap(dom, 0x10000, SZ_4K), SZ_4K);
			cr_expect_eq(ih_dma_access(dev, 0x10008, 4, IH_DMA_FROM_DEVICE, &pa),
				     -EFAULT);
		}
		ret = ih_iommu_device_claim_dma_owner(dev, &owner);
		if (ret) {
			cr_expect_eq(ret, -ENOMEM);
		} else {
			cr_expect_eq(ih_dma_access(dev, 0x10008, 4, IH_DMA_FROM_DEVICE, &pa),
				     -EPERM);
			ih_iommu_device_release_dma_owner(dev);
		}
	} else {
		cr_expect_null(dev->iommu, "a failed device probe leaves nothing behind");
	}
out:
	ih_device_unregister(dev);
	ih_smmuv3_remove(smmu);
	ih_smmuv3_hw_destroy(hw);
	ih_pm_free(w, buf, SZ_4K);
	cr_expect_eq(ih_warn_count(w), 0);
}

Test(smmuv3_drv_fault, every_driver_allocation_fails_cleanly)
{
	/* smmuv3:drv, cmdq, evtq, strtab, strtab-l2-array, asid-map, strtab-l2, master, ... */
	cr_expect_geq(fault_sweep(scenario, NULL, "smmuv3:"), 8);
}

Test(smmuv3_drv_fault, every_page_table_allocation_fails_cleanly)
{
	cr_expect_geq(fault_sweep(scenario, NULL, "io_pgtable:"), 3);
}

Test(smmuv3_drv_fault, every_core_allocation_fails_cleanly)
{
	/* The core's group and fwspec allocations around the driver's callbacks. */
	cr_expect_geq(fault_sweep(scenario, NULL, "iommu:"), 1);
}
