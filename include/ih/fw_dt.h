/* SPDX-License-Identifier: MIT */
/* Device tree (FDT via libfdt) parsed into a neutral description of IOMMUs and their users. */
#ifndef IH_FW_DT_H
#define IH_FW_DT_H

#include <ih/fw.h>

struct ih_world;

/*
 * Bindings followed (Linux Documentation/devicetree/bindings/iommu/iommu.txt and
 * pci/pci-iommu.txt, pci/pci-msi.txt; Devicetree Specification v0.4, 2.3.5 for
 * #address-cells/#size-cells defaults of 2 and 1):
 *
 *   iommu node      compatible, status, reg, phandle, #iommu-cells = <N>
 *   client          iommus = <&iommu a0 .. aN-1>, <&iommu2 ...>, ...
 *   PCI host        iommu-map = <rid-base &iommu iommu-base length>, ...
 *                   iommu-map-mask = <mask>     (absent: all ones)
 *                   msi-map = <rid-base &msi-ctrl msi-base length>, ...
 *                   msi-map-mask = <mask>
 *
 * Every map entry is four cells, so the target of an iommu-map must have #iommu-cells = 1
 * and the target of an msi-map, when it has #msi-cells, must have #msi-cells = 1.
 */

/* Largest #iommu-cells accepted (the kernel's MAX_PHANDLE_ARGS). */
#define IH_DT_MAX_IOMMU_CELLS 16
/* Longest node path recorded; a deeper path is rejected with -ENAMETOOLONG. */
#define IH_DT_MAX_PATH 512
/* Deepest node nesting walked; deeper trees are rejected with -E2BIG. */
#define IH_DT_MAX_DEPTH 64

enum ih_dt_iommu_type {
	IH_DT_IOMMU_UNKNOWN, /* referenced by iommus/iommu-map, compatible not modelled */
	IH_DT_IOMMU_SMMUV3,  /* "arm,smmu-v3" */
	IH_DT_IOMMU_RK,      /* "rockchip,iommu" or "rockchip,rk3568-iommu" */
};

/* One `reg` bank, decoded with the parent's #address-cells / #size-cells. */
struct ih_dt_reg {
	u64 base;
	u64 size;
};

/**
 * struct ih_dt_regs - the `reg` property of a node.
 * @n: number of banks (0 when the node has no `reg`).
 * @decoded: false when the parent's cell counts do not fit 64 bits (#address-cells or
 *           #size-cells above 2, e.g. PCI child nodes): @n is then the bank count and
 *           @bank is NULL.
 * @bank: the banks, in property order. Bus addresses; `ranges` are not applied.
 */
struct ih_dt_regs {
	unsigned int n;
	bool decoded;
	struct ih_dt_reg *bank;
};

/**
 * struct ih_dt_iommu - an IOMMU instance.
 * @path: full node path.
 * @phandle: its phandle (0 when it has none: only possible for an unreferenced node).
 * @type: what its `compatible` says.
 * @enabled: `status` absent, "okay" or "ok". A disabled IOMMU is still recorded: its
 *           clients see it and treat it as "no IOMMU", not as an error.
 * @cells: #iommu-cells.
 * @compatible: first `compatible` string, or NULL.
 * @reg: MMIO banks.
 * @client: index in &ih_dt_desc.clients when this IOMMU itself has `iommus`, else -1.
 * @node: node offset in the parsed blob (meaningful only for that blob, e.g. to read more
 *        properties of the same node with libfdt).
 */
struct ih_dt_iommu {
	char *path;
	int node;
	u32 phandle;
	enum ih_dt_iommu_type type;
	bool enabled;
	u32 cells;
	char *compatible;
	struct ih_dt_regs reg;
	int client;
};

/**
 * struct ih_dt_iommu_spec - one entry of an `iommus` list.
 * @iommu: index in &ih_dt_desc.iommus.
 * @nargs: number of argument cells (the IOMMU's #iommu-cells).
 * @args: the cells; for SMMUv3 and most IOMMUs args[0] is the StreamID.
 */
