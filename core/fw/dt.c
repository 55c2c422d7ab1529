// SPDX-License-Identifier: MIT
/* Device tree (through libfdt only) to a neutral description of IOMMUs, clients, PCI hosts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include <ih/alloc.h>
#include <ih/fw_dt.h>
#define IH_LOG_PREFIX "dt: "
#include <ih/diag.h>

#include "fw_priv.h"

/* One node that carries a phandle; the table is sorted by phandle. */
struct dt_ph {
	u32 phandle;
	int node;
	int parent;
	int iommu; /* index in desc->iommus, or -1 */
	int msi;   /* index in desc->msi_ctrls, or -1 */
};

/* Hash of a node's full path, to find two nodes with one path (duplicate sibling names). */
struct dt_name {
	u64 hash;
	int node;
};

struct dt_ctx {
	struct ih_world *w;
	const void *fdt;
	struct ih_fw_diag *diag;
	struct ih_dt_desc *d;
	struct dt_ph *ph;
	unsigned int nph;
	struct dt_name *names;
	unsigned int nnames, cap_names;
	unsigned int cap_ph, cap_iommus, cap_clients, cap_hosts, cap_msi;
	/* The walk: parent offsets and path of the node being visited, by depth. */
	int parent[IH_DT_MAX_DEPTH + 1];
	size_t path_len[IH_DT_MAX_DEPTH + 1];
	char path[IH_DT_MAX_PATH];
};

/*
 * dt_err() - record an error against @node's path and @prop. The byte offset reported is
 * the node's position in the whole blob.
 */
IH_PRINTF(5, 6)
static int dt_err(struct dt_ctx *c, int err, int node, const char *prop, const char *fmt, ...)
{
	char path[IH_DT_MAX_PATH];
	char reason[IH_FW_DIAG_REASON];
	long off = -1;
	va_list ap;

	if (!c->diag || c->diag->err)
		return err;
	path[0] = '\0';
	if (node >= 0) {
		off = (long)fdt_off_dt_struct(c->fdt) + node;
		if (fdt_get_path(c->fdt, node, path, sizeof(path)) < 0)
			snprintf(path, sizeof(path), "<node @0x%x>", node);
	}
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ih_log(c->w, IH_LOG_GUEST_ERROR, "%s: %s: %s", path, prop ? prop : "", reason);
	return ih_fw_diag_set(c->diag, err, off, path, prop, "%s", reason);
}

/*
 * dt_fdt_err() - the one place libfdt error codes become errno values. The libfdt text is
 * kept in the diagnostic.
 */
static int dt_fdt_err(struct dt_ctx *c, int node, const char *prop, int fdterr, const char *what)
{
	int err;

	switch (-fdterr) {
	case FDT_ERR_NOTFOUND:
		err = -ENOENT;
		break;
	case FDT_ERR_TRUNCATED:
		err = -EOVERFLOW;
		break;
	case FDT_ERR_NOSPACE:
		err = -ENAMETOOLONG; /* only fdt_get_path() into our fixed buffer reports it */
		break;
	case FDT_ERR_EXISTS:
		err = -EEXIST;
		break;
	case FDT_ERR_INTERNAL:
		err = -EIO;
		break;
	default: /* BADMAGIC, BADVERSION, BADSTRUCTURE, BADOFFSET, BADNCELLS, BADVALUE, ... */
		err = -EINVAL;
		break;
	}
	return dt_err(c, err, node, prop, "%s: %s", what, fdt_strerror(fdterr));
}

static char *dt_strdup(struct dt_ctx *c, const char *s, size_t len, const char *site)
{
	char *p = ih_alloc(c->w, len + 1, site);

	if (p)
		memcpy(p, s, len);
	return p;
}

/* Grow an array of @elem-sized members to hold @n + 1. */
static int dt_grow(struct dt_ctx *c, void **arr, unsigned int *cap, unsigned int n, size_t elem,
		   const char *site)
{
	unsigned int ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = ih_realloc(c->w, *arr, (size_t)ncap * elem, site);
	if (!p)
		return dt_err(c, -ENOMEM, -1, NULL, "out of memory for %u entries (%s)", ncap, site);
	*arr = p;
	*cap = ncap;
	return 0;
}

