// SPDX-License-Identifier: MIT
/* Emulated SMMUv3: stream table and CD fetch, validation, and the configuration cache. */
#include <inttypes.h>

#define IH_LOG_PREFIX "smmuv3-hw: "
#include <ih/diag.h>
#include <ih/physmem.h>

#include "hw_priv.h"

/*
 * Lock order: called with hw->lock held.
 *
 * The configuration cache keeps decoded STEs by StreamID and CDs by (StreamID, CD index).
 * Entries leave only through CFGI_* commands or LRU eviction, so a driver that rewrites a
 * live STE without CFGI_STE keeps getting the old one. Invalid structures are not cached
 * (IHI 0070, 16.2): they are fetched again next time.
 */

static u16 smmu_vmid_mask(const struct ih_smmuv3_hw *hw)
{
	return hw->cfg.vmid16 ? 0xffff : 0xff;
}

static int smmu_bad(struct smmu_fault *f, u8 type, int err)
{
	f->type = type;
	return err;
}

/*
 * Stage 2 fields of an STE (5.2, STE.S2*), checked as 5.2.2 "Validity of STE" asks.
 * Return: 0, or -EINVAL for an ILLEGAL combination.
 */
static int smmu_decode_s2(struct ih_smmuv3_hw *hw, const u64 *v, struct smmu_ste *ste)
{
	unsigned int g = smmu_tg_shift(hw, (unsigned int)SMMU_FEX(v[2], STE2, S2TG));
	unsigned int t0sz = (unsigned int)SMMU_FEX(v[2], STE2, S2T0SZ);
	unsigned int sl0 = (unsigned int)SMMU_FEX(v[2], STE2, S2SL0);
	unsigned int ia, stride, top, shift;
	int sl;

	if (!SMMU_FEX(v[2], STE2, S2AA64) || !g || t0sz < 16 || t0sz > 39 || sl0 == 3 ||
	    SMMU_FEX(v[2], STE2, S2S))
		return -EINVAL;
	ia = 64 - t0sz;
	stride = g - 3;
	/* SL0 counts up from the last level for 16K/64K, from level 2 for 4K (VTCR.SL0). */
	sl = g == 12 ? 2 - (int)sl0 : 3 - (int)sl0;
	shift = g + stride * (unsigned int)(3 - sl);
	if (ia <= shift)
		return -EINVAL;
	top = ia - shift;
	/* At most 16 concatenated tables at the start level, none at 4K level 0. */
	if (top > stride + 4 || (g == 12 && sl == 0 && top > stride))
		return -EINVAL;
	ste->s2_gshift = (u8)g;
	ste->s2_ia = (u8)ia;
	ste->s2_sl = (s8)sl;
	ste->s2_ps = (u8)smmu_ps_bits((unsigned int)SMMU_FEX(v[2], STE2, S2PS), hw->cfg.oas_bits);
	ste->s2_affd = SMMU_FEX(v[2], STE2, S2AFFD);
	ste->s2_record = SMMU_FEX(v[2], STE2, S2R);
	ste->s2ttb = SMMU_FEX(v[3], STE3, S2TTB) << 4;
	if (ste->s2ttb >> ste->s2_ps)
		return -EINVAL;
	/* The table base is aligned to the (concatenated) start table; low bits are ignored. */
	ste->s2ttb &= ~((8ULL << top) - 1);
	return 0;
}

static int smmu_decode_ste(struct ih_smmuv3_hw *hw, const u64 *v, struct smmu_ste *ste)
{
	const struct ih_smmuv3_hw_config *c = &hw->cfg;

	*ste = (struct smmu_ste){0};
	if (!SMMU_FEX(v[0], STE0, V))
		return -EINVAL;
	ste->config = (u8)SMMU_FEX(v[0], STE0, CONFIG);
	switch (ste->config) {
	case SMMU_STE_CFG_ABORT:
	case SMMU_STE_CFG_BYPASS:
		break;
	case SMMU_STE_CFG_S1:
		if (!c->stage1)
			return -EINVAL;
		break;
	case SMMU_STE_CFG_S2:
		if (!c->stage2)
			return -EINVAL;
		break;
	case SMMU_STE_CFG_NESTED:
		if (!c->stage1 || !c->stage2)
			return -EINVAL;
		break;
	default: /* 0b001..0b011 are reserved */
		return -EINVAL;
	}
	ste->privcfg = (u8)SMMU_FEX(v[1], STE1, PRIVCFG);
	/* S2VMID tags stage 1-only TLB entries too when stage 2 exists (5.2, S2VMID). */
	if (c->stage2)
		ste->vmid = (u16)SMMU_FEX(v[2], STE2, S2VMID) & smmu_vmid_mask(hw);
	if (ste->config & 1) {
		ste->s1cdmax = (u8)SMMU_FEX(v[0], STE0, S1CDMAX);
		ste->s1fmt = (u8)SMMU_FEX(v[0], STE0, S1FMT);
		ste->s1dss = (u8)SMMU_FEX(v[1], STE1, S1DSS);
		ste->s1ctxptr = SMMU_FEX(v[0], STE0, S1CTXPTR) << 6;
		if (ste->s1cdmax > c->ssid_bits || ste->s1dss == 3)
			return -EINVAL;
		if (!ste->s1cdmax)
			ste->s1fmt = 0;
		else if (ste->s1fmt == 3 || (ste->s1fmt && !c->cd_2lvl))
			return -EINVAL;
		/* A PA pointer beyond OAS is ILLEGAL; in a nested STE it is an IPA. */
		if (ste->config == SMMU_STE_CFG_S1 && (ste->s1ctxptr >> c->oas_bits))
			return -EINVAL;
	}
	if (ste->config & 2)
		return smmu_decode_s2(hw, v, ste);
	return 0;
}

