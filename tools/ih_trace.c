// SPDX-License-Identifier: MIT
/* ih trace: replay a kernel iommu/dma trace through the model and report what it finds. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ih/check.h>
#include <ih/trace.h>
#include <ih/trace_replay.h>
#include <ih/world.h>

#include "board/trace_backend.h"
#include "ih_cmds.h"

/* Exit status (README, "ih trace"): 0 clean, 1 findings, 2 usage or parse error, 3 internal. */
enum { TR_CLEAN = 0, TR_FINDINGS = 1, TR_USAGE = 2, TR_INTERNAL = 3 };

#define TR_ERRORS_SHOWN 20

static const char usage_trace[] =
    "usage: ih trace [--backend smmuv3|rk] [--strict|--lazy] [--fast] [--device NAME]\n"
    "                [--dma-access] [--json] FILE\n"
    "\n"
    "Replay FILE, the text of `trace-cmd report` or of tracefs' trace file with the iommu\n"
    "and dma events (mail-wrapped text is fine; FILE '-' reads stdin), through the model:\n"
    "every device the trace names is created behind an emulated IOMMU, every map placed at\n"
    "the trace's IOVA, io_page_fault records become device DMA through the IOMMU. Prints a\n"
    "summary per device (maps, unmaps, bytes, size histogram, peak IOVA footprint) and the\n"
    "findings with their line numbers: device access after unmap (and whether a stale\n"
    "IOTLB entry let it through), unmap of an unmapped range, unmap size differing from the\n"
    "map, map over a live mapping, mappings live at the end, access to an IOVA never mapped.\n"
    "\n"
    "  --backend B      smmuv3 (default: PCI devices by BDF, one StreamID each) or rk\n"
    "                   (Rockchip: platform devices, one IOMMU each, 32-bit IOVAs)\n"
    "  --strict         strict unmap (default)\n"
    "  --lazy           lazy unmap through the flush queue (a trace cannot tell)\n"
    "  --fast           ignore timestamps (flush-queue timeouts never fire)\n"
    "  --device NAME    device for map/unmap records no dma: record claims\n"
    "  --dma-access     the device touches every new mapping once (fills the IOTLB)\n"
    "  --json           one JSON document on stdout\n"
    "  -h, --help       this text\n"
    "\n"
    "Exit status: 0 clean, 1 findings, 2 usage or parse error, 3 internal error.\n";

struct tr_opts {
	enum ih_trace_hw_kind backend;
	bool lazy, fast, dma_access, json;
	const char *device;
	const char *file;
};

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static const char *hist_label(unsigned int i, char *buf, size_t n)
{
	u64 sz = 1ULL << (12 + i);

	if (i == IH_TRACE_HIST_BUCKETS - 1)
		snprintf(buf, n, ">%lluM", (unsigned long long)(sz >> 21));
	else if (sz >= SZ_1G)
		snprintf(buf, n, "%lluG", (unsigned long long)(sz >> 30));
	else if (sz >= SZ_1M)
		snprintf(buf, n, "%lluM", (unsigned long long)(sz >> 20));
	else
		snprintf(buf, n, "%lluK", (unsigned long long)(sz >> 10));
	return buf;
}

static void fmt_bytes(char *buf, size_t n, u64 b)
{
	if (b >= SZ_1G && !(b % SZ_1G))
		snprintf(buf, n, "%llu GiB", (unsigned long long)(b >> 30));
	else if (b >= SZ_1M)
		snprintf(buf, n, "%.1f MiB", (double)b / SZ_1M);
	else if (b >= 1024)
		snprintf(buf, n, "%.1f KiB", (double)b / 1024);
	else
		snprintf(buf, n, "%llu B", (unsigned long long)b);
}

static void fmt_ts(char *buf, size_t n, u64 ns)
{
	snprintf(buf, n, "%llu.%06llu", (unsigned long long)(ns / 1000000000ULL),
		 (unsigned long long)(ns % 1000000000ULL / 1000));
}

