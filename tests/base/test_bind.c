// SPDX-License-Identifier: MIT
/* Binding: on add, on driver registration, explicit bind/unbind, probe and dma hook errors. */
#include "base/base_test.h"

#include <ih/sched.h>

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

TestSuite(bind, .init = setup, .fini = teardown);

Test(bind, device_added_after_driver_binds_at_add)
{
	struct tdrv d;
	struct ih_device *dev;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	dev = tdev_add(w, "a.0");
	cr_expect_eq(ih_device_driver(dev), &d.drv);
	cr_expect_eq(ih_dev_get_drvdata(dev), &d);
	cr_expect_eq(d.probes, 1);
	/* Linux order: driver set, dma_configure, probe. */
	expect_kinds(dev, EV_DMA_CONFIGURE, EV_PROBE);
	cr_expect_eq(rec.ev[0].drv, &d.drv, "dma_configure must see dev->driver already set");

	rec_reset();
	cr_expect_eq(ih_device_unregister(dev), 0);
	/* remove, then dma_cleanup with the driver still set, then the driver is gone. */
	expect_kinds(dev, EV_REMOVE, EV_DMA_CLEANUP);
	cr_expect_eq(rec.ev[1].drv, &d.drv, "dma_cleanup must see dev->driver still set");
	cr_expect_eq(d.removes, 1);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(bind, driver_registered_after_devices_binds_every_match_in_add_order)
{
	struct ih_device *a0 = tdev_add(w, "a.0");
	struct ih_device *b0 = tdev_add(w, "b.0");
	struct ih_device *a1 = tdev_add(w, "a.1");
	struct ih_base_stats st;
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_expect_eq(ih_device_driver(a0), &d.drv);
	cr_expect_eq(ih_device_driver(a1), &d.drv);
	cr_expect_null(ih_device_driver(b0));
	cr_expect_eq(d.probes, 2);
	cr_expect_eq(rec.ev[1].dev, a0);
	cr_expect_eq(rec.ev[3].dev, a1);
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.binds, 2);
	cr_expect_eq(st.dma_configures, 2);

	/* Unregistering the driver unbinds both. */
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
	cr_expect_null(ih_device_driver(a0));
	cr_expect_null(ih_device_driver(a1));
	cr_expect_eq(d.removes, 2);
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.unbinds, 2);
	cr_expect_eq(st.dma_cleanups, 2);
	cr_expect_eq(ih_device_unregister(a0), 0);
	cr_expect_eq(ih_device_unregister(b0), 0);
	cr_expect_eq(ih_device_unregister(a1), 0);
}

Test(bind, failing_probe_leaves_driver_null_and_calls_dma_cleanup)
{
	struct ih_base_stats st;
	struct ih_device *dev;
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	d.probe_ret = -EIO;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	dev = tdev_add(w, "a.0");
	cr_expect_null(ih_device_driver(dev));
	cr_expect_null(ih_dev_get_drvdata(dev));
	cr_expect_not(ih_device_is_deferred(dev), "-EIO is not a deferral");
	/* configure, probe, cleanup: the claim made by dma_configure is undone. */
	expect_kinds(dev, EV_DMA_CONFIGURE, EV_PROBE, EV_DMA_CLEANUP);
	cr_expect_eq(rec.ev[2].drv, &d.drv, "dma_cleanup runs before dev->driver is cleared");
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.probes, 1);
	cr_expect_eq(st.probe_failures, 1);
	cr_expect_eq(st.binds, 0);
	cr_expect_eq(st.dma_configures, 1);
	cr_expect_eq(st.dma_cleanups, 1);

	/* An explicit bind reports the probe's error. */
	rec_reset();
	cr_expect_eq(ih_device_bind(dev, &d.drv), -EIO);
	expect_kinds(dev, EV_DMA_CONFIGURE, EV_PROBE, EV_DMA_CLEANUP);
	cr_expect_null(ih_device_driver(dev));
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(bind, dma_configure_failure_skips_probe_and_cleanup)
{
	struct ih_device *dev;
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	tbus_cfg.dma_configure_ret = -ENODEV;
	dev = tdev_add(w, "a.0");
	/* Nothing was configured, so nothing is cleaned up, and probe never ran. */
	expect_kinds(dev, EV_DMA_CONFIGURE);
	cr_expect_eq(d.probes, 0);
	cr_expect_null(ih_device_driver(dev));
	cr_expect_eq(ih_device_bind(dev, &d.drv), -ENODEV);

	tbus_cfg.dma_configure_ret = 0;
	cr_expect_eq(ih_device_bind(dev, &d.drv), 0);
	cr_expect_eq(ih_device_driver(dev), &d.drv);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(bind, bus_without_dma_hooks_binds_without_them)
{
	struct ih_base_stats st;
	struct ih_device *dev;
	struct tdrv d;

	cr_assert_eq(ih_bus_register(w, &tbus_nodma), 0);
	tdrv_setup(&d, &tbus_nodma, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	dev = tdev_new(w, &tbus_nodma, "a.0", NULL, NULL);
	cr_assert_eq(ih_device_add(dev), 0);
	expect_kinds(dev, EV_PROBE);
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.dma_configures, 0);
	cr_expect_eq(ih_device_unbind(dev), 0);
	expect_kinds(dev, EV_PROBE, EV_REMOVE);
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.dma_cleanups, 0);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(bind, failing_first_driver_falls_through_to_the_next_match)
{
	struct tdrv bad, good;
	struct ih_device *dev;

	tdrv_setup(&bad, &tbus, "bad", "a");
	bad.probe_ret = -ENXIO;
	tdrv_setup(&good, &tbus, "good", "*");
	cr_assert_eq(ih_driver_register(w, &bad.drv), 0);
	cr_assert_eq(ih_driver_register(w, &good.drv), 0);
	dev = tdev_add(w, "a.0");
	cr_expect_eq(bad.probes, 1);
	cr_expect_eq(good.probes, 1);
	cr_expect_eq(ih_device_driver(dev), &good.drv);
	expect_kinds(dev, EV_DMA_CONFIGURE, EV_PROBE, EV_DMA_CLEANUP, EV_DMA_CONFIGURE, EV_PROBE);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &good.drv), 0);
	cr_expect_eq(ih_driver_unregister(w, &bad.drv), 0);
}

