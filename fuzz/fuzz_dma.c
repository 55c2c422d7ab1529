// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the DMA layer. Sequences of map / unmap / map_sg / alloc_coherent (and
 * their misuses), device DMA accesses, clock advances, CPU switches, raw IOVA alloc/free
 * and the live strict-to-lazy flip, on two devices in their own groups behind one IOMMU,
 * each in a strict (DMA) or lazy (DMA-FQ) default domain, in a sequential world with a
 * virtual clock and allocation faults chosen by the input.
 *
 * Targets: ih_dma_map_page/unmap_page/map_sg/unmap_sg/alloc_coherent/free_coherent,
 * ih_dma_init_fq, ih_dma_fq_flush, the flush queue and its timer, ih_iova_alloc_fast /
 * ih_iova_free_fast, dma-debug and the IOTLB-staleness checker, through the test IOMMU
 * driver (tests/lib/test_iommu.c: LPAE tables in simulated memory and a modelled TLB).
 *
 * Oracles, after every operation: no staleness, leak or invariant report (the report
 * sink aborts on those); a deliberate misuse gets -EINVAL and exactly one report of the
 * expected kind, a correct call none; a DMA inside a live mapping reaches its PA; after
 * a strict unmap the IOVA faults unless mapped again; each domain's IOVA allocator
 * passes ih_iova_check() and its page table walks equal to a shadow of the live
 * mappings (ih_pgtable_check()). At the end everything is unmapped and the world must
 * be torn down without a leak.
 *
 * Input format (little-endian; missing bytes read as 0):
 *   byte 0  flags: bit 0 dev0 lazy, bit 1 dev1 lazy, bit 2 single flush queue,
 *           bits 5:3 flush-queue size 2 << n (2..256)
 *   byte 1  model CPUs: 1 + b % 4
 *   byte 2  failing allocation site: b % 12 (0: none; see fail_sites[])
 *   byte 3  which call of that site fails: 1 + b
 *   then up to 200 operations: u8 op (low 4 bits kind, high 4 bits argument a), and:
 *     0 map_page      u8 dev, u8 pages (1 + b % 40), u16 offset (b % 4096), u8 dir,
 *                     u8 pool page
 *     1 unmap         u8 slot; a: 0 correct, 1 wrong size, 2 wrong direction, 3 unknown
 *                     address, 4 the slot's address again after release (double unmap)
 *     2 map_sg        u8 dev, u8 nents (1 + b % 4), per entry u16 offset, u8 pages, u8 dir
 *     3 alloc_coherent u8 dev, u16 size (1 + b)
 *     4 device DMA    u8 slot (live or released), u16 offset into it, u8 write
 *     5 clock         u16: advance b * 50 us
 *     6 cpu           u8: become CPU b % ncpus
 *     7 raw IOVA      u8 dev, u8 pages (1 + b % 64); a bit 0: free the oldest instead
 *     8 flush         u8 dev: ih_dma_fq_flush()
 *     9 flip          u8 dev: ih_dma_init_fq() (strict -> lazy, live)
 *     other kinds: nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/check.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/io_pgtable.h>
#include <ih/iova.h>
#include <ih/physmem.h>
#include <ih/world.h>
#include "fuzz_common.h"

/* The test IOMMU driver: a real driver against the core's ops with a modelled TLB. */
#include "lib/test_iommu.h"

#define NDEV	   2
#define NSLOT	   48
#define NRAW	   32
#define POOL_PAGES 256
#define POOL_PA	   0x4000000000ULL /* outside simulated memory */
#define MAX_OPS	   200

enum slot_kind { SLOT_PAGE, SLOT_SG, SLOT_COHERENT };

struct slot {
	bool used;     /* live mapping */
	bool released; /* unmapped; kept for double-unmap and stale-access probes */
	enum slot_kind kind;
	unsigned int dev;
	enum ih_dma_dir dir;
	u64 dma;
	size_t size;
	ih_pa_t pa;
	unsigned int nents;
	struct ih_dma_sg sg[4];
};

struct fz {
	struct ih_world *w;
	struct tiommu t;
	struct tfw fw;
	struct tfw_entry entries[NDEV];
	struct tdriver drv;
	struct ih_device *dev[NDEV];
	struct ih_pgtable_shadow *shadow[NDEV];
	ih_pa_t pool;
	bool dirty[NDEV]; /* the device's table changed since its last check */
	struct slot slots[NSLOT];
	struct {
		unsigned int dev;
		u64 pfn, pages;
		bool used;
	} raw[NRAW];
	unsigned int ncpus;
	bool expect_report;
};

