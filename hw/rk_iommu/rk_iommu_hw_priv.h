/* SPDX-License-Identifier: MIT */
/* Private state of the emulated Rockchip IOMMU, shared by its register and walker files. */
#ifndef IH_HW_RK_IOMMU_HW_PRIV_H
#define IH_HW_RK_IOMMU_HW_PRIV_H

#include <pthread.h>

#include <ih/mutex.h>

#include "rk_iommu_hw.h"
#include "rk_iommu_hw_regs.h"

struct ih_mmio_region;

enum rk_tlb_kind {
	RK_TLB_FREE = 0,
	RK_TLB_DTE, /* tag: DTE index (IOVA 31:22) */
	RK_TLB_PTE, /* tag: page number (IOVA 31:12) */
};

/* One cached descriptor, valid or not, exactly as read from memory. */
struct rk_tlb_entry {
	u8 kind;
	u32 tag;
	u32 desc;
};

/* One register bank with its own state and TLB; every field under hw->lock. */
struct rk_bank {
	struct ih_rk_iommu_hw *hw;
	unsigned int idx;
	struct ih_mmio_region *region;
	u32 dte_addr;	  /* as stored, already masked */
	bool paging;	  /* STATUS.PAGING_ENABLED */
	bool stall;	  /* STATUS.STALL_ACTIVE */
	bool fault;	  /* STATUS.PAGE_FAULT_ACTIVE: the master waits for PAGE_FAULT_DONE */
	bool fault_write; /* STATUS.PAGE_FAULT_IS_WRITE of the last fault */
	u32 fault_addr;	  /* PAGE_FAULT_ADDR */
	u32 int_raw;	  /* INT_RAWSTAT */
	u32 int_mask;	  /* INT_MASK */
	u32 auto_gating;  /* AUTO_GATING */
	struct rk_tlb_entry *tlb;
	unsigned int tlb_used;
	struct ih_rk_iommu_hw_stats st;
};

struct ih_rk_iommu_hw {
	struct ih_world *w;
	struct ih_rk_iommu_hw_config cfg; /* defaults filled in */
	const char *name;
	struct ih_mutex lock; /* protects every bank, the PRNG and mismatches */
	u64 rng;	      /* TLB victim choice */
	u64 bank_mismatches;
	struct rk_bank bank[IH_RK_IOMMU_MAX_BANKS];
};

/* rk_iommu_walk.c, all with hw->lock held. */
void rk_tlb_flush(struct rk_bank *b);
void rk_tlb_zap_line(struct rk_bank *b, u32 iova);
bool rk_tlb_holds_valid_pte(const struct rk_bank *b, u32 page);
ih_pa_t rk_desc_pa(enum ih_rk_iommu_version v, u32 desc);
ih_pa_t rk_dt_base(enum ih_rk_iommu_version v, u32 dte_addr);
int rk_bank_translate_locked(struct rk_bank *b, u32 iova, bool write, ih_pa_t *pa);

static inline bool rk_bank_irq_line(const struct rk_bank *b)
{
	return (b->int_raw & b->int_mask) != 0;
}

#endif /* IH_HW_RK_IOMMU_HW_PRIV_H */
