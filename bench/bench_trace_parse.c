// SPDX-License-Identifier: MIT
/*
 * Benchmark: the streaming trace parser (core/trace/parse.c) on one core.
 *   mem    a synthetic tracefs trace built here in memory (NVMe-like: iommu map +
 *          dma_map_page, iommu unmap + dma_unmap_page, 4 KiB on 4 CPUs, a few unknown
 *          sched events and one dma_map_sg of 4 segments per 64 records), read by a memory
 *          reader;
 *   file   the same bytes through a FILE (fmemopen) reader, by chunks;
 *   FILE   with a path argument: that file, streamed (nothing else is measured).
 * Each case runs once to warm up, then --reps times interleaved (mem, file, mem, ...);
 * rates are lines/s and events/s of the median rep (min and max given too), from wall time
 * and from CPU time (lines_per_cpu_s: the per-core rate on a shared machine).
 * CLI: bench_trace_parse [--smoke] [--lines N] [--reps R] [FILE]
 * Output: one JSON line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ih/trace.h>

static u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static u64 rng_next(u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Append one record line to @buf at *@len (the buffer was sized for the worst case). */
static void rec(char *buf, size_t *len, u64 ts_us, const char *comm, int pid, int cpu,
		const char *flags, const char *event, const char *text)
{
	*len += (size_t)sprintf(buf + *len, "%16s-%-7d [%03d] %s %5llu.%06llu: %s: %s\n", comm,
				pid, cpu, flags, (unsigned long long)(ts_us / 1000000),
				(unsigned long long)(ts_us % 1000000), event, text);
}

#define LINE_MAX_BYTES 320

static char *build_trace(u64 lines, size_t *out_len)
{
	char *buf = malloc((size_t)lines * LINE_MAX_BYTES + 256), text[256];
	u64 seed = 0x9e3779b97f4a7c15ull, ts = 1500000, live[64];
	unsigned int nlive = 0;
	size_t len = 0;
	u64 n = 0;

	if (!buf)
		return NULL;
	len += (size_t)sprintf(buf, "# tracer: nop\n#\n");
	while (n < lines) {
		u64 r = rng_next(&seed);
		int cpu = (int)(r & 3);
		char comm[16];

		ts += 1 + (r >> 8) % 30;
		if (n % 64 == 63) {
			rec(buf, &len, ts, "kworker/0:1", 40, cpu, "d..2.", "sched_switch",
			    "prev_comm=kworker/0:1 prev_pid=40 prev_prio=120 prev_state=I ==> "
			    "next_comm=swapper/0 next_pid=0 next_prio=120");
			n++;
			continue;
		}
		if (n % 64 == 31) {
			rec(buf, &len, ts, "fio", 2000 + cpu, cpu, "...1.", "dma_map_sg",
			    "0000:01:00.0 dir=TO_DEVICE nents=4/4 ents=4/4 dma_addrs={0x10000,"
			    "0x11000,0x12000,0x13000} sizes={0x1000,0x1000,0x1000,0x1000} "
			    "phys_addrs={0x1000,0x2000,0x3000,0x4000} attrs=");
			n++;
			continue;
		}
		if (nlive < 64 && (nlive == 0 || (r >> 40) % 2)) {
			u64 iova = 0xfff00000ull - (u64)nlive * 4096;
			u64 pa = ((r >> 20) & 0xfffff) << 12;

			snprintf(comm, sizeof(comm), "fio");
			snprintf(text, sizeof(text),
				 "IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=4096",
				 (unsigned long long)iova, (unsigned long long)iova + 4096,
				 (unsigned long long)pa);
			rec(buf, &len, ts, comm, 2000 + cpu, cpu, "...1.", "map", text);
			snprintf(text, sizeof(text),
				 "0000:01:00.0 dir=FROM_DEVICE dma_addr=%llx size=4096 phys_addr=%llx "
				 "attrs=",
				 (unsigned long long)iova, (unsigned long long)pa);
			rec(buf, &len, ts, comm, 2000 + cpu, cpu, "...1.", "dma_map_page", text);
			live[nlive++] = iova;
		} else {
			u64 iova = live[--nlive];

			snprintf(text, sizeof(text),
				 "IOMMU: iova=0x%016llx - 0x%016llx size=4096 unmapped_size=4096",
				 (unsigned long long)iova, (unsigned long long)iova + 4096);
			rec(buf, &len, ts, "irq/57-nvme0q1", 600 + cpu, cpu, "d.h1.", "unmap", text);
			snprintf(text, sizeof(text),
				 "0000:01:00.0 dir=FROM_DEVICE dma_addr=%llx size=4096 attrs=",
				 (unsigned long long)iova);
			rec(buf, &len, ts, "irq/57-nvme0q1", 600 + cpu, cpu, "d.h1.", "dma_unmap_page",
			    text);
		}
		n += 2;
	}
	*out_len = len;
	return buf;
}

/* ns: wall time; cpu_ns: this process's CPU time (the machine is shared and noisy). */
struct sample {
	u64 ns, cpu_ns, lines, events, bytes, errors;
};

static int run_reader(struct ih_trace_reader *r, struct sample *s)
{
	struct ih_trace_event ev;
	struct ih_trace_stats st;
	u64 t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	int ret;

	while ((ret = ih_trace_next(r, &ev)) != 0) {
		if (ret == -EIO) {
			fprintf(stderr, "bench_trace_parse: %s\n", ih_trace_error(r));
			return -1;
		}
	}
	s->ns = clock_ns(CLOCK_MONOTONIC) - t0;
	s->cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	ih_trace_get_stats(r, &st);
	s->lines = st.lines;
	s->events = st.events;
	s->bytes = st.bytes;
	s->errors = st.errors;
	return 0;
}

