// SPDX-License-Identifier: MIT
/* Devices from a DT or IORT description, and the firmware provider that answers for them. */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/fw_populate.h>
#include <ih/iommu.h>
#include <ih/world.h>
#define IH_LOG_PREFIX "fw: "
#include <ih/diag.h>

#include "fw_priv.h"

/*
 * Lock order: none taken here. Population runs at set-up; the provider only reads the
 * description, which is immutable while the population exists.
 */

/* Kept on the world's teardown list: depopulates at world teardown when nobody did. */
struct ih_fw_pop_anchor {
	struct ih_fw_population *p;
};

/* Vendor/device/class given to the PCI functions made from map entries. */
#define POP_PCI_VENDOR 0x1af4 /* an arbitrary fixed identity; drivers match by class */
#define POP_PCI_DEVICE 0x1000
#define POP_PCI_CLASS  0x020000 /* network controller */

const char *ih_fw_dev_kind_name(enum ih_fw_dev_kind kind)
{
	switch (kind) {
	case IH_FW_DEV_IOMMU:
		return "iommu";
	case IH_FW_DEV_CLIENT:
		return "client";
	case IH_FW_DEV_HOST_BRIDGE:
		return "host-bridge";
	case IH_FW_DEV_PCI_FN:
		return "pci-function";
	}
	return "unknown";
}

const char *ih_fw_iommu_model_name(enum ih_fw_iommu_model model)
{
	switch (model) {
	case IH_FW_IOMMU_SMMUV3:
		return "smmu-v3";
	case IH_FW_IOMMU_RK:
		return "rockchip";
	case IH_FW_IOMMU_SMMU:
		return "smmu";
	case IH_FW_IOMMU_UNKNOWN:
		break;
	}
	return "unknown";
}

/* ---- Planning: the list of devices to make, before any is made ---- */

static struct ih_fw_dev *pop_new(struct ih_fw_population *p, enum ih_fw_dev_kind kind, int *err)
{
	struct ih_fw_dev *fd;

	if (*err)
		return NULL;
	if (p->ndevs >= IH_FW_POPULATE_MAX_DEVS) {
		*err = -E2BIG;
		return NULL;
	}
	if (p->ndevs == p->cap) {
		unsigned int ncap = p->cap ? p->cap * 2 : 16;
		struct ih_fw_dev *nd;

		if (ncap > IH_FW_POPULATE_MAX_DEVS)
			ncap = IH_FW_POPULATE_MAX_DEVS;
		nd = ih_realloc(p->w, p->devs, ncap * sizeof(*nd), "fw:pop-devs");
		if (!nd) {
			*err = -ENOMEM;
			return NULL;
		}
		p->devs = nd;
		p->cap = ncap;
	}
	fd = &p->devs[p->ndevs++];
	memset(fd, 0, sizeof(*fd));
	fd->kind = kind;
	fd->compatible = "";
	fd->host = -1;
	fd->index = -1;
	return fd;
}

static void pop_res_from_reg(struct ih_fw_dev *fd, const struct ih_dt_regs *reg)
{
	if (!reg->decoded)
		return;
	for (unsigned int i = 0; i < reg->n && fd->nres < IH_FW_MAX_RES; i++)
		fd->res[fd->nres++] = (struct ih_fw_res){reg->bank[i].base, reg->bank[i].size};
}

/* RIDs wanted below one host, kept sorted and unique. */
struct pop_rids {
	u16 rid[IH_FW_POPULATE_MAX_DEVS];
	unsigned int n;
};

static void pop_rids_add(struct pop_rids *r, u32 rid)
{
	unsigned int i;

	if (rid > 0xffff)
		return; /* not a 16-bit requester ID: no function can carry it */
	for (i = 0; i < r->n && r->rid[i] < rid; i++)
		;
	if ((i < r->n && r->rid[i] == rid) || r->n == ARRAY_SIZE(r->rid))
		return;
	memmove(&r->rid[i + 1], &r->rid[i], (r->n - i) * sizeof(r->rid[0]));
	r->rid[i] = (u16)rid;
	r->n++;
}

