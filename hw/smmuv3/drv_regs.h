/* SPDX-License-Identifier: MIT */
/* SMMUv3 driver: register, structure and command layouts (GENMASK style), from IHI 0070. */
#ifndef IH_HW_SMMUV3_DRV_REGS_H
#define IH_HW_SMMUV3_DRV_REGS_H

#include <ih/compat.h>

/*
 * Written from the architecture specification (Arm IHI 0070, "SMMU architecture version 3"),
 * independently of the emulated device's hw_priv.h: tests/smmuv3/test_smmuv3_drv_layout.c
 * checks that the two agree on every offset and field used here. Only tests may include
 * both headers.
 */

/* ---- Register offsets (IHI 0070, 6.2 "Register overview"; page 1 at +64K) ---- */
#define SMMUV3_IDR0	       0x00
#define SMMUV3_IDR1	       0x04
#define SMMUV3_IDR2	       0x08
#define SMMUV3_IDR3	       0x0c
#define SMMUV3_IDR4	       0x10
#define SMMUV3_IDR5	       0x14
#define SMMUV3_IIDR	       0x18
#define SMMUV3_AIDR	       0x1c
#define SMMUV3_CR0	       0x20
#define SMMUV3_CR0ACK	       0x24
#define SMMUV3_CR1	       0x28
#define SMMUV3_CR2	       0x2c
#define SMMUV3_GBPA	       0x44
#define SMMUV3_IRQ_CTRL	       0x50
#define SMMUV3_IRQ_CTRLACK     0x54
#define SMMUV3_GERROR	       0x60
#define SMMUV3_GERRORN	       0x64
#define SMMUV3_STRTAB_BASE     0x80
#define SMMUV3_STRTAB_BASE_CFG 0x88
#define SMMUV3_CMDQ_BASE       0x90
#define SMMUV3_CMDQ_PROD       0x98
#define SMMUV3_CMDQ_CONS       0x9c
#define SMMUV3_EVTQ_BASE       0xa0
#define SMMUV3_EVTQ_PROD       0x100a8 /* SMMU_EVENTQ_PROD lives in page 1 only */
#define SMMUV3_EVTQ_CONS       0x100ac

/* ---- SMMU_IDR0 (6.3.1) ---- */
#define SMMUV3_IDR0_S2P		BIT(0)
#define SMMUV3_IDR0_S1P		BIT(1)
#define SMMUV3_IDR0_TTF		GENMASK(3, 2)
#define SMMUV3_IDR0_TTF_AARCH64 BIT(1) /* within TTF: 0b10 or 0b11 */
#define SMMUV3_IDR0_COHACC	BIT(4)
#define SMMUV3_IDR0_ASID16	BIT(12)
#define SMMUV3_IDR0_MSI		BIT(13)
#define SMMUV3_IDR0_SEV		BIT(14)
#define SMMUV3_IDR0_VMID16	BIT(18)
#define SMMUV3_IDR0_CD2L	BIT(19)
#define SMMUV3_IDR0_TTENDIAN	GENMASK(22, 21)
#define SMMUV3_TTENDIAN_BE	3 /* big-endian tables only: this driver cannot use them */
#define SMMUV3_IDR0_ST_LEVEL	GENMASK(28, 27)
#define SMMUV3_ST_LEVEL_2LVL	1

/* ---- SMMU_IDR1 (6.3.2) ---- */
#define SMMUV3_IDR1_SIDSIZE	  GENMASK(5, 0)
#define SMMUV3_IDR1_SSIDSIZE	  GENMASK(10, 6)
#define SMMUV3_IDR1_EVENTQS	  GENMASK(20, 16)
#define SMMUV3_IDR1_CMDQS	  GENMASK(25, 21)
#define SMMUV3_IDR1_REL		  BIT(28)
#define SMMUV3_IDR1_QUEUES_PRESET BIT(29)
#define SMMUV3_IDR1_TABLES_PRESET BIT(30)

/* ---- SMMU_IDR3 (6.3.4) ---- */
#define SMMUV3_IDR3_RIL BIT(10)

