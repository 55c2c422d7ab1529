/* SPDX-License-Identifier: MIT */
/* Emulated Rockchip IOMMU: register banks, two-level walker, TLB, faults and stalls. */
#ifndef IH_HW_RK_IOMMU_HW_H
#define IH_HW_RK_IOMMU_HW_H

#include <ih/compat.h>
#include <ih/physmem.h>

struct ih_world;
struct ih_rk_iommu_hw;

/*
 * The device model. A driver reaches it only through MMIO (ih_ioremap() of a bank base,
 * then ih_readl()/ih_writel()) and simulated memory; it never calls this API. Device DMA
 * reaches it through ih_rk_iommu_hw_translate().
 *
 * Behaviour, decided from the public sources (upstream rockchip-iommu driver, Mali-400 MMU
 * registers in Xilinx UG1087, ARM's Utgard MMU driver) and written down here so that every
 * fuzz outcome can be judged against it:
 *
 * Registers (per bank, 32-bit accesses; a 64-bit access or an offset past 0x24 inside the
 * 0x100 window reads as zero and ignores writes):
 *   0x00 DTE_ADDR        RW. Reads back the written value masked to 0xfffff000 (v1) or
 *                        0xfffffff0 (v2). v2 packs the address as a descriptor:
 *                        PA 35:32 in bits 11:8, PA 39:36 in bits 7:4.
 *   0x04 STATUS          RO. Reset value 0x18.
 *   0x08 COMMAND         WO (reads 0). See the command table.
 *   0x0c PAGE_FAULT_ADDR RO. IOVA of the last page fault or bus error.
 *   0x10 ZAP_ONE_LINE    WO (reads 0). Evicts the cached DTE line and PTE line that hold
 *                        the written IOVA's descriptors.
 *   0x14 INT_RAWSTAT     RO. Bit 0 page fault, bit 1 bus error.
 *   0x18 INT_CLEAR       WO (reads 0). Write 1 to clear the matching INT_RAWSTAT bit.
 *   0x1c INT_MASK        RW, bits 1:0; other bits read as zero.
 *   0x20 INT_STATUS      RO. INT_RAWSTAT & INT_MASK. The bank's interrupt line is
 *                        INT_STATUS != 0.
 *   0x24 AUTO_GATING     RW, all bits stored, reset 0x3; no effect on the model.
 *
 * STATUS: bit 0 paging enabled; bit 1 page fault active; bit 2 stall active; bit 3 idle
 * (no faulting access outstanding); bit 4 replay buffer empty (likewise: the faulting
 * access waits in the replay buffer); bit 5 last fault was a write; bits 10:6 faulting
 * master (always 0: one master per bank); bit 31 stall not active (= !bit 2).
 *
 * Commands (COMMAND register), each acting on the bank written:
 *   0 ENABLE_PAGING   ignored while a page fault is active (the unit is neither idle nor
 *                     stalled); otherwise paging on.
 *   1 DISABLE_PAGING  ignored while a page fault is active; otherwise paging off. A stall
 *                     stays active until DISABLE_STALL.
 *   2 ENABLE_STALL    takes effect only with paging enabled and no page fault active
 *                     ("stall can only be enabled if paging is enabled"; with paging off
 *                     the stall is implicit and STALL_ACTIVE stays 0).
 *   3 DISABLE_STALL   clears the stall.
 *   4 ZAP_CACHE       empties the bank's TLB, in any state.
 *   5 PAGE_FAULT_DONE if a page fault is active: leaves page-fault mode; the stalled
 *                     access is replayed on the master's next attempt. Otherwise ignored.
 *                     INT_RAWSTAT, PAGE_FAULT_ADDR and the write bit are kept.
 *   6 FORCE_RESET     in any state: every register back to its power-on value
 *                     (DTE_ADDR 0, paging and stall off, no fault, interrupts cleared and
 *                     masked, AUTO_GATING 0x3) and the TLB emptied.
 *   other             ignored (counted in bad_cmds, logged as a guest error).
 * Ignored commands are counted in ignored_cmds. Commands complete at once: STATUS reflects
 * them on the next read.
 *
 * Translation of a 32-bit IOVA through one bank:
 *   - stall active or page fault active: the master waits; -EAGAIN, no state change;
 *   - paging disabled: bypass, PA = IOVA;
 *   - otherwise look up the TLB, else walk DTE_ADDR -> DTE (4 KiB table of 1024 entries,
 *     index IOVA 31:22) -> PTE (index IOVA 21:12) -> page, reading simulated memory with
 *     acquire loads. A DTE without V, a PTE without V, or a PTE without R (read) / W
 *     (write) is a page fault: PAGE_FAULT_ADDR = IOVA, the write bit latched, INT_RAWSTAT
 *     bit 0 set, PAGE_FAULT_ACTIVE set and the bank stalls until PAGE_FAULT_DONE. A
 *     descriptor fetch outside simulated memory is a bus error: INT_RAWSTAT bit 1 set,
 *     PAGE_FAULT_ADDR = IOVA, no stall; the access is aborted.
 *
 * TLB (per bank, tlb_entries slots shared by DTEs and PTEs): a walk fetches a whole line of
 * tlb_line_entries aligned descriptors around the one it needs and caches all of them,
 * invalid ones included, tagged by IOVA (DTE index or page number), not by DTE_ADDR. So a
 * cleared PTE keeps translating until zapped, a new mapping next to a cached line faults
 * until zapped, and a new DTE_ADDR uses old entries until ZAP_CACHE. This is the cache the
 * upstream driver reasons about when it zaps the first and last IOVA of every new mapping
 * and zaps before PAGE_FAULT_DONE. The TLB never drops entries on its own: only ZAP_CACHE,
 * ZAP_ONE_LINE and FORCE_RESET shrink it; when full, a fill replaces a victim chosen by a
 * PRNG seeded from the config, so the count stays the same.
 *
 * Several banks (RK3568 display IOMMUs): each bank keeps its own registers, state and TLB;
 * a driver must program every bank alike. ih_rk_iommu_hw_translate() issues the access on
 * every bank in turn and fails when they disagree, so a bank the driver forgot shows up.
 *
 * Locking: one mutex per instance guards every bank, TLB and statistic; MMIO accesses and
 * translations from any thread serialise on it. The interrupt callback runs after it is
 * dropped. Lock order: rk_iommu_hw.lock is a leaf (only physmem accessors, which take no
 * lock, run under it).
 */

