// SPDX-License-Identifier: MIT
/* Tests of the streaming trace parser (core/trace/parse.c): formats, tolerance, errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <ih/trace.h>

#include "trace/trace_priv.h"

#define MAXEV  64
#define MAXERR 16

struct run {
	struct ih_trace_event ev[MAXEV];
	int n;
	int err[MAXERR];
	u64 err_line[MAXERR];
	char msg[MAXERR][160];
	int nerr;
	struct ih_trace_stats st;
};

static void drain(struct ih_trace_reader *r, struct run *out)
{
	struct ih_trace_event ev;
	int ret;

	memset(out, 0, sizeof(*out));
	while ((ret = ih_trace_next(r, &ev)) != 0) {
		if (ret == 1) {
			cr_assert_lt(out->n, MAXEV);
			out->ev[out->n++] = ev;
		} else {
			cr_assert_lt(out->nerr, MAXERR);
			out->err[out->nerr] = ret;
			out->err_line[out->nerr] = ih_trace_error_line(r);
			snprintf(out->msg[out->nerr], sizeof(out->msg[0]), "%s", ih_trace_error(r));
			out->nerr++;
		}
	}
	/* The end is sticky. */
	cr_assert_eq(ih_trace_next(r, &ev), 0);
	ih_trace_get_stats(r, &out->st);
}

static void run_buf(const void *buf, size_t len, struct run *out)
{
	struct ih_trace_reader *r = ih_trace_reader_open_mem(buf, len);

	cr_assert_not_null(r);
	drain(r, out);
	ih_trace_reader_close(r);
}

static void run_str(const char *s, struct run *out)
{
	run_buf(s, strlen(s), out);
}

/* The same text through a FILE must give the same events, errors and counters. */
static void run_both(const char *s, struct run *out)
{
	static struct run f;
	FILE *fp = fmemopen((void *)s, strlen(s), "r");
	struct ih_trace_reader *r;

	run_str(s, out);
	cr_assert_not_null(fp);
	r = ih_trace_reader_open_file(fp);
	cr_assert_not_null(r);
	drain(r, &f);
	ih_trace_reader_close(r);
	fclose(fp);
	cr_assert_eq(f.n, out->n);
	cr_assert_eq(f.nerr, out->nerr);
	for (int i = 0; i < f.n; i++)
		cr_assert_eq(memcmp(&f.ev[i], &out->ev[i], sizeof(f.ev[i])), 0, "event %d", i);
	for (int i = 0; i < f.nerr; i++) {
		cr_assert_eq(f.err[i], out->err[i]);
		cr_assert_eq(f.err_line[i], out->err_line[i]);
	}
	cr_assert_eq(memcmp(&f.st, &out->st, sizeof(f.st)), 0);
}

static void expect_lines_add_up(const struct ih_trace_stats *st)
{
	cr_expect_eq(st->lines, st->records + st->joined + st->skipped + st->rejected,
		     "lines %llu records %llu joined %llu skipped %llu rejected %llu",
		     (unsigned long long)st->lines, (unsigned long long)st->records,
		     (unsigned long long)st->joined, (unsigned long long)st->skipped,
		     (unsigned long long)st->rejected);
}

#define MAP_NEW                                                                                  \
	"map: IOMMU: iova=0x00000000fff00000 - 0x00000000fff02000 paddr=0x0000000812345000 "    \
	"size=8192"
#define MAP_OLD "map: IOMMU: iova=0x00000000fff00000 paddr=0x0000000812345000 size=8192"
#define UNMAP_NEW                                                                                \
	"unmap: IOMMU: iova=0x00000000fff00000 - 0x00000000fff02000 size=8192 unmapped_size=8192"
#define UNMAP_OLD "unmap: IOMMU: iova=0x00000000fff00000 size=8192 unmapped_size=4096"

static void expect_map(const struct ih_trace_event *ev)
{
	cr_expect_eq(ev->kind, IH_TRACE_MAP);
	cr_expect_eq(ev->iova, 0xfff00000ull);
	cr_expect_eq(ev->iova_end, 0xfff02000ull);
	cr_expect_eq(ev->paddr, 0x812345000ull);
	cr_expect_eq(ev->size, 8192);
	cr_expect_str_empty(ev->device);
	cr_expect_eq(ev->group_id, -1);
	cr_expect_eq(ev->dir, IH_TRACE_DIR_NONE);
}

Test(trace_parse, tracefs_new_map_with_5_char_flags)
{
	struct run r;

	run_both("# tracer: nop\n#\n"
		 "#                                _-----=> irqs-off/BH-disabled\n"
		 "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
		 "#              | |         |   |||||     |         |\n"
		 "     kworker/0:1-42      [001] d..1.   123.456789: " MAP_NEW "\n",
		 &r);
	cr_assert_eq(r.n, 1);
	cr_assert_eq(r.nerr, 0);
	expect_map(&r.ev[0]);
	cr_expect_str_eq(r.ev[0].comm, "kworker/0:1");
	cr_expect_eq(r.ev[0].pid, 42);
	cr_expect_eq(r.ev[0].cpu, 1);
	cr_expect_eq(r.ev[0].ts_ns, 123456789000ull);
	cr_expect_eq(r.ev[0].line, 6);
	cr_expect_eq(r.st.lines, 6);
	cr_expect_eq(r.st.skipped, 5);
	cr_expect_eq(r.st.records, 1);
	cr_expect_eq(r.st.events, 1);
	cr_expect_eq(r.st.per_kind[IH_TRACE_MAP], 1);
	expect_lines_add_up(&r.st);
}

