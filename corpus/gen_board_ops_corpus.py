#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz_board_ops.c into corpus/board_ops/.

Each seed is the 14-byte header (flags, clients present, six hardware bytes, six
StreamIDs) followed by operations, encoded as the header comment of
fuzz/fuzz_board_ops.c describes: SMMUv3 variants (stages, stream-table levels, granules,
queue sizes, MSI), StreamID collisions, Rockchip v1/v2 layouts, driver unbind/rebind,
type changes, explicit domains, DMA API traffic, faulting DMA, raw commands and
allocation failures. Run from anywhere: python3 corpus/gen_board_ops_corpus.py.
Existing seed-* files are rewritten; other files (minimized finds) are left alone.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "board_ops")

SMMU, RK = 0, 1
DMA, FQ, IDENT = 0, 1, 2
BIDI, TO_DEV, FROM_DEV = 0, 1, 2


def header(backend=SMMU, probe_path=False, deftype=DMA, msi=False, iommu_last=False,
           present=0x3f, hw=(0x7c, 0x14, 0x88, 63, 31, 12), sids=(1, 2, 3, 8, 9, 10)):
    flags = backend | (2 if probe_path else 0) | (deftype << 2) | (16 if msi else 0) | \
        (32 if iommu_last else 0)
    return bytes([flags, present]) + bytes(hw) + bytes(sids)


def op(kind, a=0, *args):
    return bytes([kind | (a << 4)]) + bytes(args)


def add(i): return op(0, i)
def delete(i): return op(1, i)
def bind(i): return op(2, i)
def unbind(i): return op(3, i)
def iommu(unit, on): return op(4, (unit << 1) | (1 if on else 0))
def store(dev, t): return op(5, t, dev)          # t: 0 identity, 1 DMA, 2 DMA-FQ, 3 unmanaged
def own(dev): return op(6, 0, dev)
def disown(dev): return op(7, 0, dev)
def umap(dev, idx, n, prot=0): return op(8, prot, dev, idx, n - 1)
def uunmap(dev, idx, n): return op(9, 0, dev, idx, n - 1)
def dmap(dev, pages, d=BIDI, how=0): return op(10, how, dev, pages - 1, d)
def dunmap(slot): return op(11, 0, slot)


def dma(dev, page, in_slot=True, write=False, high=False):
    a = (1 if in_slot else 0) | (2 if write else 0) | (4 if high else 0)
    return op(12, a, dev) + struct.pack("<H", page)


def clock(ticks, flush=False): return op(13, 1 if flush else 0) + struct.pack("<H", ticks)
def cmd(kind): return op(14, kind)
def fail(nth): return op(15, nth - 1)


def traffic(dev):
    """Map, touch, fault, unmap on one bound client."""
    return (dmap(dev, 3, BIDI, 0) + dmap(dev, 2, TO_DEV, 1) + dmap(dev, 1, FROM_DEV, 2) +
            dma(dev, 0) + dma(dev, 1, write=True) + dma(dev, 0x700) + dma(dev, 0x701, False, True) +
            dma(dev, 0x12, False, False, True) +
            dunmap(0) + dma(dev, 0, True) + dunmap(1) + dunmap(2))


def explicit(dev):
    return (unbind(dev) + own(dev) + umap(dev, 0, 4) + umap(dev, 8, 2, 1) + umap(dev, 12, 1, 2) +
            dma(dev, 0) + dma(dev, 1, write=True) + dma(dev, 8, write=True) + dma(dev, 12) +
            uunmap(dev, 0, 2) + dma(dev, 0) + dma(dev, 30) + disown(dev) + bind(dev))


