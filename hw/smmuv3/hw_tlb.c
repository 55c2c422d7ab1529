// SPDX-License-Identifier: MIT
/* Emulated SMMUv3: the TLB, tagged by VMID/ASID; entries leave only by TLBI or eviction. */
#include "hw_priv.h"

/*
 * Lock order: called with hw->lock held (the only lock). The TLB holds leaf translations
 * only, so a driver that changes a table and forgets the TLBI keeps seeing the old
 * translation, as on silicon (IHI 0070, 16.2 "Caching").
 *
 * hw->tlb_used counts the valid entries: a scan stops once it has seen them all, and an
 * empty TLB (the usual state under a driver that invalidates every unmap) costs nothing.
 */

static bool smmu_tlb_overlaps(const struct smmu_tlb_entry *e, u64 base, u64 addr, u64 size)
{
	u64 elast = base + ((1ULL << e->shift) - 1);
	u64 last = size ? addr + (size - 1) : addr;

	if (last < addr) /* range wrapped past the top: clamp */
		last = ~0ULL;
	return base <= last && addr <= elast;
}

struct smmu_tlb_entry *smmu_tlb_lookup(struct ih_smmuv3_hw *hw, bool s1, bool s2, u16 vmid,
				       u16 asid, u64 in)
{
	unsigned int left = hw->tlb_used;

	for (unsigned int i = 0; left && i < hw->cfg.tlb_entries; i++) {
		struct smmu_tlb_entry *e = &hw->tlb[i];

		if (!e->valid)
			continue;
		left--;
		if (e->has_s1 != s1 || e->has_s2 != s2 || e->vmid != vmid)
			continue;
		if (s1 && !e->global && e->asid != asid)
			continue;
		if ((in & ~((1ULL << e->shift) - 1)) != e->in)
			continue;
		e->stamp = ++hw->stamp;
		return e;
	}
	return NULL;
}

void smmu_tlb_insert(struct ih_smmuv3_hw *hw, const struct smmu_tlb_entry *ne)
{
	unsigned int n = hw->cfg.tlb_entries;
	unsigned int victim = n;

	for (unsigned int i = 0; hw->tlb_used < n && i < n; i++) {
		if (!hw->tlb[i].valid) {
			victim = i;
			hw->tlb_used++;
			break;
		}
	}
	if (victim == n) {
		if (hw->cfg.tlb_evict == IH_SMMUV3_EVICT_RANDOM) {
			victim = (unsigned int)(smmu_rand(hw) % n);
		} else {
			victim = 0;
			for (unsigned int i = 1; i < n; i++)
				if (hw->tlb[i].stamp < hw->tlb[victim].stamp)
					victim = i;
		}
		hw->stats.tlb_evictions++;
	}
	hw->tlb[victim] = *ne;
	hw->tlb[victim].valid = true;
	hw->tlb[victim].stamp = ++hw->stamp;
}

static bool smmu_tlbi_match(const struct smmu_tlb_entry *e, enum smmu_tlbi_scope scope, u16 vmid,
			    u16 asid, u64 addr, u64 size, unsigned int only_shift)
{
	if (scope == SMMU_TLBI_ALL)
		return true;
	if (e->vmid != vmid)
		return false;
	switch (scope) {
	case SMMU_TLBI_VMALL:
		return true;
	case SMMU_TLBI_NH_ALL:
		return e->has_s1;
	case SMMU_TLBI_NH_ASID:
		return e->has_s1 && !e->global && e->asid == asid;
	case SMMU_TLBI_NH_VA:
		if (!e->has_s1 || (!e->global && e->asid != asid))
			return false;
		break;
	case SMMU_TLBI_NH_VAA:
		if (!e->has_s1)
			return false;
		break;
	case SMMU_TLBI_S2_IPA:
		/* Combined S1+S2 entries are over-invalidated by IPA, as permitted (4.4.3). */
		if (!e->has_s2)
			return false;
		if (only_shift && e->shift != only_shift)
			return false;
		return smmu_tlb_overlaps(e, e->ipa & ~((1ULL << e->shift) - 1), addr, size);
	default:
		return false;
	}
	if (only_shift && e->shift != only_shift)
		return false;
	return smmu_tlb_overlaps(e, e->in, addr, size);
}

void smmu_tlb_invalidate(struct ih_smmuv3_hw *hw, enum smmu_tlbi_scope scope, u16 vmid, u16 asid,
			 u64 addr, u64 size, unsigned int only_shift)
{
	unsigned int left = hw->tlb_used;

	for (unsigned int i = 0; left && i < hw->cfg.tlb_entries; i++) {
		struct smmu_tlb_entry *e = &hw->tlb[i];

		if (!e->valid)
			continue;
		left--;
		if (smmu_tlbi_match(e, scope, vmid, asid, addr, size, only_shift)) {
			e->valid = false;
			hw->tlb_used--;
			hw->stats.tlb_invalidated++;
		}
	}
}
