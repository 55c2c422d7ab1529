// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the real IOMMU drivers on their emulated hardware, as a board builds them
 * (hw/board: the "arm-smmu-v3" platform driver around ih_smmuv3_probe(), the Rockchip
 * platform driver), under a fuzz-chosen topology, hardware variant and op sequence.
 *
 * Topology: one SMMUv3 with up to six clients (three platform devices c0..c2, PCI
 * function 00:01.0 on the root bus, 01:00.0 and 01:01.0 behind a PCIe-to-PCI bridge, one
 * group), each with a fuzz-chosen StreamID (collisions and IDs beyond SIDSIZE included);
 * or three Rockchip IOMMUs (v1 or v2, one or two banks each) with one platform client
 * each. The IOMMU devices are made through the board's populate callback, as firmware
 * population would, then added; client drivers are DMA-API drivers matched by override.
 *
 * Input (little-endian; missing bytes read as 0):
 *   byte 0  flags: bit 0 backend (0 SMMUv3, 1 Rockchip); bit 1 probe-path flow (else
 *           bind-time); bits 3:2 default domain (0 DMA, 1 DMA-FQ, 2 identity, 3 DMA);
 *           bit 4 CMD_SYNC completion by MSI; bit 5 IOMMU devices added after the clients
 *   byte 1  clients present at start (bit i: client i; Rockchip uses bits 0-2)
 *   byte 2  SMMUv3: bits 1:0 stages (1 S1 only, 2 S2 only, else both), bit 2 2-level
 *           stream table, bit 3 16-bit ASIDs, bit 4 MSI, bit 5 range invalidation,
 *           bit 6 coherent, bit 7 random TLB eviction.
 *           Rockchip: bits 2:0 unit i is v2, bits 5:3 unit i has two banks
 *   byte 3  SMMUv3: bits 1:0 granules (0 4K+64K, 1 4K, 2 16K, 3 64K), bits 4:2 OAS
 *           (32, 36, 40, 42, 44, 48, 52, 48 bits). Rockchip: TLB entries 1 + b % 64
 *   byte 4  SMMUv3: CMDQS 1 + low nibble % 8, EVENTQS 1 + high nibble % 8 (log2 entries)
 *   byte 5  SMMUv3: TLB entries 1 + b % 64
 *   byte 6  SMMUv3: STE/CD cache entries 1 + b % 32
 *   byte 7  SMMUv3: SID bits 4 + b % 13
 *   bytes 8-13  SMMUv3: StreamID of client i: b % 24
 *   then up to 160 operations: u8 op (low nibble kind, high nibble a), and
 *     0 add client a % 6            1 delete client a % 6 (its DMA stopped first)
 *     2 bind its DMA-API driver     3 unbind it (mappings unmapped first)
 *     4 IOMMU driver of unit (a >> 1) % 3: a bit 0 bind, else unbind (its clients
 *       quiesced first, as device links would)
 *     5 u8 dev: sysfs type write on its group: a % 4 = identity, DMA, DMA-FQ, unmanaged
 *     6 u8 dev: explicit owner: claim, allocate a paging domain, attach its group
 *     7 u8 dev: detach, free, release
 *     8 u8 dev, u8 granule index (% 64), u8 granules (1 + b % 8): ih_iommu_map on the
 *       explicit domain; a bit 0 read-only, bit 1 write-only (Rockchip can), else RW
 *     9 u8 dev, u8 index, u8 granules: ih_iommu_unmap on it
 *    10 u8 dev, u8 pages (1 + b % 16), u8 dir: DMA API: a % 3 = map_page, map_sg (two
 *       entries), alloc_coherent
 *    11 u8 slot: its DMA API unmap
 *    12 u8 dev, u16 page: device DMA through the hardware (ih_dma_access); a bit 0:
 *       the page is taken inside a live slot of the device (else any page, mostly
 *       faulting: events, fault interrupts); a bit 1: write; a bit 2: plus page << 36
 *       (beyond the input address range)
 *    13 u16: advance the clock by b * 50 us (flush-queue timers); a bit 0: also flush
 *       every lazy domain now
 *    14 SMMUv3 raw commands through ih_smmuv3_cmdq_issue: a % 4 = an illegal opcode,
 *       CFGI_ALL, TLBI_NH_ALL, drain events + handle GERROR
 *    15 fail the (1 + a)-th model allocation from now
 *
 * Oracles, after every operation: the report sink has nothing (dma-debug, IOTLB
 * staleness, leaks: it aborts); no warning; ih_iommu_group_check() on every group and
 * no invariant violation; SMMUv3: every probed client's STE matches its domain (abort /
 * bypass / stage 1), no two probed clients share a StreamID, events drained equal
 * events the hardware recorded, command errors seen equal those the hardware raised
 * only where we issued illegal ones, no timeout; Rockchip: the driver's client count
 * equals the probed clients of each unit. A device DMA reaches exactly the PA the
 * attached domain's table gives (identity: the IOVA), faults where it gives none
 * (strict domains), and faults only for a missing mapping or a permission the mapping
 * lacks. At the end everything is torn down and no model memory may be left.
 * Deterministic: sequential world, virtual clock, allocation faults chosen by the input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/check.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/iommu_group.h>
