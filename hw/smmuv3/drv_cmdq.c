// SPDX-License-Identifier: MIT
/* SMMUv3 driver: command submission and errors, event queue draining, GERROR handling. */
#include <inttypes.h>
#include <sched.h>

#define IH_LOG_PREFIX "smmuv3: "
#include <ih/diag.h>
#include <ih/mmio.h>
#include <ih/world.h>

#include "drv_priv.h"

/*
 * Lock order: cmdq_lock is taken after cfg_lock and after io-pgtable table locks (the
 * flush ops); evtq_lock is a leaf. See drv_priv.h for the command-queue synchronisation
 * table.
 */

u32 smmu_readl(struct ih_smmuv3 *smmu, u64 off)
{
	return ih_readl(smmu->r, off);
}

void smmu_writel(struct ih_smmuv3 *smmu, u32 val, u64 off)
{
	ih_writel(smmu->r, val, off);
}

/*
 * One more round of a bounded poll? Sequential worlds act on the doorbell itself, so a
 * handful of re-reads is all a poll can need there; concurrent ones yield to the hardware
 * thread between reads.
 */
bool smmu_poll_continue(struct ih_smmuv3 *smmu, unsigned long *iter)
{
	unsigned long limit = smmu->cfg.poll_limit;

	if (ih_world_mode(smmu->w) == IH_EXEC_SEQUENTIAL)
		limit = ih_min(limit, 1000UL);
	if (++*iter > limit) {
		smmu_stat_add(&smmu->stats.timeouts, 1);
		return false;
	}
	if (ih_world_mode(smmu->w) == IH_EXEC_CONCURRENT)
		sched_yield();
	return true;
}

/* ---- Queue arithmetic (IHI 0070, 3.5.1): LOG2SIZE index bits plus a wrap bit ---- */

static u32 q_mask(unsigned int log2)
{
	return (2u << log2) - 1;
}

static u32 q_idx(u32 v, unsigned int log2)
{
	return v & ((1u << log2) - 1);
}

static bool q_full(u32 prod, u32 cons, unsigned int log2)
{
	return ((prod ^ cons) & q_mask(log2)) == (1u << log2);
}

static bool q_empty(u32 prod, u32 cons, unsigned int log2)
{
	return ((prod ^ cons) & q_mask(log2)) == 0;
}

static u32 q_inc(u32 v, unsigned int log2)
{
	return (v + 1) & q_mask(log2);
}

/* ---- Command builders (IHI 0070, 4.3 CFGI_*, 4.4 TLBI_*) ---- */

void smmu_cmd_cfgi_ste(u64 cmd[2], u32 sid)
{
	cmd[0] = FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_CFGI_STE) | FIELD_PREP(SMMUV3_CMD0_SID, sid);
	cmd[1] = SMMUV3_CMD1_LEAF; /* the STE only: L1 descriptors never change once valid */
}

void smmu_cmd_cfgi_cd(u64 cmd[2], u32 sid, u32 ssid)
{
	cmd[0] = FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_CFGI_CD) | FIELD_PREP(SMMUV3_CMD0_SID, sid) |
		 FIELD_PREP(SMMUV3_CMD0_SSID, ssid);
	cmd[1] = SMMUV3_CMD1_LEAF;
}

void smmu_cmd_cfgi_all(u64 cmd[2])
{
	cmd[0] = FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_CFGI_STE_RANGE);
	cmd[1] = FIELD_PREP(SMMUV3_CMD1_RANGE, SMMUV3_CFGI_ALL_RANGE);
}

void smmu_cmd_tlbi_asid(u64 cmd[2], u16 asid)
{
	/* VMID 0: stage-1 STEs of this driver carry S2VMID 0 (5.2, S2VMID). */
	cmd[0] =
	    FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_TLBI_NH_ASID) | FIELD_PREP(SMMUV3_CMD0_ASID, asid);
	cmd[1] = 0;
}

void smmu_cmd_tlbi_nsnh_all(u64 cmd[2])
{
	cmd[0] = FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_TLBI_NSNH_ALL);
	cmd[1] = 0;
}