/* TG1 encodes granules differently from TG0 (1: 16K, 2: 4K, 3: 64K), as in TCR_EL1. */
static unsigned int smmu_tg1_to_tg0(unsigned int tg1)
{
	static const unsigned int map[4] = {3, 2, 0, 1};

	return map[tg1 & 3];
}

static int smmu_decode_cd(struct ih_smmuv3_hw *hw, const u64 *v, struct smmu_cd *cd)
{
	*cd = (struct smmu_cd){0};
	/* 5.4.2 "Validity of CD": V, AArch64 tables only, no stall model. */
	if (!SMMU_FEX(v[0], CD0, V) || !SMMU_FEX(v[0], CD0, AA64) || SMMU_FEX(v[0], CD0, S))
		return -EINVAL;
	cd->ps = (u8)smmu_ps_bits((unsigned int)SMMU_FEX(v[0], CD0, IPS), hw->cfg.oas_bits);
	for (unsigned int i = 0; i < 2; i++) {
		struct smmu_cd_tt *tt = &cd->tt[i];
		unsigned int tsz, tg, g;

		tt->disabled = i ? SMMU_FEX(v[0], CD0, EPD1) : SMMU_FEX(v[0], CD0, EPD0);
		if (tt->disabled)
			continue;
		tsz = (unsigned int)(i ? SMMU_FEX(v[0], CD0, T1SZ) : SMMU_FEX(v[0], CD0, T0SZ));
		tg = i ? smmu_tg1_to_tg0((unsigned int)SMMU_FEX(v[0], CD0, TG1))
		       : (unsigned int)SMMU_FEX(v[0], CD0, TG0);
		g = smmu_tg_shift(hw, tg);
		if (!g || tsz < 16 || tsz > 39)
			return -EINVAL;
		tt->gshift = (u8)g;
		tt->ia = (u8)(64 - tsz);
		tt->sl = (s8)smmu_s1_start_level(tt->ia, g);
		tt->ttb = i ? SMMU_FEX(v[2], CD2, TTB1) << 4 : SMMU_FEX(v[1], CD1, TTB0) << 4;
		/* Low TTB bits below the start table's size are ignored. */
		tt->ttb &= ~((8ULL << (tt->ia - (g + (g - 3) * (unsigned int)(3 - tt->sl)))) - 1);
	}
	cd->asid = (u16)SMMU_FEX(v[0], CD0, ASID) & (hw->cfg.asid16 ? 0xffff : 0xff);
	cd->affd = SMMU_FEX(v[0], CD0, AFFD);
	cd->record = SMMU_FEX(v[0], CD0, R);
	cd->mair = v[3];
	return 0;
}

static int smmu_load_words(struct ih_smmuv3_hw *hw, u64 addr, u64 *v, unsigned int n)
{
	if (addr >> hw->cfg.oas_bits)
		return -EFAULT;
	for (unsigned int i = 0; i < n; i++)
		if (ih_pm_load64(hw->w, addr + 8 * i, &v[i]))
			return -EFAULT;
	return 0;
}

