// SPDX-License-Identifier: MIT
/* SMMUv3 driver: stream table, context descriptors, and the ordered STE/CD update. */
#include <inttypes.h>

#define IH_LOG_PREFIX "smmuv3: "
#include <ih/alloc.h>
#include <ih/diag.h>

#include "drv_priv.h"

/*
 * Lock order: everything here runs with smmu->cfg_lock held (except init/free, which run
 * with no other caller), then takes cmdq_lock through smmu_cmdq_submit().
 *
 * Updating a live STE or CD (IHI 0070, 3.21 "Structure access rules and update
 * procedures"): the SMMU may fetch an entry at any time and cache it until a CFGI_*
 * command and a CMD_SYNC, and it reads the 64-bit words one by one, so the driver only
 * ever changes the entry in steps that each leave a complete, meaningful entry:
 *
 *   1. bits the current entry does not use take their target value (the SMMU ignores
 *      them), then CFGI + SYNC;
 *   2. if the target then differs in the bits it uses in one word only, that word is
 *      written with one 64-bit store (the entry switches from old to new at once), then
 *      CFGI + SYNC; a last step clears the leftovers of the old entry (bits the target
 *      does not use), then CFGI + SYNC;
 *   3. otherwise the entry is broken: V is cleared (CFGI + SYNC), the other words are
 *      written, and the word holding V is written last (CFGI + SYNC). In between, the
 *      SMMU sees an invalid entry, never a mix of two.
 *
 * An invalid entry is never cached (IHI 0070, 16.2), so making one valid needs only the
 * final sync, and clearing V needs one sync and no ordering for the rest.
 */

struct smmu_writer {
	/* the bits of @ent the SMMU reads, given how @ent is configured */
	void (*used)(const struct ih_smmuv3 *smmu, const u64 *ent, u64 *used);
	u64 valid; /* the V bit in word 0 */
	/* CFGI for the entry's caches, then CMD_SYNC */
	int (*sync)(struct smmu_master *master, u32 sid);
};

static void smmu_ste_used(const struct ih_smmuv3 *smmu, const u64 *ste, u64 *used)
{
	unsigned int cfg = (unsigned int)FIELD_GET(SMMUV3_STE0_CFG, ste[0]);

	used[0] = SMMUV3_STE0_V;
	used[1] = used[2] = used[3] = 0;
	if (!(ste[0] & SMMUV3_STE0_V))
		return;
	used[0] |= SMMUV3_STE0_CFG;
	switch (cfg) {
	case SMMUV3_STE_CFG_BYPASS:
		used[1] = SMMUV3_STE1_SHCFG | SMMUV3_STE1_PRIVCFG | SMMUV3_STE1_INSTCFG;
		break;
	case SMMUV3_STE_CFG_S1:
		used[0] |= SMMUV3_STE0_S1FMT | SMMUV3_STE0_S1CTXPTR | SMMUV3_STE0_S1CDMAX;
		used[1] = SMMUV3_STE1_S1DSS | SMMUV3_STE1_S1CIR | SMMUV3_STE1_S1COR |
			  SMMUV3_STE1_S1CSH | SMMUV3_STE1_S1STALLD | SMMUV3_STE1_STRW |
			  SMMUV3_STE1_PRIVCFG | SMMUV3_STE1_INSTCFG;
		/* With stage 2 implemented, S2VMID tags stage-1 TLB entries (5.2). */
		if (smmu->stage2)
			used[2] = SMMUV3_STE2_S2VMID;
		break;
	default: /* abort, and configurations this driver never writes */
		break;
	}
}

static void smmu_cd_used(const struct ih_smmuv3 *smmu, const u64 *cd, u64 *used)
{
	used[0] = SMMUV3_CD0_V;
	used[1] = used[2] = used[3] = 0;
	if (!(cd[0] & SMMUV3_CD0_V))
		return;
	used[0] = ~0ULL;
	used[1] = SMMUV3_CD1_TTB0;
	used[3] = ~0ULL; /* MAIR */
	/* TTB1 (word 2) only when EPD1 is clear; this driver always sets EPD1. */
	if (!(cd[0] & SMMUV3_CD0_EPD1))
		used[2] = ~0ULL;
}

static int smmu_ste_sync(struct smmu_master *master, u32 sid)
{
	u64 cmd[1][2];

	smmu_cmd_cfgi_ste(cmd[0], sid);
	return smmu_cmdq_submit(master->smmu, cmd, 1, true);
}

