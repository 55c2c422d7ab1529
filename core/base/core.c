// SPDX-License-Identifier: MIT
/* Device life cycle: init, add, del, references, the device lock. */
#include <stdio.h>
#include <string.h>

#define IH_LOG_PREFIX "base: "
#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/coop.h>
#include <ih/diag.h>
#include <ih/sched.h>
#include "base_priv.h"

/*
 * Lock order: device lock -> nb_lock (read) -> bus lock -> deferred lock. add and del
 * take the device lock only briefly (del: to fence off binds, as Linux's kill_device());
 * the bus lock is never held while a device lock is taken.
 */

/*
 * Device locks held by this thread, in any world. A deferred-probe trigger made while
 * one is held only records the request (the passes would take other device locks);
 * ih_device_unlock() of the last one runs it. Per thread, so no shared state.
 */
static _Thread_local unsigned int tls_dev_locks;
/* Its address identifies the calling thread for lock assertions. */
static _Thread_local char tls_token;

unsigned int ih_base_thread_dev_locks(void)
{
	return tls_dev_locks;
}

void ih_base_dev_lock(struct ih_device *dev)
{
	/* A logical thread of a cooperative scheduler parks instead of holding up the baton. */
	if (ih_coop_thread_active()) {
		while (pthread_mutex_trylock(&dev->lock))
			ih_coop_mutex_wait(&dev->lock);
	} else {
		pthread_mutex_lock(&dev->lock);
	}
	__atomic_store_n(&dev->lock_owner, (const void *)&tls_token, __ATOMIC_RELAXED);
	tls_dev_locks++;
}

void ih_base_dev_unlock(struct ih_device *dev)
{
	IH_BUG_ON(__atomic_load_n(&dev->lock_owner, __ATOMIC_RELAXED) != &tls_token,
		  "device %s unlocked by a thread that does not hold it", dev->name);
	tls_dev_locks--;
	__atomic_store_n(&dev->lock_owner, NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&dev->lock);
	if (ih_coop_thread_active())
		ih_coop_mutex_released(&dev->lock);
}

void ih_device_lock(struct ih_device *dev)
{
	ih_base_dev_lock(dev);
}

bool ih_device_trylock(struct ih_device *dev)
{
	if (pthread_mutex_trylock(&dev->lock))
		return false;
	__atomic_store_n(&dev->lock_owner, (const void *)&tls_token, __ATOMIC_RELAXED);
	tls_dev_locks++;
	return true;
}

void ih_device_unlock(struct ih_device *dev)
{
	struct ih_base_state *st;

	ih_base_dev_unlock(dev);
	if (tls_dev_locks)
		return;
	st = ih_base_state_peek(dev->world);
	if (st)
		ih_base_deferred_run(st);
}

bool ih_device_lock_held(struct ih_device *dev)
{
	return __atomic_load_n(&dev->lock_owner, __ATOMIC_RELAXED) == &tls_token;
}