Test(bind, explicit_unbind_then_bind_to_another_matching_driver)
{
	struct tdrv d1, d2;
	struct ih_device *dev;

	tdrv_setup(&d1, &tbus, "one", "a");
	tdrv_setup(&d2, &tbus, "two", "*");
	cr_assert_eq(ih_driver_register(w, &d1.drv), 0);
	cr_assert_eq(ih_driver_register(w, &d2.drv), 0);
	dev = tdev_add(w, "a.0");
	cr_expect_eq(ih_device_driver(dev), &d1.drv);
	cr_expect_eq(ih_device_unbind(dev), 0);
	cr_expect_null(ih_device_driver(dev));
	cr_expect_eq(ih_device_bind(dev, &d2.drv), 0);
	cr_expect_eq(ih_device_driver(dev), &d2.drv);
	cr_expect_eq(ih_dev_get_drvdata(dev), &d2);
	/* Unregistering the unbound driver leaves the device alone. */
	cr_expect_eq(ih_driver_unregister(w, &d1.drv), 0);
	cr_expect_eq(ih_device_driver(dev), &d2.drv);
	cr_expect_eq(d1.removes, 1);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(d2.removes, 1);
	cr_expect_eq(ih_driver_unregister(w, &d2.drv), 0);
}

Test(bind, explicit_bind_of_a_non_matching_driver_is_enodev_without_warning)
{
	struct ih_device *dev = tdev_add(w, "b.0");
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_expect_eq(ih_device_bind(dev, &d.drv), -ENODEV);
	cr_expect_eq(d.probes, 0);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(bind, driver_override_restricts_matching_to_one_driver)
{
	struct tdrv any, vfio;
	struct ih_device *dev = tdev_new(w, &tbus, "a.0", NULL, NULL);

	tdrv_setup(&any, &tbus, "any", "*");
	tdrv_setup(&vfio, &tbus, "vfio", NULL);
	vfio.drv.driver_managed_dma = true;
	cr_assert_eq(ih_device_set_driver_override(dev, "vfio"), 0);
	cr_assert_eq(ih_driver_register(w, &any.drv), 0);
	cr_assert_eq(ih_device_add(dev), 0);
	cr_expect_null(ih_device_driver(dev), "the override excludes 'any'");
	cr_assert_eq(ih_driver_register(w, &vfio.drv), 0);
	cr_expect_eq(ih_device_driver(dev), &vfio.drv);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &vfio.drv), 0);
	cr_expect_eq(ih_driver_unregister(w, &any.drv), 0);
}

