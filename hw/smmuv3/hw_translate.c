// SPDX-License-Identifier: MIT
/* Emulated SMMUv3: one device access, GBPA or STE -> CD -> TLB -> walk, and its event. */
#include <inttypes.h>

#define IH_LOG_PREFIX "smmuv3-hw: "
#include <ih/diag.h>

#include "hw_priv.h"

/* Lock order: takes hw->lock; the IRQ handler runs after it is dropped. */

struct smmu_access {
	u32 sid;
	bool ssv;
	u32 ssid;
	u64 iova;
	bool write;
	bool priv;
};

/* Build and queue the event record for @f (IHI 0070, 7.3). */
static void smmu_record(struct ih_smmuv3_hw *hw, const struct smmu_access *a,
			const struct smmu_fault *f)
{
	u64 rec[4] = {0};

	rec[0] = SMMU_FDP(rec[0], EVT0, TYPE, f->type);
	rec[0] = SMMU_FDP(rec[0], EVT0, SID, a->sid);
	if (a->ssv || f->type == SMMU_EVT_C_BAD_SUBSTREAMID) {
		rec[0] = SMMU_FDP(rec[0], EVT0, SSV, f->type != SMMU_EVT_C_BAD_SUBSTREAMID);
		rec[0] = SMMU_FDP(rec[0], EVT0, SSID, a->ssid);
	}
	switch (f->type) {
	case SMMU_EVT_F_STE_FETCH:
	case SMMU_EVT_F_CD_FETCH:
		rec[3] = SMMU_FDP(0, EVT3, FETCH, f->fetch >> 3);
		break;
	case SMMU_EVT_F_WALK_EABT:
	case SMMU_EVT_F_TRANSLATION:
	case SMMU_EVT_F_ADDR_SIZE:
	case SMMU_EVT_F_ACCESS:
	case SMMU_EVT_F_PERMISSION:
		/* RnW is 1 for a read; InD is 0 (data); PnU after the STE override. */
		rec[1] = SMMU_FDP(rec[1], EVT1, RNW, !a->write);
		rec[1] = SMMU_FDP(rec[1], EVT1, PNU, a->priv);
		rec[1] = SMMU_FDP(rec[1], EVT1, S2, f->s2);
		rec[1] = SMMU_FDP(rec[1], EVT1, CLASS, f->cls);
		rec[2] = a->iova;
		if (f->type == SMMU_EVT_F_WALK_EABT)
			rec[3] = SMMU_FDP(0, EVT3, FETCH, f->fetch >> 3);
		else if (f->s2)
			rec[3] = SMMU_FDP(0, EVT3, IPA, f->ipa >> 12);
		break;
	default:
		break;
	}
	smmu_evtq_record(hw, rec);
}

/* Permission check of a (cached or fresh) translation; fills @f on a fault. */
static int smmu_check_perms(const struct smmu_tlb_entry *e, const struct smmu_access *a,
			    struct smmu_fault *f)
{
	/* Stage 1 AP[2:1] + APTable (Arm ARM D8.4): EL0 needs AP[1]; writes need AP[2] == 0. */
	if (e->has_s1 && ((!a->priv && e->s1_noel0) || (a->write && e->s1_ro))) {
		f->type = SMMU_EVT_F_PERMISSION;
		f->s2 = false;
		f->cls = SMMU_CLASS_IN;
		return -EFAULT;
	}
	if (e->has_s2 && (a->write ? !e->s2_w : !e->s2_r)) {
		f->type = SMMU_EVT_F_PERMISSION;
		f->s2 = true;
		f->cls = SMMU_CLASS_IN;
		f->ipa = e->ipa | (a->iova & ((1ULL << e->shift) - 1));
		return -EFAULT;
	}
	return 0;
}

/* Walk stage 1 and/or 2 for @a and build the TLB entry. */
static int smmu_walk_all(struct ih_smmuv3_hw *hw, const struct smmu_ste *ste,
			 const struct smmu_cd *cd, bool s1, bool s2, const struct smmu_access *a,
			 struct smmu_tlb_entry *e, struct smmu_fault *f)
{
	struct smmu_tt s2tt, s1tt;
	struct smmu_walk_res r1 = {0}, r2;
	u64 ipa = a->iova;
	unsigned int shift = 64;

	if (s2)
		smmu_ste_to_s2_tt(ste, &s2tt);
	if (s1) {
		/* TTB0 for VA[55] == 0, TTB1 otherwise; the bits above TxSZ must match. */
		unsigned int r = (a->iova >> 55) & 1;
		const struct smmu_cd_tt *ct = &cd->tt[r];
		u64 in = a->iova;

		f->record = cd->record;
		f->cls = SMMU_CLASS_IN;
		if (ct->disabled || (r ? (~in >> ct->ia) : (in >> ct->ia))) {
			f->type = SMMU_EVT_F_TRANSLATION;
			return -EFAULT;
		}
		in &= (1ULL << ct->ia) - 1;
		s1tt = (struct smmu_tt){.ttb = ct->ttb,
					.gshift = ct->gshift,
					.ia = ct->ia,
					.sl = ct->sl,
					.ps = cd->ps,
					.stage2 = false,
					.affd = cd->affd};
		if (smmu_walk(hw, &s1tt, s2 ? &s2tt : NULL, in, &r1, f)) {
			if (f->s2)
				f->record = ste->s2_record;
			return -EFAULT;
		}
		shift = r1.shift;
		ipa = r1.out | (in & ((1ULL << r1.shift) - 1));
		e->has_s1 = true;
		e->global = r1.global;
		e->asid = cd->asid;
		e->s1_ro = r1.ro;
		e->s1_noel0 = r1.noel0;
	}
	e->s2_r = e->s2_w = true;
	e->out = ipa;
	if (s2) {
		if (smmu_walk(hw, &s2tt, NULL, ipa, &r2, f)) {
			f->record = ste->s2_record;
			f->cls = SMMU_CLASS_IN;
			f->ipa = ipa;
			return -EFAULT;
		}
		shift = ih_min(shift, (unsigned int)r2.shift);
		e->has_s2 = true;
		e->s2_r = r2.s2_r;
		e->s2_w = r2.s2_w;
		e->out = r2.out | (ipa & ((1ULL << r2.shift) - 1));
	}
	/* One entry covers the smaller of the two stages' block sizes. */
	e->shift = (u8)shift;
	e->in = a->iova & ~((1ULL << shift) - 1);
	e->ipa = ipa & ~((1ULL << shift) - 1);
	e->out &= ~((1ULL << shift) - 1);
	e->vmid = ste->vmid;
	return 0;
}

