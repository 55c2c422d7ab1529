// SPDX-License-Identifier: MIT
/*
 * TSan scenario, seed 003: siblings of one IOMMU group probing, failing probe and being
 * removed at once, with DMA-API drivers and a driver_managed_dma driver claiming the group.
 *
 * Rig (a fresh concurrent world per repetition): the test IOMMU with PCI grouping, a host
 * bridge, a PCIe-to-PCI bridge and NFUNCS functions behind it: they all alias to the
 * bridge's requester ID, so they share one IOMMU group. Three PCI drivers, bound only
 * through driver_override:
 *   nic   a DMA-API driver (the bus claims the default domain for it at bind);
 *   bad   a DMA-API driver whose probe fails (the claim must be dropped again);
 *   vfio  a driver_managed_dma driver: its probe claims DMA ownership of the group for one
 *         shared owner (-EBUSY while a DMA-API driver is bound to a sibling: the probe
 *         fails), its remove releases it.
 * Threads: one per function (model CPU = its index), started together on a flag in each of
 * ROUNDS rounds; each does one seeded operation on its own function per round: bind nic
 * and unbind, bind bad, bind vfio and unbind, or delete the function and add a new one at
 * the same devfn (it leaves and rejoins the group).
 *
 * Invariant (checked by the core at every group unlock, and by main between rounds): the
 * group's ownership count equals its DMA-API users, no DMA-API user without a driver, an
 * explicit owner never with DMA-API users; no warning, no model leak. Expected outcome,
 * no switch: exit 0, no ThreadSanitizer report. With ownership-unserialised (IH_REGRESSIONS
 * decides; --regress forces it) the claims are unlocked read-modify-writes and a failed
 * probe keeps its claim: a repetition is caught when TSan or the group-invariant check
 * reports in it; the program prints the rate and exits 1 when any repetition was caught.
 * Arguments: [--regress] [SEED] [REPS] (default 1 and 20).
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/check.h>
#include <ih/diag.h>
#include <ih/iommu_group.h>
#include <ih/regress.h>
#include <ih/world.h>
#include "lib/test_iommu.h"

#define NFUNCS	 3
#define ROUNDS	 40
#define MAX_REPS 100

#ifdef IH_TSAN
/* TSan calls this for every report it prints: counted per repetition. */
static unsigned long tsan_reports;
void __tsan_on_report(const void *report);
void __tsan_on_report(const void *report)
{
	(void)report;
	__atomic_fetch_add(&tsan_reports, 1, __ATOMIC_RELAXED);
}
#endif

static unsigned long tsan_report_count(void)
{
#ifdef IH_TSAN
	return __atomic_load_n(&tsan_reports, __ATOMIC_RELAXED);
#else
	return 0;
#endif
}

enum op { OP_NIC, OP_BAD, OP_VFIO, OP_READD, OP_COUNT };

struct rig {
	struct ih_world *w;
	struct tiommu t;
	struct tfw_entry e[NFUNCS];
	char names[NFUNCS][16];
	struct tfw fw;
	struct ih_pci_dev *host, *bridge, *fn[NFUNCS]; /* fn[i]: owned by thread i in a round */
	struct ih_driver nic, bad, vfio;
	char owner;		     /* its address is vfio's ownership cookie */
	unsigned int round;	     /* atomic: bumped by main to start a round */
	unsigned int done;	     /* atomic: threads finished this round */
	unsigned long ops[OP_COUNT]; /* atomic */
	unsigned long bound;	     /* atomic: binds that succeeded */
	int failed;		     /* atomic: a rig step that must not fail did */
};

struct actor {
	struct rig *r;
	unsigned int idx;
	u64 rng;
};

static struct rig *rig_of(struct ih_driver *drv, size_t off)
{
	return (struct rig *)((char *)drv - off);
}

static int fails(struct ih_device *dev)
{
	(void)dev;
	return -EIO;
}

static int vfio_probe(struct ih_device *dev)
{
	struct rig *r = rig_of(dev->driver, offsetof(struct rig, vfio));

	return ih_iommu_device_claim_dma_owner(dev, &r->owner);
}

static void vfio_remove(struct ih_device *dev)
{
	ih_iommu_device_release_dma_owner(dev);
}

static struct ih_pci_dev *add_fn(struct rig *r, unsigned int i)
{
	struct ih_pci_desc ed = {
	    .type = IH_PCI_ENDPOINT, .vendor = 0x1234, .devfn = IH_PCI_DEVFN(i, 0)};
	struct ih_pci_dev *fn;

	if (ih_pci_dev_alloc(r->w, &r->bridge->dev, &ed, &fn))
		return NULL;
	if (ih_device_add(&fn->dev)) {
		ih_device_put(&fn->dev);
		return NULL;
	}
	return fn;
}

