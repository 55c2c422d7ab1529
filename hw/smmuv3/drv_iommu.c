// SPDX-License-Identifier: MIT
/* SMMUv3 driver: the IOMMU core's ops, domains, and TLB maintenance for io-pgtable. */
#include <inttypes.h>
#include <string.h>

#define IH_LOG_PREFIX "smmuv3: "
#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/iommu_group.h>

#include "drv_priv.h"

/*
 * Lock order: core locks -> cfg_lock -> cmdq_lock; io-pgtable table lock -> cmdq_lock (the
 * flush ops below run with the table lock held and take only cmdq_lock).
 */

static struct ih_smmuv3 *smmu_of_iommu(struct ih_iommu_device *iommu)
{
	return iommu && iommu->ops == &smmu_iommu_ops ? container_of(iommu, struct ih_smmuv3, iommu)
						      : NULL;
}

static struct ih_smmuv3 *smmu_of_dev(struct ih_device *dev)
{
	struct ih_dev_iommu *param = READ_ONCE(dev->iommu);

	return param ? smmu_of_iommu(param->iommu_dev) : NULL;
}

static struct smmu_domain *to_smmu_domain(struct ih_iommu_domain *domain)
{
	return container_of(domain, struct smmu_domain, domain);
}

/* ---- ASIDs (cfg_lock). ASID 0 is never handed out, as a guard against unset CDs. ---- */

#define LONG_BITS (8 * sizeof(unsigned long))

static int smmu_asid_alloc(struct ih_smmuv3 *smmu, u16 *asid)
{
	unsigned long n = 1UL << smmu->asid_bits;

	ih_lockdep_assert_held(&smmu->cfg_lock);
	for (unsigned long i = 1; i < n; i++) {
		if (smmu->asid_map[i / LONG_BITS] & (1UL << (i % LONG_BITS)))
			continue;
		smmu->asid_map[i / LONG_BITS] |= 1UL << (i % LONG_BITS);
		*asid = (u16)i;
		return 0;
	}
	return -ENOSPC;
}

static void smmu_asid_free(struct ih_smmuv3 *smmu, u16 asid)
{
	ih_lockdep_assert_held(&smmu->cfg_lock);
	smmu->asid_map[asid / LONG_BITS] &= ~(1UL << (asid % LONG_BITS));
}

/* ---- TLB maintenance (IHI 0070, 4.4 "TLB invalidation") ---- */

static int smmu_tlbi_asid_sync(struct smmu_domain *d)
{
	u64 cmd[1][2];

	if (d->smmu->cfg.test_forget_tlbi)
		return smmu_cmdq_submit(d->smmu, cmd, 0, true);
	smmu_cmd_tlbi_asid(cmd[0], d->asid);
	return smmu_cmdq_submit(d->smmu, cmd, 1, true);
}

/*
 * Invalidate [iova, iova + size) of the domain's ASID, then CMD_SYNC. @granule is the leaf
 * size when @leaf (it gives the TTL hint of a range TLBI), else the walk granularity.
 *
 * With range invalidation (IDR3.RIL) one TLBI_NH_VA covers (NUM + 1) * 2^SCALE granules
 * of the table's page size TG at a granule-aligned Address (4.4.1), so a range is cut into
 * chunks of 2^SCALE pages, smallest scale first: each round removes the lowest set bit
 * group of the page count. Without it, one TLBI_NH_VA per @granule page; from
 * SMMU_MAX_TLBI_OPS of them on, one TLBI_NH_ASID is cheaper and just as correct.
 */
