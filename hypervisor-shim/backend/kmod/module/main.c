// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - the coop module: /dev/coop (a misc device, mode 0600) and its
 * ioctls (<coop/kmod.h>).  One open file holds at most one guest.
 * Build: make -C hypervisor-shim/backend/kmod/module; load: insmod coop.ko;
 * use: coop run --backend kmod.  Tested in QEMU by tests/kmod/.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/tlbflush.h>

#include "coop.h"

#define CREATE_TRACE_POINTS
#include "coop_trace.h"

/* What this CPU and kernel give the switch (COOP_KMOD_F_*). */
u32 coop_features(void)
{
	unsigned long cr4 = __read_cr4();
	u32 f = 0;

	if (pgtable_l5_enabled())
		f |= COOP_KMOD_F_LA57;
	if (cr4 & X86_CR4_PCIDE)
		f |= COOP_KMOD_F_PCID;
	if (cr4 & X86_CR4_SMEP)
		f |= COOP_KMOD_F_SMEP;
	if (cr4 & X86_CR4_SMAP)
		f |= COOP_KMOD_F_SMAP;
	if (cr4 & X86_CR4_UMIP)
		f |= COOP_KMOD_F_UMIP;
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		f |= COOP_KMOD_F_XSAVE;
	if (cpu_feature_enabled(X86_FEATURE_IBT))
		f |= COOP_KMOD_F_IBT;
	if (boot_cpu_has(X86_FEATURE_PTI))
		f |= COOP_KMOD_F_PTI;
	if (boot_cpu_has(X86_FEATURE_HYPERVISOR))
		f |= COOP_KMOD_F_HYPERVISOR;
	return f;
}

static long coop_version(void __user *arg)
{
	struct coop_kmod_version v = {
		.api_major = COOP_KMOD_API_MAJOR,
		.api_minor = COOP_KMOD_API_MINOR,
		.abi_major = COOP_ABI_MAJOR,
		.abi_minor = COOP_ABI_MINOR,
		.features = coop_features(),
		.paging_levels = pgtable_l5_enabled() ? 5 : 4,
	};

	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long coop_create(struct coop_vm *vm, void __user *arg)
{
	struct coop_kmod_create c;
	int rc;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if (vm->sw)
		return -EBUSY; /* one guest per open file */
	rc = coop_vm_create(vm, &c);
	if (rc)
		return rc;
	if (copy_to_user(arg, &c, sizeof(c))) {
		coop_vm_destroy(vm);
		return -EFAULT;
	}
	return 0;
}

/* LOAD and LOAD_LINUX: once, on a created guest. */
static long load_state(const struct coop_vm *vm)
{
	if (!vm->sw)
		return -ENOENT;
	return vm->loaded ? -EBUSY : 0;
}

static long coop_load(struct coop_vm *vm, void __user *arg)
{
	struct coop_kmod_load l;

	if (copy_from_user(&l, arg, sizeof(l)))
		return -EFAULT;
	return load_state(vm) ?: coop_vm_load(vm, &l);
}

static long coop_load_linux(struct coop_vm *vm, void __user *arg)
{
	struct coop_kmod_load_linux l;

	if (copy_from_user(&l, arg, sizeof(l)))
		return -EFAULT;
	return load_state(vm) ?: coop_vm_load_linux(vm, &l);
}

static long coop_get_layout(void __user *arg)
{
	struct coop_kmod_layout l;

	coop_phys_layout(&l);
	return copy_to_user(arg, &l, sizeof(l)) ? -EFAULT : 0;
}

static long coop_run(struct coop_vm *vm, void __user *arg)
{
	struct coop_kmod_run r;
	u64 log;
	int rc;

	if (!vm->sw)
		return -ENOENT;
	if (!vm->loaded)
		return -ENOEXEC;
	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	/* The log (API 1.3): written at the end, in one copy. */
	log = r.log;
	vm->log_cap = log ? min_t(u32, r.log_cap, COOP_KMOD_LOG_MAX) : 0;
	vm->log_count = 0;
	memset(&r, 0, sizeof(r));
	rc = coop_vm_run(vm, &r);
	if (rc)
		return rc;
	r.log = log;
	r.log_cap = vm->log_cap;
	r.log_count = vm->log_count;
	if (vm->log_count &&
	    copy_to_user(u64_to_user_ptr(log), vm->log, vm->log_count * sizeof(vm->log[0])))
		return -EFAULT;
	return copy_to_user(arg, &r, sizeof(r)) ? -EFAULT : 0;
}

static long coop_get_state(struct coop_vm *vm, void __user *arg)
{
	struct coop_kmod_state s;

	if (!vm->sw)
		return -ENOENT;
	coop_vm_state(vm, &s);
	return copy_to_user(arg, &s, sizeof(s)) ? -EFAULT : 0;
}

/*
 * The ioctl numbers encode the argument sizes (_IOR/_IOW/_IOWR of the
 * structs in <coop/kmod.h>, whose sizes are asserted at compile time), so
 * a caller built against another layout gets -ENOTTY, never a misread.
 */
static long coop_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct coop_vm *vm = f->private_data;
	void __user *uarg = (void __user *)arg;
	long rc;

	if (cmd == COOP_KMOD_VERSION)
		return coop_version(uarg);
	if (cmd == COOP_KMOD_GET_LAYOUT)
		return coop_get_layout(uarg);
	/* The guest's RAM is pinned in its creator's address space. */
	if (vm->mm && vm->mm != current->mm)
		return -EPERM;
	if (mutex_lock_interruptible(&vm->lock))
		return -EINTR;
	switch (cmd) {
	case COOP_KMOD_CREATE:
		rc = coop_create(vm, uarg);
		break;
	case COOP_KMOD_LOAD:
		rc = coop_load(vm, uarg);
		break;
	case COOP_KMOD_LOAD_LINUX:
		rc = coop_load_linux(vm, uarg);
		break;
	case COOP_KMOD_RUN:
		rc = coop_run(vm, uarg);
		break;
	case COOP_KMOD_GET_STATE:
		rc = coop_get_state(vm, uarg);
		break;
	case COOP_KMOD_DESTROY:
		rc = vm->sw ? 0 : -ENOENT;
		coop_vm_destroy(vm);
		break;
	default:
		rc = -ENOTTY;
	}
	mutex_unlock(&vm->lock);
	return rc;
}

