// SPDX-License-Identifier: MIT
/* Worlds brought up from DT and IORT: devices, firmware provider, both flows, fault sweep. */
#include <criterion/criterion.h>

#include <ih/diag.h>
#include <ih/fw_dt.h>
#include <ih/fw_iort.h>
#include <ih/fw_populate.h>

#include "fw/pop_util.h"
#include "lib/fault_sweep.h"

static struct ih_world *w;

static void setup(void)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
}

static void teardown(void)
{
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(fw_populate, .init = setup, .fini = teardown);

/* ---- Loading inputs ---- */

static u8 *load_dtb(const char *file, size_t *len)
{
	char path[1024], ext[512];
	u8 *blob;

	snprintf(path, sizeof(path), "%s/corpus/dtb/%s", IH_SOURCE_DIR, file);
	blob = fwt_read(path, len);
	if (blob)
		return blob;
	snprintf(path, sizeof(path), "%s/dtb/%s", fwt_corpus_real(ext, sizeof(ext)), file);
	return fwt_read(path, len);
}

static struct ih_dt_desc *dt_from_blob(struct ih_world *in, const u8 *blob, size_t len)
{
	struct ih_fw_diag diag;
	struct ih_dt_desc *d;
	int ret = ih_dt_parse(in, blob, len, &d, &diag);

	cr_assert_eq(ret, 0, "%d at %s %s: %s", ret, diag.where, diag.prop, diag.reason);
	return d;
}

static struct ih_dt_desc *dt_fixture(struct ih_world *in, const char *name)
{
	size_t len;
	u8 *blob = fwt_dtc(name, &len);
	struct ih_dt_desc *d;

	cr_assert_not_null(blob, "dtc failed on %s.dts", name);
	d = dt_from_blob(in, blob, len);
	free(blob);
	return d;
}

static struct ih_dt_desc *dt_real(struct ih_world *in, const char *file)
{
	size_t len;
	u8 *blob = load_dtb(file, &len);
	struct ih_dt_desc *d;

	cr_assert_not_null(blob, "%s missing", file);
	d = dt_from_blob(in, blob, len);
	free(blob);
	return d;
}

static struct ih_iort *iort_file(struct ih_world *in, const char *path)
{
	struct ih_fw_diag diag;
	struct ih_iort *t;
	size_t len;
	u8 *buf = fwt_read(path, &len);
	int ret;

	cr_assert_not_null(buf, "%s missing", path);
	ret = ih_iort_parse(in, buf, len, 0, &t, &diag);
	free(buf);
	cr_assert_eq(ret, 0, "%s: %d at %s %s: %s", path, ret, diag.where, diag.prop, diag.reason);
	return t;
}

static struct ih_iort *iort_repo(struct ih_world *in, const char *file)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/corpus/iort/%s", IH_SOURCE_DIR, file);
	return iort_file(in, path);
}

/* ---- Expectations ---- */

static void expect_fwspec(struct pop_bringup *b, const char *dev_name, const char *iommu_name,
			  const u32 *ids, unsigned int nids)
{
	const struct ih_fw_dev *fd = pop_by_name(b->p, dev_name);
	const struct ih_fw_dev *io = pop_by_name(b->p, iommu_name);
	struct ih_iommu_fwspec *fs;

	cr_assert_not_null(fd, "no device %s", dev_name);
	cr_assert_not_null(io, "no IOMMU %s", iommu_name);
	fs = ih_dev_iommu_fwspec_get(fd->dev);
	cr_assert_not_null(fs, "%s has no fwspec", dev_name);
	cr_expect_eq(fs->iommu_fwnode, io->fwnode, "%s: fwspec names another IOMMU", dev_name);
	cr_assert_eq(fs->num_ids, nids, "%s: %u IDs, want %u", dev_name, fs->num_ids, nids);
	for (unsigned int i = 0; i < nids; i++)
		cr_expect_eq(fs->ids[i], ids[i], "%s id %u: %#x, want %#x", dev_name, i, fs->ids[i],
			     ids[i]);
	cr_expect_not_null(fd->dev->iommu_group, "%s: probed but in no group", dev_name);
}

static void expect_no_iommu(struct pop_bringup *b, const char *dev_name)
{
	const struct ih_fw_dev *fd = pop_by_name(b->p, dev_name);

	cr_assert_not_null(fd, "no device %s", dev_name);
	cr_expect_null(ih_dev_iommu_fwspec_get(fd->dev), "%s has a fwspec", dev_name);
	cr_expect_null(fd->dev->iommu_group, "%s is in a group", dev_name);
}

static void expect_bound(struct pop_bringup *b, const char *dev_name, bool bound)
{
	const struct ih_fw_dev *fd = pop_by_name(b->p, dev_name);

	cr_assert_not_null(fd, "no device %s", dev_name);
	cr_expect_eq(ih_device_driver(fd->dev) != NULL, bound, "%s %s", dev_name,
		     bound ? "is not bound" : "is bound");
}

