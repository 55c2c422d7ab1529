// SPDX-License-Identifier: MIT
/* The emulated Rockchip IOMMU driven by driver-like register sequences. */
#include <criterion/criterion.h>

#include <ih/alloc.h>
#include <ih/mmio.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "rk_iommu/rk_iommu_hw.h"

/*
 * Test-local register definitions, written the way a driver writes them (GENMASK style),
 * independently of the device's private header.
 */
#define T_DTE_ADDR	  0x00
#define T_STATUS	  0x04
#define T_COMMAND	  0x08
#define T_PAGE_FAULT_ADDR 0x0c
#define T_ZAP_ONE_LINE	  0x10
#define T_INT_RAWSTAT	  0x14
#define T_INT_CLEAR	  0x18
#define T_INT_MASK	  0x1c
#define T_INT_STATUS	  0x20
#define T_AUTO_GATING	  0x24

#define T_ST_PAGING	 BIT(0)
#define T_ST_FAULT	 BIT(1)
#define T_ST_STALL	 BIT(2)
#define T_ST_IDLE	 BIT(3)
#define T_ST_REPLAY_EMPT BIT(4)
#define T_ST_FAULT_WRITE BIT(5)
#define T_ST_STALL_NOT	 BIT(31)

#define T_CMD_ENABLE_PAGING   0
#define T_CMD_DISABLE_PAGING  1
#define T_CMD_ENABLE_STALL    2
#define T_CMD_DISABLE_STALL   3
#define T_CMD_ZAP_CACHE	      4
#define T_CMD_PAGE_FAULT_DONE 5
#define T_CMD_FORCE_RESET     6

#define T_IRQ_PAGE_FAULT BIT(0)
#define T_IRQ_BUS_ERROR	 BIT(1)

#define T_V BIT(0)
#define T_R BIT(1)
#define T_W BIT(2)

/* Idle, replay buffer empty, stall not active: a bank at rest. */
#define T_ST_REST (T_ST_IDLE | T_ST_REPLAY_EMPT | T_ST_STALL_NOT)

#define BANK0 0xfe043e00ULL
#define BANK1 0xfe043f00ULL

/* v1: PA 31:12 in bits 31:12. */
static u32 desc_v1(ih_pa_t pa, u32 flags)
{
	return (u32)(pa & GENMASK_ULL(31, 12)) | flags;
}

/* v2: additionally PA 35:32 in bits 11:8 and PA 39:36 in bits 7:4. */
static u32 desc_v2(ih_pa_t pa, u32 flags)
{
	return (u32)(pa & GENMASK_ULL(31, 12)) | (u32)(((pa >> 32) & 0xf) << 8) |
	       (u32)(((pa >> 36) & 0xf) << 4) | flags;
}

/* v2 DTE_ADDR register: the descriptor layout, PA 35:32 in bits 11:8, 39:36 in 7:4. */
static u32 dte_addr_v2(ih_pa_t pa)
{
	return desc_v2(pa, 0);
}

struct fx {
	struct ih_world *w;
	struct ih_rk_iommu_hw *hw;
	struct ih_mmio_region *r[2];
	enum ih_rk_iommu_version v;
	unsigned int nbanks;
	ih_pa_t dt;
	ih_pa_t pt;
	unsigned int irqs[2];
};

static void count_irq(void *opaque, unsigned int bank)
{
	struct fx *f = opaque;

	f->irqs[bank]++;
}

static void fx_init_cfg(struct fx *f, enum ih_rk_iommu_version v, unsigned int nbanks,
			ih_pa_t pm_base, unsigned int tlb, unsigned int line)
{
	struct ih_world_config wc;
	struct ih_rk_iommu_hw_config cfg = {
	    .version = v,
	    .nbanks = nbanks,
	    .bank_base = {BANK0, BANK1},
	    .tlb_entries = tlb,
	    .tlb_line_entries = line,
	    .seed = 42,
	    .irq = count_irq,
	    .irq_opaque = f,
	    .name = "test-mmu",
	};

	memset(f, 0, sizeof(*f));
	ih_world_config_init(&wc);
	wc.physmem_base = pm_base;
	wc.physmem_size = SZ_1M;
	cr_assert_eq(ih_world_create(&wc, &f->w), 0);
	f->v = v;
	f->nbanks = nbanks;
	cr_assert_eq(ih_rk_iommu_hw_create(f->w, &cfg, &f->hw), 0);
	for (unsigned int i = 0; i < nbanks; i++) {
		f->r[i] = ih_ioremap(f->w, cfg.bank_base[i], 0x100);
		cr_assert_not_null(f->r[i]);
	}
	f->dt = ih_pm_alloc(f->w, SZ_4K, SZ_4K, "test:dt");
	f->pt = ih_pm_alloc(f->w, SZ_4K, SZ_4K, "test:pt");
	cr_assert_neq(f->dt, IH_PA_INVALID);
	cr_assert_neq(f->pt, IH_PA_INVALID);
}

static void fx_init(struct fx *f, enum ih_rk_iommu_version v, unsigned int nbanks)
{
	fx_init_cfg(f, v, nbanks, 0x80000000ULL, 0, 0);
}

static void fx_fini(struct fx *f)
{
	ih_pm_free(f->w, f->dt, SZ_4K);
	ih_pm_free(f->w, f->pt, SZ_4K);
	ih_rk_iommu_hw_destroy(f->hw);
	cr_expect_eq(ih_world_destroy(f->w), 0, "the test leaked model memory");
}

