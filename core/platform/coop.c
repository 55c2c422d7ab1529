// SPDX-License-Identifier: MIT
/* Cooperative scheduler: one baton among logical threads, handed over at schedule points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ih/alloc.h>
#include <ih/coop.h>
#include <ih/diag.h>
#include <ih/sched.h>
#include "world_priv.h"

/*
 * Lock order: coop.lock is a leaf. A logical thread runs model code only while it holds
 * the baton (c->current == its index), so model state needs no extra locking between
 * logical threads; the baton hand-off (under coop.lock) orders their memory accesses.
 */

#define COOP_MAX_STEPS 128
#define COOP_POINT_MAX 64
#define COOP_WATCHDOG_S 10
#define COOP_STAY_NAMES 64

enum coop_tstate { T_RUNNABLE, T_BLOCKED, T_DONE };
enum coop_event { EV_POINT, EV_DONE, EV_BLOCK };
enum coop_mode { M_SCRIPT, M_RANDOM, M_CHOICES };

struct coop_thread {
	struct ih_coop *c;
	int idx;
	ih_coop_fn fn;
	void *arg;
	unsigned int cpu;
	pthread_t th;
	enum coop_tstate st;
	void *blocked_on;
	int prio;
};

struct coop_step {
	int thread;
	char point[COOP_POINT_MAX]; /* "" = until done, "#" = until it blocks */
};

struct ih_coop {
	struct ih_world *w;
	pthread_mutex_t lock; /* protects everything below */
	pthread_cond_t cond;
	struct coop_thread t[IH_COOP_MAX_THREADS];
	int n;
	int current; /* baton holder; -1: the caller of the run */
	bool running;
	enum coop_mode mode;
	struct coop_step steps[COOP_MAX_STEPS];
	int nsteps, step;
	u64 rng;
	unsigned int pct_depth, points;
	const u8 *choices;
	size_t nchoices, cpos;
	unsigned int change[8];
	char *trace;
	size_t tlen, tpos;
	/* Points the running thread passed without a switch since its last trace step:
	 * hashes of their names and how often (see trace_step()). */
	struct {
		u64 hash;
		unsigned int count;
	} stay[COOP_STAY_NAMES];
	unsigned int nstay;
	bool stay_overflow;
	int error;
	struct ih_coop_workers *workers; /* NULL: a pthread per logical thread per run */
};

/*
 * Pooled pthreads that carry logical threads run after run (ih_coop_use_workers()).
 * Each slot is one worker: the runner posts a job, the worker runs it and goes idle.
 */
enum worker_state { W_IDLE, W_POSTED, W_BUSY, W_EXIT };

struct coop_worker {
	struct ih_coop_workers *pool;
	pthread_t th;
	enum worker_state st;
	void *(*fn)(void *);
	void *arg;
};

struct ih_coop_workers {
	pthread_mutex_t lock; /* protects every slot's st, fn and arg */
	pthread_cond_t cond;
	unsigned int n;
	struct coop_worker w[IH_COOP_MAX_THREADS];
};

static _Thread_local struct coop_thread *tls_self;

bool ih_coop_thread_active(void)
{
	return tls_self != NULL;
}

static void trace_add(struct ih_coop *c, int thread, const char *point)
{
	int n;

	if (!c->trace || c->tpos + 1 >= c->tlen)
		return;
	n = snprintf(c->trace + c->tpos, c->tlen - c->tpos, "%s%c%s%s", c->tpos ? " " : "",
		     'A' + thread, point && point[0] && point[0] != '#' ? "@" : "",
		     point ? point : "");
	if (n > 0)
		c->tpos = ih_min(c->tpos + (size_t)n, c->tlen - 1);
}

static u64 name_hash(const char *p)
{
	u64 h = 14695981039346656037ULL;

	while (*p)
		h = (h ^ (u8)*p++) * 1099511628211ULL;
	return h;
}

