// SPDX-License-Identifier: MIT
/* Device-model state per world: bus registry, bus lists, notifier chain, driver (un)registration. */
#include <stdio.h>
#include <string.h>

#define IH_LOG_PREFIX "base: "
#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/diag.h>
#include <ih/sched.h>
#include "base_priv.h"

/*
 * Lock order: device lock -> nb_lock (read, only around notifier calls);
 * st->lock -> bus->lock (ih_bus_unregister() only). Neither st->lock nor a bus lock is
 * held across a callback or while taking a device lock.
 */

struct ih_base_state *ih_base_state_peek(struct ih_world *w)
{
	/* Pairs with the release CAS in ih_base_state_get(): the state is fully built. */
	return __atomic_load_n(&w->base, __ATOMIC_ACQUIRE);
}

static void base_state_free(struct ih_world *w, struct ih_base_state *st)
{
	pthread_mutex_destroy(&st->deferred_lock);
	pthread_rwlock_destroy(&st->nb_lock);
	pthread_mutex_destroy(&st->lock);
	ih_free(w, st);
}

static void bus_priv_free(struct ih_world *w, struct ih_bus_priv *bus)
{
	pthread_cond_destroy(&bus->users_cv);
	pthread_mutex_destroy(&bus->lock);
	ih_free(w, bus);
}

/*
 * World teardown. Empty buses are dropped silently (tests need not unregister them);
 * a bus with devices or drivers left is reported and left in place, so the allocator's
 * leak report names it and ih_world_destroy() returns non-zero.
 */
static void base_teardown(struct ih_world *w, void *arg)
{
	struct ih_base_state *st = ih_base_state_peek(w);
	struct ih_bus_priv *bus, *next;

	/* A losing racer of ih_base_state_get() registered a teardown for its own copy. */
	if (!st || st != arg)
		return;
	for (bus = st->buses; bus; bus = next) {
		next = bus->next;
		if (bus->ndevices || bus->ndrivers) {
			ih_log(w, IH_LOG_WARN,
			       "bus %s: %u device(s) and %u driver(s) still registered at world "
			       "teardown",
			       bus->type->name, bus->ndevices, bus->ndrivers);
			continue;
		}
		bus_priv_free(w, bus);
	}
	if (st->npending)
		ih_log(w, IH_LOG_WARN, "%u device(s) still on the deferred list at teardown",
		       st->npending);
	__atomic_store_n(&w->base, NULL, __ATOMIC_RELEASE);
	base_state_free(w, st);
}