/* Host bridges (one per distinct bus) and then the functions of one firmware host. */
static int pop_plan_pci(struct ih_fw_population *p, const struct pop_rids *r, const void *fwnode,
			const char *what, int index, u16 segment)
{
	unsigned int first_host = p->ndevs;
	int err = 0;

	for (unsigned int i = 0; i < r->n; i++) {
		u8 bus = (u8)(r->rid[i] >> 8);
		struct ih_fw_dev *fd;

		if (i && (u8)(r->rid[i - 1] >> 8) == bus)
			continue;
		fd = pop_new(p, IH_FW_DEV_HOST_BRIDGE, &err);
		if (!fd)
			return err;
		fd->fwnode = fwnode;
		fd->what = what;
		fd->segment = segment;
		fd->bus = bus;
		fd->index = index;
	}
	for (unsigned int i = 0; i < r->n; i++) {
		u8 bus = (u8)(r->rid[i] >> 8);
		struct ih_fw_dev *fd = pop_new(p, IH_FW_DEV_PCI_FN, &err);
		int host = (int)first_host;

		if (!fd)
			return err;
		while (p->devs[host].bus != bus)
			host++;
		fd->segment = segment;
		fd->bus = bus;
		fd->rid = r->rid[i];
		fd->host = host;
	}
	return 0;
}

static enum ih_fw_iommu_model pop_dt_model(enum ih_dt_iommu_type t)
{
	switch (t) {
	case IH_DT_IOMMU_SMMUV3:
		return IH_FW_IOMMU_SMMUV3;
	case IH_DT_IOMMU_RK:
		return IH_FW_IOMMU_RK;
	case IH_DT_IOMMU_UNKNOWN:
		break;
	}
	return IH_FW_IOMMU_UNKNOWN;
}

static int pop_plan_dt(struct ih_fw_population *p, struct pop_rids *rids)
{
	const struct ih_dt_desc *d = p->dt;
	unsigned int segment = 0;
	int err = 0;

	for (unsigned int i = 0; i < d->niommus; i++) {
		const struct ih_dt_iommu *io = &d->iommus[i];
		struct ih_fw_dev *fd;

		if (!io->enabled)
			continue;
		fd = pop_new(p, IH_FW_DEV_IOMMU, &err);
		if (!fd)
			return err;
		fd->fwnode = io;
		fd->what = io->path;
		fd->compatible = io->compatible ? io->compatible : "";
		fd->model = pop_dt_model(io->type);
		fd->index = (int)i;
		pop_res_from_reg(fd, &io->reg);
	}
	for (unsigned int i = 0; i < d->nclients; i++) {
		const struct ih_dt_client *cl = &d->clients[i];
		bool is_iommu = false;
		struct ih_fw_dev *fd;

		/* A node that is an IOMMU and a client is one device: the IOMMU's. */
		for (unsigned int k = 0; k < d->niommus && !is_iommu; k++)
			is_iommu = d->iommus[k].client == (int)i;
		if (!cl->enabled || is_iommu)
			continue;
		fd = pop_new(p, IH_FW_DEV_CLIENT, &err);
		if (!fd)
			return err;
		fd->fwnode = cl;
		fd->what = cl->path;
		fd->compatible = cl->compatible ? cl->compatible : "";
		fd->index = (int)i;
		pop_res_from_reg(fd, &cl->reg);
	}
	for (unsigned int i = 0; i < d->nhosts; i++) {
		const struct ih_dt_pci_host *h = &d->hosts[i];

		if (!h->enabled || !h->iommu_map.present)
			continue;
		if (segment > 0xffff)
			return -E2BIG;
		rids->n = 0;
		for (unsigned int k = 0; k < h->iommu_map.n; k++)
			pop_rids_add(rids, h->iommu_map.e[k].rid_base);
		err = pop_plan_pci(p, rids, h, h->path, (int)i, (u16)segment++);
		if (err)
			return err;
	}
	return 0;
}

static const char *pop_smmu_compat(u32 model)
{
	/* IORT SMMUv1/v2 Model field (DEN 0049, Table 10) to the DT binding's names. */
	switch (model) {
	case 0:
		return "arm,smmu-v1";
	case 2:
		return "arm,mmu-400";
	case 3:
		return "arm,mmu-500";
	default:
		return "arm,smmu-v2";
	}
}