static void smmu_cmd_sync(struct ih_smmuv3 *smmu, u64 cmd[2])
{
	cmd[0] = FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_CMD_SYNC);
	cmd[1] = 0;
	if (smmu->msi_sync) {
		/* 4.7.3: SIG_IRQ with MSIs implemented writes MSIData to MSIAddress. */
		cmd[0] |= FIELD_PREP(SMMUV3_CMD0_CS, SMMUV3_SYNC_CS_IRQ) |
			  FIELD_PREP(SMMUV3_CMD0_MSH, SMMUV3_SH_ISH) |
			  FIELD_PREP(SMMUV3_CMD0_MSIATTR, SMMUV3_MSIATTR_OIWB) |
			  FIELD_PREP(SMMUV3_CMD0_MSIDATA, smmu->sync_seq);
		cmd[1] = smmu->sync_msi & SMMUV3_CMD1_MSIADDR;
	}
}

static const char *smmu_cerror_name(unsigned int err)
{
	switch (err) {
	case SMMUV3_CERROR_ILL:
		return "CERROR_ILL";
	case SMMUV3_CERROR_ABT:
		return "CERROR_ABT";
	case SMMUV3_CERROR_ATC_INV_SYNC:
		return "CERROR_ATC_INV_SYNC";
	default:
		return "CERROR_UNKNOWN";
	}
}

/*
 * The queue stopped at a failing command (7.1): report it, make it harmless and restart
 * the queue by acknowledging GERROR.CMDQ_ERR. An illegal or aborted command is replaced
 * by a CMD_SYNC, which completes whatever came before it; an ATC-invalidation timeout
 * leaves CONS on its CMD_SYNC, which simply runs again.
 */
static void smmu_cmdq_skip_err(struct ih_smmuv3 *smmu, u32 gerror, u32 gerrorn)
{
	u32 cons = smmu_readl(smmu, SMMUV3_CMDQ_CONS);
	unsigned int err = (unsigned int)FIELD_GET(SMMUV3_CMDQ_CONS_ERR, cons);
	ih_pa_t at = smmu->cmdq + (u64)q_idx(cons, smmu->cmdq_log2) * 16;
	u64 bad[2] = {0, 0};

	ih_lockdep_assert_held(&smmu->cmdq_lock);
	ih_pm_load64(smmu->w, at, &bad[0]);
	ih_pm_load64(smmu->w, at + 8, &bad[1]);
	ih_log(smmu->w, IH_LOG_GUEST_ERROR,
	       "%s: command 0x%02x at cmdq index %u failed: %s (0x%016" PRIx64 " 0x%016" PRIx64 ")",
	       smmu->name, (unsigned int)FIELD_GET(SMMUV3_CMD0_OP, bad[0]),
	       q_idx(cons, smmu->cmdq_log2), smmu_cerror_name(err), bad[0], bad[1]);
	smmu_stat_add(&smmu->stats.cmd_errors, 1);
	smmu_stat_add(&smmu->stats.gerrors, 1);
	__atomic_store_n(&smmu->stats.last_cerror, err, __ATOMIC_RELAXED);
	__atomic_store_n(&smmu->stats.last_bad_cmd[0], bad[0], __ATOMIC_RELAXED);
	__atomic_store_n(&smmu->stats.last_bad_cmd[1], bad[1], __ATOMIC_RELAXED);
	if (err != SMMUV3_CERROR_ATC_INV_SYNC) {
		u64 sync[2] = {FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_CMD_SYNC), 0};

		ih_pm_store64(smmu->w, at + 8, sync[1]);
		ih_pm_store64(smmu->w, at, sync[0]);
	}
	/* GERRORN[x] = GERROR[x] acknowledges the error and restarts the queue (6.3.19). */
	smmu_writel(smmu, (gerrorn & ~SMMUV3_GERROR_CMDQ_ERR) | (gerror & SMMUV3_GERROR_CMDQ_ERR),
		    SMMUV3_GERRORN);
}

static const char *const smmu_gerror_names[] = {
    "CMDQ_ERR",		"RES1",
    "EVTQ_ABT_ERR",	"PRIQ_ABT_ERR",
    "MSI_CMDQ_ABT_ERR", "MSI_EVTQ_ABT_ERR",
    "MSI_PRIQ_ABT_ERR", "MSI_GERROR_ABT_ERR",
    "SFM_ERR",
};

