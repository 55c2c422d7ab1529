/* SPDX-License-Identifier: MIT */
/* Known-bug replay switches ("bug zoo"): each brings one historical code path back. */
#ifndef IH_REGRESS_H
#define IH_REGRESS_H

#include <ih/compat.h>

struct ih_world;

/*
 * A switch is a field of the world, read only by the code path it switches (never by a
 * detector: the checkers must find each bug from what the model does). Seed threads are
 * in ../shared/seeds; research/mechanisms.md names the upstream fix each switch undoes.
 */
enum ih_regress {
	/* seed 000: bind-time flow without the probe lock around fwspec creation (undoes
	 * a2e7e59a9426): dma_configure builds a fwspec while registration probes the device. */
	IH_REGRESS_FWSPEC_PROBE_RACE,
	/* seed 001: Rockchip driver registers its IOMMU before setting its DMA device
	 * (undoes f90aa59eb299 / f48dcda8f6a4); probe-path flow runs of_xlate on NULL. */
	IH_REGRESS_RK_DMA_DEV_ORDER,
	/* seed 002: unmap reads the flush-queue domain twice, unordered (undoes 7a7c5badf858). */
	IH_REGRESS_FQ_DOMAIN_REREAD,
	/* seed 002: the flip publishes the mode before the queue and quirk are ready. */
	IH_REGRESS_FQ_FLIP_UNORDERED,
	/* seed 003: sibling probe/remove not serialised on the group mutex; no dma_cleanup on a
	 * failed probe (undoes 25f3bcfc54bc). */
	IH_REGRESS_OWNERSHIP_UNSERIALISED,
	/* seed 004: page_pool without in-flight tracking (undoes ee62ce7a1d90). */
	IH_REGRESS_PAGE_POOL_UNTRACKED,
	/* seed 000: per-device data allocated in of_xlate leaked on a later probe error. */
	IH_REGRESS_XLATE_LEAK,
	IH_REGRESS_COUNT,
};

/* The switch's name as IH_REGRESSIONS spells it ("fwspec-probe-race"), or NULL. */
const char *ih_regress_name(enum ih_regress r);

/**
 * ih_regress_parse() - turn "name,name" into a bit set (bit r for enum ih_regress r).
 * Return: 0, or -EINVAL for an unknown name (a message lists the valid ones).
 */
int ih_regress_parse(const char *spec, u32 *set);

/* Switch @r on or off in @w; set-up time only (before model threads run). */
void ih_regress_set(struct ih_world *w, enum ih_regress r, bool on);

/* ih_regress_on() - whether @r is on in @w. Only the switched code path may call this. */
bool ih_regress_on(const struct ih_world *w, enum ih_regress r);

#endif /* IH_REGRESS_H */