static int rig_up(struct rig *r)
{
	struct ih_pci_desc hd = {.type = IH_PCI_HOST_BRIDGE, .subordinate = 0xff};
	struct ih_pci_desc bd = {.type = IH_PCI_PCIE_TO_PCI,
				 .devfn = IH_PCI_DEVFN(1, 0),
				 .secondary = 1,
				 .subordinate = 1};

	r->t.pci_groups = true;
	for (unsigned int i = 0; i < NFUNCS; i++) {
		snprintf(r->names[i], sizeof(r->names[i]), "0000:01:%02x.0", i);
		r->e[i] = (struct tfw_entry){r->names[i], tiommu_fwnode(&r->t), 0x100 + 8 * i};
	}
	r->fw = (struct tfw){.entries = r->e, .count = NFUNCS};
	r->nic = (struct ih_driver){.name = "nic", .bus = &ih_pci_bus_type};
	r->bad = (struct ih_driver){.name = "bad", .bus = &ih_pci_bus_type, .probe = fails};
	r->vfio = (struct ih_driver){.name = "vfio",
				     .bus = &ih_pci_bus_type,
				     .probe = vfio_probe,
				     .remove = vfio_remove,
				     .driver_managed_dma = true};
	tfw_install(r->w, &r->fw);
	ih_iommu_set_probe_flow(r->w, IH_PROBE_FLOW_PROBE_PATH);
	/* No id_table: the drivers bind only where driver_override names them. */
	if (tiommu_register(r->w, &r->t) || ih_bus_register(r->w, &ih_pci_bus_type) ||
	    ih_driver_register(r->w, &r->nic) || ih_driver_register(r->w, &r->bad) ||
	    ih_driver_register(r->w, &r->vfio) || ih_pci_dev_alloc(r->w, NULL, &hd, &r->host) ||
	    ih_device_add(&r->host->dev) ||
	    ih_pci_dev_alloc(r->w, &r->host->dev, &bd, &r->bridge) ||
	    ih_device_add(&r->bridge->dev))
		return 1;
	for (unsigned int i = 0; i < NFUNCS; i++)
		if (!(r->fn[i] = add_fn(r, i)) || !r->fn[i]->dev.iommu_group)
			return 1;
	/* One group: every function aliases to the bridge. */
	for (unsigned int i = 1; i < NFUNCS; i++)
		if (r->fn[i]->dev.iommu_group != r->fn[0]->dev.iommu_group)
			return 1;
	return 0;
}

static void rig_down(struct rig *r)
{
	ih_driver_unregister(r->w, &r->vfio);
	ih_driver_unregister(r->w, &r->bad);
	ih_driver_unregister(r->w, &r->nic);
	for (int i = NFUNCS - 1; i >= 0; i--)
		if (r->fn[i])
			ih_device_unregister(&r->fn[i]->dev);
	ih_device_unregister(&r->bridge->dev);
	ih_device_unregister(&r->host->dev);
	ih_iommu_device_unregister(r->w, &r->t.iommu);
}

