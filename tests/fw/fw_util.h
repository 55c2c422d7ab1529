/* SPDX-License-Identifier: MIT */
/* Test helpers for firmware parsing: read files, compile DTS fixtures with dtc. */
#ifndef IH_TESTS_FW_UTIL_H
#define IH_TESTS_FW_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/compat.h>

/* Slurp a stream into a malloc'd buffer (test memory, not model memory). */
static inline u8 *fwt_slurp(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0, got;
	u8 *buf = malloc(cap);

	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			u8 *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
	}
	*len = n;
	return buf;
}

/* Read @path; NULL when it does not exist. */
static inline u8 *fwt_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	u8 *buf;

	if (!f)
		return NULL;
	buf = fwt_slurp(f, len);
	fclose(f);
	return buf;
}

/*
 * Compile tests/fw/dts/@name.dts with dtc (-f: malformed fixtures that dtc itself flags,
 * such as duplicate phandles, still produce their blob). NULL when dtc fails.
 */
static inline u8 *fwt_dtc(const char *name, size_t *len)
{
	char cmd[1024];
	FILE *p;
	u8 *buf;

	*len = 0; /* defined on every path (gcc -O2 cannot see through popen failure) */
	snprintf(cmd, sizeof(cmd), "dtc -q -f -I dts -O dtb %s/tests/fw/dts/%s.dts 2>/dev/null",
		 IH_SOURCE_DIR, name);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	buf = fwt_slurp(p, len);
	if (pclose(p) != 0 || (buf && *len == 0)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/*
 * The external corpus (licence-unclear firmware dumps and the large DTBs, not copied into
 * the repository): $IH_CORPUS_REAL, else ../shared/corpus-real beside the source tree.
 */
static inline const char *fwt_corpus_real(char *buf, size_t size)
{
	const char *env = getenv("IH_CORPUS_REAL");

	if (env && *env)
		snprintf(buf, size, "%s", env);
	else
		snprintf(buf, size, "%s/../shared/corpus-real", IH_SOURCE_DIR);
	return buf;
}

/*
 * fwt_note() - say on stderr what a test could not check (external corpus absent).
 * Not cr_log_warn(): Criterion 2.4 turns any warning into a failing exit status.
 */
#define fwt_note(fmt, ...) fprintf(stderr, "note: " fmt "\n", ##__VA_ARGS__)

#endif /* IH_TESTS_FW_UTIL_H */