static int dt_ph_cmp(const void *a, const void *b)
{
	const struct dt_ph *x = a, *y = b;

	if (x->phandle != y->phandle)
		return x->phandle < y->phandle ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

static struct dt_ph *dt_ph_find(const struct dt_ctx *c, u32 phandle)
{
	unsigned int lo = 0, hi = c->nph;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (c->ph[mid].phandle == phandle)
			return &c->ph[mid];
		if (c->ph[mid].phandle < phandle)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * dt_ph_resolve() - phandle referenced from @node's @prop to its table entry. Phandles 0
 * and 0xffffffff are never valid (Devicetree Specification 2.3.3).
 */
static int dt_ph_resolve(struct dt_ctx *c, int node, const char *prop, u32 phandle,
			 struct dt_ph **out)
{
	if (phandle == 0 || phandle == 0xffffffffu)
		return dt_err(c, -EINVAL, node, prop, "invalid phandle 0x%x", phandle);
	*out = dt_ph_find(c, phandle);
	if (!*out)
		return dt_err(c, -ENOENT, node, prop, "dangling phandle 0x%x", phandle);
	return 0;
}

/* Walk every node once; @visit runs with c->path and c->parent[] set for it. */
static int dt_walk(struct dt_ctx *c, int (*visit)(struct dt_ctx *c, int node, int depth))
{
	int depth = 0, node, ret;

	for (node = 0; node >= 0; node = fdt_next_node(c->fdt, node, &depth)) {
		const char *name;
		size_t base, len;
		int nlen;

		if (depth < 0)
			break;
		if (depth > IH_DT_MAX_DEPTH)
			return dt_err(c, -E2BIG, node, NULL, "nesting deeper than %d levels",
				      IH_DT_MAX_DEPTH);
		name = fdt_get_name(c->fdt, node, &nlen);
		if (!name)
			return dt_fdt_err(c, node, NULL, nlen, "node name");
		/* Path of this node: parent's path, a '/' unless the parent is the root, name. */
		if (depth == 0) {
			c->path[0] = '/';
			c->path[1] = '\0';
			c->path_len[0] = 1;
			c->parent[0] = -1;
		} else {
			base = c->path_len[depth - 1];
			len = base + (depth > 1) + (size_t)nlen;
			if (len >= sizeof(c->path))
				return dt_err(c, -ENAMETOOLONG, -1, NULL,
					      "node path longer than %d bytes below %.64s",
					      IH_DT_MAX_PATH, c->path);
			if (depth > 1)
				c->path[base++] = '/';
			memcpy(c->path + base, name, (size_t)nlen);
			c->path[len] = '\0';
			c->path_len[depth] = len;
		}
		if (depth < IH_DT_MAX_DEPTH)
			c->parent[depth + 1] = node;
		ret = visit(c, node, depth);
		if (ret)
			return ret;
	}
	if (node < 0 && node != -FDT_ERR_NOTFOUND)
		return dt_fdt_err(c, -1, NULL, node, "walking nodes");
	return 0;
}

/* Pass 1: count nodes and collect every phandle (validated: 4 bytes, not 0 or ~0). */
static int dt_visit_phandle(struct dt_ctx *c, int node, int depth)
{
	static const char *const names[] = { "phandle", "linux,phandle" };
	u64 hash = 0xcbf29ce484222325ull;
	u32 phandle = 0;
	int ret;

	c->d->nodes++;
	/* FNV-1a over the path; equal hashes are compared in full afterwards. */
	for (const char *q = c->path; *q; q++)
		hash = (hash ^ (u8)*q) * 0x100000001b3ull;
	ret = dt_grow(c, (void **)&c->names, &c->cap_names, c->nnames, sizeof(*c->names),
		      "dt:names");
	if (ret)
		return ret;
	c->names[c->nnames++] = (struct dt_name){ hash, node };
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++) {
		int len;
		const fdt32_t *p = fdt_getprop(c->fdt, node, names[i], &len);

		if (!p) {
			if (len != -FDT_ERR_NOTFOUND)
				return dt_fdt_err(c, node, names[i], len, "reading property");
			continue;
		}
		if (len != 4)
			return dt_err(c, -EINVAL, node, names[i], "length %d, expected 4", len);
		if (fdt32_ld(p) == 0 || fdt32_ld(p) == 0xffffffffu)
			return dt_err(c, -EINVAL, node, names[i], "invalid phandle 0x%x",
				      fdt32_ld(p));
		if (phandle && phandle != fdt32_ld(p))
			return dt_err(c, -EINVAL, node, names[i],
				      "phandle 0x%x disagrees with phandle 0x%x", fdt32_ld(p), phandle);
		phandle = fdt32_ld(p);
	}
	if (!phandle)
		return 0;
	ret = dt_grow(c, (void **)&c->ph, &c->cap_ph, c->nph, sizeof(*c->ph), "dt:phandles");
	if (ret)
		return ret;
	c->ph[c->nph++] = (struct dt_ph){ phandle, node, depth ? c->parent[depth] : -1, -1, -1 };
	return 0;
}

static int dt_name_cmp(const void *a, const void *b)
{
	const struct dt_name *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->node < y->node ? -1 : x->node > y->node;
}

/*
 * Sibling nodes must have distinct names (Devicetree Specification 2.2.1) and
 * fdt_check_full() does not check it; two nodes with one path would make every path-keyed
 * lookup ambiguous.
 */
static int dt_check_unique_paths(struct dt_ctx *c)
{
	char a[IH_DT_MAX_PATH], b[IH_DT_MAX_PATH];

	if (c->nnames)
		qsort(c->names, c->nnames, sizeof(*c->names), dt_name_cmp);
	for (unsigned int i = 1; i < c->nnames; i++) {
		if (c->names[i].hash != c->names[i - 1].hash)
			continue;
		if (fdt_get_path(c->fdt, c->names[i - 1].node, a, sizeof(a)) < 0 ||
		    fdt_get_path(c->fdt, c->names[i].node, b, sizeof(b)) < 0)
			continue; /* longer than any path the walk accepted: cannot be equal */
		if (!strcmp(a, b))
			return dt_err(c, -EINVAL, c->names[i].node, NULL,
				      "another node has the same path (duplicate sibling name)");
	}
	return 0;
}

static int dt_build_phandles(struct dt_ctx *c)
{
	int ret = dt_walk(c, dt_visit_phandle);

	if (!ret)
		ret = dt_check_unique_paths(c);
	if (ret)
		return ret;
	if (c->nph)
		qsort(c->ph, c->nph, sizeof(*c->ph), dt_ph_cmp);
	for (unsigned int i = 1; i < c->nph; i++)
		if (c->ph[i].phandle == c->ph[i - 1].phandle)
			return dt_err(c, -EINVAL, c->ph[i].node, "phandle",
				      "phandle 0x%x is also used by an earlier node",
				      c->ph[i].phandle);
	return 0;
}

/* `status` absent, "okay" or "ok" means enabled (Devicetree Specification 2.3.4). */
static bool dt_enabled(const struct dt_ctx *c, int node)
{
	int len;
	const char *s = fdt_getprop(c->fdt, node, "status", &len);

	if (!s)
		return true;
	if (len <= 0 || strnlen(s, (size_t)len) == (size_t)len)
		return false;
	return !strcmp(s, "okay") || !strcmp(s, "ok");
}

/* First `compatible` string, copied; NULL when the node has none. */
static int dt_compatible(struct dt_ctx *c, int node, char **out)
{
	int len;
	const char *s = fdt_getprop(c->fdt, node, "compatible", &len);

	*out = NULL;
	if (!s)
		return len == -FDT_ERR_NOTFOUND ? 0 :
						  dt_fdt_err(c, node, "compatible", len, "reading");
	if (len == 0 || strnlen(s, (size_t)len) == (size_t)len)
		return dt_err(c, -EINVAL, node, "compatible", "not a NUL-terminated string list");
	*out = dt_strdup(c, s, strlen(s), "dt:compatible");
	if (!*out)
		return dt_err(c, -ENOMEM, node, "compatible", "out of memory");
	return 0;
}

static enum ih_dt_iommu_type dt_iommu_type(const struct dt_ctx *c, int node, bool *known)
{
	int len;
	const char *s = fdt_getprop(c->fdt, node, "compatible", &len);

	*known = true;
	if (s && len > 0) {
		/* fdt_stringlist_contains() never reads past @len, terminated or not. */
		if (fdt_stringlist_contains(s, len, "arm,smmu-v3"))
			return IH_DT_IOMMU_SMMUV3;
		if (fdt_stringlist_contains(s, len, "rockchip,iommu") ||
		    fdt_stringlist_contains(s, len, "rockchip,rk3568-iommu"))
			return IH_DT_IOMMU_RK;
	}
	*known = false;
	return IH_DT_IOMMU_UNKNOWN;
}

/* A one-cell property; -ENOENT (no diagnostic) when absent. */
static int dt_u32_prop(struct dt_ctx *c, int node, const char *prop, u32 *val)
{
	int len;
	const fdt32_t *p = fdt_getprop(c->fdt, node, prop, &len);

	if (!p) {
		if (len == -FDT_ERR_NOTFOUND)
			return -ENOENT;
		return dt_fdt_err(c, node, prop, len, "reading");
	}
	if (len != 4)
		return dt_err(c, -EINVAL, node, prop, "length %d, expected 4", len);
	*val = fdt32_ld(p);
	return 0;
}

/* `reg` of @node decoded with @parent's #address-cells and #size-cells. */
static int dt_reg(struct dt_ctx *c, int node, int parent, struct ih_dt_regs *r)
{
	const fdt32_t *p;
	int ac, sc, len, ret;
	unsigned int stride;

	r->n = 0;
	r->decoded = true;
	r->bank = NULL;
	p = fdt_getprop(c->fdt, node, "reg", &len);
	if (!p)
		return len == -FDT_ERR_NOTFOUND ? 0 : dt_fdt_err(c, node, "reg", len, "reading");
	if (parent < 0)
		return 0; /* `reg` on the root node has no bus to be decoded against */
	ac = fdt_address_cells(c->fdt, parent);
	if (ac < 0)
		return dt_fdt_err(c, parent, "#address-cells", ac, "decoding reg");
	sc = fdt_size_cells(c->fdt, parent);
	if (sc < 0)
		return dt_fdt_err(c, parent, "#size-cells", sc, "decoding reg");
	stride = (unsigned int)(ac + sc) * 4;
	if (len == 0 || len % stride)
		return dt_err(c, -EINVAL, node, "reg",
			      "length %d is not a multiple of (#address-cells %d + #size-cells %d) * 4",
			      len, ac, sc);
	r->n = (unsigned int)len / stride;
	if (ac > 2 || sc > 2) {
		r->decoded = false;
		return 0;
	}
	r->bank = ih_alloc_array(c->w, r->n, sizeof(*r->bank), "dt:reg");
	if (!r->bank) {
		ret = dt_err(c, -ENOMEM, node, "reg", "out of memory for %u banks", r->n);
		r->n = 0;
		return ret;
	}
	for (unsigned int i = 0; i < r->n; i++) {
		u64 base = 0, size = 0;

		for (int k = 0; k < ac; k++)
			base = base << 32 | fdt32_ld(p++);
		for (int k = 0; k < sc; k++)
			size = size << 32 | fdt32_ld(p++);
		r->bank[i].base = base;
		r->bank[i].size = size;
	}
	return 0;
}

/* #iommu-cells of @target, referenced from @node's @prop. */
static int dt_iommu_cells(struct dt_ctx *c, int node, const char *prop, int target, u32 *cells)
{
	char tpath[IH_DT_MAX_PATH];
	int ret = dt_u32_prop(c, target, "#iommu-cells", cells);

	if (ret == -ENOENT || (!ret && *cells > IH_DT_MAX_IOMMU_CELLS)) {
		if (fdt_get_path(c->fdt, target, tpath, sizeof(tpath)) < 0)
			strcpy(tpath, "?");
		if (ret == -ENOENT)
			return dt_err(c, -EINVAL, node, prop, "target %.200s has no #iommu-cells",
				      tpath);
		return dt_err(c, -EINVAL, node, prop,
			      "target %.200s has #iommu-cells = %u, more than %d", tpath, *cells,
			      IH_DT_MAX_IOMMU_CELLS);
	}
	return ret;
}

static void dt_regs_free(struct ih_world *w, struct ih_dt_regs *r)
{
	ih_free(w, r->bank);
	r->bank = NULL;
}

/* Node path into a fresh string; the walk's path when @node is the one being visited. */
static char *dt_path_of(struct dt_ctx *c, int node, int cur)
{
	char buf[IH_DT_MAX_PATH];
	int ret;

	if (node == cur)
		return dt_strdup(c, c->path, strlen(c->path), "dt:path");
	ret = fdt_get_path(c->fdt, node, buf, sizeof(buf));
	if (ret < 0) {
		dt_fdt_err(c, node, NULL, ret, "node path");
		return NULL;
	}
	return dt_strdup(c, buf, strlen(buf), "dt:path");
}

/*
 * dt_get_iommu() - the IOMMU at @node, created on first sight. @ph is its phandle entry
 * (NULL for a node without phandle, which nothing can reference, so it is seen once);
 * @parent its parent offset; @cur the node the walk is visiting.
 */
static int dt_get_iommu(struct dt_ctx *c, int node, int parent, struct dt_ph *ph, int cur,
			unsigned int *idx)
{
	struct ih_dt_desc *d = c->d;
	struct ih_dt_iommu *io;
	bool known;
	int ret;

	if (ph && ph->iommu >= 0) {
		*idx = (unsigned int)ph->iommu;
		return 0;
	}
	ret = dt_grow(c, (void **)&d->iommus, &c->cap_iommus, d->niommus, sizeof(*io),
		      "dt:iommus");
	if (ret)
		return ret;
	io = &d->iommus[d->niommus];
	memset(io, 0, sizeof(*io));
	io->node = node;
	io->client = -1;
	io->phandle = ph ? ph->phandle : 0;
	io->type = dt_iommu_type(c, node, &known);
	io->enabled = dt_enabled(c, node);
	ret = dt_iommu_cells(c, node, "#iommu-cells", node, &io->cells);
	if (ret)
		return ret;
	io->path = dt_path_of(c, node, cur);
	if (!io->path)
		return dt_err(c, -ENOMEM, node, NULL, "out of memory");
	ret = dt_compatible(c, node, &io->compatible);
	if (ret)
		goto free_path;
	ret = dt_reg(c, node, parent, &io->reg);
	if (ret)
		goto free_compatible;
	if (ph)
		ph->iommu = (int)d->niommus;
	*idx = d->niommus++;
	return 0;

free_compatible:
	ih_free(c->w, io->compatible);
free_path:
	ih_free(c->w, io->path);
	return ret;
}

static int dt_get_msi(struct dt_ctx *c, int node, struct dt_ph *ph, int cur, unsigned int *idx)
{
	struct ih_dt_desc *d = c->d;
	struct ih_dt_msi_ctrl *m;
	u32 cells;
	int ret;

	if (ph->msi >= 0) {
		*idx = (unsigned int)ph->msi;
		return 0;
	}
	/* Four-cell msi-map entries carry one msi-specifier cell. */
	ret = dt_u32_prop(c, node, "#msi-cells", &cells);
	if (ret && ret != -ENOENT)
		return ret;
	if (!ret && cells != 1)
		return dt_err(c, -EINVAL, node, "#msi-cells",
			      "is %u; msi-map entries need 1", cells);
	ret = dt_grow(c, (void **)&d->msi_ctrls, &c->cap_msi, d->nmsi_ctrls, sizeof(*m),
		      "dt:msi_ctrls");
	if (ret)
		return ret;
	m = &d->msi_ctrls[d->nmsi_ctrls];
	memset(m, 0, sizeof(*m));
	m->node = node;
	m->phandle = ph->phandle;
	m->enabled = dt_enabled(c, node);
	m->path = dt_path_of(c, node, cur);
	if (!m->path)
		return dt_err(c, -ENOMEM, node, NULL, "out of memory");
	ph->msi = (int)d->nmsi_ctrls;
	*idx = d->nmsi_ctrls++;
	return 0;
}

/* `iommus`: a list of <phandle arg0 .. arg(#iommu-cells - 1)>. */
static int dt_parse_iommus(struct dt_ctx *c, int node, struct ih_dt_client *cl)
{
	const fdt32_t *p;
	unsigned int ncells, i = 0;
	int len, ret;

	p = fdt_getprop(c->fdt, node, "iommus", &len);
	if (!p)
		return dt_fdt_err(c, node, "iommus", len, "reading");
	if (len == 0)
		return dt_err(c, -EINVAL, node, "iommus", "empty list");
	if (len % 4)
		return dt_err(c, -EINVAL, node, "iommus", "length %d is not a multiple of 4", len);
	ncells = (unsigned int)len / 4;
	/* Each entry is at least its phandle: ncells bounds the entry count. */
	cl->specs = ih_alloc_array(c->w, ncells, sizeof(*cl->specs), "dt:specs");
	if (!cl->specs)
		return dt_err(c, -ENOMEM, node, "iommus", "out of memory for %u cells", ncells);
	while (i < ncells) {
		struct ih_dt_iommu_spec *s = &cl->specs[cl->nspecs];
		struct dt_ph *ph;
		u32 cells;

		ret = dt_ph_resolve(c, node, "iommus", fdt32_ld(&p[i]), &ph);
		if (ret)
			return ret;
		ret = dt_iommu_cells(c, node, "iommus", ph->node, &cells);
		if (ret)
			return ret;
		if (cells > ncells - i - 1)
			return dt_err(c, -EINVAL, node, "iommus",
				      "entry %u needs %u cells after phandle 0x%x, only %u remain",
				      cl->nspecs, cells, ph->phandle, ncells - i - 1);
		ret = dt_get_iommu(c, ph->node, ph->parent, ph, node, &s->iommu);
		if (ret)
			return ret;
		s->nargs = cells;
		for (u32 k = 0; k < cells; k++)
			s->args[k] = fdt32_ld(&p[i + 1 + k]);
		i += 1 + cells;
		cl->nspecs++;
	}
	return 0;
}

static int dt_parse_client(struct dt_ctx *c, int node, int parent)
{
	struct ih_dt_desc *d = c->d;
	struct ih_dt_client *cl;
	int ret;

	ret = dt_grow(c, (void **)&d->clients, &c->cap_clients, d->nclients, sizeof(*cl),
		      "dt:clients");
	if (ret)
		return ret;
	cl = &d->clients[d->nclients];
	memset(cl, 0, sizeof(*cl));
	cl->node = node;
	cl->enabled = dt_enabled(c, node);
	ret = dt_parse_iommus(c, node, cl);
	if (ret)
		goto free_specs;
	cl->path = dt_path_of(c, node, node);
	if (!cl->path) {
		ret = dt_err(c, -ENOMEM, node, NULL, "out of memory");
		goto free_specs;
	}
	ret = dt_compatible(c, node, &cl->compatible);
	if (ret)
		goto free_path;
	ret = dt_reg(c, node, parent, &cl->reg);
	if (ret)
		goto free_compatible;
	d->nclients++;
	return 0;

free_compatible:
	ih_free(c->w, cl->compatible);
free_path:
	ih_free(c->w, cl->path);
free_specs:
	ih_free(c->w, cl->specs);
	return ret;
}

/*
 * An iommu-map or msi-map (pci-iommu.txt / pci-msi.txt): 4-cell tuples
 * (rid-base, phandle, out-base, length), plus the optional one-cell -mask property.
 */
static int dt_parse_map(struct dt_ctx *c, int node, const char *prop, const char *mask_prop,
			bool msi, struct ih_dt_id_map *m)
{
	const fdt32_t *p;
	unsigned int n;
	int len, ret;

	m->mask = 0xffffffffu;
	p = fdt_getprop(c->fdt, node, prop, &len);
	if (!p)
		return len == -FDT_ERR_NOTFOUND ? 0 : dt_fdt_err(c, node, prop, len, "reading");
	if (len == 0 || len % 16)
		return dt_err(c, -EINVAL, node, prop,
			      "length %d is not a non-zero multiple of 16 (4-cell entries)", len);
	ret = dt_u32_prop(c, node, mask_prop, &m->mask);
	if (ret && ret != -ENOENT)
		return ret;
	n = (unsigned int)len / 16;
	m->e = ih_alloc_array(c->w, n, sizeof(*m->e), msi ? "dt:msi_map" : "dt:iommu_map");
	if (!m->e)
		return dt_err(c, -ENOMEM, node, prop, "out of memory for %u entries", n);
	m->present = true;
	for (unsigned int i = 0; i < n; i++, p += 4) {
		struct ih_dt_map_entry *e = &m->e[i];
		struct dt_ph *ph;
		u32 cells;

		e->rid_base = fdt32_ld(&p[0]);
		e->out_base = fdt32_ld(&p[2]);
		e->length = fdt32_ld(&p[3]);
		if (e->length == 0)
			return dt_err(c, -EINVAL, node, prop, "entry %u has length 0", i);
		if ((u64)e->rid_base + e->length > 0x100000000ull)
			return dt_err(c, -ERANGE, node, prop,
				      "entry %u: rid-base 0x%x + length 0x%x wraps 32 bits", i,
				      e->rid_base, e->length);
		if ((u64)e->out_base + e->length > 0x100000000ull)
			return dt_err(c, -ERANGE, node, prop,
				      "entry %u: output base 0x%x + length 0x%x wraps 32 bits", i,
				      e->out_base, e->length);
		ret = dt_ph_resolve(c, node, prop, fdt32_ld(&p[1]), &ph);
		if (ret)
			return ret;
		if (msi) {
			ret = dt_get_msi(c, ph->node, ph, node, &e->target);
		} else {
			ret = dt_iommu_cells(c, node, prop, ph->node, &cells);
			if (ret)
				return ret;
			if (cells != 1)
				return dt_err(c, -EINVAL, node, prop,
					      "entry %u: target has #iommu-cells = %u, iommu-map needs 1",
					      i, cells);
			ret = dt_get_iommu(c, ph->node, ph->parent, ph, node, &e->target);
		}
		if (ret)
			return ret;
		m->n++;
	}
	return 0;
}

static int dt_parse_host(struct dt_ctx *c, int node, int parent)
{
	struct ih_dt_desc *d = c->d;
	struct ih_dt_pci_host *h;
	int ret;

	ret = dt_grow(c, (void **)&d->hosts, &c->cap_hosts, d->nhosts, sizeof(*h), "dt:hosts");
	if (ret)
		return ret;
	h = &d->hosts[d->nhosts];
	memset(h, 0, sizeof(*h));
	h->node = node;
	h->enabled = dt_enabled(c, node);
	ret = dt_parse_map(c, node, "iommu-map", "iommu-map-mask", false, &h->iommu_map);
	if (ret)
		goto free_maps;
	ret = dt_parse_map(c, node, "msi-map", "msi-map-mask", true, &h->msi_map);
	if (ret)
		goto free_maps;
	h->path = dt_path_of(c, node, node);
	if (!h->path) {
		ret = dt_err(c, -ENOMEM, node, NULL, "out of memory");
		goto free_maps;
	}
	ret = dt_compatible(c, node, &h->compatible);
	if (ret)
		goto free_path;
	ret = dt_reg(c, node, parent, &h->reg);
	if (ret)
		goto free_compatible;
	d->nhosts++;
	return 0;

free_compatible:
	ih_free(c->w, h->compatible);
free_path:
	ih_free(c->w, h->path);
free_maps:
	ih_free(c->w, h->iommu_map.e);
	ih_free(c->w, h->msi_map.e);
	return ret;
}

static bool dt_has_prop(const struct dt_ctx *c, int node, const char *prop)
{
	int len;

	return fdt_getprop(c->fdt, node, prop, &len) != NULL;
}

/* Pass 2: IOMMUs by compatible, clients by `iommus`, hosts by `iommu-map`/`msi-map`. */
static int dt_visit(struct dt_ctx *c, int node, int depth)
{
	int parent = depth ? c->parent[depth] : -1;
	unsigned int idx;
	bool known;
	int ret;

	if (dt_has_prop(c, node, "iommus")) {
		ret = dt_parse_client(c, node, parent);
		if (ret)
			return ret;
	}
	if (dt_has_prop(c, node, "iommu-map") || dt_has_prop(c, node, "msi-map")) {
		ret = dt_parse_host(c, node, parent);
		if (ret)
			return ret;
	}
	dt_iommu_type(c, node, &known);
	if (known) {
		u32 phandle = fdt_get_phandle(c->fdt, node);

		ret = dt_get_iommu(c, node, parent, phandle ? dt_ph_find(c, phandle) : NULL, node,
				   &idx);
		if (ret)
			return ret;
	}
	return 0;
}

/* Edges of the IOMMU graph: IOMMU i is downstream of the IOMMUs its own node references. */
static unsigned int dt_nedges(const struct ih_dt_desc *d, const int *host_of, unsigned int i)
{
	unsigned int n = 0;

	if (d->iommus[i].client >= 0)
		n += d->clients[d->iommus[i].client].nspecs;
	if (host_of[i] >= 0)
		n += d->hosts[host_of[i]].iommu_map.n;
	return n;
}

static unsigned int dt_edge(const struct ih_dt_desc *d, const int *host_of, unsigned int i,
			    unsigned int k)
{
	if (d->iommus[i].client >= 0) {
		const struct ih_dt_client *cl = &d->clients[d->iommus[i].client];

		if (k < cl->nspecs)
			return cl->specs[k].iommu;
		k -= cl->nspecs;
	}
	return d->hosts[host_of[i]].iommu_map.e[k].target;
}

/*
 * dt_check_cycles() - an IOMMU must not be upstream of itself. Iterative depth-first
 * search with three colours; a grey node reached again closes a cycle.
 */
static int dt_check_cycles(struct dt_ctx *c)
{
	struct ih_dt_desc *d = c->d;
	unsigned int n = d->niommus;
	int *host_of = NULL;
	u8 *colour = NULL;
	struct { unsigned int node, next; } *stack = NULL;
	int ret = 0;

	if (!n)
		return 0;
	host_of = ih_alloc_array(c->w, n, sizeof(*host_of), "dt:cycle");
	colour = ih_alloc(c->w, n, "dt:cycle");
	stack = ih_alloc_array(c->w, n, sizeof(*stack), "dt:cycle");
	if (!host_of || !colour || !stack) {
		ret = dt_err(c, -ENOMEM, -1, NULL, "out of memory for the cycle check");
		goto free_all;
	}
	/* Link each IOMMU to the client and host records of its own node. */
	for (unsigned int i = 0; i < n; i++)
		host_of[i] = -1;
	for (unsigned int k = 0; k < d->nclients; k++) {
		u32 phandle = fdt_get_phandle(c->fdt, d->clients[k].node);
		struct dt_ph *ph = phandle ? dt_ph_find(c, phandle) : NULL;

		if (ph && ph->iommu >= 0)
			d->iommus[ph->iommu].client = (int)k;
	}
	for (unsigned int k = 0; k < d->nhosts; k++) {
		u32 phandle = fdt_get_phandle(c->fdt, d->hosts[k].node);
		struct dt_ph *ph = phandle ? dt_ph_find(c, phandle) : NULL;

		if (ph && ph->iommu >= 0)
			host_of[ph->iommu] = (int)k;
	}
	for (unsigned int root = 0; root < n && !ret; root++) {
		unsigned int sp = 0;

		if (colour[root])
			continue;
		colour[root] = 1;
		stack[sp].node = root;
		stack[sp++].next = 0;
		while (sp) {
			unsigned int v = stack[sp - 1].node, k = stack[sp - 1].next, t;

			if (k == dt_nedges(d, host_of, v)) {
				colour[v] = 2;
				sp--;
				continue;
			}
			stack[sp - 1].next++;
			t = dt_edge(d, host_of, v, k);
			if (colour[t] == 1) {
				ret = dt_err(c, -ELOOP, d->iommus[v].node,
					     d->iommus[v].client >= 0 &&
							     k < d->clients[d->iommus[v].client].nspecs ?
						     "iommus" :
						     "iommu-map",
					     "IOMMU reference cycle: %.100s is upstream of itself",
					     d->iommus[t].path);
				break;
			}
			if (!colour[t]) {
				colour[t] = 1;
				stack[sp].node = t;
				stack[sp++].next = 0;
			}
		}
	}
free_all:
	ih_free(c->w, stack);
	ih_free(c->w, colour);
	ih_free(c->w, host_of);
	return ret;
}

void ih_dt_free(struct ih_dt_desc *d)
{
	struct ih_world *w;

	if (!d)
		return;
	w = d->w;
	for (unsigned int i = 0; i < d->niommus; i++) {
		ih_free(w, d->iommus[i].path);
		ih_free(w, d->iommus[i].compatible);
		dt_regs_free(w, &d->iommus[i].reg);
	}
	for (unsigned int i = 0; i < d->nclients; i++) {
		ih_free(w, d->clients[i].path);
		ih_free(w, d->clients[i].compatible);
		ih_free(w, d->clients[i].specs);
		dt_regs_free(w, &d->clients[i].reg);
	}
	for (unsigned int i = 0; i < d->nhosts; i++) {
		ih_free(w, d->hosts[i].path);
		ih_free(w, d->hosts[i].compatible);
		ih_free(w, d->hosts[i].iommu_map.e);
		ih_free(w, d->hosts[i].msi_map.e);
		dt_regs_free(w, &d->hosts[i].reg);
	}
	for (unsigned int i = 0; i < d->nmsi_ctrls; i++)
		ih_free(w, d->msi_ctrls[i].path);
	ih_free(w, d->iommus);
	ih_free(w, d->clients);
	ih_free(w, d->hosts);
	ih_free(w, d->msi_ctrls);
	ih_free(w, d);
}

/* Big-endian 32-bit load from the blob (the FDT is big-endian); @off is checked by callers. */
static u32 dt_be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

/*
 * libfdt 1.6.1's fdt_check_full() never returns on a property whose length wraps the
 * structure-block offset back onto itself (length 0xfffffff4, found by fuzz_dtb). Before
 * handing the blob to libfdt, walk the token stream once with every step bounded by the
 * structure block (DTSpec 5.4) and refuse a property that runs past it. libfdt still does
 * all the real parsing; this only keeps a known library bug from hanging the harness.
 */
static int dt_check_prop_lengths(struct dt_ctx *c, size_t size)
{
	const u8 *b = c->fdt;
	u32 off, end, total;

	if (dt_be32(b) != FDT_MAGIC)
		return 0; /* libfdt reports the bad magic itself */
	total = dt_be32(b + 4);
	off = dt_be32(b + 8);
	end = off + dt_be32(b + 36);
	if (total > size || off > total || end < off || end > total)
		return 0; /* header inconsistencies are libfdt's to report */
	while (off + 4 <= end) {
		u32 tag = dt_be32(b + off);

		off += 4;
		if (tag == FDT_BEGIN_NODE) {
			while (off < end && b[off])
				off++;
			off = (off + 4) & ~3u; /* the NUL, then padding to 4 */
		} else if (tag == FDT_PROP) {
			u32 len;

			if (off + 8 > end)
				break;
			len = dt_be32(b + off);
			if (len > end - off - 8)
				return ih_fw_diag_set(c->diag, -EINVAL, (long)off - 4, NULL, NULL,
						      "property length 0x%x runs past the structure block",
						      len);
			off += 8 + ((len + 3) & ~3u);
		} else if (tag == FDT_END) {
			break;
		} else if (tag != FDT_END_NODE && tag != FDT_NOP) {
			break; /* libfdt reports the bad tag */
		}
	}
	return 0;
}

int ih_dt_parse(struct ih_world *w, const void *blob, size_t size, struct ih_dt_desc **out,
		struct ih_fw_diag *diag)
{
	struct dt_ctx *c;
	void *copy = NULL;
	int ret;

	*out = NULL;
	ih_fw_diag_clear(diag);
	/*
	 * libfdt reads the version-17 header fields once the magic matches, so a shorter
	 * buffer would be read past its end.
	 */
	if (size < FDT_V17_SIZE)
		return ih_fw_diag_set(diag, -EOVERFLOW, 0, NULL, NULL,
				      "blob of %zu bytes is shorter than an FDT header (%d)", size, (int)
				      FDT_V17_SIZE);
	c = ih_alloc(w, sizeof(*c), "dt:ctx");
	if (!c)
		return ih_fw_diag_set(diag, -ENOMEM, -1, NULL, NULL, "out of memory");
	c->w = w;
	c->diag = diag;
	/* A private copy: libfdt wants 8-byte alignment, and the caller's buffer may not. */
	copy = ih_alloc(w, size, "dt:blob");
	c->d = ih_alloc(w, sizeof(*c->d), "dt:desc");
	if (c->d)
		c->d->w = w;
	if (!copy || !c->d) {
		ret = ih_fw_diag_set(diag, -ENOMEM, -1, NULL, NULL, "out of memory");
		goto free_desc;
	}
	memcpy(copy, blob, size);
	c->fdt = copy;
	/*
	 * Versions before 16 (full-path node names, no strings-block size) crash libfdt
	 * 1.6.1's fdt_check_full() itself (found by fuzz_dtb). Nothing has emitted them since
	 * dtc 1.1; DTSpec 5.2 describes version 17 with last compatible version 16.
	 */
	if (fdt_magic(copy) == FDT_MAGIC && fdt_version(copy) < 16) {
		ret = ih_fw_diag_set(diag, -EINVAL, 20, NULL, NULL,
				     "FDT version %u predates 16: not supported", fdt_version(copy));
		goto free_desc;
	}
	ret = dt_check_prop_lengths(c, size);
	if (ret)
		goto free_desc;
	ret = fdt_check_full(copy, size);
	if (ret) {
		ret = dt_fdt_err(c, -1, NULL, ret, "fdt_check_full");
		goto free_desc;
	}
	ret = dt_build_phandles(c);
	if (ret)
		goto free_desc;
	ret = dt_walk(c, dt_visit);
	if (ret)
		goto free_desc;
	ret = dt_check_cycles(c);
	if (ret)
		goto free_desc;
	*out = c->d;
	c->d = NULL;
	ret = 0;

free_desc:
	ih_dt_free(c->d);
	ih_free(w, c->names);
	ih_free(w, c->ph);
	ih_free(w, copy);
	ih_free(w, c);
	return ret;
}

int ih_dt_id_map_lookup(const struct ih_dt_id_map *m, u32 id, const struct ih_dt_map_entry **entry,
			u32 *out)
{
	u32 masked = id & m->mask;

	if (!m->present)
		return -ENODEV;
	for (unsigned int i = 0; i < m->n; i++) {
		const struct ih_dt_map_entry *e = &m->e[i];

		/* Unsigned difference: IDs below rid_base wrap to large values and miss. */
		if (masked - e->rid_base < e->length) {
			if (entry)
				*entry = e;
			*out = e->out_base + (masked - e->rid_base);
			return 0;
		}
	}
	return -ENODEV;
}

int ih_dt_map_rid(const struct ih_dt_desc *d, const struct ih_dt_pci_host *host, u32 rid,
		  unsigned int *iommu, u32 *sid)
{
	const struct ih_dt_map_entry *e;
	int ret = ih_dt_id_map_lookup(&host->iommu_map, rid, &e, sid);

	if (!ret)
		*iommu = e->target;
	return ret;
}

int ih_dt_map_msi(const struct ih_dt_desc *d, const struct ih_dt_pci_host *host, u32 rid,
		  unsigned int *ctrl, u32 *devid)
{
	const struct ih_dt_map_entry *e;
	int ret = ih_dt_id_map_lookup(&host->msi_map, rid, &e, devid);

	if (!ret)
		*ctrl = e->target;
	return ret;
}

int ih_dt_find_iommu_by_phandle(const struct ih_dt_desc *d, u32 phandle)
{
	for (unsigned int i = 0; i < d->niommus; i++)
		if (phandle && d->iommus[i].phandle == phandle)
			return (int)i;
	return -ENOENT;
}

int ih_dt_find_iommu(const struct ih_dt_desc *d, const char *path)
{
	for (unsigned int i = 0; i < d->niommus; i++)
		if (!strcmp(d->iommus[i].path, path))
			return (int)i;
	return -ENOENT;
}

int ih_dt_find_client(const struct ih_dt_desc *d, const char *path)
{
	for (unsigned int i = 0; i < d->nclients; i++)
		if (!strcmp(d->clients[i].path, path))
			return (int)i;
	return -ENOENT;
}

int ih_dt_find_host(const struct ih_dt_desc *d, const char *path)
{
	for (unsigned int i = 0; i < d->nhosts; i++)
		if (!strcmp(d->hosts[i].path, path))
			return (int)i;
	return -ENOENT;
}

const char *ih_dt_iommu_type_name(enum ih_dt_iommu_type type)
{
	switch (type) {
	case IH_DT_IOMMU_SMMUV3:
		return "smmu-v3";
	case IH_DT_IOMMU_RK:
		return "rockchip";
	default:
		return "unknown";
	}
}
