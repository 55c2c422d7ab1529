/* SPDX-License-Identifier: MIT */
/* Named schedule points on racy paths. */
#ifndef IH_SCHED_H
#define IH_SCHED_H

#include <ih/compat.h>

struct ih_world;

/**
 * typedef ih_sched_hook_fn - called at every schedule point of a world.
 * @opaque: the hook's own state.
 * @name: the point's name, a string literal such as "fwspec:after-get".
 *
 * A cooperative scheduler installs a hook that switches logical threads here, so an exact
 * interleaving replays deterministically. With no hook, a point in a concurrent world may
 * yield the CPU at random (seeded) to widen race windows for ThreadSanitizer.
 */
typedef void (*ih_sched_hook_fn)(void *opaque, const char *name);

void ih_sched_set_hook(struct ih_world *w, ih_sched_hook_fn fn, void *opaque);

/* Yield at random at points in concurrent mode with probability @ppm / 1e6 (0: never). */
void ih_sched_set_random_yield(struct ih_world *w, u32 ppm);

/* ih_sched_point() - a named point where another thread may run. */
void ih_sched_point(struct ih_world *w, const char *name);

#endif /* IH_SCHED_H */