static const char *const fail_sites[] = {
    NULL,
    "dma:cookie",
    "dma:fq",
    "dma:coherent",
    "iova:domain",
    "iova:node",
    "iova:magazine",
    "check:dma-entry",
    "check:iova",
    "check:domain",
    "io_pgtable:lpae-table",
    "base:device",
};

/* Staleness, leaks and invariants are findings; dma-debug misuse is checked per call. */
static void sink(void *opaque, const struct ih_report *r)
{
	struct fz *z = opaque;

	if (r->kind <= IH_REPORT_DMA_NO_DOMAIN && z->expect_report)
		return;
	fprintf(stderr, "fuzz_dma: unexpected report %s: %s (call %s)\n",
		ih_report_kind_name(r->kind), r->msg, r->call);
	abort();
}

/* Device @d's DMA domain when it has a cookie, else NULL. */
static struct ih_iommu_domain *tdom(struct fz *z, unsigned int d)
{
	struct ih_iommu_domain *dom = z->dev[d] ? ih_iommu_get_dma_domain(z->dev[d]) : NULL;

	return dom && dom->dma_cookie ? dom : NULL;
}

static int prot_of(enum ih_dma_dir dir)
{
	return dir == IH_DMA_TO_DEVICE	   ? IH_PROT_READ
	       : dir == IH_DMA_FROM_DEVICE ? IH_PROT_WRITE
					   : IH_PROT_READ | IH_PROT_WRITE;
}

/* The shadow follows what the table must hold: granule pages of live mappings. */
static void shadow_map(struct fz *z, unsigned int d, u64 dma, ih_pa_t pa, size_t size,
		       enum ih_dma_dir dir)
{
	u64 off = dma & 0xfff;
	size_t pages = (off + size + 0xfff) >> 12, mapped;

	z->dirty[d] = true;
	if (!z->shadow[d])
		return;
	IH_BUG_ON(ih_pgtable_shadow_map(z->shadow[d], dma - off, pa - off, SZ_4K, pages,
					prot_of(dir), &mapped),
		  "fuzz_dma: shadow refused a mapping the table took");
}

static void shadow_unmap(struct fz *z, unsigned int d, u64 dma, size_t size)
{
	u64 off = dma & 0xfff;
	size_t pages = (off + size + 0xfff) >> 12;

	z->dirty[d] = true;
	if (z->shadow[d])
		IH_BUG_ON(ih_pgtable_shadow_unmap(z->shadow[d], dma - off, SZ_4K, pages) !=
			      pages * SZ_4K,
			  "fuzz_dma: shadow lost a mapping");
}

/*
 * The allocators every time; a table walk (the costly part) whenever the device's table
 * may have changed: after a map or unmap on it, and at the end.
 */
static void check_all(struct fz *z, bool all)
{
	char msg[200];

	for (unsigned int d = 0; d < NDEV; d++) {
		struct ih_iommu_domain *td = tdom(z, d);

		if (!td)
			continue;
		if (ih_iova_check(ih_dma_iovad(td), msg, sizeof(msg))) {
			fprintf(stderr, "fuzz_dma: dev%u: %s\n", d, msg);
			abort();
		}
		if (!all && !z->dirty[d])
			continue;
		z->dirty[d] = false;
		if (z->shadow[d] &&
		    ih_pgtable_check(tiommu_domain_pgtable(td), z->shadow[d], msg, sizeof(msg))) {
			fprintf(stderr, "fuzz_dma: dev%u table: %s\n", d, msg);
			abort();
		}
	}
}

static struct slot *free_slot(struct fz *z)
{
	for (unsigned int i = 0; i < NSLOT; i++)
		if (!z->slots[i].used && !z->slots[i].released)
			return &z->slots[i];
	for (unsigned int i = 0; i < NSLOT; i++)
		if (!z->slots[i].used)
			return &z->slots[i];
	return NULL;
}

