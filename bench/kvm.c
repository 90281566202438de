/* SPDX-License-Identifier: MIT */
/*
 * kvm.c - the round trip of a VM exit to user space through /dev/kvm, when
 * it answers: a one-vCPU VM in real mode loops on `out`, and each KVM_RUN
 * returns with KVM_EXIT_IO.  /dev/kvm is labelled with what it really is:
 * which module serves it, and whether the CPU shows VMX/SVM at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench.h"
#include "core/shim.h"

#define GUEST_MEM 0x10000
#define CODE_AT 0x1000

static size_t run_size; /* the vCPU's struct kvm_run mapping */

/* Is this word among the flags of /proc/cpuinfo? */
static bool cpu_flag(const char *flag)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && !found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (char *save = NULL, *w = strtok_r(strchr(line, ':'), " :\n", &save); w;
		     w = strtok_r(NULL, " \n", &save))
			found |= !strcmp(w, flag);
		break;
	}
	if (f)
		fclose(f);
	return found;
}

static bool module_loaded(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return !stat(path, &st);
}

/* What /dev/kvm is here, in words, from the KVM API, /sys/module and /proc/cpuinfo. */
const char *bench_kvm_label(void)
{
	static char label[256];
	bool vmx = cpu_flag("vmx"), svm = cpu_flag("svm");
	const char *by = module_loaded("kvm_intel") ? "kvm_intel (hardware VMX)"
	                 : module_loaded("kvm_amd") ? "kvm_amd (hardware SVM)"
	                 : module_loaded("kvm_pvm") ? "kvm_pvm (PVM: software, page-table based)"
	                                            : "an unknown module";
	int fd, api;

	if (label[0])
		return label;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(label, sizeof(label), "no usable /dev/kvm (%s)", strerror(errno));
		return label;
	}
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	snprintf(label, sizeof(label), "/dev/kvm: KVM API %d served by %s; CPU flags: %s%s", api,
	         by,
	         vmx   ? "vmx"
	         : svm ? "svm"
	               : "no vmx/svm (no hardware virtualization)",
	         cpu_flag("hypervisor") ? ", and this machine is itself a VM" : "");
	return label;
}

/* A VM of one vCPU in real mode at CODE_AT: mov $0x3f8, %dx; 1: out %al, (%dx); jmp 1b. */
static int kvm_vm(int kvm, int *vm, int *vcpu, struct kvm_run **run, void **mem)
{
	static const uint8_t code[] = { 0xba, 0xf8, 0x03, 0xee, 0xeb, 0xfd };
	struct kvm_userspace_memory_region region = { .memory_size = GUEST_MEM };
	struct kvm_regs regs = { .rip = CODE_AT, .rflags = 2 };
	struct kvm_sregs sregs;
	int size;

	*mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (*mem == MAP_FAILED)
		return -errno;
	memcpy((uint8_t *)*mem + CODE_AT, code, sizeof(code));
	region.userspace_addr = (uint64_t)(uintptr_t)*mem;
	if ((*vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0 ||
	    ioctl(*vm, KVM_SET_USER_MEMORY_REGION, &region) ||
	    (*vcpu = ioctl(*vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		return -errno;
	run_size = (size_t)size;
	*run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, *vcpu, 0);
	if (*run == MAP_FAILED || ioctl(*vcpu, KVM_GET_SREGS, &sregs))
		return -errno;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(*vcpu, KVM_SET_SREGS, &sregs) || ioctl(*vcpu, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

/* One exit and back; -1 if the VM did anything but the `out`. */
static int kvm_round_trip(int vcpu, const struct kvm_run *run)
{
	return ioctl(vcpu, KVM_RUN, 0) || run->exit_reason != KVM_EXIT_IO ? -1 : 0;
}

int bench_kvm_exit(const struct bench_opts *o, struct bench_result *r)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -1, vcpu = -1, rc, bad = 0;
	struct kvm_run *run = MAP_FAILED;
	void *mem = MAP_FAILED;

	r->name = "kvm_exit_rtt";
	r->note = bench_kvm_label();
	if (kvm < 0)
		return bench_skip(r, "/dev/kvm: %s", strerror(errno));
	rc = kvm_vm(kvm, &vm, &vcpu, &run, &mem);
	if (rc) {
		rc = bench_skip(r, "/dev/kvm does not run a real-mode vCPU: %s", strerror(-rc));
	} else {
		rc = BENCH_MEASURE(o, r, 1000, 10000, 1, bad |= kvm_round_trip(vcpu, run));
		if (!rc && bad)
			rc = bench_skip(
			    r, "the KVM_RUN loop left with exit reason %u, not an I/O exit",
			    run->exit_reason);
	}
	if (run != MAP_FAILED)
		munmap(run, run_size);
	if (mem != MAP_FAILED)
		munmap(mem, GUEST_MEM);
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return rc;
}
