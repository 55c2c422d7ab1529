// SPDX-License-Identifier: MIT
/*
 * TSan scenario: device-model bind/unbind under real threads.
 *
 * Threads: 2 binders, each unbinding and re-binding its own device on one bus; 1 churner
 * adding and deleting other devices on the same bus, registering and unregistering a
 * second driver, and triggering deferred probe; 1 notifier on the bus reading
 * dev->driver as the IOMMU layer would. All start together on a flag.
 * Invariant: every call succeeds, each binder sees its device bound after bind and
 * unbound after unbind, bind/unbind/probe/remove counts match the rounds, no warning,
 * no model leak. Expected outcome: exit 0 with no ThreadSanitizer report.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/diag.h>
#include <ih/sched.h>
#include <ih/world.h>

#define ROUNDS 2000

static int tb_match(struct ih_device *dev, struct ih_driver *drv)
{
	return dev->name[0] == ((const char *)drv->id_table)[0];
}

static int tb_dma_configure(struct ih_device *dev)
{
	/* What a bus hook does: read the driver once, decide on ownership from it. */
	struct ih_driver *drv = ih_device_driver(dev);

	return drv ? 0 : -EINVAL;
}

static void tb_dma_cleanup(struct ih_device *dev)
{
	(void)ih_device_driver(dev);
}

static const struct ih_bus_type tb = {
	.name = "tsan-bus",
	.match = tb_match,
	.dma_configure = tb_dma_configure,
	.dma_cleanup = tb_dma_cleanup,
};

struct cdrv {
	struct ih_driver drv;
	unsigned long probes;  /* atomic */
	unsigned long removes; /* atomic */
};

static int cdrv_probe(struct ih_device *dev)
{
	struct cdrv *c = container_of(dev->driver, struct cdrv, drv);

	__atomic_fetch_add(&c->probes, 1, __ATOMIC_RELAXED);
	ih_dev_set_drvdata(dev, c);
	return 0;
}

static void cdrv_remove(struct ih_device *dev)
{
	struct cdrv *c = container_of(dev->driver, struct cdrv, drv);

	if (ih_dev_get_drvdata(dev) != c)
		abort();
	__atomic_fetch_add(&c->removes, 1, __ATOMIC_RELAXED);
}

static void dev_release(struct ih_device *dev)
{
	ih_free(dev->world, dev);
}

static struct ih_device *dev_new(struct ih_world *w, const char *name)
{
	struct ih_device *dev = ih_alloc(w, sizeof(*dev), "tsan:dev");

	if (!dev || ih_device_init(w, dev, &tb, NULL, name, dev_release)) {
		fprintf(stderr, "tsan_base_bind: cannot create %s\n", name);
		exit(1);
	}
	return dev;
}

static unsigned long nb_events; /* atomic */

static int nb_call(struct ih_bus_notifier *nb, enum ih_bus_event ev, struct ih_device *dev)
{
	(void)ih_device_driver(dev);
	__atomic_fetch_add(&nb_events, 1, __ATOMIC_RELAXED);
	return 0;
}

struct ctx {
	struct ih_world *w;
	struct cdrv a, b;
	struct ih_device *dev[2];
	int go;
	unsigned long failures; /* atomic */
};

static void fail(struct ctx *c, const char *what)
{
	fprintf(stderr, "tsan_base_bind: %s\n", what);
	__atomic_fetch_add(&c->failures, 1, __ATOMIC_RELAXED);
}

static void wait_go(struct ctx *c)
{
	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		;
}

struct binder {
	struct ctx *c;
	int idx;
};

static void *binder(void *arg)
{
	struct binder *b = arg;
	struct ctx *c = b->c;
	struct ih_device *dev = c->dev[b->idx];

	ih_thread_set_cpu(c->w, (unsigned int)b->idx);
	wait_go(c);
	for (int i = 0; i < ROUNDS; i++) {
		if (ih_device_unbind(dev) || ih_device_driver(dev))
			fail(c, "unbind");
		if (ih_device_bind(dev, &c->a.drv) || ih_device_driver(dev) != &c->a.drv)
			fail(c, "bind");
	}
	return NULL;
}

