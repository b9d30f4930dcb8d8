# SPDX-License-Identifier: GPL-2.0-or-later
# passt: vhost-user network back-end with live migration of its state

CC	?= cc
PREFIX	?= /usr/local

WARN	:= -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wvla -Wframe-larger-than=8192
# Probe what the compiler lacks or already does
cc-opt	= $(shell $(CC) -Werror $(1) -x c -c -o /dev/null /dev/null 2>/dev/null && echo $(1))
FORTIFY	:= $(shell $(CC) -dM -E -x c /dev/null -O2 | grep -q _FORTIFY_SOURCE || echo -D_FORTIFY_SOURCE=2)
HARDEN	:= -O2 -g $(FORTIFY) -fstack-protector-strong \
	   $(call cc-opt,-fstack-clash-protection) $(call cc-opt,-fcf-protection) -fPIE
LDHARD	:= -pie -Wl,-z,relro,-z,now,-z,noexecstack

CPPFLAGS += -D_GNU_SOURCE
CFLAGS	+= -std=c11 $(WARN) $(HARDEN)
LDFLAGS	+= $(LDHARD)
LDLIBS	:= -lseccomp -lcap-ng

SRCS	:= passt.c conf.c io.c log.c util.c netlink.c checksum.c vhost_user.c \
	   vu_vring.c vu_msg.c vu_mem.c virtio.c vu_common.c tap.c tap_out.c \
	   arp.c dhcp.c dns.c icmp.c ndp.c dhcpv6.c pcap.c flow.c fwd.c udp.c \
	   tcp.c tcp_guest.c tcp_listen.c repair.c migrate.c mig_buf.c \
	   tcp_migrate.c tcp_restore.c isolation.c
OBJS	:= $(SRCS:.c=.o)
BIN	:= passt
REPAIR_BIN := passt-repair

# Unit tests: test/unit/<name>.c linked with the real modules it tests
UNIT	:= virtio vhost_user dhcp arp conf ndp dhcpv6 flow udp tcp repair migrate bigq
UNIT_BIN := $(UNIT:%=test/unit/test_%)
unit_deps_virtio	:= virtio.o vu_mem.o util.o log.o io.o
unit_deps_vhost_user	:= vhost_user.o vu_vring.o vu_msg.o virtio.o vu_mem.o \
			   util.o log.o io.o
L2_OBJS		:= tap.o tap_out.o arp.o dhcp.o dns.o icmp.o ndp.o dhcpv6.o pcap.o \
		   checksum.o tcp.o tcp_guest.o tcp_listen.o udp.o flow.o fwd.o
unit_deps_dhcp		:= $(L2_OBJS) util.o log.o io.o
unit_wrap_dhcp		:= -Wl,--wrap=vu_frame_send
unit_deps_arp		:= $(L2_OBJS) util.o log.o io.o
unit_wrap_arp		:= -Wl,--wrap=vu_frame_send
unit_deps_conf		:= conf.o fwd.o netlink.o util.o log.o io.o
unit_wrap_conf		:=
unit_deps_ndp		:= $(L2_OBJS) util.o log.o io.o
unit_wrap_ndp		:= -Wl,--wrap=vu_frame_send
unit_deps_dhcpv6	:= $(L2_OBJS) util.o log.o io.o
unit_wrap_dhcpv6	:= -Wl,--wrap=vu_frame_send
unit_deps_flow		:= flow.o util.o log.o io.o
unit_wrap_flow		:=
unit_deps_tcp		:= tcp.o tcp_guest.o tcp_listen.o flow.o fwd.o checksum.o \
			   util.o log.o io.o
unit_wrap_tcp		:= -Wl,--wrap=tap_send_l4 -Wl,--wrap=setsockopt
unit_deps_udp		:= udp.o flow.o fwd.o checksum.o util.o log.o io.o
unit_wrap_udp		:= -Wl,--wrap=tap_send_l4
unit_deps_repair	:= repair.o util.o log.o io.o
unit_wrap_repair	:= -Wl,--wrap=poll
unit_deps_migrate	:= migrate.o mig_buf.o tcp_migrate.o tcp_restore.o tcp.o \
			   tcp_guest.o tcp_listen.o flow.o fwd.o checksum.o \
			   repair.o util.o log.o io.o
