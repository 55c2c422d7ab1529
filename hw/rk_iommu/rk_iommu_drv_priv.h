/* SPDX-License-Identifier: MIT */
/* Private state of the Rockchip IOMMU driver, shared by its platform and domain files. */
#ifndef IH_HW_RK_IOMMU_DRV_PRIV_H
#define IH_HW_RK_IOMMU_DRV_PRIV_H

#include <pthread.h>

#include <ih/mutex.h>

#include <ih/io_pgtable.h>
#include <ih/iommu_group.h>
#include <ih/mmio.h>

#include "rk_iommu_drv.h"
#include "rk_iommu_drv_regs.h"

/* 4K..4M, every size mapped with 4K PTEs (research/mechanisms.md 3.7). */
#define RK_IOMMU_PGSIZE_BITMAP 0x007ff000UL
/* Above this many pages a range zap costs more than emptying the TLB. */
#define RK_IOMMU_ZAP_LINES_MAX 64

struct rk_domain;

/**
 * struct rk_iommu - one bound Rockchip IOMMU instance.
 * @iommu: what the core knows (hw_ops point at the emulated silicon).
 * @w: the world.
 * @dev: the IOMMU's own platform device.
 * @dma_dev: the device per-client data is devm-allocated against (@dev). Set before
 *	registration, or after it with the rk-dma-dev-order replay switch.
 * @pd: the board device and its resources.
 * @version: descriptor format, from the compatible string.
 * @nbanks: banks; every command goes to all of them.
 * @bases: the mapped banks.
 * @lock: serialises attach/detach; protects @domain and @domain_next.
 * @domain: the domain attached now, or NULL (paging off).
 * @domain_next: link in @domain's list of instances (also under the domain's lock).
 * @st: counters (atomic) and the last fault.
 * @test_forget_zap: TEST ONLY (atomic), see ih_rk_iommu_set_test_forget_zap().
 */
struct rk_iommu {
	struct ih_iommu_device iommu;
	struct ih_world *w;
	struct ih_device *dev;
	struct ih_device *dma_dev;
	struct ih_rk_iommu_pdev *pd;
	enum ih_rk_iommu_version version;
	unsigned int nbanks;
	struct ih_mmio_region *bases[IH_RK_IOMMU_MAX_BANKS];
	pthread_mutex_t lock;
	struct rk_domain *domain;
	struct rk_iommu *domain_next;
	struct ih_rk_iommu_stats st;
	bool test_forget_zap;
};

/**
 * struct rk_iommudata - a client's per-device data (dev->iommu->priv), from of_xlate.
 * @iommu: the instance the client's firmware names.
 *
 * devm-allocated against the instance's device: freed when that driver unbinds.
 */
struct rk_iommudata {
	struct rk_iommu *iommu;
};

/**
 * struct rk_domain - identity, blocked or paging domain.
 * @domain: the core's part.
 * @w: the world.
 * @version: table format (paging and blocked).
 * @pgt: the io-pgtable; NULL for identity (paging off).
 * @dte_addr_reg: value for DTE_ADDR (the table's directory, packed for @version).
 * @lock: protects @iommus.
 * @iommus: instances this domain is attached to, linked by domain_next.
 */
struct rk_domain {
	struct ih_iommu_domain domain;
	struct ih_world *w;
	enum ih_rk_iommu_version version;
	struct ih_io_pgtable_ops *pgt;
	u32 dte_addr_reg;
	struct ih_mutex lock;
	struct rk_iommu *iommus;
};

#define rk_stat_inc(rk, field) __atomic_fetch_add(&(rk)->st.field, 1, __ATOMIC_RELAXED)

/* rk_iommu_drv_domain.c */
extern const struct ih_iommu_ops rk_iommu_ops;

/* rk_iommu_drv.c: hardware sequences, every command to every bank. */
int rk_iommu_enable_locked(struct rk_iommu *rk, u32 dte_addr_reg);
int rk_iommu_disable_locked(struct rk_iommu *rk);
void rk_iommu_zap_cache(struct rk_iommu *rk);
void rk_iommu_zap_lines(struct rk_iommu *rk, u64 iova, size_t size);

#endif /* IH_HW_RK_IOMMU_DRV_PRIV_H */