/*
 * Who may run guests: the guest runs in ring 0 and could do whatever the
 * host kernel can, so this is raw access to the machine, the power
 * CAP_SYS_RAWIO stands for (/dev/mem, /dev/port, /proc/kcore, iopl).
 * CREATE also gives the caller the switch's kernel addresses, which its
 * guest must call: a CAP_SYS_RAWIO holder could read them in /proc/kcore.
 * Checked at open, as /dev/mem does: the mode (0600) is the first gate,
 * this the second, which a chmod cannot open.
 */
static int coop_open(struct inode *inode, struct file *f)
{
	struct coop_vm *vm;

	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;
	mutex_init(&vm->lock);
	f->private_data = vm;
	return 0;
}

/* A Linux guest's RAM into its creator (kmod.h, API 1.2). */
static int coop_mmap(struct file *f, struct vm_area_struct *vma)
{
	struct coop_vm *vm = f->private_data;
	int rc;

	if (vm->mm != current->mm)
		return -EPERM;
	mutex_lock(&vm->lock);
	rc = coop_vm_mmap(vm, vma);
	mutex_unlock(&vm->lock);
	return rc;
}

static int coop_release(struct inode *inode, struct file *f)
{
	struct coop_vm *vm = f->private_data;

	coop_vm_destroy(vm);
	mutex_destroy(&vm->lock);
	kfree(vm);
	return 0;
}

static const struct file_operations coop_fops = {
	.owner = THIS_MODULE,
	.open = coop_open,
	.release = coop_release,
	.unlocked_ioctl = coop_ioctl,
	.mmap = coop_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice coop_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "coop",
	.fops = &coop_fops,
	.mode = 0600, /* the guest runs in ring 0: root only (and CAP_SYS_RAWIO, coop_open) */
};

static int __init coop_init(void)
{
	int rc;

	/* The switcher's stubs must be as the IDT builder assumes. */
	BUILD_BUG_ON(sizeof(struct coop_kmod_regs) % 16);
	BUILD_BUG_ON(offsetof(struct coop_sw, guest) % 16);
	if (!boot_cpu_has(X86_FEATURE_FXSR)) {
		pr_err("coop: the CPU has no fxsave\n");
		return -ENODEV;
	}
	/* Which vectors are the host's is read in the local APIC (run.c, classify). */
	if (!boot_cpu_has(X86_FEATURE_APIC)) {
		pr_err("coop: no local APIC in use\n");
		return -ENODEV;
	}
	coop_tripwire_init();
	rc = coop_phys_init();
	if (rc)
		return rc;
	rc = misc_register(&coop_dev);
	if (rc) {
		coop_phys_exit();
		return rc;
	}
	pr_info("coop: /dev/coop ready (API %u.%u, guest ABI %u.%u, %u-level paging, features %#x)\n",
		COOP_KMOD_API_MAJOR, COOP_KMOD_API_MINOR, COOP_ABI_MAJOR, COOP_ABI_MINOR,
		pgtable_l5_enabled() ? 5 : 4, coop_features());
	return 0;
}

static void __exit coop_exit(void)
{
	misc_deregister(&coop_dev);
	coop_phys_exit();
	pr_info("coop: unloaded\n");
}

module_init(coop_init);
module_exit(coop_exit);
MODULE_LICENSE("GPL"); /* the GDT/TSS/FPU helpers are GPL-only exports */
MODULE_DESCRIPTION("coop: cooperative virtualization, the ring-0 world switch");
MODULE_AUTHOR("the coop authors");
