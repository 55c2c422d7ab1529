/* SPDX-License-Identifier: MIT */
/*
 * A minimal driver-like harness for the emulated SMMUv3 tests. Deliberately keeps its own
 * GENMASK layout definitions, written from IHI 0070 independently of hw/smmuv3/hw_priv.h,
 * so a layout mistake in the device shows up as a failing test.
 */
#ifndef TESTS_SMMUV3_TDRV_H
#define TESTS_SMMUV3_TDRV_H

#include <ih/compat.h>
#include <ih/mmio.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "smmuv3/smmuv3_hw.h"

/* Registers (IHI 0070, 6.2). */
#define T_IDR0		  0x00
#define T_IDR1		  0x04
#define T_IDR3		  0x0c
#define T_IDR5		  0x14
#define T_CR0		  0x20
#define T_CR0ACK	  0x24
#define T_CR1		  0x28
#define T_CR2		  0x2c
#define T_GBPA		  0x44
#define T_IRQ_CTRL	  0x50
#define T_IRQ_CTRLACK	  0x54
#define T_GERROR	  0x60
#define T_GERRORN	  0x64
#define T_STRTAB_BASE	  0x80
#define T_STRTAB_BASE_CFG 0x88
#define T_CMDQ_BASE	  0x90
#define T_CMDQ_PROD	  0x98
#define T_CMDQ_CONS	  0x9c
#define T_EVTQ_BASE	  0xa0
#define T_EVTQ_PROD	  0x100a8
#define T_EVTQ_CONS	  0x100ac

#define T_IDR0_S2P	      BIT(0)
#define T_IDR0_S1P	      BIT(1)
#define T_IDR0_ST_LEVEL	      GENMASK(28, 27)
#define T_IDR1_SIDSIZE	      GENMASK(5, 0)
#define T_IDR1_EVTQS	      GENMASK(20, 16)
#define T_IDR1_CMDQS	      GENMASK(25, 21)
#define T_IDR5_OAS	      GENMASK(2, 0)
#define T_IDR5_GRAN4K	      BIT(4)
#define T_IDR5_GRAN64K	      BIT(6)
#define T_CR0_SMMUEN	      BIT(0)
#define T_CR0_PRIQEN	      BIT(1)
#define T_CR0_EVTQEN	      BIT(2)
#define T_CR0_CMDQEN	      BIT(3)
#define T_CR2_RECINVSID	      BIT(1)
#define T_GBPA_ABORT	      BIT(20)
#define T_GBPA_UPDATE	      BIT(31)
#define T_GERROR_CMDQ_ERR     BIT(0)
#define T_Q_BASE_ADDR	      GENMASK_ULL(51, 5)
#define T_Q_BASE_LOG2SIZE     GENMASK_ULL(4, 0)
#define T_CMDQ_CONS_ERR	      GENMASK(30, 24)
#define T_EVTQ_OVFLG	      BIT(31)
#define T_STRTAB_CFG_LOG2SIZE GENMASK(5, 0)
#define T_STRTAB_CFG_SPLIT    GENMASK(10, 6)
#define T_STRTAB_CFG_FMT      GENMASK(17, 16)

/* STE (5.2), L1STD (5.1), CD (5.4). */
#define T_STE0_V	BIT_ULL(0)
#define T_STE0_CFG	GENMASK_ULL(3, 1)
#define T_STE0_S1CTXPTR GENMASK_ULL(51, 6)
#define T_STE2_S2VMID	GENMASK_ULL(15, 0)
#define T_STE2_S2T0SZ	GENMASK_ULL(37, 32)
#define T_STE2_S2SL0	GENMASK_ULL(39, 38)
#define T_STE2_S2TG	GENMASK_ULL(47, 46)
#define T_STE2_S2PS	GENMASK_ULL(50, 48)
#define T_STE2_S2AA64	BIT_ULL(51)
#define T_STE2_S2R	BIT_ULL(58)
#define T_STE3_S2TTB	GENMASK_ULL(51, 4)
#define T_L1STD_SPAN	GENMASK_ULL(4, 0)
#define T_L1STD_L2PTR	GENMASK_ULL(51, 6)
#define T_CD0_T0SZ	GENMASK_ULL(5, 0)
#define T_CD0_TG0	GENMASK_ULL(7, 6)
#define T_CD0_EPD1	BIT_ULL(30)
#define T_CD0_V		BIT_ULL(31)
#define T_CD0_IPS	GENMASK_ULL(34, 32)
#define T_CD0_AA64	BIT_ULL(41)
#define T_CD0_R		BIT_ULL(45)
#define T_CD0_A		BIT_ULL(46)
#define T_CD0_ASID	GENMASK_ULL(63, 48)
#define T_CD1_TTB0	GENMASK_ULL(51, 4)

