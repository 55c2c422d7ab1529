/* SPDX-License-Identifier: MIT */
/* A mutex that knows its owner, so helpers can assert the lock is held (lockdep-lite). */
#ifndef IH_MUTEX_H
#define IH_MUTEX_H

#include <pthread.h>

#include <ih/compat.h>
#include <ih/coop.h>
#include <ih/diag.h>

/* A unique address per thread, for lock ownership. */
const void *ih_thread_token(void);

struct ih_mutex {
	pthread_mutex_t m;
	const void *owner; /* atomic; the holder's ih_thread_token() */
};

static inline void ih_mutex_init(struct ih_mutex *l)
{
	pthread_mutex_init(&l->m, NULL);
	l->owner = NULL;
}

static inline void ih_mutex_destroy(struct ih_mutex *l)
{
	pthread_mutex_destroy(&l->m);
}

static inline void ih_mutex_lock(struct ih_mutex *l)
{
	IH_BUG_ON(__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == ih_thread_token(),
		  "recursive lock of %p", (void *)l);
	/* A logical thread of a cooperative scheduler parks instead of blocking the baton. */
	if (ih_coop_thread_active()) {
		while (pthread_mutex_trylock(&l->m))
			ih_coop_mutex_wait(&l->m);
	} else {
		pthread_mutex_lock(&l->m);
	}
	__atomic_store_n(&l->owner, ih_thread_token(), __ATOMIC_RELAXED);
}

static inline void ih_mutex_unlock(struct ih_mutex *l)
{
	IH_BUG_ON(__atomic_load_n(&l->owner, __ATOMIC_RELAXED) != ih_thread_token(),
		  "unlock of %p by a thread that does not hold it", (void *)l);
	__atomic_store_n(&l->owner, NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&l->m);
	if (ih_coop_thread_active())
		ih_coop_mutex_released(&l->m);
}

static inline bool ih_mutex_held(const struct ih_mutex *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == ih_thread_token();
}

/* lockdep_assert_held(): a helper documented as "called with @l held" checks it. */
#define ih_lockdep_assert_held(l) IH_BUG_ON(!ih_mutex_held(l), "lock %s not held", #l)

#endif /* IH_MUTEX_H */
