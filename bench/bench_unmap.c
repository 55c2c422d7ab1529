// SPDX-License-Identifier: MIT
/*
 * Benchmark: map + unmap through the public DMA API (ih_dma_map_page/_sg, unmap), strict
 * (DMA) and lazy (DMA-FQ), against a minimal unmap model (the floor) run in the same
 * process, interleaved, so that every number is a ratio measured side by side.
 *
 * Matrix: backend {SMMUv3 sequential (hardware inline), SMMUv3 concurrent (hardware
 * thread), Rockchip} x mode {strict, lazy} x page {4K, 2M block} x batch {1, 16, 512 pages
 * per unmap call: one page, else one sg list} x threads {1, 2 model CPUs on one device}.
 * Rockchip skips 2M x 16 and 2M x 512: a full flush queue of those does not fit its
 * 32-bit IOVA space. Checkers are off (ih_check_set_enabled(w, 0)).
 *
 * One round of a run: map N batches, then unmap them (N = max(2, 512 / batch)). Even
 * rounds time the unmap phase as a whole (ns per page, no timer in the loop); odd rounds
 * time every unmap call into a log-bucket histogram (bench_hist.h; those times include
 * one clock read, reported as timer_ns). pages_per_s counts map + unmap over the run's
 * wall time, all threads together.
 *
 * The floor: a flat 4-level table per CPU (512-entry tables from a pool, never freed),
 * PTE stores and clears, a LIFO slot allocator for IOVA; strict: one TLBI (range) + sync
 * per unmap call through a command ring, consumed inline (sequential backends) or by a
 * second thread that polls the ring, sleeping when idle (SMMUv3 concurrent); lazy: a per-CPU queue
 * of 256 entries stamped with a flush-started count, a full queue forcing TLBI-by-ASID + sync, as
 * the flush queue does. What the floor leaves out is what the model adds on top.
 *
 * Interleaving (TOOLCHAIN.md, "the machine is shared and noisy"): for each (backend,
 * page, batch), each repetition runs floor and real case back to back (the order flips
 * every repetition) for strict/lazy x 1/2 threads, then a trivial busy loop on 1 and 2
 * threads: the machine's own scaling in that moment. Ratios are taken per repetition;
 * the report gives their median, min and max.
 *
 * CLI: bench_unmap [--smoke | --quick] [--reps R] [--run-ms MS] [--out DIR]
 *                  [--format json|table|both] [--backends LIST] [--sizes LIST]
 *                  [--batches LIST] [--profile BACKEND:MODE:SIZE:BATCH[:THREADS]
 *                  [--seconds S]]
 *   --smoke    every case, one repetition, two rounds per run (seconds; ctest)
 *   --quick    every case, 3 repetitions of ~8 ms runs (scripts/ih demo); table output
 *   --out DIR  also write DIR/bench_unmap.json, .csv, the gnuplot script bench_unmap.gp
 *              and its data files (PNG: run gnuplot in DIR on bench_unmap.gp)
 *   --profile  run one real case (on 1 thread, or THREADS) for --seconds (default 10),
 *              throughput rounds only, for perf
 * Output (stdout): the JSON document on one line (schema: README.md, "Benchmarks"), or a
 * readable table. Exit 0 when every case ran, 1 when one failed, 2 for a usage error.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ih/base.h>
#include <ih/check.h>
#include <ih/dma.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/physmem.h>
#include <ih/world.h>

#include "bench_hist.h"
#include "bench_unmap_trace.h"
#include "lib/rk_board.h"
#include "lib/test_iommu.h"
#include "smmuv3/smmuv3_drv.h"
#include "smmuv3/smmuv3_hw.h"

#define SMMU_MMIO  0x2b400000ULL
#define POOL_BYTES (4 * SZ_1M) /* 2 MiB aligned: 512 4K pages, or two 2M blocks */
#define MAX_REPS   64
#define NTHREADS   2
#define DIR	   IH_DMA_TO_DEVICE

enum backend { BE_SMMU_SEQ, BE_SMMU_CONC, BE_RK, BE_NR };
static const char *const be_name[BE_NR] = {"smmuv3-seq", "smmuv3-conc", "rk"};
static const char *const mode_name[2] = {"strict", "lazy"};
static const size_t sizes[2] = {SZ_4K, SZ_2M};
static const char *const size_name[2] = {"4K", "2M"};
static const unsigned int batches[3] = {1, 16, 512};

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* ---- Options ------------------------------------------------------------------------- */

struct opts {
	unsigned int reps;
	double run_ms;
	unsigned int min_rounds;
	const char *out;
	bool json, table;
	unsigned int be_mask, size_mask, batch_mask;
	const char *profile;
	double seconds;
	bool smoke;
};

/* ---- Statistics over repetitions ------------------------------------------------------ */

struct mmm {
	double med, min, max;
	unsigned int n;
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct mmm mmm_of(const double *v, unsigned int n)
{
	double s[MAX_REPS];
	struct mmm r = {0, 0, 0, n};

	if (!n)
		return r;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_d);
	r.min = s[0];
	r.max = s[n - 1];
	r.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	return r;
}

/* ---- The floor: a minimal unmap model ------------------------------------------------ */

#define FL_PTES	   512
#define FL_FQ_SIZE 256 /* IH_DMA_FQ_PERCPU_SIZE */
#define FL_CMDQ	   1024
#define FL_OP_TLBI 1
#define FL_OP_SYNC 2

/* The command ring one or two CPUs issue to; consumed inline or by a polling thread. */
struct floor {
	bool threaded;
	int qlock; /* test-and-set spinlock over prod and the ring */
	u64 cmds[FL_CMDQ][2];
	u64 prod;		  /* release-published in threaded mode */
	u64 cons;		  /* consumer: release after counting */
	u64 flush_start;	  /* atomic */
	u64 flush_finish;	  /* atomic, release */
	u64 tlbi, syncs, flushes; /* atomic, relaxed */
	int stop;
	int sleeping; /* the consumer is (about to be) blocked on @kick */
	pthread_mutex_t sleep_lock;
	pthread_cond_t kick;
	pthread_t thread;
	bool thread_running;
};

struct fl_fq_entry {
	u32 slot;
	u64 stamp;
};

/* One CPU's part: its own root table and IOVA slots, its flush queue. */
struct floor_cpu {
	u64 *tables; /* ntables x 512 entries; table 0 is the root */
	unsigned int ntables, used;
	unsigned int leaf_lvl; /* 3 for 4K pages, 2 for 2M blocks */
	size_t pgsize;
	unsigned int batch;
	u64 slot_bytes;
	unsigned int nslots;
	u32 *free;
	unsigned int nfree;
	struct fl_fq_entry fq[FL_FQ_SIZE];
	unsigned int head, tail;
	u32 *live; /* slots mapped in the current round */
};

static void fl_lock(struct floor *fl)
{
	while (__atomic_exchange_n(&fl->qlock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&fl->qlock, __ATOMIC_RELAXED))
			cpu_relax();
}

static void fl_unlock(struct floor *fl)
{
	__atomic_store_n(&fl->qlock, 0, __ATOMIC_RELEASE);
}

static void fl_consume(struct floor *fl, u64 from, u64 to)
{
	u64 t = 0, s = 0;

	for (u64 i = from; i < to; i++) {
		if (fl->cmds[i % FL_CMDQ][0] == FL_OP_SYNC)
			s++;
		else
			t++;
	}
	__atomic_fetch_add(&fl->tlbi, t, __ATOMIC_RELAXED);
	__atomic_fetch_add(&fl->syncs, s, __ATOMIC_RELAXED);
}

/*
 * The second thread: poll the ring for a while, then sleep until a producer kicks it (as
 * the emulated SMMU's hardware thread does, and as anything must on a shared machine: a
 * thread that only spins or yields loses its core to whoever else is runnable). The
 * sleeping flag and prod form a Dekker pair (both sequentially consistent): a producer
 * that published after our last look sees the flag and kicks under the lock.
 */
