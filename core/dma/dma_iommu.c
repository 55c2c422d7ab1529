// SPDX-License-Identifier: MIT
/* dma-iommu: the DMA API over IOMMU domains (cookie, map/unmap, sg lists, coherent buffers). */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/diag.h>
#include <ih/iommu_group.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include <ih/world.h>
#include "check/check_priv.h"
#include "dma_priv.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "dma-iommu: "

/*
 * Lock order: none held across calls except inside the flush queue (see flush_queue.c)
 * and the cookie mutex (init_fq, set_fq_options). The map and unmap paths take only the
 * allocator's, the table's, the driver's and the checkers' own locks, one at a time.
 */

/* ---- Cookie ---- */

int ih_dma_domain_init(struct ih_iommu_domain *domain, struct ih_device *dev)
{
	struct ih_world *w = domain->w;
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);
	struct ih_dma_cookie *cookie;
	u64 aperture_end;
	int ret;

	if (!domain->pgsize_bitmap || (domain->pgsize_bitmap & (SZ_4K - 1)))
		return -EINVAL;
	cookie = ih_alloc(w, sizeof(*cookie), "dma:cookie");
	if (!cookie)
		return -ENOMEM;
	cookie->w = w;
	cookie->domain = domain;
	cookie->shift = (unsigned int)__builtin_ctzl(domain->pgsize_bitmap);
	cookie->granule = 1UL << cookie->shift;
	snprintf(cookie->name, sizeof(cookie->name), "%s:%s", dev->name,
		 ih_domain_type_name(domain->type));
	/* 0/0 means "everything" to the core; keep a 48-bit space then. */
	aperture_end = domain->aperture_end ? domain->aperture_end : (1ULL << 48) - 1;
	cookie->limit_pfn = aperture_end >> cookie->shift;
	ih_mutex_init(&cookie->mutex);
	ih_timer_init(&cookie->fq_timer, dma_fq_timeout);
	dma_fq_default_options(w, &cookie->fq_opts);
	ret = ih_iova_domain_create(w, cookie->granule, domain->aperture_start >> cookie->shift,
				    cookie->name, &cookie->iovad);
	if (ret)
		goto err_free_cookie;
	ret = ih_check_domain_create(w, domain, param ? param->iommu_dev : NULL, &cookie->check);
	if (ret)
		goto err_destroy_iovad;
	domain->dma_cookie = cookie;
	/* A queue that cannot be built leaves the domain strict, as iommu_dma_init_domain does. */
	if (domain->type == IH_DOMAIN_DMA_FQ && ih_dma_init_fq(domain)) {
		ih_log(w, IH_LOG_INFO, "%s: no flush queue, falling back to strict", cookie->name);
		domain->type = IH_DOMAIN_DMA;
	}
	return 0;

err_destroy_iovad:
	ih_iova_domain_destroy(cookie->iovad);
err_free_cookie:
	ih_mutex_destroy(&cookie->mutex);
	ih_free(w, cookie);
	return ret;
}

void ih_dma_domain_fini(struct ih_iommu_domain *domain)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);
	struct ih_world *w;

	if (!cookie)
		return;
	w = cookie->w;
	if (cookie->fq_domain) {
		ih_timer_cancel(w, &cookie->fq_timer);
		dma_fq_destroy(cookie, cookie->fq);
	}
	ih_dma_debug_domain_gone(w, domain);
	ih_iova_domain_destroy(cookie->iovad);
	ih_check_domain_destroy(w, cookie->check);
	ih_mutex_destroy(&cookie->mutex);
	domain->dma_cookie = NULL;
	ih_free(w, cookie);
}

struct ih_iova_domain *ih_dma_iovad(struct ih_iommu_domain *domain)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);

	return cookie ? cookie->iovad : NULL;
}

bool ih_dma_domain_is_lazy(struct ih_iommu_domain *domain)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);

	return cookie && __atomic_load_n(&cookie->fq_domain, __ATOMIC_ACQUIRE);
}

/* ---- Helpers ---- */

static bool dir_valid(enum ih_dma_dir dir)
{
	return dir == IH_DMA_BIDIRECTIONAL || dir == IH_DMA_TO_DEVICE || dir == IH_DMA_FROM_DEVICE;
}

