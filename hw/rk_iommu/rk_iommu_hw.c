// SPDX-License-Identifier: MIT
/* Emulated Rockchip IOMMU: instance life cycle, register banks and commands. */
#include <inttypes.h>
#include <string.h>

#define IH_LOG_PREFIX "rk_iommu: "
#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/mmio.h>
#include <ih/world.h>

#include "rk_iommu_hw_priv.h"

/*
 * Lock order: hw->lock is a leaf. The interrupt callback is called after it is dropped,
 * so a handler may access the registers.
 */

static u32 dte_addr_mask(const struct ih_rk_iommu_hw *hw)
{
	return hw->cfg.version == IH_RK_IOMMU_HW_V2 ? RK_DTE_ADDR_V2_MASK : RK_DTE_ADDR_V1_MASK;
}

/* Power-on state of one bank (also FORCE_RESET). */
static void bank_reset(struct rk_bank *b)
{
	b->dte_addr = 0;
	b->paging = false;
	b->stall = false;
	b->fault = false;
	b->fault_write = false;
	b->fault_addr = 0;
	b->int_raw = 0;
	b->int_mask = 0;
	b->auto_gating = RK_AUTO_GATING_RESET;
	rk_tlb_flush(b);
}

static u32 bank_status(const struct rk_bank *b)
{
	u32 s = 0;

	s = RK_FIELD_DP32(s, STATUS, PAGING_ENABLED, b->paging);
	s = RK_FIELD_DP32(s, STATUS, PAGE_FAULT_ACTIVE, b->fault);
	s = RK_FIELD_DP32(s, STATUS, STALL_ACTIVE, b->stall);
	/* The faulting access is the only one that can be outstanding in the model. */
	s = RK_FIELD_DP32(s, STATUS, IDLE, !b->fault);
	s = RK_FIELD_DP32(s, STATUS, REPLAY_BUFFER_EMPTY, !b->fault);
	s = RK_FIELD_DP32(s, STATUS, PAGE_FAULT_IS_WRITE, b->fault_write);
	s = RK_FIELD_DP32(s, STATUS, STALL_NOT_ACTIVE, !b->stall);
	return s;
}

static const char *const cmd_names[] = {
	[RK_CMD_ENABLE_PAGING] = "ENABLE_PAGING",
	[RK_CMD_DISABLE_PAGING] = "DISABLE_PAGING",
	[RK_CMD_ENABLE_STALL] = "ENABLE_STALL",
	[RK_CMD_DISABLE_STALL] = "DISABLE_STALL",
	[RK_CMD_ZAP_CACHE] = "ZAP_CACHE",
	[RK_CMD_PAGE_FAULT_DONE] = "PAGE_FAULT_DONE",
	[RK_CMD_FORCE_RESET] = "FORCE_RESET",
};

static void cmd_ignored(struct rk_bank *b, u32 cmd, const char *why)
{
	b->st.ignored_cmds++;
	ih_log(b->hw->w, IH_LOG_GUEST_ERROR, "%s bank %u: %s ignored: %s", b->hw->name, b->idx,
	       cmd_names[cmd], why);
}

