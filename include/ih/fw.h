/* SPDX-License-Identifier: MIT */
/* Firmware parsing, shared part: the diagnostic every firmware parser fills on error. */
#ifndef IH_FW_H
#define IH_FW_H

#include <ih/compat.h>

#define IH_FW_DIAG_WHERE  256
#define IH_FW_DIAG_REASON 192

/**
 * struct ih_fw_diag - why a firmware blob was rejected (or warned about), for fuzz triage.
 * @err: the negative errno the parser returned (0 when nothing went wrong).
 * @offset: byte offset in the blob the reason applies to, or -1 when none is known.
 * @where: the object: a device-tree node path ("/soc/iommu@fc900000") or an IORT node
 *         ("IORT node 2 @0x94"); empty when the fault is in the blob header.
 * @prop: the device-tree property ("iommu-map") or IORT field ("OutputReference");
 *        empty when not applicable.
 * @reason: one line saying what is wrong, with libfdt's fdt_strerror() text when the
 *          fault came from libfdt.
 * @warnings: non-fatal findings counted during a successful parse (a bad checksum, a
 *            known-broken table revision, an out-of-range DeviceID mapping index); the
 *            last one's text is left in @reason while @err stays 0.
 *
 * Parsers fill the first error only and keep it; every parser accepts a NULL diagnostic.
 */
struct ih_fw_diag {
	int err;
	long offset;
	char where[IH_FW_DIAG_WHERE];
	char prop[32];
	char reason[IH_FW_DIAG_REASON];
	unsigned int warnings;
};

/* ih_fw_diag_clear() - reset @d to "no error" (offset -1, empty strings, no warnings). */
void ih_fw_diag_clear(struct ih_fw_diag *d);

#endif /* IH_FW_H */
