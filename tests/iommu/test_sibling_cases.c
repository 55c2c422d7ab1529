// SPDX-License-Identifier: MIT
/*
 * Seed 003: group siblings binding and unbinding at once. While `dev` (thread A) unbinds
 * and releases its DMA ownership under the group mutex, its sibling `tmp` (thread B) is in
 * one of four states (bound, binding, unbound, unbinding), each with a DMA-API driver or
 * a driver_managed_dma one that claims the group explicitly. Each case is a script for
 * the cooperative scheduler; afterwards the group's ownership must be exactly what the
 * bound drivers imply, and the invariant check must have stayed silent throughout. Then
 * seeded exploration over the same actors: clean with every switch off, and the
 * ownership-unserialised switch found within a bounded number of seeds.
 */
#include <criterion/criterion.h>

#include <ih/coop.h>
#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/world.h>
#include "lib/scenarios.h"
#include "lib/test_iommu.h"

static struct ih_world *w;
static struct ih_coop *coop;
static struct tiommu t;
static struct tfw fw;
static struct tfw_entry entries[2];
static struct ih_pci_dev *host, *bridge, *fn[2];

/* A driver_managed_dma driver that claims the group in probe, as VFIO does at open. */
static int vfio_probe(struct ih_device *dev)
{
	return ih_iommu_device_claim_dma_owner(dev, dev->driver);
}

static void vfio_remove(struct ih_device *dev)
{
	ih_iommu_device_release_dma_owner(dev);
}

static struct ih_driver nic = { .name = "nic", .bus = &ih_pci_bus_type };
static struct ih_driver vfio = { .name = "vfio", .bus = &ih_pci_bus_type,
				 .probe = vfio_probe, .remove = vfio_remove,
				 .driver_managed_dma = true };

static void setup(void)
{
	struct ih_world_config cfg;
	struct ih_pci_desc hd = { .type = IH_PCI_HOST_BRIDGE, .subordinate = 0xff };
	struct ih_pci_desc bd = { .type = IH_PCI_PCIE_TO_PCI, .devfn = IH_PCI_DEVFN(1, 0),
				  .secondary = 1, .subordinate = 1 };
	struct ih_pci_desc ed = { .type = IH_PCI_ENDPOINT, .vendor = 0x1234 };

	ih_world_config_init(&cfg);
	cfg.ncpus = 2;
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	memset(&t, 0, sizeof(t));
	t.pci_groups = true;
	entries[0] = (struct tfw_entry){ "0000:01:00.0", tiommu_fwnode(&t), 0x100 };
	entries[1] = (struct tfw_entry){ "0000:01:01.0", tiommu_fwnode(&t), 0x108 };
	fw = (struct tfw){ .entries = entries, .count = 2 };
	tfw_install(w, &fw);
	cr_assert_eq(tiommu_register(w, &t), 0);
	cr_assert_eq(ih_bus_register(w, &ih_pci_bus_type), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, NULL, &hd, &host), 0);
	cr_assert_eq(ih_device_add(&host->dev), 0);
	cr_assert_eq(ih_pci_dev_alloc(w, &host->dev, &bd, &bridge), 0);
	cr_assert_eq(ih_device_add(&bridge->dev), 0);
	for (int i = 0; i < 2; i++) {
		ed.devfn = IH_PCI_DEVFN(i, 0);
		cr_assert_eq(ih_pci_dev_alloc(w, &bridge->dev, &ed, &fn[i]), 0);
		cr_assert_eq(ih_device_add(&fn[i]->dev), 0);
	}
	cr_assert_eq(fn[0]->dev.iommu_group, fn[1]->dev.iommu_group);
	cr_assert_eq(ih_driver_register(w, &nic), 0);
	cr_assert_eq(ih_driver_register(w, &vfio), 0);
	cr_assert_eq(ih_coop_create(w, &coop), 0);
}

static void teardown(void)
{
	ih_coop_destroy(coop);
	ih_driver_unregister(w, &vfio);
	ih_driver_unregister(w, &nic);
	for (int i = 1; i >= 0; i--)
		ih_device_unregister(&fn[i]->dev);
	ih_device_unregister(&bridge->dev);
	ih_device_unregister(&host->dev);
	ih_iommu_device_unregister(w, &t.iommu);
	cr_expect_eq(ih_world_destroy(w), 0);
}

TestSuite(sibling_cases, .init = setup, .fini = teardown);

static void bind_to(struct ih_device *dev, struct ih_driver *drv)
{
	cr_assert_eq(ih_device_set_driver_override(dev, drv->name), 0);
	ih_device_bind(dev, drv);
}

struct actor {
	struct ih_device *dev; /* NULL: do nothing */
	struct ih_driver *drv; /* NULL: unbind */
};

static void act(void *arg)
{
	struct actor *a = arg;

	if (!a->dev)
		return; /* stays as it is */
	if (a->drv)
		bind_to(a->dev, a->drv);
	else
		ih_device_unbind(a->dev);
}

/* The ownership the bound drivers imply, compared with the group's. */
static void expect_consistent(const char *what)
{
	struct ih_iommu_group_info info;
	unsigned int dma_api = 0, managed = 0;

	for (int i = 0; i < 2; i++) {
		struct ih_driver *d = ih_device_driver(&fn[i]->dev);

		if (d == &nic)
			dma_api++;
		else if (d == &vfio)
			managed++;
	}
	ih_iommu_group_get_info(fn[0]->dev.iommu_group, &info);
	cr_expect_eq(ih_iommu_group_check(fn[0]->dev.iommu_group), 0, "%s: invariant", what);
	cr_expect_eq(ih_iommu_invariant_violations(w), 0, "%s: violations on the way", what);
	if (managed) {
		cr_expect(info.explicit_owner, "%s: vfio bound, group must be claimed", what);
		cr_expect_eq(info.owner_cnt, managed, "%s", what);
	} else {
		cr_expect_not(info.explicit_owner, "%s", what);
		cr_expect_eq(info.owner_cnt, dma_api, "%s: owner_cnt", what);
		cr_expect(info.in_default_domain, "%s", what);
	}
	cr_expect_eq(ih_warn_count(w), 0, "%s: warnings", what);
}

