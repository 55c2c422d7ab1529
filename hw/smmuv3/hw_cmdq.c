// SPDX-License-Identifier: MIT
/* Emulated SMMUv3: the command queue consumer (CFGI, TLBI, CMD_SYNC, command errors). */
#include <inttypes.h>

#define IH_LOG_PREFIX "smmuv3-hw: "
#include <ih/diag.h>
#include <ih/physmem.h>

#include "hw_priv.h"

/*
 * Lock order: called with hw->lock held, from the CMDQ_PROD/CR0/GERRORN write (sequential
 * worlds) or from the hardware thread (concurrent worlds), one command per call.
 */

bool smmu_cmdq_runnable(struct ih_smmuv3_hw *hw)
{
	unsigned int log2 = smmu_q_log2(hw->cmdq.base, hw->cfg.cmdqs_log2);

	if (!(hw->cr0 & BIT(R_CR0_CMDQEN_SHIFT)))
		return false;
	/* A command error stops the queue until GERRORN acknowledges it (IHI 0070, 7.1). */
	if ((hw->gerror ^ hw->gerrorn) & BIT(R_GERROR_CMDQ_ERR_SHIFT))
		return false;
	return !smmu_q_empty(hw->cmdq.prod, hw->cmdq.cons, log2);
}

static u16 smmu_cmd_vmid(const struct ih_smmuv3_hw *hw, u64 c0)
{
	/* Without stage 2 the VMID field is ignored (4.4.2); 8-bit VMIDs ignore [15:8]. */
	if (!hw->cfg.stage2)
		return 0;
	return (u16)(SMMU_FEX(c0, CMD0, VMID) & (hw->cfg.vmid16 ? 0xffff : 0xff));
}

static u16 smmu_cmd_asid(const struct ih_smmuv3_hw *hw, u64 c0)
{
	return (u16)(SMMU_FEX(c0, CMD0, ASID) & (hw->cfg.asid16 ? 0xffff : 0xff));
}

/*
 * Range of a TLBI_*_VA / TLBI_S2_IPA (IHI 0070, 4.4.1): with TG != 0 (and RIL), the range is
 * (NUM + 1) * 2^SCALE granules from Address, and TTL (when not 0) names the level of the
 * entries to remove; with TG == 0 it is the one address, any level.
 */
static void smmu_tlbi_range(const struct ih_smmuv3_hw *hw, const u64 *c, u64 addr_mask, u64 *addr,
			    u64 *size, unsigned int *only_shift)
{
	unsigned int tg = (unsigned int)SMMU_FEX(c[1], CMD1, TG);
	unsigned int ttl = (unsigned int)SMMU_FEX(c[1], CMD1, TTL);
	unsigned int gshift;

	*addr = (SMMU_FEX(c[1], CMD1, ADDR) << 12) & addr_mask;
	*size = 1;
	*only_shift = 0;
	if (!hw->cfg.range_inv || !tg)
		return;
	gshift = tg == 1 ? 12 : tg == 2 ? 14 : 16;
	*size = (SMMU_FEX(c[0], CMD0, NUM) + 1) << (SMMU_FEX(c[0], CMD0, SCALE) + gshift);
	if (ttl)
		*only_shift = gshift + (gshift - 3) * (3 - ttl);
}

