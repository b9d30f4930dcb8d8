// SPDX-License-Identifier: GPL-2.0-or-later
/* isolation.c - The sandbox: user, namespaces, capabilities, seccomp
 *
 * DOC: Theory of operation
 *
 * Everything that needs privileges or the file system happens during
 * start-up: the vhost-user and passt-repair sockets are bound, forwarded
 * ports are bound, the log, pid and capture files are open, resolv.conf
 * and the routing table are read.  Then, once, in isolate():
 *
 * 1. Started as root, we become --runas (default: nobody), with no
 *    supplementary groups, before binding forwarded ports (isolate_user(),
 *    keeping CAP_NET_BIND_SERVICE if a port is below 1024).
 * 2. We detach into new user, mount, IPC and UTS namespaces.  The network
 *    namespace stays: our sockets live there.  In the new mount namespace
 *    the root is an empty, read-only tmpfs: after pivot_root() and a lazy
 *    unmount of the old root, no path leads to the host's files.
 * 3. Every capability goes, in the bounding set too, and no_new_privs is
 *    set.  The capabilities we had in the new user namespace counted for
 *    nothing outside it anyway: after this we can't bind a new port
 *    below 1024, and don't need to, as every port we listen on is bound
 *    already; TCP_REPAIR goes through passt-repair.
 * 4. A seccomp filter allows the system calls named in #syscalls comments
 *    (seccomp.sh collects them into seccomp_allow.h), for the native
 *    architecture, and kills the process on anything else.  The valgrind
 *    build (passt.valgrind, with PASST_VALGRIND) allows what valgrind
 *    needs too, and says so in the log.
 *
 * A failure in any step is fatal: we don't run half-sandboxed.
 *
 * Before all that, isolate_files() raises the limit on open files to the
 * hard limit: each flow holds a socket, and a migration briefly one more
 * per connection.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "isolation.h"
#include "flow.h"
#include "fwd.h"

/* After ours: seccomp.h brings elf.h, whose EV_NONE is a macro */
#include <cap-ng.h>
#include <seccomp.h>

#include "seccomp_allow.h"

/* Needed after the filter, by the C library rather than by our code:
 *
 * #syscalls exit_group
 *
 * And by valgrind, which runs in our process, under our filter, in the
 * valgrind build (make passt.valgrind) only:
 *
 * #syscalls:valgrind rt_sigaction rt_sigprocmask rt_sigtimedwait
 * #syscalls:valgrind rt_sigreturn gettid getpid tgkill kill getppid
 * #syscalls:valgrind readlink pread64 openat mprotect brk futex exit
 * #syscalls:valgrind sched_yield getcwd gettimeofday newfstatat lseek
 * #syscalls:valgrind mmap munmap mremap fcntl dup prctl madvise statx
 */

/**
 * isolate_low_ports() - Do we forward a host port below 1024?
 * @c:		Execution context
 *
 * Return: true if binding them takes CAP_NET_BIND_SERVICE
 */
static bool isolate_low_ports(const struct ctx *c)
{
	return fwd_low_ports(&c->tcp) || fwd_low_ports(&c->udp);
}

/**
 * isolate_user() - Started as root: become the --runas user
 * @c:		Execution context
 *
 * Called before the forwarded ports are bound, so that every socket we
 * have is our user's: SO_REUSEPORT binds (a migration target restoring a
 * connection on a forwarded port) need the same owner.  We keep
 * CAP_NET_BIND_SERVICE, and nothing else, if a forwarded port is below
 * 1024; isolate() drops it once they are bound.
 */
void isolate_user(const struct ctx *c)
{
	const char *name = *c->runas ? c->runas : ISOLATE_RUNAS_DEFAULT;
	const struct passwd *pw;

	if (geteuid() && getuid()) {
		if (*c->runas)
			die("--runas %s: only root can change user", c->runas);
		return;
	}

	errno = 0;
	if (!(pw = getpwnam(name)))
		die("--runas: no user %s%s%s", name, errno ? ": " : "",
		    errno ? strerror(errno) : "");
	if (!pw->pw_uid)
		die("--runas %s: won't run as root", name);

	capng_clear(CAPNG_SELECT_BOTH);
	if (isolate_low_ports(c))
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
			     CAP_NET_BIND_SERVICE);
	if (capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
			    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING))
		die("Can't switch to user %s", name);
	debug("Running as %s (%u:%u)%s", name, (unsigned)pw->pw_uid,
	      (unsigned)pw->pw_gid, isolate_low_ports(c) ?
	      ", with CAP_NET_BIND_SERVICE until ports are bound" : "");
}

