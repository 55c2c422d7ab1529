/* SPDX-License-Identifier: MIT */
/* bench_unmap --trace FILE: a kernel trace's map/unmap sequence replayed as fast as possible. */
#ifndef IH_BENCH_UNMAP_TRACE_H
#define IH_BENCH_UNMAP_TRACE_H

/*
 * Included by bench_unmap.c only, and self-contained: nothing here uses its internals.
 *
 * The trace is parsed once (ih/trace.h) into compact records (the replayable events: up
 * to TB_MAX_EVENTS); each case then builds a fresh backend (hw/board/trace_backend.h:
 * emulated SMMUv3 or Rockchip IOMMU, real driver, checkers off), replays every record with
 * ih_trace_replay_event() in fast mode (timestamps ignored: as fast as possible) and times
 * the replay loop alone. Cases: backend {smmuv3, rk} x mode {strict, lazy}; repetitions
 * alternate the real replay and the floor, the order flipping each time, as the other
 * cases do.
 *
 * The floor: the same map/unmap sequence on a minimal model: a 4-level table of 4K PTEs
 * (tables from a pool, kept), PTE stores on map and clears on unmap; strict: one
 * "invalidate range + sync" (two counted commands) per unmap; lazy: a queue of 256 entries
 * stamped with a flush count, a full queue forcing one invalidate-all + sync. No IOVA
 * allocator (the trace gives the addresses), no attribution, no devices.
 *
 * Output: one JSON line (format json) or a table:
 *   {"bench":"unmap_trace","trace":F,"events":N,"ops":M,"pages":P,"truncated":bool,
 *    "cases":[{"backend":"smmuv3","mode":"lazy","reps":R,
 *      "events_per_s":{"median","min","max"},"ops_per_s":{...},"pages_per_s":{...},
 *      "ns_per_op":{...},"floor_ns_per_op":{...},"ratio_to_floor":{...},
 *      "findings":n,"model_errors":n,"forced_flushes":n}],
 *    "goals":[{"goal":"replay >= 500K events/s lazy, one core","backend":B,"value":v,
 *      "limit":500000,"met":bool}]}
 * ops = map + unmap records (iommu:map/unmap, or dma: records in a trace without them);
 * pages = 4K pages those ops cover. Exit 0, 1 (a case failed), 2 (usage or parse error).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ih/trace.h>
#include <ih/trace_replay.h>

#include "board/trace_backend.h"

#define TB_MAX_EVENTS (4u << 20)
#define TB_MAX_NAMES  256
#define TB_FQ	      256
#define TB_REPS_MAX   32
#define TB_GOAL_EPS   500000.0

static u64 tb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

struct tb_mmm {
	double med, min, max;
};

static int tb_cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct tb_mmm tb_mmm_of(const double *v, unsigned int n)
{
	double s[32];
	struct tb_mmm r = {0, 0, 0};

	if (!n || n > 32)
		return r;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), tb_cmp_d);
	r.min = s[0];
	r.max = s[n - 1];
	r.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	return r;
}

/* One replayable event, compact: expanded into a struct ih_trace_event when replayed. */
struct tb_rec {
	u64 iova, size, paddr, line;
	u32 flags;
	u16 dev; /* index into tb_trace.names, 0xffff: none */
	u8 kind;
	u8 cpu;
	int pid;
};

struct tb_trace {
	struct tb_rec *recs;
	size_t n;
	bool truncated;
	char names[TB_MAX_NAMES][IH_TRACE_NAME_MAX];
	unsigned int nnames;
	u64 ops, pages;
};

static int tb_name(struct tb_trace *t, const char *name)
{
	if (!name[0])
		return 0xffff;
	for (unsigned int i = 0; i < t->nnames; i++)
		if (!strcmp(t->names[i], name))
			return (int)i;
	if (t->nnames == TB_MAX_NAMES)
		return -1;
	snprintf(t->names[t->nnames], IH_TRACE_NAME_MAX, "%s", name);
	return (int)t->nnames++;
}