/* See the command table in rk_iommu_hw.h; each rule is applied here and nowhere else. */
static void bank_command(struct rk_bank *b, u32 cmd)
{
	switch (cmd) {
	case RK_CMD_ENABLE_PAGING:
	case RK_CMD_DISABLE_PAGING:
		/* Only when stalled or idle: a pending fault keeps the unit busy. */
		if (b->fault) {
			cmd_ignored(b, cmd, "page fault active");
			break;
		}
		b->paging = cmd == RK_CMD_ENABLE_PAGING;
		break;
	case RK_CMD_ENABLE_STALL:
		if (!b->paging) {
			cmd_ignored(b, cmd, "paging disabled (stall is implicit)");
			break;
		}
		if (b->fault) {
			cmd_ignored(b, cmd, "page fault active");
			break;
		}
		b->stall = true;
		break;
	case RK_CMD_DISABLE_STALL:
		b->stall = false;
		break;
	case RK_CMD_ZAP_CACHE:
		b->st.zap_cache++;
		rk_tlb_flush(b);
		break;
	case RK_CMD_PAGE_FAULT_DONE:
		if (!b->fault) {
			cmd_ignored(b, cmd, "no page fault active");
			break;
		}
		b->fault = false;
		break;
	case RK_CMD_FORCE_RESET:
		b->st.force_resets++;
		bank_reset(b);
		break;
	default:
		b->st.bad_cmds++;
		ih_log(b->hw->w, IH_LOG_GUEST_ERROR, "%s bank %u: unknown command 0x%" PRIx32,
		       b->hw->name, b->idx, cmd);
		break;
	}
}

static u64 bank_read(void *opaque, u64 off, unsigned int size)
{
	struct rk_bank *b = opaque;
	struct ih_rk_iommu_hw *hw = b->hw;
	u32 val = 0;

	if (size != 4) {
		ih_log(hw->w, IH_LOG_GUEST_ERROR,
		       "%s bank %u: %u-byte read at 0x%" PRIx64 " reads as zero", hw->name, b->idx,
		       size, off);
		return 0;
	}
	ih_mutex_lock(&hw->lock);
	switch (off) {
	case RK_A_DTE_ADDR:
		val = b->dte_addr;
		break;
	case RK_A_STATUS:
		val = bank_status(b);
		break;
	case RK_A_PAGE_FAULT_ADDR:
		val = b->fault_addr;
		break;
	case RK_A_INT_RAWSTAT:
		val = b->int_raw;
		break;
	case RK_A_INT_MASK:
		val = b->int_mask;
		break;
	case RK_A_INT_STATUS:
		val = b->int_raw & b->int_mask;
		break;
	case RK_A_AUTO_GATING:
		val = b->auto_gating;
		break;
	case RK_A_COMMAND:
	case RK_A_ZAP_ONE_LINE:
	case RK_A_INT_CLEAR:
		break; /* write-only */
	default:
		ih_log(hw->w, IH_LOG_UNIMP, "%s bank %u: read of unknown offset 0x%" PRIx64,
		       hw->name, b->idx, off);
		break;
	}
	ih_mutex_unlock(&hw->lock);
	return val;
}

static void bank_write(void *opaque, u64 off, u64 val64, unsigned int size)
{
	struct rk_bank *b = opaque;
	struct ih_rk_iommu_hw *hw = b->hw;
	u32 val = (u32)val64;
	bool line_before, raise;

	if (size != 4) {
		ih_log(hw->w, IH_LOG_GUEST_ERROR,
		       "%s bank %u: %u-byte write at 0x%" PRIx64 " ignored", hw->name, b->idx, size,
		       off);
		return;
	}
	ih_mutex_lock(&hw->lock);
	line_before = rk_bank_irq_line(b);
	switch (off) {
	case RK_A_DTE_ADDR:
		b->dte_addr = val & dte_addr_mask(hw);
		break;
	case RK_A_COMMAND:
		bank_command(b, val);
		break;
	case RK_A_ZAP_ONE_LINE:
		b->st.zap_lines++;
		rk_tlb_zap_line(b, val);
		break;
	case RK_A_INT_CLEAR:
		b->int_raw &= ~val;
		break;
	case RK_A_INT_MASK:
		b->int_mask = val & RK_INT_ALL;
		break;
	case RK_A_AUTO_GATING:
		b->auto_gating = val;
		break;
	case RK_A_STATUS:
	case RK_A_PAGE_FAULT_ADDR:
	case RK_A_INT_RAWSTAT:
	case RK_A_INT_STATUS:
		ih_log(hw->w, IH_LOG_GUEST_ERROR,
		       "%s bank %u: write to read-only offset 0x%" PRIx64 " ignored", hw->name,
		       b->idx, off);
		break;
	default:
		ih_log(hw->w, IH_LOG_UNIMP, "%s bank %u: write of unknown offset 0x%" PRIx64,
		       hw->name, b->idx, off);
		break;
	}
	raise = !line_before && rk_bank_irq_line(b);
	ih_mutex_unlock(&hw->lock);
	if (raise && hw->cfg.irq)
		hw->cfg.irq(hw->cfg.irq_opaque, b->idx);
}

