// SPDX-License-Identifier: MIT
/*
 * Fuzz target for the emulated Rockchip IOMMU (hw/rk_iommu): register writes in any order
 * to any bank, commands in any state, garbage descriptors in simulated memory and DMA
 * accesses, each result checked against the behaviour documented in rk_iommu_hw.h.
 *
 * Target functions: ih_rk_iommu_hw_create/destroy, the bank MMIO handlers (through
 * ih_readl/ih_writel/ih_readq/ih_writeq), ih_rk_iommu_hw_translate(_bank), the TLB and
 * the walker.
 *
 * Input format (all multi-byte values little-endian):
 *   byte 0   config: bit 0 version (0 v1, 1 v2); bits 2:1 banks - 1; bits 5:3 TLB size
 *            index into {1, 2, 3, 4, 8, 16, 64, 256}; bits 7:6 line index into
 *            {default, 1, 4, 16} (clamped to the TLB size, rounded down to a power of 2)
 *   byte 1   TLB victim seed (0 uses the world seed)
 *   then operations until the input ends; a truncated operation ends the run.
 *   Each operation: one byte, low nibble = kind, bits 5:4 = bank (mod banks), bits 7:6 =
 *   flags, then the kind's arguments:
 *     0 MMIO write32   off:u8 (& 0xfc) val:u32
 *     1 MMIO read32    off:u8 (& 0xfc)
 *     2 command        cmd:u8 (to the bank)
 *     3 command all    cmd:u8 (to every bank, as the driver does)
 *     4 garbage store  table:u8 (& 3: DT, PT0, PT1, data) idx:u16 (& 0x3ff) val:u32
 *     5 good DTE       idx:u16 (& 0x3ff); flag bit 6 picks PT1 over PT0
 *     6 good PTE       idx:u16 (& 0x3ff); flag bit 6 PT1; flag bit 7 writable; readable
 *     7 DTE_ADDR       sel:u8: 0 DT, 1 PT0 as a DT, 2 data page, else raw val:u32 follows
 *     8 DMA            iova:u32; flag bit 6 write (instance-level, every bank)
 *     9 DMA bank       iova:u32; flag bit 6 write
 *    10 ZAP_ONE_LINE   iova:u32
 *    11 zap + oracle   iova:u32; flag bit 6 write: ZAP_CACHE then compare one bank's
 *                      translation with an independent reference walk
 *    12 64-bit access  off:u8 (& 0xf8) val:u64; flag bit 6 write
 *    13 attach         the driver's attach sequence on every bank (flag bit 6: skip the
 *                      bank in bits 5:4, to leave it forgotten)
 *    14 DMA small      dte:u8 (& 3) pte:u8; flag bit 6 write: iova in the low tables
 *    15 DMA too wide   iova:u32: iova | 1 << 32 must be -ERANGE
 *
 * Deterministic (sequential world, fixed seeds), nothing kept between inputs, leak-free.
 * A broken expectation aborts with a message: every abort is a finding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/mmio.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "rk_iommu/rk_iommu_hw.h"

/* Fuzzer-local register definitions (driver style), independent of the device's. */
#define F_DTE_ADDR	  0x00
#define F_STATUS	  0x04
#define F_COMMAND	  0x08
#define F_PAGE_FAULT_ADDR 0x0c
#define F_ZAP_ONE_LINE	  0x10
#define F_INT_RAWSTAT	  0x14
#define F_INT_CLEAR	  0x18
#define F_INT_MASK	  0x1c
#define F_INT_STATUS	  0x20

#define F_ST_PAGING	  BIT(0)
#define F_ST_FAULT	  BIT(1)
#define F_ST_STALL	  BIT(2)
#define F_ST_IDLE	  BIT(3)
#define F_ST_REPLAY	  BIT(4)
#define F_ST_WRITE	  BIT(5)
#define F_ST_STALL_NOT	  BIT(31)
#define F_ST_DEFINED	  (GENMASK(5, 0) | BIT(31))
#define F_CMD_ZAP_CACHE	  4
#define F_CMD_FORCE_RESET 6
#define F_IRQ_PF	  BIT(0)
#define F_IRQ_BUS	  BIT(1)

#define BANK_BASE(i) (0xfe040000ULL + 0x100ULL * (i))

