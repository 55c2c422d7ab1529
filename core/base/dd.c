// SPDX-License-Identifier: MIT
/* Binding devices and drivers: probe, remove, explicit bind/unbind, the deferred-probe list. */
#include <string.h>

#define IH_LOG_PREFIX "base: "
#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include "base_priv.h"

/*
 * Lock order: device lock -> nb_lock (read, notifiers) -> bus lock (driver pins) ->
 * deferred lock. probe, remove, match and the dma hooks run with the device lock held
 * and no other model lock.
 * The deferred passes run with no lock held between devices.
 */

/* Request a deferred pass: something was bound that others may have waited for. */
static void deferred_request(struct ih_base_state *st)
{
	pthread_mutex_lock(&st->deferred_lock);
	st->trigger_requests++;
	pthread_mutex_unlock(&st->deferred_lock);
}

void ih_base_deferred_add(struct ih_base_state *st, struct ih_device *dev)
{
	struct ih_device_private *p = dev->p;

	pthread_mutex_lock(&st->deferred_lock);
	/*
	 * The state is read under the deferred lock: ih_device_del() moves the device out of
	 * ADDED before it takes it off this list (under the same lock), so a deleted device
	 * is never left here.
	 */
	if (ih_base_dev_state(dev) == IH_DEV_STATE_ADDED && p->deferred_where == IH_DEFERRED_NONE) {
		ih_blist_add_tail(&p->deferred_node, &st->pending);
		p->deferred_where = IH_DEFERRED_PENDING;
		st->npending++;
		ih_log(st->w, IH_LOG_INFO, "device %s: probe deferred", dev->name);
	}
	pthread_mutex_unlock(&st->deferred_lock);
}

void ih_base_deferred_del(struct ih_base_state *st, struct ih_device *dev)
{
	struct ih_device_private *p = dev->p;

	pthread_mutex_lock(&st->deferred_lock);
	if (p->deferred_where != IH_DEFERRED_NONE) {
		ih_blist_del_init(&p->deferred_node);
		p->deferred_where = IH_DEFERRED_NONE;
		st->npending--;
	}
	pthread_mutex_unlock(&st->deferred_lock);
}

/*
 * Linux's really_probe(), device lock held, @drv pinned by the caller:
 *   dev->driver = drv; dma_configure; BIND_DRIVER; probe;
 *   success: BOUND_DRIVER;
 *   failure after dma_configure: DRIVER_NOT_BOUND; dma_cleanup; dev->driver = NULL;
 *   dma_configure failure: dev->driver = NULL only (nothing to clean up).
 * -EPROBE_DEFER from either step puts the device on the deferred list.
 */
static int really_probe(struct ih_base_state *st, struct ih_device *dev, struct ih_driver *drv)
{
	struct ih_world *w = dev->world;
	const struct ih_bus_type *bus = dev->bus;
	int ret;

	ih_base_assert_dev_locked(dev);
	if (ih_base_dev_state(dev) != IH_DEV_STATE_ADDED)
		return -ENODEV;
	if (dev->driver)
		return -EBUSY;

	WRITE_ONCE(dev->driver, drv);
	/* The window where dev->driver is visible but nothing is set up yet. */
	ih_sched_point(w, "base:probe-after-set-driver");
	if (bus->dma_configure) {
		IH_BASE_STAT_INC(st, dma_configures);
		ret = bus->dma_configure(dev);
		if (ret) {
			ih_log(w, IH_LOG_INFO, "device %s: dma_configure for %s failed: %d",
			       dev->name, drv->name, ret);
			goto err_clear_driver;
		}
	}
	ih_base_notify(st, dev, IH_BUS_NOTIFY_BIND_DRIVER);
	ih_sched_point(w, "base:probe-before-probe");
	IH_BASE_STAT_INC(st, probes);
	ret = drv->probe ? drv->probe(dev) : 0;
	if (ret)
		goto err_not_bound;

	IH_BASE_STAT_INC(st, binds);
	ih_base_deferred_del(st, dev);
	ih_base_notify(st, dev, IH_BUS_NOTIFY_BOUND_DRIVER);
	ih_log(w, IH_LOG_INFO, "device %s bound to %s", dev->name, drv->name);
	deferred_request(st);
	return 0;

err_not_bound:
	if (ret != -EPROBE_DEFER) {
		IH_BASE_STAT_INC(st, probe_failures);
		ih_log(w, IH_LOG_INFO, "device %s: probe with %s failed: %d", dev->name,
		       drv->name, ret);
	}
	ih_base_notify(st, dev, IH_BUS_NOTIFY_DRIVER_NOT_BOUND);
	/* Another DMA user (the IOMMU layer) may look at the device in this window. */
	ih_sched_point(w, "base:probe-failed-before-dma-cleanup");
	/* Before 25f3bcfc54bc a failed probe left what dma_configure claimed in place. */
	if (bus->dma_cleanup && !ih_regress_on(w, IH_REGRESS_OWNERSHIP_UNSERIALISED)) {
		IH_BASE_STAT_INC(st, dma_cleanups);
		bus->dma_cleanup(dev);
	}
err_clear_driver:
	WRITE_ONCE(dev->driver, NULL);
	dev->driver_data = NULL;
	if (ret == -EPROBE_DEFER) {
		IH_BASE_STAT_INC(st, probe_defers);
		ih_base_deferred_add(st, dev);
	}
	return ret;
}