static const struct ih_mmio_ops rk_bank_ops = {
	.read = bank_read,
	.write = bank_write,
};

static int check_config(struct ih_world *w, const struct ih_rk_iommu_hw_config *cfg)
{
	const char *name = cfg->name ? cfg->name : "mmu";

	if (cfg->version != IH_RK_IOMMU_HW_V1 && cfg->version != IH_RK_IOMMU_HW_V2) {
		ih_log(w, IH_LOG_GUEST_ERROR, "%s: unknown version %d", name, (int)cfg->version);
		return -EINVAL;
	}
	if (cfg->nbanks == 0 || cfg->nbanks > IH_RK_IOMMU_MAX_BANKS) {
		ih_log(w, IH_LOG_GUEST_ERROR, "%s: %u banks, want 1..%d", name, cfg->nbanks,
		       IH_RK_IOMMU_MAX_BANKS);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->nbanks; i++) {
		if (!IH_IS_ALIGNED(cfg->bank_base[i], (u64)IH_RK_IOMMU_BANK_SIZE)) {
			ih_log(w, IH_LOG_GUEST_ERROR,
			       "%s: bank %u base 0x%" PRIx64 " not 0x%x aligned", name, i,
			       cfg->bank_base[i], IH_RK_IOMMU_BANK_SIZE);
			return -EINVAL;
		}
	}
	if (cfg->tlb_entries > IH_RK_IOMMU_TLB_MAX) {
		ih_log(w, IH_LOG_GUEST_ERROR, "%s: %u TLB entries, at most %d", name,
		       cfg->tlb_entries, IH_RK_IOMMU_TLB_MAX);
		return -EINVAL;
	}
	if (cfg->tlb_line_entries &&
	    (!IH_IS_POW2(cfg->tlb_line_entries) || cfg->tlb_line_entries > 16 ||
	     cfg->tlb_line_entries >
		 (cfg->tlb_entries ? cfg->tlb_entries : IH_RK_IOMMU_TLB_DEFAULT))) {
		ih_log(w, IH_LOG_GUEST_ERROR, "%s: bad TLB line of %u entries", name,
		       cfg->tlb_line_entries);
		return -EINVAL;
	}
	return 0;
}

int ih_rk_iommu_hw_create(struct ih_world *w, const struct ih_rk_iommu_hw_config *cfg,
			  struct ih_rk_iommu_hw **out)
{
	struct ih_rk_iommu_hw *hw;
	unsigned int i;
	int ret;

	*out = NULL;
	ret = check_config(w, cfg);
	if (ret)
		return ret;
	hw = ih_alloc(w, sizeof(*hw), "rk_iommu_hw:instance");
	if (!hw)
		return -ENOMEM;
	hw->w = w;
	hw->cfg = *cfg;
	hw->name = cfg->name ? cfg->name : "mmu";
	if (!hw->cfg.tlb_entries)
		hw->cfg.tlb_entries = IH_RK_IOMMU_TLB_DEFAULT;
	if (!hw->cfg.tlb_line_entries)
		hw->cfg.tlb_line_entries = ih_min(IH_RK_IOMMU_LINE_DEFAULT, hw->cfg.tlb_entries);
	/* The line size is a power of two, so rounding down gives one that fits. */
	while (!IH_IS_POW2(hw->cfg.tlb_line_entries))
		hw->cfg.tlb_line_entries &= hw->cfg.tlb_line_entries - 1;
	hw->rng = cfg->seed ? cfg->seed : ih_world_seed(w) ^ 0x9e3779b97f4a7c15ULL;
	if (!hw->rng)
		hw->rng = 1;
	ih_mutex_init(&hw->lock);

