/* SPDX-License-Identifier: MIT */
/* Turning fuzz bytes into typed values: one little-endian reader shared by every target. */
#ifndef IH_FUZZ_COMMON_H
#define IH_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <ih/compat.h>

/*
 * struct fz_in - the unread rest of one input. Readers never fail: past the end they
 * return 0, so a short input is a valid input whose missing bytes are zero, and
 * fz_empty() tells a stateful target when to stop.
 */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

static inline struct fz_in fz_init(const uint8_t *data, size_t size)
{
	return (struct fz_in){.p = data, .n = size};
}

static inline bool fz_empty(const struct fz_in *f)
{
	return f->n == 0;
}

static inline u8 fz_u8(struct fz_in *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

/* Byte-wise little-endian: never a cast of the input to a wider type. */
static inline u16 fz_u16(struct fz_in *f)
{
	u16 lo = fz_u8(f);

	return (u16)(lo | (u16)fz_u8(f) << 8);
}

static inline u32 fz_u32(struct fz_in *f)
{
	u32 lo = fz_u16(f);

	return lo | (u32)fz_u16(f) << 16;
}

static inline u64 fz_u64(struct fz_in *f)
{
	u64 lo = fz_u32(f);

	return lo | (u64)fz_u32(f) << 32;
}

/* The libFuzzer entry point every target defines (the replay main() calls it too). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* IH_FUZZ_COMMON_H */