static int dma_info_to_prot(enum ih_dma_dir dir, unsigned long attrs)
{
	int prot = dir == IH_DMA_TO_DEVICE     ? IH_PROT_READ
		   : dir == IH_DMA_FROM_DEVICE ? IH_PROT_WRITE
					       : IH_PROT_READ | IH_PROT_WRITE;

	if (attrs & IH_DMA_ATTR_PRIVILEGED)
		prot |= IH_PROT_PRIV;
	if (attrs & IH_DMA_ATTR_MMIO)
		prot |= IH_PROT_MMIO;
	return prot;
}

/*
 * Where @dev's DMA goes: *@domain NULL means direct (DMA address = PA): no group, or an
 * identity default domain. Return: 0, or -ENODEV (a default domain without cookie).
 */
static int dma_resolve(struct ih_device *dev, struct ih_iommu_domain **domain)
{
	struct ih_iommu_domain *d;

	*domain = NULL;
	if (!READ_ONCE(dev->iommu_group))
		return 0;
	d = ih_iommu_get_dma_domain(dev);
	if (!d)
		return -ENODEV;
	if (ih_domain_type(d) == IH_DOMAIN_IDENTITY)
		return 0;
	if (!dma_cookie(d))
		return -ENODEV;
	*domain = d;
	return 0;
}

/* Hand out @len bytes of IOVA (granule multiple) below the domain's limit. */
static int dma_alloc_iova(struct ih_dma_cookie *cookie, size_t len, u64 *iova)
{
	u64 pages = len >> cookie->shift, pfn;
	int ret;

	ret = ih_iova_alloc_fast(cookie->iovad, pages, cookie->limit_pfn, true, &pfn);
	if (ret)
		return ret;
	/* No check domain (the IOTLB checker was off at creation): not even a call. */
	ret = cookie->check ? ih_check_iova_alloc(cookie->w, cookie->check, pfn << cookie->shift,
						  dma_iova_pages(pages) << cookie->shift)
			    : 0;
	if (ret) {
		ih_iova_free_fast(cookie->iovad, pfn, dma_iova_pages(pages));
		return ret;
	}
	*iova = pfn << cookie->shift;
	return 0;
}

/* Give back an IOVA range that was never mapped (a failed map). */
static void dma_free_iova_unmapped(struct ih_dma_cookie *cookie, u64 iova, size_t len)
{
	dma_iova_release(cookie, iova >> cookie->shift, dma_iova_pages(len >> cookie->shift), false,
			 "dma_map_error");
}

/*
 * Give an unmapped range to the flush queue. A published lazy mode without its queue
 * cannot happen on the fixed flip (the release store follows the build); only the
 * fq-flip-unordered replay shows one. The kernel of the time would have dereferenced the
 * missing queue; the model does what a has_iova_flush_queue() check did (intel-iommu's
 * idiom then) and frees at once, so the outcome is the one the checkers can see: an IOVA
 * back in the allocator with nothing invalidated.
 */
static void dma_queue_iova(struct ih_dma_cookie *cookie, u64 pfn, u64 pages, bool fixed,
			   const char *call)
{
	struct ih_dma_fq *fq = READ_ONCE(cookie->fq);

	if (fq)
		dma_fq_queue(cookie, fq, pfn, pages, fixed);
	else
		dma_iova_release(cookie, pfn, pages, fixed, call);
}

/*
 * fq-domain-reread (undoes 7a7c5badf858): the v5.14 unmap path. fq_domain is read twice
 * without ordering: the first read picks free vs queue, the second sync vs skip, and
 * io-pgtable knows nothing of either (gather.queued stays clear; only its own quirk, which
 * the fixed flip never sets, could make it lazy). A flip landing between the reads frees
 * the IOVA with the sync skipped: the seed-002 "free_fq" reordering.
 */
static void dma_unmap_iova_reread(struct ih_dma_cookie *cookie, struct ih_iommu_domain *domain,
				  u64 iova, size_t len, bool fixed, const char *call)
{
	struct ih_world *w = cookie->w;
	struct ih_iommu_iotlb_gather gather;
	u64 pfn = iova >> cookie->shift, pages = len >> cookie->shift;
	bool free_fq;

	if (!fixed)
		pages = dma_iova_pages(pages);

	ih_iommu_iotlb_gather_init(&gather);
	free_fq = READ_ONCE(cookie->fq_domain) != NULL;
	ih_sched_point(w, "dma:unmap:after-fq-read");
	ih_iommu_unmap_fast(domain, iova, len, &gather);
	ih_sched_point(w, "dma:unmap:before-sync");
	if (!READ_ONCE(cookie->fq_domain))
		ih_iommu_iotlb_sync(domain, &gather);
	ih_sched_point(w, "dma:unmap:before-free");
	if (free_fq)
		dma_queue_iova(cookie, pfn, pages, fixed, call);
	else
		dma_iova_release(cookie, pfn, pages, fixed, call);
}

