/* SPDX-License-Identifier: MIT */
/* Test fixture for the SMMUv3 driver: an emulated SMMU, the driver on it, a test firmware. */
#ifndef TESTS_SMMUV3_DTEST_H
#define TESTS_SMMUV3_DTEST_H

#include <string.h>

#include <criterion/criterion.h>
#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/mmio.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "lib/test_iommu.h"
#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"

#define DT_MMIO_BASE 0x2b400000ULL
#define DT_BUF_SIZE  (64 * 1024)

/* Expected field values, from IHI 0070 (5.2 STE.Config, 6.3.9 CR0). */
#define DT_STE_V	     0x1ULL
#define DT_STE_CFG(ste0)     (((ste0) >> 1) & 7)
#define DT_CFG_ABORT	     0
#define DT_CFG_BYPASS	     4
#define DT_CFG_S1	     5
#define DT_CR0_ALL_ON	     0xdu /* SMMUEN | EVTQEN | CMDQEN */
#define DT_EVT_F_TRANSLATION 0x10

struct dtest {
	struct ih_world *w;
	struct ih_smmuv3_hw_config hwcfg;
	struct ih_smmuv3_drv_config dcfg;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu;
	struct ih_mmio_region *r; /* the test's own view of the registers */
	char fwnode;		  /* its address is the SMMU's firmware node */
	struct tfw fw;
	struct tfw_entry entries[8];
	ih_pa_t buf; /* DMA target memory */
};

/* A world and an SMMU, not yet probed: adjust t->hwcfg / t->dcfg, then dt_start(). */
static inline void dt_init(struct dtest *t, enum ih_exec_mode mode)
{
	struct ih_world_config wc;

	memset(t, 0, sizeof(*t));
	ih_world_config_init(&wc);
	wc.mode = mode;
	wc.log = "none";
	cr_assert_eq(ih_world_create(&wc, &t->w), 0);
	ih_smmuv3_hw_config_init(&t->hwcfg);
	ih_smmuv3_drv_config_init(&t->dcfg);
	t->dcfg.mmio_base = DT_MMIO_BASE;
	t->fw.entries = t->entries;
	tfw_install(t->w, &t->fw);
	t->buf = ih_pm_alloc(t->w, DT_BUF_SIZE, DT_BUF_SIZE, "test:buf");
	cr_assert_neq(t->buf, IH_PA_INVALID);
}

/* Firmware says: device @name sits behind the SMMU with StreamID @sid. */
static inline void dt_add_fw(struct dtest *t, const char *name, u32 sid)
{
	cr_assert_lt(t->fw.count, ARRAY_SIZE(t->entries));
	t->entries[t->fw.count++] = (struct tfw_entry){name, &t->fwnode, sid};
}

static inline void dt_create_hw(struct dtest *t)
{
	cr_assert_eq(ih_smmuv3_hw_create(t->w, DT_MMIO_BASE, &t->hwcfg, &t->hw), 0);
	t->dcfg.hw = t->hw;
	t->r = ih_ioremap(t->w, DT_MMIO_BASE, IH_SMMUV3_MMIO_SIZE);
	cr_assert_not_null(t->r);
}

static inline void dt_probe(struct dtest *t)
{
	cr_assert_eq(ih_smmuv3_probe(t->w, &t->dcfg, NULL, &t->fwnode, &t->smmu), 0);
}

static inline void dt_start(struct dtest *t)
{
	dt_create_hw(t);
	dt_probe(t);
}

static inline void dt_fini(struct dtest *t)
{
	ih_smmuv3_remove(t->smmu);
	ih_smmuv3_hw_destroy(t->hw);
	ih_pm_free(t->w, t->buf, DT_BUF_SIZE);
	cr_expect_eq(ih_warn_count(t->w), 0, "warnings counted");
	cr_expect_eq(ih_world_destroy(t->w), 0, "the test leaked model memory");
}

static inline u32 dt_reg(struct dtest *t, u64 off)
{
	return ih_readl(t->r, off);
}

static inline struct ih_smmuv3_stats dt_stats(struct dtest *t)
{
	struct ih_smmuv3_stats st;

	ih_smmuv3_get_stats(t->smmu, &st);
	return st;
}

static inline struct ih_smmuv3_hw_stats dt_hw_stats(struct dtest *t)
{
	struct ih_smmuv3_hw_stats st;

	ih_smmuv3_hw_stats(t->hw, &st);
	return st;
}

static inline unsigned int dt_ste_cfg(struct dtest *t, u32 sid)
{
	u64 ste[4];

	cr_assert_eq(ih_smmuv3_read_ste(t->smmu, sid, ste), 0);
	cr_assert(ste[0] & DT_STE_V, "STE of sid 0x%x is not valid", sid);
	return (unsigned int)DT_STE_CFG(ste[0]);
}

#endif /* TESTS_SMMUV3_DTEST_H */
