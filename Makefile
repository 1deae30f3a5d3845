# mailout - outbound SMTP gateway. See README.md.
#
#   make            build build/mailoutd and build/mailoutctl
#   make run        build and run the demo (etc/demo.conf, var/)
#   make check      unit tests, e2e tests, the same under ASan+UBSan, fuzz smoke
#   make SAN=1      sanitizer build in build/asan/
#   make fuzz       build the libFuzzer targets in build/fuzz/
#   make fuzz T=smtp_cmd S=600   run one target for S seconds

CC	?= cc
PYTHON	:= /usr/bin/python3
SAN	?=
BUILD	:= build
ifeq ($(SAN),1)
BUILD	:= build/asan
endif

-include build/config.mk

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wcast-qual -Wsign-compare -Wformat=2
ifeq ($(SAN),1)
OPT	:= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
else
OPT	:= -O2 -g -D_FORTIFY_SOURCE=2
endif
CFLAGS	:= -std=c17 -D_GNU_SOURCE $(OPT) $(WARN) -fstack-protector-strong -Isrc $(PKG_CFLAGS)
LDFLAGS	:= $(OPT) -Wl,-z,relro,-z,now
LIBS	:= $(PKG_LIBS)

# Every module but the two programs' mains; the folders are the layers
# (README, "The layout").
LIB_DIRS := util config metrics auth spool db smtp client queue master web
LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c)) \
	    $(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c))