/* Call @ret = expression with misuse reports allowed; require @want and @nreports of @kind. */
#define EXPECT_MISUSE(z, expr, kind)                                                               \
	do {                                                                                       \
		unsigned long before_ = ih_report_count((z)->w, (kind));                           \
		unsigned long total_ = ih_report_total((z)->w);                                    \
		int ret_;                                                                          \
		(z)->expect_report = true;                                                         \
		ret_ = (expr);                                                                     \
		(z)->expect_report = false;                                                        \
		IH_BUG_ON(ret_ != -EINVAL || ih_report_total((z)->w) != total_ + 1 ||              \
			      (ih_report_count((z)->w, (kind)) != before_ + 1 &&                   \
			       ((kind) != IH_REPORT_DMA_UNKNOWN_UNMAP ||                           \
				ih_report_count((z)->w, IH_REPORT_DMA_DOUBLE_UNMAP) == 0)),        \
			  "fuzz_dma: misuse %s: ret %d, reports %lu -> %lu",                       \
			  ih_report_kind_name(kind), ret_, total_, ih_report_total((z)->w));       \
	} while (0)

static void op_map_page(struct fz *z, struct fz_in *in)
{
	unsigned int d = fz_u8(in) % NDEV;
	size_t pages = 1 + fz_u8(in) % 40;
	size_t off = fz_u16(in) % 4096;
	enum ih_dma_dir dir = (enum ih_dma_dir)(fz_u8(in) % 3);
	unsigned int pp = fz_u8(in) % (POOL_PAGES - 41);
	struct slot *s = free_slot(z);
	size_t size = pages * SZ_4K - off;
	ih_pa_t pa = z->pool + pp * SZ_4K + off;
	u64 dma;

	if (!s || !z->dev[d])
		return;
	if (ih_dma_map_page(z->dev[d], pa, size, dir, 0, &dma))
		return;
	*s = (struct slot){.used = true,
			   .kind = SLOT_PAGE,
			   .dev = d,
			   .dir = dir,
			   .dma = dma,
			   .size = size,
			   .pa = pa,
			   .nents = 1};
	shadow_map(z, d, dma, pa, size, dir);
}

static void op_map_sg(struct fz *z, struct fz_in *in)
{
	unsigned int d = fz_u8(in) % NDEV;
	unsigned int n = 1 + fz_u8(in) % 4;
	struct slot *s = free_slot(z);
	struct ih_dma_sg sg[4];
	enum ih_dma_dir dir;

	memset(sg, 0, sizeof(sg));
	for (unsigned int i = 0; i < n; i++) {
		size_t off = fz_u16(in) % 4096;
		size_t pages = 1 + fz_u8(in) % 8;

		sg[i].pa = z->pool + (i * 48 + (off % 7) * 4) * SZ_4K + off;
		sg[i].length = pages * SZ_4K - off;
	}
	dir = (enum ih_dma_dir)(fz_u8(in) % 3);
	if (!s || !z->dev[d] || ih_dma_map_sg(z->dev[d], sg, n, dir, 0) != (int)n)
		return;
	*s = (struct slot){.used = true,
			   .kind = SLOT_SG,
			   .dev = d,
			   .dir = dir,
			   .dma = sg[0].dma_address,
			   .nents = n};
	memcpy(s->sg, sg, sizeof(sg));
	for (unsigned int i = 0; i < n; i++) {
		s->size += sg[i].length;
		shadow_map(z, d, sg[i].dma_address, sg[i].pa, sg[i].length, dir);
	}
}

static void op_alloc_coherent(struct fz *z, struct fz_in *in)
{
	unsigned int d = fz_u8(in) % NDEV;
	size_t size = 1 + (size_t)fz_u16(in);
	struct slot *s = free_slot(z);
	ih_pa_t pa;
	u64 dma;

	if (!s || !z->dev[d] || ih_dma_alloc_coherent(z->dev[d], size, &dma, &pa))
		return;
	*s = (struct slot){.used = true,
			   .kind = SLOT_COHERENT,
			   .dev = d,
			   .dir = IH_DMA_BIDIRECTIONAL,
			   .dma = dma,
			   .size = size,
			   .pa = pa,
			   .nents = 1};
	shadow_map(z, d, dma, pa, size, IH_DMA_BIDIRECTIONAL);
}