/* Handle every active GERROR bit; cmdq_lock held (all GERRORN writes happen under it). */
u32 smmu_handle_gerror_locked(struct ih_smmuv3 *smmu)
{
	u32 gerror = smmu_readl(smmu, SMMUV3_GERROR);
	u32 gerrorn = smmu_readl(smmu, SMMUV3_GERRORN);
	u32 active = (gerror ^ gerrorn) & SMMUV3_GERROR_ALL;
	u32 others = active & ~SMMUV3_GERROR_CMDQ_ERR;

	ih_lockdep_assert_held(&smmu->cmdq_lock);
	__atomic_store_n(&smmu->gerror_pending, false, __ATOMIC_RELAXED);
	for (unsigned int bit = 1; bit < ARRAY_SIZE(smmu_gerror_names); bit++) {
		if (!(others & BIT(bit)))
			continue;
		ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: global error %s", smmu->name,
		       smmu_gerror_names[bit]);
		smmu_stat_add(&smmu->stats.gerrors, 1);
	}
	if (others)
		smmu_writel(smmu, gerrorn ^ others, SMMUV3_GERRORN);
	if (active & SMMUV3_GERROR_CMDQ_ERR)
		smmu_cmdq_skip_err(smmu, gerror, gerrorn ^ others);
	return active;
}

/* A command error stopped the queue? Skip it. Return: true when one was handled. */
static bool smmu_cmdq_check_err(struct ih_smmuv3 *smmu)
{
	u32 gerror = smmu_readl(smmu, SMMUV3_GERROR);
	u32 gerrorn = smmu_readl(smmu, SMMUV3_GERRORN);

	if (!((gerror ^ gerrorn) & SMMUV3_GERROR_CMDQ_ERR))
		return false;
	smmu_cmdq_skip_err(smmu, gerror, gerrorn);
	return true;
}

static u32 smmu_read_cons(struct ih_smmuv3 *smmu)
{
	return smmu_readl(smmu, SMMUV3_CMDQ_CONS) & q_mask(smmu->cmdq_log2);
}

