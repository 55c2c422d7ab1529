// SPDX-License-Identifier: MIT
/*
 * Fuzz target: a world brought up from an ACPI IORT (core/fw/populate.c with iort.c, the
 * IOMMU core's probe flows, groups and default domains).
 *
 * Input: [mode u8][reserved u8][fail u16 LE][IORT table] as described in fw_probe.h.
 * Seeds: corpus/iort_probe/, made by corpus/gen_probe_seeds.sh from corpus/iort with
 * several headers; dictionary corpus/iort_probe.dict (the iort one).
 *
 * Per input: ih_iort_parse(), ih_fw_populate_iort() with the test IOMMU driver (SMMUv3 and
 * SMMUv1/v2 nodes alike), client drivers bound to named components and PCI functions,
 * checks and teardown as for fuzz_dtb_probe.
 */
#include "fw_probe.h"

#include <ih/fw_iort.h>

static int parse_iort(struct ih_world *w, const u8 *blob, size_t len, struct ih_dt_desc **d,
		      struct ih_iort **t)
{
	return ih_iort_parse(w, blob, len, 0, t, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fwp_one_input(data, size, parse_iort);
}
