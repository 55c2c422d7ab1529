/* SPDX-License-Identifier: MIT */
/* Private helpers shared by the firmware parsers: diagnostics and byte loaders. */
#ifndef IH_FW_PRIV_H
#define IH_FW_PRIV_H

#include <ih/fw.h>

/*
 * ih_fw_diag_set() - record the first error in @d (NULL ignored) and return @err.
 * @offset: byte offset in the blob, or -1; @where/@prop may be NULL.
 */
IH_PRINTF(6, 7)
int ih_fw_diag_set(struct ih_fw_diag *d, int err, long offset, const char *where, const char *prop,
		   const char *fmt, ...);

/* ih_fw_diag_warn() - count a non-fatal finding in @d and keep its text while no error. */
IH_PRINTF(4, 5)
void ih_fw_diag_warn(struct ih_fw_diag *d, long offset, const char *where, const char *fmt, ...);

/* Little-endian loaders for untrusted bytes; the caller has bounds-checked @p. */
static inline u8 ih_ld8(const u8 *p)
{
	return p[0];
}

static inline u16 ih_ld16le(const u8 *p)
{
	return (u16)(p[0] | (u16)p[1] << 8);
}

static inline u32 ih_ld32le(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static inline u64 ih_ld64le(const u8 *p)
{
	return (u64)ih_ld32le(p) | (u64)ih_ld32le(p + 4) << 32;
}

#endif /* IH_FW_PRIV_H */