/* ---- SMMU_IDR5 (6.3.6) ---- */
#define SMMUV3_IDR5_OAS	    GENMASK(2, 0)
#define SMMUV3_IDR5_GRAN4K  BIT(4)
#define SMMUV3_IDR5_GRAN16K BIT(5)
#define SMMUV3_IDR5_GRAN64K BIT(6)

/* ---- SMMU_AIDR (6.3.8) ---- */
#define SMMUV3_AIDR_MINOR GENMASK(3, 0)
#define SMMUV3_AIDR_MAJOR GENMASK(7, 4)

/* ---- SMMU_CR0 / CR0ACK (6.3.9, 6.3.10) ---- */
#define SMMUV3_CR0_SMMUEN BIT(0)
#define SMMUV3_CR0_EVTQEN BIT(2)
#define SMMUV3_CR0_CMDQEN BIT(3)

/* ---- SMMU_CR1 (6.3.11): cacheability/shareability of queue and table accesses ---- */
#define SMMUV3_CR1_QUEUE_IC GENMASK(1, 0)
#define SMMUV3_CR1_QUEUE_OC GENMASK(3, 2)
#define SMMUV3_CR1_QUEUE_SH GENMASK(5, 4)
#define SMMUV3_CR1_TABLE_IC GENMASK(7, 6)
#define SMMUV3_CR1_TABLE_OC GENMASK(9, 8)
#define SMMUV3_CR1_TABLE_SH GENMASK(11, 10)
#define SMMUV3_CACHE_NC	    0
#define SMMUV3_CACHE_WB	    1
#define SMMUV3_SH_OSH	    2
#define SMMUV3_SH_ISH	    3

/* ---- SMMU_CR2 (6.3.12) ---- */
#define SMMUV3_CR2_RECINVSID BIT(1)
#define SMMUV3_CR2_PTM	     BIT(2)

/* ---- SMMU_GBPA (6.3.14) ---- */
#define SMMUV3_GBPA_ABORT  BIT(20)
#define SMMUV3_GBPA_UPDATE BIT(31)

/* ---- SMMU_IRQ_CTRL / IRQ_CTRLACK (6.3.16, 6.3.17) ---- */
#define SMMUV3_IRQ_CTRL_GERROR_IRQEN BIT(0)
#define SMMUV3_IRQ_CTRL_EVTQ_IRQEN   BIT(2)

/* ---- SMMU_GERROR / GERRORN (6.3.18, 6.3.19): a bit is active while the two differ ---- */
#define SMMUV3_GERROR_CMDQ_ERR		 BIT(0)
#define SMMUV3_GERROR_EVTQ_ABT_ERR	 BIT(2)
#define SMMUV3_GERROR_PRIQ_ABT_ERR	 BIT(3)
#define SMMUV3_GERROR_MSI_CMDQ_ABT_ERR	 BIT(4)
#define SMMUV3_GERROR_MSI_EVTQ_ABT_ERR	 BIT(5)
#define SMMUV3_GERROR_MSI_PRIQ_ABT_ERR	 BIT(6)
#define SMMUV3_GERROR_MSI_GERROR_ABT_ERR BIT(7)
#define SMMUV3_GERROR_SFM_ERR		 BIT(8)
#define SMMUV3_GERROR_ALL		 GENMASK(8, 0)

/* ---- SMMU_STRTAB_BASE / STRTAB_BASE_CFG (6.3.23, 6.3.24) ---- */
#define SMMUV3_STRTAB_BASE_RA	   BIT_ULL(62)
#define SMMUV3_STRTAB_BASE_ADDR	   GENMASK_ULL(51, 6)
#define SMMUV3_STRTAB_CFG_LOG2SIZE GENMASK(5, 0)
#define SMMUV3_STRTAB_CFG_SPLIT	   GENMASK(10, 6)
#define SMMUV3_STRTAB_CFG_FMT	   GENMASK(17, 16)
#define SMMUV3_STRTAB_FMT_LINEAR   0
#define SMMUV3_STRTAB_FMT_2LVL	   1