Test(trace_parse, flags_of_4_and_7_chars_and_none)
{
	struct run r;

	run_both("  a-1 [000] ....  1.000001: " MAP_NEW "\n"
		 "  b-2 [002] dNh2.1.  2.5: " MAP_NEW "\n"
		 "  c-3 [003]  3.000000003: " MAP_NEW "\n"
		 "  d-4 [004] d.h1. 4: " MAP_NEW "\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 4);
	cr_expect_eq(r.ev[0].ts_ns, 1000001000ull);
	cr_expect_eq(r.ev[1].ts_ns, 2500000000ull);
	cr_expect_eq(r.ev[1].cpu, 2);
	cr_expect_eq(r.ev[2].ts_ns, 3000000003ull);
	cr_expect_eq(r.ev[3].ts_ns, 4000000000ull);
	for (int i = 0; i < 4; i++) {
		expect_map(&r.ev[i]);
		cr_expect_eq(r.ev[i].pid, i + 1);
		cr_expect_eq(r.ev[i].line, (u64)i + 1);
	}
}

Test(trace_parse, trace_cmd_report_without_flags)
{
	struct run r;

	run_both("version = 6\n"
		 "CPU 3 is empty\n"
		 "cpus=4\n"
		 "          <idle>-0     [002]  5023.101000: map:                  IOMMU: "
		 "iova=0x0000000000010000 - 0x0000000000011000 paddr=0x0000000000abc000 size=4096\n"
		 "  irq/45-nvme0q2-877   [002]  5023.101100: unmap:                IOMMU: "
		 "iova=0x0000000000010000 - 0x0000000000011000 size=4096 unmapped_size=4096\n"
		 "CPU:2 [LOST 15 EVENTS]\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.ev[0].comm, "<idle>");
	cr_expect_eq(r.ev[0].pid, 0);
	cr_expect_eq(r.ev[0].iova, 0x10000);
	cr_expect_eq(r.ev[0].iova_end, 0x11000);
	cr_expect_eq(r.ev[0].ts_ns, 5023101000000ull);
	/* the pid is after the last dash */
	cr_expect_str_eq(r.ev[1].comm, "irq/45-nvme0q2");
	cr_expect_eq(r.ev[1].pid, 877);
	cr_expect_eq(r.ev[1].kind, IH_TRACE_UNMAP);
	cr_expect_eq(r.ev[1].unmapped_size, 4096);
	cr_expect_eq(r.st.skipped, 4);
	expect_lines_add_up(&r.st);
}

Test(trace_parse, comm_with_spaces_and_dashes_and_tgid_column)
{
	struct run r;

	run_both("  Web Content-x-1234 (   99) [005] ..... 10.000000: " MAP_NEW "\n"
		 "  my - app-7 (-------) [000] ..... 10.000001: " MAP_NEW "\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.ev[0].comm, "Web Content-x");
	cr_expect_eq(r.ev[0].pid, 1234);
	cr_expect_eq(r.ev[0].cpu, 5);
	cr_expect_str_eq(r.ev[1].comm, "my - app");
	cr_expect_eq(r.ev[1].pid, 7);
}

Test(trace_parse, old_map_and_unmap_format_without_end)
{
	struct run r;

	run_both("x-1 [000] .... 1.0: " MAP_OLD "\nx-1 [000] .... 1.1: " UNMAP_OLD "\n", &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 2);
	expect_map(&r.ev[0]);
	cr_expect_eq(r.ev[1].kind, IH_TRACE_UNMAP);
	cr_expect_eq(r.ev[1].iova, 0xfff00000ull);
	cr_expect_eq(r.ev[1].iova_end, 0xfff02000ull);
	cr_expect_eq(r.ev[1].size, 8192);
	cr_expect_eq(r.ev[1].unmapped_size, 4096);
	cr_expect_eq(r.ev[1].paddr, 0);
}

Test(trace_parse, new_unmap_format)
{
	struct run r;

	run_both("x-1 [000] .... 1.0: " UNMAP_NEW "\n", &r);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.ev[0].iova_end, 0xfff02000ull);
	cr_expect_eq(r.ev[0].unmapped_size, 8192);
}

Test(trace_parse, printed_end_must_be_iova_plus_size)
{
	struct run r;

	run_str("x-1 [000] .... 1.0: map: IOMMU: iova=0x1000 - 0x3000 paddr=0x0 size=4096\n"
		"x-1 [000] .... 1.0: map: IOMMU: iova=0xfffffffffffff000 - 0x0 paddr=0x0 "
		"size=8192\n",
		&r);
	cr_expect_eq(r.n, 0);
	cr_assert_eq(r.nerr, 2);
	cr_expect_eq(r.err[0], -EINVAL);
	cr_expect_str_eq(r.msg[0], "line 1: map: end 0x3000 is not iova 0x1000 + size 0x1000");
	cr_expect_eq(r.err_line[1], 2);
	cr_expect(strstr(r.msg[1], "wraps") != NULL, "%s", r.msg[1]);
	cr_expect_eq(r.st.errors, 2);
}

Test(trace_parse, io_page_fault_driver_device_iova_flags)
{
	struct run r;

	run_both("  <idle>-0 [000] d.h1. 300.006000: io_page_fault: IOMMU:nvme 0000:c2:00.0 "
		 "iova=0x00000000fe980000 flags=0x0001\n"
		 "  <idle>-0 [000] d.h1. 300.006001: io_page_fault: IOMMU: 0000:c2:00.0 "
		 "iova=0x00000000fe981000 flags=0x0000\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 2);
	cr_expect_eq(r.ev[0].kind, IH_TRACE_IO_PAGE_FAULT);
	cr_expect_str_eq(r.ev[0].driver, "nvme");
	cr_expect_str_eq(r.ev[0].device, "0000:c2:00.0");
	cr_expect_eq(r.ev[0].iova, 0xfe980000ull);
	cr_expect_eq(r.ev[0].flags, 1);
	cr_expect_eq(r.ev[0].size, 0);
	cr_expect_str_empty(r.ev[1].driver);
	cr_expect_str_eq(r.ev[1].device, "0000:c2:00.0");
	cr_expect_eq(r.ev[1].flags, 0);
}

Test(trace_parse, attach_and_group_events)
{
	struct run r;

	run_both("swapper/0-1 [000] ..... 0.5: add_device_to_group: IOMMU: groupID=12 "
		 "device=0000:01:00.0\n"
		 "swapper/0-1 [000] ..... 0.6: attach_device_to_domain: IOMMU: device=0000:01:00.0\n"
		 "swapper/0-1 [000] ..... 0.7: remove_device_from_group: IOMMU: groupID=3 "
		 "device=ff100000.iommu-master\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 3);
	cr_expect_eq(r.ev[0].kind, IH_TRACE_ADD_TO_GROUP);
	cr_expect_eq(r.ev[0].group_id, 12);
	cr_expect_str_eq(r.ev[0].device, "0000:01:00.0");
	cr_expect_eq(r.ev[1].kind, IH_TRACE_ATTACH);
	cr_expect_eq(r.ev[1].group_id, -1);
	cr_expect_str_eq(r.ev[1].device, "0000:01:00.0");
	cr_expect_eq(r.ev[2].kind, IH_TRACE_REMOVE_FROM_GROUP);
	cr_expect_eq(r.ev[2].group_id, 3);
	cr_expect_str_eq(r.ev[2].device, "ff100000.iommu-master");
}

Test(trace_parse, dma_map_unmap_page_resource_phys)
{
	struct run r;

	run_both("nvme-9 [001] ..... 1.0: dma_map_page: 0000:02:00.0 dir=FROM_DEVICE "
		 "dma_addr=fffff000 size=4096 phys_addr=1234000 attrs=SKIP_CPU_SYNC|WEAK_ORDERING\n"
		 "nvme-9 [001] ..... 1.1: dma_unmap_page: 0000:02:00.0 dir=FROM_DEVICE "
		 "dma_addr=fffff000 size=4096 attrs=\n"
		 "nvme-9 [001] ..... 1.2: dma_map_resource: 0000:02:00.0 dir=TO_DEVICE "
		 "dma_addr=0x10000 size=64 phys_addr=fe000000 attrs=MMIO\n"
		 "nvme-9 [001] ..... 1.3: dma_unmap_resource: 0000:02:00.0 dir=TO_DEVICE "
		 "dma_addr=10000 size=64 attrs=\n"
		 "nvme-9 [001] ..... 1.4: dma_map_phys: 0000:02:00.0 dir=BIDIRECTIONAL "
		 "dma_addr=20000 size=8192 phys_addr=5000 attrs=\n"
		 "nvme-9 [001] ..... 1.5: dma_unmap_phys: 0000:02:00.0 dir=BIDIRECTIONAL "
		 "dma_addr=20000 size=8192 attrs=\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 6);
	cr_expect_eq(r.ev[0].kind, IH_TRACE_DMA_MAP);
	cr_expect_str_eq(r.ev[0].device, "0000:02:00.0");
	cr_expect_eq(r.ev[0].dir, IH_TRACE_DIR_FROM_DEVICE);
	cr_expect_eq(r.ev[0].iova, 0xfffff000ull);
	cr_expect_eq(r.ev[0].iova_end, 0x100000000ull);
	cr_expect_eq(r.ev[0].size, 4096);
	cr_expect_eq(r.ev[0].paddr, 0x1234000);
	cr_expect_eq(r.ev[0].flags, (1u << 5) | (1u << 1));
	cr_expect_eq(r.ev[1].kind, IH_TRACE_DMA_UNMAP);
	cr_expect_eq(r.ev[1].flags, 0);
	cr_expect_eq(r.ev[2].kind, IH_TRACE_DMA_MAP);
	cr_expect_eq(r.ev[2].dir, IH_TRACE_DIR_TO_DEVICE);
	cr_expect_eq(r.ev[2].iova, 0x10000);
	cr_expect_eq(r.ev[2].flags, 1u << 10);
	cr_expect_eq(r.ev[3].kind, IH_TRACE_DMA_UNMAP);
	cr_expect_eq(r.ev[4].kind, IH_TRACE_DMA_MAP);
	cr_expect_eq(r.ev[4].dir, IH_TRACE_DIR_BIDIRECTIONAL);
	cr_expect_eq(r.ev[5].kind, IH_TRACE_DMA_UNMAP);
	cr_expect_eq(r.st.per_kind[IH_TRACE_DMA_MAP], 3);
	cr_expect_eq(r.st.per_kind[IH_TRACE_DMA_UNMAP], 3);
}

Test(trace_parse, dma_alloc_free_with_and_without_dir)
{
	struct run r;

	run_both("modprobe-300 [000] ..... 2.0: dma_alloc: 0000:c2:00.0 dma_addr=fe980000 "
		 "size=524288 virt_addr=00000000a1b2c3d4 flags=GFP_KERNEL|__GFP_ZERO attrs=\n"
		 "modprobe-300 [000] ..... 2.1: dma_alloc: 0000:c2:00.0 dir=BIDIRECTIONAL "
		 "dma_addr=fea00000 size=8192 virt_addr=(____ptrval____) flags=GFP_KERNEL "
		 "attrs=\n"
		 "kworker/1:2-55 [001] ..... 300.0: dma_free: 0000:c2:00.0 dir=BIDIRECTIONAL "
		 "dma_addr=fe980000 size=524288 virt_addr=00000000a1b2c3d4 attrs=\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 3);
	cr_expect_eq(r.ev[0].kind, IH_TRACE_DMA_ALLOC);
	cr_expect_eq(r.ev[0].dir, IH_TRACE_DIR_NONE);
	cr_expect_eq(r.ev[0].iova, 0xfe980000ull);
	cr_expect_eq(r.ev[0].size, 524288);
	cr_expect_eq(r.ev[0].iova_end, 0xfea00000ull);
	cr_expect_eq(r.ev[1].dir, IH_TRACE_DIR_BIDIRECTIONAL);
	cr_expect_eq(r.ev[2].kind, IH_TRACE_DMA_FREE);
	cr_expect_eq(r.ev[2].iova, 0xfe980000ull);
	cr_expect_str_eq(r.ev[2].comm, "kworker/1:2");
}

Test(trace_parse, dma_map_sg_gives_one_event_per_segment)
{
	struct run r;

	run_both("fio-77 [003] ..... 7.0: dma_map_sg: 0000:01:00.0 dir=TO_DEVICE nents=3/3 "
		 "ents=3/3 dma_addrs={0xf000,0x20000,0x31000} sizes={0x1000,0x2000,0x200} "
		 "phys_addrs={0x100000,0x200000,0x300000} attrs=\n"
		 "fio-77 [003] ..... 7.1: dma_map_sg: 0000:01:00.0 dir=TO_DEVICE "
		 "dma_addrs={0x40000} sizes={0x3000} phys_addrs={0x1000,0x2000,0x3000} attrs=\n"
		 "fio-77 [003] ..... 7.2: dma_unmap_sg: 0000:01:00.0 dir=TO_DEVICE "
		 "phys_addrs={0x100000,0x200000} attrs=\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 6);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(r.ev[i].kind, IH_TRACE_DMA_MAP_SG);
		cr_expect_eq(r.ev[i].seg, (unsigned int)i);
		cr_expect_eq(r.ev[i].nsegs, 3);
		cr_expect_eq(r.ev[i].line, 1);
		cr_expect_str_eq(r.ev[i].device, "0000:01:00.0");
		cr_expect_eq(r.ev[i].dir, IH_TRACE_DIR_TO_DEVICE);
	}
	cr_expect_eq(r.ev[0].iova, 0xf000);
	cr_expect_eq(r.ev[0].size, 0x1000);
	cr_expect_eq(r.ev[0].iova_end, 0x10000);
	cr_expect_eq(r.ev[0].paddr, 0x100000);
	cr_expect_eq(r.ev[1].iova, 0x20000);
	cr_expect_eq(r.ev[1].size, 0x2000);
	cr_expect_eq(r.ev[2].iova, 0x31000);
	cr_expect_eq(r.ev[2].size, 0x200);
	cr_expect_eq(r.ev[2].paddr, 0x300000);
	cr_expect_eq(r.ev[0].phys_count, 1);
	cr_expect_eq(r.ev[0].paddr_last, 0x100000);
	/* merged by the IOMMU: one DMA segment covering the three physical entries */
	cr_expect_eq(r.ev[3].nsegs, 1);
	cr_expect_eq(r.ev[3].iova, 0x40000);
	cr_expect_eq(r.ev[3].size, 0x3000);
	cr_expect_eq(r.ev[3].paddr, 0x1000);
	cr_expect_eq(r.ev[3].phys_count, 3);
	cr_expect_eq(r.ev[3].paddr_last, 0x3000);
	cr_expect_eq(r.ev[3].line, 2);
	/* unmap_sg prints physical addresses only */
	cr_expect_eq(r.ev[4].kind, IH_TRACE_DMA_UNMAP_SG);
	cr_expect_eq(r.ev[4].paddr, 0x100000);
	cr_expect_eq(r.ev[4].iova, 0);
	cr_expect_eq(r.ev[4].size, 0);
	cr_expect_eq(r.ev[4].phys_count, 1);
	cr_expect_eq(r.ev[4].paddr_last, 0x100000);
	cr_expect_eq(r.ev[5].paddr, 0x200000);
	cr_expect_eq(r.ev[5].seg, 1);
	cr_expect_eq(r.ev[5].nsegs, 2);
	cr_expect_eq(r.st.records, 3);
	cr_expect_eq(r.st.events, 6);
	cr_expect_eq(r.st.per_kind[IH_TRACE_DMA_MAP_SG], 4);
	cr_expect_eq(r.st.per_kind[IH_TRACE_DMA_UNMAP_SG], 2);
}

/*
 * More physical than DMA entries: each segment takes the entries in order, at most the
 * pages its size spans, never an entry with a page offset after its first, and leaves one
 * for each segment after it; fewer physical than DMA entries: the rest get none.
 */
Test(trace_parse, dma_map_sg_shares_physical_entries_among_merged_segments)
{
	struct run r;

	run_both("fio-77 [003] ..... 7.0: dma_map_sg: d dir=TO_DEVICE nents=5/5 ents=2/2 "
		 "dma_addrs={0x10000,0x20000} sizes={0x3000,0x2000} "
		 "phys_addrs={0x1000,0x7000,0x9000,0x4000,0x5000} attrs=\n"
		 "fio-77 [003] ..... 7.1: dma_map_sg: d dir=TO_DEVICE nents=3/3 ents=2/2 "
		 "dma_addrs={0x10000,0x20000} sizes={0x2000,0x1800} "
		 "phys_addrs={0x1000,0x2800,0x5000} attrs=\n"
		 "fio-77 [003] ..... 7.2: dma_map_sg: d dir=TO_DEVICE nents=1/1 ents=3/3 "
		 "dma_addrs={0x10000,0x20000,0x30000} sizes={0x1000,0x1000,0x1000} "
		 "phys_addrs={0x8000} attrs=\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 7);
	/* 0x3000 spans three pages: three entries; the last segment the two left */
	cr_expect_eq(r.ev[0].paddr, 0x1000);
	cr_expect_eq(r.ev[0].phys_count, 3);
	cr_expect_eq(r.ev[0].paddr_last, 0x9000);
	cr_expect_eq(r.ev[1].paddr, 0x4000);
	cr_expect_eq(r.ev[1].phys_count, 2);
	cr_expect_eq(r.ev[1].paddr_last, 0x5000);
	/* 0x2800 starts inside a page: it cannot extend the first segment */
	cr_expect_eq(r.ev[2].paddr, 0x1000);
	cr_expect_eq(r.ev[2].phys_count, 1);
	cr_expect_eq(r.ev[2].paddr_last, 0x1000);
	cr_expect_eq(r.ev[3].paddr, 0x2800);
	cr_expect_eq(r.ev[3].phys_count, 2);
	cr_expect_eq(r.ev[3].paddr_last, 0x5000);
	cr_expect_eq(r.ev[4].paddr, 0x8000);
	cr_expect_eq(r.ev[4].phys_count, 1);
	for (int i = 5; i < 7; i++) {
		cr_expect_eq(r.ev[i].paddr, 0);
		cr_expect_eq(r.ev[i].phys_count, 0);
		cr_expect_eq(r.ev[i].paddr_last, 0);
	}
}

Test(trace_parse, dma_map_sg_truncated_marker_and_count_mismatch)
{
	struct run r;

	run_str("f-1 [000] . 1.0: dma_map_sg: d dir=NONE nents=128/200 ents=1/1 [TRUNCATED] "
		"dma_addrs={0x1000} sizes={0x1000} phys_addrs={} attrs=\n"
		"f-1 [000] . 1.0: dma_map_sg: d dir=NONE dma_addrs={0x1000,0x2000} sizes={0x1000} "
		"attrs=\n"
		"f-1 [000] . 1.0: dma_map_sg: d dir=NONE dma_addrs={} sizes={} attrs=\n",
		&r);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.ev[0].iova, 0x1000);
	cr_assert_eq(r.nerr, 1);
	cr_expect_str_eq(r.msg[0], "line 2: dma_map_sg: 2 dma_addrs but 1 sizes");
	/* an empty list is a record with no event */
	cr_expect_eq(r.st.records, 3);
	cr_expect_eq(r.st.events, 1);
}

Test(trace_parse, system_prefixed_event_names)
{
	struct run r;

	run_both("x-1 [000] 1.0: iommu:map: IOMMU: iova=0x1000 paddr=0x2000 size=4096\n"
		 "x-1 [000] 1.0: dma:dma_unmap_page: dev dir=NONE dma_addr=1000 size=4096 attrs=\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 2);
	cr_expect_eq(r.ev[0].kind, IH_TRACE_MAP);
	cr_expect_eq(r.ev[1].kind, IH_TRACE_DMA_UNMAP);
}

Test(trace_parse, wrapped_lines_are_joined_with_one_space)
{
	struct run r;

	run_both("   nvme-5   [000] ..... 10.000000: map: IOMMU: iova=0x0000000000001000 -\n"
		 "0x0000000000002000 paddr=0x0000000000009000\n"
		 "   size=4096\n"
		 "   nvme-5   [000] ..... 10.000001: dma_map_page: 0000:01:00.0 dir=TO_DEVICE\n"
		 " dma_addr=1000 size=4096 phys_addr=9000 attrs=\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 2);
	cr_expect_eq(r.ev[0].iova, 0x1000);
	cr_expect_eq(r.ev[0].iova_end, 0x2000);
	cr_expect_eq(r.ev[0].paddr, 0x9000);
	cr_expect_eq(r.ev[0].size, 4096);
	cr_expect_eq(r.ev[0].line, 1);
	cr_expect_eq(r.ev[1].line, 4);
	cr_expect_eq(r.ev[1].paddr, 0x9000);
	cr_expect_eq(r.st.joined, 3);
	cr_expect_eq(r.st.records, 2);
	expect_lines_add_up(&r.st);
}

Test(trace_parse, mail_quotes_and_crlf)
{
	struct run r;

	run_both("Hi, here is the trace:\r\n"
		 "\r\n"
		 "> > kworker/u16:3-181 [006] d..1. 77.000100: map: IOMMU: iova=0x0000000000004000\r\n"
		 "> > - 0x0000000000005000 paddr=0x0000000000001000 size=4096\r\n"
		 ">> kworker/u16:3-181 [006] d..1. 77.000200: unmap: IOMMU: iova=0x0000000000004000 "
		 "size=4096 unmapped_size=4096\r\n"
		 "\r\n"
		 "Thanks,\r\n"
		 "Someone\r\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 2);
	cr_expect_str_eq(r.ev[0].comm, "kworker/u16:3");
	cr_expect_eq(r.ev[0].iova_end, 0x5000);
	cr_expect_eq(r.ev[0].line, 3);
	cr_expect_eq(r.ev[1].kind, IH_TRACE_UNMAP);
	cr_expect_eq(r.ev[1].line, 5);
	/* prose before and after, and blank lines, are skipped; the wrapped line joined */
	cr_expect_eq(r.st.skipped, 5);
	cr_expect_eq(r.st.joined, 1);
	expect_lines_add_up(&r.st);
}

Test(trace_parse, unknown_events_are_counted_and_skipped)
{
	struct run r;

	run_both("x-1 [000] .... 1.0: sched_switch: prev_comm=x prev_pid=1 ==> next_comm=y\n"
		 "x-1 [000] .... 1.1: dma_sync_single_for_cpu: 0000:01:00.0 dir=FROM_DEVICE "
		 "dma_addr=1000 size=64\n"
		 "x-1 [000] .... 1.2: detach_device_from_domain: IOMMU: device=0000:01:00.0\n"
		 "x-1 [000] .... 1.3: " MAP_NEW "\n",
		 &r);
	cr_assert_eq(r.nerr, 0);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.ev[0].line, 4);
	cr_expect_eq(r.st.unknown, 3);
	cr_expect_eq(r.st.records, 4);
}

Test(trace_parse, truncated_known_event_is_einval_and_reading_goes_on)
{
	struct run r;

	run_both("x-1 [000] .... 1.0: map: IOMMU: iova=0x00000000000\n"
		 "x-1 [000] .... 1.1: map: IOMMU: iova=0x1000 paddr=0x2000\n"
		 "x-1 [000] .... 1.2: dma_map_page: 0000:01:00.0 dir=TO_DEVICE dma_addr=1000\n"
		 "x-1 [000] .... 1.3: io_page_fault: IOMMU:drv\n"
		 "x-1 [000] .... 1.4: map:\n"
		 "x-1 [000] .... 1.5: " MAP_NEW "\n",
		 &r);
	cr_assert_eq(r.n, 1);
	expect_map(&r.ev[0]);
	cr_assert_eq(r.nerr, 5);
	for (int i = 0; i < 5; i++) {
		cr_expect_eq(r.err[i], -EINVAL);
		cr_expect_eq(r.err_line[i], (u64)i + 1);
	}
	cr_expect_str_eq(r.msg[0], "line 1: map: expected 'paddr='");
	cr_expect_str_eq(r.msg[1], "line 2: map: expected 'size='");
	cr_expect_str_eq(r.msg[2], "line 3: dma_map_page: missing dma_addr= or size=");
	cr_expect_str_eq(r.msg[3], "line 4: io_page_fault: missing device");
	cr_expect_str_eq(r.msg[4], "line 5: map: expected 'IOMMU:'");
	cr_expect_eq(r.st.errors, 5);
}

Test(trace_parse, garbage_and_truncated_prefixes_are_skipped)
{
	struct run r;

	run_both("\x01\x02garbage\xff\xfe\n"
		 "x-1 [00\n"
		 "x-1 [000]\n"
		 "x-1 [000] .... 1.0\n"
		 "-1 [000] .... 1.0: map: nope\n"
		 "x- [000] .... 1.0: map: nope\n"
		 "x-1 [000] .... abc: map: nope\n"
		 "x-1 [000] too-long-flags 1.0: map: nope\n"
		 "x-1 [000] .... 1.0 map: nope\n"
		 "[000] 1.0: map:\n",
		 &r);
	cr_expect_eq(r.n, 0);
	cr_expect_eq(r.nerr, 0);
	cr_expect_eq(r.st.records, 0);
	cr_expect_eq(r.st.skipped, 10);
	expect_lines_add_up(&r.st);
}

Test(trace_parse, unexpected_trailing_text_is_an_error)
{
	struct run r;

	run_str("x-1 [000] . 1.0: " MAP_NEW " extra\n"
		"x-1 [000] . 1.0: map: IOMMU: iova=0x1000 paddr=0x2000 size=4096x\n"
		"x-1 [000] . 1.0: dma_free: dev dir=NONE dma_addr=1000 size=1 stray attrs=\n"
		"x-1 [000] . 1.0: dma_free: dev dir=SIDEWAYS dma_addr=1000 size=1\n"
		"x-1 [000] . 1.0: dma_free: dev dir=NONE dma_addr=-1000 size=1\n"
		"x-1 [000] . 1.0: dma_free: dev dir=NONE dma_addr= 1000 size=1\n",
		&r);
	cr_expect_eq(r.n, 0);
	cr_assert_eq(r.nerr, 6);
	cr_expect_str_eq(r.msg[0], "line 1: map: unexpected text 'extra'");
	cr_expect_str_eq(r.msg[1], "line 2: map: bad number after 'size='");
	cr_expect_str_eq(r.msg[2], "line 3: dma_free: unexpected 'stray'");
	cr_expect_str_eq(r.msg[3], "line 4: dma_free: unknown dir 'SIDEWAYS'");
	cr_expect_str_eq(r.msg[4], "line 5: dma_free: bad number in 'dma_addr=-1000'");
	cr_expect_str_eq(r.msg[5], "line 6: dma_free: bad number in 'dma_addr='");
}

Test(trace_parse, numeric_overflow_is_einval)
{
	struct run r;

	run_str("x-1 [000] . 1.0: map: IOMMU: iova=0x10000000000000000 paddr=0x0 size=1\n"
		"x-1 [000] . 1.0: map: IOMMU: iova=0x0 paddr=0x0 size=18446744073709551616\n"
		"x-1 [000] . 1.0: map: IOMMU: iova=0x1 paddr=0x0 size=18446744073709551615\n"
		"x-99999999999 [000] . 1.0: " MAP_NEW "\n"
		"x-1 [99999999999] . 1.0: " MAP_NEW "\n"
		"x-1 [000] . 99999999999999999999.0: " MAP_NEW "\n"
		"x-1 [000] . 18446744073.709551616: " MAP_NEW "\n"
		"x-1 [000] . 1.0000000001: " MAP_NEW "\n"
		"x-1 [000] . 1.0: io_page_fault: IOMMU:d dev iova=0x0 flags=0x100000000\n"
		"x-1 [000] . 1.0: add_device_to_group: IOMMU: groupID=2147483648 device=d\n"
		"x-1 [000] . 18446744073.709551615: " MAP_NEW "\n",
		&r);
	cr_assert_eq(r.nerr, 10);
	cr_expect_str_eq(r.msg[0], "line 1: map: iova= value over 64 bits");
	cr_expect_str_eq(r.msg[1], "line 2: map: size= value over 64 bits");
	cr_expect(strstr(r.msg[2], "wraps") != NULL, "%s", r.msg[2]);
	cr_expect_str_eq(r.msg[3], "line 4: pid out of range");
	cr_expect_str_eq(r.msg[4], "line 5: cpu number out of range");
	cr_expect_str_eq(r.msg[5], "line 6: timestamp out of range");
	cr_expect_str_eq(r.msg[6], "line 7: timestamp out of range");
	cr_expect_str_eq(r.msg[7], "line 8: timestamp out of range");
	cr_expect_str_eq(r.msg[8], "line 9: io_page_fault: flags over 32 bits");
	cr_expect_str_eq(r.msg[9], "line 10: add_device_to_group: bad group number");
	/* the largest timestamp that fits: 2^64 - 1 ns */
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.ev[0].ts_ns, 18446744073709551615ull);
}

Test(trace_parse, number_helpers_reject_signs_blanks_and_overflow)
{
	static const struct {
		const char *s;
		bool hex;
		int ret;
		u64 v;
		size_t used;
	} cases[] = {
		{ "0", false, 0, 0, 1 },
		{ "18446744073709551615", false, 0, 18446744073709551615ull, 20 },
		{ "18446744073709551616", false, -ERANGE, 0, 0 },
		{ "000000000000000000000000042", false, 0, 42, 27 },
		{ "-1", false, -EINVAL, 0, 0 },
		{ "+1", false, -EINVAL, 0, 0 },
		{ " 1", false, -EINVAL, 0, 0 },
		{ "", false, -EINVAL, 0, 0 },
		{ "12ab", false, 0, 12, 2 },
		{ "0xffffffffffffffff", true, 0, ~0ull, 18 },
		{ "0x00000000000000000001", true, 0, 1, 22 },
		{ "ffffffffffffffff0", true, -ERANGE, 0, 0 },
		{ "0x", true, 0, 0, 1 },
		{ "0xg", true, 0, 0, 1 },
		{ "-0x1", true, -EINVAL, 0, 0 },
		{ "DeadBeef", true, 0, 0xdeadbeef, 8 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].s, *e = p + strlen(p);
		u64 v = 0;
		int ret = cases[i].hex ? ih_trace_parse_hex(&p, e, &v)
				       : ih_trace_parse_dec(&p, e, &v);

		cr_expect_eq(ret, cases[i].ret, "case %zu '%s': %d", i, cases[i].s, ret);
		if (!ret) {
			cr_expect_eq(v, cases[i].v, "case %zu", i);
			cr_expect_eq((size_t)(p - cases[i].s), cases[i].used, "case %zu", i);
		} else {
			cr_expect_eq(p, cases[i].s, "case %zu: cursor moved on error", i);
		}
	}
}

Test(trace_parse, nul_byte_line_is_einval_then_recovery)
{
	static const char in[] = "x-1 [000] . 1.0: " MAP_NEW "\n"
				 "x-1 [000] . 1.0: map\0: IOMMU:\n"
				 "x-1 [000] . 1.0: " MAP_NEW "\n";
	struct run r;

	run_buf(in, sizeof(in) - 1, &r);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.nerr, 1);
	cr_expect_eq(r.err[0], -EINVAL);
	cr_expect_str_eq(r.msg[0], "line 2: NUL byte in line");
	cr_expect_eq(r.ev[0].line, 1);
	cr_expect_eq(r.ev[1].line, 3);
	cr_expect_eq(r.st.rejected, 1);
	expect_lines_add_up(&r.st);
}

static char *overlong_input(size_t pad, size_t *len)
{
	const char *head = "x-1 [000] . 1.0: " MAP_NEW "\n";
	const char *tail = "x-1 [000] . 2.0: " MAP_NEW "\n";
	char *buf = malloc(strlen(head) + pad + 1 + strlen(tail) + 1);
	size_t n = 0;

	cr_assert_not_null(buf);
	memcpy(buf, head, strlen(head));
	n += strlen(head);
	memset(buf + n, 'a', pad);
	n += pad;
	buf[n++] = '\n';
	memcpy(buf + n, tail, strlen(tail) + 1);
	n += strlen(tail);
	*len = n;
	return buf;
}

Test(trace_parse, overlong_line_is_e2big_then_recovery_from_memory_and_file)
{
	/* just over the limit, and far over it (across many FILE chunks) */
	static const size_t pads[] = { IH_TRACE_MAX_RECORD + 1, 300000 };

	for (size_t i = 0; i < 2; i++) {
		size_t len;
		char *in = overlong_input(pads[i], &len);
		struct run r;
		FILE *fp;
		struct ih_trace_reader *rd;

		run_buf(in, len, &r);
		cr_assert_eq(r.n, 2);
		cr_assert_eq(r.nerr, 1);
		cr_expect_eq(r.err[0], -E2BIG);
		cr_expect_str_eq(r.msg[0], "line 2: line longer than 4096 bytes");
		cr_expect_eq(r.ev[1].line, 3);
		cr_expect_eq(r.st.bytes, len);

		fp = fmemopen(in, len, "r");
		cr_assert_not_null(fp);
		rd = ih_trace_reader_open_file(fp);
		drain(rd, &r);
		ih_trace_reader_close(rd);
		fclose(fp);
		cr_assert_eq(r.n, 2);
		cr_assert_eq(r.nerr, 1);
		cr_expect_eq(r.err[0], -E2BIG);
		cr_expect_eq(r.ev[1].line, 3);
		cr_expect_eq(r.st.bytes, len);
		cr_expect_eq(r.st.lines, 3);
		expect_lines_add_up(&r.st);
		free(in);
	}
}

Test(trace_parse, line_of_exactly_the_limit_is_kept)
{
	char *in = malloc(IH_TRACE_MAX_RECORD + 2);
	const char *rec = "x-1 [000] . 1.0: " MAP_OLD;
	size_t n = strlen(rec);
	struct run r;

	cr_assert_not_null(in);
	memcpy(in, rec, n);
	memset(in + n, ' ', IH_TRACE_MAX_RECORD - n);
	in[IH_TRACE_MAX_RECORD] = '\n';
	run_buf(in, IH_TRACE_MAX_RECORD + 1, &r);
	cr_expect_eq(r.n, 1);
	cr_expect_eq(r.nerr, 0);
	free(in);
}

Test(trace_parse, joined_record_over_the_limit_is_e2big_at_its_first_line)
{
	size_t cap = 8 * 1024;
	char *in = malloc(cap);
	size_t n = 0;
	struct run r;

	cr_assert_not_null(in);
	n += (size_t)snprintf(in, cap, "x-1 [000] . 1.0: map: IOMMU: iova=0x1000\n");
	/* 3 continuation lines of 2000 bytes: the third overflows the record */
	for (int i = 0; i < 3; i++) {
		memset(in + n, 'z', 2000);
		n += 2000;
		in[n++] = '\n';
	}
	n += (size_t)snprintf(in + n, cap - n, "x-1 [000] . 2.0: " MAP_OLD "\n");
	run_buf(in, n, &r);
	cr_assert_eq(r.nerr, 1);
	cr_expect_eq(r.err[0], -E2BIG);
	cr_expect_str_eq(r.msg[0], "line 1: record longer than 4096 bytes");
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.ev[0].line, 5);
	cr_expect_eq(r.st.joined, 3);
	expect_lines_add_up(&r.st);
	free(in);
}

Test(trace_parse, last_line_without_newline_and_empty_input)
{
	struct run r;

	run_both("x-1 [000] . 1.0: " MAP_NEW, &r);
	cr_expect_eq(r.n, 1);
	cr_expect_eq(r.st.lines, 1);
	run_both("", &r);
	cr_expect_eq(r.n, 0);
	cr_expect_eq(r.st.lines, 0);
	run_buf(NULL, 0, &r);
	cr_expect_eq(r.n, 0);
}

Test(trace_parse, device_name_too_long_is_einval)
{
	char in[512];
	struct run r;

	snprintf(in, sizeof(in),
		 "x-1 [000] . 1.0: attach_device_to_domain: IOMMU: device=%0*d\n", 64, 7);
	run_str(in, &r);
	cr_assert_eq(r.nerr, 1);
	cr_expect_str_eq(r.msg[0],
			 "line 1: attach_device_to_domain: device name longer than 63 bytes");
	snprintf(in, sizeof(in),
		 "x-1 [000] . 1.0: attach_device_to_domain: IOMMU: device=%0*d\n", 63, 7);
	run_str(in, &r);
	cr_expect_eq(r.nerr, 0);
	cr_expect_eq(strlen(r.ev[0].device), 63);
}

Test(trace_parse, long_comm_is_truncated)
{
	char in[512];
	struct run r;

	snprintf(in, sizeof(in), "%0*d-5 [000] . 1.0: " MAP_NEW "\n", 100, 1);
	run_str(in, &r);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(strlen(r.ev[0].comm), IH_TRACE_NAME_MAX - 1);
	cr_expect_eq(r.ev[0].pid, 5);
}

Test(trace_parse, kind_and_dir_names)
{
	cr_expect_str_eq(ih_trace_kind_name(IH_TRACE_MAP), "map");
	cr_expect_str_eq(ih_trace_kind_name(IH_TRACE_DMA_FREE), "dma_free");
	cr_expect_str_eq(ih_trace_kind_name(IH_TRACE_KIND_COUNT), "?");
	cr_expect_str_eq(ih_trace_dir_name(IH_TRACE_DIR_TO_DEVICE), "TO_DEVICE");
	cr_expect_str_eq(ih_trace_dir_name(IH_TRACE_DIR_NONE), "NONE");
	ih_trace_reader_close(NULL);
}

/* ---- the generated examples of tests/trace/data (tools/gen_trace.py) ---------------------- */

#define MAXDATA 512

struct data_run {
	struct ih_trace_event ev[MAXDATA];
	int n;
	struct ih_trace_stats st;
};

static void run_data(const char *name, struct data_run *out)
{
	char path[512];
	struct ih_trace_reader *r;
	FILE *fp;
	int ret;

	snprintf(path, sizeof(path), "%s/tests/trace/data/%s", IH_SOURCE_DIR, name);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s", path);
	r = ih_trace_reader_open_file(fp);
	cr_assert_not_null(r);
	out->n = 0;
	while ((ret = ih_trace_next(r, &out->ev[out->n])) != 0) {
		cr_assert_eq(ret, 1, "%s: %s", name, ih_trace_error(r));
		cr_assert_lt(++out->n, MAXDATA);
	}
	ih_trace_get_stats(r, &out->st);
	ih_trace_reader_close(r);
	fclose(fp);
	cr_expect_eq(out->st.errors, 0);
	cr_expect_eq(out->st.unknown, 0);
	expect_lines_add_up(&out->st);
}

/*
 * Clean by construction: each iommu map is followed by the dma: record of the same CPU,
 * task, IOVA and size (dma_free precedes its iommu unmap); every unmap matches a live map of
 * the same range; nothing is live at the end. Returns the number of io_page_fault events.
 */
static int check_clean(const struct data_run *d)
{
	struct {
		u64 iova, size;
	} live[64];
	int nlive = 0, faults = 0;

	for (int i = 0; i < d->n; i++) {
		const struct ih_trace_event *e = &d->ev[i];

		if (i)
			cr_assert_geq(e->ts_ns, d->ev[i - 1].ts_ns, "time goes back at line %llu",
				      (unsigned long long)e->line);
		switch (e->kind) {
		case IH_TRACE_MAP: {
			const struct ih_trace_event *n = &d->ev[i + 1];

			cr_assert_lt(i + 1, d->n);
			cr_assert(n->kind == IH_TRACE_DMA_MAP || n->kind == IH_TRACE_DMA_ALLOC);
			cr_expect_eq(n->iova, e->iova);
			cr_expect_eq(n->size, e->size);
			cr_expect_eq(n->cpu, e->cpu);
			cr_expect_eq(n->pid, e->pid);
			for (int j = 0; j < nlive; j++)
				cr_assert(e->iova_end <= live[j].iova ||
					  e->iova >= live[j].iova + live[j].size,
					  "map over a live mapping at line %llu",
					  (unsigned long long)e->line);
			cr_assert_lt(nlive, 64);
			live[nlive].iova = e->iova;
			live[nlive++].size = e->size;
			break;
		}
		case IH_TRACE_UNMAP: {
			const struct ih_trace_event *o = &d->ev[i + (i + 1 < d->n &&
								    d->ev[i + 1].kind ==
									    IH_TRACE_DMA_UNMAP
							      ? 1
							      : -1)];
			int j;

			cr_assert(o->kind == IH_TRACE_DMA_UNMAP || o->kind == IH_TRACE_DMA_FREE,
				  "unmap at line %llu without its dma: record",
				  (unsigned long long)e->line);
			cr_expect_eq(o->iova, e->iova);
			cr_expect_eq(o->size, e->size);
			cr_expect_eq(e->unmapped_size, e->size);
			for (j = 0; j < nlive; j++)
				if (live[j].iova == e->iova && live[j].size == e->size)
					break;
			cr_assert_lt(j, nlive, "unmap of nothing at line %llu",
				     (unsigned long long)e->line);
			live[j] = live[--nlive];
			break;
		}
		case IH_TRACE_IO_PAGE_FAULT:
			faults++;
			break;
		default:
			break;
		}
	}
	cr_expect_eq(nlive, 0, "%d mappings live at the end", nlive);
	return faults;
}

Test(trace_data, nvme_tracefs_is_clean_4k_traffic_on_several_cpus)
{
	static struct data_run d;
	unsigned int cpus = 0;

	run_data("nvme.tracefs.txt", &d);
	cr_expect_eq(check_clean(&d), 0);
	cr_expect_eq(d.st.per_kind[IH_TRACE_MAP], d.st.per_kind[IH_TRACE_UNMAP]);
	cr_expect_eq(d.st.per_kind[IH_TRACE_MAP], d.st.per_kind[IH_TRACE_DMA_MAP]);
	cr_expect_eq(d.st.per_kind[IH_TRACE_ATTACH], 1);
	for (int i = 0; i < d.n; i++) {
		if (d.ev[i].kind == IH_TRACE_MAP)
			cr_expect_eq(d.ev[i].size, 4096);
		cpus |= 1u << d.ev[i].cpu;
	}
	cr_expect_eq(cpus, 0xf);
}

Test(trace_data, old_format_trace_cmd_gives_the_same_events_as_tracefs)
{
	static struct data_run a, b;

	run_data("nvme.tracefs.txt", &a);
	run_data("nvme-old.trace-cmd.txt", &b);
	cr_assert_eq(a.n, b.n);
	for (int i = 0; i < a.n; i++) {
		cr_expect_eq(a.ev[i].kind, b.ev[i].kind);
		cr_expect_eq(a.ev[i].iova, b.ev[i].iova);
		cr_expect_eq(a.ev[i].iova_end, b.ev[i].iova_end);
		cr_expect_eq(a.ev[i].size, b.ev[i].size);
		cr_expect_eq(a.ev[i].ts_ns, b.ev[i].ts_ns);
		cr_expect_str_eq(a.ev[i].comm, b.ev[i].comm);
		cr_expect_str_eq(a.ev[i].device, b.ev[i].device);
	}
}

Test(trace_data, net_recycles_rx_pages)
{
	static struct data_run d;
	int remapped = 0;

	run_data("net.trace-cmd.txt", &d);
	cr_expect_eq(check_clean(&d), 0);
	/* a page (paddr) mapped FROM_DEVICE again after its unmap */
	for (int i = 0; i < d.n; i++) {
		if (d.ev[i].kind != IH_TRACE_DMA_MAP || d.ev[i].dir != IH_TRACE_DIR_FROM_DEVICE)
			continue;
		for (int j = 0; j < i; j++)
			if (d.ev[j].kind == IH_TRACE_DMA_MAP && d.ev[j].paddr == d.ev[i].paddr) {
				remapped++;
				break;
			}
	}
	cr_expect_gt(remapped, 5);
}

Test(trace_data, gpu_large_coherent_buffers)
{
	static struct data_run d;

	run_data("gpu.tracefs.txt", &d);
	cr_expect_eq(check_clean(&d), 0);
	cr_expect_gt(d.st.per_kind[IH_TRACE_DMA_ALLOC], 10);
	cr_expect_eq(d.st.per_kind[IH_TRACE_DMA_ALLOC], d.st.per_kind[IH_TRACE_DMA_FREE]);
	for (int i = 0; i < d.n; i++)
		if (d.ev[i].kind == IH_TRACE_DMA_ALLOC)
			cr_expect_geq(d.ev[i].size, 2u << 20);
}

static void expect_after_unmap_fault(const struct data_run *d)
{
	const struct ih_trace_event *f = NULL, *u = NULL;

	cr_assert_eq(check_clean(d), 1);
	for (int i = 0; i < d->n; i++)
		if (d->ev[i].kind == IH_TRACE_IO_PAGE_FAULT)
			f = &d->ev[i];
	cr_assert_not_null(f);
	for (const struct ih_trace_event *e = d->ev; e < f; e++)
		if (e->kind == IH_TRACE_UNMAP && e->iova <= f->iova && f->iova < e->iova_end)
			u = e;
	cr_assert_not_null(u);
	cr_expect_eq(u->iova, 0xfe980000ull);
	cr_expect_eq(u->size, 512 * 1024);
	cr_expect_eq(f->ts_ns - u->ts_ns, 6000000ull);
	cr_expect_gt(u->ts_ns, 300000000000ull);
	cr_expect_str_eq(f->device, "0000:c2:00.0");
	cr_expect_eq(f->flags & 1, 1);
}

Test(trace_data, after_unmap_fault_pattern)
{
	static struct data_run d;

	run_data("after-unmap-fault.tracefs.txt", &d);
	expect_after_unmap_fault(&d);
}

Test(trace_data, mail_quoted_and_wrapped_copy_gives_the_same_events)
{
	static struct data_run a, b;

	run_data("after-unmap-fault.tracefs.txt", &a);
	run_data("after-unmap-fault.mail.txt", &b);
	cr_expect_gt(b.st.joined, 100);
	expect_after_unmap_fault(&b);
	cr_assert_eq(a.n, b.n);
	for (int i = 0; i < a.n; i++) {
		cr_expect_eq(a.ev[i].kind, b.ev[i].kind);
		cr_expect_eq(a.ev[i].iova, b.ev[i].iova);
		cr_expect_eq(a.ev[i].size, b.ev[i].size);
		cr_expect_eq(a.ev[i].ts_ns, b.ev[i].ts_ns);
		cr_expect_eq(a.ev[i].pid, b.ev[i].pid);
	}
}

Test(trace_parse, wrap_after_the_timestamp_keeps_the_event_name_on_the_next_line)
{
	struct run r;

	run_both("> x-1 [000] ..... 1.000001:\n"
		 "> attach_device_to_domain: IOMMU: device=0000:01:00.0\n"
		 "> x-1 [000] ..... 1.000002:\n"
		 "> not an event name\n"
		 "> x-1 [000] ..... 1.000003:\n",
		 &r);
	cr_assert_eq(r.nerr, 0, "%s", r.msg[0]);
	cr_assert_eq(r.n, 1);
	cr_expect_eq(r.ev[0].kind, IH_TRACE_ATTACH);
	cr_expect_str_eq(r.ev[0].device, "0000:01:00.0");
	cr_expect_eq(r.ev[0].line, 1);
	/* no event name even once joined, or none at all: unknown records */
	cr_expect_eq(r.st.unknown, 2);
	cr_expect_eq(r.st.records, 3);
	cr_expect_eq(r.st.joined, 2);
}