	for (i = 0; i < cfg->nbanks; i++) {
		struct rk_bank *b = &hw->bank[i];

		b->hw = hw;
		b->idx = i;
		b->tlb = ih_alloc_array(w, hw->cfg.tlb_entries, sizeof(*b->tlb), "rk_iommu_hw:tlb");
		if (!b->tlb) {
			ret = -ENOMEM;
			goto free_banks;
		}
		bank_reset(b);
		b->region = ih_mmio_region_add(w, cfg->bank_base[i], IH_RK_IOMMU_BANK_SIZE,
					       &rk_bank_ops, b, &ret);
		if (!b->region) {
			ih_log(w, IH_LOG_GUEST_ERROR,
			       "%s: bank %u at 0x%" PRIx64 " cannot claim its MMIO window (%d)",
			       hw->name, i, cfg->bank_base[i], ret);
			ih_free(w, b->tlb);
			goto free_banks;
		}
	}
	*out = hw;
	return 0;

free_banks:
	while (i--) {
		ih_mmio_region_del(w, hw->bank[i].region);
		ih_free(w, hw->bank[i].tlb);
	}
	ih_mutex_destroy(&hw->lock);
	ih_free(w, hw);
	return ret;
}

void ih_rk_iommu_hw_destroy(struct ih_rk_iommu_hw *hw)
{
	struct ih_world *w;

	if (!hw)
		return;
	w = hw->w;
	for (unsigned int i = 0; i < hw->cfg.nbanks; i++) {
		ih_mmio_region_del(w, hw->bank[i].region);
		ih_free(w, hw->bank[i].tlb);
	}
	ih_mutex_destroy(&hw->lock);
	ih_free(w, hw);
}

/* Translate on one bank; report whether its interrupt line rose. */
static int translate_one(struct ih_rk_iommu_hw *hw, struct rk_bank *b, u32 iova, bool write,
			 ih_pa_t *pa, bool *raise)
{
	bool before = rk_bank_irq_line(b);
	int ret = rk_bank_translate_locked(b, iova, write, pa);

	*raise = !before && rk_bank_irq_line(b);
	return ret;
}

int ih_rk_iommu_hw_translate_bank(struct ih_rk_iommu_hw *hw, unsigned int bank, u64 iova,
				  bool write, ih_pa_t *pa)
{
	ih_pa_t out = 0;
	bool raise;
	int ret;

	if (bank >= hw->cfg.nbanks)
		return -EINVAL;
	if (iova > UINT32_MAX)
		return -ERANGE;
	ih_mutex_lock(&hw->lock);
	ret = translate_one(hw, &hw->bank[bank], (u32)iova, write, &out, &raise);
	ih_mutex_unlock(&hw->lock);
	if (raise && hw->cfg.irq)
		hw->cfg.irq(hw->cfg.irq_opaque, bank);
	if (!ret)
		*pa = out;
	return ret;
}

int ih_rk_iommu_hw_translate(struct ih_rk_iommu_hw *hw, u64 iova, bool write, ih_pa_t *pa)
{
	unsigned int raised = 0, i;
	ih_pa_t first = 0;
	int ret = 0;

	if (iova > UINT32_MAX)
		return -ERANGE;
	ih_mutex_lock(&hw->lock);
	for (i = 0; i < hw->cfg.nbanks; i++) {
		ih_pa_t out = 0;
		bool raise;

		ret = translate_one(hw, &hw->bank[i], (u32)iova, write, &out, &raise);
		if (raise)
			raised |= 1u << i;
		if (ret)
			break;
		if (i == 0) {
			first = out;
		} else if (out != first) {
			hw->bank_mismatches++;
			ih_log(hw->w, IH_LOG_GUEST_ERROR,
			       "%s: IOVA 0x%08" PRIx64 " is PA 0x%" PRIx64
			       " on bank 0 but 0x%" PRIx64 " on bank %u",
			       hw->name, iova, (u64)first, (u64)out, i);
			ret = -EXDEV;
			break;
		}
	}
	ih_mutex_unlock(&hw->lock);
	for (i = 0; hw->cfg.irq && i < hw->cfg.nbanks; i++) {
		if (raised & (1u << i))
			hw->cfg.irq(hw->cfg.irq_opaque, i);
	}
	if (!ret)
		*pa = first;
	return ret;
}

