/* SPDX-License-Identifier: MIT */
/*
 * printf.c - a freestanding snprintf: %d %i %u %x %X %o %c %s %p %%, flags
 * - 0 + space #, width and precision (also *), lengths hh h l ll z j t.
 * No floating point (the guest has no vector registers).  It builds on the
 * host too: tests/unit/guest/test_printf.c compares it with glibc.
 */
#include "defs.h"

#define F_LEFT 0x01  /* '-': pad on the right */
#define F_ZERO 0x02  /* '0': pad numbers with zeros */
#define F_PLUS 0x04  /* '+': sign of positive numbers */
#define F_SPACE 0x08 /* ' ': a space where the sign would be */
#define F_ALT 0x10   /* '#': 0x for hex, a leading 0 for octal */

#define FMT_MAX_WIDTH 100000 /* bigger widths/precisions are clamped */

enum fmt_len { L_INT, L_HH, L_H, L_L, L_LL, L_Z, L_J, L_T };

/* Where the output goes: buf[0..size), and how much was asked for. */
struct fmt_out {
	char *buf;   /* destination */
	size_t size; /* its size, NUL included */
	size_t len;  /* characters produced so far, stored or not */
};

/* One conversion specification. */
struct fmt_spec {
	unsigned int flags; /* F_* */
	int width;          /* minimum field width, 0 if none */
	int prec;           /* precision, -1 if none */
	enum fmt_len len;   /* length modifier */
	char conv;          /* conversion character */
};

