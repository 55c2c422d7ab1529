// SPDX-License-Identifier: MIT
/* ACPI IORT (Arm DEN 0049): bounded walk of header, nodes and ID mappings; ID translation. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/fw_iort.h>
#define IH_LOG_PREFIX "iort: "
#include <ih/diag.h>

#include "fw_priv.h"

/* ACPI 6.5, 5.2.6 System Description Table header, and DEN 0049 Table 2 (IORT header). */
#define IORT_SDT_HDR_LEN   36
#define IORT_HDR_LEN       48
#define IORT_OFF_LENGTH    4
#define IORT_OFF_REVISION  8
#define IORT_OFF_OEMID     10
#define IORT_OFF_OEMTABLE  16
#define IORT_OFF_NODECOUNT 36
#define IORT_OFF_NODEOFF   40

/* DEN 0049 Table 3: node header. */
#define NODE_HDR_LEN     16
#define NODE_OFF_TYPE    0
#define NODE_OFF_LENGTH  1
#define NODE_OFF_REV     3
#define NODE_OFF_ID      4
#define NODE_OFF_NMAPS   8
#define NODE_OFF_MAPREF  12
#define IDMAP_LEN        20

/*
 * Fixed fields each node type needs before anything is read (offsets from the node
 * start). DEN 0049: ITS group 3.1.1 (count), named component 3.1.2 (flags, memory access
 * properties, address limit, then at least the name's NUL), root complex 3.1.3 (memory
 * access, ATS attribute, segment), SMMUv1/v2 3.1.4 (through the PMU interrupt array
 * reference), SMMUv3 3.1.5 (through the sync GSIV), PMCG 3.1.6 (page 0, GSIV, node
 * reference), RMR 3.1.7 (flags, range count, range array reference).
 */
static const u16 iort_min_len[IH_IORT_NTYPES] = {
	[IH_IORT_ITS_GROUP] = 20,       [IH_IORT_NAMED_COMPONENT] = 30, [IH_IORT_ROOT_COMPLEX] = 32,
	[IH_IORT_SMMU] = 60,            [IH_IORT_SMMUV3] = 60,          [IH_IORT_PMCG] = 32,
	[IH_IORT_RMR] = 28,
};

struct iort_ctx {
	struct ih_world *w;
	const u8 *b; /* the table: b[0 .. len) */
	u32 len;
	struct ih_fw_diag *diag;
	struct ih_iort *t;
	char where[48];
};

/* iort_err() - record an error against node @i (or the header when @i < 0). */
IH_PRINTF(6, 7)
static int iort_err(struct iort_ctx *c, int err, long i, u32 off, const char *field,
		    const char *fmt, ...)
{
	char reason[IH_FW_DIAG_REASON];
	va_list ap;

	if (i >= 0)
		snprintf(c->where, sizeof(c->where), "IORT node %ld @0x%x", i,
			 c->t->nodes[i].offset);
	else
		snprintf(c->where, sizeof(c->where), "IORT header");
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	ih_log(c->w, IH_LOG_GUEST_ERROR, "%s: %s: %s", c->where, field ? field : "", reason);
	return ih_fw_diag_set(c->diag, err, (long)off, c->where, field, "%s", reason);
}

/* Is [off, off + n) inside the table? 64-bit sums: no 32-bit wrap can sneak past. */
static bool iort_in(const struct iort_ctx *c, u64 off, u64 n)
{
	return off <= c->len && n <= c->len - off;
}

/* Is [rel, rel + n) inside node @nd? */
static bool node_in(const struct ih_iort_node *nd, u64 rel, u64 n)
{
	return rel <= nd->length && n <= nd->length - rel;
}