#include <ih/world.h>
#include "fuzz_common.h"

#include "board/board.h"
#include "lib/test_iommu.h"
#include "rk_iommu/rk_iommu_drv.h"
#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"

#define NDEV	  6
#define NUNIT	  3
#define NSLOT	  32
#define NGRAN	  64
#define MAX_OPS	  160
#define SMMU_BASE 0x2b400000ULL
#define PM_BASE	  0x80000000ULL
#define POOL_PA	  0xc0000000ULL /* DMA targets: below 4G for 32-bit OAS / Rockchip v1 */
#define UPOOL_PA  0xd0000000ULL /* explicit-domain targets */

/* STE.Config values (IHI 0070, 5.2). */
#define STE_CFG_ABORT  0
#define STE_CFG_BYPASS 4
#define STE_CFG_S1     5

static const char *const dev_names[NDEV] = {"c0",	    "c1",	    "c2",
					    "0000:00:01.0", "0000:01:00.0", "0000:01:01.0"};
static const u64 rk_bases[NUNIT][2] = {
    {0xfe043e00ULL, 0xfe043f00ULL}, {0xfe044000ULL, 0xfe044100ULL}, {0xfe045000ULL, 0xfe045100ULL}};

enum slot_kind { SLOT_PAGE, SLOT_SG, SLOT_COHERENT };

struct slot {
	bool used;
	enum slot_kind kind;
	unsigned int dev;
	enum ih_dma_dir dir;
	u64 dma;
	size_t size;
	ih_pa_t pa;
	struct ih_dma_sg sg[2];
};

struct client {
	struct ih_device *dev;
	bool claimed;		      /* we hold an explicit DMA ownership claim */
	struct ih_iommu_domain *udom; /* our explicit paging domain */
	bool attached;		      /* ... attached to the group */
	u8 prot[NGRAN];		      /* granules mapped in udom and their prot */
};

struct bo {
	struct ih_world *w;
	bool rk;
	u8 rk_layout; /* bits 2:0 unit i is v2, bits 5:3 unit i has two banks */
	struct ih_board_config bc;
	struct ih_board *b;
	unsigned int nunits;
	struct ih_device *iommu[NUNIT];
	char fwnode[NUNIT]; /* their addresses are the IOMMUs' firmware nodes */
	struct tfw fw;
	struct tfw_entry e[NDEV];
	u32 sid[NDEV];
	struct ih_pci_dev *host, *bridge;
	struct ih_driver cdrv[2]; /* platform, PCI */
	bool cdrv_on[2];
	struct client c[NDEV];
	struct slot slots[NSLOT];
	/* SMMUv3: the instance last seen and hardware-minus-driver counter offsets */
	struct ih_smmuv3 *smmu_seen;
	u64 evt_offset, cerr_offset;
	u64 illegal_issued; /* illegal commands we submitted since the instance came up */
};

static void sink(void *opaque, const struct ih_report *r)
{
	fprintf(stderr, "fuzz_board_ops: report %s: %s (call %s)\n", ih_report_kind_name(r->kind),
		r->msg, r->call);
	abort();
}

static bool is_pci(unsigned int i)
{
	return i >= 3;
}

static unsigned int ndev(struct bo *z)
{
	return z->rk ? NUNIT : NDEV;
}

/* The unit a client sits behind. */
static unsigned int unit_of(struct bo *z, unsigned int i)
{
	return z->rk ? i : 0;
}

static int client_probe(struct ih_device *dev)
{
	return 0;
}

/* ---- IOMMU devices ------------------------------------------------------------------ */

static void make_iommu(struct bo *z, unsigned int u)
{
	const struct ih_fw_populate_ops *ops = ih_board_populate_ops(z->b);
	struct ih_fw_dev fd;
	char name[32];
	struct ih_device *dev;
	memset(&fd, 0, sizeof(fd));
	fd.kind = IH_FW_DEV_IOMMU;
	fd.what = name;
	if (z->rk) {
		snprintf(name, sizeof(name), "rk-iommu%u", u);
		fd.model = IH_FW_IOMMU_RK;
		fd.compatible =
		    z->rk_layout & (1u << u) ? IH_RK_IOMMU_COMPAT_V2 : IH_RK_IOMMU_COMPAT_V1;
		fd.nres = z->rk_layout & (8u << u) ? 2 : 1;
		for (unsigned int k = 0; k < fd.nres; k++)
			fd.res[k] = (struct ih_fw_res){rk_bases[u][k], IH_RK_IOMMU_BANK_SIZE};
	} else {
		snprintf(name, sizeof(name), "smmu%u", u);
		fd.model = IH_FW_IOMMU_SMMUV3;
		fd.compatible = "arm,smmu-v3";
		fd.nres = 1;
		fd.res[0] = (struct ih_fw_res){SMMU_BASE, IH_SMMUV3_MMIO_SIZE};
	}
	fd.fwnode = &z->fwnode[u];
	if (ops->create_iommu(ops->opaque, z->w, &fd, name, &dev))
		return;
	/* What population does with the device it gets back: firmware node, then add. */
	dev->fwnode = &z->fwnode[u];
	if (ih_device_add(dev)) {
		ih_device_put(dev);
		return;
	}
	z->iommu[u] = dev;
}

