// SPDX-License-Identifier: MIT
/*
 * fuzz_lifecycle: device and driver life-cycle events against the IOMMU core, with the
 * group ownership invariants checked after every event.
 *
 * Input: byte 0 = flags (bit 0: probe-path flow, else bind-time; bit 1: lazy default
 * domains; bit 2: identity default domains); then events until the input ends, each an
 * opcode byte and one argument byte:
 *   0 add device A          1 delete device A        2 bind A to driver (B>>4) % 4
 *   3 unbind A              4 claim A for owner B&1  5 release A's harness claim
 *   6 store type (B>>4)%3 on A's group               7 register the IOMMU
 *   8 unregister the IOMMU (unbinding and releasing everything first)
 *   9 fail allocation number (B % 16) + 1 from now
 * where A = (B & 15) % 5 picks a device: two platform devices, two PCI functions behind one
 * PCIe-to-PCI bridge (one group) and one on the root bus. Drivers: a DMA-API driver, one
 * whose probe fails, a driver_managed_dma driver that claims the group in probe (VFIO
 * style), and a driver_managed_dma driver that claims nothing.
 * Targets: base (add/del/bind/unbind), core/iommu (probe flows, groups, ownership, store
 * type, register/unregister). Aborts on a broken invariant, a warning, or a leak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/world.h>
#include "fuzz_common.h"
#include "lib/test_iommu.h"

#define NDEV 5

struct lc {
	struct ih_world *w;
	struct tiommu t;
	bool registered;
	struct tfw fw;
	struct tfw_entry e[NDEV];
	struct ih_pci_dev *host, *bridge;
	struct ih_device *dev[NDEV];
	int claims[NDEV];   /* harness-held explicit claims through dev i */
	const void *claim_owner[NDEV];
	struct ih_driver drv[2][4]; /* [platform, pci][kind] */
};

static const char *const dev_names[NDEV] = { "p0", "p1", "0000:01:00.0", "0000:01:01.0",
					     "0000:00:02.0" };
static const char *const drv_names[4] = { "dma", "fails", "vfio", "managed" };
static const int owners[2];

static int fails_probe(struct ih_device *dev)
{
	return -EIO;
}

static int vfio_probe(struct ih_device *dev)
{
	return ih_iommu_device_claim_dma_owner(dev, dev->driver);
}

static void vfio_remove(struct ih_device *dev)
{
	ih_iommu_device_release_dma_owner(dev);
}

static bool is_pci(int i)
{
	return i >= 2;
}

static void add_dev(struct lc *l, int i)
{
	int ret;

	if (l->dev[i])
		return;
	if (is_pci(i)) {
		struct ih_pci_desc d = { .type = IH_PCI_ENDPOINT, .vendor = 0x1af4 };
		struct ih_pci_dev *p;

		d.devfn = i == 4 ? IH_PCI_DEVFN(2, 0) : IH_PCI_DEVFN(i - 2, 0);
		if (ih_pci_dev_alloc(l->w, i == 4 ? &l->host->dev : &l->bridge->dev, &d, &p))
			return;
		l->dev[i] = &p->dev;
	} else {
		struct ih_platform_device *p;

		if (ih_platform_device_alloc(l->w, dev_names[i], "fuzz,dev", NULL, &p))
			return;
		l->dev[i] = &p->dev;
	}
	ret = ih_device_add(l->dev[i]);
	if (ret) {
		ih_device_put(l->dev[i]);
		l->dev[i] = NULL;
	}
}

static void release_claims(struct lc *l, int i)
{
	while (l->claims[i] > 0 && l->dev[i]) {
		ih_iommu_device_release_dma_owner(l->dev[i]);
		l->claims[i]--;
	}
	l->claims[i] = 0;
}

static void del_dev(struct lc *l, int i)
{
	if (!l->dev[i])
		return;
	release_claims(l, i);
	ih_device_unregister(l->dev[i]);
	l->dev[i] = NULL;
}

static void bind_dev(struct lc *l, int i, int kind)
{
	struct ih_driver *drv = &l->drv[is_pci(i)][kind];

	if (!l->dev[i] || ih_device_driver(l->dev[i]))
		return;
	if (ih_device_set_driver_override(l->dev[i], drv->name))
		return;
	ih_device_bind(l->dev[i], drv);
}

static void unbind_dev(struct lc *l, int i)
{
	if (l->dev[i] && ih_device_driver(l->dev[i]))
		ih_device_unbind(l->dev[i]);
}

static void claim(struct lc *l, int i, int who)
{
	if (!l->dev[i] || !l->dev[i]->iommu_group)
		return;
	if (l->claims[i] && l->claim_owner[i] != &owners[who])
		return; /* the harness keeps one owner per device */
	if (!ih_iommu_device_claim_dma_owner(l->dev[i], &owners[who])) {
		l->claims[i]++;
		l->claim_owner[i] = &owners[who];
	}
}

static void release(struct lc *l, int i)
{
	if (l->dev[i] && l->claims[i] > 0 && l->dev[i]->iommu_group) {
		ih_iommu_device_release_dma_owner(l->dev[i]);
		l->claims[i]--;
	}
}

static void quiesce(struct lc *l)
{
	for (int i = 0; i < NDEV; i++) {
		release_claims(l, i);
		unbind_dev(l, i);
	}
}

