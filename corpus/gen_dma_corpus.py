#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz_dma.c into corpus/dma/.

Each seed is a 4-byte header (flags, CPUs, failing site, nth) followed by operations,
encoded exactly as the header comment of fuzz/fuzz_dma.c describes. Run from anywhere:
python3 corpus/gen_dma_corpus.py. Existing seed-* files are rewritten; regress-* files
(kept findings) are left alone.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dma")

BIDI, TO_DEV, FROM_DEV = 0, 1, 2
N_SITES = 12


def header(lazy0=False, lazy1=False, single=False, fq_order=7, cpus=1, site=0, nth=1):
    flags = (1 if lazy0 else 0) | (2 if lazy1 else 0) | (4 if single else 0) | ((fq_order & 7) << 3)
    return bytes([flags, cpus - 1, site, nth - 1])


def map_page(dev, pages, off=0, d=BIDI, pool=0):
    return bytes([0, dev, pages - 1]) + struct.pack("<H", off) + bytes([d, pool])


def unmap(slot, how=0):
    return bytes([1 | (how << 4), slot])


def map_sg(dev, entries, d=BIDI):
    b = bytes([2, dev, len(entries) - 1])
    for off, pages in entries:
        b += struct.pack("<H", off) + bytes([pages - 1])
    return b + bytes([d])


def coherent(dev, size):
    return bytes([3, dev]) + struct.pack("<H", size - 1)


def access(slot, off=0, write=0):
    return bytes([4, slot]) + struct.pack("<H", off) + bytes([write])


def clock(us):
    return bytes([5]) + struct.pack("<H", us // 50)


def cpu(n):
    return bytes([6, n])


def raw_alloc(dev, pages):
    return bytes([7, dev, pages - 1])


def raw_free():
    return bytes([7 | 0x10, 0, 0])


def flush(dev):
    return bytes([8, dev])


def flip(dev):
    return bytes([9, dev])


def seeds():
    s = {}
    s["strict-basic"] = header() + map_page(0, 1, 0x123, TO_DEV) + access(0, 5) + unmap(0) + access(0, 5)
    s["lazy-basic"] = (header(lazy0=True) + map_page(0, 1) + map_page(0, 2, 0, FROM_DEV, 4) +
                       access(1) + unmap(1) + access(1) + clock(10000) + access(1) + unmap(0))
    s["both-devices"] = (header(lazy1=True) + map_page(0, 3, 0x10) + map_page(1, 3, 0x10) +
                         access(0, 0x2000) + access(1, 0x2000, 1) + unmap(0) + unmap(1) +
                         access(0) + access(1) + clock(20000))
    s["misuse"] = (header() + map_page(0, 2, 0x80, TO_DEV) + unmap(0, 1) + unmap(0, 2) +
                   unmap(0, 3) + unmap(0) + unmap(0, 4))
    s["misuse-lazy"] = (header(lazy0=True) + map_page(0, 2, 0x80, FROM_DEV) + unmap(0, 1) +
                        unmap(0, 2) + unmap(0) + unmap(0, 4) + clock(10000))
    s["sg-coherent"] = (header() + map_sg(0, [(0x10, 1), (0, 2), (0xff0, 2)]) + access(0, 0x1000) +
                        coherent(0, 0x1800) + access(1, 0x1004, 1) + unmap(0, 1) + unmap(0) +
                        unmap(1, 1) + unmap(1) + unmap(1, 4))
    s["sg-lazy"] = (header(lazy0=True) + map_sg(0, [(0, 4), (0x800, 1)], TO_DEV) + access(0) +
                    unmap(0) + access(0) + clock(5000) + clock(5000) + access(0))
    ring = header(lazy0=True, fq_order=1)  # ring of 4
    for i in range(6):
        ring += map_page(0, 1, 0, BIDI, i)
    for i in range(6):
        ring += access(i) + unmap(i)
    s["full-ring"] = ring + access(0) + clock(10000)
    multi = header(lazy0=True, cpus=2)
    for i in range(4):
        multi += cpu(i % 2) + map_page(0, 1 + i, 0, BIDI, 8 * i)
    for i in range(4):
        multi += cpu((i + 1) % 2) + unmap(i)
    s["two-cpus"] = multi + clock(10000) + cpu(0) + map_page(0, 1)
    single = header(lazy0=True, lazy1=True, single=True, fq_order=2, cpus=3)
    for i in range(8):
        single += cpu(i % 3) + map_page(i % 2, 1, 0, TO_DEV, i)
    for i in range(8):
        single += cpu((i + 2) % 3) + unmap(i)
    s["single-queue"] = single + flush(0) + flush(1)
    s["raw-iova"] = (header(cpus=2) + raw_alloc(0, 1) + raw_alloc(0, 33) + raw_alloc(1, 64) +
                     map_page(0, 1) + raw_free() + cpu(1) + raw_free() + unmap(0) + raw_alloc(0, 3))
    s["flip"] = (header() + map_page(0, 1) + map_page(0, 2) + access(0) + flip(0) + unmap(0) +
                 access(0) + unmap(1) + clock(10000) + access(0))
    s["leave-live"] = header(lazy0=True) + map_page(0, 5) + map_sg(1, [(0, 1)]) + coherent(0, 100)
    magazines = header(cpus=2)
    for i in range(40):
        magazines += map_page(0, 1, 0, TO_DEV, i)
    for i in range(40):
        magazines += unmap(i)
    s["many-maps"] = magazines + cpu(1) + map_page(0, 1) + access(0)
    # Allocation failures: each site, early and later calls, strict and lazy.
    body = (map_page(0, 1) + map_sg(1, [(0, 1), (4, 2)]) + coherent(0, 4096) + unmap(0) +
            unmap(1) + unmap(2) + map_page(0, 3))
    for site in range(1, N_SITES):
        for nth in (1, 2, 5):
            s["fail-%d-%d" % (site, nth)] = header(lazy0=True, site=site, nth=nth) + body
            s["fail-%d-%d-strict" % (site, nth)] = header(site=site, nth=nth) + body
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.startswith("seed-"):
            os.remove(os.path.join(OUT, name))
    for name, data in seeds().items():
        with open(os.path.join(OUT, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
