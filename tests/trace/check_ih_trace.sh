#!/bin/sh
# SPDX-License-Identifier: MIT
# ctest: `ih trace` on the synthetic traces. The after-unmap example must exit 1 naming the
# unmap line and the fault line; every clean trace must exit 0, strict and lazy, both backends.
# Usage: check_ih_trace.sh IH_BINARY SOURCE_DIR
set -u
ih=$1
data=$2/tests/trace/data
fail=0

expect() { # expect STATUS PATTERN ARGS...
	want=$1 pat=$2
	shift 2
	out=$("$ih" trace "$@" 2>&1)
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: ih trace $* exited $got, expected $want"
		echo "$out" | tail -5
		fail=1
	elif [ -n "$pat" ] && ! echo "$out" | grep -q -- "$pat"; then
		echo "FAIL: ih trace $*: no line matching '$pat'"
		echo "$out" | tail -5
		fail=1
	else
		echo "ok: ih trace $* -> $got"
	fi
}

pat='line 79: access-after-unmap: 0000:c2:00.0 write at 0xfe980000, 6.000 ms after the unmap at line 78'
expect 1 "$pat" "$data/after-unmap-fault.tracefs.txt"
expect 1 "$pat" --lazy --dma-access "$data/after-unmap-fault.tracefs.txt"
expect 1 "$pat" --backend rk --lazy "$data/after-unmap-fault.tracefs.txt"
expect 1 'line 164: access-after-unmap: .* unmap at line 162' "$data/after-unmap-fault.mail.txt"
expect 1 '"kind": "access-after-unmap"' --json "$data/after-unmap-fault.tracefs.txt"
for f in nvme.tracefs.txt nvme-old.trace-cmd.txt net.trace-cmd.txt gpu.tracefs.txt; do
	expect 0 'no findings' "$data/$f"
	expect 0 'no findings' --lazy --dma-access "$data/$f"
done
for f in nvme.tracefs.txt nvme-old.trace-cmd.txt net.trace-cmd.txt; do
	expect 0 'no findings' --backend rk --lazy --fast "$data/$f"
done
# The GPU trace's 40-bit IOVAs do not fit a Rockchip IOMMU's 32-bit space.
expect 1 'model-error: 0000:0b:00.0 the model refused \[0xfff' --backend rk "$data/gpu.tracefs.txt"
expect 2 '' --no-such-option "$data/nvme.tracefs.txt"
expect 2 '' "$data/does-not-exist.txt"
# --json is one valid JSON document, findings or not, on parse errors and unreadable files.
json_ok() { # json_ok STATUS ARGS...
	want=$1
	shift
	"$ih" trace --json "$@" > "$tmp" 2>/dev/null
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: ih trace --json $* exited $got, expected $want"
		fail=1
	elif ! python3 -m json.tool "$tmp" > /dev/null; then
		echo "FAIL: ih trace --json $*: not JSON"
		head -c 400 "$tmp"
		fail=1
	else
		echo "ok: ih trace --json $* is JSON"
	fi
}
if command -v python3 > /dev/null; then
	tmp=$(mktemp)
	json_ok 1 "$data/after-unmap-fault.mail.txt"
	json_ok 0 --lazy --dma-access "$data/nvme.tracefs.txt"
	json_ok 1 --backend rk "$data/gpu.tracefs.txt"
	json_ok 2 "$2/corpus/trace/errors.txt"
	json_ok 2 "$2/corpus/trace/nul.txt"
	json_ok 2 "$data/does-not-exist.txt"
	rm -f "$tmp"
fi
exit $fail