/* ---- Queue base and index registers (6.3.25-6.3.30) ---- */
#define SMMUV3_Q_BASE_RWA	  BIT_ULL(62)
#define SMMUV3_Q_BASE_ADDR	  GENMASK_ULL(51, 5)
#define SMMUV3_Q_BASE_LOG2SIZE	  GENMASK_ULL(4, 0)
#define SMMUV3_Q_IDX_WRP	  GENMASK(19, 0) /* index and wrap bit, for any LOG2SIZE <= 19 */
#define SMMUV3_CMDQ_CONS_ERR	  GENMASK(30, 24)
#define SMMUV3_EVTQ_PROD_OVFLG	  BIT(31)
#define SMMUV3_EVTQ_CONS_OVACKFLG BIT(31)

/* CMDQ_CONS.ERR codes (7.1 "Command queue errors"). */
#define SMMUV3_CERROR_NONE	   0
#define SMMUV3_CERROR_ILL	   1
#define SMMUV3_CERROR_ABT	   2
#define SMMUV3_CERROR_ATC_INV_SYNC 3

/*
 * ---- Stream table (5.1 "Level 1 Stream Table Descriptor", 5.2 "Stream Table Entry") ----
 *
 *  L1STD:       | 63..52 RES0 | 51..6 L2Ptr | 5 RES0 | 4..0 Span |
 *  STE word 0:  | 63..59 S1CDMax | 51..6 S1ContextPtr | 5..4 S1Fmt | 3..1 Config | 0 V |
 *  STE word 1:  | 51..50 INSTCFG | 49..48 PRIVCFG | 45..44 SHCFG | 31..30 STRW |
 *               | 27 S1STALLD | 7..6 S1CSH | 5..4 S1COR | 3..2 S1CIR | 1..0 S1DSS |
 *  STE word 2:  | 15..0 S2VMID (stage 2 and, with S2P, the VMID tagging stage 1 entries) |
 */
#define SMMUV3_L1STD_SPAN  GENMASK_ULL(4, 0)
#define SMMUV3_L1STD_L2PTR GENMASK_ULL(51, 6)

#define SMMUV3_STE_DWORDS    8 /* 64 bytes; words 4..7 are unused by this driver */
#define SMMUV3_STE0_V	     BIT_ULL(0)
#define SMMUV3_STE0_CFG	     GENMASK_ULL(3, 1)
#define SMMUV3_STE0_S1FMT    GENMASK_ULL(5, 4)
#define SMMUV3_STE0_S1CTXPTR GENMASK_ULL(51, 6)
#define SMMUV3_STE0_S1CDMAX  GENMASK_ULL(63, 59)
#define SMMUV3_STE1_S1DSS    GENMASK_ULL(1, 0)
#define SMMUV3_STE1_S1CIR    GENMASK_ULL(3, 2)
#define SMMUV3_STE1_S1COR    GENMASK_ULL(5, 4)
#define SMMUV3_STE1_S1CSH    GENMASK_ULL(7, 6)
#define SMMUV3_STE1_S1STALLD BIT_ULL(27)
#define SMMUV3_STE1_STRW     GENMASK_ULL(31, 30)
#define SMMUV3_STE1_SHCFG    GENMASK_ULL(45, 44)
#define SMMUV3_STE1_PRIVCFG  GENMASK_ULL(49, 48)
#define SMMUV3_STE1_INSTCFG  GENMASK_ULL(51, 50)
#define SMMUV3_STE2_S2VMID   GENMASK_ULL(15, 0)

#define SMMUV3_STE_CFG_ABORT  0 /* 0b000 */
#define SMMUV3_STE_CFG_BYPASS 4 /* 0b100 */
#define SMMUV3_STE_CFG_S1     5 /* 0b101: stage 1 translate, stage 2 bypass */
#define SMMUV3_SHCFG_INCOMING 1

