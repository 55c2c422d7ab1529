// SPDX-License-Identifier: MIT
/* xlate-leak: per-device data from of_xlate lost on a later probe error, and its fix. */
#include <criterion/criterion.h>

#include <ih/alloc.h>
#include <ih/world.h>
#include "lib/scenarios.h"

static size_t leaked_blocks(const char *switches)
{
	struct ih_world_config cfg;
	struct ih_world *w;

	ih_world_config_init(&cfg);
	cfg.regressions = switches;
	cfg.log = "none";
	cr_assert_eq(ih_world_create(&cfg, &w), 0);
	cr_assert_eq(scenario_smmuv3_xlate_error(w), 0, "the bring-up itself must succeed");
	return ih_world_destroy(w);
}

Test(smmuv3_xlate_leak, fixed_driver_allocates_in_probe_and_leaks_nothing)
{
	cr_expect_eq(leaked_blocks(""), 0);
}

Test(smmuv3_xlate_leak, old_driver_loses_its_xlate_data_on_probe_error)
{
	cr_expect_eq(leaked_blocks("xlate-leak"), 1, "the early master block must leak");
}
