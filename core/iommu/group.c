// SPDX-License-Identifier: MIT
/* IOMMU groups: membership, default domains, DMA ownership and its invariants. */
#include <ih/alloc.h>
#include <ih/check.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/regress.h>
#include <ih/sched.h>
#include "iommu_priv.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "iommu-group: "

/*
 * Synchronisation: everything in struct ih_iommu_group below `mutex` is protected by it.
 * group_unlock() checks the ownership invariants before releasing, so a broken invariant
 * is seen at the first unlock after it breaks, with the group in that state.
 *
 * Members remember whether they are counted as a DMA-API user (dma_api_use), which is
 * what makes owner_cnt checkable: owner == NULL => owner_cnt == number of users.
 */
static void group_lock(struct ih_iommu_group *group)
{
	ih_mutex_lock(&group->mutex);
}

static int group_check_locked(struct ih_iommu_group *group);

static void group_unlock(struct ih_iommu_group *group)
{
	group_check_locked(group);
	ih_mutex_unlock(&group->mutex);
}

static struct ih_group_member *member_of(struct ih_iommu_group *group, struct ih_device *dev)
{
	for (struct ih_group_member *m = group->devices; m; m = m->next)
		if (m->dev == dev)
			return m;
	return NULL;
}

int ih_iommu_group_alloc(struct ih_world *w, struct ih_iommu_group **out)
{
	struct ih_iommu_state *st = ih_iommu_state(w);
	struct ih_iommu_group *group;

	*out = NULL;
	if (!st)
		return -ENOMEM;
	group = ih_alloc(w, sizeof(*group), "iommu:group");
	if (!group)
		return -ENOMEM;
	group->w = w;
	group->refcount = 1;
	ih_mutex_init(&group->mutex);
	pthread_mutex_lock(&st->ids_lock);
	group->id = st->next_group_id++;
	pthread_mutex_unlock(&st->ids_lock);
	*out = group;
	return 0;
}

struct ih_iommu_group *ih_iommu_group_ref(struct ih_iommu_group *group)
{
	if (group)
		__atomic_fetch_add(&group->refcount, 1, __ATOMIC_RELAXED);
	return group;
}

struct ih_iommu_group *ih_iommu_group_get(struct ih_device *dev)
{
	return ih_iommu_group_ref(READ_ONCE(dev->iommu_group));
}

static void free_domain(struct ih_iommu_domain *d)
{
	ih_iommu_domain_destroy(d);
}

