// SPDX-License-Identifier: MIT
/* Emulated SMMUv3: writing event records into the event queue in simulated memory. */
#include <inttypes.h>

#define IH_LOG_PREFIX "smmuv3-hw: "
#include <ih/diag.h>
#include <ih/physmem.h>

#include "hw_priv.h"

/* Lock order: called with hw->lock held. */

void smmu_evtq_record(struct ih_smmuv3_hw *hw, const u64 rec[4])
{
	struct smmu_queue *q = &hw->evtq;
	unsigned int log2 = smmu_q_log2(q->base, hw->cfg.evtqs_log2);
	u64 addr;

	ih_log(hw->w, IH_LOG_TRACE, "event 0x%02x sid 0x%x addr 0x%" PRIx64,
	       (unsigned int)SMMU_FEX(rec[0], EVT0, TYPE),
	       (unsigned int)SMMU_FEX(rec[0], EVT0, SID), rec[2]);
	/* Events are discarded while the queue is disabled (IHI 0070, 7.2). */
	if (!(hw->cr0 & BIT(R_CR0_EVTQEN_SHIFT)) ||
	    ((hw->gerror ^ hw->gerrorn) & BIT(R_GERROR_EVTQ_ABT_ERR_SHIFT))) {
		hw->stats.events_lost++;
		return;
	}
	if (smmu_q_full(q->prod, q->cons, log2)) {
		/*
		 * Overflow (7.4): the record is lost and OVFLG toggles, unless an overflow is
		 * already outstanding (OVFLG != CONS.OVACKFLG).
		 */
		if (SMMU_FEX(q->prod, EVTQ_PROD, OVFLG) == SMMU_FEX(q->cons, EVTQ_CONS, OVACKFLG))
			q->prod ^= (u32)SMMU_FMASK(EVTQ_PROD, OVFLG);
		hw->stats.evtq_overflows++;
		hw->stats.events_lost++;
		return;
	}
	addr = smmu_q_addr(q->base, log2, 32) + (u64)smmu_q_idx(q->prod, log2) * 32;
	for (unsigned int i = 0; i < 4; i++) {
		if (ih_pm_store64(hw->w, addr + 8 * i, rec[i])) {
			ih_log(hw->w, IH_LOG_GUEST_ERROR,
			       "event queue write to 0x%" PRIx64 " aborted", addr + 8 * i);
			hw->stats.events_lost++;
			smmu_gerror_raise(hw, BIT(R_GERROR_EVTQ_ABT_ERR_SHIFT));
			return;
		}
	}
	q->prod = smmu_q_inc(q->prod, log2);
	hw->stats.events++;
	if (SMMU_FEX(hw->irq_ctrl, IRQ_CTRL, EVTQ_IRQEN))
		smmu_irq_raise(hw, IH_SMMUV3_IRQ_EVTQ);
}