unit_wrap_migrate	:= -Wl,--wrap=tap_send_l4 -Wl,--wrap=repair_ready \
			   -Wl,--wrap=setsockopt \
			   -Wl,--wrap=repair_set -Wl,--wrap=socket \
			   -Wl,--wrap=recv -Wl,--wrap=close -Wl,--wrap=logmsg
unit_deps_bigq		:= migrate.o mig_buf.o tcp_migrate.o tcp_restore.o tcp.o tcp_guest.o tcp_listen.o \
			   flow.o fwd.o checksum.o repair.o util.o log.o io.o
unit_wrap_bigq		:= -Wl,--wrap=tap_send_l4 -Wl,--wrap=logmsg \
			   -Wl,--wrap=repair_setbuf
test/unit/test_bigq: $(REPAIR_BIN)	# run as a black box

.PHONY: FORCE all clean check unit integration integration-valgrind valgrind cppcheck clang-tidy layers demo bench

all: $(BIN) $(REPAIR_BIN)

$(BIN): $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The seccomp allow-list, from the #syscalls comments: seccomp.sh rewrites
# it only when it changes
seccomp_allow.h: FORCE
	@CC="$(CC)" ./seccomp.sh $@ $(SRCS)
isolation.o: seccomp_allow.h
FORCE:

# The same daemon, whose filter also allows what valgrind needs
isolation.valgrind.o: isolation.c seccomp_allow.h $(wildcard *.h)
	$(CC) $(CPPFLAGS) -DPASST_VALGRIND $(CFLAGS) -c -o $@ $<
passt.valgrind: $(filter-out isolation.o,$(OBJS)) isolation.valgrind.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(REPAIR_BIN): passt-repair.c
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^

