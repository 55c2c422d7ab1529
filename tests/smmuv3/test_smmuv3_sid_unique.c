// SPDX-License-Identifier: MIT
/* One StreamID, one master: the SMMUv3 driver refuses a second device claiming a used SID. */
#include <criterion/criterion.h>

#include <ih/base.h>
#include <ih/diag.h>

#include "smmuv3/smmuv3_dtest.h"

/* A device whose firmware entry was added with dt_add_fw(), added in the probe-path flow. */
static struct ih_device *add_dev(struct dtest *t, const char *name)
{
	struct ih_device *dev = tplat_add(t->w, name);

	cr_assert_not_null(dev);
	return dev;
}

Test(smmuv3_sid_unique, second_master_with_same_streamid_is_refused)
{
	struct dtest t;
	struct ih_device *a, *b;
	ih_pa_t pa = 0;
	const u64 iova = 0x40000000;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_add_fw(&t, "devA", 0x21);
	dt_add_fw(&t, "devB", 0x21);
	ih_iommu_set_probe_flow(t.w, IH_PROBE_FLOW_PROBE_PATH);
	dt_start(&t);
	a = add_dev(&t, "devA");
	cr_assert_not_null(a->iommu_group, "the first master owns StreamID 0x21");
	b = add_dev(&t, "devB");
	cr_expect_null(b->iommu_group, "the second master must be refused");
	cr_expect_null(b->iommu, "its IOMMU state is freed with the refused probe");
	cr_expect_eq(ih_iommu_probe_device(b), -ENODEV);
	/* The STE still serves the first master only: its mapping translates. */
	cr_assert_eq(ih_iommu_map(ih_iommu_get_dma_domain(a), iova, t.buf, SZ_4K,
				  IH_PROT_READ | IH_PROT_WRITE),
		     0);
	cr_expect_eq(ih_dma_access(a, iova + 8, 4, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(pa, t.buf + 8);
	cr_expect_eq(ih_iommu_unmap(ih_iommu_get_dma_domain(a), iova, SZ_4K), SZ_4K);
	ih_device_unregister(b);
	ih_device_unregister(a);
	dt_fini(&t);
}

Test(smmuv3_sid_unique, streamid_is_free_again_after_its_master_leaves)
{
	struct dtest t;
	struct ih_device *a, *b;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_add_fw(&t, "devA", 0x5);
	dt_add_fw(&t, "devB", 0x5);
	ih_iommu_set_probe_flow(t.w, IH_PROBE_FLOW_PROBE_PATH);
	dt_start(&t);
	a = add_dev(&t, "devA");
	b = add_dev(&t, "devB");
	cr_assert_not_null(a->iommu_group);
	cr_assert_null(b->iommu_group);
	ih_device_unregister(a);
	/* devA released 0x5: devB's next probe takes it. */
	cr_expect_eq(ih_iommu_probe_device(b), 0);
	cr_expect_not_null(b->iommu_group);
	cr_expect_eq(dt_ste_cfg(&t, 0x5), DT_CFG_S1, "devB's default DMA domain is installed");
	ih_device_unregister(b);
	dt_fini(&t);
}

Test(smmuv3_sid_unique, repeated_streamid_within_one_master_is_accepted)
{
	struct dtest t;
	struct ih_device *a;
	u32 ids[2] = {0x30, 0x30};

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_add_fw(&t, "devA", 0x30);
	ih_iommu_set_probe_flow(t.w, IH_PROBE_FLOW_BIND);
	dt_start(&t);
	a = add_dev(&t, "devA");
	/* A PCI function whose alias equals its own requester ID names one SID twice. */
	cr_assert_eq(ih_iommu_fwspec_init(a, &t.fwnode), 0);
	cr_assert_eq(ih_iommu_fwspec_add_ids(a, ids, 2), 0);
	cr_expect_eq(ih_iommu_probe_device(a), 0);
	cr_expect_not_null(a->iommu_group);
	cr_expect_eq(dt_ste_cfg(&t, 0x30), DT_CFG_S1);
	ih_device_unregister(a);
	dt_fini(&t);
}