static int iort_check_header(struct iort_ctx *c, const u8 *buf, size_t size, unsigned int flags,
			     u32 *node_count, u32 *node_off)
{
	struct ih_iort *t = c->t;
	u32 length;
	u8 sum = 0;

	if (size < IORT_SDT_HDR_LEN)
		return iort_err(c, -EOVERFLOW, -1, 0, "Length",
				"buffer of %zu bytes is shorter than the ACPI header (%d)", size,
				IORT_SDT_HDR_LEN);
	if (memcmp(buf, "IORT", 4))
		return iort_err(c, -EINVAL, -1, 0, "Signature",
				"signature %02x %02x %02x %02x is not \"IORT\"", buf[0], buf[1],
				buf[2], buf[3]);
	length = ih_ld32le(buf + IORT_OFF_LENGTH);
	if (length < IORT_HDR_LEN)
		return iort_err(c, -EINVAL, -1, IORT_OFF_LENGTH, "Length",
				"table length 0x%x is below the IORT header (0x%x)", length,
				IORT_HDR_LEN);
	if (length > size)
		return iort_err(c, -EOVERFLOW, -1, IORT_OFF_LENGTH, "Length",
				"table length 0x%x runs past the buffer (0x%zx)", length, size);
	c->b = buf;
	c->len = length;
	t->length = length;
	t->revision = ih_ld8(buf + IORT_OFF_REVISION);
	memcpy(t->oem_id, buf + IORT_OFF_OEMID, 6);
	memcpy(t->oem_table_id, buf + IORT_OFF_OEMTABLE, 8);

	for (u32 i = 0; i < length; i++)
		sum = (u8)(sum + buf[i]);
	t->checksum_ok = sum == 0;
	if (!t->checksum_ok) {
		if (flags & IH_IORT_STRICT_CHECKSUM)
			return iort_err(c, -EBADMSG, -1, 9, "Checksum",
					"byte sum of the table is 0x%02x, not 0", sum);
		ih_log(c->w, IH_LOG_GUEST_ERROR, "checksum wrong (byte sum 0x%02x)", sum);
		ih_fw_diag_warn(c->diag, 9, "IORT header", "checksum wrong (byte sum 0x%02x)", sum);
	}
	/*
	 * Revisions 1 and 2 (issue E, E.a) and 4 (E.c) are withdrawn layouts that ACPICA
	 * refuses; node lengths still bound everything we read, so decode and warn.
	 */
	if (t->revision == 1 || t->revision == 2 || t->revision == 4 || t->revision > 7)
		ih_fw_diag_warn(c->diag, IORT_OFF_REVISION, "IORT header",
				"table revision %u is withdrawn or unknown", t->revision);

	*node_count = ih_ld32le(buf + IORT_OFF_NODECOUNT);
	*node_off = ih_ld32le(buf + IORT_OFF_NODEOFF);
	if (*node_count == 0)
		return 0;
	if (*node_off < IORT_HDR_LEN)
		return iort_err(c, -EINVAL, -1, IORT_OFF_NODEOFF, "NodeOffset",
				"node array offset 0x%x is inside the header", *node_off);
	/* Every node is at least a header: this bounds the allocation by the table. */
	if (!iort_in(c, *node_off, (u64)*node_count * NODE_HDR_LEN))
		return iort_err(c, -EOVERFLOW, -1, IORT_OFF_NODECOUNT, "NodeCount",
				"%u nodes at 0x%x cannot fit in the table (length 0x%x)",
				*node_count, *node_off, length);
	return 0;
}

/* Pass 1: node headers, lengths and the mapping arrays' bounds. */
static int iort_walk_nodes(struct iort_ctx *c, u32 count, u32 off, u64 *total_maps)
{
	struct ih_iort *t = c->t;

	*total_maps = 0;
	for (u32 i = 0; i < count; i++) {
		struct ih_iort_node *nd = &t->nodes[i];
		const u8 *p;
		u32 mapref;

		nd->offset = off;
		if (!iort_in(c, off, NODE_HDR_LEN))
			return iort_err(c, -EOVERFLOW, i, off, "Length",
					"node header runs past the table (length 0x%x)", c->len);
		p = c->b + off;
		nd->type = ih_ld8(p + NODE_OFF_TYPE);
		nd->length = ih_ld16le(p + NODE_OFF_LENGTH);
		nd->revision = ih_ld8(p + NODE_OFF_REV);
		nd->identifier = ih_ld32le(p + NODE_OFF_ID);
		nd->nmaps = ih_ld32le(p + NODE_OFF_NMAPS);
		mapref = ih_ld32le(p + NODE_OFF_MAPREF);
		if (nd->length < NODE_HDR_LEN)
			return iort_err(c, -EINVAL, i, off + NODE_OFF_LENGTH, "Length",
					"node length %u is below the node header", nd->length);
		if (!iort_in(c, off, nd->length))
			return iort_err(c, -EOVERFLOW, i, off + NODE_OFF_LENGTH, "Length",
					"node of length 0x%x runs past the table (length 0x%x)",
					nd->length, c->len);
		if (nd->type < IH_IORT_NTYPES && nd->length < iort_min_len[nd->type])
			return iort_err(c, -EINVAL, i, off + NODE_OFF_LENGTH, "Length",
					"%s node length %u is below its fixed fields (%u)",
					ih_iort_type_name(nd->type), nd->length,
					iort_min_len[nd->type]);
		if (nd->nmaps) {
			if (mapref < NODE_HDR_LEN)
				return iort_err(c, -EINVAL, i, off + NODE_OFF_MAPREF, "IdArrayRef",
						"ID array at node offset 0x%x is inside the header",
						mapref);
			if (!node_in(nd, mapref, (u64)nd->nmaps * IDMAP_LEN))
				return iort_err(c, -EOVERFLOW, i, off + NODE_OFF_NMAPS,
						"NumIdMappings",
						"%u ID mappings at node offset 0x%x run past the node (length 0x%x)",
						nd->nmaps, mapref, nd->length);
		}
		*total_maps += nd->nmaps;
		off += nd->length;
	}
	return 0;
}