static int smmu_cd_sync(struct smmu_master *master, u32 sid)
{
	u64 cmds[8][2];
	unsigned int n = 0;
	int ret;

	/* The CD table is shared by every StreamID of the master: CFGI_CD through each. */
	for (unsigned int i = 0; i < master->num_sids; i++) {
		smmu_cmd_cfgi_cd(cmds[n++], master->sids[i], 0);
		if (n == ARRAY_SIZE(cmds) || i + 1 == master->num_sids) {
			ret = smmu_cmdq_submit(master->smmu, cmds, n, i + 1 == master->num_sids);
			if (ret)
				return ret;
			n = 0;
		}
	}
	return 0;
}

static const struct smmu_writer smmu_ste_writer = {
    .used = smmu_ste_used,
    .valid = SMMUV3_STE0_V,
    .sync = smmu_ste_sync,
};

static const struct smmu_writer smmu_cd_writer = {
    .used = smmu_cd_used,
    .valid = SMMUV3_CD0_V,
    .sync = smmu_cd_sync,
};

/* Store the words of @want that differ from @cur (word 0 last); sync when any did. */
static int smmu_entry_set(const struct smmu_writer *wr, struct smmu_master *master, u32 sid,
			  ih_pa_t pa, u64 *cur, const u64 *want)
{
	bool changed = false;

	for (int i = 3; i >= 0; i--) {
		if (cur[i] == want[i])
			continue;
		ih_pm_store64(master->smmu->w, pa + 8 * (unsigned int)i, want[i]);
		cur[i] = want[i];
		changed = true;
	}
	return changed ? wr->sync(master, sid) : 0;
}

static int smmu_write_entry(const struct smmu_writer *wr, struct smmu_master *master, u32 sid,
			    ih_pa_t pa, const u64 *target)
{
	struct ih_smmuv3 *smmu = master->smmu;
	u64 cur[4], cu[4], tu[4], step[4];
	unsigned int ncrit = 0, crit = 0;
	int ret;

	for (unsigned int i = 0; i < 4; i++)
		ih_pm_load64(smmu->w, pa + 8 * i, &cur[i]);
	if (!(cur[0] & wr->valid)) {
		/* Not cached anywhere: fill it, publish word 0 last, one sync. */
		return smmu_entry_set(wr, master, sid, pa, cur, target);
	}
	if (!(target[0] & wr->valid)) {
		u64 off[4] = {target[0], cur[1], cur[2], cur[3]};

		ret = smmu_entry_set(wr, master, sid, pa, cur, off);
		if (ret)
			return ret;
		for (unsigned int i = 1; i < 4; i++)
			ih_pm_store64(smmu->w, pa + 8 * i, target[i]);
		return 0;
	}
	wr->used(smmu, cur, cu);
	wr->used(smmu, target, tu);
	for (unsigned int i = 0; i < 4; i++) {
		step[i] = (cur[i] & cu[i]) | (target[i] & ~cu[i]);
		if ((step[i] ^ target[i]) & tu[i]) {
			ncrit++;
			crit = i;
		}
	}
	if (ncrit <= 1) {
		ret = smmu_entry_set(wr, master, sid, pa, cur, step); /* step 1 */
		if (!ret && ncrit) {
			u64 flip[4] = {cur[0], cur[1], cur[2], cur[3]};

			flip[crit] = target[crit]; /* step 2: one 64-bit store */
			ret = smmu_entry_set(wr, master, sid, pa, cur, flip);
		}
		if (!ret)
			ret = smmu_entry_set(wr, master, sid, pa, cur, target); /* clean up */
		return ret;
	}
	/* Step 3: break the entry. */
	{
		u64 off[4] = {cur[0] & ~wr->valid, cur[1], cur[2], cur[3]};
		u64 all_but_v[4] = {cur[0] & ~wr->valid, target[1], target[2], target[3]};

		ret = smmu_entry_set(wr, master, sid, pa, cur, off);
		if (ret)
			return ret;
		for (unsigned int i = 1; i < 4; i++)
			ih_pm_store64(smmu->w, pa + 8 * i, all_but_v[i]);
		cur[1] = target[1];
		cur[2] = target[2];
		cur[3] = target[3];
		return smmu_entry_set(wr, master, sid, pa, cur, target);
	}
}

/* ---- Stream table (5.1, 5.2; SMMU_STRTAB_BASE_CFG) ---- */