/* ---- Text ---- */

static void print_finding_text(const struct ih_trace_finding *f, bool lazy)
{
	char a[32], b[32];

	printf("  line %llu: %s: %s", (unsigned long long)f->line, ih_trace_finding_name(f->kind),
	       f->device);
	switch (f->kind) {
	case IH_TRACE_FIND_ACCESS_AFTER_UNMAP:
		/* Signed: a record merged from another CPU's buffer may carry an older stamp. */
		printf(" %s at 0x%llx, %.3f ms after the unmap at line %llu of [0x%llx, +0x%llx);"
		       " the IOMMU %s it%s",
		       f->write ? "write" : "read", (unsigned long long)f->iova,
		       (double)(int64_t)(f->ts_ns - f->other_ts_ns) / 1e6,
		       (unsigned long long)f->other_line, (unsigned long long)f->other_iova,
		       (unsigned long long)f->other_size, f->translated ? "let through" : "faulted",
		       f->tlb_hit ? " (stale IOTLB entry)" : "");
		if (lazy)
			printf(" in this lazy replay\n");
		else if (f->lazy_window)
			printf("; inside the lazy flush window: in lazy mode an IOTLB entry filled "
			       "before the unmap would have let it through\n");
		else
			printf("; after the lazy flush window: lazy mode would fault too\n");
		return;
	case IH_TRACE_FIND_ACCESS_UNMAPPED:
		printf(" %s at 0x%llx, an IOVA the trace never mapped; the IOMMU %s it\n",
		       f->write ? "write" : "read", (unsigned long long)f->iova,
		       f->translated ? "let through" : "faulted");
		return;
	case IH_TRACE_FIND_UNMAP_UNMAPPED:
		printf(" unmap of [0x%llx, +0x%llx) with nothing mapped",
		       (unsigned long long)f->iova, (unsigned long long)f->size);
		if (f->other_line)
			printf(" (already unmapped at line %llu)",
			       (unsigned long long)f->other_line);
		putchar('\n');
		return;
	case IH_TRACE_FIND_UNMAP_SIZE:
		printf(" unmap of [0x%llx, +0x%llx), mapped at line %llu with size 0x%llx\n",
		       (unsigned long long)f->iova, (unsigned long long)f->size,
		       (unsigned long long)f->other_line, (unsigned long long)f->other_size);
		return;
	case IH_TRACE_FIND_MAP_OVER_LIVE:
		printf(
		    " map of [0x%llx, +0x%llx) over the live mapping of line %llu (size 0x%llx)\n",
		    (unsigned long long)f->iova, (unsigned long long)f->size,
		    (unsigned long long)f->other_line, (unsigned long long)f->other_size);
		return;
	case IH_TRACE_FIND_LIVE_AT_END:
		fmt_bytes(a, sizeof(a), f->size);
		printf(" %llu mapping(s), %s, still live at the end; the oldest mapped at this line"
		       " (0x%llx)\n",
		       (unsigned long long)f->count, a, (unsigned long long)f->iova);
		return;
	case IH_TRACE_FIND_MODEL_ERROR:
	default:
		fmt_ts(b, sizeof(b), f->ts_ns);
		if (!f->iova && !f->size) {
			printf(" the backend could not create the device at %s: %s\n", b,
			       strerror(-f->err));
			return;
		}
		printf(" the model refused [0x%llx, +0x%llx) at %s: %s\n",
		       (unsigned long long)f->iova, (unsigned long long)f->size, b,
		       f->err == -EINVAL ? "outside the IOMMU's IOVA aperture (or not "
					   "page-aligned)"
					 : strerror(-f->err));
		return;
	}
}

