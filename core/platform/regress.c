// SPDX-License-Identifier: MIT
/* Known-bug replay switches: names, parsing, per-world state. */
#include <stdio.h>
#include <string.h>

#include <ih/regress.h>
#include "world_priv.h"

static const char *const regress_names[IH_REGRESS_COUNT] = {
	[IH_REGRESS_FWSPEC_PROBE_RACE] = "fwspec-probe-race",
	[IH_REGRESS_RK_DMA_DEV_ORDER] = "rk-dma-dev-order",
	[IH_REGRESS_FQ_DOMAIN_REREAD] = "fq-domain-reread",
	[IH_REGRESS_FQ_FLIP_UNORDERED] = "fq-flip-unordered",
	[IH_REGRESS_OWNERSHIP_UNSERIALISED] = "ownership-unserialised",
	[IH_REGRESS_PAGE_POOL_UNTRACKED] = "page-pool-untracked",
	[IH_REGRESS_XLATE_LEAK] = "xlate-leak",
};

const char *ih_regress_name(enum ih_regress r)
{
	return (unsigned int)r < IH_REGRESS_COUNT ? regress_names[r] : NULL;
}

int ih_regress_parse(const char *spec, u32 *set)
{
	u32 s = 0;

	if (!spec || !set)
		return -EINVAL;
	while (*spec) {
		size_t len = strcspn(spec, ",");
		bool found = len == 0;

		for (unsigned int i = 0; !found && i < IH_REGRESS_COUNT; i++) {
			if (strlen(regress_names[i]) == len && !strncmp(spec, regress_names[i], len)) {
				s |= 1u << i;
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "ih: IH_REGRESSIONS: unknown switch '%.*s'; valid:",
				(int)ih_min(len, (size_t)64), spec);
			for (unsigned int i = 0; i < IH_REGRESS_COUNT; i++)
				fprintf(stderr, " %s", regress_names[i]);
			fputc('\n', stderr);
			return -EINVAL;
		}
		spec += len;
		if (*spec == ',')
			spec++;
	}
	*set = s;
	return 0;
}

void ih_regress_set(struct ih_world *w, enum ih_regress r, bool on)
{
	if ((unsigned int)r >= IH_REGRESS_COUNT)
		return;
	if (on)
		__atomic_fetch_or(&w->regress, 1u << r, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&w->regress, ~(1u << r), __ATOMIC_RELAXED);
}

bool ih_regress_on(const struct ih_world *w, enum ih_regress r)
{
	return (unsigned int)r < IH_REGRESS_COUNT &&
	       (__atomic_load_n(&w->regress, __ATOMIC_RELAXED) & (1u << r));
}