/*
 * Unmap [iova, iova + len) (granule aligned) and give the IOVA back, strict or lazy as
 * ONE acquire read of the flush-queue domain says: that snapshot goes into gather.queued
 * and decides the leaf invalidations (io-pgtable), the sync and the free vs queue.
 * @fixed: the range was placed by ih_dma_map_page_at() (exactly @len, back to the tree).
 */
static void dma_unmap_iova(struct ih_dma_cookie *cookie, struct ih_iommu_domain *domain, u64 iova,
			   size_t len, bool fixed, const char *call)
{
	struct ih_world *w = cookie->w;
	struct ih_iommu_iotlb_gather gather;
	size_t unmapped;
	u64 pfn = iova >> cookie->shift, pages = len >> cookie->shift;

	if (!fixed)
		pages = dma_iova_pages(pages);
	if (ih_regress_on(w, IH_REGRESS_FQ_DOMAIN_REREAD)) {
		dma_unmap_iova_reread(cookie, domain, iova, len, fixed, call);
		return;
	}
	ih_iommu_iotlb_gather_init(&gather);
	/* Acquire: pairs with ih_dma_init_fq()'s release; cookie->fq is complete if set. */
	gather.queued = __atomic_load_n(&cookie->fq_domain, __ATOMIC_ACQUIRE) != NULL;
	ih_sched_point(w, "dma:unmap:after-fq-read");
	unmapped = ih_iommu_unmap_fast(domain, iova, len, &gather);
	IH_WARN_ON(w, unmapped != len, "dma-iommu: %s: %s unmapped 0x%zx of 0x%zx at 0x%llx",
		   cookie->name, call, unmapped, len, (unsigned long long)iova);
	ih_sched_point(w, "dma:unmap:before-sync");
	if (!gather.queued)
		ih_iommu_iotlb_sync(domain, &gather);
	ih_sched_point(w, "dma:unmap:before-free");
	if (gather.queued)
		dma_queue_iova(cookie, pfn, pages, fixed, call);
	else
		dma_iova_release(cookie, pfn, pages, fixed, call);
}

/* Map [pa, pa + size) into @domain; *@dma keeps pa's offset inside the granule. */
static int dma_map_iommu(struct ih_iommu_domain *domain, ih_pa_t pa, size_t size, int prot,
			 u64 *dma)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);
	size_t off = pa & (cookie->granule - 1);
	size_t len = IH_ALIGN_UP(size + off, cookie->granule);
	u64 iova;
	int ret;

	if (len < size)
		return -EINVAL;
	ret = dma_alloc_iova(cookie, len, &iova);
	if (ret)
		return ret;
	ret = ih_iommu_map(domain, iova, pa - off, len, prot);
	if (ret) {
		dma_free_iova_unmapped(cookie, iova, len);
		return ret;
	}
	*dma = iova + off;
	return 0;
}

static void dma_unmap_iommu(struct ih_iommu_domain *domain, u64 dma, size_t size, bool fixed,
			    const char *call)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);
	size_t off = dma & (cookie->granule - 1);

	dma_unmap_iova(cookie, domain, dma - off, IH_ALIGN_UP(size + off, cookie->granule), fixed,
		       call);
}

/* ---- Pages ---- */

static int map_checked(struct ih_device *dev, ih_pa_t pa, size_t size, enum ih_dma_dir dir,
		       unsigned long attrs, u64 *dma, enum ih_dbg_type type, const char *call)
{
	struct ih_dma_debug_entry *e = NULL;
	struct ih_iommu_domain *domain;
	bool dbg;
	int ret;

	if (!dev || !dma || !size || !dir_valid(dir) || (attrs & ~IH_DMA_ATTRS_ALL) ||
	    pa + size - 1 < pa)
		return -EINVAL;
	dbg = ih_check_on(dev->world, IH_CHECK_DMA_DEBUG);
	ret = dbg ? ih_dma_debug_check_dev(dev, call, true) : 0;
	if (ret)
		return ret;
	ret = dma_resolve(dev, &domain);
	if (ret)
		return ret;
	ret = dbg ? ih_dma_debug_prepare(dev->world, &e) : 0;
	if (ret)
		return ret;
	if (!domain) {
		*dma = pa;
	} else {
		ret = dma_map_iommu(domain, pa, size, dma_info_to_prot(dir, attrs), dma);
		if (ret) {
			ih_dma_debug_discard(dev->world, e);
			return ret;
		}
	}
	if (e)
		ih_dma_debug_commit(e, dev, domain, *dma, size, dir, type, 1);
	return 0;
}

