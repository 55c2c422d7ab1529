// SPDX-License-Identifier: MIT
/* Device life cycle: add, del, names, parents, references and release. */
#include "base/base_test.h"

static struct ih_world *w;
/* Warnings a test provokes on purpose; every other use must stay silent. */
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

TestSuite(device, .init = setup, .fini = teardown);

Test(device, add_puts_device_on_bus_and_del_takes_it_off)
{
	unsigned int released = 0;
	struct ih_device *dev = tdev_new(w, &tbus, "a.0", NULL, &released), *found;

	cr_expect_not(ih_device_is_added(dev));
	cr_expect_null(ih_bus_find_device_by_name(w, &tbus, "a.0"));
	cr_assert_eq(ih_device_add(dev), 0);
	cr_expect(ih_device_is_added(dev));
	/* The caller's reference plus the bus's. */
	cr_expect_eq(ih_device_refcount(dev), 2);
	found = ih_bus_find_device_by_name(w, &tbus, "a.0");
	cr_expect_eq(found, dev);
	cr_expect_eq(ih_device_refcount(dev), 3);
	ih_device_put(found);

	cr_assert_eq(ih_device_del(dev), 0);
	cr_expect_not(ih_device_is_added(dev));
	cr_expect_null(ih_bus_find_device_by_name(w, &tbus, "a.0"));
	cr_expect_eq(ih_device_refcount(dev), 1);
	cr_expect_eq(released, 0);
	ih_device_put(dev);
	cr_expect_eq(released, 1, "the last put must call release exactly once");
}

Test(device, release_waits_for_the_last_reference)
{
	unsigned int released = 0;
	struct ih_device *dev = tdev_new(w, &tbus, "a.0", NULL, &released);

	cr_assert_eq(ih_device_add(dev), 0);
	ih_device_get(dev);
	cr_assert_eq(ih_device_unregister(dev), 0);
	/* unregister dropped the bus's and the caller's reference; ours keeps it alive. */
	cr_expect_eq(ih_device_refcount(dev), 1);
	cr_expect_eq(released, 0);
	ih_device_put(dev);
	cr_expect_eq(released, 1);
}

Test(device, never_added_device_is_released_by_its_put)
{
	unsigned int released = 0;
	struct ih_device *dev = tdev_new(w, &tbus, "a.0", NULL, &released);

	ih_device_put(dev);
	cr_expect_eq(released, 1);
}

Test(device, same_name_on_one_bus_is_eexist_but_fine_on_another_bus)
{
	struct ih_device *a = tdev_add(w, "a.0");
	struct ih_device *b = tdev_new(w, &tbus, "a.0", NULL, NULL);
	struct ih_device *c;

	cr_assert_eq(ih_bus_register(w, &tbus_nodma), 0);
	c = tdev_new(w, &tbus_nodma, "a.0", NULL, NULL);
	cr_expect_eq(ih_device_add(b), -EEXIST);
	cr_expect_eq(ih_warn_count(w), 1, "a duplicate name is wrong API use");
	cr_expect_not(ih_device_is_added(b));
	cr_expect_eq(ih_device_add(c), 0);
	ih_device_put(b);
	cr_expect_eq(ih_device_unregister(a), 0);
	cr_expect_eq(ih_device_unregister(c), 0);
	cr_expect_eq(ih_bus_unregister(w, &tbus_nodma), 0);
	expected_warns = 1;
}

Test(device, child_holds_a_reference_on_its_parent_until_del)
{
	unsigned int parent_released = 0;
	struct ih_device *parent = tdev_new(w, &tbus, "p.0", NULL, &parent_released);
	struct ih_device *child;

	cr_assert_eq(ih_device_add(parent), 0);
	child = tdev_new(w, &tbus, "c.0", parent, NULL);
	cr_assert_eq(ih_device_add(child), 0);
	/* caller + bus + child */
	cr_expect_eq(ih_device_refcount(parent), 3);
	cr_expect_eq(ih_device_unregister(parent), 0);
	cr_expect_eq(ih_device_refcount(parent), 1, "the child's reference keeps it");
	cr_expect_eq(parent_released, 0);
	cr_expect_eq(child->parent, parent);
	cr_expect_eq(ih_device_unregister(child), 0);
	cr_expect_eq(parent_released, 1, "the child's del dropped the last reference");
}

