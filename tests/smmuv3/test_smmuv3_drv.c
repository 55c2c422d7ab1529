// SPDX-License-Identifier: MIT
/* The SMMUv3 driver against the emulated SMMUv3, through the IOMMU core. */
#include <criterion/criterion.h>

#include <ih/base.h>
#include <ih/diag.h>

#include "smmuv3/drv_regs.h"
#include "smmuv3/smmuv3_dtest.h"

/* ---- Bring-up ---- */

Test(smmuv3_drv, linear_bringup_enables_with_abort_stes)
{
	struct dtest t;
	struct ih_smmuv3_info info;
	struct ih_smmuv3_stats st;
	u32 cfg;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	t.hwcfg.strtab_2lvl = false;
	t.hwcfg.sid_bits = 8;
	dt_start(&t);
	ih_smmuv3_get_info(t.smmu, &info);
	cr_expect_not(info.strtab_2lvl);
	cr_expect_eq(info.sid_bits, 8);
	cr_expect_eq(info.asid_bits, 16);
	cr_expect_eq(info.oas, 48);
	cr_expect_eq(info.pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
	cr_expect(info.range_inv);
	cr_expect_eq(dt_reg(&t, SMMUV3_CR0ACK), DT_CR0_ALL_ON);
	cr_expect(dt_reg(&t, SMMUV3_GBPA) & SMMUV3_GBPA_ABORT, "GBPA aborts before enable");
	cfg = dt_reg(&t, SMMUV3_STRTAB_BASE_CFG);
	cr_expect_eq(cfg, 8, "linear, LOG2SIZE 8");
	/* Every StreamID starts as a valid abort STE (quiet termination, no C_BAD_STE). */
	cr_expect_eq(dt_ste_cfg(&t, 0), DT_CFG_ABORT);
	cr_expect_eq(dt_ste_cfg(&t, 255), DT_CFG_ABORT);
	/* Bring-up invalidation: CFGI_ALL + TLBI_NSNH_ALL + one CMD_SYNC. */
	st = dt_stats(&t);
	cr_expect_eq(st.cmds, 3);
	cr_expect_eq(st.cfgi, 1);
	cr_expect_eq(st.tlbi, 1);
	cr_expect_eq(st.syncs, 1);
	cr_expect_eq(dt_hw_stats(&t).syncs, 1);
	ih_smmuv3_remove(t.smmu);
	cr_expect_eq(dt_reg(&t, SMMUV3_CR0ACK), 0, "remove disables the SMMU");
	t.smmu = NULL;
	dt_fini(&t);
}

Test(smmuv3_drv, two_level_bringup_creates_l2_tables_on_demand)
{
	struct dtest t;
	struct ih_smmuv3_info info;
	struct ih_device *dev;
	u64 ste[4];
	u32 cfg;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_add_fw(&t, "dev0", 0x1234);
	dt_start(&t);
	ih_smmuv3_get_info(t.smmu, &info);
	cr_expect(info.strtab_2lvl);
	cr_expect_eq(info.sid_bits, 16);
	cfg = dt_reg(&t, SMMUV3_STRTAB_BASE_CFG);
	cr_expect_eq(FIELD_GET(SMMUV3_STRTAB_CFG_FMT, cfg), SMMUV3_STRTAB_FMT_2LVL);
	cr_expect_eq(FIELD_GET(SMMUV3_STRTAB_CFG_SPLIT, cfg), 8);
	cr_expect_eq(FIELD_GET(SMMUV3_STRTAB_CFG_LOG2SIZE, cfg), 16);
	cr_expect_eq(ih_smmuv3_read_ste(t.smmu, 0x1234, ste), -ENOENT, "no L2 table yet");
	cr_expect_eq(ih_smmuv3_read_ste(t.smmu, 0x10000, ste), -ERANGE);
	ih_iommu_set_probe_flow(t.w, IH_PROBE_FLOW_PROBE_PATH);
	dev = tplat_add(t.w, "dev0");
	cr_assert_not_null(dev);
	cr_assert_not_null(dev->iommu_group, "probed at device add");
	/* probe_device made the L2 table; the default DMA domain made the STE stage 1. */
	cr_expect_eq(dt_ste_cfg(&t, 0x1234), DT_CFG_S1);
	cr_expect_eq(dt_ste_cfg(&t, 0x1235), DT_CFG_ABORT, "the rest of the L2 table aborts");
	cr_expect_eq(ih_smmuv3_read_ste(t.smmu, 0x2234, ste), -ENOENT);
	ih_device_unregister(dev);
	cr_expect_eq(dt_ste_cfg(&t, 0x1234), DT_CFG_ABORT, "release puts the STE back to abort");
	dt_fini(&t);
}

Test(smmuv3_drv, queue_sizes_are_capped_by_idr1)
{
	struct dtest t;
	struct ih_smmuv3_info info;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	t.hwcfg.cmdqs_log2 = 3;
	t.hwcfg.evtqs_log2 = 2;
	t.dcfg.cmdq_log2 = 10;
	t.dcfg.evtq_log2 = 10;
	dt_start(&t);
	ih_smmuv3_get_info(t.smmu, &info);
	cr_expect_eq(info.cmdq_log2, 3);
	cr_expect_eq(info.evtq_log2, 2);
	cr_expect_eq(ih_readq(t.r, SMMUV3_CMDQ_BASE) & SMMUV3_Q_BASE_LOG2SIZE, 3);
	dt_fini(&t);
}

Test(smmuv3_drv, linear_table_is_capped_and_two_level_can_be_refused)
{
	struct dtest t;
	struct ih_smmuv3_info info;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	t.hwcfg.sid_bits = 20;
	t.dcfg.force_linear = true;
	dt_start(&t);
	ih_smmuv3_get_info(t.smmu, &info);
	cr_expect_not(info.strtab_2lvl);
	cr_expect_eq(info.sid_bits, 16, "a linear table covers at most 16 SID bits (4 MiB)");
	cr_expect_eq(dt_reg(&t, SMMUV3_STRTAB_BASE_CFG), 16);
	dt_fini(&t);
}

Test(smmuv3_drv, probe_without_register_file_is_enodev)
{
	struct dtest t;
	struct ih_smmuv3 *smmu = NULL;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_create_hw(&t);
	t.dcfg.mmio_base = DT_MMIO_BASE + 0x100000;
	cr_expect_eq(ih_smmuv3_probe(t.w, &t.dcfg, NULL, &t.fwnode, &smmu), -ENODEV);
	cr_expect_null(smmu);
	t.dcfg.mmio_base = DT_MMIO_BASE;
	t.dcfg.ias = 20;
	cr_expect_eq(ih_smmuv3_probe(t.w, &t.dcfg, NULL, &t.fwnode, &smmu), -EINVAL);
	cr_expect_eq(dt_reg(&t, SMMUV3_CR0), 0, "nothing was enabled");
	dt_fini(&t);
}

/* ---- Probe flows ---- */

Test(smmuv3_drv, probe_path_flow_probes_waiting_device_at_registration)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_iommu_group_info gi;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_add_fw(&t, "dev0", 0x10);
	ih_iommu_set_probe_flow(t.w, IH_PROBE_FLOW_PROBE_PATH);
	dev = tplat_add(t.w, "dev0");
	cr_assert_not_null(dev);
	cr_expect_null(dev->iommu_group, "no SMMU yet");
	dt_start(&t);
	cr_assert_not_null(dev->iommu_group, "registration probed the waiting device");
	cr_expect_eq(ih_dev_iommu_fwspec_get(dev)->ids[0], 0x10);
	ih_iommu_group_get_info(dev->iommu_group, &gi);
	cr_expect_eq(gi.default_type, IH_DOMAIN_DMA);
	cr_expect(gi.in_default_domain);
	cr_expect_eq(dt_ste_cfg(&t, 0x10), DT_CFG_S1);
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, bind_flow_probes_at_driver_bind)
{
	struct dtest t;
	struct ih_device *dev;
	struct tdriver d;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_add_fw(&t, "dev0", 0x22);
	ih_iommu_set_probe_flow(t.w, IH_PROBE_FLOW_BIND);
	dt_start(&t);
	dev = tplat_add(t.w, "dev0");
	cr_assert_not_null(dev);
	cr_expect_null(dev->iommu_group, "bind flow: nothing at device add");
	cr_expect_eq(ih_smmuv3_read_ste(t.smmu, 0x22, (u64[4]){0}), -ENOENT, "no L2 table yet");
	tdriver_init(&d, "tdrv", false);
	cr_assert_eq(ih_driver_register(t.w, &d.drv), 0);
	cr_expect_eq(d.probes, 1);
	cr_assert_not_null(dev->iommu_group, "dma_configure probed it");
	cr_expect_eq(dt_ste_cfg(&t, 0x22), DT_CFG_S1);
	ih_device_unregister(dev);
	ih_driver_unregister(t.w, &d.drv);
	dt_fini(&t);
}

