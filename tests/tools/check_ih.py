#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ctest driver for the `ih` tool.

Usage: check_ih.py MODE IH SRCDIR
  corpus    every file of every fuzz corpus (corpus/*/): `ih topo` and `ih iort` exit 0
            or 1, never anything else; --help of every subcommand exits 0; usage errors
            exit 2.
  external  every DTB and IORT of $IH_CORPUS_REAL (default SRCDIR/../shared/corpus-real):
            exit 0 or 1, and a rejection names where and why; exit 77 (skip) when the
            directory is absent.
  agree     agreement with independent tools, on the repository corpus and, when present,
            the external one:
              IORT: node count, node types and per-node mapping counts from
                    `ih iort --json` equal what `iasl -d` prints, and equal
                    oracle-iort-facts.json where that lists the file;
              DTB:  the enabled nodes with `iommus`, each entry's IOMMU node and
                    #iommu-cells and argument cells, from `ih topo --json`, equal what
                    `fdtget` reads from the blob.
Exit 0 pass, 1 fail, 77 skip.
"""
import json
import os
import re
import resource
import subprocess
import sys
import tempfile

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def run(args, timeout=120):
    p = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def corpus_files(root):
    for dirpath, _, names in sorted(os.walk(root)):
        for n in sorted(names):
            yield os.path.join(dirpath, n)


def check_any(ih, path, quiet=True):
    """`ih topo` and `ih iort` on one file: exit 0 or 1 only; 1 comes with a reason."""
    out = {}
    for cmd in ("topo", "iort"):
        rc, so, se = run([ih, cmd, path])
        out[cmd] = (rc, se.strip().splitlines()[-1] if se.strip() else "")
        if rc not in (0, 1):
            fail(f"ih {cmd} {path}: exit {rc}: {se.strip()[-300:]}")
        elif rc == 1 and "rejected" not in se and "No such file" not in se:
            fail(f"ih {cmd} {path}: exit 1 without a reason: {se.strip()[-200:]}")
    return out


def mode_corpus(ih, src):
    for args, want in ((["--help"], 0), (["topo", "--help"], 0), (["iort", "--help"], 0),
                       ([], 2), (["frob"], 2), (["topo"], 2), (["topo", "--flow", "x", "f"], 2),
                       (["iort", "--dtb", "f"], 2), (["topo", "a", "b"], 2)):
        rc, so, se = run([ih] + args)
        if rc != want:
            fail(f"ih {' '.join(args)}: exit {rc}, want {want}")
        if want == 0 and "usage:" not in so:
            fail(f"ih {' '.join(args)}: no usage text")
    n = 0
    for d in sorted(os.listdir(os.path.join(src, "corpus"))):
        full = os.path.join(src, "corpus", d)
        if not os.path.isdir(full):
            continue
        for path in corpus_files(full):
            check_any(ih, path)
            n += 1
    print(f"{n} corpus files run through ih topo and ih iort")
    if n < 100:
        fail(f"only {n} corpus files found")


def real_dir(src):
    return os.environ.get("IH_CORPUS_REAL") or os.path.join(src, "..", "shared", "corpus-real")


def real_files(real):
    for sub in ("dtb", "iort"):
        for path in corpus_files(os.path.join(real, sub)):
            if path.endswith((".dtb", ".dat", ".aml")):
                yield path


def mode_external(ih, src):
    real = real_dir(src)
    if not os.path.isdir(real):
        print(f"external corpus {real} absent: skipped")
        sys.exit(77)
    n = 0
    for path in real_files(real):
        out = check_any(ih, path)
        n += 1
        rc, why = out["topo"]
        # Rejections and warnings (a bad checksum is a warning unless --strict) are named.
        print(f"{'ok      ' if rc == 0 else 'REJECTED'} {os.path.relpath(path, real)}"
              + (f": {why}" if why else ""))
    print(f"{n} external files")
    if n == 0:
        fail("external corpus has no DTB or IORT")


# ---- agreement ----

IASL_MAX_OUTPUT = 16 << 20  # bytes of disassembly; a real IORT's is a few KiB
IASL_TIMEOUT_S = 20
FDT_MAX_NODES = 2000  # the largest real device tree here has a few hundred


def iasl_facts(path):
    """(node types, per-node mapping counts) as `iasl -d` prints them, or None."""
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "t.dat")
        with open(path, "rb") as f, open(dat, "wb") as g:
            g.write(f.read())
        # Fuzzed tables can send iasl's disassembler round a loop that writes without end
        # (one filled 71 GB): cap what it may write and how long it may take.
        def limit():
            resource.setrlimit(resource.RLIMIT_FSIZE, (IASL_MAX_OUTPUT, IASL_MAX_OUTPUT))
        try:
            p = subprocess.run(["iasl", "-d", "t.dat"], cwd=tmp, capture_output=True,
                               timeout=IASL_TIMEOUT_S, preexec_fn=limit)
        except subprocess.TimeoutExpired:
            return None
        dsl = os.path.join(tmp, "t.dsl")
        if p.returncode != 0 or not os.path.exists(dsl):
            return None
        types, maps, count = [], [], None
        for line in open(dsl, errors="replace"):
            m = re.match(r"\[[0-9A-Fa-f]+h \d+ +\d+\] +([A-Za-z ]+?) : ([0-9A-Fa-f]+)", line)
            if not m:
                continue
            key, val = m.group(1).strip(), int(m.group(2), 16)
            if key == "Node Count":
                count = val
            elif key == "Type":
                types.append(val)
            elif key == "Mapping Count":
                maps.append(val)
        if count is None or len(types) != count or len(maps) != count:
            return None  # iasl stopped early (a table it cannot walk)
        return types, maps


def agree_iort(ih, path, oracle):
    rc, so, se = run([ih, "iort", "--json", path])
    if rc != 0:
        return False
    doc = json.loads(so)
    types = [n["type"] for n in doc["nodes"]]
    maps = [n["mapping_count"] for n in doc["nodes"]]
    if doc["node_count"] != len(doc["nodes"]):
        fail(f"{path}: node_count {doc['node_count']} but {len(doc['nodes'])} nodes")
    facts = iasl_facts(path)
    if facts is None:
        print(f"note: iasl -d cannot walk {path}; oracle only")
    elif (types, maps) != facts:
        fail(f"{path}: ih types {types} maps {maps}, iasl {facts[0]} {facts[1]}")
    o = oracle.get(os.path.basename(path))
    if o is not None:
        otypes = [n["type"] for n in o["nodes"]]
        omaps = [n["mapping_count"] for n in o["nodes"]]
        if o["node_count"] != doc["node_count"] or (otypes, omaps) != (types, maps):
            fail(f"{path}: ih {types} {maps}, oracle {otypes} {omaps}")
    return facts is not None


def fdt(args):
    # Fuzzed blobs have node names that are not UTF-8: keep them, marked, not a crash.
    p = subprocess.run(["fdtget"] + args, capture_output=True, text=True, errors="replace",
                       timeout=IASL_TIMEOUT_S)
    return p.returncode, p.stdout


def fdt_walk(path):
    """{node path: (enabled, [(iommu path, cells, args)])} for nodes with `iommus`."""
    rc, out = fdt(["-t", "x", path, "/", "phandle"])  # probe: readable blob
    phandles, nodes, stack = {}, [], ["/"]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if len(nodes) > FDT_MAX_NODES:
            return None  # names fdtget cannot address (a "/" inside one) make it loop
        rc, out = fdt(["-l", path, node])
        for child in reversed(out.split()):
            stack.append((node.rstrip("/") + "/" + child))
    props = {}
    for node in nodes:
        rc, out = fdt(["-p", path, node])
        props[node] = set(out.split())
        if "phandle" in props[node]:
            rc, out = fdt(["-t", "u", path, node, "phandle"])
            phandles[int(out.split()[0])] = node
    res = {}
    for node in nodes:
        if "iommus" not in props[node]:
            continue
        # Raw bytes: Linux compares the property with strcmp(), so only what comes before
        # the first NUL counts ("okay\0led" is okay); no status at all is okay too.
        rc, out = fdt(["-t", "bx", "-d", "", path, node, "status"])
        raw = bytes(int(x, 16) for x in out.split())
        enabled = not out.split() or raw.split(b"\0")[0] in (b"okay", b"ok")
        rc, out = fdt(["-t", "u", path, node, "iommus"])
        cells = [int(x) for x in out.split()]
        specs, i = [], 0
        while i < len(cells):
            target = phandles[cells[i]]
            rc, out = fdt(["-t", "u", path, target, "#iommu-cells"])
            n = int(out.split()[0])
            specs.append((target, n, cells[i + 1:i + 1 + n]))
            i += 1 + n
        res[node] = (enabled, specs)
    return res


def agree_dtb(ih, path):
    rc, so, se = run([ih, "topo", "--json", path])
    if rc != 0:
        return False
    doc = json.loads(so)
    got = {}
    for d in doc["devices"]:
        if "iommus" in d:
            got[d["firmware_node"]] = [(e["iommu_node"], e["iommu_cells"], e["args"])
                                       for e in d["iommus"]]
    walk = fdt_walk(path)
    if walk is None:
        print(f"note: fdtget cannot walk {path}: not compared")
        return False
    want = {k: v[1] for k, v in walk.items() if v[0]}
    if set(got) != set(want):
        fail(f"{path}: clients differ: only ih {sorted(set(got) - set(want))[:5]}, "
             f"only fdtget {sorted(set(want) - set(got))[:5]}")
        return True
    for node, specs in want.items():
        if [tuple(s) for s in got[node]] != [tuple(s) for s in specs]:
            fail(f"{path} {node}: ih {got[node]} fdtget {specs}")
    return True


def mode_agree(ih, src):
    real = real_dir(src)
    oracle = {}
    ofile = os.path.join(real, "iort", "oracle-iort-facts.json")
    if os.path.exists(ofile):
        oracle = {x["file"]: x for x in json.load(open(ofile))}
    iorts = [p for p in corpus_files(os.path.join(src, "corpus", "iort"))]
    dtbs = [p for p in corpus_files(os.path.join(src, "corpus", "dtb"))]
    if os.path.isdir(real):
        for p in real_files(real):
            (dtbs if p.endswith(".dtb") else iorts).append(p)
    else:
        print(f"note: external corpus {real} absent: repository corpus only")
    ni = sum(1 for p in iorts if agree_iort(ih, p, oracle))
    nd = sum(1 for p in dtbs if agree_dtb(ih, p))
    print(f"{ni} IORTs agreed with iasl -d, {nd} DTBs with fdtget")
    if ni < 3 or nd < 9:
        fail("too few inputs compared")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    mode, ih, src = sys.argv[1:]
    {"corpus": mode_corpus, "external": mode_external, "agree": mode_agree}[mode](ih, src)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
