#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# bench-smoke check for bench_unmap: run it with --smoke --out DIR, then check that the JSON
# on stdout and in DIR is well formed, that every case of the matrix ran with numbers in
# it, and that the CSV and the gnuplot script exist. Usage: bench_unmap_check.py BIN DIR
import csv
import json
import math
import os
import subprocess
import sys

BACKENDS = ["smmuv3-seq", "smmuv3-conc", "rk"]
MODES = ["strict", "lazy"]
SIZES = [4096, 2097152]
BATCHES = [1, 16, 512]


def expected_cases():
    out = set()
    for be in BACKENDS:
        for size in SIZES:
            for batch in BATCHES:
                # Rockchip: a full flush queue of 2M x 16 / x 512 does not fit 32-bit IOVA.
                if be == "rk" and size == 2097152 and batch > 1:
                    continue
                for mode in MODES:
                    for threads in (1, 2):
                        out.add((be, mode, size, batch, threads))
    return out


def fail(msg):
    print("bench_unmap_check: FAIL: " + msg)
    sys.exit(1)


def finite_positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def check_doc(doc, where):
    want = expected_cases()
    if doc.get("bench") != "unmap" or doc.get("schema") != 1:
        fail(f"{where}: not a bench_unmap schema-1 document")
    if doc["cases_ran"] != doc["cases_expected"] or doc["cases_expected"] != len(want):
        fail(f"{where}: {doc['cases_ran']} of {doc['cases_expected']} cases ran, want {len(want)}")
    got = set()
    for c in doc["cases"]:
        key = (c["backend"], c["mode"], c["page_size"], c["batch"], c["threads"])
        if key in got:
            fail(f"{where}: case {key} twice")
        got.add(key)
        for side, d in (("real", c), ("floor", c["floor"])):
            for k in ("ns_per_page", "pages_per_s"):
                m = d[k]
                if not (finite_positive(m["median"]) and m["min"] <= m["median"] <= m["max"]):
                    fail(f"{where}: {key} {side} {k} = {m}")
            lat = d["latency_ns"]
            if lat["samples"] <= 0 or not (lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]):
                fail(f"{where}: {key} {side} latency {lat}")
        if not finite_positive(c["ratio_to_floor"]["median"]):
            fail(f"{where}: {key} ratio_to_floor {c['ratio_to_floor']}")
        if c["threads"] == 2 and not (finite_positive(c["scaling"]["relative"]["median"])
                                      and finite_positive(c["scaling"]["relative_to_floor"]["median"])):
            fail(f"{where}: {key} scaling {c.get('scaling')}")
        if c["mode"] == "lazy" and not finite_positive(c["lazy_over_strict"]["median"]):
            fail(f"{where}: {key} lazy_over_strict")
        per = c["per_1000_unmaps"]
        # Strict unmaps sync every call on the SMMU; lazy single-page ones queue (a sync
        # only when a table empties or the queue is full). A lazy unmap of a whole 2M
        # table still syncs its walk flush before the table is freed, as in the kernel.
        if c["backend"] != "rk" and c["mode"] == "strict" and per["cmd_sync"] < 1000:
            fail(f"{where}: {key} strict with {per['cmd_sync']} syncs per 1000 unmaps")
        if c["mode"] == "lazy" and c["batch"] == 1 and per["cmd_sync"] >= 1000:
            fail(f"{where}: {key} lazy with {per['cmd_sync']} syncs per 1000 unmaps")
    if got != want:
        fail(f"{where}: missing cases {sorted(want - got)[:4]}...")
    if not doc["goals"] or any(not g["ran"] for g in doc["goals"]):
        fail(f"{where}: a goal was not evaluated")
    flip = doc.get("flip_under_load")
    if not isinstance(flip, dict) or {r["backend"] for r in flip["runs"]} != set(BACKENDS):
        fail(f"{where}: flip_under_load missing or incomplete: {flip}")
    for r in flip["runs"]:
        pps = r["pages_per_s"]
        if not (r["ran"] and r["ret"] == 0 and r["lazy_after"] and r["reps"] > 0):
            fail(f"{where}: flip under load on {r['backend']} did not run cleanly: {r}")
        # A phase may see no page complete on a loaded machine (one rep, 4 ms): >= 0.
        for k in ("before", "during", "after"):
            v = pps[k]["median"]
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                fail(f"{where}: flip under load on {r['backend']}: {k} = {pps[k]}")


TRACE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "trace",
                         "data")


def check_trace(binary):
    """The --trace case on a clean synthetic trace: every backend and mode ran, replayed
    every op, and found nothing (a replay that misreads the trace shows up as findings)."""
    trace = os.path.join(TRACE_DIR, "nvme.tracefs.txt")
    p = subprocess.run([binary, "--trace", trace, "--smoke", "--format", "json"],
                       capture_output=True, text=True, timeout=240)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        fail(f"--trace: exit code {p.returncode}")
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if len(lines) != 1:
        fail(f"--trace: stdout has {len(lines)} lines, want one JSON line")
    doc = json.loads(lines[0])
    if doc.get("ops", 0) <= 0:
        fail("--trace: no map/unmap op replayed")
    seen = set()
    for c in doc.get("cases", []):
        key = (c.get("backend"), c.get("mode"))
        seen.add(key)
        if c.get("findings") != 0 or c.get("model_errors") != 0:
            fail(f"--trace {key}: findings {c.get('findings')} model errors "
                 f"{c.get('model_errors')} on a clean trace")
        for k in ("events_per_s", "ratio_to_floor"):
            if not finite_positive(c.get(k, {}).get("median")):
                fail(f"--trace {key}: {k} not a positive number")
    want = {(b, m) for b in ("smmuv3", "rk") for m in MODES}
    if seen != want:
        fail(f"--trace: cases {sorted(seen)}, want {sorted(want)}")
    return len(seen)


def main():
    if len(sys.argv) != 3:
        print("usage: bench_unmap_check.py BIN DIR")
        return 2
    binary, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    p = subprocess.run([binary, "--smoke", "--out", out], capture_output=True, text=True,
                       timeout=240)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        fail(f"exit code {p.returncode}")
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    if len(lines) != 1:
        fail(f"stdout has {len(lines)} lines, want one JSON line")
    check_doc(json.loads(lines[0]), "stdout")
    with open(os.path.join(out, "bench_unmap.json")) as f:
        check_doc(json.load(f), "bench_unmap.json")
    with open(os.path.join(out, "bench_unmap.csv")) as f:
        rows = list(csv.DictReader(f))
    if len(rows) != len(expected_cases()):
        fail(f"CSV has {len(rows)} rows")
    for name in ("bench_unmap.gp", "bench_unmap_nspp.dat", "bench_unmap_cdf.dat"):
        if os.path.getsize(os.path.join(out, name)) == 0:
            fail(f"{name} is empty")
    ntrace = check_trace(binary)
    print(f"bench_unmap_check: ok, {len(rows)} cases, {ntrace} trace cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