/* Make room for one command: publish what is queued and wait for CONS to move. */
static int smmu_cmdq_wait_space(struct ih_smmuv3 *smmu, bool *err)
{
	unsigned long iter = 0;
	bool rung = false;

	while (q_full(smmu->cmdq_prod, smmu->cmdq_cons, smmu->cmdq_log2)) {
		if (!rung) {
			smmu_writel(smmu, smmu->cmdq_prod, SMMUV3_CMDQ_PROD);
			rung = true;
		}
		smmu->cmdq_cons = smmu_read_cons(smmu);
		if (!q_full(smmu->cmdq_prod, smmu->cmdq_cons, smmu->cmdq_log2))
			break;
		if (smmu_cmdq_check_err(smmu))
			*err = true;
		if (!smmu_poll_continue(smmu, &iter)) {
			ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: command queue stays full",
			       smmu->name);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

/* Wait until the CMD_SYNC just posted has completed. */
static int smmu_cmdq_wait_sync(struct ih_smmuv3 *smmu, u32 seq, bool *err)
{
	unsigned long iter = 0;

	for (;;) {
		if (smmu->msi_sync) {
			u32 v = 0;

			/* Acquire: the hardware's MSI store is ordered after the work it covers. */
			ih_pm_load32(smmu->w, smmu->sync_msi, &v);
			if (v == seq)
				return 0;
		} else {
			/* Nobody else posts while we hold the lock: empty means consumed. */
			smmu->cmdq_cons = smmu_read_cons(smmu);
			if (q_empty(smmu->cmdq_prod, smmu->cmdq_cons, smmu->cmdq_log2))
				return 0;
		}
		if (smmu_cmdq_check_err(smmu))
			*err = true;
		if (!smmu_poll_continue(smmu, &iter)) {
			ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: CMD_SYNC timed out (prod 0x%x)",
			       smmu->name, smmu->cmdq_prod);
			return -ETIMEDOUT;
		}
	}
}

/* Counters of what the driver queued; cmdq_lock held (their only writer). */
static void smmu_count_cmd(struct ih_smmuv3 *smmu, u64 c0)
{
	unsigned int op = (unsigned int)FIELD_GET(SMMUV3_CMD0_OP, c0);

	smmu_stat_add_locked(&smmu->stats.cmds, 1);
	if (op == SMMUV3_OP_CMD_SYNC)
		smmu_stat_add_locked(&smmu->stats.syncs, 1);
	else if (op >= SMMUV3_OP_CFGI_STE && op <= SMMUV3_OP_CFGI_CD_ALL)
		smmu_stat_add_locked(&smmu->stats.cfgi, 1);
	else if (op >= SMMUV3_OP_TLBI_FIRST && op <= SMMUV3_OP_TLBI_LAST)
		smmu_stat_add_locked(&smmu->stats.tlbi, 1);
	if (op == SMMUV3_OP_TLBI_NH_ASID)
		smmu_stat_add_locked(&smmu->stats.tlbi_asid, 1);
	else if (op == SMMUV3_OP_TLBI_NH_VA)
		smmu_stat_add_locked(&smmu->stats.tlbi_va, 1);
}

static void smmu_cmdq_put(struct ih_smmuv3 *smmu, const u64 cmd[2])
{
	ih_pa_t at = smmu->cmdq + (u64)q_idx(smmu->cmdq_prod, smmu->cmdq_log2) * 16;
	/* One check for the whole 16-byte slot: the queue was allocated by the driver. */
	u64 *slot = ih_pm_va(smmu->w, at, 16);

	IH_BUG_ON(!slot, "%s: cmdq slot 0x%llx outside simulated memory", smmu->name,
		  (unsigned long long)at);
	/* Release stores; the CMDQ_PROD write that follows publishes them to the SMMU. */
	__atomic_store_n(&slot[0], cmd[0], __ATOMIC_RELEASE);
	__atomic_store_n(&slot[1], cmd[1], __ATOMIC_RELEASE);
	smmu->cmdq_prod = q_inc(smmu->cmdq_prod, smmu->cmdq_log2);
	smmu_count_cmd(smmu, cmd[0]);
}

/*
 * The one submission path: write @n commands (and a CMD_SYNC when @sync), waiting for
 * room when the queue is full, ring CMDQ_PROD, and wait for the sync by polling CONS or
 * for its MSI. Command errors met on the way are reported, skipped and acknowledged.
 */
int smmu_cmdq_submit(struct ih_smmuv3 *smmu, const u64 (*cmds)[2], unsigned int n, bool sync)
{
	bool err = false;
	u32 seq = 0;
	int ret = 0;

	ih_mutex_lock(&smmu->cmdq_lock);
	if (__atomic_load_n(&smmu->gerror_pending, __ATOMIC_RELAXED))
		smmu_handle_gerror_locked(smmu);
	for (unsigned int i = 0; i < n + (sync ? 1 : 0); i++) {
		u64 cmd[2];

		ret = smmu_cmdq_wait_space(smmu, &err);
		if (ret)
			goto out_unlock;
		if (i < n) {
			cmd[0] = cmds[i][0];
			cmd[1] = cmds[i][1];
		} else {
			seq = ++smmu->sync_seq;
			smmu_cmd_sync(smmu, cmd);
		}
		smmu_cmdq_put(smmu, cmd);
	}
	smmu_writel(smmu, smmu->cmdq_prod, SMMUV3_CMDQ_PROD);
	if (sync)
		ret = smmu_cmdq_wait_sync(smmu, seq, &err);
out_unlock:
	ih_mutex_unlock(&smmu->cmdq_lock);
	if (!ret && err)
		ret = -EIO;
	return ret;
}

int ih_smmuv3_cmdq_issue(struct ih_smmuv3 *smmu, const u64 (*cmds)[2], unsigned int n, bool sync)
{
	return smmu_cmdq_submit(smmu, cmds, n, sync);
}

u32 ih_smmuv3_handle_gerror(struct ih_smmuv3 *smmu)
{
	u32 active;

	ih_mutex_lock(&smmu->cmdq_lock);
	active = smmu_handle_gerror_locked(smmu);
	ih_mutex_unlock(&smmu->cmdq_lock);
	return active;
}

/* ---- Event queue (7.2 "Event queue", 7.3 "Event records") ---- */

static const char *smmu_event_name(unsigned int id)
{
	switch (id) {
	case SMMUV3_EVT_F_UUT:
		return "F_UUT";
	case SMMUV3_EVT_C_BAD_STREAMID:
		return "C_BAD_STREAMID";
	case SMMUV3_EVT_F_STE_FETCH:
		return "F_STE_FETCH";
	case SMMUV3_EVT_C_BAD_STE:
		return "C_BAD_STE";
	case SMMUV3_EVT_F_BAD_ATS_TREQ:
		return "F_BAD_ATS_TREQ";
	case SMMUV3_EVT_F_STREAM_DISABLED:
		return "F_STREAM_DISABLED";
	case SMMUV3_EVT_F_TRANSL_FORBIDDEN:
		return "F_TRANSL_FORBIDDEN";
	case SMMUV3_EVT_C_BAD_SUBSTREAMID:
		return "C_BAD_SUBSTREAMID";
	case SMMUV3_EVT_F_CD_FETCH:
		return "F_CD_FETCH";
	case SMMUV3_EVT_C_BAD_CD:
		return "C_BAD_CD";
	case SMMUV3_EVT_F_WALK_EABT:
		return "F_WALK_EABT";
	case SMMUV3_EVT_F_TRANSLATION:
		return "F_TRANSLATION";
	case SMMUV3_EVT_F_ADDR_SIZE:
		return "F_ADDR_SIZE";
	case SMMUV3_EVT_F_ACCESS:
		return "F_ACCESS";
	case SMMUV3_EVT_F_PERMISSION:
		return "F_PERMISSION";
	case SMMUV3_EVT_F_TLB_CONFLICT:
		return "F_TLB_CONFLICT";
	case SMMUV3_EVT_F_CFG_CONFLICT:
		return "F_CFG_CONFLICT";
	case SMMUV3_EVT_E_PAGE_REQUEST:
		return "E_PAGE_REQUEST";
	case SMMUV3_EVT_F_VMS_FETCH:
		return "F_VMS_FETCH";
	default:
		return "UNKNOWN";
	}
}

static void smmu_decode_event(const u64 rec[4], struct ih_smmuv3_event *ev)
{
	ev->id = (u8)FIELD_GET(SMMUV3_EVT0_ID, rec[0]);
	ev->name = smmu_event_name(ev->id);
	ev->sid = (u32)FIELD_GET(SMMUV3_EVT0_SID, rec[0]);
	ev->ssv = rec[0] & SMMUV3_EVT0_SSV;
	ev->ssid = ev->ssv ? (u32)FIELD_GET(SMMUV3_EVT0_SSID, rec[0]) : 0;
	ev->addr = rec[2];
	ev->read = rec[1] & SMMUV3_EVT1_RNW;
	ev->stage2 = rec[1] & SMMUV3_EVT1_S2;
	ev->class = (u8)FIELD_GET(SMMUV3_EVT1_CLASS, rec[1]);
	ev->fetch = ev->id == SMMUV3_EVT_F_STE_FETCH || ev->id == SMMUV3_EVT_F_CD_FETCH ||
			    ev->id == SMMUV3_EVT_F_WALK_EABT
			? FIELD_GET(SMMUV3_EVT3_FETCH, rec[3]) << 3
			: FIELD_GET(SMMUV3_EVT3_IPA, rec[3]) << 12;
}

static void smmu_count_event(struct ih_smmuv3 *smmu, unsigned int id)
{
	u64 *ctr = NULL;

	smmu_stat_add(&smmu->stats.events, 1);
	switch (id) {
	case SMMUV3_EVT_F_TRANSLATION:
		ctr = &smmu->stats.evt_translation;
		break;
	case SMMUV3_EVT_F_PERMISSION:
		ctr = &smmu->stats.evt_permission;
		break;
	case SMMUV3_EVT_F_ACCESS:
		ctr = &smmu->stats.evt_access;
		break;
	case SMMUV3_EVT_F_ADDR_SIZE:
		ctr = &smmu->stats.evt_addr_size;
		break;
	case SMMUV3_EVT_C_BAD_STE:
		ctr = &smmu->stats.evt_bad_ste;
		break;
	case SMMUV3_EVT_C_BAD_CD:
		ctr = &smmu->stats.evt_bad_cd;
		break;
	case SMMUV3_EVT_C_BAD_STREAMID:
		ctr = &smmu->stats.evt_bad_streamid;
		break;
	default:
		break;
	}
	if (ctr)
		smmu_stat_add(ctr, 1);
}

static const char *const smmu_class_names[] = {"CD", "TT", "IN", "RES"};

unsigned int ih_smmuv3_drain_events(struct ih_smmuv3 *smmu)
{
	unsigned int log2 = smmu->evtq_log2, n = 0;
	u32 prod;

	pthread_mutex_lock(&smmu->evtq_lock);
	prod = smmu_readl(smmu, SMMUV3_EVTQ_PROD);
	for (;;) {
		u32 cons = smmu->evtq_cons;

		/* 7.4: OVFLG toggles on an overflow; echoing it in OVACKFLG acknowledges it. */
		if ((prod & SMMUV3_EVTQ_PROD_OVFLG) != (cons & SMMUV3_EVTQ_CONS_OVACKFLG)) {
			ih_log(smmu->w, IH_LOG_GUEST_ERROR,
			       "%s: event queue overflowed, events lost", smmu->name);
			smmu_stat_add(&smmu->stats.evtq_overflows, 1);
			smmu->evtq_cons =
			    (cons & ~SMMUV3_EVTQ_CONS_OVACKFLG) | (prod & SMMUV3_EVTQ_PROD_OVFLG);
			continue;
		}
		if (q_empty(prod, cons, log2)) {
			/* Anything recorded while we drained? */
			u32 again = smmu_readl(smmu, SMMUV3_EVTQ_PROD);

			if (again == prod)
				break;
			prod = again;
			continue;
		}
		u64 rec[4] = {0};
		ih_pa_t at = smmu->evtq + (u64)q_idx(cons, log2) * 32;
		struct ih_smmuv3_event ev;

		for (unsigned int i = 0; i < 4; i++)
			ih_pm_load64(smmu->w, at + 8 * i, &rec[i]);
		smmu_decode_event(rec, &ev);
		ih_log(smmu->w, IH_LOG_GUEST_ERROR,
		       "%s: event 0x%02x %s sid 0x%x%s iova 0x%" PRIx64 " %s stage %u class %s",
		       smmu->name, ev.id, ev.name, ev.sid, ev.ssv ? " (ssid valid)" : "", ev.addr,
		       ev.read ? "read" : "write", ev.stage2 ? 2u : 1u, smmu_class_names[ev.class]);
		smmu_count_event(smmu, ev.id);
		smmu->last_event = ev;
		smmu->have_event = true;
		smmu->evtq_cons = (cons & SMMUV3_EVTQ_CONS_OVACKFLG) | q_inc(cons, log2);
		/* Free the slot at once so a long drain never overflows the queue. */
		smmu_writel(smmu, smmu->evtq_cons, SMMUV3_EVTQ_CONS);
		n++;
	}
	smmu_writel(smmu, smmu->evtq_cons, SMMUV3_EVTQ_CONS);
	pthread_mutex_unlock(&smmu->evtq_lock);
	return n;
}

int ih_smmuv3_last_event(struct ih_smmuv3 *smmu, struct ih_smmuv3_event *ev)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&smmu->evtq_lock);
	if (smmu->have_event) {
		*ev = smmu->last_event;
		ret = 0;
	}
	pthread_mutex_unlock(&smmu->evtq_lock);
	return ret;
}

/*
 * Wired interrupts, called by the SMMU with no device lock held, on the thread that raised
 * them: a translating thread for the event queue, possibly a submitter (inside its
 * CMDQ_PROD or GERRORN write) for GERROR. So GERROR is only flagged here; the next
 * submission (or ih_smmuv3_handle_gerror) acts on it under cmdq_lock.
 */
void smmu_irq_handler(void *opaque, enum ih_smmuv3_irq line)
{
	struct ih_smmuv3 *smmu = opaque;

	switch (line) {
	case IH_SMMUV3_IRQ_EVTQ:
		ih_smmuv3_drain_events(smmu);
		break;
	case IH_SMMUV3_IRQ_GERROR:
		smmu_stat_add(&smmu->stats.gerror_irqs, 1);
		__atomic_store_n(&smmu->gerror_pending, true, __ATOMIC_RELAXED);
		break;
	default:
		break;
	}
}