static int pop_plan_iort(struct ih_fw_population *p, struct pop_rids *rids)
{
	const struct ih_iort *t = p->iort;
	int err = 0;

	for (unsigned int i = 0; i < t->nnodes; i++) {
		const struct ih_iort_node *nd = &t->nodes[i];
		struct ih_fw_dev *fd;

		if (nd->type != IH_IORT_SMMUV3 && nd->type != IH_IORT_SMMU)
			continue;
		fd = pop_new(p, IH_FW_DEV_IOMMU, &err);
		if (!fd)
			return err;
		fd->fwnode = nd;
		fd->index = (int)i;
		snprintf(fd->label, sizeof(fd->label), "IORT node %u @0x%x", i, nd->offset);
		fd->nres = 1;
		if (nd->type == IH_IORT_SMMUV3) {
			fd->model = IH_FW_IOMMU_SMMUV3;
			fd->compatible = "arm,smmu-v3";
			/* Two 64K register pages (IHI 0070, 6.1). */
			fd->res[0] = (struct ih_fw_res){nd->u.smmuv3.base, 2 * SZ_64K};
		} else {
			fd->model = IH_FW_IOMMU_SMMU;
			fd->compatible = pop_smmu_compat(nd->u.smmu.model);
			fd->res[0] = (struct ih_fw_res){nd->u.smmu.base, nd->u.smmu.span};
		}
	}
	for (unsigned int i = 0; i < t->nnodes; i++) {
		const struct ih_iort_node *nd = &t->nodes[i];
		struct ih_fw_dev *fd;

		if (nd->type != IH_IORT_NAMED_COMPONENT)
			continue;
		fd = pop_new(p, IH_FW_DEV_CLIENT, &err);
		if (!fd)
			return err;
		fd->fwnode = nd;
		fd->what = nd->u.nc.name;
		fd->index = (int)i;
	}
	for (unsigned int i = 0; i < t->nnodes; i++) {
		const struct ih_iort_node *nd = &t->nodes[i];

		/* Only the root complex the segment lookup finds gets devices. */
		if (nd->type != IH_IORT_ROOT_COMPLEX || nd->u.rc.segment > 0xffff ||
		    ih_iort_find_rc(t, nd->u.rc.segment) != (int)i)
			continue;
		rids->n = 0;
		for (unsigned int k = 0; k < nd->nmaps; k++)
			pop_rids_add(rids, nd->maps[k].input_base);
		if (!rids->n)
			continue;
		err = pop_plan_pci(p, rids, nd, NULL, (int)i, (u16)nd->u.rc.segment);
		if (err)
			return err;
		/* The host bridges' label ("IORT node N @0xOFF"), set on all of them below. */
		for (unsigned int k = 0; k < p->ndevs; k++) {
			struct ih_fw_dev *fd = &p->devs[k];

			if (fd->kind == IH_FW_DEV_HOST_BRIDGE && fd->fwnode == nd)
				snprintf(fd->label, sizeof(fd->label), "IORT node %u @0x%x", i,
					 nd->offset);
		}
	}
	/* Only now that the array stops moving may @what point into it. */
	for (unsigned int k = 0; k < p->ndevs; k++)
		if (p->devs[k].label[0])
			p->devs[k].what = p->devs[k].label;
	return 0;
}

/* ---- Making the devices ---- */

static bool pop_name_taken(struct ih_fw_population *p, const char *name)
{
	struct ih_device *dev;

	for (unsigned int i = 0; i < p->ndevs; i++) {
		dev = p->devs[i].dev;
		if (dev && dev->bus == &ih_platform_bus_type && !strcmp(dev->name, name))
			return true;
	}
	dev = ih_bus_find_device_by_name(p->w, &ih_platform_bus_type, name);
	if (dev) {
		ih_device_put(dev);
		return true;
	}
	return false;
}

/*
 * A platform device name: the kernel's "<unit address>.<node name>" for DT nodes with a
 * decoded `reg`, the node name otherwise, the ACPI object name for named components,
 * "arm-smmu-v3.N" / "arm-smmu.N" for IORT SMMUs; "#N" is appended on a clash.
 */
