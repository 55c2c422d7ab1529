/* SPDX-License-Identifier: MIT */
/* IOMMU groups: membership, default domain, attach, and DMA ownership. */
#ifndef IH_IOMMU_GROUP_H
#define IH_IOMMU_GROUP_H

#include <ih/iommu.h>

/*
 * A group is the smallest unit the IOMMU can isolate. It is owned either by the DMA API
 * (owner == NULL, owner_cnt = number of bound drivers using the default domain) or by one
 * explicit driver-managed owner (a VFIO-like user; the group sits in its blocking domain
 * or a domain the owner attached), never both.
 *
 * Synchronisation: every call takes the group mutex; membership changes happen in probe
 * and release under the probe lock and then the group mutex. Driver probe and remove of
 * siblings serialise on the group mutex after dev->driver is set or cleared (seed 003),
 * which is what makes the ownership outcome right in all four sibling states.
 *
 * Invariants, checked after every change under the mutex (ih_iommu_group_check()):
 *   owner != NULL  => no member is bound to a driver without driver_managed_dma that
 *                     uses the default domain, and domain != default_domain;
 *   owner == NULL && owner_cnt > 0 => domain == default_domain;
 *   owner_cnt never underflows.
 */

/* Allocate an empty group (for a driver's device_group op). Return: 0 or -ENOMEM. */
int ih_iommu_group_alloc(struct ih_world *w, struct ih_iommu_group **out);

/* ih_generic_device_group() - a new group per device (platform devices). */
int ih_generic_device_group(struct ih_device *dev, struct ih_iommu_group **out);

/**
 * ih_pci_device_group() - the group of any device sharing a DMA alias with @dev, else a
 * new one: PCI functions behind one PCIe-to-PCI bridge share a group.
 */
int ih_pci_device_group(struct ih_device *dev, struct ih_iommu_group **out);

/* References. ih_iommu_group_get() returns @dev's group with a reference, or NULL. */
struct ih_iommu_group *ih_iommu_group_get(struct ih_device *dev);
struct ih_iommu_group *ih_iommu_group_ref(struct ih_iommu_group *group);
void ih_iommu_group_put(struct ih_iommu_group *group);

int ih_iommu_group_id(const struct ih_iommu_group *group);
unsigned int ih_iommu_group_num_devices(struct ih_iommu_group *group);

/* Snapshots under the group mutex (tests, the CLI). */
struct ih_iommu_group_info {
	int id;
	unsigned int num_devices;
	unsigned int owner_cnt;
	bool explicit_owner;
	bool in_default_domain;
	enum ih_domain_type default_type; /* valid when has_default */
	bool has_default;
	enum ih_domain_type domain_type;  /* the attached domain; valid when has_domain */
	bool has_domain;
};
void ih_iommu_group_get_info(struct ih_iommu_group *group, struct ih_iommu_group_info *info);

/* The domain attached now / the default domain (no reference: valid while in use). */
struct ih_iommu_domain *ih_iommu_get_domain_for_dev(struct ih_device *dev);
struct ih_iommu_domain *ih_iommu_get_dma_domain(struct ih_device *dev);

/**
 * ih_iommu_set_default_domain_type() - the type new groups get by default
 * (iommu.passthrough / iommu.strict): IH_DOMAIN_IDENTITY, IH_DOMAIN_DMA or
 * IH_DOMAIN_DMA_FQ. Return: 0 or -EINVAL.
 */
int ih_iommu_set_default_domain_type(struct ih_world *w, enum ih_domain_type type);

/**
 * ih_iommu_group_store_type() - the sysfs "type" write: change the group's default domain.
 *
 * DMA -> DMA-FQ keeps the domain and is allowed while drivers are bound and DMA runs (the
 * live flip): under the group mutex the DMA layer builds the flush queue completely and
 * publishes it with release ordering (ih_dma_init_fq()), then the type becomes DMA-FQ; on
 * failure the domain stays strict and consistent. Every other change replaces the default
 * domain and needs an unowned group (no bound DMA-API driver, no explicit owner).
 *
 * Context: process; takes the group mutex (schedule points "dma:flip:*" inside).
 * Return: 0; -ENODEV (empty group); -EINVAL (bad type, or the driver's def_domain_type
 * forbids it); -EBUSY (owned, for a change other than the flip); -EOPNOTSUPP (the driver
 * cannot allocate the type, or has no flush_iotlb_all for the flip); -ENOMEM.
 */
