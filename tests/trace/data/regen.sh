#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates the small synthetic traces of this folder (used by tests/trace and the replay).
set -e
cd "$(dirname "$0")"
gen="python3 ../../../tools/gen_trace.py"
$gen --pattern nvme --lines 100 --seed 1 --format tracefs -o nvme.tracefs.txt
$gen --pattern nvme --lines 100 --seed 1 --format trace-cmd --old-iommu-format -o nvme-old.trace-cmd.txt
$gen --pattern net --lines 100 --seed 2 --format trace-cmd -o net.trace-cmd.txt
$gen --pattern gpu --lines 80 --seed 3 --format tracefs -o gpu.tracefs.txt
$gen --pattern after-unmap-fault --lines 80 --seed 4 --format tracefs -o after-unmap-fault.tracefs.txt
$gen --pattern after-unmap-fault --lines 80 --seed 4 --format trace-cmd --old-iommu-format --mail -o after-unmap-fault.mail.txt
