#!/bin/sh
# SPDX-License-Identifier: MIT
# Seeds of fuzz_trace (corpus/trace/): small generated traces of every pattern and format,
# plus hand-written edge cases (sg lists, wrapped and quoted mail text, CRLF, errors).
set -e
cd "$(dirname "$0")"
out=trace
gen="python3 ../tools/gen_trace.py"
mkdir -p $out
for p in nvme net gpu after-unmap-fault; do
	$gen --pattern $p --lines 6 --seed 7 --format tracefs -o $out/$p-tracefs.txt
	$gen --pattern $p --lines 6 --seed 7 --format trace-cmd --old-iommu-format \
		-o $out/$p-trace-cmd-old.txt
	$gen --pattern $p --lines 4 --seed 7 --mail -o $out/$p-mail.txt
done
printf '%s\n' \
 '  fio-77 [003] ..... 7.0: dma_map_sg: 0000:01:00.0 dir=TO_DEVICE nents=3/3 ents=2/2 dma_addrs={0xf000,0x20000} sizes={0x1000,0x2000} phys_addrs={0x1,0x2,0x3} attrs=SKIP_CPU_SYNC' \
 '  fio-77 [003] ..... 7.1: dma_unmap_sg: 0000:01:00.0 dir=TO_DEVICE phys_addrs={0x1,0x2,0x3} attrs=' \
 '  fio-77 [003] ..... 7.2: dma_map_sg: d dir=NONE nents=128/300 ents=1/1 [TRUNCATED] dma_addrs={0x0} sizes={0x0} phys_addrs={} attrs=0x800' \
 > $out/sg.txt
printf '%s\r\n' \
 'On Monday someone wrote:' \
 '> > kworker/u16:3-181 (  181) [006] d..1. 77.000100:' \
 '> > iommu:map: IOMMU: iova=0x0000000000004000 -' \
 '> > 0x0000000000005000 paddr=0x0000000000001000 size=4096' \
 '>> kworker/u16:3-181 [006] d..1 77.000200: unmap: IOMMU: iova=0x0000000000004000 size=4096 unmapped_size=4096' \
 '> <idle>-0 [000] d.h1. 77.006: io_page_fault: IOMMU: 0000:c2:00.0 iova=0x0000000000004000 flags=0x0001' \
 > $out/mail-crlf.txt
printf '%s\n' \
 'cpus=2' \
 'x-1 [000] 1.0: add_device_to_group: IOMMU: groupID=-1 device=a' \
 'x-1 [000] 1.0: remove_device_from_group: IOMMU: groupID=2147483648 device=a' \
 'x-1 [000] 1.0: map: IOMMU: iova=0xffffffffffffffff - 0x0 paddr=0x0 size=1' \
 'x-1 [000] 1.0: map: IOMMU: iova=0x10000000000000000 paddr=0x0 size=1' \
 'x-99999999999 [000] 18446744073.709551616: unmap: IOMMU: iova=0x0 size=1 unmapped_size=0' \
 'x-1 [000] 1.0: dma_alloc: dev dma_addr=ffffffffffffffff size=4096 virt_addr=0 flags=none attrs=' \
 'x-1 [000] 1.0: sched_switch: prev_comm=x' \
 'x-1 [000] 1.0: dma_free: dev dir=SIDEWAYS dma_addr=1 size=1' \
 > $out/errors.txt
printf 'x-1 [000] 1.0: map: IOMMU: iova=0x0 paddr=0x0 \000size=1\nx-1 [000] 1.0: map: IOMMU: iova=0x0 paddr=0x0 size=1' > $out/nul.txt
