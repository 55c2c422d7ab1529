/* SPDX-License-Identifier: MIT */
/* Arm SMMUv3 driver (IHI 0070): probe an emulated instance and serve the IOMMU core. */
#ifndef IH_HW_SMMUV3_DRV_H
#define IH_HW_SMMUV3_DRV_H

#include <ih/compat.h>
#include <ih/iommu.h>

struct ih_world;
struct ih_device;
struct ih_smmuv3_hw;
struct ih_smmuv3;

/*
 * The driver reaches its SMMU only through MMIO (ih_ioremap) and simulated memory, as on
 * silicon. The emulated instance's handle in the configuration is what a platform would
 * hand a probe as resources: the interrupt wiring and the bus path device DMA takes
 * (struct ih_iommu_hw_ops on the registered instance).
 *
 * Synchronisation (which calls may run concurrently):
 *   probe / remove          once each, with no other call on the instance in flight
 *   core ops (of_xlate, probe_device, release_device, domain_alloc, attach_dev, ...)
 *                           any thread, as the core calls them
 *   map / unmap / iotlb_sync / flush ops
 *                           any thread, any domain, concurrently
 *   ih_smmuv3_cmdq_issue    any thread (serialised with every other command submission)
 *   ih_smmuv3_drain_events, ih_smmuv3_handle_gerror, ih_smmuv3_get_stats
 *                           any thread
 */

/* How the driver waits for a CMD_SYNC to complete (IHI 0070, 4.7.3). */
enum ih_smmuv3_sync_mode {
	IH_SMMUV3_SYNC_POLL, /* CS = SIG_NONE, poll SMMU_CMDQ_CONS until it passes the sync */
	IH_SMMUV3_SYNC_MSI,  /* CS = SIG_IRQ with an MSI write to simulated memory; falls back
			      * to polling when IDR0.MSI is clear */
};

/**
 * struct ih_smmuv3_drv_config - what the platform and the user ask of one instance.
 * @hw: the emulated instance behind @mmio_base (its translate/tlb_covers become the
 *	registered hw_ops; its wired interrupts are connected to the driver). NULL: no
 *	hardware path for ih_dma_access() and no interrupts (events are then drained by
 *	ih_smmuv3_drain_events()).
 * @mmio_base: physical base of the 128 KiB register file.
 * @name: instance name for messages and the core ("smmuv3" when NULL).
 * @sync_mode: CMD_SYNC completion.
 * @cmdq_log2: largest command queue wanted (log2 entries), capped by IDR1.CMDQS.
 * @evtq_log2: largest event queue wanted, capped by IDR1.EVENTQS.
 * @force_linear: use a linear stream table even when 2-level tables are implemented.
 * @bypass_unattached: StreamIDs with no domain bypass (else they abort, and GBPA aborts
 *	while the SMMU is disabled), as the kernel's disable_bypass=0.
 * @ias: input address bits of stage-1 paging domains, 32..48 (0: 48).
 * @poll_limit: iterations of a bounded poll (CR0ACK, GBPA, CMD_SYNC) before giving up
 *	with -ETIMEDOUT (0: a default of 20 million).
 * @test_forget_tlbi: TEST ONLY. The io-pgtable flush ops and iotlb_sync issue their
 *	CMD_SYNCs but no TLBI, to prove that a stale TLB entry keeps translating.
 */
struct ih_smmuv3_drv_config {
	struct ih_smmuv3_hw *hw;
	u64 mmio_base;
	const char *name;
	enum ih_smmuv3_sync_mode sync_mode;
	unsigned int cmdq_log2;
	unsigned int evtq_log2;
	bool force_linear;
	bool bypass_unattached;
	unsigned int ias;
	unsigned long poll_limit;
	bool test_forget_tlbi;
};

/* ih_smmuv3_drv_config_init() - polling sync, 2^8-entry queues, abort unattached, ias 48. */
void ih_smmuv3_drv_config_init(struct ih_smmuv3_drv_config *cfg);