/* Run A (dev = fn0 unbinding from @dev_drv) against B (tmp = fn1 doing @tmp_act). */
static void run_case(const char *what, struct ih_driver *dev_drv, struct ih_driver *tmp_before,
		     struct actor tmp, const char *script)
{
	struct actor a = { &fn[0]->dev, NULL };
	char trace[256];

	bind_to(&fn[0]->dev, dev_drv);
	if (tmp_before)
		bind_to(&fn[1]->dev, tmp_before);
	cr_assert_eq(ih_device_driver(&fn[0]->dev), dev_drv, "%s: set-up", what);
	ih_coop_add(coop, act, &a, 0);
	ih_coop_add(coop, act, &tmp, 1);
	cr_assert_eq(ih_coop_run_script(coop, script, trace, sizeof(trace)), 0, "%s", what);
	cr_log_info("%s: %s", what, trace);
	expect_consistent(what);
}

/* 1.a: tmp bound to a DMA-API driver; dev's removal keeps tmp's co-ownership. */
Test(sibling_cases, case_1a_tmp_bound_dma_api)
{
	run_case("1.a", &nic, &nic, (struct actor){ NULL, NULL }, "A B");
	cr_expect_eq(ih_device_driver(&fn[1]->dev), &nic, "tmp keeps its DMA-API ownership");
}

/* 1.b: both bound to the managed driver that owns the group; dev's removal drops one claim. */
Test(sibling_cases, case_1b_tmp_bound_to_the_owner)
{
	bind_to(&fn[0]->dev, &vfio);
	bind_to(&fn[1]->dev, &vfio);
	ih_device_unbind(&fn[0]->dev);
	expect_consistent("1.b");
	cr_expect_eq(ih_device_driver(&fn[1]->dev), &vfio);
}

/* 2.a: tmp is binding a DMA-API driver (driver set, waiting to claim) while dev unbinds. */
Test(sibling_cases, case_2a_tmp_binding_dma_api)
{
	run_case("2.a", &nic, NULL, (struct actor){ &fn[1]->dev, &nic },
		 "B@base:probe-after-set-driver A B");
	cr_expect_eq(ih_device_driver(&fn[1]->dev), &nic);
}

/* 2.a.ii: the group is driver-owned while tmp binds a DMA-API driver: tmp's bind fails. */
Test(sibling_cases, case_2a_ii_tmp_binding_into_owned_group)
{
	run_case("2.a.ii", &vfio, NULL, (struct actor){ &fn[1]->dev, &nic },
		 "B@base:probe-after-set-driver A B");
	/* dev's release happened first, so tmp finds the group free by its turn. */
	cr_expect_eq(ih_device_driver(&fn[1]->dev), &nic);
}

/* 2.b: tmp binding a managed driver while dev (DMA API) unbinds. */
Test(sibling_cases, case_2b_tmp_binding_managed)
{
	run_case("2.b", &nic, NULL, (struct actor){ &fn[1]->dev, &vfio },
		 "B@base:probe-before-probe A B");
	cr_expect_eq(ih_device_driver(&fn[1]->dev), &vfio);
}

/* 3: tmp unbound throughout. */
Test(sibling_cases, case_3_tmp_unbound)
{
	run_case("3", &nic, NULL, (struct actor){ NULL, NULL }, "A B");
}

/* 4.a.i: tmp unbinding from a DMA-API driver, stopped before its dma_cleanup. */
Test(sibling_cases, case_4a_i_tmp_unbinding_dma_api)
{
	run_case("4.a.i", &nic, &nic, (struct actor){ &fn[1]->dev, NULL },
		 "B@base:unbind-before-dma-cleanup A B");
}

/* 4.a.ii / 4.b: tmp unbinding from the managed owner while dev unbinds from it too. */
Test(sibling_cases, case_4b_tmp_unbinding_managed_owner)
{
	run_case("4.b", &vfio, &vfio, (struct actor){ &fn[1]->dev, NULL },
		 "B@base:unbind-before-remove A B");
}

/* Exploration on a fresh world: seeded random schedules of two siblings binding. */
static int explore(const char *switches, unsigned int seeds)
{
	struct ih_world_config cfg;
	struct ih_world *v;
	int found;

	ih_world_config_init(&cfg);
	cfg.ncpus = 2;
	cfg.regressions = switches;
	cr_assert_eq(ih_world_create(&cfg, &v), 0);
	found = scenario_sibling_explore(v, seeds);
	if (!switches[0])
		cr_expect_eq(ih_world_destroy(v), 0);
	else
		ih_world_destroy(v);
	return found;
}

Test(sibling_cases, exploration_is_clean_when_serialised)
{
	cr_expect_eq(explore("", 50), 0, "a seed broke the fixed ownership path");
}

Test(sibling_cases, exploration_finds_unserialised_ownership)
{
	int seed = explore("ownership-unserialised", 50);

	cr_expect(seed > 0, "50 seeds did not find the lost owner_cnt update (%d)", seed);
}
