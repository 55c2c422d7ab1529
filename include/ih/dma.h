/* SPDX-License-Identifier: MIT */
/* The DMA API over the IOMMU (dma-iommu): map/unmap, sg lists, coherent buffers, flush queue. */
#ifndef IH_DMA_H
#define IH_DMA_H

#include <ih/compat.h>
#include <ih/iommu.h>
#include <ih/physmem.h>

struct ih_device;
struct ih_iova_domain;

/*
 * Where a device's DMA addresses come from:
 *   no IOMMU group            dma-direct: DMA address = PA;
 *   default domain identity   DMA address = PA;
 *   default domain DMA        IOVA from the domain's allocator, mapped, strict unmap:
 *                             iotlb_sync before the IOVA goes back to the allocator;
 *   default domain DMA-FQ     lazy unmap: the IOVA waits in the flush queue until a
 *                             flush of the whole IOTLB has completed.
 * The cookie (IOVA domain + flush-queue state) is created with a DMA or DMA-FQ domain
 * (ih_dma_domain_init(), called by the IOMMU core) and destroyed with it.
 *
 * Unmap: one acquire read of the cookie's flush-queue domain per call is copied into
 * gather.queued, and that single snapshot decides everything for the call: io-pgtable
 * skips the leaf invalidations (queued), the iotlb_sync is skipped (queued), and the IOVA
 * is queued rather than freed (queued). A strict-to-lazy flip (ih_dma_init_fq() on a live
 * domain) publishes the fully built queue with a release store, so an unmap sees either
 * the whole old mode or the whole new one. Schedule points, in order along one unmap:
 *   "dma:unmap:after-fq-read"  mode read, nothing unmapped yet
 *   "dma:unmap:before-sync"    leaves cleared, invalidation not yet synced (strict)
 *   "dma:unmap:before-free"    synced (strict), IOVA not yet freed or queued
 * and along the flip (ih_dma_init_fq()):
 *   "dma:flip:queue-built"     the queue is complete, the mode not yet published
 *   "dma:flip:published"       unmaps are lazy now; the caller has not set the type yet
 * Replays (ih/regress.h): fq-domain-reread makes the unmap read the mode twice, unordered
 * (first read: free or queue; second: sync or skip); fq-flip-unordered makes the flip
 * publish the mode and the io-pgtable NON_STRICT quirk before the queue exists, so an
 * unmap can find lazy mode with no queue (its IOVA is then freed unsynced).
 *
 * Flush queue: per-CPU rings (the calling model CPU's) or one shared ring for IOMMUs that
 * shadow flushes; a 64-bit count of flushes started and one of flushes finished; each
 * entry is stamped with the started count when queued and reclaimed only once the
 * finished count has moved past its stamp; a full ring forces a flush-all; a timer on the
 * world clock (armed once through an atomic flag) flushes everything after the timeout.
 *
 * Synchronisation:
 * | call                                   | may run concurrently with                   |
 * | -------------------------------------- | ------------------------------------------- |
 * | map/unmap page/sg, alloc/free_coherent | each other, on any device and CPU          |
 * | ih_dma_init_fq                         | map/unmap on the domain (the live flip)     |
 * | ih_dma_fq_flush                        | anything                                    |
 * | ih_dma_set_fq_options                  | nothing on the domain (set-up time)         |
 * | ih_dma_domain_init / _fini             | nothing on the domain (the core calls them) |
 * Lock order: cookie mutex -> ring lock -> (driver flush ops) -> IOVA locks.
 *
 * The DMA API trusts its caller as the kernel does: dma-debug (ih/check.h, on by default)
 * is what rejects an unmap of an unknown address, a wrong size or direction, and calls on
 * a device without a driver or without a usable domain, with a report and an errno.
 */

/* DMA attributes (bit flags). */
#define IH_DMA_ATTR_PRIVILEGED BIT(0) /* map privileged-only (IH_PROT_PRIV) */
#define IH_DMA_ATTR_MMIO       BIT(1) /* the target is MMIO (IH_PROT_MMIO) */
#define IH_DMA_ATTRS_ALL       (IH_DMA_ATTR_PRIVILEGED | IH_DMA_ATTR_MMIO)

/**
 * struct ih_dma_sg - one scatterlist entry.
 * @pa: physical address of the data (any alignment).
 * @length: bytes.
 * @dma_address: out: the DMA address of the entry after ih_dma_map_sg().
 * @dma_length: out: its length.
 */
struct ih_dma_sg {
	ih_pa_t pa;
	size_t length;
	u64 dma_address;
	size_t dma_length;
};