Test(smmuv3_drv, of_xlate_rejects_streamid_beyond_sid_bits)
{
	struct dtest t;
	struct ih_device *dev;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	t.hwcfg.sid_bits = 12;
	dt_add_fw(&t, "dev0", 0x1000);
	ih_iommu_set_probe_flow(t.w, IH_PROBE_FLOW_PROBE_PATH);
	dt_start(&t);
	dev = tplat_add(t.w, "dev0");
	cr_assert_not_null(dev);
	cr_expect_null(dev->iommu_group, "StreamID 0x1000 needs 13 bits");
	cr_expect_null(dev->iommu);
	ih_device_unregister(dev);
	dt_fini(&t);
}

/* ---- Translation through the core ---- */

/* A probed device in its default DMA domain (probe-path flow, no driver bound). */
static struct ih_device *dt_add_dev(struct dtest *t, const char *name, u32 sid)
{
	struct ih_device *dev;

	dt_add_fw(t, name, sid);
	ih_iommu_set_probe_flow(t->w, IH_PROBE_FLOW_PROBE_PATH);
	dev = tplat_add(t->w, name);
	cr_assert_not_null(dev);
	cr_assert_not_null(dev->iommu_group);
	return dev;
}

static void map_then_unmap_faults(enum ih_exec_mode mode, enum ih_smmuv3_sync_mode sync)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_iommu_domain *dom;
	struct ih_smmuv3_event ev;
	struct ih_smmuv3_info info;
	ih_pa_t pa = 0;
	const u64 iova = 0x40000000;

	dt_init(&t, mode);
	t.dcfg.sync_mode = sync;
	dt_start(&t);
	ih_smmuv3_get_info(t.smmu, &info);
	cr_expect_eq(info.msi_sync, sync == IH_SMMUV3_SYNC_MSI);
	dev = dt_add_dev(&t, "dev0", 0x7);
	dom = ih_iommu_get_dma_domain(dev);
	cr_assert_not_null(dom);
	cr_assert_eq(ih_iommu_map(dom, iova, t.buf + 0x3000, SZ_4K, IH_PROT_READ | IH_PROT_WRITE),
		     0);
	cr_expect_eq(ih_iommu_iova_to_phys(dom, iova + 0x10), t.buf + 0x3010);
	cr_assert_eq(ih_dma_access(dev, iova + 0x10, 4, IH_DMA_FROM_DEVICE, &pa), 0);
	cr_expect_eq(pa, t.buf + 0x3010, "the device reached the mapped page");
	cr_expect_eq(ih_iommu_unmap(dom, iova, SZ_4K), SZ_4K);
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, iova, SZ_4K), 0, "TLBI + SYNC removed it");
	cr_expect_eq(ih_dma_access(dev, iova + 0x10, 4, IH_DMA_TO_DEVICE, &pa), -EFAULT);
	/* The event interrupt drained the record at once. */
	cr_expect_eq(dt_stats(&t).evt_translation, 1);
	cr_expect_eq(dt_stats(&t).events, 1);
	cr_assert_eq(ih_smmuv3_last_event(t.smmu, &ev), 0);
	cr_expect_eq(ev.id, DT_EVT_F_TRANSLATION);
	cr_expect_str_eq(ev.name, "F_TRANSLATION");
	cr_expect_eq(ev.sid, 0x7);
	cr_expect_eq(ev.addr, iova + 0x10);
	cr_expect(ev.read, "IH_DMA_TO_DEVICE is a read by the device");
	cr_expect_not(ev.stage2);
	if (sync == IH_SMMUV3_SYNC_MSI)
		cr_expect_eq(dt_hw_stats(&t).sync_msis, dt_stats(&t).syncs);
	else
		cr_expect_eq(dt_hw_stats(&t).sync_msis, 0);
	cr_expect_eq(dt_stats(&t).cmd_errors, 0);
	cr_expect_eq(dt_stats(&t).timeouts, 0);
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, map_reaches_pa_and_unmap_faults_sequential_poll)
{
	map_then_unmap_faults(IH_EXEC_SEQUENTIAL, IH_SMMUV3_SYNC_POLL);
}