int ih_iommu_group_store_type(struct ih_iommu_group *group, enum ih_domain_type type);

/* ---- DMA ownership ---- */

/**
 * ih_iommu_device_use_default_domain() - a driver without driver_managed_dma binds to
 * @dev: count it as a DMA-API user of the group.
 * Context: from the bus's dma_configure, device lock held, dev->driver set.
 * Return: 0 (also for a device with no group); -EPROBE_DEFER while the group has no
 * default domain; -EBUSY when an explicit owner holds the group or it is not in its
 * default domain.
 */
int ih_iommu_device_use_default_domain(struct ih_device *dev);

/* ih_iommu_device_unuse_default_domain() - undo the above (dma_cleanup). */
void ih_iommu_device_unuse_default_domain(struct ih_device *dev);

/**
 * ih_iommu_group_claim_dma_owner() - an explicit owner (cookie @owner) takes the group.
 * The group moves to its blocking domain. Return: 0; -EINVAL (NULL); -EBUSY when the
 * group is DMA-API owned or owned by another cookie; -ENOMEM; attach errors.
 */
int ih_iommu_group_claim_dma_owner(struct ih_iommu_group *group, const void *owner);
void ih_iommu_group_release_dma_owner(struct ih_iommu_group *group);

/* Per-device variants: the same cookie may claim several devices of one group. */
int ih_iommu_device_claim_dma_owner(struct ih_device *dev, const void *owner);
void ih_iommu_device_release_dma_owner(struct ih_device *dev);

bool ih_iommu_group_dma_owner_claimed(struct ih_iommu_group *group);

/**
 * ih_iommu_attach_group() - an explicit owner attaches its own @domain to the group.
 * Return: 0; -EBUSY when the group is not explicitly owned or another explicit domain is
 * attached (detach it first); driver attach errors (the group stays blocked).
 */
int ih_iommu_attach_group(struct ih_iommu_domain *domain, struct ih_iommu_group *group);
/* ih_iommu_detach_group() - back to the blocking domain. */
void ih_iommu_detach_group(struct ih_iommu_domain *domain, struct ih_iommu_group *group);

/**
 * ih_iommu_group_check() - verify the ownership invariants of @group now.
 * Return: 0, or -EUCLEAN with a message naming the broken invariant (also counted in
 * ih_iommu_invariant_violations()).
 */
int ih_iommu_group_check(struct ih_iommu_group *group);
unsigned long ih_iommu_invariant_violations(struct ih_world *w);

/* ---- Domains ---- */

/**
 * ih_iommu_domain_alloc() - a paging domain (IH_DOMAIN_UNMANAGED) for @dev's IOMMU.
 * Return: 0; -ENODEV (no IOMMU); driver errors.
 */
int ih_iommu_domain_alloc(struct ih_device *dev, struct ih_iommu_domain **out);
void ih_iommu_domain_free(struct ih_iommu_domain *domain);

/**
 * ih_iommu_map() - map [iova, iova + size) to @paddr, splitting into the largest page
 * sizes the domain supports for each piece's alignment.
 * Return: 0; -EINVAL (unaligned to the smallest page size, zero size, outside the
 * aperture); driver errors, after unmapping what this call mapped.
 */
int ih_iommu_map(struct ih_iommu_domain *domain, u64 iova, ih_pa_t paddr, size_t size,
		 int prot);

/**
 * ih_iommu_unmap() - unmap and synchronously invalidate. Return: bytes unmapped.
 * ih_iommu_unmap_fast() gathers the invalidation in @gather instead; the caller syncs with
 * ih_iommu_iotlb_sync().
 */
size_t ih_iommu_unmap(struct ih_iommu_domain *domain, u64 iova, size_t size);
size_t ih_iommu_unmap_fast(struct ih_iommu_domain *domain, u64 iova, size_t size,
			   struct ih_iommu_iotlb_gather *gather);
void ih_iommu_iotlb_sync(struct ih_iommu_domain *domain, struct ih_iommu_iotlb_gather *gather);
/* The PA @iova translates to in @domain (identity: @iova), or IH_PA_INVALID. */
ih_pa_t ih_iommu_iova_to_phys(struct ih_iommu_domain *domain, u64 iova);

#endif /* IH_IOMMU_GROUP_H */