int ih_base_state_get(struct ih_world *w, struct ih_base_state **out)
{
	struct ih_base_state *st = ih_base_state_peek(w), *expected = NULL;
	int ret;

	if (st) {
		*out = st;
		return 0;
	}
	st = ih_alloc(w, sizeof(*st), "base:state");
	if (!st)
		return -ENOMEM;
	st->w = w;
	pthread_mutex_init(&st->lock, NULL);
	pthread_rwlock_init(&st->nb_lock, NULL);
	pthread_mutex_init(&st->deferred_lock, NULL);
	ih_blist_init(&st->pending);
	ih_blist_init(&st->active);
	/*
	 * Register the teardown before publishing, keyed by this copy: if another thread wins
	 * the race, our teardown finds a different w->base and does nothing.
	 */
	ret = ih_world_add_teardown(w, base_teardown, st);
	if (ret) {
		base_state_free(w, st);
		return ret;
	}
	if (!__atomic_compare_exchange_n(&w->base, &expected, st, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		base_state_free(w, st);
		st = expected;
	}
	*out = st;
	return 0;
}

int ih_base_init(struct ih_world *w)
{
	struct ih_base_state *st;

	if (!w)
		return -EINVAL;
	return ih_base_state_get(w, &st);
}

struct ih_bus_priv *ih_base_bus_find(struct ih_base_state *st, const struct ih_bus_type *type)
{
	struct ih_bus_priv *bus;

	pthread_mutex_lock(&st->lock);
	for (bus = st->buses; bus; bus = bus->next)
		if (bus->type == type)
			break;
	pthread_mutex_unlock(&st->lock);
	return bus;
}

int ih_bus_register(struct ih_world *w, const struct ih_bus_type *type)
{
	struct ih_base_state *st;
	struct ih_bus_priv *bus, *it;
	int ret;

	if (IH_WARN_ON(w, !w || !type || !type->name || !type->match,
		       "bus register: NULL world, bus, name or match"))
		return -EINVAL;
	ret = ih_base_state_get(w, &st);
	if (ret)
		return ret;
	bus = ih_alloc(w, sizeof(*bus), "base:bus");
	if (!bus)
		return -ENOMEM;
	bus->type = type;
	bus->w = w;
	pthread_mutex_init(&bus->lock, NULL);
	pthread_cond_init(&bus->users_cv, NULL);
	ih_blist_init(&bus->devices);
	ih_blist_init(&bus->drivers);

	pthread_mutex_lock(&st->lock);
	for (it = st->buses; it; it = it->next) {
		if (it->type == type || !strcmp(it->type->name, type->name)) {
			pthread_mutex_unlock(&st->lock);
			bus_priv_free(w, bus);
			IH_WARN_ON(w, true, "bus %s registered twice", type->name);
			return -EBUSY;
		}
	}
	bus->next = st->buses;
	st->buses = bus;
	pthread_mutex_unlock(&st->lock);
	ih_log(w, IH_LOG_INFO, "bus %s registered", type->name);
	return 0;
}

int ih_bus_unregister(struct ih_world *w, const struct ih_bus_type *type)
{
	struct ih_base_state *st;
	struct ih_bus_priv **pp, *bus;
	bool busy;

	if (IH_WARN_ON(w, !w || !type, "bus unregister: NULL argument"))
		return -EINVAL;
	st = ih_base_state_peek(w);
	if (IH_WARN_ON(w, !st, "bus %s unregister: never registered", type->name))
		return -ENOENT;
	pthread_mutex_lock(&st->lock);
	for (pp = &st->buses; *pp; pp = &(*pp)->next)
		if ((*pp)->type == type)
			break;
	bus = *pp;
	if (!bus) {
		pthread_mutex_unlock(&st->lock);
		IH_WARN_ON(w, true, "bus %s unregister: not registered", type->name);
		return -ENOENT;
	}
	pthread_mutex_lock(&bus->lock);
	busy = bus->ndevices || bus->ndrivers;
	pthread_mutex_unlock(&bus->lock);
	if (busy) {
		pthread_mutex_unlock(&st->lock);
		IH_WARN_ON(w, true, "bus %s unregister: devices or drivers still on it",
			   type->name);
		return -EBUSY;
	}
	*pp = bus->next;
	pthread_mutex_unlock(&st->lock);
	bus_priv_free(w, bus);
	return 0;
}

bool ih_bus_registered(struct ih_world *w, const struct ih_bus_type *type)
{
	struct ih_base_state *st;

	if (!w || !type)
		return false;
	st = ih_base_state_peek(w);
	return st && ih_base_bus_find(st, type);
}

/*
 * Walks drop bus->lock between entries (the callee may add or delete devices on the same
 * bus), so they resume from the last seen sequence number instead of a list position.
 */
struct ih_device *ih_base_bus_next_device(struct ih_bus_priv *bus, u64 *cursor)
{
	struct ih_device *dev = NULL;
	struct ih_blist *n;

	pthread_mutex_lock(&bus->lock);
	for (n = bus->devices.next; n != &bus->devices; n = n->next) {
		struct ih_device_private *p = ih_blist_entry(n, struct ih_device_private, bus_node);

		if (p->seq > *cursor) {
			*cursor = p->seq;
			/* The bus holds a reference while the device is on the list. */
			dev = ih_device_get(p->dev);
			break;
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return dev;
}

/* Next registered driver after @cursor, pinned by a users count; ih_base_driver_put(). */
struct ih_driver_private *ih_base_bus_next_driver(struct ih_bus_priv *bus, u64 *cursor)
{
	struct ih_driver_private *dp = NULL;
	struct ih_blist *n;

	pthread_mutex_lock(&bus->lock);
	for (n = bus->drivers.next; n != &bus->drivers; n = n->next) {
		struct ih_driver_private *it = ih_blist_entry(n, struct ih_driver_private, node);

		if (it->seq > *cursor && it->registered) {
			*cursor = it->seq;
			it->users++;
			dp = it;
			break;
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return dp;
}

/* Pin @drv if it is registered on @bus; NULL otherwise. */
struct ih_driver_private *ih_base_driver_get(struct ih_bus_priv *bus, struct ih_driver *drv)
{
	struct ih_driver_private *dp;

	pthread_mutex_lock(&bus->lock);
	dp = READ_ONCE(drv->p);
	if (dp && dp->bus == bus && dp->registered)
		dp->users++;
	else
		dp = NULL;
	pthread_mutex_unlock(&bus->lock);
	return dp;
}

void ih_base_driver_put(struct ih_bus_priv *bus, struct ih_driver_private *dp)
{
	pthread_mutex_lock(&bus->lock);
	IH_BUG_ON(!dp->users, "driver %s: users underflow", dp->drv->name);
	if (--dp->users == 0)
		pthread_cond_broadcast(&bus->users_cv);
	pthread_mutex_unlock(&bus->lock);
}

struct ih_device *ih_bus_find_device_by_name(struct ih_world *w, const struct ih_bus_type *type,
					     const char *name)
{
	struct ih_base_state *st;
	struct ih_bus_priv *bus;
	struct ih_device *dev = NULL;
	struct ih_blist *n;

	if (!w || !type || !name)
		return NULL;
	st = ih_base_state_peek(w);
	if (!st)
		return NULL;
	bus = ih_base_bus_find(st, type);
	if (!bus)
		return NULL;
	pthread_mutex_lock(&bus->lock);
	for (n = bus->devices.next; n != &bus->devices; n = n->next) {
		struct ih_device_private *p = ih_blist_entry(n, struct ih_device_private, bus_node);

		if (!strcmp(p->dev->name, name)) {
			dev = ih_device_get(p->dev);
			break;
		}
	}
	pthread_mutex_unlock(&bus->lock);
	return dev;
}

int ih_bus_for_each_dev(struct ih_world *w, const struct ih_bus_type *type,
			int (*fn)(struct ih_device *dev, void *data), void *data)
{
	struct ih_base_state *st;
	struct ih_bus_priv *bus;
	struct ih_device *dev;
	u64 cursor = 0;
	int ret = 0;

	if (IH_WARN_ON(w, !w || !type || !fn, "bus walk: NULL argument"))
		return -EINVAL;
	st = ih_base_state_peek(w);
	bus = st ? ih_base_bus_find(st, type) : NULL;
	if (!bus)
		return -ENOENT;
	while (!ret && (dev = ih_base_bus_next_device(bus, &cursor))) {
		ret = fn(dev, data);
		ih_device_put(dev);
	}
	return ret;
}

/* ---- Notifiers --------------------------------------------------------------------------- */

int ih_bus_register_notifier(struct ih_world *w, struct ih_bus_notifier *nb)
{
	struct ih_bus_notifier **pp;
	struct ih_base_state *st;
	int ret;

	if (IH_WARN_ON(w, !w || !nb || !nb->notifier_call, "notifier register: NULL argument"))
		return -EINVAL;
	ret = ih_base_state_get(w, &st);
	if (ret)
		return ret;
	pthread_rwlock_wrlock(&st->nb_lock);
	if (nb->registered) {
		pthread_rwlock_unlock(&st->nb_lock);
		IH_WARN_ON(w, true, "notifier %p registered twice", (void *)nb);
		return -EBUSY;
	}
	/* Higher priority first; among equals, registration order. */
	for (pp = &st->notifiers; *pp && (*pp)->priority >= nb->priority; pp = &(*pp)->next)
		;
	nb->next = *pp;
	*pp = nb;
	nb->registered = true;
	pthread_rwlock_unlock(&st->nb_lock);
	return 0;
}

int ih_bus_unregister_notifier(struct ih_world *w, struct ih_bus_notifier *nb)
{
	struct ih_bus_notifier **pp;
	struct ih_base_state *st;

	if (IH_WARN_ON(w, !w || !nb, "notifier unregister: NULL argument"))
		return -EINVAL;
	st = ih_base_state_peek(w);
	if (IH_WARN_ON(w, !st, "notifier unregister: nothing registered"))
		return -ENOENT;
	/* The write lock waits for calls in flight, so @nb is unused once this returns. */
	pthread_rwlock_wrlock(&st->nb_lock);
	for (pp = &st->notifiers; *pp; pp = &(*pp)->next) {
		if (*pp == nb) {
			*pp = nb->next;
			nb->next = NULL;
			nb->registered = false;
			pthread_rwlock_unlock(&st->nb_lock);
			return 0;
		}
	}
	pthread_rwlock_unlock(&st->nb_lock);
	IH_WARN_ON(w, true, "notifier %p unregister: not registered", (void *)nb);
	return -ENOENT;
}

void ih_base_notify(struct ih_base_state *st, struct ih_device *dev, enum ih_bus_event ev)
{
	struct ih_bus_notifier *nb;

	pthread_rwlock_rdlock(&st->nb_lock);
	for (nb = st->notifiers; nb; nb = nb->next)
		if (!nb->bus || nb->bus == dev->bus)
			nb->notifier_call(nb, ev, dev);
	pthread_rwlock_unlock(&st->nb_lock);
}

/* ---- DMA hooks shared by the platform and PCI buses ---------------------------------------- */

int ih_base_set_dma_hooks(struct ih_world *w, const struct ih_base_dma_hooks *hooks,
			  void *opaque)
{
	struct ih_base_state *st;
	int ret;

	if (IH_WARN_ON(w, !w, "dma hooks: NULL world"))
		return -EINVAL;
	ret = ih_base_state_get(w, &st);
	if (ret)
		return ret;
	WRITE_ONCE(st->dma_opaque, opaque);
	/* Publishes @opaque with the hooks: readers load the hooks with acquire. */
	smp_store_release(&st->dma_hooks, hooks);
	return 0;
}

/*
 * The platform/PCI dma_configure: firmware set-up always, DMA-API ownership only for a
 * bound driver that does not manage DMA itself. dev->driver is read exactly once: the
 * IOMMU layer may call this with no driver while a bind runs on another thread, and two
 * reads could disagree (the TOCTOU fixed upstream by 95deee37a123).
 */
int ih_base_bus_dma_configure(struct ih_device *dev)
{
	struct ih_base_state *st = ih_base_state_peek(dev->world);
	const struct ih_base_dma_hooks *hooks = st ? smp_load_acquire(&st->dma_hooks) : NULL;
	struct ih_driver *drv = ih_device_driver(dev);
	void *opaque;
	int ret;

	ih_sched_point(dev->world, "base:dma-configure-after-read-driver");
	if (!hooks)
		return 0;
	opaque = READ_ONCE(st->dma_opaque);
	if (hooks->fw_configure) {
		ret = hooks->fw_configure(dev, opaque);
		if (ret)
			return ret;
	}
	if (!drv || drv->driver_managed_dma || !hooks->use_default_domain)
		return 0;
	ret = hooks->use_default_domain(dev, opaque);
	if (ret && hooks->fw_deconfigure)
		hooks->fw_deconfigure(dev, opaque);
	return ret;
}

void ih_base_bus_dma_cleanup(struct ih_device *dev)
{
	struct ih_base_state *st = ih_base_state_peek(dev->world);
	const struct ih_base_dma_hooks *hooks = st ? smp_load_acquire(&st->dma_hooks) : NULL;
	struct ih_driver *drv = ih_device_driver(dev);

	if (!hooks || !drv || drv->driver_managed_dma || !hooks->unuse_default_domain)
		return;
	hooks->unuse_default_domain(dev, READ_ONCE(st->dma_opaque));
}

void ih_base_get_stats(struct ih_world *w, struct ih_base_stats *out)
{
	struct ih_base_state *st;

	memset(out, 0, sizeof(*out));
	if (!w)
		return;
	st = ih_base_state_peek(w);
	if (!st)
		return;
#define COPY(f) out->f = __atomic_load_n(&st->stats.f, __ATOMIC_RELAXED)
	COPY(probes);
	COPY(probe_failures);
	COPY(probe_defers);
	COPY(binds);
	COPY(unbinds);
	COPY(dma_configures);
	COPY(dma_cleanups);
	COPY(deferred_retries);
	COPY(deferred_bound);
	COPY(deferred_passes);
#undef COPY
}

/* ---- Drivers --------------------------------------------------------------------------- */

int ih_driver_register(struct ih_world *w, struct ih_driver *drv)
{
	struct ih_driver_private *dp;
	struct ih_base_state *st;
	struct ih_bus_priv *bus;
	struct ih_blist *n;
	int ret;

	if (IH_WARN_ON(w, !w || !drv || !drv->name || !drv->bus,
		       "driver register: NULL world, driver, name or bus"))
		return -EINVAL;
	ret = ih_base_state_get(w, &st);
	if (ret)
		return ret;
	bus = ih_base_bus_find(st, drv->bus);
	if (IH_WARN_ON(w, !bus, "driver %s: bus %s not registered", drv->name,
		       drv->bus->name ? drv->bus->name : "?"))
		return -ENODEV;
	dp = ih_alloc(w, sizeof(*dp), "base:driver-private");
	if (!dp)
		return -ENOMEM;
	dp->drv = drv;
	dp->bus = bus;

	pthread_mutex_lock(&bus->lock);
	if (READ_ONCE(drv->p)) {
		pthread_mutex_unlock(&bus->lock);
		ih_free(w, dp);
		IH_WARN_ON(w, true, "driver %s registered twice", drv->name);
		return -EBUSY;
	}
	for (n = bus->drivers.next; n != &bus->drivers; n = n->next) {
		struct ih_driver_private *it = ih_blist_entry(n, struct ih_driver_private, node);

		if (!strcmp(it->drv->name, drv->name)) {
			pthread_mutex_unlock(&bus->lock);
			ih_free(w, dp);
			IH_WARN_ON(w, true, "driver %s: name already registered on bus %s",
				   drv->name, bus->type->name);
			return -EBUSY;
		}
	}
	dp->seq = ++bus->drv_seq;
	dp->registered = true;
	/* Our own pin: an unregister racing with this registration waits for the attach. */
	dp->users = 1;
	ih_blist_add_tail(&dp->node, &bus->drivers);
	bus->ndrivers++;
	WRITE_ONCE(drv->p, dp);
	pthread_mutex_unlock(&bus->lock);
	ih_log(w, IH_LOG_INFO, "driver %s registered on %s", drv->name, bus->type->name);

	ih_base_driver_attach(bus, drv);
	ih_base_driver_put(bus, dp);
	/* A new driver may be what deferred devices wait for. */
	ih_deferred_probe_trigger(w);
	return 0;
}

int ih_driver_unregister(struct ih_world *w, struct ih_driver *drv)
{
	struct ih_driver_private *dp;
	struct ih_base_state *st;
	struct ih_bus_priv *bus;

	if (IH_WARN_ON(w, !w || !drv || !drv->bus, "driver unregister: NULL argument"))
		return -EINVAL;
	st = ih_base_state_peek(w);
	bus = st ? ih_base_bus_find(st, drv->bus) : NULL;
	if (IH_WARN_ON(w, !bus, "driver %s unregister: bus not registered",
		       drv->name ? drv->name : "?"))
		return -ENOENT;
	pthread_mutex_lock(&bus->lock);
	dp = READ_ONCE(drv->p);
	if (!dp || dp->bus != bus || !dp->registered) {
		pthread_mutex_unlock(&bus->lock);
		IH_WARN_ON(w, true, "driver %s unregister: not registered",
			   drv->name ? drv->name : "?");
		return -ENOENT;
	}
	/* No new bind attempt can pick the driver from here on ... */
	dp->registered = false;
	ih_blist_del_init(&dp->node);
	bus->ndrivers--;
	/* ... and the ones in flight finish before the detach walk. */
	while (dp->users)
		pthread_cond_wait(&bus->users_cv, &bus->lock);
	pthread_mutex_unlock(&bus->lock);

	ih_sched_point(w, "base:driver-unregister-before-detach");
	ih_base_driver_detach(bus, drv);

	pthread_mutex_lock(&bus->lock);
	WRITE_ONCE(drv->p, NULL);
	pthread_mutex_unlock(&bus->lock);
	ih_free(w, dp);
	ih_log(w, IH_LOG_INFO, "driver %s unregistered", drv->name);
	return 0;
}
