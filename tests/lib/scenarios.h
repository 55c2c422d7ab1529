/* SPDX-License-Identifier: MIT */
/* Known-bug scenarios shared by the Criterion tests and the bug-zoo runner. */
#ifndef IH_TESTS_SCENARIOS_H
#define IH_TESTS_SCENARIOS_H

#include <ih/compat.h>

struct ih_world;
struct ih_coop_workers;

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

/*
 * Seed 004: a NIC's page_pool with pages out in the network stack (30 s defragmentation
 * hold) when the device goes away; the pages come back after that.
 *   vf_delete: a VF behind SMMUv3 (lazy DMA domains) deleted by writing 0 to the PF's
 *              sriov_numvfs, the path of the reported hns3 crash;
 *   rk_unbind: a platform device behind the Rockchip IOMMU unbound from its driver.
 * The checkers are the detectors (dma-debug: a mapping that outlived the driver or the
 * domain, a DMA-API call on a device with no driver; the IOVA leak check at domain
 * teardown): any report fails the scenario, with the first one printed.
 */
int scenario_page_pool_vf_delete(struct ih_world *w);
int scenario_page_pool_rk_unbind(struct ih_world *w);
/* ---- Seed 002: the live strict-to-lazy flip (SMMUv3 driver on its emulated SMMU) ---- */

/*
 * The rig: an emulated SMMUv3 and its driver, dev0 (StreamID 0x10) bound to a DMA-API
 * driver in a strict DMA default domain, a "keeper" page mapped at the top of the IOVA
 * space (so the leaf table outlives the unmaps and with it any stale TLB entry), and a
 * buffer mapped below it that the device has DMA'd through (its translation is in the
 * SMMU's TLB). Then two logical threads race: A (model CPU 0) unmaps the buffer, B (model
 * CPU 1) writes "DMA-FQ" to the group's type. Afterwards a second buffer is mapped (it gets
 * the first buffer's IOVA back if that was freed) and the device DMAs through it.
 */
enum fq_flip_script {
	/* "A@dma:unmap:after-fq-read B A": the unmap has read the mode (strict), the flip
	 * lands whole, the unmap goes on. Caught with fq-domain-reread on. */
	FQ_FLIP_SCRIPT_REREAD,
	/* "B@dma:flip:published A B": the flip has published lazy mode, the unmap runs whole,
	 * the flip finishes. Caught with fq-flip-unordered on. */
	FQ_FLIP_SCRIPT_UNORDERED,
};

/**
 * struct fq_flip_outcome - what one race did.
 * @iova_old: the unmapped buffer's IOVA. @iova_new: the second buffer's.
 * @pa_old, @pa_new: the two buffers' PAs. @reached: where the device's DMA at @iova_new went.
 * @stale_at_free, @stale_access: IOTLB-staleness reports. @reports: all reports.
 * @flip_ret: what the type write returned. @trace: the schedule that ran (a script).
 */
struct fq_flip_outcome {
	u64 iova_old, iova_new;
	u64 pa_old, pa_new, reached;
	unsigned long stale_at_free, stale_access, reports;
	int flip_ret;
	char trace[256];
};

/*
 * Run one scripted race on @w (sequential, 2 model CPUs). Return: 0 when no checker
 * reported and the device reached the second buffer; 1 when a detector fired (its report is
 * printed); 2 when the rig could not be built or the script failed. @out may be NULL.
 */
int scenario_fq_flip_script(struct ih_world *w, enum fq_flip_script which,
			    struct fq_flip_outcome *out);

/*
 * The same race under @seeds schedules of ih_coop_run_random() (seeds @seed0, @seed0 + 1,
 * ...; @pct_depth 0 uniform, else PCT over 16 points), a fresh strict domain each time.
 * Return: 0 when every schedule stayed clean, else the number of schedules it took until
 * a checker reported (the seed and the schedule are printed); -1 when the rig failed.
 */
int scenario_fq_flip_explore(struct ih_world *w, unsigned int seeds, u64 seed0,
			     unsigned int pct_depth);

/* ---- One explored schedule of each racy scenario (the zoo's exploration numbers) ---- */

/*
 * Each runs one ih_coop_run_random() schedule (@seed; @pct_depth 0 uniform, else PCT over
 * the scenario's own horizon of schedule points) of a racy scenario on @w, then tears
 * everything down. Return: 0 when the model stayed consistent, 1 when a detector fired
 * (its report printed), -1 when the rig failed. Memory errors crash (fwspec-probe-race
 * is one): run them in a child process under ASan.
 *   probe_race: the bind vs registration probe of seed 000 (horizon 32 points);
 *   sibling:    two siblings binding and unbinding twice each, seed 003 (64 points);
 *   fq_flip:    the unmap vs strict-to-lazy flip of seed 002 (16 points).
 */
int scenario_probe_race_schedule(struct ih_world *w, u64 seed, unsigned int pct_depth);
int scenario_sibling_schedule(struct ih_world *w, u64 seed, unsigned int pct_depth);
int scenario_fq_flip_schedule(struct ih_world *w, u64 seed, unsigned int pct_depth);

/**
 * struct scenario_sched - which schedule a racy scenario runs.
 * @seed: the PRNG seed of an ih_coop_run_random() schedule.
 * @pct_depth: 0 uniform random, else PCT of that depth (over the scenario's horizon).
 * @choices: when not NULL, the run is ih_coop_run_choices() on these bytes instead
 *	(@seed and @pct_depth unused); an empty string (@nchoices 0) is allowed.
 * @nchoices: bytes at @choices.
 * @trace: optional (NULL): receives the schedule that ran, a script for
 *	ih_coop_run_script() (cut to @tlen - 1 characters).
 * @tlen: size of @trace.
 * @workers: optional (NULL): pooled pthreads to run the logical threads on
 *	(ih_coop_use_workers()), for callers that run many schedules.
 */
struct scenario_sched {
	u64 seed;
	unsigned int pct_depth;
	const u8 *choices;
	size_t nchoices;
	char *trace;
	size_t tlen;
	struct ih_coop_workers *workers;
};

/*
 * The same three scenarios on any schedule @s (the *_schedule() functions above are
 * these with a seeded one). Return: as above (0 clean, 1 a detector fired, -1 the rig
 * failed). Nothing is printed on a clean run.
 */
int scenario_probe_race_run(struct ih_world *w, const struct scenario_sched *s);
int scenario_sibling_run(struct ih_world *w, const struct scenario_sched *s);
int scenario_fq_flip_run(struct ih_world *w, const struct scenario_sched *s);

#endif /* IH_TESTS_SCENARIOS_H */