static struct ih_board_iommu_info iommu_info(struct bo *z, unsigned int u)
{
	struct ih_board_iommu_info info;

	memset(&info, 0, sizeof(info));
	if (z->iommu[u])
		ih_board_iommu_info(z->b, z->iommu[u], &info);
	return info;
}

/* ---- Clients -------------------------------------------------------------------------- */

static void add_client(struct bo *z, unsigned int i)
{
	struct client *c = &z->c[i];

	if (c->dev || i >= ndev(z))
		return;
	if (is_pci(i)) {
		struct ih_pci_desc d = {
		    .type = IH_PCI_ENDPOINT, .vendor = 0x1af4, .device = 0x1000};
		struct ih_pci_dev *p;

		if (!z->host || !z->bridge)
			return;
		d.devfn = i == 3 ? IH_PCI_DEVFN(1, 0) : IH_PCI_DEVFN(i - 4, 0);
		if (ih_pci_dev_alloc(z->w, i == 3 ? &z->host->dev : &z->bridge->dev, &d, &p))
			return;
		c->dev = &p->dev;
	} else {
		struct ih_platform_device *p;

		if (ih_platform_device_alloc(z->w, dev_names[i], "fuzz,client", NULL, &p))
			return;
		c->dev = &p->dev;
	}
	if (ih_device_set_driver_override(c->dev, "cdma") || ih_device_add(c->dev)) {
		ih_device_put(c->dev);
		c->dev = NULL;
	}
}

static struct ih_iommu_group *group_of(struct bo *z, unsigned int i)
{
	return z->c[i].dev ? z->c[i].dev->iommu_group : NULL;
}

static void unmap_slot(struct bo *z, struct slot *s)
{
	struct ih_device *dev = z->c[s->dev].dev;
	int ret;

	switch (s->kind) {
	case SLOT_PAGE:
		ret = ih_dma_unmap_page(dev, s->dma, s->size, s->dir, 0);
		break;
	case SLOT_SG:
		ret = ih_dma_unmap_sg(dev, s->sg, 2, s->dir, 0);
		break;
	default:
		ret = ih_dma_free_coherent(dev, s->size, s->pa, s->dma);
		break;
	}
	IH_BUG_ON(ret, "fuzz_board_ops: a correct DMA unmap failed (%d)", ret);
	s->used = false;
}

static void unmap_slots(struct bo *z, unsigned int i)
{
	for (unsigned int k = 0; k < NSLOT; k++)
		if (z->slots[k].used && z->slots[k].dev == i)
			unmap_slot(z, &z->slots[k]);
}

static void unbind_client(struct bo *z, unsigned int i)
{
	struct client *c = &z->c[i];

	if (!c->dev || !ih_device_driver(c->dev))
		return;
	unmap_slots(z, i);
	ih_device_unbind(c->dev);
}

static void disown(struct bo *z, unsigned int i)
{
	struct client *c = &z->c[i];

	if (c->attached && group_of(z, i))
		ih_iommu_detach_group(c->udom, group_of(z, i));
	c->attached = false;
	if (c->udom)
		ih_iommu_domain_free(c->udom);
	c->udom = NULL;
	memset(c->prot, 0, sizeof(c->prot));
	if (c->claimed)
		ih_iommu_device_release_dma_owner(c->dev);
	c->claimed = false;
}

/* Stop every use of client @i: its DMA, our ownership, its driver. */
static void quiesce(struct bo *z, unsigned int i)
{
	unmap_slots(z, i);
	disown(z, i);
	unbind_client(z, i);
}

static void del_client(struct bo *z, unsigned int i)
{
	if (!z->c[i].dev)
		return;
	quiesce(z, i);
	ih_device_unregister(z->c[i].dev);
	z->c[i].dev = NULL;
}

static void bind_client(struct bo *z, unsigned int i)
{
	struct client *c = &z->c[i];

	if (!c->dev || ih_device_driver(c->dev) || c->claimed)
		return;
	ih_device_attach(c->dev);
}

static void iommu_bind(struct bo *z, unsigned int u, bool bind)
{
	struct ih_device *dev = u < z->nunits ? z->iommu[u] : NULL;

	if (!dev)
		return;
	if (bind) {
		if (!ih_device_driver(dev))
			ih_device_attach(dev);
		return;
	}
	if (!ih_device_driver(dev))
		return;
	for (unsigned int i = 0; i < ndev(z); i++)
		if (unit_of(z, i) == u)
			quiesce(z, i);
	ih_device_unbind(dev);
}

