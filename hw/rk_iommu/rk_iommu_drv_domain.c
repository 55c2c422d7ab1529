// SPDX-License-Identifier: MIT
/* Rockchip IOMMU ops: of_xlate, client probe, domains, attach, map/unmap with zaps. */
#include <inttypes.h>

#define IH_LOG_PREFIX "rk_iommu: "
#include <ih/alloc.h>
#include <ih/diag.h>

#include "rk_iommu_drv_priv.h"

/*
 * Lock order: rk->lock -> domain->lock -> emulated hardware (leaf); the io-pgtable calls
 * the flush ops below with its table lock held, so table lock -> domain->lock as well.
 * Nothing here calls into a table while holding a domain or instance lock.
 */

static struct rk_iommu *rk_iommu_of_dev(struct ih_device *dev)
{
	struct rk_iommudata *data = ih_dev_iommu_priv_get(dev);

	return data ? data->iommu : NULL;
}

static struct rk_domain *to_rk_domain(struct ih_iommu_domain *domain)
{
	return container_of(domain, struct rk_domain, domain);
}

/* ---- Zaps over every instance a domain is attached to ---------------------------------- */

static void rk_domain_zap_range(struct rk_domain *d, u64 iova, size_t size)
{
	ih_mutex_lock(&d->lock);
	for (struct rk_iommu *rk = d->iommus; rk; rk = rk->domain_next)
		rk_iommu_zap_lines(rk, iova, size);
	ih_mutex_unlock(&d->lock);
}

/* The unmap path's zap; instances with the test-only forgetful knob skip it. */
static void rk_domain_zap_unmapped(struct rk_domain *d, u64 iova, size_t size)
{
	ih_mutex_lock(&d->lock);
	for (struct rk_iommu *rk = d->iommus; rk; rk = rk->domain_next)
		if (!__atomic_load_n(&rk->test_forget_zap, __ATOMIC_RELAXED))
			rk_iommu_zap_lines(rk, iova, size);
	ih_mutex_unlock(&d->lock);
}

static void rk_domain_zap_all(struct rk_domain *d)
{
	ih_mutex_lock(&d->lock);
	for (struct rk_iommu *rk = d->iommus; rk; rk = rk->domain_next)
		rk_iommu_zap_cache(rk);
	ih_mutex_unlock(&d->lock);
}

static void rk_flush_all(void *cookie)
{
	rk_domain_zap_all(cookie);
}

/* A page table is about to be freed: nothing cached from it may survive. */
static void rk_flush_walk(u64 iova, size_t size, size_t granule, void *cookie)
{
	rk_domain_zap_range(cookie, iova, size);
}

static void rk_gather_sync(struct rk_domain *d, struct ih_iommu_iotlb_gather *gather)
{
	if (gather->start > gather->end)
		return; /* empty */
	rk_domain_zap_unmapped(d, gather->start, gather->end - gather->start + 1);
}

static void rk_tlb_add_page(struct ih_iommu_iotlb_gather *gather, u64 iova, size_t granule,
			    void *cookie)
{
	/* One range per gather: zap what is there before starting a disjoint one. */
	if (ih_iommu_iotlb_gather_is_disjoint(gather, iova, granule)) {
		rk_gather_sync(cookie, gather);
		ih_iommu_iotlb_gather_init(gather);
	}
	ih_iommu_iotlb_gather_add_range(gather, iova, granule);
}

static const struct ih_iommu_flush_ops rk_flush_ops = {
    .tlb_flush_all = rk_flush_all,
    .tlb_flush_walk = rk_flush_walk,
    .tlb_add_page = rk_tlb_add_page,
};

/* ---- Attach ----------------------------------------------------------------------------- */

static void rk_domain_link(struct rk_domain *d, struct rk_iommu *rk)
{
	ih_mutex_lock(&d->lock);
	rk->domain_next = d->iommus;
	d->iommus = rk;
	ih_mutex_unlock(&d->lock);
	rk->domain = d;
}

static void rk_domain_unlink(struct rk_iommu *rk)
{
	struct rk_domain *d = rk->domain;

	if (!d)
		return;
	ih_mutex_lock(&d->lock);
	for (struct rk_iommu **pp = &d->iommus; *pp; pp = &(*pp)->domain_next) {
		if (*pp == rk) {
			*pp = rk->domain_next;
			break;
		}
	}
	ih_mutex_unlock(&d->lock);
	rk->domain = NULL;
	rk->domain_next = NULL;
}

/*
 * Identity: paging off. Paging and blocked: stall, DTE_ADDR, ZAP_CACHE, paging on,
 * unstall, on every bank (rk_iommu_enable_locked()). One instance serves one domain at a
 * time; attaching another client's domain moves the instance over, as upstream does.
 */