static u32 desc(const struct fx *f, ih_pa_t pa, u32 flags)
{
	return f->v == IH_RK_IOMMU_HW_V2 ? desc_v2(pa, flags) : desc_v1(pa, flags);
}

static u32 rd(struct fx *f, unsigned int bank, u64 off)
{
	return ih_readl(f->r[bank], off);
}

static void wr(struct fx *f, unsigned int bank, u64 off, u32 val)
{
	ih_writel(f->r[bank], val, off);
}

/* Write a descriptor into simulated memory as a driver publishes it (release store). */
static void put(struct fx *f, ih_pa_t table, u32 idx, u32 val)
{
	cr_assert_eq(ih_pm_store32(f->w, table + 4 * idx, val), 0);
}

/* Map one 4K page: DTE for iova's 4 MiB slot -> f->pt, PTE -> pa. */
static void map_page(struct fx *f, u32 iova, ih_pa_t pa, u32 prot)
{
	put(f, f->dt, iova >> 22, desc(f, f->pt, T_V));
	put(f, f->pt, (iova >> 12) & 0x3ff, desc(f, pa, T_V | prot));
}

static void unmap_page(struct fx *f, u32 iova)
{
	put(f, f->pt, (iova >> 12) & 0x3ff, 0);
}

static u32 dte_reg(const struct fx *f)
{
	return f->v == IH_RK_IOMMU_HW_V2 ? dte_addr_v2(f->dt) : (u32)f->dt;
}

/*
 * Attach as the upstream driver does on one bank: stall if paging is on, force reset with
 * the DTE_ADDR self-test, program DTE_ADDR, zap, unmask, enable paging, unstall.
 */
static void attach_bank(struct fx *f, unsigned int bank)
{
	u32 mask = f->v == IH_RK_IOMMU_HW_V2 ? 0xfffffff0u : 0xfffff000u;

	if (rd(f, bank, T_STATUS) & T_ST_PAGING) {
		wr(f, bank, T_COMMAND, T_CMD_ENABLE_STALL);
		cr_assert(rd(f, bank, T_STATUS) & T_ST_STALL);
	}
	wr(f, bank, T_DTE_ADDR, 0xcafeb000);
	cr_assert_eq(rd(f, bank, T_DTE_ADDR), 0xcafeb000 & mask);
	wr(f, bank, T_COMMAND, T_CMD_FORCE_RESET);
	cr_assert_eq(rd(f, bank, T_DTE_ADDR), 0, "force reset clears DTE_ADDR");
	wr(f, bank, T_DTE_ADDR, dte_reg(f));
	wr(f, bank, T_COMMAND, T_CMD_ZAP_CACHE);
	wr(f, bank, T_INT_MASK, T_IRQ_PAGE_FAULT | T_IRQ_BUS_ERROR);
	wr(f, bank, T_COMMAND, T_CMD_ENABLE_PAGING);
	cr_assert(rd(f, bank, T_STATUS) & T_ST_PAGING);
	wr(f, bank, T_COMMAND, T_CMD_DISABLE_STALL);
	cr_assert_eq(rd(f, bank, T_STATUS), T_ST_REST | T_ST_PAGING);
}

static void attach_all(struct fx *f)
{
	for (unsigned int i = 0; i < f->nbanks; i++)
		attach_bank(f, i);
}

static void cmd_all(struct fx *f, u32 cmd)
{
	for (unsigned int i = 0; i < f->nbanks; i++)
		wr(f, i, T_COMMAND, cmd);
}

static struct ih_rk_iommu_hw_stats stats(struct fx *f, int bank)
{
	struct ih_rk_iommu_hw_stats st;

	cr_assert_eq(ih_rk_iommu_hw_get_stats(f->hw, bank, &st), 0);
	return st;
}

Test(rk_iommu_hw, power_on_state_and_bypass)
{
	struct fx f;
	ih_pa_t pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_REST); /* 0x80000018 */
	cr_expect_eq(rd(&f, 0, T_DTE_ADDR), 0);
	cr_expect_eq(rd(&f, 0, T_INT_MASK), 0);
	cr_expect_eq(rd(&f, 0, T_AUTO_GATING), 3);
	/* Paging disabled: the address goes out untranslated. */
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x12345678, false, &pa), 0);
	cr_expect_eq(pa, 0x12345678);
	cr_expect_eq(stats(&f, 0).bypassed, 1);
	fx_fini(&f);
}

Test(rk_iommu_hw, enable_paging_translates_v1)
{
	struct fx f;
	ih_pa_t page, pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	page = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:page");
	map_page(&f, 0x12345000, page, T_R | T_W);
	attach_all(&f);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x12345678, false, &pa), 0);
	cr_expect_eq(pa, page + 0x678);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x12345ffc, true, &pa), 0);
	cr_expect_eq(pa, page + 0xffc);
	/* One DTE line and one PTE line fetched; the second access hit both. */
	cr_expect_eq(stats(&f, 0).line_fills, 2);
	cr_expect_eq(stats(&f, 0).tlb_hits, 2);
	cr_expect_eq(rd(&f, 0, T_INT_RAWSTAT), 0);
	ih_pm_free(f.w, page, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, v2_descriptor_layout_is_hand_checked)
{
	/* PA 0xa5_4000_1000: bits 35:32 = 0x5 go to 11:8, bits 39:36 = 0xa go to 7:4. */
	cr_expect_eq(desc_v2(0xa540001000ULL, T_V), 0x400015a1);
	cr_expect_eq(desc_v2(0xa540001000ULL, T_V | T_R | T_W), 0x400015a7);
	/* DTE_ADDR for a DT at 0xa5_4000_0000: 0x5 in bits 11:8, 0xa in bits 7:4. */
	cr_expect_eq(dte_addr_v2(0xa540000000ULL), 0x400005a0);
}

