/* SPDX-License-Identifier: MIT */
/* io-pgtable: ARM LPAE (stage 1/2) and Rockchip page tables in simulated memory. */
#ifndef IH_IO_PGTABLE_H
#define IH_IO_PGTABLE_H

#include <ih/compat.h>
#include <ih/physmem.h>

struct ih_world;

/*
 * A page-table format is a set of ops (map_pages, unmap_pages, iova_to_phys) plus a
 * configuration with quirk bits, as in the kernel. The table itself lives in simulated
 * physical memory (ih_pm_alloc), laid out exactly as the hardware walker expects, so an
 * emulated IOMMU reads it by PA. A driver supplies flush ops; the table code calls them
 * when it removes leaf entries or frees a table.
 *
 * Synchronisation: map_pages, unmap_pages and iova_to_phys may be called from any thread
 * at any time on the same table, on ranges that do not overlap (as the kernel requires:
 * the DMA layer hands out disjoint IOVA ranges). LPAE takes no lock, as the kernel's
 * io-pgtable-arm: a missing table is installed with a compare-and-swap and the flush ops
 * are called with nothing held. Rockchip takes no lock either: a page table, once
 * installed (compare-and-swap on its DTE), stays until the table is freed, as the
 * kernel's rockchip-iommu driver keeps page tables until the domain is freed, so an
 * unmap never calls tlb_flush_walk there. A flush op must not call back into the same
 * table.
 * ih_io_pgtable_free() must not race with any other call on the table.
 *
 * Descriptor publication: a new table is zeroed by ih_pm_alloc() before the descriptor
 * pointing to it is written with a release store; every descriptor update is a single
 * 64-bit (LPAE) or 32-bit (Rockchip) release store, so a walker that loads descriptors
 * with acquire (ih_pm_load64/32) never sees a half-written entry or table.
 */

/**
 * enum ih_io_pgtable_fmt - supported formats.
 * @IH_ARM_64_LPAE_S1: VMSAv8-64 stage 1 (Arm ARM D8, "VMSAv8-64 translation table format").
 * @IH_ARM_64_LPAE_S2: VMSAv8-64 stage 2, with concatenated start-level tables.
 * @IH_RK_IOMMU_V1: Rockchip IOMMU, two levels, 32-bit PA (rk3288 and older).
 * @IH_RK_IOMMU_V2: Rockchip IOMMU v2 (rk3568), 40-bit PA packed into 32-bit descriptors.
 */
enum ih_io_pgtable_fmt {
	IH_ARM_64_LPAE_S1,
	IH_ARM_64_LPAE_S2,
	IH_RK_IOMMU_V1,
	IH_RK_IOMMU_V2,
	IH_IO_PGTABLE_NUM_FMTS,
};

/*
 * Mapping permissions and attributes (values as the kernel's IOMMU_* flags). A mapping
 * needs READ or WRITE; unknown bits are refused.
 *
 * LPAE stage 1 (Arm ARM D8.3 "Memory attribute fields"):
 *   AttrIndx[2:0] picks a MAIR byte: 0 = Normal Non-cacheable (0x44) by default,
 *   1 = Normal Write-Back RW-allocate (0xff) for CACHE, 2 = Device-nGnRE (0x04) for MMIO
 *   (MMIO wins over CACHE). AP[2] (bit 7) = read-only when WRITE is absent (stage 1 has no
 *   write-only encoding: WRITE implies READ); AP[1] (bit 6) = unprivileged access allowed
 *   unless PRIV. NOEXEC sets UXN and PXN (bits 54, 53). SH = Inner Shareable for CACHE,
 *   else Outer Shareable. AF = 1 and nG = 1 (bit 11: tagged by the domain's ASID) always.
 * LPAE stage 2: MemAttr[3:0] = 0xf (Normal WB/WB) for CACHE, 0x1 (Device-nGnRE) for MMIO,
 *   0x5 (Normal NC/NC) otherwise; S2AP[0] (bit 6) = READ, S2AP[1] (bit 7) = WRITE, so
 *   write-only works; NOEXEC sets XN[1] (bit 54) only, which is execute-never with and
 *   without FEAT_XNX; PRIV is ignored (stage 2 has no privilege distinction).
 * Rockchip: READ and WRITE bits only; the other flags are accepted and ignored.
 */
