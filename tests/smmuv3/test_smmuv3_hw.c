// SPDX-License-Identifier: MIT
/* Emulated SMMUv3 driven like a driver would: handshakes, tables, TLB, queues, events. */
#include <criterion/criterion.h>

#include "smmuv3_tdrv.h"

static struct tdrv t;

static void seq_setup(void)
{
	tdrv_init(&t, IH_EXEC_SEQUENTIAL, NULL);
}

static void seq_teardown(void)
{
	tdrv_fini(&t);
}

TestSuite(smmuv3_hw, .init = seq_setup, .fini = seq_teardown);

#define IOVA 0x40001000ULL
#define SID  5
#define ASID 7

/* Map IOVA -> a fresh page through a stage 1 setup for SID; return the data page PA. */
static ih_pa_t s1_basic(ih_pa_t *root_out, u64 attrs)
{
	ih_pa_t root = tdrv_page(&t, 4096);
	ih_pa_t data = tdrv_page(&t, 4096);

	tdrv_map(&t, root, IOVA, data, 3, attrs);
	tdrv_s1_setup(&t, SID, ASID, root);
	if (root_out)
		*root_out = root;
	return data;
}

Test(smmuv3_hw, idrs_report_the_configuration)
{
	u32 idr0 = tdrv_rd(&t, T_IDR0), idr1 = tdrv_rd(&t, T_IDR1), idr5 = tdrv_rd(&t, T_IDR5);

	/* Defaults: both stages, 2-level tables, 16 SID bits, 2^8 queues, OAS 48, 4K + 64K. */
	cr_expect(idr0 & T_IDR0_S1P);
	cr_expect(idr0 & T_IDR0_S2P);
	cr_expect_eq(FIELD_GET(T_IDR0_ST_LEVEL, idr0), 1);
	cr_expect_eq(FIELD_GET(T_IDR1_SIDSIZE, idr1), 16);
	cr_expect_eq(FIELD_GET(T_IDR1_CMDQS, idr1), 8);
	cr_expect_eq(FIELD_GET(T_IDR1_EVTQS, idr1), 8);
	cr_expect_eq(FIELD_GET(T_IDR5_OAS, idr5), 5);
	cr_expect(idr5 & T_IDR5_GRAN4K);
	cr_expect(idr5 & T_IDR5_GRAN64K);
	cr_expect_eq(tdrv_rd(&t, 0x1fc), 0, "unknown offsets read as zero");
	tdrv_wr(&t, T_IDR0, 0);
	cr_expect_eq(tdrv_rd(&t, T_IDR0), idr0, "IDR0 is read-only");
}

Test(smmuv3_hw, cr0ack_follows_only_implemented_enables)
{
	cr_expect_eq(tdrv_rd(&t, T_CR0ACK), 0);
	tdrv_wr(&t, T_CR0, T_CR0_EVTQEN | T_CR0_PRIQEN);
	/* No PRI queue here: PRIQEN is RES0 and never acknowledged. */
	cr_expect_eq(tdrv_rd(&t, T_CR0ACK), T_CR0_EVTQEN);
	tdrv_wr(&t, T_CR0, 0);
	cr_expect_eq(tdrv_rd(&t, T_CR0ACK), 0);
	tdrv_enable(&t, 6, 4);
	cr_expect_eq(tdrv_rd(&t, T_CR0ACK), T_CR0_SMMUEN | T_CR0_EVTQEN | T_CR0_CMDQEN);
	/* STRTAB_BASE is frozen while SMMUEN == 1. */
	ih_writeq(t.r, 0x1000, T_STRTAB_BASE);
	cr_expect_eq(ih_readq(t.r, T_STRTAB_BASE), t.strtab);
	cr_expect_eq(tdrv_rd(&t, T_STRTAB_BASE), (u32)t.strtab, "32-bit low-half read");
}