%.o: %.c $(wildcard *.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
test/unit/test_%: test/unit/%.c $$(unit_deps_$$*) $(wildcard *.h)
	$(CC) $(CPPFLAGS) -I. $(CFLAGS) -Wno-missing-prototypes $(LDFLAGS) \
		-o $@ $< $(unit_deps_$*) $(unit_wrap_$*) -lcmocka

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "== $$t"; ./$$t || exit 1; done

valgrind: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "== valgrind $$t"; \
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite ./$$t || exit 1; done

integration: $(BIN) $(REPAIR_BIN)
	test/run.sh

# The basic integration tests again, the daemon under valgrind memcheck
integration-valgrind: $(BIN) passt.valgrind
	test/valgrind-check.sh

check: cppcheck layers clang-tidy unit valgrind integration integration-valgrind \
	hostile fuzz-check

demo: $(BIN)
	test/demo.sh

bench: $(BIN)
	test/bench.sh

cppcheck:
	cppcheck --std=c11 --error-exitcode=1 --enable=warning,portability \
		--inline-suppr --quiet -D_GNU_SOURCE $(SRCS) passt-repair.c

# Includes run one way (no cycle between modules), no .c over 1,200 lines
layers:
	test/layers.sh

clang-tidy:
	clang-tidy --quiet --warnings-as-errors='*' \
		--checks='-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-macro-parentheses,cert-err34-c' \
		$(SRCS) passt-repair.c -- $(CPPFLAGS) -std=c11

install: $(BIN) $(REPAIR_BIN)
	install -D -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/$(BIN)
	install -D -m 755 $(REPAIR_BIN) $(DESTDIR)$(PREFIX)/bin/$(REPAIR_BIN)
	install -D -m 644 doc/passt.1 $(DESTDIR)$(PREFIX)/share/man/man1/passt.1

clean:
	rm -f $(BIN) $(REPAIR_BIN) passt.valgrind *.o $(UNIT_BIN) seccomp_allow.h

# Fuzzing (test/fuzz/): libFuzzer targets linked with the real modules,
# built again with clang, ASan and UBSan into test/fuzz/build/.  They run
# in a fresh network namespace (test/fuzz/run.sh): the sockets the
# daemon's code opens can't reach past loopback.
FUZZ_CC		?= clang
FUZZ_TIME	?= 60
FUZZ_DIR	:= test/fuzz/build
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS	:= -std=c11 $(WARN) -Wno-format-nonliteral -g -O1 \
		   -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_TARGETS	:= vhost_user virtio tap migrate
FUZZ_BIN	:= $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_WRAP	:= -Wl,--wrap=die -Wl,--wrap=die_perror
fuzz_deps_vhost_user	:= vhost_user.o vu_vring.o vu_msg.o virtio.o vu_mem.o \
			   util.o log.o io.o
fuzz_deps_virtio	:= virtio.o vu_common.o vhost_user.o vu_vring.o vu_msg.o \
			   vu_mem.o util.o log.o io.o
fuzz_deps_tap		:= $(L2_OBJS) util.o log.o io.o
fuzz_wrap_tap		:= -Wl,--wrap=vu_frame_send -Wl,--wrap=getrandom
fuzz_deps_migrate	:= $(L2_OBJS) migrate.o mig_buf.o tcp_migrate.o \
			   tcp_restore.o repair.o util.o log.o io.o
fuzz_wrap_migrate	:= -Wl,--wrap=vu_frame_send -Wl,--wrap=getrandom

.PHONY: fuzz fuzz-check asan
.PRECIOUS: $(FUZZ_DIR)/%.o

$(FUZZ_DIR)/%.o: %.c $(wildcard *.h)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
		-c -o $@ $<

$(FUZZ_DIR)/fuzz_%: test/fuzz/%.c test/fuzz/common.c test/fuzz/common.h \
		    $$(addprefix $(FUZZ_DIR)/,$$(fuzz_deps_$$*)) $(wildcard *.h)
	$(FUZZ_CC) $(CPPFLAGS) -I. $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ \
		$< test/fuzz/common.c $(addprefix $(FUZZ_DIR)/,$(fuzz_deps_$*)) \
		$(FUZZ_WRAP) $(fuzz_wrap_$*)

fuzz: $(FUZZ_BIN)
	test/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-check: $(FUZZ_BIN)
	test/fuzz/run.sh --check 10 $(FUZZ_TARGETS)

# The unit tests again, with ASan and UBSan, in test/unit/asan/
ASAN_DIR	:= test/unit/asan
# (UBSan reports are recoverable, for the suppressions, and still fatal:
# halt_on_error=1)
ASAN_CFLAGS	:= -std=c11 $(WARN) -g -O1 -fno-omit-frame-pointer \
		   -fsanitize=address,undefined
ASAN_BIN	:= $(UNIT:%=$(ASAN_DIR)/test_%)
ASAN_SUPP	:= test/fuzz/ubsan-unit.supp
ASAN_ENV	:= ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(ASAN_SUPP)
.PRECIOUS: $(ASAN_DIR)/%.o

$(ASAN_DIR)/%.o: %.c $(wildcard *.h)
	@mkdir -p $(ASAN_DIR)
	$(CC) $(CPPFLAGS) $(ASAN_CFLAGS) -c -o $@ $<

$(ASAN_DIR)/test_%: test/unit/%.c $$(addprefix $(ASAN_DIR)/,$$(unit_deps_$$*)) \
		    $(wildcard *.h)
	$(CC) $(CPPFLAGS) -I. $(ASAN_CFLAGS) -Wno-missing-prototypes -o $@ $< \
		$(addprefix $(ASAN_DIR)/,$(unit_deps_$*)) $(unit_wrap_$*) -lcmocka

asan: $(ASAN_BIN)
	@for t in $(ASAN_BIN); do echo "== asan $$t"; \
		$(ASAN_ENV) ./$$t || exit 1; done

# Hostile front-end (test/hostile.c) against a running daemon
test/hostile: test/hostile.c $(wildcard *.h)
	$(CC) $(CPPFLAGS) -I. $(CFLAGS) $(LDFLAGS) -o $@ $<

.PHONY: hostile
hostile: $(BIN) test/hostile
	test/hostile.sh