static void finish(struct pop_bringup *b)
{
	cr_expect_eq(ih_iommu_invariant_violations(b->w), 0);
	pop_tear_down(b);
}

static const enum ih_probe_flow flows[] = {IH_PROBE_FLOW_BIND, IH_PROBE_FLOW_PROBE_PATH};

/* ---- Device tree ---- */

Test(fw_populate, good_fixture_makes_every_enabled_device_under_kernel_style_names)
{
	static const char *const names[] = {
	    "2b400000.iommu", "fe043e00.iommu", "fe070000.iommu", "10000000.dma", "10001000.net",
	    "fe040000.vop",   "fe060000.isp",	"fe080000.usb",	  "ethernet@1,0", "pci0000:00",
	    "pci0000:01",     "0000:00:00.0",	"0000:01:00.0",
	};
	struct ih_dt_desc *d = dt_fixture(w, "good");
	struct pop_bringup b;
	const struct ih_fw_dev *fd;

	cr_assert_eq(pop_bring_up(&b, w, IH_PROBE_FLOW_PROBE_PATH, POP_IOMMU_FIRST, d, NULL), 0);
	/* The disabled RK IOMMU, the disabled GPU and the unreferenced IOMMU have no device. */
	cr_assert_eq(b.p->ndevs, ARRAY_SIZE(names));
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		cr_expect_str_eq(b.p->devs[i].dev->name, names[i]);

	fd = pop_by_name(b.p, "2b400000.iommu");
	cr_expect_eq(fd->kind, IH_FW_DEV_IOMMU);
	cr_expect_eq(fd->model, IH_FW_IOMMU_SMMUV3);
	cr_expect_eq(fd->dev->fwnode, &d->iommus[0], "dev->fwnode is the DT object");
	cr_expect_str_eq(fd->what, "/iommu@2b400000");
	cr_assert_eq(fd->nres, 1);
	cr_expect_eq(fd->res[0].base, 0x2b400000);
	cr_expect_eq(fd->res[0].size, 0x20000);
	fd = pop_by_name(b.p, "fe043e00.iommu");
	cr_expect_eq(fd->model, IH_FW_IOMMU_RK);
	cr_expect_eq(fd->nres, 2, "both banks of the RK IOMMU");
	cr_expect_eq(fd->res[1].base, 0xfe043f00);
	cr_expect_eq(pop_by_name(b.p, "fe070000.iommu")->model, IH_FW_IOMMU_UNKNOWN);
	fd = pop_by_name(b.p, "0000:01:00.0");
	cr_expect_eq(fd->kind, IH_FW_DEV_PCI_FN);
	cr_expect_eq(fd->rid, 0x100);
	cr_expect_null(fd->dev->fwnode);
	cr_expect_eq(b.p->devs[fd->host].dev->fwnode, &d->hosts[0]);

	expect_fwspec(&b, "10000000.dma", "2b400000.iommu", (u32[]){0x10}, 1);
	expect_fwspec(&b, "10001000.net", "2b400000.iommu", (u32[]){0x20, 0x21}, 2);
	expect_fwspec(&b, "fe040000.vop", "fe043e00.iommu", NULL, 0);
	expect_fwspec(&b, "ethernet@1,0", "2b400000.iommu", (u32[]){0x99}, 1);
	/* iommu-map, mask 0x1ff: RID 0x000 -> 0x10000 + 0; RID 0x100 -> 0x20000 + 0. */
	expect_fwspec(&b, "0000:00:00.0", "2b400000.iommu", (u32[]){0x10000}, 1);
	expect_fwspec(&b, "0000:01:00.0", "2b400000.iommu", (u32[]){0x20000}, 1);
	/* The ISP's only IOMMU is disabled: no IOMMU, and its driver binds all the same. */
	expect_no_iommu(&b, "fe060000.isp");
	expect_bound(&b, "fe060000.isp", true);
	/* Two different IOMMUs (DART, then the SMMU): firmware error, the bind fails. */
	expect_no_iommu(&b, "fe080000.usb");
	expect_bound(&b, "fe080000.usb", false);
	expect_bound(&b, "10001000.net", true);
	expect_bound(&b, "0000:01:00.0", true);
	finish(&b);
}

