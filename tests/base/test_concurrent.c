// SPDX-License-Identifier: MIT
/* Real threads binding and unbinding devices of one bus (the TSan twin: tsan_base_bind.c). */
#include "base/base_test.h"

#include <ih/sched.h>

#define ROUNDS 2000

struct worker {
	struct ih_world *w;
	struct ih_device *dev;
	struct ih_driver *drv;
	const int *go;
	unsigned int failures;
};

static void wait_go(const int *go)
{
	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		;
}

static void *bind_unbind(void *arg)
{
	struct worker *wk = arg;

	ih_thread_set_cpu(wk->w, wk->dev->name[2] == '0' ? 0 : 1);
	wait_go(wk->go);
	for (int i = 0; i < ROUNDS; i++) {
		if (ih_device_unbind(wk->dev))
			wk->failures++;
		if (ih_device_driver(wk->dev))
			wk->failures++;
		if (ih_device_bind(wk->dev, wk->drv))
			wk->failures++;
		if (ih_device_driver(wk->dev) != wk->drv)
			wk->failures++;
	}
	return NULL;
}

Test(concurrent, two_threads_bind_and_unbind_different_devices_of_one_bus)
{
	struct ih_world *w = tworld(IH_EXEC_CONCURRENT);
	struct worker wk[2];
	struct ih_base_stats st;
	pthread_t th[2];
	struct tdrv d;
	int go = 0;

	ih_sched_set_random_yield(w, 200000);
	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	for (int i = 0; i < 2; i++) {
		wk[i] = (struct worker){ .w = w, .drv = &d.drv, .go = &go };
		wk[i].dev = tdev_add(w, i ? "a.1" : "a.0");
		cr_assert_eq(ih_device_driver(wk[i].dev), &d.drv);
		cr_assert_eq(pthread_create(&th[i], NULL, bind_unbind, &wk[i]), 0);
	}
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		cr_expect_eq(wk[i].failures, 0, "thread %d saw %u failures", i, wk[i].failures);
	}
	ih_base_get_stats(w, &st);
	/* One bind at add plus one per round, per device; one unbind per round. */
	cr_expect_eq(st.binds, 2 * (ROUNDS + 1));
	cr_expect_eq(st.unbinds, 2 * ROUNDS);
	cr_expect_eq(st.dma_configures, st.binds);
	cr_expect_eq(st.dma_cleanups, st.unbinds);
	cr_expect_eq(d.probes, 2 * (ROUNDS + 1));
	cr_expect_eq(d.removes, 2 * ROUNDS);
	for (int i = 0; i < 2; i++)
		cr_expect_eq(ih_device_unregister(wk[i].dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
	cr_expect_eq(ih_warn_count(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}

struct churn {
	struct ih_world *w;
	const int *go;
	unsigned int failures;
	struct tdrv drv_b;
};

/* Adds and deletes devices on the same bus, registers a driver, triggers deferred probe. */
static void *churn(void *arg)
{
	struct churn *c = arg;
	char name[16];

	wait_go(c->go);
	for (int i = 0; i < ROUNDS / 4; i++) {
		struct ih_device *dev;

		snprintf(name, sizeof(name), "b.%d", i);
		dev = tdev_new(c->w, &tbus, name, NULL, NULL);
		if (ih_device_add(dev))
			c->failures++;
		if (i % 2 == 0) {
			if (ih_driver_register(c->w, &c->drv_b.drv))
				c->failures++;
			if (ih_device_driver(dev) != &c->drv_b.drv)
				c->failures++;
		}
		ih_deferred_probe_trigger(c->w);
		if (i % 2 == 0 && ih_driver_unregister(c->w, &c->drv_b.drv))
			c->failures++;
		if (ih_device_unregister(dev))
			c->failures++;
	}
	return NULL;
}

Test(concurrent, binding_races_with_device_and_driver_churn_on_the_same_bus)
{
	struct ih_world *w = tworld(IH_EXEC_CONCURRENT);
	struct worker wk;
	struct churn c = { 0 };
	pthread_t th[2];
	struct tdrv d;
	int go = 0;

	ih_sched_set_random_yield(w, 200000);
	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	tdrv_setup(&c.drv_b, &tbus, "drv-b", "b");
	c.w = w;
	c.go = &go;
	wk = (struct worker){ .w = w, .drv = &d.drv, .go = &go };
	wk.dev = tdev_add(w, "a.0");
	cr_assert_eq(pthread_create(&th[0], NULL, bind_unbind, &wk), 0);
	cr_assert_eq(pthread_create(&th[1], NULL, churn, &c), 0);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	cr_expect_eq(wk.failures, 0);
	cr_expect_eq(c.failures, 0);
	cr_expect_eq(d.probes, ROUNDS + 1);
	cr_expect_eq(c.drv_b.probes, ROUNDS / 8, "every other churned device bound to drv-b");
	cr_expect_eq(c.drv_b.removes, ROUNDS / 8);
	cr_expect_eq(ih_device_unregister(wk.dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
	cr_expect_eq(ih_warn_count(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}