Test(rk_iommu_hw, enable_paging_translates_v2_40bit)
{
	struct fx f;
	ih_pa_t page, pa = 0;

	fx_init_cfg(&f, IH_RK_IOMMU_HW_V2, 1, 0xa540000000ULL, 0, 0);
	cr_assert_eq(f.dt >> 32, 0xa5);
	page = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:page");
	map_page(&f, 0x00403000, page, T_R | T_W);
	attach_all(&f);
	cr_expect_eq(rd(&f, 0, T_DTE_ADDR), dte_addr_v2(f.dt));
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x00403abc, true, &pa), 0);
	cr_expect_eq(pa, page + 0xabc);
	cr_expect_eq(pa >> 32, 0xa5);
	ih_pm_free(f.w, page, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, v2_pte_nibbles_are_decoded_in_documented_order)
{
	struct fx f;
	ih_pa_t pa = 0;

	fx_init_cfg(&f, IH_RK_IOMMU_HW_V2, 1, 0xa540000000ULL, 0, 0);
	attach_all(&f);
	put(&f, f.dt, 0, desc_v2(f.pt, T_V));
	/* Bits 11:8 = 0x5 (PA 35:32), bits 7:4 = 0xa (PA 39:36). */
	put(&f, f.pt, 1, 0x12345000 | 0x5a0 | T_V | T_R);
	/* Swapped nibbles name another PA; the walker does not "fix" them. */
	put(&f, f.pt, 2, 0x12345000 | 0xa50 | T_V | T_R);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x1010, false, &pa), 0);
	cr_expect_eq(pa, 0xa512345010ULL);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x2020, false, &pa), 0);
	cr_expect_eq(pa, 0x5a12345020ULL);
	fx_fini(&f);
}

Test(rk_iommu_hw, v1_ignores_low_descriptor_bits_for_the_address)
{
	struct fx f;
	ih_pa_t pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	attach_all(&f);
	put(&f, f.dt, 0, desc_v1(f.pt, T_V));
	/* Cache-attribute bits 8:3 set: v1 has no address bits below 12. */
	put(&f, f.pt, 1, 0x12345000 | 0x1f8 | T_V | T_R);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x1234, false, &pa), 0);
	cr_expect_eq(pa, 0x12345234);
	fx_fini(&f);
}

Test(rk_iommu_hw, cleared_pte_stays_visible_until_zap_one_line)
{
	struct fx f;
	ih_pa_t page, pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	page = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:page");
	map_page(&f, 0x5000, page, T_R | T_W);
	attach_all(&f);
	cr_assert_eq(ih_rk_iommu_hw_translate(f.hw, 0x5000, false, &pa), 0);
	unmap_page(&f, 0x5000);
	/* No zap yet: the TLB still translates the old mapping. */
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x5008, false, &pa), 0);
	cr_expect_eq(pa, page + 8);
	cr_expect(ih_rk_iommu_hw_tlb_holds(f.hw, 0x5000));
	wr(&f, 0, T_ZAP_ONE_LINE, 0x5000);
	cr_expect_not(ih_rk_iommu_hw_tlb_holds(f.hw, 0x5000));
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x5008, false, &pa), -EFAULT);
	cr_expect_eq(rd(&f, 0, T_PAGE_FAULT_ADDR), 0x5008);
	cr_expect_eq(rd(&f, 0, T_INT_STATUS), T_IRQ_PAGE_FAULT);
	cr_expect_eq(stats(&f, 0).zap_lines, 1);
	ih_pm_free(f.w, page, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, cleared_pte_stays_visible_until_zap_cache)
{
	struct fx f;
	ih_pa_t page, pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V2, 1);
	page = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:page");
	map_page(&f, 0x7000, page, T_R);
	attach_all(&f);
	cr_assert_eq(ih_rk_iommu_hw_translate(f.hw, 0x7000, false, &pa), 0);
	unmap_page(&f, 0x7000);
	/* Zapping another line leaves this one. */
	wr(&f, 0, T_ZAP_ONE_LINE, 0x40000000);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x7000, false, &pa), 0);
	cr_expect_eq(pa, page);
	wr(&f, 0, T_COMMAND, T_CMD_ZAP_CACHE);
	cr_expect_eq(ih_rk_iommu_hw_tlb_count(f.hw, 0), 0);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x7000, false, &pa), -EFAULT);
	ih_pm_free(f.w, page, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, new_mapping_beside_a_cached_line_faults_until_zapped)
{
	struct fx f;
	ih_pa_t page, pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1); /* 16-entry lines */
	page = ih_pm_alloc(f.w, (2 * SZ_4K), SZ_4K, "test:page");
	map_page(&f, 0x0000, page, T_R);
	attach_all(&f);
	cr_assert_eq(ih_rk_iommu_hw_translate(f.hw, 0x0000, false, &pa), 0);
	/* Page 1 shares page 0's PTE line, which was cached while page 1 was invalid. */
	map_page(&f, 0x1000, page + SZ_4K, T_R);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, false, &pa), -EFAULT);
	/* What the driver does for a new mapping: zap its first (and last) IOVA. */
	wr(&f, 0, T_ZAP_ONE_LINE, 0x1000);
	wr(&f, 0, T_COMMAND, T_CMD_PAGE_FAULT_DONE);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, false, &pa), 0);
	cr_expect_eq(pa, page + SZ_4K);
	ih_pm_free(f.w, page, (2 * SZ_4K));
	fx_fini(&f);
}

