/* SPDX-License-Identifier: MIT */
/* Shared fixture for the device-model tests: a recording test bus, drivers and notifier. */
#ifndef IH_TESTS_BASE_TEST_H
#define IH_TESTS_BASE_TEST_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/diag.h>
#include <ih/world.h>

/*
 * Every callback below appends to one event log, so a test can assert the exact order
 * the driver core calls things in. Criterion runs each test in its own process, so the
 * file-scope log is per test; a mutex makes it safe for the threaded tests.
 */
enum ev_kind {
	EV_NONE,
	EV_MATCH,
	EV_DMA_CONFIGURE,
	EV_DMA_CLEANUP,
	EV_PROBE,
	EV_REMOVE,
	EV_NB_ADD_DEVICE,
	EV_NB_DEL_DEVICE,
	EV_NB_REMOVED_DEVICE,
	EV_NB_BIND_DRIVER,
	EV_NB_BOUND_DRIVER,
	EV_NB_UNBIND_DRIVER,
	EV_NB_UNBOUND_DRIVER,
	EV_NB_DRIVER_NOT_BOUND,
};

struct ev {
	enum ev_kind kind;
	const struct ih_device *dev;
	const struct ih_driver *drv; /* dev->driver when the event happened */
	int tag;                     /* notifier identity for the ordering tests */
};

#define EV_MAX 512
static struct {
	pthread_mutex_t lock;
	struct ev ev[EV_MAX];
	unsigned int n;
	bool record_match;
} rec = { .lock = PTHREAD_MUTEX_INITIALIZER };

static inline void rec_push(enum ev_kind kind, struct ih_device *dev, int tag)
{
	pthread_mutex_lock(&rec.lock);
	if (rec.n < EV_MAX)
		rec.ev[rec.n++] = (struct ev){ kind, dev, ih_device_driver(dev), tag };
	pthread_mutex_unlock(&rec.lock);
}

static inline void rec_reset(void)
{
	pthread_mutex_lock(&rec.lock);
	rec.n = 0;
	pthread_mutex_unlock(&rec.lock);
}

/* The kinds recorded for @dev (all devices when NULL), in order, into @out. */
static inline unsigned int rec_kinds(const struct ih_device *dev, enum ev_kind *out,
				     unsigned int max)
{
	unsigned int n = 0;

	pthread_mutex_lock(&rec.lock);
	for (unsigned int i = 0; i < rec.n; i++)
		if ((!dev || rec.ev[i].dev == dev) && n < max)
			out[n++] = rec.ev[i].kind;
	pthread_mutex_unlock(&rec.lock);
	return n;
}

static inline unsigned int rec_count(enum ev_kind kind, const struct ih_device *dev)
{
	unsigned int n = 0;

	pthread_mutex_lock(&rec.lock);
	for (unsigned int i = 0; i < rec.n; i++)
		if (rec.ev[i].kind == kind && (!dev || rec.ev[i].dev == dev))
			n++;
	pthread_mutex_unlock(&rec.lock);
	return n;
}

#define expect_kinds(dev, ...)                                                                     \
	do {                                                                                       \
		const enum ev_kind want_[] = { __VA_ARGS__ };                                      \
		enum ev_kind got_[EV_MAX];                                                         \
		unsigned int n_ = rec_kinds((dev), got_, EV_MAX);                                  \
		cr_expect_eq(n_, ARRAY_SIZE(want_), "event count %u, want %zu", n_,               \
			     ARRAY_SIZE(want_));                                                   \
		for (unsigned int i_ = 0; i_ < n_ && i_ < ARRAY_SIZE(want_); i_++)                 \
			cr_expect_eq(got_[i_], want_[i_], "event %u is %d, want %d", i_,           \
				     (int)got_[i_], (int)want_[i_]);                               \
	} while (0)

/* ---- The test bus: devices match drivers whose id_table string equals their name
 *      prefix up to the first '.', or "*" for every device. ---------------------------- */

static struct {
	int dma_configure_ret; /* what tbus dma_configure returns */
	int match_ret;         /* when non-zero, match returns this instead of comparing */
} tbus_cfg;

static inline int tbus_match(struct ih_device *dev, struct ih_driver *drv)
{
	const char *id = drv->id_table;
	size_t len;

	if (rec.record_match)
		rec_push(EV_MATCH, dev, 0);
	if (tbus_cfg.match_ret)
		return tbus_cfg.match_ret;
	if (dev->driver_override[0])
		return !strcmp(dev->driver_override, drv->name);
	if (!id)
		return 0;
	if (!strcmp(id, "*"))
		return 1;
	len = strcspn(dev->name, ".");
	return strlen(id) == len && !strncmp(id, dev->name, len);
}

static inline int tbus_dma_configure(struct ih_device *dev)
{
	rec_push(EV_DMA_CONFIGURE, dev, 0);
	return tbus_cfg.dma_configure_ret;
}

static inline void tbus_dma_cleanup(struct ih_device *dev)
{
	rec_push(EV_DMA_CLEANUP, dev, 0);
}

static const struct ih_bus_type tbus = {
	.name = "tbus",
	.match = tbus_match,
	.dma_configure = tbus_dma_configure,
	.dma_cleanup = tbus_dma_cleanup,
};

