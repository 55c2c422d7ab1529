// SPDX-License-Identifier: MIT
/* Wrong API use: each case returns its errno, counts one warning and leaves the world usable. */
#include "base/base_test.h"

static struct ih_world *w;
static struct tdrv drv;

static void setup(void)
{
	w = tworld(IH_EXEC_SEQUENTIAL);
	tdrv_setup(&drv, &tbus, "drv-a", "a");
	cr_assert_eq(ih_driver_register(w, &drv.drv), 0);
}

/* After the misuse, a normal life cycle must still work and nothing may leak. */
static void teardown(void)
{
	unsigned long warns = ih_warn_count(w);
	struct ih_device *dev = tdev_add(w, "a.99");

	cr_expect_eq(ih_device_driver(dev), &drv.drv, "the world no longer binds");
	cr_expect_eq(ih_device_unregister(dev), 0);
	cr_expect_eq(ih_driver_unregister(w, &drv.drv), 0);
	cr_expect_eq(ih_warn_count(w), warns, "the normal life cycle warned");
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(misuse, .init = setup, .fini = teardown);

#define expect_warned(n) cr_expect_eq(ih_warn_count(w), (n), "warnings %lu, want %d", \
				      ih_warn_count(w), (n))

Test(misuse, double_add_is_eexist)
{
	struct ih_device *dev = tdev_add(w, "a.0");

	cr_expect_eq(ih_device_add(dev), -EEXIST);
	expect_warned(1);
	cr_expect_eq(ih_device_refcount(dev), 2, "the failed add took no reference");
	cr_expect_eq(ih_device_driver(dev), &drv.drv);
	cr_expect_eq(drv.probes, 1, "no second probe");
	cr_expect_eq(ih_device_unregister(dev), 0);
}

Test(misuse, add_after_del_is_einval)
{
	struct ih_device *dev = tdev_add(w, "a.0");

	cr_expect_eq(ih_device_del(dev), 0);
	cr_expect_eq(ih_device_add(dev), -EINVAL);
	expect_warned(1);
	cr_expect_not(ih_device_is_added(dev));
	ih_device_put(dev);
}

Test(misuse, del_of_a_device_never_added_is_enodev)
{
	struct ih_device *dev = tdev_new(w, &tbus, "a.0", NULL, NULL);

	cr_expect_eq(ih_device_del(dev), -ENODEV);
	expect_warned(1);
	cr_expect_eq(ih_device_unregister(dev), -ENODEV, "unregister does not put on failure");
	expect_warned(2);
	ih_device_put(dev);
}

Test(misuse, double_del_is_enodev)
{
	struct ih_device *dev = tdev_add(w, "a.0");

	cr_expect_eq(ih_device_del(dev), 0);
	cr_expect_eq(ih_device_del(dev), -ENODEV);
	expect_warned(1);
	cr_expect_eq(ih_device_refcount(dev), 1);
	ih_device_put(dev);
}

Test(misuse, null_device_calls_are_einval)
{
	cr_expect_eq(ih_device_add(NULL), -EINVAL);
	cr_expect_eq(ih_device_del(NULL), -EINVAL);
	cr_expect_eq(ih_device_unregister(NULL), -EINVAL);
	cr_expect_eq(ih_device_bind(NULL, &drv.drv), -EINVAL);
	cr_expect_eq(ih_device_unbind(NULL), -EINVAL);
	cr_expect_eq(ih_device_attach(NULL), -EINVAL);
	cr_expect_eq(ih_device_set_driver_override(NULL, "x"), -EINVAL);
	cr_expect_null(ih_device_get(NULL));
	ih_device_put(NULL);
	/* No device, no world to count in: these warn on stderr only. */
	expect_warned(0);
}

Test(misuse, never_initialised_device_is_einval)
{
	struct ih_device zero;

	memset(&zero, 0, sizeof(zero));
	cr_expect_eq(ih_device_add(&zero), -EINVAL);
	cr_expect_eq(ih_device_del(&zero), -EINVAL);
	cr_expect_eq(ih_device_unbind(&zero), -EINVAL);
}