static int copy_name(char *dst, const char *src)
{
	size_t len = strlen(src);

	if (len >= IH_DEV_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(dst, src, len + 1);
	return 0;
}

int ih_device_init(struct ih_world *w, struct ih_device *dev, const struct ih_bus_type *bus,
		   struct ih_device *parent, const char *name,
		   void (*release)(struct ih_device *dev))
{
	if (IH_WARN_ON(w, !w || !dev || !bus || !name || !name[0],
		       "device init: NULL world, device, bus or name"))
		return -EINVAL;
	if (IH_WARN_ON(w, strlen(name) >= IH_DEV_NAME_MAX, "device name %.32s... too long",
		       name))
		return -ENAMETOOLONG;
	memset(dev, 0, sizeof(*dev));
	dev->world = w;
	dev->bus = bus;
	dev->parent = parent;
	dev->release = release;
	copy_name(dev->name, name);
	pthread_mutex_init(&dev->lock, NULL);
	dev->refcount = 1;
	__atomic_store_n(&dev->state, IH_DEV_STATE_INIT, __ATOMIC_RELEASE);
	return 0;
}

struct ih_device *ih_device_get(struct ih_device *dev)
{
	unsigned int old;

	if (!dev)
		return NULL;
	old = __atomic_fetch_add(&dev->refcount, 1, __ATOMIC_RELAXED);
	IH_BUG_ON(old == 0, "device %s: get after the last put", dev->name);
	return dev;
}

void ih_device_put(struct ih_device *dev)
{
	unsigned int old;
	bool bus_ref = false;

	if (!dev)
		return;
	/*
	 * Never below zero, and never the bus's own reference while the device is on the bus:
	 * a put too many is a warning, not a use-after-free.
	 */
	old = __atomic_load_n(&dev->refcount, __ATOMIC_RELAXED);
	for (;;) {
		enum ih_dev_state state = ih_base_dev_state(dev);

		if (old == 0)
			break;
		if (old == 1 && (state == IH_DEV_STATE_ADDED || state == IH_DEV_STATE_DELETING)) {
			bus_ref = true;
			break;
		}
		if (__atomic_compare_exchange_n(&dev->refcount, &old, old - 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	if (IH_WARN_ON(dev->world, old == 0, "device %s: put with no reference left", dev->name))
		return;
	if (IH_WARN_ON(dev->world, bus_ref, "device %s: put of the reference its bus holds",
		       dev->name))
		return;
	if (old != 1)
		return;
	/* Last reference: the device is off every list (the bus held one while on it). */
	if (dev->p)
		ih_free(dev->world, dev->p);
	dev->p = NULL;
	pthread_mutex_destroy(&dev->lock);
	__atomic_store_n(&dev->state, IH_DEV_STATE_NONE, __ATOMIC_RELAXED);
	if (dev->release)
		dev->release(dev);
}

unsigned int ih_device_refcount(struct ih_device *dev)
{
	return dev ? __atomic_load_n(&dev->refcount, __ATOMIC_RELAXED) : 0;
}

bool ih_device_is_added(struct ih_device *dev)
{
	return dev && ih_base_dev_state(dev) == IH_DEV_STATE_ADDED;
}

int ih_device_set_driver_override(struct ih_device *dev, const char *name)
{
	size_t len;

	if (IH_WARN_ON(NULL, !dev, "driver override: NULL device"))
		return -EINVAL;
	len = name ? strlen(name) : 0;
	if (IH_WARN_ON(dev->world, len >= IH_DEV_NAME_MAX, "device %s: override too long",
		       dev->name))
		return -ENAMETOOLONG;
	ih_base_dev_lock(dev);
	memset(dev->driver_override, 0, sizeof(dev->driver_override));
	if (len)
		memcpy(dev->driver_override, name, len);
	ih_base_dev_unlock(dev);
	return 0;
}

int ih_device_add(struct ih_device *dev)
{
	unsigned int expected = IH_DEV_STATE_INIT;
	struct ih_device_private *p;
	struct ih_base_state *st;
	struct ih_bus_priv *bus;
	struct ih_device *parent;
	struct ih_world *w;
	struct ih_blist *n;
	int ret;

	if (IH_WARN_ON(NULL, !dev, "device add: NULL device"))
		return -EINVAL;
	/* A never-initialised device has no trustworthy world pointer: warn without one. */
	if (IH_WARN_ON(NULL, ih_base_dev_state(dev) == IH_DEV_STATE_NONE,
		       "device add: device never initialised"))
		return -EINVAL;
	w = dev->world;
	if (!__atomic_compare_exchange_n(&dev->state, &expected, IH_DEV_STATE_ADDING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (expected == IH_DEV_STATE_DELETING || expected == IH_DEV_STATE_DELETED) {
			IH_WARN_ON(w, true, "device %s: add after del", dev->name);
			return -EINVAL;
		}
		IH_WARN_ON(w, true, "device %s: added twice", dev->name);
		return -EEXIST;
	}
	ret = ih_base_state_get(w, &st);
	if (ret)
		goto err_state;
	bus = ih_base_bus_find(st, dev->bus);
	if (IH_WARN_ON(w, !bus, "device %s: bus %s not registered", dev->name,
		       dev->bus->name ? dev->bus->name : "?")) {
		ret = -ENODEV;
		goto err_state;
	}
	parent = dev->parent;
	if (parent) {
		if (IH_WARN_ON(w, parent->world != w || !ih_device_is_added(parent),
			       "device %s: parent %s not added", dev->name, parent->name)) {
			ret = -ENODEV;
			goto err_state;
		}
		ih_device_get(parent);
	}
	p = ih_alloc(w, sizeof(*p), "base:device-private");
	if (!p) {
		ret = -ENOMEM;
		goto err_parent;
	}
	p->dev = dev;
	p->bus = bus;
	ih_blist_init(&p->deferred_node);
	dev->p = p;

	pthread_mutex_lock(&bus->lock);
	for (n = bus->devices.next; n != &bus->devices; n = n->next) {
		struct ih_device_private *it =
			ih_blist_entry(n, struct ih_device_private, bus_node);

		if (!strcmp(it->dev->name, dev->name)) {
			pthread_mutex_unlock(&bus->lock);
			IH_WARN_ON(w, true, "device %s: name already on bus %s", dev->name,
				   bus->type->name);
			ret = -EEXIST;
			goto err_private;
		}
	}
	p->seq = ++bus->dev_seq;
	ih_blist_add_tail(&p->bus_node, &bus->devices);
	bus->ndevices++;
	/* The bus's reference, dropped by ih_device_del(). */
	ih_device_get(dev);
	pthread_mutex_unlock(&bus->lock);
	__atomic_store_n(&dev->state, IH_DEV_STATE_ADDED, __ATOMIC_RELEASE);
	ih_log(w, IH_LOG_INFO, "device %s added on %s", dev->name, bus->type->name);

	/* Linux order: on the bus list, then ADD_DEVICE, then the probe. */
	ih_base_notify(st, dev, IH_BUS_NOTIFY_ADD_DEVICE);
	ih_sched_point(w, "base:add-before-attach");
	ih_base_device_attach(dev);
	if (!ih_base_thread_dev_locks())
		ih_base_deferred_run(st);
	return 0;

err_private:
	dev->p = NULL;
	ih_free(w, p);
err_parent:
	if (parent)
		ih_device_put(parent);
err_state:
	/* A failed add leaves the device initialised: it may be added again or put. */
	__atomic_store_n(&dev->state, IH_DEV_STATE_INIT, __ATOMIC_RELEASE);
	return ret;
}

int ih_device_del(struct ih_device *dev)
{
	unsigned int expected = IH_DEV_STATE_ADDED;
	struct ih_base_state *st;
	struct ih_bus_priv *bus;
	struct ih_world *w;

	if (IH_WARN_ON(NULL, !dev, "device del: NULL device"))
		return -EINVAL;
	if (IH_WARN_ON(NULL, ih_base_dev_state(dev) == IH_DEV_STATE_NONE,
		       "device del: device never initialised or already released"))
		return -EINVAL;
	w = dev->world;
	if (!__atomic_compare_exchange_n(&dev->state, &expected, IH_DEV_STATE_DELETING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		IH_WARN_ON(w, true, "device %s: del of a device that is not added", dev->name);
		return -ENODEV;
	}
	st = ih_base_state_peek(w);
	bus = dev->p->bus;

	/*
	 * Fence off binds: a probe running now finishes first; any later bind attempt sees
	 * the state under the lock and gives up (Linux's kill_device()).
	 */
	ih_base_dev_lock(dev);
	ih_base_dev_unlock(dev);
	ih_sched_point(w, "base:del-after-kill");

	ih_base_notify(st, dev, IH_BUS_NOTIFY_DEL_DEVICE);
	ih_base_dev_lock(dev);
	ih_base_release_driver_locked(dev);
	ih_base_dev_unlock(dev);
	ih_base_deferred_del(st, dev);

	pthread_mutex_lock(&bus->lock);
	ih_blist_del_init(&dev->p->bus_node);
	bus->ndevices--;
	pthread_mutex_unlock(&bus->lock);
	__atomic_store_n(&dev->state, IH_DEV_STATE_DELETED, __ATOMIC_RELEASE);
	ih_base_notify(st, dev, IH_BUS_NOTIFY_REMOVED_DEVICE);
	ih_log(w, IH_LOG_INFO, "device %s deleted", dev->name);

	if (dev->parent)
		ih_device_put(dev->parent);
	/* The bus's reference; the caller still holds its own. */
	ih_device_put(dev);
	return 0;
}

int ih_device_unregister(struct ih_device *dev)
{
	int ret = ih_device_del(dev);

	if (!ret)
		ih_device_put(dev);
	return ret;
}
