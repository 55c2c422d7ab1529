/* SPDX-License-Identifier: MIT */
/* A small IOMMU driver for core tests: LPAE-backed domains, recorded flushes, knobs. */
#ifndef IH_TESTS_TEST_IOMMU_H
#define IH_TESTS_TEST_IOMMU_H

#include <ih/base.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>

/*
 * The test IOMMU is a real driver against the core's ops table: its paging domains are
 * ARM LPAE stage-1 io-pgtables in simulated memory, and every flush op is counted so a
 * test can assert exact invalidation traffic. There is no hardware behind it.
 */
struct tiommu {
	struct ih_iommu_device iommu;
	struct ih_world *w;
	char fwnode_storage; /* its address is the instance's firmware node */
	/* knobs */
	bool pci_groups;        /* device_group: ih_pci_device_group instead of generic */
	bool native_blocked;    /* domain_alloc supports IH_DOMAIN_BLOCKED itself */
	bool no_identity;       /* domain_alloc refuses IH_DOMAIN_IDENTITY */
	const char *fail_probe; /* probe_device fails for this device name */
	int def_domain_type;    /* returned by def_domain_type for every device */
	/* counters */
	unsigned long xlates, probes, releases, attaches, domains_alive;
	unsigned long tlb_flush_all, tlb_flush_walk, tlb_add_page, iotlb_sync;
};

const struct ih_iommu_ops *tiommu_ops(void);

/* Fill @t (zeroed by the caller) and register it. */
int tiommu_register(struct ih_world *w, struct tiommu *t);

/*
 * A platform driver "tiommu" that registers one test IOMMU per device it binds, with the
 * device's own firmware node (dev->fwnode), as a real IOMMU driver does for a populated
 * DT/IORT node. It matches devices whose driver_override is "tiommu" (or named so).
 * Instances are allocated from the world (site "test:tiommu-pdrv") and freed at unbind.
 */
struct tiommu_pdrv {
	struct ih_driver drv;
	unsigned long binds, unbinds;
	int def_domain_type; /* copied into every instance */
};

void tiommu_pdrv_init(struct tiommu_pdrv *p);
/* The instance bound to @dev, or NULL. */
struct tiommu *tiommu_pdrv_instance(struct ih_device *dev);

static inline const void *tiommu_fwnode(struct tiommu *t)
{
	return &t->fwnode_storage;
}

/*
 * A firmware provider for tests: a table of "device name -> IOMMU fwnode + one ID".
 * Entries point at caller-owned memory.
 */
struct tfw_entry {
	const char *dev_name;
	const void *iommu_fwnode;
	u32 id;
};

struct tfw {
	const struct tfw_entry *entries;
	size_t count;
	unsigned long calls;
};

void tfw_install(struct ih_world *w, struct tfw *fw);

/* A platform driver that counts probes and removes; optionally fails probe. */
struct tdriver {
	struct ih_driver drv;
	int probe_ret;
	unsigned long probes, removes;
};

void tdriver_init(struct tdriver *d, const char *name, bool driver_managed_dma);

/* Add a platform device named @name (compatible "test,dev"); returns it with a reference. */
struct ih_device *tplat_add(struct ih_world *w, const char *name);

#endif /* IH_TESTS_TEST_IOMMU_H */
