/* SPDX-License-Identifier: MIT */
/* Builds IORT tables in memory for tests: a known-good reference table and its mutations. */
#ifndef IH_TESTS_FW_IORT_BUILD_H
#define IH_TESTS_FW_IORT_BUILD_H

#include <string.h>

#include <ih/compat.h>

/*
 * The reference table (table revision 3, as QEMU emits), node offsets fixed:
 *
 *   0   ITS group     @0x030  ITS id 0
 *   1   SMMUv3        @0x048  rev 4, base 0x09050000, PRI GSIV 0 so the DeviceID index (1)
 *                             is in use; map 0: [0, 0xffff] -> ITS 0; map 1: single -> ITS
 *                             0x10000 (the SMMU's own MSI)
 *   2   root complex  @0x0b4  segment 0; map 0: [0, 0xff] -> SMMUv3 0x100;
 *                             map 1: [0x100, 0xffff] -> ITS 0x100 (not behind the SMMU)
 *   3   named comp.   @0x100  "\_SB_.DEV0"; map 0: single -> SMMUv3 0x42;
 *                             map 1: [0, 3] -> SMMUv3 0x50
 *   4   PMCG          @0x151  of the SMMUv3; map 0: single -> ITS 0x20000
 *   5   RMR           @0x18d  one range 0x80000000 + 64K; map 0: [0x42, 0x42] -> SMMUv3 0x42
 *   6   SMMUv1/v2     @0x1d1  MMU-500 at 0x2b500000, 2 context interrupts, no mappings
 *   7   type 7 (IWB)  @0x22d  undecoded, no mappings
 *   length 0x249
 */
#define IB_ITS    0x030u
#define IB_SMMUV3 0x048u
#define IB_RC     0x0b4u
#define IB_NC     0x100u
#define IB_PMCG   0x151u
#define IB_RMR    0x18du
#define IB_SMMU   0x1d1u
#define IB_IWB    0x22du
#define IB_LEN    0x249u

struct iortb {
	u8 b[4096];
	u32 len;
	u32 nnodes;
};

static inline void ib_put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static inline void ib_put32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static inline void ib_put64(u8 *p, u64 v)
{
	ib_put32(p, (u32)v);
	ib_put32(p + 4, (u32)(v >> 32));
}

static inline void ib_init(struct iortb *t, u8 rev)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, "IORT", 4);
	t->b[8] = rev;
	memcpy(t->b + 10, "IHTEST", 6);
	memcpy(t->b + 16, "IHIORT  ", 8);
	ib_put32(t->b + 40, 48);
	t->len = 48;
}

/* Append a node with @body and room for @nmaps mappings after it; returns its offset. */
static inline u32 ib_node(struct iortb *t, u8 type, u8 rev, const u8 *body, u32 body_len,
			  u32 nmaps)
{
	u32 off = t->len, len = 16 + body_len + nmaps * 20;
	u8 *p = t->b + off;

	p[0] = type;
	ib_put16(p + 1, (u16)len);
	p[3] = rev;
	ib_put32(p + 4, t->nnodes);
	ib_put32(p + 8, nmaps);
	ib_put32(p + 12, nmaps ? 16 + body_len : 0);
	memcpy(p + 16, body, body_len);
	t->len += len;
	t->nnodes++;
	return off;
}

static inline void ib_map(struct iortb *t, u32 node, u32 k, u32 in, u32 count, u32 out, u32 ref,
			  u32 flags)
{
	u8 *p = t->b + node;
	u8 *m = p + (p[12] | p[13] << 8) + 20 * k;

	ib_put32(m, in);
	ib_put32(m + 4, count);
	ib_put32(m + 8, out);
	ib_put32(m + 12, ref);
	ib_put32(m + 16, flags);
}