/* Linux's __device_release_driver(), device lock held. Nothing to do when unbound. */
void ih_base_release_driver_locked(struct ih_device *dev)
{
	struct ih_base_state *st = ih_base_state_peek(dev->world);
	struct ih_world *w = dev->world;
	struct ih_driver *drv = dev->driver;

	ih_base_assert_dev_locked(dev);
	if (!drv)
		return;
	ih_base_notify(st, dev, IH_BUS_NOTIFY_UNBIND_DRIVER);
	ih_sched_point(w, "base:unbind-before-remove");
	if (drv->remove)
		drv->remove(dev);
	/* dev->driver is still set: the bus reads driver_managed_dma from it. */
	ih_sched_point(w, "base:unbind-before-dma-cleanup");
	if (dev->bus->dma_cleanup) {
		IH_BASE_STAT_INC(st, dma_cleanups);
		dev->bus->dma_cleanup(dev);
	}
	WRITE_ONCE(dev->driver, NULL);
	dev->driver_data = NULL;
	IH_BASE_STAT_INC(st, unbinds);
	ih_base_notify(st, dev, IH_BUS_NOTIFY_UNBOUND_DRIVER);
	ih_log(w, IH_LOG_INFO, "device %s unbound from %s", dev->name, drv->name);
}

/* Linux's __device_attach(): try each registered driver in order until one binds. */
enum ih_attach_result ih_base_device_attach(struct ih_device *dev)
{
	struct ih_base_state *st = ih_base_state_peek(dev->world);
	enum ih_attach_result res = IH_ATTACH_NONE;
	struct ih_driver_private *dp;
	struct ih_bus_priv *bus;
	u64 cursor = 0;
	int ret;

	ih_base_dev_lock(dev);
	if (ih_base_dev_state(dev) != IH_DEV_STATE_ADDED)
		goto out_unlock;
	if (dev->driver) {
		res = IH_ATTACH_ALREADY;
		goto out_unlock;
	}
	/* Valid while the device is added: a bus with devices cannot be unregistered. */
	bus = dev->p->bus;
	while (res == IH_ATTACH_NONE && (dp = ih_base_bus_next_driver(bus, &cursor))) {
		ret = dev->bus->match(dev, dp->drv);
		if (ret > 0) {
			if (!really_probe(st, dev, dp->drv))
				res = IH_ATTACH_BOUND;
		} else if (ret == -EPROBE_DEFER) {
			IH_BASE_STAT_INC(st, probe_defers);
			ih_base_deferred_add(st, dev);
		}
		ih_base_driver_put(bus, dp);
	}
out_unlock:
	ih_base_dev_unlock(dev);
	return res;
}