#define IH_PROT_READ   BIT(0)
#define IH_PROT_WRITE  BIT(1)
#define IH_PROT_CACHE  BIT(2)
#define IH_PROT_NOEXEC BIT(3)
#define IH_PROT_MMIO   BIT(4)
#define IH_PROT_PRIV   BIT(5)
#define IH_PROT_ALL                                                                                \
	(IH_PROT_READ | IH_PROT_WRITE | IH_PROT_CACHE | IH_PROT_NOEXEC | IH_PROT_MMIO |            \
	 IH_PROT_PRIV)

/* Stage 1 MAIR attribute indices and the MAIR value the table code publishes. */
#define IH_LPAE_MAIR_IDX_NC	0
#define IH_LPAE_MAIR_IDX_CACHE	1
#define IH_LPAE_MAIR_IDX_DEV	2
#define IH_LPAE_MAIR_ATTR_NC	0x44
#define IH_LPAE_MAIR_ATTR_CACHE 0xff
#define IH_LPAE_MAIR_ATTR_DEV	0x04

/*
 * Quirks. NON_STRICT: leaf entries removed by unmap_pages are not passed to tlb_add_page;
 * the table code only widens the gather range (start/end) and leaves the invalidation to
 * the caller's flush queue. gather->queued has the same effect for one call, and is what
 * the fixed DMA layer uses (one snapshot per unmap); the quirk exists for the old,
 * mutable-per-table behaviour. Tables freed by unmap are always flushed with
 * tlb_flush_walk before they are freed, strict or not, because their memory is reused.
 */
#define IH_IO_PGTABLE_QUIRK_NON_STRICT BIT(0)
#define IH_IO_PGTABLE_QUIRKS_ALL       (IH_IO_PGTABLE_QUIRK_NON_STRICT)

/**
 * struct ih_iommu_iotlb_gather - invalidations collected by one unmap, to sync later.
 * @start: lowest IOVA gathered (ULLONG_MAX when empty).
 * @end: highest IOVA gathered, inclusive (0 when empty).
 * @pgsize: leaf size the driver gathered with (0 when none); the driver sets it in its
 *          tlb_add_page, the table code never does.
 * @queued: set by the caller (the DMA layer, from one flush-queue snapshot) when the leaf
 *          invalidations will be done by a later flush of the whole queue: unmap_pages then
 *          treats the call as NON_STRICT.
 */
struct ih_iommu_iotlb_gather {
	u64 start;
	u64 end;
	size_t pgsize;
	bool queued;
};

/* ih_iommu_iotlb_gather_init() - an empty, strict gather. */
void ih_iommu_iotlb_gather_init(struct ih_iommu_iotlb_gather *gather);

/* ih_iommu_iotlb_gather_add_range() - widen @gather to cover [iova, iova + size). */
void ih_iommu_iotlb_gather_add_range(struct ih_iommu_iotlb_gather *gather, u64 iova, size_t size);

/*
 * ih_iommu_iotlb_gather_is_disjoint() - true when [iova, iova + size) neither overlaps nor
 * touches the gathered range (an empty gather is never disjoint): a driver syncs what it
 * gathered before adding a disjoint page.
 */
bool ih_iommu_iotlb_gather_is_disjoint(const struct ih_iommu_iotlb_gather *gather, u64 iova,
				       size_t size);

/**
 * struct ih_iommu_flush_ops - TLB maintenance the driver supplies (each member optional).
 * @tlb_flush_all: invalidate every entry of this context, synchronously. Called once by
 *                 ih_io_pgtable_free() before the tables are freed.
 * @tlb_flush_walk: invalidate leaf and walk-cache entries for [iova, iova + size) whose
 *                  leaves are @granule bytes, and wait for completion: the table code frees
 *                  the table page as soon as it returns.
 * @tlb_add_page: queue invalidation of one leaf of @granule bytes at @iova into @gather
 *                (the driver may sync first when the page is disjoint or of another size);
 *                the caller syncs the gather after unmap_pages. Only called when strict.
 */
struct ih_iommu_flush_ops {
	void (*tlb_flush_all)(void *cookie);
	void (*tlb_flush_walk)(u64 iova, size_t size, size_t granule, void *cookie);
	void (*tlb_add_page)(struct ih_iommu_iotlb_gather *gather, u64 iova, size_t granule,
			     void *cookie);
};

