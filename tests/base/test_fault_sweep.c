// SPDX-License-Identifier: MIT
/* Fail each allocation of a full device-model scenario once: clean errno, sane world, no leak. */
#include "base/base_test.h"

/*
 * The scenario: platform and PCI buses, a notifier, DMA hooks, a platform controller with
 * a PCI host bridge below it, a root port, a PCIe-to-PCI bridge and an endpoint, a
 * consumer that defers until a provider binds, explicit unbind/bind, the alias walk, then
 * everything undone in reverse. Every step's error is propagated and unwound, so a failed
 * allocation anywhere must come back as -ENOMEM with the world as it was.
 */

enum undo_kind { U_BUS, U_NB, U_DRV, U_DEV };

struct scen {
	struct ih_world *w;
	struct {
		enum undo_kind kind;
		const void *obj;
		bool added;
	} u[32];
	unsigned int n;
	unsigned int undo_errors;
	struct tdrv uart, prov, pcidrv;
	struct tnb nb;
	bool provider_ready;
};

static struct scen *cur;

static void push(struct scen *s, enum undo_kind kind, const void *obj)
{
	cr_assert_lt(s->n, ARRAY_SIZE(s->u));
	s->u[s->n].kind = kind;
	s->u[s->n].obj = obj;
	s->u[s->n].added = false;
	s->n++;
}

static void undo_all(struct scen *s)
{
	while (s->n) {
		int ret = 0;

		s->n--;
		switch (s->u[s->n].kind) {
		case U_BUS:
			ret = ih_bus_unregister(s->w, s->u[s->n].obj);
			break;
		case U_NB:
			ret = ih_bus_unregister_notifier(s->w, (void *)s->u[s->n].obj);
			break;
		case U_DRV:
			ret = ih_driver_unregister(s->w, (void *)s->u[s->n].obj);
			break;
		case U_DEV:
			if (s->u[s->n].added)
				ret = ih_device_unregister((void *)s->u[s->n].obj);
			else
				ih_device_put((void *)s->u[s->n].obj);
			break;
		}
		if (ret)
			s->undo_errors++;
	}
}

/* Allocate-then-add: the undo entry knows whether del is needed. */
static int add_dev(struct scen *s, struct ih_device *dev)
{
	int ret;

	push(s, U_DEV, dev);
	ret = ih_device_add(dev);
	if (!ret)
		s->u[s->n - 1].added = true;
	return ret;
}

static int uart_probe(struct ih_device *dev)
{
	return cur->provider_ready ? 0 : -EPROBE_DEFER;
}

static int prov_probe(struct ih_device *dev)
{
	cur->provider_ready = true;
	return 0;
}

static int hk_fw(struct ih_device *dev, void *opaque)
{
	return 0;
}

static const struct ih_base_dma_hooks hooks = { .fw_configure = hk_fw };

static const struct ih_pci_device_id any_ids[] = {
	{ .vendor = IH_PCI_ANY_ID, .device = IH_PCI_ANY_ID, .class = 0x020000,
	  .class_mask = 0xff0000 },
	{ 0 },
};

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		ret = (expr);                                                                      \
		if (ret)                                                                           \
			goto unwind;                                                               \
	} while (0)
/* A broken expectation, not an allocation failure: -EFAULT makes the sweep report it. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			ret = -EFAULT;                                                             \
			goto unwind;                                                               \
		}                                                                                  \
	} while (0)

static int scenario(struct ih_world *w)
{
	struct scen *s = cur;
	struct ih_platform_device *ctrl, *uart0, *prov0;
	struct ih_pci_dev *hb, *rp, *br, *ep;
	struct ih_pci_desc d;
	u16 rids[4];
	int ret;

	memset(s, 0, sizeof(*s));
	s->w = w;
	tdrv_setup(&s->uart, &ih_platform_bus_type, "uart0", NULL);
	s->uart.drv.probe = uart_probe;
	tdrv_setup(&s->prov, &ih_platform_bus_type, "clk0", NULL);
	s->prov.drv.probe = prov_probe;
	tdrv_setup(&s->pcidrv, &ih_pci_bus_type, "nic", NULL);
	s->pcidrv.drv.id_table = any_ids;
	tnb_setup(&s->nb, NULL, 0, 1);

	TRY(ih_bus_register(w, &ih_platform_bus_type));
	push(s, U_BUS, &ih_platform_bus_type);
	TRY(ih_bus_register(w, &ih_pci_bus_type));
	push(s, U_BUS, &ih_pci_bus_type);
	TRY(ih_base_set_dma_hooks(w, &hooks, NULL));
	TRY(ih_bus_register_notifier(w, &s->nb.nb));
	push(s, U_NB, &s->nb.nb);
	TRY(ih_driver_register(w, &s->uart.drv));
	push(s, U_DRV, &s->uart.drv);

	TRY(ih_platform_device_alloc(w, "pcie0", NULL, NULL, &ctrl));
	TRY(add_dev(s, &ctrl->dev));
	TRY(ih_platform_device_alloc(w, "uart0", NULL, NULL, &uart0));
	TRY(add_dev(s, &uart0->dev));
	CHECK(ih_device_is_deferred(&uart0->dev));

	d = (struct ih_pci_desc){ .type = IH_PCI_HOST_BRIDGE, .secondary = 0, .subordinate = 7 };
	TRY(ih_pci_dev_alloc(w, &ctrl->dev, &d, &hb));
	TRY(add_dev(s, &hb->dev));
	d = (struct ih_pci_desc){ .type = IH_PCI_ROOT_PORT, .devfn = IH_PCI_DEVFN(1, 0),
				  .secondary = 1, .subordinate = 2 };
	TRY(ih_pci_dev_alloc(w, &hb->dev, &d, &rp));
	TRY(add_dev(s, &rp->dev));
	d = (struct ih_pci_desc){ .type = IH_PCI_PCIE_TO_PCI, .devfn = IH_PCI_DEVFN(0, 0),
				  .secondary = 2, .subordinate = 2 };
	TRY(ih_pci_dev_alloc(w, &rp->dev, &d, &br));
	TRY(add_dev(s, &br->dev));
	d = (struct ih_pci_desc){ .type = IH_PCI_ENDPOINT, .devfn = IH_PCI_DEVFN(3, 0),
				  .vendor = 0x8086, .class = 0x020000 };
	TRY(ih_pci_dev_alloc(w, &br->dev, &d, &ep));
	TRY(add_dev(s, &ep->dev));

	/* The provider binds when clk0 is added; the pass that bind requests binds uart0. */
	TRY(ih_driver_register(w, &s->prov.drv));
	push(s, U_DRV, &s->prov.drv);
	TRY(ih_platform_device_alloc(w, "clk0", NULL, NULL, &prov0));
	TRY(add_dev(s, &prov0->dev));
	CHECK(ih_device_driver(&uart0->dev) == &s->uart.drv);

	TRY(ih_driver_register(w, &s->pcidrv.drv));
	push(s, U_DRV, &s->pcidrv.drv);
	TRY(ih_device_unbind(&ep->dev));
	TRY(ih_device_bind(&ep->dev, &s->pcidrv.drv));
	/* 02:03.0 behind the PCIe-to-PCI bridge 01:00.0 (secondary bus 02). */
	CHECK(ih_pci_dma_aliases(&ep->dev, rids, 4, NULL) == 2);
	CHECK(rids[0] == 0x0218 && rids[1] == 0x0200);
	ret = 0;