static void print_text(const struct tr_opts *o, struct ih_trace_replay *rp,
		       const struct ih_trace_stats *ps, u64 wall_ns, unsigned long reports)
{
	struct ih_trace_replay_stats st;
	char a[32], b[32], c[32];
	u64 nf = ih_trace_replay_nfindings(rp);
	size_t kept;

	ih_trace_replay_get_stats(rp, &st);
	printf("%s: %llu lines, %llu records, %llu events (", o->file,
	       (unsigned long long)ps->lines, (unsigned long long)ps->records,
	       (unsigned long long)ps->events);
	for (unsigned int k = 0, sep = 0; k < IH_TRACE_KIND_COUNT; k++)
		if (ps->per_kind[k]) {
			printf("%s%s %llu", sep++ ? ", " : "", ih_trace_kind_name(k),
			       (unsigned long long)ps->per_kind[k]);
		}
	printf("), %llu unknown, %llu skipped, %llu joined, %llu errors\n",
	       (unsigned long long)ps->unknown, (unsigned long long)ps->skipped,
	       (unsigned long long)ps->joined, (unsigned long long)ps->errors);
	fmt_ts(a, sizeof(a), st.first_ts_ns);
	fmt_ts(b, sizeof(b), st.last_ts_ns);
	printf("replay: %s, %s, %s, dma-access %s; trace time %s .. %s\n",
	       ih_trace_hw_kind_name(o->backend), o->lazy ? "lazy" : "strict",
	       o->fast ? "fast (timestamps ignored)" : "clock follows timestamps",
	       o->dma_access ? "on" : "off", a, b);
	printf("        %llu maps and %llu unmaps made, %llu attributed by dma: records, %llu to "
	       "the fallback device, %llu from dma: records alone, %llu forced flushes; "
	       "%.0f events/s; %lu checker reports\n",
	       (unsigned long long)st.applied_maps, (unsigned long long)st.applied_unmaps,
	       (unsigned long long)st.attributed, (unsigned long long)st.fallback,
	       (unsigned long long)st.standalone, (unsigned long long)st.forced_flushes,
	       wall_ns ? (double)st.events * 1e9 / (double)wall_ns : 0.0, reports);
	for (size_t i = 0; i < ih_trace_replay_ndevices(rp); i++) {
		struct ih_trace_dev_summary s;
		unsigned int sep = 0;

		ih_trace_replay_device(rp, i, &s);
		fmt_bytes(a, sizeof(a), s.bytes_mapped);
		fmt_bytes(b, sizeof(b), s.peak_bytes);
		fmt_ts(c, sizeof(c), s.peak_ts_ns);
		printf("device %s (%s): %llu maps, %llu unmaps, %s mapped, peak %s at line %llu "
		       "(%s), %llu live at the end, %llu accesses (%llu faulted)\n",
		       s.name, s.lazy ? "lazy" : "strict", (unsigned long long)s.maps,
		       (unsigned long long)s.unmaps, a, b, (unsigned long long)s.peak_line, c,
		       (unsigned long long)s.live, (unsigned long long)s.accesses,
		       (unsigned long long)s.faults);
		if (s.maps) {
			printf("  sizes:");
			for (unsigned int k = 0; k < IH_TRACE_HIST_BUCKETS; k++)
				if (s.hist[k])
					printf(" %s:%llu", hist_label(k, a, sizeof(a)),
					       (unsigned long long)s.hist[k]);
			putchar('\n');
		}
		for (unsigned int k = 0; k < IH_TRACE_FIND_KIND_COUNT; k++)
			if (s.findings[k])
				printf("%s%s %llu",
				       sep++ ? ", " : "  findings: ", ih_trace_finding_name(k),
				       (unsigned long long)s.findings[k]);
		if (sep)
			putchar('\n');
	}
	if (!nf) {
		printf("no findings\n");
		return;
	}
	printf("findings (%llu):\n", (unsigned long long)nf);
	for (kept = 0; ih_trace_replay_finding(rp, kept); kept++)
		print_finding_text(ih_trace_replay_finding(rp, kept), o->lazy);
	if (kept < nf)
		printf("  ... %llu more not kept\n", (unsigned long long)(nf - kept));
}

/* ---- JSON ---- */