/**
 * ih_dma_map_page() - map [pa, pa + size) for DMA by @dev in direction @dir.
 * @attrs: IH_DMA_ATTR_* bits.
 * @dma: out: the DMA address (keeps @pa's offset inside the IOMMU granule).
 *
 * Context: any thread. Return: 0; -EINVAL (NULL @dev or @dma, @size 0, bad @dir or
 * @attrs, range wrapping); -ENODEV (dma-debug: no driver bound, or the group is not in its
 * default domain; or the default domain has no cookie); -ENOMEM (no IOVA space, no
 * memory); driver map errors. Nothing stays mapped on error.
 */
int ih_dma_map_page(struct ih_device *dev, ih_pa_t pa, size_t size, enum ih_dma_dir dir,
		    unsigned long attrs, u64 *dma);

/**
 * ih_dma_unmap_page() - undo ih_dma_map_page() with the same @size and @dir.
 *
 * A call on a device with no driver bound is reported (the mapping is still released).
 * Context: any thread. Return: 0; -EINVAL (bad arguments, or dma-debug found no such
 * mapping, another size or another direction: the call then changes nothing); -ENODEV
 * (no usable domain).
 */
int ih_dma_unmap_page(struct ih_device *dev, u64 dma, size_t size, enum ih_dma_dir dir,
		      unsigned long attrs);

/**
 * ih_dma_map_page_at() - map [pa, pa + size) for DMA by @dev at the caller's DMA address
 * @dma instead of one the allocator picks (trace replay: the traced kernel's IOVAs).
 * @dma: the DMA address; its offset inside the IOMMU granule must equal @pa's.
 *
 * The granule-aligned IOVA range is taken out of the domain's allocator (reserved in its
 * tree, so that no later allocation overlaps it); ranges the per-CPU caches hold but
 * nobody uses are given back first when they are in the way. Undo with
 * ih_dma_unmap_page_at() only: it unmaps through the same strict or lazy path as
 * ih_dma_unmap_page() (lazy: the range waits in the flush queue like any other and goes
 * back to the allocator's tree when reclaimed). dma-debug records the mapping as a
 * "fixed page": ih_dma_unmap_page() on it is reported.
 *
 * Context: any thread. Return: 0; -EINVAL (NULL @dev, @size 0, bad @dir or @attrs, a
 * range wrapping or beyond the domain's aperture, offsets of @dma and @pa differing);
 * -ENODEV (dma-debug: no driver bound or not in the default domain; no DMA domain with a
 * cookie: a device without an IOMMU or in an identity domain has no IOVA to place);
 * -EEXIST (the range overlaps one that is mapped, or still waits in the flush queue);
 * -ENOMEM; driver map errors. Nothing stays mapped or reserved on error.
 */
int ih_dma_map_page_at(struct ih_device *dev, u64 dma, ih_pa_t pa, size_t size,
		       enum ih_dma_dir dir, unsigned long attrs);

/**
 * ih_dma_unmap_page_at() - undo ih_dma_map_page_at() with the same @dma, @size and @dir.
 *
 * Context: any thread. Return: 0; -EINVAL (bad arguments, or dma-debug found no such fixed
 * mapping, another size or another direction: the call then changes nothing); -ENODEV (no
 * usable DMA domain).
 */
int ih_dma_unmap_page_at(struct ih_device *dev, u64 dma, size_t size, enum ih_dma_dir dir,
			 unsigned long attrs);

/**
 * ih_dma_map_sg() - map @nents entries at one contiguous IOVA range (as dma-iommu does):
 * each entry gets its own granule-aligned slice, in order, and its dma_address keeps its
 * offset. Return: @nents; or a negative errno as ih_dma_map_page() (-EINVAL also for
 * @nents 0 or an entry of length 0). Nothing stays mapped on error.
 */
int ih_dma_map_sg(struct ih_device *dev, struct ih_dma_sg *sg, unsigned int nents,
		  enum ih_dma_dir dir, unsigned long attrs);

/* ih_dma_unmap_sg() - undo ih_dma_map_sg() (same list, @nents and @dir). Return: as unmap_page. */
int ih_dma_unmap_sg(struct ih_device *dev, struct ih_dma_sg *sg, unsigned int nents,
		    enum ih_dma_dir dir, unsigned long attrs);

/**
 * ih_dma_alloc_coherent() - allocate @size bytes of simulated memory ("dma:coherent")
 * and map them bidirectionally for @dev.
 * @dma: out: the DMA address. @pa: out: the PA (ih_pm_va() gives the CPU's view).
 * Return: 0 or a negative errno as ih_dma_map_page().
 */
int ih_dma_alloc_coherent(struct ih_device *dev, size_t size, u64 *dma, ih_pa_t *pa);

/* ih_dma_free_coherent() - unmap and free a coherent buffer. Return: as ih_dma_unmap_page(). */
int ih_dma_free_coherent(struct ih_device *dev, size_t size, ih_pa_t pa, u64 dma);

/* ---- Cookie and flush queue ---- */

