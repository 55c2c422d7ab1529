/* SPDX-License-Identifier: MIT */
/*
 * The one-device DMA fixture of test_dma.c and test_dma_fixed.c: a world with two CPUs,
 * the test IOMMU serving dev0 (StreamID 0x10) and dev1 (0x11) from firmware, and start()
 * binding dev0 to a DMA-API driver in default domains of a given type. Each test program
 * includes it once (its state is file-static).
 */
#ifndef IH_TESTS_DMA_FIXTURE_H
#define IH_TESTS_DMA_FIXTURE_H

#include <criterion/criterion.h>
#include <string.h>

#include <ih/check.h>
#include <ih/dma.h>
#include <ih/world.h>
#include "lib/test_iommu.h"

static struct ih_world *w;
static struct tiommu t;
static struct tfw fw;
static struct tfw_entry entries[2];
static struct tdriver drv;
static bool drv_registered;
static struct ih_device *dev;
static bool expect_clean; /* no report at all in this test */

static void setup(void)
{
	struct ih_world_config cfg;

	ih_world_config_init(&cfg);
	cfg.ncpus = 2;
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	memset(&t, 0, sizeof(t));
	entries[0] = (struct tfw_entry){"dev0", tiommu_fwnode(&t), 0x10};
	entries[1] = (struct tfw_entry){"dev1", tiommu_fwnode(&t), 0x11};
	fw = (struct tfw){.entries = entries, .count = 2};
	tfw_install(w, &fw);
	cr_assert_eq(ih_bus_register(w, &ih_platform_bus_type), 0);
	dev = NULL;
	drv_registered = false;
	expect_clean = true;
}

/* The IOMMU, a DMA-API driver, and dev0 bound to it, in default domains of @type. */
static void start(enum ih_domain_type type)
{
	cr_assert_eq(ih_iommu_set_default_domain_type(w, type), 0);
	cr_assert_eq(tiommu_register(w, &t), 0);
	tdriver_init(&drv, "tdrv", false);
	cr_assert_eq(ih_driver_register(w, &drv.drv), 0);
	drv_registered = true;
	dev = tplat_add(w, "dev0");
	cr_assert_not_null(dev);
	cr_assert_eq(ih_device_driver(dev), &drv.drv);
}

static void teardown(void)
{
	if (dev)
		ih_device_unregister(dev);
	if (drv_registered)
		ih_driver_unregister(w, &drv.drv);
	if (t.w)
		ih_iommu_device_unregister(w, &t.iommu);
	if (expect_clean)
		cr_expect_eq(ih_report_total(w), 0, "a checker reported on a correct run");
	cr_expect_eq(ih_world_destroy(w), 0, "model memory leaked");
}

static struct ih_iommu_domain *dom(void)
{
	return ih_iommu_get_dma_domain(dev);
}

#endif /* IH_TESTS_DMA_FIXTURE_H */
