// SPDX-License-Identifier: MIT
/* Schedule points: a hook for cooperative schedulers, random yields for real threads. */
#include <sched.h>

#include <ih/sched.h>
#include <ih/world.h>
#include "world_priv.h"

/*
 * The hook and the yield rate are set while no model thread runs (scenario set-up), then
 * only read: relaxed atomics keep TSan quiet about a hook set before threads start.
 */
void ih_sched_set_hook(struct ih_world *w, ih_sched_hook_fn fn, void *opaque)
{
	__atomic_store_n(&w->sched.hook_opaque, opaque, __ATOMIC_RELAXED);
	__atomic_store_n(&w->sched.hook, fn, __ATOMIC_RELEASE);
}

void ih_sched_set_random_yield(struct ih_world *w, u32 ppm)
{
	__atomic_store_n(&w->sched.yield_ppm, ppm, __ATOMIC_RELAXED);
}

void ih_sched_point(struct ih_world *w, const char *name)
{
	ih_sched_hook_fn hook = __atomic_load_n(&w->sched.hook, __ATOMIC_ACQUIRE);
	u32 ppm;

	if (hook) {
		hook(__atomic_load_n(&w->sched.hook_opaque, __ATOMIC_RELAXED), name);
		return;
	}
	if (w->cfg.mode != IH_EXEC_CONCURRENT)
		return;
	ppm = __atomic_load_n(&w->sched.yield_ppm, __ATOMIC_RELAXED);
	if (ppm && ih_world_rand(w) % 1000000 < ppm)
		sched_yield();
}
