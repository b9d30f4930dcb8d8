// SPDX-License-Identifier: GPL-2.0-or-later
/* passt.c - main(): start-up order and the epoll loop
 *
 * DOC: Theory of operation
 *
 * One process, one thread, one epoll instance.  Every registered file
 * descriptor carries a union evtag (kind, fd, index), and the loop calls
 * one handler per kind.  Handlers check that the tag still names a live
 * entry of their table (same fd), so an event queued before its entry went
 * away in the same batch is ignored rather than acted on.
 *
 * Start-up: parse the command line, open the log, bind the vhost-user
 * socket, and only then detach (without --foreground): the parent writes
 * the pid file and exits 0 once the socket is listening, which is what
 * libvirt waits for.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* The loop's file includes every layer; nothing includes it */
#include "util.h"
#include "log.h"
#include "vhost_user.h"
#include "vu_common.h"
#include "ctx.h"
#include "checksum.h"
#include "pcap.h"
#include "tap_out.h"
#include "flow.h"
#include "fwd.h"
#include "repair.h"
#include "arp.h"
#include "dhcp.h"
#include "dhcpv6.h"
#include "dns.h"
#include "icmp.h"
#include "ndp.h"
#include "tcp.h"
#include "tcp_guest.h"
#include "tcp_listen.h"
#include "udp.h"
#include "migrate.h"
#include "tap.h"
#include "conf.h"
#include "isolation.h"

#define EPOLL_EVENTS		64
#define TIMER_INTERVAL_MS	100	/* tick: the finest timer we need */
#define SLOW_TIMER_TICKS	10	/* once a second */

/* The loop's own event kind (see util.h): the periodic timerfd */
enum { EV_TIMER = 6 };

/* Names of the event kinds, for tracing: every module's, as the switch in
 * loop() sees them */
static const char *const ev_kind_name[] = {
	[EV_NONE]		= "none",
	[EV_VU_LISTEN]		= "vhost-user listen",
	[EV_VU_CONN]		= "vhost-user control",
	[EV_VU_KICK]		= "vhost-user kick",
	[EV_DEVSTATE]		= "device state",
	[EV_ICMP]		= "ICMP socket",
	[EV_TIMER]		= "timer",
	[EV_TCP]		= "TCP socket",
	[EV_TCP_LISTEN]		= "TCP listening socket",
	[EV_UDP]		= "UDP socket",
	[EV_UDP_LISTEN]		= "UDP forwarded port",
	[EV_REPAIR_LISTEN]	= "repair helper listen",
	[EV_REPAIR]		= "repair helper",
};

/**
 * pid_file_open() - Open the pid file, if one was given, while we may
 * @c:		Execution context
 *
 * Return: file descriptor, -1 if no pid file was asked for
 */
static int pid_file_open(const struct ctx *c)
{
	int fd;

	if (!*c->pid_file)
		return -1;
	fd = open(c->pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die_perror("Can't open PID file %s", c->pid_file);
	return fd;
}

/**
 * pid_file_write() - Write a PID to the pid file and close it
 * @c:		Execution context
 * @fd:		From pid_file_open(), -1 for none
 * @pid:	PID to write
 */
static void pid_file_write(const struct ctx *c, int fd, pid_t pid)
{
	char buf[32];
	int n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write_all(fd, buf, n))
		die_perror("Can't write PID file %s", c->pid_file);
	close(fd);
}

/**
 * daemonise() - Detach from the terminal; the parent exits 0
 * @c:		Execution context
 * @pid_fd:	Open pid file, -1 if none: the parent writes the child's PID
 *
 * Called once the socket listens, so the parent's exit tells the launcher
 * that we are ready.
 */
static void daemonise(const struct ctx *c, int pid_fd)
{
	pid_t pid = fork();
	int devnull;

	if (pid < 0)
		die_perror("Failed to fork");
	if (pid > 0) {
		pid_file_write(c, pid_fd, pid);
		_exit(EXIT_SUCCESS);
	}
	if (pid_fd >= 0)
		close(pid_fd);

	if (setsid() < 0)
		die_perror("setsid");

	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		die_perror("Can't open /dev/null");
	dup2(devnull, STDIN_FILENO);
	dup2(devnull, STDOUT_FILENO);
	dup2(devnull, STDERR_FILENO);
	close(devnull);

	log_set_stderr(false);
	if (!*c->log_file)
		log_set_syslog(true);
}

