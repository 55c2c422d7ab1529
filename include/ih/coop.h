/* SPDX-License-Identifier: MIT */
/* Cooperative scheduler: logical threads that switch only at schedule points. */
#ifndef IH_COOP_H
#define IH_COOP_H

#include <ih/compat.h>

struct ih_world;
struct ih_coop;

/*
 * In a sequential world, a cooperative scheduler runs several logical threads (a function,
 * an argument and a model CPU each) of which exactly one runs at any time. Control moves
 * only at ih_sched_point() calls, when a thread finishes, or when it would block on an
 * ih_mutex another logical thread holds. So one interleaving is one sequence of choices,
 * which a script states exactly, a seed reproduces, and a byte string (a fuzzer's input,
 * ih_coop_run_choices()) spells out decision by decision.
 *
 * Logical threads are real pthreads handing one baton around (not ucontext: that works
 * under ASan and TSan unchanged, and each thread keeps its own TLS such as its model CPU).
 * Blocking primitives the scheduler cannot see (anything but ih_mutex and the device lock)
 * must not be contended between logical threads; a hand-off that takes longer than the
 * watchdog is reported as such and aborts (IH_BUG_ON), never hangs.
 *
 * Script syntax: steps separated by spaces or commas. "A@point" runs thread A until it
 * reaches the schedule point named `point`, then moves to the next step; "A" runs thread A
 * until it finishes. Threads are named by single letters in the order they were added
 * (A, B, C, ...). When a step's thread blocks, the holder of the lock runs until it lets
 * go; when the script ends, the remaining threads run to completion in order.
 * The trace a run prints is itself a script that replays the run (a point the thread
 * passed earlier in the same step is named once per pass: "A@p A@p B" switches at A's
 * second p).
 */

#define IH_COOP_MAX_THREADS 8

typedef void (*ih_coop_fn)(void *arg);

/**
 * ih_coop_create() - a scheduler for @w, installed as its schedule-point hook.
 * Return: 0; -EINVAL when @w is not sequential or already has a hook; -ENOMEM.
 */
int ih_coop_create(struct ih_world *w, struct ih_coop **out);

/* ih_coop_destroy() - uninstall and free (all runs must have ended). */
void ih_coop_destroy(struct ih_coop *c);

/**
 * ih_coop_add() - add logical thread @fn(@arg) running as model CPU @cpu.
 * Return: its index (0 = "A"), or -EINVAL (bad cpu, too many threads, a run active).
 */
int ih_coop_add(struct ih_coop *c, ih_coop_fn fn, void *arg, unsigned int cpu);

/**
 * ih_coop_run_script() - run every added thread to completion following @script.
 * @trace: optional buffer for the trace of what ran (a script), @len bytes.
 * Return: 0; -EINVAL for a bad script (unknown thread letter, empty point name) or a
 * step naming a finished thread; -EDEADLK when every unfinished thread is blocked.
 * The threads are consumed: add new ones for the next run.
 */
int ih_coop_run_script(struct ih_coop *c, const char *script, char *trace, size_t len);

/**
 * ih_coop_run_random() - run every added thread to completion choosing at each point.
 * @seed: the PRNG seed.
 * @pct_depth: 0 for uniform random choice at every point; d >= 1 for PCT: random
 *	distinct thread priorities, the highest runnable one runs, and at d - 1 change
 *	points drawn among the first @pct_steps points the running thread drops to the
 *	lowest priority.
 * @pct_steps: the horizon for change points (e.g. 64).
 * Return: as ih_coop_run_script().
 */
int ih_coop_run_random(struct ih_coop *c, u64 seed, unsigned int pct_depth,
		       unsigned int pct_steps, char *trace, size_t len);

/**
 * ih_coop_run_choices() - run every added thread to completion as @choices say.
 * @c: the scheduler, with threads added.
 * @choices: one byte per decision (e.g. a fuzzer's input); NULL only when @n is 0.
 * @n: how many bytes @choices holds.
 * @trace: optional buffer for the trace of what ran (a script), @len bytes.
 * @len: size of @trace.
 *
 * A decision is the first pick of a run and every schedule point, block and finish of
 * a thread. The candidates are the runnable threads in index order (A, B, ...). Where
 * there are two or more, the next byte b picks candidate[b % ncandidates]; where there
 * is one, it runs and no byte is consumed, so every byte steers a real choice. When the
 * bytes run out, the thread that reached the point keeps running if it is runnable, else
 * the lowest-index runnable one does (the fewest switches: an empty @choices runs A to
 * completion, then B, ...). The same @choices give the same run; the trace, as
 * ih_coop_run_random()'s, replays it with ih_coop_run_script().
 *
 * Context: the caller of the run (not a logical thread); sleeps until the run ends.
 * Return: 0; -EINVAL when a run is active, no thread was added, or @choices is NULL
 * with @n > 0; -ENOMEM when a thread could not be started (the started ones still run
 * to completion). Every unfinished thread blocked is a deadlock (IH_BUG_ON).
 * The threads are consumed: add new ones for the next run.
 */
int ih_coop_run_choices(struct ih_coop *c, const u8 *choices, size_t n, char *trace,
			size_t len);

struct ih_coop_workers;

/**
 * ih_coop_workers_create() - a pool of IH_COOP_MAX_THREADS pthreads that carry logical
 * threads run after run, for callers that run many short schedules (a fuzz target runs
 * one per input): a pthread created and joined per logical thread per run costs more
 * than the run, and some sanitizers keep memory for every thread ever created.
 * @out: the pool. It belongs to no world and may serve one scheduler after another.
 *
 * Context: any thread but a logical one. Return: 0; -ENOMEM.
 */
int ih_coop_workers_create(struct ih_coop_workers **out);

/**
 * ih_coop_workers_destroy() - stop and join the pool's pthreads; NULL is ignored.
 * Context: no run may be using the pool (IH_BUG_ON).
 */
void ih_coop_workers_destroy(struct ih_coop_workers *p);

/**
 * ih_coop_use_workers() - run @c's logical threads on the pool @p (NULL: a new pthread
 * per logical thread per run, the default). Logical thread i runs on worker i; one pool
 * serves one run at a time. Nothing else changes: a run's schedule, trace and results
 * are the same either way.
 * Return: 0; -EINVAL during a run.
 */
int ih_coop_use_workers(struct ih_coop *c, struct ih_coop_workers *p);

/* Internal: called by ih_mutex on contention and release (see ih/mutex.h). */
bool ih_coop_thread_active(void);
void ih_coop_mutex_wait(void *mutex);
void ih_coop_mutex_released(void *mutex);

#endif /* IH_COOP_H */