/*
 * ---- Context descriptor (5.4) ----
 *
 *  word 0: | 63..48 ASID | 47 ASET | 46 A | 45 R | 44 S | 41 AA64 | 34..32 IPS | 31 V |
 *          | 30 EPD1 | 14 EPD0 | 13..12 SH0 | 11..10 OR0 | 9..8 IR0 | 7..6 TG0 | 5..0 T0SZ |
 *  word 1: TTB0 [51:4]; word 2: TTB1 [51:4]; word 3: MAIR.
 */
#define SMMUV3_CD_DWORDS 8
#define SMMUV3_CD0_T0SZ	 GENMASK_ULL(5, 0)
#define SMMUV3_CD0_TG0	 GENMASK_ULL(7, 6)
#define SMMUV3_CD0_IR0	 GENMASK_ULL(9, 8)
#define SMMUV3_CD0_OR0	 GENMASK_ULL(11, 10)
#define SMMUV3_CD0_SH0	 GENMASK_ULL(13, 12)
#define SMMUV3_CD0_EPD0	 BIT_ULL(14)
#define SMMUV3_CD0_EPD1	 BIT_ULL(30)
#define SMMUV3_CD0_V	 BIT_ULL(31)
#define SMMUV3_CD0_IPS	 GENMASK_ULL(34, 32)
#define SMMUV3_CD0_AA64	 BIT_ULL(41)
#define SMMUV3_CD0_S	 BIT_ULL(44)
#define SMMUV3_CD0_R	 BIT_ULL(45)
#define SMMUV3_CD0_A	 BIT_ULL(46)
#define SMMUV3_CD0_ASET	 BIT_ULL(47)
#define SMMUV3_CD0_ASID	 GENMASK_ULL(63, 48)
#define SMMUV3_CD1_TTB0	 GENMASK_ULL(51, 4)

/*
 * ---- Commands (4.1 "Command encodings", 4.3 CFGI_*, 4.4 TLBI_*, 4.7 CMD_SYNC) ----
 *
 *  word 0: | 63..32 StreamID, or 63..48 ASID + 47..32 VMID, or MSIData (SYNC) |
 *          | 31..12 SubstreamID (CFGI_CD) | 24..20 SCALE, 16..12 NUM (TLBI range) |
 *          | 27..24 MSIAttr, 23..22 MSH, 13..12 CS (SYNC) | 7..0 opcode |
 *  word 1: | 63..12 Address | 11..10 TG | 9..8 TTL | 0 Leaf | 4..0 Range (CFGI_STE_RANGE) |
 *          | 51..2 MSIAddress (SYNC) |
 */
#define SMMUV3_CMD_DWORDS   2
#define SMMUV3_CMD0_OP	    GENMASK_ULL(7, 0)
#define SMMUV3_CMD0_SSID    GENMASK_ULL(31, 12)
#define SMMUV3_CMD0_SID	    GENMASK_ULL(63, 32)
#define SMMUV3_CMD0_NUM	    GENMASK_ULL(16, 12)
#define SMMUV3_CMD0_SCALE   GENMASK_ULL(24, 20)
#define SMMUV3_CMD0_VMID    GENMASK_ULL(47, 32)
#define SMMUV3_CMD0_ASID    GENMASK_ULL(63, 48)
#define SMMUV3_CMD0_CS	    GENMASK_ULL(13, 12)
#define SMMUV3_CMD0_MSH	    GENMASK_ULL(23, 22)
#define SMMUV3_CMD0_MSIATTR GENMASK_ULL(27, 24)
#define SMMUV3_CMD0_MSIDATA GENMASK_ULL(63, 32)
#define SMMUV3_CMD1_LEAF    BIT_ULL(0)
#define SMMUV3_CMD1_RANGE   GENMASK_ULL(4, 0)
#define SMMUV3_CMD1_TTL	    GENMASK_ULL(9, 8)
#define SMMUV3_CMD1_TG	    GENMASK_ULL(11, 10)
#define SMMUV3_CMD1_ADDR    GENMASK_ULL(63, 12)
#define SMMUV3_CMD1_MSIADDR GENMASK_ULL(51, 2)