static void store_type(struct bo *z, unsigned int i, unsigned int t)
{
	static const enum ih_domain_type types[4] = {IH_DOMAIN_IDENTITY, IH_DOMAIN_DMA,
						     IH_DOMAIN_DMA_FQ, IH_DOMAIN_UNMANAGED};
	struct ih_iommu_group *g = group_of(z, i);
	int ret;

	if (!g)
		return;
	ret = ih_iommu_group_store_type(g, types[t]);
	IH_BUG_ON(types[t] == IH_DOMAIN_UNMANAGED && ret != -EINVAL,
		  "fuzz_board_ops: an unmanaged default domain was accepted (%d)", ret);
}

static void own(struct bo *z, unsigned int i)
{
	struct client *c = &z->c[i];
	struct ih_iommu_group *g = group_of(z, i);

	if (!g || c->claimed || ih_device_driver(c->dev))
		return;
	if (ih_iommu_device_claim_dma_owner(c->dev, z))
		return;
	c->claimed = true;
	if (ih_iommu_domain_alloc(c->dev, &c->udom)) {
		c->udom = NULL;
		return;
	}
	c->attached = !ih_iommu_attach_group(c->udom, g);
}

/* The explicit domain's granule (its smallest page size). */
static u64 ugran(struct client *c)
{
	unsigned long b = c->udom->pgsize_bitmap;

	return b ? (u64)(b & -b) : SZ_4K;
}

static void umap(struct bo *z, unsigned int i, unsigned int a, struct fz_in *in)
{
	struct client *c = &z->c[i];
	unsigned int idx = fz_u8(in) % NGRAN, n = 1 + fz_u8(in) % 8;
	int prot = a & 1 ? IH_PROT_READ : a & 2 ? IH_PROT_WRITE : IH_PROT_READ | IH_PROT_WRITE;
	u64 g;

	if (!c->udom)
		return;
	g = ugran(c);
	if (idx + n > NGRAN)
		n = NGRAN - idx;
	if (ih_iommu_map(c->udom, idx * g, UPOOL_PA + idx * g, n * g, prot))
		return;
	for (unsigned int k = idx; k < idx + n; k++)
		c->prot[k] = (u8)prot;
}

static void uunmap(struct bo *z, unsigned int i, struct fz_in *in)
{
	struct client *c = &z->c[i];
	unsigned int idx = fz_u8(in) % NGRAN, n = 1 + fz_u8(in) % 8;
	size_t done;
	u64 g;

	if (!c->udom)
		return;
	g = ugran(c);
	if (idx + n > NGRAN)
		n = NGRAN - idx;
	done = ih_iommu_unmap(c->udom, idx * g, n * g);
	IH_BUG_ON(done % g || done > n * g, "fuzz_board_ops: unmap returned %zu", done);
	for (u64 k = idx; k < idx + done / g; k++) {
		IH_BUG_ON(!c->prot[k], "fuzz_board_ops: unmapped a granule never mapped");
		c->prot[k] = 0;
	}
}

static struct slot *free_slot(struct bo *z)
{
	for (unsigned int k = 0; k < NSLOT; k++)
		if (!z->slots[k].used)
			return &z->slots[k];
	return NULL;
}

static void dma_map(struct bo *z, unsigned int i, unsigned int a, struct fz_in *in)
{
	struct client *c = &z->c[i];
	size_t pages = 1 + fz_u8(in) % 16;
	enum ih_dma_dir dir = (enum ih_dma_dir)(fz_u8(in) % 3);
	struct slot *s = free_slot(z);
	unsigned int at = (unsigned int)(s ? s - z->slots : 0);
	ih_pa_t pa = POOL_PA + (u64)at * 64 * SZ_4K;

	if (!s || !c->dev || !ih_device_driver(c->dev))
		return;
	memset(s, 0, sizeof(*s));
	s->dev = i;
	s->dir = dir;
	switch (a % 3) {
	case 0:
		s->kind = SLOT_PAGE;
		s->size = pages * SZ_4K - 0x80;
		s->pa = pa + 0x80;
		if (ih_dma_map_page(c->dev, s->pa, s->size, dir, 0, &s->dma))
			return;
		break;
	case 1:
		s->kind = SLOT_SG;
		s->sg[0] = (struct ih_dma_sg){.pa = pa, .length = pages * SZ_4K};
		s->sg[1] = (struct ih_dma_sg){.pa = pa + 32 * SZ_4K, .length = SZ_4K};
		if (ih_dma_map_sg(c->dev, s->sg, 2, dir, 0) != 2)
			return;
		s->dma = s->sg[0].dma_address;
		s->size = s->sg[0].length;
		s->pa = pa;
		break;
	default:
		s->kind = SLOT_COHERENT;
		s->dir = IH_DMA_BIDIRECTIONAL;
		s->size = pages * SZ_4K;
		if (ih_dma_alloc_coherent(c->dev, s->size, &s->dma, &s->pa))
			return;
		break;
	}
	s->used = true;
}

