// SPDX-License-Identifier: MIT
/* Boards from firmware: emulated SMMUv3 / Rockchip IOMMUs, real drivers, DMA through them. */
#include <criterion/criterion.h>

#include <ih/physmem.h>

#include "board/board.h"
#include "fw/pop_util.h"
#include "lib/fault_sweep.h"

static const enum ih_probe_flow flows[] = {IH_PROBE_FLOW_BIND, IH_PROBE_FLOW_PROBE_PATH};

struct board_world {
	struct ih_world *w;
	struct ih_board *board;
	struct ih_fw_population *p;
	struct tdriver cdrv;
	struct ih_driver pdrv;
};

static int bw_pci_probe(struct ih_device *dev)
{
	return 0;
}

static const struct ih_pci_device_id bw_pci_ids[] = {
    {IH_PCI_ANY_ID, IH_PCI_ANY_ID, 0, 0},
    {0, 0, 0, 0},
};

static u8 *bw_read(const char *dir, const char *file, size_t *len)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/corpus/%s/%s", IH_SOURCE_DIR, dir, file);
	return fwt_read(path, len);
}

/*
 * Board first (drivers registered), then the population, then client drivers bound to
 * every platform client (by override) and every PCI function.
 */
static void bw_up(struct board_world *bw, enum ih_probe_flow flow, unsigned int flags,
		  const char *dir, const char *file)
{
	struct ih_dt_desc *d = NULL;
	struct ih_iort *t = NULL;
	struct ih_fw_diag diag;
	size_t len;
	u8 *buf = bw_read(dir, file, &len);

	cr_assert_not_null(buf, "%s missing", file);
	memset(bw, 0, sizeof(*bw));
	cr_assert_eq(ih_world_create(NULL, &bw->w), 0);
	ih_iommu_set_probe_flow(bw->w, flow);
	cr_assert_eq(ih_board_create(bw->w, NULL, &bw->board), 0);
	if (!strcmp(dir, "dtb"))
		cr_assert_eq(ih_dt_parse(bw->w, buf, len, &d, &diag), 0, "%s", diag.reason);
	else
		cr_assert_eq(ih_iort_parse(bw->w, buf, len, 0, &t, &diag), 0, "%s", diag.reason);
	free(buf);
	if (d)
		cr_assert_eq(ih_fw_populate_dt(bw->w, d, ih_board_populate_ops(bw->board), flags,
					       &bw->p, &diag),
			     0, "%s", diag.reason);
	else
		cr_assert_eq(ih_fw_populate_iort(bw->w, t, ih_board_populate_ops(bw->board), flags,
						 &bw->p, &diag),
			     0, "%s", diag.reason);
	tdriver_init(&bw->cdrv, "tclient", false);
	for (unsigned int i = 0; i < bw->p->ndevs; i++)
		if (bw->p->devs[i].kind == IH_FW_DEV_CLIENT)
			cr_assert_eq(ih_device_set_driver_override(bw->p->devs[i].dev, "tclient"),
				     0);
	cr_assert_eq(ih_driver_register(bw->w, &bw->cdrv.drv), 0);
	bw->pdrv = (struct ih_driver){
	    .name = "tpci", .bus = &ih_pci_bus_type, .probe = bw_pci_probe, .id_table = bw_pci_ids};
	cr_assert_eq(ih_driver_register(bw->w, &bw->pdrv), 0);
}

static void bw_down(struct board_world *bw, bool board_first)
{
	cr_expect_eq(ih_iommu_invariant_violations(bw->w), 0);
	/* Client DMA stops first (drivers unbound), as device links would do it. */
	ih_driver_unregister(bw->w, &bw->cdrv.drv);
	ih_driver_unregister(bw->w, &bw->pdrv);
	if (board_first) {
		ih_board_destroy(bw->board);
		ih_fw_depopulate(bw->p);
	} else {
		ih_fw_depopulate(bw->p);
		ih_board_destroy(bw->board);
	}
	cr_expect_eq(ih_world_destroy(bw->w), 0, "model memory leaked");
}

static struct ih_device *bw_dev(struct board_world *bw, const char *name)
{
	const struct ih_fw_dev *fd = pop_by_name(bw->p, name);

	cr_assert_not_null(fd, "no device %s", name);
	return fd->dev;
}

/* Map one page in @dev's default DMA domain and DMA through the emulated IOMMU. */
static void bw_dma_roundtrip(struct board_world *bw, struct ih_device *dev, u64 iova)
{
	struct ih_iommu_domain *dom = ih_iommu_get_dma_domain(dev);
	ih_pa_t buf = ih_pm_alloc(bw->w, SZ_4K, SZ_4K, "test:buf");
	ih_pa_t pa = 0;

	cr_assert_not_null(dom, "%s has no default domain", dev->name);
	cr_assert_neq(buf, IH_PA_INVALID);
	cr_assert_eq(ih_iommu_map(dom, iova, buf, SZ_4K, IH_PROT_READ | IH_PROT_WRITE), 0);
	cr_expect_eq(ih_dma_access(dev, iova + 0x40, 8, IH_DMA_TO_DEVICE, &pa), 0, "%s", dev->name);
	cr_expect_eq(pa, buf + 0x40, "%s: the hardware walked to %#llx", dev->name,
		     (unsigned long long)pa);
	cr_expect_eq(ih_iommu_unmap(dom, iova, SZ_4K), SZ_4K);
	cr_expect_neq(ih_dma_access(dev, iova + 0x40, 8, IH_DMA_TO_DEVICE, &pa), 0,
		      "%s: unmapped IOVA must fault", dev->name);
	ih_pm_free(bw->w, buf, SZ_4K);
}

