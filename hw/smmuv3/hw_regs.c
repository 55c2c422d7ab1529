// SPDX-License-Identifier: MIT
/* Emulated SMMUv3: lifecycle, the register file, interrupts and the hardware thread. */
#include <inttypes.h>
#include <string.h>

#define IH_LOG_PREFIX "smmuv3-hw: "
#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/mmio.h>
#include <ih/physmem.h>
#include <ih/sched.h>
#include <ih/world.h>

#include "hw_priv.h"

/*
 * Lock order: hw->lock only (see hw_priv.h). Everything that changes device state runs
 * under it; the IRQ handler is called after it is dropped.
 */

static const unsigned int smmu_oas_table[] = {32, 36, 40, 42, 44, 48, 52};

void ih_smmuv3_hw_config_init(struct ih_smmuv3_hw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->stage1 = true;
	cfg->stage2 = true;
	cfg->strtab_2lvl = true;
	cfg->cd_2lvl = true;
	cfg->asid16 = true;
	cfg->vmid16 = true;
	cfg->sid_bits = 16;
	cfg->ssid_bits = 8;
	cfg->oas_bits = 48;
	cfg->gran4k = true;
	cfg->gran64k = true;
	cfg->coherent = true;
	cfg->msi = true;
	cfg->sev = true;
	cfg->range_inv = true;
	cfg->cmdqs_log2 = 8;
	cfg->evtqs_log2 = 8;
	cfg->tlb_entries = 64;
	cfg->tlb_evict = IH_SMMUV3_EVICT_LRU;
	cfg->cfg_cache_entries = 32;
}

unsigned int smmu_ps_bits(unsigned int enc, unsigned int max)
{
	/* PS/IPS/OAS encodings above the implemented size are treated as OAS (IHI 0070, 5.4). */
	unsigned int bits = enc < ARRAY_SIZE(smmu_oas_table) ? smmu_oas_table[enc] : max;

	return ih_min(bits, max);
}

unsigned int smmu_tg_shift(const struct ih_smmuv3_hw *hw, unsigned int tg)
{
	switch (tg) {
	case 0:
		return hw->cfg.gran4k ? 12 : 0;
	case 1:
		return hw->cfg.gran64k ? 16 : 0;
	case 2:
		return hw->cfg.gran16k ? 14 : 0;
	default:
		return 0;
	}
}

u64 smmu_rand(struct ih_smmuv3_hw *hw)
{
	/* xorshift64*: deterministic per world seed, private to this device. */
	u64 x = hw->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	hw->rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Do the MSI write for @line, or queue the wired interrupt. Lock held. */
void smmu_irq_raise(struct ih_smmuv3_hw *hw, enum ih_smmuv3_irq line)
{
	u64 cfg0 = 0;
	u32 data = 0;

	hw->stats.irqs++;
	if (hw->cfg.msi && line == IH_SMMUV3_IRQ_EVTQ) {
		cfg0 = hw->evtq_irq_cfg0;
		data = hw->evtq_irq_cfg1;
	} else if (hw->cfg.msi && line == IH_SMMUV3_IRQ_GERROR) {
		cfg0 = hw->gerror_irq_cfg0;
		data = hw->gerror_irq_cfg1;
	}
	/* An MSI address of zero disables the MSI (IHI 0070, 6.3.20 GERROR_IRQ_CFG0). */
	cfg0 = SMMU_FEX(cfg0, IRQ_CFG0, ADDR) << 2;
	if (!cfg0) {
		hw->irq_pending |= 1u << line;
		return;
	}
	if (ih_pm_store32(hw->w, cfg0, data)) {
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "MSI write to 0x%" PRIx64 " aborted", cfg0);
		/* Toggle directly: an aborted GERROR MSI must not recurse into another. */
		u32 bit = line == IH_SMMUV3_IRQ_EVTQ ? BIT(R_GERROR_MSI_EVTQ_ABT_ERR_SHIFT)
						     : BIT(R_GERROR_MSI_GERROR_ABT_ERR_SHIFT);
		if (!((hw->gerror ^ hw->gerrorn) & bit))
			hw->gerror ^= bit;
	}
}

