/* SPDX-License-Identifier: MIT */
/* A mutex that knows its owner, so helpers can assert the lock is held (lockdep-lite). */
#ifndef IH_MUTEX_H
#define IH_MUTEX_H

#include <stdint.h>

#include <ih/compat.h>
#include <ih/coop.h>
#include <ih/diag.h>

#ifdef IH_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* A unique address per thread, for lock ownership (at least 2-byte aligned). */
const void *ih_thread_token(void);

/*
 * The lock word is the owner itself: 0 when free, else the holder's ih_thread_token() with
 * bit 0 set once some thread (or logical thread of a cooperative scheduler) waits. So an
 * uncontended lock is one acquire compare-and-swap and an uncontended unlock one release
 * exchange (the owner check reads the word first). Waiters sleep on the word (a futex on
 * its low 32 bits) or, for a logical thread of a cooperative scheduler, park (see
 * ih/coop.h); an unlock whose exchange returns bit 0 set wakes one. The exchange cannot
 * miss a waiter: a waiter sets bit 0 by compare-and-swap against the held word, so either
 * the unlock sees the bit or the waiter's CAS or futex wait sees the word changed. (A plain
 * store would lose that waiter's wake-up and stall it for a whole nap: a latency spike in
 * the benchmarks' percentiles.) Sleeps are still bounded (IH_MUTEX_NAP_NS) as a backstop:
 * two tokens may share their low 32 bits. Under TSan the lock is annotated as a mutex, so
 * lock-order and happens-before checks work as for a pthread mutex.
 */
#define IH_MUTEX_WAITERS ((uintptr_t)1)
#define IH_MUTEX_NAP_NS	 200000L

struct ih_mutex {
	uintptr_t word; /* atomic: 0, or owner token | IH_MUTEX_WAITERS */
};

/* Internal: the contended paths (core/platform/mutex.c). */
void ih_mutex_lock_slow(struct ih_mutex *l, uintptr_t self);
void ih_mutex_wake(struct ih_mutex *l);

static inline void ih_mutex_init(struct ih_mutex *l)
{
	__atomic_store_n(&l->word, 0, __ATOMIC_RELAXED);
#ifdef IH_TSAN
	__tsan_mutex_create(l, 0);
#endif
}

static inline void ih_mutex_destroy(struct ih_mutex *l)
{
	IH_BUG_ON(__atomic_load_n(&l->word, __ATOMIC_RELAXED), "destroy of held lock %p",
		  (void *)l);
#ifdef IH_TSAN
	__tsan_mutex_destroy(l, 0);
#endif
}

static inline void ih_mutex_lock(struct ih_mutex *l)
{
	uintptr_t self = (uintptr_t)ih_thread_token(), free_word = 0;

#ifdef IH_TSAN
	__tsan_mutex_pre_lock(l, 0);
#endif
	if (ih_unlikely(!__atomic_compare_exchange_n(&l->word, &free_word, self, false,
						     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)))
		ih_mutex_lock_slow(l, self); /* checks recursion, waits */
#ifdef IH_TSAN
	__tsan_mutex_post_lock(l, 0, 0);
#endif
}

static inline void ih_mutex_unlock(struct ih_mutex *l)
{
	uintptr_t self = (uintptr_t)ih_thread_token();

	IH_BUG_ON((__atomic_load_n(&l->word, __ATOMIC_RELAXED) & ~IH_MUTEX_WAITERS) != self,
		  "unlock of %p by a thread that does not hold it", (void *)l);
#ifdef IH_TSAN
	__tsan_mutex_pre_unlock(l, 0);
#endif
	if (ih_unlikely(__atomic_exchange_n(&l->word, 0, __ATOMIC_RELEASE) & IH_MUTEX_WAITERS))
		ih_mutex_wake(l);
#ifdef IH_TSAN
	__tsan_mutex_post_unlock(l, 0);
#endif
}

static inline bool ih_mutex_held(const struct ih_mutex *l)
{
	return (__atomic_load_n(&l->word, __ATOMIC_RELAXED) & ~IH_MUTEX_WAITERS) ==
	       (uintptr_t)ih_thread_token();
}

/* lockdep_assert_held(): a helper documented as "called with @l held" checks it. */
#define ih_lockdep_assert_held(l) IH_BUG_ON(!ih_mutex_held(l), "lock %s not held", #l)

#endif /* IH_MUTEX_H */