Test(smmuv3_hw, gbpa_bypass_then_abort_while_disabled)
{
	ih_pa_t pa = 0;

	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 3, false, 0, 0x1234, false, &pa), 0);
	cr_expect_eq(pa, 0x1234, "GBPA bypass returns the input address");
	tdrv_wr(&t, T_GBPA, T_GBPA_ABORT); /* no UPDATE: ignored */
	cr_expect_eq(tdrv_rd(&t, T_GBPA), 0);
	tdrv_wr(&t, T_GBPA, T_GBPA_ABORT | T_GBPA_UPDATE);
	cr_expect_eq(tdrv_rd(&t, T_GBPA), T_GBPA_ABORT, "UPDATE completes and reads back 0");
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 3, false, 0, 0x1234, false, &pa), -EPERM);
}

Test(smmuv3_hw, stage1_linear_translate_and_permission_fault)
{
	ih_pa_t pa = 0, data, ro;
	ih_pa_t root;
	u64 rec[4];

	tdrv_enable(&t, 6, 4);
	data = s1_basic(&root, T_S1_RW);
	ro = tdrv_page(&t, 4096);
	tdrv_map(&t, root, IOVA + 0x1000, ro, 3, T_S1_RW | T_PTE_AP_RO);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA + 0x10, true, &pa), 0);
	cr_expect_eq(pa, data + 0x10);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA + 0x1008, false, &pa), 0);
	cr_expect_eq(pa, ro + 8);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA + 0x1008, true, &pa),
		     -EFAULT);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_F_PERMISSION);
	cr_expect_eq(FIELD_GET(T_EVT0_SID, rec[0]), SID);
	cr_expect_eq(rec[1] & T_EVT1_RNW, 0, "a write has RnW == 0");
	cr_expect_eq(rec[1] & T_EVT1_S2, 0);
	cr_expect_eq(FIELD_GET(T_EVT1_CLASS, rec[1]), 2, "CLASS IN");
	cr_expect_eq(rec[2], IOVA + 0x1008);
	cr_expect_not(tdrv_evt(&t, rec));
}

Test(smmuv3_hw, unmap_without_tlbi_is_stale_and_tlbi_sync_faults)
{
	ih_pa_t pa = 0, data, root;
	struct ih_smmuv3_hw_stats st;
	u64 rec[4];

	tdrv_enable(&t, 6, 4);
	data = s1_basic(&root, T_S1_RW);
	cr_assert_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA, false, &pa), 0);
	ih_pm_store64(t.w, tdrv_pte_addr(&t, root, IOVA, 3), 0);
	/* The TLB still holds the old leaf: the device keeps reaching the old page. */
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA + 4, false, &pa), 0);
	cr_expect_eq(pa, data + 4);
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, IOVA, 4096), 1);
	/* A TLBI for another ASID does not help. */
	tdrv_cmd(&t, T_CMD_TLBI_NH_VA | FIELD_PREP(T_CMD0_ASID, ASID + 1), IOVA | T_CMD1_LEAF);
	cr_assert(tdrv_sync(&t));
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA, false, &pa), 0);
	tdrv_cmd(&t, T_CMD_TLBI_NH_VA | FIELD_PREP(T_CMD0_ASID, ASID), IOVA | T_CMD1_LEAF);
	cr_assert(tdrv_sync(&t));
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, IOVA, 4096), 0);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA + 4, false, &pa), -EFAULT);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_F_TRANSLATION);
	cr_expect_eq(FIELD_GET(T_EVT0_SID, rec[0]), SID);
	cr_expect_eq(rec[0] & T_EVT0_SSV, 0);
	cr_expect_neq(rec[1] & T_EVT1_RNW, 0, "a read has RnW == 1");
	cr_expect_eq(rec[2], IOVA + 4);
	ih_smmuv3_hw_stats(t.hw, &st);
	/* Two TLBIs and two syncs were consumed; one walk filled, one hit, one refault. */
	cr_expect_eq(st.tlbi, 2);
	cr_expect_eq(st.syncs, 2);
	cr_expect_eq(st.tlb_hits, 2);
	cr_expect_eq(st.tlb_misses, 2);
}

