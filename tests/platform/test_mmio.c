// SPDX-License-Identifier: MIT
/* MMIO: region claims, ioremap bounds, checked register access, the access trace. */
#include <criterion/criterion.h>
#include <string.h>

#include <ih/alloc.h>
#include <ih/diag.h>
#include <ih/mmio.h>
#include <ih/world.h>

#define DEV_BASE 0x10000000ULL
#define DEV_SIZE 0x1000ULL

static struct ih_world *w;

static void setup(void)
{
	cr_assert_eq(ih_world_create(NULL, &w), 0);
}

static void teardown(void)
{
	cr_expect_eq(ih_world_destroy(w), 0, "the test leaked model memory");
}

TestSuite(mmio, .init = setup, .fini = teardown);

/* A register file device: 64-bit slots, byte offset / 8; counts the calls it sees. */
struct regfile {
	u64 reg[DEV_SIZE / 8];
	unsigned int reads, writes;
	u64 last_off;
	unsigned int last_size;
};

static u64 rf_read(void *opaque, u64 off, unsigned int size)
{
	struct regfile *rf = opaque;

	rf->reads++;
	rf->last_off = off;
	rf->last_size = size;
	/* A 4-byte read at +4 is the upper half of the slot (little endian). */
	return rf->reg[off / 8] >> ((off % 8) * 8);
}

static void rf_write(void *opaque, u64 off, u64 val, unsigned int size)
{
	struct regfile *rf = opaque;

	rf->writes++;
	rf->last_off = off;
	rf->last_size = size;
	if (size == 8) {
		rf->reg[off / 8] = val;
	} else {
		unsigned int sh = (off % 8) * 8;

		rf->reg[off / 8] &= ~(0xffffffffULL << sh);
		rf->reg[off / 8] |= (val & 0xffffffffULL) << sh;
	}
}

static const struct ih_mmio_ops rf_ops = {
	.read = rf_read,
	.write = rf_write,
};

static struct ih_mmio_region *add(u64 base, u64 size, void *opaque, int *err)
{
	return ih_mmio_region_add(w, base, size, &rf_ops, opaque, err);
}

Test(mmio, region_add_rejects_zero_size_wrap_and_missing_ops)
{
	static const struct ih_mmio_ops no_write = { .read = rf_read };
	int err = 0;

	cr_expect_null(add(DEV_BASE, 0, NULL, &err));
	cr_expect_eq(err, -EINVAL);
	err = 0;
	cr_expect_null(add(~0ULL - 0xfff, 0x2000, NULL, &err), "wraps past 2^64");
	cr_expect_eq(err, -EINVAL);
	err = 0;
	cr_expect_null(ih_mmio_region_add(w, DEV_BASE, DEV_SIZE, NULL, NULL, &err));
	cr_expect_eq(err, -EINVAL);
	err = 0;
	cr_expect_null(ih_mmio_region_add(w, DEV_BASE, DEV_SIZE, &no_write, NULL, &err));
	cr_expect_eq(err, -EINVAL);
	cr_expect_null(add(DEV_BASE, 0, NULL, NULL), "err may be NULL");
	cr_expect_eq(ih_alloc_live_count(w), 0);
}

Test(mmio, overlapping_region_is_einval_and_adjacent_is_fine)
{
	struct ih_mmio_region *r, *below, *above;
	int err = 1;

	r = add(DEV_BASE, DEV_SIZE, NULL, &err);
	cr_assert_not_null(r);
	cr_expect_eq(err, 0);
	/* Same range, a range inside, and ranges sticking out either side by one page. */
	cr_expect_null(add(DEV_BASE, DEV_SIZE, NULL, &err));
	cr_expect_eq(err, -EINVAL);
	cr_expect_null(add(DEV_BASE + 0x100, 0x10, NULL, &err));
	cr_expect_null(add(DEV_BASE - 0x1000, 0x1001, NULL, &err));
	cr_expect_null(add(DEV_BASE + DEV_SIZE - 1, 0x1000, NULL, &err));
	cr_expect_eq(err, -EINVAL);
	cr_expect_eq(ih_alloc_live_count(w), 1, "a refused region leaves nothing allocated");
	below = add(DEV_BASE - 0x1000, 0x1000, NULL, &err);
	above = add(DEV_BASE + DEV_SIZE, 0x1000, NULL, &err);
	cr_expect_not_null(below);
	cr_expect_not_null(above);
	ih_mmio_region_del(w, above);
	ih_mmio_region_del(w, below);
	ih_mmio_region_del(w, r);
}

