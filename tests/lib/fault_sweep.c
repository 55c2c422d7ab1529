// SPDX-License-Identifier: MIT
/* Test helper: fail each allocation of the chosen sites once, in a fresh world each time. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/physmem.h>
#include "lib/fault_sweep.h"

unsigned int fault_sweep(void (*scenario)(struct ih_world *w, void *arg), void *arg,
			 const char *prefix)
{
	struct ih_alloc_site_stat st[256];
	struct ih_world *cw;
	size_t nsites, runs = 0;
	unsigned int ours = 0;

	cr_assert_eq(ih_world_create(NULL, &cw), 0);
	scenario(cw, arg);
	nsites = ih_alloc_sites(cw, st, ARRAY_SIZE(st));
	cr_assert_leq(nsites, ARRAY_SIZE(st));
	cr_assert_eq(ih_world_destroy(cw), 0);

	for (size_t s = 0; s < nsites; s++) {
		if (strncmp(st[s].site, prefix, strlen(prefix)) != 0)
			continue;
		ours++;
		for (unsigned long nth = 1; nth <= st[s].calls; nth++) {
			struct ih_world *fw;

			cr_assert_eq(ih_world_create(NULL, &fw), 0);
			cr_assert_eq(ih_fault_fail_site(fw, st[s].site, nth), 0);
			scenario(fw, arg);
			cr_expect_eq(ih_fault_injected(fw), 1, "%s #%lu", st[s].site, nth);
			cr_expect_eq(ih_pm_pages_used(fw), 0, "%s #%lu", st[s].site, nth);
			cr_expect_eq(ih_world_destroy(fw), 0, "%s #%lu leaked", st[s].site, nth);
			runs++;
		}
	}
	cr_expect_gt(runs, 0, "no allocation matched %s", prefix);
	return ours;
}
