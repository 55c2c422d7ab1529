// SPDX-License-Identifier: MIT
/* ih: inspect a DTB or an ACPI IORT as the IOMMU model sees it (topology, parsed table). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/base.h>
#include <ih/fw_dt.h>
#include <ih/fw_iort.h>
#include <ih/fw_populate.h>
#include <ih/iommu.h>
#include <ih/iommu_group.h>
#include <ih/world.h>

#include "board/board.h"
#include "ih_cmds.h"

/*
 * Exit status: 0 success; 1 the input was rejected (the message says where and why);
 * 2 usage error; 3 internal error (the model leaked or broke an invariant: a bug).
 * Output: text by default, one JSON document with --json (schema in README.md, "ih").
 */
enum { EXIT_OK = 0, EXIT_REJECTED = 1, EXIT_USAGE = 2, EXIT_INTERNAL = 3 };

#define IH_TOOL_MAX_INPUT (64u << 20)

static const char *prog = "ih";

static const char usage_main[] =
    "usage: ih <command> [options] FILE\n"
    "\n"
    "Inspect firmware as the iommu-harness model sees it.\n"
    "\n"
    "commands:\n"
    "  topo FILE   bring a world up from a DTB or IORT and print its IOMMU topology\n"
    "  iort FILE   print a parsed ACPI IORT (header, nodes, ID mappings)\n"
    "  trace FILE  replay a kernel iommu/dma trace through the model (findings, footprint)\n"
    "\n"
    "ih <command> --help shows the command's options.\n"
    "Exit status: 0 success, 1 input rejected, 2 usage error, 3 internal error.\n";

static const char usage_topo[] =
    "usage: ih topo [--dtb|--iort] [--flow bind|probe] [--strict] [--json] FILE\n"
    "\n"
    "Parse FILE (a flattened device tree or an ACPI IORT table, told apart by magic or\n"
    "signature), create its devices, emulated SMMUv3 and Rockchip IOMMUs with their\n"
    "drivers, bind a client driver to every client, and print: the IOMMU instances (type,\n"
    "MMIO base, firmware node), each client with its fwspec IDs, group, default domain\n"
    "type and owner state, and each PCI host's requester-ID -> StreamID map.\n"
    "\n"
    "  --dtb, --iort    force the input type\n"
    "  --flow F         probe flow: 'probe' (probe-path, 2025; default) or 'bind'\n"
    "                   (bind-time, 2017-2024)\n"
    "  --strict         an IORT with a bad checksum is rejected (default: a warning)\n"
    "  --json           one JSON document on stdout\n"
    "  -h, --help       this text\n";

static const char usage_iort[] =
    "usage: ih iort [--strict] [--json] FILE\n"
    "\n"
    "Parse FILE as an ACPI IORT and print its header and every node: type, revision,\n"
    "identifier, length, type-specific fields, and each ID mapping (input base, number of\n"
    "IDs, output base, output reference, flags). Field names follow Arm DEN 0049.\n"
    "\n"
    "  --strict         a bad checksum is an error (default: a warning)\n"
    "  --json           one JSON document on stdout\n"
    "  -h, --help       this text\n";

/* ---- Small output helpers ---- */

/* A JSON string literal of @s (shared with the other commands: ih_cmds.h). */
void ih_tool_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static const char *errname(int err)
{
	switch (-err) {
	case EINVAL:
		return "EINVAL";
	case EOVERFLOW:
		return "EOVERFLOW";
	case ERANGE:
		return "ERANGE";
	case ENOENT:
		return "ENOENT";
	case ELOOP:
		return "ELOOP";
	case EBADMSG:
		return "EBADMSG";
	case ENAMETOOLONG:
		return "ENAMETOOLONG";
	case E2BIG:
		return "E2BIG";
	case ENOMEM:
		return "ENOMEM";
	default:
		return "error";
	}
}

/* "FILE: rejected: WHERE, PROP, offset 0x..: REASON (ERRNO)" on stderr. */
static int rejected(const char *file, const struct ih_fw_diag *d, int err)
{
	fprintf(stderr, "%s: %s: rejected:", prog, file);
	if (d->where[0])
		fprintf(stderr, " %s", d->where);
	if (d->prop[0])
		fprintf(stderr, "%s%s", d->where[0] ? ", " : " ", d->prop);
	if (d->offset >= 0)
		fprintf(stderr, "%soffset 0x%lx", d->where[0] || d->prop[0] ? ", " : " ",
			(unsigned long)d->offset);
	fprintf(stderr, ": %s (%s)\n", d->reason[0] ? d->reason : "invalid input", errname(err));
	return EXIT_REJECTED;
}