struct fz {
	const u8 *p;
	size_t left;
	struct ih_world *w;
	struct ih_rk_iommu_hw *hw;
	struct ih_mmio_region *r[IH_RK_IOMMU_MAX_BANKS];
	enum ih_rk_iommu_version v;
	unsigned int nbanks;
	unsigned int tlb;
	ih_pa_t tab[4]; /* DT, PT0, PT1, data page */
	unsigned int tlb_count[IH_RK_IOMMU_MAX_BANKS];
};

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_rk_iommu: %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			fprintf(stderr, "" __VA_ARGS__);                                           \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static bool get8(struct fz *f, u8 *v)
{
	if (f->left < 1)
		return false;
	*v = f->p[0];
	f->p++;
	f->left--;
	return true;
}

static bool get16(struct fz *f, u16 *v)
{
	if (f->left < 2)
		return false;
	*v = (u16)(f->p[0] | f->p[1] << 8);
	f->p += 2;
	f->left -= 2;
	return true;
}

static bool get32(struct fz *f, u32 *v)
{
	if (f->left < 4)
		return false;
	*v = (u32)f->p[0] | (u32)f->p[1] << 8 | (u32)f->p[2] << 16 | (u32)f->p[3] << 24;
	f->p += 4;
	f->left -= 4;
	return true;
}

static bool get64(struct fz *f, u64 *v)
{
	u32 lo, hi;

	if (f->left < 8)
		return false;
	get32(f, &lo);
	get32(f, &hi);
	*v = (u64)hi << 32 | lo;
	return true;
}

/* Descriptor and DTE_ADDR encodings (rk_iommu_hw.h; v2 nibbles 11:8 = 35:32, 7:4 = 39:36). */
static u32 enc_desc(const struct fz *f, ih_pa_t pa, u32 flags)
{
	u32 d = (u32)(pa & 0xfffff000u) | flags;

	if (f->v == IH_RK_IOMMU_HW_V2)
		d |= (u32)((pa >> 32) & 0xf) << 8 | (u32)((pa >> 36) & 0xf) << 4;
	return d;
}

static ih_pa_t dec_desc(const struct fz *f, u32 d)
{
	ih_pa_t pa = d & 0xfffff000u;

	if (f->v == IH_RK_IOMMU_HW_V2)
		pa |= (ih_pa_t)((d >> 8) & 0xf) << 32 | (ih_pa_t)((d >> 4) & 0xf) << 36;
	return pa;
}

/* DTE_ADDR uses the descriptor layout too (its bits 3:0 read as zero). */
static u32 enc_dte_addr(const struct fz *f, ih_pa_t pa)
{
	return enc_desc(f, pa, 0);
}

static ih_pa_t dec_dte_addr(const struct fz *f, u32 r)
{
	return dec_desc(f, r);
}

static u32 dte_mask(const struct fz *f)
{
	return f->v == IH_RK_IOMMU_HW_V2 ? 0xfffffff0u : 0xfffff000u;
}

/* Independent reference walk for the oracle: same documented rules, own code. */
static int ref_walk(struct fz *f, u32 dte_addr, u32 iova, bool write, ih_pa_t *pa)
{
	ih_pa_t dt = dec_dte_addr(f, dte_addr);
	u32 dte, pte;

	if (ih_pm_load32(f->w, dt + 4 * (iova >> 22), &dte))
		return -EIO;
	if (!(dte & 1))
		return -EFAULT;
	if (ih_pm_load32(f->w, dec_desc(f, dte) + 4 * ((iova >> 12) & 0x3ff), &pte))
		return -EIO;
	if (!(pte & 1))
		return -EFAULT;
	if (!(pte & (write ? 4u : 2u)))
		return -EACCES;
	*pa = dec_desc(f, pte) | (iova & 0xfff);
	return 0;
}