/* Execute one command. Return: SMMU_CERROR_NONE or the error that stops the queue. */
static int smmu_cmd_exec(struct ih_smmuv3_hw *hw, const u64 *c)
{
	unsigned int op = (unsigned int)SMMU_FEX(c[0], CMD0, OP);
	u32 sid = (u32)SMMU_FEX(c[0], CMD0, SID);
	u64 addr, size;
	unsigned int only_shift;

	switch (op) {
	case SMMU_CMD_PREFETCH_CONFIG:
	case SMMU_CMD_PREFETCH_ADDR:
	case SMMU_CMD_CFGI_STE:
	case SMMU_CMD_CFGI_STE_RANGE:
	case SMMU_CMD_CFGI_CD:
	case SMMU_CMD_CFGI_CD_ALL:
		/* SSec == 1 on the Non-secure queue is ILLEGAL (4.1.6). */
		if (SMMU_FEX(c[0], CMD0, SSEC))
			return SMMU_CERROR_ILL;
		break;
	default:
		break;
	}

	switch (op) {
	case SMMU_CMD_PREFETCH_CONFIG:
	case SMMU_CMD_PREFETCH_ADDR:
		/* Prefetches are hints; this model does not prefetch. */
		return SMMU_CERROR_NONE;
	case SMMU_CMD_CFGI_STE:
		hw->stats.cfgi++;
		smmu_cfgi_ste_range(hw, sid, 1);
		return SMMU_CERROR_NONE;
	case SMMU_CMD_CFGI_STE_RANGE: {
		unsigned int range = (unsigned int)SMMU_FEX(c[1], CMD1, RANGE);
		u64 n = 1ULL << (range + 1);

		hw->stats.cfgi++;
		/* Range 31 is CFGI_ALL; the bottom Range+1 bits of StreamID are ignored (4.3.2). */
		smmu_cfgi_ste_range(hw, (u32)(sid & ~(n - 1)), n);
		return SMMU_CERROR_NONE;
	}
	case SMMU_CMD_CFGI_CD:
	case SMMU_CMD_CFGI_CD_ALL:
		if (!hw->cfg.stage1)
			return SMMU_CERROR_ILL;
		hw->stats.cfgi++;
		smmu_cfgi_cd(hw, sid, op == SMMU_CMD_CFGI_CD_ALL, (u32)SMMU_FEX(c[0], CMD0, SSID));
		return SMMU_CERROR_NONE;
	case SMMU_CMD_TLBI_NH_ALL:
	case SMMU_CMD_TLBI_NH_ASID:
	case SMMU_CMD_TLBI_NH_VA:
	case SMMU_CMD_TLBI_NH_VAA:
		if (!hw->cfg.stage1)
			return SMMU_CERROR_ILL;
		hw->stats.tlbi++;
		if (op == SMMU_CMD_TLBI_NH_ALL) {
			smmu_tlb_invalidate(hw, SMMU_TLBI_NH_ALL, smmu_cmd_vmid(hw, c[0]), 0, 0, 0,
					    0);
		} else if (op == SMMU_CMD_TLBI_NH_ASID) {
			smmu_tlb_invalidate(hw, SMMU_TLBI_NH_ASID, smmu_cmd_vmid(hw, c[0]),
					    smmu_cmd_asid(hw, c[0]), 0, 0, 0);
		} else {
			smmu_tlbi_range(hw, c, ~0xfffULL, &addr, &size, &only_shift);
			smmu_tlb_invalidate(
			    hw, op == SMMU_CMD_TLBI_NH_VA ? SMMU_TLBI_NH_VA : SMMU_TLBI_NH_VAA,
			    smmu_cmd_vmid(hw, c[0]), smmu_cmd_asid(hw, c[0]), addr, size,
			    only_shift);
		}
		return SMMU_CERROR_NONE;
	case SMMU_CMD_TLBI_S12_VMALL:
	case SMMU_CMD_TLBI_S2_IPA:
		if (!hw->cfg.stage2)
			return SMMU_CERROR_ILL;
		hw->stats.tlbi++;
		if (op == SMMU_CMD_TLBI_S12_VMALL) {
			smmu_tlb_invalidate(hw, SMMU_TLBI_VMALL, smmu_cmd_vmid(hw, c[0]), 0, 0, 0,
					    0);
		} else {
			/* The IPA field is Address[51:12] here. */
			smmu_tlbi_range(hw, c, 0x000ffffffffff000ULL, &addr, &size, &only_shift);
			smmu_tlb_invalidate(hw, SMMU_TLBI_S2_IPA, smmu_cmd_vmid(hw, c[0]), 0, addr,
					    size, only_shift);
		}
		return SMMU_CERROR_NONE;
	case SMMU_CMD_TLBI_NSNH_ALL:
		hw->stats.tlbi++;
		smmu_tlb_invalidate(hw, SMMU_TLBI_ALL, 0, 0, 0, 0, 0);
		return SMMU_CERROR_NONE;
	case SMMU_CMD_SYNC: {
		unsigned int cs = (unsigned int)SMMU_FEX(c[0], CMD0, CS);

		if (cs == 3) /* reserved CS value */
			return SMMU_CERROR_ILL;
		hw->stats.syncs++;
		/*
		 * Every earlier command has completed (they run in order, synchronously), so
		 * the sync completes now: an MSI write of MSIData to MSIAddress, or the wired
		 * interrupt when MSIs are not implemented (4.7.3).
		 */
		if (cs == SMMU_SYNC_CS_IRQ && hw->cfg.msi) {
			u64 msi = SMMU_FEX(c[1], CMD1, MSIADDR) << 2;

			if (ih_pm_store32(hw->w, msi, (u32)SMMU_FEX(c[0], CMD0, MSIDATA))) {
				ih_log(hw->w, IH_LOG_GUEST_ERROR,
				       "CMD_SYNC MSI write to 0x%" PRIx64 " aborted", msi);
				smmu_gerror_raise(hw, BIT(R_GERROR_MSI_CMDQ_ABT_ERR_SHIFT));
			} else {
				hw->stats.sync_msis++;
			}
		} else if (cs == SMMU_SYNC_CS_IRQ) {
			smmu_irq_raise(hw, IH_SMMUV3_IRQ_CMD_SYNC);
		}
		return SMMU_CERROR_NONE;
	}
	default:
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "unknown command opcode 0x%02x", op);
		return SMMU_CERROR_ILL;
	}
}