void ih_iommu_group_put(struct ih_iommu_group *group)
{
	if (!group)
		return;
	if (__atomic_sub_fetch(&group->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	IH_BUG_ON(group->devices, "group %d released with members", group->id);
	free_domain(group->default_domain);
	if (group->blocking_domain != group->default_domain)
		free_domain(group->blocking_domain);
	ih_mutex_destroy(&group->mutex);
	ih_free(group->w, group);
}

int ih_iommu_group_id(const struct ih_iommu_group *group)
{
	return group->id;
}

unsigned int ih_iommu_group_num_devices(struct ih_iommu_group *group)
{
	unsigned int n;

	group_lock(group);
	n = group->num_devices;
	group_unlock(group);
	return n;
}

int ih_generic_device_group(struct ih_device *dev, struct ih_iommu_group **out)
{
	return ih_iommu_group_alloc(dev->world, out);
}

struct alias_search {
	u16 rid;
	struct ih_device *host;
	struct ih_iommu_group *found;
};

/* Does @other (a probed PCI function under the same host bridge) share an alias with @s? */
static int find_alias_group(struct ih_device *other, void *data)
{
	struct alias_search *s = data;
	struct ih_iommu_group *g = READ_ONCE(other->iommu_group);
	u16 rids[16];
	int n;

	if (!g || ih_pci_get_host_bridge(other) != s->host)
		return 0;
	n = ih_pci_dma_aliases(other, rids, ARRAY_SIZE(rids), NULL);
	for (int i = 0; i < n && i < (int)ARRAY_SIZE(rids); i++) {
		if (rids[i] == s->rid) {
			s->found = ih_iommu_group_ref(g);
			return 1;
		}
	}
	return 0;
}

int ih_pci_device_group(struct ih_device *dev, struct ih_iommu_group **out)
{
	struct alias_search s = { 0 };
	u16 rids[16];
	int n;

	if (!ih_dev_is_pci(dev))
		return ih_generic_device_group(dev, out);
	n = ih_pci_dma_aliases(dev, rids, ARRAY_SIZE(rids), &s.host);
	if (n < 0)
		return n;
	/* Any alias of ours that another probed function also emits joins us to its group. */
	for (int i = 0; i < n && i < (int)ARRAY_SIZE(rids) && !s.found; i++) {
		s.rid = rids[i];
		ih_bus_for_each_dev(dev->world, &ih_pci_bus_type, find_alias_group, &s);
	}
	if (s.found) {
		*out = s.found;
		return 0;
	}
	return ih_generic_device_group(dev, out);
}

static enum ih_domain_type default_type_for(struct ih_device *dev)
{
	const struct ih_iommu_ops *ops = ih_dev_iommu_ops(dev);
	int t = ops && ops->def_domain_type ? ops->def_domain_type(dev) : 0;

	if (t == IH_DOMAIN_IDENTITY || t == IH_DOMAIN_DMA || t == IH_DOMAIN_DMA_FQ)
		return (enum ih_domain_type)t;
	return ih_iommu_state(dev->world)->default_type;
}

static int attach_all_locked(struct ih_iommu_group *group, struct ih_iommu_domain *domain)
{
	for (struct ih_group_member *m = group->devices; m; m = m->next) {
		int ret = ih_iommu_domain_attach_dev(domain, m->dev);

		if (ret)
			return ret;
		m->attached = domain;
	}
	WRITE_ONCE(group->domain, domain);
	return 0;
}

/* Called from probe with the probe lock held, after the driver's probe_device succeeded. */
int ih_iommu_group_add_probed_dev(struct ih_device *dev)
{
	const struct ih_iommu_ops *ops = ih_dev_iommu_ops(dev);
	struct ih_iommu_group *group = NULL;
	struct ih_group_member *m;
	int ret;

	ret = ops->device_group(dev, &group);
	if (ret)
		return ret;
	if (!group)
		return -ENODEV;
	m = ih_alloc(dev->world, sizeof(*m), "iommu:group-member");
	if (!m) {
		ih_iommu_group_put(group);
		return -ENOMEM;
	}
	m->dev = dev;

	group_lock(group);
	if (!group->default_domain) {
		enum ih_domain_type type = default_type_for(dev);

		ret = ih_iommu_domain_alloc_type(dev, type, &group->default_domain);
		if (ret && type != IH_DOMAIN_DMA)
			ret = ih_iommu_domain_alloc_type(dev, IH_DOMAIN_DMA, &group->default_domain);
		if (ret)
			goto err_unlock;
	}
	if (!group->domain)
		WRITE_ONCE(group->domain, group->default_domain);
	ret = ih_iommu_domain_attach_dev(group->domain, dev);
	if (ret)
		goto err_unlock;
	m->attached = group->domain;
	m->next = group->devices;
	group->devices = m;
	group->num_devices++;
	/* The device keeps the reference device_group gave us. */
	WRITE_ONCE(dev->iommu_group, group);
	group_unlock(group);
	return 0;

err_unlock:
	if (!group->devices) {
		free_domain(group->default_domain);
		group->default_domain = NULL;
		WRITE_ONCE(group->domain, NULL);
	}
	group_unlock(group);
	ih_free(dev->world, m);
	ih_iommu_group_put(group);
	return ret;
}

/* Called from release with the probe lock held. */
void ih_iommu_group_remove_dev(struct ih_device *dev)
{
	struct ih_iommu_group *group = READ_ONCE(dev->iommu_group);
	struct ih_group_member *victim = NULL;

	if (!group)
		return;
	group_lock(group);
	for (struct ih_group_member **pp = &group->devices; *pp; pp = &(*pp)->next) {
		if ((*pp)->dev == dev) {
			victim = *pp;
			*pp = (*pp)->next;
			group->num_devices--;
			break;
		}
	}
	/* A device leaving while still counted as a user is an unbalanced claim. */
	if (victim && victim->dma_api_use) {
		IH_WARN_ON(group->w, 1, "iommu-group: %s removed while a DMA-API user", dev->name);
		if (group->owner_cnt)
			group->owner_cnt--;
	}
	WRITE_ONCE(dev->iommu_group, NULL);
	if (!group->devices)
		WRITE_ONCE(group->domain, NULL);
	/* Device DMA in flight may still read the group and its domain (ih_dma_access()). */
	ih_iommu_dma_quiesce(group->w);
	if (!group->devices) {
		/* Last member: drop the domains now, while the driver instance is still there. */
		free_domain(group->default_domain);
		if (group->blocking_domain != group->default_domain)
			free_domain(group->blocking_domain);
		group->default_domain = group->blocking_domain = NULL;
		WRITE_ONCE(group->domain, NULL);
	}
	group_unlock(group);
	ih_free(dev->world, victim);
	ih_iommu_group_put(group);
}

void ih_iommu_group_get_info(struct ih_iommu_group *group, struct ih_iommu_group_info *info)
{
	group_lock(group);
	info->id = group->id;
	info->num_devices = group->num_devices;
	info->owner_cnt = group->owner_cnt;
	info->explicit_owner = group->owner != NULL;
	info->in_default_domain = group->domain && group->domain == group->default_domain;
	info->has_default = group->default_domain != NULL;
	info->default_type = info->has_default ? ih_domain_type(group->default_domain) : IH_DOMAIN_BLOCKED;
	info->has_domain = group->domain != NULL;
	info->domain_type = info->has_domain ? ih_domain_type(group->domain) : IH_DOMAIN_BLOCKED;
	group_unlock(group);
}

/*
 * Lockless, as the kernel's: the DMA API and device DMA ask this on every call and must not
 * wait for a group mutex held across a domain change (the live flip holds it while unmaps
 * run). Writers store group->domain with WRITE_ONCE under the mutex.
 */
struct ih_iommu_domain *ih_iommu_get_domain_for_dev(struct ih_device *dev)
{
	struct ih_iommu_group *group = READ_ONCE(dev->iommu_group);

	return group ? READ_ONCE(group->domain) : NULL;
}

struct ih_iommu_domain *ih_iommu_get_dma_domain(struct ih_device *dev)
{
	struct ih_iommu_group *group = READ_ONCE(dev->iommu_group);

	return group ? READ_ONCE(group->default_domain) : NULL;
}

int ih_iommu_set_default_domain_type(struct ih_world *w, enum ih_domain_type type)
{
	struct ih_iommu_state *st = ih_iommu_state(w);

	if (!st)
		return -ENOMEM;
	if (type != IH_DOMAIN_IDENTITY && type != IH_DOMAIN_DMA && type != IH_DOMAIN_DMA_FQ)
		return -EINVAL;
	st->default_type = type;
	return 0;
}

/* ---- DMA ownership ---- */

int ih_iommu_device_use_default_domain(struct ih_device *dev)
{
	struct ih_iommu_group *group = READ_ONCE(dev->iommu_group);
	struct ih_group_member *m;
	int ret = 0;

	if (!group)
		return 0;
	if (ih_regress_on(dev->world, IH_REGRESS_OWNERSHIP_UNSERIALISED)) {
		/* Old code: a lockless read-modify-write that siblings can interleave with. */
		unsigned int cnt = READ_ONCE(group->owner_cnt);

		if (cnt && (READ_ONCE(group->owner) || group->domain != group->default_domain))
			return -EBUSY;
		ih_sched_point(dev->world, "ownership:use-before-store");
		WRITE_ONCE(group->owner_cnt, cnt + 1);
		m = member_of(group, dev);
		if (m)
			m->dma_api_use = true;
		return 0;
	}
	group_lock(group);
	m = member_of(group, dev);
	if (!group->default_domain) {
		ret = -EPROBE_DEFER;
	} else if (group->owner_cnt && (group->owner || group->domain != group->default_domain)) {
		ret = -EBUSY;
	} else if (m && !m->dma_api_use) {
		group->owner_cnt++;
		m->dma_api_use = true;
	}
	group_unlock(group);
	return ret;
}

void ih_iommu_device_unuse_default_domain(struct ih_device *dev)
{
	struct ih_iommu_group *group = READ_ONCE(dev->iommu_group);
	struct ih_group_member *m;

	if (!group)
		return;
	if (ih_regress_on(dev->world, IH_REGRESS_OWNERSHIP_UNSERIALISED)) {
		unsigned int cnt = READ_ONCE(group->owner_cnt);

		ih_sched_point(dev->world, "ownership:unuse-before-store");
		if (cnt)
			WRITE_ONCE(group->owner_cnt, cnt - 1);
		m = member_of(group, dev);
		if (m)
			m->dma_api_use = false;
		return;
	}
	group_lock(group);
	m = member_of(group, dev);
	if (!IH_WARN_ON(group->w, !m || !m->dma_api_use || !group->owner_cnt || group->owner,
			"iommu-group: %s: unbalanced unuse of the default domain", dev->name)) {
		group->owner_cnt--;
		m->dma_api_use = false;
	}
	group_unlock(group);
}

static int ensure_blocking_locked(struct ih_iommu_group *group)
{
	if (group->blocking_domain)
		return 0;
	if (!group->devices)
		return -ENODEV;
	return ih_iommu_domain_alloc_type(group->devices->dev, IH_DOMAIN_BLOCKED,
					  &group->blocking_domain);
}

static int take_ownership_locked(struct ih_iommu_group *group, const void *owner)
{
	int ret = ensure_blocking_locked(group);

	if (ret)
		return ret;
	ret = attach_all_locked(group, group->blocking_domain);
	if (ret) {
		attach_all_locked(group, group->default_domain);
		return ret;
	}
	group->owner = owner;
	group->owner_cnt++;
	return 0;
}

static void release_ownership_locked(struct ih_iommu_group *group)
{
	if (group->default_domain)
		attach_all_locked(group, group->default_domain);
	group->owner = NULL;
	group->owner_cnt = 0;
	for (struct ih_group_member *d = group->devices; d; d = d->next)
		d->explicit_claims = 0;
}

int ih_iommu_group_claim_dma_owner(struct ih_iommu_group *group, const void *owner)
{
	int ret;

	if (!group || IH_WARN_ON(group->w, !owner))
		return -EINVAL;
	group_lock(group);
	ret = group->owner_cnt ? -EBUSY : take_ownership_locked(group, owner);
	group_unlock(group);
	return ret;
}

void ih_iommu_group_release_dma_owner(struct ih_iommu_group *group)
{
	if (!group)
		return;
	group_lock(group);
	if (!IH_WARN_ON(group->w, !group->owner || !group->owner_cnt,
			"iommu-group %d: release of an unclaimed group", group->id))
		release_ownership_locked(group);
	group_unlock(group);
}

int ih_iommu_device_claim_dma_owner(struct ih_device *dev, const void *owner)
{
	struct ih_iommu_group *group = READ_ONCE(dev->iommu_group);
	struct ih_group_member *m;
	int ret = 0;

	if (!group)
		return -ENODEV;
	if (IH_WARN_ON(dev->world, !owner))
		return -EINVAL;
	group_lock(group);
	m = member_of(group, dev);
	if (group->owner_cnt) {
		if (group->owner != owner)
			ret = -EBUSY;
		else
			group->owner_cnt++;
	} else {
		ret = take_ownership_locked(group, owner);
	}
	if (!ret && m)
		m->explicit_claims++;
	group_unlock(group);
	return ret;
}

void ih_iommu_device_release_dma_owner(struct ih_device *dev)
{
	struct ih_iommu_group *group = READ_ONCE(dev->iommu_group);
	struct ih_group_member *m;

	if (!group)
		return;
	group_lock(group);
	m = member_of(group, dev);
	if (!IH_WARN_ON(dev->world, !group->owner || !group->owner_cnt || !m || !m->explicit_claims,
			"iommu-group: %s: release of an unclaimed device", dev->name)) {
		m->explicit_claims--;
		if (--group->owner_cnt == 0)
			release_ownership_locked(group);
	}
	group_unlock(group);
}

bool ih_iommu_group_dma_owner_claimed(struct ih_iommu_group *group)
{
	bool owned;

	group_lock(group);
	owned = group->owner_cnt != 0;
	group_unlock(group);
	return owned;
}

int ih_iommu_attach_group(struct ih_iommu_domain *domain, struct ih_iommu_group *group)
{
	int ret;

	if (!domain || !group)
		return -EINVAL;
	group_lock(group);
	/*
	 * One explicit domain at a time: an owner attaches only over the blocking domain its
	 * claim installed, as Linux's __iommu_attach_group() refuses a group whose domain is
	 * neither the default nor the blocking one. Replacing a live domain would leave its
	 * attacher detaching a domain that is no longer there (fuzz_board_ops found it: two
	 * owners of one cookie in a multi-device group).
	 */
	if (!group->owner || group->domain != group->blocking_domain) {
		ret = -EBUSY;
	} else {
		ret = attach_all_locked(group, domain);
		if (ret)
			attach_all_locked(group, group->blocking_domain);
	}
	group_unlock(group);
	return ret;
}

void ih_iommu_detach_group(struct ih_iommu_domain *domain, struct ih_iommu_group *group)
{
	if (!group)
		return;
	group_lock(group);
	if (!IH_WARN_ON(group->w, group->domain != domain || !group->owner,
			"iommu-group %d: detach of a domain that is not attached", group->id))
		attach_all_locked(group, group->blocking_domain);
	group_unlock(group);
	/* The caller may free @domain next: device DMA in flight may still walk it. */
	ih_iommu_dma_quiesce(group->w);
}

/*
 * The live strict-to-lazy flip of the default domain (group mutex held): the DMA layer
 * builds and publishes the flush queue, then the type says DMA-FQ; unmaps already running
 * see either the whole old mode or the whole new one (ih/dma.h). The domain is kept, so
 * bound drivers and their mappings carry on. fq-flip-unordered sets the type first, as
 * v3 of the 2021 series did (the DMA layer turns it back if its init fails).
 */
static int group_flip_to_lazy_locked(struct ih_iommu_group *group, struct ih_iommu_domain *d)
{
	int ret;

	ih_lockdep_assert_held(&group->mutex);
	if (ih_regress_on(group->w, IH_REGRESS_FQ_FLIP_UNORDERED)) {
		WRITE_ONCE(d->type, IH_DOMAIN_DMA_FQ);
		return ih_dma_init_fq(d);
	}
	ret = ih_dma_init_fq(d);
	if (ret)
		return ret;
	WRITE_ONCE(d->type, IH_DOMAIN_DMA_FQ);
	return 0;
}

int ih_iommu_group_store_type(struct ih_iommu_group *group, enum ih_domain_type type)
{
	struct ih_iommu_domain *old, *nd = NULL;
	const struct ih_iommu_ops *ops;
	int ret;

	if (!group)
		return -EINVAL;
	if (type != IH_DOMAIN_IDENTITY && type != IH_DOMAIN_DMA && type != IH_DOMAIN_DMA_FQ)
		return -EINVAL;
	group_lock(group);
	if (!group->devices) {
		ret = -ENODEV;
		goto out;
	}
	ops = ih_dev_iommu_ops(group->devices->dev);
	if (ops && ops->def_domain_type) {
		for (struct ih_group_member *d = group->devices; d; d = d->next) {
			int want = ops->def_domain_type(d->dev);

			if (want && want != (int)type) {
				ret = -EINVAL;
				goto out;
			}
		}
	}
	old = group->default_domain;
	if (old && old->type == type) {
		ret = 0;
		goto out;
	}
	/* Strict to lazy needs no new domain, so it is allowed while drivers use this one. */
	if (old && old->type == IH_DOMAIN_DMA && type == IH_DOMAIN_DMA_FQ) {
		ret = group_flip_to_lazy_locked(group, old);
		goto out;
	}
	if (group->owner_cnt || group->owner) {
		ret = -EBUSY;
		goto out;
	}
	ret = ih_iommu_domain_alloc_type(group->devices->dev, type, &nd);
	if (ret)
		goto out;
	ret = attach_all_locked(group, nd);
	if (ret) {
		attach_all_locked(group, old);
		free_domain(nd);
		goto out;
	}
	group->default_domain = nd;
	ih_iommu_dma_quiesce(group->w); /* device DMA in flight may still walk @old */
	free_domain(old);
out:
	group_unlock(group);
	return ret;
}

/* ---- Invariants ---- */

static int violation(struct ih_iommu_group *group, const char *what)
{
	struct ih_iommu_state *st = ih_iommu_state(group->w);

	__atomic_fetch_add(&st->invariant_violations, 1, __ATOMIC_RELAXED);
	/* Also into the world's report sink, which logs it. */
	ih_report(group->w, IH_REPORT_GROUP_INVARIANT, group->devices ? group->devices->dev->name : "",
		  "iommu_group_check", 0, 0, "iommu-group %d: invariant broken: %s (owner_cnt %u, %s)",
		  group->id, what, group->owner_cnt, group->owner ? "explicit owner" : "DMA API");
	return -EUCLEAN;
}

static int group_check_locked(struct ih_iommu_group *group)
{
	unsigned int users = 0, claims = 0;

	for (struct ih_group_member *d = group->devices; d; d = d->next) {
		struct ih_group_member *m = d;
		struct ih_driver *drv = ih_device_driver(m->dev);

		if (m->dma_api_use) {
			users++;
			if (!drv)
				return violation(group, "a DMA-API user has no driver bound");
			if (drv->driver_managed_dma)
				return violation(group, "a driver_managed_dma driver counted as DMA-API user");
		}
		claims += m->explicit_claims;
		if (m->attached != group->domain)
			return violation(group, "a member is not attached to the group's domain");
	}
	if (group->owner) {
		if (users)
			return violation(group, "explicit owner while DMA-API users are counted");
		if (group->domain && group->domain == group->default_domain)
			return violation(group, "explicit owner left in the default domain");
		if (claims > group->owner_cnt)
			return violation(group, "more device claims than owner_cnt");
	} else {
		if (group->owner_cnt != users)
			return violation(group, "owner_cnt differs from the number of DMA-API users");
		if (group->owner_cnt && group->domain != group->default_domain)
			return violation(group, "DMA-API owned but not in the default domain");
	}
	return 0;
}

int ih_iommu_group_check(struct ih_iommu_group *group)
{
	int ret;

	ih_mutex_lock(&group->mutex);
	ret = group_check_locked(group);
	ih_mutex_unlock(&group->mutex);
	return ret;
}

unsigned long ih_iommu_invariant_violations(struct ih_world *w)
{
	struct ih_iommu_state *st = ih_iommu_state(w);

	return st ? __atomic_load_n(&st->invariant_violations, __ATOMIC_RELAXED) : 0;
}