/* ---- Device DMA and its oracle ---------------------------------------------------------- */

/* May an access (@write: the device writes) use a page mapped with @prot? */
static bool prot_allows(struct bo *z, int prot, bool write)
{
	/* LPAE stage 1 has no write-only page: a write-only mapping is read/write there. */
	if (!z->rk && (prot & IH_PROT_WRITE))
		prot |= IH_PROT_READ;
	return write ? prot & IH_PROT_WRITE : prot & IH_PROT_READ;
}

static int dir_prot(enum ih_dma_dir dir)
{
	return dir == IH_DMA_TO_DEVICE	   ? IH_PROT_READ
	       : dir == IH_DMA_FROM_DEVICE ? IH_PROT_WRITE
					   : IH_PROT_READ | IH_PROT_WRITE;
}

/* The prot a live mapping of client @i gives @iova in @dom, or -1 when we made none. */
static int known_prot(struct bo *z, unsigned int i, struct ih_iommu_domain *dom, u64 iova)
{
	struct client *c = &z->c[i];
	int prot = -1;

	if (dom == c->udom) {
		u64 g = ugran(c);

		return iova / g < NGRAN && c->prot[iova / g] ? c->prot[iova / g] : -1;
	}
	/* A DMA API page: every live slot of the group's devices that covers it. */
	for (unsigned int k = 0; k < NSLOT; k++) {
		struct slot *s = &z->slots[k];

		if (!s->used || !z->c[s->dev].dev || group_of(z, s->dev) != group_of(z, i))
			continue;
		for (unsigned int e = 0; e < (s->kind == SLOT_SG ? 2u : 1u); e++) {
			u64 lo = (s->kind == SLOT_SG ? s->sg[e].dma_address : s->dma) & ~0xfffULL;
			u64 len = s->kind == SLOT_SG ? s->sg[e].length : s->size + (s->dma & 0xfff);

			if (iova >= lo && iova < lo + len)
				prot = prot < 0 ? dir_prot(s->dir) : prot | dir_prot(s->dir);
		}
	}
	return prot;
}

static void dma_check(struct bo *z, unsigned int i, u64 iova, bool write)
{
	struct ih_device *dev = z->c[i].dev;
	struct ih_iommu_domain *dom;
	ih_pa_t sw, pa = IH_PA_INVALID;
	int ret, prot;

	if (!dev || !dev->iommu_group)
		return;
	dom = ih_iommu_get_domain_for_dev(dev);
	if (!dom)
		return;
	sw = ih_iommu_iova_to_phys(dom, iova);
	ret = ih_dma_access(dev, iova, 1, write ? IH_DMA_FROM_DEVICE : IH_DMA_TO_DEVICE, &pa);
	if (!ret) {
		if (sw != IH_PA_INVALID) {
			IH_BUG_ON(pa != sw,
				  "fuzz_board_ops: %s DMA at %#llx reached %#llx, table %#llx",
				  dev->name, (unsigned long long)iova, (unsigned long long)pa,
				  (unsigned long long)sw);
		} else {
			/* Only a lazy domain may still translate an unmapped IOVA (until flushed).
			 */
			IH_BUG_ON(!(dom->dma_cookie && ih_dma_domain_is_lazy(dom)),
				  "fuzz_board_ops: %s DMA at unmapped %#llx reached %#llx (%s)",
				  dev->name, (unsigned long long)iova, (unsigned long long)pa,
				  ih_domain_type_name(ih_domain_type(dom)));
		}
		return;
	}
	if (sw == IH_PA_INVALID)
		return;
	/* Rockchip takes 32-bit IOVAs only, paging or not. */
	if (z->rk && iova > UINT32_MAX)
		return;
	prot = known_prot(z, i, dom, iova);
	IH_BUG_ON(prot < 0 || prot_allows(z, prot, write),
		  "fuzz_board_ops: %s %s at %#llx faulted (%d), table maps it to %#llx (prot %d)",
		  dev->name, write ? "write" : "read", (unsigned long long)iova, ret,
		  (unsigned long long)sw, prot);
}

static void dma_op(struct bo *z, unsigned int i, unsigned int a, struct fz_in *in)
{
	u16 page = fz_u16(in);
	u64 iova = (u64)page * SZ_4K + 0x10;

	if (a & 1) {
		unsigned int n = 0;

		for (unsigned int k = 0; k < NSLOT; k++) {
			struct slot *s = &z->slots[k];

			if (s->used && s->dev == i && n++ == page % NSLOT) {
				iova = s->dma + (page % (s->size ? s->size : 1));
				break;
			}
		}
		if (z->c[i].udom && !n)
			iova = (u64)(page % NGRAN) * ugran(&z->c[i]) + 0x20;
	}
	/* Beyond a 48-bit input range (and any Rockchip IOVA): address-size faults. */
	if (a & 4)
		iova += (u64)(page | 1) << 36;
	dma_check(z, i, iova, a & 2);
}

/* ---- SMMUv3 raw commands ------------------------------------------------------------------ */