int ih_iort_node_at(const struct ih_iort *t, u32 offset)
{
	u32 lo = 0, hi = t->nnodes;

	/* Nodes are stored in increasing offset order. */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (t->nodes[mid].offset == offset)
			return (int)mid;
		if (t->nodes[mid].offset < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -ENOENT;
}

/* Pass 2a: the mappings of node @i. */
static int iort_decode_maps(struct iort_ctx *c, u32 i, struct ih_iort_id_map *store)
{
	struct ih_iort_node *nd = &c->t->nodes[i];
	u32 base = nd->offset + ih_ld32le(c->b + nd->offset + NODE_OFF_MAPREF);

	nd->maps = nd->nmaps ? store : NULL;
	for (u32 k = 0; k < nd->nmaps; k++) {
		const u8 *p = c->b + base + k * IDMAP_LEN;
		struct ih_iort_id_map *m = &store[k];
		u32 moff = base + k * IDMAP_LEN;
		int target;

		m->input_base = ih_ld32le(p);
		m->id_count = ih_ld32le(p + 4);
		m->output_base = ih_ld32le(p + 8);
		m->output_ref = ih_ld32le(p + 12);
		m->flags = ih_ld32le(p + 16);
		if (!(m->flags & IH_IORT_ID_SINGLE)) {
			if ((u64)m->input_base + m->id_count > 0xffffffffull)
				return iort_err(c, -ERANGE, i, moff + 4, "IdCount",
						"mapping %u: input 0x%x + count 0x%x wraps 32 bits",
						k, m->input_base, m->id_count);
			if ((u64)m->output_base + m->id_count > 0xffffffffull)
				return iort_err(c, -ERANGE, i, moff + 8, "OutputBase",
						"mapping %u: output 0x%x + count 0x%x wraps 32 bits",
						k, m->output_base, m->id_count);
		}
		target = ih_iort_node_at(c->t, m->output_ref);
		if (target < 0)
			return iort_err(c, -EINVAL, i, moff + 12, "OutputReference",
					"mapping %u: output reference 0x%x is not a node start", k,
					m->output_ref);
		m->target = (unsigned int)target;
	}
	return 0;
}

/* Pass 2b: type-specific fields of node @i; every read is inside nd->length. */
static int iort_decode_body(struct iort_ctx *c, u32 i)
{
	struct ih_iort_node *nd = &c->t->nodes[i];
	const u8 *p = c->b + nd->offset;
	u32 ref, n;
	size_t nlen;

	switch (nd->type) {
	case IH_IORT_ITS_GROUP:
		n = ih_ld32le(p + 16);
		if (!node_in(nd, 20, (u64)n * 4))
			return iort_err(c, -EOVERFLOW, i, nd->offset + 16, "ItsCount",
					"%u ITS identifiers run past the node (length %u)", n,
					nd->length);
		nd->u.its.count = n;
		if (!n)
			break;
		nd->u.its.ids = ih_alloc_array(c->w, n, sizeof(u32), "iort:its_ids");
		if (!nd->u.its.ids)
			return iort_err(c, -ENOMEM, i, nd->offset, NULL, "out of memory");
		for (u32 k = 0; k < n; k++)
			nd->u.its.ids[k] = ih_ld32le(p + 20 + 4 * k);
		break;
	case IH_IORT_NAMED_COMPONENT:
		nd->u.nc.node_flags = ih_ld32le(p + 16);
		nd->u.nc.cca = ih_ld32le(p + 20);
		nd->u.nc.hints = ih_ld8(p + 24);
		nd->u.nc.mem_flags = ih_ld8(p + 27);
		nd->u.nc.addr_limit = ih_ld8(p + 28);
		nlen = strnlen((const char *)p + 29, nd->length - 29u);
		if (nlen == nd->length - 29u)
			return iort_err(c, -EOVERFLOW, i, nd->offset + 29, "DeviceName",
					"device name has no NUL inside the node");
		nd->u.nc.name = ih_alloc(c->w, nlen + 1, "iort:nc_name");
		if (!nd->u.nc.name)
			return iort_err(c, -ENOMEM, i, nd->offset, NULL, "out of memory");
		memcpy(nd->u.nc.name, p + 29, nlen);
		break;
	case IH_IORT_ROOT_COMPLEX:
		nd->u.rc.cca = ih_ld32le(p + 16);
		nd->u.rc.mem_flags = ih_ld8(p + 23);
		nd->u.rc.ats = ih_ld32le(p + 24);
		nd->u.rc.segment = ih_ld32le(p + 28);
		/* The memory address size limit exists from node revision 1 (issue D). */
		if (nd->revision >= 1 && nd->length >= 33) {
			nd->u.rc.has_addr_limit = true;
			nd->u.rc.addr_limit = ih_ld8(p + 32);
		}
		break;
	case IH_IORT_SMMU:
		nd->u.smmu.base = ih_ld64le(p + 16);
		nd->u.smmu.span = ih_ld64le(p + 24);
		nd->u.smmu.model = ih_ld32le(p + 32);
		nd->u.smmu.flags = ih_ld32le(p + 36);
		ref = ih_ld32le(p + 40);
		/* Global interrupt array: NSgIrpt and NSgCfgIrpt with their flags. */
		if (!node_in(nd, ref, 16))
			return iort_err(c, -EOVERFLOW, i, nd->offset + 40, "GlobalInterruptArray",
					"global interrupts at 0x%x run past the node (length %u)",
					ref, nd->length);
		n = ih_ld32le(p + 44);
		ref = ih_ld32le(p + 48);
		if (!node_in(nd, ref, (u64)n * 8))
			return iort_err(c, -EOVERFLOW, i, nd->offset + 44, "ContextInterruptCount",
					"%u context interrupts at 0x%x run past the node (length %u)",
					n, ref, nd->length);
		nd->u.smmu.nctx = n;
		n = ih_ld32le(p + 52);
		ref = ih_ld32le(p + 56);
		if (!node_in(nd, ref, (u64)n * 8))
			return iort_err(c, -EOVERFLOW, i, nd->offset + 52, "PmuInterruptCount",
					"%u PMU interrupts at 0x%x run past the node (length %u)", n,
					ref, nd->length);
		break;
	case IH_IORT_SMMUV3:
		nd->u.smmuv3.base = ih_ld64le(p + 16);
		nd->u.smmuv3.flags = ih_ld32le(p + 24);
		nd->u.smmuv3.vatos = ih_ld64le(p + 32);
		nd->u.smmuv3.model = ih_ld32le(p + 40);
		for (int k = 0; k < 4; k++)
			nd->u.smmuv3.gsiv[k] = ih_ld32le(p + 44 + 4 * k);
		if (nd->length >= 64)
			nd->u.smmuv3.pxm = ih_ld32le(p + 60);
		nd->u.smmuv3.msi_map = -1;
		if (nd->length >= 68)
			nd->u.smmuv3.deviceid_index = ih_ld32le(p + 64);
		/*
		 * The DeviceID mapping index describes the SMMU's own MSIs; it is in use from
		 * node revision 1 when some interrupt is not a wired GSIV (or, from issue E.e,
		 * when flag bit 4 says so).
		 */
		if (nd->revision >= 1 && nd->length >= 68 &&
		    (!nd->u.smmuv3.gsiv[0] || !nd->u.smmuv3.gsiv[1] || !nd->u.smmuv3.gsiv[2] ||
		     !nd->u.smmuv3.gsiv[3] || (nd->u.smmuv3.flags & BIT(4)))) {
			if (nd->u.smmuv3.deviceid_index < nd->nmaps)
				nd->u.smmuv3.msi_map = (int)nd->u.smmuv3.deviceid_index;
			else
				ih_fw_diag_warn(c->diag, nd->offset + 64, "IORT SMMUv3 node",
						"DeviceID mapping index %u is beyond %u mappings",
						nd->u.smmuv3.deviceid_index, nd->nmaps);
		}
		break;
	case IH_IORT_PMCG:
		nd->u.pmcg.page0 = ih_ld64le(p + 16);
		nd->u.pmcg.gsiv = ih_ld32le(p + 24);
		nd->u.pmcg.node_ref = ih_ld32le(p + 28);
		nd->u.pmcg.node = -1;
		if (nd->length >= 40)
			nd->u.pmcg.page1 = ih_ld64le(p + 32);
		if (nd->u.pmcg.node_ref) {
			int target = ih_iort_node_at(c->t, nd->u.pmcg.node_ref);

			if (target < 0)
				return iort_err(c, -EINVAL, i, nd->offset + 28, "NodeReference",
						"PMCG node reference 0x%x is not a node start",
						nd->u.pmcg.node_ref);
			nd->u.pmcg.node = target;
		}
		break;
	case IH_IORT_RMR:
		nd->u.rmr.flags = ih_ld32le(p + 16);
		n = ih_ld32le(p + 20);
		ref = ih_ld32le(p + 24);
		if (!n)
			break;
		if (!node_in(nd, ref, (u64)n * 20) || ref < NODE_HDR_LEN)
			return iort_err(c, -EOVERFLOW, i, nd->offset + 20, "NumMemRangeDesc",
					"%u memory ranges at 0x%x run past the node (length %u)", n,
					ref, nd->length);
		nd->u.rmr.ranges = ih_alloc_array(c->w, n, sizeof(*nd->u.rmr.ranges),
						  "iort:rmr_ranges");
		if (!nd->u.rmr.ranges)
			return iort_err(c, -ENOMEM, i, nd->offset, NULL, "out of memory");
		nd->u.rmr.nranges = n;
		for (u32 k = 0; k < n; k++) {
			nd->u.rmr.ranges[k].base = ih_ld64le(p + ref + 20 * k);
			nd->u.rmr.ranges[k].length = ih_ld64le(p + ref + 20 * k + 8);
		}
		break;
	default:
		/* Later node types (IWB, 7) and unknown ones: header and mappings only. */
		break;
	}
	return 0;
}

/*
 * iort_check_cycles() - no node may reach itself through output references (Linux only
 * bounds the walk; rejecting here keeps every later lookup finite by construction).
 * Iterative depth-first search with three colours.
 */
static int iort_check_cycles(struct iort_ctx *c)
{
	struct ih_iort *t = c->t;
	struct { u32 node, next; } *stack;
	u8 *colour;
	int ret = 0;

	if (!t->nnodes)
		return 0;
	colour = ih_alloc(c->w, t->nnodes, "iort:cycle");
	stack = ih_alloc_array(c->w, t->nnodes, sizeof(*stack), "iort:cycle");
	if (!colour || !stack) {
		ret = iort_err(c, -ENOMEM, -1, 0, NULL, "out of memory for the cycle check");
		goto free_all;
	}
	for (u32 root = 0; root < t->nnodes && !ret; root++) {
		u32 sp = 0;

		if (colour[root])
			continue;
		colour[root] = 1;
		stack[sp].node = root;
		stack[sp++].next = 0;
		while (sp) {
			u32 v = stack[sp - 1].node, k = stack[sp - 1].next, to;

			if (k == t->nodes[v].nmaps) {
				colour[v] = 2;
				sp--;
				continue;
			}
			stack[sp - 1].next++;
			to = t->nodes[v].maps[k].target;
			if (colour[to] == 1) {
				ret = iort_err(c, -ELOOP, v, t->nodes[v].offset, "OutputReference",
					       "mapping %u closes a reference cycle through node @0x%x",
					       k, t->nodes[to].offset);
				break;
			}
			if (!colour[to]) {
				colour[to] = 1;
				stack[sp].node = to;
				stack[sp++].next = 0;
			}
		}
	}
free_all:
	ih_free(c->w, stack);
	ih_free(c->w, colour);
	return ret;
}

void ih_iort_free(struct ih_iort *t)
{
	if (!t)
		return;
	for (u32 i = 0; i < t->nnodes; i++) {
		struct ih_iort_node *nd = &t->nodes[i];

		/* Only pointers decode set are non-NULL: the union was zeroed. */
		if (nd->type == IH_IORT_ITS_GROUP)
			ih_free(t->w, nd->u.its.ids);
		else if (nd->type == IH_IORT_NAMED_COMPONENT)
			ih_free(t->w, nd->u.nc.name);
		else if (nd->type == IH_IORT_RMR)
			ih_free(t->w, nd->u.rmr.ranges);
	}
	ih_free(t->w, t->map_store);
	ih_free(t->w, t->nodes);
	ih_free(t->w, t);
}

int ih_iort_parse(struct ih_world *w, const void *buf, size_t size, unsigned int flags,
		  struct ih_iort **out, struct ih_fw_diag *diag)
{
	struct iort_ctx c = { .w = w, .diag = diag };
	u32 count = 0, off = 0, used = 0;
	u64 total;
	int ret;

	*out = NULL;
	ih_fw_diag_clear(diag);
	c.t = ih_alloc(w, sizeof(*c.t), "iort:table");
	if (!c.t)
		return ih_fw_diag_set(diag, -ENOMEM, -1, NULL, NULL, "out of memory");
	c.t->w = w;
	ret = iort_check_header(&c, buf, size, flags, &count, &off);
	if (ret)
		goto free_table;
	if (count) {
		c.t->nodes = ih_alloc_array(w, count, sizeof(*c.t->nodes), "iort:nodes");
		if (!c.t->nodes) {
			ret = iort_err(&c, -ENOMEM, -1, 0, NULL, "out of memory for %u nodes",
				       count);
			goto free_table;
		}
	}
	c.t->nnodes = count;
	ret = iort_walk_nodes(&c, count, off, &total);
	if (ret)
		goto free_table;
	/* Each mapping lies inside its node, so total * 20 <= length: no overflow here. */
	c.t->nmaps = (u32)total;
	if (total) {
		c.t->map_store = ih_alloc_array(w, total, sizeof(*c.t->map_store), "iort:maps");
		if (!c.t->map_store) {
			ret = iort_err(&c, -ENOMEM, -1, 0, NULL, "out of memory for %u mappings",
				       c.t->nmaps);
			goto free_table;
		}
	}
	for (u32 i = 0; i < count; i++) {
		/* No pointer arithmetic on a NULL store when the table has no mappings. */
		ret = iort_decode_maps(&c, i, c.t->map_store ? c.t->map_store + used : NULL);
		if (ret)
			goto free_table;
		used += c.t->nodes[i].nmaps;
		ret = iort_decode_body(&c, i);
		if (ret)
			goto free_table;
	}
	ret = iort_check_cycles(&c);
	if (ret)
		goto free_table;
	*out = c.t;
	return 0;

free_table:
	ih_iort_free(c.t);
	return ret;
}

/*
 * iort_pick() - the mapping of node @nd that translates @id, or -1. DEN 0049 3.4: ranges
 * are inclusive. Linux's workaround for firmware that stored the number of IDs in IdCount
 * is kept: when @id is the last ID of one range and the first of a later one, the later
 * range wins.
 */
static int iort_pick(const struct ih_iort_node *nd, u32 id, u32 *out, struct ih_fw_diag *diag)
{
	int found = -1;

	for (u32 k = 0; k < nd->nmaps; k++) {
		const struct ih_iort_id_map *m = &nd->maps[k];

		if (nd->type == IH_IORT_SMMUV3 && (int)k == nd->u.smmuv3.msi_map)
			continue;
		if (m->flags & IH_IORT_ID_SINGLE) {
			/* Single mappings stand for the device's own ID on NC and RC only. */
			if (found < 0 && (nd->type == IH_IORT_NAMED_COMPONENT ||
					  nd->type == IH_IORT_ROOT_COMPLEX)) {
				*out = m->output_base;
				return (int)k;
			}
			continue;
		}
		if (id < m->input_base || id - m->input_base > m->id_count)
			continue;
		if (found >= 0) {
			if (id != m->input_base)
				continue;
			ih_fw_diag_warn(diag, nd->offset, "IORT node",
					"input ID 0x%x ends mapping %d and starts mapping %u; using %u",
					id, found, k, k);
		}
		*out = m->output_base + (id - m->input_base);
		if (found >= 0 || id != m->input_base + m->id_count)
			return (int)k;
		found = (int)k;
	}
	return found;
}

static int iort_follow(const struct ih_iort *t, unsigned int cur, u32 id, u32 type_mask,
		       unsigned int depth, unsigned int *out_node, u32 *out_id,
		       struct ih_fw_diag *diag)
{
	for (;; depth++) {
		const struct ih_iort_node *nd = &t->nodes[cur];
		int k;

		if (nd->type < 32 && (type_mask & IH_IORT_TYPE_BIT(nd->type))) {
			*out_node = cur;
			*out_id = id;
			return 0;
		}
		if (depth >= IH_IORT_MAX_DEPTH)
			return ih_fw_diag_set(diag, -ELOOP, nd->offset, "IORT node", NULL,
					      "more than %d output references followed",
					      IH_IORT_MAX_DEPTH);
		k = iort_pick(nd, id, &id, diag);
		if (k < 0)
			return ih_fw_diag_set(diag, -ENODEV, nd->offset, "IORT node", NULL,
					      "%s node has no mapping for ID 0x%x",
					      ih_iort_type_name(nd->type), id);
		cur = nd->maps[k].target;
	}
}

int ih_iort_map_id(const struct ih_iort *t, unsigned int node, u32 id, u32 type_mask,
		   unsigned int *out_node, u32 *out_id, struct ih_fw_diag *diag)
{
	ih_fw_diag_clear(diag);
	if (node >= t->nnodes || !type_mask)
		return -EINVAL;
	return iort_follow(t, node, id, type_mask, 0, out_node, out_id, diag);
}

int ih_iort_map_index(const struct ih_iort *t, unsigned int node, unsigned int index,
		      u32 type_mask, unsigned int *out_node, u32 *out_id, struct ih_fw_diag *diag)
{
	const struct ih_iort_id_map *m;

	ih_fw_diag_clear(diag);
	if (node >= t->nnodes || !type_mask || index >= t->nodes[node].nmaps)
		return -EINVAL;
	m = &t->nodes[node].maps[index];
	return iort_follow(t, m->target, m->output_base, type_mask, 1, out_node, out_id, diag);
}

int ih_iort_lookup_smmu(const struct ih_iort *t, unsigned int node, u32 id, unsigned int *smmu,
			u32 *sid)
{
	return ih_iort_map_id(t, node, id, IH_IORT_IOMMU_TYPES, smmu, sid, NULL);
}

int ih_iort_lookup_msi(const struct ih_iort *t, unsigned int node, u32 id, unsigned int *its,
		       u32 *devid)
{
	return ih_iort_map_id(t, node, id, IH_IORT_MSI_TYPES, its, devid, NULL);
}

int ih_iort_find_named(const struct ih_iort *t, const char *name)
{
	for (u32 i = 0; i < t->nnodes; i++)
		if (t->nodes[i].type == IH_IORT_NAMED_COMPONENT &&
		    !strcmp(t->nodes[i].u.nc.name, name))
			return (int)i;
	return -ENOENT;
}

int ih_iort_find_rc(const struct ih_iort *t, u32 segment)
{
	for (u32 i = 0; i < t->nnodes; i++)
		if (t->nodes[i].type == IH_IORT_ROOT_COMPLEX && t->nodes[i].u.rc.segment == segment)
			return (int)i;
	return -ENOENT;
}

const char *ih_iort_type_name(unsigned int type)
{
	static const char *const names[IH_IORT_NTYPES] = {
		[IH_IORT_ITS_GROUP] = "ITS group",     [IH_IORT_NAMED_COMPONENT] = "named component",
		[IH_IORT_ROOT_COMPLEX] = "root complex", [IH_IORT_SMMU] = "SMMUv1/v2",
		[IH_IORT_SMMUV3] = "SMMUv3",           [IH_IORT_PMCG] = "PMCG",
		[IH_IORT_RMR] = "RMR",
	};

	return type < IH_IORT_NTYPES ? names[type] : "unknown";
}
