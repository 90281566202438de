/* SPDX-License-Identifier: MIT */
/*
 * session.c - the LTTng session of `coop run --trace DIR` (and of the bench's
 * traced measurement), done with liblttng-ctl: find or start a session
 * daemon, create a session writing to DIR that records this process only,
 * enable coop:* with vtid, vpid and procname contexts, start, load the probes; at the end stop (which flushes),
 * read the discarded-events count, destroy, and stop the daemon if we
 * started it.  The probes (libcoop-trace.so) are dlopen()ed only here: a run
 * without --trace never loads liblttng-ust at all.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lttng/lttng.h>

#include "trace/trace.h"
#include "util/util.h"

#define CHANNEL "coop"
#define PROBES "libcoop-trace.so"
#define WAIT_MS 5000 /* for the daemon to come up or go, for the probes to register */

extern char **environ;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR) {
	}
}

/* Is name an executable in $PATH? */
static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, name);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* Where a session daemon of our user keeps its pid file (its rundir). */
static void pidfile_path(char *buf, size_t len)
{
	const char *home = getenv("LTTNG_HOME");

	if (geteuid() == 0)
		snprintf(buf, len, "/var/run/lttng/lttng-sessiond.pid");
	else
		snprintf(buf, len, "%s/.lttng/lttng-sessiond.pid",
			 home && *home ? home : getenv("HOME") ? getenv("HOME") : "/tmp");
}

