/* SPDX-License-Identifier: MIT */
/* ACPI IORT (Arm DEN 0049) parsed into nodes and ID mappings, with ID translation. */
#ifndef IH_FW_IORT_H
#define IH_FW_IORT_H

#include <ih/fw.h>

struct ih_world;

/*
 * Table layout (DEN 0049 E.b-E.g, Table 2 / Table 3; all little-endian):
 *
 *   0x00  ACPI header (36 B): "IORT", Length u32 @4, Revision u8 @8, Checksum u8 @9, ...
 *   0x24  NodeCount u32     0x28  NodeOffset u32 (from table start)     0x2c  reserved
 *   node: Type u8 @0, Length u16 @1, Revision u8 @3, Identifier u32 @4,
 *         NumIdMappings u32 @8, IdArrayRef u32 @12 (from node start), body @16
 *   ID mapping (20 B): InputBase, IdCount (number of IDs minus one), OutputBase,
 *         OutputReference (table offset of the target node), Flags (bit 0: single)
 *
 * Table revisions seen in real firmware: 0 (issue A-D: Ampere, Qualcomm, NXP, Arm), 3
 * (E.b: QEMU 7.x), 5 (E.d: ACPICA templates). Node bodies are decoded by node length and
 * node revision, not by table revision, because real tables mix them (Qualcomm ships every
 * node at revision 0 with later fields present).
 */

enum ih_iort_node_type {
	IH_IORT_ITS_GROUP = 0,
	IH_IORT_NAMED_COMPONENT = 1,
	IH_IORT_ROOT_COMPLEX = 2,
	IH_IORT_SMMU = 3, /* SMMUv1/v2 */
	IH_IORT_SMMUV3 = 4,
	IH_IORT_PMCG = 5,
	IH_IORT_RMR = 6,
	IH_IORT_NTYPES,
};

#define IH_IORT_TYPE_BIT(t)  (1u << (t))
#define IH_IORT_IOMMU_TYPES  (IH_IORT_TYPE_BIT(IH_IORT_SMMU) | IH_IORT_TYPE_BIT(IH_IORT_SMMUV3))
#define IH_IORT_MSI_TYPES    IH_IORT_TYPE_BIT(IH_IORT_ITS_GROUP)
/* ID mapping flag: the mapping ignores the input and yields OutputBase (DEN 0049 3.4). */
#define IH_IORT_ID_SINGLE    BIT(0)
/* Most output references followed by one translation (RC -> SMMUv3 -> ITS is 2). */
#define IH_IORT_MAX_DEPTH    8
/* ih_iort_parse() flag: a bad checksum is an error instead of a warning. */
#define IH_IORT_STRICT_CHECKSUM BIT(0)

/**
 * struct ih_iort_id_map - one ID mapping.
 * @input_base: first input ID.
 * @id_count: as stored: the number of IDs minus one, so the inclusive input range is
 *            [input_base, input_base + id_count].
 * @output_base: output ID for @input_base.
 * @output_ref: table offset of the target node, as stored.
 * @flags: %IH_IORT_ID_SINGLE and reserved bits, as stored.
 * @target: index in &ih_iort.nodes of the node @output_ref points at.
 */
struct ih_iort_id_map {
	u32 input_base;
	u32 id_count;
	u32 output_base;
	u32 output_ref;
	u32 flags;
	unsigned int target;
};

/* A reserved memory range of an RMR node (DEN 0049 3.1.9). */
struct ih_iort_rmr_range {
	u64 base;
	u64 length;
};