Test(fw_board, rk3568_odroid_rockchip_iommus_translate_their_clients)
{
	for (unsigned int f = 0; f < ARRAY_SIZE(flows); f++) {
		for (unsigned int order = 0; order < 2; order++) {
			struct board_world bw;
			struct ih_board_iommu_info info;

			bw_up(&bw, flows[f], order ? IH_FW_POP_IOMMUS_LAST : 0, "dtb",
			      "rk3568-odroid-m1.dtb");
			cr_assert_eq(
			    ih_board_iommu_info(bw.board, bw_dev(&bw, "fe043e00.iommu"), &info), 0);
			cr_expect_eq(info.model, IH_FW_IOMMU_RK);
			cr_expect_eq(info.base, 0xfe043e00);
			cr_expect_eq(info.nbanks, 2, "vop_mmu has two banks");
			cr_expect(info.bound, "the Rockchip driver bound the display IOMMU");
			cr_expect_not_null(
			    ih_iommu_device_find(bw.w, bw_dev(&bw, "fe043e00.iommu")->fwnode));
			cr_expect_not_null(bw_dev(&bw, "fe040000.vop")->iommu_group);
			bw_dma_roundtrip(&bw, bw_dev(&bw, "fe040000.vop"), 0x10000);
			bw_dma_roundtrip(&bw, bw_dev(&bw, "fdea0000.video-codec"), 0x200000);
			bw_dma_roundtrip(&bw, bw_dev(&bw, "fdee0000.video-codec"), 0x7000);
			bw_down(&bw, order);
		}
	}
}

Test(fw_board, qemu_virt_smmuv3_translates_rid_0_and_leaves_rid_0x100_untranslated)
{
	for (unsigned int f = 0; f < ARRAY_SIZE(flows); f++) {
		struct board_world bw;
		struct ih_board_iommu_info info;
		ih_pa_t pa = 0;

		bw_up(&bw, flows[f], 0, "iort", "virt-smmuv3.IORT.dat");
		cr_assert_eq(ih_board_iommu_info(bw.board, bw_dev(&bw, "arm-smmu-v3.0"), &info), 0);
		cr_expect_eq(info.model, IH_FW_IOMMU_SMMUV3);
		cr_expect_eq(info.base, 0x9050000);
		cr_expect(info.bound);
		bw_dma_roundtrip(&bw, bw_dev(&bw, "0000:00:00.0"), 0x40000);
		/* RID 0x100 is routed to the ITS only: no IOMMU, DMA goes straight through. */
		cr_expect_eq(ih_dma_access(bw_dev(&bw, "0000:01:00.0"), 0x80001000, 4,
					   IH_DMA_TO_DEVICE, &pa),
			     0);
		cr_expect_eq(pa, 0x80001000);
		bw_down(&bw, f);
	}
}

Test(fw_board, good_fixture_smmuv3_and_rockchip_side_by_side_unknown_iommu_defers)
{
	struct board_world bw;
	struct ih_board_iommu_info info;

	bw_up(&bw, IH_PROBE_FLOW_PROBE_PATH, 0, "dtb", "fixture-good.dtb");
	bw_dma_roundtrip(&bw, bw_dev(&bw, "10001000.net"), 0x30000);
	bw_dma_roundtrip(&bw, bw_dev(&bw, "fe040000.vop"), 0x30000);
	bw_dma_roundtrip(&bw, bw_dev(&bw, "0000:01:00.0"), 0x30000);
	/* The DART has no model: a plain device, not bound. */
	cr_expect_eq(ih_board_iommu_info(bw.board, bw_dev(&bw, "fe070000.iommu"), &info), -ENODEV);
	cr_expect_null(ih_device_driver(bw_dev(&bw, "fe070000.iommu")));
	bw_down(&bw, false);
}

/* Fail each allocation of a board bring-up once (board and drivers' sites included). */
static void board_sweep(struct ih_world *w, void *arg)
{
	const char *file = arg;
	struct ih_board *b;
	struct ih_fw_population *p = NULL;
	struct ih_dt_desc *d = NULL;
	struct ih_iort *t = NULL;
	size_t len;
	bool dt = strstr(file, ".dtb") != NULL;
	u8 *buf = bw_read(dt ? "dtb" : "iort", file, &len);
	int ret;

	cr_assert_not_null(buf);
	ret = ih_board_create(w, NULL, &b);
	if (ret) {
		free(buf);
		cr_expect_eq(ret, -ENOMEM);
		return;
	}
	ret = dt ? ih_dt_parse(w, buf, len, &d, NULL) : ih_iort_parse(w, buf, len, 0, &t, NULL);
	free(buf);
	if (!ret)
		ret = dt ? ih_fw_populate_dt(w, d, ih_board_populate_ops(b), 0, &p, NULL)
			 : ih_fw_populate_iort(w, t, ih_board_populate_ops(b), 0, &p, NULL);
	if (ret) {
		cr_expect_eq(ret, -ENOMEM);
		ih_dt_free(d);
		ih_iort_free(t);
	}
	cr_expect_eq(ih_iommu_invariant_violations(w), 0);
	ih_fw_depopulate(p);
	ih_board_destroy(b);
}

Test(fw_board, every_allocation_failure_of_a_board_bring_up_is_clean, .timeout = 240)
{
	cr_expect_gt(fault_sweep(board_sweep, "fixture-good.dtb", ""), 5);
	cr_expect_gt(fault_sweep(board_sweep, "virt-smmuv3.IORT.dat", ""), 5);
}