/**
 * ih_smmuv3_probe() - bring up the SMMU at @cfg->mmio_base and register it with the core.
 * @w: the world.
 * @cfg: the configuration (copied).
 * @hwdev: the SMMU's own device (may be NULL).
 * @fwnode: the firmware node clients reference in their "iommus" (compared by pointer).
 * @out: the instance.
 *
 * Reads IDR0-5 and adapts (linear or 2-level stream table by SID bits, ASID bits, OAS,
 * granules, queue sizes), allocates the command queue, event queue and stream table in
 * simulated memory, makes GBPA abort (unless @cfg->bypass_unattached), programs the bases
 * and enables queues and translation with the CR0/CR0ACK handshake, then registers with
 * ih_iommu_device_register() (which may probe waiting devices, calling back into the
 * driver's of_xlate and probe_device).
 *
 * Allocation sites: "smmuv3:drv", "smmuv3:cmdq", "smmuv3:evtq", "smmuv3:strtab",
 * "smmuv3:sync-msi", "smmuv3:asid-map"; later "smmuv3:strtab-l2", "smmuv3:master",
 * "smmuv3:cdtab", "smmuv3:domain" and the io-pgtable ones.
 *
 * Context: process context.
 * Return: 0; -EINVAL for a bad @cfg or NULL argument; -ENODEV when no register file is
 * mapped at @cfg->mmio_base or the SMMU lacks what this driver needs (AArch64 tables,
 * little-endian tables, a supported granule, non-preset tables and queues); -ENOMEM;
 * -ETIMEDOUT when CR0ACK or GBPA.UPDATE never answers, or the initial invalidation never
 * completes; -EIO when the initial invalidation hits a command error; errors of
 * ih_iommu_device_register() (-EEXIST for a @fwnode already registered).
 */
int ih_smmuv3_probe(struct ih_world *w, const struct ih_smmuv3_drv_config *cfg,
		    struct ih_device *hwdev, const void *fwnode, struct ih_smmuv3 **out);

/**
 * ih_smmuv3_remove() - unregister (releasing every client device: their STEs go back to
 * abort/bypass), drain the event queue, disable interrupts and translation, free the
 * queues and tables. NULL is ignored. Every domain a user allocated must be freed first
 * (a warning is counted otherwise, and those domains must not be used again).
 * Context: process context; no DMA through the instance may be in flight.
 */
void ih_smmuv3_remove(struct ih_smmuv3 *smmu);

/* ih_smmuv3_iommu() - the instance as the core knows it. */
struct ih_iommu_device *ih_smmuv3_iommu(struct ih_smmuv3 *smmu);

/**
 * struct ih_smmuv3_info - what probe found and chose.
 * @sid_bits: StreamID bits the stream table covers (of_xlate rejects larger IDs).
 * @strtab_2lvl: two-level stream table in use.
 * @asid_bits: 8 or 16.
 * @oas: output address bits from IDR5.OAS.
 * @pgsize_bitmap: page sizes of paging domains (from the granules).
 * @cmdq_log2, @evtq_log2: queue sizes in use.
 * @range_inv: IDR3.RIL, range TLBIs in use.
 * @msi_sync: CMD_SYNC completes by MSI write (else by polling CONS).
 * @coherent: IDR0.COHACC.
 * @stage2: IDR0.S2P (VMID 0 tags the stage-1 entries then).
 */
struct ih_smmuv3_info {
	unsigned int sid_bits;
	bool strtab_2lvl;
	unsigned int asid_bits;
	unsigned int oas;
	unsigned long pgsize_bitmap;
	unsigned int cmdq_log2;
	unsigned int evtq_log2;
	bool range_inv;
	bool msi_sync;
	bool coherent;
	bool stage2;
};

void ih_smmuv3_get_info(struct ih_smmuv3 *smmu, struct ih_smmuv3_info *info);

/**
 * struct ih_smmuv3_stats - what the driver issued and saw, for tests and benchmarks.
 * @cmds: commands written to the queue (CMD_SYNC included).
 * @tlbi: TLBI_* commands.
 * @tlbi_asid: of which TLBI_NH_ASID.
 * @tlbi_va: of which TLBI_NH_VA (range or per page).
 * @cfgi: CFGI_* commands.
 * @syncs: CMD_SYNC commands.
 * @cmd_errors: command errors skipped (CMDQ_CONS.ERR).
 * @last_cerror: CMDQ_CONS.ERR of the last command error.
 * @last_bad_cmd: the two words of the last failing command.
 * @events: event records drained.
 * @evt_translation, @evt_permission, @evt_access, @evt_addr_size, @evt_bad_ste,
 * @evt_bad_cd, @evt_bad_streamid: of which of those types.
 * @evtq_overflows: overflows seen (EVTQ_PROD.OVFLG toggled).
 * @gerrors: GERROR bits handled (each active bit counts once).
 * @gerror_irqs: GERROR interrupts taken.
 * @timeouts: bounded polls that gave up.
 */
