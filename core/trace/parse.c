// SPDX-License-Identifier: MIT
/* Streaming parser of kernel iommu:/dma: trace text (trace-cmd report or tracefs `trace`). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ih/trace.h>

#include "trace_priv.h"

#define U64_MAX UINT64_MAX
#define U32_MAX UINT32_MAX

/*
 * Event text formats, from the kernel's TP_printk() strings (include/trace/events/iommu.h
 * and include/trace/events/dma.h; checked against v5.x, v6.x and 2025 trees):
 *
 *   map:            IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu
 *                   (before 2022: no " - end" part)
 *   unmap:          IOMMU: iova=0x%016llx - 0x%016llx size=%zu unmapped_size=%zu
 *                   (before 2022: no " - end" part)
 *   io_page_fault:  IOMMU:%s %s iova=0x%016llx flags=0x%04x      (driver, device)
 *   attach_device_to_domain:                IOMMU: device=%s
 *   add_device_to_group, remove_device_from_group:  IOMMU: groupID=%d device=%s
 *   dma_map_page/_resource/_phys:   %s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s
 *   dma_unmap_page/_resource/_phys: %s dir=%s dma_addr=%llx size=%zu attrs=%s
 *   dma_alloc(_pages):  %s [dir=%s] dma_addr=%llx size=%zu virt_addr=%p flags=%s attrs=%s
 *                       (the first version printed no dir=)
 *   dma_free(_pages):   %s dir=%s dma_addr=%llx size=%zu virt_addr=%p attrs=%s
 *   dma_alloc_sgt, dma_free_sgt: %s dir=%s dma_addr=%llx size=%zu phys_addrs={..} ...
 *   dma_map_sg:     %s dir=%s [nents=%d/%d ents=%d/%d[ [TRUNCATED]]] dma_addrs={..}
 *                   sizes={..} phys_addrs={..} attrs=%s
 *   dma_unmap_sg:   %s dir=%s phys_addrs={..} attrs=%s
 *
 * Arrays are printed by __print_array as "{0x1,0x2}" (every element in hex, lengths too).
 * attrs= is a '|'-separated list of DMA_ATTR_ names (empty when none).
 */

/* DMA_ATTR_* bit numbers (include/linux/dma-mapping.h) for the names dma: events print. */
static const struct {
	const char *name;
	u32 bit;
} dma_attr_names[] = {
	{ "WEAK_ORDERING", 1 },	    { "WRITE_COMBINE", 2 }, { "NO_KERNEL_MAPPING", 4 },
	{ "SKIP_CPU_SYNC", 5 },	    { "FORCE_CONTIGUOUS", 6 }, { "ALLOC_SINGLE_PAGES", 7 },
	{ "NO_WARN", 8 },	    { "PRIVILEGED", 9 },	  { "MMIO", 10 },
};

enum rec_class {
	/* how a record's event text is parsed */
	CLASS_IOMMU_MAP,
	CLASS_IOMMU_UNMAP,
	CLASS_IOMMU_FAULT,
	CLASS_IOMMU_DEVICE,
	CLASS_IOMMU_GROUP,
	CLASS_DMA,
};

static const struct {
	const char *name;
	unsigned char len;
	unsigned char kind;
	unsigned char cls;
} event_names[] = {
#define EV(n, k, c) { n, sizeof(n) - 1, k, c }
	EV("map", IH_TRACE_MAP, CLASS_IOMMU_MAP),
	EV("unmap", IH_TRACE_UNMAP, CLASS_IOMMU_UNMAP),
	EV("io_page_fault", IH_TRACE_IO_PAGE_FAULT, CLASS_IOMMU_FAULT),
	EV("attach_device_to_domain", IH_TRACE_ATTACH, CLASS_IOMMU_DEVICE),
	EV("add_device_to_group", IH_TRACE_ADD_TO_GROUP, CLASS_IOMMU_GROUP),
	EV("remove_device_from_group", IH_TRACE_REMOVE_FROM_GROUP, CLASS_IOMMU_GROUP),
	EV("dma_map_page", IH_TRACE_DMA_MAP, CLASS_DMA),
	EV("dma_map_resource", IH_TRACE_DMA_MAP, CLASS_DMA),
	EV("dma_map_phys", IH_TRACE_DMA_MAP, CLASS_DMA),
	EV("dma_unmap_page", IH_TRACE_DMA_UNMAP, CLASS_DMA),
	EV("dma_unmap_resource", IH_TRACE_DMA_UNMAP, CLASS_DMA),
	EV("dma_unmap_phys", IH_TRACE_DMA_UNMAP, CLASS_DMA),
	EV("dma_map_sg", IH_TRACE_DMA_MAP_SG, CLASS_DMA),
	EV("dma_unmap_sg", IH_TRACE_DMA_UNMAP_SG, CLASS_DMA),
	EV("dma_alloc", IH_TRACE_DMA_ALLOC, CLASS_DMA),
	EV("dma_alloc_pages", IH_TRACE_DMA_ALLOC, CLASS_DMA),
	EV("dma_alloc_sgt", IH_TRACE_DMA_ALLOC, CLASS_DMA),
	EV("dma_free", IH_TRACE_DMA_FREE, CLASS_DMA),
	EV("dma_free_pages", IH_TRACE_DMA_FREE, CLASS_DMA),
	EV("dma_free_sgt", IH_TRACE_DMA_FREE, CLASS_DMA),
#undef EV
};