static pid_t read_pidfile(void)
{
	char path[PATH_MAX];
	long pid = 0;
	FILE *f;

	pidfile_path(path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/*
 * No daemon answers: start `lttng-sessiond --daemonize --no-kernel` (it
 * returns once the daemon accepts commands) and remember its pid, so that
 * we stop exactly the daemon we started.
 */
static int start_sessiond(struct coop_trace_session *s, char *err, size_t errlen)
{
	static char a0[] = "lttng-sessiond", a1[] = "--daemonize", a2[] = "--no-kernel";
	char *argv[] = { a0, a1, a2, NULL };
	pid_t pid;
	int st, rc;

	if (!in_path("lttng-sessiond")) {
		snprintf(err, errlen, "lttng-sessiond not found: install the Debian package lttng-tools");
		return -ENOENT;
	}
	rc = posix_spawnp(&pid, "lttng-sessiond", NULL, NULL, argv, environ);
	if (rc) {
		snprintf(err, errlen, "cannot run lttng-sessiond: %s", strerror(rc));
		return -rc;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	for (int ms = 0; lttng_session_daemon_alive() != 1; ms += 10) {
		if (ms >= WAIT_MS) {
			snprintf(err, errlen, "lttng-sessiond --daemonize --no-kernel did not come up "
					      "(exit status %d)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			return -EIO;
		}
		sleep_ms(10);
	}
	s->sessiond = read_pidfile();
	if (!s->sessiond)
		fprintf(stderr, "coop: warning: cannot read the pid of the lttng-sessiond we started; "
				"it keeps running\n");
	return 0;
}

static void stop_sessiond(struct coop_trace_session *s)
{
	if (s->sessiond <= 0 || kill(s->sessiond, SIGTERM))
		return;
	for (int ms = 0; ms < WAIT_MS && kill(s->sessiond, 0) == 0; ms += 10)
		sleep_ms(10);
	s->sessiond = 0;
}

static int lttng_fail(char *err, size_t errlen, const char *what, int ret)
{
	snprintf(err, errlen, "%s: %s", what, lttng_strerror(ret));
	return -EIO;
}

/*
 * Channel "coop": discard mode (a full buffer drops events, counted, never
 * blocks the guest), per-UID buffers, 8 x 1 MiB per CPU: room for a burst of
 * ~200k events while the consumer daemon drains.
 */
static int setup_channel(struct lttng_handle *h, char *err, size_t errlen)
{
	struct lttng_domain dom = { .type = LTTNG_DOMAIN_UST, .buf_type = LTTNG_BUFFER_PER_UID };
	struct lttng_channel *ch = lttng_channel_create(&dom);
	int ret;

	if (!ch) {
		snprintf(err, errlen, "lttng_channel_create: out of memory");
		return -ENOMEM;
	}
	snprintf(ch->name, sizeof(ch->name), CHANNEL);
	ch->attr.overwrite = 0;
	ch->attr.subbuf_size = 1u << 20;
	ch->attr.num_subbuf = 8;
	ret = lttng_enable_channel(h, ch);
	lttng_channel_destroy(ch);
	return ret < 0 ? lttng_fail(err, errlen, "enable channel", ret) : 0;
}

/* coop:* and the contexts that make the trace readable on its own. */
static int setup_events(struct lttng_handle *h, char *err, size_t errlen)
{
	static const enum lttng_event_context_type ctxs[] = {
		LTTNG_EVENT_CONTEXT_VTID, LTTNG_EVENT_CONTEXT_VPID, LTTNG_EVENT_CONTEXT_PROCNAME,
	};
	struct lttng_event ev;
	int ret;

	memset(&ev, 0, sizeof(ev));
	ev.type = LTTNG_EVENT_TRACEPOINT;
	ev.loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
	ev.loglevel = -1;
	snprintf(ev.name, sizeof(ev.name), "coop:*");
	ret = lttng_enable_event(h, &ev, CHANNEL);
	if (ret < 0)
		return lttng_fail(err, errlen, "enable coop:*", ret);
	for (size_t i = 0; i < sizeof(ctxs) / sizeof(ctxs[0]); i++) {
		struct lttng_event_context ctx;

		memset(&ctx, 0, sizeof(ctx));
		ctx.ctx = ctxs[i];
		ret = lttng_add_context(h, &ctx, NULL, CHANNEL);
		if (ret < 0)
			return lttng_fail(err, errlen, "add context", ret);
	}
	return 0;
}

/* mkdir -p dir, then its absolute path (the session's file:// URL). */
static int output_dir(struct coop_trace_session *s, const char *dir, char *err, size_t errlen)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
	if ((mkdir(tmp, 0755) && errno != EEXIST) || !realpath(tmp, s->dir)) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -errno;
	}
	return 0;
}

/*
 * Load the probes.  liblttng-ust's constructor registers this process with
 * the session daemon and waits (LTTNG_UST_REGISTER_TIMEOUT, 3 s) until it
 * has set up the session; then wait until our events are really enabled
 * here, so that the guest's very first event is recorded.
 */
static int load_probes(char *err, size_t errlen)
{
	static void *handle;
	char path[PATH_MAX];

	if (coop_beside_exe(PROBES, path, sizeof(path)))
		snprintf(path, sizeof(path), "./" PROBES);
	if (!handle)
		handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
	if (!handle) {
		snprintf(err, errlen, "cannot load the probes: %s (install the Debian package "
				      "liblttng-ust1)", dlerror());
		return -ENOENT;
	}
	for (int ms = 0; !coop_trace_enabled(guest_boot); ms++) {
		if (ms >= WAIT_MS) {
			snprintf(err, errlen, "the session daemon did not enable coop:* in this "
					      "process within %d s", WAIT_MS / 1000);
			return -ETIMEDOUT;
		}
		sleep_ms(1);
	}
	return 0;
}

/*
 * The session records this process only (its vpid, LTTng's process
 * tracker): another coop tracing at the same time, or any other program
 * with coop's probes, never gets into this run's trace.
 */
static int track_this_process(struct coop_trace_session *s, char *err, size_t errlen)
{
	struct lttng_process_attr_tracker_handle *t = NULL;
	enum lttng_error_code e;
	int rc = 0;

	e = lttng_session_get_tracker_handle(s->name, LTTNG_DOMAIN_UST,
					     LTTNG_PROCESS_ATTR_VIRTUAL_PROCESS_ID, &t);
	if (e != LTTNG_OK)
		return lttng_fail(err, errlen, "process tracker", -(int)e);
	if (lttng_process_attr_tracker_handle_set_tracking_policy(t, LTTNG_TRACKING_POLICY_INCLUDE_SET) !=
		    LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK ||
	    lttng_process_attr_virtual_process_id_tracker_handle_add_pid(t, getpid()) !=
		    LTTNG_PROCESS_ATTR_TRACKER_HANDLE_STATUS_OK) {
		snprintf(err, errlen, "cannot limit the session to this process (vpid %ld)",
			 (long)getpid());
		rc = -EIO;
	}
	lttng_process_attr_tracker_handle_destroy(t);
	return rc;
}

static int create_session(struct coop_trace_session *s, char *err, size_t errlen)
{
	struct lttng_domain dom = { .type = LTTNG_DOMAIN_UST, .buf_type = LTTNG_BUFFER_PER_UID };
	char url[PATH_MAX + 16];
	struct lttng_handle *h;
	int ret;

	snprintf(s->name, sizeof(s->name), "coop-%ld", (long)getpid());
	snprintf(url, sizeof(url), "file://%s", s->dir);
	ret = lttng_create_session(s->name, url);
	if (ret < 0)
		return lttng_fail(err, errlen, "create session", ret);
	s->active = true;
	h = lttng_create_handle(s->name, &dom);
	if (!h) {
		snprintf(err, errlen, "lttng_create_handle: out of memory");
		return -ENOMEM;
	}
	ret = track_this_process(s, err, errlen);
	if (!ret)
		ret = setup_channel(h, err, errlen);
	if (!ret)
		ret = setup_events(h, err, errlen);
	lttng_destroy_handle(h);
	if (!ret && (ret = lttng_start_tracing(s->name)) < 0)
		ret = lttng_fail(err, errlen, "start", ret);
	return ret;
}

int coop_trace_start(struct coop_trace_session *s, const char *dir, char *err, size_t errlen)
{
	struct coop_trace_stats st;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = output_dir(s, dir, err, errlen);
	if (rc)
		return rc;
	if (lttng_session_daemon_alive() != 1 && (rc = start_sessiond(s, err, errlen)))
		return rc;
	rc = create_session(s, err, errlen);
	if (!rc)
		rc = load_probes(err, errlen);
	if (rc)
		coop_trace_stop(s, &st, NULL, 0);
	return rc;
}

/* Events the tracer had to discard in our channel (and lost packets). */
static void read_counts(struct coop_trace_session *s, struct coop_trace_stats *st)
{
	struct lttng_domain dom = { .type = LTTNG_DOMAIN_UST, .buf_type = LTTNG_BUFFER_PER_UID };
	struct lttng_handle *h = lttng_create_handle(s->name, &dom);
	struct lttng_channel *chs = NULL;
	int n = h ? lttng_list_channels(h, &chs) : -1;

	for (int i = 0; i < n; i++) {
		uint64_t v;

		if (!lttng_channel_get_discarded_event_count(&chs[i], &v))
			st->discarded_events += v;
		if (!lttng_channel_get_lost_packet_count(&chs[i], &v))
			st->lost_packets += v;
	}
	free(chs);
	lttng_destroy_handle(h);
}

int coop_trace_stop(struct coop_trace_session *s, struct coop_trace_stats *st, char *err,
		    size_t errlen)
{
	int ret = 0, rc = 0;

	memset(st, 0, sizeof(*st));
	if (s->active) {
		/* stop waits until every event is out of the buffers */
		ret = lttng_stop_tracing(s->name);
		if (ret < 0 && ret != -LTTNG_ERR_TRACE_ALREADY_STOPPED && err)
			rc = lttng_fail(err, errlen, "stop", ret);
		read_counts(s, st);
		ret = lttng_destroy_session(s->name);
		if (ret < 0 && !rc && err)
			rc = lttng_fail(err, errlen, "destroy session", ret);
		s->active = false;
	}
	stop_sessiond(s);
	return rc;
}