static void warnings(const char *file, const struct ih_fw_diag *d)
{
	if (d->warnings)
		fprintf(stderr, "%s: %s: %u warning%s, last: %s\n", prog, file, d->warnings,
			d->warnings == 1 ? "" : "s", d->reason);
}

static unsigned char *read_file(const char *path, size_t *len, int *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;

	*err = 0;
	if (!f) {
		*err = errno;
		return NULL;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			unsigned char *nb;

			if (cap >= IH_TOOL_MAX_INPUT) {
				*err = EFBIG;
				break;
			}
			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				*err = ENOMEM;
				break;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				*err = EIO;
			break;
		}
	}
	fclose(f);
	if (*err) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf ? buf : malloc(1);
}

enum input_kind { IN_AUTO, IN_DTB, IN_IORT };

static enum input_kind detect(const unsigned char *b, size_t len)
{
	if (len >= 4 && b[0] == 0xd0 && b[1] == 0x0d && b[2] == 0xfe && b[3] == 0xed)
		return IN_DTB;
	if (len >= 4 && !memcmp(b, "IORT", 4))
		return IN_IORT;
	return IN_AUTO;
}

/* ---- ih iort ---- */

static void iort_node_extra_text(const struct ih_iort *t, const struct ih_iort_node *n)
{
	switch (n->type) {
	case IH_IORT_ITS_GROUP:
		printf(", ITS identifiers");
		for (u32 i = 0; i < n->u.its.count; i++)
			printf(" %u", n->u.its.ids[i]);
		break;
	case IH_IORT_NAMED_COMPONENT:
		printf(", device name \"%s\"", n->u.nc.name);
		break;
	case IH_IORT_ROOT_COMPLEX:
		printf(", PCI segment %u, ATS attribute 0x%x", n->u.rc.segment, n->u.rc.ats);
		break;
	case IH_IORT_SMMU:
		printf(", base address 0x%llx, span 0x%llx, model %u",
		       (unsigned long long)n->u.smmu.base, (unsigned long long)n->u.smmu.span,
		       n->u.smmu.model);
		break;
	case IH_IORT_SMMUV3:
		printf(", base address 0x%llx, model %u", (unsigned long long)n->u.smmuv3.base,
		       n->u.smmuv3.model);
		if (n->u.smmuv3.msi_map >= 0)
			printf(", DeviceID mapping index %u", n->u.smmuv3.deviceid_index);
		break;
	case IH_IORT_PMCG:
		printf(", page 0 base 0x%llx, node reference 0x%x",
		       (unsigned long long)n->u.pmcg.page0, n->u.pmcg.node_ref);
		break;
	case IH_IORT_RMR:
		printf(", %u memory range%s", n->u.rmr.nranges, n->u.rmr.nranges == 1 ? "" : "s");
		break;
	default:
		break;
	}
}

static void iort_node_extra_json(const struct ih_iort_node *n)
{
	switch (n->type) {
	case IH_IORT_ITS_GROUP:
		printf(", \"its_identifiers\": [");
		for (u32 i = 0; i < n->u.its.count; i++)
			printf("%s%u", i ? ", " : "", n->u.its.ids[i]);
		printf("]");
		break;
	case IH_IORT_NAMED_COMPONENT:
		printf(", \"device_name\": ");
		ih_tool_json_str(stdout, n->u.nc.name);
		break;
	case IH_IORT_ROOT_COMPLEX:
		printf(", \"pci_segment_number\": %u, \"ats_attribute\": %u", n->u.rc.segment,
		       n->u.rc.ats);
		break;
	case IH_IORT_SMMU:
		printf(", \"base_address\": %llu, \"span\": %llu, \"model\": %u",
		       (unsigned long long)n->u.smmu.base, (unsigned long long)n->u.smmu.span,
		       n->u.smmu.model);
		break;
	case IH_IORT_SMMUV3:
		printf(", \"base_address\": %llu, \"model\": %u, \"device_id_mapping_index\": %u",
		       (unsigned long long)n->u.smmuv3.base, n->u.smmuv3.model,
		       n->u.smmuv3.deviceid_index);
		break;
	case IH_IORT_PMCG:
		printf(", \"page0_base_address\": %llu, \"node_reference\": %u",
		       (unsigned long long)n->u.pmcg.page0, n->u.pmcg.node_ref);
		break;
	case IH_IORT_RMR:
		printf(", \"memory_ranges\": [");
		for (u32 i = 0; i < n->u.rmr.nranges; i++)
			printf("%s{\"base\": %llu, \"length\": %llu}", i ? ", " : "",
			       (unsigned long long)n->u.rmr.ranges[i].base,
			       (unsigned long long)n->u.rmr.ranges[i].length);
		printf("]");
		break;
	default:
		break;
	}
}