static int do_unmap(struct fz *z, struct slot *s, size_t size, enum ih_dma_dir dir, u64 dma,
		    unsigned int nents)
{
	struct ih_device *dev = z->dev[s->dev];

	switch (s->kind) {
	case SLOT_PAGE:
		return ih_dma_unmap_page(dev, dma, size, dir, 0);
	case SLOT_SG: {
		struct ih_dma_sg sg[4];

		memcpy(sg, s->sg, sizeof(sg));
		sg[0].dma_address = dma;
		if (size != s->size)
			sg[0].length += size > s->size ? size - s->size : 0;
		return ih_dma_unmap_sg(dev, sg, nents, dir, 0);
	}
	case SLOT_COHERENT:
		return ih_dma_free_coherent(dev, size, s->pa, dma);
	}
	return -EINVAL;
}

static void release(struct fz *z, struct slot *s)
{
	if (s->kind == SLOT_SG) {
		for (unsigned int i = 0; i < s->nents; i++)
			shadow_unmap(z, s->dev, s->sg[i].dma_address, s->sg[i].length);
	} else {
		shadow_unmap(z, s->dev, s->dma, s->size);
	}
	s->used = false;
	s->released = true;
}

/* Is @dma the start of a live mapping of device @d (an IOVA or a PA used again)? */
static bool live_at(struct fz *z, unsigned int d, u64 dma)
{
	for (unsigned int i = 0; i < NSLOT; i++)
		if (z->slots[i].used && z->slots[i].dev == d && z->slots[i].dma == dma)
			return true;
	return false;
}

static void op_unmap(struct fz *z, struct fz_in *in, unsigned int how)
{
	struct slot *s = &z->slots[fz_u8(in) % NSLOT];
	enum ih_dma_dir wrong = (enum ih_dma_dir)((s->dir + 1) % 3);

	if (!z->dev[s->dev])
		return;
	if (s->used) {
		switch (how) {
		case 1:
			EXPECT_MISUSE(z, do_unmap(z, s, s->size + 4096, s->dir, s->dma, s->nents),
				      IH_REPORT_DMA_SIZE_MISMATCH);
			break;
		case 2:
			if (s->kind == SLOT_COHERENT)
				break;
			EXPECT_MISUSE(z, do_unmap(z, s, s->size, wrong, s->dma, s->nents),
				      IH_REPORT_DMA_DIR_MISMATCH);
			break;
		case 3:
			/* An address inside the mapping but not its start: never mapped. */
			if (s->kind != SLOT_PAGE || live_at(z, s->dev, s->dma + 1))
				break;
			/* Unknown, or "double" when that address was mapped and released before. */
			EXPECT_MISUSE(z, do_unmap(z, s, s->size, s->dir, s->dma + 1, 1),
				      IH_REPORT_DMA_UNKNOWN_UNMAP);
			break;
		default:
			IH_BUG_ON(do_unmap(z, s, s->size, s->dir, s->dma, s->nents),
				  "fuzz_dma: a correct unmap failed");
			release(z, s);
			break;
		}
		check_all(z, false);
		return;
	}
	if (s->released && how == 4 && s->kind == SLOT_PAGE && !live_at(z, s->dev, s->dma)) {
		/* Reported as double or unknown (the recent-release ring is finite), never done. */
		unsigned long total = ih_report_total(z->w);
		int ret;

		z->expect_report = true;
		ret = do_unmap(z, s, s->size, s->dir, s->dma, s->nents);
		z->expect_report = false;
		IH_BUG_ON(ret != -EINVAL || ih_report_total(z->w) != total + 1,
			  "fuzz_dma: double unmap not caught (ret %d)", ret);
		s->released = false;
	}
}

/* @iova inside the pages of [dma, dma + len) mapped at PA @pa: the PA, else invalid. */
static ih_pa_t in_pages(u64 iova, u64 dma, size_t len, ih_pa_t pa)
{
	u64 lo = dma & ~0xfffULL, hi = (dma + len + 0xfff) & ~0xfffULL;

	return iova >= lo && iova < hi ? pa - (dma - lo) + (iova - lo) : IH_PA_INVALID;
}

/*
 * The PA a live mapping of device @d gives @iova, or IH_PA_INVALID. The IOMMU maps whole
 * pages, so an address next to a mapping, in one of its pages, translates too.
 */
