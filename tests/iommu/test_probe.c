// SPDX-License-Identifier: MIT
/* fwspec and both probe flows: who parses firmware when, and what the device ends up with. */
#include <criterion/criterion.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/world.h>
#include "lib/test_iommu.h"

static struct ih_world *w;
static struct tiommu t;
static struct tfw fw;
static struct tfw_entry entries[4];

static void setup(void)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
	memset(&t, 0, sizeof(t));
	memset(&fw, 0, sizeof(fw));
	entries[0] = (struct tfw_entry){ "dev0", tiommu_fwnode(&t), 0x10 };
	entries[1] = (struct tfw_entry){ "dev1", tiommu_fwnode(&t), 0x11 };
	entries[2] = (struct tfw_entry){ "dev1", tiommu_fwnode(&t), 0x12 };
	fw.entries = entries;
	fw.count = 3;
	tfw_install(w, &fw);
}

static void teardown(void)
{
	cr_expect_eq(ih_world_destroy(w), 0, "model memory leaked");
}

TestSuite(iommu_probe, .init = setup, .fini = teardown);

/* Put everything away in reverse order so the world ends with no model memory. */
static void cleanup(struct ih_device **devs, size_t n, struct tdriver *d)
{
	for (size_t i = 0; i < n; i++)
		if (devs[i])
			ih_device_unregister(devs[i]);
	if (d)
		ih_driver_unregister(w, &d->drv);
	ih_iommu_device_unregister(w, &t.iommu);
}

Test(iommu_probe, probe_path_parses_at_device_add_when_iommu_is_there)
{
	struct ih_device *dev;

	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "dev0");
	cr_assert_not_null(dev);
	/* ADD_DEVICE -> probe -> bus dma_configure (no driver) -> of_xlate. */
	cr_expect_eq(t.xlates, 1);
	cr_expect_eq(t.probes, 1);
	cr_assert_not_null(ih_dev_iommu_fwspec_get(dev));
	cr_expect_eq(ih_dev_iommu_fwspec_get(dev)->num_ids, 1);
	cr_expect_eq(ih_dev_iommu_fwspec_get(dev)->ids[0], 0x10);
	cr_expect_not_null(dev->iommu_group);
	cleanup(&dev, 1, NULL);
	cr_expect_eq(t.releases, 1);
	cr_expect_eq(t.domains_alive, 0);
}

Test(iommu_probe, probe_path_registration_parses_waiting_devices)
{
	struct ih_device *devs[2];

	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	devs[0] = tplat_add(w, "dev0");
	devs[1] = tplat_add(w, "dev1");
	cr_assert(devs[0] && devs[1]);
	cr_expect_eq(t.xlates, 0, "no IOMMU yet: nothing to translate");
	cr_expect_null(devs[0]->iommu, "a failed probe leaves no dev->iommu behind");
	cr_assert_eq(tiommu_register(w, &t), 0);
	/* Registration walks the bus and parses firmware for both, with no driver bound. */
	cr_expect_eq(t.xlates, 3);
	cr_expect_eq(t.probes, 2);
	cr_expect_eq(ih_dev_iommu_fwspec_get(devs[1])->num_ids, 2);
	cr_expect_eq(ih_dev_iommu_fwspec_get(devs[1])->ids[1], 0x12);
	struct ih_iommu_stats st;

	ih_iommu_get_stats(w, &st);
	cr_expect_eq(st.late_probes_at_bind, 0);
	cleanup(devs, 2, NULL);
}

Test(iommu_probe, bind_flow_parses_only_at_driver_bind)
{
	struct tdriver d;
	struct ih_device *dev;
	struct ih_iommu_group_info info;

	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_BIND);
	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "dev0");
	cr_assert_not_null(dev);
	cr_expect_eq(t.xlates, 0, "bind flow: add does not parse firmware");
	cr_expect_null(dev->iommu_group);

	tdriver_init(&d, "tdrv", false);
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_expect_eq(d.probes, 1);
	cr_expect_eq(t.xlates, 1, "dma_configure parsed firmware at bind");
	cr_assert_not_null(dev->iommu_group);
	ih_iommu_group_get_info(dev->iommu_group, &info);
	cr_expect_eq(info.owner_cnt, 1, "the bound DMA-API driver owns the group");
	cr_expect(info.in_default_domain);
	cr_expect_eq(info.default_type, IH_DOMAIN_DMA);

	cr_assert_eq(ih_device_unbind(dev), 0);
	ih_iommu_group_get_info(dev->iommu_group, &info);
	cr_expect_eq(info.owner_cnt, 0, "dma_cleanup dropped the claim");
	cleanup(&dev, 1, &d);
	cr_expect_eq(ih_iommu_invariant_violations(w), 0);
}

Test(iommu_probe, bind_flow_defers_until_iommu_registers)
{
	struct tdriver d;
	struct ih_device *dev;

	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_BIND);
	tdriver_init(&d, "tdrv", false);
	dev = tplat_add(w, "dev0");
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_expect_null(ih_device_driver(dev), "the IOMMU is missing: probe deferred");
	cr_expect_eq(d.probes, 0, "dma_configure deferred before the driver's probe");
	cr_expect(ih_device_is_deferred(dev));
	cr_assert_eq(tiommu_register(w, &t), 0);
	cr_expect_eq(ih_device_driver(dev), &d.drv, "registration retried deferred probes");
	cr_expect_eq(d.probes, 1);
	cr_expect_not_null(dev->iommu_group);
	cleanup(&dev, 1, &d);
}