def seeds():
    s = {}
    smmu_hw = {
        "both-2lvl": (0x7c, 0x14, 0x88, 63, 31, 12),
        "s1-linear": (0x01, 0x15, 0x33, 7, 3, 4),
        "s2-only": (0x02, 0x14, 0x88, 63, 31, 12),
        "asid8-nomsi": (0x40, 0x14, 0x11, 0, 0, 8),
        "gran16k": (0x7c, 0x16, 0x88, 15, 7, 12),
        "gran64k-oas32": (0x7c, 0x03, 0x88, 15, 7, 12),
        "random-evict": (0xfc, 0x14, 0x00, 1, 0, 6),
    }
    for name, hw in smmu_hw.items():
        for flow in (False, True):
            tag = name + ("-probe" if flow else "-bind")
            s["smmu-" + tag] = header(hw=hw, probe_path=flow, msi=name.startswith("both")) + \
                traffic(0) + traffic(3) + explicit(1) + store(2, 0) + unbind(2) + store(2, 0) + \
                bind(2) + traffic(2) + cmd(0) + cmd(1) + cmd(2) + cmd(3) + clock(100)
    s["smmu-sid-collision"] = header(sids=(5, 5, 6, 6, 7, 7)) + traffic(0) + traffic(1) + \
        traffic(3) + traffic(4) + delete(0) + add(0) + bind(1) + traffic(1)
    s["smmu-sid-beyond"] = header(hw=(0x7c, 0x14, 0x88, 63, 31, 0), sids=(1, 17, 23, 2, 3, 4)) + \
        traffic(1) + traffic(0)
    s["smmu-lazy"] = header(deftype=FQ) + traffic(0) + dmap(0, 8) + dunmap(0) + dma(0, 0) + \
        clock(2000) + dma(0, 0) + dmap(3, 4) + dunmap(0) + clock(1, True) + dma(3, 0)
    s["smmu-identity"] = header(deftype=IDENT) + traffic(0) + unbind(0) + store(0, 1) + \
        bind(0) + traffic(0) + unbind(0) + store(0, 2) + bind(0) + traffic(0) + store(0, 3)
    s["smmu-rebind"] = header() + traffic(0) + iommu(0, False) + add(0) + bind(0) + \
        iommu(0, True) + bind(0) + traffic(0) + traffic(4) + iommu(0, False) + iommu(0, True) + \
        bind(1) + bind(3) + bind(4) + bind(5) + traffic(5)
    s["smmu-rebind-probe"] = header(probe_path=True, iommu_last=True) + traffic(0) + \
        iommu(0, False) + iommu(0, True) + bind(0) + bind(1) + traffic(1) + explicit(4)
    s["smmu-small-queues"] = header(hw=(0x7c, 0x00, 0x00, 0, 0, 12)) + traffic(0) + \
        b"".join(dma(0, 0x800 + k) for k in range(12)) + cmd(0) + cmd(0) + traffic(3)
    s["smmu-late-clients"] = header(present=0) + b"".join(add(i) for i in range(6)) + \
        traffic(0) + traffic(5) + b"".join(delete(i) for i in range(6))
    for n in (1, 3, 6, 10, 20, 40):
        s["smmu-fail-%d" % n] = header() + fail(n % 16) + traffic(0) + explicit(3) + \
            fail(n % 16) + iommu(0, False) + iommu(0, True) + bind(0) + traffic(0)
    for layout in (0x00, 0x07, 0x38, 0x3f, 0x15):
        for flow in (False, True):
            tag = "rk-%02x-%s" % (layout, "probe" if flow else "bind")
            s[tag] = header(backend=RK, probe_path=flow, hw=(layout, 7, 0, 0, 0, 0)) + \
                traffic(0) + traffic(1) + explicit(2) + dma(0, 0x300) + dma(1, 0x301, False, True) + \
                store(1, 2) + iommu(0, False) + iommu(0, True) + bind(0) + traffic(0) + \
                unbind(1) + store(1, 0) + bind(1) + traffic(1)
    s["rk-identity-lazy"] = header(backend=RK, deftype=IDENT, hw=(0x3f, 0, 0, 0, 0, 0)) + \
        traffic(0) + unbind(0) + store(0, 2) + bind(0) + traffic(0) + clock(3000, True)
    for n in (1, 4, 9):
        s["rk-fail-%d" % n] = header(backend=RK, hw=(0x15, 3, 0, 0, 0, 0)) + fail(n) + \
            traffic(0) + explicit(1) + fail(n) + iommu(2, False) + iommu(2, True) + bind(2) + \
            traffic(2)
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.startswith("seed-"):
            os.unlink(os.path.join(OUT, name))
    for name, data in sorted(seeds().items()):
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(seeds()), OUT))


if __name__ == "__main__":
    main()
