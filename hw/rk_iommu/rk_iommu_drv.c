// SPDX-License-Identifier: MIT
/* Rockchip IOMMU platform driver: probe/remove, register sequences, interrupt handler. */
#include <inttypes.h>
#include <string.h>

#define IH_LOG_PREFIX "rk_iommu: "
#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/regress.h>
#include <ih/sched.h>

#include "rk_iommu_drv_priv.h"

/*
 * Lock order: rk->lock -> domain->lock -> emulated hardware (leaf). The interrupt handler
 * takes no driver lock; it runs on the thread whose DMA faulted.
 *
 * Commands complete at once on the emulated unit, but the driver still confirms each one
 * in STATUS, as on silicon: a command the unit ignores (ENABLE_PAGING while a page fault
 * is pending, say) shows up as a timeout instead of a silently wrong state.
 */

#define RK_POLL_TRIES 100

static u32 rk_read(struct rk_iommu *rk, unsigned int bank, u64 off)
{
	return ih_readl(rk->bases[bank], off);
}

static void rk_write(struct rk_iommu *rk, unsigned int bank, u64 off, u32 val)
{
	ih_writel(rk->bases[bank], val, off);
}

static void rk_command(struct rk_iommu *rk, u32 cmd)
{
	for (unsigned int i = 0; i < rk->nbanks; i++)
		rk_write(rk, i, RK_MMU_COMMAND, cmd);
}

/* Wait until @ok holds for STATUS of every bank; -ETIMEDOUT names the first that lags. */
static int rk_wait_all(struct rk_iommu *rk, bool (*ok)(u32 status), const char *what)
{
	unsigned int bank = 0;
	u32 status = 0;

	for (int tries = 0; tries < RK_POLL_TRIES; tries++) {
		for (bank = 0; bank < rk->nbanks; bank++) {
			status = rk_read(rk, bank, RK_MMU_STATUS);
			if (!ok(status))
				break;
		}
		if (bank == rk->nbanks)
			return 0;
		ih_sched_point(rk->w, "rk_iommu:poll");
	}
	ih_log(rk->w, IH_LOG_INFO, "%s: %s timed out, bank %u STATUS 0x%08" PRIx32, rk->dev->name,
	       what, bank, status);
	return -ETIMEDOUT;
}

static bool st_paging_on(u32 s)
{
	return s & RK_MMU_STATUS_PAGING_ENABLED;
}

static bool st_paging_off(u32 s)
{
	return !(s & RK_MMU_STATUS_PAGING_ENABLED);
}

/* Stalled, or not translating at all (with paging off the stall is implicit). */
static bool st_quiet(u32 s)
{
	return (s & RK_MMU_STATUS_STALL_ACTIVE) || !(s & RK_MMU_STATUS_PAGING_ENABLED);
}

static bool st_unstalled(u32 s)
{
	return !(s & RK_MMU_STATUS_STALL_ACTIVE);
}

/* Stall every bank that translates, so DTE_ADDR and paging can change under it. */
static int rk_stall(struct rk_iommu *rk)
{
	for (unsigned int i = 0; i < rk->nbanks; i++) {
		u32 s = rk_read(rk, i, RK_MMU_STATUS);

		/* ENABLE_STALL only takes effect with paging on (UG1087 PPx_MMU_COMMAND). */
		if ((s & RK_MMU_STATUS_PAGING_ENABLED) && !(s & RK_MMU_STATUS_STALL_ACTIVE))
			rk_write(rk, i, RK_MMU_COMMAND, RK_MMU_CMD_ENABLE_STALL);
	}
	return rk_wait_all(rk, st_quiet, "stall");
}

static int rk_unstall(struct rk_iommu *rk)
{
	rk_command(rk, RK_MMU_CMD_DISABLE_STALL);
	return rk_wait_all(rk, st_unstalled, "unstall");
}