Test(fw_populate, iommu_behind_iommu_clashing_names_and_map_corner_cases)
{
	struct ih_dt_desc *d = dt_fixture(w, "populate");
	struct pop_bringup b;

	cr_assert_eq(pop_bring_up(&b, w, IH_PROBE_FLOW_PROBE_PATH, POP_IOMMU_FIRST, d, NULL), 0);
	cr_expect_not_null(pop_by_name(b.p, "500000.usb"));
	cr_expect_not_null(pop_by_name(b.p, "500000.usb#2"), "the second clashing name gets #2");
	/* The RK IOMMU node is one device, an IOMMU and a client of the SMMU. */
	cr_expect_eq(pop_by_name(b.p, "40000.iommu")->kind, IH_FW_DEV_IOMMU);
	expect_fwspec(&b, "40000.iommu", "1000.iommu", (u32[]){0x77}, 1);
	expect_fwspec(&b, "f000.vop", "40000.iommu", NULL, 0);
	expect_fwspec(&b, "500000.usb", "1000.iommu", (u32[]){1}, 1);
	expect_fwspec(&b, "500000.usb#2", "1000.iommu", (u32[]){2}, 1);
	/* rid-base 0 twice: one function, first entry wins; 0x10000 is not a RID. */
	expect_fwspec(&b, "0000:00:00.0", "1000.iommu", (u32[]){0x0}, 1);
	/* RID 0x208 = bus 2, device 1, function 0 -> entry 4: 0x800 + 0. */
	expect_fwspec(&b, "0000:02:01.0", "1000.iommu", (u32[]){0x800}, 1);
	cr_expect_not_null(pop_by_name(b.p, "pci0000:02"));
	/* 2 IOMMUs, 4 clients (vop, 2 usb... the RK IOMMU counts as IOMMU), 2 hosts, 2 fns. */
	cr_expect_eq(b.p->ndevs, 2 + 3 + 2 + 2, "the disabled host made nothing");
	finish(&b);
}

/* RK3568 Odroid-M1 (rk3568-odroid-m1.dts): three enabled Rockchip IOMMUs and their users. */
Test(fw_populate, rk3568_odroid_display_and_codec_iommus_in_both_flows)
{
	for (unsigned int f = 0; f < ARRAY_SIZE(flows); f++) {
		for (unsigned int o = 0; o < POP_NORDERS; o++) {
			struct ih_world *lw;
			struct pop_bringup b;
			const struct ih_fw_dev *fd;

			cr_assert_eq(ih_world_create(NULL, &lw), 0);
			cr_assert_eq(pop_bring_up(&b, lw, flows[f], o,
						  dt_real(lw, "rk3568-odroid-m1.dtb"), NULL),
				     0);
			/* vop_mmu at 0xfe043e00 (two banks) translates the display controller. */
			fd = pop_by_name(b.p, "fe043e00.iommu");
			cr_assert_not_null(fd);
			cr_expect_eq(fd->model, IH_FW_IOMMU_RK);
			cr_expect_str_eq(fd->compatible, "rockchip,rk3568-iommu");
			cr_expect_eq(fd->nres, 2);
			expect_fwspec(&b, "fe040000.vop", "fe043e00.iommu", NULL, 0);
			/* The VPU node is video-codec@fdea0400 but its reg starts at 0xfdea0000. */
			expect_fwspec(&b, "fdea0000.video-codec", "fdea0800.iommu", NULL, 0);
			expect_fwspec(&b, "fdee0000.video-codec", "fdee0800.iommu", NULL, 0);
			/* vicap and its IOMMU are disabled: no devices. */
			cr_expect_null(pop_by_name(b.p, "fdfe0800.iommu"));
			cr_expect_null(pop_by_name(b.p, "fdfe0000.video-capture"));
			/* The PCIe hosts have msi-map only: no PCI devices. */
			for (unsigned int i = 0; i < b.p->ndevs; i++)
				cr_expect_lt(b.p->devs[i].kind, IH_FW_DEV_HOST_BRIDGE);
			cr_expect_eq(b.p->ndevs, 6);
			for (unsigned int i = 0; i < b.p->ndevs; i++) {
				struct ih_iommu_group_info info;

				if (b.p->devs[i].kind != IH_FW_DEV_CLIENT)
					continue;
				expect_bound(&b, b.p->devs[i].dev->name, true);
				ih_iommu_group_get_info(b.p->devs[i].dev->iommu_group, &info);
				cr_expect_eq(info.num_devices, 1);
				cr_expect_eq(info.owner_cnt, 1, "the bound driver owns its group");
				cr_expect(info.in_default_domain);
				cr_expect_eq(info.default_type, IH_DOMAIN_DMA);
			}
			finish(&b);
			cr_expect_eq(ih_world_destroy(lw), 0, "flow %u order %u leaked", f, o);
		}
	}
}

/* ---- IORT ---- */

/*
 * QEMU virt, iommu=smmuv3 (virt-smmuv3.IORT.dat, facts in tests/fw/iort_facts.txt):
 *   node 0x48 SMMUv3 base 0x9050000
 *   node 0xa0 root complex, segment 0: map 0x0 + 0x100 -> SMMU 0x0; map 0x100 + 0xfeff -> ITS
 * IdCount is "IDs minus one", so the first range covers RIDs 0x000..0x100 and the second
 * starts at 0x100: RID 0x100 is claimed by both and, as Linux decides, by the later one.
 */