/**
 * struct ih_io_pgtable_cfg - what the driver asks for and what the hardware needs back.
 * @quirks: IH_IO_PGTABLE_QUIRK_* bits.
 * @pgsize_bitmap: in: page sizes the IOMMU supports; out: the sizes this table maps.
 *                 LPAE picks the smallest of 4K/16K/64K present as the granule and keeps
 *                 the block sizes of that granule that its levels can hold
 *                 (4K: 4K|2M|1G, 16K: 16K|32M, 64K: 64K|512M). Rockchip keeps
 *                 4K..4M (0x007ff000), every size mapped as 4K entries.
 * @ias: input (IOVA) address bits. LPAE: 25..48. Rockchip: 22..32, 0 means 32.
 * @oas: output address bits. LPAE: 32, 36, 40, 42, 44 or 48 (the PARange values); table
 *       pages must also lie below 2^oas. Rockchip: 22..32 (v1) or 22..40 (v2), 0 means
 *       the maximum; table pages must lie below 4G (v1) or 1T (v2).
 * @coherent_walk: the walker snoops CPU caches: selects cacheable, inner-shareable walks.
 * @tlb: the flush ops; NULL for none.
 * @arm_lpae_s1_cfg: stage 1 outputs.
 * @arm_lpae_s1_cfg.ttbr: PA of the start-level table (TTB0 / CD.TTB0).
 * @arm_lpae_s1_cfg.tcr: TCR-style fields: T0SZ = 64 - ias; TG0 (0 = 4K, 1 = 64K, 2 = 16K);
 *      IRGN0/ORGN0 (1 = WB RW-allocate when coherent, else 0 = non-cacheable); SH0 (3 =
 *      inner shareable when coherent, else 2 = outer); IPS (0..5 for 32/36/40/42/44/48).
 * @arm_lpae_s1_cfg.mair: MAIR, attribute bytes at the IH_LPAE_MAIR_IDX_* indices.
 * @arm_lpae_s2_cfg: stage 2 outputs.
 * @arm_lpae_s2_cfg.vttbr: PA of the (possibly concatenated) start-level table.
 * @arm_lpae_s2_cfg.vtcr: VTCR-style fields: T0SZ, SL0 (start level encoded as VTCR_EL2.SL0:
 *      4K: 2 = level 0, 1 = level 1, 0 = level 2; 16K/64K: 2 = level 1, 1 = level 2,
 *      0 = level 3), TG0, IRGN0, ORGN0, SH0 as above, PS as IPS.
 * @rk_cfg: Rockchip outputs.
 * @rk_cfg.dte_addr: PA of the directory table.
 * @rk_cfg.dte_addr_reg: the value to write to the DTE_ADDR register (the DT address packed
 *      like a DTE address, valid bit clear).
 */
struct ih_io_pgtable_cfg {
	unsigned long quirks;
	unsigned long pgsize_bitmap;
	unsigned int ias;
	unsigned int oas;
	bool coherent_walk;
	const struct ih_iommu_flush_ops *tlb;

	union {
		struct {
			ih_pa_t ttbr;
			struct {
				u8 t0sz;
				u8 tg0;
				u8 irgn0;
				u8 orgn0;
				u8 sh0;
				u8 ips;
			} tcr;
			u64 mair;
		} arm_lpae_s1_cfg;
		struct {
			ih_pa_t vttbr;
			struct {
				u8 t0sz;
				u8 sl0;
				u8 tg0;
				u8 irgn0;
				u8 orgn0;
				u8 sh0;
				u8 ps;
			} vtcr;
		} arm_lpae_s2_cfg;
		struct {
			ih_pa_t dte_addr;
			u32 dte_addr_reg;
		} rk_cfg;
	};
};

