// SPDX-License-Identifier: MIT
/*
 * Fuzz target: a world brought up from a device tree (core/fw/populate.c with dt.c, the
 * IOMMU core's probe flows, groups and default domains).
 *
 * Input: [mode u8][reserved u8][fail u16 LE][DTB] as described in fw_probe.h. Seeds:
 * corpus/dtb_probe/, made by corpus/gen_probe_seeds.sh from corpus/dtb with several
 * headers; dictionary corpus/dtb_probe.dict (the dtb one).
 *
 * Per input: ih_dt_parse(), ih_fw_populate_dt() with the test IOMMU driver, client drivers
 * bound, the end state checked against the firmware walk and the group invariants, a map
 * and unmap on each default domain, teardown with no leak. Deterministic: sequential world,
 * virtual clock, the allocation that fails is chosen by the input.
 */
#include "fw_probe.h"

#include <ih/fw_dt.h>

static int parse_dt(struct ih_world *w, const u8 *blob, size_t len, struct ih_dt_desc **d,
		    struct ih_iort **t)
{
	return ih_dt_parse(w, blob, len, d, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fwp_one_input(data, size, parse_dt);
}
