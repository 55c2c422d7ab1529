#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed corpus for fuzz/fuzz_rk_iommu.c: driver-like scenarios in the target's input format.

Run from the repository root: python3 corpus/gen_rk_iommu.py
Writes corpus/rk_iommu/seed-*.bin (the regress-* inputs there are kept, not generated).
The format is described at the top of fuzz/fuzz_rk_iommu.c.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rk_iommu")

# Register offsets and commands (rk_iommu_hw.h).
DTE_ADDR, STATUS, COMMAND, PF_ADDR, ZAP_ONE_LINE = 0x00, 0x04, 0x08, 0x0C, 0x10
INT_RAWSTAT, INT_CLEAR, INT_MASK, INT_STATUS, AUTO_GATING = 0x14, 0x18, 0x1C, 0x20, 0x24
ENABLE_PAGING, DISABLE_PAGING, ENABLE_STALL, DISABLE_STALL = 0, 1, 2, 3
ZAP_CACHE, PAGE_FAULT_DONE, FORCE_RESET = 4, 5, 6


def config(v2=False, banks=1, tlb_idx=6, line_idx=0, seed=0):
    return bytes([(1 if v2 else 0) | (banks - 1) << 1 | tlb_idx << 3 | line_idx << 6, seed])


def op(kind, bank=0, flags=0):
    return bytes([kind | bank << 4 | flags << 6])


def mmio_w(bank, off, val):
    return op(0, bank) + bytes([off]) + struct.pack("<I", val)


def mmio_r(bank, off):
    return op(1, bank) + bytes([off])


def cmd(bank, c):
    return op(2, bank) + bytes([c])


def cmd_all(c):
    return op(3) + bytes([c])


def garbage(table, idx, val):
    return op(4) + bytes([table]) + struct.pack("<HI", idx, val)


def good_dte(idx, pt1=False):
    return op(5, 0, 1 if pt1 else 0) + struct.pack("<H", idx)


def good_pte(idx, pt1=False, writable=True):
    return op(6, 0, (1 if pt1 else 0) | (2 if writable else 0)) + struct.pack("<H", idx)


def dte_addr(bank, sel, raw=None):
    b = op(7, bank) + bytes([sel])
    return b + (struct.pack("<I", raw) if sel >= 3 else b"")


def dma(iova, write=False):
    return op(8, 0, 1 if write else 0) + struct.pack("<I", iova)


def dma_bank(bank, iova, write=False):
    return op(9, bank, 1 if write else 0) + struct.pack("<I", iova)


def zap_line(bank, iova):
    return op(10, bank) + struct.pack("<I", iova)


def oracle(bank, iova, write=False):
    return op(11, bank, 1 if write else 0) + struct.pack("<I", iova)


def wide(bank, off, val, write):
    return op(12, bank, 1 if write else 0) + bytes([off]) + struct.pack("<Q", val)


def attach(skip_bank=None):
    return op(13, skip_bank or 0, 1 if skip_bank is not None else 0)


def dma_small(bank, dte, pte, write=False):
    return op(14, bank, 1 if write else 0) + bytes([dte, pte])


def too_wide(iova):
    return op(15) + struct.pack("<I", iova)


def mapped(n=4, pt1=False):
    b = good_dte(1 if pt1 else 0, pt1)
    for i in range(n):
        b += good_pte(i, pt1)
    return b