CTL_SRCS := $(wildcard src/ctl/*.c)
CTL_OBJS := $(CTL_SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=build/fuzz/%)

all: $(BUILD)/mailoutd $(BUILD)/mailoutctl

# ---- man pages and install (FHS; the Debian package uses the same) ----

PREFIX	?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
LOCALSTATEDIR ?= /var
UNITDIR	?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
MAN_PAGES := build/man/mailoutd.8 build/man/mailoutctl.8 build/man/mailout.conf.5

man: $(MAN_PAGES)

build/man/%.8: man/%.8
	@mkdir -p build/man
	cp $< $@

# mailout.conf(5)'s keys come from the key table, as doc/CONFIG.md does.
build/man/mailout.conf.5: man/mailout.conf.5.head man/mailout.conf.5.tail $(BUILD)/mailoutctl
	@mkdir -p build/man
	{ cat man/mailout.conf.5.head; $(BUILD)/mailoutctl keys --man; \
	  cat man/mailout.conf.5.tail; } > $@.tmp && mv $@.tmp $@

install: all man
	install -D -m 0755 $(BUILD)/mailoutd $(DESTDIR)$(PREFIX)/sbin/mailoutd
	install -D -m 0755 $(BUILD)/mailoutctl $(DESTDIR)$(PREFIX)/sbin/mailoutctl
	install -D -m 0644 build/man/mailoutd.8 $(DESTDIR)$(PREFIX)/share/man/man8/mailoutd.8
	install -D -m 0644 build/man/mailoutctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/mailoutctl.8
	install -D -m 0644 build/man/mailout.conf.5 \
		$(DESTDIR)$(PREFIX)/share/man/man5/mailout.conf.5
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/mailout
	test -e $(DESTDIR)$(SYSCONFDIR)/mailout/mailout.conf || \
		install -m 0644 etc/mailout.conf $(DESTDIR)$(SYSCONFDIR)/mailout/mailout.conf
	install -D -m 0644 dist/systemd/mailout.service $(DESTDIR)$(UNITDIR)/mailout.service
	install -D -m 0644 dist/systemd/mailout-expire.service \
		$(DESTDIR)$(UNITDIR)/mailout-expire.service
	install -D -m 0644 dist/systemd/mailout-expire.timer $(DESTDIR)$(UNITDIR)/mailout-expire.timer
	install -D -m 0644 dist/systemd/mailout.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/mailout.conf
	install -D -m 0644 dist/systemd/mailout.tmpfiles \
		$(DESTDIR)$(PREFIX)/lib/tmpfiles.d/mailout.conf
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/doc/mailout
	install -m 0644 README.md $(filter-out doc/CONFIG.head.md,$(wildcard doc/*.md)) \
		$(DESTDIR)$(PREFIX)/share/doc/mailout/
	install -d -m 0750 $(DESTDIR)$(LOCALSTATEDIR)/spool/mailout $(DESTDIR)$(LOCALSTATEDIR)/lib/mailout

doc: all
	$(BUILD)/mailoutctl keys | cat doc/CONFIG.head.md - > doc/CONFIG.md

.PHONY: doc man install package package-check soak all run check unit layers e2e e2e-dates e2e-pg asan-check fuzz fuzz-smoke test-deps demo-certs format clean
.DELETE_ON_ERROR:

build/config.mk: scripts/deps.sh
	@mkdir -p build
	@scripts/deps.sh > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: %.c build/config.mk
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libmailout.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/mailoutd: $(BUILD)/src/main.o $(BUILD)/libmailout.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/mailoutctl: $(CTL_OBJS) $(BUILD)/libmailout.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libmailout.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS) -lcmocka

# ---- the demo ----

demo-certs:
	@scripts/demo-certs.sh var

run: all demo-certs
	@scripts/ensure-user.sh
	@mkdir -p var
	@scripts/demo-admin.sh var
	@echo "mailout demo: STARTTLS on 127.0.0.1:2587, implicit TLS on 127.0.0.1:2465,"
	@echo "plain on 127.0.0.1:2525 for registered devices (mailoutctl -c etc/demo.conf device add"
	@echo "127.0.0.1 --name demo --owner you@example.edu), internal recipients only;"
	@echo "relayed mail lands in var/outbox/; web pages on http://127.0.0.1:8025/"
	@echo "(admin login: admin, password in var/web-admin-password; SMTP AUTH on 2587:"
	@echo "demo, password in var/smtp-password)"
	$(BUILD)/mailoutd -c etc/demo.conf -f

# ---- tests ----

test-deps:
	@scripts/test-deps.sh
	@scripts/ensure-user.sh

$(BUILD)/tests/policy_golden: tests/golden/policy_golden.c $(BUILD)/libmailout.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

unit: test-deps all $(UNIT_BINS) $(BUILD)/tests/policy_golden
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done
	@set -e; for g in tests/golden/*.in; do \
		echo "== golden $$g"; \
		$(BUILD)/tests/policy_golden $$g | diff -u $${g%.in}.out - ; \
	done; echo "golden: policy verdicts match"
	@$(BUILD)/mailoutctl keys | cat doc/CONFIG.head.md - | diff -u doc/CONFIG.md - \
		&& echo "doc: CONFIG.md matches the key table"
	@$(PYTHON) scripts/layers.py $(BUILD)

# No circle between files, no file over 600 lines, a contract atop every
# header (scripts/layers.py).
layers: all
	@$(PYTHON) scripts/layers.py $(BUILD)

E2E_SELECT ?=
e2e: test-deps all
	MAILOUTD=$(abspath $(BUILD)/mailoutd) MAILOUTCTL=$(abspath $(BUILD)/mailoutctl) \
		$(PYTHON) -m pytest -q -p no:cacheprovider $(E2E_SELECT) tests/e2e

# The tests marked "dates" once more, with the whole gateway a year and a
# half ahead (util/clock.h): no test may depend on today's date.
CLOCK_AHEAD ?= 548d
e2e-dates: test-deps all
	MAILOUT_CLOCK_OFFSET=$(CLOCK_AHEAD) MAILOUTD=$(abspath $(BUILD)/mailoutd) \
		MAILOUTCTL=$(abspath $(BUILD)/mailoutctl) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -m dates tests/e2e

# The same end-to-end tests with every gateway's registry in PostgreSQL (one
# throw-away cluster, tests/e2e/pgserver.py) instead of SQLite.
e2e-pg: test-deps all
	MAILOUT_TEST_REGISTRY=postgresql MAILOUTD=$(abspath $(BUILD)/mailoutd) \
		MAILOUTCTL=$(abspath $(BUILD)/mailoutctl) \
		$(PYTHON) -m pytest -q -p no:cacheprovider -m "not perf" tests/e2e

asan-check: test-deps
	$(MAKE) SAN=1 unit e2e E2E_SELECT='-m "not perf"'

check: unit e2e e2e-dates asan-check fuzz-smoke package-check

# The Debian package: built into build/, then installed, run, reinstalled and
# purged on this machine by tests/package (root only: it uses dpkg).
package: all
	@scripts/package-deps.sh
	scripts/package.sh build

package-check: test-deps
	@scripts/package-deps.sh
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/package

# the full crash soak: 2,000 messages, SIGKILL at random moments
soak: test-deps all
	SOAK_N=2000 MAILOUTD=$(abspath $(BUILD)/mailoutd) MAILOUTCTL=$(abspath $(BUILD)/mailoutctl) \
		$(PYTHON) -m pytest -q -s -p no:cacheprovider tests/e2e/test_soak.py

# ---- fuzzing (clang + libFuzzer) ----

FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc $(PKG_CFLAGS)
FUZZ_LIB_SRCS := $(wildcard src/util/*.c) src/log.c src/address.c src/smtp_cmd.c src/sasl.c src/hello.c \
		 src/smtp_data.c src/hdrscan.c $(wildcard src/spool/*.c) $(wildcard src/config/*.c) \
		 src/web/webparse.c src/web/html.c src/web/words.c src/proxyproto.c

build/fuzz/%: fuzz/%.c $(FUZZ_LIB_SRCS) build/config.mk
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS) $(PKG_LIBS)

fuzz: test-deps $(FUZZ_BINS)
ifdef T
	@mkdir -p build/fuzz/corpus-$(T)
	build/fuzz/fuzz_$(T) -max_total_time=$(or $(S),60) -print_final_stats=1 \
		build/fuzz/corpus-$(T) fuzz/corpus/$(T)
endif

FUZZ_SMOKE_SECONDS ?= 10
fuzz-smoke: test-deps $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
		n=$${f#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus-$$n; \
		echo "== fuzz $$n ($(FUZZ_SMOKE_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SMOKE_SECONDS) build/fuzz/corpus-$$n fuzz/corpus/$$n \
			> build/fuzz/$$n.log 2>&1 || { tail -n 40 build/fuzz/$$n.log; exit 1; }; \
		tail -n 1 build/fuzz/$$n.log; \
	done

format:
	clang-format -i src/*.[ch] src/*/*.[ch] tests/unit/*.c tests/golden/*.c fuzz/*.c bench/*.c

clean:
	rm -rf build

-include $(LIB_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(BUILD)/src/main.d