void smmu_gerror_raise(struct ih_smmuv3_hw *hw, u32 bit)
{
	/* GERROR bits are active while they differ from GERRORN (IHI 0070, 6.3.17). */
	if ((hw->gerror ^ hw->gerrorn) & bit)
		return;
	hw->gerror ^= bit;
	if (SMMU_FEX(hw->irq_ctrl, IRQ_CTRL, GERROR_IRQEN))
		smmu_irq_raise(hw, IH_SMMUV3_IRQ_GERROR);
}

/* Drop the lock, then call the IRQ handler for every line raised meanwhile. */
void smmu_unlock_deliver(struct ih_smmuv3_hw *hw)
{
	u32 pending = hw->irq_pending;
	ih_smmuv3_irq_fn fn = hw->irq_fn;
	void *opaque = hw->irq_opaque;

	hw->irq_pending = 0;
	pthread_mutex_unlock(&hw->lock);
	if (!fn)
		return;
	/* Raised lines only, lowest first: no pass over 32 lines per register access. */
	while (pending) {
		unsigned int line = (unsigned int)__builtin_ctz(pending);

		pending &= pending - 1;
		fn(opaque, (enum ih_smmuv3_irq)line);
	}
}

static void *smmu_hw_thread(void *arg)
{
	struct ih_smmuv3_hw *hw = arg;

	pthread_mutex_lock(&hw->lock);
	while (!hw->stop) {
		if (smmu_cmdq_step(hw)) {
			/* One command per lock hold: translations and MMIO interleave with us. */
			smmu_unlock_deliver(hw);
			ih_sched_point(hw->w, "smmuv3-hw:cmd-consumed");
			pthread_mutex_lock(&hw->lock);
			continue;
		}
		pthread_cond_wait(&hw->kick, &hw->lock);
	}
	pthread_mutex_unlock(&hw->lock);
	return NULL;
}

/* New work for the command queue: consume it now (sequential) or wake the thread. */
static void smmu_cmdq_kick(struct ih_smmuv3_hw *hw)
{
	if (ih_world_mode(hw->w) == IH_EXEC_SEQUENTIAL) {
		while (smmu_cmdq_step(hw))
			;
		return;
	}
	if (!hw->thread_started) {
		if (pthread_create(&hw->thread, NULL, smmu_hw_thread, hw)) {
			/* No thread: keep the device usable by consuming on the doorbell. */
			ih_log(hw->w, IH_LOG_UNIMP, "hardware thread failed to start");
			while (smmu_cmdq_step(hw))
				;
			return;
		}
		hw->thread_started = true;
	}
	pthread_cond_signal(&hw->kick);
}

static bool smmu_enabled(const struct ih_smmuv3_hw *hw, u32 bit)
{
	return (hw->cr0 | hw->cr0ack) & bit;
}

#define CR0_SMMUEN BIT(R_CR0_SMMUEN_SHIFT)
#define CR0_EVTQEN BIT(R_CR0_EVTQEN_SHIFT)
#define CR0_CMDQEN BIT(R_CR0_CMDQEN_SHIFT)

static u32 smmu_gerror_mask(void)
{
	return BIT(R_GERROR_CMDQ_ERR_SHIFT) | BIT(R_GERROR_EVTQ_ABT_ERR_SHIFT) |
	       BIT(R_GERROR_MSI_CMDQ_ABT_ERR_SHIFT) | BIT(R_GERROR_MSI_EVTQ_ABT_ERR_SHIFT) |
	       BIT(R_GERROR_MSI_GERROR_ABT_ERR_SHIFT) | BIT(R_GERROR_SFM_ERR_SHIFT);
}

/* 64-bit registers; NULL for an offset that is not one (or is not implemented). */
static u64 *smmu_reg64(struct ih_smmuv3_hw *hw, u64 off)
{
	switch (off) {
	case A_GERROR_IRQ_CFG0:
		return hw->cfg.msi ? &hw->gerror_irq_cfg0 : NULL;
	case A_STRTAB_BASE:
		return &hw->strtab_base;
	case A_CMDQ_BASE:
		return &hw->cmdq.base;
	case A_EVTQ_BASE:
		return &hw->evtq.base;
	case A_EVTQ_IRQ_CFG0:
		return hw->cfg.msi ? &hw->evtq_irq_cfg0 : NULL;
	default:
		return NULL;
	}
}