static ih_pa_t live_pa(struct fz *z, unsigned int d, u64 iova)
{
	for (unsigned int i = 0; i < NSLOT; i++) {
		struct slot *s = &z->slots[i];
		ih_pa_t pa = IH_PA_INVALID;

		if (!s->used || s->dev != d)
			continue;
		if (s->kind == SLOT_SG) {
			for (unsigned int k = 0; k < s->nents && pa == IH_PA_INVALID; k++)
				pa = in_pages(iova, s->sg[k].dma_address, s->sg[k].length,
					      s->sg[k].pa);
		} else {
			pa = in_pages(iova, s->dma, s->size, s->pa);
		}
		if (pa != IH_PA_INVALID)
			return pa;
	}
	return IH_PA_INVALID;
}

static void op_access(struct fz *z, struct fz_in *in)
{
	struct slot *s = &z->slots[fz_u8(in) % NSLOT];
	size_t off = fz_u16(in);
	bool write = fz_u8(in) & 1;
	struct ih_iommu_domain *td;
	ih_pa_t want, got = 0;
	u64 iova;
	int ret;

	if ((!s->used && !s->released) || !z->dev[s->dev])
		return;
	iova = (s->kind == SLOT_SG ? s->sg[0].dma_address : s->dma) + off % (s->size ? s->size : 1);
	want = live_pa(z, s->dev, iova);
	ret = ih_dma_access(z->dev[s->dev], iova, 1, write ? IH_DMA_FROM_DEVICE : IH_DMA_TO_DEVICE,
			    &got);
	td = tdom(z, s->dev);
	if (want != IH_PA_INVALID) {
		IH_BUG_ON(ret || got != want,
			  "fuzz_dma: DMA at 0x%llx: ret %d pa 0x%llx, want 0x%llx",
			  (unsigned long long)iova, ret, (unsigned long long)got,
			  (unsigned long long)want);
	} else if (td && !ih_dma_domain_is_lazy(td)) {
		/* Strict: once unmapped (and not mapped again) the IOVA must fault. */
		IH_BUG_ON(ret != -EFAULT,
			  "fuzz_dma: DMA at unmapped 0x%llx in a strict domain: ret %d",
			  (unsigned long long)iova, ret);
	}
}

static void op_raw(struct fz *z, struct fz_in *in, unsigned int a)
{
	unsigned int d = fz_u8(in) % NDEV;
	u64 pages = 1 + fz_u8(in) % 64;
	struct ih_iommu_domain *td = tdom(z, d);

	if (a & 1) {
		for (unsigned int i = 0; i < NRAW; i++) {
			if (z->raw[i].used) {
				td = tdom(z, z->raw[i].dev);
				ih_iova_free_fast(ih_dma_iovad(td), z->raw[i].pfn, z->raw[i].pages);
				z->raw[i].used = false;
				break;
			}
		}
		return;
	}
	if (!td)
		return;
	for (unsigned int i = 0; i < NRAW; i++) {
		if (z->raw[i].used)
			continue;
		if (!ih_iova_alloc_fast(ih_dma_iovad(td), pages, 0xffffffffULL, true,
					&z->raw[i].pfn)) {
			z->raw[i].used = true;
			z->raw[i].dev = d;
			z->raw[i].pages = pages;
		}
		return;
	}
}

static void setup(struct fz *z, struct fz_in *in)
{
	u8 flags = fz_u8(in), ncpu = fz_u8(in), site = fz_u8(in), nth = fz_u8(in);
	struct ih_dma_fq_options o = {
	    .type = flags & 4 ? IH_DMA_FQ_SINGLE : IH_DMA_FQ_PERCPU,
	    .size = 2u << ((flags >> 3) & 7),
	};
	struct ih_world_config cfg;

	ih_world_config_init(&cfg);
	cfg.ncpus = z->ncpus = 1 + ncpu % 4;
	cfg.physmem_size = 16 * SZ_1M;
	cfg.log = "none";
	cfg.regressions = "";
	IH_BUG_ON(ih_world_create(&cfg, &z->w), "fuzz_dma: world");
	ih_report_set_sink(z->w, sink, z);
	/* DMA targets need no memory behind them: the model never touches their bytes. */
	z->pool = POOL_PA;
	if (site % ARRAY_SIZE(fail_sites))
		ih_fault_fail_site(z->w, fail_sites[site % ARRAY_SIZE(fail_sites)], 1u + nth);
	if (ih_bus_register(z->w, &ih_platform_bus_type))
		return;
	ih_dma_set_default_fq_options(z->w, &o);
	for (unsigned int d = 0; d < NDEV; d++)
		z->entries[d] =
		    (struct tfw_entry){d ? "dev1" : "dev0", tiommu_fwnode(&z->t), 0x10 + d};
	z->fw = (struct tfw){.entries = z->entries, .count = NDEV};
	tfw_install(z->w, &z->fw);
	if (tiommu_register(z->w, &z->t)) {
		z->t.w = NULL;
		return;
	}
	tdriver_init(&z->drv, "tdrv", false);
	if (ih_driver_register(z->w, &z->drv.drv))
		return;
	for (unsigned int d = 0; d < NDEV; d++) {
		struct ih_iommu_domain *td;

		ih_iommu_set_default_domain_type(z->w, flags & (1u << d) ? IH_DOMAIN_DMA_FQ
									 : IH_DOMAIN_DMA);
		z->dev[d] = tplat_add(z->w, d ? "dev1" : "dev0");
		if (z->dev[d] && !ih_device_driver(z->dev[d])) {
			ih_device_unregister(z->dev[d]);
			z->dev[d] = NULL;
		}
		td = tdom(z, d);
		if (td && ih_pgtable_shadow_create(z->w, IH_ARM_64_LPAE_S1,
						   ih_io_pgtable_cfg_of(tiommu_domain_pgtable(td)),
						   &z->shadow[d]))
			z->shadow[d] = NULL;
	}
}