static void pop_make_name(struct ih_fw_population *p, const struct ih_fw_dev *fd, char *buf)
{
	char base[IH_DEV_NAME_MAX - 8];

	if (p->dt) {
		const char *node = strrchr(fd->what, '/');
		size_t len;

		node = node ? node + 1 : fd->what;
		len = strcspn(node, "@");
		if (!*node)
			snprintf(base, sizeof(base), "root");
		else if (fd->nres)
			snprintf(base, sizeof(base), "%llx.%.*s",
				 (unsigned long long)fd->res[0].base, (int)len, node);
		else
			snprintf(base, sizeof(base), "%s", node);
	} else if (fd->kind == IH_FW_DEV_IOMMU) {
		unsigned int n = 0;

		for (const struct ih_fw_dev *o = p->devs; o < fd; o++)
			n += o->kind == IH_FW_DEV_IOMMU && o->model == fd->model;
		snprintf(base, sizeof(base), "%s.%u",
			 fd->model == IH_FW_IOMMU_SMMUV3 ? "arm-smmu-v3" : "arm-smmu", n);
	} else if (fd->what && *fd->what) {
		snprintf(base, sizeof(base), "%s", fd->what);
	} else {
		snprintf(base, sizeof(base), "nc@%x",
			 ((const struct ih_iort_node *)fd->fwnode)->offset);
	}
	snprintf(buf, IH_DEV_NAME_MAX, "%s", base);
	for (unsigned int k = 2; pop_name_taken(p, buf) && k < 100000; k++)
		snprintf(buf, IH_DEV_NAME_MAX, "%s#%u", base, k);
}

static int pop_make_platform(struct ih_fw_population *p, const struct ih_fw_populate_ops *ops,
			     struct ih_fw_dev *fd)
{
	const char *compat = strlen(fd->compatible) < IH_DEV_NAME_MAX ? fd->compatible : "";
	char name[IH_DEV_NAME_MAX];
	struct ih_platform_device *pdev;
	struct ih_device *dev = NULL;
	int ret = -ENODEV;

	pop_make_name(p, fd, name);
	if (fd->kind == IH_FW_DEV_IOMMU && ops && ops->create_iommu) {
		ret = ops->create_iommu(ops->opaque, p->w, fd, name, &dev);
		if (ret && ret != -ENODEV)
			return ret;
		if (!ret && (!dev || dev->bus != &ih_platform_bus_type)) {
			IH_WARN_ON(p->w, 1, "fw: create_iommu for %s gave no platform device",
				   name);
			if (dev)
				ih_device_put(dev);
			return -EINVAL;
		}
	}
	if (ret) {
		ret = ih_platform_device_alloc(p->w, name, compat, NULL, &pdev);
		if (ret)
			return ret;
		dev = &pdev->dev;
	}
	dev->fwnode = (void *)fd->fwnode;
	fd->dev = dev;
	return 0;
}

static int pop_make_pci(struct ih_fw_population *p, struct ih_fw_dev *fd)
{
	struct ih_pci_desc desc = {0};
	struct ih_device *upstream = NULL;
	struct ih_pci_dev *pdev;
	int ret;

	if (fd->kind == IH_FW_DEV_HOST_BRIDGE) {
		desc.type = IH_PCI_HOST_BRIDGE;
		desc.segment = fd->segment;
		desc.secondary = fd->bus;
		desc.subordinate = fd->bus;
	} else {
		desc.type = IH_PCI_ENDPOINT;
		desc.devfn = (u8)fd->rid;
		desc.vendor = POP_PCI_VENDOR;
		desc.device = POP_PCI_DEVICE;
		desc.class = POP_PCI_CLASS;
		upstream = p->devs[fd->host].dev;
		if (!upstream)
			return -ENODEV; /* its host bridge was not made */
	}
	ret = ih_pci_dev_alloc(p->w, upstream, &desc, &pdev);
	if (ret)
		return ret;
	if (fd->kind == IH_FW_DEV_HOST_BRIDGE)
		pdev->dev.fwnode = (void *)fd->fwnode;
	fd->dev = &pdev->dev;
	return 0;
}