/* The running thread passes @point and goes on: count it for its next trace step. */
static void trace_stay(struct ih_coop *c, const char *point)
{
	u64 h = name_hash(point);
	unsigned int i;

	for (i = 0; i < c->nstay && c->stay[i].hash != h; i++)
		;
	if (i == COOP_STAY_NAMES) {
		c->stay_overflow = true;
		return;
	}
	if (i == c->nstay) {
		c->stay[c->nstay].hash = h;
		c->stay[c->nstay++].count = 0;
	}
	c->stay[i].count++;
}

/*
 * @thread's step ends at @ev. A script step "A@p" runs A to its next @p only, so a point
 * the thread already passed in this step is named once per pass before it: A passing p
 * twice and switching at the third gives "A@p A@p A@p".
 */
static void trace_step(struct ih_coop *c, int thread, enum coop_event ev, const char *point)
{
	if (ev == EV_POINT) {
		u64 h = name_hash(point);

		if (c->stay_overflow)
			fprintf(stderr, "coop: more than %d point names in one step: the trace "
					"may not replay\n", COOP_STAY_NAMES);
		for (unsigned int i = 0; i < c->nstay; i++)
			for (unsigned int k = 0; c->stay[i].hash == h && k < c->stay[i].count; k++)
				trace_add(c, thread, point);
	}
	trace_add(c, thread, ev == EV_POINT ? point : ev == EV_BLOCK ? "#" : "");
	c->nstay = 0;
	c->stay_overflow = false;
}

/* Trace @self's event given who runs next (@want); return @want. */
static int trace_choice(struct ih_coop *c, struct coop_thread *self, enum coop_event ev,
			const char *point, int want)
{
	if (want != self->idx || ev != EV_POINT)
		trace_step(c, self->idx, ev, point);
	else
		trace_stay(c, point);
	return want;
}

static int first_runnable(struct ih_coop *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->t[i].st == T_RUNNABLE)
			return i;
	return -1;
}

static int pick_random(struct ih_coop *c)
{
	int cand[IH_COOP_MAX_THREADS], n = 0, best = -1;

	for (int i = 0; i < c->n; i++)
		if (c->t[i].st == T_RUNNABLE)
			cand[n++] = i;
	if (!n)
		return -1;
	if (!c->pct_depth)
		return cand[ih_splitmix64(&c->rng) % (u64)n];
	for (int i = 0; i < n; i++)
		if (best < 0 || c->t[cand[i]].prio > c->t[best].prio)
			best = cand[i];
	return best;
}

/*
 * Choice-driven pick: a byte decides only where there is a choice, so that every input
 * byte steers a real decision; once they run out, @self keeps running if it can (the
 * fewest switches), else the lowest-index runnable thread. @self < 0: the first pick.
 */
static int pick_choice(struct ih_coop *c, int self)
{
	int cand[IH_COOP_MAX_THREADS], n = 0;

	for (int i = 0; i < c->n; i++)
		if (c->t[i].st == T_RUNNABLE)
			cand[n++] = i;
	if (n <= 1)
		return n ? cand[0] : -1;
	if (c->cpos < c->nchoices)
		return cand[c->choices[c->cpos++] % n];
	return self >= 0 && c->t[self].st == T_RUNNABLE ? self : cand[0];
}