#define IH_RK_IOMMU_MAX_BANKS	 4
#define IH_RK_IOMMU_BANK_SIZE	 0x100 /* MMIO window claimed per bank */
#define IH_RK_IOMMU_TLB_DEFAULT	 64
#define IH_RK_IOMMU_TLB_MAX	 4096
#define IH_RK_IOMMU_LINE_DEFAULT 16 /* 64-byte line of 4-byte descriptors */
#define IH_RK_IOMMU_ALL_BANKS	 (-1)

/* Descriptor and DTE_ADDR formats. */
enum ih_rk_iommu_version {
	IH_RK_IOMMU_HW_V1 = 1, /* "rockchip,iommu": 32-bit PA */
	IH_RK_IOMMU_HW_V2 = 2, /* "rockchip,rk3568-iommu": 40-bit PA */
};

/**
 * typedef ih_rk_iommu_irq_fn - a bank's interrupt line went from low to high.
 * @opaque: cfg->irq_opaque.
 * @bank: the bank whose INT_STATUS became non-zero.
 *
 * Called without the device lock, from the thread whose action raised the line (a DMA
 * access that faulted, or an INT_MASK write that unmasked a pending cause). A handler may
 * access the registers; one that must not run in that context should defer.
 */
typedef void (*ih_rk_iommu_irq_fn)(void *opaque, unsigned int bank);

/**
 * struct ih_rk_iommu_hw_config - one IOMMU instance.
 * @version: IH_RK_IOMMU_HW_V1 or IH_RK_IOMMU_HW_V2.
 * @nbanks: register banks, 1..IH_RK_IOMMU_MAX_BANKS.
 * @bank_base: MMIO base of each bank (IH_RK_IOMMU_BANK_SIZE aligned, not overlapping).
 * @tlb_entries: TLB slots per bank, 1..IH_RK_IOMMU_TLB_MAX; 0 selects
 *               IH_RK_IOMMU_TLB_DEFAULT.
 * @tlb_line_entries: descriptors fetched and cached per walk step, a power of two
 *                    1..16 and at most @tlb_entries; 0 selects the smaller of
 *                    IH_RK_IOMMU_LINE_DEFAULT and @tlb_entries.
 * @seed: seed of the TLB victim choice; 0 derives it from the world seed.
 * @irq: optional interrupt callback, NULL for none (poll INT_STATUS instead).
 * @irq_opaque: passed to @irq.
 * @name: for log messages ("rk_iommu: <name> bank N: ..."); NULL gives "mmu".
 */
struct ih_rk_iommu_hw_config {
	enum ih_rk_iommu_version version;
	unsigned int nbanks;
	u64 bank_base[IH_RK_IOMMU_MAX_BANKS];
	unsigned int tlb_entries;
	unsigned int tlb_line_entries;
	u64 seed;
	ih_rk_iommu_irq_fn irq;
	void *irq_opaque;
	const char *name;
};

/**
 * struct ih_rk_iommu_hw_stats - counters, per bank or summed over banks.
 * @translations: accesses presented (each bank counts its own).
 * @bypassed: translated with paging disabled.
 * @tlb_hits: descriptor lookups served by the TLB (DTE and PTE counted apart).
 * @line_fills: descriptor lines fetched from memory.
 * @page_faults: page faults latched.
 * @bus_errors: descriptor fetches outside simulated memory.
 * @stalled: accesses refused with -EAGAIN (stall or pending fault).
 * @zap_cache: ZAP_CACHE commands.
 * @zap_lines: ZAP_ONE_LINE writes.
 * @force_resets: FORCE_RESET commands.
 * @ignored_cmds: commands whose precondition was not met.
 * @bad_cmds: unknown command values.
 * @bank_mismatches: instance-level accesses the banks translated differently (only in the
 *                   sum).
 */