Test(smmuv3_drv, map_reaches_pa_and_unmap_faults_sequential_msi)
{
	map_then_unmap_faults(IH_EXEC_SEQUENTIAL, IH_SMMUV3_SYNC_MSI);
}

Test(smmuv3_drv, map_reaches_pa_and_unmap_faults_concurrent_poll)
{
	map_then_unmap_faults(IH_EXEC_CONCURRENT, IH_SMMUV3_SYNC_POLL);
}

Test(smmuv3_drv, map_reaches_pa_and_unmap_faults_concurrent_msi)
{
	map_then_unmap_faults(IH_EXEC_CONCURRENT, IH_SMMUV3_SYNC_MSI);
}

Test(smmuv3_drv, forgetful_flush_leaves_a_stale_translation)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_iommu_domain *dom;
	ih_pa_t pa = 0;
	const u64 iova = 0x200000;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	t.dcfg.test_forget_tlbi = true;
	dt_start(&t);
	dev = dt_add_dev(&t, "dev0", 0x3);
	dom = ih_iommu_get_dma_domain(dev);
	cr_assert_eq(ih_iommu_map(dom, iova, t.buf, SZ_4K, IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_assert_eq(ih_dma_access(dev, iova, 8, IH_DMA_TO_DEVICE, &pa), 0);
	cr_assert_eq(ih_iommu_unmap(dom, iova, SZ_4K), SZ_4K);
	cr_expect_eq(ih_iommu_iova_to_phys(dom, iova), IH_PA_INVALID, "the table forgot it");
	cr_expect_eq(dt_stats(&t).tlbi, 1, "only bring-up's TLBI_NSNH_ALL: no TLBI on unmap");
	/* ...but the SMMU's TLB did not: the device still reaches the freed page. */
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, iova, SZ_4K), 1);
	cr_expect_eq(ih_dma_access(dev, iova, 8, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(pa, t.buf);
	cr_expect_eq(dt_stats(&t).events, 0);
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, identity_default_domain_bypasses)
{
	struct dtest t;
	struct ih_device *dev;
	ih_pa_t pa = 0;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	cr_assert_eq(ih_iommu_set_default_domain_type(t.w, IH_DOMAIN_IDENTITY), 0);
	dt_start(&t);
	dev = dt_add_dev(&t, "dev0", 0x5);
	cr_expect_eq(dt_ste_cfg(&t, 0x5), DT_CFG_BYPASS);
	cr_expect_eq(ih_dma_access(dev, t.buf + 0x40, 4, IH_DMA_FROM_DEVICE, &pa), 0);
	cr_expect_eq(pa, t.buf + 0x40);
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, explicit_owner_claim_moves_group_to_abort_ste)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_iommu_domain *dom, *um;
	struct ih_iommu_group_info gi;
	ih_pa_t pa = 0;
	int owner;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_start(&t);
	dev = dt_add_dev(&t, "dev0", 0x9);
	dom = ih_iommu_get_dma_domain(dev);
	cr_assert_eq(ih_iommu_map(dom, 0x1000, t.buf, SZ_4K, IH_PROT_READ), 0);
	cr_assert_eq(ih_dma_access(dev, 0x1000, 4, IH_DMA_TO_DEVICE, &pa), 0);

	cr_assert_eq(ih_iommu_device_claim_dma_owner(dev, &owner), 0);
	ih_iommu_group_get_info(dev->iommu_group, &gi);
	cr_expect(gi.explicit_owner);
	cr_expect_eq(gi.domain_type, IH_DOMAIN_BLOCKED);
	cr_expect_eq(dt_ste_cfg(&t, 0x9), DT_CFG_ABORT);
	/* Aborted by the STE: no translation, no event (7.3.7: Config abort is silent). */
	cr_expect_eq(ih_dma_access(dev, 0x1000, 4, IH_DMA_TO_DEVICE, &pa), -EPERM);
	cr_expect_eq(dt_stats(&t).events, 0);

	/* The owner's own domain, with another page at the same IOVA. */
	cr_assert_eq(ih_iommu_domain_alloc(dev, &um), 0);
	cr_assert_eq(ih_iommu_map(um, 0x1000, t.buf + 0x5000, SZ_4K, IH_PROT_READ), 0);
	cr_assert_eq(ih_iommu_attach_group(um, dev->iommu_group), 0);
	cr_expect_eq(dt_ste_cfg(&t, 0x9), DT_CFG_S1);
	cr_expect_eq(ih_dma_access(dev, 0x1000, 4, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(pa, t.buf + 0x5000, "the new CD (other ASID and tables) is in use");
	/* A second explicit domain waits for the first to be detached (Linux: -EBUSY). */
	{
		struct ih_iommu_domain *um2;

		cr_assert_eq(ih_iommu_domain_alloc(dev, &um2), 0);
		cr_expect_eq(ih_iommu_attach_group(um2, dev->iommu_group), -EBUSY);
		cr_expect_eq(ih_dma_access(dev, 0x1000, 4, IH_DMA_TO_DEVICE, &pa), 0);
		cr_expect_eq(pa, t.buf + 0x5000, "the first explicit domain still translates");
		ih_iommu_domain_free(um2);
	}
	ih_iommu_detach_group(um, dev->iommu_group);
	cr_expect_eq(dt_ste_cfg(&t, 0x9), DT_CFG_ABORT);
	cr_expect_eq(ih_warn_count(t.w), 0, "the detach found its domain attached");
	ih_iommu_domain_free(um);

	ih_iommu_device_release_dma_owner(dev);
	cr_expect_eq(dt_ste_cfg(&t, 0x9), DT_CFG_S1);
	cr_expect_eq(ih_dma_access(dev, 0x1000, 4, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(pa, t.buf, "back in the DMA domain");
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, leaving_a_paging_domain_invalidates_its_asid)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_iommu_domain *dom;
	ih_pa_t pa = 0;
	int owner;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_start(&t);
	dev = dt_add_dev(&t, "dev0", 0x9);
	dom = ih_iommu_get_dma_domain(dev);
	cr_assert_eq(ih_iommu_map(dom, 0x1000, t.buf, SZ_4K, IH_PROT_READ), 0);
	cr_assert_eq(ih_dma_access(dev, 0x1000, 4, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, 0x1000, SZ_4K), 1);
	/* The DMA domain's last (only) master leaves: nothing it cached may stay behind. */
	cr_assert_eq(ih_iommu_device_claim_dma_owner(dev, &owner), 0);
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, 0x1000, SZ_4K), 0);
	ih_iommu_device_release_dma_owner(dev);
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, release_restores_bypass_when_configured)
{
	struct dtest t;
	struct ih_device *dev;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	t.dcfg.bypass_unattached = true;
	dt_start(&t);
	cr_expect_not(dt_reg(&t, SMMUV3_GBPA) & SMMUV3_GBPA_ABORT);
	dev = dt_add_dev(&t, "dev0", 0x40);
	cr_expect_eq(dt_ste_cfg(&t, 0x40), DT_CFG_S1);
	ih_device_unregister(dev);
	cr_expect_eq(dt_ste_cfg(&t, 0x40), DT_CFG_BYPASS);
	dt_fini(&t);
}

/* ---- Exact invalidation traffic ---- */

static struct ih_smmuv3_stats stats_delta(const struct ih_smmuv3_stats *a,
					  const struct ih_smmuv3_stats *b)
{
	struct ih_smmuv3_stats d = {0};

	d.tlbi = b->tlbi - a->tlbi;
	d.tlbi_va = b->tlbi_va - a->tlbi_va;
	d.tlbi_asid = b->tlbi_asid - a->tlbi_asid;
	d.syncs = b->syncs - a->syncs;
	d.cfgi = b->cfgi - a->cfgi;
	d.cmds = b->cmds - a->cmds;
	return d;
}

static void unmap_counts(bool ril)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_iommu_domain *dom;
	struct ih_smmuv3_stats s0, s1, d;
	struct ih_smmuv3_hw_stats h0, h1;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	t.hwcfg.range_inv = ril;
	dt_start(&t);
	dev = dt_add_dev(&t, "dev0", 0x1);
	dom = ih_iommu_get_dma_domain(dev);
	cr_assert_eq(ih_iommu_map(dom, 0x1000, t.buf, SZ_4K, IH_PROT_READ), 0);
	cr_assert_eq(ih_iommu_map(dom, 0x2000, t.buf, SZ_4K, IH_PROT_READ), 0);

	/*
	 * 0x2000 still lives in the same level-3 table, so unmapping 0x1000 frees no table:
	 * the leaf goes to the gather (tlb_add_page issues nothing) and iotlb_sync sends one
	 * TLBI_NH_VA for the one 4K page (a range TLBI with NUM 0, SCALE 0 with RIL, a plain
	 * one without) and one CMD_SYNC. No CFGI: no STE or CD changed.
	 */
	s0 = dt_stats(&t);
	h0 = dt_hw_stats(&t);
	cr_assert_eq(ih_iommu_unmap(dom, 0x1000, SZ_4K), SZ_4K);
	s1 = dt_stats(&t);
	h1 = dt_hw_stats(&t);
	d = stats_delta(&s0, &s1);
	cr_expect_eq(d.tlbi, 1);
	cr_expect_eq(d.tlbi_va, 1);
	cr_expect_eq(d.syncs, 1);
	cr_expect_eq(d.cfgi, 0);
	cr_expect_eq(d.cmds, 2);
	cr_expect_eq(h1.tlbi - h0.tlbi, 1, "the SMMU consumed exactly that TLBI");
	cr_expect_eq(h1.syncs - h0.syncs, 1);

	/*
	 * The last page: the level-3, level-2 and level-1 tables on the way are empty now,
	 * but io-pgtable-arm keeps them installed (a table goes only with a block-sized
	 * unmap of its parent entry, or with the domain), so no walk flush: exactly as the
	 * first page, iotlb_sync's one leaf TLBI_NH_VA + one CMD_SYNC, RIL or not.
	 */
	s0 = s1;
	cr_assert_eq(ih_iommu_unmap(dom, 0x2000, SZ_4K), SZ_4K);
	s1 = dt_stats(&t);
	d = stats_delta(&s0, &s1);
	cr_expect_eq(d.tlbi, 1);
	cr_expect_eq(d.syncs, 1);
	cr_expect_eq(d.tlbi_va, 1);
	cr_expect_eq(d.tlbi_asid, 0);
	cr_expect_eq(d.cfgi, 0);
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, unmap_sends_exact_tlbi_and_sync_counts_with_ril)
{
	unmap_counts(true);
}