/* Who runs next after @self's event. Called with c->lock held. */
static int choose(struct ih_coop *c, struct coop_thread *self, enum coop_event ev,
		  const char *point)
{
	int want;

	if (c->mode == M_CHOICES)
		return trace_choice(c, self, ev, point, pick_choice(c, self->idx));
	if (c->mode == M_RANDOM) {
		if (ev == EV_POINT) {
			c->points++;
			for (unsigned int i = 0; i + 1 < c->pct_depth && i < ARRAY_SIZE(c->change); i++)
				if (c->change[i] == c->points)
					self->prio = -(int)c->points; /* below every initial priority */
		}
		return trace_choice(c, self, ev, point, pick_random(c));
	}

	/* Script: does this event end the current step? */
	if (c->step < c->nsteps && c->steps[c->step].thread == self->idx) {
		const char *p = c->steps[c->step].point;
		bool ends = (ev == EV_POINT && p[0] && strcmp(p, "#") && !strcmp(p, point)) ||
			    (ev == EV_DONE && !p[0]) || (ev == EV_BLOCK && !strcmp(p, "#"));

		if (ev == EV_DONE && p[0] && !ends) {
			fprintf(stderr, "coop: thread %c finished before reaching %s\n",
				'A' + self->idx, p);
			c->error = -EINVAL;
		}
		if (ends || ev == EV_DONE)
			c->step++;
	}
	want = c->step < c->nsteps ? c->steps[c->step].thread : first_runnable(c);
	if (want >= 0 && c->t[want].st == T_DONE) {
		fprintf(stderr, "coop: script step %d names finished thread %c\n", c->step + 1,
			'A' + want);
		c->error = -EINVAL;
		c->step = c->nsteps;
		want = first_runnable(c);
	}
	if (want >= 0 && c->t[want].st != T_RUNNABLE) {
		/* The step's thread waits for a lock: let the holder (or anyone) run on. */
		want = self->st == T_RUNNABLE ? self->idx : first_runnable(c);
	}
	return trace_choice(c, self, ev, point, want);
}

static void wait_baton(struct ih_coop *c, struct coop_thread *self)
{
	while (c->current != self->idx) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += COOP_WATCHDOG_S;
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			IH_BUG_ON(c->current != self->idx && c->current >= 0,
				  "coop: thread %c held the baton %d s without reaching a schedule "
				  "point (blocked outside the scheduler?)",
				  'A' + c->current, COOP_WATCHDOG_S);
	}
}

static void hand_to(struct ih_coop *c, int next)
{
	c->current = next;
	pthread_cond_broadcast(&c->cond);
}

static void coop_point(void *opaque, const char *name)
{
	struct ih_coop *c = opaque;
	struct coop_thread *self = tls_self;
	int next;

	if (!self || self->c != c)
		return; /* not one of ours (the caller of the run, a hardware thread) */
	pthread_mutex_lock(&c->lock);
	next = choose(c, self, EV_POINT, name);
	if (next != self->idx) {
		hand_to(c, next);
		wait_baton(c, self);
	}
	pthread_mutex_unlock(&c->lock);
}

void ih_coop_mutex_wait(void *mutex)
{
	struct coop_thread *self = tls_self;
	struct ih_coop *c = self->c;
	int next;

	pthread_mutex_lock(&c->lock);
	self->st = T_BLOCKED;
	self->blocked_on = mutex;
	next = choose(c, self, EV_BLOCK, "#");
	IH_BUG_ON(next < 0, "coop: deadlock: every unfinished thread is blocked (%c waits for %p)",
		  'A' + self->idx, mutex);
	hand_to(c, next);
	wait_baton(c, self);
	pthread_mutex_unlock(&c->lock);
}