Test(mmio, region_add_allocation_failure_is_enomem)
{
	int err = 0;

	cr_assert_eq(ih_fault_fail_site(w, "mmio:region", 1), 0);
	cr_expect_null(add(DEV_BASE, DEV_SIZE, NULL, &err));
	cr_expect_eq(err, -ENOMEM);
}

Test(mmio, ioremap_must_lie_inside_one_region)
{
	struct ih_mmio_region *r = add(DEV_BASE, DEV_SIZE, NULL, NULL);
	struct ih_mmio_region *r2 = add(DEV_BASE + DEV_SIZE, DEV_SIZE, NULL, NULL);

	cr_assert_not_null(r);
	cr_assert_not_null(r2);
	cr_expect_eq(ih_ioremap(w, DEV_BASE, DEV_SIZE), r);
	cr_expect_eq(ih_ioremap(w, DEV_BASE + 0x800, 0x800), r);
	cr_expect_eq(ih_ioremap(w, DEV_BASE + DEV_SIZE, 4), r2);
	cr_expect_null(ih_ioremap(w, DEV_BASE + 0x800, DEV_SIZE), "spans two regions");
	cr_expect_null(ih_ioremap(w, DEV_BASE - 4, 8), "starts before the region");
	cr_expect_null(ih_ioremap(w, DEV_BASE + 2 * DEV_SIZE - 4, 8), "runs past the end");
	cr_expect_null(ih_ioremap(w, 0x20000000, 4), "no region there");
	cr_expect_null(ih_ioremap(w, ~0ULL - 3, 8));
	ih_mmio_region_del(w, r2);
	cr_expect_null(ih_ioremap(w, DEV_BASE + DEV_SIZE, 4), "removed");
	ih_mmio_region_del(w, r);
}

Test(mmio, aligned_accesses_reach_the_device)
{
	struct regfile rf = { 0 };
	struct ih_mmio_region *r = add(DEV_BASE, DEV_SIZE, &rf, NULL);

	cr_assert_not_null(r);
	ih_writel(r, 0x12345678, 0x10);
	cr_expect_eq(rf.writes, 1);
	cr_expect_eq(rf.last_off, 0x10, "offsets are relative to the region base");
	cr_expect_eq(rf.last_size, 4);
	cr_expect_eq(rf.reg[2], 0x12345678);
	ih_writel(r, 0x9abcdef0, 0x14);
	cr_expect_eq(rf.reg[2], 0x9abcdef012345678ULL);
	cr_expect_eq(ih_readq(r, 0x10), 0x9abcdef012345678ULL);
	cr_expect_eq(rf.last_size, 8);
	cr_expect_eq(ih_readl(r, 0x14), 0x9abcdef0);
	ih_writeq(r, 0xfedcba9876543210ULL, DEV_SIZE - 8);
	cr_expect_eq(rf.reg[DEV_SIZE / 8 - 1], 0xfedcba9876543210ULL);
	cr_expect_eq(ih_readq(r, DEV_SIZE - 8), 0xfedcba9876543210ULL);
	cr_expect_eq(ih_mmio_bad_accesses(w), 0);
	cr_expect_eq(ih_warn_count(w), 0);
	ih_mmio_region_del(w, r);
}

Test(mmio, readl_keeps_only_the_low_32_bits_the_device_returns)
{
	struct regfile rf = { 0 };
	struct ih_mmio_region *r = add(DEV_BASE, DEV_SIZE, &rf, NULL);

	cr_assert_not_null(r);
	rf.reg[0] = 0xaaaabbbbccccddddULL;
	/* rf_read returns the whole slot for offset 0; a 32-bit read must drop the top. */
	cr_expect_eq(ih_readl(r, 0), 0xccccddddU);
	cr_expect_eq(ih_readl(r, 4), 0xaaaabbbbU);
	cr_expect_eq(ih_readq(r, 0), 0xaaaabbbbccccddddULL);
	ih_mmio_region_del(w, r);
}