Test(smmuv3_hw, range_tlbi_covers_num_scale_pages)
{
	ih_pa_t pa, root = tdrv_page(&t, 4096);

	tdrv_enable(&t, 6, 4);
	for (int i = 0; i < 4; i++)
		tdrv_map(&t, root, IOVA + i * 0x1000ULL, tdrv_page(&t, 4096), 3, T_S1_RW);
	tdrv_s1_setup(&t, SID, ASID, root);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(
		    ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA + i * 0x1000ULL, false, &pa),
		    0);
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, IOVA, 0x4000), 4);
	/* NUM 2, SCALE 0, TG 4K: (2 + 1) * 2^0 pages from IOVA + 0x1000. */
	tdrv_cmd(&t, T_CMD_TLBI_NH_VA | FIELD_PREP(T_CMD0_ASID, ASID) | FIELD_PREP(T_CMD0_NUM, 2),
		 (IOVA + 0x1000) | FIELD_PREP(T_CMD1_TG, 1));
	cr_assert(tdrv_sync(&t));
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, IOVA, 0x1000), 1);
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, IOVA + 0x1000, 0x3000), 0);
}

Test(smmuv3_hw, missing_cfgi_keeps_the_old_ste)
{
	ih_pa_t pa = 0, data;
	u64 abort_ste[4] = {T_STE0_V, 0, 0, 0};

	tdrv_enable(&t, 6, 4);
	data = s1_basic(NULL, T_S1_RW);
	cr_assert_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA, false, &pa), 0);
	tdrv_ste(&t, SID, abort_ste);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA, false, &pa), 0,
		     "cached STE still used without CFGI_STE");
	cr_expect_eq(pa, data);
	tdrv_cmd(&t, T_CMD_CFGI_STE | FIELD_PREP(T_CMD0_SID, SID), T_CMD1_LEAF);
	cr_assert(tdrv_sync(&t));
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA, false, &pa), -EPERM);
}

Test(smmuv3_hw, illegal_command_stops_queue_until_gerrorn_ack)
{
	u32 cons, gerror;
	ih_pa_t bad;

	tdrv_enable(&t, 6, 4);
	bad = t.cmdq + (t.prod & 63) * 16;
	tdrv_cmd_put(&t, 0xff, 0);
	tdrv_cmd_put(&t, T_CMD_TLBI_NSNH_ALL, 0);
	tdrv_cmd_ring(&t);
	cons = tdrv_rd(&t, T_CMDQ_CONS);
	cr_expect_eq(FIELD_GET(T_CMDQ_CONS_ERR, cons), 1, "CERROR_ILL");
	cr_expect_eq(cons & 0x7f, 0, "CONS stays on the bad command");
	gerror = tdrv_rd(&t, T_GERROR);
	cr_expect_eq((gerror ^ tdrv_rd(&t, T_GERRORN)) & T_GERROR_CMDQ_ERR, T_GERROR_CMDQ_ERR);
	/* More commands do not run while the error is active. */
	tdrv_cmd(&t, T_CMD_SYNC, 0);
	cr_expect_eq(tdrv_rd(&t, T_CMDQ_CONS) & 0x7f, 0);
	/* Driver fix-up: replace the bad command with a CMD_SYNC, then acknowledge. */
	ih_pm_store64(t.w, bad, T_CMD_SYNC);
	tdrv_wr(&t, T_GERRORN, gerror);
	cr_expect_eq(tdrv_rd(&t, T_CMDQ_CONS) & 0x7f, t.prod, "queue drained after the ack");
	cr_expect(tdrv_sync(&t));
}

Test(smmuv3_hw, command_fetch_abort_is_cerror_abt)
{
	tdrv_enable(&t, 6, 4);
	tdrv_wr(&t, T_CR0, T_CR0_SMMUEN | T_CR0_EVTQEN);
	cr_assert(tdrv_wait_ack(&t, T_CR0_SMMUEN | T_CR0_EVTQEN));
	ih_writeq(t.r, 0x1000 | 6, T_CMDQ_BASE); /* outside simulated memory */
	tdrv_wr(&t, T_CR0, T_CR0_SMMUEN | T_CR0_EVTQEN | T_CR0_CMDQEN);
	tdrv_wr(&t, T_CMDQ_PROD, 1);
	cr_expect_eq(FIELD_GET(T_CMDQ_CONS_ERR, tdrv_rd(&t, T_CMDQ_CONS)), 2, "CERROR_ABT");
	cr_expect_eq((tdrv_rd(&t, T_GERROR) ^ tdrv_rd(&t, T_GERRORN)) & T_GERROR_CMDQ_ERR,
		     T_GERROR_CMDQ_ERR);
}