static int smmu_tlbi_range_sync(struct smmu_domain *d, u64 iova, size_t size, size_t granule,
				bool leaf)
{
	struct ih_smmuv3 *smmu = d->smmu;
	unsigned int tg_shift = (unsigned int)__builtin_ctzl(d->pgt_cfg.pgsize_bitmap);
	u64 base = FIELD_PREP(SMMUV3_CMD0_OP, SMMUV3_OP_TLBI_NH_VA) |
		   FIELD_PREP(SMMUV3_CMD0_ASID, d->asid);
	u64 cmds[32][2];
	unsigned int n = 0;
	int ret = 0;

	if (smmu->cfg.test_forget_tlbi || !size)
		return smmu_cmdq_submit(smmu, cmds, 0, true);
	if (!granule || granule < (1UL << tg_shift)) {
		granule = 1UL << tg_shift;
		leaf = false; /* no TTL hint: entries of any size go */
	}
	if (smmu->range_inv) {
		u64 start = IH_ALIGN_DOWN(iova, 1ULL << tg_shift);
		u64 end = IH_ALIGN_UP(iova + size, 1ULL << tg_shift);
		u64 pages = (end - start) >> tg_shift;
		/* TG: 0b01 4K, 0b10 16K, 0b11 64K; TTL: level of @granule leaves (4.4.1.1). */
		unsigned int tg = tg_shift == 12 ? 1 : tg_shift == 14 ? 2 : 3;
		unsigned int ttl = 0;

		if (leaf)
			ttl = 4 - ((unsigned int)__builtin_ctzl(granule) - 3) / (tg_shift - 3);
		while (pages) {
			unsigned int scale = ih_min((unsigned int)__builtin_ctzll(pages), 31u);
			u64 num = ih_min(pages >> scale, (u64)SMMUV3_TLBI_RANGE_NUM_MAX + 1);

			cmds[n][0] = base | FIELD_PREP(SMMUV3_CMD0_NUM, num - 1) |
				     FIELD_PREP(SMMUV3_CMD0_SCALE, scale);
			cmds[n][1] = (start & SMMUV3_CMD1_ADDR) | FIELD_PREP(SMMUV3_CMD1_TG, tg) |
				     FIELD_PREP(SMMUV3_CMD1_TTL, ttl) |
				     (leaf ? SMMUV3_CMD1_LEAF : 0);
			start += num << (scale + tg_shift);
			pages -= num << scale;
			if (++n == ARRAY_SIZE(cmds) && pages) {
				ret = smmu_cmdq_submit(smmu, cmds, n, false);
				n = 0;
			}
		}
		return ret ? ret : smmu_cmdq_submit(smmu, cmds, n, true);
	}
	if (size / granule >= SMMU_MAX_TLBI_OPS)
		return smmu_tlbi_asid_sync(d);
	for (u64 at = IH_ALIGN_DOWN(iova, (u64)granule); at < iova + size; at += granule) {
		cmds[n][0] = base;
		cmds[n][1] = (at & SMMUV3_CMD1_ADDR) | (leaf ? SMMUV3_CMD1_LEAF : 0);
		if (++n == ARRAY_SIZE(cmds) && at + granule < iova + size) {
			ret = smmu_cmdq_submit(smmu, cmds, n, false);
			n = 0;
		}
	}
	return ret ? ret : smmu_cmdq_submit(smmu, cmds, n, true);
}

static void smmu_flush_report(struct smmu_domain *d, int ret, const char *what)
{
	if (ret)
		ih_log(d->smmu->w, IH_LOG_GUEST_ERROR, "%s: %s for asid %u failed (%d)",
		       d->smmu->name, what, d->asid, ret);
}

static void smmu_tlb_flush_all(void *cookie)
{
	struct smmu_domain *d = cookie;

	smmu_flush_report(d, smmu_tlbi_asid_sync(d), "flush all");
}

static void smmu_tlb_flush_walk(u64 iova, size_t size, size_t granule, void *cookie)
{
	struct smmu_domain *d = cookie;

	/* Non-leaf: a table is going, so walk caches holding it must go too. */
	smmu_flush_report(d, smmu_tlbi_range_sync(d, iova, size, granule, false), "flush walk");
}

static void smmu_iotlb_sync(struct ih_iommu_domain *domain, struct ih_iommu_iotlb_gather *gather)
{
	struct smmu_domain *d = to_smmu_domain(domain);

	if (gather->start > gather->end)
		return; /* nothing gathered */
	smmu_flush_report(d,
			  smmu_tlbi_range_sync(d, gather->start, gather->end - gather->start + 1,
					       gather->pgsize, gather->pgsize != 0),
			  "iotlb sync");
}