static int run_mem(const char *buf, size_t len, struct sample *s)
{
	struct ih_trace_reader *r = ih_trace_reader_open_mem(buf, len);
	int ret;

	if (!r)
		return -1;
	ret = run_reader(r, s);
	ih_trace_reader_close(r);
	return ret;
}

static int run_fp(FILE *fp, struct sample *s)
{
	struct ih_trace_reader *r = ih_trace_reader_open_file(fp);
	int ret;

	if (!r)
		return -1;
	ret = run_reader(r, s);
	ih_trace_reader_close(r);
	return ret;
}

static int run_fmem(char *buf, size_t len, struct sample *s)
{
	FILE *fp = fmemopen(buf, len, "r");
	int ret;

	if (!fp)
		return -1;
	ret = run_fp(fp, s);
	fclose(fp);
	return ret;
}

static int run_path(const char *path, struct sample *s)
{
	FILE *fp = fopen(path, "r");
	int ret;

	if (!fp) {
		perror(path);
		return -1;
	}
	ret = run_fp(fp, s);
	fclose(fp);
	return ret;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median, min and max wall ns over @n samples and the rates of the median; the same rates
 * from the median CPU time (what one core does when the machine is shared).
 */
static void report(const char *name, struct sample *s, unsigned int n, bool last)
{
	u64 ns[64], cpu[64];
	double sec, csec;

	for (unsigned int i = 0; i < n; i++) {
		ns[i] = s[i].ns ? s[i].ns : 1;
		cpu[i] = s[i].cpu_ns ? s[i].cpu_ns : 1;
	}
	qsort(ns, n, sizeof(ns[0]), cmp_u64);
	qsort(cpu, n, sizeof(cpu[0]), cmp_u64);
	sec = (double)ns[n / 2] / 1e9;
	csec = (double)cpu[n / 2] / 1e9;
	printf("\"%s\":{\"lines\":%llu,\"events\":%llu,\"bytes\":%llu,\"errors\":%llu,"
	       "\"median_ns\":%llu,\"min_ns\":%llu,\"max_ns\":%llu,\"lines_per_s\":%.0f,"
	       "\"events_per_s\":%.0f,\"mb_per_s\":%.1f,\"median_cpu_ns\":%llu,"
	       "\"lines_per_cpu_s\":%.0f,\"events_per_cpu_s\":%.0f}%s",
	       name, (unsigned long long)s[0].lines, (unsigned long long)s[0].events,
	       (unsigned long long)s[0].bytes, (unsigned long long)s[0].errors,
	       (unsigned long long)ns[n / 2], (unsigned long long)ns[0],
	       (unsigned long long)ns[n - 1], (double)s[0].lines / sec,
	       (double)s[0].events / sec, (double)s[0].bytes / sec / 1e6,
	       (unsigned long long)cpu[n / 2], (double)s[0].lines / csec,
	       (double)s[0].events / csec, last ? "" : ",");
}

int main(int argc, char **argv)
{
	struct sample mem[64], file[64], warm;
	unsigned int reps = 5;
	u64 lines = 2000000;
	const char *path = NULL;
	bool smoke = false;
	size_t len;
	char *buf;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			smoke = true;
			lines = 20000;
			reps = 1;
		} else if (!strcmp(argv[i], "--lines") && i + 1 < argc) {
			lines = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
			reps = (unsigned int)atoi(argv[++i]);
		} else if (argv[i][0] != '-' && !path) {
			path = argv[i];
		} else {
			fprintf(stderr, "usage: %s [--smoke] [--lines N] [--reps R] [FILE]\n",
				argv[0]);
			return 2;
		}
	}
	if (reps < 1 || reps > 64 || lines < 2) {
		fprintf(stderr, "bench_trace_parse: --reps 1..64, --lines >= 2\n");
		return 2;
	}

	if (path) {
		if (run_path(path, &warm))
			return 1;
		for (unsigned int i = 0; i < reps; i++)
			if (run_path(path, &file[i]))
				return 1;
		printf("{\"bench\":\"trace_parse\",\"input\":\"file\",\"reps\":%u,", reps);
		report("file", file, reps, true);
		printf("}\n");
		return 0;
	}

	buf = build_trace(lines, &len);
	if (!buf) {
		fprintf(stderr, "bench_trace_parse: out of memory\n");
		return 1;
	}
	if (run_mem(buf, len, &warm) || run_fmem(buf, len, &warm))
		goto fail;
	/* the synthetic trace has no error: a parse regression must not look fast */
	if (warm.errors || !warm.events)
		goto fail;
	for (unsigned int i = 0; i < reps; i++) {
		if (run_mem(buf, len, &mem[i]) || run_fmem(buf, len, &file[i]))
			goto fail;
	}
	printf("{\"bench\":\"trace_parse\",\"input\":\"synthetic\",\"smoke\":%s,\"reps\":%u,",
	       smoke ? "true" : "false", reps);
	report("mem", mem, reps, false);
	report("file", file, reps, true);
	printf("}\n");
	free(buf);
	return 0;
fail:
	fprintf(stderr, "bench_trace_parse: parse failed (errors %llu, events %llu)\n",
		(unsigned long long)warm.errors, (unsigned long long)warm.events);
	free(buf);
	return 1;
}
