// SPDX-License-Identifier: MIT
/* The world's report sink, the checker switches and the checkers' per-world state. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/world.h>
#include "check_priv.h"
#include "platform/world_priv.h"

#undef IH_LOG_PREFIX
#define IH_LOG_PREFIX "check: "

static const char *const kind_names[IH_REPORT_NR_KINDS] = {
    [IH_REPORT_DMA_UNKNOWN_UNMAP] = "dma-unknown-unmap",
    [IH_REPORT_DMA_DOUBLE_UNMAP] = "dma-double-unmap",
    [IH_REPORT_DMA_SIZE_MISMATCH] = "dma-size-mismatch",
    [IH_REPORT_DMA_DIR_MISMATCH] = "dma-dir-mismatch",
    [IH_REPORT_DMA_NO_DRIVER] = "dma-no-driver",
    [IH_REPORT_DMA_NO_DOMAIN] = "dma-no-domain",
    [IH_REPORT_DMA_LEAK_AT_UNBIND] = "dma-leak-at-unbind",
    [IH_REPORT_DMA_LEAK_AT_DOMAIN_FREE] = "dma-leak-at-domain-free",
    [IH_REPORT_IOVA_LEAK] = "iova-leak",
    [IH_REPORT_IOTLB_STALE_AT_FREE] = "iotlb-stale-at-free",
    [IH_REPORT_IOTLB_STALE_ACCESS] = "iotlb-stale-access",
    [IH_REPORT_GROUP_INVARIANT] = "group-invariant",
};

const char *ih_report_kind_name(enum ih_report_kind kind)
{
	return (unsigned int)kind < IH_REPORT_NR_KINDS ? kind_names[kind] : "?";
}

static void last_lock(struct ih_report_state *rs)
{
	while (__atomic_exchange_n(&rs->last_lock, 1, __ATOMIC_ACQUIRE))
		;
}

static void last_unlock(struct ih_report_state *rs)
{
	__atomic_store_n(&rs->last_lock, 0, __ATOMIC_RELEASE);
}

void ih_report(struct ih_world *w, enum ih_report_kind kind, const char *dev, const char *call,
	       u64 iova, u64 size, const char *fmt, ...)
{
	struct ih_report_state *rs = &w->report;
	struct ih_report r = {.kind = kind, .call = call ? call : "", .iova = iova, .size = size};
	bool misuse = kind <= IH_REPORT_DMA_NO_DOMAIN;
	va_list ap;

	IH_BUG_ON((unsigned int)kind >= IH_REPORT_NR_KINDS, "bad report kind %d", (int)kind);
	snprintf(r.dev, sizeof(r.dev), "%s", dev ? dev : "");
	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
	va_end(ap);
	__atomic_fetch_add(&rs->counts[kind], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&rs->total, 1, __ATOMIC_RELAXED);
	last_lock(rs);
	rs->last = r;
	rs->has_last = true;
	last_unlock(rs);
	ih_log(w, misuse ? IH_LOG_GUEST_ERROR : IH_LOG_WARN, "%s: %s (call %s)",
	       ih_report_kind_name(kind), r.msg, r.call);
	if (rs->fn)
		rs->fn(rs->fn_opaque, &r);
}

void ih_report_set_sink(struct ih_world *w, ih_report_fn fn, void *opaque)
{
	w->report.fn = fn;
	w->report.fn_opaque = opaque;
}

unsigned long ih_report_count(struct ih_world *w, enum ih_report_kind kind)
{
	if ((unsigned int)kind >= IH_REPORT_NR_KINDS)
		return 0;
	return __atomic_load_n(&w->report.counts[kind], __ATOMIC_RELAXED);
}

unsigned long ih_report_total(struct ih_world *w)
{
	return __atomic_load_n(&w->report.total, __ATOMIC_RELAXED);
}

bool ih_report_last(struct ih_world *w, struct ih_report *out)
{
	struct ih_report_state *rs = &w->report;
	bool has;

	last_lock(rs);
	has = rs->has_last;
	if (has)
		*out = rs->last;
	last_unlock(rs);
	return has;
}

void ih_report_reset(struct ih_world *w)
{
	struct ih_report_state *rs = &w->report;

	for (unsigned int i = 0; i < IH_REPORT_NR_KINDS; i++)
		__atomic_store_n(&rs->counts[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&rs->total, 0, __ATOMIC_RELAXED);
	last_lock(rs);
	rs->has_last = false;
	last_unlock(rs);
}

void ih_check_set_enabled(struct ih_world *w, unsigned int mask)
{
	__atomic_store_n(&w->report.disabled, IH_CHECK_ALL & ~mask, __ATOMIC_RELAXED);
}

unsigned int ih_check_enabled(struct ih_world *w)
{
	return IH_CHECK_ALL & ~__atomic_load_n(&w->report.disabled, __ATOMIC_RELAXED);
}

bool ih_check_on(struct ih_world *w, unsigned int flag)
{
	return !(__atomic_load_n(&w->report.disabled, __ATOMIC_RELAXED) & flag);
}

/* ---- Per-world state ---- */