struct ih_smmuv3_stats {
	u64 cmds;
	u64 tlbi;
	u64 tlbi_asid;
	u64 tlbi_va;
	u64 cfgi;
	u64 syncs;
	u64 cmd_errors;
	u64 last_cerror;
	u64 last_bad_cmd[2];
	u64 events;
	u64 evt_translation;
	u64 evt_permission;
	u64 evt_access;
	u64 evt_addr_size;
	u64 evt_bad_ste;
	u64 evt_bad_cd;
	u64 evt_bad_streamid;
	u64 evtq_overflows;
	u64 gerrors;
	u64 gerror_irqs;
	u64 timeouts;
};

/* ih_smmuv3_get_stats() - copy the counters. Context: any thread. */
void ih_smmuv3_get_stats(struct ih_smmuv3 *smmu, struct ih_smmuv3_stats *st);

/**
 * struct ih_smmuv3_event - one decoded event record (IHI 0070, 7.3).
 * @id: event number (0x10 F_TRANSLATION, ...).
 * @name: its architectural name ("F_TRANSLATION"), or "UNKNOWN".
 * @sid: StreamID.
 * @ssv: a SubstreamID was present; @ssid: it.
 * @addr: input address (translation and permission faults).
 * @read: the access was a read (RnW).
 * @stage2: the fault came from stage 2.
 * @class: CLASS (0 CD, 1 TT, 2 IN).
 * @fetch: fetch or IPA address from word 3.
 */
struct ih_smmuv3_event {
	u8 id;
	const char *name;
	u32 sid;
	bool ssv;
	u32 ssid;
	u64 addr;
	bool read;
	bool stage2;
	u8 class;
	u64 fetch;
};

/**
 * ih_smmuv3_drain_events() - consume every record in the event queue, log each one
 * ("smmuv3 NAME: event 0x10 F_TRANSLATION sid 0x5 iova 0x1000 read stage 1 class IN")
 * through ih_log (category guest_error) and count it. Also runs when the SMMU raises its
 * event interrupt.
 * Context: any thread. Return: records consumed.
 */
unsigned int ih_smmuv3_drain_events(struct ih_smmuv3 *smmu);

/* ih_smmuv3_last_event() - the last record drained. Return: 0, or -ENOENT when none yet. */
int ih_smmuv3_last_event(struct ih_smmuv3 *smmu, struct ih_smmuv3_event *ev);

/**
 * ih_smmuv3_handle_gerror() - report and acknowledge active global errors other than
 * CMDQ_ERR (which the command submitter handles when it meets it). Also runs on the
 * GERROR interrupt's behalf from the next command submission or event drain.
 * Context: any thread. Return: the GERROR bits that were active (CMDQ_ERR included).
 */
u32 ih_smmuv3_handle_gerror(struct ih_smmuv3 *smmu);

/**
 * ih_smmuv3_cmdq_issue() - submit @n raw commands (two words each, IHI 0070 chapter 4),
 * followed by a CMD_SYNC when @sync, and wait for it. For tests: the TLBI/CFGI paths
 * use the same submission function.
 * Context: any thread; takes the command-queue lock.
 * Return: 0; -EIO when a command error was met (and skipped) during the call;
 * -ETIMEDOUT when the sync never completed.
 */
int ih_smmuv3_cmdq_issue(struct ih_smmuv3 *smmu, const u64 (*cmds)[2], unsigned int n, bool sync);

/**
 * ih_smmuv3_read_ste() - copy the first four words of the STE for @sid (for tests).
 * Return: 0; -ERANGE for a StreamID beyond the table; -ENOENT when its level-2 table
 * does not exist yet.
 */
int ih_smmuv3_read_ste(struct ih_smmuv3 *smmu, u32 sid, u64 ste[4]);

#endif /* IH_HW_SMMUV3_DRV_H */
