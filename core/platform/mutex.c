// SPDX-License-Identifier: MIT
/* ih_mutex contended paths: futex sleep and wake-up, or parking under the cooperative scheduler. */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ih/mutex.h>

#ifdef IH_TSAN
#define TSAN_DIVERT(l)	 __tsan_mutex_pre_divert((l), 0)
#define TSAN_UNDIVERT(l) __tsan_mutex_post_divert((l), 0)
#else
#define TSAN_DIVERT(l)	 ((void)(l))
#define TSAN_UNDIVERT(l) ((void)(l))
#endif

/*
 * The lock was not free. Mark it contended (bit 0) and sleep until an unlock bumps @wseq,
 * then retry. A thread that takes the lock here keeps bit 0 set, as another waiter may
 * still sleep: the worst case is one needless wake-up (the classic three-state futex
 * mutex, with the owner in place of "locked").
 *
 * @wseq is read before the lock word, and ih_mutex_wake() bumps it (release) after the
 * unlock's exchange: so a waiter that still sees the old owner also sees the old @wseq,
 * and its futex wait returns at once if the bump came in between.
 */
void ih_mutex_lock_slow(struct ih_mutex *l, uintptr_t self)
{
	for (;;) {
		unsigned int seq = __atomic_load_n(&l->wseq, __ATOMIC_ACQUIRE);
		uintptr_t cur = __atomic_load_n(&l->word, __ATOMIC_RELAXED);

		IH_BUG_ON((cur & ~IH_MUTEX_WAITERS) == self, "recursive lock of %p", (void *)l);
		if (cur == 0) {
			if (__atomic_compare_exchange_n(&l->word, &cur, self | IH_MUTEX_WAITERS,
							false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
				return;
			continue;
		}
		if (!(cur & IH_MUTEX_WAITERS) &&
		    !__atomic_compare_exchange_n(&l->word, &cur, cur | IH_MUTEX_WAITERS, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			continue;
		TSAN_DIVERT(l);
		/* A logical thread of a cooperative scheduler parks instead of blocking the baton. */
		if (ih_coop_thread_active())
			ih_coop_mutex_wait(l);
		else
			syscall(SYS_futex, &l->wseq, FUTEX_WAIT_PRIVATE, seq, NULL, NULL, 0);
		TSAN_UNDIVERT(l);
	}
}

/* An unlock found bit 0 set: let one sleeper (and every parked logical thread) retry. */
void ih_mutex_wake(struct ih_mutex *l)
{
	TSAN_DIVERT(l);
	__atomic_fetch_add(&l->wseq, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &l->wseq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	if (ih_coop_thread_active())
		ih_coop_mutex_released(l);
	TSAN_UNDIVERT(l);
}
