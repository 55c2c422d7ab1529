// SPDX-License-Identifier: MIT
/* ih_mutex: mutual exclusion under contention, owner tracking, misuse aborts. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>

#include <ih/mutex.h>

#define THREADS 3
#define ITERS	20000

struct shared {
	struct ih_mutex m;
	unsigned long counter; /* plain: only the lock protects it */
	unsigned long overlap; /* times a thread found another inside */
	int inside;
};

static void *hammer(void *arg)
{
	struct shared *s = arg;

	for (int i = 0; i < ITERS; i++) {
		ih_mutex_lock(&s->m);
		if (__atomic_fetch_add(&s->inside, 1, __ATOMIC_RELAXED))
			s->overlap++;
		s->counter++;
		if ((i & 63) == 0)
			sched_yield(); /* hold it across a yield now and then: real contention */
		__atomic_fetch_sub(&s->inside, 1, __ATOMIC_RELAXED);
		ih_mutex_unlock(&s->m);
	}
	return NULL;
}

Test(ih_mutex, contended_increments_are_never_lost)
{
	static struct shared s;
	pthread_t t[THREADS];

	ih_mutex_init(&s.m);
	for (int i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, hammer, &s), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	cr_expect_eq(s.counter, (unsigned long)THREADS * ITERS);
	cr_expect_eq(s.overlap, 0, "two threads inside the lock at once");
	cr_expect_eq(s.m.word, 0, "free at the end, no waiter flag left");
	ih_mutex_destroy(&s.m);
}

Test(ih_mutex, held_follows_the_owner)
{
	struct ih_mutex m;

	ih_mutex_init(&m);
	cr_expect_not(ih_mutex_held(&m));
	ih_mutex_lock(&m);
	cr_expect(ih_mutex_held(&m));
	cr_expect_eq(m.word, (uintptr_t)ih_thread_token(), "uncontended: the word is the owner");
	ih_mutex_unlock(&m);
	cr_expect_not(ih_mutex_held(&m));
	ih_mutex_destroy(&m);
}

static void *try_unlock(void *arg)
{
	ih_mutex_unlock(arg);
	return NULL;
}

Test(ih_mutex, recursive_lock_aborts, .signal = SIGABRT)
{
	struct ih_mutex m;

	ih_mutex_init(&m);
	ih_mutex_lock(&m);
	ih_mutex_lock(&m);
}

Test(ih_mutex, unlock_by_another_thread_aborts, .signal = SIGABRT)
{
	static struct ih_mutex m;
	pthread_t t;

	ih_mutex_init(&m);
	ih_mutex_lock(&m);
	pthread_create(&t, NULL, try_unlock, &m);
	pthread_join(t, NULL);
}

Test(ih_mutex, unlock_of_a_free_lock_aborts, .signal = SIGABRT)
{
	struct ih_mutex m;

	ih_mutex_init(&m);
	ih_mutex_unlock(&m);
}