struct ih_rk_iommu_hw_stats {
	u64 translations;
	u64 bypassed;
	u64 tlb_hits;
	u64 line_fills;
	u64 page_faults;
	u64 bus_errors;
	u64 stalled;
	u64 zap_cache;
	u64 zap_lines;
	u64 force_resets;
	u64 ignored_cmds;
	u64 bad_cmds;
	u64 bank_mismatches;
};

/**
 * ih_rk_iommu_hw_create() - build an instance and claim one MMIO window per bank.
 * @w: the world.
 * @cfg: the configuration (copied).
 * @out: the new instance.
 *
 * Every bank starts in its power-on state.
 *
 * Context: any thread; not concurrently with accesses to the same bases.
 * Return: 0; -EINVAL for a bad configuration (a message says what) or a bank window that
 * overlaps another MMIO region; -ENOMEM when an allocation fails (nothing is left behind).
 */
int ih_rk_iommu_hw_create(struct ih_world *w, const struct ih_rk_iommu_hw_config *cfg,
			  struct ih_rk_iommu_hw **out);

/**
 * ih_rk_iommu_hw_destroy() - remove the MMIO windows and free the instance.
 * @hw: the instance; NULL is ignored.
 *
 * Context: no access to the instance may be in flight or follow.
 */
void ih_rk_iommu_hw_destroy(struct ih_rk_iommu_hw *hw);

/**
 * ih_rk_iommu_hw_translate_bank() - one access by the master behind @bank.
 * @hw: the instance.
 * @bank: 0..nbanks-1.
 * @iova: the address the master emits; only 32 bits exist on its bus.
 * @write: true for a write access.
 * @pa: out, the physical address on success (untouched on error).
 *
 * Context: any thread.
 * Return: 0; -EAGAIN when the bank is stalled or waits for PAGE_FAULT_DONE (retry
 * later); -EFAULT for a page fault on an invalid DTE or PTE; -EACCES for a page fault on a
 * PTE without the needed R/W permission; -EIO for a bus error on a descriptor fetch;
 * -ERANGE when @iova does not fit in 32 bits; -EINVAL for a bad @bank.
 */
int ih_rk_iommu_hw_translate_bank(struct ih_rk_iommu_hw *hw, unsigned int bank, u64 iova,
				  bool write, ih_pa_t *pa);

/**
 * ih_rk_iommu_hw_translate() - one access by the instance's master(s).
 * @hw: the instance.
 * @iova: the address; 32 bits.
 * @write: true for a write access.
 * @pa: out, the physical address on success (untouched on error).
 *
 * The access is issued on bank 0, 1, ... in turn and stops at the first error. A display
 * controller fetches through all of its ports, so every bank must agree.
 *
 * Context: any thread.
 * Return: 0 or any error of ih_rk_iommu_hw_translate_bank(); -EXDEV when every bank
 * translated but to different PAs (counted in bank_mismatches; a driver that programmed
 * one bank differently).
 */
int ih_rk_iommu_hw_translate(struct ih_rk_iommu_hw *hw, u64 iova, bool write, ih_pa_t *pa);

/**
 * ih_rk_iommu_hw_get_stats() - copy counters.
 * @hw: the instance.
 * @bank: a bank, or IH_RK_IOMMU_ALL_BANKS for the sum.
 * @st: out.
 *
 * Context: any thread.
 * Return: 0, or -EINVAL for a bad @bank.
 */
int ih_rk_iommu_hw_get_stats(struct ih_rk_iommu_hw *hw, int bank, struct ih_rk_iommu_hw_stats *st);

/**
 * ih_rk_iommu_hw_tlb_count() - TLB slots in use in @bank (DTE and PTE entries).
 * Context: any thread. Return: the count, or 0 for a bad @bank.
 */
unsigned int ih_rk_iommu_hw_tlb_count(struct ih_rk_iommu_hw *hw, unsigned int bank);

/**
 * ih_rk_iommu_hw_tlb_holds() - whether any bank with paging enabled still caches a valid
 * PTE for the page of @iova (for IOTLB-staleness checks; a bank with paging off bypasses
 * its TLB, so its leftovers translate nothing; reads no registers, changes nothing).
 * Context: any thread.
 */
bool ih_rk_iommu_hw_tlb_holds(struct ih_rk_iommu_hw *hw, u64 iova);

/**
 * ih_rk_iommu_hw_irq_line() - level of @bank's interrupt line (INT_STATUS != 0).
 * Context: any thread. Return: false also for a bad @bank.
 */
bool ih_rk_iommu_hw_irq_line(struct ih_rk_iommu_hw *hw, unsigned int bank);

/* ih_rk_iommu_hw_nbanks() / ih_rk_iommu_hw_version() - as configured. */
unsigned int ih_rk_iommu_hw_nbanks(const struct ih_rk_iommu_hw *hw);
enum ih_rk_iommu_version ih_rk_iommu_hw_version(const struct ih_rk_iommu_hw *hw);

#endif /* IH_HW_RK_IOMMU_HW_H */