static void smmu_cmds(struct bo *z, unsigned int a)
{
	struct ih_board_iommu_info info = iommu_info(z, 0);
	u64 cmd[1][2] = {{0, 0}};
	int ret;

	if (z->rk || !info.smmu)
		return;
	switch (a % 4) {
	case 0:
		cmd[0][0] = 0x7f; /* no such opcode: CERROR_ILL */
		ret = ih_smmuv3_cmdq_issue(info.smmu, cmd, 1, true);
		IH_BUG_ON(ret != -EIO, "fuzz_board_ops: illegal command gave %d", ret);
		z->illegal_issued++;
		break;
	case 1:
		cmd[0][0] = 0x04; /* CMD_CFGI_ALL: CFGI_STE_RANGE with Range 31 */
		cmd[0][1] = 31;
		ret = ih_smmuv3_cmdq_issue(info.smmu, cmd, 1, true);
		IH_BUG_ON(ret, "fuzz_board_ops: CFGI_ALL gave %d", ret);
		break;
	case 2:
		cmd[0][0] = 0x10; /* CMD_TLBI_NH_ALL: illegal without stage 1 (IHI 0070, 4.4.2) */
		ret = ih_smmuv3_cmdq_issue(info.smmu, cmd, 1, true);
		IH_BUG_ON(ret != (z->bc.smmu_hw.stage1 ? 0 : -EIO),
			  "fuzz_board_ops: TLBI_NH_ALL gave %d", ret);
		z->illegal_issued += !z->bc.smmu_hw.stage1;
		break;
	default:
		ih_smmuv3_drain_events(info.smmu);
		ih_smmuv3_handle_gerror(info.smmu);
		break;
	}
}

/* ---- Invariants ------------------------------------------------------------------------------ */

static void check_smmu(struct bo *z)
{
	struct ih_board_iommu_info info = iommu_info(z, 0);
	struct ih_smmuv3_hw_stats hs;
	struct ih_smmuv3_stats ds;

	if (!info.smmu) {
		z->smmu_seen = NULL;
		return;
	}
	ih_smmuv3_drain_events(info.smmu);
	ih_smmuv3_hw_stats(info.smmu_hw, &hs);
	ih_smmuv3_get_stats(info.smmu, &ds);
	if (info.smmu != z->smmu_seen) {
		/* A new binding: the hardware's counters run on from before it. */
		z->smmu_seen = info.smmu;
		z->evt_offset = hs.events - ds.events;
		z->cerr_offset = hs.cmd_errors - ds.cmd_errors;
		z->illegal_issued = 0;
	}
	IH_BUG_ON(hs.events - ds.events != z->evt_offset,
		  "fuzz_board_ops: %llu events recorded, %llu drained",
		  (unsigned long long)(hs.events - z->evt_offset), (unsigned long long)ds.events);
	IH_BUG_ON(hs.cmd_errors - ds.cmd_errors != z->cerr_offset,
		  "fuzz_board_ops: command errors: hardware %llu, driver %llu",
		  (unsigned long long)(hs.cmd_errors - z->cerr_offset),
		  (unsigned long long)ds.cmd_errors);
	IH_BUG_ON(ds.cmd_errors != z->illegal_issued,
		  "fuzz_board_ops: %llu command errors, %llu illegal commands issued",
		  (unsigned long long)ds.cmd_errors, (unsigned long long)z->illegal_issued);
	IH_BUG_ON(ds.timeouts, "fuzz_board_ops: %llu SMMU timeouts",
		  (unsigned long long)ds.timeouts);
	for (unsigned int i = 0; i < NDEV; i++) {
		struct ih_device *dev = z->c[i].dev;
		struct ih_iommu_fwspec *fs = dev ? ih_dev_iommu_fwspec_get(dev) : NULL;
		struct ih_iommu_domain *dom;
		unsigned int want;
		u64 ste[4];

		if (!fs || !dev->iommu_group)
			continue;
		for (unsigned int k = 0; k < NDEV; k++) {
			struct ih_device *o = z->c[k].dev;
			struct ih_iommu_fwspec *ofs = o ? ih_dev_iommu_fwspec_get(o) : NULL;

			IH_BUG_ON(k != i && ofs && o->iommu_group && ofs->ids[0] == fs->ids[0],
				  "fuzz_board_ops: %s and %s both own StreamID %#x", dev->name,
				  o->name, fs->ids[0]);
		}
		dom = ih_iommu_get_domain_for_dev(dev);
		if (!dom)
			continue;
		want = ih_domain_type(dom) == IH_DOMAIN_BLOCKED	   ? STE_CFG_ABORT
		       : ih_domain_type(dom) == IH_DOMAIN_IDENTITY ? STE_CFG_BYPASS
								   : STE_CFG_S1;
		IH_BUG_ON(ih_smmuv3_read_ste(info.smmu, fs->ids[0], ste),
			  "fuzz_board_ops: no STE for %s", dev->name);
		IH_BUG_ON(!(ste[0] & 1) || ((ste[0] >> 1) & 7) != want,
			  "fuzz_board_ops: %s in a %s domain has STE word 0 %#llx", dev->name,
			  ih_domain_type_name(ih_domain_type(dom)), (unsigned long long)ste[0]);
	}
}