static int unmap_checked(struct ih_device *dev, u64 dma, size_t size, enum ih_dma_dir dir,
			 enum ih_dbg_type type, const char *call)
{
	struct ih_iommu_domain *domain;
	int ret;

	if (!dev || !size || !dir_valid(dir) || dma + size - 1 < dma)
		return -EINVAL;
	/* One load decides whether dma-debug runs: off (benchmarks), no hook is called. */
	if (ih_check_on(dev->world, IH_CHECK_DMA_DEBUG)) {
		ih_dma_debug_check_dev(dev, call, false);
		ret = ih_dma_debug_unmap(dev, dma, size, dir, type, 1, call);
		if (ret)
			return ret;
	}
	ret = dma_resolve(dev, &domain);
	if (ret)
		return ret;
	if (domain)
		dma_unmap_iommu(domain, dma, size, type == IH_DBG_FIXED, call);
	return 0;
}

int ih_dma_map_page(struct ih_device *dev, ih_pa_t pa, size_t size, enum ih_dma_dir dir,
		    unsigned long attrs, u64 *dma)
{
	return map_checked(dev, pa, size, dir, attrs, dma, IH_DBG_PAGE, "dma_map_page");
}

int ih_dma_unmap_page(struct ih_device *dev, u64 dma, size_t size, enum ih_dma_dir dir,
		      unsigned long attrs)
{
	if (attrs & ~IH_DMA_ATTRS_ALL)
		return -EINVAL;
	return unmap_checked(dev, dma, size, dir, IH_DBG_PAGE, "dma_unmap_page");
}

/* ---- Pages at a caller's IOVA (trace replay) ---- */

/*
 * Take [pfn, pfn + pages) out of the allocator. Ranges the per-CPU caches hold are
 * allocated in the tree but used by nobody: when the reservation collides, they are given
 * back and the reservation tried once more, so only a mapped or queued range refuses it.
 */
static int dma_reserve_fixed(struct ih_dma_cookie *cookie, u64 pfn, u64 pages)
{
	int ret = ih_iova_reserve(cookie->iovad, pfn, pfn + pages - 1);

	if (ret == -EEXIST && __atomic_load_n(&cookie->cached_frees, __ATOMIC_RELAXED)) {
		ih_iova_cache_flush(cookie->iovad);
		ret = ih_iova_reserve(cookie->iovad, pfn, pfn + pages - 1);
	}
	return ret;
}

static int dma_map_iommu_at(struct ih_iommu_domain *domain, u64 dma, ih_pa_t pa, size_t size,
			    int prot)
{
	struct ih_dma_cookie *cookie = dma_cookie(domain);
	size_t off = dma & (cookie->granule - 1);
	size_t len = IH_ALIGN_UP(size + off, cookie->granule);
	u64 iova = dma - off, pfn = iova >> cookie->shift, pages = len >> cookie->shift;
	int ret;

	if (len < size || (pa & (cookie->granule - 1)) != off ||
	    pfn < ih_iova_start_pfn(cookie->iovad) || pfn + pages - 1 > cookie->limit_pfn ||
	    pfn + pages - 1 < pfn)
		return -EINVAL;
	ret = dma_reserve_fixed(cookie, pfn, pages);
	if (ret)
		return ret;
	ret = ih_check_iova_alloc(cookie->w, cookie->check, iova, len);
	if (ret)
		goto err_free_pfn;
	ret = ih_iommu_map(domain, iova, pa - off, len, prot);
	if (ret) {
		dma_iova_release(cookie, pfn, pages, true, "dma_map_error");
		return ret;
	}
	return 0;

err_free_pfn:
	ih_iova_free(cookie->iovad, pfn);
	return ret;
}