/* Commands (4.x) and events (7.3). */
#define T_CMD_CFGI_STE	    0x03
#define T_CMD_CFGI_CD	    0x05
#define T_CMD_TLBI_NH_ASID  0x11
#define T_CMD_TLBI_NH_VA    0x12
#define T_CMD_TLBI_S2_IPA   0x2a
#define T_CMD_TLBI_NSNH_ALL 0x30
#define T_CMD_SYNC	    0x46
#define T_CMD0_SID	    GENMASK_ULL(63, 32)
#define T_CMD0_VMID	    GENMASK_ULL(47, 32)
#define T_CMD0_ASID	    GENMASK_ULL(63, 48)
#define T_CMD0_NUM	    GENMASK_ULL(16, 12)
#define T_CMD0_SCALE	    GENMASK_ULL(24, 20)
#define T_CMD0_CS	    GENMASK_ULL(13, 12)
#define T_CMD0_MSIDATA	    GENMASK_ULL(63, 32)
#define T_CMD1_LEAF	    BIT_ULL(0)
#define T_CMD1_TG	    GENMASK_ULL(11, 10)
#define T_CMD1_ADDR	    GENMASK_ULL(63, 12)
#define T_CMD1_MSIADDR	    GENMASK_ULL(51, 2)
#define T_EVT0_ID	    GENMASK_ULL(7, 0)
#define T_EVT0_SSV	    BIT_ULL(11)
#define T_EVT0_SID	    GENMASK_ULL(63, 32)
#define T_EVT1_RNW	    BIT_ULL(35)
#define T_EVT1_S2	    BIT_ULL(39)
#define T_EVT1_CLASS	    GENMASK_ULL(41, 40)
#define T_EVT3_IPA	    GENMASK_ULL(51, 12)
#define T_EVT3_FETCH	    GENMASK_ULL(51, 3)

#define T_EVT_C_BAD_STREAMID 0x02
#define T_EVT_F_STE_FETCH    0x03
#define T_EVT_C_BAD_STE	     0x04
#define T_EVT_C_BAD_CD	     0x0a
#define T_EVT_F_WALK_EABT    0x0b
#define T_EVT_F_TRANSLATION  0x10
#define T_EVT_F_ADDR_SIZE    0x11
#define T_EVT_F_ACCESS	     0x12
#define T_EVT_F_PERMISSION   0x13

/* VMSAv8-64 descriptors. */
#define T_PTE_VALID  BIT_ULL(0)
#define T_PTE_TABLE  BIT_ULL(1)
#define T_PTE_AP_EL0 BIT_ULL(6)
#define T_PTE_AP_RO  BIT_ULL(7)
#define T_PTE_AF     BIT_ULL(10)
#define T_PTE_NG     BIT_ULL(11)
#define T_S2_READ    BIT_ULL(6)
#define T_S2_WRITE   BIT_ULL(7)
#define T_S1_RW	     (T_PTE_AF | T_PTE_AP_EL0 | T_PTE_NG | (3ULL << 8))
#define T_S2_RW	     (T_PTE_AF | T_S2_READ | T_S2_WRITE | (3ULL << 8))

#define T_MMIO_BASE 0x2b400000ULL
#define T_MAX_PAGES 256

struct tdrv {
	struct ih_world *w;
	struct ih_smmuv3_hw *hw;
	struct ih_mmio_region *r;
	ih_pa_t strtab;
	size_t strtab_size;
	ih_pa_t l2[4];
	ih_pa_t cmdq, evtq;
	unsigned int cmdq_log2, evtq_log2;
	u32 prod;
	u32 evtq_cons;
	ih_pa_t pages[T_MAX_PAGES];
	size_t page_size[T_MAX_PAGES];
	unsigned int npages;
};

#include <sched.h>
#include <string.h>

#include <criterion/criterion.h>
#include <ih/physmem.h>

static inline ih_pa_t tdrv_page(struct tdrv *t, size_t size)
{
	ih_pa_t pa = ih_pm_alloc(t->w, size, size, "test:smmuv3");

	cr_assert_neq(pa, IH_PA_INVALID);
	cr_assert_lt(t->npages, T_MAX_PAGES);
	t->pages[t->npages] = pa;
	t->page_size[t->npages++] = size;
	return pa;
}