/**
 * isolate_write() - Write a string to a /proc file
 * @path:	File
 * @s:		String
 */
static void isolate_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write_all(fd, s, strlen(s)))
		die_perror("Can't write %s", path);
	close(fd);
}

/**
 * isolate_ns() - New user, mount, IPC, UTS namespaces; an empty root
 */
static void isolate_ns(void)
{
	unsigned uid = (unsigned)geteuid(), gid = (unsigned)getegid();
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC |
		    CLONE_NEWUTS))
		die_perror("Can't detach into new namespaces");

	/* The same ids inside as outside.  Having changed user, we're not
	 * dumpable, and /proc/self is root's: we are, just for the maps.
	 */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		die_perror("Can't set dumpable");
	isolate_write("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "%u %u 1", uid, uid);
	isolate_write("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "%u %u 1", gid, gid);
	isolate_write("/proc/self/gid_map", map);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		die_perror("Can't clear dumpable");

	if (mount("", "/", "", MS_PRIVATE | MS_REC, NULL) ||
	    mount("", "/tmp", "tmpfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
		  "nr_inodes=1,nr_blocks=1,mode=0500") ||
	    chdir("/tmp") ||
	    syscall(SYS_pivot_root, ".", ".") ||
	    umount2(".", MNT_DETACH) || chdir("/"))
		die_perror("Can't pivot into an empty root");
}

/**
 * isolate_caps() - Drop every capability, bounding set included
 */
static void isolate_caps(void)
{
	capng_clear(CAPNG_SELECT_BOTH);
	capng_clear(CAPNG_SELECT_BOUNDS);
	if (capng_apply(CAPNG_SELECT_BOUNDS) || capng_apply(CAPNG_SELECT_BOTH))
		die("Can't drop capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		die_perror("Can't set no_new_privs");
}

/**
 * isolate_seccomp() - Allow only the system calls we name, kill otherwise
 */
static void isolate_seccomp(void)
{
	static const int allow[] = {
		SECCOMP_ALLOW
#ifdef PASST_VALGRIND
		SECCOMP_VALGRIND
#endif
	};
#ifdef PASST_VALGRIND
	/* valgrind doesn't know seccomp(2): libseccomp can't check for
	 * SECCOMP_RET_KILL_PROCESS, and loads the filter with prctl(); we're
	 * single-threaded, killing the thread kills the process
	 */
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL);
#else
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
#endif
	unsigned i;
	int rc;


	if (!f)
		die("seccomp: can't make a filter");
	for (i = 0; i < ARRAY_SIZE(allow); i++) {
		if ((rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allow[i], 0)))
			die("seccomp: can't allow system call %d: %s", allow[i],
			    strerror(-rc));
	}
	if ((rc = seccomp_load(f)))
		die("seccomp: can't load the filter: %s", strerror(-rc));
	seccomp_release(f);

#ifdef PASST_VALGRIND
	warn("seccomp: valgrind build: %zu system calls allowed, %u of them "
	     "for valgrind only", ARRAY_SIZE(allow), SECCOMP_VALGRIND_COUNT);
#else
	debug("seccomp: %zu system calls allowed", ARRAY_SIZE(allow));
#endif
}

/**
 * isolate_files() - Raise the limit on open files as far as we may
 *
 * The soft limit is often 1024, far below FLOW_MAX connections; the hard
 * one is as far as an unprivileged process goes.  A hard limit below what
 * a full flow table takes is no error, but worth a word: connections past
 * it are refused.
 *
 * #syscalls getrlimit setrlimit prlimit64
 */
void isolate_files(void)
{
	const rlim_t want = FLOW_MAX + ISOLATE_FILES_SPARE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl)) {
		warn("Can't read the limit on open files: %s",
		     strerror(errno));
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			warn("Can't raise the limit on open files: %s",
			     strerror(errno));
			rl.rlim_cur = was;
		}
	}
	if (rl.rlim_cur < want)
		warn("Open files limited to %llu (hard limit): fewer than %u "
		     "connections fit, %llu would take all of them (ulimit -Hn)",
		     (unsigned long long)rl.rlim_cur, FLOW_MAX,
		     (unsigned long long)want);
	else
		debug("Open files: up to %llu", (unsigned long long)rl.rlim_cur);
}

/**
 * isolate() - Enter the sandbox, for good
 * @c:		Execution context, start-up done
 */
void isolate(const struct ctx *c)
{
	(void)c;
	isolate_ns();
	isolate_caps();
	isolate_seccomp();
}
