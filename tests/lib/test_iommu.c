// SPDX-License-Identifier: MIT
/* A small IOMMU driver, firmware provider and client driver for core tests. */
#include <string.h>

#include <ih/alloc.h>
#include <ih/io_pgtable.h>
#include "test_iommu.h"

struct tdomain {
	struct ih_iommu_domain domain;
	struct tiommu *t;
	struct ih_io_pgtable_ops *pgt;
};

static struct tiommu *dev_tiommu(struct ih_device *dev)
{
	struct ih_iommu_device *iommu = dev->iommu ? dev->iommu->iommu_dev : NULL;

	return iommu ? container_of(iommu, struct tiommu, iommu) : NULL;
}

/* ---- The modelled TLB ---- */

/* Drop entries of @domain (NULL: any) whose page lies in [lo, hi]. */
static void tlb_inval(struct tiommu *t, const void *domain, u64 lo, u64 hi)
{
	pthread_mutex_lock(&t->hw_lock);
	for (unsigned int i = 0; i < TIOMMU_TLB_SIZE; i++) {
		struct tiommu_tlbe *e = &t->tlb[i];

		if (e->valid && (!domain || e->domain == domain) && e->iova + SZ_4K - 1 >= lo &&
		    e->iova <= hi)
			e->valid = false;
	}
	t->gen++;
	pthread_mutex_unlock(&t->hw_lock);
}

struct ih_io_pgtable_ops *tiommu_domain_pgtable(struct ih_iommu_domain *domain)
{
	return container_of(domain, struct tdomain, domain)->pgt;
}

unsigned int tiommu_tlb_entries(struct tiommu *t)
{
	unsigned int n = 0;

	pthread_mutex_lock(&t->hw_lock);
	for (unsigned int i = 0; i < TIOMMU_TLB_SIZE; i++)
		n += t->tlb[i].valid;
	pthread_mutex_unlock(&t->hw_lock);
	return n;
}

static void t_flush_all(void *cookie)
{
	struct tiommu *t = cookie;

	__atomic_fetch_add(&t->tlb_flush_all, 1, __ATOMIC_RELAXED);
	tlb_inval(t, NULL, 0, ~0ULL);
}

static void t_flush_walk(u64 iova, size_t size, size_t granule, void *cookie)
{
	struct tiommu *t = cookie;

	__atomic_fetch_add(&t->tlb_flush_walk, 1, __ATOMIC_RELAXED);
	tlb_inval(t, NULL, iova, iova + size - 1);
}

static void t_add_page(struct ih_iommu_iotlb_gather *gather, u64 iova, size_t granule,
		       void *cookie)
{
	__atomic_fetch_add(&((struct tiommu *)cookie)->tlb_add_page, 1, __ATOMIC_RELAXED);
	ih_iommu_iotlb_gather_add_range(gather, iova, granule);
}

static const struct ih_iommu_flush_ops t_flush_ops = {
	.tlb_flush_all = t_flush_all,
	.tlb_flush_walk = t_flush_walk,
	.tlb_add_page = t_add_page,
};

static int t_attach(struct ih_iommu_domain *domain, struct ih_device *dev)
{
	struct tdomain *d = container_of(domain, struct tdomain, domain);
	struct ih_iommu_fwspec *fwspec = ih_dev_iommu_fwspec_get(dev);
	struct tiommu *t = d->t;
	int slot = -1;

	t->attaches++;
	if (!fwspec || !fwspec->num_ids)
		return 0;
	/* The "stream table": the master's ID now selects this domain. */
	pthread_mutex_lock(&t->hw_lock);
	for (int i = 0; i < TIOMMU_MAX_MASTERS; i++) {
		if (t->masters[i].domain && t->masters[i].sid == fwspec->ids[0]) {
			slot = i;
			break;
		}
		if (!t->masters[i].domain && slot < 0)
			slot = i;
	}
	if (slot >= 0) {
		t->masters[slot].sid = fwspec->ids[0];
		t->masters[slot].domain = d;
	}
	pthread_mutex_unlock(&t->hw_lock);
	return slot >= 0 ? 0 : -ENOSPC;
}

static int t_map(struct ih_iommu_domain *domain, u64 iova, ih_pa_t paddr, size_t pgsize,
		 size_t pgcount, int prot, size_t *mapped)
{
	struct tdomain *d = container_of(domain, struct tdomain, domain);

	return d->pgt->map_pages(d->pgt, iova, paddr, pgsize, pgcount, prot, mapped);
}

static size_t t_unmap(struct ih_iommu_domain *domain, u64 iova, size_t pgsize, size_t pgcount,
		      struct ih_iommu_iotlb_gather *gather)
{
	struct tdomain *d = container_of(domain, struct tdomain, domain);