Test(bind, device_attach_reports_bound_state)
{
	struct ih_device *dev = tdev_add(w, "a.0");
	struct tdrv d;

	cr_expect_eq(ih_device_attach(dev), 0, "no driver yet");
	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_expect_eq(ih_device_attach(dev), 1, "already bound by registration");
	cr_expect_eq(d.probes, 1);
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

/* ---- Platform bus dma hooks and driver_managed_dma ------------------------------------ */

static struct {
	unsigned int fw, use, unuse, deconf;
	int use_ret;
} hk;

static int hk_fw(struct ih_device *dev, void *opaque)
{
	cr_expect_eq(opaque, &hk);
	hk.fw++;
	return 0;
}

static int hk_use(struct ih_device *dev, void *opaque)
{
	hk.use++;
	return hk.use_ret;
}

static void hk_unuse(struct ih_device *dev, void *opaque)
{
	hk.unuse++;
}

static void hk_deconf(struct ih_device *dev, void *opaque)
{
	hk.deconf++;
}

static const struct ih_base_dma_hooks hooks = {
	.fw_configure = hk_fw,
	.use_default_domain = hk_use,
	.unuse_default_domain = hk_unuse,
	.fw_deconfigure = hk_deconf,
};

static const char *const pl011_ids[] = { "arm,pl011", NULL };

Test(bind, platform_bus_claims_dma_api_ownership_for_a_normal_driver)
{
	struct ih_platform_device *pdev;
	struct tdrv d;

	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	cr_assert_eq(ih_base_set_dma_hooks(w, &hooks, &hk), 0);
	tdrv_setup(&d, &ih_platform_bus_type, "pl011", NULL);
	d.drv.id_table = pl011_ids;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_assert_eq(ih_platform_device_alloc(w, "uart0", "arm,pl011", NULL, &pdev), 0);
	cr_assert_eq(ih_device_add(&pdev->dev), 0);
	cr_expect_eq(ih_device_driver(&pdev->dev), &d.drv);
	cr_expect_eq(hk.fw, 1);
	cr_expect_eq(hk.use, 1);
	cr_expect_eq(hk.unuse, 0);
	cr_expect_eq(ih_device_unbind(&pdev->dev), 0);
	cr_expect_eq(hk.unuse, 1, "unbind releases the claim");
	cr_expect_eq(ih_device_unregister(&pdev->dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(bind, platform_bus_skips_ownership_for_driver_managed_dma)
{
	struct ih_platform_device *pdev;
	struct tdrv d;

	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	cr_assert_eq(ih_base_set_dma_hooks(w, &hooks, &hk), 0);
	tdrv_setup(&d, &ih_platform_bus_type, "vfio-platform", NULL);
	d.drv.driver_managed_dma = true;
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	/* Matched by name (no compatible table). */
	cr_assert_eq(ih_platform_device_alloc(w, "vfio-platform", NULL, NULL, &pdev), 0);
	cr_assert_eq(ih_device_add(&pdev->dev), 0);
	cr_expect_eq(ih_device_driver(&pdev->dev), &d.drv);
	cr_expect_eq(hk.fw, 1, "firmware set-up still runs");
	cr_expect_eq(hk.use, 0);
	cr_expect_eq(ih_device_unregister(&pdev->dev), 0);
	cr_expect_eq(hk.unuse, 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(bind, platform_ownership_claim_failure_fails_probe_and_undoes_firmware)
{
	struct ih_platform_device *pdev;
	struct tdrv d;

	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	cr_assert_eq(ih_base_set_dma_hooks(w, &hooks, &hk), 0);
	hk.use_ret = -EBUSY;
	tdrv_setup(&d, &ih_platform_bus_type, "uart0", NULL);
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_assert_eq(ih_platform_device_alloc(w, "uart0", NULL, NULL, &pdev), 0);
	cr_assert_eq(ih_device_add(&pdev->dev), 0);
	cr_expect_null(ih_device_driver(&pdev->dev));
	cr_expect_eq(d.probes, 0);
	cr_expect_eq(hk.use, 1);
	cr_expect_eq(hk.deconf, 1);
	cr_expect_eq(hk.unuse, 0, "a failed claim is not released");
	cr_expect_eq(ih_device_unregister(&pdev->dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
}

Test(bind, platform_dma_configure_without_driver_does_firmware_only)
{
	struct ih_platform_device *pdev;

	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	cr_assert_eq(ih_base_set_dma_hooks(w, &hooks, &hk), 0);
	cr_assert_eq(ih_platform_device_alloc(w, "dev0", NULL, NULL, &pdev), 0);
	cr_assert_eq(ih_device_add(&pdev->dev), 0);
	/* What the IOMMU layer's probe path does for a device with no driver yet. */
	cr_expect_eq(ih_platform_bus_type.dma_configure(&pdev->dev), 0);
	cr_expect_eq(hk.fw, 1);
	cr_expect_eq(hk.use, 0);
	ih_platform_bus_type.dma_cleanup(&pdev->dev);
	cr_expect_eq(hk.unuse, 0);
	cr_expect_eq(ih_device_unregister(&pdev->dev), 0);
}

/* ---- Schedule points: a cooperative scheduler relies on their names and order ----------- */

static char sched_log[1024];

static void sched_record(void *opaque, const char *name)
{
	strcat(sched_log, name);
	strcat(sched_log, ";");
}

Test(bind, schedule_points_mark_the_racy_windows_in_order)
{
	struct ih_device *dev;
	struct tdrv d;

	tdrv_setup(&d, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	ih_sched_set_hook(w, sched_record, NULL);
	dev = tdev_add(w, "a.0");
	cr_expect_str_eq(sched_log, "base:add-before-attach;base:probe-after-set-driver;"
				    "base:probe-before-probe;");
	sched_log[0] = 0;
	cr_expect_eq(ih_device_unbind(dev), 0);
	cr_expect_str_eq(sched_log, "base:unbind-before-remove;base:unbind-before-dma-cleanup;");
	sched_log[0] = 0;
	d.probe_ret = -EIO;
	cr_expect_eq(ih_device_bind(dev, &d.drv), -EIO);
	cr_expect_str_eq(sched_log, "base:probe-after-set-driver;base:probe-before-probe;"
				    "base:probe-failed-before-dma-cleanup;");
	sched_log[0] = 0;
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_str_eq(sched_log, "base:del-after-kill;");
	sched_log[0] = 0;
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
	cr_expect_str_eq(sched_log, "base:driver-unregister-before-detach;");
	ih_sched_set_hook(w, NULL, NULL);
}
