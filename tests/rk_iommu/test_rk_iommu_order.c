// SPDX-License-Identifier: MIT
/* Seed 001: rk-dma-dev-order under both probe flows, with the board's crash brought back. */
#include <criterion/criterion.h>
#include <signal.h>

#include <ih/diag.h>
#include <ih/iommu_group.h>
#include <ih/regress.h>
#include <ih/world.h>
#include "lib/rk_board.h"

/*
 * The crash is a real NULL dereference in the devres allocator (ih_rk_devm_kzalloc()
 * reading its owner device). Plain builds die of SIGSEGV. Sanitizer builds report it first
 * (UBSan: "member access within null pointer of type 'struct ih_device'") and then abort;
 * abort_on_error makes that SIGABRT whatever ASAN_OPTIONS the caller left unset.
 */
#if defined(__SANITIZE_ADDRESS__)
#define RK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RK_SANITIZED 1
#endif
#endif

#ifdef RK_SANITIZED
#define RK_NULL_DEREF_SIGNAL SIGABRT
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "abort_on_error=1";
}
#else
#define RK_NULL_DEREF_SIGNAL SIGSEGV
#endif

#define IOVA 0x00400000ULL

static struct ih_world *w;
static struct rkb b;

/*
 * The Odroid-M1 order: the display controller (client) is added and its driver registered
 * first, so it waits (deferred) for its IOMMU; then the IOMMU's device appears and its
 * driver probes. RK3568: v2, two banks.
 */
static struct ih_device *bring_up(enum ih_probe_flow flow, bool old_order)
{
	struct ih_device *client;

	w = rkb_world(0);
	cr_assert_not_null(w);
	ih_iommu_set_probe_flow(w, flow);
	ih_regress_set(w, IH_REGRESS_RK_DMA_DEV_ORDER, old_order);
	cr_assert_eq(rkb_init(&b, w, IH_RK_IOMMU_HW_V2, 2, NULL), 0);
	cr_assert_eq(rkb_register_iommu_driver(&b), 0);
	client = rkb_add_client(&b);
	cr_assert_not_null(client);
	cr_assert_eq(rkb_register_client_driver(&b), 0);
	cr_assert(ih_device_is_deferred(client), "the client must wait for its IOMMU");
	cr_assert_null(ih_device_driver(client));
	cr_assert_eq(rkb_add_iommu(&b), 0);
	return client;
}

/* What a successful bring-up must give: a bound client that DMAs through the IOMMU. */
static void check_working(struct ih_device *client)
{
	struct ih_rk_iommu_stats st;
	struct ih_iommu_domain *dom;
	ih_pa_t buf, pa = 0;

	cr_assert_eq(ih_rk_iommu_get_stats(ih_rk_iommu_pdev_dev(b.pd), &st), 0);
	cr_expect_eq(st.xlates, 1);
	cr_expect_eq(st.clients, 1);
	cr_expect_eq(st.attaches, 1);
	cr_expect_eq(ih_device_driver(client), &b.cdrv.drv);
	cr_expect_eq(b.cdrv.probes, 1);
	cr_expect_eq(ih_rk_devres_count(ih_rk_iommu_pdev_dev(b.pd)), 1);
	dom = ih_iommu_get_domain_for_dev(client);
	cr_assert_not_null(dom);
	buf = ih_pm_alloc(w, SZ_4K, SZ_4K, "test:buf");
	cr_assert_eq(ih_iommu_map(dom, IOVA, buf, SZ_4K, IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_expect_eq(ih_dma_access(client, IOVA + 4, 4, IH_DMA_FROM_DEVICE, &pa), 0);
	cr_expect_eq(pa, buf + 4);
	cr_expect_eq(ih_iommu_unmap(dom, IOVA, SZ_4K), SZ_4K);
	ih_pm_free(w, buf, SZ_4K);
	rkb_fini(&b);
	cr_expect_eq(ih_warn_count(w), 0);
	cr_expect_eq(ih_world_destroy(w), 0);
}

/*
 * Registration parses firmware for the waiting client and calls of_xlate while the old
 * probe has not set its DMA device yet: devm allocation against NULL, as on the board
 * (pc devm_kmalloc, lr rk_iommu_of_xlate, from iommu_device_register in rk_iommu_probe).
 */
Test(rk_iommu_order, probe_path_with_old_order_crashes_in_of_xlate, .signal = RK_NULL_DEREF_SIGNAL)
{
	bring_up(IH_PROBE_FLOW_PROBE_PATH, true);
	cr_assert_fail("the old registration order survived the probe-path flow");
}

Test(rk_iommu_order, probe_path_with_fixed_order_probes_the_waiting_client_at_registration)
{
	struct ih_device *client = bring_up(IH_PROBE_FLOW_PROBE_PATH, false);
	struct ih_iommu_stats ist;

	ih_iommu_get_stats(w, &ist);
	/* Probed inside registration, before its driver bound: no late probe at bind. */
	cr_expect_eq(ist.late_probes_at_bind, 0);
	cr_expect_eq(ist.xlate_calls, 1);
	check_working(client);
}

Test(rk_iommu_order, bind_flow_with_old_order_does_not_crash)
{
	/* Registration probes nothing here: of_xlate waits for the client's bind. */
	check_working(bring_up(IH_PROBE_FLOW_BIND, true));
}

Test(rk_iommu_order, bind_flow_with_fixed_order_probes_the_client_at_bind)
{
	struct ih_device *client = bring_up(IH_PROBE_FLOW_BIND, false);
	struct ih_iommu_stats ist;

	ih_iommu_get_stats(w, &ist);
	cr_expect_eq(ist.xlate_calls, 1);
	check_working(client);
}

/* The old order needs a waiting client: with the IOMMU first, nothing crashes. */
Test(rk_iommu_order, probe_path_with_old_order_survives_when_no_client_waits)
{
	struct ih_device *client;

	w = rkb_world(0);
	ih_iommu_set_probe_flow(w, IH_PROBE_FLOW_PROBE_PATH);
	ih_regress_set(w, IH_REGRESS_RK_DMA_DEV_ORDER, true);
	cr_assert_eq(rkb_init(&b, w, IH_RK_IOMMU_HW_V2, 2, NULL), 0);
	cr_assert_eq(rkb_register_iommu_driver(&b), 0);
	cr_assert_eq(rkb_add_iommu(&b), 0);
	cr_assert_eq(rkb_register_client_driver(&b), 0);
	client = rkb_add_client(&b);
	cr_assert_not_null(client);
	check_working(client);
}
