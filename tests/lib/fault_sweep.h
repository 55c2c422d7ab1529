/* SPDX-License-Identifier: MIT */
/* Test helper: run a scenario once per allocation of chosen sites, failing that one call. */
#ifndef IH_TESTS_FAULT_SWEEP_H
#define IH_TESTS_FAULT_SWEEP_H

#include <ih/world.h>

/*
 * fault_sweep() - "fail each allocation once".
 * @scenario: builds what it needs in the world it is given and tears it all down again;
 *            it asserts its own consistency checks.
 * @arg: passed to @scenario.
 * @prefix: only sites starting with this string are swept.
 *
 * A clean run lists the sites and their call counts; then, for each matching site and
 * each n in 1..calls, a fresh world fails exactly the n-th call of that site. Each such
 * run must inject exactly one failure and end with no model memory and no simulated
 * memory in use.
 *
 * Return: the number of matching sites.
 */
unsigned int fault_sweep(void (*scenario)(struct ih_world *w, void *arg), void *arg,
			 const char *prefix);

#endif /* IH_TESTS_FAULT_SWEEP_H */
