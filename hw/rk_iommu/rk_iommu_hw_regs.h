/* SPDX-License-Identifier: MIT */
/* Device-side register and descriptor definitions of the emulated Rockchip IOMMU. */
#ifndef IH_HW_RK_IOMMU_HW_REGS_H
#define IH_HW_RK_IOMMU_HW_REGS_H

/*
 * Written from the public register map (the upstream rockchip-iommu driver's offsets,
 * command codes and field comments; the Mali-400 MMU register descriptions in Xilinx
 * UG1087, "PPx_MMU_*", from which this unit descends). The driver side keeps its own
 * definitions in GENMASK style; a test checks that both agree. Do not include this header
 * from a driver.
 *
 * RK_REG32(name, off) gives RK_A_<name> (byte offset). RK_FIELD(reg, f, shift, len) gives
 * RK_R_<reg>_<f>_SHIFT, _LENGTH and _MASK. RK_FIELD_EX32() / RK_FIELD_DP32() extract and
 * deposit a field.
 */
#define RK_REG32(reg, addr) enum { RK_A_##reg = (addr) };
#define RK_FIELD(reg, field, shift, length)                                                        \
	enum {                                                                                     \
		RK_R_##reg##_##field##_SHIFT = (shift),                                            \
		RK_R_##reg##_##field##_LENGTH = (length),                                          \
	};                                                                                         \
	static const u32 RK_R_##reg##_##field##_MASK __attribute__((unused)) =                     \
		(u32)((~0ULL >> (64 - (length))) << (shift));