Test(smmuv3_hw, cmd_sync_msi_writes_msidata)
{
	ih_pa_t msi;
	u32 v = 0;

	tdrv_enable(&t, 6, 4);
	msi = tdrv_page(&t, 4096);
	tdrv_cmd(&t, T_CMD_SYNC | FIELD_PREP(T_CMD0_CS, 1) | FIELD_PREP(T_CMD0_MSIDATA, 0xc0ffee),
		 (msi + 0x40) & T_CMD1_MSIADDR);
	cr_assert_eq(ih_pm_load32(t.w, msi + 0x40, &v), 0);
	cr_expect_eq(v, 0xc0ffee);
}

Test(smmuv3_hw, event_queue_overflow_sets_ovflg)
{
	struct ih_smmuv3_hw_stats st;
	ih_pa_t pa;
	u64 rec[4];
	u32 prod;

	tdrv_enable(&t, 6, 1); /* two entries */
	s1_basic(NULL, T_S1_RW);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(
		    ih_smmuv3_hw_translate(t.hw, SID, false, 0, 0x1000ULL * (i + 1), false, &pa),
		    -EFAULT);
	prod = tdrv_rd(&t, T_EVTQ_PROD);
	cr_expect_eq(prod & 3, 2, "full: index 0, wrap 1");
	cr_expect_eq(prod & T_EVTQ_OVFLG, T_EVTQ_OVFLG);
	ih_smmuv3_hw_stats(t.hw, &st);
	cr_expect_eq(st.evtq_overflows, 1);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(rec[2], 0x1000);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(rec[2], 0x2000);
	cr_expect_not(tdrv_evt(&t, rec), "the third record was lost");
	/* Acknowledge: CONS.OVACKFLG = PROD.OVFLG; the next overflow toggles again. */
	t.evtq_cons |= T_EVTQ_OVFLG;
	tdrv_wr(&t, T_EVTQ_CONS, t.evtq_cons);
	for (int i = 0; i < 3; i++)
		ih_smmuv3_hw_translate(t.hw, SID, false, 0, 0x1000ULL * (i + 1), false, &pa);
	cr_expect_eq(tdrv_rd(&t, T_EVTQ_PROD) & T_EVTQ_OVFLG, 0);
}

Test(smmuv3_hw, two_level_stream_table)
{
	ih_pa_t l1 = tdrv_page(&t, 4096), l2 = tdrv_page(&t, 4096), pa = 0, data, root;
	u64 rec[4];

	tdrv_enable(&t, 6, 4);
	/* SPLIT 8, 16 SID bits: 256 L1 descriptors; SID 0x305 lives in L1[3], index 5. */
	tdrv_wr(&t, T_CR0, T_CR0_CMDQEN | T_CR0_EVTQEN);
	cr_assert(tdrv_wait_ack(&t, T_CR0_CMDQEN | T_CR0_EVTQEN));
	ih_writeq(t.r, l1, T_STRTAB_BASE);
	tdrv_wr(&t, T_STRTAB_BASE_CFG,
		(u32)(FIELD_PREP(T_STRTAB_CFG_FMT, 1) | FIELD_PREP(T_STRTAB_CFG_SPLIT, 8) |
		      FIELD_PREP(T_STRTAB_CFG_LOG2SIZE, 16)));
	/* Span 4: 2^(4-1) = 8 STEs in the level 2 table. */
	ih_pm_store64(t.w, l1 + 3 * 8, (l2 & T_L1STD_L2PTR) | FIELD_PREP(T_L1STD_SPAN, 4));
	tdrv_wr(&t, T_CR0, T_CR0_CMDQEN | T_CR0_EVTQEN | T_CR0_SMMUEN);
	cr_assert(tdrv_wait_ack(&t, T_CR0_CMDQEN | T_CR0_EVTQEN | T_CR0_SMMUEN));
	root = tdrv_page(&t, 4096);
	data = tdrv_page(&t, 4096);
	tdrv_map(&t, root, IOVA, data, 3, T_S1_RW);
	/* Build the STE in the L2 table by pointing the helper's table at it. */
	t.strtab = l2;
	tdrv_s1_setup(&t, 5, ASID, root);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 0x305, false, 0, IOVA, false, &pa), 0);
	cr_expect_eq(pa, data);
	/* Index 9 is beyond Span; L1[4] has Span 0: both C_BAD_STREAMID. */
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 0x309, false, 0, IOVA, false, &pa), -ENODEV);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 0x400, false, 0, IOVA, false, &pa), -ENODEV);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_C_BAD_STREAMID);
	cr_expect_eq(FIELD_GET(T_EVT0_SID, rec[0]), 0x309);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_SID, rec[0]), 0x400);
}

