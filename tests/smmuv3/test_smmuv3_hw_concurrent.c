// SPDX-License-Identifier: MIT
/* Emulated SMMUv3 in a concurrent world: a hardware thread consumes the command queue. */
#include <criterion/criterion.h>

#include "smmuv3_tdrv.h"

static struct tdrv t;

static void conc_setup(void)
{
	tdrv_init(&t, IH_EXEC_CONCURRENT, NULL);
}

static void conc_teardown(void)
{
	tdrv_fini(&t);
}

TestSuite(smmuv3_hw_concurrent, .init = conc_setup, .fini = conc_teardown);

#define IOVA 0x10000ULL

Test(smmuv3_hw_concurrent, polling_cons_sees_tlbi_complete)
{
	ih_pa_t root = tdrv_page(&t, 4096), data = tdrv_page(&t, 4096), pa = 0;
	struct ih_smmuv3_hw_stats st;

	tdrv_enable(&t, 4, 4);
	tdrv_map(&t, root, IOVA, data, 3, T_S1_RW);
	tdrv_s1_setup(&t, 1, 9, root);
	cr_assert_eq(ih_smmuv3_hw_translate(t.hw, 1, false, 0, IOVA, true, &pa), 0);
	cr_expect_eq(pa, data);
	ih_pm_store64(t.w, tdrv_pte_addr(&t, root, IOVA, 3), 0);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 1, false, 0, IOVA, true, &pa), 0, "stale TLB");
	tdrv_cmd(&t, T_CMD_TLBI_NH_ASID | FIELD_PREP(T_CMD0_ASID, 9), 0);
	/* Only after CONS passes the CMD_SYNC is the TLBI known to be done. */
	cr_assert(tdrv_sync(&t));
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 1, false, 0, IOVA, true, &pa), -EFAULT);
	ih_smmuv3_hw_stats(t.hw, &st);
	cr_expect_eq(st.tlbi, 1);
	cr_expect_eq(st.syncs, 1);
}

Test(smmuv3_hw_concurrent, msi_sync_completion_is_observed_in_memory)
{
	ih_pa_t msi;
	u32 v = 0;
	int spins = 0;

	tdrv_enable(&t, 4, 4);
	msi = tdrv_page(&t, 4096);
	for (u32 round = 1; round <= 50; round++) {
		tdrv_cmd(&t, T_CMD_TLBI_NSNH_ALL, 0);
		tdrv_cmd(&t,
			 T_CMD_SYNC | FIELD_PREP(T_CMD0_CS, 1) | FIELD_PREP(T_CMD0_MSIDATA, round),
			 msi & T_CMD1_MSIADDR);
		do {
			cr_assert_eq(ih_pm_load32(t.w, msi, &v), 0);
			cr_assert_lt(++spins, 100000000, "MSI never written");
			if (v != round)
				sched_yield();
		} while (v != round);
	}
	cr_expect_eq(v, 50);
}

Test(smmuv3_hw_concurrent, illegal_command_and_ack_with_hardware_thread)
{
	ih_pa_t bad;
	u32 cons = 0;

	tdrv_enable(&t, 4, 4);
	bad = t.cmdq + (t.prod & 63) * 16;
	tdrv_cmd(&t, 0x7f, 0);
	for (int i = 0; i < 1000000 && !FIELD_GET(T_CMDQ_CONS_ERR, cons); i++) {
		cons = tdrv_rd(&t, T_CMDQ_CONS);
		sched_yield();
	}
	cr_expect_eq(FIELD_GET(T_CMDQ_CONS_ERR, cons), 1);
	ih_pm_store64(t.w, bad, T_CMD_SYNC);
	tdrv_wr(&t, T_GERRORN, tdrv_rd(&t, T_GERROR));
	cr_expect(tdrv_sync(&t));
}