static void print_json(const struct tr_opts *o, struct ih_trace_replay *rp,
		       const struct ih_trace_stats *ps, char errs[][160], unsigned int nerrs,
		       u64 wall_ns, unsigned long reports, int rc)
{
	struct ih_trace_replay_stats st;

	ih_trace_replay_get_stats(rp, &st);
	printf("{\"file\": ");
	ih_tool_json_str(stdout, o->file);
	printf(", \"backend\": \"%s\", \"mode\": \"%s\", \"fast\": %s, \"dma_access\": %s",
	       ih_trace_hw_kind_name(o->backend), o->lazy ? "lazy" : "strict",
	       o->fast ? "true" : "false", o->dma_access ? "true" : "false");
	printf(",\n \"parse\": {\"lines\": %llu, \"records\": %llu, \"events\": %llu, "
	       "\"per_kind\": {",
	       (unsigned long long)ps->lines, (unsigned long long)ps->records,
	       (unsigned long long)ps->events);
	for (unsigned int k = 0; k < IH_TRACE_KIND_COUNT; k++)
		printf("%s\"%s\": %llu", k ? ", " : "", ih_trace_kind_name(k),
		       (unsigned long long)ps->per_kind[k]);
	printf("}, \"unknown\": %llu, \"skipped\": %llu, \"joined\": %llu, \"errors\": %llu, "
	       "\"bytes\": %llu, \"error_messages\": [",
	       (unsigned long long)ps->unknown, (unsigned long long)ps->skipped,
	       (unsigned long long)ps->joined, (unsigned long long)ps->errors,
	       (unsigned long long)ps->bytes);
	for (unsigned int i = 0; i < nerrs; i++) {
		printf("%s", i ? ", " : "");
		ih_tool_json_str(stdout, errs[i]);
	}
	printf("]},\n \"replay\": {\"events\": %llu, \"applied_maps\": %llu, "
	       "\"applied_unmaps\": %llu, \"attributed\": %llu, \"fallback\": %llu, "
	       "\"standalone\": %llu, \"forced_flushes\": %llu, \"ignored\": %llu, "
	       "\"first_ts_ns\": %llu, \"last_ts_ns\": %llu, \"wall_ns\": %llu, "
	       "\"events_per_s\": %.0f, \"checker_reports\": %lu},\n \"devices\": [",
	       (unsigned long long)st.events, (unsigned long long)st.applied_maps,
	       (unsigned long long)st.applied_unmaps, (unsigned long long)st.attributed,
	       (unsigned long long)st.fallback, (unsigned long long)st.standalone,
	       (unsigned long long)st.forced_flushes, (unsigned long long)st.ignored,
	       (unsigned long long)st.first_ts_ns, (unsigned long long)st.last_ts_ns,
	       (unsigned long long)wall_ns,
	       wall_ns ? (double)st.events * 1e9 / (double)wall_ns : 0.0, reports);
	for (size_t i = 0; i < ih_trace_replay_ndevices(rp); i++) {
		struct ih_trace_dev_summary s;
		char lab[16];
		unsigned int sep = 0;

		ih_trace_replay_device(rp, i, &s);
		printf("%s\n  {\"name\": ", i ? "," : "");
		ih_tool_json_str(stdout, s.name);
		printf(", \"lazy\": %s, \"maps\": %llu, \"unmaps\": %llu, \"bytes_mapped\": %llu, "
		       "\"bytes_unmapped\": %llu, \"size_histogram\": {",
		       s.lazy ? "true" : "false", (unsigned long long)s.maps,
		       (unsigned long long)s.unmaps, (unsigned long long)s.bytes_mapped,
		       (unsigned long long)s.bytes_unmapped);
		for (unsigned int k = 0; k < IH_TRACE_HIST_BUCKETS; k++)
			if (s.hist[k])
				printf("%s\"%s\": %llu", sep++ ? ", " : "",
				       hist_label(k, lab, sizeof(lab)),
				       (unsigned long long)s.hist[k]);
		printf(
		    "}, \"peak_bytes\": %llu, \"peak_line\": %llu, \"peak_ts_ns\": %llu, "
		    "\"live\": %llu, \"live_bytes\": %llu, \"accesses\": %llu, \"faults\": %llu, "
		    "\"findings\": {",
		    (unsigned long long)s.peak_bytes, (unsigned long long)s.peak_line,
		    (unsigned long long)s.peak_ts_ns, (unsigned long long)s.live,
		    (unsigned long long)s.live_bytes, (unsigned long long)s.accesses,
		    (unsigned long long)s.faults);
		for (unsigned int k = 0; k < IH_TRACE_FIND_KIND_COUNT; k++)
			printf("%s\"%s\": %llu", k ? ", " : "", ih_trace_finding_name(k),
			       (unsigned long long)s.findings[k]);
		printf("}}");
	}
	printf("],\n \"findings_total\": %llu, \"findings\": [",
	       (unsigned long long)ih_trace_replay_nfindings(rp));
	for (size_t i = 0; ih_trace_replay_finding(rp, i); i++) {
		const struct ih_trace_finding *f = ih_trace_replay_finding(rp, i);

		printf("%s\n  {\"kind\": \"%s\", \"device\": ", i ? "," : "",
		       ih_trace_finding_name(f->kind));
		ih_tool_json_str(stdout, f->device);
		printf(
		    ", \"line\": %llu, \"other_line\": %llu, \"ts_ns\": %llu, "
		    "\"other_ts_ns\": %llu, \"iova\": %llu, \"size\": %llu, \"other_iova\": %llu, "
		    "\"other_size\": %llu, "
		    "\"count\": %llu, \"write\": %s, \"tlb_hit\": %s, \"translated\": %s, "
		    "\"lazy_window\": %s, \"err\": %d}",
		    (unsigned long long)f->line, (unsigned long long)f->other_line,
		    (unsigned long long)f->ts_ns, (unsigned long long)f->other_ts_ns,
		    (unsigned long long)f->iova, (unsigned long long)f->size,
		    (unsigned long long)f->other_iova, (unsigned long long)f->other_size,
		    (unsigned long long)f->count, f->write ? "true" : "false",
		    f->tlb_hit ? "true" : "false", f->translated ? "true" : "false",
		    f->lazy_window ? "true" : "false", f->err);
	}
	printf("],\n \"exit\": %d}\n", rc);
}