static void smmu_tlb_add_page(struct ih_iommu_iotlb_gather *gather, u64 iova, size_t granule,
			      void *cookie)
{
	struct smmu_domain *d = cookie;

	/*
	 * One gather describes one range of one leaf size: sync what it holds before taking
	 * a page of another size or one that would widen it over a gap.
	 */
	if (gather->pgsize && (gather->pgsize != granule ||
			       ih_iommu_iotlb_gather_is_disjoint(gather, iova, granule))) {
		smmu_iotlb_sync(&d->domain, gather);
		ih_iommu_iotlb_gather_init(gather);
	}
	ih_iommu_iotlb_gather_add_range(gather, iova, granule);
	gather->pgsize = granule;
}

static const struct ih_iommu_flush_ops smmu_flush_ops = {
    .tlb_flush_all = smmu_tlb_flush_all,
    .tlb_flush_walk = smmu_tlb_flush_walk,
    .tlb_add_page = smmu_tlb_add_page,
};

/* ---- Domain ops ---- */

static int smmu_attach_dev(struct ih_iommu_domain *domain, struct ih_device *dev)
{
	struct smmu_domain *d = to_smmu_domain(domain);
	struct smmu_master *master = ih_dev_iommu_priv_get(dev);
	int ret;

	if (!master)
		return -ENODEV;
	if (master->smmu != d->smmu)
		return -EINVAL;
	ih_mutex_lock(&d->smmu->cfg_lock);
	ret = smmu_master_install(master, d);
	ih_mutex_unlock(&d->smmu->cfg_lock);
	return ret;
}

static int smmu_map_pages(struct ih_iommu_domain *domain, u64 iova, ih_pa_t paddr, size_t pgsize,
			  size_t pgcount, int prot, size_t *mapped)
{
	struct smmu_domain *d = to_smmu_domain(domain);

	/* No TLBI: the SMMU caches no "invalid" translations (16.2). */
	return d->pgt->map_pages(d->pgt, iova, paddr, pgsize, pgcount, prot, mapped);
}

static size_t smmu_unmap_pages(struct ih_iommu_domain *domain, u64 iova, size_t pgsize,
			       size_t pgcount, struct ih_iommu_iotlb_gather *gather)
{
	struct smmu_domain *d = to_smmu_domain(domain);

	return d->pgt->unmap_pages(d->pgt, iova, pgsize, pgcount, gather);
}

static void smmu_flush_iotlb_all(struct ih_iommu_domain *domain)
{
	smmu_tlb_flush_all(to_smmu_domain(domain));
}

static ih_pa_t smmu_iova_to_phys(struct ih_iommu_domain *domain, u64 iova)
{
	struct smmu_domain *d = to_smmu_domain(domain);

	return d->pgt->iova_to_phys(d->pgt, iova);
}

/*
 * The pre-5.15 way of going lazy on a live domain (only the fq-flip-unordered replay asks):
 * a relaxed store into the io-pgtable's quirks, with nothing ordering it against a
 * concurrent unmap, exactly what the review of seed 002 objected to.
 */
static int smmu_set_pgtable_quirks(struct ih_iommu_domain *domain, unsigned long quirks)
{
	struct smmu_domain *d = to_smmu_domain(domain);

	return d->pgt ? ih_io_pgtable_set_quirks(d->pgt, quirks) : -EINVAL;
}

static void smmu_domain_free(struct ih_iommu_domain *domain)
{
	struct smmu_domain *d = to_smmu_domain(domain);
	struct ih_smmuv3 *smmu = d->smmu;

	/*
	 * The core frees a group's domains when its last device leaves, before that device's
	 * release_device: whoever still points at the domain goes back to the unattached
	 * STE first, so the SMMU never walks freed tables.
	 */
	ih_mutex_lock(&smmu->cfg_lock);
	while (d->masters)
		smmu_master_install(d->masters, NULL);
	ih_mutex_unlock(&smmu->cfg_lock);
	/* tlb_flush_all (TLBI by ASID + SYNC) runs before the tables go. */
	ih_io_pgtable_free(d->pgt);
	ih_mutex_lock(&smmu->cfg_lock);
	if (d->kind == SMMU_DOMAIN_S1)
		smmu_asid_free(smmu, d->asid);
	smmu->domains_alive--;
	ih_mutex_unlock(&smmu->cfg_lock);
	ih_free(smmu->w, d);
}

