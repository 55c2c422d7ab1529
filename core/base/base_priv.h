/* SPDX-License-Identifier: MIT */
/* Private state of the device model: per-world registry, bus lists, deferred-probe list. */
#ifndef IH_CORE_BASE_PRIV_H
#define IH_CORE_BASE_PRIV_H

#include <pthread.h>

#include <ih/base.h>
#include <ih/diag.h>
#include "platform/world_priv.h"

/*
 * Lock order (outermost first):
 *   parent device lock -> child device lock (a probe may add and bind children)
 *   device lock -> ih_base_state.nb_lock (read, around notifier calls)
 *   ih_base_state.lock (registry) -> ih_bus_priv.lock (only in ih_bus_unregister())
 *   ih_base_state.deferred_lock: a leaf.
 * No callback (match, probe, remove, dma hooks, notifiers) runs with the registry, a bus
 * or the deferred lock held. ih_bus_priv.users_cv waits on the bus lock.
 */

/* A circular doubly linked list with a head sentinel. */
struct ih_blist {
	struct ih_blist *prev, *next;
};

static inline void ih_blist_init(struct ih_blist *h)
{
	h->prev = h;
	h->next = h;
}

static inline bool ih_blist_empty(const struct ih_blist *h)
{
	return h->next == h;
}