static int pop_add_one(struct ih_fw_population *p, const struct ih_fw_populate_ops *ops,
		       struct ih_fw_dev *fd, struct ih_fw_diag *diag)
{
	int ret;

	if (fd->kind == IH_FW_DEV_IOMMU || fd->kind == IH_FW_DEV_CLIENT)
		ret = pop_make_platform(p, ops, fd);
	else
		ret = pop_make_pci(p, fd);
	if (!ret) {
		ret = ih_device_add(fd->dev);
		if (ret) {
			ih_device_put(fd->dev);
			fd->dev = NULL;
		}
	}
	if (ret) {
		char where[IH_FW_DIAG_WHERE];

		if (fd->what)
			snprintf(where, sizeof(where), "%s", fd->what);
		else
			snprintf(where, sizeof(where), "PCI %04x:%02x:%02x.%u", fd->segment,
				 fd->bus, IH_PCI_SLOT(fd->rid), IH_PCI_FUNC(fd->rid));
		ih_log(p->w, IH_LOG_GUEST_ERROR, "%s: cannot make its %s device (%d)", where,
		       ih_fw_dev_kind_name(fd->kind), ret);
		ih_fw_diag_set(diag, ret, -1, where, NULL, "cannot make its %s device",
			       ih_fw_dev_kind_name(fd->kind));
	}
	return ret;
}

/* ---- The firmware provider ---- */

const struct ih_fw_dev *ih_fw_dev_find(const struct ih_fw_population *p,
				       const struct ih_device *dev)
{
	if (!p || !dev)
		return NULL;
	for (unsigned int i = 0; i < p->ndevs; i++)
		if (p->devs[i].dev == dev)
			return &p->devs[i];
	return NULL;
}

struct pop_alias_ctx {
	struct ih_fw_population *p;
	const struct ih_fw_dev *host;
	struct ih_device *dev;
	ih_fw_iommu_ref_fn fn;
	void *arg;
	int n;
};

/* One DMA alias of a PCI function through its host's map (of_pci_iommu_init / IORT). */
static int pop_alias(struct ih_device *who, u16 rid, void *data)
{
	struct pop_alias_ctx *c = data;
	struct ih_fw_iommu_args args = {.nargs = 1};
	unsigned int idx;
	u32 sid;
	int ret;

	if (c->p->dt) {
		const struct ih_dt_desc *d = c->p->dt;

		ret = ih_dt_map_rid(d, &d->hosts[c->host->index], rid, &idx, &sid);
		if (ret == -ENODEV || (!ret && !d->iommus[idx].enabled))
			return 0;
		if (ret)
			return ret;
		args.fwnode = &d->iommus[idx];
	} else {
		ret =
		    ih_iort_lookup_smmu(c->p->iort, (unsigned int)c->host->index, rid, &idx, &sid);
		if (ret == -ENODEV)
			return 0;
		if (ret)
			return ret;
		args.fwnode = &c->p->iort->nodes[idx];
	}
	args.args[0] = sid;
	ret = c->fn(c->dev, &args, c->arg);
	if (ret)
		return ret;
	c->n++;
	return 0;
}

static int pop_refs_dt(struct ih_fw_population *p, const struct ih_dt_client *cl,
		       struct ih_device *dev, ih_fw_iommu_ref_fn fn, void *arg)
{
	int n = 0;

	for (unsigned int i = 0; i < cl->nspecs; i++) {
		const struct ih_dt_iommu_spec *s = &cl->specs[i];
		const struct ih_dt_iommu *io = &p->dt->iommus[s->iommu];
		struct ih_fw_iommu_args args = {.fwnode = io, .nargs = s->nargs};
		int ret;

		/* of_iommu_xlate(): an unavailable IOMMU node means "no IOMMU" here. */
		if (!io->enabled)
			continue;
		if (s->nargs > IH_FW_MAX_ARGS) {
			ih_log(p->w, IH_LOG_GUEST_ERROR,
			       "%s: iommus entry %u has %u cells (max %u)", cl->path, i, s->nargs,
			       IH_FW_MAX_ARGS);
			return -EINVAL;
		}
		memcpy(args.args, s->args, s->nargs * sizeof(u32));
		ret = fn(dev, &args, arg);
		if (ret)
			return ret;
		n++;
	}
	return n;
}

