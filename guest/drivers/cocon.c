/* SPDX-License-Identifier: MIT */
/*
 * cocon.c - the console driver.  Output: COOP_COCON_WRITE (programs) and
 * COOP_COCON_LOG (printk) messages on unit 0, flushed at the end of each
 * call.  Input: COOP_COCON_INPUT bytes into a buffer, COOP_COCON_EOF, taken
 * when the host raises COOP_VEC_COCON (or after any hypercall);
 * cocon_readline() blocks its thread until a line is there, with prompt,
 * echo and editing when a person types (COOP_CON_INTERACTIVE).  The input
 * state is shared with the vIRQ handler: touched only with vif = 0.
 */
#include "defs.h"

#define COCON_UNIT 0
#define COCON_IN_MIN 4096       /* first size of the input buffer */
#define COCON_IN_MAX (1u << 20) /* it grows up to this, then input is refused */

#define CTRL_C 0x03
#define CTRL_D 0x04
#define CTRL_H 0x08
#define CTRL_U 0x15
#define ESC 0x1b
#define DEL 0x7f

/* A line being read: what cocon_readline() was given, and how far it is. */
struct cocon_line {
	char *buf;        /* the caller's buffer */
	size_t size;      /* its size, NUL included */
	size_t len;       /* bytes of the line so far */
	bool overflow;    /* the line did not fit (non-interactive) */
	const char *prompt; /* shown again after ^C */
};

static struct {
	uint32_t flags;  /* boot.console_flags: COOP_CON_* */
	uint8_t *in;     /* input bytes: in[head..tail) are not read yet */
	size_t cap;      /* size of in[] */
	size_t head;     /* next byte to read */
	size_t tail;     /* one past the last byte received */
	bool eof;        /* the host said: no more input */
	bool skip_lf;    /* the last line ended in '\r': a '\n' right after is part of it */
	int esc;         /* escape sequence state: 0 none, 1 after ESC, 2 in CSI */
	uint64_t irqs;   /* COOP_VEC_COCON handlers run */
} con;

/* COOP_VEC_COCON: the host put console messages in to_guest; take them. */
static void cocon_irq(unsigned int vector)
{
	(void)vector;
	con.irqs++;
	msg_drain(); /* cocon_receive() wakes the reader */
}

void cocon_init(uint32_t console_flags)
{
	con.flags = console_flags;
	virq_register(COOP_VEC_COCON, cocon_irq);
}

bool cocon_interactive(void)
{
	return con.flags & COOP_CON_INTERACTIVE;
}

bool cocon_exec(void)
{
	return con.flags & COOP_CON_EXEC;
}

/*
 * Send @len bytes as @type.  No "\n" -> "\r\n" here: the host leaves the
 * terminal's output processing on in raw mode.
 */
static void cocon_send(uint16_t type, const char *buf, size_t len)
{
	msg_send(COOP_DEV_COCON, COCON_UNIT, type, buf, len);
}

/* Program output; it reaches the host before this returns. */
int cocon_write(const char *buf, size_t len)
{
	cocon_send(COOP_COCON_WRITE, buf, len);
	return msg_flush();
}

/* A kernel log line; it reaches the host before this returns. */
int cocon_log(const char *buf, size_t len)
{
	cocon_send(COOP_COCON_LOG, buf, len);
	return msg_flush();
}

static void cocon_puts(const char *s)
{
	cocon_send(COOP_COCON_WRITE, s, strlen(s));
}

/* Room for @n more input bytes: compact, then grow up to COCON_IN_MAX. */
static int cocon_reserve(size_t n)
{
	size_t used = con.tail - con.head, cap;
	uint8_t *in;

	if (n <= con.cap - con.tail)
		return 0;
	memmove(con.in, con.in + con.head, used);
	con.head = 0;
	con.tail = used;
	if (n <= con.cap - used)
		return 0;
	for (cap = con.cap ? con.cap : COCON_IN_MIN; cap - used < n; cap *= 2)
		if (cap >= COCON_IN_MAX)
			return -ENOSPC;
	if (!(in = kalloc(cap)))
		return -ENOMEM;
	memcpy(in, con.in, used);
	kfree(con.in);
	con.in = in;
	con.cap = cap;
	return 0;
}

/* A message from the host's console (msg.c calls this while draining, vif = 0). */
int cocon_receive(const struct coop_msg_hdr *hdr, const void *payload)
{
	int err;

	if (hdr->unit != COCON_UNIT)
		return -EINVAL;
	switch (hdr->type) {
	case COOP_COCON_INPUT:
		if ((err = cocon_reserve(hdr->length)))
			return err;
		memcpy(con.in + con.tail, payload, hdr->length);
		con.tail += hdr->length;
		wakeup(&con);
		return 0;
	case COOP_COCON_EOF:
		con.eof = true;
		wakeup(&con);
		return 0;
	default:
		return -EPROTO;
	}
}

