#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate the seed corpus corpus/smmuv3/ and dictionary corpus/smmuv3.dict for
fuzz/fuzz_smmuv3.c (input format in that file's header). Layouts from IHI 0070."""
import os
import struct
import sys

AREA = 0x80000000          # first simulated-memory allocation of a fresh world
CD = AREA + 0x10000
PT = AREA + 0x20000        # L1, L2, L3 at +0, +0x1000, +0x2000
S2PT = AREA + 0x30000
DATA = AREA + 0x40000
L2STE = AREA + 0x50000


def u8(v): return struct.pack('<B', v & 0xff)
def u32(v): return struct.pack('<I', v & 0xffffffff)
def u64(v): return struct.pack('<Q', v & 0xffffffffffffffff)


def w32(off, v): return u8(0) + u32(off) + u32(v)
def w64(off, v): return u8(1) + u32(off) + u64(v)
def rd(off, q=0): return u8(2) + u32(off) + u8(q)
def cmd(c0, c1=0): return u8(3) + u64(c0) + u64(c1)
def mem(pa, v): return u8(4) + u32(pa - AREA) + u64(v)


def dma(sid, iova, write=0, ssid=None):
    s = 0 if ssid is None else (0x80000000 | ssid)
    return u8(5) + u32(sid) + u32(s) + u64(iova) + u8(write)


def setup(two_level=False, log2=6): return u8(6) + u8((1 if two_level else 0) | (log2 << 1))
def ack(): return u8(7)
def prod(v): return u8(8) + u32(v)


def ste(base, sid, words):
    return b''.join(mem(base + sid * 64 + 8 * i, w) for i, w in enumerate(words))


def s1_ste(cd): return [1 | (5 << 1) | (cd & ((1 << 52) - (1 << 6))), 0, 0, 0]


def cd_words(asid, ttb):
    # T0SZ 25, TG0 4K, EPD1, V, IPS 48-bit, AA64, R, A, ASID
    w0 = 25 | (1 << 30) | (1 << 31) | (5 << 32) | (1 << 41) | (1 << 45) | (1 << 46) | (asid << 48)
    return [w0, ttb, 0, 0xff04ff]


def cd_at(addr, asid, ttb):
    return b''.join(mem(addr + 8 * i, w) for i, w in enumerate(cd_words(asid, ttb)))


S1_PAGE = (1 << 10) | (1 << 6) | (1 << 11) | (3 << 8) | 3
S2_PAGE = (1 << 10) | (3 << 6) | (3 << 8) | 3


def map4k(root, iova, pa, attrs):
    """4K granule, 39-bit input: tables at root, root+0x1000, root+0x2000."""
    out = mem(root + ((iova >> 30) & 0x1ff) * 8, (root + 0x1000) | 3)
    out += mem(root + 0x1000 + ((iova >> 21) & 0x1ff) * 8, (root + 0x2000) | 3)
    out += mem(root + 0x2000 + ((iova >> 12) & 0x1ff) * 8, pa | attrs)
    return out


def tlbi_asid(asid): return cmd(0x11 | (asid << 48))


def tlbi_va(asid, va, num=0, scale=0, tg=0):
    return cmd(0x12 | (num << 12) | (scale << 20) | (asid << 48), va | (tg << 10) | 1)


def cfgi_ste(sid): return cmd(0x03 | (sid << 32), 1)
def sync(cs=0, data=0, addr=0): return cmd(0x46 | (cs << 12) | (data << 32), addr & ((1 << 52) - 4))


def seeds():
    hdr = u8(0) + u8(7)
    s1 = setup() + ste(AREA, 1, s1_ste(CD)) + cd_at(CD, 3, PT) + map4k(PT, 0x1000, DATA, S1_PAGE)
    yield 's1-translate', hdr + s1 + dma(1, 0x1010) + dma(1, 0x1010, 1) + dma(1, 0x9000)
    yield 's1-stale-tlb', (hdr + s1 + dma(1, 0x1000) + mem(PT + 0x2000 + 8, 0) + dma(1, 0x1000)
                           + tlbi_va(3, 0x1000) + sync() + dma(1, 0x1000) + ack())
    yield 's1-range-tlbi', (hdr + s1 + dma(1, 0x1000) + tlbi_va(3, 0x0, num=3, tg=1) + sync()
                            + dma(1, 0x1000))
    yield 'cfgi-ste', (hdr + s1 + dma(1, 0x1000) + ste(AREA, 1, [1, 0, 0, 0]) + dma(1, 0x1000)
                       + cfgi_ste(1) + sync() + dma(1, 0x1000))
    yield 'illegal-cmd', hdr + setup() + cmd(0xff) + sync() + rd(0x9c) + ack() + sync() + tlbi_asid(1)
    yield 'sync-msi', hdr + setup() + sync(1, 0x1234, AREA + 0x800) + sync(2) + sync(3)
    yield 'prod-beyond', hdr + setup() + prod(0xfffff) + prod(0x1ff) + prod(0) + rd(0x9c)
    yield 'two-level', (hdr + setup(True, 16) + mem(AREA, L2STE | 9) + ste(L2STE, 5, s1_ste(CD))
                        + cd_at(CD, 3, PT) + map4k(PT, 0x1000, DATA, S1_PAGE)
                        + dma(5, 0x1000) + dma(0x105, 0x1000) + dma(0x1ff, 0))
    s2w2 = (25 << 32) | (1 << 38) | (5 << 48) | (1 << 51) | (1 << 58) | 4
    yield 'stage2', (hdr + setup() + ste(AREA, 2, [1 | (6 << 1), 0, s2w2, S2PT])
                     + map4k(S2PT, 0x7000, DATA, S2_PAGE) + dma(2, 0x7008) + dma(2, 0x7008, 1)
                     + cmd(0x2a | (4 << 32), 0x7000) + sync() + cmd(0x28 | (4 << 32)) + sync())
    # Nested: identity stage 2 for every IPA stage 1 touches (one S2 leaf table each).
    nested = hdr + setup() + ste(AREA, 3, [1 | (7 << 1) | CD, 0, s2w2, S2PT]) + cd_at(CD, 3, PT)
    nested += map4k(PT, 0x1000, DATA, S1_PAGE)
    nested += b''.join(mem(S2PT + 0x2000 + ((a >> 12) & 0x1ff) * 8, a | S2_PAGE)
                       for a in (CD, PT, PT + 0x1000, PT + 0x2000, DATA))
    nested += mem(S2PT + ((AREA >> 30) & 0x1ff) * 8, (S2PT + 0x1000) | 3)
    nested += mem(S2PT + 0x1000 + ((AREA >> 21) & 0x1ff) * 8, (S2PT + 0x2000) | 3)
    yield 'nested', nested + dma(3, 0x1000) + dma(3, 0x1000, 1)
    yield 'evtq-overflow', hdr + setup() + b''.join(dma(7, i << 12) for i in range(80)) + ack() + dma(7, 0)
    yield 'registers', (hdr + w32(0x44, 0x80100000) + rd(0x44) + dma(0, 0x55) + w32(0x44, 0x80000000)
                        + w32(0x20, 0xffffffff) + rd(0x24) + w64(0x80, AREA) + w32(0x84, 1)
                        + rd(0x80, 1) + w64(0x88, 6) + w32(0x64, 0xffffffff) + w32(0x54, 1)
                        + w32(0x100a8, 5) + w64(0x68, AREA + 0x900) + w32(0x70, 0x77)
                        + w32(0x50, 7) + w32(0x1fffc, 1))
    yield 'bad-pointers', (hdr + setup() + ste(AREA, 4, [1 | (5 << 1) | 0x10000, 0, 0, 0])
                           + dma(4, 0) + w32(0x20, 0) + w64(0x90, 0x1000 | 4) + w32(0x20, 8)
                           + cmd(0x46) + ack())


def main():
    root = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(root, 'smmuv3')
    os.makedirs(out, exist_ok=True)
    for name, blob in seeds():
        with open(os.path.join(out, 'seed-' + name), 'wb') as f:
            f.write(blob)
    words = {
        'op_w32': b'\x00', 'op_w64': b'\x01', 'op_cmd': b'\x03', 'op_mem': b'\x04',
        'op_dma': b'\x05', 'op_setup': b'\x06', 'op_ack': b'\x07',
        'reg_cr0': u32(0x20), 'reg_gbpa': u32(0x44), 'reg_gerrorn': u32(0x64),
        'reg_strtab': u32(0x80), 'reg_strtab_cfg': u32(0x88), 'reg_cmdq_base': u32(0x90),
        'reg_cmdq_prod': u32(0x98), 'reg_evtq_base': u32(0xa0), 'reg_evtq_cons': u32(0x100ac),
        'cmd_sync': u64(0x46), 'cmd_sync_msi': u64(0x1046), 'cmd_cfgi_ste': u64(0x03),
        'cmd_cfgi_all': u64(0x04), 'cmd_cfgi_cd': u64(0x05), 'cmd_tlbi_nh_asid': u64(0x11),
        'cmd_tlbi_nh_va': u64(0x12), 'cmd_tlbi_s2_ipa': u64(0x2a), 'cmd_nsnh_all': u64(0x30),
        'ste_s1': u64(0xb), 'ste_s2': u64(0xd), 'ste_nested': u64(0xf), 'ste_bypass': u64(0x9),
        'cd_w0': u64(cd_words(3, PT)[0]), 'pte_page': u64(DATA | S1_PAGE), 'area': u64(AREA),
    }
    with open(os.path.join(root, 'smmuv3.dict'), 'w') as f:
        f.write('# fuzz_smmuv3 dictionary, generated by corpus/gen_smmuv3_corpus.py\n')
        for k, v in words.items():
            f.write('%s="%s"\n' % (k, ''.join('\\x%02x' % b for b in v)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