static void check_rk(struct bo *z)
{
	for (unsigned int u = 0; u < z->nunits; u++) {
		struct ih_rk_iommu_stats st;
		struct client *c = &z->c[u];
		unsigned long probed = c->dev && c->dev->iommu_group ? 1 : 0;

		if (!z->iommu[u] || ih_rk_iommu_get_stats(z->iommu[u], &st))
			continue;
		IH_BUG_ON(st.clients != probed,
			  "fuzz_board_ops: unit %u counts %lu clients, %lu probed", u, st.clients,
			  probed);
	}
}

static void check(struct bo *z)
{
	for (unsigned int i = 0; i < NDEV; i++) {
		struct ih_iommu_group *g = group_of(z, i);

		IH_BUG_ON(g && ih_iommu_group_check(g), "fuzz_board_ops: group of %s broken",
			  z->c[i].dev->name);
	}
	IH_BUG_ON(ih_iommu_invariant_violations(z->w), "fuzz_board_ops: invariant violated");
	IH_BUG_ON(ih_warn_count(z->w), "fuzz_board_ops: a warning was counted");
	if (z->rk)
		check_rk(z);
	else
		check_smmu(z);
}

/* ---- Set-up and teardown -------------------------------------------------------------------- */

static void hw_config(struct bo *z, struct fz_in *in)
{
	static const unsigned int oas[8] = {32, 36, 40, 42, 44, 48, 52, 48};
	struct ih_smmuv3_hw_config *h = &z->bc.smmu_hw;
	u8 b2 = fz_u8(in), b3 = fz_u8(in), b4 = fz_u8(in), b5 = fz_u8(in), b6 = fz_u8(in),
	   b7 = fz_u8(in);

	if (z->rk) {
		z->rk_layout = b2;
		z->bc.rk_tlb_entries = 1 + b3 % 64;
		return;
	}
	h->stage1 = (b2 & 3) != 2;
	h->stage2 = (b2 & 3) != 1;
	h->strtab_2lvl = b2 & 4;
	h->asid16 = b2 & 8;
	h->msi = b2 & 16;
	h->range_inv = b2 & 32;
	h->coherent = b2 & 64;
	h->tlb_evict = b2 & 128 ? IH_SMMUV3_EVICT_RANDOM : IH_SMMUV3_EVICT_LRU;
	h->gran4k = (b3 & 3) <= 1;
	h->gran16k = (b3 & 3) == 2;
	h->gran64k = (b3 & 3) == 0 || (b3 & 3) == 3;
	h->oas_bits = oas[(b3 >> 2) & 7];
	h->cmdqs_log2 = 1 + (b4 & 15) % 8;
	h->evtqs_log2 = 1 + (b4 >> 4) % 8;
	h->tlb_entries = 1 + b5 % 64;
	h->cfg_cache_entries = 1 + b6 % 32;
	h->sid_bits = 4 + b7 % 13;
}

static void setup(struct bo *z, struct fz_in *in)
{
	struct ih_pci_desc hd = {.type = IH_PCI_HOST_BRIDGE, .subordinate = 0xff};
	struct ih_pci_desc bd = {.type = IH_PCI_PCIE_TO_PCI,
				 .devfn = IH_PCI_DEVFN(2, 0),
				 .secondary = 1,
				 .subordinate = 1};
	static const enum ih_domain_type deftype[4] = {IH_DOMAIN_DMA, IH_DOMAIN_DMA_FQ,
						       IH_DOMAIN_IDENTITY, IH_DOMAIN_DMA};
	struct ih_world_config cfg;
	u8 flags = fz_u8(in), present = fz_u8(in);

	z->rk = flags & 1;
	z->nunits = z->rk ? NUNIT : 1;
	ih_world_config_init(&cfg);
	cfg.log = "none";
	cfg.regressions = "";
	cfg.physmem_base = PM_BASE;
	cfg.physmem_size = 16 * SZ_1M;
	IH_BUG_ON(ih_world_create(&cfg, &z->w), "fuzz_board_ops: world");
	ih_report_set_sink(z->w, sink, z);
	ih_iommu_set_probe_flow(z->w, flags & 2 ? IH_PROBE_FLOW_PROBE_PATH : IH_PROBE_FLOW_BIND);
	ih_iommu_set_default_domain_type(z->w, deftype[(flags >> 2) & 3]);
	ih_board_config_init(&z->bc);
	z->bc.smmu_sync_msi = flags & 16;
	hw_config(z, in);
	for (unsigned int i = 0; i < NDEV; i++)
		z->sid[i] = fz_u8(in) % 24;
	for (unsigned int i = 0; i < ndev(z); i++)
		z->e[i] = (struct tfw_entry){dev_names[i], &z->fwnode[unit_of(z, i)],
					     z->rk ? 0 : z->sid[i]};
	z->fw = (struct tfw){.entries = z->e, .count = ndev(z)};
	tfw_install(z->w, &z->fw);
	IH_BUG_ON(ih_board_create(z->w, &z->bc, &z->b), "fuzz_board_ops: board");
	IH_BUG_ON(ih_bus_register(z->w, &ih_pci_bus_type), "fuzz_board_ops: PCI bus");
	if (ih_pci_dev_alloc(z->w, NULL, &hd, &z->host) || ih_device_add(&z->host->dev))
		IH_BUG_ON(1, "fuzz_board_ops: host bridge");
	if (ih_pci_dev_alloc(z->w, &z->host->dev, &bd, &z->bridge) ||
	    ih_device_add(&z->bridge->dev))
		IH_BUG_ON(1, "fuzz_board_ops: bridge");
	for (unsigned int b = 0; b < 2; b++) {
		z->cdrv[b] = (struct ih_driver){.name = "cdma",
						.bus = b ? &ih_pci_bus_type : &ih_platform_bus_type,
						.probe = client_probe};
		z->cdrv_on[b] = !ih_driver_register(z->w, &z->cdrv[b]);
		IH_BUG_ON(!z->cdrv_on[b], "fuzz_board_ops: client driver");
	}
	if (!(flags & 32))
		for (unsigned int u = 0; u < z->nunits; u++)
			make_iommu(z, u);
	for (unsigned int i = 0; i < ndev(z); i++)
		if (present & (1u << i))
			add_client(z, i);
	if (flags & 32)
		for (unsigned int u = 0; u < z->nunits; u++)
			make_iommu(z, u);
}