static void iort_print(const struct ih_iort *t, bool json)
{
	if (json) {
		printf("{\"signature\": \"IORT\", \"length\": %u, \"revision\": %u, "
		       "\"checksum_ok\": %s, \"oem_id\": ",
		       t->length, t->revision, t->checksum_ok ? "true" : "false");
		ih_tool_json_str(stdout, t->oem_id);
		printf(", \"oem_table_id\": ");
		ih_tool_json_str(stdout, t->oem_table_id);
		printf(", \"node_count\": %u, \"mapping_total\": %u,\n \"nodes\": [", t->nnodes,
		       t->nmaps);
		for (u32 i = 0; i < t->nnodes; i++) {
			const struct ih_iort_node *n = &t->nodes[i];

			printf(
			    "%s\n  {\"index\": %u, \"offset\": %u, \"type\": %u, \"type_name\": ",
			    i ? "," : "", i, n->offset, n->type);
			ih_tool_json_str(stdout, ih_iort_type_name(n->type));
			printf(", \"revision\": %u, \"identifier\": %u, \"length\": %u, "
			       "\"mapping_count\": %u",
			       n->revision, n->identifier, n->length, n->nmaps);
			iort_node_extra_json(n);
			printf(", \"mappings\": [");
			for (u32 k = 0; k < n->nmaps; k++) {
				const struct ih_iort_id_map *m = &n->maps[k];

				printf("%s{\"input_base\": %u, \"number_of_ids\": %u, "
				       "\"output_base\": %u, \"output_reference\": %u, "
				       "\"flags\": %u, \"target_index\": %u}",
				       k ? ", " : "", m->input_base, m->id_count, m->output_base,
				       m->output_ref, m->flags, m->target);
			}
			printf("]}");
		}
		printf("\n ]}\n");
		return;
	}
	printf("IORT: length %u, revision %u, checksum %s, OEM ID \"%s\", OEM table ID \"%s\"\n",
	       t->length, t->revision, t->checksum_ok ? "ok" : "BAD", t->oem_id, t->oem_table_id);
	printf("%u node%s, %u ID mapping%s\n", t->nnodes, t->nnodes == 1 ? "" : "s", t->nmaps,
	       t->nmaps == 1 ? "" : "s");
	for (u32 i = 0; i < t->nnodes; i++) {
		const struct ih_iort_node *n = &t->nodes[i];

		printf("node %u @0x%x: %s, revision %u, identifier %u, length %u, %u mapping%s", i,
		       n->offset, ih_iort_type_name(n->type), n->revision, n->identifier, n->length,
		       n->nmaps, n->nmaps == 1 ? "" : "s");
		iort_node_extra_text(t, n);
		printf("\n");
		for (u32 k = 0; k < n->nmaps; k++) {
			const struct ih_iort_id_map *m = &n->maps[k];
			const struct ih_iort_node *tn = &t->nodes[m->target];

			printf("    [%u] input base 0x%x, number of IDs 0x%x, output base 0x%x, "
			       "output reference 0x%x (node %u, %s), flags 0x%x%s\n",
			       k, m->input_base, m->id_count, m->output_base, m->output_ref,
			       m->target, ih_iort_type_name(tn->type), m->flags,
			       m->flags & IH_IORT_ID_SINGLE ? " (single mapping)" : "");
		}
	}
}