static int count_dev(struct ih_device *dev, void *data)
{
	char *names = data;

	strcat(names, dev->name);
	strcat(names, ";");
	return 0;
}

static int stop_at_b(struct ih_device *dev, void *data)
{
	return !strcmp(dev->name, "b.0") ? 42 : 0;
}

Test(device, for_each_dev_walks_in_add_order_and_stops_on_nonzero)
{
	struct ih_device *a = tdev_add(w, "a.0");
	struct ih_device *b = tdev_add(w, "b.0");
	struct ih_device *c = tdev_add(w, "c.0");
	char names[64] = "";

	cr_expect_eq(ih_bus_for_each_dev(w, &tbus, count_dev, names), 0);
	cr_expect_str_eq(names, "a.0;b.0;c.0;");
	cr_expect_eq(ih_bus_for_each_dev(w, &tbus, stop_at_b, NULL), 42);
	cr_expect_eq(ih_device_unregister(b), 0);
	names[0] = 0;
	cr_expect_eq(ih_bus_for_each_dev(w, &tbus, count_dev, names), 0);
	cr_expect_str_eq(names, "a.0;c.0;");
	cr_expect_eq(ih_device_unregister(a), 0);
	cr_expect_eq(ih_device_unregister(c), 0);
}

static int del_next(struct ih_device *dev, void *data)
{
	struct ih_device **victim = data;

	/* Deleting a device the walk has not reached yet: the walk must skip it safely. */
	if (*victim && *victim != dev) {
		ih_device_unregister(*victim);
		*victim = NULL;
	}
	return 0;
}

Test(device, walk_survives_deleting_a_later_device)
{
	struct ih_device *a = tdev_add(w, "a.0");
	struct ih_device *b = tdev_add(w, "b.0");
	struct ih_device *victim = b;
	char names[64] = "";

	cr_expect_eq(ih_bus_for_each_dev(w, &tbus, del_next, &victim), 0);
	cr_expect_null(victim);
	cr_expect_eq(ih_bus_for_each_dev(w, &tbus, count_dev, names), 0);
	cr_expect_str_eq(names, "a.0;");
	cr_expect_eq(ih_device_unregister(a), 0);
}

Test(device, bus_with_devices_cannot_be_unregistered)
{
	struct ih_device *a = tdev_add(w, "a.0");

	cr_expect_eq(ih_bus_unregister(w, &tbus), -EBUSY);
	cr_expect_eq(ih_warn_count(w), 1);
	cr_expect_eq(ih_device_unregister(a), 0);
	cr_expect_eq(ih_bus_unregister(w, &tbus), 0);
	cr_expect_not(ih_bus_registered(w, &tbus));
	expected_warns = 1;
}

Test(device, platform_device_alloc_names_and_frees)
{
	struct ih_platform_device *pdev;

	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	cr_assert_eq(ih_platform_device_alloc(w, "uart0", "arm,pl011", NULL, &pdev), 0);
	cr_expect_str_eq(ih_dev_name(&pdev->dev), "uart0");
	cr_expect_str_eq(pdev->compatible, "arm,pl011");
	cr_expect_eq(pdev->dev.bus, &ih_platform_bus_type);
	cr_expect_null(pdev->dev.pci);
	cr_assert_eq(ih_device_add(&pdev->dev), 0);
	cr_expect_eq(ih_device_unregister(&pdev->dev), 0);
}

Test(device, world_teardown_drops_empty_buses_without_leaking)
{
	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	cr_assert_eq(ih_bus_register(w, &ih_pci_bus_type), 0);
	cr_expect(ih_bus_registered(w, &ih_pci_bus_type));
	/* teardown() checks that destroying the world with them registered leaks nothing. */
}

Test(device, world_teardown_reports_a_device_left_on_a_bus)
{
	struct ih_device *a = tdev_add(w, "a.0");

	(void)a;
	/* device, its private data, the bus record: all reported as leaked. */
	cr_expect_gt(ih_world_destroy(w), 0);
	w = tworld(IH_EXEC_SEQUENTIAL);
}
