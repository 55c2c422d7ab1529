// SPDX-License-Identifier: MIT
/* Emulated Rockchip IOMMU: descriptor decoding, the line-filled TLB and the two-level walk. */
#include <inttypes.h>

#define IH_LOG_PREFIX "rk_iommu: "
#include <ih/diag.h>
#include <ih/physmem.h>

#include "rk_iommu_hw_priv.h"

/* Lock order: every function here runs with hw->lock held (a leaf lock). */

/*
 * Descriptor address (see the diagram in rk_iommu_hw_regs.h). v2 keeps PA 35:32 in bits
 * 11:8 and PA 39:36 in bits 7:4, the nibbles in that order.
 */
ih_pa_t rk_desc_pa(enum ih_rk_iommu_version v, u32 desc)
{
	ih_pa_t pa = (ih_pa_t)(desc & RK_R_DESC_ADDR_LO_MASK);

	if (v == IH_RK_IOMMU_HW_V2) {
		pa |= (ih_pa_t)RK_FIELD_EX32(desc, DESC, V2_PA35_32) << 32;
		pa |= (ih_pa_t)RK_FIELD_EX32(desc, DESC, V2_PA39_36) << 36;
	}
	return pa;
}

/* Directory table base from the DTE_ADDR register: v2 packs it like a descriptor. */
ih_pa_t rk_dt_base(enum ih_rk_iommu_version v, u32 dte_addr)
{
	ih_pa_t pa = (ih_pa_t)(dte_addr & RK_R_DTE_ADDR_LO_MASK);

	if (v == IH_RK_IOMMU_HW_V2) {
		pa |= (ih_pa_t)RK_FIELD_EX32(dte_addr, DTE_ADDR, V2_PA35_32) << 32;
		pa |= (ih_pa_t)RK_FIELD_EX32(dte_addr, DTE_ADDR, V2_PA39_36) << 36;
	}
	return pa;
}

static unsigned int tlb_size(const struct rk_bank *b)
{
	return b->hw->cfg.tlb_entries;
}

void rk_tlb_flush(struct rk_bank *b)
{
	for (unsigned int i = 0; i < tlb_size(b); i++)
		b->tlb[i].kind = RK_TLB_FREE;
	b->tlb_used = 0;
}

/* xorshift64*: the victim choice must be reproducible from the configured seed. */
static unsigned int tlb_victim(struct ih_rk_iommu_hw *hw)
{
	u64 x = hw->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	hw->rng = x;
	return (unsigned int)((x * 0x2545f4914f6cdd1dULL) >> 32) % hw->cfg.tlb_entries;
}

static struct rk_tlb_entry *tlb_find(struct rk_bank *b, enum rk_tlb_kind kind, u32 tag)
{
	for (unsigned int i = 0; i < tlb_size(b); i++) {
		struct rk_tlb_entry *e = &b->tlb[i];

		if (e->kind == kind && e->tag == tag)
			return e;
	}
	return NULL;
}

static void tlb_insert(struct rk_bank *b, enum rk_tlb_kind kind, u32 tag, u32 desc)
{
	struct rk_tlb_entry *e = tlb_find(b, kind, tag);

	if (!e && b->tlb_used < tlb_size(b)) {
		for (unsigned int i = 0; i < tlb_size(b); i++) {
			if (b->tlb[i].kind == RK_TLB_FREE) {
				e = &b->tlb[i];
				b->tlb_used++;
				break;
			}
		}
	}
	/* Full: replace a victim, so the number of entries never goes down here. */
	if (!e)
		e = &b->tlb[tlb_victim(b->hw)];
	e->kind = kind;
	e->tag = tag;
	e->desc = desc;
}

/*
 * ZAP_ONE_LINE: both lines that hold this IOVA's descriptors. One pass over the slots,
 * none when the TLB is empty (a zap after every map and unmap makes that the common
 * case), and it stops once every used slot has been seen.
 */
void rk_tlb_zap_line(struct rk_bank *b, u32 iova)
{
	u32 line = b->hw->cfg.tlb_line_entries;
	u32 dte_first = (iova >> RK_IOVA_DTE_SHIFT) & ~(line - 1);
	u32 pte_first = (iova >> RK_IOVA_PTE_SHIFT) & ~(line - 1);
	unsigned int left = b->tlb_used;

	for (unsigned int i = 0; left && i < tlb_size(b); i++) {
		struct rk_tlb_entry *e = &b->tlb[i];

		if (e->kind == RK_TLB_FREE)
			continue;
		left--;
		if ((e->kind == RK_TLB_DTE && e->tag - dte_first < line) ||
		    (e->kind == RK_TLB_PTE && e->tag - pte_first < line)) {
			e->kind = RK_TLB_FREE;
			b->tlb_used--;
		}
	}
}

