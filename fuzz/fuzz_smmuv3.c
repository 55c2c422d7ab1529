// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the emulated SMMUv3 fed register writes, raw commands, raw table words and
 * DMA translations. Target functions: the MMIO ops, command consumer, STE/CD fetch, the
 * walker and event queue of hw/smmuv3 (through ih_writel/ih_writeq and
 * ih_smmuv3_hw_translate()).
 *
 * Input format (all integers little-endian; a truncated field reads as zero and ends the
 * run):
 *   byte 0   instance: bit0 !stage1, bit1 !stage2, bit2 !2-level strtab, bit3 16K granule,
 *            bit4 !64K granule, bit5 random TLB eviction, bit6 !MSI, bit7 !range TLBI
 *   byte 1   TLB entries - 1 (mod 16)
 *   then operations, each an opcode byte (mod 9) and its operands:
 *   0 W32    u32 offset (mod 128K, 4-aligned), u32 value      register write
 *   1 W64    u32 offset (mod 128K, 8-aligned), u64 value      register write
 *   2 READ   u32 offset, u8 size (bit0: 8 bytes)              register read
 *   3 CMD    u64 word0, u64 word1      command at the fuzzer's CMDQ prod, then doorbell
 *   4 MEM    u32 offset (mod 1 MiB, 8-aligned), u64 value      word in the fuzz area
 *   5 DMA    u32 sid, u32 ssid (bit31: SSV), u64 iova, u8 write  ih_smmuv3_hw_translate
 *   6 SETUP  u8 (bit0 2-level, bits 7..1 SID log2)   canonical enable: queues at fixed PAs,
 *            stream table at the fuzz area base
 *   7 ACK    consume all events, acknowledge GERROR
 *   8 PROD   u32 value written to CMDQ_PROD as is (beyond the queue size too)
 * Fuzz area: 1 MiB at the first simulated-memory allocation (0x80000000 in a fresh world);
 * command queue (256 entries) and event queue (64 entries) follow it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ih/mmio.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "smmuv3/smmuv3_hw.h"

#define F_MMIO	  0x2b400000ULL
#define F_AREA	  (1UL << 20)
#define F_CMDQ_L2 8
#define F_EVTQ_L2 6

struct fz {
	const uint8_t *p;
	size_t n;
	bool eof;
};

static u64 fz_get(struct fz *f, unsigned int bytes)
{
	u64 v = 0;

	if (f->n < bytes) {
		f->eof = true;
		f->n = 0;
		return 0;
	}
	for (unsigned int i = 0; i < bytes; i++)
		v |= (u64)f->p[i] << (8 * i);
	f->p += bytes;
	f->n -= bytes;
	return v;
}

struct rig {
	struct ih_world *w;
	struct ih_smmuv3_hw *hw;
	struct ih_mmio_region *r;
	ih_pa_t area, cmdq, evtq;
	u32 prod;
	u32 evtq_cons;
};

static void rig_setup(struct rig *g, u8 flags)
{
	unsigned int log2 = (flags >> 1) & 0x1f;

	ih_writel(g->r, 0, 0x20); /* CR0: everything off */
	ih_writeq(g->r, g->cmdq | F_CMDQ_L2, 0x90);
	ih_writeq(g->r, g->evtq | F_EVTQ_L2, 0xa0);
	ih_writel(g->r, 0, 0x98);
	ih_writel(g->r, 0, 0x9c);
	ih_writel(g->r, 0, 0x100a8);
	ih_writel(g->r, 0, 0x100ac);
	g->prod = 0;
	g->evtq_cons = 0;
	ih_writeq(g->r, g->area, 0x80);
	/* 2-level: SPLIT 8, L1 at the area base; linear: up to 2^14 STEs fit in 1 MiB. */
	if (flags & 1)
		ih_writel(g->r, (1u << 16) | (8u << 6) | ih_min(log2, 16u), 0x88);
	else
		ih_writel(g->r, ih_min(log2, 14u), 0x88);
	ih_writel(g->r, 2, 0x2c);   /* CR2.RECINVSID */
	ih_writel(g->r, 5, 0x50);   /* IRQ_CTRL: GERROR + EVTQ */
	ih_writel(g->r, 0xd, 0x20); /* CR0: SMMUEN, EVTQEN, CMDQEN */
}