static bool smmu_read32(struct ih_smmuv3_hw *hw, u64 off, u32 *val)
{
	switch (off) {
	case A_IDR0:
	case A_IDR1:
	case A_IDR2:
	case A_IDR3:
	case A_IDR4:
	case A_IDR5:
		*val = hw->idr[off / 4];
		return true;
	case A_IIDR:
		*val = 0;
		return true;
	case A_AIDR: /* SMMUv3.1 */
		*val = (u32)SMMU_FDP(0, AIDR, ARCH_MINOR, 1);
		return true;
	case A_CR0:
		*val = hw->cr0;
		return true;
	case A_CR0ACK:
		*val = hw->cr0ack;
		return true;
	case A_CR1:
		*val = hw->cr1;
		return true;
	case A_CR2:
		*val = hw->cr2;
		return true;
	case A_STATUSR:
	case A_AGBPA:
		*val = 0;
		return true;
	case A_GBPA:
		*val = hw->gbpa;
		return true;
	case A_IRQ_CTRL:
	case A_IRQ_CTRLACK:
		*val = hw->irq_ctrl;
		return true;
	case A_GERROR:
		*val = hw->gerror;
		return true;
	case A_GERRORN:
		*val = hw->gerrorn;
		return true;
	case A_GERROR_IRQ_CFG1:
	case A_GERROR_IRQ_CFG2:
	case A_EVTQ_IRQ_CFG1:
	case A_EVTQ_IRQ_CFG2:
		if (!hw->cfg.msi)
			return false;
		*val = off == A_GERROR_IRQ_CFG1	  ? hw->gerror_irq_cfg1
		       : off == A_GERROR_IRQ_CFG2 ? hw->gerror_irq_cfg2
		       : off == A_EVTQ_IRQ_CFG1	  ? hw->evtq_irq_cfg1
						  : hw->evtq_irq_cfg2;
		return true;
	case A_STRTAB_BASE_CFG:
		*val = hw->strtab_base_cfg;
		return true;
	case A_CMDQ_PROD:
		*val = hw->cmdq.prod;
		return true;
	case A_CMDQ_CONS:
		*val = hw->cmdq.cons;
		return true;
	case A_EVTQ_PROD:
		*val = hw->evtq.prod;
		return true;
	case A_EVTQ_CONS:
		*val = hw->evtq.cons;
		return true;
	default:
		return false;
	}
}

static void smmu_write_cr0(struct ih_smmuv3_hw *hw, u32 val)
{
	/* Only implemented enables stick: PRIQEN, ATSCHK and VMW are RES0 here. */
	u32 new = val &(CR0_SMMUEN | CR0_EVTQEN | CR0_CMDQEN);
	bool cmdq_on = !(hw->cr0 & CR0_CMDQEN) && (new &CR0_CMDQEN);

	if (val & ~new)
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "CR0 bits 0x%x not implemented, ignored",
		       val & ~new);
	hw->cr0 = new;
	/*
	 * Every change takes effect at once in this model, so CR0ACK follows CR0 before the
	 * write returns; bits the device does not implement never appear in CR0ACK.
	 */
	hw->cr0ack = new;
	if (cmdq_on)
		smmu_cmdq_kick(hw);
}

