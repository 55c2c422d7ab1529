// SPDX-License-Identifier: MIT
/* -EPROBE_DEFER: the deferred list, triggers, passes and their bound. */
#include "base/base_test.h"

static struct ih_world *w;
static unsigned long expected_warns;

static void setup(void)
{
	w = tworld(IH_EXEC_SEQUENTIAL);
}

static void teardown(void)
{
	cr_expect_eq(ih_warn_count(w), expected_warns, "warnings: %lu, expected %lu",
		     ih_warn_count(w), expected_warns);
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(deferred, .init = setup, .fini = teardown);

Test(deferred, defer_then_trigger_binds_and_counts)
{
	struct ih_base_stats st;
	struct ih_device *dev;
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	d.probe_ret = -EPROBE_DEFER;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	dev = tdev_add(w, "a.0");
	cr_expect_null(ih_device_driver(dev));
	cr_expect(ih_device_is_deferred(dev));
	cr_expect_eq(ih_deferred_probe_pending(w), 1);
	/* A deferral is a failed probe: the dma claim is undone. */
	expect_kinds(dev, EV_DMA_CONFIGURE, EV_PROBE, EV_DMA_CLEANUP);
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.probe_defers, 1);
	cr_expect_eq(st.probe_failures, 0);

	/* Still not ready: retried once, deferred again, nothing bound. */
	cr_expect_eq(ih_deferred_probe_trigger(w), 0);
	cr_expect(ih_device_is_deferred(dev));
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.deferred_retries, 1);
	cr_expect_eq(st.probe_defers, 2);

	d.probe_ret = 0;
	cr_expect_eq(ih_deferred_probe_trigger(w), 1, "one device bound by this trigger");
	cr_expect_eq(ih_device_driver(dev), &d.drv);
	cr_expect_not(ih_device_is_deferred(dev));
	cr_expect_eq(ih_deferred_probe_pending(w), 0);
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.deferred_retries, 2);
	cr_expect_eq(st.deferred_bound, 1);
	cr_expect_eq(d.probes, 3);

	cr_expect_eq(ih_deferred_probe_trigger(w), 0, "nothing left to retry");
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

/* A consumer driver that defers until a provider flag is set by the provider's probe. */
static bool provider_ready;
static int trigger_in_probe_ret = -1;

static int consumer_probe(struct ih_device *dev)
{
	rec_push(EV_PROBE, dev, 0);
	return provider_ready ? 0 : -EPROBE_DEFER;
}

static void provider_in_probe(struct ih_device *dev)
{
	provider_ready = true;
}

Test(deferred, binding_a_provider_retries_its_consumers)
{
	struct ih_device *a, *b;
	struct tdrv cons, prov;

	tdrv_setup(&cons, &tbus, "consumer", "a");
	cons.drv.probe = consumer_probe;
	tdrv_setup(&prov, &tbus, "provider", "b");
	prov.in_probe = provider_in_probe;
	cr_assert_eq(ih_driver_register(w, &cons.drv), 0);
	a = tdev_add(w, "a.0");
	b = tdev_add(w, "b.0");
	cr_expect(ih_device_is_deferred(a));
	cr_expect_null(ih_device_driver(b));
	/* Registration binds the provider; that bind requests a pass, which binds a.0. */
	cr_assert_eq(ih_driver_register(w, &prov.drv), 0);
	cr_expect_eq(ih_device_driver(b), &prov.drv);
	cr_expect_eq(ih_device_driver(a), &cons.drv);
	cr_expect_eq(ih_deferred_probe_pending(w), 0);
	cr_expect_eq(ih_device_unregister(a), 0);
	cr_expect_eq(ih_device_unregister(b), 0);
	cr_expect_eq(ih_driver_unregister(w, &prov.drv), 0);
	cr_expect_eq(ih_driver_unregister(w, &cons.drv), 0);
}

/* Chain: x.0 needs y.0 bound, y.0 needs z.0 bound. */
static struct ih_device *chain_y, *chain_z;

static int chain_probe(struct ih_device *dev)
{
	if (dev->name[0] == 'x')
		return ih_device_driver(chain_y) ? 0 : -EPROBE_DEFER;
	if (dev->name[0] == 'y')
		return ih_device_driver(chain_z) ? 0 : -EPROBE_DEFER;
	return 0;
}