struct ih_dt_iommu_spec {
	unsigned int iommu;
	unsigned int nargs;
	u32 args[IH_DT_MAX_IOMMU_CELLS];
};

/**
 * struct ih_dt_client - a node with an `iommus` property (a DMA master).
 * @path, @node, @enabled, @compatible, @reg: as for &struct ih_dt_iommu.
 * @nspecs: entries in `iommus` (at least 1).
 * @specs: the entries, in property order.
 */
struct ih_dt_client {
	char *path;
	int node;
	bool enabled;
	char *compatible;
	struct ih_dt_regs reg;
	unsigned int nspecs;
	struct ih_dt_iommu_spec *specs;
};

/**
 * struct ih_dt_map_entry - one (rid-base, target, out-base, length) tuple.
 * @rid_base: first requester ID (after masking) covered.
 * @target: index of the target in &ih_dt_desc.iommus (iommu-map) or
 *          &ih_dt_desc.msi_ctrls (msi-map).
 * @out_base: output ID for @rid_base.
 * @length: number of IDs covered, at least 1; rid_base + length and out_base + length
 *          never exceed 2^32.
 */
struct ih_dt_map_entry {
	u32 rid_base;
	unsigned int target;
	u32 out_base;
	u32 length;
};

/**
 * struct ih_dt_id_map - an `iommu-map` or `msi-map` with its mask.
 * @present: the property exists.
 * @mask: the -mask property, 0xffffffff when absent.
 * @n: number of entries.
 * @e: the entries, in property order (the first match wins).
 */
struct ih_dt_id_map {
	bool present;
	u32 mask;
	unsigned int n;
	struct ih_dt_map_entry *e;
};

/* A node with `iommu-map` and/or `msi-map` (a PCI host bridge). */
struct ih_dt_pci_host {
	char *path;
	int node;
	bool enabled;
	char *compatible;
	struct ih_dt_regs reg;
	struct ih_dt_id_map iommu_map;
	struct ih_dt_id_map msi_map;
};

/* The target of an msi-map entry (an MSI controller such as a GICv3 ITS). */
struct ih_dt_msi_ctrl {
	char *path;
	int node;
	u32 phandle;
	bool enabled;
};

/**
 * struct ih_dt_desc - what a device tree says about IOMMUs.
 * @w: the world every allocation belongs to.
 * @nodes: nodes in the tree.
 * @iommus, @clients, @hosts, @msi_ctrls: the objects, in tree order of discovery
 *          (an IOMMU found through a reference comes when first referenced).
 */
struct ih_dt_desc {
	struct ih_world *w;
	unsigned int nodes;
	unsigned int niommus, nclients, nhosts, nmsi_ctrls;
	struct ih_dt_iommu *iommus;
	struct ih_dt_client *clients;
	struct ih_dt_pci_host *hosts;
	struct ih_dt_msi_ctrl *msi_ctrls;
};

/**
 * ih_dt_parse() - validate a flattened device tree and describe its IOMMU topology.
 * @w: world that owns the description.
 * @blob: the DTB; untrusted. It is not referenced after the call returns.
 * @size: bytes available at @blob (the header's totalsize must fit in it).
 * @out: the description, to free with ih_dt_free(); NULL on error.
 * @diag: optional; on error names the node path and property and says why.
 *
 * The blob goes through fdt_check_full() first; libfdt errors keep their fdt_strerror()
 * text in @diag. Nodes with a known IOMMU `compatible` become IOMMUs, nodes with `iommus`
 * become clients, nodes with `iommu-map`/`msi-map` become PCI hosts. Nodes referenced as
 * IOMMUs with another compatible become %IH_DT_IOMMU_UNKNOWN IOMMUs. Disabled nodes are
 * recorded (with @enabled false) and validated like enabled ones.
 *
 * Context: any thread; allocates from @w.
 * Return: 0 on success, or
 *  * -EOVERFLOW: blob shorter than an FDT header or than its totalsize, or truncated inside;
 *  * -EINVAL: libfdt rejects the structure (bad magic, version, layout, strings), the
 *    version is below 16 (libfdt 1.6.1 cannot check those safely), a
 *    property of the wrong length, #iommu-cells missing or above %IH_DT_MAX_IOMMU_CELLS,
 *    an `iommus` list whose cells do not divide into phandle + #iommu-cells entries, an
 *    empty `iommus`, an iommu-map/msi-map not made of 4-cell entries, an entry of length
 *    0, an iommu-map target with #iommu-cells other than 1, bad #address-cells/#size-cells
 *    (libfdt: above 4), two nodes with one phandle, phandle 0 or 0xffffffff referenced,
 *    two sibling nodes with one name (fdt_check_full() lets that through);
 *  * -ENOENT: a phandle that no node carries (dangling reference);
 *  * -ERANGE: an iommu-map/msi-map entry with rid-base + length or out-base + length
 *    above 2^32;
 *  * -ELOOP: an IOMMU that is, through `iommus`/`iommu-map` of IOMMU nodes, its own
 *    upstream (self-reference or longer cycle);
 *  * -ENAMETOOLONG: a node path longer than %IH_DT_MAX_PATH;
 *  * -E2BIG: nesting deeper than %IH_DT_MAX_DEPTH;
 *  * -ENOMEM: an allocation failed.
 * Nothing is allocated when an error is returned.
 */