/**
 * struct ih_iort_node - one node.
 * @offset: table offset of its first byte (what output references point at).
 * @type: &enum ih_iort_node_type value, or a higher one kept undecoded (e.g. 7, IWB).
 * @revision, @length, @identifier: header fields as stored (@identifier was "reserved"
 *            before issue E).
 * @nmaps: number of ID mappings.
 * @maps: the mappings (points into the table description; NULL when @nmaps is 0).
 * @u: the type-specific fields decoded:
 *  * its: @count GIC ITS identifiers, @ids.
 *  * nc: @node_flags, memory-access @cca/@hints/@mem_flags, @addr_limit, @name (ACPI path,
 *    e.g. "\_SB_.DPU0").
 *  * rc: @cca/@mem_flags, @ats (bit 0 ATS, bit 1 PRI, bit 2 PASID forwarding), @segment,
 *    @addr_limit (meaningful when @has_addr_limit: node revision >= 1).
 *  * smmu: @base, @span, @model, @flags, @nctx context interrupts.
 *  * smmuv3: @base, @flags, @vatos, @model, @gsiv (event, PRI, GERR, sync), @pxm,
 *    @deviceid_index and @msi_map: the mapping that describes the SMMU's own MSIs
 *    (-1 when none is in use: node revision 0, all four GSIVs wired, or the index out
 *    of range, which is counted as a warning). That mapping is skipped when
 *    translating client IDs.
 *  * pmcg: @page0, @gsiv, @node_ref and @node (index of the referenced node, -1 if the
 *    reference is 0), @page1 (0 when the node is too short to carry it).
 *  * rmr: @flags, @nranges, @ranges.
 */
struct ih_iort_node {
	u32 offset;
	u8 type;
	u8 revision;
	u16 length;
	u32 identifier;
	u32 nmaps;
	struct ih_iort_id_map *maps;
	union {
		struct {
			u32 count;
			u32 *ids;
		} its;
		struct {
			u32 node_flags;
			u32 cca;
			u8 hints;
			u8 mem_flags;
			u8 addr_limit;
			char *name;
		} nc;
		struct {
			u32 cca;
			u8 mem_flags;
			u32 ats;
			u32 segment;
			bool has_addr_limit;
			u8 addr_limit;
		} rc;
		struct {
			u64 base;
			u64 span;
			u32 model;
			u32 flags;
			u32 nctx;
		} smmu;
		struct {
			u64 base;
			u32 flags;
			u64 vatos;
			u32 model;
			u32 gsiv[4];
			u32 pxm;
			u32 deviceid_index;
			int msi_map;
		} smmuv3;
		struct {
			u64 page0;
			u32 gsiv;
			u32 node_ref;
			int node;
			u64 page1;
		} pmcg;
		struct {
			u32 flags;
			u32 nranges;
			struct ih_iort_rmr_range *ranges;
		} rmr;
	} u;
};

/**
 * struct ih_iort - a parsed IORT.
 * @w: the world that owns every allocation.
 * @length: table length (bytes beyond it in the buffer are ignored).
 * @revision: table revision.
 * @checksum_ok: the byte sum of the table is 0.
 * @oem_id, @oem_table_id: NUL-terminated copies.
 * @nnodes, @nodes: the nodes in table order.
 * @nmaps: ID mappings over all nodes.
 */
struct ih_iort {
	struct ih_world *w;
	u32 length;
	u8 revision;
	bool checksum_ok;
	char oem_id[7];
	char oem_table_id[9];
	u32 nnodes;
	struct ih_iort_node *nodes;
	u32 nmaps;
	/* private: the storage @nodes[].maps point into */
	struct ih_iort_id_map *map_store;
};

/**
 * ih_iort_parse() - validate an IORT fully and describe it.
 * @w: world that owns the description.
 * @buf: the table; untrusted, not referenced after the call.
 * @size: bytes available at @buf.
 * @flags: 0 or %IH_IORT_STRICT_CHECKSUM.
 * @out: the description, to free with ih_iort_free(); NULL on error.
 * @diag: optional; on error the table offset, the node ("IORT node 3 @0x1c0"), the field
 *        and the reason. Warnings (bad checksum, table revision 1, 2 or 4 which ACPICA
 *        refuses as known-broken, or above 7, a DeviceID mapping index out of range, an
 *        input ID that ends one range and starts the next) are counted in @diag->warnings.
 *
 * Checksum policy: a wrong checksum is a warning by default, as real firmware ships it
 * (Surface "romulus" IORT) and Linux only warns about it; %IH_IORT_STRICT_CHECKSUM makes
 * it -EBADMSG.
 *
 * Context: any thread; allocates from @w.
 * Return: 0, or
 *  * -EOVERFLOW: buffer shorter than the ACPI header or than the table's Length; the node
 *    array, a node, an ID-mapping array, an ITS identifier array, an RMR range array or a
 *    named-component name runs past its node or the table;
 *  * -EINVAL: signature not "IORT", Length below the 48-byte IORT header, NodeOffset
 *    inside the header, a node Length below 16 or below its type's fixed fields, an
 *    IdArrayRef inside the node header, an OutputReference (or PMCG node reference) that
 *    is not the start of a node;
 *  * -ERANGE: a (non-single) mapping whose InputBase + IdCount or OutputBase + IdCount
 *    wraps 32 bits;
 *  * -ELOOP: output references that form a cycle (a node reachable from itself);
 *  * -EBADMSG: bad checksum with %IH_IORT_STRICT_CHECKSUM;
 *  * -ENOMEM: an allocation failed.
 * Nothing is allocated when an error is returned.
 */
