#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write IORT seed tables for fuzz_iort into corpus/iort/fixture-*.dat.

The reference layout is the one tests/fw/iort_build.h builds (ITS, SMMUv3, RC, NC, PMCG,
RMR, SMMUv1/v2, IWB); the variants each reach one more branch of the parser or the lookup.
Usage: gen_iort_seeds.py OUT_DIR
"""
import os
import struct
import sys


class Table:
    def __init__(self, rev=3):
        self.rev = rev
        self.nodes = []  # (type, rev, body, maps)

    def node(self, typ, rev, body, nmaps=0):
        self.nodes.append([typ, rev, body, [(0, 0, 0, 0, 0)] * nmaps])
        return len(self.nodes) - 1

    def offsets(self):
        off, out = 48, []
        for typ, rev, body, maps in self.nodes:
            out.append(off)
            off += 16 + len(body) + 20 * len(maps)
        return out

    def map(self, node, k, inp, count, out, target, flags=0):
        self.nodes[node][3] = list(self.nodes[node][3])
        self.nodes[node][3][k] = (inp, count, out, target, flags)

    def build(self):
        offs = self.offsets()
        data = b""
        for i, (typ, rev, body, maps) in enumerate(self.nodes):
            length = 16 + len(body) + 20 * len(maps)
            data += struct.pack("<BHBIII", typ, length, rev, i, len(maps),
                                16 + len(body) if maps else 0) + body
            for inp, count, out, target, flags in maps:
                ref = offs[target] if isinstance(target, int) and target >= 0 else -target
                data += struct.pack("<5I", inp, count, out, ref, flags)
        total = 48 + len(data)
        hdr = struct.pack("<4sIBB6s8sI4sI", b"IORT", total, self.rev, 0, b"IHSEED",
                          b"IHIORT  ", 1, b"IHGN", 1)
        hdr += struct.pack("<III", len(self.nodes), 48, 0)
        blob = bytearray(hdr + data)
        blob[9] = (-sum(blob)) & 0xFF
        return bytes(blob)


def reference(rc_maps=None):
    t = Table(3)
    its = t.node(0, 1, struct.pack("<II", 1, 0))
    smmu = t.node(4, 4, struct.pack("<QIIQIIIIIII", 0x09050000, 0, 0, 0, 0, 0x6a, 0, 0x6d,
                                    0x6c, 0, 1), 2)
    t.map(smmu, 0, 0, 0xFFFF, 0, its)
    t.map(smmu, 1, 0, 0, 0x10000, its, 1)
    rc = t.node(2, 3, struct.pack("<IBBBBIIBHBI", 1, 0, 0, 0, 3, 0, 0, 48, 0, 0, 0), 2)
    for k, m in enumerate(rc_maps or [(0, 0xFF, 0x100, smmu), (0x100, 0xFEFF, 0x100, its)]):
        t.map(rc, k, *m)
    nc = t.node(1, 4, struct.pack("<IIBBHB", 0, 1, 0, 0, 0, 40) + b"\\_SB_.DEV0\0", 2)
    t.map(nc, 0, 0, 0, 0x42, smmu, 1)
    t.map(nc, 1, 0, 3, 0x50, smmu)
    pmcg = t.node(5, 2, struct.pack("<QIIQ", 0x09060000, 0x70, 0, 0x09070000), 1)
    t.map(pmcg, 0, 0, 0, 0x20000, its, 1)
    rmr = t.node(6, 3, struct.pack("<III", 0, 1, 28) + struct.pack("<QQI", 0x80000000,
                                                                      0x10000, 0), 1)
    t.map(rmr, 0, 0x42, 0, 0x42, smmu)
    t.node(3, 3, struct.pack("<QQIIIIIII", 0x2B500000, 0x10000, 3, 0, 60, 2, 76, 0, 92)
           + bytes(16) + bytes(16))
    t.node(7, 1, bytes(12))
    return t, its, smmu, rc


def main(out):
    seeds = {}
    t, its, smmu, rc = reference()
    seeds["reference"] = t.build()
    t, its, smmu, rc = reference([(0, 0x100, 0, smmu), (0x100, 0xFEFF, 0x100, its)])
    seeds["overlap-at-0x100"] = t.build()
    t, its, smmu, rc = reference([(0, 0xFF, 0, smmu), (0x100, 0xFEFF, 0x100, rc)])
    seeds["cycle-rc-self"] = t.build()
    t, its, smmu, rc = reference()
    seeds["bad-checksum"] = t.build()[:9] + b"\x00" + t.build()[10:]
    # A long acyclic chain of root complexes, past the lookup depth limit.
    t = Table(0)
    for i in range(12):
        n = t.node(2, 0, struct.pack("<IIIIi", 0, 0, 0, i, 0), 1 if i < 11 else 0)
    for i in range(11):
        t.map(i, 0, 0, 0xFFFF, 0, i + 1)
    seeds["chain-12"] = t.build()
    # Named components only, with the single and range mappings Qualcomm tables use.
    t = Table(0)
    its = t.node(0, 0, struct.pack("<II", 1, 0))
    smmu = t.node(3, 0, struct.pack("<QQIIIIIII", 0x15000000, 0x100000, 3, 1, 60, 1, 76, 0,
                                    84) + bytes(16) + bytes(8), 1)
    t.map(smmu, 0, 0, 0xFFFF, 0, its)
    for i, name in enumerate([b"\\_SB_.GPU0", b"\\_SB_.MMC0", b"\\_SB_.USB0"]):
        nc = t.node(1, 0, struct.pack("<IIBBHB", 0, 1, 0, 0, 0, 36) + name + b"\0\0\0", 2)
        t.map(nc, 0, 0, 0, 0x800 + i, smmu, 1)
        t.map(nc, 1, 0, 0x1F, 0x1000 + 0x20 * i, smmu)
    seeds["named-components"] = t.build()
    os.makedirs(out, exist_ok=True)
    for name, blob in seeds.items():
        with open(os.path.join(out, f"fixture-{name}.dat"), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