Test(fw_populate, qemu_virt_smmuv3_rid_to_streamid_through_the_root_complex)
{
	for (unsigned int f = 0; f < ARRAY_SIZE(flows); f++) {
		struct ih_world *lw;
		struct pop_bringup b;
		const struct ih_fw_dev *fd;

		cr_assert_eq(ih_world_create(NULL, &lw), 0);
		cr_assert_eq(pop_bring_up(&b, lw, flows[f], POP_IOMMU_FIRST, NULL,
					  iort_repo(lw, "virt-smmuv3.IORT.dat")),
			     0);
		fd = pop_by_name(b.p, "arm-smmu-v3.0");
		cr_assert_not_null(fd);
		cr_expect_eq(fd->res[0].base, 0x9050000);
		cr_expect_eq(fd->dev->fwnode, &b.p->iort->nodes[1]);
		cr_expect_str_eq(fd->what, "IORT node 1 @0x48");
		cr_expect_str_eq(fd->compatible, "arm,smmu-v3");
		cr_expect_not_null(pop_by_name(b.p, "pci0000:00"));
		cr_expect_not_null(pop_by_name(b.p, "pci0000:01"));
		expect_fwspec(&b, "0000:00:00.0", "arm-smmu-v3.0", (u32[]){0x0}, 1);
		expect_no_iommu(&b, "0000:01:00.0");
		expect_bound(&b, "0000:01:00.0", true);
		cr_expect_eq(b.p->ndevs, 5);
		finish(&b);
		cr_expect_eq(ih_world_destroy(lw), 0);
	}
}

/*
 * QEMU virt with two pxb-pcie root buses (virt-smmuv3_pxb.IORT.dat): root complex maps
 *   0x0000 + 0x100 -> SMMU 0x0000     0x0100 + 0x7f00 -> ITS
 *   0x8000 + 0x200 -> SMMU 0x8000     0x8200 + 0x4600 -> ITS
 *   0xc800 + 0x200 -> SMMU 0xc800     0xca00 + 0x35ff -> ITS
 * Functions at the six InputBases: the SMMU ranges' first RIDs translate 1:1; each ITS
 * range's first RID is also the SMMU range's last and goes to the ITS: no IOMMU.
 */
Test(fw_populate, qemu_virt_pxb_root_buses_translate_one_to_one)
{
	struct pop_bringup b;

	cr_assert_eq(pop_bring_up(&b, w, IH_PROBE_FLOW_PROBE_PATH, POP_IOMMU_LAST, NULL,
				  iort_repo(w, "virt-smmuv3_pxb.IORT.dat")),
		     0);
	expect_fwspec(&b, "0000:00:00.0", "arm-smmu-v3.0", (u32[]){0x0}, 1);
	expect_fwspec(&b, "0000:80:00.0", "arm-smmu-v3.0", (u32[]){0x8000}, 1);
	expect_fwspec(&b, "0000:c8:00.0", "arm-smmu-v3.0", (u32[]){0xc800}, 1);
	expect_no_iommu(&b, "0000:01:00.0");
	expect_no_iommu(&b, "0000:82:00.0");
	expect_no_iommu(&b, "0000:ca:00.0");
	cr_expect_not_null(pop_by_name(b.p, "pci0000:c8"), "one host bridge per root bus");
	cr_expect_eq(b.p->ndevs, 1 + 6 + 6);
	finish(&b);
}

/* Named components behind an SMMUv2 (fixture-named-components.dat, gen_iort_seeds.py). */
Test(fw_populate, iort_named_components_become_platform_devices_named_by_acpi_path)
{
	struct pop_bringup b;
	unsigned int ncs = 0;

	cr_assert_eq(pop_bring_up(&b, w, IH_PROBE_FLOW_BIND, POP_IOMMU_FIRST, NULL,
				  iort_repo(w, "fixture-named-components.dat")),
		     0);
	for (unsigned int i = 0; i < b.p->ndevs; i++) {
		const struct ih_fw_dev *fd = &b.p->devs[i];
		const struct ih_iort_node *nd;

		if (fd->kind != IH_FW_DEV_CLIENT)
			continue;
		nd = fd->fwnode;
		ncs++;
		cr_expect_eq(nd->type, IH_IORT_NAMED_COMPONENT);
		cr_expect_str_eq(fd->dev->name, nd->u.nc.name);
		cr_expect_eq(ih_iort_find_named(b.p->iort, fd->dev->name), fd->index);
	}
	cr_expect_gt(ncs, 0);
	finish(&b);
}

/* ---- Every input: both flows and every order give one end state ---- */

#define SNAP_SIZE (256 * 1024)

static void end_states_agree(const char *label, const u8 *buf, size_t len, bool is_dt)
{
	char *ref = malloc(SNAP_SIZE), *cur = malloc(SNAP_SIZE);

	cr_assert(ref && cur);
	ref[0] = '\0';
	for (unsigned int f = 0; f < ARRAY_SIZE(flows); f++) {
		for (unsigned int o = 0; o < POP_NORDERS; o++) {
			struct ih_world *lw;
			struct ih_dt_desc *d = NULL;
			struct ih_iort *t = NULL;
			struct pop_bringup b;
			int ret;

			cr_assert_eq(ih_world_create(NULL, &lw), 0);
			ret = is_dt ? ih_dt_parse(lw, buf, len, &d, NULL)
				    : ih_iort_parse(lw, buf, len, 0, &t, NULL);
			if (ret) {
				cr_expect_eq(ih_world_destroy(lw), 0);
				goto out; /* rejected input: the parser tests cover it */
			}
			cr_assert_eq(pop_bring_up(&b, lw, flows[f], o, d, t), 0, "%s", label);
			pop_snapshot(&b, f || o ? cur : ref, SNAP_SIZE);
			if (f || o)
				cr_expect_str_eq(cur, ref, "%s: flow %u order %u differs", label, f,
						 o);
			finish(&b);
			cr_expect_eq(ih_world_destroy(lw), 0, "%s leaked", label);
		}
	}
out:
	free(ref);
	free(cur);
}

