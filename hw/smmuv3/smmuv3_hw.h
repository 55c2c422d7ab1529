/* SPDX-License-Identifier: MIT */
/* Emulated Arm SMMUv3 (IHI 0070): the device's API for the rest of the harness. */
#ifndef IH_HW_SMMUV3_HW_H
#define IH_HW_SMMUV3_HW_H

#include <ih/compat.h>
#include <ih/physmem.h>

struct ih_world;
struct ih_smmuv3_hw;

/* Page 0 and page 1 of the register file (IHI 0070, 6.1: two 64K pages). */
#define IH_SMMUV3_MMIO_SIZE 0x20000ULL

/* TLB replacement when every entry is in use. */
enum ih_smmuv3_tlb_evict {
	IH_SMMUV3_EVICT_LRU,	/* least recently used entry goes */
	IH_SMMUV3_EVICT_RANDOM, /* a random entry goes, from a PRNG seeded by the world seed */
};

/**
 * struct ih_smmuv3_hw_config - what the instance implements (reported through the IDRs).
 * @stage1: stage 1 translation (IDR0.S1P).
 * @stage2: stage 2 translation (IDR0.S2P).
 * @strtab_2lvl: two-level stream tables (IDR0.ST_LEVEL == 0b01).
 * @cd_2lvl: two-level CD tables (IDR0.CD2L).
 * @asid16: 16-bit ASIDs (IDR0.ASID16); 8 bits otherwise.
 * @vmid16: 16-bit VMIDs (IDR0.VMID16); 8 bits otherwise.
 * @sid_bits: StreamID width, 0..32 (IDR1.SIDSIZE).
 * @ssid_bits: SubstreamID width, 0..20 (IDR1.SSIDSIZE).
 * @oas_bits: output address size: 32, 36, 40, 42, 44, 48 or 52 (IDR5.OAS).
 * @gran4k: 4K granule (IDR5.GRAN4K).
 * @gran16k: 16K granule (IDR5.GRAN16K).
 * @gran64k: 64K granule (IDR5.GRAN64K).
 * @coherent: coherent access to tables and queues (IDR0.COHACC).
 * @msi: MSI writes for CMD_SYNC and interrupts (IDR0.MSI).
 * @sev: CMD_SYNC may signal SEV (IDR0.SEV).
 * @range_inv: range invalidation in TLBI_*_VA / TLBI_S2_IPA (IDR3.RIL).
 * @cmdqs_log2: largest command queue, log2 entries, 0..19 (IDR1.CMDQS).
 * @evtqs_log2: largest event queue, log2 entries, 0..19 (IDR1.EVENTQS).
 * @tlb_entries: TLB size, at least 1.
 * @tlb_evict: TLB replacement policy.
 * @cfg_cache_entries: STE and CD cache size (each), at least 1.
 * @gbpa_abort: reset value of GBPA.ABORT (true: abort, false: bypass while SMMUEN == 0).
 */
struct ih_smmuv3_hw_config {
	bool stage1;
	bool stage2;
	bool strtab_2lvl;
	bool cd_2lvl;
	bool asid16;
	bool vmid16;
	unsigned int sid_bits;
	unsigned int ssid_bits;
	unsigned int oas_bits;
	bool gran4k;
	bool gran16k;
	bool gran64k;
	bool coherent;
	bool msi;
	bool sev;
	bool range_inv;
	unsigned int cmdqs_log2;
	unsigned int evtqs_log2;
	unsigned int tlb_entries;
	enum ih_smmuv3_tlb_evict tlb_evict;
	unsigned int cfg_cache_entries;
	bool gbpa_abort;
};

/**
 * ih_smmuv3_hw_config_init() - a typical server SMMU: both stages, 2-level tables,
 * 16-bit ASID/VMID, 16 SID bits, 8 SSID bits, 48-bit OAS, 4K and 64K granules, coherent,
 * MSI, SEV, range invalidation, 2^8-entry queues, 64-entry LRU TLB, 32 config entries,
 * GBPA bypass.
 */
void ih_smmuv3_hw_config_init(struct ih_smmuv3_hw_config *cfg);

/**
 * ih_smmuv3_hw_create() - build an SMMUv3 and claim its 128 KiB of MMIO.
 * @w: the world; its mode decides how commands are consumed: sequential, on the
 *     CMDQ_PROD write itself; concurrent, by a hardware thread started when CMDQEN is
 *     first set and stopped by ih_smmuv3_hw_destroy().
 * @mmio_base: base of the register file (64K aligned).
 * @cfg: what the instance implements; NULL for ih_smmuv3_hw_config_init() defaults.
 * @out: the new device.
 *
 * Context: process context, before any driver maps the region.
 * Return: 0; -EINVAL for an unaligned base, an out-of-range field in @cfg, or a base
 * overlapping another MMIO region; -ENOMEM when a model allocation fails.
 */
int ih_smmuv3_hw_create(struct ih_world *w, u64 mmio_base, const struct ih_smmuv3_hw_config *cfg,
			struct ih_smmuv3_hw **out);

