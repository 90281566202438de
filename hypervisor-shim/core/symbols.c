/* SPDX-License-Identifier: MIT */
/*
 * symbols.c - what the host needs to explain a guest crash: the guest
 * kernel's function symbols (from its ELF .symtab) and its unwind tables
 * (.eh_frame_hdr), registered with libunwind so that a backtrace taken in
 * a signal handler walks guest frames, then the switch's bottom frame,
 * then the host's own.  Everything from the file is bounds-checked.
 */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "core/shim.h"

/* DWARF pointer encodings (LSB, .eh_frame_hdr). */
#define DW_EH_PE_udata4 0x03
#define DW_EH_PE_sdata4 0x0b
#define DW_EH_PE_datarel 0x30

static int sym_cmp(const void *a, const void *b)
{
	const struct shim_sym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool in_buf(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

/* Copy the STT_FUNC symbols of a SHT_SYMTAB section into syms. */
static void take_symtab(struct shim_symtab *t, const uint8_t *buf, size_t len,
			const Elf64_Shdr *sh, const Elf64_Shdr *strsh)
{
	size_t n = sh->sh_size / sizeof(Elf64_Sym);

	t->syms = calloc(n ? n : 1, sizeof(*t->syms));
	t->strtab = malloc(strsh->sh_size + 1);
	if (!t->syms || !t->strtab)
		return;
	memcpy(t->strtab, buf + strsh->sh_offset, strsh->sh_size);
	t->strtab[strsh->sh_size] = '\0';
	for (size_t i = 0; i < n; i++) {
		Elf64_Sym s;

		memcpy(&s, buf + sh->sh_offset + i * sizeof(s), sizeof(s));
		if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value || s.st_name >= strsh->sh_size)
			continue;
		t->syms[t->count++] = (struct shim_sym){ s.st_value, s.st_size, t->strtab + s.st_name };
	}
	qsort(t->syms, t->count, sizeof(*t->syms), sym_cmp);
}

void shim_symbols_load(struct shim_symtab *t, const void *file, size_t len)
{
	const uint8_t *buf = file;
	Elf64_Ehdr eh;

	memset(t, 0, sizeof(*t));
	if (len < sizeof(eh))
		return;
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_buf(len, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr)))
		return; /* no (sane) section headers: backtraces without names */
	for (unsigned int i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh, strsh;

		memcpy(&sh, buf + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_SYMTAB || sh.sh_link >= eh.e_shnum)
			continue;
		memcpy(&strsh, buf + eh.e_shoff + sh.sh_link * sizeof(sh), sizeof(sh));
		if (in_buf(len, sh.sh_offset, sh.sh_size) && in_buf(len, strsh.sh_offset, strsh.sh_size))
			take_symtab(t, buf, len, &sh, &strsh);
		return;
	}
}

void shim_symbols_free(struct shim_symtab *t)
{
	free(t->syms);
	free(t->strtab);
	memset(t, 0, sizeof(*t));
}