static void check(struct lc *l, const char *after)
{
	for (int i = 0; i < NDEV; i++) {
		struct ih_iommu_group *g = l->dev[i] ? l->dev[i]->iommu_group : NULL;

		if (g && ih_iommu_group_check(g)) {
			fprintf(stderr, "fuzz_lifecycle: invariant broken after %s\n", after);
			abort();
		}
	}
	IH_BUG_ON(ih_iommu_invariant_violations(l->w), "invariant broken after %s", after);
	IH_BUG_ON(ih_warn_count(l->w), "warning after %s", after);
}

static void setup(struct lc *l, u8 flags)
{
	struct ih_pci_desc hd = { .type = IH_PCI_HOST_BRIDGE, .subordinate = 0xff };
	struct ih_pci_desc bd = { .type = IH_PCI_PCIE_TO_PCI, .devfn = IH_PCI_DEVFN(1, 0),
				  .secondary = 1, .subordinate = 1 };
	struct ih_world_config cfg;

	ih_world_config_init(&cfg);
	cfg.log = "none";
	IH_BUG_ON(ih_world_create(&cfg, &l->w), "world");
	l->t.pci_groups = true;
	for (int i = 0; i < NDEV; i++)
		l->e[i] = (struct tfw_entry){ dev_names[i], tiommu_fwnode(&l->t), 0x10 + (u32)i };
	l->fw = (struct tfw){ .entries = l->e, .count = NDEV };
	tfw_install(l->w, &l->fw);
	ih_iommu_set_probe_flow(l->w, flags & 1 ? IH_PROBE_FLOW_PROBE_PATH : IH_PROBE_FLOW_BIND);
	ih_iommu_set_default_domain_type(l->w, flags & 4 ? IH_DOMAIN_IDENTITY :
					 flags & 2 ? IH_DOMAIN_DMA_FQ : IH_DOMAIN_DMA);
	IH_BUG_ON(ih_bus_register(l->w, &ih_platform_bus_type), "platform bus");
	IH_BUG_ON(ih_bus_register(l->w, &ih_pci_bus_type), "pci bus");
	IH_BUG_ON(ih_pci_dev_alloc(l->w, NULL, &hd, &l->host) || ih_device_add(&l->host->dev),
		  "host bridge");
	IH_BUG_ON(ih_pci_dev_alloc(l->w, &l->host->dev, &bd, &l->bridge) ||
			  ih_device_add(&l->bridge->dev),
		  "bridge");
	for (int b = 0; b < 2; b++) {
		for (int k = 0; k < 4; k++) {
			struct ih_driver *d = &l->drv[b][k];

			d->name = drv_names[k];
			d->bus = b ? &ih_pci_bus_type : &ih_platform_bus_type;
			d->probe = k == 1 ? fails_probe : k == 2 ? vfio_probe : NULL;
			d->remove = k == 2 ? vfio_remove : NULL;
			d->driver_managed_dma = k >= 2;
			IH_BUG_ON(ih_driver_register(l->w, d), "driver");
		}
	}
}

static void teardown(struct lc *l)
{
	size_t leaked;

	ih_fault_clear(l->w);
	quiesce(l);
	for (int i = NDEV - 1; i >= 0; i--)
		del_dev(l, i);
	for (int b = 0; b < 2; b++)
		for (int k = 0; k < 4; k++)
			ih_driver_unregister(l->w, &l->drv[b][k]);
	ih_device_unregister(&l->bridge->dev);
	ih_device_unregister(&l->host->dev);
	if (l->registered)
		ih_iommu_device_unregister(l->w, &l->t.iommu);
	check(l, "teardown");
	leaked = ih_world_destroy(l->w);
	IH_BUG_ON(leaked, "%zu model block(s) leaked", leaked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = fz_init(data, size);
	struct lc *l = calloc(1, sizeof(*l));
	unsigned int events = 0;

	if (!l)
		return 0;
	setup(l, fz_u8(&in));
	while (!fz_empty(&in) && events++ < 256) {
		u8 op = fz_u8(&in) % 10, arg = fz_u8(&in);
		int i = (arg & 0x0f) % NDEV;

		switch (op) {
		case 0: add_dev(l, i); break;
		case 1: del_dev(l, i); break;
		case 2: bind_dev(l, i, (arg >> 4) % 4); break;
		case 3: unbind_dev(l, i); break;
		case 4: claim(l, i, arg & 1); break;
		case 5: release(l, i); break;
		case 6:
			if (l->dev[i] && l->dev[i]->iommu_group)
				ih_iommu_group_store_type(l->dev[i]->iommu_group,
							  (enum ih_domain_type[]){ IH_DOMAIN_IDENTITY,
										   IH_DOMAIN_DMA,
										   IH_DOMAIN_DMA_FQ }[(arg >> 4) % 3]);
			break;
		case 7:
			if (!l->registered)
				l->registered = !tiommu_register(l->w, &l->t);
			break;
		case 8:
			if (l->registered) {
				quiesce(l);
				ih_iommu_device_unregister(l->w, &l->t.iommu);
				l->registered = false;
			}
			break;
		case 9: ih_fault_fail_nth(l->w, (arg % 16) + 1); break;
		}
		check(l, "an event");
	}
	teardown(l);
	free(l);
	return 0;
}