Test(mmio, bad_accesses_read_all_ones_and_never_reach_the_device)
{
	struct regfile rf = { 0 };
	struct ih_mmio_region *r = add(DEV_BASE, DEV_SIZE, &rf, NULL);

	cr_assert_not_null(r);
	/* Unaligned for the width. */
	cr_expect_eq(ih_readl(r, 2), 0xffffffffU);
	cr_expect_eq(ih_readq(r, 4), ~0ULL);
	ih_writel(r, 1, 1);
	ih_writeq(r, 1, 0xc);
	cr_expect_eq(ih_mmio_bad_accesses(w), 4);
	/* At, past and straddling the end; a huge offset that would wrap. */
	cr_expect_eq(ih_readl(r, DEV_SIZE), 0xffffffffU);
	cr_expect_eq(ih_readq(r, DEV_SIZE - 4), ~0ULL);
	ih_writel(r, 1, DEV_SIZE + 0x1000);
	cr_expect_eq(ih_readq(r, ~0ULL - 7), ~0ULL);
	cr_expect_eq(ih_mmio_bad_accesses(w), 8);
	cr_expect_eq(ih_warn_count(w), 8, "each bad access counts a warning");
	cr_expect_eq(rf.reads, 0);
	cr_expect_eq(rf.writes, 0);
	for (size_t i = 0; i < ARRAY_SIZE(rf.reg); i++)
		cr_assert_eq(rf.reg[i], 0, "a refused write changed register slot %zu", i);
	ih_mmio_region_del(w, r);
}

struct trace_log {
	unsigned int n;
	struct {
		bool is_write;
		u64 addr;
		unsigned int size;
		u64 val;
	} e[8];
};

static void trace_fn(void *opaque, bool is_write, u64 addr, unsigned int size, u64 val)
{
	struct trace_log *t = opaque;

	if (t->n < ARRAY_SIZE(t->e)) {
		t->e[t->n].is_write = is_write;
		t->e[t->n].addr = addr;
		t->e[t->n].size = size;
		t->e[t->n].val = val;
	}
	t->n++;
}

static void expect_entry(struct trace_log *t, unsigned int i, bool is_write, u64 addr,
			 unsigned int size, u64 val)
{
	cr_expect_eq(t->e[i].is_write, is_write, "entry %u direction", i);
	cr_expect_eq(t->e[i].addr, addr, "entry %u address", i);
	cr_expect_eq(t->e[i].size, size, "entry %u size", i);
	cr_expect_eq(t->e[i].val, val, "entry %u value", i);
}

Test(mmio, trace_sees_every_access_with_absolute_address_and_value)
{
	struct regfile rf = { 0 };
	struct trace_log t = { 0 };
	struct ih_mmio_region *r = add(DEV_BASE, DEV_SIZE, &rf, NULL);

	cr_assert_not_null(r);
	rf.reg[4] = 0x1111222233334444ULL;
	ih_mmio_set_trace(w, trace_fn, &t);
	ih_writel(r, 0xcafef00d, 0x8);
	cr_expect_eq(ih_readl(r, 0x8), 0xcafef00d);
	ih_writeq(r, 0x0123456789abcdefULL, 0x18);
	cr_expect_eq(ih_readq(r, 0x18), 0x0123456789abcdefULL);
	/* The trace shows what the driver got: the 32-bit read of slot 4 is its low half. */
	cr_expect_eq(ih_readl(r, 0x20), 0x33334444U);
	cr_assert_eq(t.n, 5);
	expect_entry(&t, 0, true, DEV_BASE + 0x8, 4, 0xcafef00d);
	expect_entry(&t, 1, false, DEV_BASE + 0x8, 4, 0xcafef00d);
	expect_entry(&t, 2, true, DEV_BASE + 0x18, 8, 0x0123456789abcdefULL);
	expect_entry(&t, 3, false, DEV_BASE + 0x18, 8, 0x0123456789abcdefULL);
	expect_entry(&t, 4, false, DEV_BASE + 0x20, 4, 0x33334444U);
	ih_mmio_set_trace(w, NULL, NULL);
	ih_readl(r, 0x8);
	cr_expect_eq(t.n, 5, "no trace once cleared");
	ih_mmio_region_del(w, r);
}