Test(rk_iommu_hw, page_fault_interrupts_and_stalls_until_page_fault_done)
{
	struct fx f;
	ih_pa_t page, pa = 0;
	struct ih_rk_iommu_hw_stats st;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	page = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:page");
	attach_all(&f);
	put(&f, f.dt, 0, desc_v1(f.pt, T_V));

	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x3004, true, &pa), -EFAULT);
	cr_expect_eq(f.irqs[0], 1, "the line rose once");
	cr_expect(ih_rk_iommu_hw_irq_line(f.hw, 0));
	cr_expect_eq(rd(&f, 0, T_STATUS),
		     T_ST_PAGING | T_ST_FAULT | T_ST_FAULT_WRITE | T_ST_STALL_NOT);
	cr_expect_eq(rd(&f, 0, T_INT_RAWSTAT), T_IRQ_PAGE_FAULT);
	cr_expect_eq(rd(&f, 0, T_INT_STATUS), T_IRQ_PAGE_FAULT);
	cr_expect_eq(rd(&f, 0, T_PAGE_FAULT_ADDR), 0x3004);

	/* The master waits: further accesses, even to mapped pages, do not proceed. */
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x3004, true, &pa), -EAGAIN);
	cr_expect_eq(f.irqs[0], 1);

	/* The driver's handler: fix the table, zap, resume, acknowledge. */
	put(&f, f.pt, 3, desc_v1(page, T_V | T_R | T_W));
	wr(&f, 0, T_COMMAND, T_CMD_ZAP_CACHE);
	wr(&f, 0, T_COMMAND, T_CMD_PAGE_FAULT_DONE);
	cr_expect_eq(rd(&f, 0, T_STATUS) & (T_ST_FAULT | T_ST_IDLE | T_ST_REPLAY_EMPT),
		     T_ST_IDLE | T_ST_REPLAY_EMPT);
	cr_expect_eq(rd(&f, 0, T_INT_RAWSTAT), T_IRQ_PAGE_FAULT, "only INT_CLEAR clears it");
	wr(&f, 0, T_INT_CLEAR, T_IRQ_PAGE_FAULT);
	cr_expect_eq(rd(&f, 0, T_INT_RAWSTAT), 0);
	cr_expect_not(ih_rk_iommu_hw_irq_line(f.hw, 0));

	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x3004, true, &pa), 0);
	cr_expect_eq(pa, page + 4);
	st = stats(&f, 0);
	cr_expect_eq(st.page_faults, 1);
	cr_expect_eq(st.stalled, 1);
	ih_pm_free(f.w, page, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, masked_fault_latches_without_interrupt)
{
	struct fx f;
	ih_pa_t pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	attach_all(&f);
	wr(&f, 0, T_INT_MASK, 0);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x9000, false, &pa), -EFAULT);
	cr_expect_eq(rd(&f, 0, T_INT_RAWSTAT), T_IRQ_PAGE_FAULT);
	cr_expect_eq(rd(&f, 0, T_INT_STATUS), 0);
	cr_expect_eq(f.irqs[0], 0);
	cr_expect_eq(rd(&f, 0, T_STATUS) & T_ST_FAULT_WRITE, 0, "a read faulted");
	/* Unmasking a pending cause raises the line. */
	wr(&f, 0, T_INT_MASK, T_IRQ_PAGE_FAULT);
	cr_expect_eq(f.irqs[0], 1);
	cr_expect_eq(rd(&f, 0, T_INT_STATUS), T_IRQ_PAGE_FAULT);
	fx_fini(&f);
}