int ih_iort_parse(struct ih_world *w, const void *buf, size_t size, unsigned int flags,
		  struct ih_iort **out, struct ih_fw_diag *diag);

/* ih_iort_free() - free a description from ih_iort_parse(); NULL is ignored. */
void ih_iort_free(struct ih_iort *t);

/**
 * ih_iort_map_id() - translate @id from @node through output references until a node of
 * a type in @type_mask.
 * @t: the table.
 * @node: index of the start node.
 * @id: input ID (a PCI requester ID for a root complex, a device ID for a named component).
 * @type_mask: %IH_IORT_TYPE_BIT()s of acceptable end nodes, e.g. %IH_IORT_IOMMU_TYPES.
 * @out_node: out, index of the end node.
 * @out_id: out, the ID there (a StreamID at an SMMU, a DeviceID at an ITS group).
 * @diag: optional; says which node had no mapping or where the depth ran out.
 *
 * Per DEN 0049: a mapping covers [InputBase, InputBase + IdCount] inclusive; a single
 * mapping ignores the input and yields OutputBase, and only counts on named components
 * and root complexes; an SMMUv3's own DeviceID mapping (see @msi_map) is not used for
 * client IDs. As Linux does for firmware written with IdCount = number of IDs, an ID
 * that is the last of one range and the first of a later range takes the later range
 * (counted as a warning in @diag). A start node already of a @type_mask type yields @id.
 *
 * Context: any thread; @t is read only.
 * Return: 0; -EINVAL for a bad @node or an empty @type_mask; -ENODEV when some node on the
 * way has no mapping for the ID or the chain ends at a node of another type (e.g. a root
 * complex mapped straight to an ITS when asked for an SMMU: the device is not behind an
 * IOMMU); -ELOOP after %IH_IORT_MAX_DEPTH references.
 */
int ih_iort_map_id(const struct ih_iort *t, unsigned int node, u32 id, u32 type_mask,
		   unsigned int *out_node, u32 *out_id, struct ih_fw_diag *diag);

/**
 * ih_iort_map_index() - the output of mapping @index of @node (its OutputBase, the first
 * ID of its range), then translated on to a @type_mask node like ih_iort_map_id(). This is
 * how a named component's own StreamIDs are found: one per mapping.
 * Return: as ih_iort_map_id(); -EINVAL also for @index >= the node's mapping count.
 */
int ih_iort_map_index(const struct ih_iort *t, unsigned int node, unsigned int index,
		      u32 type_mask, unsigned int *out_node, u32 *out_id, struct ih_fw_diag *diag);

/*
 * ih_iort_lookup_smmu() / ih_iort_lookup_msi(): ih_iort_map_id() to an SMMU (v1/v2 or v3)
 * and StreamID, or to an ITS group and DeviceID.
 */
int ih_iort_lookup_smmu(const struct ih_iort *t, unsigned int node, u32 id, unsigned int *smmu,
			u32 *sid);
int ih_iort_lookup_msi(const struct ih_iort *t, unsigned int node, u32 id, unsigned int *its,
		       u32 *devid);

/*
 * Finders: the index of the node at table offset @offset, of the named component whose
 * ACPI path is @name (there is no DSDT: the world's configuration names devices), of the
 * root complex of PCI segment @segment, or -ENOENT.
 */
int ih_iort_node_at(const struct ih_iort *t, u32 offset);
int ih_iort_find_named(const struct ih_iort *t, const char *name);
int ih_iort_find_rc(const struct ih_iort *t, u32 segment);

/* ih_iort_type_name() - "ITS group", "named component", ..., "unknown". */
const char *ih_iort_type_name(unsigned int type);

#endif /* IH_FW_IORT_H */
