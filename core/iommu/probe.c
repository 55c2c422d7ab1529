// SPDX-License-Identifier: MIT
/* IOMMU instances, registration, and both probe flows (bind-time and probe-path). */
#include <stdlib.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include <ih/world.h>
#include "base/base_priv.h"
#include "check/check_priv.h"
#include "iommu_priv.h"
#include "platform/world_priv.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "iommu: "

/*
 * Lock order: device lock -> probe_lock -> group mutex -> dev_iommu lock.
 * Registration walks the buses without any device lock and takes probe_lock per device;
 * in the probe-path flow it drops probe_lock around the bus's dma_configure (the 2025
 * "lock juggling"), which takes it again inside firmware parsing.
 */

static int iommu_notify(struct ih_bus_notifier *nb, enum ih_bus_event event,
			struct ih_device *dev);

static const struct ih_base_dma_hooks iommu_dma_hooks;

static void iommu_state_teardown(struct ih_world *w, void *arg)
{
	struct ih_iommu_state *st = arg;

	ih_bus_unregister_notifier(w, &st->nb);
	IH_WARN_ON(w, st->instances != NULL, "iommu: instance %s still registered at teardown",
		   st->instances ? st->instances->name : "");
	__atomic_store_n(&w->iommu, NULL, __ATOMIC_RELEASE);
	ih_mutex_destroy(&st->probe_lock);
	pthread_mutex_destroy(&st->registry_lock);
	pthread_rwlock_destroy(&st->dma_lock);
	pthread_mutex_destroy(&st->ids_lock);
	ih_free(w, st);
}

