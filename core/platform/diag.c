// SPDX-License-Identifier: MIT
/* Assertions, warning counts and logging. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/diag.h>
#include "world_priv.h"

void ih_bug(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "IH_BUG at %s:%d: %s", file, line, cond);
	if (fmt && fmt[0] == ' ')
		fmt++;
	if (fmt && fmt[0]) {
		fputs(": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

void ih_warn(struct ih_world *w, const char *file, int line, const char *cond, const char *fmt,
	     ...)
{
	va_list ap;

	if (w)
		__atomic_fetch_add(&w->warnings, 1, __ATOMIC_RELAXED);
	if (w && !(w->log_mask & IH_LOG_WARN))
		return;
	fprintf(stderr, "IH_WARN at %s:%d: %s", file, line, cond);
	if (fmt && fmt[0] == ' ')
		fmt++;
	if (fmt && fmt[0]) {
		fputs(": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
}

unsigned long ih_warn_count(const struct ih_world *w)
{
	return __atomic_load_n(&w->warnings, __ATOMIC_RELAXED);
}

static const struct {
	const char *name;
	unsigned int mask;
} log_names[] = {
	{ "guest_error", IH_LOG_GUEST_ERROR },
	{ "unimp", IH_LOG_UNIMP },
	{ "trace", IH_LOG_TRACE },
	{ "mmio", IH_LOG_MMIO },
	{ "info", IH_LOG_INFO },
	{ "warn", IH_LOG_WARN },
};

int ih_log_parse(const char *spec, unsigned int *mask)
{
	unsigned int m = 0;
	const char *p = spec;

	if (!spec || !mask)
		return -EINVAL;
	while (*p) {
		size_t len = strcspn(p, ",");
		bool found = false;

		if (len == 3 && !strncmp(p, "all", 3)) {
			m = ~0u;
			found = true;
		} else if (len == 4 && !strncmp(p, "none", 4)) {
			m = 0;
			found = true;
		} else if (len == 0) {
			found = true; /* tolerate ",," and a trailing comma */
		}
		for (size_t i = 0; !found && i < ARRAY_SIZE(log_names); i++) {
			if (strlen(log_names[i].name) == len && !strncmp(p, log_names[i].name, len)) {
				m |= log_names[i].mask;
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "ih: IH_LOG: unknown category '%.*s' (valid: all, none",
				(int)ih_min(len, (size_t)64), p);
			for (size_t i = 0; i < ARRAY_SIZE(log_names); i++)
				fprintf(stderr, ", %s", log_names[i].name);
			fputs(")\n", stderr);
			return -EINVAL;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	*mask = m;
	return 0;
}

bool ih_log_enabled(const struct ih_world *w, enum ih_log_cat cat)
{
	return w && (w->log_mask & cat);
}

void ih_log_emit(const struct ih_world *w, enum ih_log_cat cat, const char *fmt, ...)
{
	va_list ap;

	(void)w;
	(void)cat;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