static unsigned int for_each_file(const char *dir, const char *suffix,
				  void (*fn)(const char *path, void *arg), void *arg)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	unsigned int n = 0;

	if (!dh)
		return 0;
	while ((de = readdir(dh))) {
		size_t l = strlen(de->d_name), sl = strlen(suffix);
		char path[1024];

		if (l <= sl || strcmp(de->d_name + l - sl, suffix))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fn(path, arg);
		n++;
	}
	closedir(dh);
	return n;
}

static void agree_dtb(const char *path, void *arg)
{
	size_t len = 0;
	u8 *blob = fwt_read(path, &len);

	cr_assert_not_null(blob);
	end_states_agree(path, blob, len, true);
	free(blob);
}

static void agree_iort(const char *path, void *arg)
{
	size_t len = 0;
	u8 *buf = fwt_read(path, &len);

	cr_assert_not_null(buf);
	end_states_agree(path, buf, len, false);
	free(buf);
}

Test(fw_populate, both_flows_and_every_order_end_alike_on_every_corpus_input, .timeout = 240)
{
	static const char *const sub[] = {"qemu-7.2-virt", "acpica-templates", "servers",
					  "aarch64-laptops"};
	char dir[1024], ext[512];
	unsigned int n;

	snprintf(dir, sizeof(dir), "%s/corpus/dtb", IH_SOURCE_DIR);
	cr_expect_gt(for_each_file(dir, ".dtb", agree_dtb, NULL), 30);
	snprintf(dir, sizeof(dir), "%s/corpus/iort", IH_SOURCE_DIR);
	n = for_each_file(dir, ".dat", agree_iort, NULL);
	n += for_each_file(dir, ".aml", agree_iort, NULL);
	cr_expect_gt(n, 10);

	fwt_corpus_real(ext, sizeof(ext));
	n = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(sub); i++) {
		snprintf(dir, sizeof(dir), "%s/iort/%s", ext, sub[i]);
		n += for_each_file(dir, ".dat", agree_iort, NULL);
	}
	snprintf(dir, sizeof(dir), "%s/dtb", ext);
	n += for_each_file(dir, ".dtb", agree_dtb, NULL);
	if (!n)
		fwt_note("external corpus %s absent: real IORTs and large DTBs not populated", ext);
}

/* ---- Real DTBs against the oracle facts ---- */

/*
 * The facts (pylibfdt) list each client's `iommus` entries and each host's iommu-map.
 * With every enabled IOMMU registered (test driver), the expected fwspec of a client is:
 * the entries naming enabled IOMMUs, concatenated, when they all name one IOMMU; none when
 * no entry does; and none (bind fails) when they name two IOMMUs. A PCI function at each
 * entry's rid-base gets the StreamID the first entry covering (rid & mask) gives, unless
 * that IOMMU is disabled.
 */
struct fact_prov {
	char path[512];
	bool enabled;
};

struct fact_ent {
	u32 rid, out, len;
	int prov;
};

struct fact_state {
	struct ih_world *lw;
	struct pop_bringup b;
	struct fact_prov prov[64];
	unsigned int nprov;
	/* the client being read */
	char client[512];
	bool client_on;
	int client_prov;
	bool client_multi;
	u32 ids[64];
	unsigned int nids;
	/* the iommu-map being read */
	char host[512];
	u32 mask;
	struct fact_ent ent[64];
	unsigned int nent, want_ent;
	unsigned int checked_clients, checked_fns;
};

static int fact_prov(struct fact_state *s, const char *path)
{
	for (unsigned int i = 0; i < s->nprov; i++)
		if (!strcmp(s->prov[i].path, path))
			return (int)i;
	cr_assert_fail("facts: %s is no provider", path);
	return -1;
}

/* A node with `iommus` and `iommu-map` (Tegra host1x) is a client and a host: @host says. */
static const struct ih_fw_dev *fact_dev_by_path(struct fact_state *s, const char *path, bool host)
{
	for (unsigned int i = 0; i < s->b.p->ndevs; i++)
		if (s->b.p->devs[i].what && !strcmp(s->b.p->devs[i].what, path) &&
		    (s->b.p->devs[i].kind == IH_FW_DEV_HOST_BRIDGE) == host)
			return &s->b.p->devs[i];
	return NULL;
}