static void stats_add(struct ih_rk_iommu_hw_stats *d, const struct ih_rk_iommu_hw_stats *s)
{
	d->translations += s->translations;
	d->bypassed += s->bypassed;
	d->tlb_hits += s->tlb_hits;
	d->line_fills += s->line_fills;
	d->page_faults += s->page_faults;
	d->bus_errors += s->bus_errors;
	d->stalled += s->stalled;
	d->zap_cache += s->zap_cache;
	d->zap_lines += s->zap_lines;
	d->force_resets += s->force_resets;
	d->ignored_cmds += s->ignored_cmds;
	d->bad_cmds += s->bad_cmds;
}

int ih_rk_iommu_hw_get_stats(struct ih_rk_iommu_hw *hw, int bank, struct ih_rk_iommu_hw_stats *st)
{
	if (bank != IH_RK_IOMMU_ALL_BANKS && (bank < 0 || (unsigned int)bank >= hw->cfg.nbanks))
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	ih_mutex_lock(&hw->lock);
	if (bank == IH_RK_IOMMU_ALL_BANKS) {
		for (unsigned int i = 0; i < hw->cfg.nbanks; i++)
			stats_add(st, &hw->bank[i].st);
		st->bank_mismatches = hw->bank_mismatches;
	} else {
		*st = hw->bank[bank].st;
	}
	ih_mutex_unlock(&hw->lock);
	return 0;
}

unsigned int ih_rk_iommu_hw_tlb_count(struct ih_rk_iommu_hw *hw, unsigned int bank)
{
	unsigned int n;

	if (bank >= hw->cfg.nbanks)
		return 0;
	ih_mutex_lock(&hw->lock);
	n = hw->bank[bank].tlb_used;
	ih_mutex_unlock(&hw->lock);
	return n;
}

bool ih_rk_iommu_hw_tlb_holds(struct ih_rk_iommu_hw *hw, u64 iova)
{
	bool held = false;

	if (iova > UINT32_MAX)
		return false;
	ih_mutex_lock(&hw->lock);
	/*
	 * A bank with paging off bypasses its TLB, so what it still caches translates nothing
	 * (the driver zaps before paging goes back on): only enabled banks count.
	 */
	for (unsigned int i = 0; i < hw->cfg.nbanks && !held; i++)
		held = hw->bank[i].paging &&
		       rk_tlb_holds_valid_pte(&hw->bank[i], (u32)iova >> RK_IOVA_PTE_SHIFT);
	ih_mutex_unlock(&hw->lock);
	return held;
}

bool ih_rk_iommu_hw_irq_line(struct ih_rk_iommu_hw *hw, unsigned int bank)
{
	bool line;

	if (bank >= hw->cfg.nbanks)
		return false;
	ih_mutex_lock(&hw->lock);
	line = rk_bank_irq_line(&hw->bank[bank]);
	ih_mutex_unlock(&hw->lock);
	return line;
}

unsigned int ih_rk_iommu_hw_nbanks(const struct ih_rk_iommu_hw *hw)
{
	return hw->cfg.nbanks;
}

enum ih_rk_iommu_version ih_rk_iommu_hw_version(const struct ih_rk_iommu_hw *hw)
{
	return hw->cfg.version;
}