/* A document for a run that never replayed (the file cannot be opened, ...). */
static void print_json_error(const struct tr_opts *o, const char *what, int rc)
{
	printf("{\"file\": ");
	ih_tool_json_str(stdout, o->file);
	printf(", \"error\": ");
	ih_tool_json_str(stdout, what);
	printf(", \"exit\": %d}\n", rc);
}

/* ---- Command ---- */

static int parse_opts(int argc, char **argv, struct tr_opts *o)
{
	static const struct option longopts[] = {
	    {"backend", required_argument, NULL, 'b'},
	    {"strict", no_argument, NULL, 's'},
	    {"lazy", no_argument, NULL, 'l'},
	    {"fast", no_argument, NULL, 'f'},
	    {"device", required_argument, NULL, 'd'},
	    {"dma-access", no_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (!strcmp(optarg, "smmuv3"))
				o->backend = IH_TRACE_HW_SMMUV3;
			else if (!strcmp(optarg, "rk"))
				o->backend = IH_TRACE_HW_RK;
			else
				goto bad;
			break;
		case 's':
			o->lazy = false;
			break;
		case 'l':
			o->lazy = true;
			break;
		case 'f':
			o->fast = true;
			break;
		case 'd':
			if (!optarg[0] || strlen(optarg) >= IH_TRACE_NAME_MAX)
				goto bad;
			o->device = optarg;
			break;
		case 'a':
			o->dma_access = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(usage_trace, stdout);
			return -1;
		default:
			goto bad;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "ih trace: one FILE expected\n%s", usage_trace);
		return TR_USAGE;
	}
	o->file = argv[optind];
	return 0;
bad:
	fprintf(stderr, "ih trace: bad option '%s'\n%s", argv[optind - 1], usage_trace);
	return TR_USAGE;
}

