#!/bin/sh
# SPDX-License-Identifier: MIT
# Seeds for fuzz_dtb_probe / fuzz_iort_probe: every blob of corpus/dtb and corpus/iort
# behind the 4-byte control header of fuzz/fw_probe.h ([mode][0][fail u16 LE]). Each blob
# gets a few modes (both flows, the three orders, identity domains, teardown order, the
# board with the real drivers; the large real trees three of them) and small blobs also a few allocation failures. Run after corpus/gen_seeds.sh.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

hdr() { # mode fail -> 4 bytes
	printf "\\$(printf %03o "$1")\\000\\$(printf %03o $(($2 & 255)))\\$(printf %03o $(($2 >> 8)))"
}

gen() { # srcdir dstdir
	# Kept findings live in corpus/regress/<target>/, not here.
	rm -rf "$2"
	mkdir -p "$2"
	for f in "$1"/*; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		size=$(wc -c < "$f")
		modes="0 1 3 4 13 24 32 35 49"
		[ "$size" -le 4096 ] || modes="0 33"
		for mode in $modes; do
			{ hdr "$mode" 0; cat "$f"; } > "$2/$name.m$mode"
		done
		if [ "$size" -le 4096 ]; then
			for fail in 3 40 200; do
				{ hdr 1 "$fail"; cat "$f"; } > "$2/$name.m1.f$fail"
				{ hdr 33 "$fail"; cat "$f"; } > "$2/$name.m33.f$fail"
			done
		fi
	done
}

gen "$top/corpus/dtb" "$top/corpus/dtb_probe"
gen "$top/corpus/iort" "$top/corpus/iort_probe"
cp "$top/corpus/dtb.dict" "$top/corpus/dtb_probe.dict"
cp "$top/corpus/iort.dict" "$top/corpus/iort_probe.dict"