/* Linux's driver_attach(): offer @drv (pinned by the caller) every device of @bus. */
void ih_base_driver_attach(struct ih_bus_priv *bus, struct ih_driver *drv)
{
	struct ih_base_state *st = ih_base_state_peek(bus->w);
	struct ih_device *dev;
	u64 cursor = 0;
	int ret;

	while ((dev = ih_base_bus_next_device(bus, &cursor))) {
		/*
		 * Linux matches before locking; here match runs under the device lock too, so
		 * driver_override (written under it) is never read mid-update.
		 */
		ih_base_dev_lock(dev);
		if (!dev->driver && ih_base_dev_state(dev) == IH_DEV_STATE_ADDED) {
			ret = bus->type->match(dev, drv);
			if (ret == -EPROBE_DEFER) {
				IH_BASE_STAT_INC(st, probe_defers);
				ih_base_deferred_add(st, dev);
			} else if (ret > 0) {
				really_probe(st, dev, drv);
			}
		}
		ih_base_dev_unlock(dev);
		ih_device_put(dev);
	}
}

/* Unbind @drv (already off the bus list, no users left) from every device it drives. */
void ih_base_driver_detach(struct ih_bus_priv *bus, struct ih_driver *drv)
{
	struct ih_device *dev;
	u64 cursor = 0;

	while ((dev = ih_base_bus_next_device(bus, &cursor))) {
		if (ih_device_driver(dev) == drv) {
			ih_base_dev_lock(dev);
			if (dev->driver == drv)
				ih_base_release_driver_locked(dev);
			ih_base_dev_unlock(dev);
		}
		ih_device_put(dev);
	}
}

int ih_device_attach(struct ih_device *dev)
{
	enum ih_attach_result res;
	struct ih_base_state *st;

	if (IH_WARN_ON(NULL, !dev, "device attach: NULL device"))
		return -EINVAL;
	if (!ih_device_is_added(dev))
		return -ENODEV;
	res = ih_base_device_attach(dev);
	st = ih_base_state_peek(dev->world);
	if (!ih_base_thread_dev_locks())
		ih_base_deferred_run(st);
	return res == IH_ATTACH_NONE ? 0 : 1;
}

