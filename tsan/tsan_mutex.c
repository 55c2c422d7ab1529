// SPDX-License-Identifier: MIT
/*
 * TSan scenario: ih_mutex under contention.
 *
 * Threads: 3, each taking the lock ITERS times to bump a plain counter (sometimes holding
 * it across a yield, so waiters really sleep on the futex). Invariant: no increment lost;
 * ThreadSanitizer sees the lock as a mutex (annotated in include/ih/mutex.h), so the plain
 * counter must raise no report. Expected outcome: no report, exit 0 (1 on a lost update).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include <ih/mutex.h>

#define THREADS 3
#define ITERS	20000

static void *hammer(void *arg)
{
	void **a = arg;
	struct ih_mutex *m = a[0];
	unsigned long *counter = a[1];

	for (int i = 0; i < ITERS; i++) {
		ih_mutex_lock(m);
		(*counter)++;
		if ((i & 63) == 0)
			sched_yield();
		ih_mutex_unlock(m);
	}
	return NULL;
}

int main(void)
{
	struct ih_mutex m;
	unsigned long counter = 0;
	void *arg[2] = {&m, &counter};
	pthread_t t[THREADS];

	ih_mutex_init(&m);
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, hammer, arg))
			return 1;
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	ih_mutex_destroy(&m);
	printf("tsan_mutex: %lu of %d increments\n", counter, THREADS * ITERS);
	return counter == (unsigned long)THREADS * ITERS ? 0 : 1;
}
