#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed inputs for fuzz_lifecycle: flags byte, then (opcode, argument) pairs.

Opcodes: 0 add, 1 del, 2 bind (driver = (arg >> 4) % 4), 3 unbind, 4 claim (owner arg & 1),
5 release, 6 store type ((arg >> 4) % 3: identity, DMA, DMA-FQ), 7 register IOMMU,
8 unregister IOMMU, 9 fail allocation (arg % 16) + 1. Devices: (arg & 15) % 5.
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
}

os.makedirs(OUT, exist_ok=True)
for name, ops in seeds.items():
    data = bytes([ops[0]]) + b"".join(bytes(p) for p in ops[1:])
    with open(os.path.join(OUT, "seed-" + name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {OUT}")