static void *churner(void *arg)
{
	struct ctx *c = arg;
	char name[16];

	wait_go(c);
	for (int i = 0; i < ROUNDS / 2; i++) {
		struct ih_device *dev;

		snprintf(name, sizeof(name), "b.%d", i);
		dev = dev_new(c->w, name);
		if (ih_device_add(dev))
			fail(c, "add");
		if (ih_driver_register(c->w, &c->b.drv))
			fail(c, "driver register");
		if (ih_device_driver(dev) != &c->b.drv)
			fail(c, "driver registration did not bind");
		ih_deferred_probe_trigger(c->w);
		if (ih_driver_unregister(c->w, &c->b.drv))
			fail(c, "driver unregister");
		if (ih_device_unregister(dev))
			fail(c, "del");
	}
	return NULL;
}

int main(void)
{
	struct ih_bus_notifier nb = { .notifier_call = nb_call, .bus = &tb };
	struct ih_world_config cfg;
	struct binder bs[2];
	pthread_t th[3];
	struct ctx c;
	size_t leaked;
	int ok = 1;

	memset(&c, 0, sizeof(c));
	ih_world_config_init(&cfg);
	cfg.mode = IH_EXEC_CONCURRENT;
	cfg.ncpus = 2;
	cfg.physmem_size = SZ_1M;
	cfg.seed = 0x5eed;
	printf("tsan_base_bind: seed 0x%llx, %d rounds\n", (unsigned long long)cfg.seed, ROUNDS);
	if (ih_world_create(&cfg, &c.w))
		return 1;
	ih_sched_set_random_yield(c.w, 100000);
	c.a.drv = (struct ih_driver){ .name = "drv-a", .bus = &tb, .probe = cdrv_probe,
				      .remove = cdrv_remove, .id_table = "a" };
	c.b.drv = (struct ih_driver){ .name = "drv-b", .bus = &tb, .probe = cdrv_probe,
				      .remove = cdrv_remove, .id_table = "b" };
	if (ih_bus_register(c.w, &tb) || ih_bus_register_notifier(c.w, &nb) ||
	    ih_driver_register(c.w, &c.a.drv))
		return 1;
	c.dev[0] = dev_new(c.w, "a.0");
	c.dev[1] = dev_new(c.w, "a.1");
	if (ih_device_add(c.dev[0]) || ih_device_add(c.dev[1]))
		return 1;

	for (int i = 0; i < 2; i++) {
		bs[i] = (struct binder){ .c = &c, .idx = i };
		if (pthread_create(&th[i], NULL, binder, &bs[i]))
			return 1;
	}
	if (pthread_create(&th[2], NULL, churner, &c))
		return 1;
	__atomic_store_n(&c.go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);

	if (c.failures)
		ok = 0;
	/* One bind at add plus one per round, per device. */
	if (c.a.probes != 2 * (ROUNDS + 1) || c.a.removes != 2 * ROUNDS) {
		fprintf(stderr, "tsan_base_bind: drv-a probes %lu removes %lu\n", c.a.probes,
			c.a.removes);
		ok = 0;
	}
	if (c.b.probes != ROUNDS / 2 || c.b.removes != ROUNDS / 2) {
		fprintf(stderr, "tsan_base_bind: drv-b probes %lu removes %lu\n", c.b.probes,
			c.b.removes);
		ok = 0;
	}
	if (ih_device_unregister(c.dev[0]) || ih_device_unregister(c.dev[1]) ||
	    ih_driver_unregister(c.w, &c.a.drv) || ih_bus_unregister_notifier(c.w, &nb))
		ok = 0;
	if (ih_warn_count(c.w)) {
		fprintf(stderr, "tsan_base_bind: %lu warnings\n", ih_warn_count(c.w));
		ok = 0;
	}
	leaked = ih_world_destroy(c.w);
	if (leaked)
		ok = 0;
	printf("tsan_base_bind: %s (%lu notifier events)\n", ok ? "pass" : "FAIL",
	       __atomic_load_n(&nb_events, __ATOMIC_RELAXED));
	return ok ? 0 : 1;
}
