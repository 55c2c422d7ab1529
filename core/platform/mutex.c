// SPDX-License-Identifier: MIT
/* ih_mutex contended paths: futex sleep and wake-up, or parking under the cooperative scheduler. */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ih/mutex.h>

#ifdef IH_TSAN
#define TSAN_DIVERT(l)	 __tsan_mutex_pre_divert((l), 0)
#define TSAN_UNDIVERT(l) __tsan_mutex_post_divert((l), 0)
#else
#define TSAN_DIVERT(l)	 ((void)(l))
#define TSAN_UNDIVERT(l) ((void)(l))
#endif

/* The futex is the word's low 32 bits: they include bit 0, so "held, contended" differs from free. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ih_mutex sleeps on the low half of its word: little-endian hosts only"
#endif

static unsigned int *futex_word(struct ih_mutex *l)
{
	return (unsigned int *)&l->word;
}

/*
 * The lock was not free. Mark it contended (bit 0) and sleep while the word still reads
 * "held by that owner, contended", then retry. A thread that takes the lock here keeps
 * bit 0 set, as another waiter may still sleep: the worst case is one needless wake-up
 * (the classic three-state futex mutex, with the owner in place of "locked"). The sleep
 * is bounded, see the race described in ih/mutex.h.
 */
void ih_mutex_lock_slow(struct ih_mutex *l, uintptr_t self)
{
	for (;;) {
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
		if (ih_coop_thread_active()) {
			ih_coop_mutex_wait(l);
		} else {
			struct timespec nap = {0, IH_MUTEX_NAP_NS};

			syscall(SYS_futex, futex_word(l), FUTEX_WAIT_PRIVATE,
				(unsigned int)(cur | IH_MUTEX_WAITERS), &nap, NULL, 0);
		}
		TSAN_UNDIVERT(l);
	}
}

/*
 * An unlock's exchange returned bit 0 set: the word is already free (and may be someone
 * else's by now, so it is not touched); let one sleeper (and every parked logical thread)
 * retry.
 */
void ih_mutex_wake(struct ih_mutex *l)
{
	TSAN_DIVERT(l);
	syscall(SYS_futex, futex_word(l), FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	if (ih_coop_thread_active())
		ih_coop_mutex_released(l);
	TSAN_UNDIVERT(l);
}