Test(misuse, init_with_null_or_bad_name_fails)
{
	struct ih_device dev;
	char longname[IH_DEV_NAME_MAX + 1];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[IH_DEV_NAME_MAX] = 0;
	cr_expect_eq(ih_device_init(w, NULL, &tbus, NULL, "a", NULL), -EINVAL);
	cr_expect_eq(ih_device_init(w, &dev, NULL, NULL, "a", NULL), -EINVAL);
	cr_expect_eq(ih_device_init(w, &dev, &tbus, NULL, NULL, NULL), -EINVAL);
	cr_expect_eq(ih_device_init(w, &dev, &tbus, NULL, "", NULL), -EINVAL);
	cr_expect_eq(ih_device_init(w, &dev, &tbus, NULL, longname, NULL), -ENAMETOOLONG);
	expect_warned(5);
}

Test(misuse, add_on_an_unregistered_bus_is_enodev)
{
	struct ih_device *dev = tdev_new(w, &tbus_nodma, "a.0", NULL, NULL);

	cr_expect_eq(ih_device_add(dev), -ENODEV);
	expect_warned(1);
	/* The failed add left it initialised: once the bus exists, it adds fine. */
	cr_assert_eq(ih_bus_register(w, &tbus_nodma), 0);
	cr_expect_eq(ih_device_add(dev), 0);
	cr_expect_eq(ih_device_unregister(dev), 0);
}

Test(misuse, add_below_a_parent_not_added_is_enodev)
{
	struct ih_device *parent = tdev_new(w, &tbus, "p.0", NULL, NULL);
	struct ih_device *child = tdev_new(w, &tbus, "c.0", parent, NULL);

	cr_expect_eq(ih_device_add(child), -ENODEV);
	expect_warned(1);
	cr_expect_eq(ih_device_refcount(parent), 1, "no reference leaked on the parent");
	ih_device_put(child);
	ih_device_put(parent);
}

Test(misuse, unbind_of_an_unbound_device_is_enodev)
{
	struct ih_device *dev = tdev_add(w, "b.0");

	cr_expect_eq(ih_device_unbind(dev), -ENODEV);
	expect_warned(1);
	cr_expect_eq(ih_device_unregister(dev), 0);
}

Test(misuse, bind_to_a_bound_device_is_ebusy)
{
	struct ih_device *dev = tdev_add(w, "a.0");

	cr_expect_eq(ih_device_bind(dev, &drv.drv), -EBUSY);
	expect_warned(1);
	cr_expect_eq(drv.probes, 1);
	cr_expect_eq(ih_device_unregister(dev), 0);
}

Test(misuse, bind_with_bad_arguments_fails_without_probing)
{
	struct ih_device *added = tdev_add(w, "b.0");
	struct ih_device *loose = tdev_new(w, &tbus, "a.1", NULL, NULL);
	struct tdrv other, unreg;

	cr_assert_eq(ih_bus_register(w, &tbus_nodma), 0);
	tdrv_setup(&other, &tbus_nodma, "other", "*");
	tdrv_setup(&unreg, &tbus, "unreg", "*");
	cr_expect_eq(ih_device_bind(added, NULL), -EINVAL);
	cr_expect_eq(ih_device_bind(added, &other.drv), -EINVAL, "driver of another bus");
	cr_expect_eq(ih_device_bind(loose, &drv.drv), -ENODEV, "device not added");
	cr_expect_eq(ih_device_bind(added, &unreg.drv), -ENODEV, "driver not registered");
	expect_warned(4);
	cr_expect_eq(unreg.probes + other.probes + drv.probes, 0);
	cr_expect_eq(ih_device_unregister(added), 0);
	ih_device_put(loose);
}

Test(misuse, driver_registered_twice_is_ebusy)
{
	struct tdrv same_name;

	cr_expect_eq(ih_driver_register(w, &drv.drv), -EBUSY);
	tdrv_setup(&same_name, &tbus, "drv-a", "*");
	cr_expect_eq(ih_driver_register(w, &same_name.drv), -EBUSY);
	expect_warned(2);
	/* Neither attempt disturbed the registered driver. */
	cr_expect_eq(ih_driver_unregister(w, &same_name.drv), -ENOENT);
	expect_warned(3);
}

Test(misuse, driver_register_with_bad_arguments_fails)
{
	struct tdrv d;

	cr_expect_eq(ih_driver_register(w, NULL), -EINVAL);
	cr_expect_eq(ih_driver_register(NULL, &drv.drv), -EINVAL);
	tdrv_setup(&d, &tbus, NULL, "*");
	cr_expect_eq(ih_driver_register(w, &d.drv), -EINVAL);
	tdrv_setup(&d, NULL, "nobus", "*");
	cr_expect_eq(ih_driver_register(w, &d.drv), -EINVAL);
	tdrv_setup(&d, &tbus_nodma, "unregistered-bus", "*");
	cr_expect_eq(ih_driver_register(w, &d.drv), -ENODEV);
	/* The NULL-world call warns on stderr only. */
	expect_warned(4);
}