int rk_iommu_enable_locked(struct rk_iommu *rk, u32 dte_addr_reg)
{
	int ret;

	ret = rk_stall(rk);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < rk->nbanks; i++) {
		rk_write(rk, i, RK_MMU_DTE_ADDR, dte_addr_reg);
		/* The TLB is tagged by IOVA only: entries of the old table must go. */
		rk_write(rk, i, RK_MMU_COMMAND, RK_MMU_CMD_ZAP_CACHE);
		rk_write(rk, i, RK_MMU_INT_MASK, RK_MMU_IRQ_MASK);
	}
	__atomic_fetch_add(&rk->st.zap_caches, rk->nbanks, __ATOMIC_RELAXED);
	rk_command(rk, RK_MMU_CMD_ENABLE_PAGING);
	ret = rk_wait_all(rk, st_paging_on, "enable paging");
	/* Unstall even on failure: a stalled master would hang its device for good. */
	if (rk_unstall(rk) && !ret)
		ret = -ETIMEDOUT;
	if (!ret)
		rk_stat_inc(rk, attaches);
	return ret;
}

int rk_iommu_disable_locked(struct rk_iommu *rk)
{
	int ret;

	ret = rk_stall(rk);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < rk->nbanks; i++) {
		rk_write(rk, i, RK_MMU_INT_MASK, 0);
		rk_write(rk, i, RK_MMU_DTE_ADDR, 0);
	}
	rk_command(rk, RK_MMU_CMD_DISABLE_PAGING);
	ret = rk_wait_all(rk, st_paging_off, "disable paging");
	if (rk_unstall(rk) && !ret)
		ret = -ETIMEDOUT;
	if (!ret)
		rk_stat_inc(rk, detaches);
	return ret;
}

void rk_iommu_zap_cache(struct rk_iommu *rk)
{
	rk_command(rk, RK_MMU_CMD_ZAP_CACHE);
	__atomic_fetch_add(&rk->st.zap_caches, rk->nbanks, __ATOMIC_RELAXED);
}

void rk_iommu_zap_lines(struct rk_iommu *rk, u64 iova, size_t size)
{
	u64 first = iova & ~(u64)(RK_MMU_PAGE_SIZE - 1);
	u64 last = (iova + size - 1) & ~(u64)(RK_MMU_PAGE_SIZE - 1);

	if (!size)
		return;
	if ((last - first) / RK_MMU_PAGE_SIZE >= RK_IOMMU_ZAP_LINES_MAX) {
		rk_iommu_zap_cache(rk);
		return;
	}
	/* Evicts the DTE line and the PTE line holding each page's descriptors. */
	for (unsigned int i = 0; i < rk->nbanks; i++) {
		for (u64 a = first;; a += RK_MMU_PAGE_SIZE) {
			rk_write(rk, i, RK_MMU_ZAP_ONE_LINE, (u32)a);
			__atomic_fetch_add(&rk->st.zap_lines, 1, __ATOMIC_RELAXED);
			if (a == last)
				break;
		}
	}
}

/* ---- Reset and interrupt -------------------------------------------------------------- */

static u32 rk_dte_addr_mask(const struct rk_iommu *rk)
{
	return rk->version == IH_RK_IOMMU_HW_V2 ? RK_MMU_DTE_ADDR_V2_MASK : RK_MMU_DTE_ADDR_V1_MASK;
}

static bool st_dte_addr_zero(struct rk_iommu *rk)
{
	for (unsigned int i = 0; i < rk->nbanks; i++)
		if (rk_read(rk, i, RK_MMU_DTE_ADDR))
			return false;
	return true;
}

/*
 * DTE_ADDR self-test, then FORCE_RESET on every bank. Only the implemented address bits
 * read back, so the pattern also tells a v1 unit from a v2 one: a compatible string that
 * names the wrong version fails here instead of programming garbage later.
 */
static int rk_iommu_reset(struct rk_iommu *rk)
{
	u32 want = RK_MMU_DTE_ADDR_DUMMY & rk_dte_addr_mask(rk);

	for (unsigned int i = 0; i < rk->nbanks; i++) {
		u32 got;

		rk_write(rk, i, RK_MMU_DTE_ADDR, RK_MMU_DTE_ADDR_DUMMY);
		got = rk_read(rk, i, RK_MMU_DTE_ADDR);
		if (got != want) {
			ih_log(rk->w, IH_LOG_INFO,
			       "%s: bank %u DTE_ADDR self-test read 0x%08" PRIx32
			       ", want 0x%08" PRIx32 " (v%d)",
			       rk->dev->name, i, got, want, (int)rk->version);
			return -ENODEV;
		}
	}
	rk_command(rk, RK_MMU_CMD_FORCE_RESET);
	for (int tries = 0; tries < RK_POLL_TRIES; tries++)
		if (st_dte_addr_zero(rk))
			return 0;
	ih_log(rk->w, IH_LOG_INFO, "%s: FORCE_RESET did not complete", rk->dev->name);
	return -ETIMEDOUT;
}

