// SPDX-License-Identifier: MIT
/* dev->iommu, the fwspec, and firmware parsing into it (of_iommu_configure). */
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include "iommu_priv.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "iommu: "

/*
 * dev->iommu and its fwspec are written under the probe lock in the fixed code. The
 * fwspec is reallocated when IDs are added, so nobody may keep a pointer to it across a
 * call that can add IDs or free dev->iommu (the seed-000 hazard).
 */

struct ih_dev_iommu *ih_dev_iommu_get(struct ih_device *dev)
{
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);

	if (param)
		return param;
	param = ih_alloc(dev->world, sizeof(*param), "iommu:dev-iommu");
	if (!param)
		return NULL;
	pthread_mutex_init(&param->lock, NULL);
	WRITE_ONCE(dev->iommu, param);
	return param;
}

void ih_dev_iommu_free(struct ih_device *dev)
{
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);

	if (!param)
		return;
	WRITE_ONCE(dev->iommu, NULL);
	/* Device DMA in flight may still read it (ih_dma_access()). */
	ih_iommu_dma_quiesce(dev->world);
	ih_free(dev->world, param->fwspec);
	pthread_mutex_destroy(&param->lock);
	ih_free(dev->world, param);
}

int ih_iommu_fwspec_init(struct ih_device *dev, const void *iommu_fwnode)
{
	struct ih_world *w = dev->world;
	struct ih_iommu_device *iommu = ih_iommu_device_find(w, iommu_fwnode);
	struct ih_iommu_fwspec *fwspec;
	struct ih_dev_iommu *param;

	if (!iommu)
		return -EPROBE_DEFER;
	/* A replay from driver bind must wait until registration has probed everything. */
	if (!smp_load_acquire(&iommu->ready) && !READ_ONCE(dev->iommu))
		return -EPROBE_DEFER;

	param = ih_dev_iommu_get(dev);
	if (!param)
		return -ENOMEM;
	ih_sched_point(w, "fwspec:after-get");

	fwspec = param->fwspec;
	if (fwspec)
		return fwspec->iommu_fwnode == iommu_fwnode ? 0 : -EINVAL;
	fwspec = ih_alloc(w, sizeof(*fwspec) + sizeof(u32), "iommu:fwspec");
	if (!fwspec)
		return -ENOMEM;
	fwspec->iommu_fwnode = iommu_fwnode;
	param->fwspec = fwspec;
	return 0;
}

int ih_iommu_fwspec_add_ids(struct ih_device *dev, const u32 *ids, unsigned int num)
{
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);
	struct ih_iommu_fwspec *fwspec = param ? param->fwspec : NULL;
	size_t size;

	if (!fwspec)
		return -EINVAL;
	if (num > 1024 || fwspec->num_ids + num > 1024)
		return -EINVAL; /* firmware asking for absurd ID counts */
	size = sizeof(*fwspec) + (fwspec->num_ids + num) * sizeof(u32);
	/* Grown beyond its first slot: reallocated, and re-pointed from dev->iommu. */
	if (fwspec->num_ids + num > 1) {
		fwspec = ih_realloc(dev->world, fwspec, size, "iommu:fwspec");
		if (!fwspec)
			return -ENOMEM;
		param->fwspec = fwspec;
	}
	memcpy(&fwspec->ids[fwspec->num_ids], ids, num * sizeof(u32));
	fwspec->num_ids += num;
	return 0;
}

struct ih_iommu_fwspec *ih_dev_iommu_fwspec_get(struct ih_device *dev)
{
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);

	return param ? param->fwspec : NULL;
}

void *ih_dev_iommu_priv_get(struct ih_device *dev)
{
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);

	return param ? param->priv : NULL;
}

void ih_dev_iommu_priv_set(struct ih_device *dev, void *priv)
{
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);

	IH_BUG_ON(!param, "dev_iommu_priv_set on %s without dev->iommu", dev->name);
	param->priv = priv;
}

void ih_iommu_set_fw_provider(struct ih_world *w, const struct ih_fw_provider_ops *ops,
			      void *opaque)
{
	struct ih_iommu_state *st = ih_iommu_state(w);

	if (!st)
		return;
	st->fw_opaque = opaque;
	st->fw = ops;
}

/* One firmware reference: start the fwspec and let the instance's driver translate it. */
static int xlate_one(struct ih_device *dev, const struct ih_fw_iommu_args *args, void *cb_arg)
{
	struct ih_iommu_state *st = cb_arg;
	struct ih_iommu_device *iommu;
	int ret;

	if (!args || args->nargs > IH_FW_MAX_ARGS)
		return -EINVAL;
	ret = ih_iommu_fwspec_init(dev, args->fwnode);
	if (ret)
		return ret;
	iommu = ih_iommu_device_find(dev->world, args->fwnode);
	if (!iommu)
		return -EPROBE_DEFER; /* unregistered meanwhile */
	__atomic_fetch_add(&st->xlate_calls, 1, __ATOMIC_RELAXED);
	ih_sched_point(dev->world, "fwspec:before-xlate");
	if (iommu->ops->of_xlate)
		return iommu->ops->of_xlate(dev, args);
	return ih_iommu_fwspec_add_ids(dev, args->args, args->nargs);
}

/**
 * ih_iommu_fw_configure() - firmware parsing for @dev: build its fwspec.
 *
 * The fixed code holds the probe lock here, so fwspec creation cannot interleave with a
 * probe of the same device (a2e7e59a9426). The fwspec-probe-race switch parses without it.
 *
 * Return: >0 when @dev has a fwspec (built now, or before: firmware is parsed once),
 * 0 when firmware puts it behind no IOMMU, or a negative errno.
 */
int ih_iommu_fw_configure(struct ih_device *dev)
{
	struct ih_world *w = dev->world;
	struct ih_iommu_state *st = ih_iommu_state(w);
	bool locked = !ih_regress_on(w, IH_REGRESS_FWSPEC_PROBE_RACE);
	int ret;

	if (!st)
		return -ENOMEM;
	if (!st->fw)
		return 0;
	if (locked)
		ih_mutex_lock(&st->probe_lock);
	if (ih_dev_iommu_fwspec_get(dev)) {
		ret = 1;
		goto out;
	}
	ret = st->fw->for_each_iommu_ref(st->fw_opaque, dev, xlate_one, st);
	if (ret < 0) {
		if (ret != -EPROBE_DEFER)
			ih_log(w, IH_LOG_GUEST_ERROR, "%s: firmware IOMMU set-up failed (%d)",
			       dev->name, ret);
		/* Leave no half-built fwspec behind unless the device was probed already. */
		if (READ_ONCE(dev->iommu) && !READ_ONCE(dev->iommu)->iommu_dev)
			ih_dev_iommu_free(dev);
	}
out:
	if (locked)
		ih_mutex_unlock(&st->probe_lock);
	return ret;
}