static inline u32 tdrv_rd(struct tdrv *t, u64 off)
{
	return ih_readl(t->r, off);
}

static inline void tdrv_wr(struct tdrv *t, u64 off, u32 v)
{
	ih_writel(t->r, v, off);
}

static inline void tdrv_init(struct tdrv *t, enum ih_exec_mode mode,
			     const struct ih_smmuv3_hw_config *cfg)
{
	struct ih_world_config wc;

	memset(t, 0, sizeof(*t));
	ih_world_config_init(&wc);
	wc.mode = mode;
	wc.physmem_size = 64UL << 20;
	wc.log = "none";
	cr_assert_eq(ih_world_create(&wc, &t->w), 0);
	cr_assert_eq(ih_smmuv3_hw_create(t->w, T_MMIO_BASE, cfg, &t->hw), 0);
	t->r = ih_ioremap(t->w, T_MMIO_BASE, IH_SMMUV3_MMIO_SIZE);
	cr_assert_not_null(t->r);
}

static inline bool tdrv_wait_ack(struct tdrv *t, u32 want)
{
	for (int i = 0; i < 1000000; i++) {
		if (tdrv_rd(t, T_CR0ACK) == want)
			return true;
		sched_yield();
	}
	return false;
}

static inline void tdrv_enable(struct tdrv *t, unsigned int sid_log2, unsigned int evtq_log2)
{
	t->cmdq_log2 = 6;
	t->evtq_log2 = evtq_log2;
	t->cmdq = tdrv_page(t, 4096);
	t->evtq = tdrv_page(t, ih_max((size_t)4096, (size_t)32 << evtq_log2));
	t->strtab_size = ih_max((size_t)4096, (size_t)64 << sid_log2);
	t->strtab = tdrv_page(t, t->strtab_size);
	ih_writeq(t->r, (t->cmdq & T_Q_BASE_ADDR) | t->cmdq_log2, T_CMDQ_BASE);
	ih_writeq(t->r, (t->evtq & T_Q_BASE_ADDR) | t->evtq_log2, T_EVTQ_BASE);
	tdrv_wr(t, T_CMDQ_PROD, 0);
	tdrv_wr(t, T_CMDQ_CONS, 0);
	tdrv_wr(t, T_EVTQ_PROD, 0);
	tdrv_wr(t, T_EVTQ_CONS, 0);
	ih_writeq(t->r, t->strtab, T_STRTAB_BASE);
	tdrv_wr(t, T_STRTAB_BASE_CFG, (u32)FIELD_PREP(T_STRTAB_CFG_LOG2SIZE, sid_log2));
	tdrv_wr(t, T_CR2, T_CR2_RECINVSID);
	tdrv_wr(t, T_CR0, T_CR0_CMDQEN | T_CR0_EVTQEN);
	cr_assert(tdrv_wait_ack(t, T_CR0_CMDQEN | T_CR0_EVTQEN));
	tdrv_wr(t, T_CR0, T_CR0_CMDQEN | T_CR0_EVTQEN | T_CR0_SMMUEN);
	cr_assert(tdrv_wait_ack(t, T_CR0_CMDQEN | T_CR0_EVTQEN | T_CR0_SMMUEN));
}

static inline void tdrv_fini(struct tdrv *t)
{
	ih_smmuv3_hw_destroy(t->hw);
	for (unsigned int i = 0; i < t->npages; i++)
		ih_pm_free(t->w, t->pages[i], t->page_size[i]);
	cr_expect_eq(ih_world_destroy(t->w), 0, "the test leaked model memory");
}

static inline u32 tdrv_qinc(u32 v, unsigned int log2)
{
	return (v + 1) & ((2u << log2) - 1);
}

static inline void tdrv_cmd_put(struct tdrv *t, u64 c0, u64 c1)
{
	ih_pa_t at = t->cmdq + (u64)(t->prod & ((1u << t->cmdq_log2) - 1)) * 16;

	ih_pm_store64(t->w, at, c0);
	ih_pm_store64(t->w, at + 8, c1);
	t->prod = tdrv_qinc(t->prod, t->cmdq_log2);
}

static inline void tdrv_cmd_ring(struct tdrv *t)
{
	tdrv_wr(t, T_CMDQ_PROD, t->prod);
}

static inline void tdrv_cmd(struct tdrv *t, u64 c0, u64 c1)
{
	tdrv_cmd_put(t, c0, c1);
	tdrv_cmd_ring(t);
}