static int rk_domain_attach_dev(struct ih_iommu_domain *domain, struct ih_device *dev)
{
	struct rk_domain *d = to_rk_domain(domain);
	struct rk_iommu *rk = rk_iommu_of_dev(dev);
	int ret;

	if (!rk)
		return -ENODEV;
	if (d->pgt && d->version != rk->version) {
		ih_log(rk->w, IH_LOG_INFO, "%s: a v%d domain cannot attach to a v%d instance",
		       dev->name, (int)d->version, (int)rk->version);
		return -EINVAL;
	}
	pthread_mutex_lock(&rk->lock);
	if (rk->domain == d) {
		pthread_mutex_unlock(&rk->lock);
		return 0;
	}
	rk_domain_unlink(rk);
	if (d->pgt)
		ret = rk_iommu_enable_locked(rk, d->dte_addr_reg);
	else
		ret = rk_iommu_disable_locked(rk);
	if (ret) {
		/* Leave the unit with paging off rather than half programmed. */
		rk_iommu_disable_locked(rk);
	} else {
		rk_domain_link(d, rk);
	}
	pthread_mutex_unlock(&rk->lock);
	return ret;
}

/* A domain going away must not stay the hardware's directory. */
static void rk_domain_detach_all(struct rk_domain *d)
{
	for (;;) {
		struct rk_iommu *rk;

		ih_mutex_lock(&d->lock);
		rk = d->iommus;
		ih_mutex_unlock(&d->lock);
		if (!rk)
			return;
		pthread_mutex_lock(&rk->lock);
		/* rk->domain and the list change together under rk->lock. */
		if (rk->domain == d) {
			if (d->pgt)
				rk_iommu_disable_locked(rk);
			rk_domain_unlink(rk);
		}
		pthread_mutex_unlock(&rk->lock);
	}
}

/* ---- Map / unmap ------------------------------------------------------------------------ */

static int rk_domain_map_pages(struct ih_iommu_domain *domain, u64 iova, ih_pa_t paddr,
			       size_t pgsize, size_t pgcount, int prot, size_t *mapped)
{
	struct rk_domain *d = to_rk_domain(domain);
	size_t done = 0;
	int ret;

	ret = d->pgt->map_pages(d->pgt, iova, paddr, pgsize, pgcount, prot, &done);
	*mapped = done;
	/*
	 * The walker caches whole lines of descriptors, invalid ones too: the lines holding
	 * the first and last new PTE (and their DTEs) may have been fetched for a neighbour.
	 * Lines wholly inside the new range were never valid and cannot be cached unless an
	 * access faulted on them, and the fault handler empties the TLB.
	 */
	if (done) {
		rk_domain_zap_range(d, iova, RK_MMU_PAGE_SIZE);
		if (done > RK_MMU_PAGE_SIZE)
			rk_domain_zap_range(d, iova + done - RK_MMU_PAGE_SIZE, RK_MMU_PAGE_SIZE);
	}
	return ret;
}

static size_t rk_domain_unmap_pages(struct ih_iommu_domain *domain, u64 iova, size_t pgsize,
				    size_t pgcount, struct ih_iommu_iotlb_gather *gather)
{
	struct rk_domain *d = to_rk_domain(domain);

	/* Leaves go to rk_tlb_add_page(); the zap happens in iotlb_sync. */
	return d->pgt->unmap_pages(d->pgt, iova, pgsize, pgcount, gather);
}

static void rk_domain_iotlb_sync(struct ih_iommu_domain *domain,
				 struct ih_iommu_iotlb_gather *gather)
{
	rk_gather_sync(to_rk_domain(domain), gather);
}

static void rk_domain_flush_iotlb_all(struct ih_iommu_domain *domain)
{
	rk_domain_zap_all(to_rk_domain(domain));
}

static ih_pa_t rk_domain_iova_to_phys(struct ih_iommu_domain *domain, u64 iova)
{
	struct rk_domain *d = to_rk_domain(domain);

	return d->pgt->iova_to_phys(d->pgt, iova);
}

static void rk_domain_free(struct ih_iommu_domain *domain)
{
	struct rk_domain *d = to_rk_domain(domain);

	rk_domain_detach_all(d);
	ih_io_pgtable_free(d->pgt);
	ih_mutex_destroy(&d->lock);
	ih_free(d->w, d);
}

static const struct ih_iommu_domain_ops rk_paging_ops;

struct ih_io_pgtable_ops *ih_rk_iommu_domain_pgtable(struct ih_iommu_domain *domain)
{
	return domain && domain->ops == &rk_paging_ops ? to_rk_domain(domain)->pgt : NULL;
}

static const struct ih_iommu_domain_ops rk_paging_ops = {
    .attach_dev = rk_domain_attach_dev,
    .map_pages = rk_domain_map_pages,
    .unmap_pages = rk_domain_unmap_pages,
    .flush_iotlb_all = rk_domain_flush_iotlb_all,
    .iotlb_sync = rk_domain_iotlb_sync,
    .iova_to_phys = rk_domain_iova_to_phys,
    .free = rk_domain_free,
};

/* Identity (paging off) and blocked (paging on over an empty directory): no mappings. */
static const struct ih_iommu_domain_ops rk_static_ops = {
    .attach_dev = rk_domain_attach_dev,
    .free = rk_domain_free,
};