static void fact_client_done(struct fact_state *s)
{
	const struct ih_fw_dev *fd, *io;
	struct ih_iommu_fwspec *fs;

	if (!s->client[0])
		return;
	fd = fact_dev_by_path(s, s->client, false);
	s->client[0] = '\0';
	if (!s->client_on) {
		cr_expect_null(fd, "disabled client has a device");
		return;
	}
	cr_assert_not_null(fd, "client missing");
	s->checked_clients++;
	fs = ih_dev_iommu_fwspec_get(fd->dev);
	if (s->client_prov < 0 || s->client_multi) {
		cr_expect_null(fs, "%s: fwspec without a single enabled IOMMU", fd->what);
		return;
	}
	cr_assert_not_null(fs, "%s: no fwspec", fd->what);
	io = fact_dev_by_path(s, s->prov[s->client_prov].path, false);
	cr_assert_not_null(io);
	cr_expect_eq(fs->iommu_fwnode, io->fwnode, "%s", fd->what);
	cr_assert_eq(fs->num_ids, s->nids, "%s", fd->what);
	for (unsigned int i = 0; i < s->nids; i++)
		cr_expect_eq(fs->ids[i], s->ids[i], "%s", fd->what);
}

static void fact_map_done(struct fact_state *s)
{
	const struct ih_fw_dev *hostdev = fact_dev_by_path(s, s->host, true);

	if (!s->host[0])
		return;
	if (!hostdev) {
		s->host[0] = '\0';
		return; /* a disabled host: nothing populated (checked by the DT host flag) */
	}
	for (unsigned int i = 0; i < s->nent; i++) {
		u32 rid = s->ent[i].rid, masked = rid & s->mask, sid = 0;
		const struct ih_fw_dev *fn = NULL;
		struct ih_iommu_fwspec *fs;
		int hit = -1;

		if (rid > 0xffff)
			continue;
		for (unsigned int k = 0; k < s->b.p->ndevs && !fn; k++) {
			const struct ih_fw_dev *fd = &s->b.p->devs[k];

			if (fd->kind == IH_FW_DEV_PCI_FN && fd->rid == rid &&
			    s->b.p->devs[fd->host].fwnode == hostdev->fwnode)
				fn = fd;
		}
		cr_assert_not_null(fn, "%s: no function at RID %#x", s->host, rid);
		for (unsigned int k = 0; k < s->nent && hit < 0; k++) {
			if (masked >= s->ent[k].rid && masked - s->ent[k].rid < s->ent[k].len) {
				hit = (int)k;
				sid = s->ent[k].out + (masked - s->ent[k].rid);
			}
		}
		fs = ih_dev_iommu_fwspec_get(fn->dev);
		s->checked_fns++;
		if (hit < 0 || !s->prov[s->ent[hit].prov].enabled) {
			cr_expect_null(fs, "RID %#x", rid);
			continue;
		}
		cr_assert_not_null(fs, "RID %#x", rid);
		cr_assert_eq(fs->num_ids, 1);
		cr_expect_eq(fs->ids[0], sid, "RID %#x: %#x, want %#x", rid, fs->ids[0], sid);
	}
	s->host[0] = '\0';
}

Test(fw_populate, real_dtbs_give_each_client_the_iommu_and_ids_the_facts_say, .timeout = 120)
{
	char line[1024], path[512], ipath[512];
	struct fact_state *s = calloc(1, sizeof(*s));
	unsigned int dtbs = 0;
	bool skip = false;
	FILE *f;

	cr_assert_not_null(s);
	snprintf(path, sizeof(path), "%s/tests/fw/dtb_facts.txt", IH_SOURCE_DIR);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned int a, b, n, okay, cells;
		char file[128];
		int k;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "dtb %127s nodes %u", file, &n) == 2) {
			size_t len;
			u8 *blob = load_dtb(file, &len);

			skip = !blob;
			if (skip)
				continue;
			cr_assert_eq(ih_world_create(NULL, &s->lw), 0);
			struct ih_dt_desc *d = dt_from_blob(s->lw, blob, len);

			free(blob);
			cr_assert_eq(pop_bring_up(&s->b, s->lw, IH_PROBE_FLOW_PROBE_PATH,
						  POP_IOMMU_FIRST, d, NULL),
				     0, "%s", file);
			s->nprov = 0;
			dtbs++;
			continue;
		}
		if (skip) {
			skip = strcmp(line, "end\n") != 0;
			continue;
		}
		if (strncmp(line, "spec ", 5) && strncmp(line, "ent ", 4))
			fact_client_done(s);
		if (strncmp(line, "ent ", 4))
			fact_map_done(s);
		if (sscanf(line, "provider %511s %u %u", path, &cells, &okay) == 3) {
			cr_assert_lt(s->nprov, ARRAY_SIZE(s->prov));
			snprintf(s->prov[s->nprov].path, sizeof(s->prov[0].path), "%s", path);
			s->prov[s->nprov++].enabled = okay;
		} else if (sscanf(line, "client %511s %u %u", path, &okay, &n) == 3) {
			snprintf(s->client, sizeof(s->client), "%s", path);
			s->client_on = okay;
			s->client_prov = -1;
			s->client_multi = false;
			s->nids = 0;
		} else if (sscanf(line, "spec %511s %u%n", ipath, &n, &k) == 2) {
			int pv = fact_prov(s, ipath);
			const char *p = line + k;
			int used;

			if (!s->prov[pv].enabled)
				continue;
			if (s->client_prov >= 0 && s->client_prov != pv)
				s->client_multi = true;
			s->client_prov = pv;
			for (unsigned int i = 0; i < n; i++, p += used) {
				cr_assert_eq(sscanf(p, "%u%n", &a, &used), 1);
				cr_assert_lt(s->nids, ARRAY_SIZE(s->ids));
				s->ids[s->nids++] = a;
			}
		} else if (sscanf(line, "imap %511s %x %u", path, &a, &n) == 3) {
			snprintf(s->host, sizeof(s->host), "%s", path);
			s->mask = a;
			s->nent = 0;
		} else if (sscanf(line, "mmap %511s %x %u", path, &a, &n) == 3) {
			s->host[0] = '\0';
			s->nent = 0;
		} else if (sscanf(line, "ent %x %511s %x %x", &a, ipath, &b, &n) == 4) {
			if (!s->host[0])
				continue; /* an msi-map entry */
			cr_assert_lt(s->nent, ARRAY_SIZE(s->ent));
			s->ent[s->nent++] = (struct fact_ent){a, b, n, fact_prov(s, ipath)};
		} else if (!strcmp(line, "end\n")) {
			finish(&s->b);
			cr_expect_eq(ih_world_destroy(s->lw), 0);
		} else {
			cr_assert_fail("bad fact line: %s", line);
		}
	}
	fclose(f);
	cr_expect_geq(dtbs, 9, "the nine DTBs in corpus/dtb at least");
	cr_expect_gt(s->checked_clients, 20);
	cr_expect_gt(s->checked_fns, 5);
	free(s);
}

