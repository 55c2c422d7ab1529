// SPDX-License-Identifier: MIT
/* SMMUv3 driver: probe (ID registers, queues, stream table, enable handshake) and remove. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define IH_LOG_PREFIX "smmuv3: "
#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/mmio.h>

#include "drv_priv.h"

/*
 * Lock order: probe and remove run alone on the instance; they take cfg_lock and
 * cmdq_lock only through the helpers they share with the ops.
 */

void ih_smmuv3_drv_config_init(struct ih_smmuv3_drv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sync_mode = IH_SMMUV3_SYNC_POLL;
	cfg->cmdq_log2 = 8;
	cfg->evtq_log2 = 8;
	cfg->ias = 48;
}

struct ih_iommu_device *ih_smmuv3_iommu(struct ih_smmuv3 *smmu)
{
	return &smmu->iommu;
}

/* IDR5.OAS encodings (6.3.6). */
static const unsigned int smmu_oas_bits[] = {32, 36, 40, 42, 44, 48, 52};

/* Read IDR0-5 and decide what this instance can do. Return: 0 or -ENODEV. */
static int smmu_probe_idrs(struct ih_smmuv3 *smmu)
{
	u32 idr0, idr1, idr5;
	unsigned int oas;

	for (unsigned int i = 0; i < 6; i++)
		smmu->idr[i] = smmu_readl(smmu, SMMUV3_IDR0 + 4 * i);
	idr0 = smmu->idr[0];
	idr1 = smmu->idr[1];
	idr5 = smmu->idr[5];
	/* The driver writes AArch64, little-endian tables and owns its tables and queues. */
	if (!(FIELD_GET(SMMUV3_IDR0_TTF, idr0) & SMMUV3_IDR0_TTF_AARCH64)) {
		ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: no AArch64 table format", smmu->name);
		return -ENODEV;
	}
	if (FIELD_GET(SMMUV3_IDR0_TTENDIAN, idr0) == SMMUV3_TTENDIAN_BE) {
		ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: big-endian tables only", smmu->name);
		return -ENODEV;
	}
	if (idr1 & (SMMUV3_IDR1_TABLES_PRESET | SMMUV3_IDR1_QUEUES_PRESET)) {
		ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: preset tables/queues unsupported",
		       smmu->name);
		return -ENODEV;
	}
	smmu->stage1 = idr0 & SMMUV3_IDR0_S1P;
	smmu->stage2 = idr0 & SMMUV3_IDR0_S2P;
	if (!smmu->stage1 && !smmu->stage2) {
		ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: no translation stage", smmu->name);
		return -ENODEV;
	}
	smmu->coherent = idr0 & SMMUV3_IDR0_COHACC;
	smmu->asid_bits = idr0 & SMMUV3_IDR0_ASID16 ? 16 : 8;
	smmu->msi_sync = smmu->cfg.sync_mode == IH_SMMUV3_SYNC_MSI && (idr0 & SMMUV3_IDR0_MSI);
	if (smmu->cfg.sync_mode == IH_SMMUV3_SYNC_MSI && !smmu->msi_sync)
		ih_log(smmu->w, IH_LOG_INFO, "%s: no MSIs, CMD_SYNC completion by polling",
		       smmu->name);
	smmu->sid_bits = (unsigned int)FIELD_GET(SMMUV3_IDR1_SIDSIZE, idr1);
	smmu->ssid_bits = (unsigned int)FIELD_GET(SMMUV3_IDR1_SSIDSIZE, idr1);
	if (smmu->sid_bits > 32)
		smmu->sid_bits = 32;
	/* Queues: what the user asked for, no larger than the SMMU allows (IDR1). */
	smmu->cmdq_log2 =
	    ih_min(smmu->cfg.cmdq_log2, (unsigned int)FIELD_GET(SMMUV3_IDR1_CMDQS, idr1));
	smmu->evtq_log2 =
	    ih_min(smmu->cfg.evtq_log2, (unsigned int)FIELD_GET(SMMUV3_IDR1_EVENTQS, idr1));
	smmu->range_inv = smmu->idr[3] & SMMUV3_IDR3_RIL;
	oas = (unsigned int)FIELD_GET(SMMUV3_IDR5_OAS, idr5);
	/* Reserved encodings: treat as the largest defined size (the kernel's choice). */
	smmu->oas = smmu_oas_bits[ih_min(oas, (unsigned int)ARRAY_SIZE(smmu_oas_bits) - 1)];
	/* One granule for paging domains: 4K when present, else 16K, else 64K. */
	if (idr5 & SMMUV3_IDR5_GRAN4K)
		smmu->pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G;
	else if (idr5 & SMMUV3_IDR5_GRAN16K)
		smmu->pgsize_bitmap = SZ_16K | SZ_32M;
	else if (idr5 & SMMUV3_IDR5_GRAN64K)
		smmu->pgsize_bitmap = SZ_64K | SZ_512M;
	else {
		ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: no translation granule", smmu->name);
		return -ENODEV;
	}
	ih_log(smmu->w, IH_LOG_INFO, "%s: SMMUv3.%u, %u SID bits, %u-bit ASIDs, OAS %u, %s%s%s",
	       smmu->name,
	       (unsigned int)FIELD_GET(SMMUV3_AIDR_MINOR, smmu_readl(smmu, SMMUV3_AIDR)),
	       smmu->sid_bits, smmu->asid_bits, smmu->oas, smmu->stage1 ? "S1 " : "",
	       smmu->stage2 ? "S2 " : "", smmu->range_inv ? "RIL" : "");
	return 0;
}