/* Add @c to a scripted line; past its end the line is marked as too long. */
static void line_add(struct cocon_line *l, char c)
{
	if (l->len + 1 >= l->size)
		l->overflow = true;
	else
		l->buf[l->len++] = c;
}

/* Erase the last character (all bytes of a UTF-8 sequence) on the screen. */
static void line_rubout(struct cocon_line *l)
{
	if (!l->len)
		return;
	while (l->len > 1 && ((unsigned char)l->buf[l->len - 1] & 0xc0) == 0x80)
		l->len--;
	l->len--;
	cocon_puts("\b \b");
}

/* Swallow escape sequences (arrow keys and the like): true if @c was one. */
static bool line_escape(unsigned char c)
{
	if (c == ESC) {
		con.esc = 1;
		return true;
	}
	if (con.esc == 1) {
		con.esc = (c == '[' || c == 'O') ? 2 : 0;
		return true;
	}
	if (con.esc == 2) {
		if (c >= 0x40 && c <= 0x7e)
			con.esc = 0;
		return true;
	}
	return false;
}

/* Results of feeding one byte to a line. */
enum { LINE_MORE, LINE_DONE, LINE_EOF };

/* One typed byte: echo, edit, finish. */
static int line_edit(struct cocon_line *l, unsigned char c)
{
	if (line_escape(c))
		return LINE_MORE;
	switch (c) {
	case '\r':
	case '\n':
		cocon_puts("\n");
		return LINE_DONE;
	case DEL:
	case CTRL_H:
		line_rubout(l);
		return LINE_MORE;
	case CTRL_U:
		while (l->len)
			line_rubout(l);
		return LINE_MORE;
	case CTRL_C:
		l->len = 0;
		cocon_puts("^C\n");
		cocon_puts(l->prompt);
		return LINE_MORE;
	case CTRL_D:
		if (l->len)
			return LINE_MORE;
		cocon_puts("\n");
		return LINE_EOF;
	}
	/* Printable (UTF-8 included); a full line just stops growing. */
	if ((c >= 0x20 || c == '\t') && l->len + 1 < l->size) {
		l->buf[l->len++] = (char)c;
		cocon_send(COOP_COCON_WRITE, (const char *)&c, 1);
	}
	return LINE_MORE;
}

/* One byte of scripted input: no echo, no editing. */
static int line_plain(struct cocon_line *l, unsigned char c)
{
	if (c == '\r' || c == '\n')
		return LINE_DONE;
	line_add(l, (char)c);
	return LINE_MORE;
}

/* Feed buffered input to @l until it is complete; LINE_MORE if input ran out. */
static int line_feed(struct cocon_line *l)
{
	unsigned char c;
	int r;

	while (con.head < con.tail) {
		c = con.in[con.head++];
		if (con.skip_lf) {
			con.skip_lf = false;
			if (c == '\n')
				continue;
		}
		r = cocon_interactive() ? line_edit(l, c) : line_plain(l, c);
		if (r == LINE_DONE)
			con.skip_lf = c == '\r';
		if (r != LINE_MORE)
			return r;
	}
	return LINE_MORE;
}

/*
 * Read one line into buf[size] (without its '\r' or '\n', NUL-terminated).
 * Returns its length, COCON_EOF at the end of input, or -E2BIG if the line
 * was longer than size - 1 (it is consumed and thrown away).  While no
 * line is there, the thread blocks: cocon_receive() wakes it with input.
 *
 * The check for input and block() happen with vif = 0 and nothing in
 * between: input that arrives after the check finds us blocked and wakes
 * us.  The echo is flushed before blocking - a flush is a hypercall,
 * which may bring input, so after one we look again.
 */
int cocon_readline(const char *prompt, char *buf, size_t size)
{
	struct cocon_line l = { .buf = buf, .size = size, .prompt = prompt };
	uint32_t flags;
	int r;

	if (cocon_interactive())
		cocon_puts(prompt);
	flags = irq_save();
	for (;;) {
		r = line_feed(&l);
		if (r == LINE_MORE && con.eof && con.head == con.tail)
			r = l.len || l.overflow ? LINE_DONE : LINE_EOF;
		if (r != LINE_MORE)
			break;
		if (msg_queued())
			msg_flush();
		else
			block(&con);
	}
	irq_restore(flags);
	msg_flush();
	buf[l.len] = '\0';
	if (r == LINE_EOF)
		return COCON_EOF;
	return l.overflow ? -E2BIG : (int)l.len;
}