Test(smmuv3_hw, stage2_translate_and_s2_ipa_invalidation)
{
	ih_pa_t root = tdrv_page(&t, 4096), data = tdrv_page(&t, 4096), pa = 0;
	const u64 ipa = 0x7000000ULL;
	u64 ste[4] = {0}, rec[4];

	tdrv_enable(&t, 6, 4);
	tdrv_map(&t, root, ipa, data, 3, T_PTE_AF | T_S2_READ);
	/* 4K granule, 39-bit IPA (S2T0SZ 25), SL0 1: start at level 1. */
	ste[0] = T_STE0_V | FIELD_PREP(T_STE0_CFG, 6);
	ste[2] = FIELD_PREP(T_STE2_S2VMID, 3) | FIELD_PREP(T_STE2_S2T0SZ, 25) |
		 FIELD_PREP(T_STE2_S2SL0, 1) | FIELD_PREP(T_STE2_S2TG, 0) |
		 FIELD_PREP(T_STE2_S2PS, 5) | T_STE2_S2AA64 | T_STE2_S2R;
	ste[3] = root & T_STE3_S2TTB;
	tdrv_ste(&t, 9, ste);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 9, false, 0, ipa + 0x20, false, &pa), 0);
	cr_expect_eq(pa, data + 0x20);
	/* S2AP grants read only. */
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 9, false, 0, ipa, true, &pa), -EFAULT);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_F_PERMISSION);
	cr_expect_eq(rec[1] & T_EVT1_S2, T_EVT1_S2);
	cr_expect_eq(FIELD_GET(T_EVT3_IPA, rec[3]) << 12, ipa);
	/* Clear the leaf: stale until TLBI_S2_IPA for VMID 3. */
	ih_pm_store64(t.w, tdrv_pte_addr(&t, root, ipa, 3), 0);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 9, false, 0, ipa, false, &pa), 0);
	tdrv_cmd(&t, T_CMD_TLBI_S2_IPA | FIELD_PREP(T_CMD0_VMID, 3), ipa | T_CMD1_LEAF);
	cr_assert(tdrv_sync(&t));
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 9, false, 0, ipa, false, &pa), -EFAULT);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_F_TRANSLATION);
	cr_expect_eq(rec[1] & T_EVT1_S2, T_EVT1_S2);
}

Test(smmuv3_hw, block_mapping_and_access_flag_fault)
{
	ih_pa_t root = tdrv_page(&t, 4096), pa = 0;
	const u64 blk = 0x80200000ULL; /* 2 MiB aligned, inside simulated memory */
	u64 rec[4];

	tdrv_enable(&t, 6, 4);
	tdrv_map(&t, root, 0x200000, blk, 2, T_S1_RW);
	tdrv_map(&t, root, 0x400000, blk, 2, T_S1_RW & ~T_PTE_AF);
	tdrv_s1_setup(&t, SID, ASID, root);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, 0x2abcde, false, &pa), 0);
	cr_expect_eq(pa, blk + 0xabcde);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, 0x400000, false, &pa), -EFAULT);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_F_ACCESS);
	/* Input beyond T0SZ (39 bits). */
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, 1ULL << 39, false, &pa), -EFAULT);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_F_TRANSLATION);
}