Test(rk_iommu_hw, missing_permission_is_a_page_fault)
{
	struct fx f;
	ih_pa_t page, pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V2, 1);
	page = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:page");
	map_page(&f, 0x4000, page, T_R);
	attach_all(&f);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x4000, false, &pa), 0);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x4010, true, &pa), -EACCES);
	cr_expect(rd(&f, 0, T_STATUS) & T_ST_FAULT_WRITE);
	cr_expect_eq(rd(&f, 0, T_PAGE_FAULT_ADDR), 0x4010);
	wr(&f, 0, T_COMMAND, T_CMD_PAGE_FAULT_DONE);
	/* Write-only page: reads fault. */
	put(&f, f.pt, 4, desc(&f, page, T_V | T_W));
	wr(&f, 0, T_ZAP_ONE_LINE, 0x4000);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x4000, true, &pa), 0);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x4000, false, &pa), -EACCES);
	cr_expect_eq(rd(&f, 0, T_STATUS) & T_ST_FAULT_WRITE, 0);
	ih_pm_free(f.w, page, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, commands_without_their_precondition_are_ignored)
{
	struct fx f;
	ih_pa_t pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	/* Stall needs paging: with paging off it is implicit and STALL_ACTIVE stays 0. */
	wr(&f, 0, T_COMMAND, T_CMD_ENABLE_STALL);
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_REST);
	/* No fault to finish. */
	wr(&f, 0, T_COMMAND, T_CMD_PAGE_FAULT_DONE);
	cr_expect_eq(stats(&f, 0).ignored_cmds, 2);

	attach_all(&f);
	cr_assert_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, false, &pa), -EFAULT);
	/* With a fault pending the unit is neither idle nor stalled. */
	wr(&f, 0, T_COMMAND, T_CMD_DISABLE_PAGING);
	wr(&f, 0, T_COMMAND, T_CMD_ENABLE_STALL);
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_PAGING | T_ST_FAULT | T_ST_STALL_NOT);
	cr_expect_eq(stats(&f, 0).ignored_cmds, 4);
	wr(&f, 0, T_COMMAND, T_CMD_PAGE_FAULT_DONE);
	wr(&f, 0, T_COMMAND, T_CMD_DISABLE_PAGING);
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_REST);
	/* Both paging commands are refused during a fault (paging is on, so only the
	 * counter shows the ENABLE_PAGING refusal). */
	wr(&f, 0, T_COMMAND, T_CMD_ENABLE_PAGING);
	cr_assert_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, false, &pa), -EFAULT);
	wr(&f, 0, T_COMMAND, T_CMD_DISABLE_PAGING);
	wr(&f, 0, T_COMMAND, T_CMD_ENABLE_PAGING);
	cr_expect(rd(&f, 0, T_STATUS) & T_ST_PAGING);
	cr_expect_eq(stats(&f, 0).ignored_cmds, 6);
	/* Unknown command values do nothing. */
	wr(&f, 0, T_COMMAND, 7);
	wr(&f, 0, T_COMMAND, 0xffffffff);
	cr_expect_eq(stats(&f, 0).bad_cmds, 2);
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_PAGING | T_ST_FAULT | T_ST_STALL_NOT);
	fx_fini(&f);
}

Test(rk_iommu_hw, stall_holds_accesses_and_survives_disable_paging)
{
	struct fx f;
	ih_pa_t page, pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	page = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:page");
	map_page(&f, 0x2000, page, T_R);
	attach_all(&f);
	wr(&f, 0, T_COMMAND, T_CMD_ENABLE_STALL);
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_PAGING | T_ST_STALL | T_ST_IDLE | T_ST_REPLAY_EMPT);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x2000, false, &pa), -EAGAIN);
	/* The detach sequence: stall, disable paging, clear DTE_ADDR, unstall. */
	wr(&f, 0, T_COMMAND, T_CMD_DISABLE_PAGING);
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_STALL | T_ST_IDLE | T_ST_REPLAY_EMPT);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x2000, false, &pa), -EAGAIN);
	wr(&f, 0, T_INT_MASK, 0);
	wr(&f, 0, T_DTE_ADDR, 0);
	wr(&f, 0, T_COMMAND, T_CMD_DISABLE_STALL);
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_REST);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x2000, false, &pa), 0);
	cr_expect_eq(pa, 0x2000, "bypass after detach");
	ih_pm_free(f.w, page, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, force_reset_restores_power_on_state)
{
	struct fx f;
	ih_pa_t pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V2, 1);
	attach_all(&f);
	wr(&f, 0, T_AUTO_GATING, 0x80000003);
	put(&f, f.dt, 0, desc(&f, f.pt, T_V));
	cr_assert_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, true, &pa), -EFAULT);
	cr_assert_neq(ih_rk_iommu_hw_tlb_count(f.hw, 0), 0);
	/* Reset works in any state, even with a fault pending. */
	wr(&f, 0, T_COMMAND, T_CMD_FORCE_RESET);
	cr_expect_eq(rd(&f, 0, T_DTE_ADDR), 0);
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_REST);
	cr_expect_eq(rd(&f, 0, T_INT_RAWSTAT), 0);
	cr_expect_eq(rd(&f, 0, T_INT_MASK), 0);
	cr_expect_eq(rd(&f, 0, T_PAGE_FAULT_ADDR), 0);
	cr_expect_eq(rd(&f, 0, T_AUTO_GATING), 3);
	cr_expect_eq(ih_rk_iommu_hw_tlb_count(f.hw, 0), 0);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, true, &pa), 0);
	cr_expect_eq(pa, 0x1000);
	cr_expect_eq(stats(&f, 0).force_resets, 2, "attach reset once, then this one");
	fx_fini(&f);
}