/* Writer-preferring: device DMA in a tight loop must not starve a removal. */
static void dma_lock_init(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

void ih_iommu_dma_quiesce(struct ih_world *w)
{
	struct ih_iommu_state *st = __atomic_load_n(&w->iommu, __ATOMIC_ACQUIRE);

	if (!st)
		return;
	pthread_rwlock_wrlock(&st->dma_lock);
	pthread_rwlock_unlock(&st->dma_lock);
}

/* The world's IOMMU core state, created on first use (after the device model's). */
struct ih_iommu_state *ih_iommu_state(struct ih_world *w)
{
	struct ih_iommu_state *st = __atomic_load_n(&w->iommu, __ATOMIC_ACQUIRE);
	struct ih_iommu_state *expected = NULL;

	if (st)
		return st;
	if (ih_base_init(w))
		return NULL;
	/*
	 * The checkers' state (and its bus notifier) before ours: it must exist before any
	 * notifier call can create a DMA domain, and be torn down after us.
	 */
	if (!ih_check_state(w))
		return NULL;
	st = ih_alloc(w, sizeof(*st), "iommu:state");
	if (!st)
		return NULL;
	st->w = w;
	ih_mutex_init(&st->probe_lock);
	pthread_mutex_init(&st->registry_lock, NULL);
	dma_lock_init(&st->dma_lock);
	pthread_mutex_init(&st->ids_lock, NULL);
	st->flow = IH_PROBE_FLOW_PROBE_PATH;
	st->default_type = IH_DOMAIN_DMA;
	st->nb.notifier_call = iommu_notify;
	if (!__atomic_compare_exchange_n(&w->iommu, &expected, st, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		/* Another thread won the race to create it. */
		ih_mutex_destroy(&st->probe_lock);
		pthread_mutex_destroy(&st->registry_lock);
		pthread_rwlock_destroy(&st->dma_lock);
		pthread_mutex_destroy(&st->ids_lock);
		ih_free(w, st);
		return expected;
	}
	if (ih_bus_register_notifier(w, &st->nb) || ih_base_set_dma_hooks(w, &iommu_dma_hooks, st) ||
	    ih_world_add_teardown(w, iommu_state_teardown, st)) {
		ih_bus_unregister_notifier(w, &st->nb);
		__atomic_store_n(&w->iommu, NULL, __ATOMIC_RELEASE);
		ih_mutex_destroy(&st->probe_lock);
		pthread_mutex_destroy(&st->registry_lock);
		pthread_rwlock_destroy(&st->dma_lock);
		pthread_mutex_destroy(&st->ids_lock);
		ih_free(w, st);
		return NULL;
	}
	return st;
}

void ih_iommu_set_probe_flow(struct ih_world *w, enum ih_probe_flow flow)
{
	struct ih_iommu_state *st = ih_iommu_state(w);

	if (st && (flow == IH_PROBE_FLOW_BIND || flow == IH_PROBE_FLOW_PROBE_PATH))
		st->flow = flow;
}

enum ih_probe_flow ih_iommu_probe_flow(struct ih_world *w)
{
	struct ih_iommu_state *st = ih_iommu_state(w);

	return st ? st->flow : IH_PROBE_FLOW_PROBE_PATH;
}

void ih_iommu_get_stats(struct ih_world *w, struct ih_iommu_stats *out)
{
	struct ih_iommu_state *st = ih_iommu_state(w);

	*out = (struct ih_iommu_stats){ 0 };
	if (!st)
		return;
	out->probes = __atomic_load_n(&st->probes, __ATOMIC_RELAXED);
	out->probe_failures = __atomic_load_n(&st->probe_failures, __ATOMIC_RELAXED);
	out->late_probes_at_bind = __atomic_load_n(&st->late_probes_at_bind, __ATOMIC_RELAXED);
	out->xlate_calls = __atomic_load_n(&st->xlate_calls, __ATOMIC_RELAXED);
}

/* ---- Registry ---- */

struct ih_iommu_device *ih_iommu_device_find(struct ih_world *w, const void *fwnode)
{
	struct ih_iommu_state *st = ih_iommu_state(w);
	struct ih_iommu_device *found = NULL;

	if (!st || !fwnode)
		return NULL;
	pthread_mutex_lock(&st->registry_lock);
	for (struct ih_iommu_device *i = st->instances; i; i = i->next) {
		if (i->fwnode == fwnode) {
			found = i;
			break;
		}
	}
	pthread_mutex_unlock(&st->registry_lock);
	return found;
}

/* ---- Probe ---- */

/**
 * iommu_probe_device_locked() - the kernel's __iommu_probe_device().
 * Context: probe_lock held (dropped and retaken around dma_configure in the probe path).
 */
static int iommu_probe_device_locked(struct ih_iommu_state *st, struct ih_device *dev)
{
	struct ih_world *w = dev->world;
	struct ih_iommu_device *iommu, *probed = NULL;
	struct ih_iommu_fwspec *fwspec;
	struct ih_dev_iommu *param;
	int ret;

	ih_lockdep_assert_held(&st->probe_lock);
	if (READ_ONCE(dev->iommu_group))
		return 0;

	param = ih_dev_iommu_get(dev);
	if (!param)
		return -ENOMEM;

	/*
	 * Probe-path flow: parse firmware here for a device no driver has bound yet, through
	 * the bus's own dma_configure, as the bus would at bind.
	 */
	if (st->flow == IH_PROBE_FLOW_PROBE_PATH && !param->fwspec && !ih_device_driver(dev) &&
	    dev->bus->dma_configure) {
		ih_mutex_unlock(&st->probe_lock);
		ret = dev->bus->dma_configure(dev);
		ih_mutex_lock(&st->probe_lock);
		/* Another walk may have finished this probe meanwhile (0c8e9c148e29). */
		if (READ_ONCE(dev->iommu_group))
			return 0;
		if (ret < 0)
			return ret;
		param = ih_dev_iommu_get(dev);
		if (!param)
			return -ENOMEM;
	}

	fwspec = param->fwspec;
	iommu = fwspec ? ih_iommu_device_find(w, fwspec->iommu_fwnode) : NULL;
	if (!iommu) {
		ret = -ENODEV;
		goto err_free;
	}
	ret = iommu->ops->probe_device(dev, &probed);
	if (!ret && !probed)
		ret = -ENODEV;
	if (ret)
		goto err_free;
	param->iommu_dev = probed;

	ret = ih_iommu_group_add_probed_dev(dev);
	if (ret)
		goto err_release;
	__atomic_fetch_add(&st->probes, 1, __ATOMIC_RELAXED);
	return 0;

err_release:
	if (probed->ops->release_device)
		probed->ops->release_device(dev);
	param->iommu_dev = NULL;
err_free:
	if (ret != -ENODEV)
		__atomic_fetch_add(&st->probe_failures, 1, __ATOMIC_RELAXED);
	ih_sched_point(w, "probe:before-free");
	ih_dev_iommu_free(dev);
	return ret;
}

int ih_iommu_probe_device(struct ih_device *dev)
{
	struct ih_iommu_state *st;
	int ret;

	if (!dev || !dev->world)
		return -EINVAL;
	st = ih_iommu_state(dev->world);
	if (!st)
		return -ENOMEM;
	ih_mutex_lock(&st->probe_lock);
	ret = iommu_probe_device_locked(st, dev);
	ih_mutex_unlock(&st->probe_lock);
	return ret;
}

static void iommu_release_device_locked(struct ih_iommu_state *st, struct ih_device *dev)
{
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);

	ih_lockdep_assert_held(&st->probe_lock);
	if (!param)
		return;
	if (param->iommu_dev) {
		const struct ih_iommu_ops *ops = param->iommu_dev->ops;

		ih_iommu_group_remove_dev(dev);
		if (ops->release_device)
			ops->release_device(dev);
	}
	ih_dev_iommu_free(dev);
}

void ih_iommu_release_device(struct ih_device *dev)
{
	struct ih_iommu_state *st;

	if (!dev || !dev->world)
		return;
	st = ih_iommu_state(dev->world);
	if (!st)
		return;
	ih_mutex_lock(&st->probe_lock);
	iommu_release_device_locked(st, dev);
	ih_mutex_unlock(&st->probe_lock);
}

/* Device add probes; removal releases (the kernel's iommu_bus_notifier). */
static int iommu_notify(struct ih_bus_notifier *nb, enum ih_bus_event event,
			struct ih_device *dev)
{
	if (event == IH_BUS_NOTIFY_ADD_DEVICE)
		ih_iommu_probe_device(dev);
	else if (event == IH_BUS_NOTIFY_REMOVED_DEVICE)
		ih_iommu_release_device(dev);
	return 0;
}

static const struct ih_bus_type *const iommu_buses[] = { &ih_platform_bus_type, &ih_pci_bus_type };

static int probe_one(struct ih_device *dev, void *data)
{
	struct ih_iommu_state *st = data;
	int ret;

	ih_mutex_lock(&st->probe_lock);
	ret = iommu_probe_device_locked(st, dev);
	ih_mutex_unlock(&st->probe_lock);
	if (ret && ret != -ENODEV && ret != -EPROBE_DEFER)
		ih_log(st->w, IH_LOG_INFO, "%s: probe at IOMMU registration failed (%d)", dev->name,
		       ret);
	return 0;
}

int ih_iommu_device_register(struct ih_world *w, struct ih_iommu_device *iommu,
			     const struct ih_iommu_ops *ops, const void *fwnode,
			     struct ih_device *hwdev)
{
	struct ih_iommu_state *st;

	if (IH_WARN_ON(w, !iommu || !ops || !fwnode || !ops->probe_device || !ops->device_group ||
			      !ops->domain_alloc))
		return -EINVAL;
	st = ih_iommu_state(w);
	if (!st)
		return -ENOMEM;
	iommu->ops = ops;
	iommu->fwnode = fwnode;
	iommu->dev = hwdev;
	if (!iommu->name)
		iommu->name = hwdev ? hwdev->name : "iommu";
	WRITE_ONCE(iommu->ready, false);

	pthread_mutex_lock(&st->registry_lock);
	for (struct ih_iommu_device *i = st->instances; i; i = i->next) {
		if (i == iommu || i->fwnode == fwnode) {
			pthread_mutex_unlock(&st->registry_lock);
			IH_WARN_ON(w, 1, "iommu: %s registered twice", iommu->name);
			return -EEXIST;
		}
	}
	iommu->next = st->instances;
	st->instances = iommu;
	pthread_mutex_unlock(&st->registry_lock);
	ih_log(w, IH_LOG_INFO, "registered %s", iommu->name);
	ih_sched_point(w, "register:after-publish");

	/* bus_iommu_probe(): every device waiting for this instance. */
	for (size_t i = 0; i < ARRAY_SIZE(iommu_buses); i++)
		if (ih_bus_registered(w, iommu_buses[i]))
			ih_bus_for_each_dev(w, iommu_buses[i], probe_one, st);
	smp_store_release(&iommu->ready, true);
	ih_deferred_probe_trigger(w);
	return 0;
}

static bool served_by(struct ih_iommu_state *st, struct ih_device *dev,
		      struct ih_iommu_device *iommu)
{
	bool ours;

	ih_mutex_lock(&st->probe_lock);
	ours = dev->iommu && dev->iommu->iommu_dev == iommu;
	ih_mutex_unlock(&st->probe_lock);
	return ours;
}

/*
 * One device the leaving instance serves: its driver goes first (Linux unbinds the
 * consumers of a supplier through their device links before the supplier's driver goes),
 * then its IOMMU state, both under the device lock so that no bind slips in between.
 */
static int release_if_ours(struct ih_device *dev, void *data)
{
	struct ih_iommu_device *iommu = data;
	struct ih_iommu_state *st = ih_iommu_state(dev->world);
	bool locked = !ih_device_lock_held(dev);

	if (!served_by(st, dev, iommu))
		return 0;
	if (locked)
		ih_device_lock(dev);
	/* Released meanwhile (a device delete): nothing left to unbind for @iommu. */
	if (!served_by(st, dev, iommu))
		goto out_unlock;
	if (ih_device_driver(dev)) {
		ih_log(st->w, IH_LOG_INFO, "%s: unbinding %s: its IOMMU %s goes away", dev->name,
		       ih_device_driver(dev)->name, iommu->name);
		ih_base_release_driver_locked(dev);
	}
	ih_mutex_lock(&st->probe_lock);
	if (dev->iommu && dev->iommu->iommu_dev == iommu)
		iommu_release_device_locked(st, dev);
	ih_mutex_unlock(&st->probe_lock);
out_unlock:
	if (locked)
		ih_device_unlock(dev);
	return 0;
}

void ih_iommu_device_unregister(struct ih_world *w, struct ih_iommu_device *iommu)
{
	struct ih_iommu_state *st = ih_iommu_state(w);
	bool found = false;

	if (!st || !iommu)
		return;
	pthread_mutex_lock(&st->registry_lock);
	for (struct ih_iommu_device **pp = &st->instances; *pp; pp = &(*pp)->next) {
		if (*pp == iommu) {
			*pp = iommu->next;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&st->registry_lock);
	if (IH_WARN_ON(w, !found, "iommu: unregister of an unregistered instance"))
		return;
	/*
	 * Lookups no longer find it (a probe from now on defers); every device it serves is
	 * unbound and released. Device DMA in flight finishes before anything it reads goes.
	 */
	for (size_t i = 0; i < ARRAY_SIZE(iommu_buses); i++)
		if (ih_bus_registered(w, iommu_buses[i]))
			ih_bus_for_each_dev(w, iommu_buses[i], release_if_ours, iommu);
}

/* ---- Bus dma_configure / dma_cleanup ---- */

int ih_iommu_dma_configure(struct ih_device *dev)
{
	struct ih_iommu_state *st = ih_iommu_state(dev->world);
	bool was_probed;
	int ret;

	if (!st)
		return -ENOMEM;
	ret = ih_iommu_fw_configure(dev);
	if (ret <= 0)
		return ret;
	/* Called by the probe path itself for an unbound device: parsing is all it wants. */
	if (st->flow == IH_PROBE_FLOW_PROBE_PATH && !ih_device_driver(dev))
		return 0;
	was_probed = READ_ONCE(dev->iommu_group) != NULL;
	ret = ih_iommu_probe_device(dev);
	if (!ret && !was_probed && st->flow == IH_PROBE_FLOW_PROBE_PATH)
		__atomic_fetch_add(&st->late_probes_at_bind, 1, __ATOMIC_RELAXED);
	return ret == -ENODEV ? 0 : ret;
}

void ih_iommu_dma_cleanup(struct ih_device *dev)
{
	ih_iommu_device_unuse_default_domain(dev);
}

static int hook_fw_configure(struct ih_device *dev, void *opaque)
{
	return ih_iommu_dma_configure(dev);
}

static int hook_use_default_domain(struct ih_device *dev, void *opaque)
{
	return ih_iommu_device_use_default_domain(dev);
}

static void hook_unuse_default_domain(struct ih_device *dev, void *opaque)
{
	ih_iommu_device_unuse_default_domain(dev);
}

static const struct ih_base_dma_hooks iommu_dma_hooks = {
	.fw_configure = hook_fw_configure,
	.use_default_domain = hook_use_default_domain,
	.unuse_default_domain = hook_unuse_default_domain,
};