Test(smmuv3_hw, bad_structures_give_architected_events)
{
	ih_pa_t pa, root = tdrv_page(&t, 4096);
	u64 rec[4], bad[4] = {0};

	tdrv_enable(&t, 6, 4);
	/* STE.V == 0 */
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 2, false, 0, 0, false, &pa), -EINVAL);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_C_BAD_STE);
	/* S1 STE whose CD pointer is outside simulated memory: F_CD_FETCH. */
	bad[0] = T_STE0_V | FIELD_PREP(T_STE0_CFG, 5) | (0x10000ULL & T_STE0_S1CTXPTR);
	tdrv_ste(&t, 3, bad);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 3, false, 0, 0, false, &pa), -EIO);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), 0x09);
	cr_expect_eq(rec[3] & T_EVT3_FETCH, 0x10000);
	/* CD with AA64 == 0 is ILLEGAL. */
	tdrv_s1_setup(&t, 4, 1, root);
	{
		u64 ste0, cd0;

		ih_pm_load64(t.w, t.strtab + 4 * 64, &ste0);
		ih_pm_load64(t.w, ste0 & T_STE0_S1CTXPTR, &cd0);
		ih_pm_store64(t.w, ste0 & T_STE0_S1CTXPTR, cd0 & ~T_CD0_AA64);
	}
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 4, false, 0, 0, false, &pa), -EINVAL);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_C_BAD_CD);
	/* A table pointer outside simulated memory: F_WALK_EABT with the fetch address. */
	ih_pm_store64(t.w, root, 0x40000000ULL | T_PTE_VALID | T_PTE_TABLE);
	tdrv_s1_setup(&t, 6, 1, root);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 6, false, 0, 0, false, &pa), -EFAULT);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_F_WALK_EABT);
	cr_expect_eq(rec[3] & T_EVT3_FETCH, 0x40000000ULL);
	/* StreamID beyond STRTAB_BASE_CFG.LOG2SIZE (6). */
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 64, false, 0, 0, false, &pa), -ENODEV);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_C_BAD_STREAMID);
}

Test(smmuv3_hw, lru_eviction_drops_the_oldest_entry)
{
	struct ih_smmuv3_hw_config cfg;
	ih_pa_t pa, root;
	struct ih_smmuv3_hw_stats st;

	/* Rebuild with a 2-entry TLB. */
	tdrv_fini(&t);
	ih_smmuv3_hw_config_init(&cfg);
	cfg.tlb_entries = 2;
	tdrv_init(&t, IH_EXEC_SEQUENTIAL, &cfg);
	tdrv_enable(&t, 6, 4);
	root = tdrv_page(&t, 4096);
	for (int i = 0; i < 3; i++)
		tdrv_map(&t, root, IOVA + i * 0x1000ULL, tdrv_page(&t, 4096), 3, T_S1_RW);
	tdrv_s1_setup(&t, SID, ASID, root);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(
		    ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA + i * 0x1000ULL, false, &pa),
		    0);
	ih_smmuv3_hw_stats(t.hw, &st);
	cr_expect_eq(st.tlb_evictions, 1);
	/* IOVA was least recently used: its entry went, so clearing its PTE is seen at once. */
	cr_expect_eq(ih_smmuv3_hw_tlb_covers(t.hw, IOVA, 0x1000), 0);
	ih_pm_store64(t.w, tdrv_pte_addr(&t, root, IOVA + 0x2000, 3), 0);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, SID, false, 0, IOVA + 0x2000, false, &pa), 0,
		     "most recent entry is still cached");
}

Test(smmuv3_hw, cmdq_prod_bits_above_wrap_are_ignored)
{
	tdrv_enable(&t, 6, 4);
	/* 2^6 queue: bits [19:7] of PROD are not part of the index. */
	tdrv_cmd_put(&t, T_CMD_SYNC, 0);
	tdrv_wr(&t, T_CMDQ_PROD, t.prod | (1u << 12));
	cr_expect_eq(tdrv_rd(&t, T_CMDQ_CONS) & 0x7f, t.prod);
	tdrv_wr(&t, T_CMDQ_PROD, t.prod);
	cr_expect(tdrv_sync(&t));
}

