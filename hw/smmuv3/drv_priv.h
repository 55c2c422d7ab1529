/* SPDX-License-Identifier: MIT */
/* SMMUv3 driver: private state shared by drv_*.c (never included by the device side). */
#ifndef IH_HW_SMMUV3_DRV_PRIV_H
#define IH_HW_SMMUV3_DRV_PRIV_H

#include <ih/io_pgtable.h>
#include <ih/iommu.h>
#include <ih/mutex.h>
#include <ih/physmem.h>

#include "drv_regs.h"
#include "smmuv3_drv.h"
#include "smmuv3_hw.h"

/*
 * Lock order (outermost first):
 *   core locks (probe lock, group mutex) -> smmu->cfg_lock -> smmu->cmdq_lock
 *   io-pgtable table lock -> smmu->cmdq_lock          (flush ops)
 *   smmu->evtq_lock                                   (leaf; taken from the event IRQ)
 * The device's own lock is innermost (every MMIO access takes it).
 *
 * Command queue synchronisation table:
 *   writer                      holds cmdq_lock from the first command slot written to
 *                               the completion of its CMD_SYNC (one submitter at a time;
 *                               simple, and CMD_SYNC completion then means "everything
 *                               before it", with no need to track whose commands ran)
 *   hardware (sequential)       consumes on the CMDQ_PROD write, inside that MMIO call
 *   hardware (concurrent)       its thread consumes asynchronously; the driver polls
 *   GERROR interrupt            only counts and flags (it may fire inside a submission)
 *   GERRORN writes              only under cmdq_lock, so acknowledgements never race
 */

#define SMMU_STRTAB_SPLIT	 8   /* 256 STEs (16 KiB) per level-2 table */
#define SMMU_STRTAB_L1_MAX_BITS	 17  /* at most 2^17 L1 descriptors (1 MiB) */
#define SMMU_LINEAR_MAX_SID_BITS 16  /* a linear table of at most 4 MiB */
#define SMMU_MAX_TLBI_OPS	 512 /* per-page TLBIs beyond this: invalidate the ASID */
#define SMMU_DEFAULT_POLL_LIMIT	 20000000UL

struct smmu_domain;

/* Per client device (dev_iommu priv): its StreamIDs and its context-descriptor table. */
struct smmu_master {
	struct ih_smmuv3 *smmu;
	struct ih_device *dev;
	unsigned int num_sids;
	u32 *sids;
	ih_pa_t cdtab;		    /* one CD (S1CDMax == 0), allocated at first stage-1 attach */
	struct smmu_domain *domain; /* attached domain, under cfg_lock */
	struct smmu_master *domain_next;
	struct smmu_master *smmu_next; /* the instance's list of probed masters, cfg_lock */
};

enum smmu_domain_kind {
	SMMU_DOMAIN_BLOCKED,
	SMMU_DOMAIN_BYPASS,
	SMMU_DOMAIN_S1,
};

struct smmu_domain {
	struct ih_iommu_domain domain;
	struct ih_smmuv3 *smmu;
	enum smmu_domain_kind kind;
	struct ih_io_pgtable_ops *pgt;
	struct ih_io_pgtable_cfg pgt_cfg;
	u16 asid;
	struct smmu_master *masters; /* attached masters, under smmu->cfg_lock */
};

struct ih_smmuv3 {
	struct ih_iommu_device iommu;
	struct ih_world *w;
	struct ih_smmuv3_drv_config cfg;
	struct ih_mmio_region *r;
	char name[32];

	/* features from the IDRs */
	u32 idr[6];
	unsigned int sid_bits;
	unsigned int ssid_bits;
	bool strtab_2lvl;
	unsigned int asid_bits;
	unsigned int oas;
	unsigned long pgsize_bitmap;
	bool range_inv;
	bool msi_sync;
	bool coherent;
	bool stage1;
	bool stage2;

	/* stream table; level-2 tables are created under cfg_lock */
	ih_pa_t strtab;
	size_t strtab_bytes;
	ih_pa_t *l2; /* 2-level: one PA per L1 descriptor, IH_PA_INVALID until created */
	unsigned int num_l1;

	struct ih_mutex cfg_lock;    /* STE/CD contents, master->domain, domain lists, ASIDs, L2,
				      * the masters list */
	struct smmu_master *masters; /* every probed master: one owner per StreamID */
	unsigned long *asid_map;
	unsigned long domains_alive;

	/* command queue, under cmdq_lock */
	struct ih_mutex cmdq_lock;
	ih_pa_t cmdq;
	unsigned int cmdq_log2;
	u32 cmdq_prod;
	u32 cmdq_cons; /* last CONS read (index and wrap) */
	ih_pa_t sync_msi;
	u32 sync_seq;

	/* event queue, under evtq_lock */
	pthread_mutex_t evtq_lock;
	ih_pa_t evtq;
	unsigned int evtq_log2;
	u32 evtq_cons;
	struct ih_smmuv3_event last_event;
	bool have_event;

	bool gerror_pending;	      /* atomic: set by the GERROR interrupt */
	struct ih_smmuv3_stats stats; /* atomic adds; evtq fields under evtq_lock */
};

static inline void smmu_stat_add(u64 *ctr, u64 n)
{
	__atomic_fetch_add(ctr, n, __ATOMIC_RELAXED);
}

/* drv_cmdq.c */
u32 smmu_readl(struct ih_smmuv3 *smmu, u64 off);
void smmu_writel(struct ih_smmuv3 *smmu, u32 val, u64 off);
int smmu_cmdq_submit(struct ih_smmuv3 *smmu, const u64 (*cmds)[2], unsigned int n, bool sync);
void smmu_cmd_cfgi_ste(u64 cmd[2], u32 sid);
void smmu_cmd_cfgi_cd(u64 cmd[2], u32 sid, u32 ssid);
void smmu_cmd_cfgi_all(u64 cmd[2]);
void smmu_cmd_tlbi_asid(u64 cmd[2], u16 asid);
void smmu_cmd_tlbi_nsnh_all(u64 cmd[2]);
void smmu_irq_handler(void *opaque, enum ih_smmuv3_irq line);
u32 smmu_handle_gerror_locked(struct ih_smmuv3 *smmu);
bool smmu_poll_continue(struct ih_smmuv3 *smmu, unsigned long *iter);

/* drv_strtab.c */
int smmu_strtab_init(struct ih_smmuv3 *smmu);
void smmu_strtab_free(struct ih_smmuv3 *smmu);
int smmu_strtab_ensure_l2(struct ih_smmuv3 *smmu, u32 sid);
ih_pa_t smmu_ste_pa(struct ih_smmuv3 *smmu, u32 sid);
void smmu_make_default_ste(const struct ih_smmuv3 *smmu, u64 ste[4]);
int smmu_master_install(struct smmu_master *master, struct smmu_domain *domain);
void smmu_master_clear_cd(struct smmu_master *master);

/* drv_iommu.c */
extern const struct ih_iommu_ops smmu_iommu_ops;
extern const struct ih_iommu_hw_ops smmu_hw_ops;

#endif /* IH_HW_SMMUV3_DRV_PRIV_H */