static int tb_load(const char *path, struct tb_trace *t)
{
	struct ih_trace_reader *rd;
	struct ih_trace_event ev;
	size_t cap = 1024;
	bool any_iommu = false;
	FILE *fp = fopen(path, "r");
	int ret;

	memset(t, 0, sizeof(*t));
	if (!fp) {
		fprintf(stderr, "bench_unmap: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rd = ih_trace_reader_open_file(fp);
	t->recs = malloc(cap * sizeof(*t->recs));
	if (!rd || !t->recs)
		goto err;
	while ((ret = ih_trace_next(rd, &ev)) != 0) {
		struct tb_rec *r;
		int dev;

		if (ret < 0) {
			fprintf(stderr, "bench_unmap: %s: %s\n", path, ih_trace_error(rd));
			goto err;
		}
		if (t->n == TB_MAX_EVENTS) {
			t->truncated = true;
			break;
		}
		dev = tb_name(t, ev.device);
		if (dev < 0) {
			fprintf(stderr, "bench_unmap: %s: more than %d devices\n", path,
				TB_MAX_NAMES);
			goto err;
		}
		if (t->n == cap) {
			struct tb_rec *nr = realloc(t->recs, 2 * cap * sizeof(*t->recs));

			if (!nr)
				goto err;
			t->recs = nr;
			cap *= 2;
		}
		r = &t->recs[t->n++];
		/* iommu:unmap prints no paddr: its slot carries unmapped_size, which the replay
		 * follows (an unmap never takes more than the kernel reported). */
		*r = (struct tb_rec){ev.iova,	  ev.size ? ev.size : ev.iova_end - ev.iova,
				     ev.kind == IH_TRACE_UNMAP ? ev.unmapped_size : ev.paddr,
				     ev.line,
				     ev.flags,	  (u16)dev,
				     (u8)ev.kind, (u8)(ev.cpu & 0xff),
				     ev.pid};
		any_iommu |= ev.kind == IH_TRACE_MAP || ev.kind == IH_TRACE_UNMAP;
	}
	/* Ops: iommu records, or dma: records when the trace has none (as the replay does). */
	for (size_t i = 0; i < t->n; i++) {
		const struct tb_rec *r = &t->recs[i];
		bool op = any_iommu ? r->kind == IH_TRACE_MAP || r->kind == IH_TRACE_UNMAP
				    : r->kind >= IH_TRACE_DMA_MAP && r->kind <= IH_TRACE_DMA_FREE &&
					  r->size;

		if (op) {
			t->ops++;
			t->pages += (r->size + SZ_4K - 1) / SZ_4K;
		}
	}
	ih_trace_reader_close(rd);
	fclose(fp);
	return 0;
err:
	ih_trace_reader_close(rd);
	fclose(fp);
	free(t->recs);
	t->recs = NULL;
	return -1;
}

static void tb_expand(const struct tb_trace *t, const struct tb_rec *r, struct ih_trace_event *e)
{
	e->kind = (enum ih_trace_kind)r->kind;
	e->line = r->line;
	e->cpu = r->cpu;
	e->pid = r->pid;
	e->iova = r->iova;
	e->size = r->size;
	e->iova_end = r->iova + r->size;
	e->paddr = r->kind == IH_TRACE_UNMAP ? 0 : r->paddr;
	e->unmapped_size = r->kind == IH_TRACE_UNMAP ? r->paddr : 0;
	e->flags = r->flags;
	if (r->dev == 0xffff)
		e->device[0] = 0;
	else
		memcpy(e->device, t->names[r->dev], IH_TRACE_NAME_MAX);
}

/* ---- The floor ---- */

struct tb_floor {
	u64 **tables; /* tables[0] is the root */
	size_t ntables, cap;
	struct {
		u64 iova, size, stamp;
	} fq[TB_FQ];
	unsigned int head, tail;
	u64 flush_start, flush_finish;
	u64 cmds; /* commands "issued" (invalidations and syncs) */
	bool lazy, any_iommu;
};

static u64 *tb_fl_table(struct tb_floor *f, u64 *entry)
{
	if (!*entry) {
		if (f->ntables == f->cap) {
			size_t cap = f->cap ? 2 * f->cap : 64;
			u64 **nt = realloc(f->tables, cap * sizeof(*nt));

			if (!nt)
				return NULL;
			f->tables = nt;
			f->cap = cap;
		}
		f->tables[f->ntables] = calloc(512, sizeof(u64));
		if (!f->tables[f->ntables])
			return NULL;
		*entry = ((u64)f->ntables++ << 12) | 3;
	}
	return f->tables[*entry >> 12];
}

static u64 *tb_fl_pte(struct tb_floor *f, u64 iova)
{
	u64 *t = f->tables[0];

	for (unsigned int lvl = 0; lvl < 3 && t; lvl++)
		t = tb_fl_table(f, &t[(iova >> (39 - 9 * lvl)) & 511]);
	return t ? &t[(iova >> 12) & 511] : NULL;
}

static int tb_fl_init(struct tb_floor *f, bool lazy)
{
	memset(f, 0, sizeof(*f));
	f->lazy = lazy;
	f->cap = 64;
	f->tables = calloc(f->cap, sizeof(*f->tables));
	if (!f->tables)
		return -1;
	f->tables[0] = calloc(512, sizeof(u64));
	f->ntables = 1;
	return f->tables[0] ? 0 : -1;
}

static void tb_fl_fini(struct tb_floor *f)
{
	for (size_t i = 0; i < f->ntables; i++)
		free(f->tables[i]);
	free(f->tables);
}

static int tb_fl_op(struct tb_floor *f, const struct tb_rec *r, bool map)
{
	for (u64 a = r->iova & ~(u64)(SZ_4K - 1); a < r->iova + r->size; a += SZ_4K) {
		u64 *pte = tb_fl_pte(f, a & ((1ULL << 48) - 1));

		if (!pte)
			return -1;
		__atomic_store_n(pte, map ? (r->paddr + (a - r->iova)) | 3 : 0,
				 map ? __ATOMIC_RELEASE : __ATOMIC_RELAXED);
	}
	if (map)
		return 0;
	if (!f->lazy) {
		f->cmds += 2; /* invalidate the range, sync */
		return 0;
	}
	while (f->head != f->tail && f->fq[f->head].stamp < f->flush_finish)
		f->head = (f->head + 1) % TB_FQ;
	if ((f->tail + 1) % TB_FQ == f->head) {
		f->flush_start++;
		f->cmds += 2; /* invalidate all, sync */
		f->flush_finish++;
		f->head = f->tail;
	}
	f->fq[f->tail].iova = r->iova;
	f->fq[f->tail].size = r->size;
	f->fq[f->tail].stamp = f->flush_start;
	f->tail = (f->tail + 1) % TB_FQ;
	return 0;
}

static int tb_floor_run(const struct tb_trace *t, struct tb_floor *f)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct tb_rec *r = &t->recs[i];
		enum ih_trace_kind k = (enum ih_trace_kind)r->kind;
		bool map;

		if (f->any_iommu && k != IH_TRACE_MAP && k != IH_TRACE_UNMAP)
			continue;
		if (!f->any_iommu && !(k >= IH_TRACE_DMA_MAP && k <= IH_TRACE_DMA_FREE && r->size))
			continue;
		map = k == IH_TRACE_MAP || k == IH_TRACE_DMA_MAP || k == IH_TRACE_DMA_MAP_SG ||
		      k == IH_TRACE_DMA_ALLOC;
		if (tb_fl_op(f, r, map))
			return -1;
	}
	return 0;
}