static void smmu_write64(struct ih_smmuv3_hw *hw, u64 off, u64 val)
{
	switch (off) {
	case A_STRTAB_BASE:
		/* Writable only while SMMUEN == 0 (IHI 0070, 6.3.24). */
		if (smmu_enabled(hw, CR0_SMMUEN))
			goto busy;
		hw->strtab_base =
		    val & (SMMU_FMASK(STRTAB_BASE, RA) | SMMU_FMASK(STRTAB_BASE, ADDR));
		return;
	case A_CMDQ_BASE:
		if (smmu_enabled(hw, CR0_CMDQEN))
			goto busy;
		hw->cmdq.base = val & (SMMU_FMASK(Q_BASE, RWA) | SMMU_FMASK(Q_BASE, ADDR) |
				       SMMU_FMASK(Q_BASE, LOG2SIZE));
		return;
	case A_EVTQ_BASE:
		if (smmu_enabled(hw, CR0_EVTQEN))
			goto busy;
		hw->evtq.base = val & (SMMU_FMASK(Q_BASE, RWA) | SMMU_FMASK(Q_BASE, ADDR) |
				       SMMU_FMASK(Q_BASE, LOG2SIZE));
		return;
	case A_GERROR_IRQ_CFG0:
		hw->gerror_irq_cfg0 = val & SMMU_FMASK(IRQ_CFG0, ADDR);
		return;
	case A_EVTQ_IRQ_CFG0:
		hw->evtq_irq_cfg0 = val & SMMU_FMASK(IRQ_CFG0, ADDR);
		return;
	default:
		return;
	}
busy:
	ih_log(hw->w, IH_LOG_GUEST_ERROR, "write to 0x%" PRIx64 " while enabled, ignored", off);
}

static void smmu_write32(struct ih_smmuv3_hw *hw, u64 off, u32 val)
{
	switch (off) {
	case A_CR0:
		smmu_write_cr0(hw, val);
		return;
	case A_CR1:
		/* Table and queue attributes: writable with everything disabled (6.3.10). */
		if (hw->cr0 | hw->cr0ack)
			goto busy;
		hw->cr1 = val & 0xfff;
		return;
	case A_CR2:
		if (smmu_enabled(hw, CR0_SMMUEN))
			goto busy;
		hw->cr2 = val & (BIT(R_CR2_RECINVSID_SHIFT) | BIT(R_CR2_PTM_SHIFT));
		return;
	case A_GBPA:
		/*
		 * The new value is taken only with UPDATE set; the update completes at once,
		 * so UPDATE reads back as 0 (IHI 0070, 6.3.14).
		 */
		if (!SMMU_FEX(val, GBPA, UPDATE)) {
			ih_log(hw->w, IH_LOG_GUEST_ERROR, "GBPA write without UPDATE ignored");
			return;
		}
		hw->gbpa = val & (SMMU_FMASK(GBPA, MEMATTR) | SMMU_FMASK(GBPA, MTCFG) |
				  SMMU_FMASK(GBPA, ALLOCCFG) | SMMU_FMASK(GBPA, SHCFG) |
				  SMMU_FMASK(GBPA, PRIVCFG) | SMMU_FMASK(GBPA, INSTCFG) |
				  SMMU_FMASK(GBPA, ABORT));
		return;
	case A_IRQ_CTRL:
		hw->irq_ctrl =
		    val & (BIT(R_IRQ_CTRL_GERROR_IRQEN_SHIFT) | BIT(R_IRQ_CTRL_EVTQ_IRQEN_SHIFT));
		return;
	case A_GERRORN: {
		bool was = (hw->gerror ^ hw->gerrorn) & BIT(R_GERROR_CMDQ_ERR_SHIFT);

		hw->gerrorn = val & smmu_gerror_mask();
		/* Acknowledging CMDQ_ERR restarts the queue at CONS (IHI 0070, 7.1). */
		if (was && !((hw->gerror ^ hw->gerrorn) & BIT(R_GERROR_CMDQ_ERR_SHIFT)))
			smmu_cmdq_kick(hw);
		return;
	}
	case A_GERROR_IRQ_CFG1:
		hw->gerror_irq_cfg1 = val;
		return;
	case A_GERROR_IRQ_CFG2:
		hw->gerror_irq_cfg2 = val & 0x3f;
		return;
	case A_EVTQ_IRQ_CFG1:
		hw->evtq_irq_cfg1 = val;
		return;
	case A_EVTQ_IRQ_CFG2:
		hw->evtq_irq_cfg2 = val & 0x3f;
		return;
	case A_STRTAB_BASE_CFG:
		if (smmu_enabled(hw, CR0_SMMUEN))
			goto busy;
		hw->strtab_base_cfg =
		    val & (SMMU_FMASK(STRTAB_BASE_CFG, LOG2SIZE) |
			   SMMU_FMASK(STRTAB_BASE_CFG, SPLIT) | SMMU_FMASK(STRTAB_BASE_CFG, FMT));
		return;
	case A_CMDQ_PROD:
		/* Bits above the wrap bit are ignored when the queue is read (hw_cmdq.c). */
		hw->cmdq.prod = val & SMMU_FMASK(Q_IDX, IDX);
		smmu_cmdq_kick(hw);
		return;
	case A_CMDQ_CONS:
		if (smmu_enabled(hw, CR0_CMDQEN))
			goto busy;
		__atomic_store_n(&hw->cmdq.cons,
				 (hw->cmdq.cons & SMMU_FMASK(CMDQ_CONS, ERR)) |
				     (val & SMMU_FMASK(Q_IDX, IDX)),
				 __ATOMIC_RELEASE);
		return;
	case A_EVTQ_PROD:
		if (smmu_enabled(hw, CR0_EVTQEN))
			goto busy;
		hw->evtq.prod = val & (SMMU_FMASK(Q_IDX, IDX) | SMMU_FMASK(EVTQ_PROD, OVFLG));
		return;
	case A_EVTQ_CONS:
		hw->evtq.cons = val & (SMMU_FMASK(Q_IDX, IDX) | SMMU_FMASK(EVTQ_CONS, OVACKFLG));
		return;
	case A_IDR0:
	case A_IDR1:
	case A_IDR2:
	case A_IDR3:
	case A_IDR4:
	case A_IDR5:
	case A_IIDR:
	case A_AIDR:
	case A_CR0ACK:
	case A_STATUSR:
	case A_AGBPA:
	case A_IRQ_CTRLACK:
	case A_GERROR:
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "write to read-only 0x%" PRIx64 " ignored", off);
		return;
	default:
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "write to unknown 0x%" PRIx64 " ignored", off);
		return;
	}