static const struct ih_iommu_domain_ops smmu_paging_ops = {
    .attach_dev = smmu_attach_dev,
    .map_pages = smmu_map_pages,
    .unmap_pages = smmu_unmap_pages,
    .flush_iotlb_all = smmu_flush_iotlb_all,
    .iotlb_sync = smmu_iotlb_sync,
    .iova_to_phys = smmu_iova_to_phys,
    .set_pgtable_quirks = smmu_set_pgtable_quirks,
    .free = smmu_domain_free,
};

static const struct ih_iommu_domain_ops smmu_static_ops = {
    .attach_dev = smmu_attach_dev,
    .free = smmu_domain_free,
};

static int smmu_domain_init_s1(struct smmu_domain *d)
{
	struct ih_smmuv3 *smmu = d->smmu;
	int ret;

	ih_mutex_lock(&smmu->cfg_lock);
	ret = smmu_asid_alloc(smmu, &d->asid);
	ih_mutex_unlock(&smmu->cfg_lock);
	if (ret)
		return ret;
	d->pgt_cfg = (struct ih_io_pgtable_cfg){
	    .pgsize_bitmap = smmu->pgsize_bitmap,
	    .ias = smmu->cfg.ias,
	    .oas = ih_min(smmu->oas, 48u),
	    .coherent_walk = smmu->coherent,
	    .tlb = &smmu_flush_ops,
	};
	d->pgt = ih_io_pgtable_alloc(smmu->w, IH_ARM_64_LPAE_S1, &d->pgt_cfg, d);
	if (!d->pgt) {
		ih_mutex_lock(&smmu->cfg_lock);
		smmu_asid_free(smmu, d->asid);
		ih_mutex_unlock(&smmu->cfg_lock);
		return -ENOMEM;
	}
	d->domain.pgsize_bitmap = d->pgt_cfg.pgsize_bitmap;
	d->domain.aperture_start = 0;
	d->domain.aperture_end = (1ULL << d->pgt_cfg.ias) - 1;
	return 0;
}

static int smmu_domain_alloc(struct ih_device *dev, enum ih_domain_type type,
			     struct ih_iommu_domain **out)
{
	struct ih_smmuv3 *smmu = smmu_of_dev(dev);
	struct smmu_domain *d;
	int ret;

	if (!smmu)
		return -ENODEV;
	if ((type == IH_DOMAIN_UNMANAGED || type == IH_DOMAIN_DMA || type == IH_DOMAIN_DMA_FQ) &&
	    !smmu->stage1)
		return -EOPNOTSUPP;
	if (type > IH_DOMAIN_DMA_FQ)
		return -EOPNOTSUPP;
	d = ih_alloc(smmu->w, sizeof(*d), "smmuv3:domain");
	if (!d)
		return -ENOMEM;
	d->smmu = smmu;
	switch (type) {
	case IH_DOMAIN_BLOCKED:
		d->kind = SMMU_DOMAIN_BLOCKED;
		d->domain.ops = &smmu_static_ops;
		break;
	case IH_DOMAIN_IDENTITY:
		d->kind = SMMU_DOMAIN_BYPASS;
		d->domain.ops = &smmu_static_ops;
		break;
	default:
		d->kind = SMMU_DOMAIN_S1;
		d->domain.ops = &smmu_paging_ops;
		ret = smmu_domain_init_s1(d);
		if (ret) {
			ih_free(smmu->w, d);
			return ret;
		}
		break;
	}
	ih_mutex_lock(&smmu->cfg_lock);
	smmu->domains_alive++;
	ih_mutex_unlock(&smmu->cfg_lock);
	*out = &d->domain;
	return 0;
}