void smmu_make_default_ste(const struct ih_smmuv3 *smmu, u64 ste[4])
{
	ste[1] = ste[2] = ste[3] = 0;
	if (smmu->cfg.bypass_unattached) {
		ste[0] = SMMUV3_STE0_V | FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_BYPASS);
		ste[1] = FIELD_PREP(SMMUV3_STE1_SHCFG, SMMUV3_SHCFG_INCOMING);
	} else {
		/* A valid abort STE terminates traffic silently, unlike an invalid one. */
		ste[0] = SMMUV3_STE0_V | FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_ABORT);
	}
}

static void smmu_fill_default_stes(struct ih_smmuv3 *smmu, ih_pa_t pa, size_t count)
{
	u64 ste[4];

	smmu_make_default_ste(smmu, ste);
	for (size_t i = 0; i < count; i++)
		for (unsigned int j = 0; j < 4; j++)
			ih_pm_store64(smmu->w, pa + i * 64 + 8 * j, ste[j]);
}

int smmu_strtab_init(struct ih_smmuv3 *smmu)
{
	bool hw_2lvl = FIELD_GET(SMMUV3_IDR0_ST_LEVEL, smmu->idr[0]) == SMMUV3_ST_LEVEL_2LVL;

	smmu->strtab_2lvl =
	    hw_2lvl && !smmu->cfg.force_linear && smmu->sid_bits > SMMU_STRTAB_SPLIT;
	if (smmu->strtab_2lvl) {
		unsigned int l1_bits = ih_min(smmu->sid_bits - SMMU_STRTAB_SPLIT,
					      (unsigned int)SMMU_STRTAB_L1_MAX_BITS);

		smmu->sid_bits = l1_bits + SMMU_STRTAB_SPLIT;
		smmu->num_l1 = 1u << l1_bits;
		smmu->strtab_bytes = ih_max((size_t)smmu->num_l1 * 8, (size_t)64);
		smmu->l2 = ih_alloc_array(smmu->w, smmu->num_l1, sizeof(*smmu->l2),
					  "smmuv3:strtab-l2-array");
		if (!smmu->l2)
			return -ENOMEM;
		for (unsigned int i = 0; i < smmu->num_l1; i++)
			smmu->l2[i] = IH_PA_INVALID;
	} else {
		smmu->sid_bits = ih_min(smmu->sid_bits, (unsigned int)SMMU_LINEAR_MAX_SID_BITS);
		smmu->strtab_bytes = (size_t)64 << smmu->sid_bits;
	}
	/* The table base must be aligned to the table's size (6.3.23). */
	smmu->strtab =
	    ih_pm_alloc(smmu->w, smmu->strtab_bytes,
			ih_max(smmu->strtab_bytes, (size_t)IH_PAGE_SIZE), "smmuv3:strtab");
	if (smmu->strtab == IH_PA_INVALID) {
		ih_free(smmu->w, smmu->l2);
		smmu->l2 = NULL;
		return -ENOMEM;
	}
	/* L1 descriptors start zeroed: Span 0 means "no level-2 table" (5.1). */
	if (!smmu->strtab_2lvl)
		smmu_fill_default_stes(smmu, smmu->strtab, (size_t)1 << smmu->sid_bits);
	return 0;
}

void smmu_strtab_free(struct ih_smmuv3 *smmu)
{
	const size_t l2_bytes = (size_t)64 << SMMU_STRTAB_SPLIT;

	for (unsigned int i = 0; smmu->l2 && i < smmu->num_l1; i++)
		if (smmu->l2[i] != IH_PA_INVALID)
			ih_pm_free(smmu->w, smmu->l2[i], l2_bytes);
	ih_free(smmu->w, smmu->l2);
	smmu->l2 = NULL;
	if (smmu->strtab != IH_PA_INVALID)
		ih_pm_free(smmu->w, smmu->strtab, smmu->strtab_bytes);
	smmu->strtab = IH_PA_INVALID;
}