static int parse_iort_opts(int argc, char **argv, bool *json, bool *strict, const char **file,
			   const char *usage, bool topo, enum input_kind *kind,
			   enum ih_probe_flow *flow)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"strict", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"dtb", no_argument, NULL, 'd'},
	    {"iort", no_argument, NULL, 'i'},
	    {"flow", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 's':
			*strict = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		case 'd':
		case 'i':
			if (!topo)
				goto bad;
			*kind = c == 'd' ? IN_DTB : IN_IORT;
			break;
		case 'f':
			if (!topo)
				goto bad;
			if (!strcmp(optarg, "bind"))
				*flow = IH_PROBE_FLOW_BIND;
			else if (!strcmp(optarg, "probe"))
				*flow = IH_PROBE_FLOW_PROBE_PATH;
			else {
				fprintf(stderr, "%s: --flow wants 'bind' or 'probe', not '%s'\n",
					prog, optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			goto bad;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: one FILE expected\n%s", prog, usage);
		return EXIT_USAGE;
	}
	*file = argv[optind];
	return 0;
bad:
	fprintf(stderr, "%s: unknown option '%s'\n%s", prog, argv[optind - 1], usage);
	return EXIT_USAGE;
}

static struct ih_world *tool_world(void)
{
	struct ih_world_config cfg;
	struct ih_world *w;

	ih_world_config_init(&cfg);
	cfg.log = "none";
	if (ih_world_create(&cfg, &w)) {
		fprintf(stderr, "%s: internal error: cannot create a world\n", prog);
		return NULL;
	}
	return w;
}

static int finish_world(struct ih_world *w, int rc)
{
	size_t leaked = ih_world_destroy(w);

	if (leaked) {
		fprintf(stderr, "%s: internal error: the model leaked %zu blocks\n", prog, leaked);
		return EXIT_INTERNAL;
	}
	return rc;
}

static int cmd_iort(int argc, char **argv)
{
	enum ih_probe_flow flow = IH_PROBE_FLOW_PROBE_PATH;
	enum input_kind kind = IN_IORT;
	bool json = false, strict = false;
	struct ih_fw_diag diag;
	struct ih_iort *t;
	struct ih_world *w;
	const char *file;
	unsigned char *buf;
	size_t len;
	int rc, err;

	rc = parse_iort_opts(argc, argv, &json, &strict, &file, usage_iort, false, &kind, &flow);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	buf = read_file(file, &len, &err);
	if (!buf) {
		fprintf(stderr, "%s: %s: %s\n", prog, file, strerror(err));
		return EXIT_REJECTED;
	}
	w = tool_world();
	if (!w) {
		free(buf);
		return EXIT_INTERNAL;
	}
	rc = ih_iort_parse(w, buf, len, strict ? IH_IORT_STRICT_CHECKSUM : 0, &t, &diag);
	free(buf);
	if (rc)
		return finish_world(w, rejected(file, &diag, rc));
	warnings(file, &diag);
	iort_print(t, json);
	ih_iort_free(t);
	return finish_world(w, EXIT_OK);
}

/* ---- ih topo ---- */

struct topo {
	struct ih_world *w;
	struct ih_board *board;
	struct ih_fw_population *p;
	struct ih_driver cdrv, pdrv;
	bool cdrv_on, pdrv_on;
	bool json;
	enum ih_probe_flow flow;
	const char *file;
	enum input_kind kind;
};

static int client_probe(struct ih_device *dev)
{
	return 0;
}

static const struct ih_pci_device_id any_pci[] = {
    {IH_PCI_ANY_ID, IH_PCI_ANY_ID, 0, 0},
    {0, 0, 0, 0},
};

static const char *dev_state(struct ih_device *dev)
{
	if (ih_device_driver(dev))
		return "bound";
	if (ih_device_is_deferred(dev))
		return "deferred";
	return "unbound";
}

static const char *fw_name(const struct ih_fw_dev *fd)
{
	return fd->what ? fd->what : "";
}

/* The population entry of the IOMMU whose firmware node is @fwnode. */
static const struct ih_fw_dev *iommu_of(const struct topo *tp, const void *fwnode)
{
	for (unsigned int i = 0; i < tp->p->ndevs; i++)
		if (tp->p->devs[i].kind == IH_FW_DEV_IOMMU && tp->p->devs[i].fwnode == fwnode)
			return &tp->p->devs[i];
	return NULL;
}

/* The DT `iommus` entries of @fd (a client, or an IOMMU that is itself a client). */
static const struct ih_dt_client *dt_client_of(const struct topo *tp, const struct ih_fw_dev *fd)
{
	int idx = -1;

	if (!tp->p->dt)
		return NULL;
	if (fd->kind == IH_FW_DEV_CLIENT)
		idx = fd->index;
	else if (fd->kind == IH_FW_DEV_IOMMU)
		idx = tp->p->dt->iommus[fd->index].client;
	return idx >= 0 ? &tp->p->dt->clients[idx] : NULL;
}

static void print_dt_refs(const struct topo *tp, const struct ih_dt_client *cl)
{
	for (unsigned int k = 0; k < cl->nspecs; k++) {
		const struct ih_dt_iommu_spec *sp = &cl->specs[k];
		const struct ih_dt_iommu *io = &tp->p->dt->iommus[sp->iommu];

		if (tp->json) {
			printf("%s{\"iommu_node\": ", k ? ", " : "");
			ih_tool_json_str(stdout, io->path);
			printf(", \"iommu_enabled\": %s, \"iommu_cells\": %u, \"args\": [",
			       io->enabled ? "true" : "false", sp->nargs);
			for (unsigned int a = 0; a < sp->nargs; a++)
				printf("%s%u", a ? ", " : "", sp->args[a]);
			printf("]}");
		} else {
			printf("%s%s <", k ? ", " : "", io->path);
			for (unsigned int a = 0; a < sp->nargs; a++)
				printf("%s0x%x", a ? " " : "", sp->args[a]);
			printf(">%s", io->enabled ? "" : " (disabled)");
		}
	}
}

static const char *owner_name(const struct ih_iommu_group_info *gi)
{
	if (gi->explicit_owner)
		return "explicit";
	return gi->owner_cnt ? "dma-api" : "none";
}

static void topo_iommus(const struct topo *tp)
{
	bool first = true;

	if (tp->json)
		printf(" \"iommus\": [");
	else
		printf("IOMMUs:\n");
	for (unsigned int i = 0; i < tp->p->ndevs; i++) {
		const struct ih_fw_dev *fd = &tp->p->devs[i];
		struct ih_board_iommu_info bi;
		bool hw = !ih_board_iommu_info(tp->board, fd->dev, &bi);
		bool registered = ih_iommu_device_find(tp->w, fd->fwnode) != NULL;
		u64 base = fd->nres ? fd->res[0].base : 0;

		if (fd->kind != IH_FW_DEV_IOMMU)
			continue;
		if (tp->json) {
			printf("%s\n  {\"device\": ", first ? "" : ",");
			ih_tool_json_str(stdout, fd->dev->name);
			printf(", \"firmware_node\": ");
			ih_tool_json_str(stdout, fw_name(fd));
			printf(", \"type\": ");
			ih_tool_json_str(stdout, ih_fw_iommu_model_name(fd->model));
			printf(", \"compatible\": ");
			ih_tool_json_str(stdout, fd->compatible);
			if (fd->nres)
				printf(", \"mmio_base\": %llu", (unsigned long long)base);
			else
				printf(", \"mmio_base\": null");
			printf(", \"banks\": %u, \"emulated\": %s, \"driver\": ", fd->nres,
			       hw ? "true" : "false");
			if (ih_device_driver(fd->dev))
				ih_tool_json_str(stdout, ih_device_driver(fd->dev)->name);
			else
				printf("null");
			printf(", \"registered\": %s}", registered ? "true" : "false");
		} else {
			printf("  %-22s %-8s ", fd->dev->name, ih_fw_iommu_model_name(fd->model));
			if (fd->nres)
				printf("mmio 0x%llx", (unsigned long long)base);
			else
				printf("mmio -");
			if (fd->nres > 1)
				printf(" (%u banks)", fd->nres);
			printf("  %s  %s%s\n", fw_name(fd),
			       !hw			   ? "no model, no driver"
			       : ih_device_driver(fd->dev) ? "driver "
							   : "driver not bound",
			       hw && ih_device_driver(fd->dev) ? ih_device_driver(fd->dev)->name
							       : "");
			if (hw && !registered)
				printf("      instance not registered\n");
		}
		first = false;
	}
	if (tp->json)
		printf("%s],\n", first ? "" : "\n ");
	else if (first)
		printf("  (none)\n");
}

static void topo_devices(const struct topo *tp)
{
	bool first = true;

	if (tp->json)
		printf(" \"devices\": [");
	else
		printf("Devices:\n");
	for (unsigned int i = 0; i < tp->p->ndevs; i++) {
		const struct ih_fw_dev *fd = &tp->p->devs[i];
		struct ih_device *dev = fd->dev;
		struct ih_iommu_fwspec *fs = ih_dev_iommu_fwspec_get(dev);
		const struct ih_fw_dev *io = fs ? iommu_of(tp, fs->iommu_fwnode) : NULL;
		struct ih_iommu_group *g = dev->iommu_group;
		struct ih_iommu_group_info gi;

		if (fd->kind == IH_FW_DEV_HOST_BRIDGE)
			continue;
		const struct ih_dt_client *cl = dt_client_of(tp, fd);

		/* An IOMMU is listed here only when it is itself behind an IOMMU. */
		if (fd->kind == IH_FW_DEV_IOMMU && !fs && !cl)
			continue;
		if (g)
			ih_iommu_group_get_info(g, &gi);
		if (tp->json) {
			printf("%s\n  {\"device\": ", first ? "" : ",");
			ih_tool_json_str(stdout, dev->name);
			printf(", \"kind\": ");
			ih_tool_json_str(stdout, ih_fw_dev_kind_name(fd->kind));
			printf(", \"firmware_node\": ");
			if (fd->kind == IH_FW_DEV_PCI_FN)
				printf("null, \"requester_id\": %u", fd->rid);
			else
				ih_tool_json_str(stdout, fw_name(fd));
			if (cl) {
				printf(", \"iommus\": [");
				print_dt_refs(tp, cl);
				printf("]");
			}
			printf(", \"state\": ");
			ih_tool_json_str(stdout, dev_state(dev));
			printf(", \"iommu\": ");
			if (io)
				ih_tool_json_str(stdout, io->dev->name);
			else
				printf("null");
			printf(", \"ids\": ");
			if (fs) {
				printf("[");
				for (unsigned int k = 0; k < fs->num_ids; k++)
					printf("%s%u", k ? ", " : "", fs->ids[k]);
				printf("]");
			} else {
				printf("null");
			}
			printf(", \"group\": ");
			if (g) {
				printf("{\"id\": %d, \"devices\": %u, \"default_domain\": ", gi.id,
				       gi.num_devices);
				if (gi.has_default)
					ih_tool_json_str(stdout, ih_domain_type_name(gi.default_type));
				else
					printf("null");
				printf(", \"domain\": ");
				if (gi.has_domain)
					ih_tool_json_str(stdout, ih_domain_type_name(gi.domain_type));
				else
					printf("null");
				printf(", \"owner\": \"%s\", \"owner_count\": %u}", owner_name(&gi),
				       gi.owner_cnt);
			} else {
				printf("null");
			}
			printf("}");
		} else {
			if (fd->kind == IH_FW_DEV_PCI_FN)
				printf("  %-22s %s, requester ID 0x%04x\n", dev->name,
				       ih_fw_dev_kind_name(fd->kind), fd->rid);
			else
				printf("  %-22s %-12s %s\n", dev->name,
				       ih_fw_dev_kind_name(fd->kind), fw_name(fd));
			if (cl) {
				printf("      iommus = ");
				print_dt_refs(tp, cl);
				printf("\n");
			}
			printf("      %s", dev_state(dev));
			if (fs) {
				printf(", iommu %s, ids", io ? io->dev->name : "?");
				if (!fs->num_ids)
					printf(" -");
				for (unsigned int k = 0; k < fs->num_ids; k++)
					printf("%s0x%x", k ? "," : " ", fs->ids[k]);
			} else {
				printf(", no IOMMU");
			}
			if (g)
				printf(", group %d (%u device%s), default %s, owner %s (%u)", gi.id,
				       gi.num_devices, gi.num_devices == 1 ? "" : "s",
				       gi.has_default ? ih_domain_type_name(gi.default_type) : "-",
				       owner_name(&gi), gi.owner_cnt);
			printf("\n");
		}
		first = false;
	}
	if (tp->json)
		printf("%s],\n", first ? "" : "\n ");
	else if (first)
		printf("  (none)\n");
}

/* The name a map target gets: its device when populated, else its firmware node. */
static void target_name(const struct topo *tp, const void *fwnode, const char *fallback, char *buf,
			size_t size)
{
	const struct ih_fw_dev *io = iommu_of(tp, fwnode);

	snprintf(buf, size, "%s", io ? io->dev->name : fallback);
}

static void topo_hosts(const struct topo *tp)
{
	bool first = true;

	if (tp->json)
		printf(" \"pci_hosts\": [");
	else
		printf("PCI hosts:\n");
	for (unsigned int i = 0; i < tp->p->ndevs; i++) {
		const struct ih_fw_dev *fd = &tp->p->devs[i];
		bool seen = false;
		char tname[128];

		if (fd->kind != IH_FW_DEV_HOST_BRIDGE)
			continue;
		/* One entry per firmware host, however many root buses it got. */
		for (unsigned int k = 0; k < i && !seen; k++)
			seen = tp->p->devs[k].kind == IH_FW_DEV_HOST_BRIDGE &&
			       tp->p->devs[k].fwnode == fd->fwnode;
		if (seen)
			continue;
		if (tp->json) {
			printf("%s\n  {\"firmware_node\": ", first ? "" : ",");
			ih_tool_json_str(stdout, fw_name(fd));
			printf(", \"segment\": %u, \"root_buses\": [", fd->segment);
		} else {
			printf("  %s  segment %u, root bus", fw_name(fd), fd->segment);
		}
		for (unsigned int k = i, n = 0; k < tp->p->ndevs; k++) {
			if (tp->p->devs[k].kind != IH_FW_DEV_HOST_BRIDGE ||
			    tp->p->devs[k].fwnode != fd->fwnode)
				continue;
			printf(tp->json ? "%s%u" : "%s0x%02x",
			       n++ ? (tp->json ? ", " : ",") : (tp->json ? "" : " "),
			       tp->p->devs[k].bus);
		}
		if (tp->p->dt) {
			const struct ih_dt_pci_host *h = fd->fwnode;

			printf(tp->json ? "], \"iommu_map_mask\": %u, \"map\": ["
					: ", iommu-map-mask 0x%x\n",
			       h->iommu_map.mask);
			for (unsigned int k = 0; k < h->iommu_map.n; k++) {
				const struct ih_dt_map_entry *e = &h->iommu_map.e[k];
				const struct ih_dt_iommu *io = &tp->p->dt->iommus[e->target];

				target_name(tp, io, io->path, tname, sizeof(tname));
				if (tp->json) {
					printf("%s{\"rid_base\": %u, \"length\": %u, \"iommu\": ",
					       k ? ", " : "", e->rid_base, e->length);
					ih_tool_json_str(stdout, tname);
					printf(", \"iommu_enabled\": %s, \"sid_base\": %u}",
					       io->enabled ? "true" : "false", e->out_base);
				} else {
					printf("      rid 0x%04x-0x%04x -> %s sid 0x%x-0x%x%s\n",
					       e->rid_base, e->rid_base + (e->length - 1), tname,
					       e->out_base, e->out_base + (e->length - 1),
					       io->enabled ? ""
							   : " (IOMMU disabled: no translation)");
				}
			}
		} else {
			const struct ih_iort *t = tp->p->iort;
			const struct ih_iort_node *rc = fd->fwnode;
			unsigned int rci = (unsigned int)fd->index;

			printf(tp->json ? "], \"map\": [" : "\n");
			for (unsigned int k = 0; k < rc->nmaps; k++) {
				const struct ih_iort_id_map *m = &rc->maps[k];
				unsigned int end;
				u32 out;
				int ret = ih_iort_map_id(t, rci, m->input_base, IH_IORT_IOMMU_TYPES,
							 &end, &out, NULL);
				char label[48];

				snprintf(label, sizeof(label), "IORT node %u",
					 ret ? m->target : end);
				if (!ret)
					target_name(tp, &t->nodes[end], label, tname,
						    sizeof(tname));
				if (tp->json) {
					printf("%s{\"input_base\": %u, \"number_of_ids\": %u, "
					       "\"iommu\": ",
					       k ? ", " : "", m->input_base, m->id_count);
					if (ret)
						printf("null, \"target\": ");
					ih_tool_json_str(stdout,
						 ret ? ih_iort_type_name(t->nodes[m->target].type)
						     : tname);
					if (!ret)
						printf(", \"sid_base\": %u", out);
					printf("}");
				} else if (ret) {
					printf("      rid 0x%04x-0x%04x -> %s (no IOMMU for rid "
					       "0x%x)\n",
					       m->input_base, m->input_base + m->id_count,
					       ih_iort_type_name(t->nodes[m->target].type),
					       m->input_base);
				} else {
					printf("      rid 0x%04x-0x%04x -> %s sid 0x%x-0x%x\n",
					       m->input_base, m->input_base + m->id_count, tname,
					       out, out + m->id_count);
				}
			}
		}
		if (tp->json)
			printf("]}");
		first = false;
	}
	if (tp->json)
		printf("%s]\n", first ? "" : "\n ");
	else if (first)
		printf("  (none)\n");
}

static int topo_up(struct topo *tp, unsigned char *buf, size_t len, bool strict)
{
	struct ih_dt_desc *d = NULL;
	struct ih_iort *t = NULL;
	struct ih_fw_diag diag;
	int ret;

	ih_iommu_set_probe_flow(tp->w, tp->flow);
	ret = ih_board_create(tp->w, NULL, &tp->board);
	if (ret) {
		fprintf(stderr, "%s: internal error: board (%d)\n", prog, ret);
		return EXIT_INTERNAL;
	}
	if (tp->kind == IN_DTB)
		ret = ih_dt_parse(tp->w, buf, len, &d, &diag);
	else
		ret =
		    ih_iort_parse(tp->w, buf, len, strict ? IH_IORT_STRICT_CHECKSUM : 0, &t, &diag);
	if (ret)
		return rejected(tp->file, &diag, ret);
	warnings(tp->file, &diag);
	if (d)
		ret =
		    ih_fw_populate_dt(tp->w, d, ih_board_populate_ops(tp->board), 0, &tp->p, &diag);
	else
		ret = ih_fw_populate_iort(tp->w, t, ih_board_populate_ops(tp->board), 0, &tp->p,
					  &diag);
	if (ret) {
		ih_dt_free(d);
		ih_iort_free(t);
		return rejected(tp->file, &diag, ret);
	}
	/* A generic client driver on every client and PCI function: groups get owners. */
	for (unsigned int i = 0; i < tp->p->ndevs; i++)
		if (tp->p->devs[i].kind == IH_FW_DEV_CLIENT &&
		    ih_device_set_driver_override(tp->p->devs[i].dev, "ih-client"))
			return EXIT_INTERNAL;
	tp->cdrv = (struct ih_driver){
	    .name = "ih-client", .bus = &ih_platform_bus_type, .probe = client_probe};
	tp->pdrv = (struct ih_driver){.name = "ih-pci-client",
				      .bus = &ih_pci_bus_type,
				      .probe = client_probe,
				      .id_table = any_pci};
	if (ih_driver_register(tp->w, &tp->cdrv))
		return EXIT_INTERNAL;
	tp->cdrv_on = true;
	if (ih_driver_register(tp->w, &tp->pdrv))
		return EXIT_INTERNAL;
	tp->pdrv_on = true;
	return EXIT_OK;
}

static void topo_down(struct topo *tp)
{
	if (tp->cdrv_on)
		ih_driver_unregister(tp->w, &tp->cdrv);
	if (tp->pdrv_on)
		ih_driver_unregister(tp->w, &tp->pdrv);
	ih_fw_depopulate(tp->p);
	ih_board_destroy(tp->board);
}

static int cmd_topo(int argc, char **argv)
{
	struct topo tp = {.flow = IH_PROBE_FLOW_PROBE_PATH, .kind = IN_AUTO};
	bool strict = false;
	unsigned char *buf;
	size_t len;
	int rc, err;

	rc = parse_iort_opts(argc, argv, &tp.json, &strict, &tp.file, usage_topo, true, &tp.kind,
			     &tp.flow);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	buf = read_file(tp.file, &len, &err);
	if (!buf) {
		fprintf(stderr, "%s: %s: %s\n", prog, tp.file, strerror(err));
		return EXIT_REJECTED;
	}
	if (tp.kind == IN_AUTO)
		tp.kind = detect(buf, len);
	if (tp.kind == IN_AUTO) {
		fprintf(stderr,
			"%s: %s: rejected: neither a device tree (magic d00dfeed) nor an IORT "
			"(signature \"IORT\"); force one with --dtb or --iort\n",
			prog, tp.file);
		free(buf);
		return EXIT_REJECTED;
	}
	tp.w = tool_world();
	if (!tp.w) {
		free(buf);
		return EXIT_INTERNAL;
	}
	rc = topo_up(&tp, buf, len, strict);
	free(buf);
	if (rc == EXIT_OK) {
		if (tp.json) {
			printf("{\"file\": ");
			ih_tool_json_str(stdout, tp.file);
			printf(", \"source\": \"%s\", \"flow\": \"%s\",\n",
			       tp.kind == IN_DTB ? "dtb" : "iort",
			       tp.flow == IH_PROBE_FLOW_BIND ? "bind" : "probe");
		} else {
			printf("%s: %s, %s flow\n", tp.file,
			       tp.kind == IN_DTB ? "device tree" : "ACPI IORT",
			       tp.flow == IH_PROBE_FLOW_BIND ? "bind-time" : "probe-path");
		}
		topo_iommus(&tp);
		topo_devices(&tp);
		topo_hosts(&tp);
		if (tp.json)
			printf("}\n");
		if (ih_iommu_invariant_violations(tp.w)) {
			fprintf(stderr, "%s: internal error: group invariants broken\n", prog);
			rc = EXIT_INTERNAL;
		}
	}
	topo_down(&tp);
	return finish_world(tp.w, rc);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage_main, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "topo"))
		return cmd_topo(argc - 1, argv + 1);
	if (!strcmp(argv[1], "iort"))
		return cmd_iort(argc - 1, argv + 1);
	if (!strcmp(argv[1], "trace"))
		return ih_cmd_trace(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n%s", prog, argv[1], usage_main);
	return EXIT_USAGE;
}