static u64 next_rand(u64 *s)
{
	/* xorshift64*: each thread its own stream, seeded from the world's seed. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static void bind_as(struct rig *r, struct ih_device *dev, const char *drv, bool unbind)
{
	if (ih_device_set_driver_override(dev, drv)) {
		__atomic_store_n(&r->failed, 1, __ATOMIC_RELAXED);
		return;
	}
	if (ih_device_attach(dev) == 1) {
		__atomic_fetch_add(&r->bound, 1, __ATOMIC_RELAXED);
		sched_yield();
		if (unbind)
			ih_device_unbind(dev);
	}
}

static void *sibling(void *arg)
{
	struct actor *a = arg;
	struct rig *r = a->r;

	ih_thread_set_cpu(r->w, a->idx);
	for (unsigned int n = 1; n <= ROUNDS; n++) {
		enum op op;

		while (__atomic_load_n(&r->round, __ATOMIC_ACQUIRE) != n)
			sched_yield();
		op = (enum op)(next_rand(&a->rng) % OP_COUNT);
		__atomic_fetch_add(&r->ops[op], 1, __ATOMIC_RELAXED);
		switch (op) {
		case OP_NIC:
			bind_as(r, &r->fn[a->idx]->dev, "nic", true);
			break;
		case OP_BAD:
			bind_as(r, &r->fn[a->idx]->dev, "bad", true);
			break;
		case OP_VFIO:
			bind_as(r, &r->fn[a->idx]->dev, "vfio", true);
			break;
		default:
			ih_device_unregister(&r->fn[a->idx]->dev);
			r->fn[a->idx] = add_fn(r, a->idx);
			if (!r->fn[a->idx]) {
				__atomic_store_n(&r->failed, 1, __ATOMIC_RELAXED);
				__atomic_fetch_add(&r->done, 1, __ATOMIC_RELEASE);
				return NULL;
			}
			break;
		}
		__atomic_fetch_add(&r->done, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

struct rep_result {
	unsigned long violations, warnings, tsan, bound, ops[OP_COUNT];
	size_t leaked;
	int rig_failed;
};

static int run_rep(u64 seed, bool force, bool *regress, struct rep_result *res)
{
	static struct rig r;
	struct ih_world_config cfg;
	struct actor act[NFUNCS];
	pthread_t th[NFUNCS];
	unsigned long tsan0 = tsan_report_count();

	memset(&r, 0, sizeof(r));
	memset(res, 0, sizeof(*res));
	ih_world_config_init(&cfg);
	cfg.mode = IH_EXEC_CONCURRENT;
	cfg.clock = IH_CLOCK_REAL;
	cfg.ncpus = NFUNCS;
	cfg.seed = seed;
	cfg.log = "none";
	if (ih_world_create(&cfg, &r.w))
		return -1;
	if (force)
		ih_regress_set(r.w, IH_REGRESS_OWNERSHIP_UNSERIALISED, true);
	*regress = ih_regress_on(r.w, IH_REGRESS_OWNERSHIP_UNSERIALISED);
	if (rig_up(&r)) {
		fprintf(stderr, "tsan_group_siblings: set-up failed\n");
		return -1;
	}
	for (unsigned int i = 0; i < NFUNCS; i++) {
		act[i] =
		    (struct actor){.r = &r, .idx = i, .rng = seed * 0x9E3779B97F4A7C15ULL + i + 1};
		pthread_create(&th[i], NULL, sibling, &act[i]);
	}
	for (unsigned int n = 1; n <= ROUNDS; n++) {
		__atomic_store_n(&r.round, n, __ATOMIC_RELEASE);
		while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) != n * NFUNCS)
			sched_yield();
		if (__atomic_load_n(&r.failed, __ATOMIC_RELAXED))
			break;
		/* Between rounds, nobody in the model: the group must be consistent. */
		for (unsigned int i = 0; i < NFUNCS; i++)
			if (r.fn[i]->dev.iommu_group)
				ih_iommu_group_check(r.fn[i]->dev.iommu_group);
	}
	if (__atomic_load_n(&r.failed, __ATOMIC_RELAXED)) {
		/* A thread may wait for a round that will not come: exit ends it. */
		fprintf(stderr, "tsan_group_siblings: a rig step failed\n");
		return -1;
	}
	for (unsigned int i = 0; i < NFUNCS; i++)
		pthread_join(th[i], NULL);
	res->violations = ih_iommu_invariant_violations(r.w);
	res->bound = r.bound;
	memcpy(res->ops, r.ops, sizeof(res->ops));
	rig_down(&r);
	res->warnings = ih_warn_count(r.w);
	res->leaked = ih_world_destroy(r.w);
	res->tsan = tsan_report_count() - tsan0;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int reps = 20, caught = 0, by_tsan = 0, by_group = 0, a = 0;
	unsigned long binds = 0, ops[OP_COUNT] = {0};
	bool force = false, regress = false;
	u64 seed = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--regress"))
			force = true;
		else if (a++ == 0)
			seed = strtoull(argv[i], NULL, 0);
		else
			reps = (unsigned int)strtoul(argv[i], NULL, 0);
	}
	if (!reps || reps > MAX_REPS) {
		fprintf(stderr, "usage: tsan_group_siblings [--regress] [SEED] [REPS <= %d]\n",
			MAX_REPS);
		return 2;
	}
	for (unsigned int rep = 0; rep < reps; rep++) {
		struct rep_result res;

		if (run_rep(seed + rep, force, &regress, &res))
			return 1;
		if (!rep)
			printf(
			    "tsan_group_siblings: %u repetitions of %d rounds, %d siblings, seed "
			    "%llu, %s\n",
			    reps, ROUNDS, NFUNCS, (unsigned long long)seed,
			    regress ? "ownership-unserialised" : "fixed");
		binds += res.bound;
		for (int o = 0; o < OP_COUNT; o++)
			ops[o] += res.ops[o];
		by_tsan += res.tsan != 0;
		by_group += res.violations != 0;
		if (res.tsan || res.violations || res.warnings || res.leaked) {
			caught++;
			/* The zoo names the detector from these words ("invariant broken"). */
			fprintf(stderr, "tsan_group_siblings: repetition %u (seed %llu):", rep + 1,
				(unsigned long long)(seed + rep));
			if (res.violations)
				fprintf(stderr, " group invariant broken %lu time(s);",
					res.violations);
			if (res.tsan)
				fprintf(stderr, " %lu TSan report(s);", res.tsan);
			if (res.warnings)
				fprintf(stderr, " %lu warning(s);", res.warnings);
			if (res.leaked)
				fprintf(stderr, " %zu block(s) leaked at world teardown;",
					res.leaked);
			fputc('\n', stderr);
		}
	}
	printf("tsan_group_siblings: %lu nic, %lu bad, %lu vfio, %lu re-add operations, %lu "
	       "binds\n",
	       ops[OP_NIC], ops[OP_BAD], ops[OP_VFIO], ops[OP_READD], binds);
	if (regress) {
		printf("tsan_group_siblings: caught in %u/%u repetitions (TSan %u, group "
		       "invariants %u)\n",
		       caught, reps, by_tsan, by_group);
		return caught ? 1 : 0;
	}
	if (caught) {
		fprintf(stderr, "tsan_group_siblings: FAIL: %u of %u repetitions reported\n",
			caught, reps);
		return 1;
	}
	printf("tsan_group_siblings: pass, 0 reports over %u repetitions\n", reps);
	return 0;
}