int smmu_strtab_ensure_l2(struct ih_smmuv3 *smmu, u32 sid)
{
	const size_t l2_bytes = (size_t)64 << SMMU_STRTAB_SPLIT;
	unsigned int idx = sid >> SMMU_STRTAB_SPLIT;
	ih_pa_t l2;

	ih_lockdep_assert_held(&smmu->cfg_lock);
	if (!smmu->strtab_2lvl || smmu->l2[idx] != IH_PA_INVALID)
		return 0;
	/* A level-2 table is aligned to its size: 64 << (Span - 1) bytes (5.1). */
	l2 = ih_pm_alloc(smmu->w, l2_bytes, l2_bytes, "smmuv3:strtab-l2");
	if (l2 == IH_PA_INVALID)
		return -ENOMEM;
	smmu_fill_default_stes(smmu, l2, (size_t)1 << SMMU_STRTAB_SPLIT);
	/* Release store: the SMMU sees the L1 descriptor only after the STEs behind it. */
	ih_pm_store64(smmu->w, smmu->strtab + (u64)idx * 8,
		      (l2 & SMMUV3_L1STD_L2PTR) |
			  FIELD_PREP(SMMUV3_L1STD_SPAN, SMMU_STRTAB_SPLIT + 1));
	smmu->l2[idx] = l2;
	return 0;
}

ih_pa_t smmu_ste_pa(struct ih_smmuv3 *smmu, u32 sid)
{
	if ((u64)sid >> smmu->sid_bits)
		return IH_PA_INVALID;
	if (!smmu->strtab_2lvl)
		return smmu->strtab + (u64)sid * 64;
	if (smmu->l2[sid >> SMMU_STRTAB_SPLIT] == IH_PA_INVALID)
		return IH_PA_INVALID;
	return smmu->l2[sid >> SMMU_STRTAB_SPLIT] +
	       (u64)(sid & ((1u << SMMU_STRTAB_SPLIT) - 1)) * 64;
}

int ih_smmuv3_read_ste(struct ih_smmuv3 *smmu, u32 sid, u64 ste[4])
{
	ih_pa_t pa;
	int ret = 0;

	if ((u64)sid >> smmu->sid_bits)
		return -ERANGE;
	ih_mutex_lock(&smmu->cfg_lock);
	pa = smmu_ste_pa(smmu, sid);
	if (pa == IH_PA_INVALID)
		ret = -ENOENT;
	for (unsigned int i = 0; !ret && i < 4; i++)
		ih_pm_load64(smmu->w, pa + 8 * i, &ste[i]);
	ih_mutex_unlock(&smmu->cfg_lock);
	return ret;
}

/* ---- Building entries for a domain ---- */

static void smmu_make_cd(const struct smmu_domain *d, u64 cd[4])
{
	const struct ih_io_pgtable_cfg *c = &d->pgt_cfg;

	/*
	 * 5.4: AArch64 tables from TTB0 only (EPD1), faults recorded (R) and aborted rather
	 * than stalled (A), ASID not shared with CPU broadcast invalidation (ASET).
	 */
	cd[0] = FIELD_PREP(SMMUV3_CD0_T0SZ, c->arm_lpae_s1_cfg.tcr.t0sz) |
		FIELD_PREP(SMMUV3_CD0_TG0, c->arm_lpae_s1_cfg.tcr.tg0) |
		FIELD_PREP(SMMUV3_CD0_IR0, c->arm_lpae_s1_cfg.tcr.irgn0) |
		FIELD_PREP(SMMUV3_CD0_OR0, c->arm_lpae_s1_cfg.tcr.orgn0) |
		FIELD_PREP(SMMUV3_CD0_SH0, c->arm_lpae_s1_cfg.tcr.sh0) | SMMUV3_CD0_EPD1 |
		SMMUV3_CD0_V | FIELD_PREP(SMMUV3_CD0_IPS, c->arm_lpae_s1_cfg.tcr.ips) |
		SMMUV3_CD0_AA64 | SMMUV3_CD0_R | SMMUV3_CD0_A | SMMUV3_CD0_ASET |
		FIELD_PREP(SMMUV3_CD0_ASID, d->asid);
	cd[1] = c->arm_lpae_s1_cfg.ttbr & SMMUV3_CD1_TTB0;
	cd[2] = 0;
	cd[3] = c->arm_lpae_s1_cfg.mair;
}

static void smmu_make_s1_ste(const struct smmu_master *master, u64 ste[4])
{
	const struct ih_smmuv3 *smmu = master->smmu;
	unsigned int cache = smmu->coherent ? SMMUV3_CACHE_WB : SMMUV3_CACHE_NC;

	/* One CD (S1CDMax 0, so S1Fmt and S1DSS are ignored), fetched with table attributes. */
	ste[0] = SMMUV3_STE0_V | FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_S1) |
		 (master->cdtab & SMMUV3_STE0_S1CTXPTR);
	ste[1] = FIELD_PREP(SMMUV3_STE1_S1CIR, cache) | FIELD_PREP(SMMUV3_STE1_S1COR, cache) |
		 FIELD_PREP(SMMUV3_STE1_S1CSH, SMMUV3_SH_ISH);
	ste[2] = 0; /* S2VMID 0 */
	ste[3] = 0;
}