	return d->pgt->unmap_pages(d->pgt, iova, pgsize, pgcount, gather);
}

static void t_sync(struct ih_iommu_domain *domain, struct ih_iommu_iotlb_gather *gather)
{
	struct tdomain *d = container_of(domain, struct tdomain, domain);

	__atomic_fetch_add(&d->t->iotlb_sync, 1, __ATOMIC_RELAXED);
	if (!READ_ONCE(d->t->forgetful_sync) && gather->start <= gather->end)
		tlb_inval(d->t, d, gather->start, gather->end);
}

static void t_flush_iotlb_all(struct ih_iommu_domain *domain)
{
	struct tdomain *d = container_of(domain, struct tdomain, domain);
	void (*hook)(struct tiommu *t) = d->t->flush_all_hook;

	__atomic_fetch_add(&d->t->iotlb_flush_all, 1, __ATOMIC_RELAXED);
	if (hook) {
		d->t->flush_all_hook = NULL;
		hook(d->t);
	}
	tlb_inval(d->t, d, 0, ~0ULL);
}

static ih_pa_t t_iova_to_phys(struct ih_iommu_domain *domain, u64 iova)
{
	struct tdomain *d = container_of(domain, struct tdomain, domain);

	return d->pgt->iova_to_phys(d->pgt, iova);
}

static void t_free(struct ih_iommu_domain *domain)
{
	struct tdomain *d = container_of(domain, struct tdomain, domain);

	d->t->domains_alive--;
	pthread_mutex_lock(&d->t->hw_lock);
	for (int i = 0; i < TIOMMU_MAX_MASTERS; i++)
		if (d->t->masters[i].domain == d)
			d->t->masters[i].domain = NULL;
	pthread_mutex_unlock(&d->t->hw_lock);
	tlb_inval(d->t, d, 0, ~0ULL);
	ih_io_pgtable_free(d->pgt);
	ih_free(d->t->w, d);
}

static const struct ih_iommu_domain_ops t_paging_ops = {
	.attach_dev = t_attach,
	.map_pages = t_map,
	.unmap_pages = t_unmap,
	.iotlb_sync = t_sync,
	.iova_to_phys = t_iova_to_phys,
	.flush_iotlb_all = t_flush_iotlb_all,
	.free = t_free,
};

/* The same without flush_iotlb_all: the DMA layer cannot use a flush queue. */
static const struct ih_iommu_domain_ops t_paging_noflush_ops = {
	.attach_dev = t_attach,
	.map_pages = t_map,
	.unmap_pages = t_unmap,
	.iotlb_sync = t_sync,
	.iova_to_phys = t_iova_to_phys,
	.free = t_free,
};

static const struct ih_iommu_domain_ops t_static_ops = {
	.attach_dev = t_attach,
	.free = t_free,
};

static int t_domain_alloc(struct ih_device *dev, enum ih_domain_type type,
			  struct ih_iommu_domain **out)
{
	struct tiommu *t = dev_tiommu(dev);
	struct tdomain *d;

	if (type == IH_DOMAIN_BLOCKED && !t->native_blocked)
		return -EOPNOTSUPP;
	if (type == IH_DOMAIN_IDENTITY && t->no_identity)
		return -EOPNOTSUPP;
	d = ih_alloc(t->w, sizeof(*d), "test:tdomain");
	if (!d)
		return -ENOMEM;
	d->t = t;
	if (type == IH_DOMAIN_BLOCKED || type == IH_DOMAIN_IDENTITY) {
		d->domain.ops = &t_static_ops;
	} else {
		struct ih_io_pgtable_cfg cfg = {
			.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
			.ias = 48,
			.oas = 48,
			.tlb = &t_flush_ops,
		};

		d->pgt = ih_io_pgtable_alloc(t->w, IH_ARM_64_LPAE_S1, &cfg, t);
		if (!d->pgt) {
			ih_free(t->w, d);
			return -ENOMEM;
		}
		d->domain.ops = t->no_flush_all ? &t_paging_noflush_ops : &t_paging_ops;
		d->domain.pgsize_bitmap = cfg.pgsize_bitmap;
		d->domain.aperture_start = 0;
		d->domain.aperture_end = (1ULL << 48) - 1;
	}
	t->domains_alive++;
	*out = &d->domain;
	return 0;
}

static int t_xlate(struct ih_device *dev, const struct ih_fw_iommu_args *args)
{
	struct tiommu *t = container_of(ih_iommu_device_find(dev->world, args->fwnode),
					struct tiommu, iommu);

	t->xlates++;
	return ih_iommu_fwspec_add_ids(dev, args->args, args->nargs);
}