struct ih_io_pgtable_ops *ih_smmuv3_domain_pgtable(struct ih_iommu_domain *domain)
{
	return domain && domain->ops == &smmu_paging_ops ? to_smmu_domain(domain)->pgt : NULL;
}

/* ---- Device ops ---- */

static int smmu_of_xlate(struct ih_device *dev, const struct ih_fw_iommu_args *args)
{
	struct ih_smmuv3 *smmu = smmu_of_iommu(ih_iommu_device_find(dev->world, args->fwnode));
	u32 sid;

	if (!smmu)
		return -ENODEV;
	/* #iommu-cells = <1>: the one cell is the StreamID. */
	if (args->nargs != 1) {
		ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: %s: %u IOMMU cells, expected 1",
		       smmu->name, dev->name, args->nargs);
		return -EINVAL;
	}
	sid = args->args[0];
	if ((u64)sid >> smmu->sid_bits) {
		ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: %s: StreamID 0x%x beyond %u SID bits",
		       smmu->name, dev->name, sid, smmu->sid_bits);
		return -EINVAL;
	}
	/*
	 * Old drivers allocated their per-device data here, before anything could fail,
	 * and lost it when a later probe step did (seed 000's "leaking on error paths").
	 * The fixed driver allocates it in probe_device and owns it until release_device.
	 */
	if (ih_regress_on(smmu->w, IH_REGRESS_XLATE_LEAK) && !ih_dev_iommu_priv_get(dev)) {
		struct smmu_master *early = ih_alloc(smmu->w, sizeof(*early), "smmuv3:master");

		if (!early)
			return -ENOMEM;
		ih_dev_iommu_priv_set(dev, early);
	}
	return ih_iommu_fwspec_add_ids(dev, &sid, 1);
}

/* The probed master that owns @sid, or NULL. Context: cfg_lock held. */
static struct smmu_master *smmu_sid_owner(struct ih_smmuv3 *smmu, u32 sid)
{
	ih_lockdep_assert_held(&smmu->cfg_lock);
	for (struct smmu_master *m = smmu->masters; m; m = m->smmu_next)
		for (unsigned int i = 0; i < m->num_sids; i++)
			if (m->sids[i] == sid)
				return m;
	return NULL;
}

