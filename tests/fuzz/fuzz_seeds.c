/* SPDX-License-Identifier: MIT */
/*
 * fuzz_seeds.c - seed inputs the fuzzers start from that are easier
 * written by a program than committed as bytes: a small valid guest
 * kernel ELF (with a symbol table and an unwind table header) for
 * fuzz_loader, and for fuzz_router guests that use every device, with
 * and without each fault plan.  fuzz.sh runs it into the corpus it
 * copies for each run.
 * Usage: fuzz_seeds loader|router DIR
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>

#include <coop/abi.h>

#include "router_input.h"

/* ---- loader ----------------------------------------------------------- */

#define KBASE COOP_KERNEL_BASE
#define OFF_NOTE 0x400
#define OFF_TEXT 0x1000
#define TEXT_SIZE 0x200
#define OFF_EHHDR 0x1100 /* .eh_frame_hdr, inside the text segment's bytes */
#define OFF_DATA 0x2000
#define DATA_FILESZ 0x40
#define DATA_MEMSZ 0x1000
#define OFF_SYMTAB 0x2040
#define OFF_STRTAB 0x20a0
#define OFF_SHDR 0x2100
#define ELF_SIZE (OFF_SHDR + 3 * sizeof(Elf64_Shdr))

static void write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* A coop guest kernel as the loader wants one: text, data+bss, the ABI note. */
static void loader_seeds(const char *dir)
{
	static uint8_t file[ELF_SIZE];
	struct coop_note_abi abi = { .major = COOP_ABI_MAJOR, .minor = COOP_ABI_MINOR };
	Elf64_Nhdr nh = { .n_namesz = sizeof(COOP_NOTE_NAME), .n_descsz = sizeof(abi),
			  .n_type = COOP_NOTE_TYPE_ABI };
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
			     EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = KBASE + 0x10, .e_phoff = sizeof(Elf64_Ehdr), .e_shoff = OFF_SHDR,
		.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 4,
		.e_shentsize = sizeof(Elf64_Shdr), .e_shnum = 3,
	};
	size_t note_len = sizeof(nh) + ((sizeof(COOP_NOTE_NAME) + 3) & ~3u) + sizeof(abi);
	Elf64_Phdr ph[4] = {
		{ PT_LOAD, PF_R | PF_X, OFF_TEXT, KBASE, KBASE, TEXT_SIZE, TEXT_SIZE, 0x1000 },
		{ PT_LOAD, PF_R | PF_W, OFF_DATA, KBASE + 0x1000, KBASE + 0x1000, DATA_FILESZ,
		  DATA_MEMSZ, 0x1000 },
		{ PT_NOTE, PF_R, OFF_NOTE, 0, 0, note_len, note_len, 4 },
		{ PT_GNU_EH_FRAME, PF_R, OFF_EHHDR, KBASE + (OFF_EHHDR - OFF_TEXT),
		  KBASE + (OFF_EHHDR - OFF_TEXT), 20, 20, 4 },
	};
	/* version 1, eh_frame_ptr pcrel sdata4, fde_count udata4, table datarel sdata4 */
	const uint8_t ehhdr[20] = { 1, 0x1b, 0x03, 0x3b, 0, 0, 0, 0, 1, 0, 0, 0,
				    0x00, 0xef, 0xff, 0xff, 0x40, 0, 0, 0 };
	const char strtab[] = "\0kmain\0_start\0data";
	Elf64_Sym syms[4] = {
		{ 0 },
		{ .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), .st_shndx = 1,
		  .st_value = KBASE + 0x40, .st_size = 0x100 },
		{ .st_name = 7, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), .st_shndx = 1,
		  .st_value = KBASE + 0x10, .st_size = 0x30 },
		{ .st_name = 14, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT), .st_shndx = 1,
		  .st_value = KBASE + 0x1000, .st_size = 8 },
	};
	Elf64_Shdr sh[3] = {
		{ 0 },
		{ .sh_type = SHT_SYMTAB, .sh_offset = OFF_SYMTAB, .sh_size = sizeof(syms),
		  .sh_link = 2, .sh_entsize = sizeof(Elf64_Sym) },
		{ .sh_type = SHT_STRTAB, .sh_offset = OFF_STRTAB, .sh_size = sizeof(strtab) },
	};

	_Static_assert(OFF_SYMTAB + sizeof(syms) <= OFF_STRTAB, "symtab fits");
	memcpy(file, &eh, sizeof(eh));
	memcpy(file + eh.e_phoff, ph, sizeof(ph));
	memcpy(file + OFF_NOTE, &nh, sizeof(nh));
	memcpy(file + OFF_NOTE + sizeof(nh), COOP_NOTE_NAME, sizeof(COOP_NOTE_NAME));
	memcpy(file + OFF_NOTE + sizeof(nh) + ((sizeof(COOP_NOTE_NAME) + 3) & ~3u), &abi,
	       sizeof(abi));
	for (size_t i = 0; i < TEXT_SIZE; i++)
		file[OFF_TEXT + i] = 0x90; /* nop */
	memcpy(file + OFF_EHHDR, ehhdr, sizeof(ehhdr));
	for (size_t i = 0; i < DATA_FILESZ; i++)
		file[OFF_DATA + i] = (uint8_t)i;
	memcpy(file + OFF_SYMTAB, syms, sizeof(syms));
	memcpy(file + OFF_STRTAB, strtab, sizeof(strtab));
	memcpy(file + OFF_SHDR, sh, sizeof(sh));
	write_file(dir, "small.elf", file, sizeof(file));
	/* The same without section headers: what a stripped kernel looks like. */
	((Elf64_Ehdr *)file)->e_shoff = 0;
	((Elf64_Ehdr *)file)->e_shnum = 0;
	write_file(dir, "small-nosections.elf", file, OFF_SYMTAB);
}