Test(smmuv3_drv, unmap_sends_exact_tlbi_and_sync_counts_without_ril)
{
	unmap_counts(false);
}

Test(smmuv3_drv, gather_syncs_before_adding_a_disjoint_page)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_iommu_domain *dom;
	struct ih_iommu_iotlb_gather g;
	struct ih_smmuv3_stats s0, s1, d;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_start(&t);
	dev = dt_add_dev(&t, "dev0", 0x1);
	dom = ih_iommu_get_dma_domain(dev);
	for (u64 iova = 0x1000; iova < 0x8000; iova += 0x1000)
		cr_assert_eq(ih_iommu_map(dom, iova, t.buf, SZ_4K, IH_PROT_READ), 0);

	/* Two adjacent pages: one gather, one range TLBI (NUM 1), one sync. */
	s0 = dt_stats(&t);
	ih_iommu_iotlb_gather_init(&g);
	cr_assert_eq(ih_iommu_unmap_fast(dom, 0x1000, 2 * SZ_4K, &g), 2 * SZ_4K);
	ih_iommu_iotlb_sync(dom, &g);
	s1 = dt_stats(&t);
	d = stats_delta(&s0, &s1);
	cr_expect_eq(d.tlbi, 1);
	cr_expect_eq(d.syncs, 1);

	/* 0x4000 then 0x6000: the second page is disjoint, so the first is synced first. */
	s0 = s1;
	ih_iommu_iotlb_gather_init(&g);
	cr_assert_eq(ih_iommu_unmap_fast(dom, 0x4000, SZ_4K, &g), SZ_4K);
	cr_assert_eq(ih_iommu_unmap_fast(dom, 0x6000, SZ_4K, &g), SZ_4K);
	s1 = dt_stats(&t);
	d = stats_delta(&s0, &s1);
	cr_expect_eq(d.tlbi, 1, "the disjoint add flushed the gathered page");
	cr_expect_eq(d.syncs, 1);
	cr_expect_eq(g.start, 0x6000);
	ih_iommu_iotlb_sync(dom, &g);
	s1 = dt_stats(&t);
	d = stats_delta(&s0, &s1);
	cr_expect_eq(d.tlbi, 2);
	cr_expect_eq(d.syncs, 2);
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, attach_from_abort_to_stage1_takes_three_syncs)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_smmuv3_stats s0, s1;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_start(&t);
	s0 = dt_stats(&t);
	dev = dt_add_dev(&t, "dev0", 0x2);
	s1 = dt_stats(&t);
	/*
	 * CD invalid -> valid: fill it, V last, CFGI_CD + SYNC (an invalid CD is never
	 * cached). STE abort -> stage 1, both valid: the S1 fields abort ignores are written
	 * first (CFGI_STE + SYNC), then word 0's Config flips in one store (CFGI_STE + SYNC).
	 */
	cr_expect_eq(s1.syncs - s0.syncs, 3);
	cr_expect_eq(s1.cfgi - s0.cfgi, 3);
	cr_expect_eq(s1.tlbi - s0.tlbi, 0);
	ih_device_unregister(dev);
	dt_fini(&t);
}