int ih_dt_parse(struct ih_world *w, const void *blob, size_t size, struct ih_dt_desc **out,
		struct ih_fw_diag *diag);

/* ih_dt_free() - free a description from ih_dt_parse(); NULL is ignored. */
void ih_dt_free(struct ih_dt_desc *d);

/**
 * ih_dt_id_map_lookup() - translate an ID through an iommu-map or msi-map.
 * @m: the map.
 * @id: the requester ID.
 * @entry: optional out, the entry that matched.
 * @out: out, the translated ID.
 *
 * As the pci-iommu/pci-msi bindings define: the mask is applied first, then the first
 * entry with rid_base <= (id & mask) < rid_base + length translates it to
 * out_base + ((id & mask) - rid_base).
 *
 * Context: any thread; @m is read only.
 * Return: 0; -ENODEV when @m is not present or no entry covers the masked ID: the device
 * is then not behind any translation (the kernel's of_map_id() reports the same case as
 * "no translation" and the device gets no IOMMU).
 */
int ih_dt_id_map_lookup(const struct ih_dt_id_map *m, u32 id, const struct ih_dt_map_entry **entry,
			u32 *out);

/**
 * ih_dt_map_rid() - requester ID of a device below @host to (IOMMU, StreamID).
 * @d: the description.
 * @host: a PCI host of @d.
 * @rid: the requester ID (bus << 8 | devfn).
 * @iommu: out, index in @d->iommus.
 * @sid: out, the StreamID.
 *
 * Context: any thread.
 * Return: 0, or -ENODEV as for ih_dt_id_map_lookup() on @host->iommu_map.
 */
int ih_dt_map_rid(const struct ih_dt_desc *d, const struct ih_dt_pci_host *host, u32 rid,
		  unsigned int *iommu, u32 *sid);

/**
 * ih_dt_map_msi() - requester ID of a device below @host to (MSI controller, DeviceID).
 * Return: 0, or -ENODEV as for ih_dt_id_map_lookup() on @host->msi_map.
 */
int ih_dt_map_msi(const struct ih_dt_desc *d, const struct ih_dt_pci_host *host, u32 rid,
		  unsigned int *ctrl, u32 *devid);

/*
 * Finders. Each returns the index of the object, or -ENOENT when there is none.
 * Context: any thread.
 */
int ih_dt_find_iommu_by_phandle(const struct ih_dt_desc *d, u32 phandle);
int ih_dt_find_iommu(const struct ih_dt_desc *d, const char *path);
int ih_dt_find_client(const struct ih_dt_desc *d, const char *path);
int ih_dt_find_host(const struct ih_dt_desc *d, const char *path);

/* ih_dt_iommu_type_name() - "smmu-v3", "rockchip" or "unknown". */
const char *ih_dt_iommu_type_name(enum ih_dt_iommu_type type);

#endif /* IH_FW_DT_H */
