// SPDX-License-Identifier: MIT
/* Emulated SMMUv3: the VMSAv8-64 stage 1 / stage 2 table walker, reading simulated memory. */
#include <inttypes.h>

#define IH_LOG_PREFIX "smmuv3-hw: "
#include <ih/diag.h>
#include <ih/physmem.h>

#include "hw_priv.h"

/*
 * Written from the architecture (Arm ARM D8 "The AArch64 Virtual Memory System
 * Architecture", IHI 0070 3.4/5.2/5.4 for the SMMU's view of TxSZ/SL0/TG/PS), not from any
 * io-pgtable implementation: the two are meant to agree on the format, not on code.
 *
 * Geometry for a granule of 2^g bytes: each level resolves g - 3 bits; level l (0..3)
 * maps 2^(g + (g - 3) * (3 - l)) bytes per entry. The start level resolves whatever is
 * left of the input size; stage 2 may concatenate up to 16 tables there.
 *
 * Lock order: called with hw->lock held.
 */

static unsigned int smmu_level_shift(unsigned int gshift, int level)
{
	return gshift + (gshift - 3) * (unsigned int)(3 - level);
}

int smmu_s1_start_level(unsigned int ia, unsigned int gshift)
{
	unsigned int stride = gshift - 3;
	unsigned int levels = (ia - gshift + stride - 1) / stride;

	return 4 - (int)levels;
}

/* Blocks exist at level 1 and 2 (4K), level 2 (16K), level 2 and, with 52-bit PA, 1 (64K). */
static bool smmu_block_ok(unsigned int gshift, int level, unsigned int ps)
{
	switch (gshift) {
	case 12:
		return level == 1 || level == 2;
	case 14:
		return level == 2;
	default:
		return level == 2 || (level == 1 && ps == 52);
	}
}

/* Output or next-table address of @desc, with OA[51:48] in [15:12] for 64K at 52 bits. */
static u64 smmu_desc_addr(u64 desc, unsigned int shift, unsigned int gshift, unsigned int ps)
{
	u64 a = desc & GENMASK_ULL(47, shift);

	if (gshift == 16 && ps == 52)
		a |= ((desc >> 12) & 0xf) << 48;
	return a;
}

static int smmu_walk_fail(const struct smmu_tt *tt, struct smmu_fault *f, u8 type)
{
	f->type = type;
	f->s2 = tt->stage2;
	/* A stage 1 external abort is CLASS TT; the caller sets the class of other faults. */
	f->cls = type == SMMU_EVT_F_WALK_EABT && !tt->stage2 ? SMMU_CLASS_TT : SMMU_CLASS_IN;
	return -EFAULT;
}

int smmu_walk(struct ih_smmuv3_hw *hw, const struct smmu_tt *tt, const struct smmu_tt *s2, u64 ia,
	      struct smmu_walk_res *res, struct smmu_fault *f)
{
	unsigned int g = tt->gshift;
	unsigned int stride = g - 3;
	bool apt_ro = false, apt_noel0 = false;
	u64 table = tt->ttb;

	/* Input beyond TxSZ: translation fault before any fetch (D8.1.7). */
	if (tt->ia < 64 && (ia >> tt->ia))
		return smmu_walk_fail(tt, f, SMMU_EVT_F_TRANSLATION);
	/* A table base beyond the output size is an address size fault (D8.2.2). */
	if (table >> tt->ps)
		return smmu_walk_fail(tt, f, SMMU_EVT_F_ADDR_SIZE);

	for (int level = tt->sl; level <= 3; level++) {
		unsigned int shift = smmu_level_shift(g, level);
		unsigned int bits = level == tt->sl ? tt->ia - shift : stride;
		u64 idx = (ia >> shift) & ((1ULL << bits) - 1);
		u64 daddr = table + idx * 8;
		u64 paddr = daddr;
		u64 desc, type, out;

		if (s2) {
			/* Nested: the stage 1 descriptor address is an IPA (3.2, CLASS TT). */
			struct smmu_walk_res r2;

			if (smmu_walk(hw, s2, NULL, daddr, &r2, f)) {
				f->cls = SMMU_CLASS_TT;
				f->ipa = daddr;
				return -EFAULT;
			}
			if (!r2.s2_r) {
				f->type = SMMU_EVT_F_PERMISSION;
				f->s2 = true;
				f->cls = SMMU_CLASS_TT;
				f->ipa = daddr;
				return -EFAULT;
			}
			paddr = r2.out | (daddr & ((1ULL << r2.shift) - 1));
		}
		if (ih_pm_load64(hw->w, paddr, &desc)) {
			f->fetch = paddr;
			return smmu_walk_fail(tt, f, SMMU_EVT_F_WALK_EABT);
		}
		type = desc & SMMU_PTE_TYPE_MASK;
		if (!(desc & 1))
			return smmu_walk_fail(tt, f, SMMU_EVT_F_TRANSLATION);
		if (level < 3 && type == SMMU_PTE_TYPE_TABLE) {
			u64 next = smmu_desc_addr(desc, g, g, tt->ps);

			if (next >> tt->ps)
				return smmu_walk_fail(tt, f, SMMU_EVT_F_ADDR_SIZE);
			/* APTable (stage 1 only) restricts every level below (D8.4.2). */
			if (!tt->stage2) {
				apt_ro |= !!(desc & SMMU_PTE_APT_RO);
				apt_noel0 |= !!(desc & SMMU_PTE_APT_NOEL0);
			}
			table = next;
			continue;
		}
		/* Level 3 needs a page (0b11); above, a block (0b01) where one may exist. */
		if (level == 3 ? type != SMMU_PTE_TYPE_TABLE : !smmu_block_ok(g, level, tt->ps))
			return smmu_walk_fail(tt, f, SMMU_EVT_F_TRANSLATION);
		out = smmu_desc_addr(desc, shift, g, tt->ps);
		if (out >> tt->ps)
			return smmu_walk_fail(tt, f, SMMU_EVT_F_ADDR_SIZE);
		/* No hardware access flag update (IDR0.HTTU == 0): AF == 0 faults. */
		if (!(desc & SMMU_PTE_AF) && !tt->affd)
			return smmu_walk_fail(tt, f, SMMU_EVT_F_ACCESS);
		res->out = out;
		res->shift = (u8)shift;
		if (tt->stage2) {
			res->s2_r = desc & SMMU_PTE_AP1; /* S2AP[0]: read */
			res->s2_w = desc & SMMU_PTE_AP2; /* S2AP[1]: write */
			res->ro = res->noel0 = res->global = false;
		} else {
			res->ro = (desc & SMMU_PTE_AP2) || apt_ro;
			res->noel0 = !(desc & SMMU_PTE_AP1) || apt_noel0;
			res->global = !(desc & SMMU_PTE_NG);
			res->s2_r = res->s2_w = true;
		}
		return 0;
	}
	/* Not reached: level 3 always returns. */
	return smmu_walk_fail(tt, f, SMMU_EVT_F_TRANSLATION);
}