busy:
	ih_log(hw->w, IH_LOG_GUEST_ERROR, "write to 0x%" PRIx64 " while enabled, ignored", off);
}

/*
 * Access sizes (IHI 0070, 6.2): 64-bit registers take 64-bit accesses or 32-bit accesses
 * to either half; 32-bit registers take 32-bit accesses. A 64-bit access to a 32-bit
 * register is CONSTRAINED UNPREDICTABLE: this model reads zero and ignores the write.
 */
static u64 smmu_mmio_read(void *opaque, u64 off, unsigned int size)
{
	struct ih_smmuv3_hw *hw = opaque;
	u64 val = 0;
	u64 *r64;
	u32 v32;

	/*
	 * CMDQ_CONS, polled by the driver after every CMDQ_PROD write, needs no lock: every
	 * write of it is a release store made after the command's effects, so an acquire
	 * load sees them (and the read has no side effect and raises no interrupt).
	 */
	if (off == A_CMDQ_CONS && size == 4)
		return __atomic_load_n(&hw->cmdq.cons, __ATOMIC_ACQUIRE);
	pthread_mutex_lock(&hw->lock);
	r64 = smmu_reg64(hw, off & ~7ULL);
	if (r64) {
		val = *r64;
		if (size == 4)
			val = (u32)(val >> ((off & 4) * 8));
	} else if (size == 4 && smmu_read32(hw, off, &v32)) {
		val = v32;
	} else {
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "%u-byte read of 0x%" PRIx64 " is RAZ", size,
		       off);
	}
	smmu_unlock_deliver(hw);
	return val;
}

static void smmu_mmio_write(void *opaque, u64 off, u64 val, unsigned int size)
{
	struct ih_smmuv3_hw *hw = opaque;
	u64 *r64;

	pthread_mutex_lock(&hw->lock);
	r64 = smmu_reg64(hw, off & ~7ULL);
	if (r64) {
		u64 v = val;

		if (size == 4) {
			unsigned int sh = (off & 4) * 8;

			v = (*r64 & ~(0xffffffffULL << sh)) | ((val & 0xffffffffULL) << sh);
		}
		smmu_write64(hw, off & ~7ULL, v);
	} else if (size == 4) {
		smmu_write32(hw, off, (u32)val);
	} else {
		ih_log(hw->w, IH_LOG_GUEST_ERROR, "8-byte write of 0x%" PRIx64 " ignored", off);
	}
	smmu_unlock_deliver(hw);
}