static const char *const kind_names[IH_TRACE_KIND_COUNT] = {
	[IH_TRACE_MAP] = "map",
	[IH_TRACE_UNMAP] = "unmap",
	[IH_TRACE_IO_PAGE_FAULT] = "io_page_fault",
	[IH_TRACE_ATTACH] = "attach_device_to_domain",
	[IH_TRACE_ADD_TO_GROUP] = "add_device_to_group",
	[IH_TRACE_REMOVE_FROM_GROUP] = "remove_device_from_group",
	[IH_TRACE_DMA_MAP] = "dma_map_page",
	[IH_TRACE_DMA_UNMAP] = "dma_unmap_page",
	[IH_TRACE_DMA_MAP_SG] = "dma_map_sg",
	[IH_TRACE_DMA_UNMAP_SG] = "dma_unmap_sg",
	[IH_TRACE_DMA_ALLOC] = "dma_alloc",
	[IH_TRACE_DMA_FREE] = "dma_free",
};

const char *ih_trace_kind_name(enum ih_trace_kind kind)
{
	if ((unsigned int)kind >= IH_TRACE_KIND_COUNT)
		return "?";
	return kind_names[kind];
}

const char *ih_trace_dir_name(enum ih_trace_dir dir)
{
	switch (dir) {
	case IH_TRACE_DIR_BIDIRECTIONAL:
		return "BIDIRECTIONAL";
	case IH_TRACE_DIR_TO_DEVICE:
		return "TO_DEVICE";
	case IH_TRACE_DIR_FROM_DEVICE:
		return "FROM_DEVICE";
	default:
		return "NONE";
	}
}

/* ---- errors ---------------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int set_err(struct ih_trace_reader *r, int err,
							  u64 line, const char *fmt, ...)
{
	va_list ap;
	int n;

	r->err_line = line;
	n = snprintf(r->err, sizeof(r->err), "line %llu: ", (unsigned long long)line);
	if (n < 0 || (size_t)n >= sizeof(r->err))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
	va_end(ap);
	r->stats.errors++;
	return err;
}

/* ---- numbers: no sign, no leading blanks, overflow checked ------------------------------ */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (unsigned int)((c | 0x20) - 'a') < 26u;
}