static int smmu_probe_device(struct ih_device *dev, struct ih_iommu_device **iommu)
{
	struct ih_iommu_fwspec *fwspec = ih_dev_iommu_fwspec_get(dev);
	struct ih_smmuv3 *smmu;
	struct smmu_master *master;
	int ret = 0;

	if (!fwspec || !fwspec->num_ids)
		return -ENODEV;
	smmu = smmu_of_iommu(ih_iommu_device_find(dev->world, fwspec->iommu_fwnode));
	if (!smmu)
		return -ENODEV;
	for (unsigned int i = 0; i < fwspec->num_ids; i++) {
		if ((u64)fwspec->ids[i] >> smmu->sid_bits) {
			ih_log(smmu->w, IH_LOG_GUEST_ERROR, "%s: %s: StreamID 0x%x out of range",
			       smmu->name, dev->name, fwspec->ids[i]);
			return -ERANGE;
		}
	}
	/* With xlate-leak, of_xlate already allocated it, and the error paths forget it. */
	master = ih_dev_iommu_priv_get(dev);
	if (master) {
		master->sids = ih_alloc_array(smmu->w, fwspec->num_ids, sizeof(u32),
					      "smmuv3:master-sids");
		if (!master->sids)
			return -ENOMEM;
	} else {
		master = ih_alloc(smmu->w, sizeof(*master), "smmuv3:master");
		if (!master)
			return -ENOMEM;
		master->sids = ih_alloc_array(smmu->w, fwspec->num_ids, sizeof(u32),
					      "smmuv3:master-sids");
		if (!master->sids) {
			ret = -ENOMEM;
			goto free_master;
		}
	}
	memcpy(master->sids, fwspec->ids, fwspec->num_ids * sizeof(u32));
	master->num_sids = fwspec->num_ids;
	master->smmu = smmu;
	master->dev = dev;
	master->cdtab = IH_PA_INVALID;
	ih_mutex_lock(&smmu->cfg_lock);
	/*
	 * One StreamID has one STE, so it can serve one master: a second device claiming it
	 * would silently retarget the first one's DMA at its own domain. Refuse it with
	 * -ENODEV, as current Linux does when its stream tree already holds the ID (older
	 * kernels: -EINVAL). Repeats within one master (PCI aliases) are fine.
	 */
	for (unsigned int i = 0; i < master->num_sids && !ret; i++) {
		struct smmu_master *other = smmu_sid_owner(smmu, master->sids[i]);

		if (other) {
			ih_log(smmu->w, IH_LOG_GUEST_ERROR,
			       "%s: %s: StreamID 0x%x already used by %s, refused", smmu->name,
			       dev->name, master->sids[i], other->dev->name);
			ret = -ENODEV;
		}
	}
	/* Level-2 stream tables on demand; they stay until remove (the kernel's choice). */
	for (unsigned int i = 0; i < master->num_sids && !ret; i++)
		ret = smmu_strtab_ensure_l2(smmu, master->sids[i]);
	if (!ret) {
		master->smmu_next = smmu->masters;
		smmu->masters = master;
	}
	ih_mutex_unlock(&smmu->cfg_lock);
	if (ret)
		goto free_sids;
	ih_dev_iommu_priv_set(dev, master);
	*iommu = &smmu->iommu;
	return 0;

free_sids:
	ih_free(smmu->w, master->sids);
free_master:
	ih_free(smmu->w, master);
	return ret;
}

static void smmu_release_device(struct ih_device *dev)
{
	struct smmu_master *master = ih_dev_iommu_priv_get(dev);
	struct ih_smmuv3 *smmu;

	if (!master)
		return;
	smmu = master->smmu;
	/* Back to the unattached STE (abort, or bypass) with CFGI_STE + CMD_SYNC. */
	ih_mutex_lock(&smmu->cfg_lock);
	smmu_master_install(master, NULL);
	for (struct smmu_master **pp = &smmu->masters; *pp; pp = &(*pp)->smmu_next) {
		if (*pp == master) {
			*pp = master->smmu_next;
			break;
		}
	}
	ih_mutex_unlock(&smmu->cfg_lock);
	if (master->cdtab != IH_PA_INVALID)
		ih_pm_free(smmu->w, master->cdtab, 64);
	ih_dev_iommu_priv_set(dev, NULL);
	ih_free(smmu->w, master->sids);
	ih_free(smmu->w, master);
}

static int smmu_device_group(struct ih_device *dev, struct ih_iommu_group **group)
{
	/* PCI: functions sharing a requester-ID alias share a group; platform: one each. */
	if (ih_dev_is_pci(dev))
		return ih_pci_device_group(dev, group);
	return ih_generic_device_group(dev, group);
}

const struct ih_iommu_ops smmu_iommu_ops = {
    .of_xlate = smmu_of_xlate,
    .probe_device = smmu_probe_device,
    .release_device = smmu_release_device,
    .device_group = smmu_device_group,
    .domain_alloc = smmu_domain_alloc,
    .pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G,
};

/* ---- The silicon's path for device DMA (not driver code: the bus reaching the SMMU) ---- */

static int smmu_hw_translate(void *hw, u32 sid, u64 iova, bool write, ih_pa_t *pa)
{
	return ih_smmuv3_hw_translate(hw, sid, false, 0, iova, write, pa);
}

static bool smmu_hw_tlb_covers(void *hw, u64 iova, size_t size)
{
	return ih_smmuv3_hw_tlb_covers(hw, iova, size) != 0;
}

const struct ih_iommu_hw_ops smmu_hw_ops = {
    .translate = smmu_hw_translate,
    .tlb_covers = smmu_hw_tlb_covers,
};