Test(misuse, driver_unregister_of_unregistered_driver_is_enoent)
{
	struct tdrv d;

	tdrv_setup(&d, &tbus, "never", "*");
	cr_expect_eq(ih_driver_unregister(w, &d.drv), -ENOENT);
	cr_expect_eq(ih_driver_unregister(w, NULL), -EINVAL);
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), 0);
	cr_expect_eq(ih_driver_unregister(w, &d.drv), -ENOENT, "unregistered twice");
	expect_warned(3);
}

Test(misuse, bus_registration_errors)
{
	const struct ih_bus_type same_name = { .name = "tbus", .match = tbus_match };
	const struct ih_bus_type no_match = { .name = "nomatch" };

	cr_expect_eq(ih_bus_register(w, &tbus), -EBUSY);
	cr_expect_eq(ih_bus_register(w, &same_name), -EBUSY);
	cr_expect_eq(ih_bus_register(w, &no_match), -EINVAL);
	cr_expect_eq(ih_bus_register(w, NULL), -EINVAL);
	cr_expect_eq(ih_bus_unregister(w, &tbus_nodma), -ENOENT);
	cr_expect_eq(ih_bus_unregister(w, NULL), -EINVAL);
	cr_expect_eq(ih_bus_unregister(w, &tbus), -EBUSY, "a driver is still on it");
	expect_warned(7);
	cr_expect(ih_bus_registered(w, &tbus));
}

Test(misuse, notifier_errors)
{
	struct tnb nb;
	struct ih_bus_notifier empty = { 0 };

	tnb_setup(&nb, NULL, 0, 1);
	cr_expect_eq(ih_bus_register_notifier(w, NULL), -EINVAL);
	cr_expect_eq(ih_bus_register_notifier(w, &empty), -EINVAL);
	cr_expect_eq(ih_bus_unregister_notifier(w, &nb.nb), -ENOENT);
	cr_assert_eq(ih_bus_register_notifier(w, &nb.nb), 0);
	cr_expect_eq(ih_bus_register_notifier(w, &nb.nb), -EBUSY);
	cr_expect_eq(ih_bus_unregister_notifier(w, &nb.nb), 0);
	cr_expect_eq(ih_bus_unregister_notifier(w, &nb.nb), -ENOENT);
	cr_expect_eq(ih_bus_unregister_notifier(w, NULL), -EINVAL);
	expect_warned(6);
}

Test(misuse, putting_the_bus_reference_is_refused)
{
	unsigned int released = 0;
	struct ih_device *dev = tdev_new(w, &tbus, "a.0", NULL, &released);

	cr_assert_eq(ih_device_add(dev), 0);
	ih_device_put(dev); /* the caller's own reference: fine */
	cr_expect_eq(ih_device_refcount(dev), 1);
	ih_device_put(dev); /* one too many: it belongs to the bus */
	expect_warned(1);
	cr_expect_eq(ih_device_refcount(dev), 1);
	cr_expect_eq(released, 0);
	cr_expect_eq(ih_device_driver(dev), &drv.drv, "still bound and usable");
	/* del drops the bus's reference and with it the last one. */
	cr_expect_eq(ih_device_del(dev), 0);
	cr_expect_eq(released, 1);
}

Test(misuse, put_below_zero_is_refused)
{
	struct ih_device dev; /* caller-managed memory: no release callback */

	cr_assert_eq(ih_device_init(w, &dev, &tbus, NULL, "s.0", NULL), 0);
	ih_device_put(&dev);
	cr_expect_eq(ih_device_refcount(&dev), 0);
	ih_device_put(&dev);
	expect_warned(1);
	cr_expect_eq(ih_device_refcount(&dev), 0);
}

Test(misuse, long_driver_override_is_enametoolong)
{
	struct ih_device *dev = tdev_add(w, "b.0");
	char longname[IH_DEV_NAME_MAX + 1];

	memset(longname, 'x', sizeof(longname) - 1);
	longname[IH_DEV_NAME_MAX] = 0;
	cr_expect_eq(ih_device_set_driver_override(dev, longname), -ENAMETOOLONG);
	expect_warned(1);
	cr_expect_str_eq(dev->driver_override, "");
	cr_expect_eq(ih_device_unregister(dev), 0);
}
