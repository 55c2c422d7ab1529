/* SPDX-License-Identifier: MIT */
/* Harness assertions, per-world warning counts and the one log macro family. */
#ifndef IH_DIAG_H
#define IH_DIAG_H

#include <ih/compat.h>

struct ih_world;

/**
 * IH_BUG_ON() - abort when a harness invariant is broken.
 * @cond: the broken condition.
 *
 * Only for states the model itself must never reach. Bad input from firmware, fuzz bytes
 * or a driver gets an errno or an architected hardware error instead, so that every abort
 * a fuzzer sees is a real finding. Prints file:line, the condition and the message.
 */
#define IH_BUG_ON(cond, ...)                                                                       \
	do {                                                                                       \
		if (ih_unlikely(cond))                                                             \
			ih_bug(__FILE__, __LINE__, #cond, " " __VA_ARGS__);                         \
	} while (0)

/**
 * IH_WARN_ON() - count and report a recoverable misuse.
 * @w: the world whose warning count goes up.
 * @cond: the condition; the macro evaluates to its truth value.
 *
 * For wrong API use (double add, unbind of an unbound device): the caller then returns a
 * negative errno. Tests assert ih_warn_count() to prove a path stayed silent.
 */
#define IH_WARN_ON(w, cond, ...)                                                                   \
	({                                                                                         \
		bool ih_warn_c_ = !!(cond);                                                        \
		if (ih_unlikely(ih_warn_c_))                                                       \
			ih_warn((w), __FILE__, __LINE__, #cond, " " __VA_ARGS__);                   \
		ih_warn_c_;                                                                        \
	})

/*
 * The macros prefix the optional message with one space so that the format is never
 * empty (gcc's -Wformat-zero-length); ih_bug()/ih_warn() skip that space.
 */
__attribute__((noreturn)) IH_PRINTF(4, 5) void ih_bug(const char *file, int line,
						      const char *cond, const char *fmt, ...);
IH_PRINTF(5, 6)
void ih_warn(struct ih_world *w, const char *file, int line, const char *cond, const char *fmt,
	     ...);

/**
 * ih_warn_count() - warnings counted in @w since it was created.
 * Context: any thread.
 */
unsigned long ih_warn_count(const struct ih_world *w);

/* Log categories, enabled by IH_LOG=name,name (see ih_log_parse()). */
enum ih_log_cat {
	IH_LOG_GUEST_ERROR = 1u << 0, /* a driver or firmware did something the model rejects */
	IH_LOG_UNIMP = 1u << 1,       /* hardware behaviour the model does not implement */
	IH_LOG_TRACE = 1u << 2,       /* per-operation tracing (slow) */
	IH_LOG_MMIO = 1u << 3,        /* every MMIO access */
	IH_LOG_INFO = 1u << 4,        /* bring-up, registration, bind */
	IH_LOG_WARN = 1u << 5,        /* warnings counted by IH_WARN_ON; on by default */
};

/**
 * ih_log_parse() - turn an IH_LOG string into a category mask.
 * @spec: comma-separated names ("guest_error,unimp,trace,mmio,info,warn", "all", "none").
 * @mask: out, the mask.
 *
 * Return: 0, or -EINVAL for an unknown name (a message lists the valid ones).
 */
int ih_log_parse(const char *spec, unsigned int *mask);

bool ih_log_enabled(const struct ih_world *w, enum ih_log_cat cat);
IH_PRINTF(3, 4) void ih_log_emit(const struct ih_world *w, enum ih_log_cat cat, const char *fmt, ...);

/*
 * ih_log() - log one line when @cat is enabled in @w. Each .c file may define IH_LOG_PREFIX
 * ("iort: ") before including this header; messages name subsystem and object.
 */
#ifndef IH_LOG_PREFIX
#define IH_LOG_PREFIX ""
#endif
#define ih_log(w, cat, fmt, ...)                                                                   \
	do {                                                                                       \
		if (ih_unlikely(ih_log_enabled((w), (cat))))                                       \
			ih_log_emit((w), (cat), IH_LOG_PREFIX fmt, ##__VA_ARGS__);                 \
	} while (0)

/* Lock-held assertions, checked in debug and sanitizer builds. */
#ifndef NDEBUG
#define IH_LOCKDEP 1
#endif

#endif /* IH_DIAG_H */