unwind:
	undo_all(s);
	return ret;
}

static struct ih_world *fresh_world(void)
{
	struct ih_world *w;

	cr_assert_eq(ih_world_create(NULL, &w), 0);
	return w;
}

/* Everything a finished (or unwound) scenario must leave behind. */
static void expect_clean(struct ih_world *w, const char *what)
{
	struct ih_base_stats st;

	cr_expect_eq(cur->undo_errors, 0, "%s: an undo step failed", what);
	cr_expect_not(ih_bus_registered(w, &ih_platform_bus_type), "%s", what);
	cr_expect_not(ih_bus_registered(w, &ih_pci_bus_type), "%s", what);
	cr_expect_eq(ih_deferred_probe_pending(w), 0, "%s", what);
	cr_expect_eq(ih_warn_count(w), 0, "%s: an error path warned", what);
	ih_base_get_stats(w, &st);
	cr_expect_eq(st.binds, st.unbinds, "%s: binds %lu unbinds %lu", what, st.binds,
		     st.unbinds);
	/* Only the device-model state itself may remain: it lives until world teardown. */
	cr_expect_leq(ih_alloc_live_count(w), 1, "%s: %zu blocks live", what,
		      ih_alloc_live_count(w));
}

Test(fault_sweep, scenario_runs_clean_without_faults)
{
	static struct scen s;
	struct ih_world *w = fresh_world();

	cur = &s;
	cr_expect_eq(scenario(w), 0);
	expect_clean(w, "clean run");
	cr_expect_eq(ih_world_destroy(w), 0);
}

Test(fault_sweep, failing_each_allocation_once_unwinds_cleanly)
{
	static struct scen s;
	struct ih_alloc_site_stat sites[32];
	struct ih_world *w = fresh_world();
	unsigned int runs = 0;
	size_t nsites;

	struct ih_alloc_site_stat all[64];
	size_t nall;

	cur = &s;
	cr_assert_eq(scenario(w), 0);
	nall = ih_alloc_sites(w, all, ARRAY_SIZE(all));
	cr_assert_leq(nall, ARRAY_SIZE(all));
	/* Only the device model's sites: others belong to world creation. */
	nsites = 0;
	for (size_t i = 0; i < nall; i++)
		if (!strncmp(all[i].site, "base:", 5))
			sites[nsites++] = all[i];
	cr_expect_eq(ih_world_destroy(w), 0);
	/* state, bus, driver-private, device-private, platform-device, pci-device. */
	cr_expect_eq(nsites, 6, "sites seen: %zu", nsites);

	for (size_t i = 0; i < nsites; i++) {
		for (unsigned long nth = 1; nth <= sites[i].calls; nth++) {
			char what[96];
			int ret;

			snprintf(what, sizeof(what), "site %s call %lu", sites[i].site, nth);
			w = fresh_world();
			cr_assert_eq(ih_fault_fail_site(w, sites[i].site, nth), 0);
			ret = scenario(w);
			cr_expect_eq(ret, -ENOMEM, "%s: scenario returned %d", what, ret);
			cr_expect_eq(ih_fault_injected(w), 1, "%s", what);
			expect_clean(w, what);
			/* The world is still fully usable: the whole scenario runs again. */
			ih_fault_clear(w);
			cr_expect_eq(scenario(w), 0, "%s: rerun failed", what);
			expect_clean(w, what);
			cr_expect_eq(ih_world_destroy(w), 0, "%s: leaked", what);
			runs++;
		}
	}
	cr_expect_gt(runs, nsites, "some site is called more than once");
}
