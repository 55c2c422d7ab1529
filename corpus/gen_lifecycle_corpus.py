#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed inputs for fuzz_lifecycle: flags byte, then (opcode, argument) pairs.

Opcodes: 0 add, 1 del, 2 bind (driver = (arg >> 4) % 4), 3 unbind, 4 claim (owner arg & 1),
5 release, 6 store type ((arg >> 4) % 3: identity, DMA, DMA-FQ), 7 register IOMMU,
8 unregister IOMMU, 9 fail allocation (arg % 16) + 1. Devices: (arg & 15) % 5.
page_pool events (N = (arg >> 4) + 1): 10 bind the NIC driver, 11 receive N packets into the
stack (30 s hold), 12 the stack recycles N pages from CPU 1, 13 the stack frees N pages,
14 sriov_numvfs = (arg >> 4) % 3 (device 4 is the PF), 15 advance the clock N * 4 s,
16 receive N packets on VF (arg >> 4) & 1.
"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lifecycle")

def dev(d, drv=0):
    return (drv << 4) | d

seeds = {
    # IOMMU first, then devices, DMA-API bind and unbind (both flows).
    "bind-flow-basic": [0, (7, 0), (0, 0), (2, dev(0, 0)), (3, 0), (1, 0)],
    "probe-flow-basic": [1, (7, 0), (0, 0), (2, dev(0, 0)), (3, 0), (1, 0)],
    # Devices before the IOMMU: deferred probe, then registration.
    "defer-then-register": [0, (0, 0), (0, 1), (2, dev(0, 0)), (2, dev(1, 2)), (7, 0)],
    # Siblings behind the bridge: DMA-API on one, VFIO-like on the other (-EBUSY).
    "siblings-conflict": [1, (7, 0), (0, 2), (0, 3), (2, dev(2, 0)), (2, dev(3, 2)),
                          (3, 2), (2, dev(3, 2)), (3, 3)],
    # Explicit claims by the harness, release, type changes.
    "claims-and-types": [1, (7, 0), (0, 4), (4, 4), (2, dev(4, 0)), (5, 4), (6, dev(4, 0)),
                         (6, dev(4, 2)), (2, dev(4, 0))],
    # A failing probe, then a good one.
    "failed-probe": [0, (7, 0), (0, 1), (2, dev(1, 1)), (2, dev(1, 0)), (3, 1)],
    # Allocation failures sprinkled through bring-up.
    "alloc-faults": [1, (9, 3), (7, 0), (9, 1), (0, 2), (9, 5), (2, dev(2, 0)), (0, 3)],
    # Unregister while bound, then register again.
    "unregister-bound": [1, (7, 0), (0, 0), (0, 2), (2, dev(0, 0)), (2, dev(2, 3)), (8, 0),
                         (7, 0), (2, dev(2, 0))],
    # Lazy and identity defaults.
    "lazy-default": [3, (7, 0), (0, 4), (2, dev(4, 0)), (6, dev(4, 1))],
    "identity-default": [5, (7, 0), (0, 0), (2, dev(0, 2)), (3, 0)],
    # page_pool: unbind with pages in the stack, late returns after the 30 s hold.
    "nic-unbind-pages-out": [1, (7, 0), (0, 4), (10, 4), (11, dev(4, 7)), (12, dev(0, 3)),
                             (3, 4), (15, dev(0, 7)), (15, 0)],
    # page_pool: VFs created, receiving, deleted with pages out (the seed-004 crash path).
    "nic-vf-delete": [3, (7, 0), (0, 4), (10, 4), (14, dev(4, 2)), (16, dev(4, 3)),
                      (16, dev(4, 0)), (14, dev(4, 0)), (15, dev(0, 15))],
    # page_pool on a platform device: the stack frees pages instead of recycling them.
    "nic-platform-free": [0, (7, 0), (0, 0), (10, 0), (11, dev(0, 3)), (13, dev(0, 1)),
                          (3, 0), (15, dev(0, 7))],
    # page_pool with identity default domains (no IOVA), device deleted while pages are out.
    "nic-identity": [5, (7, 0), (0, 2), (10, 2), (11, dev(2, 2)), (1, 2), (15, dev(0, 8))],
    # page_pool with allocation failures in bind, refill, VF creation; IOMMU unregistered.
    "nic-faults": [1, (7, 0), (0, 4), (9, 3), (10, 4), (9, 5), (11, dev(4, 3)), (14, dev(4, 1)),
                   (9, 2), (16, dev(4, 1)), (8, 0)],
}

os.makedirs(OUT, exist_ok=True)
for name, ops in seeds.items():
    data = bytes([ops[0]]) + b"".join(bytes(p) for p in ops[1:])
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {OUT}")