/* Everything STATUS and the interrupt registers promise, on every bank. */
static void check_bank_invariants(struct fz *f)
{
	for (unsigned int i = 0; i < f->nbanks; i++) {
		u32 st = ih_readl(f->r[i], F_STATUS);
		u32 raw = ih_readl(f->r[i], F_INT_RAWSTAT);
		u32 mask = ih_readl(f->r[i], F_INT_MASK);
		u32 dte = ih_readl(f->r[i], F_DTE_ADDR);
		unsigned int n = ih_rk_iommu_hw_tlb_count(f->hw, i);
		bool fault = st & F_ST_FAULT;

		CHECK(!(st & ~F_ST_DEFINED), "bank %u STATUS 0x%x", i, st);
		CHECK(!!(st & F_ST_STALL_NOT) == !(st & F_ST_STALL), "bank %u STATUS 0x%x", i, st);
		CHECK(!!(st & F_ST_IDLE) == !fault && !!(st & F_ST_REPLAY) == !fault,
		      "bank %u STATUS 0x%x", i, st);
		CHECK(!fault || (st & F_ST_PAGING), "fault without paging: STATUS 0x%x", st);
		CHECK(!(raw & ~3u) && !(mask & ~3u), "bank %u raw 0x%x mask 0x%x", i, raw, mask);
		CHECK(ih_readl(f->r[i], F_INT_STATUS) == (raw & mask), "bank %u INT_STATUS", i);
		CHECK(ih_rk_iommu_hw_irq_line(f->hw, i) == !!(raw & mask), "bank %u line", i);
		CHECK(!(dte & ~dte_mask(f)), "bank %u DTE_ADDR 0x%x", i, dte);
		CHECK(n <= f->tlb, "bank %u TLB %u > %u", i, n, f->tlb);
	}
}

/* The TLB shrinks only through a zap or a reset; remember the counts to check that. */
static void snapshot_tlb(struct fz *f)
{
	for (unsigned int i = 0; i < f->nbanks; i++)
		f->tlb_count[i] = ih_rk_iommu_hw_tlb_count(f->hw, i);
}

static void check_tlb_not_shrunk(struct fz *f, int except_bank)
{
	for (unsigned int i = 0; i < f->nbanks; i++) {
		if ((int)i == except_bank || except_bank == IH_RK_IOMMU_ALL_BANKS)
			continue;
		CHECK(ih_rk_iommu_hw_tlb_count(f->hw, i) >= f->tlb_count[i],
		      "bank %u TLB shrank without a zap", i);
	}
}

/* Outcome of one bank access against the state read just before it. */
static void check_access(struct fz *f, unsigned int bank, u32 st_before, u32 iova, bool write,
			 int ret, ih_pa_t pa)
{
	u32 st = ih_readl(f->r[bank], F_STATUS);
	u32 raw = ih_readl(f->r[bank], F_INT_RAWSTAT);

	if (st_before & (F_ST_STALL | F_ST_FAULT)) {
		CHECK(ret == -EAGAIN, "stalled bank %u returned %d", bank, ret);
		return;
	}
	if (!(st_before & F_ST_PAGING)) {
		CHECK(ret == 0 && pa == iova, "bypass returned %d pa 0x%llx", ret,
		      (unsigned long long)pa);
		return;
	}
	switch (ret) {
	case 0:
		CHECK(!(st & F_ST_FAULT), "success left a fault");
		break;
	case -EFAULT:
	case -EACCES:
		CHECK(st & F_ST_FAULT, "fault %d not latched (STATUS 0x%x)", ret, st);
		CHECK(!!(st & F_ST_WRITE) == write, "write bit wrong");
		CHECK(raw & F_IRQ_PF, "no page-fault cause");
		CHECK(ih_readl(f->r[bank], F_PAGE_FAULT_ADDR) == iova, "fault address");
		break;
	case -EIO:
		CHECK(!(st & F_ST_FAULT), "bus error stalled the master");
		CHECK(raw & F_IRQ_BUS, "no bus-error cause");
		CHECK(ih_readl(f->r[bank], F_PAGE_FAULT_ADDR) == iova, "bus error address");
		break;
	default:
		CHECK(0, "undocumented return %d", ret);
	}
}

static void op_dma_bank(struct fz *f, unsigned int bank, u32 iova, bool write)
{
	u32 st = ih_readl(f->r[bank], F_STATUS);
	ih_pa_t pa = 0;
	int ret = ih_rk_iommu_hw_translate_bank(f->hw, bank, iova, write, &pa);

	check_access(f, bank, st, iova, write, ret, pa);
}