static int t_probe_device(struct ih_device *dev, struct ih_iommu_device **iommu)
{
	struct ih_iommu_fwspec *fwspec = ih_dev_iommu_fwspec_get(dev);
	struct ih_iommu_device *inst = fwspec ? ih_iommu_device_find(dev->world,
								      fwspec->iommu_fwnode) : NULL;
	struct tiommu *t;

	if (!inst)
		return -ENODEV;
	t = container_of(inst, struct tiommu, iommu);
	if (t->fail_probe && !strcmp(t->fail_probe, dev->name))
		return -EIO;
	t->probes++;
	*iommu = inst;
	return 0;
}

static void t_release_device(struct ih_device *dev)
{
	dev_tiommu(dev)->releases++;
}

static int t_device_group(struct ih_device *dev, struct ih_iommu_group **group)
{
	if (dev_tiommu(dev)->pci_groups)
		return ih_pci_device_group(dev, group);
	return ih_generic_device_group(dev, group);
}

static int t_def_domain_type(struct ih_device *dev)
{
	return dev_tiommu(dev)->def_domain_type;
}

static const struct ih_iommu_ops t_ops = {
	.of_xlate = t_xlate,
	.probe_device = t_probe_device,
	.release_device = t_release_device,
	.device_group = t_device_group,
	.domain_alloc = t_domain_alloc,
	.def_domain_type = t_def_domain_type,
	.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
};

const struct ih_iommu_ops *tiommu_ops(void)
{
	return &t_ops;
}

/* ---- The modelled hardware's side of ih_dma_access() ---- */

static int t_hw_translate(void *hw, u32 sid, u64 iova, bool write, ih_pa_t *pa)
{
	struct tiommu *t = hw;
	const struct tdomain *d = NULL;
	u64 page = iova & ~(u64)(SZ_4K - 1);
	unsigned long gen;
	ih_pa_t out;

	pthread_mutex_lock(&t->hw_lock);
	for (int i = 0; i < TIOMMU_MAX_MASTERS; i++)
		if (t->masters[i].domain && t->masters[i].sid == sid)
			d = t->masters[i].domain;
	if (d && d->domain.type == IH_DOMAIN_IDENTITY) {
		pthread_mutex_unlock(&t->hw_lock);
		*pa = iova;
		return 0;
	}
	if (!d || !d->pgt) {
		t->dma_faults++;
		pthread_mutex_unlock(&t->hw_lock);
		return -EFAULT;
	}
	for (unsigned int i = 0; i < TIOMMU_TLB_SIZE; i++) {
		if (t->tlb[i].valid && t->tlb[i].domain == d && t->tlb[i].iova == page) {
			t->tlb_hits++;
			*pa = t->tlb[i].pa + (iova - page);
			pthread_mutex_unlock(&t->hw_lock);
			return 0;
		}
	}
	t->tlb_misses++;
	gen = t->gen;
	pthread_mutex_unlock(&t->hw_lock);
	/* The walk runs without the TLB lock: the table code calls our flush ops under its own. */
	out = d->pgt->iova_to_phys(d->pgt, page);
	pthread_mutex_lock(&t->hw_lock);
	if (out == IH_PA_INVALID) {
		t->dma_faults++;
		pthread_mutex_unlock(&t->hw_lock);
		return -EFAULT;
	}
	if (gen == t->gen) {
		struct tiommu_tlbe *e = &t->tlb[t->tlb_next++ % TIOMMU_TLB_SIZE];

		*e = (struct tiommu_tlbe){ .domain = d, .iova = page, .pa = out, .valid = true };
	}
	pthread_mutex_unlock(&t->hw_lock);
	*pa = out + (iova - page);
	return 0;
}

static bool t_hw_tlb_covers(void *hw, u64 iova, size_t size)
{
	struct tiommu *t = hw;
	bool hit = false;

	pthread_mutex_lock(&t->hw_lock);
	for (unsigned int i = 0; i < TIOMMU_TLB_SIZE && !hit; i++)
		hit = t->tlb[i].valid && t->tlb[i].iova + SZ_4K - 1 >= iova &&
		      t->tlb[i].iova <= iova + size - 1;
	pthread_mutex_unlock(&t->hw_lock);
	return hit;
}

static const struct ih_iommu_hw_ops t_hw_ops = {
	.translate = t_hw_translate,
	.tlb_covers = t_hw_tlb_covers,
};

int tiommu_register(struct ih_world *w, struct tiommu *t)
{
	t->w = w;
	t->iommu.name = "tiommu";
	pthread_mutex_init(&t->hw_lock, NULL);
	t->iommu.hw_ops = &t_hw_ops;
	t->iommu.hw = t;
	return ih_iommu_device_register(w, &t->iommu, &t_ops, tiommu_fwnode(t), NULL);
}

