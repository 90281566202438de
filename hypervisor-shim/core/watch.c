/* SPDX-License-Identifier: MIT */
/*
 * watch.c - host file descriptors as host interrupts: a device backend
 * watches its fd (console, TAP, socket); the fd signals the guest thread
 * when it becomes readable (O_ASYNC, backend/user/signals.c), the idle
 * host polls it, and in host mode the backend's ready() reads it.  A
 * paused fd is not read: back-pressure when the guest's queue is full.
 */
#include <errno.h>

#include "core/shim.h"

static struct shim_watch *find(struct shim_vm *vm, int fd)
{
	for (int i = 0; i < SHIM_MAX_WATCH; i++)
		if (vm->watches[i].ready && vm->watches[i].fd == fd)
			return &vm->watches[i];
	return NULL;
}

int shim_watch_fd(struct shim_vm *vm, int fd, shim_ready_fn ready, void *arg)
{
	struct shim_watch *w = NULL;

	for (int i = 0; !w && i < SHIM_MAX_WATCH; i++)
		if (!vm->watches[i].ready)
			w = &vm->watches[i];
	if (!w)
		return -ENOSPC;
	*w = (struct shim_watch){ .fd = fd, .ready = ready, .arg = arg };
	/* Regular files never signal: they are always readable, the idle loop reads them. */
	w->async = host_irq_watch_fd(fd, true) == 0;
	return 0;
}

void shim_watch_pause(struct shim_vm *vm, int fd, bool paused)
{
	struct shim_watch *w = find(vm, fd);

	if (w)
		w->paused = paused;
}

void shim_unwatch_fd(struct shim_vm *vm, int fd)
{
	struct shim_watch *w = find(vm, fd);

	if (!w)
		return;
	if (w->async && host_irq_watch_fd(fd, false)) {
		/* the fd is about to be closed or left to its owner */
	}
	*w = (struct shim_watch){ .fd = -1 };
}

/* Host mode: let every readable, unpaused fd's backend read it. */
void shim_watch_serve(struct shim_vm *vm)
{
	for (int i = 0; i < SHIM_MAX_WATCH; i++) {
		struct shim_watch *w = &vm->watches[i];
		struct pollfd pfd = { .fd = w->fd, .events = POLLIN };

		if (w->ready && !w->paused && poll(&pfd, 1, 0) > 0)
			w->ready(vm, w->arg);
	}
}

/* The fds the idle host waits on. */
int shim_watch_pollfds(struct shim_vm *vm, struct pollfd *pfd, int max)
{
	int n = 0;

	for (int i = 0; i < SHIM_MAX_WATCH && n < max; i++)
		if (vm->watches[i].ready && !vm->watches[i].paused)
			pfd[n++] = (struct pollfd){ .fd = vm->watches[i].fd, .events = POLLIN };
	return n;
}
