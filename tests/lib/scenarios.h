/* SPDX-License-Identifier: MIT */
/* Known-bug scenarios shared by the Criterion tests and the bug-zoo runner. */
#ifndef IH_TESTS_SCENARIOS_H
#define IH_TESTS_SCENARIOS_H

#include <ih/compat.h>

struct ih_world;

/*
 * Each scenario runs on a fresh sequential world the caller made (with whatever replay
 * switches it wants on), tears everything down, and returns 0 when the model stayed
 * consistent: a broken group invariant, a warning or a model leak gives a non-zero
 * return with a message on stderr. Memory errors (the fwspec race) crash instead, as
 * they would in the kernel: run those in a child process or under a sanitizer.
 */

/* Seed 000: bind-time fwspec creation vs registration's probe of the same device, as the
 * script "A@fwspec:after-get B A". */
int scenario_probe_race_script(struct ih_world *w);

/* Seed 003: a DMA-API driver whose probe fails; the claim must be dropped again. */
int scenario_failed_probe(struct ih_world *w);

/* Seed 003: two siblings binding and unbinding under @seeds random schedules. Returns 0
 * when every schedule kept the invariants, else the first failing seed. */
int scenario_sibling_explore(struct ih_world *w, unsigned int seeds);

/*
 * Seed 001: the RK3568 bring-up order in the probe-path flow. The client waits for its
 * IOMMU; the Rockchip IOMMU's driver then probes and registers (its DMA device set before
 * or, with rk-dma-dev-order, after registration); the client must end bound and DMA
 * through the IOMMU.
 */
int scenario_rk_probe_order(struct ih_world *w);

/*
 * Seed 000 (review): per-device data allocated in of_xlate. An SMMUv3 client whose probe
 * fails after of_xlate ran (the allocation of its StreamID array is made to fail): the
 * driver's data must not outlive the failed probe. The model's leak check is the detector.
 */
int scenario_smmuv3_xlate_error(struct ih_world *w);

#endif /* IH_TESTS_SCENARIOS_H */