#define SMMUV3_OP_CFGI_STE	 0x03
#define SMMUV3_OP_CFGI_STE_RANGE 0x04 /* Range 31: CFGI_ALL */
#define SMMUV3_OP_CFGI_CD	 0x05
#define SMMUV3_OP_CFGI_CD_ALL	 0x06
#define SMMUV3_OP_TLBI_FIRST	 0x10 /* TLBI_* opcodes are 0x10..0x3f (4.4) */
#define SMMUV3_OP_TLBI_LAST	 0x3f
#define SMMUV3_OP_TLBI_NH_ASID	 0x11
#define SMMUV3_OP_TLBI_NH_VA	 0x12
#define SMMUV3_OP_TLBI_NSNH_ALL	 0x30
#define SMMUV3_OP_CMD_SYNC	 0x46

#define SMMUV3_CFGI_ALL_RANGE	  31
#define SMMUV3_SYNC_CS_NONE	  0
#define SMMUV3_SYNC_CS_IRQ	  1 /* SIG_IRQ: with MSIs, the MSI write signals completion */
#define SMMUV3_SYNC_CS_SEV	  2
#define SMMUV3_MSIATTR_OIWB	  0xf
#define SMMUV3_TLBI_RANGE_NUM_MAX 31 /* NUM is 5 bits: up to 32 * 2^SCALE granules */

/*
 * ---- Event records (7.3): four 64-bit words ----
 *
 *  word 0: | 63..32 StreamID | 31..12 SubstreamID | 11 SSV | 7..0 event number |
 *  word 1: | 41..40 CLASS | 39 S2 | 35 RnW | 34 InD | 33 PnU |
 *  word 2: InputAddr; word 3: IPA [55:12] or FetchAddr [55:3] (7.3.4 F_STE_FETCH).
 */
#define SMMUV3_EVT_DWORDS 4
#define SMMUV3_EVT0_ID	  GENMASK_ULL(7, 0)
#define SMMUV3_EVT0_SSV	  BIT_ULL(11)
#define SMMUV3_EVT0_SSID  GENMASK_ULL(31, 12)
#define SMMUV3_EVT0_SID	  GENMASK_ULL(63, 32)
#define SMMUV3_EVT1_PNU	  BIT_ULL(33)
#define SMMUV3_EVT1_IND	  BIT_ULL(34)
#define SMMUV3_EVT1_RNW	  BIT_ULL(35)
#define SMMUV3_EVT1_S2	  BIT_ULL(39)
#define SMMUV3_EVT1_CLASS GENMASK_ULL(41, 40)
#define SMMUV3_EVT3_IPA	  GENMASK_ULL(55, 12)
#define SMMUV3_EVT3_FETCH GENMASK_ULL(55, 3)

/* Event numbers (7.3, table "Event records"). */
#define SMMUV3_EVT_F_UUT	      0x01
#define SMMUV3_EVT_C_BAD_STREAMID     0x02
#define SMMUV3_EVT_F_STE_FETCH	      0x03
#define SMMUV3_EVT_C_BAD_STE	      0x04
#define SMMUV3_EVT_F_BAD_ATS_TREQ     0x05
#define SMMUV3_EVT_F_STREAM_DISABLED  0x06
#define SMMUV3_EVT_F_TRANSL_FORBIDDEN 0x07
#define SMMUV3_EVT_C_BAD_SUBSTREAMID  0x08
#define SMMUV3_EVT_F_CD_FETCH	      0x09
#define SMMUV3_EVT_C_BAD_CD	      0x0a
#define SMMUV3_EVT_F_WALK_EABT	      0x0b
#define SMMUV3_EVT_F_TRANSLATION      0x10
#define SMMUV3_EVT_F_ADDR_SIZE	      0x11
#define SMMUV3_EVT_F_ACCESS	      0x12
#define SMMUV3_EVT_F_PERMISSION	      0x13
#define SMMUV3_EVT_F_TLB_CONFLICT     0x20
#define SMMUV3_EVT_F_CFG_CONFLICT     0x21
#define SMMUV3_EVT_E_PAGE_REQUEST     0x24
#define SMMUV3_EVT_F_VMS_FETCH	      0x25

#endif /* IH_HW_SMMUV3_DRV_REGS_H */