static void teardown(struct fz *z)
{
	for (unsigned int i = 0; i < NSLOT; i++) {
		struct slot *s = &z->slots[i];

		if (s->used) {
			IH_BUG_ON(do_unmap(z, s, s->size, s->dir, s->dma, s->nents),
				  "fuzz_dma: final unmap failed");
			release(z, s);
		}
	}
	for (unsigned int i = 0; i < NRAW; i++)
		if (z->raw[i].used)
			ih_iova_free_fast(ih_dma_iovad(tdom(z, z->raw[i].dev)), z->raw[i].pfn,
					  z->raw[i].pages);
	check_all(z, true);
	ih_clock_advance(z->w, 2000000000ULL); /* every queue times out */
	for (unsigned int d = 0; d < NDEV; d++) {
		ih_pgtable_shadow_destroy(z->shadow[d]);
		if (z->dev[d])
			ih_device_unregister(z->dev[d]);
	}
	if (z->drv.drv.name)
		ih_driver_unregister(z->w, &z->drv.drv);
	if (z->t.w)
		ih_iommu_device_unregister(z->w, &z->t.iommu);
	IH_BUG_ON(ih_world_destroy(z->w), "fuzz_dma: model memory leaked");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz z; /* reset at every input: nothing is kept between inputs */
	struct fz_in in = fz_init(data, size);

	memset(&z, 0, sizeof(z));
	setup(&z, &in);
	check_all(&z, true);
	for (int n = 0; n < MAX_OPS && !fz_empty(&in); n++) {
		u8 op = fz_u8(&in);
		unsigned int a = op >> 4;

		switch (op & 15) {
		case 0:
			op_map_page(&z, &in);
			break;
		case 1:
			op_unmap(&z, &in, a);
			break;
		case 2:
			op_map_sg(&z, &in);
			break;
		case 3:
			op_alloc_coherent(&z, &in);
			break;
		case 4:
			op_access(&z, &in);
			break;
		case 5:
			ih_clock_advance(z.w, (u64)fz_u16(&in) * 50000);
			break;
		case 6:
			ih_thread_set_cpu(z.w, fz_u8(&in) % z.ncpus);
			break;
		case 7:
			op_raw(&z, &in, a);
			break;
		case 8: {
			struct ih_iommu_domain *td = tdom(&z, fz_u8(&in) % NDEV);

			if (td)
				ih_dma_fq_flush(td);
			break;
		}
		case 9: {
			struct ih_iommu_domain *td = tdom(&z, fz_u8(&in) % NDEV);

			if (td && !ih_dma_init_fq(td))
				td->type = IH_DOMAIN_DMA_FQ;
			break;
		}
		default:
			break;
		}
		/* A failed map may have touched the table before undoing: check it too. */
		if ((op & 15) == 0 || (op & 15) == 2 || (op & 15) == 3) {
			z.dirty[0] = z.dirty[1] = true;
		}
		check_all(&z, false);
	}
	ih_thread_set_cpu(z.w, 0);
	teardown(&z);
	return 0;
}