/* ---- router ----------------------------------------------------------- */

struct out {
	uint8_t b[32768];
	size_t n;
};

static void put(struct out *o, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes && o->n < sizeof(o->b); i++)
		o->b[o->n++] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct out *o, const void *p, size_t len)
{
	if (len > sizeof(o->b) - o->n)
		len = sizeof(o->b) - o->n;
	memcpy(o->b + o->n, p, len);
	o->n += len;
}

/* A window's worth of guest messages, CRCs left to the harness (FIX_CRC). */
struct window {
	uint8_t b[COOP_MSG_WINDOW_SIZE - 16];
	size_t n;
};

static void msg(struct window *w, uint16_t dev, uint16_t unit, uint16_t type, uint64_t seq,
		const void *payload, uint32_t len)
{
	struct coop_msg_hdr hdr = { .src = COOP_EP_GUEST, .dst = COOP_EP_HOST, .device = dev,
				    .unit = unit, .type = type, .length = len, .seq = seq };

	memset(w->b + w->n, 0, coop_msg_size(len));
	memcpy(w->b + w->n, &hdr, sizeof(hdr));
	memcpy(w->b + w->n + sizeof(hdr), payload, len);
	w->n += coop_msg_size(len);
}

static void cmd_message(struct out *o, const struct window *w)
{
	put(o, ROUTER_CMD_MESSAGE, 1);
	put(o, ROUTER_MSG_FIX_CRC, 1);
	put(o, w->n, 2);
	put_bytes(o, w->b, w->n);
}

static void cmd_deliver(struct out *o, unsigned int flags)
{
	put(o, ROUTER_CMD_DELIVER, 1);
	put(o, flags, 1);
}

static void cmd_time(struct out *o, unsigned int us, unsigned int flags)
{
	put(o, ROUTER_CMD_TIME, 1);
	put(o, flags, 1);
	put(o, us, 2);
}

static void cmd_frame(struct out *o, unsigned int flags, unsigned int len)
{
	put(o, ROUTER_CMD_FRAME, 1);
	put(o, flags, 1);
	put(o, len, 2);
	for (unsigned int i = 0; i < len; i++)
		put(o, i < 6 ? 0xff : i, 1); /* a broadcast */
}

static uint32_t crc32c(const void *p, size_t len)
{
	return ~crc32_iscsi((unsigned char *)p, (int)len, ~0u);
}

static uint8_t block[4096];

/* The guest fills a buffer at ROUTER_HEAP that the next write takes. */
static void cmd_ram(struct out *o)
{
	put(o, ROUTER_CMD_RAM, 1);
	put(o, ROUTER_HEAP - COOP_GUEST_BASE - COOP_PASSAGE_SIZE, 4);
	put(o, sizeof(block), 2);
	put_bytes(o, block, sizeof(block));
}

static void cobd_req(struct window *w, uint16_t unit, uint64_t seq, uint32_t op, uint64_t offset,
		     uint32_t len, uint64_t addr, uint32_t crc)
{
	struct coop_cobd_request r = { .op = op, .offset = offset, .length = len,
				       .data_crc32c = crc, .addr = addr };

	msg(w, COOP_DEV_COBD, unit, COOP_COBD_REQUEST, seq, &r, sizeof(r));
}

/* Every cobd request a guest makes, good and bad. */
static void cobd_batch(struct window *w, uint64_t seq)
{
	uint32_t crc = crc32c(block, sizeof(block));

	cobd_req(w, 0, seq + 0, COOP_COBD_INFO, 0, 0, 0, 0);
	cobd_req(w, 0, seq + 1, COOP_COBD_WRITE, 4096, 4096, ROUTER_HEAP, crc);
	cobd_req(w, 0, seq + 2, COOP_COBD_READ, 4096, 4096, ROUTER_HEAP + 0x2000, 0);
	cobd_req(w, 0, seq + 3, COOP_COBD_FLUSH, 0, 0, 0, 0);
	cobd_req(w, 3, seq + 4, COOP_COBD_READ, 512, 1024, ROUTER_HEAP + 0x4000, 0);
	cobd_req(w, 3, seq + 5, COOP_COBD_WRITE, 0, 512, ROUTER_HEAP, crc);
	cobd_req(w, 0, seq + 6, COOP_COBD_READ, 0, 512, ROUTER_TEXT, 0); /* into the text */
	cobd_req(w, 1, seq + 7, COOP_COBD_INFO, 0, 0, 0, 0);             /* no such unit */
}