/* The function containing addr, or NULL; *off is addr's offset in it. */
const char *shim_symbol(const struct shim_symtab *t, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi = t->count;

	while (lo < hi) { /* last symbol with sym.addr <= addr */
		size_t mid = (lo + hi) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct shim_sym *s = &t->syms[lo - 1];

	if (s->size && addr - s->addr >= s->size)
		return NULL;
	*off = addr - s->addr;
	return s->name;
}

/*
 * Register the guest's .eh_frame_hdr search table (PT_GNU_EH_FRAME, now in
 * guest RAM at its link address) with libunwind, as JITs do.  Only the
 * usual encoding is accepted: version 1, table of datarel sdata4 pairs.
 */
void shim_symbols_register_unwind(struct shim_vm *vm, const void *file, size_t len)
{
	const uint8_t *buf = file;
	Elf64_Ehdr eh;
	unw_dyn_info_t *di;

	memcpy(&eh, buf, sizeof(eh)); /* the loader checked ehdr and phdrs */
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		const uint8_t *hdr;
		int32_t fde_count;

		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_GNU_EH_FRAME || ph.p_memsz < 12 ||
		    !shim_guest_range(vm, ph.p_vaddr, ph.p_memsz))
			continue;
		hdr = (const uint8_t *)(uintptr_t)ph.p_vaddr;
		/* version, eh_frame_ptr enc, fde_count enc (udata4), table enc (datarel|sdata4) */
		if (hdr[0] != 1 || hdr[2] != DW_EH_PE_udata4 || hdr[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4))
			return;
		memcpy(&fde_count, hdr + 8, 4);
		if (fde_count <= 0 || 12 + (uint64_t)fde_count * 8 > ph.p_memsz)
			return;
		di = calloc(1, sizeof(*di));
		if (!di)
			return;
		di->start_ip = vm->image.start;
		di->end_ip = vm->image.end;
		di->format = UNW_INFO_FORMAT_REMOTE_TABLE;
		di->u.rti.name_ptr = (unw_word_t)(uintptr_t)"coop-guest";
		di->u.rti.segbase = ph.p_vaddr;
		di->u.rti.table_len = (unw_word_t)fde_count; /* in words: one pair each */
		di->u.rti.table_data = ph.p_vaddr + 12;
		_U_dyn_register(di);
		vm->unwind_info = di;
		return;
	}
}

void shim_symbols_unregister_unwind(struct shim_vm *vm)
{
	if (!vm->unwind_info)
		return;
	_U_dyn_cancel(vm->unwind_info);
	free(vm->unwind_info);
	vm->unwind_info = NULL;
}

/* The coop program's own .symtab: static functions have no dynamic symbol. */
static struct shim_symtab self_syms;
static bool self_loaded;

static void load_self(void)
{
	struct stat st;
	void *map;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	self_loaded = true;
	if (fd < 0)
		return;
	if (!fstat(fd, &st) && st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			shim_symbols_load(&self_syms, map, (size_t)st.st_size); /* copies */
			munmap(map, (size_t)st.st_size);
		}
	}
	close(fd);
}

/* Where coop itself is mapped, and what to subtract to get its symbols' values. */
static const void *self_base(void)
{
	Dl_info info;

	return dladdr((void *)shim_host_symbol, &info) ? info.dli_fbase : NULL;
}

static uintptr_t self_bias(const void *base)
{
	/* A PIE's symbols are relative to its load address; a fixed ELF's are not. */
	return ((const Elf64_Ehdr *)base)->e_type == ET_DYN ? (uintptr_t)base : 0;
}

/*
 * Name a host code address as "function+0xoff [object]" -- slow (file
 * reads, lookups), so only when a run ends: fault sites are captured as
 * raw addresses.  coop's own functions come from its .symtab, shared
 * libraries' from their dynamic symbols (dladdr).
 */
void shim_host_symbol(uintptr_t ip, char *buf, size_t len)
{
	Dl_info info;
	const char *name = NULL, *obj;
	uint64_t off = 0;

	if (!dladdr((void *)ip, &info)) {
		snprintf(buf, len, "%#lx", (unsigned long)ip);
		return;
	}
	obj = info.dli_fname ? strrchr(info.dli_fname, '/') : NULL;
	obj = obj ? obj + 1 : info.dli_fname ? info.dli_fname : "?";
	if (info.dli_fbase && info.dli_fbase == self_base()) {
		if (!self_loaded)
			load_self();
		name = shim_symbol(&self_syms, ip - self_bias(info.dli_fbase), &off);
	}
	if (!name && info.dli_sname) {
		name = info.dli_sname;
		off = ip - (uintptr_t)info.dli_saddr;
	}
	if (name)
		snprintf(buf, len, "%s+%#llx [%s]", name, (unsigned long long)off, obj);
	else
		snprintf(buf, len, "%#lx [%s]", (unsigned long)(ip - (uintptr_t)info.dli_fbase), obj);
}