/* ---- Errors, ownership, teardown ---- */

Test(fw_populate, bad_arguments_are_einval_and_leave_the_description_with_the_caller)
{
	struct ih_dt_desc *d = dt_fixture(w, "good");
	struct ih_fw_population *p = (void *)1;
	struct ih_world *other;
	struct ih_fw_diag diag;

	cr_expect_eq(ih_fw_populate_dt(NULL, d, NULL, 0, &p, NULL), -EINVAL);
	cr_expect_eq(ih_fw_populate_dt(w, NULL, NULL, 0, &p, NULL), -EINVAL);
	cr_expect_eq(ih_fw_populate_dt(w, d, NULL, 0, NULL, NULL), -EINVAL);
	cr_assert_eq(ih_world_create(NULL, &other), 0);
	cr_expect_eq(ih_fw_populate_dt(other, d, NULL, 0, &p, &diag), -EINVAL,
		     "a description belongs to the world it was parsed in");
	cr_expect_eq(diag.err, -EINVAL);
	cr_expect_eq(ih_world_destroy(other), 0);
	cr_expect_eq(ih_fw_populate_iort(w, NULL, NULL, 0, &p, NULL), -EINVAL);
	ih_dt_free(d);
	ih_fw_depopulate(NULL);
}

static int failing_create(void *opaque, struct ih_world *lw, const struct ih_fw_dev *fd,
			  const char *name, struct ih_device **out)
{
	unsigned int *calls = opaque;

	return ++*calls == 2 ? -EIO : -ENODEV;
}

Test(fw_populate, board_error_unwinds_every_device_and_the_provider)
{
	struct ih_dt_desc *d = dt_fixture(w, "good");
	unsigned int calls = 0;
	struct ih_fw_populate_ops ops = {.create_iommu = failing_create, .opaque = &calls};
	struct ih_fw_population *p;
	struct ih_fw_diag diag;
	struct ih_device *dev;

	cr_expect_eq(ih_fw_populate_dt(w, d, &ops, 0, &p, &diag), -EIO);
	cr_expect_null(p);
	cr_expect_str_eq(diag.where, "/soc/iommu@fe043e00", "the second IOMMU failed");
	cr_expect_eq(calls, 2);
	dev = ih_bus_find_device_by_name(w, &ih_platform_bus_type, "2b400000.iommu");
	cr_expect_null(dev, "the first IOMMU was deleted again");
	/* No provider left behind: a device added now has no firmware. */
	dev = tplat_add(w, "10000000.dma");
	cr_assert_not_null(dev);
	cr_expect_null(ih_dev_iommu_fwspec_get(dev));
	ih_device_unregister(dev);
	ih_dt_free(d);
}

Test(fw_populate, world_teardown_depopulates_what_nobody_depopulated)
{
	struct ih_fw_population *p;

	cr_assert_eq(
	    ih_fw_populate_iort(w, iort_repo(w, "virt-smmuv3.IORT.dat"), NULL, 0, &p, NULL), 0);
	cr_expect_eq(p->ndevs, 5);
	/* The fixture's ih_world_destroy() must find nothing leaked. */
}