/**
 * struct ih_io_pgtable_ops - what a format does (never NULL members).
 * @map_pages: map @pgcount pages of @pgsize bytes from @iova to @paddr with @prot.
 *	Each page becomes exactly one descriptor of @pgsize (LPAE: a page or block entry at
 *	the level of that size; Rockchip: @pgsize / 4K page entries).
 *	@mapped (may be NULL) gets the bytes mapped; on error they stay mapped and the caller
 *	unmaps them if it wants to (as iommu_map does). Arguments are checked in this order
 *	and nothing is mapped when one fails: -EINVAL for a @prot with unknown bits or
 *	neither READ nor WRITE, a @pgsize not in pgsize_bitmap, a @pgcount of 0, or an @iova
 *	or @paddr not aligned to @pgsize; -ERANGE when [iova, iova + pgsize * pgcount)
 *	leaves the input range or [paddr, ...) the output range. Then page by page:
 *	-EEXIST when the page overlaps any live mapping (a block over it, or smaller
 *	mappings under it; LPAE: tables under it that hold no leaf any more are unhooked,
 *	tlb_flush_walk'ed over the block's span and freed, and the block takes their place,
 *	as in io-pgtable-arm); -ENOMEM when a table page cannot be allocated. LPAE keeps the
 *	tables a failing call installed (as the kernel does); Rockchip frees an empty page
 *	table it allocated again (after tlb_flush_walk).
 *	Context: any thread, no overlapping call; Rockchip takes the table lock.
 *	Return: 0 or the negative errno above.
 * @unmap_pages: unmap @pgcount pages of @pgsize from @iova, stopping at the first page
 *	that has nothing mapped. For each page: a leaf of exactly @pgsize is cleared and
 *	passed to tlb_add_page (strict) or only added to the @gather range (NON_STRICT or
 *	@gather->queued); a table where a leaf of @pgsize would be (smaller mappings) is
 *	cleared with everything under it, tlb_flush_walk'ed and freed. A block larger than
 *	@pgsize is *not* split: the call stops there and the block stays (the kernel's
 *	current behaviour; callers unmap what they mapped). LPAE leaves a table that this
 *	empties in place (the kernel's io-pgtable-arm frees a table only under a block-sized
 *	unmap of its parent entry, or with the whole page table), so a partial unmap costs
 *	no walk flush; Rockchip unhooks an emptied page table, tlb_flush_walk's its 4M span
 *	and frees it. A bad @pgsize, misaligned @iova, @pgcount of 0, range outside ias or
 *	NULL @gather unmaps nothing.
 *	Context: any thread, no overlapping call; Rockchip takes the table lock.
 *	Return: bytes unmapped (0 on bad arguments or when nothing is mapped at @iova).
 * @iova_to_phys: translate @iova.
 *	Context: any thread (LPAE: not on a range being unmapped); Rockchip takes the table
 *	lock. Return: the PA, or IH_PA_INVALID when
 *	@iova is not mapped or outside the input range.
 */
struct ih_io_pgtable_ops {
	int (*map_pages)(struct ih_io_pgtable_ops *ops, u64 iova, ih_pa_t paddr, size_t pgsize,
			 size_t pgcount, int prot, size_t *mapped);
	size_t (*unmap_pages)(struct ih_io_pgtable_ops *ops, u64 iova, size_t pgsize,
			      size_t pgcount, struct ih_iommu_iotlb_gather *gather);
	ih_pa_t (*iova_to_phys)(struct ih_io_pgtable_ops *ops, u64 iova);
};

/**
 * ih_io_pgtable_alloc() - allocate an empty table of format @fmt.
 * @w: the world; the table's memory comes from its simulated memory.
 * @fmt: the format.
 * @cfg: in: quirks, pgsize_bitmap, ias, oas, coherent_walk, tlb; out: the adjusted
 *       pgsize_bitmap/ias/oas and the format's hardware fields. The table keeps a copy.
 * @cookie: passed to every flush op.
 *
 * Allocation sites: "io_pgtable:lpae", "io_pgtable:lpae-pgd" and "io_pgtable:lpae-table"
 * (LPAE); "io_pgtable:rk", "io_pgtable:rk-dt" and "io_pgtable:rk-pt" (Rockchip).
 *
 * Context: any thread.
 * Return: the ops, or NULL for an unknown format, unknown quirk bits, no usable page size,
 * an unsupported ias/oas (a guest_error log line says which), or when memory runs out.
 */
struct ih_io_pgtable_ops *ih_io_pgtable_alloc(struct ih_world *w, enum ih_io_pgtable_fmt fmt,
					      struct ih_io_pgtable_cfg *cfg, void *cookie);

/**
 * ih_io_pgtable_free() - call tlb_flush_all once, then free every table page and @ops.
 * NULL is ignored. Context: no other call on the table may run.
 */
void ih_io_pgtable_free(struct ih_io_pgtable_ops *ops);

/**
 * ih_io_pgtable_set_quirks() - change the quirk bits of a live table.
 * @quirks: the new IH_IO_PGTABLE_QUIRK_* bits.
 *
 * A relaxed store, read once per unmap_pages call: a concurrent unmap sees the old or the
 * new value. This is the pre-5.15 way of going lazy on a live domain (the fixed path uses
 * gather->queued instead) and exists so that path can be replayed.
 *
 * Context: any thread. Return: 0, or -EINVAL for unknown bits.
 */