static ih_pa_t rk_desc_pa(const struct rk_iommu *rk, u32 desc)
{
	ih_pa_t pa = desc & RK_MMU_DESC_ADDR_LO;

	if (rk->version == IH_RK_IOMMU_HW_V2) {
		pa |= (ih_pa_t)FIELD_GET(RK_MMU_DESC_V2_PA35_32, desc) << 32;
		pa |= (ih_pa_t)FIELD_GET(RK_MMU_DESC_V2_PA39_36, desc) << 36;
	}
	return pa;
}

/* Say what the tables hold for the faulting IOVA (the walk the hardware just did). */
static void rk_log_fault(struct rk_iommu *rk, unsigned int bank, u32 iova, bool write)
{
	ih_pa_t dt, dte_pa, pte_pa = 0;
	u32 dte = 0, pte = 0;
	bool have_dte, have_pte = false;

	if (!ih_log_enabled(rk->w, IH_LOG_INFO))
		return;
	dt = rk_desc_pa(rk, rk_read(rk, bank, RK_MMU_DTE_ADDR)); /* same packing */
	dte_pa = dt + FIELD_GET(RK_MMU_IOVA_DTE_IDX, iova) * 4;
	have_dte = !ih_pm_load32(rk->w, dte_pa, &dte);
	if (have_dte && (dte & RK_MMU_DESC_VALID)) {
		pte_pa = rk_desc_pa(rk, dte) + FIELD_GET(RK_MMU_IOVA_PTE_IDX, iova) * 4;
		have_pte = !ih_pm_load32(rk->w, pte_pa, &pte);
	}
	ih_log(rk->w, IH_LOG_INFO,
	       "%s: bank %u page fault at IOVA 0x%08" PRIx32 " (%s): dte@0x%" PRIx64
	       " = %s0x%08" PRIx32 ", pte@0x%" PRIx64 " = %s0x%08" PRIx32,
	       rk->dev->name, bank, iova, write ? "write" : "read", (u64)dte_pa,
	       have_dte ? "" : "unreadable ", dte, (u64)pte_pa, have_pte ? "" : "none ", pte);
}

/*
 * The interrupt handler: report what INT_STATUS says, then let the master go on. A page
 * fault leaves the bank waiting for PAGE_FAULT_DONE; the TLB is emptied first so that
 * the invalid descriptors the failed walk cached cannot fault the replay again.
 */
static void rk_iommu_irq(void *data, unsigned int bank)
{
	struct rk_iommu *rk = data;
	u32 int_status, iova;

	if (bank >= rk->nbanks) {
		rk_stat_inc(rk, unhandled_irqs);
		return;
	}
	int_status = rk_read(rk, bank, RK_MMU_INT_STATUS);
	if (!int_status) {
		rk_stat_inc(rk, unhandled_irqs);
		return;
	}
	iova = rk_read(rk, bank, RK_MMU_PAGE_FAULT_ADDR);
	WRITE_ONCE(rk->st.last_fault_iova, iova);
	WRITE_ONCE(rk->st.last_fault_bank, bank);

	if (int_status & RK_MMU_IRQ_PAGE_FAULT) {
		u32 status = rk_read(rk, bank, RK_MMU_STATUS);
		bool write = status & RK_MMU_STATUS_PAGE_FAULT_IS_WRITE;

		WRITE_ONCE(rk->st.last_fault_write, write);
		rk_log_fault(rk, bank, iova, write);
		rk_stat_inc(rk, page_faults);
		rk_write(rk, bank, RK_MMU_COMMAND, RK_MMU_CMD_ZAP_CACHE);
		rk_stat_inc(rk, zap_caches);
		rk_write(rk, bank, RK_MMU_COMMAND, RK_MMU_CMD_PAGE_FAULT_DONE);
	}
	if (int_status & RK_MMU_IRQ_BUS_ERROR) {
		ih_log(rk->w, IH_LOG_INFO, "%s: bank %u bus error at IOVA 0x%08" PRIx32,
		       rk->dev->name, bank, iova);
		rk_stat_inc(rk, bus_errors);
	}
	if (int_status & ~RK_MMU_IRQ_MASK)
		ih_log(rk->w, IH_LOG_INFO, "%s: bank %u unexpected INT_STATUS 0x%08" PRIx32,
		       rk->dev->name, bank, int_status);
	rk_write(rk, bank, RK_MMU_INT_CLEAR, int_status);
}

