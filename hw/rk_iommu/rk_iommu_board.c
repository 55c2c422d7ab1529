// SPDX-License-Identifier: MIT
/* Board glue for the Rockchip IOMMU: platform device with banks, interrupt line, devres. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IH_LOG_PREFIX "rk_iommu: "
#include <ih/alloc.h>
#include <ih/diag.h>

#include "rk_iommu_drv.h"

/*
 * Lock order: devres_lock is a leaf. The interrupt line takes no lock: the handler pointer
 * is published with a release store and read with an acquire load.
 */

#define RK_PDEV_MAGIC 0x726b696fU /* "rkio" */

/* One devm block: the header sits in front of the memory handed out. */
struct rk_devres {
	struct rk_devres *next;
	const char *site;
	max_align_t data[];
};

static void rk_board_release(struct ih_device *dev)
{
	struct ih_rk_iommu_pdev *pd = container_of(dev, struct ih_rk_iommu_pdev, pdev.dev);
	struct ih_world *w = dev->world;

	/* A driver that unbound without releasing its devres would leak it: say so. */
	IH_WARN_ON(w, pd->devres != NULL, "rk_iommu: %s released with %u devres blocks", dev->name,
		   pd->devres_count);
	ih_rk_devres_release_all(dev);
	ih_rk_iommu_hw_destroy(pd->hw);
	pthread_mutex_destroy(&pd->devres_lock);
	ih_free(w, pd);
}

/* The hardware's interrupt output, wired to whatever handler the driver connected. */
static void rk_board_irq(void *opaque, unsigned int bank)
{
	struct ih_rk_iommu_pdev *pd = opaque;
	struct rk_irq_action *act = smp_load_acquire(&pd->irq_action);

	if (!act) {
		__atomic_fetch_add(&pd->spurious_irqs, 1, __ATOMIC_RELAXED);
		return;
	}
	act->fn(act->data, bank);
}

int ih_rk_iommu_pdev_create(struct ih_world *w, const char *name, const char *compatible,
			    const struct ih_rk_iommu_hw_config *hw_cfg,
			    struct ih_rk_iommu_pdev **out)
{
	struct ih_rk_iommu_hw_config cfg;
	struct ih_rk_iommu_pdev *pd;
	int ret;

	*out = NULL;
	if (IH_WARN_ON(w, !hw_cfg, "rk_iommu: board device without a hardware configuration"))
		return -EINVAL;
	if (!ih_bus_registered(w, &ih_platform_bus_type)) {
		ret = ih_bus_register(w, &ih_platform_bus_type);
		if (ret)
			return ret;
	}
	pd = ih_alloc(w, sizeof(*pd), "rk_iommu:board-pdev");
	if (!pd)
		return -ENOMEM;
	ret = ih_platform_device_init(w, &pd->pdev, name, compatible, NULL, rk_board_release);
	if (ret) {
		ih_free(w, pd);
		return ret;
	}
	/* From here on the release callback frees everything, the hardware included. */
	pd->magic = RK_PDEV_MAGIC;
	pthread_mutex_init(&pd->devres_lock, NULL);
	pd->pdev.dev.fwnode = pd;
	cfg = *hw_cfg;
	cfg.irq = rk_board_irq;
	cfg.irq_opaque = pd;
	if (!cfg.name)
		cfg.name = pd->pdev.dev.name; /* the hardware keeps the pointer */
	ret = ih_rk_iommu_hw_create(w, &cfg, &pd->hw);
	if (ret) {
		ih_device_put(&pd->pdev.dev);
		return ret;
	}
	pd->nbanks = cfg.nbanks;
	memcpy(pd->bank_base, cfg.bank_base, sizeof(pd->bank_base));
	*out = pd;
	return 0;
}

struct ih_rk_iommu_pdev *ih_rk_iommu_pdev_of(struct ih_device *dev)
{
	struct ih_rk_iommu_pdev *pd;

	/*
	 * The release callback identifies who created the device without reading past a
	 * foreign struct ih_platform_device; the magic then guards against a harness mix-up.
	 */
	if (!dev || dev->bus != &ih_platform_bus_type || dev->release != rk_board_release)
		return NULL;
	pd = container_of(dev, struct ih_rk_iommu_pdev, pdev.dev);
	return pd->magic == RK_PDEV_MAGIC ? pd : NULL;
}