Test(rk_iommu_hw, register_read_back_masks)
{
	struct fx f1, f2;

	fx_init(&f1, IH_RK_IOMMU_HW_V1, 1);
	/* The reset self-test value: v1 keeps the upper 5 nybbles. */
	wr(&f1, 0, T_DTE_ADDR, 0xcafebabe);
	cr_expect_eq(rd(&f1, 0, T_DTE_ADDR), 0xcafeb000);
	/* Only the two interrupt causes exist. */
	wr(&f1, 0, T_INT_MASK, 0xffffffff);
	cr_expect_eq(rd(&f1, 0, T_INT_MASK), 3);
	/* Read-only registers ignore writes; write-only ones read as zero. */
	wr(&f1, 0, T_STATUS, 0xffffffff);
	wr(&f1, 0, T_INT_RAWSTAT, 0xffffffff);
	wr(&f1, 0, T_INT_STATUS, 0xffffffff);
	wr(&f1, 0, T_PAGE_FAULT_ADDR, 0xffffffff);
	cr_expect_eq(rd(&f1, 0, T_STATUS), T_ST_REST);
	cr_expect_eq(rd(&f1, 0, T_INT_RAWSTAT), 0);
	cr_expect_eq(rd(&f1, 0, T_INT_STATUS), 0);
	cr_expect_eq(rd(&f1, 0, T_PAGE_FAULT_ADDR), 0);
	cr_expect_eq(rd(&f1, 0, T_COMMAND), 0);
	cr_expect_eq(rd(&f1, 0, T_ZAP_ONE_LINE), 0);
	cr_expect_eq(rd(&f1, 0, T_INT_CLEAR), 0);
	/* AUTO_GATING stores every bit. */
	wr(&f1, 0, T_AUTO_GATING, 0x80000001);
	cr_expect_eq(rd(&f1, 0, T_AUTO_GATING), 0x80000001);
	/* Beyond the register file, and 64-bit accesses: read as zero, writes ignored. */
	wr(&f1, 0, 0x28, 0x1234);
	cr_expect_eq(rd(&f1, 0, 0x28), 0);
	cr_expect_eq(rd(&f1, 0, 0xfc), 0);
	ih_writeq(f1.r[0], ~0ULL, T_DTE_ADDR);
	cr_expect_eq(ih_readq(f1.r[0], T_DTE_ADDR), 0);
	cr_expect_eq(rd(&f1, 0, T_DTE_ADDR), 0xcafeb000);
	fx_fini(&f1);

	fx_init(&f2, IH_RK_IOMMU_HW_V2, 1);
	/* v2 keeps the upper 7 nybbles. */
	wr(&f2, 0, T_DTE_ADDR, 0xcafebabe);
	cr_expect_eq(rd(&f2, 0, T_DTE_ADDR), 0xcafebab0);
	fx_fini(&f2);
}

Test(rk_iommu_hw, banks_programmed_alike_agree)
{
	struct fx f;
	ih_pa_t page, pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V2, 2);
	page = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:page");
	map_page(&f, 0x6000, page, T_R | T_W);
	attach_all(&f);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x6010, false, &pa), 0);
	cr_expect_eq(pa, page + 0x10);
	cr_expect_eq(stats(&f, 0).translations, 1);
	cr_expect_eq(stats(&f, 1).translations, 1);
	/* Unmap with zap on every bank, as rk_iommu_zap_lines() does. */
	unmap_page(&f, 0x6000);
	for (unsigned int i = 0; i < 2; i++)
		wr(&f, i, T_ZAP_ONE_LINE, 0x6000);
	cr_expect_not(ih_rk_iommu_hw_tlb_holds(f.hw, 0x6000));
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x6010, false, &pa), -EFAULT);
	/* The first bank faulted and the access stopped there. */
	cr_expect(rd(&f, 0, T_STATUS) & T_ST_FAULT);
	cr_expect_eq(rd(&f, 1, T_STATUS) & T_ST_FAULT, 0);
	cmd_all(&f, T_CMD_PAGE_FAULT_DONE);
	cr_expect_eq(stats(&f, IH_RK_IOMMU_ALL_BANKS).bank_mismatches, 0);
	ih_pm_free(f.w, page, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, forgotten_bank_is_visible)
{
	struct fx f;
	ih_pa_t page, pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 2);
	page = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:page");
	map_page(&f, 0x6000, page, T_R | T_W);

	/* Attach programs bank 0 only: bank 1 still bypasses. */
	attach_bank(&f, 0);
	cr_expect_eq(rd(&f, 1, T_STATUS), T_ST_REST);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x6010, false, &pa), -EXDEV);
	cr_expect_eq(stats(&f, IH_RK_IOMMU_ALL_BANKS).bank_mismatches, 1);
	cr_expect_eq(ih_rk_iommu_hw_translate_bank(f.hw, 1, 0x6010, false, &pa), 0);
	cr_expect_eq(pa, 0x6010);

	/* Both attached; then an unmap that zaps bank 0 but forgets bank 1. */
	attach_bank(&f, 1);
	cr_assert_eq(ih_rk_iommu_hw_translate(f.hw, 0x6010, false, &pa), 0);
	unmap_page(&f, 0x6000);
	wr(&f, 0, T_ZAP_ONE_LINE, 0x6000);
	cr_expect(ih_rk_iommu_hw_tlb_holds(f.hw, 0x6000), "bank 1 still holds the page");
	cr_expect_eq(ih_rk_iommu_hw_translate_bank(f.hw, 1, 0x6010, true, &pa), 0);
	cr_expect_eq(pa, page + 0x10, "stale on the forgotten bank");
	cr_expect_eq(ih_rk_iommu_hw_translate_bank(f.hw, 0, 0x6010, true, &pa), -EFAULT);
	ih_pm_free(f.w, page, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, bad_table_addresses_are_bus_errors)
{
	struct fx f;
	ih_pa_t pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	attach_all(&f);
	/* DTE_ADDR outside simulated memory. */
	wr(&f, 0, T_DTE_ADDR, 0x10000000);
	wr(&f, 0, T_COMMAND, T_CMD_ZAP_CACHE);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, false, &pa), -EIO);
	cr_expect_eq(rd(&f, 0, T_INT_STATUS), T_IRQ_BUS_ERROR);
	cr_expect_eq(rd(&f, 0, T_PAGE_FAULT_ADDR), 0x1000);
	/* A bus error aborts the access; it does not stall the master. */
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_REST | T_ST_PAGING);
	cr_expect_eq(ih_rk_iommu_hw_tlb_count(f.hw, 0), 0);
	wr(&f, 0, T_INT_CLEAR, T_IRQ_BUS_ERROR);

	/* A valid DTE pointing outside memory. */
	wr(&f, 0, T_DTE_ADDR, (u32)f.dt);
	put(&f, f.dt, 0, desc_v1(0xfffff000, T_V));
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, false, &pa), -EIO);
	cr_expect_eq(rd(&f, 0, T_INT_RAWSTAT), T_IRQ_BUS_ERROR);
	cr_expect_eq(stats(&f, 0).bus_errors, 2);
	cr_expect_eq(f.irqs[0], 2);
	fx_fini(&f);
}