/* ---- Command errors, events, global errors ---- */

Test(smmuv3_drv, illegal_command_is_reported_skipped_and_queue_resumes)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_iommu_domain *dom;
	struct ih_smmuv3_stats st;
	const u64 bad[1][2] = {{0x7f, 0xdead}};
	ih_pa_t pa = 0;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_start(&t);
	dev = dt_add_dev(&t, "dev0", 0x1);
	cr_expect_eq(ih_smmuv3_cmdq_issue(t.smmu, bad, 1, true), -EIO);
	st = dt_stats(&t);
	cr_expect_eq(st.cmd_errors, 1);
	cr_expect_eq(st.last_cerror, SMMUV3_CERROR_ILL);
	cr_expect_eq(st.last_bad_cmd[0], 0x7f);
	cr_expect_eq(st.last_bad_cmd[1], 0xdead);
	cr_expect_eq(dt_hw_stats(&t).cmd_errors, 1);
	cr_expect_eq((dt_reg(&t, SMMUV3_GERROR) ^ dt_reg(&t, SMMUV3_GERRORN)) &
			 SMMUV3_GERROR_CMDQ_ERR,
		     0, "acknowledged");
	cr_expect_eq(st.gerror_irqs, 1, "the GERROR interrupt fired");
	/* The queue runs again: map, translate, unmap (TLBI + SYNC), fault. */
	dom = ih_iommu_get_dma_domain(dev);
	cr_assert_eq(ih_iommu_map(dom, 0x1000, t.buf, SZ_4K, IH_PROT_READ), 0);
	cr_expect_eq(ih_dma_access(dev, 0x1000, 4, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(ih_iommu_unmap(dom, 0x1000, SZ_4K), SZ_4K);
	cr_expect_eq(ih_dma_access(dev, 0x1000, 4, IH_DMA_TO_DEVICE, &pa), -EFAULT);
	cr_expect_eq(dt_stats(&t).cmd_errors, 1);
	/* A good raw command goes through cleanly. */
	const u64 good[1][2] = {{SMMUV3_OP_TLBI_NSNH_ALL, 0}};
	cr_expect_eq(ih_smmuv3_cmdq_issue(t.smmu, good, 1, true), 0);
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, illegal_command_in_concurrent_msi_mode)
{
	struct dtest t;
	const u64 cmds[3][2] = {
	    {SMMUV3_OP_TLBI_NSNH_ALL, 0}, {0x7e, 0}, {SMMUV3_OP_TLBI_NSNH_ALL, 0}};

	dt_init(&t, IH_EXEC_CONCURRENT);
	t.dcfg.sync_mode = IH_SMMUV3_SYNC_MSI;
	dt_start(&t);
	cr_expect_eq(ih_smmuv3_cmdq_issue(t.smmu, cmds, 3, true), -EIO);
	cr_expect_eq(dt_stats(&t).cmd_errors, 1);
	cr_expect_eq(dt_stats(&t).last_bad_cmd[0], 0x7e);
	/* Bring-up's TLBI_NSNH_ALL and the two good ones; the bad one became a CMD_SYNC. */
	cr_expect_eq(dt_hw_stats(&t).tlbi, 3);
	cr_expect_eq(ih_smmuv3_cmdq_issue(t.smmu, cmds, 1, true), 0);
	dt_fini(&t);
}

Test(smmuv3_drv, command_queue_wraps_many_times)
{
	struct dtest t;
	u64 cmds[40][2];

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	t.dcfg.cmdq_log2 = 2; /* 4 slots: every batch below fills and wraps it */
	dt_start(&t);
	for (unsigned int i = 0; i < ARRAY_SIZE(cmds); i++) {
		cmds[i][0] = FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_TLBI_NH_ASID) |
			     FIELD_PREP(SMMUV3_CMD0_ASID, i);
		cmds[i][1] = 0;
	}
	for (unsigned int round = 0; round < 5; round++)
		cr_assert_eq(ih_smmuv3_cmdq_issue(t.smmu, cmds, ARRAY_SIZE(cmds), true), 0);
	cr_expect_eq(dt_hw_stats(&t).tlbi, 1 + 5 * ARRAY_SIZE(cmds));
	cr_expect_eq(dt_hw_stats(&t).cmd_errors, 0);
	dt_fini(&t);
}

