#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz_interleave.c into corpus/interleave/.

An input is one scenario byte (0 probe_race, 1 sibling, 2 fq_flip) and then choice bytes:
at each decision where both logical threads (A, B) can run, the next byte b runs
thread b % 2 (0 = A, 1 = B); once they run out the running thread goes on. Per scenario:
no choice bytes (A, then B), all A, all B, alternating, and the windows of the known bugs,
derived by hand from their scripts (tests/platform/test_coop_choices.c checks the same
bytes): on the fixed code they are clean, with the replay switch named below on
(IH_REGRESSIONS=...) they report, which zoo/zoo.tsv checks. Run from anywhere:
python3 corpus/gen_interleave_corpus.py. Existing seed-* files are rewritten; others
(a merged corpus) are left alone.
"""
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interleave")

SCENARIOS = {"probe-race": 0, "sibling": 1, "fq-flip": 2}
A, B = 0, 1

# The known windows: name -> (scenario, choice bytes). Comments give the script each one
# replays and the switch that makes it a bug.
WINDOWS = {
    # fwspec-probe-race: "A@fwspec:after-get B A" (A's third point in the bind flow).
    "probe-race-after-get": ("probe-race", [A, A, A, B]),
    # ownership-unserialised: "A@base:probe-before-probe B@base:probe-before-probe
    # A@ownership:unuse-before-store B A": both bound, A reads owner_cnt, B's unbind
    # stores, A's stale store loses it.
    "sibling-lost-unuse": ("sibling", [A, A, A, A, B, B, B, B, A, A, A, B]),
    # fq-domain-reread: "A@dma:unmap:after-fq-read B A" and one point later.
    "fq-flip-reread": ("fq-flip", [A, B]),
    "fq-flip-reread-before-sync": ("fq-flip", [A, A, B]),
    # fq-flip-unordered: "B@dma:flip:published A B".
    "fq-flip-unordered": ("fq-flip", [B, A]),
}

SHAPES = {
    "empty": [],
    "all-a": [A] * 64,
    "all-b": [B] * 64,
    "alternating": [A, B] * 32,
    "pairs": [A, A, B, B] * 16,
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith("seed-"):
            os.remove(os.path.join(OUT, f))
    seeds = {}
    for scen, num in SCENARIOS.items():
        for shape, choices in SHAPES.items():
            seeds[f"seed-{scen}-{shape}"] = bytes([num] + choices)
    for name, (scen, choices) in WINDOWS.items():
        seeds[f"seed-{name}"] = bytes([SCENARIOS[scen]] + choices)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
