#!/bin/sh
# SPDX-License-Identifier: MIT
# Seeds of fuzz_trace_replay (corpus/trace_replay/): byte 0 picks the replay (bit 0 rk,
# bit 1 lazy, bit 2 fast, bit 3 dma-access, bit 4 fallback device, bit 5 finding cap; see
# fuzz/fuzz_trace_replay.c), the rest is trace text: the example traces of tests/trace/data/
# (cut to their first 60 lines plus their last 20, so the after-unmap fault stays) and the
# parser's seeds in corpus/trace/, each under a few modes. The dictionary is the parser's.
set -e
cd "$(dirname "$0")"
out=trace_replay
rm -rf $out
mkdir -p $out
seed() { # mode-byte(octal) name file
	{ printf "\\$1"; cat "$3"; } > "$out/$2"
}
for f in ../tests/trace/data/*.txt; do
	b=$(basename "$f" .txt)
	tmp=$(mktemp)
	{ head -n 60 "$f"; tail -n 20 "$f"; } > "$tmp"
	seed 000 "$b.strict" "$tmp"	# smmuv3, strict, clock follows
	seed 012 "$b.lazy-access" "$tmp"	# smmuv3, lazy, dma-access
	seed 013 "$b.rk-lazy-access" "$tmp"	# rk, lazy, dma-access
	seed 004 "$b.fast" "$tmp"		# smmuv3, strict, fast
	rm -f "$tmp"
done
for f in trace/*; do
	b=$(basename "$f")
	seed 002 "parse-$b.lazy" "$f"
	seed 061 "parse-$b.rk-fb-cap" "$f"	# rk, fallback device, 4 findings kept
done
cp trace.dict trace_replay.dict