int ih_rk_iommu_pdev_request_irq(struct ih_rk_iommu_pdev *pd, ih_rk_iommu_irq_handler fn,
				 void *data)
{
	if (!fn)
		return -EINVAL;
	if (READ_ONCE(pd->irq_action))
		return -EBUSY;
	pd->irq_storage.fn = fn;
	pd->irq_storage.data = data;
	/* Pairs with the acquire in rk_board_irq(): the handler sees fn and data set. */
	smp_store_release(&pd->irq_action, &pd->irq_storage);
	return 0;
}

void ih_rk_iommu_pdev_free_irq(struct ih_rk_iommu_pdev *pd)
{
	smp_store_release(&pd->irq_action, NULL);
}

unsigned long ih_rk_iommu_pdev_spurious_irqs(struct ih_rk_iommu_pdev *pd)
{
	return __atomic_load_n(&pd->spurious_irqs, __ATOMIC_RELAXED);
}

void *ih_rk_devm_kzalloc(struct ih_device *dev, size_t size, const char *site)
{
	/*
	 * As devm_kmalloc() does, read the owner first (its world here, its NUMA node in
	 * Linux). Seed 001 faulted on exactly this read with a NULL owner; keep it first and
	 * unconditional so the replay crashes the same way instead of returning an error.
	 */
	struct ih_world *w = READ_ONCE(dev->world);
	struct ih_rk_iommu_pdev *pd = ih_rk_iommu_pdev_of(dev);
	struct rk_devres *dr;

	IH_BUG_ON(!pd, "devm allocation on %s, which is not a Rockchip IOMMU device", dev->name);
	if (size > SIZE_MAX - sizeof(*dr))
		return NULL;
	dr = ih_alloc(w, sizeof(*dr) + size, site);
	if (!dr)
		return NULL;
	dr->site = site;
	pthread_mutex_lock(&pd->devres_lock);
	dr->next = pd->devres;
	pd->devres = dr;
	pd->devres_count++;
	pthread_mutex_unlock(&pd->devres_lock);
	return dr->data;
}

void ih_rk_devres_release_all(struct ih_device *dev)
{
	struct ih_rk_iommu_pdev *pd = ih_rk_iommu_pdev_of(dev);
	struct rk_devres *dr;

	if (!pd)
		return;
	pthread_mutex_lock(&pd->devres_lock);
	dr = pd->devres;
	pd->devres = NULL;
	pd->devres_count = 0;
	pthread_mutex_unlock(&pd->devres_lock);
	/* Newest first, as devres unwinds. */
	while (dr) {
		struct rk_devres *next = dr->next;

		ih_free(dev->world, dr);
		dr = next;
	}
}

unsigned int ih_rk_devres_count(struct ih_device *dev)
{
	struct ih_rk_iommu_pdev *pd = ih_rk_iommu_pdev_of(dev);
	unsigned int n;

	if (!pd)
		return 0;
	pthread_mutex_lock(&pd->devres_lock);
	n = pd->devres_count;
	pthread_mutex_unlock(&pd->devres_lock);
	return n;
}

/* How a client's DMA reaches the silicon: the access goes out on every bank in turn. */
static int rk_board_translate(void *hw, u32 sid, u64 iova, bool write, ih_pa_t *pa)
{
	/* One master per instance: the master ID does not select anything. */
	return ih_rk_iommu_hw_translate(hw, iova, write, pa);
}

static bool rk_board_tlb_covers(void *hw, u64 iova, size_t size)
{
	u64 last;

	if (!size || iova > UINT32_MAX)
		return false;
	last = iova + size - 1;
	if (last < iova || last > UINT32_MAX)
		last = UINT32_MAX; /* nothing above 4G can be cached */
	for (u64 page = iova & ~(u64)(IH_PAGE_SIZE - 1); page <= last; page += IH_PAGE_SIZE)
		if (ih_rk_iommu_hw_tlb_holds(hw, page))
			return true;
	return false;
}

const struct ih_iommu_hw_ops ih_rk_iommu_hw_ops = {
    .translate = rk_board_translate,
    .tlb_covers = rk_board_tlb_covers,
};
