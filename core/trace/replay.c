// SPDX-License-Identifier: MIT
/* Trace replay: iommu/dma trace events applied to the model, per-device state and findings. */
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/base.h>
#include <ih/clock.h>
#include <ih/diag.h>
#include <ih/dma.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/trace_replay.h>
#include <ih/world.h>
#include "dma/avl.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "trace-replay: "

/* Not locked: one thread drives a replay (see the header). */

#define RP_DEV_HASH	 64
#define RP_MAX_FINDINGS	 1000
#define RP_FALLBACK_NAME "unattributed"
#define RP_LAST_DMA_CPUS 256
#define RP_ACCESS_BYTES	 4

/* One live mapping of a device, keyed by its first IOVA; live mappings never overlap. */
struct rp_map {
	struct ih_avl_node avl;
	struct ih_avl_node pa_avl; /* in rp_dev.by_pa when @pa_indexed */
	u64 iova, size;
	u64 paddr; /* what the trace printed, for dma_unmap_sg (which prints only that) */
	u64 paddr_last;		 /* dma_map_sg: the last physical entry it covers */
	unsigned int phys_count; /* dma_map_sg: physical entries it covers (merged: > 1) */
	u64 line, ts_ns;
	bool in_model; /* the model holds it (a refused map is tracked, not mapped) */
	bool pa_indexed;
	struct rp_map *next_free;
};

struct rp_unmap {
	u64 iova, size, line, ts_ns;
};

/* What is left of a mapping an unmap cut (the part before or after the unmapped range). */
struct rp_piece {
	bool valid;
	u64 iova, size, paddr, line, ts_ns;
};

struct rp_dev {
	struct ih_trace_dev_summary sum;
	struct ih_device *dev;
	struct ih_iommu_domain *dom;
	unsigned int hash; /* of the name, compared before the name */
	struct ih_avl_tree live;
	/*
	 * Live mappings of a dma:-only trace by (paddr, iova): dma_unmap_sg prints physical
	 * addresses only, and a walk of every live mapping per segment would make a long
	 * trace quadratic.
	 */
	struct ih_avl_tree by_pa;
	struct rp_unmap recent[IH_TRACE_REPLAY_RECENT];
	unsigned int recent_next, recent_count;
	struct rp_dev *hash_next;
};

/* What a CPU's last dma: record said, for an iommu record that follows it. */
struct rp_last_dma {
	bool valid;
	int pid;
	bool map;   /* map side (map, map_sg, alloc) or unmap side */
	u64 lo, hi; /* [lo, hi) */
	struct rp_dev *dev;
};

/*
 * A dma_unmap_sg record of a dma:-only trace whose entry unmapped a merged mapping: its
 * next entries are that mapping's other physical pages, consumed without another unmap.
 */
struct rp_sg_run {
	bool valid;
	struct rp_dev *dev;
	u64 line;		 /* of the dma_unmap_sg record */
	unsigned int next, end;	 /* its segments [next, end) belong to the mapping */
	u64 paddr_last;		 /* what segment end - 1 must print */
	u64 map_line, map_ts_ns; /* the mapping, for a finding */
	u64 map_iova, map_size;
};

struct ih_trace_replay {
	struct ih_world *w;
	struct ih_trace_replay_config cfg;
	unsigned int ncpus;
	bool finished;
	/* the window: ring of events waiting to be applied */
	struct ih_trace_event win[IH_TRACE_REPLAY_WINDOW];
	unsigned int win_head, win_count;
	u64 iommu_ops_seen; /* iommu:map/unmap pushed so far (window included) */
	struct rp_last_dma last_dma[RP_LAST_DMA_CPUS];
	/* devices */
	struct rp_dev **devs;
	size_t ndevs, devs_cap;
	struct rp_dev *hash[RP_DEV_HASH];
	struct rp_dev *fallback;
	struct rp_map *free_maps;
	struct rp_sg_run sg_run;
	/* clock */
	bool clock_started;
	u64 clock_base_ts, clock_base_now;
	/* results */
	struct ih_trace_replay_stats st;
	struct ih_trace_finding *findings;
	size_t nfindings, max_findings;
	int err; /* a sticky -ENOMEM */
};

static const char *const finding_names[IH_TRACE_FIND_KIND_COUNT] = {
    [IH_TRACE_FIND_ACCESS_AFTER_UNMAP] = "access-after-unmap",
    [IH_TRACE_FIND_ACCESS_UNMAPPED] = "access-unmapped",
    [IH_TRACE_FIND_UNMAP_UNMAPPED] = "unmap-unmapped",
    [IH_TRACE_FIND_UNMAP_SIZE] = "unmap-size-mismatch",
    [IH_TRACE_FIND_MAP_OVER_LIVE] = "map-over-live",
    [IH_TRACE_FIND_LIVE_AT_END] = "live-at-end",
    [IH_TRACE_FIND_MODEL_ERROR] = "model-error",
};