bool rk_tlb_holds_valid_pte(const struct rk_bank *b, u32 page)
{
	for (unsigned int i = 0; i < b->hw->cfg.tlb_entries; i++) {
		const struct rk_tlb_entry *e = &b->tlb[i];

		if (e->kind == RK_TLB_PTE && e->tag == page && RK_FIELD_EX32(e->desc, DESC, VALID))
			return true;
	}
	return false;
}

/*
 * One descriptor of the table at @table_pa, entry @idx (0..1023), tagged @tag. A miss
 * fetches the aligned line around it and caches every entry of the line. Return: 0, or
 * -EIO when the fetch left simulated memory (nothing is cached then).
 */
static int fetch_desc(struct rk_bank *b, enum rk_tlb_kind kind, ih_pa_t table_pa, u32 idx, u32 tag,
		      u32 *desc)
{
	struct ih_rk_iommu_hw *hw = b->hw;
	u32 line = hw->cfg.tlb_line_entries;
	u32 first = idx & ~(line - 1);
	u32 vals[16];
	struct rk_tlb_entry *e = tlb_find(b, kind, tag);

	if (e) {
		b->st.tlb_hits++;
		*desc = e->desc;
		return 0;
	}
	for (u32 i = 0; i < line; i++) {
		/* Acquire: pairs with the driver's release store publishing a descriptor. */
		if (ih_pm_load32(hw->w, table_pa + 4 * (ih_pa_t)(first + i), &vals[i]))
			return -EIO;
	}
	b->st.line_fills++;
	for (u32 i = 0; i < line; i++)
		tlb_insert(b, kind, tag - (idx - first) + i, vals[i]);
	*desc = vals[idx - first];
	return 0;
}

static int page_fault(struct rk_bank *b, u32 iova, bool write, int err, const char *why)
{
	b->fault = true;
	b->fault_write = write;
	b->fault_addr = iova;
	b->int_raw |= RK_R_INT_PAGE_FAULT_MASK;
	b->st.page_faults++;
	ih_log(b->hw->w, IH_LOG_TRACE, "%s bank %u: page fault at 0x%08" PRIx32 " (%s, %s)",
	       b->hw->name, b->idx, iova, write ? "write" : "read", why);
	return err;
}

static int bus_error(struct rk_bank *b, u32 iova, ih_pa_t at)
{
	b->fault_addr = iova;
	b->int_raw |= RK_R_INT_BUS_ERROR_MASK;
	b->st.bus_errors++;
	ih_log(b->hw->w, IH_LOG_GUEST_ERROR,
	       "%s bank %u: bus error fetching a descriptor from table at PA 0x%" PRIx64
	       " for IOVA 0x%08" PRIx32,
	       b->hw->name, b->idx, (u64)at, iova);
	return -EIO;
}

int rk_bank_translate_locked(struct rk_bank *b, u32 iova, bool write, ih_pa_t *pa)
{
	enum ih_rk_iommu_version v = b->hw->cfg.version;
	u32 dte_idx = iova >> RK_IOVA_DTE_SHIFT;
	u32 pte_idx = (iova >> RK_IOVA_PTE_SHIFT) & RK_IOVA_IDX_MASK;
	ih_pa_t dt, pt;
	u32 dte, pte;

	b->st.translations++;
	/* A stalled master, or one whose access sits in the replay buffer, waits. */
	if (b->stall || b->fault) {
		b->st.stalled++;
		return -EAGAIN;
	}
	if (!b->paging) {
		b->st.bypassed++;
		*pa = iova;
		return 0;
	}

	/* Level 1: the directory table. */
	dt = rk_dt_base(v, b->dte_addr);
	if (fetch_desc(b, RK_TLB_DTE, dt, dte_idx, dte_idx, &dte))
		return bus_error(b, iova, dt);
	if (!RK_FIELD_EX32(dte, DESC, VALID))
		return page_fault(b, iova, write, -EFAULT, "invalid DTE");

	/* Level 2: the page table. */
	pt = rk_desc_pa(v, dte);
	if (fetch_desc(b, RK_TLB_PTE, pt, pte_idx, iova >> RK_IOVA_PTE_SHIFT, &pte))
		return bus_error(b, iova, pt);
	if (!RK_FIELD_EX32(pte, DESC, VALID))
		return page_fault(b, iova, write, -EFAULT, "invalid PTE");
	if (write ? !RK_FIELD_EX32(pte, DESC, WRITE) : !RK_FIELD_EX32(pte, DESC, READ))
		return page_fault(b, iova, write, -EACCES, "permission");

	*pa = rk_desc_pa(v, pte) | (iova & RK_IOVA_PAGE_MASK);
	return 0;
}
