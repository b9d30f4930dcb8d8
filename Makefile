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
	   udp_migrate.c \
	   tcp.c tcp_guest.c tcp_listen.c repair.c migrate.c mig_guest.c mig_buf.c \
	   mig_stream.c mig_copy.c \
	   tcp_migrate.c tcp_restore.c tcp_mig_wire.c tcp_guard.c tcp_deaf.c \
	   isolation.c
OBJS	:= $(SRCS:.c=.o)
BIN	:= passt
REPAIR_BIN := passt-repair
# passt-ctl: the operator's tool, built from the daemon's own modules
CTL_BIN	:= passt-ctl
CTL_SRCS := passt-ctl.c mig_decode.c

# Unit tests: test/unit/<name>.c, one binary each, linked against the
# daemon's modules gathered in an archive (all but passt.o: the linker takes
# only the objects a test reaches) and the shared fixtures.  A test names
# the functions it replaces with -Wl,--wrap in a marker comment, e.g.
#	/* WRAP: vu_frame_send setsockopt */
# so that a new test is one new file.  Helpers, not tests: test/unit/common*.c
# and test/frontend.c (the fake vhost-user front-end).
comma	:= ,
LIB_OBJS := $(filter-out passt.o,$(OBJS)) mig_decode.o
UNIT_HELPERS := $(wildcard test/unit/common*.c) test/frontend.c
UNIT_HDRS := $(wildcard test/unit/*.h) test/frontend.h $(wildcard *.h)
UNIT	:= $(filter-out common%,$(patsubst test/unit/%.c,%,$(wildcard test/unit/*.c)))
UNIT_BIN := $(UNIT:%=test/unit/test_%)
# Tests that run passt-repair as a black box
UNIT_REPAIR := bigq
# wrap_flags(file): -Wl,--wrap=X for each X its WRAP: markers name
wrap_flags = $(addprefix -Wl$(comma)--wrap=,$(shell sed -n 's|.*/\* WRAP: \(.*\) \*/.*|\1|p' $(1)))
# link_group(archives...): archives that call each other, searched in a loop
link_group = -Wl,--start-group $(1) -Wl,--end-group

.PHONY: FORCE all clean check unit integration integration-valgrind valgrind cppcheck clang-tidy layers demo bench

all: $(BIN) $(REPAIR_BIN) $(CTL_BIN)

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

$(CTL_BIN): passt-ctl.o libpasst.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(REPAIR_BIN): passt-repair.c
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^

%.o: %.c $(wildcard *.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

libpasst.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

test/unit/%.o: test/unit/%.c $(UNIT_HDRS)
	$(CC) $(CPPFLAGS) -I. -Itest $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<
test/frontend.o: test/frontend.c $(UNIT_HDRS)
	$(CC) $(CPPFLAGS) -I. $(CFLAGS) -c -o $@ $<

.PRECIOUS: test/unit/%.o
test/unit/libunit.a: $(UNIT_HELPERS:.c=.o)
	rm -f $@
	$(AR) rcs $@ $^

$(UNIT_REPAIR:%=test/unit/test_%): $(REPAIR_BIN)
test/unit/test_%: test/unit/%.o test/unit/libunit.a libpasst.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< \
		$(call link_group,test/unit/libunit.a libpasst.a) \
		$(call wrap_flags,test/unit/$*.c) -lcmocka

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
		--inline-suppr --quiet -D_GNU_SOURCE $(SRCS) passt-repair.c $(CTL_SRCS)

# Includes run one way (no cycle between modules), no .c over 1,200 lines
layers:
	test/layers.sh

clang-tidy:
	clang-tidy --quiet --warnings-as-errors='*' \
		--checks='-*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-macro-parentheses,cert-err34-c' \
		$(SRCS) passt-repair.c $(CTL_SRCS) -- $(CPPFLAGS) -std=c11

install: $(BIN) $(REPAIR_BIN) $(CTL_BIN)
	install -D -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/$(BIN)
	install -D -m 755 $(REPAIR_BIN) $(DESTDIR)$(PREFIX)/bin/$(REPAIR_BIN)
	install -D -m 644 doc/passt.1 $(DESTDIR)$(PREFIX)/share/man/man1/passt.1

clean:
	rm -f $(BIN) $(REPAIR_BIN) $(CTL_BIN) passt.valgrind *.o libpasst.a $(UNIT_BIN) \
		test/unit/*.o test/unit/libunit.a test/*.o test/hostile seccomp_allow.h

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
# Each target names its own wraps with WRAP: markers, as the unit tests;
# test/fuzz/common.c stands in for die()
FUZZ_WRAP	:= -Wl,--wrap=die -Wl,--wrap=die_perror
FUZZ_LIB	:= $(FUZZ_DIR)/libpasst.a
FUZZ_HELPERS	:= $(FUZZ_DIR)/test/fuzz/common.o $(FUZZ_DIR)/test/frontend.o

.PHONY: fuzz fuzz-check asan
.PRECIOUS: $(FUZZ_DIR)/%.o $(FUZZ_DIR)/test/%.o

$(FUZZ_DIR)/%.o: %.c $(UNIT_HDRS) test/fuzz/common.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -I. -Itest $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(LIB_OBJS:%=$(FUZZ_DIR)/%)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: test/fuzz/%.c $(FUZZ_HELPERS) $(FUZZ_LIB) $(UNIT_HDRS) \
		    test/fuzz/common.h
	$(FUZZ_CC) $(CPPFLAGS) -I. -Itest $(FUZZ_CFLAGS) -fsanitize=fuzzer \
		-o $@ $< $(call link_group,$(FUZZ_HELPERS) $(FUZZ_LIB)) \
		$(FUZZ_WRAP) $(call wrap_flags,$<)

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
.PRECIOUS: $(ASAN_DIR)/%.o $(ASAN_DIR)/test/%.o

$(ASAN_DIR)/%.o: %.c $(wildcard *.h)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ASAN_CFLAGS) -c -o $@ $<
$(ASAN_DIR)/test/%.o: test/%.c $(UNIT_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -I. -Itest $(ASAN_CFLAGS) -Wno-missing-prototypes \
		-c -o $@ $<

$(ASAN_DIR)/libpasst.a: $(LIB_OBJS:%=$(ASAN_DIR)/%)
	rm -f $@
	$(AR) rcs $@ $^

$(ASAN_DIR)/libunit.a: $(UNIT_HELPERS:%.c=$(ASAN_DIR)/%.o)
	rm -f $@
	$(AR) rcs $@ $^

$(UNIT_REPAIR:%=$(ASAN_DIR)/test_%): $(REPAIR_BIN)
$(ASAN_DIR)/test_%: $(ASAN_DIR)/test/unit/%.o $(ASAN_DIR)/libunit.a \
		    $(ASAN_DIR)/libpasst.a
	$(CC) $(ASAN_CFLAGS) -o $@ $< \
		$(call link_group,$(ASAN_DIR)/libunit.a $(ASAN_DIR)/libpasst.a) \
		$(call wrap_flags,test/unit/$*.c) -lcmocka

asan: $(ASAN_BIN)
	@for t in $(ASAN_BIN); do echo "== asan $$t"; \
		$(ASAN_ENV) ./$$t || exit 1; done

# Hostile front-end (test/hostile.c) against a running daemon
test/hostile: test/hostile.c test/frontend.c test/frontend.h $(wildcard *.h)
	$(CC) $(CPPFLAGS) -I. $(CFLAGS) $(LDFLAGS) -o $@ $< test/frontend.c

.PHONY: hostile
hostile: $(BIN) test/hostile
	test/hostile.sh