int ih_io_pgtable_set_quirks(struct ih_io_pgtable_ops *ops, unsigned long quirks);

/* ih_io_pgtable_fmt_of() - the format of a table. */
enum ih_io_pgtable_fmt ih_io_pgtable_fmt_of(const struct ih_io_pgtable_ops *ops);

/* ih_io_pgtable_cfg_of() - the table's copy of its configuration (outputs filled in). */
const struct ih_io_pgtable_cfg *ih_io_pgtable_cfg_of(const struct ih_io_pgtable_ops *ops);

/* ih_io_pgtable_table_bytes() - simulated-memory bytes the table holds right now. */
size_t ih_io_pgtable_table_bytes(const struct ih_io_pgtable_ops *ops);

/*
 * Reference shadow: an obviously-correct model of what a table of the same format and
 * configuration must contain, kept as a sorted array of (iova, size, pa, prot) leaves.
 * It predicts each call's result from the documented semantics above, independently of
 * the table code, and ih_pgtable_check() compares a walk of the real table with it.
 */
struct ih_pgtable_shadow;

/**
 * ih_pgtable_shadow_create() - a shadow for tables of @fmt configured like @cfg (use the
 * cfg after ih_io_pgtable_alloc() filled it in). Allocation site "io_pgtable:shadow".
 *
 * A shadow is not locked: one thread uses it, as the fuzzer and tests do.
 *
 * Context: any thread. Return: 0, -EINVAL for a bad @fmt or @cfg, or -ENOMEM.
 */
int ih_pgtable_shadow_create(struct ih_world *w, enum ih_io_pgtable_fmt fmt,
			     const struct ih_io_pgtable_cfg *cfg, struct ih_pgtable_shadow **out);

/* ih_pgtable_shadow_destroy() - free a shadow; NULL is ignored. */
void ih_pgtable_shadow_destroy(struct ih_pgtable_shadow *sh);

/**
 * ih_pgtable_shadow_map() - what map_pages must do, applied to the shadow.
 * Return: as map_pages (never -ENOMEM for a table reason); -ENOMEM only when the shadow
 * itself cannot grow.
 */
int ih_pgtable_shadow_map(struct ih_pgtable_shadow *sh, u64 iova, ih_pa_t paddr, size_t pgsize,
			  size_t pgcount, int prot, size_t *mapped);

/* ih_pgtable_shadow_unmap() - what unmap_pages must do. Return: bytes unmapped. */
size_t ih_pgtable_shadow_unmap(struct ih_pgtable_shadow *sh, u64 iova, size_t pgsize,
			       size_t pgcount);

/* ih_pgtable_shadow_iova_to_phys() - the PA @iova must translate to, or IH_PA_INVALID. */
ih_pa_t ih_pgtable_shadow_iova_to_phys(const struct ih_pgtable_shadow *sh, u64 iova);

/* ih_pgtable_shadow_count() - leaves in the shadow (Rockchip: 4K pages). */
size_t ih_pgtable_shadow_count(const struct ih_pgtable_shadow *sh);

/**
 * ih_pgtable_check() - walk the real table from its hardware fields and compare.
 * @ops: the table.
 * @sh: its shadow.
 * @msg: out (may be NULL): the first mismatch, e.g. "lpae: iova 0x200000 level 2: shadow
 *       has pa 0x40000000 size 0x200000, table has nothing".
 * @len: size of @msg.
 *
 * The walk starts from the published fields a hardware walker uses (TTBR + T0SZ/TG0 for
 * stage 1, VTTBR + T0SZ/SL0/TG0 for stage 2, the DTE_ADDR register for Rockchip), decodes
 * every descriptor with its own decoder and requires: no reserved bit set, no invalid
 * entry with stale bits, no empty page table (Rockchip; LPAE keeps emptied tables, as
 * the kernel does), every leaf equal to a
 * shadow leaf (iova, size, pa, normalised prot) and no shadow leaf missing.
 *
 * Context: no concurrent map/unmap on the table.
 * Return: 0 when equal; -EINVAL on the first mismatch (@msg says which); -EFAULT when a
 * table pointer leaves simulated memory.
 */
int ih_pgtable_check(struct ih_io_pgtable_ops *ops, const struct ih_pgtable_shadow *sh, char *msg,
		     size_t len);

#endif /* IH_IO_PGTABLE_H */
