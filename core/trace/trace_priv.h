/* SPDX-License-Identifier: MIT */
/* Private state of the trace reader (core/trace/parse.c) and its number helpers. */
#ifndef IH_TRACE_PRIV_H
#define IH_TRACE_PRIV_H

#include <stdbool.h>
#include <stdio.h>

#include <ih/trace.h>

/* Most elements of one printed array: "{0,0,...}" takes at least 2 bytes per element. */
#define IH_TRACE_MAX_SEGS (IH_TRACE_MAX_RECORD / 2)

/* Where the fields of a record's prefix are, as offsets from the stripped line start. */
struct trace_prefix {
	size_t comm_len;  /* comm is [0, comm_len) */
	size_t name_off;  /* event name */
	size_t name_len;
	size_t text_off;  /* event text, to the end of the record */
	u64 ts_ns;
	int cpu;
	int pid;
	const char *bad;  /* a numeric prefix field that did not fit, else NULL */
};

enum trace_la_kind {
	LA_EOF,	   /* end of input */
	LA_SKIP,   /* blank, comment or header line */
	LA_RECORD, /* starts a record */
	LA_CONT,   /* none of these: a continuation of the record before, or prose */
	LA_BAD,	   /* NUL byte, overlong line, read error (la_err) */
};

struct trace_seg {
	u64 iova;
	u64 size;
	u64 paddr;
	u64 paddr_last;
	unsigned int phys_count;
};

struct ih_trace_reader {
	/* input: memory (fp == NULL) or a FILE through a CHUNK_SIZE buffer */
	FILE *fp;
	const char *mem;
	size_t mem_len, mem_pos;
	char *chunk;
	size_t chunk_len, chunk_pos;
	bool src_eof, src_err;

	/* the lookahead physical line, classified; la_p points into mem or chunk */
	bool la_valid;
	enum trace_la_kind la_kind;
	int la_err;
	const char *la_p;
	size_t la_len;
	u64 la_line;
	struct trace_prefix la_pf;

	/* the record being assembled (wrapped lines joined) */
	bool rec_pending, rec_overlong, rec_joined;
	u64 rec_line;
	size_t rec_len;
	struct trace_prefix rec_pf;
	char rec[IH_TRACE_MAX_RECORD + 1];
	char ev_name[32];

	/* scatterlist segments queued from one dma_map_sg/dma_unmap_sg record */
	struct ih_trace_event q_tmpl;
	unsigned int q_next, q_count;
	struct trace_seg segs[IH_TRACE_MAX_SEGS];
	u64 a_dma[IH_TRACE_MAX_SEGS], a_size[IH_TRACE_MAX_SEGS], a_phys[IH_TRACE_MAX_SEGS];

	struct ih_trace_stats stats;
	u64 err_line;
	char err[160];
};

/*
 * ih_trace_parse_dec() / ih_trace_parse_hex() - an unsigned number at *@pp, stopping at the
 * first non-digit (*@pp advanced). No sign, no blank, no "0x" for decimal; hex takes an
 * optional "0x"/"0X".
 *
 * Return: 0, -EINVAL when no digit is there, -ERANGE when the value needs over 64 bits.
 */
int ih_trace_parse_dec(const char **pp, const char *e, u64 *out);
int ih_trace_parse_hex(const char **pp, const char *e, u64 *out);

#endif /* IH_TRACE_PRIV_H */
