/* SPDX-License-Identifier: MIT */
/* Kernel-isms for the model: fixed-width types, bit fields, container_of, ONCE accessors. */
#ifndef IH_COMPAT_H
#define IH_COMPAT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

/* errno values the kernel has and libc lacks. */
#ifndef EPROBE_DEFER
#define EPROBE_DEFER 517
#endif

#define BIT(n)     (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))
/* Bits h..l inclusive, h >= l. */
#define GENMASK(h, l)     ((~0UL << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l) ((~0ULL << (l)) & (~0ULL >> (63 - (h))))

/* FIELD_PREP/FIELD_GET for a contiguous constant mask. */
#define IH_MASK_SHIFT(mask) ((unsigned)__builtin_ctzll((u64)(mask)))
#define FIELD_PREP(mask, val) ((((u64)(val)) << IH_MASK_SHIFT(mask)) & (u64)(mask))
#define FIELD_GET(mask, reg)  ((((u64)(reg)) & (u64)(mask)) >> IH_MASK_SHIFT(mask))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define IH_ALIGN_UP(x, a)   (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define IH_ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IH_IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define IH_IS_POW2(x)       ((x) != 0 && (((x) & ((x) - 1)) == 0))

#define ih_min(a, b) ((a) < (b) ? (a) : (b))
#define ih_max(a, b) ((a) > (b) ? (a) : (b))

#define SZ_4K   0x1000UL
#define SZ_16K  0x4000UL
#define SZ_64K  0x10000UL
#define SZ_1M   0x100000UL
#define SZ_2M   0x200000UL
#define SZ_32M  0x2000000UL
#define SZ_512M 0x20000000UL
#define SZ_1G   0x40000000UL

/*
 * READ_ONCE/WRITE_ONCE as relaxed atomics: the compiler may not tear or fuse them, and
 * ThreadSanitizer sees them as atomic accesses rather than plain races.
 */
#define READ_ONCE(x)      __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)  __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define smp_load_acquire(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

#define ih_likely(x)   __builtin_expect(!!(x), 1)
#define ih_unlikely(x) __builtin_expect(!!(x), 0)

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IH_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) && !defined(IH_TSAN)
#define IH_TSAN 1
#endif

#define IH_PRINTF(a, b) __attribute__((format(printf, a, b)))

#endif /* IH_COMPAT_H */