/* Address of the STE for @sid (5.1 "Stream table"), or a C_BAD_STREAMID/F_STE_FETCH. */
static int smmu_ste_addr(struct ih_smmuv3_hw *hw, u32 sid, u64 *addr, struct smmu_fault *f)
{
	u32 cfg = hw->strtab_base_cfg;
	unsigned int log2 =
	    ih_min((unsigned int)SMMU_FEX(cfg, STRTAB_BASE_CFG, LOG2SIZE), hw->cfg.sid_bits);
	u64 base = SMMU_FEX(hw->strtab_base, STRTAB_BASE, ADDR) << 6;

	if ((u64)sid >> log2)
		return smmu_bad(f, SMMU_EVT_C_BAD_STREAMID, -ENODEV);
	if (hw->cfg.strtab_2lvl && SMMU_FEX(cfg, STRTAB_BASE_CFG, FMT) == 1) {
		unsigned int split = (unsigned int)SMMU_FEX(cfg, STRTAB_BASE_CFG, SPLIT);
		unsigned int l1bits, span;
		u64 l1addr, l1d, l2;

		/* Only SPLIT 6, 8, 10 are defined; this model treats the others as 6. */
		if (split != 6 && split != 8 && split != 10)
			split = 6;
		l1bits = log2 > split ? log2 - split : 0;
		base &= ~((ih_max(8ULL << l1bits, 64ULL)) - 1);
		l1addr = base + ((u64)sid >> split) * 8;
		if (smmu_load_words(hw, l1addr, &l1d, 1)) {
			f->fetch = l1addr;
			return smmu_bad(f, SMMU_EVT_F_STE_FETCH, -EIO);
		}
		/* Span 0, reserved, or too small for this StreamID (7.3.3). */
		span = (unsigned int)SMMU_FEX(l1d, L1STD, SPAN);
		if (!span || span > split + 1 || (sid & ((1u << split) - 1)) >= (1u << (span - 1)))
			return smmu_bad(f, SMMU_EVT_C_BAD_STREAMID, -ENODEV);
		l2 = SMMU_FEX(l1d, L1STD, L2PTR) << 6;
		l2 &= ~((64ULL << (span - 1)) - 1);
		*addr = l2 + (u64)(sid & ((1u << split) - 1)) * 64;
		return 0;
	}
	/* Linear; a reserved FMT is treated as linear. */
	base &= ~((64ULL << log2) - 1);
	*addr = base + (u64)sid * 64;
	return 0;
}

int smmu_find_ste(struct ih_smmuv3_hw *hw, u32 sid, struct smmu_ste *ste, struct smmu_fault *f)
{
	struct smmu_ste_slot *slot, *victim;
	u64 addr, v[4];
	int ret;

	for (unsigned int i = 0; i < hw->cfg.cfg_cache_entries; i++) {
		slot = &hw->ste_cache[i];
		if (slot->valid && slot->sid == sid) {
			slot->stamp = ++hw->stamp;
			*ste = slot->ste;
			return 0;
		}
	}
	ret = smmu_ste_addr(hw, sid, &addr, f);
	if (ret)
		return ret;
	if (smmu_load_words(hw, addr, v, 4)) {
		f->fetch = addr;
		return smmu_bad(f, SMMU_EVT_F_STE_FETCH, -EIO);
	}
	if (smmu_decode_ste(hw, v, ste)) {
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "sid 0x%x: bad STE at 0x%" PRIx64, sid, addr);
		return smmu_bad(f, SMMU_EVT_C_BAD_STE, -EINVAL);
	}
	victim = &hw->ste_cache[0];
	for (unsigned int i = 0; i < hw->cfg.cfg_cache_entries; i++) {
		slot = &hw->ste_cache[i];
		if (!slot->valid) {
			victim = slot;
			break;
		}
		if (slot->stamp < victim->stamp)
			victim = slot;
	}
	victim->valid = true;
	victim->sid = sid;
	victim->stamp = ++hw->stamp;
	victim->ste = *ste;
	return 0;
}

/* Stage 2 parameters of @ste for the walker. */
static void smmu_ste_s2_tt(const struct smmu_ste *ste, struct smmu_tt *tt)
{
	tt->ttb = ste->s2ttb;
	tt->gshift = ste->s2_gshift;
	tt->ia = ste->s2_ia;
	tt->sl = ste->s2_sl;
	tt->ps = ste->s2_ps;
	tt->stage2 = true;
	tt->affd = ste->s2_affd;
}

/*
 * A CD-table access of a nested STE goes through stage 2 (CLASS CD). Return: 0 with *pa,
 * or -EFAULT with @f filled.
 */
static int smmu_cd_ipa(struct ih_smmuv3_hw *hw, const struct smmu_ste *ste, u64 ipa, u64 *pa,
		       struct smmu_fault *f)
{
	struct smmu_walk_res r;
	struct smmu_tt tt;

	if (ste->config != SMMU_STE_CFG_NESTED) {
		*pa = ipa;
		return 0;
	}
	smmu_ste_s2_tt(ste, &tt);
	if (smmu_walk(hw, &tt, NULL, ipa, &r, f) == 0 && r.s2_r) {
		*pa = r.out | (ipa & ((1ULL << r.shift) - 1));
		return 0;
	}
	if (!f->type)
		f->type = SMMU_EVT_F_PERMISSION;
	f->s2 = true;
	f->cls = SMMU_CLASS_CD;
	f->ipa = ipa;
	f->record = ste->s2_record;
	return -EFAULT;
}

