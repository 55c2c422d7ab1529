/* SPDX-License-Identifier: MIT */
/* Emulated SMMUv3: private register/structure layouts (REG32/FIELD style) and device state. */
#ifndef IH_HW_SMMUV3_HW_PRIV_H
#define IH_HW_SMMUV3_HW_PRIV_H

#include <pthread.h>

#include <ih/compat.h>
#include <ih/physmem.h>

#include "smmuv3_hw.h"

/*
 * The device side declares every layout once, here, from IHI 0070. The driver writes its
 * own GENMASK definitions from the same specification; a test compares the two, so a bit
 * that is wrong on one side shows up instead of being wrong everywhere.
 *
 * SMMU_REG32(NAME, off)        -> A_NAME, the register offset
 * SMMU_REG64(NAME, off)        -> A_NAME, a 64-bit register (also accessed as two halves)
 * SMMU_FIELD(REG, F, shift, n) -> R_REG_F_SHIFT / R_REG_F_LEN; SMMU_FEX/SMMU_FDP read and
 *                                 deposit it in a u64. Structure words use REG = STEn, CDn,
 *                                 CMDn, EVTn (n = 64-bit word index).
 */
#define SMMU_REG32(name, off) enum { A_##name = (off) }
#define SMMU_REG64(name, off) enum { A_##name = (off) }
#define SMMU_FIELD(reg, fld, shift, len)                                                           \
	enum { R_##reg##_##fld##_SHIFT = (shift), R_##reg##_##fld##_LEN = (len) }
#define SMMU_FMASK(reg, fld) ((~0ULL >> (64 - R_##reg##_##fld##_LEN)) << R_##reg##_##fld##_SHIFT)
#define SMMU_FEX(v, reg, fld)                                                                      \
	(((u64)(v) >> R_##reg##_##fld##_SHIFT) & (~0ULL >> (64 - R_##reg##_##fld##_LEN)))
#define SMMU_FDP(v, reg, fld, x)                                                                   \
	(((u64)(v) & ~SMMU_FMASK(reg, fld)) |                                                      \
	 (((u64)(x) << R_##reg##_##fld##_SHIFT) & SMMU_FMASK(reg, fld)))

/* ---- Register file, page 0 (IHI 0070, 6.2 "Register overview" / 6.3 descriptions) ---- */
SMMU_REG32(IDR0, 0x00);
SMMU_FIELD(IDR0, S2P, 0, 1);
SMMU_FIELD(IDR0, S1P, 1, 1);
SMMU_FIELD(IDR0, TTF, 2, 2); /* 0b10: AArch64 tables only */
SMMU_FIELD(IDR0, COHACC, 4, 1);
SMMU_FIELD(IDR0, BTM, 5, 1);
SMMU_FIELD(IDR0, HTTU, 6, 2);
SMMU_FIELD(IDR0, ASID16, 12, 1);
SMMU_FIELD(IDR0, MSI, 13, 1);
SMMU_FIELD(IDR0, SEV, 14, 1);
SMMU_FIELD(IDR0, ATOS, 15, 1);
SMMU_FIELD(IDR0, PRI, 16, 1);
SMMU_FIELD(IDR0, VMW, 17, 1);
SMMU_FIELD(IDR0, VMID16, 18, 1);
SMMU_FIELD(IDR0, CD2L, 19, 1);
SMMU_FIELD(IDR0, TTENDIAN, 21, 2);    /* 0b10: little-endian only */
SMMU_FIELD(IDR0, STALL_MODEL, 24, 2); /* 0b01: stall not supported */
SMMU_FIELD(IDR0, TERM_MODEL, 26, 1);
SMMU_FIELD(IDR0, ST_LEVEL, 27, 2); /* 0b00 linear, 0b01 2-level */
SMMU_REG32(IDR1, 0x04);
SMMU_FIELD(IDR1, SIDSIZE, 0, 6);
SMMU_FIELD(IDR1, SSIDSIZE, 6, 5);
SMMU_FIELD(IDR1, PRIQS, 11, 5);
SMMU_FIELD(IDR1, EVENTQS, 16, 5);
SMMU_FIELD(IDR1, CMDQS, 21, 5);
SMMU_REG32(IDR2, 0x08);
SMMU_REG32(IDR3, 0x0c);
SMMU_FIELD(IDR3, RIL, 10, 1);
SMMU_REG32(IDR4, 0x10);
SMMU_REG32(IDR5, 0x14);
SMMU_FIELD(IDR5, OAS, 0, 3);
SMMU_FIELD(IDR5, GRAN4K, 4, 1);
SMMU_FIELD(IDR5, GRAN16K, 5, 1);
SMMU_FIELD(IDR5, GRAN64K, 6, 1);
SMMU_REG32(IIDR, 0x18);
SMMU_REG32(AIDR, 0x1c);
SMMU_FIELD(AIDR, ARCH_MINOR, 0, 4);
SMMU_FIELD(AIDR, ARCH_MAJOR, 4, 4);
SMMU_REG32(CR0, 0x20);
SMMU_FIELD(CR0, SMMUEN, 0, 1);
SMMU_FIELD(CR0, PRIQEN, 1, 1);
SMMU_FIELD(CR0, EVTQEN, 2, 1);
SMMU_FIELD(CR0, CMDQEN, 3, 1);
SMMU_FIELD(CR0, ATSCHK, 4, 1);
SMMU_FIELD(CR0, VMW, 6, 3);
SMMU_REG32(CR0ACK, 0x24);
SMMU_REG32(CR1, 0x28);
SMMU_FIELD(CR1, QUEUE_IC, 0, 2);
SMMU_FIELD(CR1, QUEUE_OC, 2, 2);
SMMU_FIELD(CR1, QUEUE_SH, 4, 2);
SMMU_FIELD(CR1, TABLE_IC, 6, 2);
SMMU_FIELD(CR1, TABLE_OC, 8, 2);
SMMU_FIELD(CR1, TABLE_SH, 10, 2);
SMMU_REG32(CR2, 0x2c);
SMMU_FIELD(CR2, E2H, 0, 1);
SMMU_FIELD(CR2, RECINVSID, 1, 1);
SMMU_FIELD(CR2, PTM, 2, 1);
SMMU_REG32(STATUSR, 0x40);
SMMU_REG32(GBPA, 0x44);
SMMU_FIELD(GBPA, MEMATTR, 0, 4);
SMMU_FIELD(GBPA, MTCFG, 4, 1);
SMMU_FIELD(GBPA, ALLOCCFG, 8, 4);
SMMU_FIELD(GBPA, SHCFG, 12, 2);
SMMU_FIELD(GBPA, PRIVCFG, 16, 2);
SMMU_FIELD(GBPA, INSTCFG, 18, 2);
SMMU_FIELD(GBPA, ABORT, 20, 1);
SMMU_FIELD(GBPA, UPDATE, 31, 1);
SMMU_REG32(AGBPA, 0x48);
SMMU_REG32(IRQ_CTRL, 0x50);
SMMU_FIELD(IRQ_CTRL, GERROR_IRQEN, 0, 1);
SMMU_FIELD(IRQ_CTRL, PRIQ_IRQEN, 1, 1);
SMMU_FIELD(IRQ_CTRL, EVTQ_IRQEN, 2, 1);
SMMU_REG32(IRQ_CTRLACK, 0x54);
SMMU_REG32(GERROR, 0x60);
SMMU_FIELD(GERROR, CMDQ_ERR, 0, 1);
SMMU_FIELD(GERROR, EVTQ_ABT_ERR, 2, 1);
SMMU_FIELD(GERROR, PRIQ_ABT_ERR, 3, 1);
SMMU_FIELD(GERROR, MSI_CMDQ_ABT_ERR, 4, 1);
SMMU_FIELD(GERROR, MSI_EVTQ_ABT_ERR, 5, 1);
SMMU_FIELD(GERROR, MSI_PRIQ_ABT_ERR, 6, 1);
SMMU_FIELD(GERROR, MSI_GERROR_ABT_ERR, 7, 1);
SMMU_FIELD(GERROR, SFM_ERR, 8, 1);
SMMU_REG32(GERRORN, 0x64);
SMMU_REG64(GERROR_IRQ_CFG0, 0x68);
SMMU_REG32(GERROR_IRQ_CFG1, 0x70);
SMMU_REG32(GERROR_IRQ_CFG2, 0x74);
SMMU_REG64(STRTAB_BASE, 0x80);
SMMU_FIELD(STRTAB_BASE, ADDR, 6, 46); /* [51:6] */
SMMU_FIELD(STRTAB_BASE, RA, 62, 1);
SMMU_REG32(STRTAB_BASE_CFG, 0x88);
SMMU_FIELD(STRTAB_BASE_CFG, LOG2SIZE, 0, 6);
SMMU_FIELD(STRTAB_BASE_CFG, SPLIT, 6, 5);
SMMU_FIELD(STRTAB_BASE_CFG, FMT, 16, 2); /* 0b00 linear, 0b01 2-level */
SMMU_REG64(CMDQ_BASE, 0x90);
SMMU_REG32(CMDQ_PROD, 0x98);
SMMU_REG32(CMDQ_CONS, 0x9c);
SMMU_REG64(EVTQ_BASE, 0xa0);
SMMU_REG64(EVTQ_IRQ_CFG0, 0xb0);
SMMU_REG32(EVTQ_IRQ_CFG1, 0xb8);
SMMU_REG32(EVTQ_IRQ_CFG2, 0xbc);
/* Page 1 (IHI 0070, 6.2: SMMU_EVENTQ_PROD/CONS live at 0x100A8/0x100AC only). */
SMMU_REG32(EVTQ_PROD, 0x100a8);
SMMU_REG32(EVTQ_CONS, 0x100ac);

/* Queue base registers (6.3.26 CMDQ_BASE, 6.3.29 EVENTQ_BASE). */
SMMU_FIELD(Q_BASE, LOG2SIZE, 0, 5);
SMMU_FIELD(Q_BASE, ADDR, 5, 47); /* [51:5] */
SMMU_FIELD(Q_BASE, RWA, 62, 1);
/* Queue index registers: WR/RD [19:0] hold index and wrap bit (6.3.27/28, 6.3.30/31). */
SMMU_FIELD(Q_IDX, IDX, 0, 20);
SMMU_FIELD(CMDQ_CONS, ERR, 24, 7);
SMMU_FIELD(EVTQ_PROD, OVFLG, 31, 1);
SMMU_FIELD(EVTQ_CONS, OVACKFLG, 31, 1);
/* MSI configuration (6.3.20-22): address [51:2], data, memory attributes. */
SMMU_FIELD(IRQ_CFG0, ADDR, 2, 50);

/* CMDQ_CONS.ERR codes (IHI 0070, 7.1 "Command queue errors"). */
enum {
	SMMU_CERROR_NONE = 0,
	SMMU_CERROR_ILL = 1,
	SMMU_CERROR_ABT = 2,
	SMMU_CERROR_ATC_INV_SYNC = 3,
};

/*
 * ---- Stream table (IHI 0070, 5.1 L1STD, 5.2 STE) ----
 *
 *  L1STD: | 63..52 RES0 | 51..6 L2Ptr | 5 RES0 | 4..0 Span |
 *  STE word 0: | 63..59 S1CDMax | 58..52 | 51..6 S1ContextPtr | 5..4 S1Fmt | 3..1 Config | 0 V |
 */
SMMU_FIELD(L1STD, SPAN, 0, 5);
SMMU_FIELD(L1STD, L2PTR, 6, 46);
SMMU_FIELD(STE0, V, 0, 1);
SMMU_FIELD(STE0, CONFIG, 1, 3);
SMMU_FIELD(STE0, S1FMT, 4, 2);
SMMU_FIELD(STE0, S1CTXPTR, 6, 46);
SMMU_FIELD(STE0, S1CDMAX, 59, 5);
SMMU_FIELD(STE1, S1DSS, 0, 2);
SMMU_FIELD(STE1, S1CIR, 2, 2);
SMMU_FIELD(STE1, S1COR, 4, 2);
SMMU_FIELD(STE1, S1CSH, 6, 2);
SMMU_FIELD(STE1, S1STALLD, 27, 1);
SMMU_FIELD(STE1, EATS, 28, 2);
SMMU_FIELD(STE1, STRW, 30, 2);
SMMU_FIELD(STE1, SHCFG, 44, 2);
SMMU_FIELD(STE1, PRIVCFG, 48, 2);
SMMU_FIELD(STE1, INSTCFG, 50, 2);
SMMU_FIELD(STE2, S2VMID, 0, 16);
SMMU_FIELD(STE2, S2T0SZ, 32, 6);
SMMU_FIELD(STE2, S2SL0, 38, 2);
SMMU_FIELD(STE2, S2IR0, 40, 2);
SMMU_FIELD(STE2, S2OR0, 42, 2);
SMMU_FIELD(STE2, S2SH0, 44, 2);
SMMU_FIELD(STE2, S2TG, 46, 2);
SMMU_FIELD(STE2, S2PS, 48, 3);
SMMU_FIELD(STE2, S2AA64, 51, 1);
SMMU_FIELD(STE2, S2ENDI, 52, 1);
SMMU_FIELD(STE2, S2AFFD, 53, 1);
SMMU_FIELD(STE2, S2PTW, 54, 1);
SMMU_FIELD(STE2, S2HD, 55, 1);
SMMU_FIELD(STE2, S2HA, 56, 1);
SMMU_FIELD(STE2, S2S, 57, 1);
SMMU_FIELD(STE2, S2R, 58, 1);
SMMU_FIELD(STE3, S2TTB, 4, 48); /* [51:4] */

enum {
	SMMU_STE_CFG_ABORT = 0x0,  /* 0b000 */
	SMMU_STE_CFG_BYPASS = 0x4, /* 0b100 */
	SMMU_STE_CFG_S1 = 0x5,	   /* 0b101: stage 1 translate, stage 2 bypass */
	SMMU_STE_CFG_S2 = 0x6,	   /* 0b110 */
	SMMU_STE_CFG_NESTED = 0x7, /* 0b111 */
};

/*
 * ---- Context descriptor (IHI 0070, 5.4) and L1CD (5.3) ----
 *
 *  CD word 0: | 63..48 ASID | 47 ASET | 46 A | 45 R | 44 S | 43 HA | 42 HD | 41 AA64 |
 *             | 40 PAN | 39..38 TBI | 37 UWXN | 36 WXN | 35 AFFD | 34..32 IPS | 31 V |
 *             | 30 EPD1 | 29..22 {SH1,OR1,IR1,TG1} | 21..16 T1SZ | 15 ENDI | 14 EPD0 |
 *             | 13..6 {SH0,OR0,IR0,TG0} | 5..0 T0SZ |
 *  word 1: TTB0 [51:4]; word 2: TTB1 [51:4]; word 3: MAIR0|MAIR1.
 *  L1CD: | 51..12 L2Ptr | 0 V |
 */
SMMU_FIELD(CD0, T0SZ, 0, 6);
SMMU_FIELD(CD0, TG0, 6, 2);
SMMU_FIELD(CD0, EPD0, 14, 1);
SMMU_FIELD(CD0, ENDI, 15, 1);
SMMU_FIELD(CD0, T1SZ, 16, 6);
SMMU_FIELD(CD0, TG1, 22, 2);
SMMU_FIELD(CD0, EPD1, 30, 1);
SMMU_FIELD(CD0, V, 31, 1);
SMMU_FIELD(CD0, IPS, 32, 3);
SMMU_FIELD(CD0, AFFD, 35, 1);
SMMU_FIELD(CD0, TBI, 38, 2);
SMMU_FIELD(CD0, AA64, 41, 1);
SMMU_FIELD(CD0, HD, 42, 1);
SMMU_FIELD(CD0, HA, 43, 1);
SMMU_FIELD(CD0, S, 44, 1);
SMMU_FIELD(CD0, R, 45, 1);
SMMU_FIELD(CD0, A, 46, 1);
SMMU_FIELD(CD0, ASET, 47, 1);
SMMU_FIELD(CD0, ASID, 48, 16);
SMMU_FIELD(CD1, TTB0, 4, 48);
SMMU_FIELD(CD2, TTB1, 4, 48);
SMMU_FIELD(L1CD, V, 0, 1);
SMMU_FIELD(L1CD, L2PTR, 12, 40);

/*
 * ---- Commands (IHI 0070, 4.1.x common fields, 4.2-4.7): two 64-bit words ----
 *
 *  word 0: | 63..32 StreamID / 63..48 ASID, 47..32 VMID / MSIData | 31..12 SubstreamID |
 *          | 24..20 SCALE, 16..12 NUM (TLBI) | 13..12 CS (SYNC) | 11 SSV | 10 SSec | 7..0 op |
 *  word 1: | 63..12 Address | 11..10 TG | 9..8 TTL | 4..0 Range | 0 Leaf |
 *          | 51..2 MSIAddress (SYNC) |
 */
SMMU_FIELD(CMD0, OP, 0, 8);
SMMU_FIELD(CMD0, SSEC, 10, 1);
SMMU_FIELD(CMD0, SSV, 11, 1);
SMMU_FIELD(CMD0, SSID, 12, 20);
SMMU_FIELD(CMD0, SID, 32, 32);
SMMU_FIELD(CMD0, NUM, 12, 5);
SMMU_FIELD(CMD0, SCALE, 20, 5);
SMMU_FIELD(CMD0, VMID, 32, 16);
SMMU_FIELD(CMD0, ASID, 48, 16);
SMMU_FIELD(CMD0, CS, 12, 2);
SMMU_FIELD(CMD0, MSH, 22, 2);
SMMU_FIELD(CMD0, MSIATTR, 24, 4);
SMMU_FIELD(CMD0, MSIDATA, 32, 32);
SMMU_FIELD(CMD1, LEAF, 0, 1);
SMMU_FIELD(CMD1, RANGE, 0, 5);
SMMU_FIELD(CMD1, TTL, 8, 2);
SMMU_FIELD(CMD1, TG, 10, 2);
SMMU_FIELD(CMD1, ADDR, 12, 52);
SMMU_FIELD(CMD1, MSIADDR, 2, 50);

enum {
	SMMU_CMD_PREFETCH_CONFIG = 0x01,
	SMMU_CMD_PREFETCH_ADDR = 0x02,
	SMMU_CMD_CFGI_STE = 0x03,
	SMMU_CMD_CFGI_STE_RANGE = 0x04, /* Range == 31 is CFGI_ALL */
	SMMU_CMD_CFGI_CD = 0x05,
	SMMU_CMD_CFGI_CD_ALL = 0x06,
	SMMU_CMD_TLBI_NH_ALL = 0x10,
	SMMU_CMD_TLBI_NH_ASID = 0x11,
	SMMU_CMD_TLBI_NH_VA = 0x12,
	SMMU_CMD_TLBI_NH_VAA = 0x13,
	SMMU_CMD_TLBI_S12_VMALL = 0x28,
	SMMU_CMD_TLBI_S2_IPA = 0x2a,
	SMMU_CMD_TLBI_NSNH_ALL = 0x30,
	SMMU_CMD_SYNC = 0x46,
};

enum {
	SMMU_SYNC_CS_NONE = 0,
	SMMU_SYNC_CS_IRQ = 1,
	SMMU_SYNC_CS_SEV = 2,
};

/*
 * ---- Event records (IHI 0070, 7.3): four 64-bit words ----
 *
 *  word 0: | 63..32 StreamID | 31..12 SubstreamID | 11 SSV | 7..0 event number |
 *  word 1: | 41..40 CLASS | 39 S2 | 35 RnW | 34 InD | 33 PnU | 31 Stall | 15..0 STAG |
 *  word 2: InputAddr[63:0]
 *  word 3: IPA [55:12] (translation faults) or FetchAddr [55:3] (fetch aborts)
 */
SMMU_FIELD(EVT0, TYPE, 0, 8);
SMMU_FIELD(EVT0, SSV, 11, 1);
SMMU_FIELD(EVT0, SSID, 12, 20);
SMMU_FIELD(EVT0, SID, 32, 32);
SMMU_FIELD(EVT1, STAG, 0, 16);
SMMU_FIELD(EVT1, STALL, 31, 1);
SMMU_FIELD(EVT1, PNU, 33, 1);
SMMU_FIELD(EVT1, IND, 34, 1);
SMMU_FIELD(EVT1, RNW, 35, 1);
SMMU_FIELD(EVT1, S2, 39, 1);
SMMU_FIELD(EVT1, CLASS, 40, 2);
SMMU_FIELD(EVT3, IPA, 12, 44);
SMMU_FIELD(EVT3, FETCH, 3, 53);

enum {
	SMMU_EVT_C_BAD_STREAMID = 0x02,
	SMMU_EVT_F_STE_FETCH = 0x03,
	SMMU_EVT_C_BAD_STE = 0x04,
	SMMU_EVT_F_STREAM_DISABLED = 0x06,
	SMMU_EVT_C_BAD_SUBSTREAMID = 0x08,
	SMMU_EVT_F_CD_FETCH = 0x09,
	SMMU_EVT_C_BAD_CD = 0x0a,
	SMMU_EVT_F_WALK_EABT = 0x0b,
	SMMU_EVT_F_TRANSLATION = 0x10,
	SMMU_EVT_F_ADDR_SIZE = 0x11,
	SMMU_EVT_F_ACCESS = 0x12,
	SMMU_EVT_F_PERMISSION = 0x13,
};

enum { SMMU_CLASS_CD = 0, SMMU_CLASS_TT = 1, SMMU_CLASS_IN = 2 };

/*
 * ---- VMSAv8-64 translation table descriptors (Arm ARM D8.3), as the walker reads them ----
 *  bits 1..0: 0b11 table (level < 3) or page (level 3), 0b01 block, 0bx0 invalid
 *  S1 block/page: 11 nG, 10 AF, 7..6 AP[2:1]; S2 block/page: 10 AF, 7..6 S2AP
 *  S1 table: 62..61 APTable; address [47:granule] (+[15:12] = OA[51:48] with 64K, 52-bit PA)
 */
#define SMMU_PTE_TYPE_MASK  0x3ULL
#define SMMU_PTE_TYPE_BLOCK 0x1ULL
#define SMMU_PTE_TYPE_TABLE 0x3ULL
#define SMMU_PTE_AP1	    BIT_ULL(6) /* S1: EL0 (unprivileged) access; S2AP[0]: read */
#define SMMU_PTE_AP2	    BIT_ULL(7) /* S1: read-only; S2AP[1]: write */
#define SMMU_PTE_AF	    BIT_ULL(10)
#define SMMU_PTE_NG	    BIT_ULL(11)
#define SMMU_PTE_APT_NOEL0  BIT_ULL(61)
#define SMMU_PTE_APT_RO	    BIT_ULL(62)

/* ---- Model state ---- */

/* Decoded, validated STE as cached. */
struct smmu_ste {
	u8 config;
	u8 s1fmt;
	u8 s1cdmax;
	u8 s1dss;
	u8 privcfg;
	u64 s1ctxptr;
	u16 vmid;
	/* stage 2 */
	u8 s2_gshift;
	u8 s2_ia;
	s8 s2_sl;
	u8 s2_ps;
	bool s2_affd;
	bool s2_record;
	u64 s2ttb;
};

/* One half of a CD: the TTB0 or TTB1 region. */
struct smmu_cd_tt {
	bool disabled; /* EPDx */
	u8 gshift;
	u8 ia;
	s8 sl;
	u64 ttb;
};

/* Decoded, validated CD as cached. */
struct smmu_cd {
	struct smmu_cd_tt tt[2];
	u8 ps;
	u16 asid;
	bool affd;
	bool record;
	u64 mair;
};

struct smmu_ste_slot {
	bool valid;
	u32 sid;
	u64 stamp;
	struct smmu_ste ste;
};

struct smmu_cd_slot {
	bool valid;
	u32 sid;
	u32 ssid; /* CD table index the CD came from */
	u64 stamp;
	struct smmu_cd cd;
};

/* A cached leaf translation (stage 1, stage 2 or the combination). */
struct smmu_tlb_entry {
	bool valid;
	bool has_s1; /* tagged by ASID (unless global) */
	bool has_s2;
	bool global;
	u16 vmid;
	u16 asid;
	u8 shift; /* log2 of the range this entry translates */
	u64 in;	  /* input address, aligned to 1 << shift */
	u64 ipa;  /* intermediate address of @in (has_s2) */
	u64 out;  /* output address of @in */
	/* permissions from stage 1 (AP, APTable) and stage 2 (S2AP) */
	bool s1_ro;
	bool s1_noel0;
	bool s2_r;
	bool s2_w;
	u64 stamp;
};

struct smmu_queue {
	u64 base;
	u32 prod;
	u32 cons;
};

/* A recorded fault, before it becomes an event record. */
struct smmu_fault {
	u8 type;
	bool s2;
	u8 cls;
	u64 ipa;
	u64 fetch;
	bool record; /* false: terminate silently (CD.R / STE.S2R == 0) */
};

/*
 * Lock order: hw->lock is the innermost model lock (only the physmem accessors and the
 * log are called under it). IRQ handlers run after it is dropped.
 *
 * Synchronisation:
 *   MMIO read/write      any thread, takes hw->lock
 *   translate            any thread, takes hw->lock
 *   hardware thread      concurrent worlds; consumes commands one at a time under hw->lock
 *   destroy              once, after every other caller stopped
 */
struct ih_smmuv3_hw {
	struct ih_world *w;
	struct ih_smmuv3_hw_config cfg;
	struct ih_mmio_region *mmio;
	u64 mmio_base;

	pthread_mutex_t lock; /* protects every field below */
	pthread_cond_t kick;  /* the hardware thread waits here for commands or stop */
	pthread_t thread;
	bool thread_started;
	bool stop;

	u32 idr[6];
	u32 cr0;
	u32 cr0ack;
	u32 cr1;
	u32 cr2;
	u32 gbpa;
	u32 irq_ctrl;
	u32 gerror;
	u32 gerrorn;
	u64 gerror_irq_cfg0;
	u32 gerror_irq_cfg1;
	u32 gerror_irq_cfg2;
	u64 strtab_base;
	u32 strtab_base_cfg;
	struct smmu_queue cmdq;
	struct smmu_queue evtq;
	u64 evtq_irq_cfg0;
	u32 evtq_irq_cfg1;
	u32 evtq_irq_cfg2;

	struct smmu_ste_slot *ste_cache;
	struct smmu_cd_slot *cd_cache;
	struct smmu_tlb_entry *tlb;
	unsigned int tlb_used; /* valid TLB entries: scans stop after that many, or skip */
	u64 stamp; /* LRU clock for the caches and TLB */
	u64 rng;   /* eviction PRNG state, seeded from the world seed */

	u32 irq_pending; /* BIT(enum ih_smmuv3_irq) raised under the lock, delivered after */
	ih_smmuv3_irq_fn irq_fn;
	void *irq_opaque;

	struct ih_smmuv3_hw_stats stats;
};

/* Effective output address size in bits for a 3-bit PS/IPS/OAS encoding, capped at @max. */
unsigned int smmu_ps_bits(unsigned int enc, unsigned int max);
/* Granule shift for a TG0/S2TG encoding (0: 4K, 1: 64K, 2: 16K), or 0 when unsupported. */
unsigned int smmu_tg_shift(const struct ih_smmuv3_hw *hw, unsigned int tg);
/* Raise a GERROR bit (toggle it unless already active) and its interrupt. */
void smmu_gerror_raise(struct ih_smmuv3_hw *hw, u32 bit);
/* Queue a wired interrupt or do the MSI write configured for it. */
void smmu_irq_raise(struct ih_smmuv3_hw *hw, enum ih_smmuv3_irq line);
u64 smmu_rand(struct ih_smmuv3_hw *hw);
/* Drop hw->lock, then call the IRQ handler for every wired line raised meanwhile. */
void smmu_unlock_deliver(struct ih_smmuv3_hw *hw);

/* hw_cmdq.c */
bool smmu_cmdq_runnable(struct ih_smmuv3_hw *hw);
bool smmu_cmdq_step(struct ih_smmuv3_hw *hw);

/* hw_evtq.c */
void smmu_evtq_record(struct ih_smmuv3_hw *hw, const u64 rec[4]);

struct smmu_tt;

/* hw_strtab.c: config cache and structure fetch */
int smmu_find_ste(struct ih_smmuv3_hw *hw, u32 sid, struct smmu_ste *ste, struct smmu_fault *f);
int smmu_find_cd(struct ih_smmuv3_hw *hw, u32 sid, const struct smmu_ste *ste, u32 index,
		 struct smmu_cd *cd, struct smmu_fault *f);
void smmu_ste_to_s2_tt(const struct smmu_ste *ste, struct smmu_tt *tt);
void smmu_cfgi_ste_range(struct ih_smmuv3_hw *hw, u32 first, u64 count);
void smmu_cfgi_cd(struct ih_smmuv3_hw *hw, u32 sid, bool all, u32 ssid);

/* hw_walk.c */
struct smmu_tt {
	u64 ttb;
	u8 gshift;
	u8 ia;
	s8 sl; /* start level */
	u8 ps;
	bool stage2;
	bool affd;
};

struct smmu_walk_res {
	u64 out;
	u8 shift;
	bool ro;    /* S1 */
	bool noel0; /* S1 */
	bool global;
	bool s2_r;
	bool s2_w;
};

/*
 * Translate @ia through @tt. @s2 (stage 1 of a nested STE only) translates each stage 1
 * descriptor address, an IPA. Fills @f on failure with its S2/CLASS/IPA fields.
 * Return: 0 or -EFAULT.
 */
int smmu_walk(struct ih_smmuv3_hw *hw, const struct smmu_tt *tt, const struct smmu_tt *s2, u64 ia,
	      struct smmu_walk_res *res, struct smmu_fault *f);
/* Start level of a stage 1 table with @ia input bits and @gshift granule. */
int smmu_s1_start_level(unsigned int ia, unsigned int gshift);

/* hw_tlb.c */
struct smmu_tlb_entry *smmu_tlb_lookup(struct ih_smmuv3_hw *hw, bool s1, bool s2, u16 vmid,
				       u16 asid, u64 in);
void smmu_tlb_insert(struct ih_smmuv3_hw *hw, const struct smmu_tlb_entry *e);

enum smmu_tlbi_scope {
	SMMU_TLBI_ALL,	   /* everything */
	SMMU_TLBI_VMALL,   /* all of one VMID */
	SMMU_TLBI_NH_ALL,  /* stage 1 entries of one VMID */
	SMMU_TLBI_NH_ASID, /* stage 1 non-global entries of VMID + ASID */
	SMMU_TLBI_NH_VA,   /* VMID + (ASID or global), address range */
	SMMU_TLBI_NH_VAA,  /* VMID, any ASID, address range */
	SMMU_TLBI_S2_IPA,  /* stage 2 entries of VMID, IPA range */
};

/*
 * Remove matching entries. @addr/@size bound the range scopes; @only_shift, when not 0,
 * limits a range invalidation to entries of that size (the TTL level hint).
 */
void smmu_tlb_invalidate(struct ih_smmuv3_hw *hw, enum smmu_tlbi_scope scope, u16 vmid, u16 asid,
			 u64 addr, u64 size, unsigned int only_shift);

/*
 * Queue arithmetic (IHI 0070, 3.5.1): PROD/CONS hold an index of LOG2SIZE bits and a wrap
 * bit above it; bits further up are ignored. Empty: equal index and wrap; full: equal
 * index, different wrap.
 */
static inline unsigned int smmu_q_log2(u64 base, unsigned int max)
{
	return ih_min((unsigned int)SMMU_FEX(base, Q_BASE, LOG2SIZE), max);
}

/* Effective base: ADDR aligned to the larger of the queue size and 32 bytes (6.3.26). */
static inline u64 smmu_q_addr(u64 base, unsigned int log2, unsigned int entry_bytes)
{
	u64 bytes = (u64)entry_bytes << log2;
	u64 a = SMMU_FEX(base, Q_BASE, ADDR) << 5;

	return bytes > 32 ? a & ~(bytes - 1) : a;
}

static inline u32 smmu_q_idx(u32 v, unsigned int log2)
{
	return v & ((1u << log2) - 1);
}

static inline bool smmu_q_empty(u32 prod, u32 cons, unsigned int log2)
{
	u32 m = (2u << log2) - 1;

	return (prod & m) == (cons & m);
}

static inline bool smmu_q_full(u32 prod, u32 cons, unsigned int log2)
{
	u32 m = (2u << log2) - 1;

	return ((prod ^ cons) & m) == (1u << log2);
}

/* Advance index+wrap by one; flags above bit 19 (ERR, OVFLG) are kept. */
static inline u32 smmu_q_inc(u32 v, unsigned int log2)
{
	u32 m = (2u << log2) - 1;

	return (v & ~SMMU_FMASK(Q_IDX, IDX)) | ((v + 1) & m);
}

#endif /* IH_HW_SMMUV3_HW_PRIV_H */