static void rig_ack(struct rig *g)
{
	u32 prod = ih_readl(g->r, 0x100a8);

	ih_writel(g->r, prod, 0x100ac);
	ih_writel(g->r, ih_readl(g->r, 0x60), 0x64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = {.p = data, .n = size};
	struct ih_smmuv3_hw_config cfg;
	struct ih_world_config wc;
	struct rig g = {0};
	u8 inst;

	if (size < 2)
		return 0;
	ih_world_config_init(&wc);
	wc.physmem_size = 4UL << 20;
	wc.log = "none";
	if (ih_world_create(&wc, &g.w))
		return 0;
	inst = (u8)fz_get(&f, 1);
	ih_smmuv3_hw_config_init(&cfg);
	cfg.stage1 = !(inst & 1);
	cfg.stage2 = !(inst & 2) || !cfg.stage1;
	cfg.strtab_2lvl = !(inst & 4);
	cfg.gran16k = inst & 8;
	cfg.gran64k = !(inst & 16);
	cfg.tlb_evict = (inst & 32) ? IH_SMMUV3_EVICT_RANDOM : IH_SMMUV3_EVICT_LRU;
	cfg.msi = !(inst & 64);
	cfg.range_inv = !(inst & 128);
	cfg.tlb_entries = 1 + (unsigned int)(fz_get(&f, 1) % 16);
	cfg.cfg_cache_entries = 4;
	g.area = ih_pm_alloc(g.w, F_AREA, F_AREA, "fuzz:area");
	g.cmdq = ih_pm_alloc(g.w, 16u << F_CMDQ_L2, 4096, "fuzz:cmdq");
	g.evtq = ih_pm_alloc(g.w, 32u << F_EVTQ_L2, 4096, "fuzz:evtq");
	if (g.area == IH_PA_INVALID || g.cmdq == IH_PA_INVALID || g.evtq == IH_PA_INVALID ||
	    ih_smmuv3_hw_create(g.w, F_MMIO, &cfg, &g.hw))
		goto out;
	g.r = ih_ioremap(g.w, F_MMIO, IH_SMMUV3_MMIO_SIZE);

	while (!f.eof && f.n) {
		unsigned int op = (unsigned int)fz_get(&f, 1) % 9;

		switch (op) {
		case 0: {
			u64 off = (fz_get(&f, 4) % IH_SMMUV3_MMIO_SIZE) & ~3ULL;
			u32 v = (u32)fz_get(&f, 4);

			if (!f.eof)
				ih_writel(g.r, v, off);
			break;
		}
		case 1: {
			u64 off = (fz_get(&f, 4) % IH_SMMUV3_MMIO_SIZE) & ~7ULL;
			u64 v = fz_get(&f, 8);

			if (!f.eof)
				ih_writeq(g.r, v, off);
			break;
		}
		case 2: {
			u64 off = fz_get(&f, 4) % IH_SMMUV3_MMIO_SIZE;
			u8 sz = (u8)fz_get(&f, 1);

			if (sz & 1)
				(void)ih_readq(g.r, off & ~7ULL);
			else
				(void)ih_readl(g.r, off & ~3ULL);
			break;
		}
		case 3: {
			u64 c0 = fz_get(&f, 8), c1 = fz_get(&f, 8);
			ih_pa_t at = g.cmdq + (u64)(g.prod & ((1u << F_CMDQ_L2) - 1)) * 16;

			if (f.eof)
				break;
			ih_pm_store64(g.w, at, c0);
			ih_pm_store64(g.w, at + 8, c1);
			g.prod = (g.prod + 1) & ((2u << F_CMDQ_L2) - 1);
			ih_writel(g.r, g.prod, 0x98);
			break;
		}
		case 4: {
			u64 off = (fz_get(&f, 4) % F_AREA) & ~7ULL;
			u64 v = fz_get(&f, 8);

			if (!f.eof)
				ih_pm_store64(g.w, g.area + off, v);
			break;
		}
		case 5: {
			u32 sid = (u32)fz_get(&f, 4), ssid = (u32)fz_get(&f, 4);
			u64 iova = fz_get(&f, 8);
			bool wr = fz_get(&f, 1) & 1;
			ih_pa_t pa = 0;

			if (!f.eof)
				(void)ih_smmuv3_hw_translate(g.hw, sid, ssid >> 31, ssid & 0xfffff,
							     iova, wr, &pa);
			break;
		}
		case 6:
			rig_setup(&g, (u8)fz_get(&f, 1));
			break;
		case 7:
			rig_ack(&g);
			break;
		case 8: {
			u32 v = (u32)fz_get(&f, 4);

			if (!f.eof)
				ih_writel(g.r, v, 0x98);
			break;
		}
		}
	}
	ih_smmuv3_hw_destroy(g.hw);
out:
	if (g.evtq != IH_PA_INVALID)
		ih_pm_free(g.w, g.evtq, 32u << F_EVTQ_L2);
	if (g.cmdq != IH_PA_INVALID)
		ih_pm_free(g.w, g.cmdq, 16u << F_CMDQ_L2);
	if (g.area != IH_PA_INVALID)
		ih_pm_free(g.w, g.area, F_AREA);
	ih_world_destroy(g.w);
	return 0;
}