static int pop_refs_nc(struct ih_fw_population *p, const struct ih_fw_dev *fd,
		       struct ih_device *dev, ih_fw_iommu_ref_fn fn, void *arg)
{
	const struct ih_iort_node *nd = fd->fwnode;
	int n = 0;

	for (unsigned int i = 0; i < nd->nmaps; i++) {
		struct ih_fw_iommu_args args = {.nargs = 1};
		unsigned int smmu;
		u32 sid;
		int ret = ih_iort_map_index(p->iort, (unsigned int)fd->index, i,
					    IH_IORT_IOMMU_TYPES, &smmu, &sid, NULL);

		if (ret == -ENODEV)
			continue; /* e.g. the DeviceID mapping to an ITS */
		if (ret)
			return ret;
		args.fwnode = &p->iort->nodes[smmu];
		args.args[0] = sid;
		ret = fn(dev, &args, arg);
		if (ret)
			return ret;
		n++;
	}
	return n;
}

int ih_fw_for_each_iommu_ref(struct ih_fw_population *p, struct ih_device *dev,
			     ih_fw_iommu_ref_fn fn, void *arg)
{
	const struct ih_fw_dev *fd;

	if (!p || !dev || !fn)
		return -EINVAL;
	if (ih_dev_is_pci(dev) && dev->pci->type != IH_PCI_HOST_BRIDGE) {
		struct pop_alias_ctx c = {.p = p, .dev = dev, .fn = fn, .arg = arg};
		int ret;

		c.host = ih_fw_dev_find(p, ih_pci_get_host_bridge(dev));
		if (!c.host || c.host->kind != IH_FW_DEV_HOST_BRIDGE)
			return 0;
		ret = ih_pci_for_each_dma_alias(dev, pop_alias, &c);
		return ret ? ret : c.n;
	}
	fd = ih_fw_dev_find(p, dev);
	if (!fd)
		return 0;
	if (p->dt) {
		int client = -1;

		if (fd->kind == IH_FW_DEV_CLIENT)
			client = fd->index;
		else if (fd->kind == IH_FW_DEV_IOMMU)
			client = p->dt->iommus[fd->index].client;
		if (client < 0)
			return 0;
		return pop_refs_dt(p, &p->dt->clients[client], dev, fn, arg);
	}
	if (fd->kind == IH_FW_DEV_CLIENT)
		return pop_refs_nc(p, fd, dev, fn, arg);
	return 0;
}

static int pop_provider(void *opaque, struct ih_device *dev, ih_fw_iommu_ref_fn fn, void *arg)
{
	return ih_fw_for_each_iommu_ref(opaque, dev, fn, arg);
}

static const struct ih_fw_provider_ops pop_provider_ops = {
    .for_each_iommu_ref = pop_provider,
};

/* ---- Populate / depopulate ---- */

/* Delete the devices: everything else newest first, then the IOMMUs newest first. */
static void pop_delete_devices(struct ih_fw_population *p)
{
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = p->ndevs; i-- > 0;) {
			struct ih_fw_dev *fd = &p->devs[i];

			if (!fd->dev || (fd->kind == IH_FW_DEV_IOMMU) != (pass == 1))
				continue;
			ih_device_unregister(fd->dev);
			fd->dev = NULL;
		}
	}
}

static void pop_free(struct ih_fw_population *p)
{
	struct ih_world *w = p->w;

	ih_free(w, p->devs);
	ih_free(w, p);
}

static void pop_teardown(struct ih_world *w, void *arg)
{
	struct ih_fw_pop_anchor *a = arg;

	if (a->p) {
		struct ih_fw_population *p = a->p;

		/* Nobody depopulated: do it now, and free the description with it. */
		ih_fw_depopulate(p);
	}
	ih_free(w, a);
}

void ih_fw_depopulate(struct ih_fw_population *p)
{
	if (!p)
		return;
	pop_delete_devices(p);
	ih_iommu_set_fw_provider(p->w, NULL, NULL);
	if (p->anchor)
		p->anchor->p = NULL;
	ih_dt_free(p->dt);
	ih_iort_free(p->iort);
	pop_free(p);
}

