/* SPDX-License-Identifier: MIT */
/* Private state of the IOMMU core: per-world registry, probe lock, groups. */
#ifndef IH_CORE_IOMMU_PRIV_H
#define IH_CORE_IOMMU_PRIV_H

#include <ih/base.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/mutex.h>

/*
 * Lock order (outermost first):
 *   device lock (driver core) -> probe_lock -> group->mutex -> dev_iommu->lock
 *   registry_lock and ids_lock are leaves.
 */
struct ih_iommu_state {
	struct ih_world *w;
	/* iommu_probe_device_lock: serialises probe and (fixed code) fwspec creation. */
	struct ih_mutex probe_lock;
	pthread_mutex_t registry_lock; /* protects instances */
	/*
	 * Device DMA in flight (ih_dma_access() holds it for read across its reads of
	 * dev->iommu, the group's domain and the hardware) against the frees of what it reads:
	 * whoever unpublishes such an object calls ih_iommu_dma_quiesce() before freeing it,
	 * which waits for every access that may still see it (a grace period, as the kernel
	 * gets from the hardware finishing in-flight transactions before a CMD_SYNC
	 * completes). Writer-preferring, taken for write only empty: a leaf after any lock.
	 */
	pthread_rwlock_t dma_lock;
	struct ih_iommu_device *instances;
	enum ih_probe_flow flow;          /* set-up time only */
	enum ih_domain_type default_type; /* set-up time only */
	const struct ih_fw_provider_ops *fw;
	void *fw_opaque;
	struct ih_bus_notifier nb;
	pthread_mutex_t ids_lock; /* protects next_group_id */
	int next_group_id;
	/* Counters, atomic. */
	unsigned long probes;
	unsigned long probe_failures;
	unsigned long late_probes_at_bind;
	unsigned long xlate_calls;
	unsigned long invariant_violations;
};

/**
 * struct ih_group_member - membership of one device in a group.
 * @dev: the device.
 * @dma_api_use: counted in owner_cnt as a DMA-API user (a bound driver without
 *	driver_managed_dma): what makes owner_cnt checkable against the members.
 * @explicit_claims: claims an explicit owner made through this device.
 * @attached: the domain the driver last attached the device to.
 * @next: the next member.
 */
struct ih_group_member {
	struct ih_device *dev;
	bool dma_api_use;
	unsigned int explicit_claims;
	struct ih_iommu_domain *attached;
	struct ih_group_member *next;
};

struct ih_iommu_group {
	struct ih_world *w;
	int id;
	unsigned int refcount; /* atomic */
	struct ih_mutex mutex; /* protects everything below */
	struct ih_group_member *devices;
	unsigned int num_devices;
	struct ih_iommu_domain *default_domain;
	struct ih_iommu_domain *blocking_domain;
	struct ih_iommu_domain *domain; /* attached now */
	const void *owner;              /* explicit owner cookie, NULL for the DMA API */
	unsigned int owner_cnt;
};

struct ih_iommu_state *ih_iommu_state(struct ih_world *w);

/*
 * ih_iommu_dma_quiesce() - wait until no device DMA that started before the call is still
 * in ih_dma_access(). Call it after unpublishing an object such DMA reads (dev->iommu, a
 * group's domain) and before freeing it. Context: any lock held but never inside
 * ih_dma_access() itself.
 */
void ih_iommu_dma_quiesce(struct ih_world *w);

/* fwspec.c */
struct ih_dev_iommu *ih_dev_iommu_get(struct ih_device *dev);
void ih_dev_iommu_free(struct ih_device *dev);
int ih_iommu_fw_configure(struct ih_device *dev);

/* group.c */
int ih_iommu_group_add_probed_dev(struct ih_device *dev);
void ih_iommu_group_remove_dev(struct ih_device *dev);

/* domain.c */
int ih_iommu_domain_alloc_type(struct ih_device *dev, enum ih_domain_type type,
			       struct ih_iommu_domain **out);
int ih_iommu_domain_attach_dev(struct ih_iommu_domain *domain, struct ih_device *dev);
/* Free a domain of any type: the DMA cookie first (ih_dma_domain_fini), then the driver's. */
void ih_iommu_domain_destroy(struct ih_iommu_domain *domain);

static inline const struct ih_iommu_ops *ih_dev_iommu_ops(struct ih_device *dev)
{
	return dev->iommu && dev->iommu->iommu_dev ? dev->iommu->iommu_dev->ops : NULL;
}

#endif /* IH_CORE_IOMMU_PRIV_H */
