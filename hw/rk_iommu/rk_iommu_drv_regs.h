/* SPDX-License-Identifier: MIT */
/* Driver-side register, command, STATUS and descriptor layouts of the Rockchip IOMMU. */
#ifndef IH_HW_RK_IOMMU_DRV_REGS_H
#define IH_HW_RK_IOMMU_DRV_REGS_H

#include <ih/compat.h>

/*
 * Written from public facts only (the register map of the upstream rockchip-iommu driver
 * as summarised in research/mechanisms.md section 3.7, and the Mali-400 "PPx_MMU_*"
 * register descriptions of Xilinx UG1087 from which this MMU descends), independently of
 * the emulated device's private rk_iommu_hw_regs.h. tests/rk_iommu/test_rk_iommu_regs.c
 * checks that the two sides agree; nothing else may include both.
 */

/* One register bank (UG1087 "MMU register summary"): offsets inside the bank window. */
#define RK_MMU_DTE_ADDR	       0x00 /* directory table base */
#define RK_MMU_STATUS	       0x04
#define RK_MMU_COMMAND	       0x08
#define RK_MMU_PAGE_FAULT_ADDR 0x0c /* IOVA of the last page fault */
#define RK_MMU_ZAP_ONE_LINE    0x10 /* write an IOVA: evict its cached descriptor lines */
#define RK_MMU_INT_RAWSTAT     0x14
#define RK_MMU_INT_CLEAR       0x18
#define RK_MMU_INT_MASK	       0x1c
#define RK_MMU_INT_STATUS      0x20
#define RK_MMU_AUTO_GATING     0x24
#define RK_MMU_BANK_SPAN       0x100 /* window one bank occupies */

/* STATUS (UG1087 PPx_MMU_STATUS; bit 31 as the Rockchip driver documents it). */
#define RK_MMU_STATUS_PAGING_ENABLED	  BIT(0)
#define RK_MMU_STATUS_PAGE_FAULT_ACTIVE	  BIT(1)
#define RK_MMU_STATUS_STALL_ACTIVE	  BIT(2)
#define RK_MMU_STATUS_IDLE		  BIT(3)
#define RK_MMU_STATUS_REPLAY_BUFFER_EMPTY BIT(4)
#define RK_MMU_STATUS_PAGE_FAULT_IS_WRITE BIT(5)
#define RK_MMU_STATUS_PAGE_FAULT_BUS_ID	  GENMASK(10, 6)
#define RK_MMU_STATUS_STALL_NOT_ACTIVE	  BIT(31)

/* COMMAND values (written whole to RK_MMU_COMMAND). */
#define RK_MMU_CMD_ENABLE_PAGING   0 /* only when stalled or idle */
#define RK_MMU_CMD_DISABLE_PAGING  1 /* only when stalled or idle */
#define RK_MMU_CMD_ENABLE_STALL	   2 /* only with paging enabled */
#define RK_MMU_CMD_DISABLE_STALL   3
#define RK_MMU_CMD_ZAP_CACHE	   4
#define RK_MMU_CMD_PAGE_FAULT_DONE 5
#define RK_MMU_CMD_FORCE_RESET	   6

/* INT_RAWSTAT / INT_CLEAR / INT_MASK / INT_STATUS. */
#define RK_MMU_IRQ_PAGE_FAULT BIT(0)
#define RK_MMU_IRQ_BUS_ERROR  BIT(1)
#define RK_MMU_IRQ_MASK	      (RK_MMU_IRQ_PAGE_FAULT | RK_MMU_IRQ_BUS_ERROR)

/*
 * DTE_ADDR holds the directory address packed exactly like a descriptor address (below):
 * v1 keeps PA 31:12, v2 (RK3568) also PA 35:32 in bits 11:8 and PA 39:36 in bits 7:4
 * (upstream "Fix directory table address encoding", 2023). The reset self-test writes a
 * dummy pattern and expects exactly the implemented bits back.
 */
#define RK_MMU_DTE_ADDR_V1_MASK GENMASK(31, 12)
#define RK_MMU_DTE_ADDR_V2_MASK GENMASK(31, 4)
#define RK_MMU_DTE_ADDR_DUMMY	0xcafebabeU

/*
 * Descriptors (DTE and PTE), one little-endian 32-bit word each:
 *
 *   31          12 11     8 7      4 3   2   1   0
 *  +--------------+--------+--------+---+---+---+---+
 *  | PA 31:12     | v2: PA | v2: PA | . | W | R | V |   (v1: bits 11:3 are attributes)
 *  |              | 35:32  | 39:36  |   |   |   |   |
 *  +--------------+--------+--------+---+---+---+---+
 */
#define RK_MMU_DESC_VALID      BIT(0)
#define RK_MMU_DESC_READ       BIT(1)
#define RK_MMU_DESC_WRITE      BIT(2)
#define RK_MMU_DESC_ADDR_LO    GENMASK(31, 12)
#define RK_MMU_DESC_V2_PA35_32 GENMASK(11, 8)
#define RK_MMU_DESC_V2_PA39_36 GENMASK(7, 4)

/* IOVA split: 10-bit DTE index, 10-bit PTE index, 12-bit page offset. */
#define RK_MMU_IOVA_DTE_IDX GENMASK(31, 22)
#define RK_MMU_IOVA_PTE_IDX GENMASK(21, 12)
#define RK_MMU_IOVA_OFFSET  GENMASK(11, 0)
#define RK_MMU_PAGE_SIZE    0x1000U

#endif /* IH_HW_RK_IOMMU_DRV_REGS_H */