int smmu_find_cd(struct ih_smmuv3_hw *hw, u32 sid, const struct smmu_ste *ste, u32 index,
		 struct smmu_cd *cd, struct smmu_fault *f)
{
	struct smmu_cd_slot *slot, *victim;
	u64 addr, v[4];
	int ret;

	for (unsigned int i = 0; i < hw->cfg.cfg_cache_entries; i++) {
		slot = &hw->cd_cache[i];
		if (slot->valid && slot->sid == sid && slot->ssid == index) {
			slot->stamp = ++hw->stamp;
			*cd = slot->cd;
			return 0;
		}
	}
	/* Locate the CD (5.3 "Level 1 Context Descriptor", STE.S1Fmt). */
	if (!ste->s1cdmax || ste->s1fmt == 0) {
		u64 tbytes = 64ULL << ste->s1cdmax;

		addr = (ste->s1ctxptr & ~(tbytes - 1)) + (u64)index * 64;
	} else {
		unsigned int leaf = ste->s1fmt == 1 ? 6 : 10; /* 4K or 64K leaf tables */
		unsigned int l1bits = ste->s1cdmax > leaf ? ste->s1cdmax - leaf : 0;
		u64 l1addr = (ste->s1ctxptr & ~(ih_max(8ULL << l1bits, 64ULL) - 1)) +
			     (u64)(index >> leaf) * 8;
		u64 l1pa, l1d;

		ret = smmu_cd_ipa(hw, ste, l1addr, &l1pa, f);
		if (ret)
			return ret;
		if (smmu_load_words(hw, l1pa, &l1d, 1)) {
			f->fetch = l1pa;
			return smmu_bad(f, SMMU_EVT_F_CD_FETCH, -EIO);
		}
		if (!SMMU_FEX(l1d, L1CD, V) ||
		    (ste->config != SMMU_STE_CFG_NESTED &&
		     ((SMMU_FEX(l1d, L1CD, L2PTR) << 12) >> hw->cfg.oas_bits)))
			return smmu_bad(f, SMMU_EVT_C_BAD_SUBSTREAMID, -EINVAL);
		addr = (SMMU_FEX(l1d, L1CD, L2PTR) << 12) + (u64)(index & ((1u << leaf) - 1)) * 64;
	}
	ret = smmu_cd_ipa(hw, ste, addr, &addr, f);
	if (ret)
		return ret;
	if (smmu_load_words(hw, addr, v, 4)) {
		f->fetch = addr;
		return smmu_bad(f, SMMU_EVT_F_CD_FETCH, -EIO);
	}
	if (smmu_decode_cd(hw, v, cd)) {
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "sid 0x%x cd %u: bad CD at 0x%" PRIx64, sid,
		       index, addr);
		return smmu_bad(f, SMMU_EVT_C_BAD_CD, -EINVAL);
	}
	victim = &hw->cd_cache[0];
	for (unsigned int i = 0; i < hw->cfg.cfg_cache_entries; i++) {
		slot = &hw->cd_cache[i];
		if (!slot->valid) {
			victim = slot;
			break;
		}
		if (slot->stamp < victim->stamp)
			victim = slot;
	}
	victim->valid = true;
	victim->sid = sid;
	victim->ssid = index;
	victim->stamp = ++hw->stamp;
	victim->cd = *cd;
	return 0;
}

void smmu_cfgi_ste_range(struct ih_smmuv3_hw *hw, u32 first, u64 count)
{
	/* CFGI_STE* also drops every CD cached through those StreamIDs (4.3.1, 4.3.2). */
	for (unsigned int i = 0; i < hw->cfg.cfg_cache_entries; i++) {
		if (hw->ste_cache[i].valid && (u64)hw->ste_cache[i].sid - first < count)
			hw->ste_cache[i].valid = false;
		if (hw->cd_cache[i].valid && (u64)hw->cd_cache[i].sid - first < count)
			hw->cd_cache[i].valid = false;
	}
}

void smmu_cfgi_cd(struct ih_smmuv3_hw *hw, u32 sid, bool all, u32 ssid)
{
	for (unsigned int i = 0; i < hw->cfg.cfg_cache_entries; i++) {
		struct smmu_cd_slot *s = &hw->cd_cache[i];

		if (s->valid && s->sid == sid && (all || s->ssid == ssid))
			s->valid = false;
	}
}

void smmu_ste_to_s2_tt(const struct smmu_ste *ste, struct smmu_tt *tt)
{
	smmu_ste_s2_tt(ste, tt);
}