Test(smmuv3_hw, config_rejects_bad_instances)
{
	struct ih_smmuv3_hw_config cfg;
	struct ih_smmuv3_hw *hw = NULL;

	ih_smmuv3_hw_config_init(&cfg);
	cfg.oas_bits = 47;
	cr_expect_eq(ih_smmuv3_hw_create(t.w, 0x30000000, &cfg, &hw), -EINVAL);
	ih_smmuv3_hw_config_init(&cfg);
	cr_expect_eq(ih_smmuv3_hw_create(t.w, 0x30001000, &cfg, &hw), -EINVAL, "unaligned base");
	cr_expect_eq(ih_smmuv3_hw_create(t.w, T_MMIO_BASE + 0x10000, &cfg, &hw), -EINVAL,
		     "overlaps the first instance");
}

Test(smmuv3_hw, nested_walks_stage1_tables_through_stage2)
{
	ih_pa_t s1root = tdrv_page(&t, 4096), s2root = tdrv_page(&t, 4096);
	ih_pa_t data = tdrv_page(&t, 4096), cd, pa = 0, l3, l3slot;
	u64 ste[4] = {0}, rec[4], cd0;

	tdrv_enable(&t, 6, 4);
	tdrv_map(&t, s1root, IOVA, data, 3, T_S1_RW);
	cd = tdrv_s1_setup(&t, 8, ASID, s1root);
	/* Stage 2 maps every IPA stage 1 uses to the same PA (CD, three tables, data). */
	l3 = tdrv_pte_addr(&t, s1root, IOVA, 3) & ~0xfffULL;
	{
		ih_pa_t ident[] = {cd, s1root, tdrv_pte_addr(&t, s1root, IOVA, 2) & ~0xfffULL, l3,
				   data};

		for (unsigned int i = 0; i < ARRAY_SIZE(ident); i++)
			tdrv_map(&t, s2root, ident[i], ident[i], 3, T_S2_RW);
	}
	ih_pm_load64(t.w, cd, &cd0);
	ste[0] = T_STE0_V | FIELD_PREP(T_STE0_CFG, 7) | (cd & T_STE0_S1CTXPTR);
	ste[2] = FIELD_PREP(T_STE2_S2VMID, 2) | FIELD_PREP(T_STE2_S2T0SZ, 25) |
		 FIELD_PREP(T_STE2_S2SL0, 1) | FIELD_PREP(T_STE2_S2PS, 5) | T_STE2_S2AA64 |
		 T_STE2_S2R;
	ste[3] = s2root & T_STE3_S2TTB;
	tdrv_ste(&t, 8, ste);
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 8, false, 0, IOVA + 0x30, true, &pa), 0);
	cr_expect_eq(pa, data + 0x30);
	/* Unmap the stage 1 leaf table's IPA at stage 2, invalidate the VM, translate again. */
	l3slot = tdrv_pte_addr(&t, s2root, l3, 3);
	ih_pm_store64(t.w, l3slot, 0);
	tdrv_cmd(&t, 0x28 | FIELD_PREP(T_CMD0_VMID, 2), 0); /* TLBI_S12_VMALL */
	cr_assert(tdrv_sync(&t));
	cr_expect_eq(ih_smmuv3_hw_translate(t.hw, 8, false, 0, IOVA, false, &pa), -EFAULT);
	cr_assert(tdrv_evt(&t, rec));
	cr_expect_eq(FIELD_GET(T_EVT0_ID, rec[0]), T_EVT_F_TRANSLATION);
	cr_expect_eq(rec[1] & T_EVT1_S2, T_EVT1_S2);
	cr_expect_eq(FIELD_GET(T_EVT1_CLASS, rec[1]), 1, "CLASS TT");
	cr_expect_eq(FIELD_GET(T_EVT3_IPA, rec[3]) << 12, l3, "IPA of the S1 descriptor");
}