static void smmu_make_ste(const struct smmu_master *master, const struct smmu_domain *d, u64 ste[4])
{
	switch (d ? d->kind : SMMU_DOMAIN_BLOCKED) {
	case SMMU_DOMAIN_S1:
		smmu_make_s1_ste(master, ste);
		return;
	case SMMU_DOMAIN_BYPASS:
		ste[0] = SMMUV3_STE0_V | FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_BYPASS);
		ste[1] = FIELD_PREP(SMMUV3_STE1_SHCFG, SMMUV3_SHCFG_INCOMING);
		ste[2] = ste[3] = 0;
		return;
	case SMMU_DOMAIN_BLOCKED:
		if (d) {
			ste[0] = SMMUV3_STE0_V | FIELD_PREP(SMMUV3_STE0_CFG, SMMUV3_STE_CFG_ABORT);
			ste[1] = ste[2] = ste[3] = 0;
			return;
		}
		/* No domain: the unattached default. */
		smmu_make_default_ste(master->smmu, ste);
		return;
	}
}

void smmu_master_clear_cd(struct smmu_master *master)
{
	static const u64 zero[4];

	ih_lockdep_assert_held(&master->smmu->cfg_lock);
	if (master->cdtab != IH_PA_INVALID)
		smmu_write_entry(&smmu_cd_writer, master, 0, master->cdtab, zero);
}

static void smmu_domain_unlink(struct smmu_master *master)
{
	struct smmu_domain *old = master->domain;

	if (!old)
		return;
	for (struct smmu_master **pp = &old->masters; *pp; pp = &(*pp)->domain_next) {
		if (*pp == master) {
			*pp = master->domain_next;
			break;
		}
	}
	master->domain_next = NULL;
	master->domain = NULL;
}

/*
 * Point every StreamID of @master at @domain (NULL: the unattached default). For a
 * stage-1 domain the CD is written (and synced) before the STEs that reference it; when
 * leaving stage 1 the STEs stop referencing the CD before it is cleared. A paging domain
 * left with no master has its ASID invalidated, so nothing it cached outlives its last
 * user's move.
 */
int smmu_master_install(struct smmu_master *master, struct smmu_domain *domain)
{
	struct ih_smmuv3 *smmu = master->smmu;
	struct smmu_domain *old = master->domain;
	u64 ent[4];
	int ret = 0;

	ih_lockdep_assert_held(&smmu->cfg_lock);
	if (domain && domain->kind == SMMU_DOMAIN_S1) {
		if (master->cdtab == IH_PA_INVALID) {
			master->cdtab = ih_pm_alloc(smmu->w, 64, IH_PAGE_SIZE, "smmuv3:cdtab");
			if (master->cdtab == IH_PA_INVALID)
				return -ENOMEM;
		}
		smmu_make_cd(domain, ent);
		ret = smmu_write_entry(&smmu_cd_writer, master, 0, master->cdtab, ent);
		if (ret)
			return ret;
	}
	for (unsigned int i = 0; i < master->num_sids && !ret; i++) {
		ih_pa_t pa = smmu_ste_pa(smmu, master->sids[i]);

		if (IH_WARN_ON(smmu->w, pa == IH_PA_INVALID, "smmuv3: sid 0x%x has no STE",
			       master->sids[i])) {
			ret = -EINVAL;
			break;
		}
		smmu_make_ste(master, domain, ent);
		ret = smmu_write_entry(&smmu_ste_writer, master, master->sids[i], pa, ent);
	}
	/* Detaching (domain NULL) always completes its bookkeeping: the master may go next. */
	if (ret && domain)
		return ret;
	if (!domain || domain->kind != SMMU_DOMAIN_S1)
		smmu_master_clear_cd(master);
	if (old != domain) {
		smmu_domain_unlink(master);
		if (domain) {
			master->domain_next = domain->masters;
			domain->masters = master;
			master->domain = domain;
		}
		if (old && old->kind == SMMU_DOMAIN_S1 && !old->masters &&
		    !smmu->cfg.test_forget_tlbi) {
			u64 cmd[1][2];

			smmu_cmd_tlbi_asid(cmd[0], old->asid);
			if (smmu_cmdq_submit(smmu, cmd, 1, true) && !ret)
				ret = -EIO;
		}
	}
	return ret;
}