Test(rk_iommu_hw, tlb_only_shrinks_on_zap)
{
	struct fx f;
	ih_pa_t pa = 0;

	fx_init_cfg(&f, IH_RK_IOMMU_HW_V1, 1, 0x80000000ULL, 4, 1);
	attach_all(&f);
	put(&f, f.dt, 0, desc_v1(f.pt, T_V));
	for (u32 i = 0; i < 16; i++)
		put(&f, f.pt, i, desc_v1(0x40000000 + i * SZ_4K, T_V | T_R));
	for (u32 i = 0; i < 16; i++) {
		unsigned int before = ih_rk_iommu_hw_tlb_count(f.hw, 0);

		cr_assert_eq(ih_rk_iommu_hw_translate(f.hw, i * SZ_4K, false, &pa), 0);
		cr_assert_eq(pa, 0x40000000 + i * SZ_4K, "fills never corrupt a translation");
		cr_assert_geq(ih_rk_iommu_hw_tlb_count(f.hw, 0), before);
		cr_assert_leq(ih_rk_iommu_hw_tlb_count(f.hw, 0), 4);
	}
	cr_expect_eq(ih_rk_iommu_hw_tlb_count(f.hw, 0), 4);
	/* Commands that are not zaps leave it alone. */
	wr(&f, 0, T_COMMAND, T_CMD_ENABLE_STALL);
	wr(&f, 0, T_COMMAND, T_CMD_DISABLE_STALL);
	wr(&f, 0, T_COMMAND, T_CMD_DISABLE_PAGING);
	wr(&f, 0, T_COMMAND, T_CMD_ENABLE_PAGING);
	cr_expect_eq(ih_rk_iommu_hw_tlb_count(f.hw, 0), 4);
	wr(&f, 0, T_COMMAND, T_CMD_ZAP_CACHE);
	cr_expect_eq(ih_rk_iommu_hw_tlb_count(f.hw, 0), 0);
	fx_fini(&f);
}

Test(rk_iommu_hw, new_dte_addr_uses_stale_entries_until_zap_cache)
{
	struct fx f;
	ih_pa_t dt2, pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	dt2 = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "test:dt2");
	map_page(&f, 0x1000, 0x50000000, T_R);
	attach_all(&f);
	cr_assert_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, false, &pa), 0);
	/* Switch to an empty directory without zapping: the old translation survives. */
	wr(&f, 0, T_COMMAND, T_CMD_ENABLE_STALL);
	wr(&f, 0, T_DTE_ADDR, (u32)dt2);
	wr(&f, 0, T_COMMAND, T_CMD_DISABLE_STALL);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, false, &pa), 0);
	cr_expect_eq(pa, 0x50000000);
	wr(&f, 0, T_COMMAND, T_CMD_ZAP_CACHE);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x1000, false, &pa), -EFAULT);
	ih_pm_free(f.w, dt2, SZ_4K);
	fx_fini(&f);
}

Test(rk_iommu_hw, out_of_range_arguments_are_refused)
{
	struct fx f;
	ih_pa_t pa = 0x77;
	struct ih_rk_iommu_hw_stats st;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	cr_expect_eq(ih_rk_iommu_hw_translate(f.hw, 0x100000000ULL, false, &pa), -ERANGE);
	cr_expect_eq(ih_rk_iommu_hw_translate_bank(f.hw, 1, 0x1000, false, &pa), -EINVAL);
	cr_expect_eq(pa, 0x77, "untouched on error");
	cr_expect_eq(ih_rk_iommu_hw_get_stats(f.hw, 1, &st), -EINVAL);
	cr_expect_eq(ih_rk_iommu_hw_get_stats(f.hw, -2, &st), -EINVAL);
	cr_expect_eq(ih_rk_iommu_hw_tlb_count(f.hw, 3), 0);
	cr_expect_not(ih_rk_iommu_hw_irq_line(f.hw, 3));
	cr_expect_eq(ih_rk_iommu_hw_nbanks(f.hw), 1);
	cr_expect_eq(ih_rk_iommu_hw_version(f.hw), IH_RK_IOMMU_HW_V1);
	fx_fini(&f);
}

static int try_create(struct ih_world *w, struct ih_rk_iommu_hw_config cfg)
{
	struct ih_rk_iommu_hw *hw = (void *)1;
	int ret = ih_rk_iommu_hw_create(w, &cfg, &hw);

	if (!ret)
		ih_rk_iommu_hw_destroy(hw);
	else
		cr_expect_null(hw);
	return ret;
}