Test(fw_populate, depopulate_leaves_only_the_teardown_anchor)
{
	struct ih_fw_population *p;
	size_t before = ih_alloc_live_count(w);

	cr_assert_eq(ih_fw_populate_dt(w, dt_fixture(w, "good"), NULL, 0, &p, NULL), 0);
	ih_fw_depopulate(p);
	/* The buses and the core's state stay; of the population only its anchor does. */
	cr_expect_leq(ih_alloc_live_count(w), before + 6);
	cr_expect_null(ih_bus_find_device_by_name(w, &ih_platform_bus_type, "10000000.dma"));
}

static int ref_count(struct ih_device *dev, const struct ih_fw_iommu_args *args, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

Test(fw_populate, provider_walk_reports_what_the_fwspec_gets)
{
	struct ih_fw_population *p;
	const struct ih_fw_dev *usb;
	int refs = 0;

	cr_assert_eq(ih_fw_populate_dt(w, dt_fixture(w, "good"), NULL, 0, &p, NULL), 0);
	usb = pop_by_name(p, "fe080000.usb");
	cr_assert_not_null(usb);
	/* The walk itself does not judge: two references, to two IOMMUs. */
	cr_expect_eq(ih_fw_for_each_iommu_ref(p, usb->dev, ref_count, &refs), 2);
	cr_expect_eq(refs, 2);
	cr_expect_eq(
	    ih_fw_for_each_iommu_ref(p, pop_by_name(p, "fe060000.isp")->dev, ref_count, &refs), 0,
	    "the disabled IOMMU's entry is skipped");
	cr_expect_eq(
	    ih_fw_for_each_iommu_ref(p, pop_by_name(p, "pci0000:00")->dev, ref_count, &refs), 0,
	    "a host bridge has no reference of its own");
	cr_expect_eq(
	    ih_fw_for_each_iommu_ref(p, pop_by_name(p, "0000:01:00.0")->dev, ref_count, &refs), 1,
	    "one DMA alias, one reference");
	cr_expect_eq(refs, 3);
	ih_fw_depopulate(p);
}

/* ---- Fault injection: fail each allocation of a whole bring-up once ---- */

struct sweep_input {
	const char *name;
	bool is_dt;
	enum ih_probe_flow flow;
	enum pop_order order;
};

/*
 * Parse, populate, bind, tear down: whatever allocation fails, every step either succeeds
 * or fails cleanly, the group invariants hold, and nothing is left (fault_sweep checks).
 */
static void sweep_scenario(struct ih_world *lw, void *arg)
{
	const struct sweep_input *in = arg;
	struct ih_dt_desc *d = NULL;
	struct ih_iort *t = NULL;
	struct pop_bringup b;
	size_t len;
	u8 *buf;
	int ret;

	if (in->is_dt) {
		buf = fwt_dtc(in->name, &len);
		cr_assert_not_null(buf);
		ret = ih_dt_parse(lw, buf, len, &d, NULL);
	} else {
		char path[1024];

		snprintf(path, sizeof(path), "%s/corpus/iort/%s", IH_SOURCE_DIR, in->name);
		buf = fwt_read(path, &len);
		cr_assert_not_null(buf);
		ret = ih_iort_parse(lw, buf, len, 0, &t, NULL);
	}
	free(buf);
	if (ret) {
		cr_expect_eq(ret, -ENOMEM);
		return;
	}
	ret = pop_bring_up(&b, lw, in->flow, in->order, d, t);
	cr_expect(ret == 0 || ret == -ENOMEM, "bring-up: %d", ret);
	if (b.p)
		for (unsigned int i = 0; i < b.p->ndevs; i++)
			if (b.p->devs[i].dev && b.p->devs[i].dev->iommu_group)
				cr_expect_eq(ih_iommu_group_check(b.p->devs[i].dev->iommu_group),
					     0);
	cr_expect_eq(ih_iommu_invariant_violations(lw), 0);
	pop_tear_down(&b);
}

Test(fw_populate, every_allocation_failure_of_a_dt_bring_up_is_clean, .timeout = 240)
{
	struct sweep_input bind = {"good", true, IH_PROBE_FLOW_BIND, POP_IOMMU_LATE};
	struct sweep_input probe = {"good", true, IH_PROBE_FLOW_PROBE_PATH, POP_IOMMU_LAST};

	cr_expect_gt(fault_sweep(sweep_scenario, &bind, ""), 5);
	cr_expect_gt(fault_sweep(sweep_scenario, &probe, ""), 5);
}

Test(fw_populate, every_allocation_failure_of_an_iort_bring_up_is_clean, .timeout = 240)
{
	struct sweep_input bind = {"virt-smmuv3_pxb.IORT.dat", false, IH_PROBE_FLOW_BIND,
				   POP_IOMMU_FIRST};
	struct sweep_input probe = {"fixture-named-components.dat", false, IH_PROBE_FLOW_PROBE_PATH,
				    POP_IOMMU_LAST};

	cr_expect_gt(fault_sweep(sweep_scenario, &bind, ""), 5);
	cr_expect_gt(fault_sweep(sweep_scenario, &probe, ""), 5);
}