static void op_dma_all(struct fz *f, u32 iova, bool write)
{
	u32 st[IH_RK_IOMMU_MAX_BANKS];
	ih_pa_t pa = 0;
	int ret;

	for (unsigned int i = 0; i < f->nbanks; i++)
		st[i] = ih_readl(f->r[i], F_STATUS);
	ret = ih_rk_iommu_hw_translate(f->hw, iova, write, &pa);
	CHECK(ret == 0 || ret == -EAGAIN || ret == -EFAULT || ret == -EACCES || ret == -EIO ||
		  ret == -EXDEV,
	      "undocumented return %d", ret);
	if (ret == -EAGAIN) {
		bool any = false;

		for (unsigned int i = 0; i < f->nbanks; i++)
			any |= !!(st[i] & (F_ST_STALL | F_ST_FAULT));
		CHECK(any, "-EAGAIN with no bank stalled");
	}
	if (ret == 0 && !(st[0] & F_ST_PAGING))
		CHECK(pa == iova, "bank 0 bypass gave 0x%llx", (unsigned long long)pa);
}

static void op_oracle(struct fz *f, unsigned int bank, u32 iova, bool write)
{
	u32 st, dte;
	ih_pa_t pa = 0, ref_pa = 0;
	int ret, ref;

	ih_writel(f->r[bank], F_CMD_ZAP_CACHE, F_COMMAND);
	CHECK(ih_rk_iommu_hw_tlb_count(f->hw, bank) == 0, "ZAP_CACHE left entries");
	st = ih_readl(f->r[bank], F_STATUS);
	dte = ih_readl(f->r[bank], F_DTE_ADDR);
	ret = ih_rk_iommu_hw_translate_bank(f->hw, bank, iova, write, &pa);
	check_access(f, bank, st, iova, write, ret, pa);
	if ((st & (F_ST_STALL | F_ST_FAULT)) || !(st & F_ST_PAGING))
		return;
	ref = ref_walk(f, dte, iova, write, &ref_pa);
	CHECK(ret == ref, "iova 0x%x: device %d, reference %d", iova, ret, ref);
	CHECK(ret || pa == ref_pa, "iova 0x%x: device 0x%llx, reference 0x%llx", iova,
	      (unsigned long long)pa, (unsigned long long)ref_pa);
}

/* The upstream driver's attach on every bank (all steps; polls become checks). */
static void op_attach(struct fz *f, int skip)
{
	for (unsigned int i = 0; i < f->nbanks; i++) {
		if ((int)i == skip)
			continue;
		if (ih_readl(f->r[i], F_STATUS) & F_ST_PAGING)
			ih_writel(f->r[i], 2, F_COMMAND); /* ENABLE_STALL */
		ih_writel(f->r[i], 0xcafeb000, F_DTE_ADDR);
		CHECK(ih_readl(f->r[i], F_DTE_ADDR) == (0xcafeb000 & dte_mask(f)), "self-test");
		ih_writel(f->r[i], F_CMD_FORCE_RESET, F_COMMAND);
		CHECK(ih_readl(f->r[i], F_DTE_ADDR) == 0, "reset kept DTE_ADDR");
		CHECK(ih_readl(f->r[i], F_STATUS) == (F_ST_IDLE | F_ST_REPLAY | F_ST_STALL_NOT),
		      "reset state");
		CHECK(ih_rk_iommu_hw_tlb_count(f->hw, i) == 0, "reset kept the TLB");
		ih_writel(f->r[i], enc_dte_addr(f, f->tab[0]), F_DTE_ADDR);
		ih_writel(f->r[i], F_CMD_ZAP_CACHE, F_COMMAND);
		ih_writel(f->r[i], 3, F_INT_MASK);
		ih_writel(f->r[i], 0, F_COMMAND); /* ENABLE_PAGING */
		CHECK(ih_readl(f->r[i], F_STATUS) & F_ST_PAGING, "paging did not enable");
		ih_writel(f->r[i], 3, F_COMMAND); /* DISABLE_STALL */
	}
}