Test(rk_iommu_hw, create_rejects_bad_configs_without_leaks)
{
	struct ih_world *w;
	struct ih_rk_iommu_hw_config ok = {
	    .version = IH_RK_IOMMU_HW_V1, .nbanks = 2, .bank_base = {BANK0, BANK1}};
	struct ih_rk_iommu_hw_config c;

	cr_assert_eq(ih_world_create(NULL, &w), 0);
	cr_expect_eq(try_create(w, ok), 0);
	c = ok, c.version = 3;
	cr_expect_eq(try_create(w, c), -EINVAL);
	c = ok, c.nbanks = 0;
	cr_expect_eq(try_create(w, c), -EINVAL);
	c = ok, c.nbanks = IH_RK_IOMMU_MAX_BANKS + 1;
	cr_expect_eq(try_create(w, c), -EINVAL);
	c = ok, c.bank_base[1] = BANK1 + 4;
	cr_expect_eq(try_create(w, c), -EINVAL);
	c = ok, c.bank_base[1] = BANK0; /* overlapping windows */
	cr_expect_eq(try_create(w, c), -EINVAL);
	c = ok, c.tlb_line_entries = 3;
	cr_expect_eq(try_create(w, c), -EINVAL);
	c = ok, c.tlb_line_entries = 32;
	cr_expect_eq(try_create(w, c), -EINVAL);
	c = ok, c.tlb_entries = 4, c.tlb_line_entries = 8;
	cr_expect_eq(try_create(w, c), -EINVAL);
	c = ok, c.tlb_entries = IH_RK_IOMMU_TLB_MAX + 1;
	cr_expect_eq(try_create(w, c), -EINVAL);
	/* A small TLB picks a line that fits. */
	c = ok, c.tlb_entries = 6;
	cr_expect_eq(try_create(w, c), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}

Test(rk_iommu_hw, create_unwinds_every_failed_allocation)
{
	/* Two banks: one instance, two TLBs, two MMIO regions. */
	static const struct {
		const char *site;
		unsigned long nth;
	} fails[] = {
	    {"rk_iommu_hw:instance", 1}, {"rk_iommu_hw:tlb", 1}, {"rk_iommu_hw:tlb", 2},
	    {"mmio:region", 1},		 {"mmio:region", 2},
	};
	struct ih_rk_iommu_hw_config cfg = {
	    .version = IH_RK_IOMMU_HW_V2, .nbanks = 2, .bank_base = {BANK0, BANK1}};

	for (size_t i = 0; i < ARRAY_SIZE(fails); i++) {
		struct ih_world *w;
		struct ih_rk_iommu_hw *hw;

		cr_assert_eq(ih_world_create(NULL, &w), 0);
		cr_assert_eq(ih_fault_fail_site(w, fails[i].site, fails[i].nth), 0);
		cr_expect_eq(ih_rk_iommu_hw_create(w, &cfg, &hw), -ENOMEM, "%s #%lu", fails[i].site,
			     fails[i].nth);
		cr_expect_null(hw);
		/* The windows were given back: a retry claims them again. */
		cr_expect_eq(ih_rk_iommu_hw_create(w, &cfg, &hw), 0);
		ih_rk_iommu_hw_destroy(hw);
		cr_expect_eq(ih_world_destroy(w), 0, "%s #%lu leaked", fails[i].site, fails[i].nth);
	}
}

/* The upstream handler's steps, run from the interrupt callback itself. */
static void handler_resumes(void *opaque, unsigned int bank)
{
	struct fx *f = opaque;
	u32 status = rd(f, bank, T_STATUS);
	u32 iova = rd(f, bank, T_PAGE_FAULT_ADDR);
	u32 int_status = rd(f, bank, T_INT_STATUS);

	f->irqs[bank]++;
	cr_assert_eq(int_status, T_IRQ_PAGE_FAULT);
	cr_assert(status & T_ST_FAULT);
	map_page(f, iova & ~0xfffu, 0x60000000, T_R | T_W);
	wr(f, bank, T_COMMAND, T_CMD_ZAP_CACHE);
	wr(f, bank, T_COMMAND, T_CMD_PAGE_FAULT_DONE);
	wr(f, bank, T_INT_CLEAR, int_status);
}

Test(rk_iommu_hw, interrupt_callback_may_run_the_fault_handler)
{
	struct fx f;
	struct ih_rk_iommu_hw_config cfg = {
		.version = IH_RK_IOMMU_HW_V1,
		.nbanks = 1,
		.bank_base = { BANK1 },
		.irq = handler_resumes,
		.irq_opaque = &f,
	};
	struct ih_rk_iommu_hw *hw2;
	ih_pa_t pa = 0;

	fx_init(&f, IH_RK_IOMMU_HW_V1, 1);
	/* A second instance whose callback runs the handler against its own bank. */
	cr_assert_eq(ih_rk_iommu_hw_create(f.w, &cfg, &hw2), 0);
	f.r[0] = ih_ioremap(f.w, BANK1, 0x100);
	attach_bank(&f, 0);
	cr_expect_eq(ih_rk_iommu_hw_translate(hw2, 0x8123, false, &pa), -EFAULT);
	cr_expect_eq(f.irqs[0], 1);
	/* The handler fixed the table and resumed: the replayed access goes through. */
	cr_expect_eq(rd(&f, 0, T_STATUS), T_ST_REST | T_ST_PAGING);
	cr_expect_eq(ih_rk_iommu_hw_translate(hw2, 0x8123, false, &pa), 0);
	cr_expect_eq(pa, 0x60000123);
	ih_rk_iommu_hw_destroy(hw2);
	fx_fini(&f);
}