static int pop_buses(struct ih_world *w)
{
	int ret = 0;

	if (!ih_bus_registered(w, &ih_platform_bus_type))
		ret = ih_bus_register(w, &ih_platform_bus_type);
	if (!ret && !ih_bus_registered(w, &ih_pci_bus_type))
		ret = ih_bus_register(w, &ih_pci_bus_type);
	return ret;
}

static int pop_run(struct ih_world *w, struct ih_dt_desc *d, struct ih_iort *t,
		   const struct ih_fw_populate_ops *ops, unsigned int flags,
		   struct ih_fw_population **out, struct ih_fw_diag *diag)
{
	struct ih_fw_population *p;
	struct pop_rids *rids;
	int ret;

	*out = NULL;
	ret = pop_buses(w);
	if (ret)
		return ih_fw_diag_set(diag, ret, -1, NULL, NULL, "cannot register the buses");
	p = ih_alloc(w, sizeof(*p), "fw:population");
	if (!p)
		return ih_fw_diag_set(diag, -ENOMEM, -1, NULL, NULL, "out of memory");
	p->w = w;
	p->dt = d;
	p->iort = t;
	p->flags = flags;

	rids = ih_alloc(w, sizeof(*rids), "fw:pop-rids");
	if (!rids) {
		ret = -ENOMEM;
	} else {
		ret = d ? pop_plan_dt(p, rids) : pop_plan_iort(p, rids);
		ih_free(w, rids);
	}
	if (ret) {
		ih_fw_diag_set(diag, ret, -1, NULL, NULL, "%s",
			       ret == -E2BIG ? "more devices than a population may make"
					     : "out of memory");
		goto err_free;
	}

	/* The provider first: a probe-path probe at device add already parses firmware. */
	ih_iommu_set_fw_provider(w, &pop_provider_ops, p);
	for (int pass = 0; pass < 2; pass++) {
		bool iommus_now = (pass == 0) != !!(flags & IH_FW_POP_IOMMUS_LAST);

		for (unsigned int i = 0; i < p->ndevs; i++) {
			struct ih_fw_dev *fd = &p->devs[i];

			if ((fd->kind == IH_FW_DEV_IOMMU) != iommus_now)
				continue;
			ret = pop_add_one(p, ops, fd, diag);
			if (ret)
				goto err_devices;
		}
	}

	p->anchor = ih_alloc(w, sizeof(*p->anchor), "fw:pop-anchor");
	if (!p->anchor) {
		ret = ih_fw_diag_set(diag, -ENOMEM, -1, NULL, NULL, "out of memory");
		goto err_devices;
	}
	p->anchor->p = p;
	ret = ih_world_add_teardown(w, pop_teardown, p->anchor);
	if (ret) {
		ih_fw_diag_set(diag, ret, -1, NULL, NULL, "cannot register the teardown");
		goto err_anchor;
	}
	*out = p;
	return 0;

err_anchor:
	ih_free(w, p->anchor);
err_devices:
	pop_delete_devices(p);
	ih_iommu_set_fw_provider(w, NULL, NULL);
err_free:
	pop_free(p);
	return ret;
}

int ih_fw_populate_dt(struct ih_world *w, struct ih_dt_desc *d,
		      const struct ih_fw_populate_ops *ops, unsigned int flags,
		      struct ih_fw_population **out, struct ih_fw_diag *diag)
{
	ih_fw_diag_clear(diag);
	if (!w || !d || !out || d->w != w)
		return ih_fw_diag_set(diag, -EINVAL, -1, NULL, NULL, "bad arguments");
	return pop_run(w, d, NULL, ops, flags, out, diag);
}

int ih_fw_populate_iort(struct ih_world *w, struct ih_iort *t, const struct ih_fw_populate_ops *ops,
			unsigned int flags, struct ih_fw_population **out, struct ih_fw_diag *diag)
{
	ih_fw_diag_clear(diag);
	if (!w || !t || !out || t->w != w)
		return ih_fw_diag_set(diag, -EINVAL, -1, NULL, NULL, "bad arguments");
	return pop_run(w, NULL, t, ops, flags, out, diag);
}