int ih_dma_map_page_at(struct ih_device *dev, u64 dma, ih_pa_t pa, size_t size, enum ih_dma_dir dir,
		       unsigned long attrs)
{
	struct ih_dma_debug_entry *e = NULL;
	struct ih_iommu_domain *domain;
	bool dbg;
	int ret;

	if (!dev || !size || !dir_valid(dir) || (attrs & ~IH_DMA_ATTRS_ALL) || pa + size - 1 < pa ||
	    dma + size - 1 < dma)
		return -EINVAL;
	dbg = ih_check_on(dev->world, IH_CHECK_DMA_DEBUG);
	ret = dbg ? ih_dma_debug_check_dev(dev, "dma_map_page_at", true) : 0;
	if (ret)
		return ret;
	ret = dma_resolve(dev, &domain);
	if (ret)
		return ret;
	if (!domain)
		return -ENODEV;
	ret = dbg ? ih_dma_debug_prepare(dev->world, &e) : 0;
	if (ret)
		return ret;
	ret = dma_map_iommu_at(domain, dma, pa, size, dma_info_to_prot(dir, attrs));
	if (ret) {
		ih_dma_debug_discard(dev->world, e);
		return ret;
	}
	if (e)
		ih_dma_debug_commit(e, dev, domain, dma, size, dir, IH_DBG_FIXED, 1);
	return 0;
}

int ih_dma_unmap_page_at(struct ih_device *dev, u64 dma, size_t size, enum ih_dma_dir dir,
			 unsigned long attrs)
{
	if (attrs & ~IH_DMA_ATTRS_ALL)
		return -EINVAL;
	return unmap_checked(dev, dma, size, dir, IH_DBG_FIXED, "dma_unmap_page_at");
}

/* ---- Scatterlists ---- */

/* Total bytes and IOVA span of a list; -EINVAL for an empty entry or an overflow. */
static int sg_sizes(const struct ih_dma_sg *sg, unsigned int nents, size_t granule, u64 *bytes,
		    u64 *span)
{
	*bytes = *span = 0;
	for (unsigned int i = 0; i < nents; i++) {
		u64 off = sg[i].pa & (granule - 1);

		if (!sg[i].length || sg[i].length > (1ULL << 40) ||
		    sg[i].pa + sg[i].length - 1 < sg[i].pa)
			return -EINVAL;
		*bytes += sg[i].length;
		*span += IH_ALIGN_UP(off + sg[i].length, (u64)granule);
	}
	return *span > (1ULL << 44) ? -EINVAL : 0;
}

int ih_dma_map_sg(struct ih_device *dev, struct ih_dma_sg *sg, unsigned int nents,
		  enum ih_dma_dir dir, unsigned long attrs)
{
	struct ih_dma_debug_entry *e;
	struct ih_iommu_domain *domain;
	struct ih_dma_cookie *cookie;
	u64 bytes, span, iova, cur;
	bool dbg;
	int prot, ret;

	if (!dev || !sg || !nents || !dir_valid(dir) || (attrs & ~IH_DMA_ATTRS_ALL))
		return -EINVAL;
	/* One load decides whether dma-debug runs: off (benchmarks), no hook is called. */
	dbg = ih_check_on(dev->world, IH_CHECK_DMA_DEBUG);
	ret = dbg ? ih_dma_debug_check_dev(dev, "dma_map_sg", true) : 0;
	if (ret)
		return ret;
	ret = dma_resolve(dev, &domain);
	if (ret)
		return ret;
	cookie = dma_cookie(domain);
	ret = sg_sizes(sg, nents, cookie ? cookie->granule : SZ_4K, &bytes, &span);
	if (ret)
		return ret;
	e = NULL;
	ret = dbg ? ih_dma_debug_prepare(dev->world, &e) : 0;
	if (ret)
		return ret;
	if (!domain) {
		for (unsigned int i = 0; i < nents; i++) {
			sg[i].dma_address = sg[i].pa;
			sg[i].dma_length = sg[i].length;
		}
		goto out_commit;
	}
	/* One contiguous IOVA range; each entry takes the next granule-aligned slice. */
	ret = dma_alloc_iova(cookie, span, &iova);
	if (ret)
		goto err_discard;
	prot = dma_info_to_prot(dir, attrs);
	cur = iova;
	for (unsigned int i = 0; i < nents; i++) {
		size_t off = sg[i].pa & (cookie->granule - 1);
		size_t len = IH_ALIGN_UP(off + sg[i].length, cookie->granule);

		ret = ih_iommu_map(domain, cur, sg[i].pa - off, len, prot);
		if (ret) {
			if (cur > iova)
				ih_iommu_unmap(domain, iova, cur - iova);
			dma_free_iova_unmapped(cookie, iova, span);
			goto err_discard;
		}
		sg[i].dma_address = cur + off;
		sg[i].dma_length = sg[i].length;
		cur += len;
	}
out_commit:
	if (e)
		ih_dma_debug_commit(e, dev, domain, sg[0].dma_address, bytes, dir, IH_DBG_SG,
				    nents);
	return (int)nents;

err_discard:
	if (e)
		ih_dma_debug_discard(dev->world, e);
	return ret;
}