static const struct ih_mmio_ops smmu_mmio_ops = {
    .read = smmu_mmio_read,
    .write = smmu_mmio_write,
};

static int smmu_check_config(const struct ih_smmuv3_hw_config *c)
{
	bool oas_ok = false;

	for (unsigned int i = 0; i < ARRAY_SIZE(smmu_oas_table); i++)
		oas_ok |= c->oas_bits == smmu_oas_table[i];
	if (!oas_ok || c->sid_bits > 32 || c->ssid_bits > 20 || c->cmdqs_log2 > 19 ||
	    c->evtqs_log2 > 19 || !c->tlb_entries || c->tlb_entries > 65536 ||
	    !c->cfg_cache_entries || c->cfg_cache_entries > 65536 || !(c->stage1 || c->stage2) ||
	    !(c->gran4k || c->gran16k || c->gran64k) ||
	    (c->tlb_evict != IH_SMMUV3_EVICT_LRU && c->tlb_evict != IH_SMMUV3_EVICT_RANDOM))
		return -EINVAL;
	return 0;
}

static void smmu_build_idrs(struct ih_smmuv3_hw *hw)
{
	const struct ih_smmuv3_hw_config *c = &hw->cfg;
	u64 v = 0;
	unsigned int oas = 0;

	v = SMMU_FDP(v, IDR0, S2P, c->stage2);
	v = SMMU_FDP(v, IDR0, S1P, c->stage1);
	v = SMMU_FDP(v, IDR0, TTF, 2);
	v = SMMU_FDP(v, IDR0, COHACC, c->coherent);
	v = SMMU_FDP(v, IDR0, ASID16, c->asid16);
	v = SMMU_FDP(v, IDR0, MSI, c->msi);
	v = SMMU_FDP(v, IDR0, SEV, c->sev);
	v = SMMU_FDP(v, IDR0, VMID16, c->vmid16);
	v = SMMU_FDP(v, IDR0, CD2L, c->cd_2lvl);
	v = SMMU_FDP(v, IDR0, TTENDIAN, 2);
	v = SMMU_FDP(v, IDR0, STALL_MODEL, 1);
	v = SMMU_FDP(v, IDR0, TERM_MODEL, 1);
	v = SMMU_FDP(v, IDR0, ST_LEVEL, c->strtab_2lvl ? 1 : 0);
	hw->idr[0] = (u32)v;
	v = 0;
	v = SMMU_FDP(v, IDR1, SIDSIZE, c->sid_bits);
	v = SMMU_FDP(v, IDR1, SSIDSIZE, c->ssid_bits);
	v = SMMU_FDP(v, IDR1, EVENTQS, c->evtqs_log2);
	v = SMMU_FDP(v, IDR1, CMDQS, c->cmdqs_log2);
	hw->idr[1] = (u32)v;
	hw->idr[3] = (u32)SMMU_FDP(0, IDR3, RIL, c->range_inv);
	while (smmu_oas_table[oas] != c->oas_bits)
		oas++;
	v = 0;
	v = SMMU_FDP(v, IDR5, OAS, oas);
	v = SMMU_FDP(v, IDR5, GRAN4K, c->gran4k);
	v = SMMU_FDP(v, IDR5, GRAN16K, c->gran16k);
	v = SMMU_FDP(v, IDR5, GRAN64K, c->gran64k);
	hw->idr[5] = (u32)v;
}

int ih_smmuv3_hw_create(struct ih_world *w, u64 mmio_base, const struct ih_smmuv3_hw_config *cfg,
			struct ih_smmuv3_hw **out)
{
	struct ih_smmuv3_hw_config defaults;
	struct ih_smmuv3_hw *hw;
	int ret;