Test(smmuv3_drv, event_queue_overflow_is_seen_and_acknowledged)
{
	struct dtest t;
	struct ih_device *dev;
	struct ih_smmuv3_stats st;
	ih_pa_t pa;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	t.hwcfg.evtqs_log2 = 1; /* two records */
	dt_start(&t);
	dev = dt_add_dev(&t, "dev0", 0x1);
	/* Unwire the event interrupt so records pile up, as with a stuck handler. */
	ih_smmuv3_hw_set_irq_handler(t.hw, NULL, NULL);
	for (u64 iova = 0x1000; iova <= 0x5000; iova += 0x1000)
		cr_expect_eq(ih_dma_access(dev, iova, 4, IH_DMA_TO_DEVICE, &pa), -EFAULT);
	cr_expect_eq(dt_hw_stats(&t).evtq_overflows, 3);
	cr_expect_eq(ih_smmuv3_drain_events(t.smmu), 2);
	st = dt_stats(&t);
	cr_expect_eq(st.evtq_overflows, 1, "one outstanding overflow, acknowledged once");
	cr_expect_eq(st.evt_translation, 2);
	cr_expect_eq(FIELD_GET(SMMUV3_EVTQ_CONS_OVACKFLG, dt_reg(&t, SMMUV3_EVTQ_CONS)),
		     FIELD_GET(SMMUV3_EVTQ_PROD_OVFLG, dt_reg(&t, SMMUV3_EVTQ_PROD)));
	/* New records are delivered again after the acknowledgement. */
	cr_expect_eq(ih_dma_access(dev, 0x9000, 4, IH_DMA_TO_DEVICE, &pa), -EFAULT);
	cr_expect_eq(ih_smmuv3_drain_events(t.smmu), 1);
	cr_expect_eq(dt_stats(&t).evtq_overflows, 1);
	ih_device_unregister(dev);
	dt_fini(&t);
}