const char *ih_trace_finding_name(enum ih_trace_finding_kind kind)
{
	return (unsigned int)kind < IH_TRACE_FIND_KIND_COUNT ? finding_names[kind] : "?";
}

/* ---- Live-mapping map (AVL keyed by first IOVA) ---- */

#define MAP(n) container_of((n), struct rp_map, avl)

static int map_cmp(const struct ih_avl_node *a, const struct ih_avl_node *b)
{
	u64 x = MAP(a)->iova, y = MAP(b)->iova;

	return x < y ? -1 : x > y;
}

/* The first live mapping ending above @lo (the one containing @lo, or the next one). */
static struct rp_map *map_first_from(struct rp_dev *d, u64 lo)
{
	struct ih_avl_node *an = d->live.root;
	struct rp_map *below = NULL, *above = NULL;

	while (an) {
		struct rp_map *m = MAP(an);

		if (m->iova <= lo) {
			below = m;
			an = an->right;
		} else {
			above = m;
			an = an->left;
		}
	}
	if (below && below->iova + below->size > lo)
		return below;
	return above;
}

#define PAMAP(n) container_of((n), struct rp_map, pa_avl)

static int pa_cmp(const struct ih_avl_node *a, const struct ih_avl_node *b)
{
	const struct rp_map *x = PAMAP(a), *y = PAMAP(b);

	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/* The live indexed mapping of @d at physical address @paddr with the lowest IOVA, or NULL. */
static struct rp_map *map_by_paddr(struct rp_dev *d, u64 paddr)
{
	struct ih_avl_node *an = d->by_pa.root;
	struct rp_map *found = NULL;

	while (an) {
		struct rp_map *m = PAMAP(an);

		if (m->paddr >= paddr) {
			if (m->paddr == paddr)
				found = m;
			an = an->left;
		} else {
			an = an->right;
		}
	}
	return found;
}

static struct rp_map *map_next(struct rp_dev *d, struct rp_map *m)
{
	struct ih_avl_node *n = ih_avl_next(&d->live, &m->avl);

	return n ? MAP(n) : NULL;
}

static struct rp_map *map_get(struct ih_trace_replay *r)
{
	struct rp_map *m = r->free_maps;

	if (m) {
		r->free_maps = m->next_free;
		memset(m, 0, sizeof(*m));
		return m;
	}
	return ih_alloc(r->w, sizeof(*m), "trace:map");
}

/* Unused nodes are kept for reuse: at most the peak of live mappings exists at once. */
static void map_put(struct ih_trace_replay *r, struct rp_map *m)
{
	m->next_free = r->free_maps;
	r->free_maps = m;
}

/* ---- Findings ---- */

static struct ih_trace_finding *finding_add(struct ih_trace_replay *r, struct rp_dev *d,
					    enum ih_trace_finding_kind kind,
					    const struct ih_trace_event *ev)
{
	struct ih_trace_finding *f;

	r->st.findings[kind]++;
	if (d)
		d->sum.findings[kind]++;
	if (r->nfindings >= r->max_findings)
		return NULL;
	f = &r->findings[r->nfindings++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	if (d)
		snprintf(f->device, sizeof(f->device), "%s", d->sum.name);
	if (ev) {
		f->line = ev->line;
		f->ts_ns = ev->ts_ns;
	}
	return f;
}

/* The earlier record a finding names (the map or unmap it is measured against). */
static void finding_other(struct ih_trace_finding *f, u64 line, u64 ts_ns, u64 iova, u64 size)
{
	f->other_line = line;
	f->other_ts_ns = ts_ns;
	f->other_iova = iova;
	f->other_size = size;
}

/* ---- Devices ---- */

static unsigned int name_hash(const char *s)
{
	u32 h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/*
 * The device called @name, asking the backend on first use. NULL when the backend refuses
 * (an error finding for @ev) or memory runs out (r->err).
 */
static struct rp_dev *dev_get(struct ih_trace_replay *r, const char *name,
			      const struct ih_trace_event *ev)
{
	unsigned int full = name_hash(name), h = full % RP_DEV_HASH;
	struct ih_device *dev = NULL;
	struct rp_dev *d;
	int ret;

	for (d = r->hash[h]; d; d = d->hash_next)
		if (d->hash == full && !strcmp(d->sum.name, name))
			return d;
	if (r->ndevs == r->devs_cap) {
		size_t cap = r->devs_cap ? 2 * r->devs_cap : 8;
		struct rp_dev **nd = ih_alloc_array(r->w, cap, sizeof(*nd), "trace:dev");

		if (!nd)
			goto err_nomem;
		if (r->ndevs)
			memcpy(nd, r->devs, r->ndevs * sizeof(*nd));
		ih_free(r->w, r->devs);
		r->devs = nd;
		r->devs_cap = cap;
	}
	ret = r->cfg.ops->get_device(r->cfg.opaque, name, &dev);
	if (ret || !dev) {
		struct ih_trace_finding *f;

		f = finding_add(r, NULL, IH_TRACE_FIND_MODEL_ERROR, ev);
		if (f) {
			snprintf(f->device, sizeof(f->device), "%s", name);
			f->err = ret ? ret : -ENODEV;
		}
		return NULL;
	}
	d = ih_alloc(r->w, sizeof(*d), "trace:dev");
	if (!d)
		goto err_nomem;
	snprintf(d->sum.name, sizeof(d->sum.name), "%s", name);
	d->hash = full;
	d->dev = dev;
	d->dom = ih_iommu_get_dma_domain(dev);
	d->sum.lazy = d->dom && ih_dma_domain_is_lazy(d->dom);
	ih_avl_init(&d->live, map_cmp, NULL);
	ih_avl_init(&d->by_pa, pa_cmp, NULL);
	d->hash_next = r->hash[h];
	r->hash[h] = d;
	r->devs[r->ndevs++] = d;
	return d;

err_nomem:
	r->err = -ENOMEM;
	return NULL;
}

/* The device of an iommu record nobody claimed (see the header). */
static struct rp_dev *dev_fallback(struct ih_trace_replay *r, const struct ih_trace_event *ev)
{
	if (r->fallback)
		return r->fallback;
	if (r->cfg.device)
		r->fallback = dev_get(r, r->cfg.device, ev);
	else if (r->ndevs == 1)
		r->fallback = r->devs[0];
	else
		r->fallback = dev_get(r, RP_FALLBACK_NAME, ev);
	return r->fallback;
}

/* ---- Clock and CPU ---- */

static void follow_clock(struct ih_trace_replay *r, const struct ih_trace_event *ev)
{
	u64 now, want;

	if (!r->st.events)
		r->st.first_ts_ns = ev->ts_ns;
	r->st.last_ts_ns = ev->ts_ns;
	if (r->cfg.fast)
		return;
	if (!r->clock_started) {
		r->clock_started = true;
		r->clock_base_ts = ev->ts_ns;
		r->clock_base_now = ih_clock_now_ns(r->w);
		return;
	}
	/* Timestamps going backwards (CPUs' clocks, merged buffers) do not move the clock. */
	if (ev->ts_ns <= r->clock_base_ts)
		return;
	want = r->clock_base_now + (ev->ts_ns - r->clock_base_ts);
	now = ih_clock_now_ns(r->w);
	if (want > now)
		ih_clock_advance(r->w, want - now);
}

static void follow_cpu(struct ih_trace_replay *r, const struct ih_trace_event *ev)
{
	unsigned int cpu = ev->cpu >= 0 ? (unsigned int)ev->cpu % r->ncpus : 0;

	if (ih_cpu_id(r->w) != cpu)
		ih_thread_set_cpu(r->w, cpu);
}

/* ---- Model operations ---- */

static void hist_add(struct rp_dev *d, u64 size)
{
	unsigned int b = 0;

	if (size > SZ_4K)
		b = 64 - (unsigned int)__builtin_clzll(size - 1) - 12;
	if (b >= IH_TRACE_HIST_BUCKETS)
		b = IH_TRACE_HIST_BUCKETS - 1;
	d->sum.hist[b]++;
}

static void model_error(struct ih_trace_replay *r, struct rp_dev *d,
			const struct ih_trace_event *ev, u64 iova, u64 size, int err)
{
	struct ih_trace_finding *f = finding_add(r, d, IH_TRACE_FIND_MODEL_ERROR, ev);

	if (f) {
		f->iova = iova;
		f->size = size;
		f->err = err;
	}
}

/* A device access at @iova through the emulated IOMMU; fills the access fields of @f. */
static int device_access(struct ih_trace_replay *r, struct rp_dev *d, u64 iova, bool write,
			 struct ih_trace_finding *f)
{
	struct ih_dev_iommu *param = READ_ONCE(d->dev->iommu);
	struct ih_iommu_device *iommu = param ? param->iommu_dev : NULL;
	bool hit = false;
	int ret;

	if (iommu && iommu->hw_ops && iommu->hw_ops->tlb_covers)
		hit = iommu->hw_ops->tlb_covers(iommu->hw, iova & ~(u64)(SZ_4K - 1), SZ_4K);
	ret = ih_dma_access(d->dev, iova, RP_ACCESS_BYTES,
			    write ? IH_DMA_FROM_DEVICE : IH_DMA_TO_DEVICE, NULL);
	d->sum.accesses++;
	if (ret)
		d->sum.faults++;
	if (f) {
		f->tlb_hit = hit;
		f->translated = !ret;
		f->write = write;
	}
	return ret;
}

/* Take @m out of the model and the live map (no accounting). */
static void drop_mapping(struct ih_trace_replay *r, struct rp_dev *d, struct rp_map *m)
{
	if (m->in_model) {
		int ret = ih_dma_unmap_page_at(d->dev, m->iova, m->size, IH_DMA_BIDIRECTIONAL, 0);

		IH_WARN_ON(r->w, ret, "trace-replay: %s: unmap of [0x%llx, +0x%llx) failed: %d",
			   d->sum.name, (unsigned long long)m->iova, (unsigned long long)m->size,
			   ret);
		r->st.applied_unmaps++;
	}
	ih_avl_erase(&d->live, &m->avl);
	if (m->pa_indexed)
		ih_avl_erase(&d->by_pa, &m->pa_avl);
	d->sum.live--;
	d->sum.live_bytes -= m->size;
	map_put(r, m);
}

static void remember_unmap(struct rp_dev *d, u64 iova, u64 size, const struct ih_trace_event *ev)
{
	struct rp_unmap *u = &d->recent[d->recent_next];

	*u = (struct rp_unmap){iova, size, ev->line, ev->ts_ns};
	d->recent_next = (d->recent_next + 1) % IH_TRACE_REPLAY_RECENT;
	if (d->recent_count < IH_TRACE_REPLAY_RECENT)
		d->recent_count++;
}

/* The newest remembered unmap covering @iova, or NULL. */
static const struct rp_unmap *recent_unmap(const struct rp_dev *d, u64 iova)
{
	for (unsigned int i = 0; i < d->recent_count; i++) {
		unsigned int k =
		    (d->recent_next + IH_TRACE_REPLAY_RECENT - 1 - i) % IH_TRACE_REPLAY_RECENT;
		const struct rp_unmap *u = &d->recent[k];

		if (iova >= u->iova && iova - u->iova < u->size)
			return u;
	}
	return NULL;
}

/* Map in the model; a range still in the flush queue is flushed out first. */
static int model_map(struct ih_trace_replay *r, struct rp_dev *d, u64 iova, u64 size)
{
	int ret = ih_dma_map_page_at(d->dev, iova, iova, size, IH_DMA_BIDIRECTIONAL, 0);

	if (ret == -EEXIST && d->dom && ih_dma_domain_is_lazy(d->dom)) {
		/* Our live map says free: the model holds it in the flush queue only. */
		ih_dma_fq_flush(d->dom);
		r->st.forced_flushes++;
		ret = ih_dma_map_page_at(d->dev, iova, iova, size, IH_DMA_BIDIRECTIONAL, 0);
	}
	return ret;
}

/*
 * Track [iova, iova + size) as live and map it in the model; @paddr is indexed for
 * dma_unmap_sg when @by_pa. No accounting beyond the live counters. NULL: out of memory.
 */
static struct rp_map *map_insert(struct ih_trace_replay *r, struct rp_dev *d,
				 const struct ih_trace_event *ev, u64 iova, u64 size, u64 paddr,
				 u64 line, u64 ts_ns, bool by_pa)
{
	struct rp_map *m = map_get(r);
	int ret;

	if (!m) {
		r->err = -ENOMEM;
		return NULL;
	}
	m->iova = iova;
	m->size = size;
	m->paddr = paddr;
	m->line = line;
	m->ts_ns = ts_ns;
	ret = model_map(r, d, iova, size);
	if (ret)
		model_error(r, d, ev, iova, size, ret);
	else
		r->st.applied_maps++;
	m->in_model = !ret;
	IH_BUG_ON(ih_avl_insert(&d->live, &m->avl), "trace-replay: live mappings overlap");
	if (by_pa && paddr) {
		IH_BUG_ON(ih_avl_insert(&d->by_pa, &m->pa_avl),
			  "trace-replay: two live mappings at one IOVA");
		m->pa_indexed = true;
	}
	d->sum.live++;
	d->sum.live_bytes += size;
	return m;
}

static void apply_map(struct ih_trace_replay *r, struct rp_dev *d, const struct ih_trace_event *ev,
		      u64 iova, u64 size)
{
	struct rp_map *m, *o;

	if (!size || iova + size < iova) {
		model_error(r, d, ev, iova, size, -EINVAL);
		return;
	}
	/* Over a live mapping: report each one it overlaps, drop them, follow the trace. */
	while ((o = map_first_from(d, iova)) && o->iova < iova + size) {
		struct ih_trace_finding *f = finding_add(r, d, IH_TRACE_FIND_MAP_OVER_LIVE, ev);

		if (f) {
			f->iova = iova;
			f->size = size;
			finding_other(f, o->line, o->ts_ns, o->iova, o->size);
		}
		drop_mapping(r, d, o);
	}
	m = map_insert(r, d, ev, iova, size, ev->paddr, ev->line, ev->ts_ns, !r->iommu_ops_seen);
	if (!m)
		return;
	/* Hand-made events leave phys_count 0: one entry, as before merged segments. */
	m->phys_count = ev->kind == IH_TRACE_DMA_MAP_SG && ev->phys_count > 1 ? ev->phys_count : 1;
	m->paddr_last = m->phys_count > 1 ? ev->paddr_last : ev->paddr;
	d->sum.maps++;
	d->sum.bytes_mapped += size;
	hist_add(d, size);
	if (d->sum.live_bytes > d->sum.peak_bytes) {
		d->sum.peak_bytes = d->sum.live_bytes;
		d->sum.peak_line = ev->line;
		d->sum.peak_ts_ns = ev->ts_ns;
	}
	if (r->cfg.dma_access && m->in_model)
		device_access(r, d, iova, false, NULL);
}

/* An unmap of [iova, iova + size) that unmaps nothing: named after the last unmap of it. */
static void unmap_nothing(struct ih_trace_replay *r, struct rp_dev *d,
			  const struct ih_trace_event *ev, u64 iova, u64 size)
{
	struct ih_trace_finding *f = finding_add(r, d, IH_TRACE_FIND_UNMAP_UNMAPPED, ev);
	const struct rp_unmap *u = recent_unmap(d, iova);

	d->sum.unmaps++;
	d->sum.bytes_unmapped += size;
	if (f) {
		f->iova = iova;
		f->size = size;
		if (u) {
			finding_other(f, u->line, u->ts_ns, u->iova, u->size);
		}
	}
	remember_unmap(d, iova, size, ev);
}

/*
 * Unmap [iova, iova + size) as the kernel's iommu_unmap() does: exactly that range. A
 * mapping the range cuts keeps its parts outside it (the page tables still map them on
 * the traced machine), re-made in the model as mappings of their own.
 */
static void apply_unmap(struct ih_trace_replay *r, struct rp_dev *d,
			const struct ih_trace_event *ev, u64 iova, u64 size)
{
	struct rp_map *m = map_first_from(d, iova), *next, *last = NULL;
	struct rp_piece head = {0}, tail = {0};
	u64 covered = 0, end = iova + size;
	bool cut = false;

	if (!m || m->iova >= end) {
		unmap_nothing(r, d, ev, iova, size);
		return;
	}
	d->sum.unmaps++;
	d->sum.bytes_unmapped += size;
	/*
	 * The unmap must cover whole mappings and nothing else: one dma_unmap_sg unmaps in
	 * one call what several maps made. A cut mapping or a gap is reported against the
	 * first mapping concerned.
	 */
	for (struct rp_map *c = m; c && c->iova < end; c = map_next(d, c)) {
		if (c->iova < iova || c->iova + c->size > end)
			cut = true;
		covered += c->size;
		last = c;
	}
	if (cut || covered != size) {
		struct ih_trace_finding *f = finding_add(r, d, IH_TRACE_FIND_UNMAP_SIZE, ev);

		if (f) {
			f->iova = iova;
			f->size = size;
			finding_other(f, m->line, m->ts_ns, m->iova, m->size);
		}
	}
	if (m->iova < iova)
		head =
		    (struct rp_piece){true, m->iova, iova - m->iova, m->paddr, m->line, m->ts_ns};
	if (last->iova + last->size > end)
		tail = (struct rp_piece){true,
					 end,
					 last->iova + last->size - end,
					 last->paddr ? last->paddr + (end - last->iova) : 0,
					 last->line,
					 last->ts_ns};
	for (; m && m->iova < end; m = next) {
		next = map_next(d, m);
		drop_mapping(r, d, m);
	}
	remember_unmap(d, iova, size, ev);
	if (head.valid)
		map_insert(r, d, ev, head.iova, head.size, head.paddr, head.line, head.ts_ns,
			   !r->iommu_ops_seen);
	if (tail.valid && !r->err)
		map_insert(r, d, ev, tail.iova, tail.size, tail.paddr, tail.line, tail.ts_ns,
			   !r->iommu_ops_seen);
}

/* Does @d know @iova: a live mapping containing it, or a remembered unmap of it? */
static bool dev_knows(struct rp_dev *d, u64 iova)
{
	struct rp_map *m = map_first_from(d, iova);

	return (m && m->iova <= iova) || recent_unmap(d, iova);
}

static void apply_fault(struct ih_trace_replay *r, const struct ih_trace_event *ev)
{
	struct rp_dev *d = ev->device[0] ? dev_get(r, ev->device, ev) : dev_fallback(r, ev);
	struct rp_dev *s; /* whose mappings the access goes through */
	bool write = ev->flags & 1;
	const struct rp_unmap *u;
	struct ih_trace_finding *f;
	struct rp_map *m;

	if (!d)
		return;
	/*
	 * A trace without dma: records (older kernels have none) leaves every map/unmap on
	 * the fallback device while the fault names the real one: when the named device
	 * knows nothing of the IOVA and the fallback does, the access is judged (and made)
	 * against the fallback's mappings; the finding stays with the named device.
	 */
	s = d;
	if (r->fallback && r->fallback != d && !dev_knows(d, ev->iova) &&
	    dev_knows(r->fallback, ev->iova))
		s = r->fallback;
	m = map_first_from(s, ev->iova);
	if (m && m->iova <= ev->iova) {
		/* A fault on a live mapping (permissions): the model decides what happens. */
		device_access(r, s, ev->iova, write, NULL);
		return;
	}
	u = recent_unmap(s, ev->iova);
	f = finding_add(r, d, u ? IH_TRACE_FIND_ACCESS_AFTER_UNMAP : IH_TRACE_FIND_ACCESS_UNMAPPED,
			ev);
	if (f) {
		f->iova = ev->iova;
		f->size = RP_ACCESS_BYTES;
		if (u) {
			finding_other(f, u->line, u->ts_ns, u->iova, u->size);
			/* The window a lazy unmap leaves open: the per-CPU queue's timeout. */
			f->lazy_window = ev->ts_ns >= u->ts_ns &&
					 ev->ts_ns - u->ts_ns < IH_DMA_FQ_PERCPU_TIMEOUT_NS;
		}
	}
	device_access(r, s, ev->iova, write, f);
}

/* ---- Attribution ---- */

static bool is_iommu_op(enum ih_trace_kind k)
{
	return k == IH_TRACE_MAP || k == IH_TRACE_UNMAP;
}

static bool is_dma_op(enum ih_trace_kind k)
{
	return k >= IH_TRACE_DMA_MAP && k <= IH_TRACE_DMA_FREE;
}

static bool dma_is_map(enum ih_trace_kind k)
{
	return k == IH_TRACE_DMA_MAP || k == IH_TRACE_DMA_MAP_SG || k == IH_TRACE_DMA_ALLOC;
}

static u64 ev_size(const struct ih_trace_event *ev)
{
	if (ev->size)
		return ev->size;
	return ev->iova_end > ev->iova ? ev->iova_end - ev->iova : 0;
}

/* The IOVA range a dma: record covers; dma_unmap_sg prints none: all of them. */
static void dma_range(const struct ih_trace_event *dma, u64 *lo, u64 *hi)
{
	if (dma->kind == IH_TRACE_DMA_UNMAP_SG && !dma->size) {
		*lo = 0;
		*hi = ~0ULL;
		return;
	}
	*lo = dma->iova;
	*hi = dma->iova + (dma->size ? dma->size : 1);
	if (*hi < *lo)
		*hi = ~0ULL;
}

/* Does dma: record @dma belong to the same call as iommu record @io? */
static bool pairs(const struct ih_trace_event *io, const struct ih_trace_event *dma)
{
	u64 lo = io->iova, hi = io->iova + ev_size(io), dlo, dhi;

	if (!is_dma_op(dma->kind) || dma->cpu != io->cpu || dma->pid != io->pid ||
	    dma_is_map(dma->kind) != (io->kind == IH_TRACE_MAP) || !dma->device[0])
		return false;
	dma_range(dma, &dlo, &dhi);
	return dlo < hi && lo < dhi;
}

/*
 * A dma_unmap_sg segment of a dma-only trace: the live mapping of its physical page. A
 * mapping the IOMMU merged from several entries goes at its first one; the record's next
 * entries are its other pages (only the last is checked: the map kept no more).
 */
static void apply_unmap_sg_by_paddr(struct ih_trace_replay *r, struct rp_dev *d,
				    const struct ih_trace_event *ev)
{
	struct rp_sg_run *run = &r->sg_run;
	struct rp_map *m;
	struct ih_trace_finding *f;

	if (run->valid && run->dev == d && run->line == ev->line && ev->seg == run->next) {
		run->next++;
		if (run->next < run->end)
			return;
		run->valid = false;
		if (ev->paddr == run->paddr_last)
			return;
		/* The merged mapping ended on another page: this one was never mapped. */
		f = finding_add(r, d, IH_TRACE_FIND_UNMAP_UNMAPPED, ev);
		if (f) {
			f->iova = f->size = 0;
			finding_other(f, run->map_line, run->map_ts_ns, run->map_iova,
				      run->map_size);
		}
		return;
	}
	run->valid = false;
	m = ev->paddr ? map_by_paddr(d, ev->paddr) : NULL;
	if (m) {
		if (m->phys_count > 1)
			*run = (struct rp_sg_run){.valid = true,
						  .dev = d,
						  .line = ev->line,
						  .next = ev->seg + 1,
						  .end = ev->seg + m->phys_count,
						  .paddr_last = m->paddr_last,
						  .map_line = m->line,
						  .map_ts_ns = m->ts_ns,
						  .map_iova = m->iova,
						  .map_size = m->size};
		/* @m goes back to the free list here: the run copied what it needs. */
		apply_unmap(r, d, ev, m->iova, m->size);
		return;
	}
	/* No live mapping of that page: nothing to unmap, and no IOVA range to name. */
	d->sum.unmaps++;
	f = finding_add(r, d, IH_TRACE_FIND_UNMAP_UNMAPPED, ev);
	if (f)
		f->iova = f->size = 0;
}

static struct rp_dev *attribute(struct ih_trace_replay *r, const struct ih_trace_event *io)
{
	const struct rp_last_dma *l;

	for (unsigned int i = 0; i < r->win_count; i++) {
		const struct ih_trace_event *c =
		    &r->win[(r->win_head + i) % IH_TRACE_REPLAY_WINDOW];

		if (pairs(io, c)) {
			r->st.attributed++;
			return dev_get(r, c->device, c);
		}
	}
	l = &r->last_dma[(unsigned int)io->cpu % RP_LAST_DMA_CPUS];
	if (l->valid && l->pid == io->pid && l->map == (io->kind == IH_TRACE_MAP) &&
	    l->lo < io->iova + ev_size(io) && io->iova < l->hi) {
		r->st.attributed++;
		return l->dev;
	}
	r->st.fallback++;
	return dev_fallback(r, io);
}

/*
 * iommu:unmap: the kernel's iommu_unmap() stops at the first page with nothing mapped and
 * prints what it did unmap (unmapped_size): only that much goes. Asking for more than was
 * mapped is a size finding even when what did go matches a map exactly; nothing unmapped
 * is an unmap of an unmapped range, the replay's own map notwithstanding.
 */
static void apply_iommu_unmap(struct ih_trace_replay *r, struct rp_dev *d,
			      const struct ih_trace_event *ev)
{
	u64 size = ev_size(ev), done = ev->unmapped_size < size ? ev->unmapped_size : size;
	u64 before = r->st.findings[IH_TRACE_FIND_UNMAP_SIZE];
	struct rp_piece other;
	struct rp_map *m;
	struct ih_trace_finding *f;

	if (done == size) {
		apply_unmap(r, d, ev, ev->iova, size);
		return;
	}
	if (!done) {
		unmap_nothing(r, d, ev, ev->iova, size);
		return;
	}
	m = map_first_from(d, ev->iova);
	if (!m || m->iova >= ev->iova + done) {
		unmap_nothing(r, d, ev, ev->iova, size);
		return;
	}
	/* @m goes back to the free list below: what the finding names is read first. */
	other = (struct rp_piece){true, m->iova, m->size, 0, m->line, m->ts_ns};
	apply_unmap(r, d, ev, ev->iova, done);
	if (r->st.findings[IH_TRACE_FIND_UNMAP_SIZE] != before)
		return;
	f = finding_add(r, d, IH_TRACE_FIND_UNMAP_SIZE, ev);
	if (f) {
		f->iova = ev->iova;
		f->size = size;
		finding_other(f, other.line, other.ts_ns, other.iova, other.size);
	}
}

/* Apply one event leaving the window. */
static void apply(struct ih_trace_replay *r, const struct ih_trace_event *ev)
{
	struct rp_dev *d;

	follow_clock(r, ev);
	follow_cpu(r, ev);
	switch (ev->kind) {
	case IH_TRACE_MAP:
	case IH_TRACE_UNMAP:
		/* iommu_map()/iommu_unmap() of 0 bytes change nothing (and are traced). */
		if (!ev_size(ev)) {
			r->st.ignored++;
			return;
		}
		d = attribute(r, ev);
		if (!d)
			return;
		if (ev->kind == IH_TRACE_MAP)
			apply_map(r, d, ev, ev->iova, ev_size(ev));
		else
			apply_iommu_unmap(r, d, ev);
		return;
	case IH_TRACE_IO_PAGE_FAULT:
		apply_fault(r, ev);
		return;
	case IH_TRACE_ATTACH:
	case IH_TRACE_ADD_TO_GROUP:
		/* The device exists from here on (it shows in the summary). */
		if (ev->device[0])
			dev_get(r, ev->device, ev);
		return;
	case IH_TRACE_DMA_MAP:
	case IH_TRACE_DMA_UNMAP:
	case IH_TRACE_DMA_MAP_SG:
	case IH_TRACE_DMA_UNMAP_SG:
	case IH_TRACE_DMA_ALLOC:
	case IH_TRACE_DMA_FREE: {
		struct rp_last_dma *l = &r->last_dma[(unsigned int)ev->cpu % RP_LAST_DMA_CPUS];

		if (!ev->device[0])
			return;
		d = dev_get(r, ev->device, ev);
		if (!d)
			return;
		*l = (struct rp_last_dma){
		    .valid = true, .pid = ev->pid, .map = dma_is_map(ev->kind), .dev = d};
		dma_range(ev, &l->lo, &l->hi);
		if (r->iommu_ops_seen)
			return;
		/* No iommu records in this trace: the dma: records are the mappings. */
		if (ev->kind == IH_TRACE_DMA_UNMAP_SG && !ev->size) {
			r->st.standalone++;
			apply_unmap_sg_by_paddr(r, d, ev);
			return;
		}
		if (!ev->size || ev->iova + ev->size < ev->iova)
			return; /* a failed map (DMA_MAPPING_ERROR) maps nothing */
		r->st.standalone++;
		if (dma_is_map(ev->kind))
			apply_map(r, d, ev, ev->iova, ev->size);
		else
			apply_unmap(r, d, ev, ev->iova, ev->size);
		return;
	}
	default:
		r->st.ignored++;
		return;
	}
}

/* ---- API ---- */

int ih_trace_replay_create(struct ih_world *w, const struct ih_trace_replay_config *cfg,
			   struct ih_trace_replay **out)
{
	struct ih_trace_replay *r;

	if (!w || !cfg || !cfg->ops || !cfg->ops->get_device || !out)
		return -EINVAL;
	r = ih_alloc(w, sizeof(*r), "trace:replay");
	if (!r)
		return -ENOMEM;
	r->w = w;
	r->cfg = *cfg;
	r->ncpus = ih_world_ncpus(w);
	r->max_findings = cfg->max_findings ? cfg->max_findings : RP_MAX_FINDINGS;
	r->findings = ih_alloc_array(w, r->max_findings, sizeof(*r->findings), "trace:findings");
	if (!r->findings) {
		ih_free(w, r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

int ih_trace_replay_event(struct ih_trace_replay *r, const struct ih_trace_event *ev)
{
	unsigned int slot;

	if (!r || !ev || r->finished)
		return -EINVAL;
	if (r->err)
		return r->err;
	if (is_iommu_op(ev->kind))
		r->iommu_ops_seen++;
	if (r->win_count == IH_TRACE_REPLAY_WINDOW) {
		struct ih_trace_event *old = &r->win[r->win_head];

		r->win_head = (r->win_head + 1) % IH_TRACE_REPLAY_WINDOW;
		r->win_count--;
		/* @old's slot is only reused below, after it has been applied. */
		apply(r, old);
		r->st.events++;
	}
	slot = (r->win_head + r->win_count) % IH_TRACE_REPLAY_WINDOW;
	r->win[slot] = *ev;
	r->win_count++;
	return r->err;
}

int ih_trace_replay_finish(struct ih_trace_replay *r)
{
	if (!r || r->finished)
		return -EINVAL;
	while (r->win_count && !r->err) {
		struct ih_trace_event *old = &r->win[r->win_head];

		r->win_head = (r->win_head + 1) % IH_TRACE_REPLAY_WINDOW;
		r->win_count--;
		apply(r, old);
		r->st.events++;
	}
	r->finished = true;
	for (size_t i = 0; i < r->ndevs; i++) {
		struct rp_dev *d = r->devs[i];
		struct ih_avl_node *first = ih_avl_first(&d->live);
		struct rp_map *oldest = NULL;
		struct ih_trace_finding *f;

		if (!first)
			continue;
		/* The oldest by line, for the report (a walk: once per device, at the end). */
		for (struct ih_avl_node *n = first; n; n = ih_avl_next(&d->live, n))
			if (!oldest || MAP(n)->line < oldest->line)
				oldest = MAP(n);
		f = finding_add(r, d, IH_TRACE_FIND_LIVE_AT_END, NULL);
		if (f) {
			f->line = oldest->line;
			f->ts_ns = oldest->ts_ns;
			f->iova = oldest->iova;
			f->size = d->sum.live_bytes;
			f->count = d->sum.live;
		}
	}
	return r->err;
}

void ih_trace_replay_get_stats(const struct ih_trace_replay *r, struct ih_trace_replay_stats *st)
{
	*st = r->st;
}

u64 ih_trace_replay_nfindings(const struct ih_trace_replay *r)
{
	u64 n = 0;

	for (unsigned int k = 0; k < IH_TRACE_FIND_KIND_COUNT; k++)
		n += r->st.findings[k];
	return n;
}

const struct ih_trace_finding *ih_trace_replay_finding(const struct ih_trace_replay *r, size_t i)
{
	return i < r->nfindings ? &r->findings[i] : NULL;
}

size_t ih_trace_replay_ndevices(const struct ih_trace_replay *r)
{
	return r->ndevs;
}

int ih_trace_replay_device(const struct ih_trace_replay *r, size_t i,
			   struct ih_trace_dev_summary *out)
{
	if (i >= r->ndevs)
		return -ENOENT;
	*out = r->devs[i]->sum;
	return 0;
}

static void drain_map(struct ih_avl_node *n, void *arg)
{
	struct ih_trace_replay *r = arg;

	ih_free(r->w, MAP(n));
}

void ih_trace_replay_destroy(struct ih_trace_replay *r)
{
	struct ih_world *w;

	if (!r)
		return;
	w = r->w;
	for (size_t i = 0; i < r->ndevs; i++) {
		struct rp_dev *d = r->devs[i];
		struct ih_avl_node *n;

		/* Unmap in the model what is still mapped, then free the nodes. */
		for (n = ih_avl_first(&d->live); n; n = ih_avl_next(&d->live, n))
			if (MAP(n)->in_model)
				ih_dma_unmap_page_at(d->dev, MAP(n)->iova, MAP(n)->size,
						     IH_DMA_BIDIRECTIONAL, 0);
		ih_avl_drain(&d->live, drain_map, r);
		if (d->dom)
			ih_dma_fq_flush(d->dom);
		ih_free(w, d);
	}
	while (r->free_maps) {
		struct rp_map *m = r->free_maps;

		r->free_maps = m->next_free;
		ih_free(w, m);
	}
	ih_free(w, r->devs);
	ih_free(w, r->findings);
	ih_free(w, r);
}