int ih_dma_unmap_sg(struct ih_device *dev, struct ih_dma_sg *sg, unsigned int nents,
		    enum ih_dma_dir dir, unsigned long attrs)
{
	struct ih_iommu_domain *domain;
	struct ih_dma_cookie *cookie;
	u64 bytes, span;
	bool dbg;
	int ret;

	if (!dev || !sg || !nents || !dir_valid(dir) || (attrs & ~IH_DMA_ATTRS_ALL))
		return -EINVAL;
	dbg = ih_check_on(dev->world, IH_CHECK_DMA_DEBUG);
	if (dbg)
		ih_dma_debug_check_dev(dev, "dma_unmap_sg", false);
	ret = dma_resolve(dev, &domain);
	if (ret)
		return ret;
	cookie = dma_cookie(domain);
	ret = sg_sizes(sg, nents, cookie ? cookie->granule : SZ_4K, &bytes, &span);
	if (ret)
		return ret;
	ret = dbg ? ih_dma_debug_unmap(dev, sg[0].dma_address, bytes, dir, IH_DBG_SG, nents,
				       "dma_unmap_sg")
		  : 0;
	if (ret)
		return ret;
	if (domain)
		dma_unmap_iova(cookie, domain, sg[0].dma_address & ~(u64)(cookie->granule - 1),
			       span, false, "dma_unmap_sg");
	return 0;
}

/* ---- Coherent buffers ---- */

int ih_dma_alloc_coherent(struct ih_device *dev, size_t size, u64 *dma, ih_pa_t *pa)
{
	struct ih_iommu_domain *domain;
	size_t granule = SZ_4K, len;
	ih_pa_t mem;
	int ret;

	if (!dev || !size || !dma || !pa || size > (1UL << 40))
		return -EINVAL;
	ret = dma_resolve(dev, &domain);
	if (ret)
		return ret;
	if (domain)
		granule = dma_cookie(domain)->granule;
	len = IH_ALIGN_UP(size, granule);
	mem = ih_pm_alloc(dev->world, len, granule, "dma:coherent");
	if (mem == IH_PA_INVALID)
		return -ENOMEM;
	ret = map_checked(dev, mem, size, IH_DMA_BIDIRECTIONAL, 0, dma, IH_DBG_COHERENT,
			  "dma_alloc_coherent");
	if (ret) {
		ih_pm_free(dev->world, mem, len);
		return ret;
	}
	*pa = mem;
	return 0;
}

int ih_dma_free_coherent(struct ih_device *dev, size_t size, ih_pa_t pa, u64 dma)
{
	struct ih_iommu_domain *domain;
	size_t granule = SZ_4K;
	ih_pa_t mapped;
	int ret;

	if (!dev || !size || size > (1UL << 40))
		return -EINVAL;
	ret = dma_resolve(dev, &domain);
	if (ret)
		return ret;
	if (domain)
		granule = dma_cookie(domain)->granule;
	/* The memory to free is what the mapping points at, never the caller's word for it. */
	mapped = domain ? ih_iommu_iova_to_phys(domain, dma) : dma;
	if (mapped != IH_PA_INVALID && (mapped != pa || !IH_IS_ALIGNED(pa, (u64)granule))) {
		ih_report(dev->world, IH_REPORT_DMA_UNKNOWN_UNMAP, dev->name, "dma_free_coherent",
			  dma, size,
			  "%s: dma_free_coherent of [0x%llx, +0x%zx) with CPU address 0x%llx, "
			  "mapped to 0x%llx",
			  dev->name, (unsigned long long)dma, size, (unsigned long long)pa,
			  (unsigned long long)mapped);
		return -EINVAL;
	}
	ret = unmap_checked(dev, dma, size, IH_DMA_BIDIRECTIONAL, IH_DBG_COHERENT,
			    "dma_free_coherent");
	if (ret)
		return ret;
	ih_pm_free(dev->world, pa, IH_ALIGN_UP(size, granule));
	return 0;
}