static void *fl_consumer(void *arg)
{
	struct floor *fl = arg;
	u64 c = __atomic_load_n(&fl->cons, __ATOMIC_RELAXED);
	unsigned int idle = 0;

	while (!__atomic_load_n(&fl->stop, __ATOMIC_ACQUIRE)) {
		u64 p = __atomic_load_n(&fl->prod, __ATOMIC_ACQUIRE);

		if (p == c) {
			if (++idle < 64) {
				cpu_relax();
				continue;
			}
			pthread_mutex_lock(&fl->sleep_lock);
			__atomic_store_n(&fl->sleeping, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&fl->prod, __ATOMIC_SEQ_CST) == c &&
			    !__atomic_load_n(&fl->stop, __ATOMIC_SEQ_CST))
				pthread_cond_wait(&fl->kick, &fl->sleep_lock);
			__atomic_store_n(&fl->sleeping, 0, __ATOMIC_RELAXED);
			pthread_mutex_unlock(&fl->sleep_lock);
			idle = 0;
			continue;
		}
		idle = 0;
		fl_consume(fl, c, p);
		c = p;
		__atomic_store_n(&fl->cons, c, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void fl_kick(struct floor *fl)
{
	if (!__atomic_load_n(&fl->sleeping, __ATOMIC_SEQ_CST))
		return;
	pthread_mutex_lock(&fl->sleep_lock);
	pthread_cond_signal(&fl->kick);
	pthread_mutex_unlock(&fl->sleep_lock);
}

/* Issue one TLBI (range or ASID) and a sync; return once the sync has been consumed. */
static void fl_issue_sync(struct floor *fl, u64 op_arg)
{
	u64 mine;

	fl_lock(fl);
	fl->cmds[fl->prod % FL_CMDQ][0] = FL_OP_TLBI;
	fl->cmds[fl->prod % FL_CMDQ][1] = op_arg;
	fl->cmds[(fl->prod + 1) % FL_CMDQ][0] = FL_OP_SYNC;
	fl->cmds[(fl->prod + 1) % FL_CMDQ][1] = 0;
	mine = fl->prod + 2;
	if (!fl->threaded) {
		fl_consume(fl, fl->prod, mine);
		fl->prod = mine;
		fl->cons = mine;
		fl_unlock(fl);
		return;
	}
	__atomic_store_n(&fl->prod, mine, __ATOMIC_SEQ_CST);
	fl_unlock(fl);
	fl_kick(fl);
	/* Poll for the sync as a driver does: spin a little, then give the core away. */
	for (unsigned int i = 0; __atomic_load_n(&fl->cons, __ATOMIC_ACQUIRE) < mine; i++) {
		if (i > 16)
			sched_yield();
		else
			cpu_relax();
	}
}

static int fl_start(struct floor *fl)
{
	if (!fl->threaded)
		return 0;
	__atomic_store_n(&fl->stop, 0, __ATOMIC_RELAXED);
	if (pthread_create(&fl->thread, NULL, fl_consumer, fl))
		return -1;
	fl->thread_running = true;
	return 0;
}

static void fl_stop(struct floor *fl)
{
	if (!fl->thread_running)
		return;
	__atomic_store_n(&fl->stop, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&fl->sleep_lock);
	pthread_cond_signal(&fl->kick);
	pthread_mutex_unlock(&fl->sleep_lock);
	pthread_join(fl->thread, NULL);
	fl->thread_running = false;
}

static int fl_cpu_init(struct floor_cpu *c, size_t pgsize, unsigned int batch, unsigned int nper)
{
	u64 span;

	memset(c, 0, sizeof(*c));
	c->pgsize = pgsize;
	c->batch = batch;
	c->leaf_lvl = pgsize == SZ_4K ? 3 : 2;
	c->slot_bytes = (u64)pgsize * batch;
	c->nslots = nper + FL_FQ_SIZE + 2;
	span = c->slot_bytes * c->nslots;
	/* Tables a span needs at each level, plus one for a misaligned end, plus the root. */
	c->ntables = 1 + (unsigned int)((span >> 39) + 2) + (unsigned int)((span >> 30) + 2) +
		     (c->leaf_lvl == 3 ? (unsigned int)((span >> 21) + 2) : 0);
	c->tables = calloc((size_t)c->ntables * FL_PTES, sizeof(u64));
	c->free = calloc(c->nslots, sizeof(u32));
	c->live = calloc(nper, sizeof(u32));
	if (!c->tables || !c->free || !c->live)
		return -1;
	c->used = 1;
	for (unsigned int i = 0; i < c->nslots; i++)
		c->free[c->nfree++] = c->nslots - 1 - i;
	return 0;
}

static void fl_cpu_fini(struct floor_cpu *c)
{
	free(c->tables);
	free(c->free);
	free(c->live);
	memset(c, 0, sizeof(*c));
}

/* The leaf entry for @iova, creating tables on the way when @create. */
static u64 *fl_leaf(struct floor_cpu *c, u64 iova, bool create)
{
	u64 *t = c->tables;

	for (unsigned int lvl = 0; lvl < c->leaf_lvl; lvl++) {
		u64 *e = &t[(iova >> (39 - 9 * lvl)) & (FL_PTES - 1)];
		u64 v = *e;

		if (!v) {
			if (!create || c->used == c->ntables)
				return NULL;
			v = ((u64)c->used++ << 12) | 3;
			*e = v;
		}
		t = c->tables + (v >> 12) * FL_PTES;
	}
	return &t[(iova >> (39 - 9 * c->leaf_lvl)) & (FL_PTES - 1)];
}

static int fl_map(struct floor_cpu *c, u32 *slot, ih_pa_t pa0)
{
	u64 iova;

	if (!c->nfree)
		return -ENOSPC;
	*slot = c->free[--c->nfree];
	iova = (u64)*slot * c->slot_bytes;
	for (unsigned int j = 0; j < c->batch; j++) {
		u64 *pte = fl_leaf(c, iova + (u64)j * c->pgsize, true);

		if (!pte)
			return -ENOMEM;
		__atomic_store_n(pte, (pa0 + (u64)j * c->pgsize) | (c->leaf_lvl == 3 ? 3 : 1),
				 __ATOMIC_RELEASE);
	}
	return 0;
}

static void fl_reclaim(struct floor_cpu *c, u64 finished)
{
	while (c->head != c->tail && c->fq[c->head].stamp < finished) {
		c->free[c->nfree++] = c->fq[c->head].slot;
		c->head = (c->head + 1) % FL_FQ_SIZE;
	}
}

static void fl_unmap(struct floor *fl, struct floor_cpu *c, u32 slot, bool lazy)
{
	u64 iova = (u64)slot * c->slot_bytes;

	for (unsigned int j = 0; j < c->batch; j++) {
		u64 *pte = fl_leaf(c, iova + (u64)j * c->pgsize, false);

		if (pte)
			__atomic_store_n(pte, 0, __ATOMIC_RELAXED);
	}
	if (!lazy) {
		fl_issue_sync(fl, iova | 1);
		c->free[c->nfree++] = slot;
		return;
	}
	fl_reclaim(c, __atomic_load_n(&fl->flush_finish, __ATOMIC_ACQUIRE));
	if ((c->tail + 1) % FL_FQ_SIZE == c->head) {
		u64 own = __atomic_add_fetch(&fl->flush_start, 1, __ATOMIC_SEQ_CST);

		fl_issue_sync(fl, 0); /* TLBI by ASID */
		__atomic_fetch_add(&fl->flush_finish, 1, __ATOMIC_RELEASE);
		__atomic_fetch_add(&fl->flushes, 1, __ATOMIC_RELAXED);
		fl_reclaim(c, own);
	}
	c->fq[c->tail].slot = slot;
	c->fq[c->tail].stamp = __atomic_load_n(&fl->flush_start, __ATOMIC_SEQ_CST);
	c->tail = (c->tail + 1) % FL_FQ_SIZE;
}

/* ---- Rigs: one world, one IOMMU, one bound client device, strict or lazy -------------- */

struct counters {
	u64 tlbi, syncs, flushes;
};

struct rig {
	enum backend be;
	bool lazy;
	struct ih_world *w;
	struct ih_smmuv3_hw *hw;
	struct ih_smmuv3 *smmu;
	char fwnode;
	struct tfw fw;
	struct tfw_entry ent;
	struct tdriver drv;
	bool drv_registered;
	struct rkb rkb;
	bool rkb_up;
	struct ih_device *dev;
	struct ih_iommu_domain *dom;
	ih_pa_t pool;
};

static struct ih_world *rig_world(enum backend be)
{
	struct ih_world_config wc;
	struct ih_world *w;

	ih_world_config_init(&wc);
	wc.mode = be == BE_SMMU_CONC ? IH_EXEC_CONCURRENT : IH_EXEC_SEQUENTIAL;
	wc.clock = be == BE_SMMU_CONC ? IH_CLOCK_REAL : IH_CLOCK_VIRTUAL;
	wc.ncpus = NTHREADS;
	wc.physmem_size = 64 * SZ_1M;
	wc.log = "none";
	return ih_world_create(&wc, &w) ? NULL : w;
}

static void rig_down(struct rig *r)
{
	size_t leaked;

	if (!r->w)
		return;
	if (r->pool && r->pool != IH_PA_INVALID)
		ih_pm_free(r->w, r->pool, POOL_BYTES);
	if (r->rkb_up) {
		rkb_fini(&r->rkb);
	} else {
		if (r->dev)
			ih_device_unregister(r->dev);
		if (r->drv_registered)
			ih_driver_unregister(r->w, &r->drv.drv);
		if (r->smmu)
			ih_smmuv3_remove(r->smmu);
		if (r->hw)
			ih_smmuv3_hw_destroy(r->hw);
		ih_iommu_set_fw_provider(r->w, NULL, NULL);
	}
	leaked = ih_world_destroy(r->w);
	if (leaked)
		fprintf(stderr, "bench_unmap: %s/%s world leaked %zu block(s)\n", be_name[r->be],
			mode_name[r->lazy], leaked);
	memset(r, 0, sizeof(*r));
}

static int rig_up(struct rig *r, enum backend be, bool lazy)
{
	memset(r, 0, sizeof(*r));
	r->be = be;
	r->lazy = lazy;
	r->w = rig_world(be);
	if (!r->w)
		return -1;
	ih_check_set_enabled(r->w, 0);
	/*
	 * The Rockchip driver allocates DMA domains only (upstream it does not advertise
	 * deferred flushing either): its lazy rig builds the flush queue on the strict domain
	 * before any DMA, with the DMA layer's own strict-to-lazy step (ih_dma_init_fq()).
	 */
	if (ih_iommu_set_default_domain_type(r->w, lazy && be != BE_RK ? IH_DOMAIN_DMA_FQ
								       : IH_DOMAIN_DMA))
		goto err;
	if (be == BE_RK) {
		if (rkb_init(&r->rkb, r->w, IH_RK_IOMMU_HW_V2, 1, NULL))
			goto err;
		r->rkb_up = true;
		if (rkb_register_iommu_driver(&r->rkb) || rkb_add_iommu(&r->rkb))
			goto err;
		r->dev = rkb_add_client(&r->rkb);
		if (!r->dev || rkb_register_client_driver(&r->rkb))
			goto err;
	} else {
		struct ih_smmuv3_drv_config dcfg;

		r->ent = (struct tfw_entry){"dev0", &r->fwnode, 0x10};
		r->fw = (struct tfw){.entries = &r->ent, .count = 1};
		tfw_install(r->w, &r->fw);
		if (ih_bus_register(r->w, &ih_platform_bus_type) ||
		    ih_smmuv3_hw_create(r->w, SMMU_MMIO, NULL, &r->hw))
			goto err;
		ih_smmuv3_drv_config_init(&dcfg);
		dcfg.hw = r->hw;
		dcfg.mmio_base = SMMU_MMIO;
		if (ih_smmuv3_probe(r->w, &dcfg, NULL, &r->fwnode, &r->smmu))
			goto err;
		tdriver_init(&r->drv, "bench-drv", false);
		if (ih_driver_register(r->w, &r->drv.drv))
			goto err;
		r->drv_registered = true;
		r->dev = tplat_add(r->w, "dev0");
		if (!r->dev)
			goto err;
	}
	r->dom = ih_iommu_get_dma_domain(r->dev);
	if (r->dom && be == BE_RK && lazy && ih_dma_init_fq(r->dom))
		goto err;
	if (!ih_device_driver(r->dev) || !r->dom || ih_dma_domain_is_lazy(r->dom) != lazy)
		goto err;
	r->pool = ih_pm_alloc(r->w, POOL_BYTES, SZ_2M, "bench:pool");
	if (r->pool == IH_PA_INVALID)
		goto err;
	return 0;
err:
	fprintf(stderr, "bench_unmap: %s/%s set-up failed\n", be_name[be], mode_name[lazy]);
	rig_down(r);
	return -1;
}

static void rig_counters(struct rig *r, struct counters *c)
{
	struct ih_dma_fq_stats fq;

	memset(c, 0, sizeof(*c));
	if (r->be == BE_RK) {
		struct ih_rk_iommu_stats st;

		if (!ih_rk_iommu_get_stats(ih_rk_iommu_pdev_dev(r->rkb.pd), &st))
			c->tlbi = st.zap_lines + st.zap_caches;
	} else {
		struct ih_smmuv3_stats st;

		ih_smmuv3_get_stats(r->smmu, &st);
		c->tlbi = st.tlbi;
		c->syncs = st.syncs;
	}
	if (!ih_dma_fq_get_stats(r->dom, &fq))
		c->flushes = fq.flush_started;
}

static void floor_counters(struct floor *fl, struct counters *c)
{
	c->tlbi = __atomic_load_n(&fl->tlbi, __ATOMIC_RELAXED);
	c->syncs = __atomic_load_n(&fl->syncs, __ATOMIC_RELAXED);
	c->flushes = __atomic_load_n(&fl->flushes, __ATOMIC_RELAXED);
}

/* ---- Runs ------------------------------------------------------------------------------ */

enum run_kind { RUN_REAL, RUN_FLOOR, RUN_BUSY };

struct run_spec {
	enum run_kind kind;
	struct rig *rig;
	struct floor *fl;
	struct floor_cpu *fcpu; /* NTHREADS of them */
	bool lazy;
	size_t pgsize;
	unsigned int batch;
	unsigned int threads;
	unsigned int rounds;
	unsigned int nper;
	bool bulk_only; /* no latency rounds (--profile: no clock reads in the samples) */
};

struct run_result {
	u64 wall_ns;
	u64 unmap_ns;	/* bulk-timed unmap phases, all threads */
	u64 bulk_pages; /* pages those phases unmapped */
	u64 pages;	/* pages mapped and unmapped, all rounds, all threads */
	u64 calls;	/* unmap calls */
	struct bench_hist hist;
	struct counters c;
	int err;
};

struct worker {
	const struct run_spec *s;
	pthread_barrier_t *barrier;
	unsigned int cpu;
	u64 *dma;
	struct ih_dma_sg *sg;
	u64 t_start, t_end;
	u64 unmap_ns, bulk_pages, pages, calls;
	u64 sink;
	struct bench_hist hist;
	int err;
};

static ih_pa_t page_pa(const struct run_spec *s, unsigned int cpu, unsigned int i, unsigned int j)
{
	if (s->pgsize == SZ_2M)
		return s->rig->pool + (u64)(cpu & 1) * SZ_2M;
	return s->rig->pool + (u64)((i * s->batch + j) % 512) * SZ_4K;
}

static int real_round(struct worker *wk, bool per_call)
{
	const struct run_spec *s = wk->s;
	struct ih_device *dev = s->rig->dev;
	u64 t0 = 0;
	int ret;

	for (unsigned int i = 0; i < s->nper; i++) {
		if (s->batch == 1)
			ret = ih_dma_map_page(dev, page_pa(s, wk->cpu, i, 0), s->pgsize, DIR, 0,
					      &wk->dma[i]);
		else
			ret = ih_dma_map_sg(dev, &wk->sg[(size_t)i * s->batch], s->batch, DIR, 0);
		if (ret < 0)
			return ret;
	}
	if (!per_call)
		t0 = now_ns();
	for (unsigned int i = 0; i < s->nper; i++) {
		u64 a = per_call ? now_ns() : 0;

		if (s->batch == 1)
			ret = ih_dma_unmap_page(dev, wk->dma[i], s->pgsize, DIR, 0);
		else
			ret = ih_dma_unmap_sg(dev, &wk->sg[(size_t)i * s->batch], s->batch, DIR, 0);
		if (per_call)
			bench_hist_add(&wk->hist, now_ns() - a);
		if (ret < 0)
			return ret;
	}
	if (!per_call) {
		wk->unmap_ns += now_ns() - t0;
		wk->bulk_pages += (u64)s->nper * s->batch;
	}
	wk->pages += (u64)s->nper * s->batch;
	wk->calls += s->nper;
	return 0;
}

static int floor_round(struct worker *wk, bool per_call)
{
	const struct run_spec *s = wk->s;
	struct floor_cpu *c = &s->fcpu[wk->cpu];
	u64 t0 = 0;
	int ret;

	for (unsigned int i = 0; i < s->nper; i++) {
		ret = fl_map(c, &c->live[i], page_pa(s, wk->cpu, i, 0));
		if (ret)
			return ret;
	}
	if (!per_call)
		t0 = now_ns();
	for (unsigned int i = 0; i < s->nper; i++) {
		u64 a = per_call ? now_ns() : 0;

		fl_unmap(s->fl, c, c->live[i], s->lazy);
		if (per_call)
			bench_hist_add(&wk->hist, now_ns() - a);
	}
	if (!per_call) {
		wk->unmap_ns += now_ns() - t0;
		wk->bulk_pages += (u64)s->nper * s->batch;
	}
	wk->pages += (u64)s->nper * s->batch;
	wk->calls += s->nper;
	return 0;
}

#define BUSY_ITERS 20000

static void busy_round(struct worker *wk)
{
	u64 x = wk->sink | 1;

	for (unsigned int i = 0; i < BUSY_ITERS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	wk->sink = x;
	wk->pages += BUSY_ITERS;
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	const struct run_spec *s = wk->s;

	if (s->kind == RUN_REAL)
		ih_thread_set_cpu(s->rig->w, wk->cpu);
	pthread_barrier_wait(wk->barrier);
	wk->t_start = now_ns();
	for (unsigned int r = 0; r < s->rounds && !wk->err; r++) {
		/* Even rounds: throughput, no clock in the loop. Odd rounds: per-call latency. */
		bool per_call = !s->bulk_only && (r & 1);

		if (s->kind == RUN_REAL)
			wk->err = real_round(wk, per_call);
		else if (s->kind == RUN_FLOOR)
			wk->err = floor_round(wk, per_call);
		else
			busy_round(wk);
	}
	wk->t_end = now_ns();
	return NULL;
}

static int worker_buffers(struct worker *wk, const struct run_spec *s)
{
	if (s->kind != RUN_REAL)
		return 0;
	wk->dma = calloc(s->nper, sizeof(*wk->dma));
	wk->sg = calloc((size_t)s->nper * s->batch, sizeof(*wk->sg));
	if (!wk->dma || !wk->sg)
		return -1;
	for (unsigned int i = 0; i < s->nper; i++)
		for (unsigned int j = 0; j < s->batch; j++) {
			wk->sg[(size_t)i * s->batch + j].pa = page_pa(s, wk->cpu, i, j);
			wk->sg[(size_t)i * s->batch + j].length = s->pgsize;
		}
	return 0;
}

static int run_once(const struct run_spec *s, struct run_result *res)
{
	struct worker wk[NTHREADS];
	pthread_t th[NTHREADS];
	pthread_barrier_t barrier;
	struct counters c0, c1;
	u64 start = ~0ULL, end = 0;
	unsigned int started = 0;

	memset(res, 0, sizeof(*res));
	bench_hist_init(&res->hist);
	memset(wk, 0, sizeof(wk));
	pthread_barrier_init(&barrier, NULL, s->threads);
	for (unsigned int t = 0; t < s->threads; t++) {
		wk[t].s = s;
		wk[t].barrier = &barrier;
		wk[t].cpu = t;
		bench_hist_init(&wk[t].hist);
		if (worker_buffers(&wk[t], s)) {
			res->err = -ENOMEM;
			goto out_free;
		}
	}
	if (s->kind == RUN_REAL)
		rig_counters(s->rig, &c0);
	else if (s->kind == RUN_FLOOR) {
		floor_counters(s->fl, &c0);
		if (fl_start(s->fl)) {
			res->err = -EAGAIN;
			goto out_free;
		}
	}
	for (; started < s->threads; started++)
		if (pthread_create(&th[started], NULL, worker_main, &wk[started]))
			break;
	if (started < s->threads) {
		/* Cannot happen in practice; the barrier would never open: give up loudly. */
		fprintf(stderr, "bench_unmap: pthread_create failed\n");
		exit(1);
	}
	for (unsigned int t = 0; t < s->threads; t++)
		pthread_join(th[t], NULL);
	if (s->kind == RUN_FLOOR) {
		fl_stop(s->fl);
		floor_counters(s->fl, &c1);
	} else if (s->kind == RUN_REAL) {
		rig_counters(s->rig, &c1);
	}
	if (s->kind != RUN_BUSY) {
		res->c.tlbi = c1.tlbi - c0.tlbi;
		res->c.syncs = c1.syncs - c0.syncs;
		res->c.flushes = c1.flushes - c0.flushes;
	}
	for (unsigned int t = 0; t < s->threads; t++) {
		start = ih_min(start, wk[t].t_start);
		end = ih_max(end, wk[t].t_end);
		res->unmap_ns += wk[t].unmap_ns;
		res->bulk_pages += wk[t].bulk_pages;
		res->pages += wk[t].pages;
		res->calls += wk[t].calls;
		bench_hist_merge(&res->hist, &wk[t].hist);
		if (wk[t].err && !res->err)
			res->err = wk[t].err;
	}
	res->wall_ns = end > start ? end - start : 1;
out_free:
	for (unsigned int t = 0; t < s->threads; t++) {
		free(wk[t].dma);
		free(wk[t].sg);
	}
	pthread_barrier_destroy(&barrier);
	return res->err;
}

static double res_ns_per_page(const struct run_result *r)
{
	return r->bulk_pages ? (double)r->unmap_ns / (double)r->bulk_pages : 0;
}

static double res_pages_per_s(const struct run_result *r)
{
	return (double)r->pages * 1e9 / (double)r->wall_ns;
}

/* ---- Cases and groups ------------------------------------------------------------------ */

/* One side (real or floor) of one case, summed over repetitions. */
struct side {
	double ns_pp[MAX_REPS], pps[MAX_REPS];
	struct bench_hist hist;
	struct counters c;
	u64 calls;
};

struct case_res {
	bool ran;
	unsigned int nreps;
	unsigned int rounds_real, rounds_floor, nper;
	struct side real, floor;
	double ratio[MAX_REPS];	      /* real ns/page over floor ns/page */
	double ratio_cycle[MAX_REPS]; /* floor pages/s over real pages/s (map + unmap) */
	double scal_raw[MAX_REPS], scal_machine[MAX_REPS], scal_rel[MAX_REPS]; /* 2 threads */
	/* 2 threads: the floor's own scaling, and the case's relative to it */
	double scal_floor[MAX_REPS], scal_rel_floor[MAX_REPS];
	double lazy_strict[MAX_REPS]; /* in the lazy case: lazy ns/page over strict's */
};

/* [backend][lazy][size][batch][threads-1] */
static struct case_res cases[BE_NR][2][2][3][2];

static bool case_skipped(enum backend be, unsigned int si, unsigned int bi)
{
	/* 32-bit IOVA space: 256 queued 2M x 16 (or x 512) ranges per CPU cannot fit. */
	return be == BE_RK && si == 1 && bi > 0;
}

static void side_add(struct side *sd, unsigned int rep, const struct run_result *r)
{
	sd->ns_pp[rep] = res_ns_per_page(r);
	sd->pps[rep] = res_pages_per_s(r);
	bench_hist_merge(&sd->hist, &r->hist);
	sd->c.tlbi += r->c.tlbi;
	sd->c.syncs += r->c.syncs;
	sd->c.flushes += r->c.flushes;
	sd->calls += r->calls;
}

/* Rounds for about @ms of one-thread work, from a one-round trial (which also warms up). */
static int calibrate(struct run_spec *s, const struct opts *o)
{
	struct run_result r;
	unsigned int threads = s->threads;
	double per_round;
	int ret;

	s->threads = 1;
	s->rounds = 2;
	ret = run_once(s, &r);
	s->threads = threads;
	if (ret)
		return ret;
	per_round = (double)r.wall_ns / 2;
	s->rounds = o->min_rounds;
	if (o->run_ms > 0 && per_round > 0) {
		double want = o->run_ms * 1e6 / per_round;

		if (want > s->rounds)
			s->rounds = want > 200000 ? 200000 : (unsigned int)want;
	}
	s->rounds += s->rounds & 1; /* as many latency rounds as throughput rounds */
	return 0;
}

static void floor_setup(struct floor *fl, struct floor_cpu *fc, enum backend be, size_t pgsize,
			unsigned int batch, unsigned int nper)
{
	memset(fl, 0, sizeof(*fl));
	fl->threaded = be == BE_SMMU_CONC;
	pthread_mutex_init(&fl->sleep_lock, NULL);
	pthread_cond_init(&fl->kick, NULL);
	for (unsigned int t = 0; t < NTHREADS; t++)
		if (fl_cpu_init(&fc[t], pgsize, batch, nper)) {
			fprintf(stderr, "bench_unmap: out of memory for the floor\n");
			exit(1);
		}
}

static int run_group(struct rig rigs[BE_NR][2], enum backend be, unsigned int si, unsigned int bi,
		     const struct opts *o)
{
	size_t pgsize = sizes[si];
	unsigned int batch = batches[bi];
	unsigned int nper = batch >= 256 ? 2 : 512 / batch;
	struct floor fl[2];
	struct floor_cpu fc[2][NTHREADS];
	struct run_spec real[2][2], flo[2][2], busy[2];
	int ret = 0;

	for (unsigned int m = 0; m < 2; m++)
		floor_setup(&fl[m], fc[m], be, pgsize, batch, nper);
	for (unsigned int m = 0; m < 2; m++) {
		for (unsigned int t = 0; t < 2; t++) {
			real[m][t] =
			    (struct run_spec){RUN_REAL, &rigs[be][m], NULL, NULL, m,	pgsize,
					      batch,	t + 1,	      0,    nper, false};
			flo[m][t] =
			    (struct run_spec){RUN_FLOOR, &rigs[be][m], &fl[m], fc[m], m,    pgsize,
					      batch,	 t + 1,	       0,      nper,  false};
		}
		if ((ret = calibrate(&real[m][0], o)) || (ret = calibrate(&flo[m][0], o)))
			goto out;
		real[m][1].rounds = real[m][0].rounds;
		flo[m][1].rounds = flo[m][0].rounds;
		cases[be][m][si][bi][0].rounds_real = real[m][0].rounds;
		cases[be][m][si][bi][0].rounds_floor = flo[m][0].rounds;
		cases[be][m][si][bi][1].rounds_real = real[m][0].rounds;
		cases[be][m][si][bi][1].rounds_floor = flo[m][0].rounds;
	}
	for (unsigned int t = 0; t < 2; t++)
		busy[t] =
		    (struct run_spec){RUN_BUSY, NULL, NULL, NULL, false, 0, 0, t + 1, 0, 0, false};
	/* Busy loop rounds: about @run_ms of one-thread work, like the other runs. */
	{
		struct run_result r;
		u64 want = (u64)(o->run_ms * 1e6);

		busy[0].rounds = 4;
		run_once(&busy[0], &r);
		if (want && r.wall_ns)
			busy[0].rounds = (unsigned int)ih_max((u64)4, want * 4 / r.wall_ns);
		busy[1].rounds = busy[0].rounds;
	}

	for (unsigned int rep = 0; rep < o->reps; rep++) {
		struct run_result rr[2][2], fr[2][2], br[2];

		for (unsigned int m = 0; m < 2; m++)
			for (unsigned int t = 0; t < 2; t++) {
				/* A B, then B A next time: neither side always runs first. */
				if (rep & 1) {
					ret = run_once(&real[m][t], &rr[m][t]);
					ret = ret ? ret : run_once(&flo[m][t], &fr[m][t]);
				} else {
					ret = run_once(&flo[m][t], &fr[m][t]);
					ret = ret ? ret : run_once(&real[m][t], &rr[m][t]);
				}
				if (ret)
					goto out;
			}
		run_once(&busy[0], &br[0]);
		run_once(&busy[1], &br[1]);
		for (unsigned int m = 0; m < 2; m++)
			for (unsigned int t = 0; t < 2; t++) {
				struct case_res *cr = &cases[be][m][si][bi][t];

				cr->ran = true;
				cr->nreps = rep + 1;
				cr->nper = nper;
				side_add(&cr->real, rep, &rr[m][t]);
				side_add(&cr->floor, rep, &fr[m][t]);
				cr->ratio[rep] =
				    res_ns_per_page(&rr[m][t]) / res_ns_per_page(&fr[m][t]);
				cr->ratio_cycle[rep] =
				    res_pages_per_s(&fr[m][t]) / res_pages_per_s(&rr[m][t]);
				if (t == 1) {
					cr->scal_raw[rep] =
					    res_pages_per_s(&rr[m][1]) / res_pages_per_s(&rr[m][0]);
					cr->scal_machine[rep] =
					    res_pages_per_s(&br[1]) / res_pages_per_s(&br[0]);
					cr->scal_rel[rep] =
					    cr->scal_raw[rep] / cr->scal_machine[rep];
					cr->scal_floor[rep] =
					    res_pages_per_s(&fr[m][1]) / res_pages_per_s(&fr[m][0]);
					cr->scal_rel_floor[rep] =
					    cr->scal_raw[rep] / cr->scal_floor[rep];
				}
				if (m == 1)
					cr->lazy_strict[rep] =
					    res_ns_per_page(&rr[1][t]) / res_ns_per_page(&rr[0][t]);
			}
	}
out:
	if (ret)
		fprintf(stderr, "bench_unmap: %s %s x%u failed: %d\n", be_name[be], size_name[si],
			batch, ret);
	for (unsigned int m = 0; m < 2; m++) {
		for (unsigned int t = 0; t < NTHREADS; t++)
			fl_cpu_fini(&fc[m][t]);
		pthread_cond_destroy(&fl[m].kick);
		pthread_mutex_destroy(&fl[m].sleep_lock);
	}
	return ret;
}

/* ---- Flip under load ------------------------------------------------------------------ */

/*
 * A strict (DMA) default domain flipped live to DMA-FQ (ih_iommu_group_store_type(), the
 * sysfs "type" write) while NTHREADS model CPUs map and unmap 4K pages on it: each worker
 * counts the pages it has mapped and unmapped into time buckets of FLIP_BUCKET_NS, so the
 * throughput before the flip, in the buckets the flip call spans ("during"), and after it
 * can be read off one run. A fresh rig per repetition: the flip goes one way only.
 */
#define FLIP_BUCKET_NS 250000ULL /* 250 us */
#define FLIP_WARM_NS   1000000ULL
#define FLIP_CHUNK     8 /* map then unmap this many pages between two clock reads */
#define FLIP_MAX_BKT   4096

struct flip_worker {
	struct rig *rig;
	pthread_barrier_t *barrier;
	unsigned int cpu;
	u64 t0;
	int *stop;
	u64 bucket[FLIP_MAX_BKT];
	int err;
};

struct flip_res {
	bool ran;
	int ret; /* of the store_type call (first failure) */
	unsigned int nreps;
	double before[MAX_REPS], during[MAX_REPS], after[MAX_REPS];
	double during_rel[MAX_REPS], after_rel[MAX_REPS], flip_us[MAX_REPS];
	bool lazy_after;
};

static struct flip_res flips[BE_NR];

static void *flip_worker_main(void *arg)
{
	struct flip_worker *fw = arg;
	struct ih_device *dev = fw->rig->dev;
	u64 dma[FLIP_CHUNK];

	ih_thread_set_cpu(fw->rig->w, fw->cpu);
	pthread_barrier_wait(fw->barrier);
	while (!__atomic_load_n(fw->stop, __ATOMIC_ACQUIRE) && !fw->err) {
		u64 b;

		for (unsigned int i = 0; i < FLIP_CHUNK && !fw->err; i++)
			fw->err = ih_dma_map_page(
			    dev, fw->rig->pool + (u64)(fw->cpu * FLIP_CHUNK + i) * SZ_4K, SZ_4K,
			    DIR, 0, &dma[i]);
		for (unsigned int i = 0; i < FLIP_CHUNK && !fw->err; i++)
			fw->err = ih_dma_unmap_page(dev, dma[i], SZ_4K, DIR, 0);
		b = (now_ns() - fw->t0) / FLIP_BUCKET_NS;
		if (b < FLIP_MAX_BKT)
			fw->bucket[b] += FLIP_CHUNK;
	}
	return NULL;
}

static void sleep_until(u64 t)
{
	for (u64 n = now_ns(); n < t; n = now_ns()) {
		struct timespec ts = {0, (long)ih_min(t - n, (u64)1000000)};

		nanosleep(&ts, NULL);
	}
}

/* Pages per second over buckets [from, to) of the summed counts; 0 for an empty range. */
static double flip_pps(const u64 *sum, u64 from, u64 to)
{
	u64 pages = 0;

	if (to <= from)
		return 0;
	for (u64 b = from; b < to; b++)
		pages += sum[b];
	return (double)pages * 1e9 / (double)((to - from) * FLIP_BUCKET_NS);
}

/* One repetition on backend @be: @phase_ns of load before the flip and after it. */
static int flip_once(enum backend be, u64 phase_ns, struct flip_res *fr, unsigned int rep)
{
	static struct flip_worker fw[NTHREADS]; /* big bucket arrays: not on the stack */
	pthread_t th[NTHREADS];
	pthread_barrier_t barrier;
	struct ih_iommu_group *group;
	struct rig rig;
	u64 t0, f0, f1, end, sum[FLIP_MAX_BKT] = {0};
	int stop = 0, ret;

	if (rig_up(&rig, be, false))
		return -ENODEV;
	group = ih_iommu_group_get(rig.dev);
	if (!group) {
		rig_down(&rig);
		return -ENODEV;
	}
	pthread_barrier_init(&barrier, NULL, NTHREADS + 1);
	t0 = now_ns();
	for (unsigned int t = 0; t < NTHREADS; t++) {
		memset(&fw[t], 0, sizeof(fw[t]));
		fw[t] = (struct flip_worker){&rig, &barrier, t, t0, &stop, {0}, 0};
		if (pthread_create(&th[t], NULL, flip_worker_main, &fw[t])) {
			fprintf(stderr, "bench_unmap: pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&barrier);
	sleep_until(t0 + FLIP_WARM_NS + phase_ns);
	f0 = now_ns();
	ret = ih_iommu_group_store_type(group, IH_DOMAIN_DMA_FQ);
	f1 = now_ns();
	sleep_until(f1 + phase_ns);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	end = now_ns();
	for (unsigned int t = 0; t < NTHREADS; t++) {
		pthread_join(th[t], NULL);
		for (unsigned int b = 0; b < FLIP_MAX_BKT; b++)
			sum[b] += fw[t].bucket[b];
		if (fw[t].err && !ret)
			ret = fw[t].err;
	}
	pthread_barrier_destroy(&barrier);
	if (!ret) {
		/* Whole buckets only: after the warm-up and before the flip's; after its. */
		u64 fb0 = (f0 - t0) / FLIP_BUCKET_NS, fb1 = (f1 - t0) / FLIP_BUCKET_NS;
		u64 eb = ih_min((end - t0) / FLIP_BUCKET_NS, (u64)FLIP_MAX_BKT);

		fr->before[rep] = flip_pps(sum, FLIP_WARM_NS / FLIP_BUCKET_NS + 1, fb0);
		fr->during[rep] = flip_pps(sum, fb0, fb1 + 1);
		fr->after[rep] = flip_pps(sum, fb1 + 1, eb);
		fr->flip_us[rep] = (double)(f1 - f0) / 1e3;
		fr->during_rel[rep] = fr->before[rep] > 0 ? fr->during[rep] / fr->before[rep] : 0;
		fr->after_rel[rep] = fr->before[rep] > 0 ? fr->after[rep] / fr->before[rep] : 0;
		fr->lazy_after = ih_dma_domain_is_lazy(rig.dom);
		/* A phase with no page at all (a loaded machine) is a result; not lazy is not. */
		if (!fr->lazy_after)
			ret = -EIO;
	}
	ih_iommu_group_put(group);
	rig_down(&rig);
	return ret;
}

static int flip_run(const struct opts *o)
{
	/* As long as one case run: the phases last run_ms each (at least 16 buckets). */
	u64 phase_ns = ih_max((u64)(o->run_ms * 1e6), 16 * FLIP_BUCKET_NS);
	int fail = 0;

	for (unsigned int be = 0; be < BE_NR; be++) {
		struct flip_res *fr = &flips[be];

		if (!(o->be_mask & (1u << be)))
			continue;
		for (unsigned int rep = 0; rep < o->reps; rep++) {
			int ret = flip_once(be, phase_ns, fr, rep);

			if (ret) {
				fprintf(stderr, "bench_unmap: %s flip under load failed: %d\n",
					be_name[be], ret);
				fr->ret = ret;
				fail = 1;
				break;
			}
			fr->ran = true;
			fr->nreps = rep + 1;
		}
	}
	return fail;
}

/* ---- Goals ------------------------------------------------------------------------------ */

struct goal {
	const char *name;
	enum backend be;
	double value, limit;
	bool at_most; /* value <= limit, else value >= limit */
	bool ran;
};

#define MAX_GOALS 32
static struct goal goals[MAX_GOALS];
static unsigned int ngoals;

static void goal_add(const char *name, enum backend be, const double *v, unsigned int n,
		     double limit, bool at_most)
{
	struct goal *g = &goals[ngoals++];

	g->name = name;
	g->be = be;
	g->limit = limit;
	g->at_most = at_most;
	g->ran = n > 0;
	g->value = mmm_of(v, n).med;
}

static void goals_compute(void)
{
	ngoals = 0;
	for (unsigned int be = 0; be < BE_NR; be++) {
		struct case_res *lazy1 = &cases[be][1][0][0][0];
		struct case_res *strict1 = &cases[be][0][0][0][0];

		goal_add("lazy 4K single page: ratio to floor <= 3", be, lazy1->ratio, lazy1->nreps,
			 3, true);
		if (be != BE_RK)
			goal_add("strict 4K single page: ratio to floor <= 1.5", be, strict1->ratio,
				 strict1->nreps, 1.5, true);
		for (unsigned int m = 0; m < 2; m++) {
			struct case_res *b512 = &cases[be][m][0][2][0];

			goal_add(m ? "lazy 4K x 512 batch: ratio to floor <= 3"
				   : "strict 4K x 512 batch: ratio to floor <= 3",
				 be, b512->ratio, b512->nreps, 3, true);
		}
		goal_add("lazy 4K 2 threads: scaling over 1 thread, relative to the machine >= 1.7",
			 be, cases[be][1][0][0][1].scal_rel, cases[be][1][0][0][1].nreps, 1.7,
			 false);
		/* The same goal judged against the floor's own 2-thread scaling (1.7 / 2). */
		goal_add("lazy 4K 2 threads: scaling relative to the floor's scaling >= 0.85", be,
			 cases[be][1][0][0][1].scal_rel_floor, cases[be][1][0][0][1].nreps, 0.85,
			 false);
	}
}

/* ---- Output ------------------------------------------------------------------------------ */

static void json_mmm(FILE *f, const char *key, const double *v, unsigned int n, const char *fmt)
{
	struct mmm m = mmm_of(v, n);

	fprintf(f, "\"%s\":{\"median\":", key);
	fprintf(f, fmt, m.med);
	fprintf(f, ",\"min\":");
	fprintf(f, fmt, m.min);
	fprintf(f, ",\"max\":");
	fprintf(f, fmt, m.max);
	fprintf(f, "}");
}

static void json_lat(FILE *f, const struct bench_hist *h)
{
	fprintf(f,
		"\"latency_ns\":{\"samples\":%llu,\"min\":%llu,\"p50\":%llu,\"p90\":%llu,"
		"\"p99\":%llu,\"p99_9\":%llu,\"max\":%llu}",
		(unsigned long long)h->count, (unsigned long long)(h->count ? h->min : 0),
		(unsigned long long)bench_hist_quantile(h, 0.5),
		(unsigned long long)bench_hist_quantile(h, 0.9),
		(unsigned long long)bench_hist_quantile(h, 0.99),
		(unsigned long long)bench_hist_quantile(h, 0.999), (unsigned long long)h->max);
}

static double per_1000(u64 n, u64 calls)
{
	return calls ? (double)n * 1000.0 / (double)calls : 0;
}

static void json_side(FILE *f, const struct side *sd, unsigned int n)
{
	json_mmm(f, "ns_per_page", sd->ns_pp, n, "%.1f");
	fputc(',', f);
	json_mmm(f, "pages_per_s", sd->pps, n, "%.0f");
	fputc(',', f);
	json_lat(f, &sd->hist);
	fprintf(f, ",\"per_1000_unmaps\":{\"tlbi\":%.1f,\"cmd_sync\":%.1f,\"queue_flushes\":%.2f}",
		per_1000(sd->c.tlbi, sd->calls), per_1000(sd->c.syncs, sd->calls),
		per_1000(sd->c.flushes, sd->calls));
}

static void json_flip(FILE *f, const struct opts *o)
{
	const char *sep = "";

	fprintf(f,
		"\"flip_under_load\":{\"threads\":%u,\"page_size\":4096,\"batch\":1,"
		"\"phase_ms\":%.1f,\"bucket_us\":%llu,\"runs\":[",
		NTHREADS, ih_max(o->run_ms, 16 * FLIP_BUCKET_NS / 1e6),
		(unsigned long long)(FLIP_BUCKET_NS / 1000));
	for (unsigned int be = 0; be < BE_NR; be++) {
		const struct flip_res *fr = &flips[be];
		unsigned int n = fr->nreps;

		if (!(o->be_mask & (1u << be)))
			continue;
		fprintf(f, "%s{\"backend\":\"%s\",\"ran\":%s,\"ret\":%d,\"reps\":%u,", sep,
			be_name[be], fr->ran && !fr->ret ? "true" : "false", fr->ret, n);
		fputs("\"pages_per_s\":{", f);
		json_mmm(f, "before", fr->before, n, "%.0f");
		fputc(',', f);
		json_mmm(f, "during", fr->during, n, "%.0f");
		fputc(',', f);
		json_mmm(f, "after", fr->after, n, "%.0f");
		fputs("},", f);
		json_mmm(f, "during_over_before", fr->during_rel, n, "%.2f");
		fputc(',', f);
		json_mmm(f, "after_over_before", fr->after_rel, n, "%.2f");
		fputc(',', f);
		json_mmm(f, "flip_us", fr->flip_us, n, "%.1f");
		fprintf(f, ",\"lazy_after\":%s}", fr->lazy_after ? "true" : "false");
		sep = ",";
	}
	fputs("]}", f);
}

#define FOR_EACH_CASE(be, m, si, bi, t)                                                            \
	for (unsigned int be = 0; be < BE_NR; be++)                                                \
		for (unsigned int si = 0; si < 2; si++)                                            \
			for (unsigned int bi = 0; bi < 3; bi++)                                    \
				for (unsigned int m = 0; m < 2; m++)                               \
					for (unsigned int t = 0; t < 2; t++)

static void write_json(FILE *f, const struct opts *o, double timer_ns, double total_s,
		       unsigned int expected, unsigned int ran)
{
	const char *sep = "";

	fprintf(f,
		"{\"bench\":\"unmap\",\"schema\":1,\"settings\":{\"reps\":%u,\"run_ms\":%.1f,"
		"\"smoke\":%s,\"threads\":[1,2],\"fq_size\":%u},\"machine\":{\"online_cpus\":%ld,"
		"\"timer_ns\":%.1f},\"seconds\":%.1f,\"cases_expected\":%u,\"cases_ran\":%u,"
		"\"cases\":[",
		o->reps, o->run_ms, o->smoke ? "true" : "false", FL_FQ_SIZE,
		sysconf(_SC_NPROCESSORS_ONLN), timer_ns, total_s, expected, ran);
	FOR_EACH_CASE(be, m, si, bi, t)
	{
		struct case_res *cr = &cases[be][m][si][bi][t];

		if (!cr->ran)
			continue;
		fprintf(f,
			"%s{\"backend\":\"%s\",\"mode\":\"%s\",\"page_size\":%zu,\"batch\":%u,"
			"\"threads\":%u,\"reps\":%u,\"unmaps_per_round\":%u,\"rounds\":%u,",
			sep, be_name[be], mode_name[m], sizes[si], batches[bi], t + 1, cr->nreps,
			cr->nper, cr->rounds_real);
		json_side(f, &cr->real, cr->nreps);
		fprintf(f, ",\"floor\":{\"kind\":\"%s\",\"rounds\":%u,",
			be == BE_SMMU_CONC ? "thread" : "inline", cr->rounds_floor);
		json_side(f, &cr->floor, cr->nreps);
		fputs("},", f);
		json_mmm(f, "ratio_to_floor", cr->ratio, cr->nreps, "%.3g");
		fputc(',', f);
		json_mmm(f, "ratio_to_floor_map_unmap", cr->ratio_cycle, cr->nreps, "%.3g");
		if (m == 1) {
			fputc(',', f);
			/* %.3g: a strict run stalled on a loaded machine must not print 0.00 */
			json_mmm(f, "lazy_over_strict", cr->lazy_strict, cr->nreps, "%.3g");
		}
		if (t == 1) {
			fputs(",\"scaling\":{", f);
			json_mmm(f, "raw", cr->scal_raw, cr->nreps, "%.3g");
			fputc(',', f);
			json_mmm(f, "machine", cr->scal_machine, cr->nreps, "%.3g");
			fputc(',', f);
			json_mmm(f, "relative", cr->scal_rel, cr->nreps, "%.3g");
			fputc(',', f);
			json_mmm(f, "floor", cr->scal_floor, cr->nreps, "%.3g");
			fputc(',', f);
			json_mmm(f, "relative_to_floor", cr->scal_rel_floor, cr->nreps, "%.3g");
			fputc('}', f);
		}
		fputc('}', f);
		sep = ",";
	}
	fputs("],\"goals\":[", f);
	for (unsigned int i = 0; i < ngoals; i++) {
		const struct goal *g = &goals[i];

		fprintf(f,
			"%s{\"goal\":\"%s\",\"backend\":\"%s\",\"ran\":%s,\"value\":%.2f,"
			"\"limit\":%.2f,\"met\":%s}",
			i ? "," : "", g->name, be_name[g->be], g->ran ? "true" : "false", g->value,
			g->limit,
			g->ran && (g->at_most ? g->value <= g->limit : g->value >= g->limit)
			    ? "true"
			    : "false");
	}
	fputs("],", f);
	json_flip(f, o);
	fputs("}\n", f);
}

static void write_csv(FILE *f)
{
	fputs("backend,mode,page_size,batch,threads,reps,ns_per_page_median,ns_per_page_min,"
	      "ns_per_page_max,pages_per_s_median,p50_ns,p90_ns,p99_ns,p99_9_ns,tlbi_per_1000,"
	      "sync_per_1000,flushes_per_1000,floor_ns_per_page_median,ratio_to_floor_median,"
	      "ratio_to_floor_min,ratio_to_floor_max,lazy_over_strict_median,scaling_raw_median,"
	      "scaling_machine_median,scaling_relative_median,scaling_floor_median,"
	      "scaling_relative_to_floor_median\n",
	      f);
	FOR_EACH_CASE(be, m, si, bi, t)
	{
		struct case_res *cr = &cases[be][m][si][bi][t];
		struct mmm ns, pps, fns, ra, ls, sr, sm, sl, sf, slf;
		unsigned int n = cr->nreps;

		if (!cr->ran)
			continue;
		ns = mmm_of(cr->real.ns_pp, n);
		pps = mmm_of(cr->real.pps, n);
		fns = mmm_of(cr->floor.ns_pp, n);
		ra = mmm_of(cr->ratio, n);
		ls = mmm_of(cr->lazy_strict, m ? n : 0);
		sr = mmm_of(cr->scal_raw, t ? n : 0);
		sm = mmm_of(cr->scal_machine, t ? n : 0);
		sl = mmm_of(cr->scal_rel, t ? n : 0);
		sf = mmm_of(cr->scal_floor, t ? n : 0);
		slf = mmm_of(cr->scal_rel_floor, t ? n : 0);
		fprintf(f,
			"%s,%s,%zu,%u,%u,%u,%.1f,%.1f,%.1f,%.0f,%llu,%llu,%llu,%llu,%.1f,%.1f,%.2f,"
			"%.1f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f\n",
			be_name[be], mode_name[m], sizes[si], batches[bi], t + 1, n, ns.med, ns.min,
			ns.max, pps.med,
			(unsigned long long)bench_hist_quantile(&cr->real.hist, .5),
			(unsigned long long)bench_hist_quantile(&cr->real.hist, .9),
			(unsigned long long)bench_hist_quantile(&cr->real.hist, .99),
			(unsigned long long)bench_hist_quantile(&cr->real.hist, .999),
			per_1000(cr->real.c.tlbi, cr->real.calls),
			per_1000(cr->real.c.syncs, cr->real.calls),
			per_1000(cr->real.c.flushes, cr->real.calls), fns.med, ra.med, ra.min,
			ra.max, ls.med, sr.med, sm.med, sl.med, sf.med, slf.med);
	}
}

/* Data files and the gnuplot script: ns/page against batch, and latency CDFs. */
static int write_gnuplot(const char *dir)
{
	char path[512];
	FILE *f;
	unsigned int nseries[2] = {0, 0};

	/* bench_unmap_nspp.dat: one block per (page size, backend, mode, real|floor). */
	snprintf(path, sizeof(path), "%s/bench_unmap_nspp.dat", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	for (unsigned int si = 0; si < 2; si++) {
		for (unsigned int be = 0; be < BE_NR; be++)
			for (unsigned int m = 0; m < 2; m++)
				for (unsigned int side = 0; side < 2; side++) {
					unsigned int pts = 0;

					for (unsigned int bi = 0; bi < 3; bi++)
						pts += cases[be][m][si][bi][0].ran;
					if (!pts)
						continue;
					fprintf(f, "\"%s %s%s\"\n", be_name[be], mode_name[m],
						side ? " (floor)" : "");
					for (unsigned int bi = 0; bi < 3; bi++) {
						struct case_res *cr = &cases[be][m][si][bi][0];

						if (!cr->ran)
							continue;
						fprintf(
						    f, "%u %.2f\n", batches[bi],
						    mmm_of(side ? cr->floor.ns_pp : cr->real.ns_pp,
							   cr->nreps)
							.med);
					}
					fputs("\n\n", f);
					nseries[si]++;
				}
	}
	fclose(f);

	/* bench_unmap_cdf.dat: 4K, one page, one thread: fraction of calls at or below x. */
	snprintf(path, sizeof(path), "%s/bench_unmap_cdf.dat", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	unsigned int ncdf = 0;

	for (unsigned int be = 0; be < BE_NR; be++)
		for (unsigned int m = 0; m < 2; m++)
			for (unsigned int side = 0; side < 2; side++) {
				struct case_res *cr = &cases[be][m][0][0][0];
				const struct bench_hist *h =
				    side ? &cr->floor.hist : &cr->real.hist;
				u64 seen = 0;

				if (!cr->ran || !h->count)
					continue;
				fprintf(f, "\"%s %s%s\"\n", be_name[be], mode_name[m],
					side ? " (floor)" : "");
				for (unsigned int i = 0; i < BH_BUCKETS; i++) {
					if (!h->bucket[i])
						continue;
					seen += h->bucket[i];
					fprintf(f, "%llu %.6f\n",
						(unsigned long long)bench_hist_upper(i),
						(double)seen / (double)h->count);
				}
				fputs("\n\n", f);
				ncdf++;
			}
	fclose(f);

	snprintf(path, sizeof(path), "%s/bench_unmap.gp", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "# gnuplot script written by bench_unmap; run it in this directory.\n"
		   "set terminal pngcairo size 1400,600 noenhanced\n"
		   "set output 'bench_unmap_ns_per_page.png'\n"
		   "set multiplot layout 1,2 title 'unmap ns per page against batch (1 thread, "
		   "median of repetitions)'\n"
		   "set logscale xy\nset xtics (1, 16, 512)\nset xlabel 'pages per unmap call'\n"
		   "set ylabel 'ns per page'\nset key outside right top vertical font ',8'\n"
		   "set grid\n");
	for (unsigned int si = 0; si < 2; si++) {
		unsigned int first = si ? nseries[0] : 0;

		fprintf(f, "set title '%s pages'\n", size_name[si]);
		if (!nseries[si]) {
			fputs("unset logscale\nplot 0 notitle\nset logscale xy\n", f);
			continue;
		}
		fprintf(f,
			"plot for [i=%u:%u] 'bench_unmap_nspp.dat' index i using 1:2 with "
			"linespoints dashtype i %% 2 + 1 title columnheader(1)\n",
			first, first + nseries[si] - 1);
	}
	fputs("unset multiplot\n", f);
	fprintf(f, "set terminal pngcairo size 1000,650 noenhanced\n"
		   "set output 'bench_unmap_latency_cdf.png'\n"
		   "set title 'unmap call latency, 4K, one page, 1 thread (CDF)'\n"
		   "unset logscale\nset logscale x\nset xtics auto\nset xlabel 'ns per call'\n"
		   "set ylabel 'fraction of calls'\nset yrange [0:1.01]\n"
		   "set key outside right top vertical font ',8'\n");
	if (ncdf)
		fprintf(f,
			"plot for [i=0:%u] 'bench_unmap_cdf.dat' index i using 1:2 with steps "
			"dashtype i %% 2 + 1 title columnheader(1)\n",
			ncdf - 1);
	else
		fputs("plot 0 notitle\n", f);
	fclose(f);
	return 0;
}

static void fmt_mmm(char *buf, size_t n, struct mmm m, const char *fmt)
{
	char a[24], b[24], c[24];

	snprintf(a, sizeof(a), fmt, m.med);
	snprintf(b, sizeof(b), fmt, m.min);
	snprintf(c, sizeof(c), fmt, m.max);
	snprintf(buf, n, "%s [%s-%s]", a, b, c);
}

static void print_table(FILE *f, double timer_ns, double total_s)
{
	char ns[80], fns[80], ra[80], ls[64], sc[64];

	fprintf(f,
		"%-11s %-6s %4s %5s %3s %-22s %-18s %-18s %7s %7s %8s %7s %6s %6s %-16s "
		"%-18s\n",
		"backend", "mode", "page", "batch", "thr", "ns/page med [min-max]", "floor ns/page",
		"ratio to floor", "p50", "p99", "p99.9", "TLBI/1k", "sync/1k", "flsh/1k",
		"lazy/strict", "scaling raw/mach=rel; floor: raw/floor=rel");
	FOR_EACH_CASE(be, m, si, bi, t)
	{
		struct case_res *cr = &cases[be][m][si][bi][t];
		unsigned int n = cr->nreps;

		if (!cr->ran)
			continue;
		fmt_mmm(ns, sizeof(ns), mmm_of(cr->real.ns_pp, n), "%.0f");
		fmt_mmm(fns, sizeof(fns), mmm_of(cr->floor.ns_pp, n), "%.0f");
		fmt_mmm(ra, sizeof(ra), mmm_of(cr->ratio, n), "%.2f");
		if (m)
			snprintf(ls, sizeof(ls), "%.2f", mmm_of(cr->lazy_strict, n).med);
		else
			snprintf(ls, sizeof(ls), "-");
		if (t)
			snprintf(sc, sizeof(sc), "%.2f/%.2f=%.2f; %.2f=%.2f",
				 mmm_of(cr->scal_raw, n).med, mmm_of(cr->scal_machine, n).med,
				 mmm_of(cr->scal_rel, n).med, mmm_of(cr->scal_floor, n).med,
				 mmm_of(cr->scal_rel_floor, n).med);
		else
			snprintf(sc, sizeof(sc), "-");
		fprintf(f,
			"%-11s %-6s %4s %5u %3u %-22s %-18s %-18s %7llu %7llu %8llu %7.0f %6.0f "
			"%6.1f %-16s %-18s\n",
			be_name[be], mode_name[m], size_name[si], batches[bi], t + 1, ns, fns, ra,
			(unsigned long long)bench_hist_quantile(&cr->real.hist, .5),
			(unsigned long long)bench_hist_quantile(&cr->real.hist, .99),
			(unsigned long long)bench_hist_quantile(&cr->real.hist, .999),
			per_1000(cr->real.c.tlbi, cr->real.calls),
			per_1000(cr->real.c.syncs, cr->real.calls),
			per_1000(cr->real.c.flushes, cr->real.calls), ls, sc);
	}
	fprintf(f,
		"\ngoals (median of per-repetition ratios; timer %.0f ns per clock read, %.1f s "
		"in all):\n",
		timer_ns, total_s);
	for (unsigned int i = 0; i < ngoals; i++) {
		const struct goal *g = &goals[i];
		bool met = g->ran && (g->at_most ? g->value <= g->limit : g->value >= g->limit);

		fprintf(f, "  %-11s %-72s %6.2f  %s\n", be_name[g->be], g->name, g->value,
			!g->ran ? "not run"
			: met	? "met"
				: "MISSED");
	}
	fprintf(f,
		"\nflip under load (strict -> lazy live, %u threads, 4K single pages; pages/s "
		"median [min-max] of the repetitions):\n",
		NTHREADS);
	for (unsigned int be = 0; be < BE_NR; be++) {
		const struct flip_res *fr = &flips[be];
		unsigned int n = fr->nreps;
		char b[80], d[80], a[80], fl[80];

		if (!n && !fr->ret)
			continue;
		if (fr->ret && !n) {
			fprintf(f, "  %-11s failed: %d\n", be_name[be], fr->ret);
			continue;
		}
		fmt_mmm(b, sizeof(b), mmm_of(fr->before, n), "%.0f");
		fmt_mmm(d, sizeof(d), mmm_of(fr->during, n), "%.0f");
		fmt_mmm(a, sizeof(a), mmm_of(fr->after, n), "%.0f");
		fmt_mmm(fl, sizeof(fl), mmm_of(fr->flip_us, n), "%.1f");
		fprintf(
		    f,
		    "  %-11s before %s  during %s (%.2fx)  after %s (%.2fx)  flip call %s us%s\n",
		    be_name[be], b, d, mmm_of(fr->during_rel, n).med, a,
		    mmm_of(fr->after_rel, n).med, fl, fr->lazy_after ? "" : "  NOT LAZY AFTER");
	}
}

/* ---- Main ------------------------------------------------------------------------------- */

static double timer_cost(void)
{
	u64 t0 = now_ns(), sink = 0;

	for (unsigned int i = 0; i < 100000; i++)
		sink += now_ns();
	return (double)(now_ns() - t0 - (sink & 0)) / 100000;
}

static unsigned int parse_list(const char *s, const char *const *names, unsigned int n)
{
	unsigned int mask = 0;
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned int i;

		for (i = 0; i < n && strcmp(tok, names[i]); i++)
			;
		if (i == n)
			return 0;
		mask |= 1u << i;
	}
	return mask;
}

static const char *const batch_names[3] = {"1", "16", "512"};

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--smoke | --quick] [--reps R] [--run-ms MS] [--out DIR]\n"
		"       [--format json|table|both] [--backends smmuv3-seq,smmuv3-conc,rk]\n"
		"       [--sizes 4K,2M] [--batches 1,16,512]\n"
		"       [--profile BACKEND:strict|lazy:4K|2M:BATCH[:THREADS] [--seconds S]]\n",
		argv0);
	return 2;
}

/* --profile: one real case, one thread, bulk rounds for @o->seconds, for perf. */
static int profile_case(const struct opts *o)
{
	char buf[128], *p[5], *save;
	unsigned int be, m, si, bi, k = 0, threads = 1;
	struct rig rig;
	struct run_spec s;
	struct run_result r;
	u64 end, pages = 0, calls = 0;
	int ret = 0;

	snprintf(buf, sizeof(buf), "%s", o->profile);
	for (char *tok = strtok_r(buf, ":", &save); tok && k < 5; tok = strtok_r(NULL, ":", &save))
		p[k++] = tok;
	if (k < 4)
		return 2;
	if (k == 5)
		threads = (unsigned int)strtoul(p[4], NULL, 0);
	if (threads < 1 || threads > NTHREADS)
		return 2;
	be = parse_list(p[0], be_name, BE_NR);
	m = parse_list(p[1], mode_name, 2);
	si = parse_list(p[2], size_name, 2);
	bi = parse_list(p[3], batch_names, 3);
	if (!be || !m || !si || !bi || (be & (be - 1)) || (m & (m - 1)) || (si & (si - 1)) ||
	    (bi & (bi - 1)))
		return 2;
	be = (unsigned int)__builtin_ctz(be);
	m = (unsigned int)__builtin_ctz(m);
	si = (unsigned int)__builtin_ctz(si);
	bi = (unsigned int)__builtin_ctz(bi);
	if (case_skipped(be, si, bi) || rig_up(&rig, be, m))
		return 1;
	s = (struct run_spec){
	    RUN_REAL,  &rig,	    NULL, NULL, m,
	    sizes[si], batches[bi], 1,	  0,	batches[bi] >= 256 ? 2 : 512 / batches[bi],
	    true};
	s.threads = threads;
	s.rounds = 2;
	end = now_ns() + (u64)(o->seconds * 1e9);
	while (now_ns() < end && !ret) {
		ret = run_once(&s, &r);
		pages += r.pages;
		calls += r.calls;
		if (!ret && r.wall_ns > 200000000ULL / 2)
			printf("%s %s %s x%u, %u thread(s): %.1f ns/page, %.0f pages/s\n",
			       be_name[be], mode_name[m], size_name[si], batches[bi], threads,
			       res_ns_per_page(&r), res_pages_per_s(&r));
		if (r.wall_ns < 100000000ULL)
			s.rounds *= 2;
	}
	/* For perf stat: instructions per page = its count over this one. */
	printf("total: %llu pages mapped and unmapped in %llu unmap calls\n",
	       (unsigned long long)pages, (unsigned long long)calls);
	rig_down(&rig);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.reps = 7,
			 .run_ms = 40,
			 .min_rounds = 2,
			 .json = true,
			 .be_mask = 7,
			 .size_mask = 3,
			 .batch_mask = 7,
			 .seconds = 10};
	const char *format = NULL;
	struct rig rigs[BE_NR][2];
	unsigned int expected = 0, ran = 0;
	double timer_ns, total_s;
	u64 t0 = now_ns();
	int fail = 0;

	/* The trace case is its own program (bench_unmap_trace.h). */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--trace"))
			return bench_unmap_trace_main(argc, argv);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--smoke")) {
			o.smoke = true;
			o.reps = 1;
			o.run_ms = 0;
		} else if (!strcmp(a, "--quick")) {
			o.reps = 3;
			o.run_ms = 3;
			if (!format)
				format = "table";
		} else if (!strcmp(a, "--reps") && v) {
			o.reps = (unsigned int)strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--run-ms") && v) {
			o.run_ms = strtod(v, NULL);
			i++;
		} else if (!strcmp(a, "--out") && v) {
			o.out = v;
			i++;
		} else if (!strcmp(a, "--format") && v) {
			format = v;
			i++;
		} else if (!strcmp(a, "--backends") && v) {
			o.be_mask = parse_list(v, be_name, BE_NR);
			i++;
		} else if (!strcmp(a, "--sizes") && v) {
			o.size_mask = parse_list(v, size_name, 2);
			i++;
		} else if (!strcmp(a, "--batches") && v) {
			o.batch_mask = parse_list(v, batch_names, 3);
			i++;
		} else if (!strcmp(a, "--profile") && v) {
			o.profile = v;
			i++;
		} else if (!strcmp(a, "--seconds") && v) {
			o.seconds = strtod(v, NULL);
			i++;
		} else {
			return usage(argv[0]);
		}
	}
	if (format) {
		o.json = !strcmp(format, "json") || !strcmp(format, "both");
		o.table = !strcmp(format, "table") || !strcmp(format, "both");
		if (!o.json && !o.table)
			return usage(argv[0]);
	}
	if (!o.reps || o.reps > MAX_REPS || !o.be_mask || !o.size_mask || !o.batch_mask)
		return usage(argv[0]);
	if (o.profile) {
		int ret = profile_case(&o);

		return ret == 2 ? usage(argv[0]) : ret;
	}

	timer_ns = timer_cost();
	memset(rigs, 0, sizeof(rigs));
	for (unsigned int be = 0; be < BE_NR && !fail; be++)
		for (unsigned int m = 0; m < 2 && !fail; m++)
			if ((o.be_mask & (1u << be)) && rig_up(&rigs[be][m], be, m))
				fail = 1;
	for (unsigned int be = 0; be < BE_NR && !fail; be++)
		for (unsigned int si = 0; si < 2; si++)
			for (unsigned int bi = 0; bi < 3; bi++) {
				if (!(o.be_mask & (1u << be)) || !(o.size_mask & (1u << si)) ||
				    !(o.batch_mask & (1u << bi)) || case_skipped(be, si, bi))
					continue;
				expected += 4;
				if (run_group(rigs, be, si, bi, &o))
					fail = 1;
			}
	for (unsigned int be = 0; be < BE_NR; be++)
		for (unsigned int m = 0; m < 2; m++)
			rig_down(&rigs[be][m]);
	if (!fail && flip_run(&o))
		fail = 1;
	FOR_EACH_CASE(be, m, si, bi, t)
	ran += cases[be][m][si][bi][t].ran;
	total_s = (double)(now_ns() - t0) / 1e9;
	goals_compute();
	if (o.json)
		write_json(stdout, &o, timer_ns, total_s, expected, ran);
	if (o.table)
		print_table(stdout, timer_ns, total_s);
	if (o.out) {
		char path[512];
		FILE *f;

		mkdir(o.out, 0777);
		snprintf(path, sizeof(path), "%s/bench_unmap.json", o.out);
		f = fopen(path, "w");
		if (f) {
			write_json(f, &o, timer_ns, total_s, expected, ran);
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/bench_unmap.csv", o.out);
		f = f ? fopen(path, "w") : NULL;
		if (f) {
			write_csv(f);
			fclose(f);
		}
		if (!f || write_gnuplot(o.out)) {
			fprintf(stderr, "bench_unmap: cannot write to %s\n", o.out);
			fail = 1;
		}
	}
	if (ran != expected) {
		fprintf(stderr, "bench_unmap: %u of %u cases ran\n", ran, expected);
		fail = 1;
	}
	return fail;
}
