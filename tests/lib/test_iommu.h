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
 * test can assert exact invalidation traffic.
 *
 * Behind it sits a small modelled "hardware" (hw_ops) so ih_dma_access() works: a
 * fully associative TLB of TIOMMU_TLB_SIZE 4K entries tagged by domain, filled by a
 * software walk of the attached domain's table (iova_to_phys) and invalidated by the
 * flush ops: tlb_flush_walk (range, every domain), tlb_flush_all (everything),
 * iotlb_sync (the gathered range of that domain) and flush_iotlb_all (that domain).
 * Identity domains pass addresses through, blocked ones fault. A walk that races with an
 * invalidation does not fill the TLB (a generation count), as a TLBI waits for walks.
 */
#define TIOMMU_TLB_SIZE 32
/* Enough for real firmware: the ThinkPad X13s SMMU serves over a hundred masters. */
#define TIOMMU_MAX_MASTERS 512

struct tiommu_tlbe {
	const void *domain;
	u64 iova; /* 4K page */
	ih_pa_t pa;
	bool valid;
};

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
	/* counters (the flush ones are updated atomically: several domains flush at once) */
	unsigned long xlates, probes, releases, attaches, domains_alive;
	unsigned long tlb_flush_all, tlb_flush_walk, tlb_add_page, iotlb_sync;
	/* DMA-layer knobs and counters (zero: the correct driver) */
	bool forgetful_sync;    /* iotlb_sync counts but invalidates nothing (a buggy driver) */
	bool no_flush_all;      /* paging domains have no flush_iotlb_all: no flush queue */
	/* called once from the next flush_iotlb_all, mid-flush (set-up: a test's own thread) */
	void (*flush_all_hook)(struct tiommu *t);
	unsigned long iotlb_flush_all, tlb_hits, tlb_misses, dma_faults;
	/* the modelled hardware (private to test_iommu.c) */
	pthread_mutex_t hw_lock; /* protects masters, tlb, tlb_next, gen */
	struct {
		u32 sid;
		const void *domain; /* struct tdomain, NULL: free slot */
	} masters[TIOMMU_MAX_MASTERS];
	struct tiommu_tlbe tlb[TIOMMU_TLB_SIZE];
	unsigned int tlb_next;
	unsigned long gen;
};

/* The io-pgtable behind one of the test IOMMU's paging domains (NULL for static ones). */
struct ih_io_pgtable_ops *tiommu_domain_pgtable(struct ih_iommu_domain *domain);

/* Valid TLB entries of @t right now. */
unsigned int tiommu_tlb_entries(struct tiommu *t);

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