/* ---- The real replay ---- */

struct tb_result {
	u64 wall_ns;
	u64 findings, model_errors, forced_flushes;
};

static int tb_real_run(const struct tb_trace *t, enum ih_trace_hw_kind kind, bool lazy,
		       struct tb_result *res)
{
	struct ih_trace_hw_config hc = {.kind = kind, .lazy = lazy, .checkers_off = true};
	struct ih_trace_replay_config rc = {.ops = ih_trace_hw_ops(), .fast = true};
	struct ih_trace_replay_stats st;
	struct ih_trace_replay *rp;
	struct ih_trace_hw *hw;
	struct ih_trace_event e;
	u64 t0;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	memset(&e, 0, sizeof(e));
	e.group_id = -1;
	if (ih_trace_hw_create(&hc, &hw))
		return -1;
	rc.opaque = hw;
	if (ih_trace_replay_create(ih_trace_hw_world(hw), &rc, &rp)) {
		ih_trace_hw_destroy(hw);
		return -1;
	}
	t0 = tb_now_ns();
	for (size_t i = 0; i < t->n && !ret; i++) {
		tb_expand(t, &t->recs[i], &e);
		ret = ih_trace_replay_event(rp, &e);
	}
	if (!ret)
		ret = ih_trace_replay_finish(rp);
	res->wall_ns = tb_now_ns() - t0;
	ih_trace_replay_get_stats(rp, &st);
	res->findings = ih_trace_replay_nfindings(rp);
	res->model_errors = st.findings[IH_TRACE_FIND_MODEL_ERROR];
	res->forced_flushes = st.forced_flushes;
	ih_trace_replay_destroy(rp);
	if (ih_trace_hw_destroy(hw)) {
		fprintf(stderr, "bench_unmap: the trace replay leaked model memory\n");
		ret = -1;
	}
	return ret ? -1 : 0;
}