/**
 * timer_init() - Start the periodic timer that drives expiry
 * @c:		Execution context
 */
static void timer_init(struct ctx *c)
{
	struct itimerspec it = {
		.it_interval = { 0, TIMER_INTERVAL_MS * 1000000L },
		.it_value = { 0, TIMER_INTERVAL_MS * 1000000L },
	};

	c->timerfd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->timerfd < 0)
		die_perror("timerfd_create");
	if (timerfd_settime(c->timerfd, 0, &it, NULL))
		die_perror("timerfd_settime");
	if (ev_add(c->epollfd, c->timerfd, EPOLLIN, EV_TIMER, 0))
		die("Can't add timer to epoll");
}

/**
 * timer_handler() - Periodic work
 * @c:		Execution context
 *
 * #syscalls read
 */
static void timer_handler(struct ctx *c)
{
	static unsigned ticks;
	uint64_t expirations;

	if (read(c->timerfd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		warn("timerfd read: %s", strerror(errno));

	tcp_timer(c);
	migrate_timer(c);
	log_ratelimit_flush();

	if (++ticks < SLOW_TIMER_TICKS)
		return;
	ticks = 0;
	icmp_timer(c);
	udp_timer(c);
	ndp_timer(c);
}

/**
 * tap_frame_cb() - Adapter: frames from the TX queue to the dispatcher
 * @opaque:	Execution context
 * @frame:	Ethernet frame
 * @len:	Frame length, bytes
 */
static void tap_frame_cb(void *opaque, const uint8_t *frame, size_t len)
{
	tap_handler(opaque, frame, len);
}

/**
 * tx_poll() - Take a batch of the guest's frames, and answer each TCP
 *	       connection once for all its segments in it
 * @c:		Execution context
 *
 * Return: true if guest frames are still pending after this round
 */
static bool tx_poll(struct ctx *c)
{
	bool more;

	tcp_guest_batch(c, true);
	more = vu_frame_tx_poll(c->vdev, tap_frame_cb, c);
	tcp_guest_batch(c, false);
	return more;
}

/**
 * kick_handler() - The guest kicked a queue
 * @c:		Execution context
 * @tag:	Event tag, idx is the queue index
 *
 * Return: true if guest frames are still pending after this round
 *
 * #syscalls read
 */
static bool kick_handler(struct ctx *c, union evtag tag)
{
	struct vu_dev *vdev = c->vdev;
	eventfd_t count;

	if (tag.idx >= VHOST_USER_MAX_QUEUES ||
	    vdev->vq[tag.idx].kick_fd != tag.fd)
		return false;			/* stale event */

	if (eventfd_read(tag.fd, &count) < 0 && errno != EAGAIN)
		debug("kick read: %s", strerror(errno));

	if (tag.idx != VHOST_USER_TX_QUEUE) {
		tcp_rx_ready(c);	/* RX buffers posted: resume sending */
		return false;
	}

	return tx_poll(c);
}

/**
 * front_end_gone() - QEMU hung up: exit if we're done with it
 * @c:		Execution context
 *
 * After a migration that moved our state away, QEMU hanging up is the sign
 * that it completed: we exit 0.  With --one-off, we exit whenever it goes.
 */
static void front_end_gone(struct ctx *c)
{
	if (migrate_source_done(c)) {
		info("Migrated, and the front-end is gone: exiting");
		repair_close(c);
		exit(EXIT_SUCCESS);
	}
	if (c->one_off) {
		info("Front-end gone, --one-off: exiting");
		repair_close(c);
		exit(EXIT_SUCCESS);
	}
	tcp_listen_yield(c);	/* a failed migration's target */
}

/**
 * guest_runs() - The guest's receive queue runs (checked after each
 *		  front-end request)
 * @c:		Execution context
 *
 * Migrated connections carry on (or come back, if a migration failed),
 * then forwarded ports listen, unless our state was handed over.
 */
static void guest_runs(struct ctx *c)
{
	migrate_guest_runs(c);
	if (!migrate_source_done(c)) {
		tcp_listen_start(c);
		udp_listen_start(c);
	}
}

/**
 * loop() - The epoll loop: runs until we exit
 * @c:		Execution context
 *
 * #syscalls epoll_wait clock_gettime
 */
static NORETURN void loop(struct ctx *c)
{
	struct epoll_event events[EPOLL_EVENTS];
	bool tx_pending = false;

	for (;;) {
		int n = epoll_wait(c->epollfd, events, EPOLL_EVENTS,
				   tx_pending ? 0 : -1);
		int i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die_perror("epoll_wait");
		}
		clock_gettime(CLOCK_MONOTONIC, &c->now);

		for (i = 0; i < n; i++) {
			union evtag tag = { .u64 = events[i].data.u64 };
			uint32_t ev = events[i].events;

			trace("event %s fd %d idx %u: 0x%x",
			      tag.kind < ARRAY_SIZE(ev_kind_name) &&
			      ev_kind_name[tag.kind] ?
			      ev_kind_name[tag.kind] : "?",
			      tag.fd, tag.idx, ev);

			switch (tag.kind) {
			case EV_VU_LISTEN:
				vu_accept(c->vdev);
				break;
			case EV_VU_CONN:
				if (c->vdev->conn_fd != tag.fd)
					break;
				if (vu_control_handler(c->vdev, ev) < 0 &&
				    c->vdev->conn_fd < 0)
					front_end_gone(c);
				else if (vu_queue_ready(c->vdev,
							VHOST_USER_RX_QUEUE))
					guest_runs(c);
				migrate_answered(c);
				break;
			case EV_DEVSTATE:
				migrate_handler(c, ev);
				break;
			case EV_REPAIR_LISTEN:
				repair_listen_handler(c, ev);
				break;
			case EV_REPAIR:
				repair_handler(c, ev);
				break;
			case EV_VU_KICK:
				tx_pending |= kick_handler(c, tag);
				break;
			case EV_ICMP:
				icmp_sock_handler(c, tag, ev);
				break;
			case EV_TCP:
				tcp_sock_handler(c, tag, ev);
				break;
			case EV_TCP_LISTEN:
				tcp_listen_handler(c, tag, ev);
				break;
			case EV_UDP:
				udp_sock_handler(c, tag, ev);
				break;
			case EV_UDP_LISTEN:
				udp_listen_handler(c, tag, ev);
				break;
			case EV_TIMER:
				timer_handler(c);
				break;
			default:
				warn("Unexpected event kind %u", tag.kind);
				break;
			}
		}

		if (tx_pending)
			tx_pending = tx_poll(c);
		if (vu_sigbus_check(c->vdev))
			front_end_gone(c);

		flow_defer_handler();
	}
}

/**
 * main() - Entry point
 * @argc:	Argument count
 * @argv:	Options, see conf.c and doc/passt.1
 *
 * Return: does not return; exit status 0 on a clean exit, 1 on errors
 */
int main(int argc, char **argv)
{
	static struct ctx c;	/* big: port maps */
	static struct vu_dev vdev;
	int rc, pid_fd;

	signal(SIGPIPE, SIG_IGN);
	c.fd_conn = -1;
	c.epollfd = -1;
	c.timerfd = -1;

	conf(&c, argc, argv);

	if (c.trace)
		log_set_level(LOG_TRACE);
	else if (c.debug)
		log_set_level(LOG_DEBUG);
	else if (c.quiet)
		log_set_level(LOG_WARNING);
	if (*c.log_file && log_open_file(c.log_file, c.log_size))
		die_perror("Can't open log file %s", c.log_file);

	c.epollfd = epoll_create1(EPOLL_CLOEXEC);
	if (c.epollfd < 0)
		die_perror("epoll_create1");
	c.vdev = &vdev;
	vu_dev_init(c.vdev, c.epollfd);
	migrate_init(&c);

	if (c.fd_conn >= 0) {
		if (vu_set_conn(c.vdev, c.fd_conn))
			die("Can't use --fd %d", c.fd_conn);
	} else {
		rc = vu_listen(c.vdev, c.sock_path);
		if (rc)
			die("Can't listen on %s: %s", c.sock_path,
			    strerror(-rc));
	}
	timer_init(&c);
	if ((rc = repair_listen(&c)))
		die("Can't listen for passt-repair on %s: %s", c.repair_path,
		    strerror(-rc));

	isolate_files();
	flow_init();
	pcap_init(&c);
	pid_fd = pid_file_open(&c);
	isolate_user(&c);
	if (tcp_init(&c) || udp_init(&c))
		die("Can't bind all the forwarded ports");

	if (!c.foreground)
		daemonise(&c, pid_fd);
	else
		pid_file_write(&c, pid_fd, getpid());

	isolate(&c);

	clock_gettime(CLOCK_MONOTONIC, &c.now);
	loop(&c);
}
