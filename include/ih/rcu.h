/* SPDX-License-Identifier: MIT */
/* RCU for the model: a thin wrapper over liburcu's bulletproof flavour, TSan-aware. */
#ifndef IH_RCU_H
#define IH_RCU_H

#include <ih/compat.h>

/*
 * liburcu-bp (0.13): readers need no registration, any thread may read. Only the non-LGPL
 * API is used (no _LGPL_SOURCE): read lock, unlock, dereference and publish are calls
 * into the shared library, so nothing of liburcu is inlined into the model.
 */
#include <urcu/urcu-bp.h>

/*
 * ThreadSanitizer and liburcu 0.13 (../shared/TOOLCHAIN.md, pitfall 2): TSan sees neither
 * liburcu's volatile pointer loads nor its grace periods, so correct RCU code would be
 * reported as racy. Under IH_TSAN only:
 *   - ih_rcu_dereference() is an acquire load and ih_rcu_assign_pointer() a release store,
 *     so a reader sees the object contents written before it was published;
 *   - every read-side critical section releases one token object just before unlocking,
 *     and ih_synchronize_rcu() acquires that token just after the grace period ends, so
 *     everything a pre-existing reader did happens-before what the updater does next
 *     (typically the free). ih_call_rcu() callbacks acquire the same token before they
 *     run, and ih_rcu_barrier() is ordered after every callback it waited for.
 * Freeing without a grace period gets no such edge and is still reported: the test
 * tsan/tsan_rcu.c shows both outcomes. Other builds compile the annotations away.
 *
 * Synchronisation:
 *   ih_rcu_read_lock / unlock / dereference: any thread, nestable, never sleep inside.
 *   ih_rcu_assign_pointer: updaters, serialised among themselves by the caller's lock.
 *   ih_synchronize_rcu / ih_rcu_barrier: any thread outside a read-side critical section.
 *   ih_call_rcu: any thread, also inside a read-side critical section.
 */

#ifdef IH_TSAN
/* Acquire pairs with the updater's release in ih_rcu_assign_pointer(). */
#define ih_rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
/* Release: the object's initialisation happens-before any reader that finds it. */
#define ih_rcu_assign_pointer(p, v)                                                                \
	do {                                                                                       \
		__typeof__(p) ih_rcu_v_ = (v);                                                     \
		__atomic_store_n(&(p), ih_rcu_v_, __ATOMIC_RELEASE);                               \
	} while (0)
#else
/**
 * ih_rcu_dereference() - load an RCU-protected pointer inside a read-side critical section.
 * @p: the pointer (an lvalue, as in the kernel).
 * Return: its value, safe to dereference until ih_rcu_read_unlock().
 */
#define ih_rcu_dereference(p) rcu_dereference(p)
/**
 * ih_rcu_assign_pointer() - publish @v in the RCU-protected pointer @p.
 * Everything written to *@v before this call is visible to a reader that loads @v.
 */
#define ih_rcu_assign_pointer(p, v) rcu_assign_pointer(p, v)
#endif

/**
 * ih_rcu_read_lock() - enter a read-side critical section.
 * Context: any thread; nestable; the section must not block on an updater.
 */
void ih_rcu_read_lock(void);

/**
 * ih_rcu_read_unlock() - leave the innermost read-side critical section.
 * Context: the thread that called ih_rcu_read_lock().
 */
void ih_rcu_read_unlock(void);

/* ih_rcu_read_lock_held() - true inside a read-side critical section (for assertions). */
bool ih_rcu_read_lock_held(void);

/**
 * ih_synchronize_rcu() - wait until every read-side critical section that began before
 * this call has ended.
 * Context: may sleep; never inside a read-side critical section (that would deadlock, so
 * it is a harness bug: IH_BUG_ON).
 */
void ih_synchronize_rcu(void);

/**
 * struct ih_rcu_head - deferred-callback link, embedded in the object to reclaim.
 * @head: liburcu's link; private.
 * @fn: the callback; private, set by ih_call_rcu().
 */
struct ih_rcu_head {
	struct rcu_head head;
	void (*fn)(struct ih_rcu_head *rh);
};

/**
 * ih_call_rcu() - run @fn(@rh) after a grace period, on liburcu's call_rcu thread.
 * @rh: embedded in the object; recover the object with container_of().
 * @fn: the callback; it may free the object (ih_free() is thread-safe).
 *
 * Context: any thread, also inside a read-side critical section; does not sleep. Callbacks
 * may still be pending when the caller's world is destroyed: call ih_rcu_barrier() first.
 */
void ih_call_rcu(struct ih_rcu_head *rh, void (*fn)(struct ih_rcu_head *rh));

/**
 * ih_rcu_barrier() - wait until every callback queued by ih_call_rcu() so far has run.
 * Context: may sleep; never inside a read-side critical section (IH_BUG_ON), never from
 * an ih_call_rcu() callback.
 */
void ih_rcu_barrier(void);

#endif /* IH_RCU_H */