static int smmu_translate_locked(struct ih_smmuv3_hw *hw, struct smmu_access *a, ih_pa_t *pa,
				 struct smmu_fault *f)
{
	struct smmu_ste ste;
	struct smmu_cd cd = {0};
	struct smmu_tlb_entry ne = {0}, *e;
	bool s1, s2;
	int ret;

	/* SMMUEN == 0: GBPA decides, and nothing is recorded (IHI 0070, 6.3.14). */
	if (!(hw->cr0 & BIT(R_CR0_SMMUEN_SHIFT))) {
		f->record = false;
		if (SMMU_FEX(hw->gbpa, GBPA, ABORT))
			return -EPERM;
		*pa = a->iova;
		return 0;
	}
	ret = smmu_find_ste(hw, a->sid, &ste, f);
	if (ret) {
		/* C_BAD_STREAMID is recorded only with CR2.RECINVSID (7.3.3). */
		if (f->type == SMMU_EVT_C_BAD_STREAMID && !SMMU_FEX(hw->cr2, CR2, RECINVSID))
			f->record = false;
		return ret;
	}
	/* STE.PRIVCFG 0b11 forces privileged; incoming accesses are unprivileged. */
	a->priv = ste.privcfg == 3;
	s1 = ste.config & 1;
	s2 = ste.config & 2;
	if (ste.config == SMMU_STE_CFG_ABORT) {
		f->record = false; /* terminated without an event (7.3.7) */
		return -EPERM;
	}
	if (a->ssv && !s1) {
		f->type = SMMU_EVT_C_BAD_SUBSTREAMID;
		return -EINVAL;
	}
	if (s1) {
		u32 index = 0;

		/* SubstreamID checks and STE.S1DSS (5.2, 7.3.7, 7.3.9). */
		if (a->ssv) {
			if (!ste.s1cdmax || (a->ssid >> ste.s1cdmax)) {
				f->type = SMMU_EVT_C_BAD_SUBSTREAMID;
				return -EINVAL;
			}
			if (ste.s1dss == 2 && a->ssid == 0) {
				f->type = SMMU_EVT_F_STREAM_DISABLED;
				return -EPERM;
			}
			index = a->ssid;
		} else if (ste.s1cdmax) {
			if (ste.s1dss == 0) {
				f->type = SMMU_EVT_F_STREAM_DISABLED;
				return -EPERM;
			}
			if (ste.s1dss == 1)
				s1 = false; /* stage 1 bypass */
		}
		if (s1) {
			ret = smmu_find_cd(hw, a->sid, &ste, index, &cd, f);
			if (ret)
				return ret;
		}
	}
	if (!s1 && !s2) {
		*pa = a->iova;
		return 0;
	}
	e = smmu_tlb_lookup(hw, s1, s2, ste.vmid, cd.asid, a->iova);
	if (e) {
		hw->stats.tlb_hits++;
	} else {
		hw->stats.tlb_misses++;
		ret = smmu_walk_all(hw, &ste, &cd, s1, s2, a, &ne, f);
		if (ret)
			return ret;
		smmu_tlb_insert(hw, &ne);
		e = &ne;
	}
	f->record = e->has_s1 ? cd.record : ste.s2_record;
	ret = smmu_check_perms(e, a, f);
	if (ret) {
		if (f->s2)
			f->record = ste.s2_record;
		return ret;
	}
	*pa = e->out | (a->iova & ((1ULL << e->shift) - 1));
	return 0;
}

int ih_smmuv3_hw_translate(struct ih_smmuv3_hw *hw, u32 sid, bool ssid_valid, u32 ssid, u64 iova,
			   bool write, ih_pa_t *pa)
{
	struct smmu_access a = {
	    .sid = sid,
	    .ssv = ssid_valid,
	    .ssid = ssid,
	    .iova = iova,
	    .write = write,
	};
	struct smmu_fault f = {.record = true};
	int ret;

	pthread_mutex_lock(&hw->lock);
	hw->stats.translations++;
	ret = smmu_translate_locked(hw, &a, pa, &f);
	if (ret && f.record && f.type)
		smmu_record(hw, &a, &f);
	if (ret)
		ih_log(hw->w, IH_LOG_TRACE, "sid 0x%x iova 0x%" PRIx64 ": event 0x%02x (%d)", sid,
		       iova, f.type, ret);
	/* Same unlock-then-IRQ order as MMIO accesses. */
	smmu_unlock_deliver(hw);
	return ret;
}