static inline void ih_blist_add_tail(struct ih_blist *n, struct ih_blist *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void ih_blist_del_init(struct ih_blist *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	ih_blist_init(n);
}

/* Move every entry of @from to the tail of @to; @from ends empty. */
static inline void ih_blist_splice_tail_init(struct ih_blist *from, struct ih_blist *to)
{
	if (ih_blist_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	ih_blist_init(from);
}

#define ih_blist_entry(ptr, type, member) container_of(ptr, type, member)

/* Device life cycle, in dev->state. 0 means "never initialised". */
enum ih_dev_state {
	IH_DEV_STATE_NONE = 0,
	IH_DEV_STATE_INIT = 0x1de1,
	IH_DEV_STATE_ADDING,
	IH_DEV_STATE_ADDED,
	IH_DEV_STATE_DELETING,
	IH_DEV_STATE_DELETED,
};

enum ih_deferred_where {
	IH_DEFERRED_NONE,
	IH_DEFERRED_PENDING,
	IH_DEFERRED_ACTIVE,
};

/**
 * struct ih_bus_priv - one bus type registered in one world.
 * @type: the const ops table.
 * @w: the world.
 * @lock: protects @devices, @drivers, @dev_seq, @drv_seq, every driver's users and
 *        registered fields, and drv->p of drivers on this bus.
 * @users_cv: signalled (under @lock) when a driver's users count drops to zero.
 * @devices: struct ih_device_private by bus_node, in add order (ascending seq).
 * @drivers: struct ih_driver_private by node, in registration order (ascending seq).
 * @ndevices: entries on @devices.
 * @ndrivers: entries on @drivers.
 * @next: next bus of the world (under ih_base_state.lock).
 */
struct ih_bus_priv {
	const struct ih_bus_type *type;
	struct ih_world *w;
	pthread_mutex_t lock;
	pthread_cond_t users_cv;
	struct ih_blist devices;
	struct ih_blist drivers;
	u64 dev_seq;
	u64 drv_seq;
	unsigned int ndevices;
	unsigned int ndrivers;
	struct ih_bus_priv *next;
};

/**
 * struct ih_device_private - what ih_device_add() allocates; freed at the last put.
 * @dev: back pointer.
 * @bus: the bus the device was added to.
 * @bus_node: on bus->devices (bus->lock).
 * @seq: add order on the bus, for walks that drop the lock between devices.
 * @deferred_node: on the pending or active deferred list (deferred_lock).
 * @deferred_where: which of the two, or none (deferred_lock).
 */
struct ih_device_private {
	struct ih_device *dev;
	struct ih_bus_priv *bus;
	struct ih_blist bus_node;
	u64 seq;
	struct ih_blist deferred_node;
	enum ih_deferred_where deferred_where;
};

/**
 * struct ih_driver_private - what ih_driver_register() allocates.
 * @drv: back pointer.
 * @bus: the bus the driver is on.
 * @node: on bus->drivers (bus->lock).
 * @seq: registration order.
 * @users: bind attempts using the driver right now (bus->lock); unregister waits for 0.
 * @registered: false once unregistration started (bus->lock).
 */
struct ih_driver_private {
	struct ih_driver *drv;
	struct ih_bus_priv *bus;
	struct ih_blist node;
	u64 seq;
	unsigned int users;
	bool registered;
};

/**
 * struct ih_base_state - the device model's state in one world (w->base).
 * @w: the world.
 * @lock: registry lock: protects @buses.
 * @buses: registered buses.
 * @nb_lock: notifier chain: read-held while calling notifiers, write-held to change it.
 * @notifiers: sorted by priority (descending), FIFO among equals.
 * @deferred_lock: protects the deferred lists, @npending and the trigger fields.
 * @pending: devices waiting for a retry.
 * @active: devices taken off @pending by the running pass.
 * @npending: entries on @pending plus @active.
 * @trigger_requests: passes requested so far (a trigger call, a successful bind).
 * @trigger_handled: requests covered by passes already started.
 * @trigger_running: one thread is running passes.
 * @dma_hooks: atomic (release/acquire); NULL or the hooks the platform/PCI buses call.
 * @dma_opaque: handed to @dma_hooks; written before @dma_hooks is published.
 * @stats: counters, updated with relaxed atomics.
 */
struct ih_base_state {
	struct ih_world *w;
	pthread_mutex_t lock;
	struct ih_bus_priv *buses;
	pthread_rwlock_t nb_lock;
	struct ih_bus_notifier *notifiers;
	pthread_mutex_t deferred_lock;
	struct ih_blist pending;
	struct ih_blist active;
	unsigned int npending;
	unsigned long trigger_requests;
	unsigned long trigger_handled;
	bool trigger_running;
	const struct ih_base_dma_hooks *dma_hooks;
	void *dma_opaque;
	struct ih_base_stats stats;
};

#define IH_BASE_STAT_INC(st, field) __atomic_fetch_add(&(st)->stats.field, 1, __ATOMIC_RELAXED)

/* bus.c */
struct ih_base_state *ih_base_state_peek(struct ih_world *w);
int ih_base_state_get(struct ih_world *w, struct ih_base_state **out);
struct ih_bus_priv *ih_base_bus_find(struct ih_base_state *st, const struct ih_bus_type *type);
void ih_base_notify(struct ih_base_state *st, struct ih_device *dev, enum ih_bus_event ev);
struct ih_device *ih_base_bus_next_device(struct ih_bus_priv *bus, u64 *cursor);
struct ih_driver_private *ih_base_bus_next_driver(struct ih_bus_priv *bus, u64 *cursor);
struct ih_driver_private *ih_base_driver_get(struct ih_bus_priv *bus, struct ih_driver *drv);
void ih_base_driver_put(struct ih_bus_priv *bus, struct ih_driver_private *dp);
int ih_base_bus_dma_configure(struct ih_device *dev);
void ih_base_bus_dma_cleanup(struct ih_device *dev);

/* core.c */
unsigned int ih_base_thread_dev_locks(void);
void ih_base_dev_lock(struct ih_device *dev);
void ih_base_dev_unlock(struct ih_device *dev); /* never runs deferred passes */
static inline enum ih_dev_state ih_base_dev_state(struct ih_device *dev)
{
	return (enum ih_dev_state)__atomic_load_n(&dev->state, __ATOMIC_ACQUIRE);
}

#ifdef IH_LOCKDEP
#define ih_base_assert_dev_locked(dev)                                                             \
	IH_BUG_ON(!ih_device_lock_held(dev), "device %s: lock not held", (dev)->name)
#else
#define ih_base_assert_dev_locked(dev) ((void)(dev))
#endif

/* dd.c */
enum ih_attach_result {
	IH_ATTACH_NONE,        /* no driver bound */
	IH_ATTACH_ALREADY,     /* a driver was already bound */
	IH_ATTACH_BOUND,       /* this call bound one */
};
enum ih_attach_result ih_base_device_attach(struct ih_device *dev);
void ih_base_driver_attach(struct ih_bus_priv *bus, struct ih_driver *drv);
void ih_base_driver_detach(struct ih_bus_priv *bus, struct ih_driver *drv);
void ih_base_release_driver_locked(struct ih_device *dev);
void ih_base_deferred_add(struct ih_base_state *st, struct ih_device *dev);
void ih_base_deferred_del(struct ih_base_state *st, struct ih_device *dev);
/* Run deferred passes if requested and none is running (no device lock may be held). */
int ih_base_deferred_run(struct ih_base_state *st);

#endif /* IH_CORE_BASE_PRIV_H */
