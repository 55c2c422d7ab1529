// SPDX-License-Identifier: MIT
/* RCU wrapper over liburcu-bp with the ThreadSanitizer happens-before annotations. */
#include <urcu/urcu-bp.h>

#include <ih/diag.h>
#include <ih/rcu.h>

#ifdef IH_TSAN
#include <sanitizer/tsan_interface.h>

/*
 * Annotation tokens of the bp flavour. Grace periods are process-wide, so there is one
 * grace-period token per flavour, not per world. Neither object is ever read or written:
 * TSan keeps the happens-before clock of an address in its own shadow state, so const
 * objects serve and the model keeps no mutable global.
 *   rcu_bp_token:  release just before each read unlock and when a callback is queued;
 *                  acquire just after synchronize returns and before a callback runs.
 *                  The release at queue time covers what the updater wrote into the
 *                  object and the ih_rcu_head: liburcu's queue and futex wake-up are
 *                  invisible to TSan.
 *   rcu_bp_done:   release after a callback returns, acquire after ih_rcu_barrier(), so
 *                  that a world torn down after the barrier sees the callbacks' frees.
 *                  Kept apart so callbacks add no edge into ih_synchronize_rcu().
 */
static const char rcu_bp_token;
static const char rcu_bp_done;

#define tsan_release(token) __tsan_release((void *)&(token))
#define tsan_acquire(token) __tsan_acquire((void *)&(token))

/*
 * Exported by the TSan runtime, not declared in clang 14's public header. While they
 * bracket a call, TSan records none of this thread's memory accesses; allocations made
 * then carry no access history (synchronisation is still tracked).
 */
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#define tsan_ignore_begin() __tsan_ignore_thread_begin()
#define tsan_ignore_end()   __tsan_ignore_thread_end()
#else
#define tsan_release(token) ((void)0)
#define tsan_acquire(token) ((void)0)
#define tsan_ignore_begin() ((void)0)
#define tsan_ignore_end()   ((void)0)
#endif

void ih_rcu_read_lock(void)
{
	urcu_bp_read_lock();
}

void ih_rcu_read_unlock(void)
{
	/* Release before the unlock: the grace period that waits for us then acquires it. */
	tsan_release(rcu_bp_token);
	urcu_bp_read_unlock();
}

bool ih_rcu_read_lock_held(void)
{
	return urcu_bp_read_ongoing();
}

void ih_synchronize_rcu(void)
{
	IH_BUG_ON(urcu_bp_read_ongoing(),
		  "ih_synchronize_rcu() inside a read-side critical section");
	urcu_bp_synchronize_rcu();
	tsan_acquire(rcu_bp_token);
}

static void call_rcu_trampoline(struct rcu_head *head)
{
	struct ih_rcu_head *rh = container_of(head, struct ih_rcu_head, head);

	tsan_acquire(rcu_bp_token);
	rh->fn(rh);
	/* The callback's work (typically a free) happens-before ih_rcu_barrier() returns. */
	tsan_release(rcu_bp_done);
}

void ih_call_rcu(struct ih_rcu_head *rh, void (*fn)(struct ih_rcu_head *rh))
{
	rh->fn = fn;
	tsan_release(rcu_bp_token);
	urcu_bp_call_rcu(&rh->head, call_rcu_trampoline);
}

void ih_rcu_barrier(void)
{
	IH_BUG_ON(urcu_bp_read_ongoing(), "ih_rcu_barrier() inside a read-side critical section");
	/*
	 * liburcu's barrier callocs a work item here and its call_rcu thread frees it, handed
	 * over through the uninstrumented queue: TSan would report liburcu's own free as a
	 * race with that calloc. Nothing of the caller runs inside the bracket, and callbacks
	 * run on the call_rcu thread, which stays fully checked.
	 */
	tsan_ignore_begin();
	urcu_bp_barrier();
	tsan_ignore_end();
	tsan_acquire(rcu_bp_done);
}