int ih_cmd_trace(int argc, char **argv)
{
	static char errs[TR_ERRORS_SHOWN][160];
	struct ih_trace_hw_config hc = {0};
	struct ih_trace_replay_config rc = {0};
	struct ih_trace_reader *rd = NULL;
	struct ih_trace_replay *rp = NULL;
	struct ih_trace_hw *hw = NULL;
	struct ih_trace_event ev;
	struct ih_trace_stats ps;
	struct tr_opts o;
	unsigned int nerrs = 0;
	unsigned long reports;
	FILE *fp;
	u64 t0, wall;
	int ret, rcode;
	size_t leaked;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret < 0 ? TR_CLEAN : ret;
	fp = strcmp(o.file, "-") ? fopen(o.file, "r") : stdin;
	if (!fp) {
		int err = errno;

		fprintf(stderr, "ih trace: %s: %s\n", o.file, strerror(err));
		if (o.json)
			print_json_error(&o, strerror(err), TR_USAGE);
		return TR_USAGE;
	}
	hc.kind = o.backend;
	hc.lazy = o.lazy;
	ret = ih_trace_hw_create(&hc, &hw);
	if (ret) {
		fprintf(stderr, "ih trace: cannot build the %s backend: %s\n",
			ih_trace_hw_kind_name(o.backend), strerror(-ret));
		rcode = TR_INTERNAL;
		if (o.json)
			print_json_error(&o, "cannot build the backend", rcode);
		goto out_close;
	}
	rc.ops = ih_trace_hw_ops();
	rc.opaque = hw;
	rc.device = o.device;
	rc.fast = o.fast;
	rc.dma_access = o.dma_access;
	rd = ih_trace_reader_open_file(fp);
	if (!rd || ih_trace_replay_create(ih_trace_hw_world(hw), &rc, &rp)) {
		fprintf(stderr, "ih trace: out of memory\n");
		rcode = TR_INTERNAL;
		goto out_destroy;
	}
	t0 = now_ns();
	while ((ret = ih_trace_next(rd, &ev)) != 0) {
		if (ret < 0) {
			/* Keep going: one bad record should not hide the rest of the trace. */
			if (nerrs < TR_ERRORS_SHOWN)
				snprintf(errs[nerrs++], sizeof(errs[0]), "%s", ih_trace_error(rd));
			if (!o.json)
				fprintf(stderr, "ih trace: %s: %s\n", o.file, ih_trace_error(rd));
			if (ret == -EIO)
				break;
			continue;
		}
		if (ih_trace_replay_event(rp, &ev)) {
			fprintf(stderr, "ih trace: out of memory at line %llu\n",
				(unsigned long long)ev.line);
			rcode = TR_INTERNAL;
			goto out_destroy;
		}
	}
	if (ih_trace_replay_finish(rp)) {
		fprintf(stderr, "ih trace: out of memory at the end\n");
		rcode = TR_INTERNAL;
		goto out_destroy;
	}
	wall = now_ns() - t0;
	ih_trace_get_stats(rd, &ps);
	reports = ih_report_total(ih_trace_hw_world(hw));
	rcode = ps.errors ? TR_USAGE : ih_trace_replay_nfindings(rp) ? TR_FINDINGS : TR_CLEAN;
	if (o.json)
		print_json(&o, rp, &ps, errs, nerrs, wall, reports, rcode);
	else
		print_text(&o, rp, &ps, wall, reports);
out_destroy:
	ih_trace_replay_destroy(rp);
	ih_trace_reader_close(rd);
	leaked = ih_trace_hw_destroy(hw);
	if (leaked) {
		fprintf(stderr, "ih trace: internal error: the model leaked %zu block(s)\n",
			leaked);
		rcode = TR_INTERNAL;
	}
out_close:
	if (fp != stdin)
		fclose(fp);
	return rcode;
}