/* Write CR0 and wait for CR0ACK to follow (6.3.9: a change is done when it shows there). */
static int smmu_write_cr0(struct ih_smmuv3 *smmu, u32 val)
{
	unsigned long iter = 0;

	smmu_writel(smmu, val, SMMUV3_CR0);
	while (smmu_readl(smmu, SMMUV3_CR0ACK) != val) {
		if (!smmu_poll_continue(smmu, &iter)) {
			ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: CR0ACK never reached 0x%x",
			       smmu->name, val);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

/* GBPA takes a new value only with UPDATE set, and clears UPDATE when done (6.3.14). */
static int smmu_update_gbpa(struct ih_smmuv3 *smmu, u32 set, u32 clr)
{
	unsigned long iter = 0;
	u32 v;

	while ((v = smmu_readl(smmu, SMMUV3_GBPA)) & SMMUV3_GBPA_UPDATE)
		if (!smmu_poll_continue(smmu, &iter))
			return -ETIMEDOUT;
	smmu_writel(smmu, ((v & ~clr) | set) | SMMUV3_GBPA_UPDATE, SMMUV3_GBPA);
	while (smmu_readl(smmu, SMMUV3_GBPA) & SMMUV3_GBPA_UPDATE)
		if (!smmu_poll_continue(smmu, &iter))
			return -ETIMEDOUT;
	return 0;
}

static int smmu_write_irq_ctrl(struct ih_smmuv3 *smmu, u32 val)
{
	unsigned long iter = 0;

	smmu_writel(smmu, val, SMMUV3_IRQ_CTRL);
	while (smmu_readl(smmu, SMMUV3_IRQ_CTRLACK) != val)
		if (!smmu_poll_continue(smmu, &iter))
			return -ETIMEDOUT;
	return 0;
}

/* The bring-up sequence; on error the caller disables everything again. */
static int smmu_device_reset(struct ih_smmuv3 *smmu)
{
	unsigned int cache = smmu->coherent ? SMMUV3_CACHE_WB : SMMUV3_CACHE_NC;
	unsigned int sh = smmu->coherent ? SMMUV3_SH_ISH : SMMUV3_SH_OSH;
	u64 cmds[2][2];
	u32 cfg;
	int ret;

	/* 1. Whatever firmware left enabled goes off first. */
	if (smmu_readl(smmu, SMMUV3_CR0) || smmu_readl(smmu, SMMUV3_CR0ACK)) {
		ih_log(smmu->w, IH_LOG_INFO, "%s: enabled at probe, disabling", smmu->name);
		ret = smmu_write_cr0(smmu, 0);
		if (ret)
			return ret;
	}
	/* 2. Incoming traffic aborts while translation is off, unless bypass was asked for. */
	ret = smmu->cfg.bypass_unattached ? smmu_update_gbpa(smmu, 0, SMMUV3_GBPA_ABORT)
					  : smmu_update_gbpa(smmu, SMMUV3_GBPA_ABORT, 0);
	if (ret) {
		ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: GBPA update never completed", smmu->name);
		return ret;
	}
	/* 3. Table and queue access attributes (CR1), then CR2. */
	smmu_writel(
	    smmu,
	    (u32)(FIELD_PREP(SMMUV3_CR1_QUEUE_IC, cache) | FIELD_PREP(SMMUV3_CR1_QUEUE_OC, cache) |
		  FIELD_PREP(SMMUV3_CR1_QUEUE_SH, sh) | FIELD_PREP(SMMUV3_CR1_TABLE_IC, cache) |
		  FIELD_PREP(SMMUV3_CR1_TABLE_OC, cache) | FIELD_PREP(SMMUV3_CR1_TABLE_SH, sh)),
	    SMMUV3_CR1);
	smmu_writel(smmu, SMMUV3_CR2_RECINVSID | SMMUV3_CR2_PTM, SMMUV3_CR2);
	/* 4. Stream table. */
	ih_writeq(smmu->r, (smmu->strtab & SMMUV3_STRTAB_BASE_ADDR) | SMMUV3_STRTAB_BASE_RA,
		  SMMUV3_STRTAB_BASE);
	cfg = (u32)FIELD_PREP(SMMUV3_STRTAB_CFG_LOG2SIZE, smmu->sid_bits);
	if (smmu->strtab_2lvl)
		cfg |= (u32)(FIELD_PREP(SMMUV3_STRTAB_CFG_FMT, SMMUV3_STRTAB_FMT_2LVL) |
			     FIELD_PREP(SMMUV3_STRTAB_CFG_SPLIT, SMMU_STRTAB_SPLIT));
	smmu_writel(smmu, cfg, SMMUV3_STRTAB_BASE_CFG);
	/* 5. Command queue, enabled alone so the caches can be invalidated through it. */
	ih_writeq(smmu->r,
		  SMMUV3_Q_BASE_RWA | (smmu->cmdq & SMMUV3_Q_BASE_ADDR) |
		      FIELD_PREP(SMMUV3_Q_BASE_LOG2SIZE, smmu->cmdq_log2),
		  SMMUV3_CMDQ_BASE);
	smmu_writel(smmu, 0, SMMUV3_CMDQ_PROD);
	smmu_writel(smmu, 0, SMMUV3_CMDQ_CONS);
	smmu->cmdq_prod = smmu->cmdq_cons = 0;
	ret = smmu_write_cr0(smmu, SMMUV3_CR0_CMDQEN);
	if (ret)
		return ret;
	/* 6. Nothing cached from before us survives: every STE/CD and every TLB entry. */
	smmu_cmd_cfgi_all(cmds[0]);
	smmu_cmd_tlbi_nsnh_all(cmds[1]);
	ret = smmu_cmdq_submit(smmu, cmds, 2, true);
	if (ret)
		return ret;
	/* 7. Event queue (its PROD/CONS live in page 1). */
	ih_writeq(smmu->r,
		  SMMUV3_Q_BASE_RWA | (smmu->evtq & SMMUV3_Q_BASE_ADDR) |
		      FIELD_PREP(SMMUV3_Q_BASE_LOG2SIZE, smmu->evtq_log2),
		  SMMUV3_EVTQ_BASE);
	smmu_writel(smmu, 0, SMMUV3_EVTQ_PROD);
	smmu_writel(smmu, 0, SMMUV3_EVTQ_CONS);
	smmu->evtq_cons = 0;
	ret = smmu_write_cr0(smmu, SMMUV3_CR0_CMDQEN | SMMUV3_CR0_EVTQEN);
	if (ret)
		return ret;
	/* 8. Wired interrupts for events and global errors. */
	if (smmu->cfg.hw) {
		ih_smmuv3_hw_set_irq_handler(smmu->cfg.hw, smmu_irq_handler, smmu);
		ret = smmu_write_irq_ctrl(smmu, SMMUV3_IRQ_CTRL_GERROR_IRQEN |
						    SMMUV3_IRQ_CTRL_EVTQ_IRQEN);
		if (ret)
			return ret;
	}
	/* 9. Translation on. */
	return smmu_write_cr0(smmu, SMMUV3_CR0_CMDQEN | SMMUV3_CR0_EVTQEN | SMMUV3_CR0_SMMUEN);
}

static void smmu_device_disable(struct ih_smmuv3 *smmu)
{
	if (smmu->cfg.hw) {
		smmu_write_irq_ctrl(smmu, 0);
		ih_smmuv3_hw_set_irq_handler(smmu->cfg.hw, NULL, NULL);
	}
	smmu_write_cr0(smmu, 0);
}

static void smmu_free_resources(struct ih_smmuv3 *smmu)
{
	struct ih_world *w = smmu->w;

	smmu_strtab_free(smmu);
	ih_free(w, smmu->asid_map);
	if (smmu->sync_msi != IH_PA_INVALID)
		ih_pm_free(w, smmu->sync_msi, IH_PAGE_SIZE);
	if (smmu->evtq != IH_PA_INVALID)
		ih_pm_free(w, smmu->evtq, (size_t)32 << smmu->evtq_log2);
	if (smmu->cmdq != IH_PA_INVALID)
		ih_pm_free(w, smmu->cmdq, (size_t)16 << smmu->cmdq_log2);
	pthread_mutex_destroy(&smmu->evtq_lock);
	ih_mutex_destroy(&smmu->cmdq_lock);
	ih_mutex_destroy(&smmu->cfg_lock);
	ih_free(w, smmu);
}

static int smmu_check_config(const struct ih_smmuv3_drv_config *cfg)
{
	if (cfg->sync_mode != IH_SMMUV3_SYNC_POLL && cfg->sync_mode != IH_SMMUV3_SYNC_MSI)
		return -EINVAL;
	if (cfg->cmdq_log2 > 19 || cfg->evtq_log2 > 19)
		return -EINVAL;
	if (cfg->ias && (cfg->ias < 32 || cfg->ias > 48))
		return -EINVAL;
	return 0;
}

/* Queue memory is aligned to its size, at least 32 bytes (6.3.25). */
static ih_pa_t smmu_alloc_queue(struct ih_smmuv3 *smmu, size_t bytes, const char *site)
{
	return ih_pm_alloc(smmu->w, bytes, ih_max(bytes, (size_t)IH_PAGE_SIZE), site);
}

int ih_smmuv3_probe(struct ih_world *w, const struct ih_smmuv3_drv_config *cfg,
		    struct ih_device *hwdev, const void *fwnode, struct ih_smmuv3 **out)
{
	struct ih_smmuv3 *smmu;
	int ret;

	if (!w || !cfg || !fwnode || !out || smmu_check_config(cfg))
		return -EINVAL;
	smmu = ih_alloc(w, sizeof(*smmu), "smmuv3:drv");
	if (!smmu)
		return -ENOMEM;
	smmu->w = w;
	smmu->cfg = *cfg;
	if (!smmu->cfg.ias)
		smmu->cfg.ias = 48;
	if (!smmu->cfg.poll_limit)
		smmu->cfg.poll_limit = SMMU_DEFAULT_POLL_LIMIT;
	snprintf(smmu->name, sizeof(smmu->name), "%s", cfg->name ? cfg->name : "smmuv3");
	smmu->cmdq = smmu->evtq = smmu->sync_msi = smmu->strtab = IH_PA_INVALID;
	ih_mutex_init(&smmu->cfg_lock);
	ih_mutex_init(&smmu->cmdq_lock);
	pthread_mutex_init(&smmu->evtq_lock, NULL);

	smmu->r = ih_ioremap(w, cfg->mmio_base, IH_SMMUV3_MMIO_SIZE);
	if (!smmu->r) {
		ih_log(w, IH_LOG_GUEST_ERROR, "%s: no register file at 0x%" PRIx64, smmu->name,
		       cfg->mmio_base);
		ret = -ENODEV;
		goto free;
	}
	ret = smmu_probe_idrs(smmu);
	if (ret)
		goto free;

	ret = -ENOMEM;
	smmu->cmdq = smmu_alloc_queue(smmu, (size_t)16 << smmu->cmdq_log2, "smmuv3:cmdq");
	if (smmu->cmdq == IH_PA_INVALID)
		goto free;
	smmu->evtq = smmu_alloc_queue(smmu, (size_t)32 << smmu->evtq_log2, "smmuv3:evtq");
	if (smmu->evtq == IH_PA_INVALID)
		goto free;
	if (smmu->msi_sync) {
		smmu->sync_msi = ih_pm_alloc(w, IH_PAGE_SIZE, IH_PAGE_SIZE, "smmuv3:sync-msi");
		if (smmu->sync_msi == IH_PA_INVALID)
			goto free;
	}
	smmu->asid_map = ih_alloc(w, ((size_t)1 << smmu->asid_bits) / 8, "smmuv3:asid-map");
	if (!smmu->asid_map)
		goto free;
	ret = smmu_strtab_init(smmu);
	if (ret)
		goto free;

	ret = smmu_device_reset(smmu);
	if (ret)
		goto disable;
	smmu->iommu.name = smmu->name;
	if (cfg->hw) {
		smmu->iommu.hw_ops = &smmu_hw_ops;
		smmu->iommu.hw = cfg->hw;
	}
	ret = ih_iommu_device_register(w, &smmu->iommu, &smmu_iommu_ops, fwnode, hwdev);
	if (ret)
		goto disable;
	ih_log(w, IH_LOG_INFO, "%s: enabled, %s stream table, cmdq 2^%u, evtq 2^%u, sync by %s",
	       smmu->name, smmu->strtab_2lvl ? "2-level" : "linear", smmu->cmdq_log2,
	       smmu->evtq_log2, smmu->msi_sync ? "MSI" : "polling");
	*out = smmu;
	return 0;

disable:
	smmu_device_disable(smmu);
free:
	smmu_free_resources(smmu);
	return ret;
}

void ih_smmuv3_remove(struct ih_smmuv3 *smmu)
{
	if (!smmu)
		return;
	/* Client devices are released first: their STEs go back to the unattached state. */
	ih_iommu_device_unregister(smmu->w, &smmu->iommu);
	IH_WARN_ON(smmu->w, smmu->domains_alive, "smmuv3: %s removed with %lu domains alive",
		   smmu->name, smmu->domains_alive);
	ih_smmuv3_drain_events(smmu);
	ih_smmuv3_handle_gerror(smmu);
	smmu_device_disable(smmu);
	smmu_free_resources(smmu);
}

void ih_smmuv3_get_info(struct ih_smmuv3 *smmu, struct ih_smmuv3_info *info)
{
	memset(info, 0, sizeof(*info));
	info->sid_bits = smmu->sid_bits;
	info->strtab_2lvl = smmu->strtab_2lvl;
	info->asid_bits = smmu->asid_bits;
	info->oas = smmu->oas;
	info->pgsize_bitmap = smmu->pgsize_bitmap;
	info->cmdq_log2 = smmu->cmdq_log2;
	info->evtq_log2 = smmu->evtq_log2;
	info->range_inv = smmu->range_inv;
	info->msi_sync = smmu->msi_sync;
	info->coherent = smmu->coherent;
	info->stage2 = smmu->stage2;
}

void ih_smmuv3_get_stats(struct ih_smmuv3 *smmu, struct ih_smmuv3_stats *st)
{
	const u64 *src = (const u64 *)&smmu->stats;
	u64 *dst = (u64 *)st;

	/* Every field is a u64 updated atomically: copy each one atomically. */
	for (size_t i = 0; i < sizeof(*st) / sizeof(u64); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