	if (!cfg) {
		ih_smmuv3_hw_config_init(&defaults);
		cfg = &defaults;
	}
	if (!IH_IS_ALIGNED(mmio_base, (u64)SZ_64K) || smmu_check_config(cfg))
		return -EINVAL;
	hw = ih_alloc(w, sizeof(*hw), "smmuv3-hw:dev");
	if (!hw)
		return -ENOMEM;
	hw->w = w;
	hw->cfg = *cfg;
	hw->mmio_base = mmio_base;
	hw->rng = ih_world_seed(w) ^ 0x5bd1e995a5a5a5a5ULL;
	if (!hw->rng)
		hw->rng = 1;
	ret = -ENOMEM;
	hw->ste_cache = ih_alloc_array(w, cfg->cfg_cache_entries, sizeof(*hw->ste_cache),
				       "smmuv3-hw:ste-cache");
	if (!hw->ste_cache)
		goto free_hw;
	hw->cd_cache =
	    ih_alloc_array(w, cfg->cfg_cache_entries, sizeof(*hw->cd_cache), "smmuv3-hw:cd-cache");
	if (!hw->cd_cache)
		goto free_ste_cache;
	hw->tlb = ih_alloc_array(w, cfg->tlb_entries, sizeof(*hw->tlb), "smmuv3-hw:tlb");
	if (!hw->tlb)
		goto free_cd_cache;
	if (pthread_mutex_init(&hw->lock, NULL))
		goto free_tlb;
	if (pthread_cond_init(&hw->kick, NULL))
		goto destroy_lock;
	smmu_build_idrs(hw);
	hw->gbpa = cfg->gbpa_abort ? BIT(R_GBPA_ABORT_SHIFT) : 0;
	hw->mmio = ih_mmio_region_add(w, mmio_base, IH_SMMUV3_MMIO_SIZE, &smmu_mmio_ops, hw, &ret);
	if (!hw->mmio)
		goto destroy_cond;
	*out = hw;
	return 0;

destroy_cond:
	pthread_cond_destroy(&hw->kick);
destroy_lock:
	pthread_mutex_destroy(&hw->lock);
free_tlb:
	ih_free(w, hw->tlb);
free_cd_cache:
	ih_free(w, hw->cd_cache);
free_ste_cache:
	ih_free(w, hw->ste_cache);
free_hw:
	ih_free(w, hw);
	return ret;
}

void ih_smmuv3_hw_destroy(struct ih_smmuv3_hw *hw)
{
	struct ih_world *w;

	if (!hw)
		return;
	w = hw->w;
	ih_mmio_region_del(w, hw->mmio);
	pthread_mutex_lock(&hw->lock);
	hw->stop = true;
	pthread_cond_signal(&hw->kick);
	pthread_mutex_unlock(&hw->lock);
	if (hw->thread_started)
		pthread_join(hw->thread, NULL);
	pthread_cond_destroy(&hw->kick);
	pthread_mutex_destroy(&hw->lock);
	ih_free(w, hw->tlb);
	ih_free(w, hw->cd_cache);
	ih_free(w, hw->ste_cache);
	ih_free(w, hw);
}

void ih_smmuv3_hw_stats(struct ih_smmuv3_hw *hw, struct ih_smmuv3_hw_stats *out)
{
	pthread_mutex_lock(&hw->lock);
	*out = hw->stats;
	pthread_mutex_unlock(&hw->lock);
}

void ih_smmuv3_hw_set_irq_handler(struct ih_smmuv3_hw *hw, ih_smmuv3_irq_fn fn, void *opaque)
{
	pthread_mutex_lock(&hw->lock);
	hw->irq_fn = fn;
	hw->irq_opaque = opaque;
	pthread_mutex_unlock(&hw->lock);
}

unsigned int ih_smmuv3_hw_tlb_covers(struct ih_smmuv3_hw *hw, u64 iova, u64 size)
{
	unsigned int n = 0;
	u64 last = size ? iova + size - 1 : iova;

	pthread_mutex_lock(&hw->lock);
	for (unsigned int i = 0; i < hw->cfg.tlb_entries; i++) {
		const struct smmu_tlb_entry *e = &hw->tlb[i];
		u64 elast = e->in + ((1ULL << e->shift) - 1);

		if (e->valid && e->in <= last && iova <= elast)
			n++;
	}
	pthread_mutex_unlock(&hw->lock);
	return n;
}