bool smmu_cmdq_step(struct ih_smmuv3_hw *hw)
{
	struct smmu_queue *q = &hw->cmdq;
	unsigned int log2 = smmu_q_log2(q->base, hw->cfg.cmdqs_log2);
	const u64 *slot;
	u64 addr, c[2];
	int err;

	if (!smmu_cmdq_runnable(hw))
		return false;
	addr = smmu_q_addr(q->base, log2, 16) + (u64)smmu_q_idx(q->cons, log2) * 16;
	hw->stats.cmds++;
	/* One range check for the 16-byte command, then two single-copy atomic loads. */
	slot = IH_IS_ALIGNED(addr, 16) ? ih_pm_va(hw->w, addr, 16) : NULL;
	/* Off the fast path, the checked loads account and log the refused access. */
	if (!slot && (ih_pm_load64(hw->w, addr, &c[0]) || ih_pm_load64(hw->w, addr + 8, &c[1]))) {
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "command fetch at 0x%" PRIx64 " aborted", addr);
		err = SMMU_CERROR_ABT;
	} else {
		if (slot) {
			c[0] = __atomic_load_n(&slot[0], __ATOMIC_ACQUIRE);
			c[1] = __atomic_load_n(&slot[1], __ATOMIC_ACQUIRE);
		}
		err = smmu_cmd_exec(hw, c);
	}
	if (err) {
		/* CONS stays on the failing command; ERR names the reason (6.3.28). */
		/* Release: CMDQ_CONS is read without the lock (hw_regs.c). */
		__atomic_store_n(&q->cons, (u32)SMMU_FDP(q->cons, CMDQ_CONS, ERR, err),
				 __ATOMIC_RELEASE);
		hw->stats.cmd_errors++;
		smmu_gerror_raise(hw, BIT(R_GERROR_CMDQ_ERR_SHIFT));
		return true;
	}
	__atomic_store_n(&q->cons, smmu_q_inc(q->cons, log2), __ATOMIC_RELEASE);
	return true;
}