SEEDS = {
    "v1-attach-map-dma": config() + mapped() + attach()
    + b"".join(dma_small(0, 0, i, i & 1) for i in range(4))
    + dma(0x1010) + oracle(0, 0x2020, True) + mmio_r(0, STATUS),
    "v2-attach-map-dma": config(v2=True) + mapped() + attach()
    + b"".join(dma_small(0, 0, i, i & 1) for i in range(4))
    + oracle(0, 0x3000) + mmio_r(0, DTE_ADDR),
    "fault-handler-resume": config() + mapped(2) + attach() + dma_small(0, 0, 5, True)
    + mmio_r(0, INT_STATUS) + mmio_r(0, STATUS) + mmio_r(0, PF_ADDR) + dma_small(0, 0, 5)
    + good_pte(5) + cmd(0, ZAP_CACHE) + cmd(0, PAGE_FAULT_DONE)
    + mmio_w(0, INT_CLEAR, 1) + dma_small(0, 0, 5, True),
    "two-banks-forgotten": config(banks=2) + mapped() + attach(skip_bank=1) + dma(0x1000)
    + attach() + dma(0x1000) + garbage(1, 1, 0) + zap_line(0, 0x1000) + dma(0x1000)
    + dma_bank(1, 0x1000) + zap_line(1, 0x1000) + dma(0x1000),
    "stale-tlb-then-zap": config(v2=True) + mapped() + attach() + dma(0x2000)
    + garbage(1, 2, 0) + dma(0x2000) + zap_line(0, 0x2000) + dma(0x2000)
    + cmd(0, PAGE_FAULT_DONE) + cmd(0, ZAP_CACHE) + dma(0x2000),
    "negative-line-cache": config(line_idx=3) + good_dte(0) + good_pte(0) + attach()
    + dma(0x0) + good_pte(1) + dma(0x1000) + zap_line(0, 0x1000)
    + cmd(0, PAGE_FAULT_DONE) + dma(0x1000),
    "garbage-descriptors": config(v2=True) + attach()
    + garbage(0, 0, 0xFFFFFFFF) + dma(0x0) + cmd(0, PAGE_FAULT_DONE)
    + garbage(0, 1, 0xDEADBEEF) + oracle(0, 0x400000) + cmd(0, PAGE_FAULT_DONE)
    + garbage(0, 2, 0x00000001) + oracle(0, 0x800000, True)
    + garbage(1, 0, 0x12345FFF) + good_dte(3) + oracle(0, 0xC00000),
    "bad-dte-addr": config() + attach() + dte_addr(0, 3, 0x10000000) + cmd(0, ZAP_CACHE)
    + dma(0x1000) + mmio_r(0, INT_RAWSTAT) + mmio_w(0, INT_CLEAR, 2) + dte_addr(0, 1)
    + oracle(0, 0x1000) + dte_addr(0, 2) + oracle(0, 0x1000),
    "commands-any-state": config(banks=2) + b"".join(cmd(0, c) for c in range(8))
    + attach() + b"".join(cmd(1, c) for c in range(8)) + attach() + dma(0x5000)
    + b"".join(cmd_all(c) for c in (2, 0, 1, 3, 5, 4, 6)) + cmd(0, 0xFF),
    "four-banks-tiny-tlb": config(banks=4, tlb_idx=0, line_idx=1) + mapped(8) + attach()
    + b"".join(dma_small(i % 4, 0, i) for i in range(8))
    + b"".join(dma(i << 12) for i in range(8)),
    "registers-wide-and-unknown": config() + wide(0, 0x00, 0xFFFFFFFFFFFFFFFF, True)
    + wide(0, 0x20, 0, False) + wide(0, 0xF8, 1, True) + mmio_r(0, 0x28) + mmio_r(0, 0xFC)
    + mmio_w(0, STATUS, 0xFFFFFFFF) + mmio_w(0, INT_RAWSTAT, 3) + mmio_w(0, INT_MASK, 0xFF)
    + mmio_w(0, AUTO_GATING, 0x80000000) + mmio_w(0, DTE_ADDR, 0xCAFEBABE)
    + mmio_r(0, DTE_ADDR) + mmio_w(0, 0x40, 1) + too_wide(0x1000),
    "reset-mid-fault": config(v2=True, banks=2) + attach() + dma(0x7000) + cmd_all(FORCE_RESET)
    + dma(0x7000) + mapped() + attach() + dma(0x1000, True) + cmd_all(ENABLE_STALL)
    + dma(0x1000) + cmd_all(DISABLE_PAGING) + dma(0x1000) + cmd_all(DISABLE_STALL)
    + dma(0x1000),
    "new-dte-addr-stale": config() + mapped() + attach() + dma(0x1000) + dte_addr(0, 2)
    + dma(0x1000) + cmd(0, ZAP_CACHE) + dma(0x1000) + dte_addr(0, 0) + dma(0x1000),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.startswith("seed-"):
            os.remove(os.path.join(OUT, name))
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(OUT, "seed-%s.bin" % name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), OUT))


if __name__ == "__main__":
    main()
