/* SPDX-License-Identifier: MIT */
/*
 * guest.c - run a real guest for a benchmark: boot it quietly with a
 * command script, capture what its programs print (in a memfd, so that a
 * long output never blocks the single-threaded host), check it powered
 * off cleanly, and hand the output back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/shim.h"

/* Run exec on a guest; *out (malloc'ed, NUL-terminated) gets its output. */
int bench_guest_run(const struct bench_opts *o, struct shim_config *cfg, const char *exec,
		    char **out, struct shim_samples *fwd)
{
	return bench_guest_run_loop(o, cfg, exec, out, fwd, shim_monitor_run);
}

/* The same with another run loop (world_switch_notrace_rtt's). */
int bench_guest_run_loop(const struct bench_opts *o, struct shim_config *cfg, const char *exec,
			 char **out, struct shim_samples *fwd, int (*loop)(struct shim_vm *vm))
{
	struct shim_vm vm;
	char err[SHIM_ERR_MAX];
	int fd = memfd_create("coop-bench-out", MFD_CLOEXEC), rc;
	off_t len;

	if (fd < 0)
		return -errno;
	cfg->kernel = o->kernel;
	cfg->mem_size = cfg->mem_size ? cfg->mem_size : 64ull << 20;
	cfg->exec = exec;
	cfg->quiet = true;
	cfg->capture_fd = fd;
	rc = shim_vm_create(&vm, cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "coop bench: %s\n", err);
		close(fd);
		return rc;
	}
	vm.fwd_samples = fwd;
	rc = loop(&vm);
	if (rc || vm.state != SHIM_VM_POWERED_OFF) {
		fprintf(stderr, "coop bench: the guest running '%s' ended with %d (%s)\n", exec, rc,
			vm.reason[0] ? vm.reason : "no reason given");
		rc = -EIO;
	}
	shim_vm_destroy(&vm);
	len = lseek(fd, 0, SEEK_END);
	*out = len >= 0 ? malloc((size_t)len + 1) : NULL;
	if (!*out || pread(fd, *out, (size_t)len, 0) != len) {
		free(*out);
		*out = NULL;
		rc = rc ? rc : -EIO;
	} else {
		(*out)[len] = '\0';
	}
	close(fd);
	return rc;
}