/* Fix Length, NodeCount and the checksum after any edit. */
static inline void ib_finish(struct iortb *t)
{
	u8 sum = 0;

	ib_put32(t->b + 4, t->len);
	ib_put32(t->b + 36, t->nnodes);
	t->b[9] = 0;
	for (u32 i = 0; i < t->len; i++)
		sum = (u8)(sum + t->b[i]);
	t->b[9] = (u8)(0x100 - sum);
}

static inline void ib_reference(struct iortb *t)
{
	u8 body[128];
	u32 n;

	ib_init(t, 3);
	/* ITS group: one ITS, id 0. */
	memset(body, 0, sizeof(body));
	ib_put32(body, 1);
	n = ib_node(t, 0, 1, body, 8, 0);
	/* SMMUv3: base, flags, -, VATOS, model, GSIVs event/PRI/GERR/sync, PXM, DeviceID idx. */
	memset(body, 0, sizeof(body));
	ib_put64(body, 0x09050000);
	ib_put32(body + 28, 0x6a);
	ib_put32(body + 32, 0);
	ib_put32(body + 36, 0x6d);
	ib_put32(body + 40, 0x6c);
	ib_put32(body + 48, 1);
	n = ib_node(t, 4, 4, body, 52, 2);
	ib_map(t, n, 0, 0, 0xffff, 0, IB_ITS, 0);
	ib_map(t, n, 1, 0, 0, 0x10000, IB_ITS, 1);
	/* Root complex: CCA 1, memory flags 3, ATS 0, segment 0, address limit 48. */
	memset(body, 0, sizeof(body));
	ib_put32(body, 1);
	body[7] = 3;
	body[16] = 48;
	n = ib_node(t, 2, 3, body, 20, 2);
	ib_map(t, n, 0, 0, 0xff, 0x100, IB_SMMUV3, 0);
	ib_map(t, n, 1, 0x100, 0xfeff, 0x100, IB_ITS, 0);
	/* Named component: flags, memory access (8), address limit, name. */
	memset(body, 0, sizeof(body));
	body[12] = 40;
	memcpy(body + 13, "\\_SB_.DEV0", 11);
	n = ib_node(t, 1, 4, body, 25, 2);
	ib_map(t, n, 0, 0, 0, 0x42, IB_SMMUV3, 1);
	ib_map(t, n, 1, 0, 3, 0x50, IB_SMMUV3, 0);
	/* PMCG: page 0, overflow GSIV, node reference, page 1. */
	memset(body, 0, sizeof(body));
	ib_put64(body, 0x09060000);
	ib_put32(body + 8, 0x70);
	ib_put32(body + 12, IB_SMMUV3);
	ib_put64(body + 16, 0x09070000);
	n = ib_node(t, 5, 2, body, 24, 1);
	ib_map(t, n, 0, 0, 0, 0x20000, IB_ITS, 1);
	/* RMR: flags, one range descriptor at node offset 28. */
	memset(body, 0, sizeof(body));
	ib_put32(body + 4, 1);
	ib_put32(body + 8, 28);
	ib_put64(body + 12, 0x80000000);
	ib_put64(body + 20, 0x10000);
	n = ib_node(t, 6, 3, body, 32, 1);
	ib_map(t, n, 0, 0x42, 0, 0x42, IB_SMMUV3, 0);
	/* SMMUv1/v2: base, span, model 3 (MMU-500), flags, global @60, 2 ctx @76, 0 PMU. */
	memset(body, 0, sizeof(body));
	ib_put64(body, 0x2b500000);
	ib_put64(body + 8, 0x10000);
	ib_put32(body + 16, 3);
	ib_put32(body + 24, 60);
	ib_put32(body + 28, 2);
	ib_put32(body + 32, 76);
	ib_put32(body + 40, 92);
	n = ib_node(t, 3, 3, body, 76, 0);
	/* An IWB node (type 7): kept, not decoded. */
	memset(body, 0, sizeof(body));
	n = ib_node(t, 7, 1, body, 12, 0);
	(void)n;
	ib_finish(t);
}

#endif /* IH_TESTS_FW_IORT_BUILD_H */
