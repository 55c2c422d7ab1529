// SPDX-License-Identifier: MIT
/* The driver's register layout agrees with the emulated device's, field by field. */
#include <criterion/criterion.h>

#include <ih/compat.h>

/* The only file allowed to see both sides. */
#include "rk_iommu/rk_iommu_drv_regs.h"
#include "rk_iommu/rk_iommu_hw.h"
#include "rk_iommu/rk_iommu_hw_regs.h"

Test(rk_iommu_regs, register_offsets_agree)
{
	cr_expect_eq(RK_MMU_DTE_ADDR, RK_A_DTE_ADDR);
	cr_expect_eq(RK_MMU_STATUS, RK_A_STATUS);
	cr_expect_eq(RK_MMU_COMMAND, RK_A_COMMAND);
	cr_expect_eq(RK_MMU_PAGE_FAULT_ADDR, RK_A_PAGE_FAULT_ADDR);
	cr_expect_eq(RK_MMU_ZAP_ONE_LINE, RK_A_ZAP_ONE_LINE);
	cr_expect_eq(RK_MMU_INT_RAWSTAT, RK_A_INT_RAWSTAT);
	cr_expect_eq(RK_MMU_INT_CLEAR, RK_A_INT_CLEAR);
	cr_expect_eq(RK_MMU_INT_MASK, RK_A_INT_MASK);
	cr_expect_eq(RK_MMU_INT_STATUS, RK_A_INT_STATUS);
	cr_expect_eq(RK_MMU_AUTO_GATING, RK_A_AUTO_GATING);
	cr_expect_eq(RK_MMU_BANK_SPAN, IH_RK_IOMMU_BANK_SIZE);
}

Test(rk_iommu_regs, status_bits_agree)
{
	cr_expect_eq(RK_MMU_STATUS_PAGING_ENABLED, RK_R_STATUS_PAGING_ENABLED_MASK);
	cr_expect_eq(RK_MMU_STATUS_PAGE_FAULT_ACTIVE, RK_R_STATUS_PAGE_FAULT_ACTIVE_MASK);
	cr_expect_eq(RK_MMU_STATUS_STALL_ACTIVE, RK_R_STATUS_STALL_ACTIVE_MASK);
	cr_expect_eq(RK_MMU_STATUS_IDLE, RK_R_STATUS_IDLE_MASK);
	cr_expect_eq(RK_MMU_STATUS_REPLAY_BUFFER_EMPTY, RK_R_STATUS_REPLAY_BUFFER_EMPTY_MASK);
	cr_expect_eq(RK_MMU_STATUS_PAGE_FAULT_IS_WRITE, RK_R_STATUS_PAGE_FAULT_IS_WRITE_MASK);
	cr_expect_eq(RK_MMU_STATUS_PAGE_FAULT_BUS_ID, RK_R_STATUS_PAGE_FAULT_BUS_ID_MASK);
	cr_expect_eq(RK_MMU_STATUS_STALL_NOT_ACTIVE, RK_R_STATUS_STALL_NOT_ACTIVE_MASK);
	/* Power-on STATUS: idle with an empty replay buffer (UG1087). */
	cr_expect_eq(RK_MMU_STATUS_IDLE | RK_MMU_STATUS_REPLAY_BUFFER_EMPTY, RK_STATUS_RESET);
}

Test(rk_iommu_regs, command_values_agree)
{
	cr_expect_eq(RK_MMU_CMD_ENABLE_PAGING, RK_CMD_ENABLE_PAGING);
	cr_expect_eq(RK_MMU_CMD_DISABLE_PAGING, RK_CMD_DISABLE_PAGING);
	cr_expect_eq(RK_MMU_CMD_ENABLE_STALL, RK_CMD_ENABLE_STALL);
	cr_expect_eq(RK_MMU_CMD_DISABLE_STALL, RK_CMD_DISABLE_STALL);
	cr_expect_eq(RK_MMU_CMD_ZAP_CACHE, RK_CMD_ZAP_CACHE);
	cr_expect_eq(RK_MMU_CMD_PAGE_FAULT_DONE, RK_CMD_PAGE_FAULT_DONE);
	cr_expect_eq(RK_MMU_CMD_FORCE_RESET, RK_CMD_FORCE_RESET);
}

Test(rk_iommu_regs, interrupt_bits_agree)
{
	cr_expect_eq(RK_MMU_IRQ_PAGE_FAULT, RK_R_INT_PAGE_FAULT_MASK);
	cr_expect_eq(RK_MMU_IRQ_BUS_ERROR, RK_R_INT_BUS_ERROR_MASK);
	cr_expect_eq(RK_MMU_IRQ_MASK, RK_INT_ALL);
}

Test(rk_iommu_regs, dte_addr_layout_agrees)
{
	cr_expect_eq(RK_MMU_DTE_ADDR_V1_MASK, RK_DTE_ADDR_V1_MASK);
	cr_expect_eq(RK_MMU_DTE_ADDR_V2_MASK, RK_DTE_ADDR_V2_MASK);
	/* DTE_ADDR packs the directory address as a descriptor does. */
	cr_expect_eq(RK_MMU_DESC_ADDR_LO, RK_R_DTE_ADDR_LO_MASK);
	cr_expect_eq(RK_MMU_DESC_V2_PA35_32, RK_R_DTE_ADDR_V2_PA35_32_MASK);
	cr_expect_eq(RK_MMU_DESC_V2_PA39_36, RK_R_DTE_ADDR_V2_PA39_36_MASK);
	/* The self-test pattern keeps 5 nybbles on v1 and 7 on v2. */
	cr_expect_eq(RK_MMU_DTE_ADDR_DUMMY & RK_DTE_ADDR_V1_MASK, 0xcafeb000u);
	cr_expect_eq(RK_MMU_DTE_ADDR_DUMMY & RK_DTE_ADDR_V2_MASK, 0xcafebab0u);
}

Test(rk_iommu_regs, descriptor_and_iova_layout_agree)
{
	cr_expect_eq(RK_MMU_DESC_VALID, RK_R_DESC_VALID_MASK);
	cr_expect_eq(RK_MMU_DESC_READ, RK_R_DESC_READ_MASK);
	cr_expect_eq(RK_MMU_DESC_WRITE, RK_R_DESC_WRITE_MASK);
	cr_expect_eq(RK_MMU_DESC_ADDR_LO, RK_R_DESC_ADDR_LO_MASK);
	cr_expect_eq(RK_MMU_DESC_V2_PA35_32, RK_R_DESC_V2_PA35_32_MASK);
	cr_expect_eq(RK_MMU_DESC_V2_PA39_36, RK_R_DESC_V2_PA39_36_MASK);
	cr_expect_eq(RK_MMU_IOVA_DTE_IDX, (u64)RK_IOVA_IDX_MASK << RK_IOVA_DTE_SHIFT);
	cr_expect_eq(RK_MMU_IOVA_PTE_IDX, (u64)RK_IOVA_IDX_MASK << RK_IOVA_PTE_SHIFT);
	cr_expect_eq(RK_MMU_IOVA_OFFSET, RK_IOVA_PAGE_MASK);
	cr_expect_eq(RK_MMU_PAGE_SIZE, 1u << RK_IOVA_PTE_SHIFT);
}