static int tiommu_pdrv_probe(struct ih_device *dev)
{
	struct tiommu_pdrv *p = container_of(dev->driver, struct tiommu_pdrv, drv);
	struct tiommu *t;
	int ret;

	if (!dev->fwnode)
		return -ENODEV;
	t = ih_alloc(dev->world, sizeof(*t), "test:tiommu-pdrv");
	if (!t)
		return -ENOMEM;
	t->w = dev->world;
	t->def_domain_type = p->def_domain_type;
	t->iommu.name = dev->name;
	pthread_mutex_init(&t->hw_lock, NULL);
	t->iommu.hw_ops = &t_hw_ops;
	t->iommu.hw = t;
	/* drvdata first: registration may call back into of_xlate for waiting clients. */
	ih_dev_set_drvdata(dev, t);
	ret = ih_iommu_device_register(dev->world, &t->iommu, &t_ops, dev->fwnode, dev);
	if (ret) {
		ih_dev_set_drvdata(dev, NULL);
		pthread_mutex_destroy(&t->hw_lock);
		ih_free(dev->world, t);
		return ret;
	}
	p->binds++;
	return 0;
}

static void tiommu_pdrv_remove(struct ih_device *dev)
{
	struct tiommu_pdrv *p = container_of(dev->driver, struct tiommu_pdrv, drv);
	struct tiommu *t = ih_dev_get_drvdata(dev);

	ih_iommu_device_unregister(dev->world, &t->iommu);
	pthread_mutex_destroy(&t->hw_lock);
	ih_free(dev->world, t);
	p->unbinds++;
}

void tiommu_pdrv_init(struct tiommu_pdrv *p)
{
	memset(p, 0, sizeof(*p));
	p->drv.name = "tiommu";
	p->drv.bus = &ih_platform_bus_type;
	p->drv.probe = tiommu_pdrv_probe;
	p->drv.remove = tiommu_pdrv_remove;
}

struct tiommu *tiommu_pdrv_instance(struct ih_device *dev)
{
	struct ih_driver *drv = dev ? ih_device_driver(dev) : NULL;

	return drv && drv->probe == tiommu_pdrv_probe ? ih_dev_get_drvdata(dev) : NULL;
}

static int tfw_for_each(void *opaque, struct ih_device *dev, ih_fw_iommu_ref_fn fn, void *arg)
{
	struct tfw *fw = opaque;
	int n = 0;

	fw->calls++;
	for (size_t i = 0; i < fw->count; i++) {
		struct ih_fw_iommu_args args = { .fwnode = fw->entries[i].iommu_fwnode, .nargs = 1 };
		int ret;

		if (strcmp(fw->entries[i].dev_name, dev->name))
			continue;
		args.args[0] = fw->entries[i].id;
		ret = fn(dev, &args, arg);
		if (ret)
			return ret;
		n++;
	}
	return n;
}

static const struct ih_fw_provider_ops tfw_ops = { .for_each_iommu_ref = tfw_for_each };

void tfw_install(struct ih_world *w, struct tfw *fw)
{
	ih_iommu_set_fw_provider(w, &tfw_ops, fw);
}

static int tdriver_probe(struct ih_device *dev)
{
	struct tdriver *d = container_of(dev->driver, struct tdriver, drv);

	d->probes++;
	return d->probe_ret;
}

static void tdriver_remove(struct ih_device *dev)
{
	container_of(dev->driver, struct tdriver, drv)->removes++;
}

static const char *const tdriver_compat[] = { "test,dev", NULL };

void tdriver_init(struct tdriver *d, const char *name, bool driver_managed_dma)
{
	memset(d, 0, sizeof(*d));
	d->drv.name = name;
	d->drv.bus = &ih_platform_bus_type;
	d->drv.probe = tdriver_probe;
	d->drv.remove = tdriver_remove;
	d->drv.driver_managed_dma = driver_managed_dma;
	d->drv.id_table = tdriver_compat;
}

struct ih_device *tplat_add(struct ih_world *w, const char *name)
{
	struct ih_platform_device *pdev;

	if (!ih_bus_registered(w, &ih_platform_bus_type) &&
	    ih_bus_register(w, &ih_platform_bus_type))
		return NULL;
	if (ih_platform_device_alloc(w, name, "test,dev", NULL, &pdev))
		return NULL;
	if (ih_device_add(&pdev->dev)) {
		ih_device_put(&pdev->dev);
		return NULL;
	}
	return &pdev->dev;
}