enum ih_dma_fq_type {
	IH_DMA_FQ_PERCPU, /* one ring per model CPU (the default) */
	IH_DMA_FQ_SINGLE, /* one shared ring, for IOMMUs that shadow flushes */
};

#define IH_DMA_FQ_PERCPU_SIZE	    256
#define IH_DMA_FQ_PERCPU_TIMEOUT_NS 10000000ULL /* 10 ms */
#define IH_DMA_FQ_SINGLE_SIZE	    32768
#define IH_DMA_FQ_SINGLE_TIMEOUT_NS 1000000000ULL /* 1000 ms */

/**
 * struct ih_dma_fq_options - flush-queue shape.
 * @type: per-CPU rings or one shared ring.
 * @size: entries per ring, a power of two >= 2 (0: the type's default).
 * @timeout_ns: flush after this long (0: the type's default).
 */
struct ih_dma_fq_options {
	enum ih_dma_fq_type type;
	unsigned int size;
	u64 timeout_ns;
};

/**
 * ih_dma_set_default_fq_options() - the options flush queues built from now on get
 * (world-wide; per-CPU 256 entries / 10 ms until changed). Return: 0 or -EINVAL.
 */
int ih_dma_set_default_fq_options(struct ih_world *w, const struct ih_dma_fq_options *opts);

/**
 * ih_dma_set_fq_options() - rebuild @domain's flush queue with @opts: what is queued is
 * flushed and reclaimed first. Context: set-up time (no concurrent DMA-API call on the
 * domain). Return: 0; -EINVAL (bad options, or not a DMA-FQ domain); -ENOMEM (the old
 * queue is then kept).
 */
int ih_dma_set_fq_options(struct ih_iommu_domain *domain, const struct ih_dma_fq_options *opts);

/**
 * ih_dma_init_fq() - build @domain's flush queue and publish it: from then on unmaps are
 * lazy. Used at creation of a DMA-FQ domain and for a live strict-to-lazy flip (the
 * caller then sets the domain type, as ih_iommu_group_store_type() does under the group
 * mutex). The queue is built completely before the release store that publishes it; on
 * failure nothing is published and the domain stays strict. Allocation site "dma:fq".
 * Context: any thread; may race with map/unmap on the domain; takes the cookie mutex.
 * Return: 0 (also when already lazy); -EINVAL (no cookie); -EOPNOTSUPP (the driver has no
 * flush_iotlb_all); -ENOMEM.
 */
int ih_dma_init_fq(struct ih_iommu_domain *domain);

/* ih_dma_fq_flush() - flush the IOTLB and reclaim every queued IOVA now (no-op when strict). */
void ih_dma_fq_flush(struct ih_iommu_domain *domain);

/**
 * struct ih_dma_fq_stats - flush-queue counters of one domain.
 * @flush_started, @flush_finished: the two 64-bit flush counts.
 * @queued: entries waiting now (all rings).
 * @full_flushes: flushes forced by a full ring.
 * @timer_flushes: flushes run by the timeout.
 * @reclaimed: entries reclaimed so far.
 */
struct ih_dma_fq_stats {
	u64 flush_started;
	u64 flush_finished;
	unsigned long queued;
	unsigned long full_flushes;
	unsigned long timer_flushes;
	unsigned long reclaimed;
};
/* Return: 0, or -EINVAL when @domain is not lazy. */
int ih_dma_fq_get_stats(struct ih_iommu_domain *domain, struct ih_dma_fq_stats *st);

/* The domain's IOVA allocator, or NULL (not a DMA domain). */
struct ih_iova_domain *ih_dma_iovad(struct ih_iommu_domain *domain);

/* Whether unmaps on @domain are lazy now (acquire read of the flush-queue domain). */
bool ih_dma_domain_is_lazy(struct ih_iommu_domain *domain);

/**
 * ih_dma_domain_init() - create the cookie of a new DMA or DMA-FQ @domain for @dev's IOMMU.
 * Called by the IOMMU core when it allocates such a domain. A DMA-FQ domain whose flush
 * queue cannot be built becomes a strict DMA domain (as the kernel does).
 * Allocation sites: "dma:cookie", "dma:fq", the IOVA allocator's and the checkers'.
 * Return: 0; -EINVAL (no page sizes); -ENOMEM.
 */
int ih_dma_domain_init(struct ih_iommu_domain *domain, struct ih_device *dev);

/**
 * ih_dma_domain_fini() - destroy the cookie: stop the timer, flush and reclaim the queue,
 * report mappings dma-debug still holds in the domain and IOVAs still allocated, free.
 * Called by the IOMMU core before the driver frees @domain. No-op without a cookie.
 */
void ih_dma_domain_fini(struct ih_iommu_domain *domain);

#endif /* IH_DMA_H */