static bool run_op(struct fz *f)
{
	u8 op, kind, b8, flags;
	unsigned int bank;
	u16 idx;
	u32 v32;
	u64 v64;

	if (!get8(f, &op))
		return false;
	kind = op & 0xf;
	bank = ((op >> 4) & 3) % f->nbanks;
	flags = op >> 6;
	snapshot_tlb(f);

	switch (kind) {
	case 0:
		if (!get8(f, &b8) || !get32(f, &v32))
			return false;
		ih_writel(f->r[bank], v32, b8 & 0xfc);
		if ((b8 & 0xfc) != F_COMMAND && (b8 & 0xfc) != F_ZAP_ONE_LINE)
			check_tlb_not_shrunk(f, -2);
		else
			check_tlb_not_shrunk(f, (int)bank);
		break;
	case 1:
		if (!get8(f, &b8))
			return false;
		v32 = ih_readl(f->r[bank], b8 & 0xfc);
		CHECK((b8 & 0xfc) <= 0x24 || v32 == 0, "unknown offset 0x%x reads 0x%x", b8, v32);
		if ((b8 & 0xfc) == F_COMMAND || (b8 & 0xfc) == F_ZAP_ONE_LINE ||
		    (b8 & 0xfc) == F_INT_CLEAR)
			CHECK(v32 == 0, "write-only offset 0x%x reads 0x%x", b8, v32);
		check_tlb_not_shrunk(f, -2);
		break;
	case 2:
		if (!get8(f, &b8))
			return false;
		ih_writel(f->r[bank], b8 < 16 ? b8 % 8 : b8, F_COMMAND);
		check_tlb_not_shrunk(f, (int)bank);
		break;
	case 3:
		if (!get8(f, &b8))
			return false;
		for (unsigned int i = 0; i < f->nbanks; i++)
			ih_writel(f->r[i], b8 % 8, F_COMMAND);
		break;
	case 4:
		if (!get8(f, &b8) || !get16(f, &idx) || !get32(f, &v32))
			return false;
		CHECK(!ih_pm_store32(f->w, f->tab[b8 & 3] + 4 * (idx & 0x3ff), v32), "store");
		check_tlb_not_shrunk(f, -2);
		break;
	case 5:
		if (!get16(f, &idx))
			return false;
		CHECK(!ih_pm_store32(f->w, f->tab[0] + 4 * (idx & 0x3ff),
				     enc_desc(f, f->tab[(flags & 1) ? 2 : 1], 1)),
		      "store");
		check_tlb_not_shrunk(f, -2);
		break;
	case 6:
		if (!get16(f, &idx))
			return false;
		CHECK(!ih_pm_store32(f->w, f->tab[(flags & 1) ? 2 : 1] + 4 * (idx & 0x3ff),
				     enc_desc(f, f->tab[3], 1 | 2 | ((flags & 2) ? 4 : 0))),
		      "store");
		check_tlb_not_shrunk(f, -2);
		break;
	case 7:
		if (!get8(f, &b8))
			return false;
		if (b8 < 3) {
			v32 = enc_dte_addr(f, f->tab[b8 == 0 ? 0 : b8 == 1 ? 1 : 3]);
		} else if (!get32(f, &v32)) {
			return false;
		}
		ih_writel(f->r[bank], v32, F_DTE_ADDR);
		CHECK(ih_readl(f->r[bank], F_DTE_ADDR) == (v32 & dte_mask(f)), "DTE_ADDR mask");
		check_tlb_not_shrunk(f, -2);
		break;
	case 8:
		if (!get32(f, &v32))
			return false;
		op_dma_all(f, v32, flags & 1);
		check_tlb_not_shrunk(f, -2);
		break;
	case 9:
		if (!get32(f, &v32))
			return false;
		op_dma_bank(f, bank, v32, flags & 1);
		check_tlb_not_shrunk(f, -2);
		break;
	case 10:
		if (!get32(f, &v32))
			return false;
		ih_writel(f->r[bank], v32, F_ZAP_ONE_LINE);
		CHECK(!ih_rk_iommu_hw_tlb_holds(f->hw, v32) || f->nbanks > 1,
		      "ZAP_ONE_LINE left the page in the TLB");
		check_tlb_not_shrunk(f, (int)bank);
		break;
	case 11:
		if (!get32(f, &v32))
			return false;
		op_oracle(f, bank, v32, flags & 1);
		break;
	case 12:
		if (!get8(f, &b8) || !get64(f, &v64))
			return false;
		if (flags & 1) {
			u32 before = ih_readl(f->r[bank], (b8 & 0xf8) < 0x28 ? b8 & 0xf8 : 0);

			ih_writeq(f->r[bank], v64, b8 & 0xf8);
			CHECK(ih_readl(f->r[bank], (b8 & 0xf8) < 0x28 ? b8 & 0xf8 : 0) == before,
			      "64-bit write changed a register");
		} else {
			CHECK(ih_readq(f->r[bank], b8 & 0xf8) == 0, "64-bit read not zero");
		}
		check_tlb_not_shrunk(f, -2);
		break;
	case 13:
		op_attach(f, (flags & 1) ? (int)bank : -1);
		break;
	case 14:
		if (!get8(f, &b8) || !get8(f, &op))
			return false;
		op_dma_bank(f, bank, (u32)(b8 & 3) << 22 | (u32)op << 12 | (op & 0xff), flags & 1);
		check_tlb_not_shrunk(f, -2);
		break;
	case 15:
		if (!get32(f, &v32))
			return false;
		{
			ih_pa_t pa = 0x5a5a;

			CHECK(ih_rk_iommu_hw_translate(f->hw, (1ULL << 32) | v32, flags & 1, &pa) ==
				      -ERANGE &&
				  pa == 0x5a5a,
			      "wide IOVA accepted");
		}
		break;
	}
	check_bank_invariants(f);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned int tlb_sizes[8] = {1, 2, 3, 4, 8, 16, 64, 256};
static const unsigned int line_sizes[4] = {0, 1, 4, 16};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ih_rk_iommu_hw_config cfg = {0};
	struct ih_world_config wc;
	struct fz f = {.p = data, .left = size};
	u8 c, seed;
	unsigned int line;
	size_t leaked;

	if (!get8(&f, &c) || !get8(&f, &seed))
		return 0;
	f.v = (c & 1) ? IH_RK_IOMMU_HW_V2 : IH_RK_IOMMU_HW_V1;
	f.nbanks = ((c >> 1) & 3) + 1;
	f.tlb = tlb_sizes[(c >> 3) & 7];
	line = ih_min(line_sizes[c >> 6], f.tlb);
	while (line & (line - 1))
		line &= line - 1;

	ih_world_config_init(&wc);
	/* v2 memory above 4 GiB with distinct nibbles in PA 39:32 to catch misplaced bits. */
	wc.physmem_base = f.v == IH_RK_IOMMU_HW_V2 ? 0xa540000000ULL : 0x80000000ULL;
	wc.physmem_size = SZ_64K;
	CHECK(ih_world_create(&wc, &f.w) == 0, "world");

	cfg.version = f.v;
	cfg.nbanks = f.nbanks;
	for (unsigned int i = 0; i < f.nbanks; i++)
		cfg.bank_base[i] = BANK_BASE(i);
	cfg.tlb_entries = f.tlb;
	cfg.tlb_line_entries = line;
	cfg.seed = seed;
	CHECK(ih_rk_iommu_hw_create(f.w, &cfg, &f.hw) == 0, "create");
	for (unsigned int i = 0; i < f.nbanks; i++) {
		f.r[i] = ih_ioremap(f.w, BANK_BASE(i), IH_RK_IOMMU_BANK_SIZE);
		CHECK(f.r[i], "ioremap");
	}
	for (unsigned int i = 0; i < 4; i++) {
		f.tab[i] = ih_pm_alloc(f.w, SZ_4K, SZ_4K, "fuzz:table");
		CHECK(f.tab[i] != IH_PA_INVALID, "table");
	}

	check_bank_invariants(&f);
	while (run_op(&f))
		;

	/* Each access ends in at most one of: bypass, stall, page fault, bus error. */
	for (int i = IH_RK_IOMMU_ALL_BANKS; i < (int)f.nbanks; i++) {
		struct ih_rk_iommu_hw_stats st;

		CHECK(ih_rk_iommu_hw_get_stats(f.hw, i, &st) == 0, "stats");
		CHECK(st.translations >= st.bypassed + st.stalled + st.page_faults + st.bus_errors,
		      "bank %d: stats do not add up", i);
	}
	CHECK(ih_warn_count(f.w) == 0, "the model warned");
	for (unsigned int i = 0; i < 4; i++)
		ih_pm_free(f.w, f.tab[i], SZ_4K);
	ih_rk_iommu_hw_destroy(f.hw);
	leaked = ih_world_destroy(f.w);
	CHECK(leaked == 0, "%zu block(s) leaked", leaked);
	return 0;
}