int ih_device_bind(struct ih_device *dev, struct ih_driver *drv)
{
	struct ih_driver_private *dp;
	struct ih_base_state *st;
	struct ih_bus_priv *bus;
	struct ih_world *w;
	int ret;

	if (IH_WARN_ON(NULL, !dev, "bind: NULL device"))
		return -EINVAL;
	w = dev->world;
	if (IH_WARN_ON(w, !drv, "bind %s: NULL driver", dev->name))
		return -EINVAL;
	if (IH_WARN_ON(w, drv->bus != dev->bus, "bind %s to %s: different buses", dev->name,
		       drv->name ? drv->name : "?"))
		return -EINVAL;
	if (IH_WARN_ON(w, !ih_device_is_added(dev), "bind %s: device not added", dev->name))
		return -ENODEV;
	st = ih_base_state_peek(w);
	bus = dev->p->bus;

	ih_base_dev_lock(dev);
	/* Rechecked under the lock: a del may have started since. */
	if (IH_WARN_ON(w, ih_base_dev_state(dev) != IH_DEV_STATE_ADDED,
		       "bind %s: device being deleted", dev->name)) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (IH_WARN_ON(w, dev->driver, "bind %s: already bound to %s", dev->name,
		       dev->driver->name)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	dp = ih_base_driver_get(bus, drv);
	if (IH_WARN_ON(w, !dp, "bind %s: driver %s not registered", dev->name,
		       drv->name ? drv->name : "?")) {
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = dev->bus->match(dev, drv);
	if (ret == -EPROBE_DEFER) {
		IH_BASE_STAT_INC(st, probe_defers);
		ih_base_deferred_add(st, dev);
	} else if (ret <= 0) {
		ret = -ENODEV;
	} else {
		ret = really_probe(st, dev, drv);
	}
	ih_base_driver_put(bus, dp);
out_unlock:
	ih_base_dev_unlock(dev);
	if (!ih_base_thread_dev_locks())
		ih_base_deferred_run(st);
	return ret;
}

int ih_device_unbind(struct ih_device *dev)
{
	struct ih_world *w;
	int ret = 0;

	if (IH_WARN_ON(NULL, !dev, "unbind: NULL device"))
		return -EINVAL;
	w = dev->world;
	if (IH_WARN_ON(w, ih_base_dev_state(dev) == IH_DEV_STATE_NONE,
		       "unbind: device never initialised"))
		return -EINVAL;
	ih_base_dev_lock(dev);
	if (IH_WARN_ON(w, !dev->driver, "unbind %s: no driver bound", dev->name))
		ret = -ENODEV;
	else
		ih_base_release_driver_locked(dev);
	ih_base_dev_unlock(dev);
	return ret;
}

/*
 * One caller at a time runs passes; every other trigger only bumps trigger_requests, and
 * the runner loops until it has covered every request (or hit the pass bound). A pass
 * moves the pending list to the active list and retries each entry with no lock held,
 * so a retry may add devices, register drivers or defer again (back onto pending).
 */
int ih_base_deferred_run(struct ih_base_state *st)
{
	unsigned int passes = 0;
	int bound = 0;

	pthread_mutex_lock(&st->deferred_lock);
	if (st->trigger_running || st->trigger_requests == st->trigger_handled) {
		pthread_mutex_unlock(&st->deferred_lock);
		return 0;
	}
	st->trigger_running = true;
	while (st->trigger_requests != st->trigger_handled && passes < IH_DEFERRED_MAX_PASSES) {
		struct ih_blist *n;

		st->trigger_handled = st->trigger_requests;
		passes++;
		IH_BASE_STAT_INC(st, deferred_passes);
		ih_blist_splice_tail_init(&st->pending, &st->active);
		for (n = st->active.next; n != &st->active; n = n->next)
			ih_blist_entry(n, struct ih_device_private, deferred_node)->deferred_where =
				IH_DEFERRED_ACTIVE;
		while (!ih_blist_empty(&st->active)) {
			struct ih_device_private *p =
				ih_blist_entry(st->active.next, struct ih_device_private,
					       deferred_node);
			/* On the list means not yet past ih_device_del(): the bus ref is held. */
			struct ih_device *dev = ih_device_get(p->dev);

			ih_blist_del_init(&p->deferred_node);
			p->deferred_where = IH_DEFERRED_NONE;
			st->npending--;
			pthread_mutex_unlock(&st->deferred_lock);

			ih_sched_point(st->w, "base:deferred-before-retry");
			IH_BASE_STAT_INC(st, deferred_retries);
			if (ih_base_device_attach(dev) == IH_ATTACH_BOUND) {
				IH_BASE_STAT_INC(st, deferred_bound);
				bound++;
			}
			ih_device_put(dev);
			pthread_mutex_lock(&st->deferred_lock);
		}
	}
	if (st->trigger_requests != st->trigger_handled)
		ih_log(st->w, IH_LOG_INFO, "deferred probe: stopped after %u passes", passes);
	st->trigger_running = false;
	pthread_mutex_unlock(&st->deferred_lock);
	return bound;
}

int ih_deferred_probe_trigger(struct ih_world *w)
{
	struct ih_base_state *st;

	if (!w)
		return 0;
	st = ih_base_state_peek(w);
	if (!st)
		return 0;
	deferred_request(st);
	if (ih_base_thread_dev_locks())
		return 0;
	return ih_base_deferred_run(st);
}

unsigned int ih_deferred_probe_pending(struct ih_world *w)
{
	struct ih_base_state *st = w ? ih_base_state_peek(w) : NULL;
	unsigned int n;

	if (!st)
		return 0;
	pthread_mutex_lock(&st->deferred_lock);
	n = st->npending;
	pthread_mutex_unlock(&st->deferred_lock);
	return n;
}

bool ih_device_is_deferred(struct ih_device *dev)
{
	struct ih_base_state *st;
	bool on;

	if (!dev || !ih_device_is_added(dev))
		return false;
	st = ih_base_state_peek(dev->world);
	pthread_mutex_lock(&st->deferred_lock);
	on = dev->p->deferred_where != IH_DEFERRED_NONE;
	pthread_mutex_unlock(&st->deferred_lock);
	return on;
}