/* ---- The case ---- */

struct tb_case {
	bool ran;
	unsigned int nreps;
	double eps[TB_REPS_MAX], ops[TB_REPS_MAX], pps[TB_REPS_MAX];
	double ns_op[TB_REPS_MAX], floor_ns_op[TB_REPS_MAX], ratio[TB_REPS_MAX];
	struct tb_result last;
};

static void tb_json_mmm(const char *name, const double *v, unsigned int n, const char *fmt)
{
	struct tb_mmm m = tb_mmm_of(v, n);

	printf("\"%s\":{\"median\":", name);
	printf(fmt, m.med);
	printf(",\"min\":");
	printf(fmt, m.min);
	printf(",\"max\":");
	printf(fmt, m.max);
	printf("}");
}

static int bench_unmap_trace_main(int argc, char **argv)
{
	static const char *const kinds[2] = {"smmuv3", "rk"};
	static struct tb_case cases[2][2];
	const char *path = NULL, *format = "json";
	unsigned int reps = 5, be_mask = 3;
	struct tb_trace t;
	bool any_iommu = false;
	int fail = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--trace") && v) {
			path = v;
			i++;
		} else if (!strcmp(a, "--smoke")) {
			reps = 1;
		} else if (!strcmp(a, "--reps") && v) {
			reps = (unsigned int)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--format") && v) {
			format = v;
			i++;
		} else if (!strcmp(a, "--backends") && v) {
			be_mask = (strstr(v, "smmuv3") ? 1u : 0u) | (strstr(v, "rk") ? 2u : 0u);
			i++;
		} else {
			fprintf(
			    stderr,
			    "usage: %s --trace FILE [--smoke] [--reps R] [--format json|table]\n"
			    "       [--backends smmuv3,rk]\n",
			    argv[0]);
			return 2;
		}
	}
	if (!path || !reps || reps > TB_REPS_MAX || !be_mask ||
	    (strcmp(format, "json") && strcmp(format, "table")))
		return 2;
	if (tb_load(path, &t))
		return 2;
	for (size_t i = 0; i < t.n; i++)
		any_iommu |= t.recs[i].kind == IH_TRACE_MAP || t.recs[i].kind == IH_TRACE_UNMAP;
	for (unsigned int be = 0; be < 2; be++) {
		if (!(be_mask & (1u << be)))
			continue;
		for (unsigned int m = 0; m < 2; m++) {
			struct tb_case *c = &cases[be][m];
			struct tb_floor fl;

			if (tb_fl_init(&fl, m) < 0) {
				fail = 1;
				continue;
			}
			fl.any_iommu = any_iommu;
			/* Warm-up: the floor's tables are built once, then only PTEs change. */
			if (tb_floor_run(&t, &fl)) {
				tb_fl_fini(&fl);
				fail = 1;
				continue;
			}
			for (unsigned int r = 0; r < reps; r++) {
				struct tb_result res;
				u64 f0, fns = 0;
				int ret = 0;

				for (unsigned int side = 0; side < 2; side++) {
					if ((side ^ (r & 1)) == 0) {
						ret |= tb_real_run(
						    &t, be ? IH_TRACE_HW_RK : IH_TRACE_HW_SMMUV3, m,
						    &res);
					} else {
						f0 = tb_now_ns();
						ret |= tb_floor_run(&t, &fl);
						fns = tb_now_ns() - f0;
					}
				}
				if (ret || !res.wall_ns) {
					fail = 1;
					break;
				}
				c->eps[r] = (double)t.n * 1e9 / (double)res.wall_ns;
				c->ops[r] = (double)t.ops * 1e9 / (double)res.wall_ns;
				c->pps[r] = (double)t.pages * 1e9 / (double)res.wall_ns;
				c->ns_op[r] = t.ops ? (double)res.wall_ns / (double)t.ops : 0;
				c->floor_ns_op[r] = t.ops ? (double)fns / (double)t.ops : 0;
				c->ratio[r] = fns ? (double)res.wall_ns / (double)fns : 0;
				c->last = res;
				c->nreps = r + 1;
				c->ran = true;
			}
			tb_fl_fini(&fl);
		}
	}
	if (!strcmp(format, "table")) {
		printf("trace %s: %zu events%s, %llu map/unmap ops, %llu pages\n", path, t.n,
		       t.truncated ? " (truncated)" : "", (unsigned long long)t.ops,
		       (unsigned long long)t.pages);
		printf("%-7s %-6s %4s %12s %12s %12s %10s %12s %8s %8s\n", "backend", "mode",
		       "reps", "events/s", "ops/s", "pages/s", "ns/op", "floor ns/op", "ratio",
		       "findings");
		for (unsigned int be = 0; be < 2; be++)
			for (unsigned int m = 0; m < 2; m++) {
				struct tb_case *c = &cases[be][m];

				if (!c->ran)
					continue;
				printf("%-7s %-6s %4u %12.0f %12.0f %12.0f %10.1f %12.1f %8.2f "
				       "%8llu\n",
				       kinds[be], m ? "lazy" : "strict", c->nreps,
				       tb_mmm_of(c->eps, c->nreps).med,
				       tb_mmm_of(c->ops, c->nreps).med,
				       tb_mmm_of(c->pps, c->nreps).med,
				       tb_mmm_of(c->ns_op, c->nreps).med,
				       tb_mmm_of(c->floor_ns_op, c->nreps).med,
				       tb_mmm_of(c->ratio, c->nreps).med,
				       (unsigned long long)c->last.findings);
			}
	} else {
		const char *sep = "";

		printf("{\"bench\":\"unmap_trace\",\"trace\":\"%s\",\"events\":%zu,\"ops\":%llu,"
		       "\"pages\":%llu,\"truncated\":%s,\"cases\":[",
		       path, t.n, (unsigned long long)t.ops, (unsigned long long)t.pages,
		       t.truncated ? "true" : "false");
		for (unsigned int be = 0; be < 2; be++)
			for (unsigned int m = 0; m < 2; m++) {
				struct tb_case *c = &cases[be][m];

				if (!c->ran)
					continue;
				printf("%s{\"backend\":\"%s\",\"mode\":\"%s\",\"reps\":%u,", sep,
				       kinds[be], m ? "lazy" : "strict", c->nreps);
				tb_json_mmm("events_per_s", c->eps, c->nreps, "%.0f");
				putchar(',');
				tb_json_mmm("ops_per_s", c->ops, c->nreps, "%.0f");
				putchar(',');
				tb_json_mmm("pages_per_s", c->pps, c->nreps, "%.0f");
				putchar(',');
				tb_json_mmm("ns_per_op", c->ns_op, c->nreps, "%.1f");
				putchar(',');
				tb_json_mmm("floor_ns_per_op", c->floor_ns_op, c->nreps, "%.1f");
				putchar(',');
				tb_json_mmm("ratio_to_floor", c->ratio, c->nreps, "%.2f");
				printf(",\"findings\":%llu,\"model_errors\":%llu,"
				       "\"forced_flushes\":%llu}",
				       (unsigned long long)c->last.findings,
				       (unsigned long long)c->last.model_errors,
				       (unsigned long long)c->last.forced_flushes);
				sep = ",";
			}
		printf("],\"goals\":[");
		sep = "";
		for (unsigned int be = 0; be < 2; be++) {
			struct tb_case *c = &cases[be][1];
			double v = c->ran ? tb_mmm_of(c->eps, c->nreps).med : 0;

			if (!(be_mask & (1u << be)))
				continue;
			printf("%s{\"goal\":\"replay >= 500K events/s lazy, one core\","
			       "\"backend\":\"%s\",\"ran\":%s,\"value\":%.0f,\"limit\":%.0f,"
			       "\"met\":%s}",
			       sep, kinds[be], c->ran ? "true" : "false", v, TB_GOAL_EPS,
			       c->ran && v >= TB_GOAL_EPS ? "true" : "false");
			sep = ",";
		}
		printf("]}\n");
	}
	free(t.recs);
	return fail;
}

#endif /* IH_BENCH_UNMAP_TRACE_H */
