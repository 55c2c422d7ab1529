// SPDX-License-Identifier: MIT
/* Bus notifiers: event order over a device's life, priorities, bus filters. */
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

TestSuite(notifier, .init = setup, .fini = teardown);

Test(notifier, full_life_cycle_sends_linux_event_order)
{
	struct ih_device *dev;
	struct tnb nb;
	struct tdrv d;

	tnb_setup(&nb, NULL, 0, 1);
	cr_assert_eq(ih_bus_register_notifier(w, &nb.nb), 0);
	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	dev = tdev_add(w, "a.0");
	cr_expect_eq(ih_device_unbind(dev), 0);
	cr_expect_eq(ih_device_bind(dev, &d.drv), 0);
	cr_expect_eq(ih_device_unregister(dev), 0);
	/*
	 * add: ADD_DEVICE, then the bind: dma_configure, BIND_DRIVER, probe, BOUND_DRIVER.
	 * unbind: UNBIND_DRIVER, remove, dma_cleanup, UNBOUND_DRIVER.
	 * del: DEL_DEVICE while still bound, the unbind, REMOVED_DEVICE at the end.
	 */
	expect_kinds(dev, EV_NB_ADD_DEVICE, EV_DMA_CONFIGURE, EV_NB_BIND_DRIVER, EV_PROBE,
		     EV_NB_BOUND_DRIVER,
		     EV_NB_UNBIND_DRIVER, EV_REMOVE, EV_DMA_CLEANUP, EV_NB_UNBOUND_DRIVER,
		     EV_DMA_CONFIGURE, EV_NB_BIND_DRIVER, EV_PROBE, EV_NB_BOUND_DRIVER,
		     EV_NB_DEL_DEVICE, EV_NB_UNBIND_DRIVER, EV_REMOVE, EV_DMA_CLEANUP,
		     EV_NB_UNBOUND_DRIVER, EV_NB_REMOVED_DEVICE);
	/* BIND_DRIVER already sees the driver; UNBOUND_DRIVER no longer does. */
	cr_expect_eq(rec.ev[2].drv, &d.drv);
	cr_expect_null(rec.ev[8].drv);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
	cr_expect_eq(ih_bus_unregister_notifier(w, &nb.nb), 0);
}

Test(notifier, failed_probe_sends_driver_not_bound_before_dma_cleanup)
{
	struct ih_device *dev;
	struct tnb nb;
	struct tdrv d;

	tnb_setup(&nb, &tbus, 0, 1);
	cr_assert_eq(ih_bus_register_notifier(w, &nb.nb), 0);
	tdrv_setup(&d, &tbus, "drv-a", "a");
	d.probe_ret = -ENOMEM;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	dev = tdev_add(w, "a.0");
	expect_kinds(dev, EV_NB_ADD_DEVICE, EV_DMA_CONFIGURE, EV_NB_BIND_DRIVER, EV_PROBE,
		     EV_NB_DRIVER_NOT_BOUND, EV_DMA_CLEANUP);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
	cr_expect_eq(ih_bus_unregister_notifier(w, &nb.nb), 0);
}

Test(notifier, failed_dma_configure_sends_no_bind_events)
{
	struct ih_device *dev;
	struct tnb nb;
	struct tdrv d;

	tnb_setup(&nb, NULL, 0, 1);
	cr_assert_eq(ih_bus_register_notifier(w, &nb.nb), 0);
	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	tbus_cfg.dma_configure_ret = -EPROBE_DEFER;
	dev = tdev_add(w, "a.0");
	expect_kinds(dev, EV_NB_ADD_DEVICE, EV_DMA_CONFIGURE);
	cr_expect(ih_device_is_deferred(dev), "-EPROBE_DEFER from dma_configure defers too");
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
	cr_expect_eq(ih_bus_unregister_notifier(w, &nb.nb), 0);
}

Test(notifier, higher_priority_first_then_registration_order)
{
	struct tnb a, b, c, d;
	struct ih_device *dev;

	tnb_setup(&a, NULL, 0, 1);
	tnb_setup(&b, NULL, 10, 2);
	tnb_setup(&c, NULL, 0, 3);
	tnb_setup(&d, NULL, 10, 4);
	cr_assert_eq(ih_bus_register_notifier(w, &a.nb), 0);
	cr_assert_eq(ih_bus_register_notifier(w, &b.nb), 0);
	cr_assert_eq(ih_bus_register_notifier(w, &c.nb), 0);
	cr_assert_eq(ih_bus_register_notifier(w, &d.nb), 0);
	dev = tdev_add(w, "a.0");
	cr_assert_eq(rec.n, 4);
	cr_expect_eq(rec.ev[0].tag, 2);
	cr_expect_eq(rec.ev[1].tag, 4);
	cr_expect_eq(rec.ev[2].tag, 1);
	cr_expect_eq(rec.ev[3].tag, 3);

	/* After unregistering b, only a, c, d hear the removal. */
	cr_expect_eq(ih_bus_unregister_notifier(w, &b.nb), 0);
	rec_reset();
	cr_expect_eq(ih_device_unregister(dev), 0);
	/* DEL_DEVICE and REMOVED_DEVICE, three notifiers each: d, a, c. */
	cr_assert_eq(rec.n, 6);
	cr_expect_eq(rec.ev[0].tag, 4);
	cr_expect_eq(rec.ev[1].tag, 1);
	cr_expect_eq(rec.ev[2].tag, 3);
	cr_expect_eq(rec.ev[0].kind, EV_NB_DEL_DEVICE);
	cr_expect_eq(rec.ev[3].kind, EV_NB_REMOVED_DEVICE);
	cr_expect_eq(ih_bus_unregister_notifier(w, &a.nb), 0);
	cr_expect_eq(ih_bus_unregister_notifier(w, &c.nb), 0);
	cr_expect_eq(ih_bus_unregister_notifier(w, &d.nb), 0);
}

Test(notifier, bus_filter_hears_only_its_bus)
{
	struct ih_device *t, *n;
	struct tnb only_nodma;

	cr_assert_eq(ih_bus_register(w, &tbus_nodma), 0);
	tnb_setup(&only_nodma, &tbus_nodma, 0, 7);
	cr_assert_eq(ih_bus_register_notifier(w, &only_nodma.nb), 0);
	t = tdev_add(w, "t.0");
	n = tdev_new(w, &tbus_nodma, "n.0", NULL, NULL);
	cr_assert_eq(ih_device_add(n), 0);
	cr_expect_eq(rec_count(EV_NB_ADD_DEVICE, t), 0);
	expect_kinds(n, EV_NB_ADD_DEVICE);
	cr_expect_eq(ih_device_unregister(t), 0);
	cr_expect_eq(ih_device_unregister(n), 0);
	cr_expect_eq(ih_bus_unregister_notifier(w, &only_nodma.nb), 0);
}