#define RK_FIELD_EX32(val, reg, field)                                                             \
	(((u32)(val) & RK_R_##reg##_##field##_MASK) >> RK_R_##reg##_##field##_SHIFT)
#define RK_FIELD_DP32(val, reg, field, fv)                                                         \
	(((u32)(val) & ~RK_R_##reg##_##field##_MASK) |                                             \
	 (((u32)(fv) << RK_R_##reg##_##field##_SHIFT) & RK_R_##reg##_##field##_MASK))

/* One register bank: ten 32-bit registers at the bottom of a 0x100 window. */
RK_REG32(DTE_ADDR, 0x00)        /* directory table base */
RK_REG32(STATUS, 0x04)          /* read-only */
RK_REG32(COMMAND, 0x08)         /* write-only */
RK_REG32(PAGE_FAULT_ADDR, 0x0c) /* IOVA of the last fault, read-only */
RK_REG32(ZAP_ONE_LINE, 0x10)    /* write an IOVA: evict its cached lines */
RK_REG32(INT_RAWSTAT, 0x14)     /* interrupt causes before masking, read-only */
RK_REG32(INT_CLEAR, 0x18)       /* write 1 to clear a raw cause */
RK_REG32(INT_MASK, 0x1c)        /* 1 = cause enabled */
RK_REG32(INT_STATUS, 0x20)      /* INT_RAWSTAT & INT_MASK, read-only */
RK_REG32(AUTO_GATING, 0x24)     /* clock gating control; no effect in the model */

/* STATUS (UG1087 PPx_MMU_STATUS; bit 31 from the Rockchip driver). */
RK_FIELD(STATUS, PAGING_ENABLED, 0, 1)
RK_FIELD(STATUS, PAGE_FAULT_ACTIVE, 1, 1)
RK_FIELD(STATUS, STALL_ACTIVE, 2, 1)
RK_FIELD(STATUS, IDLE, 3, 1)
RK_FIELD(STATUS, REPLAY_BUFFER_EMPTY, 4, 1)
RK_FIELD(STATUS, PAGE_FAULT_IS_WRITE, 5, 1)
RK_FIELD(STATUS, PAGE_FAULT_BUS_ID, 6, 5)
RK_FIELD(STATUS, STALL_NOT_ACTIVE, 31, 1)

/* COMMAND values. */
enum rk_hw_cmd {
	RK_CMD_ENABLE_PAGING = 0,
	RK_CMD_DISABLE_PAGING = 1,
	RK_CMD_ENABLE_STALL = 2,
	RK_CMD_DISABLE_STALL = 3,
	RK_CMD_ZAP_CACHE = 4,
	RK_CMD_PAGE_FAULT_DONE = 5,
	RK_CMD_FORCE_RESET = 6,
};

/* INT_RAWSTAT / INT_CLEAR / INT_MASK / INT_STATUS. */
RK_FIELD(INT, PAGE_FAULT, 0, 1)
RK_FIELD(INT, BUS_ERROR, 1, 1)
#define RK_INT_ALL (RK_R_INT_PAGE_FAULT_MASK | RK_R_INT_BUS_ERROR_MASK)

/*
 * DTE_ADDR. v1: bits 31:12 hold PA 31:12 and bits 11:0 read as zero (the driver's reset
 * self-test expects "the upper 5 nybbles" back). v2 (RK3568): the directory address uses
 * the descriptor layout, PA 35:32 in bits 11:8 and PA 39:36 in bits 7:4, so 7 nybbles read
 * back; bits 3:0 read as zero (a valid bit written with the address is ignored). Upstream
 * first packed PA 39:32 contiguously into bits 11:4, as the vendor kernel does; testing on
 * RK3568 showed the descriptor layout is what the unit decodes (rockchip-iommu "Fix
 * directory table address encoding", J. Karlman, 2023).
 */
RK_FIELD(DTE_ADDR, LO, 12, 20)
RK_FIELD(DTE_ADDR, V2_PA35_32, 8, 4)
RK_FIELD(DTE_ADDR, V2_PA39_36, 4, 4)
#define RK_DTE_ADDR_V1_MASK 0xfffff000u
#define RK_DTE_ADDR_V2_MASK 0xfffffff0u

/* Power-on values (UG1087 gives STATUS reset 0x18: idle, replay buffer empty). */
#define RK_STATUS_RESET      0x00000018u
#define RK_AUTO_GATING_RESET 0x00000003u /* value read on RK356x before any write */

/*
 * Descriptors: one 32-bit little-endian word each, 1024 per 4 KiB table.
 *
 *  v1 DTE / PTE                              v2 DTE / PTE (RK3568)
 *  31          12 11    9 8      3 2 1 0      31          12 11   8 7    4 3 2 1 0
 * +--------------+-------+--------+-+-+-+    +--------------+------+------+-+-+-+-+
 * | PA 31:12     | rsvd  | cache  |W|R|V|    | PA 31:12     |PA    |PA    |S|W|R|V|
 * +--------------+-------+--------+-+-+-+    |              |35:32 |39:36 | | | | |
 *                                            +--------------+------+------+-+-+-+-+
 *
 * V valid; R/W read and write permission (PTE only; a DTE has only V). v2 nibble order as
 * in the upstream driver after f7ff3cff3527 ("Fix PAGE_DESC_HI_MASKs for RK3568"); R/W on
 * bits 1/2 in v2 as well, after 7eb99841f340 ("fix permission bits in page table entries
 * v2"). S (security) and the v1 cache attributes do not affect translation.
 */
RK_FIELD(DESC, VALID, 0, 1)
RK_FIELD(DESC, READ, 1, 1)
RK_FIELD(DESC, WRITE, 2, 1)
RK_FIELD(DESC, ADDR_LO, 12, 20)
RK_FIELD(DESC, V2_PA35_32, 8, 4)
RK_FIELD(DESC, V2_PA39_36, 4, 4)

/* IOVA: 31:22 DTE index, 21:12 PTE index, 11:0 page offset. */
#define RK_IOVA_DTE_SHIFT 22
#define RK_IOVA_PTE_SHIFT 12
#define RK_IOVA_IDX_MASK  0x3ffu
#define RK_IOVA_PAGE_MASK 0xfffu

#endif /* IH_HW_RK_IOMMU_HW_REGS_H */