/* ---- The platform driver ---------------------------------------------------------------- */

static int rk_iommu_probe(struct ih_device *dev)
{
	struct ih_world *w = dev->world;
	struct ih_rk_iommu_pdev *pd = ih_rk_iommu_pdev_of(dev);
	/* rk-dma-dev-order: the pre-f90aa59eb299 order, DMA device set after registering. */
	bool old_order = ih_regress_on(w, IH_REGRESS_RK_DMA_DEV_ORDER);
	struct rk_iommu *rk;
	int ret;

	if (!pd || !pd->nbanks || pd->nbanks > IH_RK_IOMMU_MAX_BANKS || !dev->fwnode) {
		ih_log(w, IH_LOG_INFO, "%s: no Rockchip IOMMU resources", dev->name);
		return -ENODEV;
	}
	rk = ih_alloc(w, sizeof(*rk), "rk_iommu:instance");
	if (!rk)
		return -ENOMEM;
	rk->w = w;
	rk->dev = dev;
	rk->pd = pd;
	rk->version = strcmp(pd->pdev.compatible, IH_RK_IOMMU_COMPAT_V2) ? IH_RK_IOMMU_HW_V1
									 : IH_RK_IOMMU_HW_V2;
	rk->nbanks = pd->nbanks;
	rk->st.version = rk->version;
	rk->st.nbanks = rk->nbanks;
	for (unsigned int i = 0; i < rk->nbanks; i++) {
		rk->bases[i] = ih_ioremap(w, pd->bank_base[i], RK_MMU_BANK_SPAN);
		if (!rk->bases[i]) {
			ih_log(w, IH_LOG_INFO, "%s: bank %u at 0x%" PRIx64 " cannot be mapped",
			       dev->name, i, pd->bank_base[i]);
			ret = -ENXIO;
			goto free_rk;
		}
	}
	pthread_mutex_init(&rk->lock, NULL);

	ret = rk_iommu_reset(rk);
	if (ret)
		goto destroy_lock;
	ih_dev_set_drvdata(dev, rk);
	ret = ih_rk_iommu_pdev_request_irq(pd, rk_iommu_irq, rk);
	if (ret)
		goto clear_drvdata;

	rk->iommu.name = dev->name;
	rk->iommu.hw_ops = &ih_rk_iommu_hw_ops;
	rk->iommu.hw = pd->hw;
	/*
	 * Everything of_xlate and probe_device use must be ready before registering: in the
	 * probe-path flow registration calls them for waiting clients before it returns.
	 */
	if (!old_order)
		rk->dma_dev = dev;
	ret = ih_iommu_device_register(w, &rk->iommu, &rk_iommu_ops, dev->fwnode, dev);
	if (ret)
		goto free_irq;
	if (old_order)
		rk->dma_dev = dev;
	ih_log(w, IH_LOG_INFO, "%s: v%d, %u bank(s)", dev->name, (int)rk->version, rk->nbanks);
	return 0;

free_irq:
	ih_rk_iommu_pdev_free_irq(pd);
clear_drvdata:
	ih_dev_set_drvdata(dev, NULL);
destroy_lock:
	pthread_mutex_destroy(&rk->lock);
free_rk:
	ih_free(w, rk);
	/* What the driver core's devres_release_all() does after a failed probe. */
	ih_rk_devres_release_all(dev);
	return ret;
}

static void rk_iommu_remove(struct ih_device *dev)
{
	struct rk_iommu *rk = ih_dev_get_drvdata(dev);
	struct ih_world *w = dev->world;

	/* Releases every client: their groups go, and with them the domains they used. */
	ih_iommu_device_unregister(w, &rk->iommu);
	/* A domain someone still holds may be attached: take the hardware out of it. */
	pthread_mutex_lock(&rk->lock);
	if (rk->domain) {
		struct rk_domain *d = rk->domain;

		ih_mutex_lock(&d->lock);
		for (struct rk_iommu **pp = &d->iommus; *pp; pp = &(*pp)->domain_next) {
			if (*pp == rk) {
				*pp = rk->domain_next;
				break;
			}
		}
		ih_mutex_unlock(&d->lock);
		rk->domain = NULL;
		rk->domain_next = NULL;
	}
	rk_iommu_disable_locked(rk);
	pthread_mutex_unlock(&rk->lock);
	ih_rk_iommu_pdev_free_irq(rk->pd);
	pthread_mutex_destroy(&rk->lock);
	ih_free(w, rk);
	/* The per-client data of_xlate allocated lives until here (devres_release_all()). */
	ih_rk_devres_release_all(dev);
}

