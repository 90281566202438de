/* SPDX-License-Identifier: MIT */
/*
 * shim.h - the monitor's shared types and cross-file prototypes, grouped
 * by file.  The monitor is backend-independent: it loads the guest, runs
 * the loop "switch to guest -> serve the operation it left -> switch
 * back", and routes messages to the device backends.
 */
#ifndef SHIM_SHIM_H
#define SHIM_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coop/abi.h>

#include "backend/user/user.h"
#include "core/loader.h"

/* coop's exit statuses besides the guest's own 0..255 (../CLI.md). */
#define SHIM_EXIT_FAILURE 1 /* the host could not do its part (mmap, ...) */
#define SHIM_EXIT_USAGE 2   /* bad flag, file or guest image */
#define SHIM_EXIT_CRASH 3   /* the guest crashed, panicked or misbehaved */

#define SHIM_ERR_MAX 512

/* What `coop run` was asked to do. */
struct shim_config {
	const char *kernel;   /* guest kernel ELF */
	uint64_t mem_size;    /* guest RAM bytes, page-aligned */
	const char *cmdline;  /* guest kernel command line ("" if none) */
	uint32_t switch_mode; /* COOP_SWITCH_* */
	const char *exec;     /* --exec script, or NULL: console input */
};

/* Counters of one run (the --report JSON grows out of these). */
struct shim_stats {
	uint64_t switches;                      /* guest->host->guest round trips */
	uint64_t by_op[COOP_OP_COUNT];          /* switches by the operation left */
	uint64_t msgs[COOP_DEV_COUNT][2];       /* [device][0 to_host, 1 to_guest] */
	uint64_t bytes[COOP_DEV_COUNT][2];      /* payload bytes, same indexing */
	uint64_t backpressure_waits;            /* host messages that waited for room */
};

/* A host->guest message waiting for room in the to_guest window. */
struct shim_msg {
	struct shim_msg *next;   /* FIFO order */
	struct coop_msg_hdr hdr; /* complete header, crc32c included */
	uint8_t payload[];       /* hdr.length bytes */
};

enum shim_vm_state {
	SHIM_VM_RUNNING,
	SHIM_VM_POWERED_OFF, /* the guest terminated itself: exit_status */
	SHIM_VM_KILLED,      /* the guest crashed or misbehaved: reason */
	SHIM_VM_REFUSED,     /* the guest is not one we can run: reason */
};

struct shim_cocon; /* devices/cocon.c */

/* One guest: its RAM, its switch, its state and its devices. */
struct shim_vm {
	void *ram;                   /* host address of guest RAM */
	uint64_t mem_size;           /* its size in bytes */
	struct coop_passage *passage; /* the first COOP_PASSAGE_SIZE bytes of ram */
	struct shim_elf_image image; /* the loaded guest kernel */
	uint32_t switch_mode;        /* COOP_SWITCH_* */
	coop_switch_fn switch_fn;    /* the host's way into the guest */
	bool hello_done;             /* the ABI handshake has happened */
	enum shim_vm_state state;    /* RUNNING until the loop must stop */
	int exit_status;             /* coop's exit status once not RUNNING */
	char reason[SHIM_ERR_MAX];   /* why the guest was ended (sticky, first) */
	uint64_t to_guest_seq;       /* sequence number of host messages */
	struct shim_msg *queue_head; /* host->guest FIFO ... */
	struct shim_msg **queue_tail; /* ... and where the next one goes */
	struct shim_cocon *cocon;    /* the console */
	struct shim_stats stats;     /* counters */
};

/* vm.c */
__attribute__((warn_unused_result)) int shim_vm_create(struct shim_vm *vm,
						       const struct shim_config *cfg, char *err,
						       size_t errlen);
void shim_vm_destroy(struct shim_vm *vm);

/* monitor.c */
int shim_monitor_run(struct shim_vm *vm);
__attribute__((format(printf, 2, 3))) void shim_kill_guest(struct shim_vm *vm, const char *fmt,
							   ...);
const char *shim_op_name(uint32_t code);

/* router.c */
/* A device backend, as the router sees it. */
struct shim_device {
	const char *name; /* "cocon", "cobd", "conet" */
	/* A validated guest->host message for this device. */
	void (*from_guest)(struct shim_vm *vm, const struct coop_msg_hdr *hdr,
			   const uint8_t *payload);
};
void shim_router_serve(struct shim_vm *vm);
__attribute__((warn_unused_result)) int shim_router_send(struct shim_vm *vm, uint16_t device,
							 uint16_t unit, uint16_t type,
							 const void *payload, uint32_t len);
void shim_router_deliver(struct shim_vm *vm);
void shim_router_free(struct shim_vm *vm);

/* crc32c.c */
uint32_t shim_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t shim_msg_crc(const struct coop_msg_hdr *hdr, const void *payload);

/* parse.c */
__attribute__((warn_unused_result)) int shim_parse_size(const char *s, uint64_t *out);
uint64_t shim_host_ram(void);
void shim_format_size(uint64_t bytes, char *buf, size_t len);

/* run.c */
int shim_cmd_run(int argc, char **argv);

/* devices/cocon.c */
extern const struct shim_device shim_cocon_device;
__attribute__((warn_unused_result)) int shim_cocon_open(struct shim_vm *vm,
							const struct shim_config *cfg, char *err,
							size_t errlen);
void shim_cocon_close(struct shim_vm *vm);
bool shim_cocon_interactive(const struct shim_vm *vm);
__attribute__((warn_unused_result)) int shim_cocon_wait_input(struct shim_vm *vm);

#endif /* SHIM_SHIM_H */