/* Hex digit value + 1, 0 for anything else (a table: this is the hottest loop). */
static const unsigned char hex_table[256] = {
	['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,	['6'] = 7,
	['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
	['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
	['F'] = 16,
};

static int hexval(char c)
{
	return (int)hex_table[(unsigned char)c] - 1;
}

/* Decimal digits in [*pp, e) up to the first non-digit: 0, -EINVAL (none) or -ERANGE. */
int ih_trace_parse_dec(const char **pp, const char *e, u64 *out)
{
	const char *p = *pp;
	u64 v = 0;

	if (p >= e || !is_digit(*p))
		return -EINVAL;
	for (; p < e && is_digit(*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (v > (U64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*pp = p;
	*out = v;
	return 0;
}

/* Hex digits, "0x"/"0X" optional: 0, -EINVAL (no digit) or -ERANGE (over 64 bits). */
int ih_trace_parse_hex(const char **pp, const char *e, u64 *out)
{
	const char *p = *pp;
	u64 v = 0;
	int d;

	if (e - p >= 3 && p[0] == '0' && (p[1] | 0x20) == 'x' && hexval(p[2]) >= 0)
		p += 2;
	if (p >= e || hexval(*p) < 0)
		return -EINVAL;
	for (; p < e && (d = hexval(*p)) >= 0; p++) {
		if (v >> 60)
			return -ERANGE;
		v = (v << 4) | (u64)d;
	}
	*pp = p;
	*out = v;
	return 0;
}

/* ---- input: physical lines from memory or from a FILE by chunks ------------------------- */

#define CHUNK_SIZE (64 * 1024) /* must hold IH_TRACE_MAX_RECORD + 1 bytes with room to spare */

static struct ih_trace_reader *reader_alloc(void)
{
	struct ih_trace_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->la_valid = false;
	return r;
}

struct ih_trace_reader *ih_trace_reader_open_mem(const void *buf, size_t len)
{
	struct ih_trace_reader *r = reader_alloc();

	if (!r)
		return NULL;
	r->mem = buf ? buf : "";
	r->mem_len = buf ? len : 0;
	return r;
}

struct ih_trace_reader *ih_trace_reader_open_file(FILE *fp)
{
	struct ih_trace_reader *r = reader_alloc();

	if (!r)
		return NULL;
	r->chunk = malloc(CHUNK_SIZE);
	if (!r->chunk) {
		free(r);
		return NULL;
	}
	r->fp = fp;
	return r;
}

void ih_trace_reader_close(struct ih_trace_reader *r)
{
	if (!r)
		return;
	free(r->chunk);
	free(r);
}

/* Top up the chunk after moving the unread tail to its start; false at end or error. */
static bool chunk_fill(struct ih_trace_reader *r)
{
	size_t tail = r->chunk_len - r->chunk_pos, n;

	if (r->src_eof)
		return false;
	memmove(r->chunk, r->chunk + r->chunk_pos, tail);
	r->chunk_pos = 0;
	r->chunk_len = tail;
	n = fread(r->chunk + tail, 1, CHUNK_SIZE - tail, r->fp);
	r->chunk_len += n;
	if (n < CHUNK_SIZE - tail) {
		r->src_eof = true;
		if (ferror(r->fp))
			r->src_err = true;
	}
	return n > 0;
}

/*
 * The next physical line without its '\n': 1 with @line and @len (valid until the next call),
 * 0 at the end, -E2BIG for a line over IH_TRACE_MAX_RECORD bytes (consumed), -EIO.
 */
static int next_phys_line(struct ih_trace_reader *r, const char **line, size_t *len)
{
	if (!r->fp) {
		const char *p = r->mem + r->mem_pos, *e = r->mem + r->mem_len, *nl;
		size_t n;

		if (p >= e)
			return 0;
		nl = memchr(p, '\n', (size_t)(e - p));
		n = nl ? (size_t)(nl - p) : (size_t)(e - p);
		r->mem_pos += n + (nl ? 1 : 0);
		r->stats.bytes += n + (nl ? 1 : 0);
		r->stats.lines++;
		if (n > IH_TRACE_MAX_RECORD)
			return -E2BIG;
		*line = p;
		*len = n;
		return 1;
	}

	for (;;) {
		const char *p = r->chunk + r->chunk_pos;
		size_t avail = r->chunk_len - r->chunk_pos, n;
		const char *nl = memchr(p, '\n', avail);

		if (nl || (r->src_eof && avail)) {
			n = nl ? (size_t)(nl - p) : avail;
			r->chunk_pos += n + (nl ? 1 : 0);
			r->stats.bytes += n + (nl ? 1 : 0);
			r->stats.lines++;
			if (n > IH_TRACE_MAX_RECORD)
				return -E2BIG;
			*line = p;
			*len = n;
			return 1;
		}
		if (avail > IH_TRACE_MAX_RECORD) {
			/* Overlong: drop bytes up to the next newline, keeping memory bounded. */
			r->stats.bytes += avail;
			r->chunk_pos = r->chunk_len;
			for (;;) {
				if (!chunk_fill(r)) {
					r->stats.lines++;
					return r->src_err ? -EIO : -E2BIG;
				}
				nl = memchr(r->chunk, '\n', r->chunk_len);
				if (nl) {
					n = (size_t)(nl - r->chunk) + 1;
					r->stats.bytes += n;
					r->chunk_pos = n;
					r->stats.lines++;
					return -E2BIG;
				}
				r->stats.bytes += r->chunk_len;
				r->chunk_pos = r->chunk_len;
			}
		}
		if (!chunk_fill(r)) {
			if (r->src_err)
				return -EIO;
			if (r->chunk_len > r->chunk_pos)
				continue; /* final line without '\n' */
			return 0;
		}
	}
}

/* ---- record prefix ---------------------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *p, const char *e)
{
	while (p < e && is_blank(*p))
		p++;
	return p;
}

static bool has_prefix(const char *p, const char *e, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(e - p) >= n && !memcmp(p, lit, n);
}

/* Timestamp "sec[.frac]" in [p, e): 1 ok, 0 not a timestamp, -ERANGE on overflow. */
static int parse_ts(const char *p, const char *e, u64 *ns)
{
	const char *q = p;
	u64 sec, frac = 0;
	unsigned int ndig = 0;

	if (ih_trace_parse_dec(&q, e, &sec))
		return q < e && is_digit(*q) ? -ERANGE : 0;
	if (q < e && *q == '.') {
		q++;
		if (q >= e || !is_digit(*q))
			return 0;
		for (; q < e && is_digit(*q); q++, ndig++) {
			if (ndig < 9)
				frac = frac * 10 + (u64)(*q - '0');
		}
		if (ndig > 9)
			return -ERANGE;
		for (; ndig < 9; ndig++)
			frac *= 10;
	}
	if (q != e)
		return 0;
	if (sec > (U64_MAX - frac) / 1000000000ull)
		return -ERANGE;
	*ns = sec * 1000000000ull + frac;
	return 1;
}

/*
 * Does [s, e) (quote markers and leading blanks stripped) start a record? Grammar:
 *
 *   <comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <sec>.<frac>: [<system>:]<event>: <text>
 *
 * The CPU field is the first "[digits]" preceded by a blank; the pid follows the last '-'
 * before it (comm may hold blanks and dashes). Returns true with @pf filled (offsets from
 * s); pf->bad names a numeric field that does not fit.
 */
static bool parse_prefix(const char *s, const char *e, struct trace_prefix *pf)
{
	const char *b = s, *q, *rb, *dash, *t, *tend = NULL;
	u64 v;
	int ret;

	pf->bad = NULL;
	/* [cpu] */
	for (;;) {
		b = memchr(b, '[', (size_t)(e - b));
		if (!b)
			return false;
		if (b > s && is_blank(b[-1])) {
			q = b + 1;
			while (q < e && is_digit(*q))
				q++;
			if (q > b + 1 && q < e && *q == ']') {
				rb = q;
				break;
			}
		}
		b++;
	}
	t = b + 1;
	if (ih_trace_parse_dec(&t, q, &v) || v > 0x7fffffff) {
		pf->bad = "cpu number out of range";
		v = 0;
	}
	pf->cpu = (int)v;

	/* comm-pid, with tracefs' optional "(tgid)" column between them and [cpu] */
	q = b;
	while (q > s && is_blank(q[-1]))
		q--;
	if (q > s && q[-1] == ')') {
		t = q - 1;
		while (t > s && t[-1] != '(')
			t--;
		if (t == s)
			return false;
		q = t - 1;
		while (q > s && is_blank(q[-1]))
			q--;
	}
	dash = q;
	while (dash > s && dash[-1] != '-')
		dash--;
	/* an empty comm or pid is not a record ("<...>" stands for an unknown comm) */
	if (dash - 1 == s || dash == s || dash == q)
		return false;
	for (t = dash; t < q; t++)
		if (!is_digit(*t))
			return false;
	t = dash;
	if (ih_trace_parse_dec(&t, q, &v) || v > 0x7fffffff) {
		if (!pf->bad)
			pf->bad = "pid out of range";
		v = 0;
	}
	pf->pid = (int)v;
	pf->comm_len = (size_t)(dash - 1 - s);

	/* [flags] timestamp: */
	t = skip_blanks(rb + 1, e);
	for (int field = 0; field < 2; field++) {
		tend = t;
		while (tend < e && !is_blank(*tend))
			tend++;
		if (tend == t)
			return false;
		if (tend[-1] == ':') {
			ret = parse_ts(t, tend - 1, &pf->ts_ns);
			if (ret) {
				if (ret < 0 && !pf->bad)
					pf->bad = "timestamp out of range";
				break;
			}
		}
		/* Not a timestamp: the irq/preempt flags ("d.h1.", "....", "dNs.1"), once. */
		if (field == 1 || tend - t > 8)
			return false;
		t = skip_blanks(tend, e);
	}
	t = skip_blanks(tend, e);
	if (t == e) {
		/* A mail client wrapped the line right after the timestamp: the name follows. */
		pf->name_off = pf->text_off = (size_t)(e - s);
		pf->name_len = 0;
		return true;
	}

	/* event name (optionally "system:event"), then ':' and the text */
	q = t;
	while (q < e && (is_digit(*q) || is_alpha(*q) || *q == '_'))
		q++;
	if (q == t || q >= e || *q != ':')
		return false;
	if ((q - t == 5 && !memcmp(t, "iommu", 5)) || (q - t == 3 && !memcmp(t, "dma", 3))) {
		const char *n = q + 1, *ne = n;

		while (ne < e && (is_digit(*ne) || is_alpha(*ne) || *ne == '_'))
			ne++;
		if (ne > n && ne < e && *ne == ':') {
			t = n;
			q = ne;
		}
	}
	pf->name_off = (size_t)(t - s);
	pf->name_len = (size_t)(q - t);
	pf->text_off = (size_t)(skip_blanks(q + 1, e) - s);
	return true;
}

/* Strip CR and trailing blanks, quote markers ("> ", ">> ") and leading blanks. */
static void strip_line(const char **pp, const char **pe)
{
	const char *p = *pp, *e = *pe;

	while (e > p && (e[-1] == '\r' || is_blank(e[-1])))
		e--;
	while (p < e && *p == '>') {
		p++;
		if (p < e && *p == ' ')
			p++;
	}
	*pp = skip_blanks(p, e);
	*pe = e;
}

static bool is_header(const char *p, const char *e)
{
	return *p == '#' || has_prefix(p, e, "cpus=") || has_prefix(p, e, "version =") ||
	       has_prefix(p, e, "CPU:") || has_prefix(p, e, "CPU ");
}

/* Read and classify the lookahead line (r->la). */
static void read_lookahead(struct ih_trace_reader *r)
{
	const char *line = NULL, *p, *e;
	size_t len = 0;
	int ret;

	r->la_valid = true;
	r->la_err = 0;
	ret = next_phys_line(r, &line, &len);
	r->la_line = r->stats.lines;
	if (ret == 0) {
		r->la_kind = LA_EOF;
		return;
	}
	if (ret < 0) {
		r->la_kind = LA_BAD;
		r->la_err = ret;
		return;
	}
	if (memchr(line, '\0', len)) {
		r->la_kind = LA_BAD;
		r->la_err = -EINVAL;
		return;
	}
	p = line;
	e = line + len;
	strip_line(&p, &e);
	r->la_p = p;
	r->la_len = (size_t)(e - p);
	if (p == e || is_header(p, e))
		r->la_kind = LA_SKIP;
	else if (parse_prefix(p, e, &r->la_pf))
		r->la_kind = LA_RECORD;
	else
		r->la_kind = LA_CONT;
}

/* ---- event text ------------------------------------------------------------------------- */

struct cur {
	const char *p, *e;
};

static bool cur_lit(struct cur *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->e - c->p) < n || memcmp(c->p, lit, n))
		return false;
	c->p += n;
	return true;
}

/* A number ends at a blank or at the end of the text. */
static bool at_end_of_token(const struct cur *c)
{
	return c->p == c->e || is_blank(*c->p);
}

static int copy_name(char *dst, const char *p, const char *e)
{
	size_t n = (size_t)(e - p);

	if (n >= IH_TRACE_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* "key=" then a hex or decimal number ending a token. */
static int key_num(struct ih_trace_reader *r, struct cur *c, const char *key, bool hex, u64 *v)
{
	int ret;

	c->p = skip_blanks(c->p, c->e);
	if (!cur_lit(c, key))
		return set_err(r, -EINVAL, r->rec_line, "%s: expected '%s'", r->ev_name, key);
	ret = hex ? ih_trace_parse_hex(&c->p, c->e, v) : ih_trace_parse_dec(&c->p, c->e, v);
	if (ret == -ERANGE)
		return set_err(r, -EINVAL, r->rec_line, "%s: %s value over 64 bits", r->ev_name,
			       key);
	if (ret || !at_end_of_token(c))
		return set_err(r, -EINVAL, r->rec_line, "%s: bad number after '%s'", r->ev_name,
			       key);
	return 0;
}

static int expect_end(struct ih_trace_reader *r, struct cur *c)
{
	c->p = skip_blanks(c->p, c->e);
	if (c->p != c->e)
		return set_err(r, -EINVAL, r->rec_line, "%s: unexpected text '%.20s'", r->ev_name,
			       c->p);
	return 0;
}

static int range_end(struct ih_trace_reader *r, struct ih_trace_event *ev, bool printed_end,
		     u64 end)
{
	if (ev->iova + ev->size < ev->iova)
		return set_err(r, -EINVAL, r->rec_line, "%s: iova 0x%llx + size 0x%llx wraps",
			       r->ev_name, (unsigned long long)ev->iova,
			       (unsigned long long)ev->size);
	if (printed_end && end != ev->iova + ev->size)
		return set_err(r, -EINVAL, r->rec_line,
			       "%s: end 0x%llx is not iova 0x%llx + size 0x%llx", r->ev_name,
			       (unsigned long long)end, (unsigned long long)ev->iova,
			       (unsigned long long)ev->size);
	ev->iova_end = ev->iova + ev->size;
	return 0;
}

/* map and unmap: "IOMMU: iova=0x.. [- 0x..] paddr=0x.. size=N" / "... size=N unmapped_size=N" */
static int parse_map_unmap(struct ih_trace_reader *r, struct cur *c, struct ih_trace_event *ev,
			   bool unmap)
{
	bool printed_end = false;
	u64 end = 0;
	int ret;

	if (!cur_lit(c, "IOMMU:"))
		return set_err(r, -EINVAL, r->rec_line, "%s: expected 'IOMMU:'", r->ev_name);
	ret = key_num(r, c, "iova=", true, &ev->iova);
	if (ret)
		return ret;
	c->p = skip_blanks(c->p, c->e);
	if (c->p < c->e && *c->p == '-') {
		c->p = skip_blanks(c->p + 1, c->e);
		ret = ih_trace_parse_hex(&c->p, c->e, &end);
		if (ret || !at_end_of_token(c))
			return set_err(r, -EINVAL, r->rec_line, "%s: bad end of range", r->ev_name);
		printed_end = true;
	}
	if (!unmap) {
		ret = key_num(r, c, "paddr=", true, &ev->paddr);
		if (ret)
			return ret;
	}
	ret = key_num(r, c, "size=", false, &ev->size);
	if (ret)
		return ret;
	if (unmap) {
		ret = key_num(r, c, "unmapped_size=", false, &ev->unmapped_size);
		if (ret)
			return ret;
	}
	ret = expect_end(r, c);
	if (ret)
		return ret;
	return range_end(r, ev, printed_end, end);
}

/* The next blank-delimited token of the text. */
static bool cur_token(struct cur *c, const char **t, const char **te)
{
	c->p = skip_blanks(c->p, c->e);
	*t = c->p;
	while (c->p < c->e && !is_blank(*c->p))
		c->p++;
	*te = c->p;
	return *te > *t;
}

static int name_field(struct ih_trace_reader *r, char *dst, const char *t, const char *te,
		      const char *what)
{
	if (copy_name(dst, t, te))
		return set_err(r, -EINVAL, r->rec_line, "%s: %s name longer than %d bytes",
			       r->ev_name, what, IH_TRACE_NAME_MAX - 1);
	return 0;
}

/* io_page_fault: "IOMMU:<driver> <device> iova=0x.. flags=0x.." (driver may be empty) */
static int parse_fault(struct ih_trace_reader *r, struct cur *c, struct ih_trace_event *ev)
{
	const char *t, *te;
	u64 flags;
	int ret;

	if (!cur_lit(c, "IOMMU:"))
		return set_err(r, -EINVAL, r->rec_line, "%s: expected 'IOMMU:'", r->ev_name);
	t = c->p;
	while (c->p < c->e && !is_blank(*c->p))
		c->p++;
	ret = name_field(r, ev->driver, t, c->p, "driver");
	if (ret)
		return ret;
	if (!cur_token(c, &t, &te) || has_prefix(t, te, "iova="))
		return set_err(r, -EINVAL, r->rec_line, "%s: missing device", r->ev_name);
	ret = name_field(r, ev->device, t, te, "device");
	if (ret)
		return ret;
	ret = key_num(r, c, "iova=", true, &ev->iova);
	if (ret)
		return ret;
	ret = key_num(r, c, "flags=", true, &flags);
	if (ret)
		return ret;
	if (flags > U32_MAX)
		return set_err(r, -EINVAL, r->rec_line, "%s: flags over 32 bits", r->ev_name);
	ev->flags = (u32)flags;
	ev->iova_end = ev->iova;
	return expect_end(r, c);
}

/* attach: "IOMMU: device=%s"; groups: "IOMMU: groupID=%d device=%s" */
static int parse_iommu_device(struct ih_trace_reader *r, struct cur *c, struct ih_trace_event *ev,
			      bool group)
{
	const char *t, *te;
	int ret;

	if (!cur_lit(c, "IOMMU:"))
		return set_err(r, -EINVAL, r->rec_line, "%s: expected 'IOMMU:'", r->ev_name);
	if (group) {
		bool neg;
		u64 v;

		c->p = skip_blanks(c->p, c->e);
		if (!cur_lit(c, "groupID="))
			return set_err(r, -EINVAL, r->rec_line, "%s: expected 'groupID='",
				       r->ev_name);
		neg = cur_lit(c, "-");
		ret = ih_trace_parse_dec(&c->p, c->e, &v);
		if (ret || !at_end_of_token(c) || v > (neg ? 0x80000000ull : 0x7fffffffull))
			return set_err(r, -EINVAL, r->rec_line, "%s: bad group number",
				       r->ev_name);
		ev->group_id = neg ? (int)(-(long long)v) : (int)v;
	}
	c->p = skip_blanks(c->p, c->e);
	if (!cur_lit(c, "device="))
		return set_err(r, -EINVAL, r->rec_line, "%s: expected 'device='", r->ev_name);
	t = c->p;
	while (c->p < c->e && !is_blank(*c->p))
		c->p++;
	te = c->p;
	if (te == t)
		return set_err(r, -EINVAL, r->rec_line, "%s: empty device name", r->ev_name);
	ret = name_field(r, ev->device, t, te, "device");
	if (ret)
		return ret;
	return expect_end(r, c);
}

/* "{0x1,0x2}" into @out (at most IH_TRACE_MAX_SEGS): element count or negative. */
static int parse_array(const char *t, const char *te, u64 *out)
{
	const char *p = t;
	int n = 0;

	if (p >= te || *p != '{' || te[-1] != '}')
		return -EINVAL;
	p++;
	te--;
	if (p == te)
		return 0;
	for (;;) {
		int ret = (te - p >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x')
				  ? ih_trace_parse_hex(&p, te, &out[n])
				  : ih_trace_parse_dec(&p, te, &out[n]);

		if (ret)
			return ret;
		if (++n > IH_TRACE_MAX_SEGS)
			return -E2BIG;
		if (p == te)
			return n;
		if (*p != ',' || ++p == te)
			return -EINVAL;
	}
}

static int parse_attrs(const char *t, const char *te, u32 *flags)
{
	while (t < te) {
		const char *n = memchr(t, '|', (size_t)(te - t));
		const char *ne = n ? n : te;
		u64 v;

		if (ne - t > 2 && t[0] == '0' && (t[1] | 0x20) == 'x') {
			const char *q = t;

			if (ih_trace_parse_hex(&q, ne, &v) || q != ne || v > U32_MAX)
				return -EINVAL;
			*flags |= (u32)v;
		} else {
			for (size_t i = 0; i < sizeof(dma_attr_names) / sizeof(dma_attr_names[0]);
			     i++) {
				size_t l = strlen(dma_attr_names[i].name);

				if ((size_t)(ne - t) == l && !memcmp(t, dma_attr_names[i].name, l))
					*flags |= 1u << dma_attr_names[i].bit;
			}
			/* Names this table lacks (newer kernels) are ignored, not an error. */
		}
		t = n ? n + 1 : te;
	}
	return 0;
}

static int parse_dir(const char *t, const char *te, enum ih_trace_dir *dir)
{
	static const struct {
		const char *s;
		enum ih_trace_dir d;
	} dirs[] = {
		{ "BIDIRECTIONAL", IH_TRACE_DIR_BIDIRECTIONAL },
		{ "TO_DEVICE", IH_TRACE_DIR_TO_DEVICE },
		{ "FROM_DEVICE", IH_TRACE_DIR_FROM_DEVICE },
		{ "NONE", IH_TRACE_DIR_NONE },
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		size_t l = strlen(dirs[i].s);

		if ((size_t)(te - t) == l && !memcmp(t, dirs[i].s, l)) {
			*dir = dirs[i].d;
			return 0;
		}
	}
	return -EINVAL;
}

enum {
	HAVE_DMA_ADDR = 1,
	HAVE_SIZE = 2,
	HAVE_PHYS = 4,
	HAVE_DMA_ADDRS = 8,
	HAVE_SIZES = 16,
	HAVE_PHYS_ADDRS = 32,
};

/* One number value of a dma: key, which must fill the token. */
static int dma_value(const char *v, const char *te, bool hex, u64 *out)
{
	int ret = hex ? ih_trace_parse_hex(&v, te, out) : ih_trace_parse_dec(&v, te, out);

	if (ret)
		return ret;
	return v == te ? 0 : -EINVAL;
}

/*
 * dma_map_sg: give each of the @n_dma DMA segments the physical entries it covers, in
 * order (see struct ih_trace_event). The physical entries' lengths are not printed, so a
 * merged segment is assumed to span at most the 4 KiB pages its size covers, and an entry
 * with a page offset cannot have been merged onto the one before it.
 */
static void share_phys(struct ih_trace_reader *r, int n_dma, int n_phys)
{
	int k = 0;

	for (int j = 0; j < n_dma && k < n_phys; j++) {
		struct trace_seg *s = &r->segs[j];
		int left_after = n_dma - j - 1; /* segments after this one that want an entry */
		int cnt = 1;

		if (n_phys == n_dma) {
			cnt = 1;
		} else if (!left_after) {
			cnt = n_phys - k;
		} else {
			u64 off = r->a_phys[k] & (SZ_4K - 1);
			/* pages spanned, computed without overflow for sizes near 2^64 */
			u64 pages = s->size / SZ_4K + (off + s->size % SZ_4K + SZ_4K - 1) / SZ_4K;

			while ((u64)cnt < pages && k + cnt < n_phys - left_after &&
			       !(r->a_phys[k + cnt] & (SZ_4K - 1)))
				cnt++;
		}
		s->paddr = r->a_phys[k];
		s->paddr_last = r->a_phys[k + cnt - 1];
		s->phys_count = (unsigned int)cnt;
		k += cnt;
	}
}

/*
 * dma: events: "<device> key=value ..." in any order; values hold no blanks. Unknown keys
 * (virt_addr=, flags=, nents=, future ones) are ignored; a token that is not key=value is
 * an error except the kernel's " [TRUNCATED]" marker of long scatterlists.
 */
static int parse_dma(struct ih_trace_reader *r, struct cur *c, struct ih_trace_event *ev)
{
	const char *t, *te, *eq;
	unsigned int have = 0;
	int ret, n_dma = 0, n_sizes = 0, n_phys = 0;

	if (!cur_token(c, &t, &te))
		return set_err(r, -EINVAL, r->rec_line, "%s: missing device", r->ev_name);
	if (memchr(t, '=', (size_t)(te - t)))
		return set_err(r, -EINVAL, r->rec_line, "%s: missing device before '%.*s'",
			       r->ev_name, (int)(te - t > 20 ? 20 : te - t), t);
	ret = name_field(r, ev->device, t, te, "device");
	if (ret)
		return ret;
	while (cur_token(c, &t, &te)) {
		size_t kl;
		u64 *dst = NULL;
		unsigned int bit = 0;
		bool hex = true;

		eq = memchr(t, '=', (size_t)(te - t));
		if (!eq) {
			if (te - t == 11 && !memcmp(t, "[TRUNCATED]", 11))
				continue;
			return set_err(r, -EINVAL, r->rec_line, "%s: unexpected '%.*s'",
				       r->ev_name, (int)(te - t > 20 ? 20 : te - t), t);
		}
		kl = (size_t)(eq - t);
		eq++;
#define KEY(k) (kl == sizeof(k) - 1 && !memcmp(t, k, kl))
		if (KEY("dir")) {
			if (parse_dir(eq, te, &ev->dir))
				return set_err(r, -EINVAL, r->rec_line, "%s: unknown dir '%.*s'",
					       r->ev_name, (int)(te - eq > 20 ? 20 : te - eq), eq);
			continue;
		} else if (KEY("attrs")) {
			if (parse_attrs(eq, te, &ev->flags))
				return set_err(r, -EINVAL, r->rec_line, "%s: bad attrs", r->ev_name);
			continue;
		} else if (KEY("dma_addr")) {
			dst = &ev->iova;
			bit = HAVE_DMA_ADDR;
		} else if (KEY("size")) {
			dst = &ev->size;
			bit = HAVE_SIZE;
			hex = false;
		} else if (KEY("phys_addr")) {
			dst = &ev->paddr;
			bit = HAVE_PHYS;
		} else if (KEY("dma_addrs") || KEY("sizes") || KEY("phys_addrs")) {
			u64 *arr = KEY("dma_addrs") ? r->a_dma : KEY("sizes") ? r->a_size : r->a_phys;
			int *cnt = KEY("dma_addrs") ? &n_dma : KEY("sizes") ? &n_sizes : &n_phys;

			bit = KEY("dma_addrs") ? HAVE_DMA_ADDRS
			      : KEY("sizes")   ? HAVE_SIZES
					       : HAVE_PHYS_ADDRS;
			ret = parse_array(eq, te, arr);
			if (ret < 0)
				return set_err(r, -EINVAL, r->rec_line, "%s: bad array '%.*s'",
					       r->ev_name, (int)kl, t);
			*cnt = ret;
			have |= bit;
			continue;
		} else {
			continue; /* virt_addr=, flags=, nents=, ents=, err=, ... */
		}
#undef KEY
		if (dma_value(eq, te, hex, dst))
			return set_err(r, -EINVAL, r->rec_line, "%s: bad number in '%.*s'",
				       r->ev_name, (int)(te - t > 30 ? 30 : te - t), t);
		have |= bit;
	}

	if (ev->kind == IH_TRACE_DMA_MAP_SG || ev->kind == IH_TRACE_DMA_UNMAP_SG) {
		bool by_dma = have & HAVE_DMA_ADDRS;
		int n = by_dma ? n_dma : n_phys;

		if (!(have & (HAVE_DMA_ADDRS | HAVE_PHYS_ADDRS)) ||
		    (ev->kind == IH_TRACE_DMA_MAP_SG && !by_dma))
			return set_err(r, -EINVAL, r->rec_line, "%s: missing address array",
				       r->ev_name);
		if (by_dma && n_sizes != n_dma)
			return set_err(r, -EINVAL, r->rec_line,
				       "%s: %d dma_addrs but %d sizes", r->ev_name, n_dma, n_sizes);
		for (int i = 0; i < n; i++) {
			struct trace_seg *s = &r->segs[i];

			s->iova = by_dma ? r->a_dma[i] : 0;
			s->size = by_dma ? r->a_size[i] : 0;
			s->paddr = by_dma ? 0 : r->a_phys[i];
			s->paddr_last = s->paddr;
			s->phys_count = by_dma ? 0 : 1;
			if (s->iova + s->size < s->iova)
				return set_err(r, -EINVAL, r->rec_line,
					       "%s: segment %d: iova 0x%llx + size wraps", r->ev_name,
					       i, (unsigned long long)s->iova);
		}
		if (by_dma)
			share_phys(r, n_dma, n_phys);
		r->q_count = (unsigned int)n;
		r->q_next = 0;
		return 0;
	}
	if ((have & (HAVE_DMA_ADDR | HAVE_SIZE)) != (HAVE_DMA_ADDR | HAVE_SIZE))
		return set_err(r, -EINVAL, r->rec_line, "%s: missing dma_addr= or size=",
			       r->ev_name);
	/* A failed map prints DMA_MAPPING_ERROR (~0): keep it, end saturates. */
	ev->iova_end = ev->iova + ev->size < ev->iova ? U64_MAX : ev->iova + ev->size;
	return 0;
}

/* ---- records ---------------------------------------------------------------------------- */

static int lookup_event(const char *name, size_t len, unsigned int *kind, unsigned int *cls)
{
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++) {
		if (event_names[i].len == len && !memcmp(event_names[i].name, name, len)) {
			*kind = event_names[i].kind;
			*cls = event_names[i].cls;
			return 0;
		}
	}
	return -ENOENT;
}

static void count_event(struct ih_trace_reader *r, const struct ih_trace_event *ev)
{
	r->stats.events++;
	r->stats.per_kind[ev->kind]++;
}

static void emit_segment(struct ih_trace_reader *r, struct ih_trace_event *ev)
{
	const struct trace_seg *s = &r->segs[r->q_next];

	*ev = r->q_tmpl;
	ev->iova = s->iova;
	ev->size = s->size;
	ev->iova_end = s->iova + s->size;
	ev->paddr = s->paddr;
	ev->paddr_last = s->paddr_last;
	ev->phys_count = s->phys_count;
	ev->seg = r->q_next;
	ev->nsegs = r->q_count;
	r->q_next++;
	count_event(r, ev);
}

/* Parse the pending record: 1 with @ev, 0 for an unknown event (or no segment), <0 error. */
static int process_record(struct ih_trace_reader *r, struct ih_trace_event *ev)
{
	const struct trace_prefix *pf = &r->rec_pf;
	const char *name;
	unsigned int kind, cls;
	struct cur c;
	size_t n;
	int ret;

	if (r->rec_overlong)
		return set_err(r, -E2BIG, r->rec_line, "record longer than %d bytes",
			       IH_TRACE_MAX_RECORD);
	/*
	 * A first line that ended at the timestamp: the joined lines may carry the event name,
	 * so find the fields again on the whole record (no name there: an unknown record).
	 */
	if (!pf->name_len && r->rec_joined &&
	    !parse_prefix(r->rec, r->rec + r->rec_len, &r->rec_pf))
		r->rec_pf.name_len = 0;
	name = r->rec + pf->name_off;
	if (!pf->name_len || lookup_event(name, pf->name_len, &kind, &cls)) {
		r->stats.unknown++;
		return 0;
	}
	n = pf->name_len < sizeof(r->ev_name) - 1 ? pf->name_len : sizeof(r->ev_name) - 1;
	memcpy(r->ev_name, name, n);
	r->ev_name[n] = '\0';
	if (pf->bad)
		return set_err(r, -EINVAL, r->rec_line, "%s", pf->bad);

	memset(ev, 0, sizeof(*ev));
	ev->kind = (enum ih_trace_kind)kind;
	ev->line = r->rec_line;
	ev->ts_ns = pf->ts_ns;
	ev->cpu = pf->cpu;
	ev->pid = pf->pid;
	ev->group_id = -1;
	ev->dir = IH_TRACE_DIR_NONE;
	n = pf->comm_len < IH_TRACE_NAME_MAX - 1 ? pf->comm_len : IH_TRACE_NAME_MAX - 1;
	memcpy(ev->comm, r->rec, n);
	ev->comm[n] = '\0';

	/* skip_blanks: a wrap right after "event:" leaves the joining blank first */
	c.e = r->rec + r->rec_len;
	c.p = skip_blanks(r->rec + pf->text_off, c.e);
	switch (cls) {
	case CLASS_IOMMU_MAP:
		ret = parse_map_unmap(r, &c, ev, false);
		break;
	case CLASS_IOMMU_UNMAP:
		ret = parse_map_unmap(r, &c, ev, true);
		break;
	case CLASS_IOMMU_FAULT:
		ret = parse_fault(r, &c, ev);
		break;
	case CLASS_IOMMU_DEVICE:
		ret = parse_iommu_device(r, &c, ev, false);
		break;
	case CLASS_IOMMU_GROUP:
		ret = parse_iommu_device(r, &c, ev, true);
		break;
	default:
		ret = parse_dma(r, &c, ev);
		break;
	}
	if (ret)
		return ret;
	if (kind == IH_TRACE_DMA_MAP_SG || kind == IH_TRACE_DMA_UNMAP_SG) {
		if (!r->q_count)
			return 0;
		r->q_tmpl = *ev;
		emit_segment(r, ev);
		return 1;
	}
	count_event(r, ev);
	return 1;
}

int ih_trace_next(struct ih_trace_reader *r, struct ih_trace_event *ev)
{
	if (r->q_next < r->q_count) {
		emit_segment(r, ev);
		return 1;
	}
	r->q_count = r->q_next = 0;

	for (;;) {
		int ret;

		if (!r->la_valid)
			read_lookahead(r);

		if (r->rec_pending) {
			if (r->la_kind == LA_CONT) {
				/* A wrapped line: glue it back with one blank. */
				r->la_valid = false;
				r->stats.joined++;
				r->rec_joined = true;
				if (!r->rec_overlong && r->rec_len + 1 + r->la_len <= IH_TRACE_MAX_RECORD) {
					r->rec[r->rec_len++] = ' ';
					memcpy(r->rec + r->rec_len, r->la_p, r->la_len);
					r->rec_len += r->la_len;
				} else {
					r->rec_overlong = true;
				}
				continue;
			}
			/* Anything else ends the record; the lookahead waits for the next round. */
			r->rec_pending = false;
			ret = process_record(r, ev);
			if (ret)
				return ret;
			continue;
		}

		switch (r->la_kind) {
		case LA_EOF:
			return 0; /* the lookahead stays: EOF is sticky */
		case LA_SKIP:
		case LA_CONT:
			r->stats.skipped++;
			r->la_valid = false;
			continue;
		case LA_BAD:
			r->la_valid = false;
			r->stats.rejected++;
			if (r->la_err == -E2BIG)
				return set_err(r, -E2BIG, r->la_line, "line longer than %d bytes",
					       IH_TRACE_MAX_RECORD);
			if (r->la_err == -EIO) {
				r->src_eof = true;
				r->chunk_len = r->chunk_pos = 0;
				return set_err(r, -EIO, r->la_line, "read error");
			}
			return set_err(r, -EINVAL, r->la_line, "NUL byte in line");
		case LA_RECORD:
			r->la_valid = false;
			r->stats.records++;
			memcpy(r->rec, r->la_p, r->la_len);
			r->rec_len = r->la_len;
			r->rec_pf = r->la_pf;
			r->rec_line = r->la_line;
			r->rec_overlong = false;
			r->rec_joined = false;
			r->rec_pending = true;
			continue;
		}
	}
}

const char *ih_trace_error(const struct ih_trace_reader *r)
{
	return r->err;
}

u64 ih_trace_error_line(const struct ih_trace_reader *r)
{
	return r->err_line;
}

void ih_trace_get_stats(const struct ih_trace_reader *r, struct ih_trace_stats *st)
{
	*st = r->stats;
}