void ih_coop_mutex_released(void *mutex)
{
	struct ih_coop *c = tls_self->c;

	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < c->n; i++) {
		if (c->t[i].st == T_BLOCKED && c->t[i].blocked_on == mutex) {
			c->t[i].st = T_RUNNABLE;
			c->t[i].blocked_on = NULL;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

static void *coop_thread_main(void *arg)
{
	struct coop_thread *self = arg;
	struct ih_coop *c = self->c;
	int next;

	tls_self = self;
	ih_thread_set_cpu(c->w, self->cpu);
	pthread_mutex_lock(&c->lock);
	wait_baton(c, self);
	pthread_mutex_unlock(&c->lock);

	self->fn(self->arg);

	pthread_mutex_lock(&c->lock);
	self->st = T_DONE;
	next = choose(c, self, EV_DONE, NULL);
	if (next < 0) {
		bool all_done = true;

		for (int i = 0; i < c->n; i++)
			all_done &= c->t[i].st == T_DONE;
		IH_BUG_ON(!all_done, "coop: deadlock: the threads left are all blocked");
	}
	hand_to(c, next);
	pthread_mutex_unlock(&c->lock);
	tls_self = NULL;
	return NULL;
}

static void *worker_main(void *arg)
{
	struct coop_worker *wk = arg;
	struct ih_coop_workers *p = wk->pool;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (wk->st == W_IDLE || wk->st == W_BUSY)
			pthread_cond_wait(&p->cond, &p->lock);
		if (wk->st == W_EXIT)
			break;
		wk->st = W_BUSY;
		pthread_mutex_unlock(&p->lock);
		wk->fn(wk->arg);
		pthread_mutex_lock(&p->lock);
		wk->st = W_IDLE;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int ih_coop_workers_create(struct ih_coop_workers **out)
{
	struct ih_coop_workers *p;

	*out = NULL;
	/* Not a world's allocation: the pool outlives the worlds whose runs it carries. */
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (; p->n < IH_COOP_MAX_THREADS; p->n++) {
		struct coop_worker *wk = &p->w[p->n];

		wk->pool = p;
		wk->st = W_IDLE;
		if (pthread_create(&wk->th, NULL, worker_main, wk)) {
			ih_coop_workers_destroy(p);
			return -ENOMEM;
		}
	}
	*out = p;
	return 0;
}

void ih_coop_workers_destroy(struct ih_coop_workers *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	for (unsigned int i = 0; i < p->n; i++) {
		IH_BUG_ON(p->w[i].st != W_IDLE, "coop: workers destroyed during a run");
		p->w[i].st = W_EXIT;
	}
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->n; i++)
		pthread_join(p->w[i].th, NULL);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int ih_coop_use_workers(struct ih_coop *c, struct ih_coop_workers *p)
{
	if (c->running)
		return -EINVAL;
	c->workers = p;
	return 0;
}

/* Start logical thread @i of a run: on worker @i of the pool, or on a new pthread. */
static int start_thread(struct ih_coop *c, int i)
{
	struct ih_coop_workers *p = c->workers;

	if (!p)
		return pthread_create(&c->t[i].th, NULL, coop_thread_main, &c->t[i]) ? -ENOMEM : 0;
	pthread_mutex_lock(&p->lock);
	p->w[i].fn = coop_thread_main;
	p->w[i].arg = &c->t[i];
	p->w[i].st = W_POSTED;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Wait until the @n logical threads started have returned (joined, or their workers idle). */
static void reap_threads(struct ih_coop *c, int n)
{
	struct ih_coop_workers *p = c->workers;

	if (!p) {
		for (int i = 0; i < n; i++)
			pthread_join(c->t[i].th, NULL);
		return;
	}
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < n; i++)
		while (p->w[i].st != W_IDLE)
			pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

int ih_coop_create(struct ih_world *w, struct ih_coop **out)
{
	struct ih_coop *c;

	*out = NULL;
	if (w->cfg.mode != IH_EXEC_SEQUENTIAL || __atomic_load_n(&w->sched.hook, __ATOMIC_ACQUIRE))
		return -EINVAL;
	c = ih_alloc(w, sizeof(*c), "coop:scheduler");
	if (!c)
		return -ENOMEM;
	c->w = w;
	c->current = -1;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	ih_sched_set_hook(w, coop_point, c);
	*out = c;
	return 0;
}

void ih_coop_destroy(struct ih_coop *c)
{
	if (!c)
		return;
	IH_BUG_ON(c->running, "coop: destroyed during a run");
	ih_sched_set_hook(c->w, NULL, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	ih_free(c->w, c);
}

int ih_coop_add(struct ih_coop *c, ih_coop_fn fn, void *arg, unsigned int cpu)
{
	struct coop_thread *t;

	if (!fn || c->running || c->n == IH_COOP_MAX_THREADS || cpu >= c->w->cfg.ncpus)
		return -EINVAL;
	t = &c->t[c->n];
	memset(t, 0, sizeof(*t));
	t->c = c;
	t->idx = c->n;
	t->fn = fn;
	t->arg = arg;
	t->cpu = cpu;
	t->st = T_RUNNABLE;
	return c->n++;
}

static int parse_script(struct ih_coop *c, const char *s)
{
	c->nsteps = 0;
	while (*s) {
		size_t len;
		struct coop_step *st;

		s += strspn(s, " ,\t\n");
		if (!*s)
			break;
		len = strcspn(s, " ,\t\n");
		if (c->nsteps == COOP_MAX_STEPS || s[0] < 'A' || s[0] >= 'A' + c->n)
			return -EINVAL;
		st = &c->steps[c->nsteps++];
		st->thread = s[0] - 'A';
		st->point[0] = '\0';
		if (len > 1) {
			const char *p = s + 1 + (s[1] == '@');
			size_t plen = len - (size_t)(p - s);

			if ((s[1] != '@' && s[1] != '#') || (s[1] == '#' && len != 2) ||
			    (s[1] == '@' && (plen == 0 || plen >= COOP_POINT_MAX)))
				return -EINVAL;
			memcpy(st->point, s[1] == '#' ? "#" : p, s[1] == '#' ? 1 : plen);
			st->point[s[1] == '#' ? 1 : plen] = '\0';
		}
		s += len;
	}
	return 0;
}

static int run(struct ih_coop *c, char *trace, size_t len)
{
	int ret = 0, started = 0, first;

	c->trace = trace;
	c->tlen = len;
	c->tpos = 0;
	c->nstay = 0;
	c->stay_overflow = false;
	if (trace && len)
		trace[0] = '\0';
	c->error = 0;
	c->step = 0;
	c->running = true;
	for (int i = 0; i < c->n; i++) {
		ret = start_thread(c, i);
		if (ret)
			break;
		started++;
	}
	pthread_mutex_lock(&c->lock);
	if (ret) {
		/* Let the started ones run to completion with the rest marked done. */
		for (int i = started; i < c->n; i++)
			c->t[i].st = T_DONE;
	}
	if (c->mode == M_CHOICES)
		first = pick_choice(c, -1);
	else if (c->mode == M_RANDOM)
		first = pick_random(c);
	else
		first = c->nsteps ? c->steps[0].thread : first_runnable(c);
	hand_to(c, first);
	while (c->current != -1)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	reap_threads(c, started);
	c->running = false;
	c->n = 0;
	return ret ? ret : c->error;
}

int ih_coop_run_script(struct ih_coop *c, const char *script, char *trace, size_t len)
{
	if (c->running || !c->n || !script || parse_script(c, script))
		return -EINVAL;
	if (c->nsteps && c->t[c->steps[0].thread].st != T_RUNNABLE)
		return -EINVAL;
	c->mode = M_SCRIPT;
	return run(c, trace, len);
}

int ih_coop_run_random(struct ih_coop *c, u64 seed, unsigned int pct_depth,
		       unsigned int pct_steps, char *trace, size_t len)
{
	if (c->running || !c->n)
		return -EINVAL;
	c->mode = M_RANDOM;
	c->rng = seed;
	c->pct_depth = pct_depth;
	c->points = 0;
	c->nsteps = 0;
	/* PCT: a random priority order, and d - 1 change points within the horizon. */
	for (int i = 0; i < c->n; i++)
		c->t[i].prio = (int)(ih_splitmix64(&c->rng) % 1000000) + 1;
	for (unsigned int i = 0; i < ARRAY_SIZE(c->change); i++)
		c->change[i] = pct_steps ? 1 + (unsigned int)(ih_splitmix64(&c->rng) % pct_steps) : 0;
	return run(c, trace, len);
}

int ih_coop_run_choices(struct ih_coop *c, const u8 *choices, size_t n, char *trace,
			size_t len)
{
	if (c->running || !c->n || (!choices && n))
		return -EINVAL;
	c->mode = M_CHOICES;
	c->choices = choices;
	c->nchoices = n;
	c->cpos = 0;
	c->nsteps = 0;
	return run(c, trace, len);
}