Test(smmuv3_drv, global_errors_other_than_cmdq_are_reported_and_acknowledged)
{
	struct dtest t;
	/* CMD_SYNC, CS = SIG_IRQ, MSI to an address outside simulated memory (4.7.3). */
	const u64 sync[1][2] = {
	    {SMMUV3_OP_CMD_SYNC | FIELD_PREP(SMMUV3_CMD0_CS, SMMUV3_SYNC_CS_IRQ), 0x10000000ULL}};
	u32 active;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	dt_start(&t);
	cr_expect_eq(ih_smmuv3_cmdq_issue(t.smmu, sync, 1, false), 0);
	cr_expect_eq(dt_stats(&t).gerror_irqs, 1);
	active = ih_smmuv3_handle_gerror(t.smmu);
	cr_expect_eq(active, SMMUV3_GERROR_MSI_CMDQ_ABT_ERR);
	cr_expect_eq(dt_stats(&t).gerrors, 1);
	cr_expect_eq(dt_reg(&t, SMMUV3_GERROR) ^ dt_reg(&t, SMMUV3_GERRORN), 0, "acknowledged");
	cr_expect_eq(ih_smmuv3_handle_gerror(t.smmu), 0, "nothing left");
	dt_fini(&t);
}

Test(smmuv3_drv, pci_functions_behind_a_pcie_to_pci_bridge_share_group_and_domain)
{
	struct dtest t;
	struct ih_pci_desc host = {.type = IH_PCI_HOST_BRIDGE, .secondary = 0, .subordinate = 0xff};
	struct ih_pci_desc br = {.type = IH_PCI_PCIE_TO_PCI,
				 .devfn = IH_PCI_DEVFN(1, 0),
				 .secondary = 1,
				 .subordinate = 1};
	struct ih_pci_desc ep = {.type = IH_PCI_ENDPOINT, .vendor = 0x1234, .device = 0x1};
	struct ih_pci_dev *hb, *bridge, *fn[2];
	u64 ste[2][4];
	ih_pa_t pa;

	dt_init(&t, IH_EXEC_SEQUENTIAL);
	/* Firmware gives each function its requester ID as StreamID. */
	dt_add_fw(&t, "0000:01:00.0", 0x100);
	dt_add_fw(&t, "0000:01:01.0", 0x108);
	ih_iommu_set_probe_flow(t.w, IH_PROBE_FLOW_PROBE_PATH);
	dt_start(&t);
	cr_assert_eq(ih_bus_register(t.w, &ih_pci_bus_type), 0);
	cr_assert_eq(ih_pci_dev_alloc(t.w, NULL, &host, &hb), 0);
	cr_assert_eq(ih_device_add(&hb->dev), 0);
	cr_assert_eq(ih_pci_dev_alloc(t.w, &hb->dev, &br, &bridge), 0);
	cr_assert_eq(ih_device_add(&bridge->dev), 0);
	for (int i = 0; i < 2; i++) {
		ep.devfn = IH_PCI_DEVFN(i, 0);
		cr_assert_eq(ih_pci_dev_alloc(t.w, &bridge->dev, &ep, &fn[i]), 0);
		cr_assert_eq(ih_device_add(&fn[i]->dev), 0);
		cr_assert_not_null(fn[i]->dev.iommu_group, "%s", fn[i]->dev.name);
	}
	/* Both alias to 01:00.0 behind the bridge: one group, one DMA domain, one CD each. */
	cr_expect_eq(fn[0]->dev.iommu_group, fn[1]->dev.iommu_group);
	cr_expect_eq(ih_iommu_get_dma_domain(&fn[0]->dev), ih_iommu_get_dma_domain(&fn[1]->dev));
	cr_assert_eq(ih_smmuv3_read_ste(t.smmu, 0x100, ste[0]), 0);
	cr_assert_eq(ih_smmuv3_read_ste(t.smmu, 0x108, ste[1]), 0);
	cr_expect_eq(DT_STE_CFG(ste[0][0]), DT_CFG_S1);
	cr_expect_eq(DT_STE_CFG(ste[1][0]), DT_CFG_S1);
	cr_assert_eq(
	    ih_iommu_map(ih_iommu_get_dma_domain(&fn[0]->dev), 0x8000, t.buf, SZ_4K, IH_PROT_READ),
	    0);
	for (int i = 0; i < 2; i++) {
		cr_expect_eq(ih_dma_access(&fn[i]->dev, 0x8004, 4, IH_DMA_TO_DEVICE, &pa), 0);
		cr_expect_eq(pa, t.buf + 4);
	}
	ih_device_unregister(&fn[1]->dev);
	ih_device_unregister(&fn[0]->dev);
	ih_device_unregister(&bridge->dev);
	ih_device_unregister(&hb->dev);
	cr_expect_eq(dt_ste_cfg(&t, 0x100), DT_CFG_ABORT);
	cr_expect_eq(dt_ste_cfg(&t, 0x108), DT_CFG_ABORT);
	dt_fini(&t);
}