/**
 * ih_smmuv3_hw_destroy() - stop the hardware thread, release the MMIO region, free all.
 * NULL is ignored. No driver may access the registers or call the device any more.
 * Context: process context; not from the IRQ handler.
 */
void ih_smmuv3_hw_destroy(struct ih_smmuv3_hw *hw);

/**
 * ih_smmuv3_hw_translate() - one device access through the SMMU, as a bus master would.
 * @hw: the device.
 * @sid: StreamID of the master.
 * @ssid_valid: whether the access carries a SubstreamID (PASID).
 * @ssid: the SubstreamID, when @ssid_valid.
 * @iova: input address.
 * @write: write access (else read). Accesses are data, unprivileged unless the STE's
 *         PRIVCFG makes them privileged.
 * @pa: out, the output address; set only on success.
 *
 * Goes GBPA (SMMUEN == 0) or STE -> CD -> TLB -> table walk, records the architected
 * event in the event queue on failure (when EVTQEN and the fault is recordable).
 *
 * Context: any thread; takes the device lock.
 * Return: 0 (translated or bypassed; bypass returns @iova);
 * -EPERM when the access is aborted without a translation fault: GBPA.ABORT with the SMMU
 * disabled, STE.Config == abort, or F_STREAM_DISABLED;
 * -ENODEV for a StreamID out of range (C_BAD_STREAMID);
 * -EINVAL for invalid configuration (C_BAD_STE, C_BAD_CD, C_BAD_SUBSTREAMID);
 * -EIO when fetching an STE or CD aborts (F_STE_FETCH, F_CD_FETCH);
 * -EFAULT for a translation-related fault (F_TRANSLATION, F_ACCESS, F_PERMISSION,
 * F_ADDR_SIZE, F_WALK_EABT).
 */
int ih_smmuv3_hw_translate(struct ih_smmuv3_hw *hw, u32 sid, bool ssid_valid, u32 ssid, u64 iova,
			   bool write, ih_pa_t *pa);

/**
 * struct ih_smmuv3_hw_stats - counters since create, for tests and benchmarks.
 * @cmds: commands consumed (including failing ones).
 * @cmd_errors: commands that stopped the queue (CERROR_*).
 * @cfgi: CFGI_* commands consumed.
 * @tlbi: TLBI_* commands consumed.
 * @syncs: CMD_SYNC commands consumed.
 * @sync_msis: MSI writes made for CMD_SYNC.
 * @events: event records written to the event queue.
 * @events_lost: events dropped (queue disabled, overflow or write abort).
 * @evtq_overflows: times the event queue overflowed.
 * @translations: calls to ih_smmuv3_hw_translate().
 * @tlb_hits: translations served by the TLB.
 * @tlb_misses: translations that walked.
 * @tlb_evictions: entries evicted to make room.
 * @tlb_invalidated: entries removed by TLBI commands.
 * @irqs: interrupts raised (wired or MSI), all lines.
 */
struct ih_smmuv3_hw_stats {
	u64 cmds;
	u64 cmd_errors;
	u64 cfgi;
	u64 tlbi;
	u64 syncs;
	u64 sync_msis;
	u64 events;
	u64 events_lost;
	u64 evtq_overflows;
	u64 translations;
	u64 tlb_hits;
	u64 tlb_misses;
	u64 tlb_evictions;
	u64 tlb_invalidated;
	u64 irqs;
};

/* ih_smmuv3_hw_stats() - copy the counters. Context: any thread. */
void ih_smmuv3_hw_stats(struct ih_smmuv3_hw *hw, struct ih_smmuv3_hw_stats *out);

/* Wired interrupt lines (used when MSI is not implemented or not configured). */
enum ih_smmuv3_irq {
	IH_SMMUV3_IRQ_EVTQ,	/* new event records */
	IH_SMMUV3_IRQ_GERROR,	/* a GERROR bit became active */
	IH_SMMUV3_IRQ_CMD_SYNC, /* CMD_SYNC with CS == SIG_IRQ and no MSI */
};

typedef void (*ih_smmuv3_irq_fn)(void *opaque, enum ih_smmuv3_irq line);

/**
 * ih_smmuv3_hw_set_irq_handler() - called for each wired interrupt, with no device lock
 * held (the handler may access the registers), on the thread that raised it.
 * Context: before interrupts can fire (typically right after create).
 */
void ih_smmuv3_hw_set_irq_handler(struct ih_smmuv3_hw *hw, ih_smmuv3_irq_fn fn, void *opaque);

/**
 * ih_smmuv3_hw_tlb_covers() - TLB entries whose input range overlaps [@iova, @iova + @size),
 * any ASID/VMID: an IOVA-staleness checker asserts 0 before an IOVA is reused.
 * Context: any thread. Return: the number of such entries.
 */
unsigned int ih_smmuv3_hw_tlb_covers(struct ih_smmuv3_hw *hw, u64 iova, u64 size);

#endif /* IH_HW_SMMUV3_HW_H */
