// SPDX-License-Identifier: MIT
/* The Rockchip IOMMU driver against the emulated unit, through the IOMMU core. */
#include <criterion/criterion.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/iommu_group.h>
#include <ih/world.h>
#include "lib/fault_sweep.h"
#include "lib/rk_board.h"

/*
 * Register values the tests expect, written out here (not taken from either side's
 * header): STATUS at rest is idle | replay buffer empty | stall not active.
 */
#define T_DTE_ADDR	  0x00
#define T_STATUS	  0x04
#define T_PAGE_FAULT_ADDR 0x0c
#define T_INT_RAWSTAT	  0x14
#define T_INT_MASK	  0x1c
#define T_ST_PAGING	  0x00000001u
#define T_ST_FAULT	  0x00000002u
#define T_ST_REST	  0x80000018u

#define IOVA 0x10000000ULL

static struct ih_world *w;
static struct rkb b;

static struct ih_device *up(enum ih_rk_iommu_version v, unsigned int nbanks, bool client_driver)
{
	struct ih_device *client;

	w = rkb_world(v == IH_RK_IOMMU_HW_V2 ? RKB_V2_PM_BASE : 0);
	cr_assert_not_null(w);
	cr_assert_eq(rkb_init(&b, w, v, nbanks, NULL), 0);
	cr_assert_eq(rkb_register_iommu_driver(&b), 0);
	cr_assert_eq(rkb_add_iommu(&b), 0);
	if (client_driver)
		cr_assert_eq(rkb_register_client_driver(&b), 0);
	client = rkb_add_client(&b);
	cr_assert_not_null(client);
	return client;
}