static void out_char(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_repeat(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

static void out_str(struct fmt_out *o, const char *s, size_t n)
{
	while (n--)
		out_char(o, *s++);
}

/* Digits of a width or precision, clamped so that nothing overflows. */
static int parse_num(const char **f)
{
	int n = 0;

	while (**f >= '0' && **f <= '9') {
		if (n < FMT_MAX_WIDTH)
			n = n * 10 + (**f - '0');
		(*f)++;
	}
	return n > FMT_MAX_WIDTH ? FMT_MAX_WIDTH : n;
}

static int clamp_arg(int v)
{
	return v > FMT_MAX_WIDTH ? FMT_MAX_WIDTH : v;
}

/* Flags, width, precision and length of the spec at *f (after the '%'). */
static void parse_spec(const char **f, struct fmt_spec *s, va_list *ap)
{
	*s = (struct fmt_spec){ .prec = -1 };
	for (;; (*f)++) {
		switch (**f) {
		case '-': s->flags |= F_LEFT; continue;
		case '0': s->flags |= F_ZERO; continue;
		case '+': s->flags |= F_PLUS; continue;
		case ' ': s->flags |= F_SPACE; continue;
		case '#': s->flags |= F_ALT; continue;
		}
		break;
	}
	if (**f == '*') {
		int w = va_arg(*ap, int);

		(*f)++;
		if (w < 0) {
			s->flags |= F_LEFT;
			w = w < -FMT_MAX_WIDTH ? FMT_MAX_WIDTH : -w;
		}
		s->width = clamp_arg(w);
	} else {
		s->width = parse_num(f);
	}
	if (**f == '.') {
		(*f)++;
		if (**f == '*') {
			int p = va_arg(*ap, int);

			(*f)++;
			s->prec = p < 0 ? -1 : clamp_arg(p);
		} else {
			s->prec = parse_num(f);
		}
	}
	switch (**f) {
	case 'h':
		s->len = (*f)[1] == 'h' ? L_HH : L_H;
		*f += s->len == L_HH ? 2 : 1;
		break;
	case 'l':
		s->len = (*f)[1] == 'l' ? L_LL : L_L;
		*f += s->len == L_LL ? 2 : 1;
		break;
	case 'z': s->len = L_Z; (*f)++; break;
	case 'j': s->len = L_J; (*f)++; break;
	case 't': s->len = L_T; (*f)++; break;
	}
	s->conv = **f;
}

static uint64_t arg_unsigned(va_list *ap, enum fmt_len len)
{
	switch (len) {
	case L_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case L_H: return (unsigned short)va_arg(*ap, unsigned int);
	case L_L: return va_arg(*ap, unsigned long);
	case L_LL: return va_arg(*ap, unsigned long long);
	case L_Z: return va_arg(*ap, size_t);
	case L_J: return va_arg(*ap, uintmax_t);
	case L_T: return (uint64_t)va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, unsigned int);
	}
}

static int64_t arg_signed(va_list *ap, enum fmt_len len)
{
	switch (len) {
	case L_HH: return (signed char)va_arg(*ap, int);
	case L_H: return (short)va_arg(*ap, int);
	case L_L: return va_arg(*ap, long);
	case L_LL: return va_arg(*ap, long long);
	case L_Z: return (int64_t)va_arg(*ap, size_t); /* the signed size_t */
	case L_J: return va_arg(*ap, intmax_t);
	case L_T: return va_arg(*ap, ptrdiff_t);
	default: return va_arg(*ap, int);
	}
}

/* A number: [pad][sign or 0x][zeros]digits[pad]. */
static void fmt_number(struct fmt_out *o, const struct fmt_spec *s, uint64_t v, bool neg)
{
	static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
	const char *digit = s->conv == 'X' ? upper : lower;
	unsigned int base = s->conv == 'o' ? 8 : (s->conv == 'x' || s->conv == 'X') ? 16 : 10;
	char digits[24], prefix[3] = "";
	int nd = 0, np = 0, zeros, pad;
	bool zero = v == 0, sign = s->conv == 'd' || s->conv == 'i';

	if (!(zero && s->prec == 0))
		do {
			digits[nd++] = digit[v % base];
			v /= base;
		} while (v);
	if (neg || (sign && s->flags & (F_PLUS | F_SPACE)))
		prefix[np++] = neg ? '-' : (s->flags & F_PLUS) ? '+' : ' ';
	else if (base == 16 && s->flags & F_ALT && !zero) {
		prefix[np++] = '0';
		prefix[np++] = s->conv;
	}
	zeros = s->prec > nd ? s->prec - nd : 0;
	if (base == 8 && s->flags & F_ALT && zeros == 0 && (nd == 0 || digits[nd - 1] != '0'))
		zeros = 1;
	pad = s->width - np - zeros - nd;
	if ((s->flags & (F_ZERO | F_LEFT)) == F_ZERO && s->prec < 0 && pad > 0) {
		zeros += pad;
		pad = 0;
	}
	if (!(s->flags & F_LEFT))
		out_repeat(o, ' ', pad);
	out_str(o, prefix, (size_t)np);
	out_repeat(o, '0', zeros);
	while (nd)
		out_char(o, digits[--nd]);
	if (s->flags & F_LEFT)
		out_repeat(o, ' ', pad);
}

/* A string of n bytes, padded to the width. */
static void fmt_padded(struct fmt_out *o, const struct fmt_spec *s, const char *str, size_t n)
{
	int pad = s->width > (int)n ? s->width - (int)n : 0;

	if (!(s->flags & F_LEFT))
		out_repeat(o, ' ', pad);
	out_str(o, str, n);
	if (s->flags & F_LEFT)
		out_repeat(o, ' ', pad);
}

static void fmt_string(struct fmt_out *o, const struct fmt_spec *s, const char *str)
{
	size_t n = 0;

	if (!str) /* as glibc: "(null)", or nothing if the precision cuts it */
		str = s->prec < 0 || s->prec >= 6 ? "(null)" : "";
	while ((s->prec < 0 || n < (size_t)s->prec) && str[n])
		n++;
	fmt_padded(o, s, str, n);
}

static void fmt_pointer(struct fmt_out *o, struct fmt_spec *s, const void *p)
{
	if (!p) { /* as glibc */
		s->prec = -1;
		fmt_string(o, s, "(nil)");
		return;
	}
	s->flags |= F_ALT;
	s->conv = 'x';
	fmt_number(o, s, (uint64_t)(uintptr_t)p, false);
}

/* One conversion; s->conv says which. */
static void fmt_convert(struct fmt_out *o, struct fmt_spec *s, va_list *ap)
{
	int64_t v;
	char c;

	switch (s->conv) {
	case 'd':
	case 'i':
		v = arg_signed(ap, s->len);
		fmt_number(o, s, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
		break;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		fmt_number(o, s, arg_unsigned(ap, s->len), false);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		fmt_padded(o, s, &c, 1);
		break;
	case 's':
		fmt_string(o, s, va_arg(*ap, const char *));
		break;
	case 'p':
		fmt_pointer(o, s, va_arg(*ap, const void *));
		break;
	case '%':
		out_char(o, '%');
		break;
	default: /* unknown: print it as it stands */
		out_char(o, '%');
		out_char(o, s->conv);
		break;
	}
}

/*
 * Format into buf[0..size), always NUL-terminated when size > 0.  Returns
 * the length the whole output has (as snprintf: >= size means truncated).
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = size };
	struct fmt_spec s;
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			out_char(&o, *fmt++);
			continue;
		}
		fmt++;
		parse_spec(&fmt, &s, &aq);
		if (!s.conv) { /* a lone '%' at the end */
			out_char(&o, '%');
			break;
		}
		fmt++;
		fmt_convert(&o, &s, &aq);
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* A size for people: "64 MiB", "1.5 KiB", "100 B". */
int fmt_bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;
	uint64_t scale = 1;

	while (u + 1 < ARRAY_SIZE(units) && bytes >= scale * 1024) {
		scale *= 1024;
		u++;
	}
	if (bytes % scale == 0)
		return ksnprintf(buf, size, "%llu %s", (unsigned long long)(bytes / scale),
				 units[u]);
	return ksnprintf(buf, size, "%llu.%llu %s", (unsigned long long)(bytes / scale),
			 (unsigned long long)(bytes % scale * 10 / scale), units[u]);
}