static void teardown(struct bo *z)
{
	size_t leaked;

	ih_fault_clear(z->w);
	for (unsigned int i = 0; i < NDEV; i++)
		quiesce(z, i);
	check(z);
	ih_clock_advance(z->w, 2000000000ULL); /* every flush queue times out */
	for (unsigned int i = 0; i < NDEV; i++)
		del_client(z, i);
	for (unsigned int b = 0; b < 2; b++)
		if (z->cdrv_on[b])
			ih_driver_unregister(z->w, &z->cdrv[b]);
	for (unsigned int u = 0; u < NUNIT; u++)
		if (z->iommu[u])
			ih_device_unregister(z->iommu[u]);
	ih_board_destroy(z->b);
	ih_device_unregister(&z->bridge->dev);
	ih_device_unregister(&z->host->dev);
	IH_BUG_ON(ih_warn_count(z->w), "fuzz_board_ops: a warning at teardown");
	leaked = ih_world_destroy(z->w);
	IH_BUG_ON(leaked, "fuzz_board_ops: %zu model block(s) leaked", leaked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bo z; /* reset at every input: nothing is kept between inputs */
	struct fz_in in = fz_init(data, size);

	memset(&z, 0, sizeof(z));
	setup(&z, &in);
	check(&z);
	for (int n = 0; n < MAX_OPS && !fz_empty(&in); n++) {
		u8 op = fz_u8(&in);
		unsigned int a = op >> 4, i = a % ndev(&z);

		switch (op & 15) {
		case 0:
			add_client(&z, i);
			break;
		case 1:
			del_client(&z, i);
			break;
		case 2:
			bind_client(&z, i);
			break;
		case 3:
			unbind_client(&z, i);
			break;
		case 4:
			iommu_bind(&z, (a >> 1) % NUNIT, a & 1);
			break;
		case 5:
			store_type(&z, fz_u8(&in) % ndev(&z), a % 4);
			break;
		case 6:
			own(&z, fz_u8(&in) % ndev(&z));
			break;
		case 7:
			disown(&z, fz_u8(&in) % ndev(&z));
			break;
		case 8:
			umap(&z, fz_u8(&in) % ndev(&z), a, &in);
			break;
		case 9:
			uunmap(&z, fz_u8(&in) % ndev(&z), &in);
			break;
		case 10:
			dma_map(&z, fz_u8(&in) % ndev(&z), a, &in);
			break;
		case 11: {
			struct slot *s = &z.slots[fz_u8(&in) % NSLOT];

			if (s->used)
				unmap_slot(&z, s);
			break;
		}
		case 12:
			dma_op(&z, fz_u8(&in) % ndev(&z), a, &in);
			break;
		case 13:
			ih_clock_advance(z.w, (u64)fz_u16(&in) * 50000);
			for (unsigned int k = 0; (a & 1) && k < ndev(&z); k++) {
				struct ih_iommu_domain *d =
				    z.c[k].dev ? ih_iommu_get_dma_domain(z.c[k].dev) : NULL;

				if (d && d->dma_cookie && ih_dma_domain_is_lazy(d))
					ih_dma_fq_flush(d);
			}
			break;
		case 14:
			smmu_cmds(&z, a);
			break;
		default:
			ih_fault_fail_nth(z.w, 1 + a);
			break;
		}
		check(&z);
	}
	teardown(&z);
	return 0;
}
