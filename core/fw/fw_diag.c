// SPDX-License-Identifier: MIT
/* The firmware-parser diagnostic: first error kept, warnings counted. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fw_priv.h"

void ih_fw_diag_clear(struct ih_fw_diag *d)
{
	if (!d)
		return;
	memset(d, 0, sizeof(*d));
	d->offset = -1;
}

static void fill(struct ih_fw_diag *d, long offset, const char *where, const char *prop,
		 const char *fmt, va_list ap)
{
	d->offset = offset;
	snprintf(d->where, sizeof(d->where), "%s", where ? where : "");
	snprintf(d->prop, sizeof(d->prop), "%s", prop ? prop : "");
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
}

int ih_fw_diag_set(struct ih_fw_diag *d, int err, long offset, const char *where, const char *prop,
		   const char *fmt, ...)
{
	va_list ap;

	/* Keep the first error: later ones are usually consequences of it. */
	if (!d || d->err)
		return err;
	d->err = err;
	va_start(ap, fmt);
	fill(d, offset, where, prop, fmt, ap);
	va_end(ap);
	return err;
}

void ih_fw_diag_warn(struct ih_fw_diag *d, long offset, const char *where, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	d->warnings++;
	if (d->err)
		return;
	va_start(ap, fmt);
	fill(d, offset, where, NULL, fmt, ap);
	va_end(ap);
}