static void down(void)
{
	rkb_fini(&b);
	cr_expect_eq(ih_warn_count(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0, "model memory leaked");
}

static struct ih_device *iommu_dev(void)
{
	return ih_rk_iommu_pdev_dev(b.pd);
}

static struct ih_rk_iommu_stats rk_stats(void)
{
	struct ih_rk_iommu_stats st;

	cr_assert_eq(ih_rk_iommu_get_stats(iommu_dev(), &st), 0);
	return st;
}

static struct ih_rk_iommu_hw_stats hw_stats(int bank)
{
	struct ih_rk_iommu_hw_stats st;

	cr_assert_eq(ih_rk_iommu_hw_get_stats(b.pd->hw, bank, &st), 0);
	return st;
}

/* ---- Bring-up ---------------------------------------------------------------------------- */

static void bring_up(enum ih_rk_iommu_version v, unsigned int nbanks)
{
	struct ih_rk_iommu_stats st;

	w = rkb_world(0);
	cr_assert_eq(rkb_init(&b, w, v, nbanks, NULL), 0);
	cr_assert_eq(rkb_register_iommu_driver(&b), 0);
	cr_assert_eq(rkb_add_iommu(&b), 0);
	cr_assert_eq(ih_device_driver(iommu_dev()), b.rkdrv, "the driver did not bind");
	cr_expect_not_null(ih_iommu_device_find(w, ih_rk_iommu_pdev_fwnode(b.pd)));
	st = rk_stats();
	cr_expect_eq(st.version, v);
	cr_expect_eq(st.nbanks, nbanks);
	cr_expect_eq(st.clients, 0);
	/* Self-test and FORCE_RESET left every bank at its power-on state. */
	for (unsigned int i = 0; i < nbanks; i++) {
		cr_expect_eq(rkb_readl(&b, i, T_DTE_ADDR), 0, "bank %u", i);
		cr_expect_eq(rkb_readl(&b, i, T_STATUS), T_ST_REST, "bank %u", i);
		cr_expect_eq(rkb_readl(&b, i, T_INT_MASK), 0, "bank %u", i);
		cr_expect_eq(hw_stats((int)i).force_resets, 1, "bank %u", i);
	}
	down();
	/* After unbind and unregistration the instance is gone. */
}

Test(rk_iommu_drv, bring_up_v1_one_bank)
{
	bring_up(IH_RK_IOMMU_HW_V1, 1);
}

Test(rk_iommu_drv, bring_up_v1_two_banks)
{
	bring_up(IH_RK_IOMMU_HW_V1, 2);
}

Test(rk_iommu_drv, bring_up_v2_one_bank)
{
	bring_up(IH_RK_IOMMU_HW_V2, 1);
}

Test(rk_iommu_drv, bring_up_v2_two_banks)
{
	bring_up(IH_RK_IOMMU_HW_V2, 2);
}

Test(rk_iommu_drv, compatible_naming_the_wrong_version_fails_the_self_test)
{
	struct ih_rk_iommu_stats st;

	/* v2 silicon keeps DTE_ADDR bits 11:4, which a v1 driver does not expect back. */
	w = rkb_world(0);
	cr_assert_eq(rkb_init(&b, w, IH_RK_IOMMU_HW_V2, 1, IH_RK_IOMMU_COMPAT_V1), 0);
	cr_assert_eq(rkb_register_iommu_driver(&b), 0);
	cr_assert_eq(rkb_add_iommu(&b), 0);
	cr_expect_null(ih_device_driver(iommu_dev()));
	cr_expect_null(ih_iommu_device_find(w, ih_rk_iommu_pdev_fwnode(b.pd)));
	cr_expect_eq(ih_rk_iommu_get_stats(iommu_dev(), &st), -ENODEV);
	cr_expect_eq(rkb_readl(&b, 0, T_DTE_ADDR), 0xcafebab0u, "the pattern read back as v2");
	down();
}

/* ---- Clients ------------------------------------------------------------------------------ */

Test(rk_iommu_drv, client_probe_attaches_its_default_domain_on_every_bank)
{
	struct ih_device *client = up(IH_RK_IOMMU_HW_V1, 2, true);
	struct ih_iommu_fwspec *fwspec = ih_dev_iommu_fwspec_get(client);
	struct ih_rk_iommu_stats st = rk_stats();
	struct ih_iommu_domain *dom = ih_iommu_get_domain_for_dev(client);

	cr_assert_not_null(fwspec);
	cr_expect_eq(fwspec->num_ids, 1);
	cr_expect_eq(fwspec->ids[0], 0, "one master per instance: ID 0");
	cr_expect_not_null(client->iommu_group);
	cr_expect_eq(ih_device_driver(client), &b.cdrv.drv);
	cr_assert_not_null(dom);
	cr_expect_eq(dom->type, IH_DOMAIN_DMA);
	cr_expect_eq(dom->pgsize_bitmap, 0x007ff000UL);
	cr_expect_eq(st.xlates, 1);
	cr_expect_eq(st.clients, 1);
	cr_expect_eq(st.attaches, 1);
	cr_expect_eq(ih_rk_devres_count(iommu_dev()), 1, "the client's data is devm");
	for (unsigned int i = 0; i < 2; i++) {
		cr_expect_eq(rkb_readl(&b, i, T_STATUS), T_ST_REST | T_ST_PAGING, "bank %u", i);
		cr_expect_eq(rkb_readl(&b, i, T_INT_MASK), 0x3, "bank %u", i);
		cr_expect_neq(rkb_readl(&b, i, T_DTE_ADDR), 0, "bank %u", i);
		/* Attach emptied each TLB once. */
		cr_expect_eq(hw_stats((int)i).zap_cache, 1, "bank %u", i);
	}
	down();
}

/* Map 16K, DMA into the middle of it: the access reaches exactly the mapped PA. */
static void map_and_dma(enum ih_rk_iommu_version v, unsigned int nbanks)
{
	struct ih_device *client = up(v, nbanks, true);
	struct ih_iommu_domain *dom = ih_iommu_get_domain_for_dev(client);
	ih_pa_t buf = ih_pm_alloc(w, SZ_16K, SZ_16K, "test:buf"); /* one 16K piece */
	ih_pa_t pa = 0;

	cr_assert_neq(buf, IH_PA_INVALID);
	cr_assert_eq(ih_iommu_map(dom, IOVA, buf, 4 * SZ_4K, IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_expect_eq(ih_iommu_iova_to_phys(dom, IOVA + 0x2345), buf + 0x2345);
	cr_expect_eq(ih_dma_access(client, IOVA + 0x2345, 8, IH_DMA_FROM_DEVICE, &pa), 0);
	cr_expect_eq(pa, buf + 0x2345);
	cr_expect_eq(ih_dma_access(client, IOVA, 4 * SZ_4K, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(pa, buf);
	/* One 16K map_pages call: its first and last page are zapped, on every bank. */
	cr_expect_eq(rk_stats().zap_lines, 2 * nbanks);
	cr_expect_eq(hw_stats(IH_RK_IOMMU_ALL_BANKS).zap_lines, 2 * nbanks);
	cr_expect_eq(hw_stats(IH_RK_IOMMU_ALL_BANKS).bank_mismatches, 0);
	cr_expect_eq(ih_iommu_unmap(dom, IOVA, 4 * SZ_4K), 4 * SZ_4K);
	ih_pm_free(w, buf, 4 * SZ_4K);
	down();
}

Test(rk_iommu_drv, map_then_dma_reaches_the_pa_v1)
{
	map_and_dma(IH_RK_IOMMU_HW_V1, 1);
}

Test(rk_iommu_drv, map_then_dma_reaches_the_pa_v2_above_4g)
{
	map_and_dma(IH_RK_IOMMU_HW_V2, 2);
}

Test(rk_iommu_drv, unmap_zaps_so_the_next_dma_faults)
{
	struct ih_device *client = up(IH_RK_IOMMU_HW_V1, 1, true);
	struct ih_iommu_domain *dom = ih_iommu_get_domain_for_dev(client);
	ih_pa_t buf = ih_pm_alloc(w, 2 * SZ_4K, SZ_4K, "test:buf");
	ih_pa_t pa;

	cr_assert_eq(ih_iommu_map(dom, IOVA, buf, 2 * SZ_4K, IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_assert_eq(ih_dma_access(client, IOVA, 4, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect(ih_rk_iommu_hw_tlb_holds(b.pd->hw, IOVA), "the access filled the TLB");
	cr_assert_eq(ih_iommu_unmap(dom, IOVA, SZ_4K), SZ_4K);
	cr_expect_not(ih_rk_iommu_hw_tlb_holds(b.pd->hw, IOVA), "unmap zapped the line");
	cr_expect_eq(ih_dma_access(client, IOVA, 4, IH_DMA_TO_DEVICE, &pa), -EFAULT);
	cr_expect_eq(rk_stats().page_faults, 1);
	cr_expect_eq(rk_stats().last_fault_iova, (u32)IOVA);
	/* The handler resumed the master: the other page still works. */
	cr_expect_eq(ih_dma_access(client, IOVA + SZ_4K, 4, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(pa, buf + SZ_4K);
	cr_expect_eq(ih_iommu_unmap(dom, IOVA + SZ_4K, SZ_4K), SZ_4K);
	ih_pm_free(w, buf, 2 * SZ_4K);
	down();
}

Test(rk_iommu_drv, unmap_without_iotlb_sync_leaves_a_stale_translation)
{
	struct ih_device *client = up(IH_RK_IOMMU_HW_V2, 1, true);
	struct ih_iommu_domain *dom = ih_iommu_get_domain_for_dev(client);
	ih_pa_t buf = ih_pm_alloc(w, 2 * SZ_4K, SZ_4K, "test:buf");
	struct ih_iommu_device *inst = ih_iommu_device_find(w, ih_rk_iommu_pdev_fwnode(b.pd));
	struct ih_iommu_iotlb_gather gather;
	ih_pa_t pa = 0;

	cr_assert_not_null(inst);
	cr_assert_eq(inst->hw_ops, &ih_rk_iommu_hw_ops);
	cr_assert_eq(inst->hw, b.pd->hw);

	cr_assert_eq(ih_iommu_map(dom, IOVA, buf, 2 * SZ_4K, IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_assert_eq(ih_dma_access(client, IOVA, 4, IH_DMA_FROM_DEVICE, &pa), 0);
	/* The test-only path: the zap is gathered but never issued. */
	ih_iommu_iotlb_gather_init(&gather);
	cr_assert_eq(ih_iommu_unmap_fast(dom, IOVA, SZ_4K, &gather), SZ_4K);
	cr_expect_eq(ih_iommu_iova_to_phys(dom, IOVA), IH_PA_INVALID, "the table is clear");
	cr_expect_eq(ih_dma_access(client, IOVA, 4, IH_DMA_FROM_DEVICE, &pa), 0,
		     "the TLB still translates the unmapped page");
	cr_expect_eq(pa, buf);
	/* The instance's hw_ops answer what the staleness checker asks. */
	cr_expect(inst->hw_ops->tlb_covers(inst->hw, IOVA, SZ_4K));
	cr_expect(inst->hw_ops->tlb_covers(inst->hw, IOVA - SZ_4K, 2 * SZ_4K));
	/* Now the sync: ZAP_ONE_LINE for the gathered page, and the access faults. */
	ih_iommu_iotlb_sync(dom, &gather);
	cr_expect_not(inst->hw_ops->tlb_covers(inst->hw, IOVA, SZ_4K));
	cr_expect_eq(ih_dma_access(client, IOVA, 4, IH_DMA_FROM_DEVICE, &pa), -EFAULT);
	cr_expect_eq(ih_iommu_unmap(dom, IOVA + SZ_4K, SZ_4K), SZ_4K);
	ih_pm_free(w, buf, 2 * SZ_4K);
	down();
}

Test(rk_iommu_drv, page_fault_interrupt_is_reported_and_resumed)
{
	struct ih_device *client = up(IH_RK_IOMMU_HW_V1, 2, true);
	struct ih_iommu_domain *dom = ih_iommu_get_domain_for_dev(client);
	ih_pa_t buf = ih_pm_alloc(w, SZ_4K, SZ_4K, "test:buf");
	struct ih_rk_iommu_stats st;
	ih_pa_t pa = 0;

	/* A write to nothing: page fault on bank 0, interrupt, handler. */
	cr_expect_eq(ih_dma_access(client, IOVA + 0x10, 4, IH_DMA_FROM_DEVICE, &pa), -EFAULT);
	st = rk_stats();
	cr_expect_eq(st.page_faults, 1);
	cr_expect_eq(st.last_fault_iova, (u32)IOVA + 0x10);
	cr_expect_eq(st.last_fault_bank, 0);
	cr_expect(st.last_fault_write);
	cr_expect_eq(st.unhandled_irqs, 0);
	cr_expect_eq(ih_rk_iommu_pdev_spurious_irqs(b.pd), 0);
	cr_expect_eq(hw_stats(0).page_faults, 1);
	/* PAGE_FAULT_DONE left fault mode; the cause was cleared; the address stays latched. */
	cr_expect_eq(rkb_readl(&b, 0, T_STATUS) & T_ST_FAULT, 0);
	cr_expect_eq(rkb_readl(&b, 0, T_INT_RAWSTAT), 0);
	cr_expect_eq(rkb_readl(&b, 0, T_PAGE_FAULT_ADDR), (u32)IOVA + 0x10);

	/* The master's retry succeeds once the page is there. */
	cr_assert_eq(ih_iommu_map(dom, IOVA, buf, SZ_4K, IH_PROT_READ), 0);
	cr_expect_eq(ih_dma_access(client, IOVA + 0x10, 4, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(pa, buf + 0x10);
	/* Read-only page, write access: a permission fault, reported as a write. */
	cr_expect_eq(ih_dma_access(client, IOVA, 4, IH_DMA_FROM_DEVICE, &pa), -EACCES);
	st = rk_stats();
	cr_expect_eq(st.page_faults, 2);
	cr_expect(st.last_fault_write);
	/* A read fault is reported as a read. */
	cr_expect_eq(ih_dma_access(client, IOVA + SZ_4K, 4, IH_DMA_TO_DEVICE, &pa), -EFAULT);
	st = rk_stats();
	cr_expect_eq(st.page_faults, 3);
	cr_expect_not(st.last_fault_write);
	cr_expect_eq(st.last_fault_iova, (u32)IOVA + SZ_4K);
	cr_expect_eq(ih_iommu_unmap(dom, IOVA, SZ_4K), SZ_4K);
	ih_pm_free(w, buf, SZ_4K);
	down();
}

Test(rk_iommu_drv, identity_default_domain_turns_paging_off)
{
	struct ih_device *client;
	ih_pa_t pa = 0;

	w = rkb_world(0);
	cr_assert_eq(ih_iommu_set_default_domain_type(w, IH_DOMAIN_IDENTITY), 0);
	cr_assert_eq(rkb_init(&b, w, IH_RK_IOMMU_HW_V1, 2, NULL), 0);
	cr_assert_eq(rkb_register_iommu_driver(&b), 0);
	cr_assert_eq(rkb_add_iommu(&b), 0);
	cr_assert_eq(rkb_register_client_driver(&b), 0);
	client = rkb_add_client(&b);
	cr_assert_not_null(client);
	cr_assert_eq(ih_iommu_get_domain_for_dev(client)->type, IH_DOMAIN_IDENTITY);
	for (unsigned int i = 0; i < 2; i++) {
		cr_expect_eq(rkb_readl(&b, i, T_STATUS), T_ST_REST, "bank %u: paging off", i);
		cr_expect_eq(rkb_readl(&b, i, T_DTE_ADDR), 0, "bank %u", i);
	}
	cr_expect_eq(ih_dma_access(client, 0x12345678, 4, IH_DMA_FROM_DEVICE, &pa), 0);
	cr_expect_eq(pa, 0x12345678, "bypass: PA = IOVA");
	cr_expect_eq(hw_stats(IH_RK_IOMMU_ALL_BANKS).bypassed, 2, "one access per bank");
	cr_expect_eq(rk_stats().attaches, 0);
	down();
}

Test(rk_iommu_drv, blocked_domain_faults_and_an_owned_domain_translates)
{
	struct ih_device *client = up(IH_RK_IOMMU_HW_V2, 2, false);
	struct ih_iommu_group *group = ih_iommu_group_get(client);
	static const char owner[] = "vfio-like";
	struct ih_iommu_domain *dom;
	ih_pa_t buf = ih_pm_alloc(w, SZ_4K, SZ_4K, "test:buf");
	ih_pa_t pa = 0;

	cr_assert_not_null(group);
	/* An explicit owner moves the group to the driver's own blocked domain. */
	cr_assert_eq(ih_iommu_device_claim_dma_owner(client, owner), 0);
	cr_expect_eq(ih_iommu_get_domain_for_dev(client)->type, IH_DOMAIN_BLOCKED);
	for (unsigned int i = 0; i < 2; i++)
		cr_expect_eq(rkb_readl(&b, i, T_STATUS) & T_ST_PAGING, T_ST_PAGING, "bank %u", i);
	cr_expect_eq(ih_dma_access(client, 0, 4, IH_DMA_TO_DEVICE, &pa), -EFAULT);
	cr_expect_eq(rk_stats().page_faults, 1);

	/* The owner's paging domain translates; detaching blocks again. */
	cr_assert_eq(ih_iommu_domain_alloc(client, &dom), 0);
	cr_assert_eq(ih_iommu_map(dom, IOVA, buf, SZ_4K, IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_assert_eq(ih_iommu_attach_group(dom, group), 0);
	cr_expect_eq(ih_dma_access(client, IOVA + 8, 4, IH_DMA_TO_DEVICE, &pa), 0);
	cr_expect_eq(pa, buf + 8);
	ih_iommu_detach_group(dom, group);
	cr_expect_eq(ih_dma_access(client, IOVA + 8, 4, IH_DMA_TO_DEVICE, &pa), -EFAULT);
	cr_expect_eq(ih_iommu_unmap(dom, IOVA, SZ_4K), SZ_4K);
	ih_iommu_domain_free(dom);
	ih_iommu_device_release_dma_owner(client);
	cr_expect_eq(ih_iommu_get_domain_for_dev(client)->type, IH_DOMAIN_DMA);
	ih_iommu_group_put(group);
	ih_pm_free(w, buf, SZ_4K);
	down();
}

/*
 * Hand-decoded v2 layout (research/mechanisms.md 3.7), independent of both sides; DTE_ADDR
 * and descriptors share it.
 */
static ih_pa_t t_v2_desc_pa(u32 d)
{
	return (ih_pa_t)(d & 0xfffff000u) | ((ih_pa_t)((d >> 8) & 0xf) << 32) |
	       ((ih_pa_t)((d >> 4) & 0xf) << 36);
}

Test(rk_iommu_drv, multi_bank_attach_programs_every_bank_alike)
{
	struct ih_device *client = up(IH_RK_IOMMU_HW_V2, 2, true);
	struct ih_iommu_domain *dom = ih_iommu_get_domain_for_dev(client);
	ih_pa_t buf = ih_pm_alloc(w, SZ_4K, SZ_4K, "test:buf");
	u32 reg0 = rkb_readl(&b, 0, T_DTE_ADDR);
	u32 dte, pte;

	cr_assert_eq(ih_iommu_map(dom, IOVA, buf, SZ_4K, IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_expect_neq(reg0, 0);
	cr_expect_eq(rkb_readl(&b, 1, T_DTE_ADDR), reg0, "both banks use one directory");
	cr_expect_geq(t_v2_desc_pa(reg0), RKB_V2_PM_BASE, "the directory lies above 4G");
	/* Walk by hand from the DTE_ADDR bank 1 holds: IOVA 31:22, 21:12. */
	cr_assert_eq(
	    ih_pm_load32(w, t_v2_desc_pa(rkb_readl(&b, 1, T_DTE_ADDR)) + (IOVA >> 22) * 4, &dte),
	    0);
	cr_expect_eq(dte & 1, 1, "DTE valid");
	cr_assert_eq(ih_pm_load32(w, t_v2_desc_pa(dte) + ((IOVA >> 12) & 0x3ff) * 4, &pte), 0);
	cr_expect_eq(pte & 7, 7, "PTE valid, readable, writable");
	cr_expect_eq(t_v2_desc_pa(pte), buf);
	for (unsigned int i = 0; i < 2; i++)
		cr_expect_eq(rkb_readl(&b, i, T_STATUS), T_ST_REST | T_ST_PAGING, "bank %u", i);
	cr_expect_eq(ih_dma_access(client, IOVA, 4, IH_DMA_FROM_DEVICE, NULL), 0);
	cr_expect_eq(hw_stats(0).translations, 1);
	cr_expect_eq(hw_stats(1).translations, 1);
	cr_expect_eq(hw_stats(IH_RK_IOMMU_ALL_BANKS).bank_mismatches, 0);
	cr_expect_eq(ih_iommu_unmap(dom, IOVA, SZ_4K), SZ_4K);
	ih_pm_free(w, buf, SZ_4K);
	down();
}

/* ---- Lifetime of the per-client data ------------------------------------------------------ */

Test(rk_iommu_drv, client_data_outlives_the_client_and_goes_with_the_iommu_driver)
{
	struct ih_device *c0 = up(IH_RK_IOMMU_HW_V1, 1, false);
	struct ih_device *c1 = rkb_add_client(&b);

	cr_assert_not_null(c1);
	cr_expect_eq(rk_stats().clients, 2);
	cr_expect_eq(ih_rk_devres_count(iommu_dev()), 2);

	/* The data belongs to the IOMMU's device: removing a client does not free it. */
	cr_assert_eq(ih_device_unregister(c1), 0);
	b.nclients = 1;
	cr_expect_eq(rk_stats().clients, 1);
	cr_expect_eq(ih_rk_devres_count(iommu_dev()), 2);

	/* Unbinding the IOMMU's driver releases its clients and frees the data. */
	cr_assert_eq(ih_device_unbind(iommu_dev()), 0);
	cr_expect_eq(ih_rk_devres_count(iommu_dev()), 0);
	cr_expect_null(c0->iommu);
	cr_expect_null(c0->iommu_group);
	cr_expect_null(ih_iommu_device_find(w, ih_rk_iommu_pdev_fwnode(b.pd)));

	/* Binding again parses the waiting client again (probe-path flow). */
	cr_assert_eq(ih_device_bind(iommu_dev(), b.rkdrv), 0);
	cr_expect_eq(ih_rk_devres_count(iommu_dev()), 1);
	cr_expect_not_null(c0->iommu_group);
	cr_expect_eq(rk_stats().xlates, 1);
	/* down() checks no warning: nothing was left for the device's release to free. */
	down();
}

/* ---- Fault injection ---------------------------------------------------------------------- */

struct sweep_cfg {
	enum ih_rk_iommu_version v;
	unsigned int nbanks;
	enum ih_probe_flow flow;
};

/* The client waits for the IOMMU, then maps, DMAs, unmaps; any step may fail cleanly. */
static void sweep_scenario(struct ih_world *sw, void *arg)
{
	const struct sweep_cfg *c = arg;
	struct rkb sb;
	struct ih_device *client;

	ih_iommu_set_probe_flow(sw, c->flow);
	if (rkb_init(&sb, sw, c->v, c->nbanks, NULL)) {
		rkb_fini(&sb);
		return;
	}
	client = rkb_add_client(&sb);
	rkb_register_client_driver(&sb);
	rkb_register_iommu_driver(&sb);
	rkb_add_iommu(&sb);
	if (client && client->iommu_group) {
		struct ih_iommu_domain *dom = ih_iommu_get_domain_for_dev(client);
		ih_pa_t buf = ih_pm_alloc(sw, (2 * SZ_4K), SZ_4K, "test:buf");
		ih_pa_t pa = 0;

		cr_assert_neq(buf, IH_PA_INVALID);
		if (dom &&
		    !ih_iommu_map(dom, IOVA, buf, (2 * SZ_4K), IH_PROT_READ | IH_PROT_WRITE)) {
			cr_expect_eq(ih_dma_access(client, IOVA + SZ_4K, 4, IH_DMA_TO_DEVICE, &pa),
				     0);
			cr_expect_eq(pa, buf + SZ_4K);
			cr_expect_eq(ih_iommu_unmap(dom, IOVA, (2 * SZ_4K)), (2 * SZ_4K));
			cr_expect_eq(ih_dma_access(client, IOVA, 4, IH_DMA_TO_DEVICE, &pa),
				     -EFAULT);
		}
		ih_pm_free(sw, buf, (2 * SZ_4K));
	}
	rkb_fini(&sb);
}

Test(rk_iommu_drv, every_driver_allocation_may_fail_v1_probe_path)
{
	struct sweep_cfg c = {IH_RK_IOMMU_HW_V1, 1, IH_PROBE_FLOW_PROBE_PATH};

	/* board-pdev, driver, instance, client-data, domain. */
	cr_expect_eq(fault_sweep(sweep_scenario, &c, "rk_iommu:"), 5);
}

Test(rk_iommu_drv, every_driver_allocation_may_fail_v2_bind_flow)
{
	struct sweep_cfg c = {IH_RK_IOMMU_HW_V2, 2, IH_PROBE_FLOW_BIND};

	cr_expect_eq(fault_sweep(sweep_scenario, &c, "rk_iommu:"), 5);
}
