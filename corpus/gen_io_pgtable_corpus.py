#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz_io_pgtable.c into corpus/io_pgtable/.

Each seed is a header (format, granule, ias, oas, flags, failing site, nth) followed by
operations, encoded exactly as the header comment of fuzz/fuzz_io_pgtable.c describes.
Run from anywhere: python3 corpus/gen_io_pgtable_corpus.py. Existing seed-* files are
rewritten; regress-* files (kept findings) are left alone.
"""
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "io_pgtable")

S1, S2, RK1, RK2 = 0, 1, 2, 3
G4K, G16K, G64K = 0, 1, 2
OAS = {32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5}
R, W, CACHE, NOEXEC, MMIO, PRIV = 1, 2, 4, 8, 16, 32


def header(fmt, gran=G4K, ias=48, oas=48, flags=0, site=0, nth=1):
    if fmt in (S1, S2):
        b_ias, b_oas = ias - 25, OAS[oas]
    else:
        b_ias = 0 if ias == 32 else ias - 22
        b_oas = 0 if oas is None else 0x80 + oas - 22
    return bytes([fmt, gran, b_ias, b_oas, flags, site, nth - 1])


def common(kind, size, region, units, count, opflags=0, hi=0):
    b = bytes([kind | opflags, size, region]) + struct.pack("<H", units)
    if region == 3:
        b += struct.pack("<I", hi)
    return b + bytes([count - 1])


def m(size, units, count, pa_units, prot, region=0, opflags=0, hi=0):
    return common(0, size, region, units, count, opflags, hi) + struct.pack("<HB", pa_units, prot)


def u(size, units, count, region=0, queued=False, opflags=0, hi=0):
    return common(1, size, region, units, count, opflags | (0x08 if queued else 0), hi)


def t(size, units, off=0, region=0, hi=0):
    return common(2, size, region, units, 1, 0, hi) + struct.pack("<H", off)


def toggle():
    return common(3, 0, 0, 0, 1)


def lpae_seeds():
    seeds = {}
    for fmt, name in ((S1, "s1"), (S2, "s2")):
        for gran, gname, nsizes in ((G4K, "4k", 3), (G16K, "16k", 2), (G64K, "64k", 2)):
            ias = 48 if gran != G16K else 47
            base = header(fmt, gran, ias, 48)
            ops = (m(0, 1, 3, 0x100, R | W) + t(0, 2, 0x123) + m(1, 0, 1, 0, R | CACHE) +
                   u(0, 1, 1) + t(0, 1) + u(0, 0, 4) + m(nsizes - 1, 0, 1, 0, W | MMIO) +
                   u(0, 0, 1) + u(1, 0, 1))
            seeds[f"seed-{name}-{gname}-basic"] = base + ops
            # Block over pages, pages under a block, unmap at table level.
            ops = (m(0, 5, 2, 5, R) + m(1, 0, 1, 0, R) + m(1, 0x400, 1, 0x400, R | W) +
                   m(0, 0x401, 1, 9, R) + u(0, 0x401, 1) + u(1, 0, 1) + u(1, 0x400, 1))
            seeds[f"seed-{name}-{gname}-overlap"] = base + ops
            # Lazy: quirk at alloc, queued gather, live toggle.
            ops = (m(0, 0x1ff, 4, 7, R | W | NOEXEC | PRIV) + u(0, 0x1ff, 2, queued=True) +
                   toggle() + u(0, 0x201, 2) + toggle() + m(0, 0, 1, 0, R))
            seeds[f"seed-{name}-{gname}-lazy"] = header(fmt, gran, ias, 48, flags=1) + ops
            # Allocation failures at each site.
            for site in (1, 2, 3):
                for nth in (1, 2, 4):
                    ops = m(0, 0x1fe, 4, 1, R) + m(0, 0x800, 2, 1, W) + u(0, 0x1fe, 4)
                    seeds[f"seed-{name}-{gname}-fail{site}-{nth}"] = (
                        header(fmt, gran, ias, 48, site=site, nth=nth) + ops)
        # Range edges: top of the input range, out of range, high PA half, odd ias/oas.
        for ias, oas in ((25, 32), (33, 36), (39, 40), (40, 42), (43, 44), (44, 48)):
            ops = (m(0, 0xffff, 1, 0xffff, R, region=2) + m(0, 0, 2, 0, R, region=2,
                                                          opflags=0x08) +
                   m(0, 0, 1, 0, R, region=3, hi=0xffffffff) + t(0, 0xffff, 0xfff, region=2) +
                   m(0, 3, 1, 3, R, opflags=0x04) + m(0, 4, 1, 4, R | 0x40, opflags=0x10) +
                   u(0, 0xffff, 1, region=2) + u(0, 0, 1, region=1))
            seeds[f"seed-{name}-ias{ias}-oas{oas}"] = header(fmt, G4K, ias, oas) + ops
        seeds[f"seed-{name}-4k-trimmed"] = (header(fmt, G4K, 48, 48, flags=0x18) +
                                            m(1, 0, 1, 0, R) + m(0, 0x200, 1, 0, R))
    return seeds


def rk_seeds():
    seeds = {}
    for fmt, name in ((RK1, "v1"), (RK2, "v2")):
        base = header(fmt, ias=32, oas=None)
        # sizes are the bits of 0x7ff000: index 0 = 4K ... 10 = 4M
        ops = (m(0, 0x3ff, 2, 0x100, R | W) + t(0, 0x3ff, 0x10) + m(4, 0x800, 2, 0x800, R) +
               m(10, 0x1000, 1, 0x1000, W) + m(2, 0x802, 1, 0, R) + u(0, 0x3ff, 2) +
               u(4, 0x800, 2) + u(10, 0x1000, 1) + u(0, 0x800, 1))
        seeds[f"seed-rk-{name}-basic"] = base + ops
        seeds[f"seed-rk-{name}-lazy"] = header(fmt, ias=32, oas=None, flags=1) + ops + toggle() + ops
        for site in (1, 2, 3):
            for nth in (1, 2):
                seeds[f"seed-rk-{name}-fail{site}-{nth}"] = (
                    header(fmt, ias=32, oas=None, site=site, nth=nth) + ops)
        seeds[f"seed-rk-{name}-high"] = header(fmt, ias=32, oas=None, flags=0x04) + ops
        seeds[f"seed-rk-{name}-narrow"] = (header(fmt, ias=24, oas=30) +
                                           m(0, 0, 1, 0, R, opflags=0x08) +
                                           m(0, 0xfff, 2, 0, R, region=2) + u(0, 0, 1))
    return seeds


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.startswith("seed-"):
            os.unlink(os.path.join(OUT, name))
    seeds = {**lpae_seeds(), **rk_seeds()}
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