/* A bus with no dma hooks at all: the core must skip them. */
static const struct ih_bus_type tbus_nodma = {
	.name = "tbus-nodma",
	.match = tbus_match,
};

struct tdev {
	struct ih_device dev;
	unsigned int *released; /* bumped by the release callback */
};

static inline void tdev_release(struct ih_device *dev)
{
	struct tdev *t = container_of(dev, struct tdev, dev);

	if (t->released)
		__atomic_fetch_add(t->released, 1, __ATOMIC_RELAXED);
	ih_free(dev->world, t);
}

/* Allocate and initialise (not add) a test-bus device. */
static inline struct ih_device *tdev_new(struct ih_world *w, const struct ih_bus_type *bus,
					 const char *name, struct ih_device *parent,
					 unsigned int *released)
{
	struct tdev *t = ih_alloc(w, sizeof(*t), "test:tdev");

	cr_assert_not_null(t);
	cr_assert_eq(ih_device_init(w, &t->dev, bus, parent, name, tdev_release), 0);
	t->released = released;
	return &t->dev;
}

static inline struct ih_device *tdev_add(struct ih_world *w, const char *name)
{
	struct ih_device *dev = tdev_new(w, &tbus, name, NULL, NULL);

	cr_assert_eq(ih_device_add(dev), 0);
	return dev;
}

/* ---- Test drivers -------------------------------------------------------------------- */

struct tdrv {
	struct ih_driver drv;
	int probe_ret;       /* returned by probe */
	int probe_ret_once;  /* when non-zero, returned by the next probe only */
	unsigned int probes; /* atomic */
	unsigned int removes; /* atomic */
	/* Run inside probe (device lock held), e.g. to register an IOMMU-like provider. */
	void (*in_probe)(struct ih_device *dev);
};

static inline struct tdrv *to_tdrv(struct ih_driver *drv)
{
	return container_of(drv, struct tdrv, drv);
}

static inline int tdrv_probe(struct ih_device *dev)
{
	struct tdrv *t = to_tdrv(dev->driver);
	int ret;

	cr_assert(ih_device_lock_held(dev), "probe without the device lock");
	rec_push(EV_PROBE, dev, 0);
	__atomic_fetch_add(&t->probes, 1, __ATOMIC_RELAXED);
	if (t->in_probe)
		t->in_probe(dev);
	ret = t->probe_ret_once ? t->probe_ret_once : t->probe_ret;
	t->probe_ret_once = 0;
	if (!ret)
		ih_dev_set_drvdata(dev, t);
	return ret;
}

static inline void tdrv_remove(struct ih_device *dev)
{
	struct tdrv *t = to_tdrv(dev->driver);

	cr_assert(ih_device_lock_held(dev), "remove without the device lock");
	rec_push(EV_REMOVE, dev, 0);
	__atomic_fetch_add(&t->removes, 1, __ATOMIC_RELAXED);
}

static inline void tdrv_setup(struct tdrv *t, const struct ih_bus_type *bus, const char *name,
			      const char *id)
{
	memset(t, 0, sizeof(*t));
	t->drv.name = name;
	t->drv.bus = bus;
	t->drv.probe = tdrv_probe;
	t->drv.remove = tdrv_remove;
	t->drv.id_table = id;
}

/* ---- A notifier that records every event -------------------------------------------- */

struct tnb {
	struct ih_bus_notifier nb;
	int tag;
};

static inline int tnb_call(struct ih_bus_notifier *nb, enum ih_bus_event event,
			   struct ih_device *dev)
{
	static const enum ev_kind map[] = {
		[IH_BUS_NOTIFY_ADD_DEVICE] = EV_NB_ADD_DEVICE,
		[IH_BUS_NOTIFY_DEL_DEVICE] = EV_NB_DEL_DEVICE,
		[IH_BUS_NOTIFY_REMOVED_DEVICE] = EV_NB_REMOVED_DEVICE,
		[IH_BUS_NOTIFY_BIND_DRIVER] = EV_NB_BIND_DRIVER,
		[IH_BUS_NOTIFY_BOUND_DRIVER] = EV_NB_BOUND_DRIVER,
		[IH_BUS_NOTIFY_UNBIND_DRIVER] = EV_NB_UNBIND_DRIVER,
		[IH_BUS_NOTIFY_UNBOUND_DRIVER] = EV_NB_UNBOUND_DRIVER,
		[IH_BUS_NOTIFY_DRIVER_NOT_BOUND] = EV_NB_DRIVER_NOT_BOUND,
	};

	rec_push(map[event], dev, container_of(nb, struct tnb, nb)->tag);
	return 0;
}

static inline void tnb_setup(struct tnb *t, const struct ih_bus_type *bus, int prio, int tag)
{
	memset(t, 0, sizeof(*t));
	t->nb.notifier_call = tnb_call;
	t->nb.bus = bus;
	t->nb.priority = prio;
	t->tag = tag;
}

/* A world with the test bus registered and the platform/PCI buses available. */
static inline struct ih_world *tworld(enum ih_exec_mode mode)
{
	struct ih_world_config cfg;
	struct ih_world *w;

	ih_world_config_init(&cfg);
	cfg.mode = mode;
	cfg.ncpus = 2;
	cfg.physmem_size = SZ_1M;
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	cr_assert_eq(ih_bus_register(w, &tbus), 0);
	return w;
}

#endif /* IH_TESTS_BASE_TEST_H */