static int rk_domain_alloc(struct ih_device *dev, enum ih_domain_type type,
			   struct ih_iommu_domain **out)
{
	struct rk_iommu *rk = rk_iommu_of_dev(dev);
	struct ih_io_pgtable_cfg cfg = {
	    .pgsize_bitmap = RK_IOMMU_PGSIZE_BITMAP,
	    .ias = 32,
	    .tlb = &rk_flush_ops,
	};
	struct rk_domain *d;

	if (!rk)
		return -ENODEV;
	/* No flush queue: upstream does not offer deferred flushing on this unit. */
	if (type != IH_DOMAIN_IDENTITY && type != IH_DOMAIN_BLOCKED &&
	    type != IH_DOMAIN_UNMANAGED && type != IH_DOMAIN_DMA)
		return -EOPNOTSUPP;
	d = ih_alloc(rk->w, sizeof(*d), "rk_iommu:domain");
	if (!d)
		return -ENOMEM;
	d->w = rk->w;
	d->version = rk->version;
	ih_mutex_init(&d->lock);
	if (type == IH_DOMAIN_IDENTITY) {
		d->domain.ops = &rk_static_ops;
		*out = &d->domain;
		return 0;
	}
	d->pgt = ih_io_pgtable_alloc(
	    rk->w, rk->version == IH_RK_IOMMU_HW_V2 ? IH_RK_IOMMU_V2 : IH_RK_IOMMU_V1, &cfg, d);
	if (!d->pgt) {
		ih_mutex_destroy(&d->lock);
		ih_free(rk->w, d);
		return -ENOMEM;
	}
	d->dte_addr_reg = cfg.rk_cfg.dte_addr_reg;
	if (type == IH_DOMAIN_BLOCKED) {
		d->domain.ops = &rk_static_ops;
	} else {
		d->domain.ops = &rk_paging_ops;
		d->domain.pgsize_bitmap = cfg.pgsize_bitmap;
		d->domain.aperture_start = 0;
		d->domain.aperture_end = UINT32_MAX;
	}
	*out = &d->domain;
	return 0;
}

/* ---- Clients ---------------------------------------------------------------------------- */

/*
 * The client's data belongs to the IOMMU's platform device (devm), not to the client: it
 * outlives failed client probes and goes when the IOMMU's driver unbinds (f48dcda8f6a4).
 * rk->dma_dev is that device once probe has set it; with the rk-dma-dev-order switch it is
 * still NULL when registration gets here, and the allocator dereferences it.
 */
static int rk_iommu_of_xlate(struct ih_device *dev, const struct ih_fw_iommu_args *args)
{
	struct ih_iommu_device *inst = ih_iommu_device_find(dev->world, args->fwnode);
	struct rk_iommudata *data;
	struct rk_iommu *rk;
	u32 master = 0;
	int ret;

	if (!inst || inst->ops != &rk_iommu_ops)
		return -ENODEV;
	rk = container_of(inst, struct rk_iommu, iommu);
	data = ih_rk_devm_kzalloc(rk->dma_dev, sizeof(*data), "rk_iommu:client-data");
	if (!data)
		return -ENOMEM;
	data->iommu = rk;
	/*
	 * #iommu-cells is 0 for this unit (one master per instance); record master 0 so the
	 * device's DMA names its master. Cells firmware adds anyway are ignored, as upstream.
	 */
	ret = ih_iommu_fwspec_add_ids(dev, &master, 1);
	if (ret)
		return ret;
	ih_dev_iommu_priv_set(dev, data);
	rk_stat_inc(rk, xlates);
	return 0;
}

static int rk_iommu_probe_device(struct ih_device *dev, struct ih_iommu_device **iommu)
{
	struct ih_iommu_fwspec *fwspec = ih_dev_iommu_fwspec_get(dev);
	struct rk_iommu *rk = rk_iommu_of_dev(dev);

	if (!rk || !fwspec || fwspec->iommu_fwnode != rk->iommu.fwnode)
		return -ENODEV;
	rk_stat_inc(rk, clients);
	*iommu = &rk->iommu;
	return 0;
}

static void rk_iommu_release_device(struct ih_device *dev)
{
	struct rk_iommu *rk = rk_iommu_of_dev(dev);

	if (rk)
		__atomic_fetch_sub(&rk->st.clients, 1, __ATOMIC_RELAXED);
}

static int rk_iommu_device_group(struct ih_device *dev, struct ih_iommu_group **group)
{
	return ih_generic_device_group(dev, group);
}

const struct ih_iommu_ops rk_iommu_ops = {
    .of_xlate = rk_iommu_of_xlate,
    .probe_device = rk_iommu_probe_device,
    .release_device = rk_iommu_release_device,
    .device_group = rk_iommu_device_group,
    .domain_alloc = rk_domain_alloc,
    .pgsize_bitmap = RK_IOMMU_PGSIZE_BITMAP,
};