static int check_notify(struct ih_bus_notifier *nb, enum ih_bus_event event, struct ih_device *dev)
{
	struct ih_check_state *st = container_of(nb, struct ih_check_state, nb);

	if (event == IH_BUS_NOTIFY_UNBOUND_DRIVER)
		ih_dma_debug_unbound(st->w, dev);
	return 0;
}

static void destroy_state(struct ih_check_state *st)
{
	for (unsigned int i = 0; i < IH_DBG_BUCKETS; i++)
		pthread_mutex_destroy(&st->bucket_lock[i]);
	pthread_mutex_destroy(&st->recent_lock);
	pthread_mutex_destroy(&st->domains_lock);
	ih_free(st->w, st);
}

static void check_state_teardown(struct ih_world *w, void *arg)
{
	struct ih_check_state *st = arg;

	ih_bus_unregister_notifier(w, &st->nb);
	__atomic_store_n(&w->check, NULL, __ATOMIC_RELEASE);
	ih_dma_debug_fini(st);
	IH_WARN_ON(w, st->domains != NULL, "check: a DMA domain outlived the world's teardown");
	destroy_state(st);
}

void ih_world_state_lock(struct ih_world *w)
{
	while (__atomic_exchange_n(&w->report.create_lock, 1, __ATOMIC_ACQUIRE))
		;
}

void ih_world_state_unlock(struct ih_world *w)
{
	__atomic_store_n(&w->report.create_lock, 0, __ATOMIC_RELEASE);
}

struct ih_check_state *ih_check_state(struct ih_world *w)
{
	struct ih_check_state *st = __atomic_load_n(&w->check, __ATOMIC_ACQUIRE);

	if (st)
		return st;
	/* The device model first, so that our teardown (the notifier) runs before its. */
	if (ih_base_init(w))
		return NULL;
	ih_world_state_lock(w);
	st = w->check;
	if (st)
		goto out_unlock;
	st = ih_alloc(w, sizeof(*st), "check:state");
	if (!st)
		goto out_unlock;
	st->w = w;
	for (unsigned int i = 0; i < IH_DBG_BUCKETS; i++)
		pthread_mutex_init(&st->bucket_lock[i], NULL);
	pthread_mutex_init(&st->recent_lock, NULL);
	pthread_mutex_init(&st->domains_lock, NULL);
	st->nb.notifier_call = check_notify;
	if (ih_bus_register_notifier(w, &st->nb))
		goto err_destroy;
	if (ih_world_add_teardown(w, check_state_teardown, st))
		goto err_unregister;
	__atomic_store_n(&w->check, st, __ATOMIC_RELEASE);
out_unlock:
	ih_world_state_unlock(w);
	return st;

err_unregister:
	ih_bus_unregister_notifier(w, &st->nb);
err_destroy:
	destroy_state(st);
	ih_world_state_unlock(w);
	return NULL;
}