Test(deferred, a_chain_binds_in_extra_passes)
{
	struct ih_base_stats before, after;
	struct ih_device *x;
	struct tdrv d;

	tdrv_setup(&d, &tbus, "chain", "*");
	d.drv.probe = chain_probe;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	chain_z = tdev_new(w, &tbus, "z.0", NULL, NULL);
	chain_y = tdev_new(w, &tbus, "y.0", NULL, NULL);
	x = tdev_new(w, &tbus, "x.0", NULL, NULL);
	cr_assert_eq(ih_device_add(x), 0);
	cr_assert_eq(ih_device_add(chain_y), 0);
	cr_expect_eq(ih_deferred_probe_pending(w), 2);
	ih_base_get_stats(w, &before);
	cr_assert_eq(ih_device_add(chain_z), 0);
	ih_base_get_stats(w, &after);
	cr_expect_eq(ih_device_driver(x), &d.drv);
	cr_expect_eq(ih_device_driver(chain_y), &d.drv);
	/*
	 * z binds at add (request). Pass 1 retries [x, y]: x defers, y binds (request).
	 * Pass 2 retries [x]: binds (request). Pass 3 finds the list empty.
	 */
	cr_expect_eq(after.deferred_passes - before.deferred_passes, 3);
	cr_expect_eq(after.deferred_retries - before.deferred_retries, 3);
	cr_expect_eq(after.deferred_bound - before.deferred_bound, 2);
	cr_expect_eq(ih_device_unregister(x), 0);
	cr_expect_eq(ih_device_unregister(chain_y), 0);
	cr_expect_eq(ih_device_unregister(chain_z), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

/* An IOMMU-like provider registering from its own probe, device lock held. */
static void iommu_in_probe(struct ih_device *dev)
{
	provider_ready = true;
	trigger_in_probe_ret = ih_deferred_probe_trigger(w);
}

Test(deferred, trigger_from_inside_a_probe_runs_after_the_lock_is_dropped)
{
	struct tdrv cons, iommu;
	struct ih_device *a, *smmu;

	tdrv_setup(&cons, &tbus, "consumer", "a");
	cons.drv.probe = consumer_probe;
	tdrv_setup(&iommu, &tbus, "smmu", "smmu");
	iommu.in_probe = iommu_in_probe;
	cr_assert_eq(ih_driver_register(w, &cons.drv), 0);
	cr_assert_eq(ih_driver_register(w, &iommu.drv), 0);
	a = tdev_add(w, "a.0");
	cr_expect(ih_device_is_deferred(a));
	smmu = tdev_add(w, "smmu.0");
	/* Inside the probe the trigger only requested a pass (the probing lock is held) ... */
	cr_expect_eq(trigger_in_probe_ret, 0);
	/* ... which ran before ih_device_add() returned. */
	cr_expect_eq(ih_device_driver(a), &cons.drv);
	cr_expect_eq(ih_device_unregister(a), 0);
	cr_expect_eq(ih_device_unregister(smmu), 0);
	cr_expect_eq(ih_driver_unregister(w, &iommu.drv), 0);
	cr_expect_eq(ih_driver_unregister(w, &cons.drv), 0);
}

Test(deferred, trigger_under_a_device_lock_waits_for_the_unlock)
{
	struct ih_device *a, *other;
	struct tdrv cons;

	tdrv_setup(&cons, &tbus, "consumer", "a");
	cons.drv.probe = consumer_probe;
	cr_assert_eq(ih_driver_register(w, &cons.drv), 0);
	a = tdev_add(w, "a.0");
	other = tdev_add(w, "o.0");
	provider_ready = true;
	ih_device_lock(other);
	cr_expect_eq(ih_deferred_probe_trigger(w), 0);
	cr_expect(ih_device_is_deferred(a), "no pass may run while a device lock is held");
	ih_device_unlock(other);
	cr_expect_eq(ih_device_driver(a), &cons.drv);
	cr_expect_eq(ih_device_unregister(a), 0);
	cr_expect_eq(ih_device_unregister(other), 0);
	cr_expect_eq(ih_driver_unregister(w, &cons.drv), 0);
}

Test(deferred, deleting_a_deferred_device_takes_it_off_the_list)
{
	struct ih_base_stats st;
	struct ih_device *dev;
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	d.probe_ret = -EPROBE_DEFER;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	dev = tdev_add(w, "a.0");
	cr_expect_eq(ih_deferred_probe_pending(w), 1);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_deferred_probe_pending(w), 0);
	cr_expect_eq(ih_deferred_probe_trigger(w), 0);
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.deferred_retries, 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(deferred, match_returning_eprobe_defer_defers_the_device)
{
	struct ih_device *dev;
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	tbus_cfg.match_ret = -EPROBE_DEFER;
	dev = tdev_add(w, "a.0");
	cr_expect(ih_device_is_deferred(dev));
	cr_expect_eq(d.probes, 0);
	cr_expect_eq(ih_device_bind(dev, &d.drv), -EPROBE_DEFER);
	tbus_cfg.match_ret = 0;
	cr_expect_eq(ih_deferred_probe_trigger(w), 1);
	cr_expect_eq(ih_device_driver(dev), &d.drv);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(deferred, explicit_bind_that_defers_lands_on_the_list)
{
	struct ih_device *dev = tdev_add(w, "a.0");
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", NULL); /* matches nothing but an override */
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_assert_eq(ih_device_set_driver_override(dev, "drv-a"), 0);
	d.probe_ret = -EPROBE_DEFER;
	cr_expect_eq(ih_device_bind(dev, &d.drv), -EPROBE_DEFER);
	cr_expect(ih_device_is_deferred(dev));
	d.probe_ret = 0;
	cr_expect_eq(ih_deferred_probe_trigger(w), 1);
	cr_expect_eq(ih_device_driver(dev), &d.drv);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

/* A probe that defers and requests another pass every time: only the bound stops it. */
static int endless_probe(struct ih_device *dev)
{
	ih_deferred_probe_trigger(dev->world);
	return -EPROBE_DEFER;
}

Test(deferred, a_self_retriggering_device_stops_at_the_pass_bound)
{
	struct ih_base_stats before, after;
	struct ih_device *dev;
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	d.drv.probe = endless_probe;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	dev = tdev_add(w, "a.0");
	ih_base_get_stats(w, &before);
	cr_expect_eq(ih_deferred_probe_trigger(w), 0);
	ih_base_get_stats(w, &after);
	cr_expect_eq(after.deferred_passes - before.deferred_passes, IH_DEFERRED_MAX_PASSES);
	cr_expect_eq(after.deferred_retries - before.deferred_retries, IH_DEFERRED_MAX_PASSES);
	cr_expect(ih_device_is_deferred(dev));
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}