static const char *const rk_iommu_compat[] = {
    IH_RK_IOMMU_COMPAT_V1,
    IH_RK_IOMMU_COMPAT_V2,
    NULL,
};

int ih_rk_iommu_driver_register(struct ih_world *w, struct ih_driver **out)
{
	struct ih_driver *drv;
	int ret;

	*out = NULL;
	if (!ih_bus_registered(w, &ih_platform_bus_type)) {
		ret = ih_bus_register(w, &ih_platform_bus_type);
		if (ret)
			return ret;
	}
	/* Per world: the driver core keeps its private state in the struct. */
	drv = ih_alloc(w, sizeof(*drv), "rk_iommu:driver");
	if (!drv)
		return -ENOMEM;
	drv->name = "rk_iommu";
	drv->bus = &ih_platform_bus_type;
	drv->probe = rk_iommu_probe;
	drv->remove = rk_iommu_remove;
	drv->id_table = rk_iommu_compat;
	ret = ih_driver_register(w, drv);
	if (ret) {
		ih_free(w, drv);
		return ret;
	}
	*out = drv;
	return 0;
}

void ih_rk_iommu_driver_unregister(struct ih_world *w, struct ih_driver *drv)
{
	if (!drv)
		return;
	ih_driver_unregister(w, drv);
	ih_free(w, drv);
}

int ih_rk_iommu_get_stats(struct ih_device *iommu_dev, struct ih_rk_iommu_stats *st)
{
	struct ih_driver *drv = iommu_dev ? ih_device_driver(iommu_dev) : NULL;
	struct rk_iommu *rk;

	if (!drv || drv->probe != rk_iommu_probe || !ih_rk_iommu_pdev_of(iommu_dev))
		return -ENODEV;
	rk = ih_dev_get_drvdata(iommu_dev);
	if (!rk)
		return -ENODEV;
	st->version = rk->version;
	st->nbanks = rk->nbanks;
	st->clients = __atomic_load_n(&rk->st.clients, __ATOMIC_RELAXED);
	st->xlates = __atomic_load_n(&rk->st.xlates, __ATOMIC_RELAXED);
	st->attaches = __atomic_load_n(&rk->st.attaches, __ATOMIC_RELAXED);
	st->detaches = __atomic_load_n(&rk->st.detaches, __ATOMIC_RELAXED);
	st->zap_lines = __atomic_load_n(&rk->st.zap_lines, __ATOMIC_RELAXED);
	st->zap_caches = __atomic_load_n(&rk->st.zap_caches, __ATOMIC_RELAXED);
	st->page_faults = __atomic_load_n(&rk->st.page_faults, __ATOMIC_RELAXED);
	st->bus_errors = __atomic_load_n(&rk->st.bus_errors, __ATOMIC_RELAXED);
	st->unhandled_irqs = __atomic_load_n(&rk->st.unhandled_irqs, __ATOMIC_RELAXED);
	st->last_fault_iova = READ_ONCE(rk->st.last_fault_iova);
	st->last_fault_bank = READ_ONCE(rk->st.last_fault_bank);
	st->last_fault_write = READ_ONCE(rk->st.last_fault_write);
	return 0;
}

int ih_rk_iommu_set_test_forget_zap(struct ih_device *iommu_dev, bool on)
{
	struct ih_driver *drv = iommu_dev ? ih_device_driver(iommu_dev) : NULL;
	struct rk_iommu *rk;

	if (!drv || drv->probe != rk_iommu_probe || !ih_rk_iommu_pdev_of(iommu_dev))
		return -ENODEV;
	rk = ih_dev_get_drvdata(iommu_dev);
	if (!rk)
		return -ENODEV;
	__atomic_store_n(&rk->test_forget_zap, on, __ATOMIC_RELAXED);
	return 0;
}
