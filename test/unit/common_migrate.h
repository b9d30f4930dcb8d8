/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test/unit/common_migrate.h - scaffolding of the migration unit tests
 *
 * Shared by test/unit/migrate.c (the stream) and test/unit/tcp_migrate.c
 * (TCP dump and restore): the wrapped functions and their knobs, the
 * contexts of a source and a target, streams built by hand with correct
 * CRCs (sb_*()), the naive reference checkers written from
 * doc/migration.md, and the transfer driven as QEMU drives it.
 */

#ifndef TEST_UNIT_COMMON_MIGRATE_H
#define TEST_UNIT_COMMON_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "migrate.h"
#include "tcp_migrate.h"

#define GUEST_LEN	68		/* doc: section 1 */
#define REC_LEN		160		/* doc: section 2, per connection */
#define QUEUE_MAX	(64U << 20)	/* doc: "at most 64 MiB" */
#define SB_SIZE		(4U << 20)	/* streams built or read here */

/* How repair_ready() and repair_set() behave */
enum helper_mode {
	HELPER_REAL,		/* repair.c itself: c.repair_fd decides */
	HELPER_FAKE_OK,		/* "connected", claims success, does nothing */
	HELPER_FAKE_FAIL,	/* "connected", every request fails */
	HELPER_INPROC,		/* "connected", sets TCP_REPAIR here (root) */
};

/**
 * struct sb - A stream or a section payload being built
 * @b:		Bytes
 * @len:	Used
 */
struct sb {
	uint8_t b[SB_SIZE];
	size_t len;
};

extern struct ctx c;		/* the daemon under test: the target */
extern struct ctx src;		/* a source, for migrate_build() */
extern struct ctx snap;		/* copy of c, to show nothing changed */
extern struct ctx want;		/* what c should become */
extern int fd_base;		/* descriptors open before the test */
extern int kept[256];		/* test's own sockets, closed at teardown */
extern unsigned nkept;
extern struct mig_sec_ref refs[MIGRATE_SECTIONS_MAX];

extern enum helper_mode helper;
extern unsigned repair_requests;
extern bool filter_eperm;
extern bool md5_missing;
extern unsigned helper_filters;
extern int socket_fail_at;
extern bool socket_fail_all;
extern unsigned socket_calls;
extern int inject_fd;
extern int inject_peer;
extern bool injected;
extern bool injected_queued;
extern int late_fd;
extern int late_peer;
extern bool late_done;
extern bool late_queued;
extern unsigned tap_frames;
extern unsigned nlogs;
extern bool log_echo;
void log_clear(void);
bool logged(int maxpri, const char *needle);
void log_dump(void);
void ctx_source(struct ctx *x);
void ctx_target(struct ctx *x);
void snapshot(void);
void assert_unchanged(void);
void drop_tcp_flows(void);
void mig_main_init(void);
int mig_setup(void **state);
int mig_teardown(void **state);
uint8_t pattern(size_t i);
extern struct sb s1, s2, tp;	/* streams and TCP payloads being built */
void be32_put(uint8_t *p, uint32_t v);
uint32_t be32_get(const uint8_t *p);
void sb_raw(struct sb *s, const void *p, size_t len);
void sb_hdr(struct sb *s, uint32_t version, uint32_t min_version);
void sb_sec(struct sb *s, uint32_t id, const void *p, size_t len);
void sb_end(struct sb *s);
void guest_put(uint8_t *p, const struct ctx *x);
void guest_ref_apply(struct ctx *x, const uint8_t *p);
bool ref_guest_ok(const uint8_t *p, size_t len);
void addr6(uint8_t *a, const char *s);
void rec_init(struct mig_tcp_conn *r, unsigned i, bool v6,
		     uint32_t sndq, uint32_t unsent, uint32_t rcvq);
void tp_begin(struct sb *t, uint32_t count);
void tp_rec(struct sb *t, const struct mig_tcp_conn *r);
bool ref_mapped(const uint8_t *a);
int ref_tcp_check(const uint8_t *p, size_t len, unsigned active);
void sb_full(struct sb *s, uint32_t version, uint32_t min_version,
		    const struct sb *tcp);
void sb_one(struct sb *s, uint32_t id, const void *p, size_t len);
int parse(const struct sb *s);
int parse_tcp(const struct sb *t);
void tp_three(struct sb *t);
int x_start(int fd, uint32_t dir);
int x_check(void);
void x_reset(void);
int load_pipe(const uint8_t *p, size_t len, bool handler);
int load_pieces(const uint8_t *p, size_t len);
int save_pipe(struct sb *s);
void save_pipe_unchecked(struct sb *s);

#endif /* TEST_UNIT_COMMON_MIGRATE_H */
