#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerate the generated seeds: DTS fixtures -> corpus/dtb/fixture-*.dtb (dtc) and the
# IORT fixtures -> corpus/iort/fixture-*.dat (gen_iort_seeds.py). Real tables and trees
# are copied, not generated (see MANIFEST.md).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
for src in "$top"/tests/fw/dts/*.dts; do
	name=$(basename "$src" .dts)
	# -f: several fixtures are malformed on purpose and dtc flags them.
	dtc -q -f -I dts -O dtb -o "$top/corpus/dtb/fixture-$name.dtb" "$src" 2>/dev/null
done
python3 "$top/corpus/gen_iort_seeds.py" "$top/corpus/iort"