static inline bool tdrv_sync(struct tdrv *t)
{
	tdrv_cmd(t, T_CMD_SYNC, 0);
	for (int i = 0; i < 1000000; i++) {
		u32 cons = tdrv_rd(t, T_CMDQ_CONS);

		if (FIELD_GET(T_CMDQ_CONS_ERR, cons) &&
		    (tdrv_rd(t, T_GERROR) ^ tdrv_rd(t, T_GERRORN)) & T_GERROR_CMDQ_ERR)
			return false;
		if ((cons & ((2u << t->cmdq_log2) - 1)) == t->prod)
			return true;
		sched_yield();
	}
	return false;
}

static inline void tdrv_ste(struct tdrv *t, u32 sid, const u64 w[4])
{
	for (int i = 3; i >= 0; i--)
		ih_pm_store64(t->w, t->strtab + (u64)sid * 64 + 8 * i, w[i]);
}

static inline ih_pa_t tdrv_s1_setup(struct tdrv *t, u32 sid, u16 asid, ih_pa_t root)
{
	ih_pa_t cd = tdrv_page(t, 4096);
	u64 ste[4] = {0};

	/* T0SZ 25: 39-bit input, 4K granule, 48-bit IPS, TTB1 walks disabled. */
	ih_pm_store64(t->w, cd + 8, root & T_CD1_TTB0);
	ih_pm_store64(t->w, cd + 24, 0x0000000000ff04ffULL);
	ih_pm_store64(t->w, cd,
		      FIELD_PREP(T_CD0_T0SZ, 25) | FIELD_PREP(T_CD0_TG0, 0) | T_CD0_EPD1 | T_CD0_V |
			  FIELD_PREP(T_CD0_IPS, 5) | T_CD0_AA64 | T_CD0_R | T_CD0_A |
			  FIELD_PREP(T_CD0_ASID, asid));
	ste[0] = T_STE0_V | FIELD_PREP(T_STE0_CFG, 5) | (cd & T_STE0_S1CTXPTR);
	tdrv_ste(t, sid, ste);
	return cd;
}

static inline ih_pa_t tdrv_walk_to(struct tdrv *t, ih_pa_t root, u64 iova, int leaf_level,
				   bool create)
{
	ih_pa_t table = root;

	/* 4K granule, 39-bit input: levels 1, 2, 3; 9 index bits each. */
	for (int level = 1; level < leaf_level; level++) {
		unsigned int shift = 12 + 9 * (3 - level);
		ih_pa_t slot = table + ((iova >> shift) & 0x1ff) * 8;
		u64 d;

		cr_assert_eq(ih_pm_load64(t->w, slot, &d), 0);
		if (!(d & T_PTE_VALID)) {
			cr_assert(create);
			d = tdrv_page(t, 4096) | T_PTE_VALID | T_PTE_TABLE;
			ih_pm_store64(t->w, slot, d);
		}
		table = d & GENMASK_ULL(47, 12);
	}
	return table + ((iova >> (12 + 9 * (3 - leaf_level))) & 0x1ff) * 8;
}

static inline void tdrv_map(struct tdrv *t, ih_pa_t root, u64 iova, u64 pa, int leaf_level,
			    u64 attrs)
{
	ih_pa_t slot = tdrv_walk_to(t, root, iova, leaf_level, true);

	ih_pm_store64(t->w, slot, pa | attrs | T_PTE_VALID | (leaf_level == 3 ? T_PTE_TABLE : 0));
}

static inline ih_pa_t tdrv_pte_addr(struct tdrv *t, ih_pa_t root, u64 iova, int leaf_level)
{
	return tdrv_walk_to(t, root, iova, leaf_level, false);
}

static inline bool tdrv_evt(struct tdrv *t, u64 rec[4])
{
	u32 prod = tdrv_rd(t, T_EVTQ_PROD);
	u32 m = (2u << t->evtq_log2) - 1;
	ih_pa_t at;

	if ((prod & m) == (t->evtq_cons & m))
		return false;
	at = t->evtq + (u64)(t->evtq_cons & ((1u << t->evtq_log2) - 1)) * 32;
	for (int i = 0; i < 4; i++)
		ih_pm_load64(t->w, at + 8 * i, &rec[i]);
	t->evtq_cons = (t->evtq_cons & T_EVTQ_OVFLG) | tdrv_qinc(t->evtq_cons, t->evtq_log2);
	tdrv_wr(t, T_EVTQ_CONS, t->evtq_cons);
	return true;
}

#endif /* TESTS_SMMUV3_TDRV_H */