/* The console, the network and the monitor's reports. */
static void other_batch(struct window *w, uint64_t seq)
{
	uint8_t frame[60];
	struct coop_mon_check chk = { .checked = 8, .bad = 1, .device = COOP_DEV_COBD };
	struct coop_mon_failed fl = { .seq = seq, .device = COOP_DEV_COBD, .error = -5 };
	struct coop_mon_bad bad = { .sector = 8, .device = COOP_DEV_COBD };

	memset(frame, 0xff, 6);
	for (size_t i = 6; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	msg(w, COOP_DEV_COCON, 0, COOP_COCON_WRITE, seq, "hello\n", 6);
	msg(w, COOP_DEV_COCON, 0, COOP_COCON_LOG, seq + 1, "kernel log line\n", 16);
	msg(w, COOP_DEV_CONET, 0, COOP_CONET_FRAME, seq + 2, frame, sizeof(frame));
	msg(w, COOP_DEV_CONET, 2, COOP_CONET_FRAME, seq + 3, frame, sizeof(frame));
	msg(w, COOP_DEV_MONITOR, 0, COOP_MON_BAD, seq + 4, &bad, sizeof(bad));
	msg(w, COOP_DEV_MONITOR, 0, COOP_MON_FAILED, seq + 5, &fl, sizeof(fl));
	msg(w, COOP_DEV_MONITOR, 0, COOP_MON_CHECK, seq + 6, &chk, sizeof(chk));
}

/* A guest's session: requests, retries of the same ids, time, network input. */
static void session(struct out *o, unsigned int plan)
{
	struct window w;

	put(o, plan, 1);
	put(o, 42 + plan, 8);
	cmd_ram(o);
	for (int round = 0; round < 2; round++) {
		w.n = 0;
		cobd_batch(&w, 1); /* round 1 sends the same ids again: retries */
		cmd_message(o, &w);
		cmd_deliver(o, ROUTER_DELIVER_TAKE);
		cmd_time(o, 3000, ROUTER_TIME_TICK);
		cmd_deliver(o, ROUTER_DELIVER_TAKE);
	}
	w.n = 0;
	other_batch(&w, 100);
	cmd_message(o, &w);
	cmd_frame(o, 0, 60);
	cmd_frame(o, ROUTER_FRAME_UNIT2, 60);
	cmd_deliver(o, ROUTER_DELIVER_TAKE);
	cmd_time(o, 10000, ROUTER_TIME_TICK);
	cmd_deliver(o, ROUTER_DELIVER_TAKE);
}

static void router_seeds(const char *dir)
{
	static struct out o;
	struct window w = { .n = 0 };
	char name[32];

	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(i * 13 + 1);
	for (unsigned int plan = 0; plan <= ROUTER_NPLANS; plan++) {
		o.n = 0;
		session(&o, plan);
		snprintf(name, sizeof(name), "session-plan%u", plan);
		write_file(dir, name, o.b, o.n);
	}
	/* Back-pressure: requests keep coming, the guest never empties its window. */
	o.n = 0;
	put(&o, 0, 9);
	for (int i = 0; i < 40; i++) {
		w.n = 0;
		for (int k = 0; k < 8; k++)
			cobd_req(&w, 0, (uint64_t)(i * 8 + k), COOP_COBD_INFO, 0, 0, 0, 0);
		cmd_message(&o, &w);
		cmd_deliver(&o, 0);
	}
	write_file(dir, "backpressure", o.b, o.n);
	/* A window whose count, bytes and announced count disagree. */
	o.n = 0;
	put(&o, 0, 9);
	w.n = 0;
	cobd_req(&w, 0, 1, COOP_COBD_INFO, 0, 0, 0, 0);
	put(&o, ROUTER_CMD_MESSAGE, 1);
	put(&o, ROUTER_MSG_RAW, 1);
	put(&o, w.n, 2);
	put_bytes(&o, w.b, w.n);
	put(&o, 2, 2); /* count */
	put(&o, w.n, 2); /* bytes */
	put(&o, 2, 2); /* announced */
	write_file(dir, "raw-window", o.b, o.n);
	/* The guest scribbles on the to_guest window between deliveries. */
	o.n = 0;
	put(&o, 1, 9);
	w.n = 0;
	cobd_batch(&w, 1);
	cmd_message(&o, &w);
	put(&o, ROUTER_CMD_POKE, 1);
	put(&o, COOP_PASSAGE_OFF_TO_GUEST + 4, 2); /* to_guest.bytes */
	put(&o, 4, 1);
	put(&o, 13, 4);
	cmd_deliver(&o, 0);
	write_file(dir, "poke-to-guest", o.b, o.n);
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "loader") && strcmp(argv[1], "router"))) {
		fprintf(stderr, "usage: fuzz_seeds loader|router DIR\n");
		return 2;
	}
	if (!strcmp(argv[1], "loader"))
		loader_seeds(argv[2]);
	else
		router_seeds(argv[2]);
	return 0;
}
