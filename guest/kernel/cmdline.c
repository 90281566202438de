/* SPDX-License-Identifier: MIT */
/*
 * cmdline.c - the kernel command line from the boot parameters: words of
 * the form key or key=value (value may be "double quoted"), looked up by
 * key.  The last word with a key wins.
 */
#include "defs.h"

#define CMDLINE_MAX_ARGS 32 /* more words are ignored (and logged) */

/* One key[=value] word. */
struct cmdline_arg {
	const char *key;   /* points into cmdline.words */
	const char *value; /* "" for a bare key */
};

static struct {
	char raw[COOP_CMDLINE_MAX];   /* the line as the host gave it */
	char words[COOP_CMDLINE_MAX]; /* a copy, cut into NUL-terminated words */
	struct cmdline_arg args[CMDLINE_MAX_ARGS]; /* the words, in order */
	unsigned int nargs;           /* valid entries in args[] */
} cmdline;

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Cut the value at *p: up to a space, or between double quotes. */
static char *cmdline_value(char **p)
{
	char *v = *p, *q = *p;

	if (*v == '"') {
		v = q = v + 1;
		while (*q && *q != '"')
			q++;
	} else {
		while (*q && !is_space(*q))
			q++;
	}
	*p = *q ? q + 1 : q;
	*q = '\0';
	return v;
}

/* Remember @raw (at most COOP_CMDLINE_MAX - 1 bytes of it) and split it. */
void cmdline_init(const char *raw)
{
	char *p = cmdline.words, *key;
	struct cmdline_arg *arg;
	size_t n = strnlen(raw, COOP_CMDLINE_MAX - 1);

	memcpy(cmdline.raw, raw, n);
	cmdline.raw[n] = '\0';
	memcpy(cmdline.words, raw, n + 1);
	cmdline.words[n] = '\0';
	cmdline.nargs = 0;
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		key = p;
		while (*p && *p != '=' && !is_space(*p))
			p++;
		if (cmdline.nargs == CMDLINE_MAX_ARGS) {
			printk("cmdline: more than %d words, ignoring the rest", CMDLINE_MAX_ARGS);
			break;
		}
		arg = &cmdline.args[cmdline.nargs++];
		arg->key = key;
		arg->value = "";
		if (*p == '=') {
			*p++ = '\0';
			arg->value = cmdline_value(&p);
		} else if (*p) {
			*p++ = '\0';
		}
	}
}

const char *cmdline_raw(void)
{
	return cmdline.raw;
}

/* The value of @key ("" if it has none), or NULL if it is not there. */
const char *cmdline_get(const char *key)
{
	unsigned int i = cmdline.nargs;

	while (i--)
		if (!strcmp(cmdline.args[i].key, key))
			return cmdline.args[i].value;
	return NULL;
}