Test(iommu_probe, probe_path_counts_late_probe_at_bind)
{
	struct tdriver d;
	struct ih_device *dev;
	struct ih_iommu_stats st;

	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	t.fail_probe = "dev0";
	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "dev0");
	cr_expect_null(dev->iommu_group, "probe_device failed at add");
	t.fail_probe = NULL;
	tdriver_init(&d, "tdrv", false);
	cr_assert_eq(ih_driver_register(w, &d.drv), 0);
	cr_expect_not_null(dev->iommu_group);
	ih_iommu_get_stats(w, &st);
	cr_expect_eq(st.late_probes_at_bind, 1);
	cr_expect_eq(st.probe_failures, 1);
	cleanup(&dev, 1, &d);
}

Test(iommu_probe, device_without_iommu_is_left_alone)
{
	struct ih_device *dev;

	cr_assert_eq(tiommu_register(w, &t), 0);
	dev = tplat_add(w, "lonely");
	cr_expect_null(dev->iommu);
	cr_expect_null(dev->iommu_group);
	cr_expect_eq(ih_iommu_probe_device(dev), -ENODEV);
	cleanup(&dev, 1, NULL);
}

Test(iommu_probe, fwspec_for_two_iommus_is_rejected)
{
	struct tiommu t2 = { 0 };
	struct ih_device *dev;

	entries[3] = (struct tfw_entry){ "dev0", tiommu_fwnode(&t2), 0x20 };
	fw.count = 4;
	cr_assert_eq(tiommu_register(w, &t), 0);
	cr_assert_eq(tiommu_register(w, &t2), 0);
	dev = tplat_add(w, "dev0");
	cr_expect_null(dev->iommu_group, "one fwspec cannot name two instances");
	cr_expect_null(dev->iommu, "the half-built fwspec was freed");
	ih_device_unregister(dev);
	ih_iommu_device_unregister(w, &t2.iommu);
	ih_iommu_device_unregister(w, &t.iommu);
}

Test(iommu_probe, register_twice_is_eexist)
{
	cr_assert_eq(tiommu_register(w, &t), 0);
	cr_expect_eq(ih_iommu_device_register(w, &t.iommu, tiommu_ops(), tiommu_fwnode(&t), NULL),
		     -EEXIST);
	cr_expect_eq(ih_warn_count(w), 1);
	ih_iommu_device_unregister(w, &t.iommu);
}

Test(iommu_probe, fwspec_add_ids_grows_by_reallocation)
{
	struct ih_device *dev;
	u32 ids[3] = { 1, 2, 3 };

	cr_assert_eq(tiommu_register(w, &t), 0);
	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_BIND);
	dev = tplat_add(w, "other");
	cr_assert_eq(ih_iommu_fwspec_init(dev, tiommu_fwnode(&t)), 0);
	struct ih_iommu_fwspec *before = ih_dev_iommu_fwspec_get(dev);

	cr_assert_eq(ih_iommu_fwspec_add_ids(dev, ids, 1), 0);
	cr_expect_eq(ih_dev_iommu_fwspec_get(dev), before, "one ID fits the first allocation");
	cr_assert_eq(ih_iommu_fwspec_add_ids(dev, ids + 1, 2), 0);
	cr_expect_eq(ih_dev_iommu_fwspec_get(dev)->num_ids, 3);
	cr_expect_eq(ih_dev_iommu_fwspec_get(dev)->ids[2], 3);
	cr_expect_eq(ih_iommu_fwspec_init(dev, tiommu_fwnode(&t)), 0, "same IOMMU again is fine");
	cr_expect_eq(ih_iommu_fwspec_init(dev, &fw), -EPROBE_DEFER, "unknown IOMMU defers");
	ih_iommu_release_device(dev);
	cleanup(&dev, 1, NULL);
}

/* Every allocation site on the probe path fails once: a clean error, no leak. */
Test(iommu_probe, alloc_failure_sweep_leaves_no_leak)
{
	struct ih_alloc_site_stat sites[64];
	size_t nsites;
	struct ih_world *v;
	struct tiommu tv;

	/* Pass 1: learn the sites of one full bring-up and teardown. */
	cr_assert_eq(ih_world_create(NULL, &v), 0);
	{
		struct tfw fv = { .entries = entries, .count = 1 };
		struct ih_device *dev;

		memset(&tv, 0, sizeof(tv));
		entries[0].iommu_fwnode = tiommu_fwnode(&tv);
		tfw_install(v, &fv);
		cr_assert_eq(tiommu_register(v, &tv), 0);
		dev = tplat_add(v, "dev0");
		cr_assert_not_null(dev->iommu_group);
		ih_device_unregister(dev);
		ih_iommu_device_unregister(v, &tv.iommu);
		nsites = ih_alloc_sites(v, sites, ARRAY_SIZE(sites));
		cr_assert_eq(ih_world_destroy(v), 0);
	}
	cr_assert(nsites > 3 && nsites <= ARRAY_SIZE(sites));
	/* Pass 2: fail each site once. */
	for (size_t i = 0; i < nsites; i++) {
		struct tfw fv = { .entries = entries, .count = 1 };
		struct ih_device *dev;

		cr_assert_eq(ih_world_create(NULL, &v), 0);
		memset(&tv, 0, sizeof(tv));
		entries[0].iommu_fwnode = tiommu_fwnode(&tv);
		cr_assert_eq(ih_fault_fail_site(v, sites[i].site, 1), 0);
		tfw_install(v, &fv);
		if (tiommu_register(v, &tv) == 0) {
			dev = tplat_add(v, "dev0");
			if (dev) {
				ih_device_unregister(dev);
			}
			ih_iommu_device_unregister(v, &tv.iommu);
		}
		cr_expect_eq(ih_world_destroy(v), 0, "leak with site %s failing", sites[i].site);
	}
}
