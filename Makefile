# SPDX-License-Identifier: GPL-2.0
# fringe: build the BPF objects, their skeletons, the controller and the tests into build/.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   := build

CC      ?= gcc
CLANG   ?= $(shell command -v clang-19 || command -v clang)
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
	   -Iinclude -I$(BUILD)/skel -DFRINGE_VERSION='"$(VERSION)"' -MMD -MP
BPF_CFLAGS := -O2 -g -fstandalone-debug -Wall -Werror -target bpf -mcpu=v3 -D__FRINGE_BPF__ -Iinclude -Ibpf \
	   -I/usr/include/$(shell uname -m)-linux-gnu -MMD -MP

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BENCH_BPF := $(patsubst tests/bench/%.bpf.c,$(BUILD)/bench/%.bpf.o,$(wildcard tests/bench/*.bpf.c)) \
	     $(BUILD)/bench/fringe_calls.bpf.o $(BUILD)/bench/fringe_memo_miss.bpf.o \
	     $(foreach s,1 2 3,$(BUILD)/bench/fringe_stage$(s).bpf.o)
SKELS     := $(patsubst bpf/%.bpf.c,$(BUILD)/skel/%.skel.h,$(BPF_SRCS))
# The controller in layers, each its own static library, lowest first. A layer
# sees only its own headers and those below it, so an upward include fails to
# compile and an upward call fails to link (docs/design.md, "Layers").
LAYERS     := base lang kernel out cmd
INC_base   := -Iuser/base
INC_lang   := $(INC_base) -Iuser/lang
INC_kernel := $(INC_lang) -Iuser/kernel
INC_out    := $(INC_kernel) -Iuser/out
INC_cmd    := $(INC_out) -Iuser/cmd
layer_lib   = $(BUILD)/lib$(1).a
layer_objs  = $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out user/cmd/main.c,$(wildcard user/$(1)/*.c)))
# The libraries a program of layer L links, L's first (the link order).
pos_base := 1
pos_lang := 2
pos_kernel := 3
pos_out := 4
pos_cmd := 5
reverse     = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
libs_upto   = $(foreach l,$(call reverse,$(wordlist 1,$(pos_$(1)),$(LAYERS))),$(call layer_lib,$(l)))
LIBS        := $(foreach l,$(LAYERS),$(call layer_lib,$(l)))
BIN         := $(BUILD)/fringe
# The outside libraries each layer may call, its own and those below it: a
# language unit test links liblang.a with LDLIBS_lang only, so a call into
# libbpf, libxdp or anything of a higher layer fails to link there.
LDLIBS_base   := -ljson-c -lm
LDLIBS_lang   := -lgnutls -lcrypt $(LDLIBS_base)
LDLIBS_kernel := -lxdp -lbpf -lelf -lz -lmnl -lcurl $(LDLIBS_lang)
LDLIBS_out    := -lpcap $(LDLIBS_kernel)
LDLIBS_cmd    := -lmicrohttpd $(LDLIBS_out)
LDLIBS        := $(LDLIBS_cmd)
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRCS))
TEST_HELPERS := $(filter-out tests/bpf/test_%.c,$(wildcard tests/bpf/*.c))

.DELETE_ON_ERROR:
.SECONDARY:
PYTHON3 ?= /usr/bin/python3

.PHONY: bench-stages bench-profile
.PHONY: all demo test bench install clean help deps unit bpf-test integration tests-build man fuzz fuzz-build

all: $(BIN) ## build the controller and BPF objects (default)

help: ## list the targets
	@echo 'fringe make targets:'
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | awk -F'\t' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo 'variables: V=1 (show commands), PREFIX, DESTDIR, CLANG, BPFTOOL'

deps: ## install missing Debian packages (root)
	$(Q)scripts/deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -c $< -o $@

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MF $(@:.o=.d) -c $< -o $@

# The data plane again, counting the runs of each helper call site (bpf/lib/calls.h).
$(BUILD)/bench/fringe_calls.bpf.o: bpf/fringe_xdp.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFRINGE_COUNT_CALLS -MF $(@:.o=.d) -c $< -o $@

# ... and with a rule memo that always misses: every packet a flow's first.
$(BUILD)/bench/fringe_memo_miss.bpf.o: bpf/fringe_xdp.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFRINGE_RULE_MEMO_MISS -MF $(@:.o=.d) -c $< -o $@

# ... and stopping after stage N (bpf/fringe_xdp.bpf.c), for `make bench-stages`.
$(BUILD)/bench/fringe_stage%.bpf.o: bpf/fringe_xdp.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DFRINGE_PROFILE_STAGE=$* -MF $(@:.o=.d) -c $< -o $@

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# Sources under user/LAYER/ see that layer's include path; tests see the one
# of the layer they test (unit tests: the languages, unless listed here).
LAYER_OF_test_sflow := out
LAYER_OF_test_learn := cmd
LAYER_OF_test_cli := cmd
LAYER_OF_test_http := cmd
obj_inc = $(if $(filter user/%,$(1)),$(INC_$(word 2,$(subst /, ,$(1)))),$(if $(filter tests/unit/%,$(1)),$(INC_$(or $(LAYER_OF_$(notdir $(basename $(1)))),lang)),$(INC_cmd)))
unit_layer = $(or $(LAYER_OF_$(1)),lang)

$(BUILD)/obj/%.o: %.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(call obj_inc,$<) -c $< -o $@

$(foreach l,$(LAYERS),$(eval $(call layer_lib,$(l)): $(call layer_objs,$(l))))
# The dashboard's files (user/out/web/), embedded in the binary as a table of
# byte arrays (user/out/web.h) that the out layer's library carries.
WEB_FILES := $(sort $(wildcard user/out/web/*))
$(BUILD)/gen/web_files.c: $(WEB_FILES) Makefile
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q){ echo '/* Generated by make from user/out/web/: do not edit. */'; \
	  echo '#include "web.h"'; i=0; \
	  for f in $(WEB_FILES); do \
	    echo "static const unsigned char f$$i[] = {"; xxd -i <$$f; echo "};"; i=$$((i + 1)); \
	  done; \
	  echo 'const struct web_file web_files[] = {'; i=0; \
	  for f in $(WEB_FILES); do \
	    n=$${f##*/}; p=/$$n; [ "$$n" = index.html ] && p=/; \
	    echo "	{ \"$$p\", \"$$n\", f$$i, sizeof(f$$i) },"; i=$$((i + 1)); \
	  done; \
	  echo '	{ 0 }'; echo '};'; } >$@

$(BUILD)/obj/gen/web_files.o: $(BUILD)/gen/web_files.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(INC_out) -c $< -o $@

$(call layer_lib,out): $(BUILD)/obj/gen/web_files.o
$(LIBS):
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/obj/user/cmd/main.o $(LIBS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $< $(call libs_upto,cmd) -o $@ $(LDLIBS)

.SECONDEXPANSION:
$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $$(call libs_upto,$$(call unit_layer,$$*))
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(call libs_upto,$(call unit_layer,$*)) -o $@ $(LDLIBS_$(call unit_layer,$*)) -lcmocka

$(BUILD)/tests/bpf/%: $(BUILD)/obj/tests/bpf/%.o $(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_HELPERS)) $(LIBS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(filter %.o,$^) $(call libs_upto,cmd) -o $@ $(LDLIBS) -lcmocka

$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(patsubst %.c,$(BUILD)/obj/%.o,$(TEST_HELPERS)) $(LIBS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(filter %.o,$^) $(call libs_upto,cmd) -o $@ $(LDLIBS)

# libFuzzer targets of the languages (tests/fuzz/), built by clang under ASan
# and UBSan from the sources of the layers they test (the static libraries
# are gcc's, uninstrumented). Only where clang has the fuzzer runtime
# (libclang-rt-19-dev): elsewhere the fuzz tests are skipped with that reason.
FUZZ_CC      ?= $(CLANG)
FUZZ_SECONDS ?= 180
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=undefined -Iinclude $(INC_lang) -Itests/fuzz -MMD -MP
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJS    := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(wildcard user/base/*.c user/lang/*.c))
FUZZ_OK      := $(shell printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' | \
		$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -x c - -o /dev/null 2>/dev/null && echo yes)

$(BUILD)/fuzz/obj/%.o: %.c
	$(call msg,FUZZCC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(FUZZ_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $^ -o $@ $(LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: ## fuzz each language parser for FUZZ_SECONDS (default 180) under ASan+UBSan
	$(if $(FUZZ_OK),,$(error fuzzing needs $(FUZZ_CC) with libFuzzer: install libclang-rt-19-dev (make deps)))
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)for t in $(notdir $(FUZZ_BINS)); do tests/fuzz/run-fuzz.sh $$t $(FUZZ_SECONDS) || exit 1; done

tests-build: $(BIN) $(UNIT_BINS) $(BPFT_BINS) $(TOOL_BINS) $(BENCH_BPF) $(if $(FUZZ_OK),$(FUZZ_BINS))

test: deps ## install what is missing, build, run every test
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)FRINGE_DEPS=installed scripts/run-tests.sh

man: $(BUILD)/tests/unit/test_cli ## rewrite docs/fringe.8's SYNOPSIS and README's command summary from the command table
	$(Q)$< --write-man docs/fringe.8 README.md

unit: $(UNIT_BINS) ## run the unprivileged unit tests only
	$(Q)scripts/run-tests.sh unit

demo: deps ## install what is missing, build, run the IoT-gateway demo
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench: deps ## measure per-packet cost, throughput and load times
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)scripts/bench.sh

bench-stages: tests-build ## where the per-packet time goes: builds stopping after each stage, side by side
	$(Q)BENCH_ONLY=stages $(BUILD)/tests/tools/bench_cost >$(BUILD)/bench/stages.json
	$(Q)$(PYTHON3) scripts/bench_report.py stages $(BUILD)/bench/stages.json

bench-profile: tests-build ## where the per-packet time goes: perf samples by instruction and source line (PROFILE=4096|iot|veth)
	$(Q)PYTHON3=$(PYTHON3) scripts/bench_profile.sh

install: $(BIN) ## install the controller, man page and units under $(DESTDIR)$(PREFIX)
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/sbin/fringe
	$(if $(wildcard docs/fringe.8),install -D -m 0644 docs/fringe.8 $(DESTDIR)$(PREFIX)/share/man/man8/fringe.8)
	$(if $(wildcard deploy/fringe.service),install -D -m 0644 deploy/fringe.service $(DESTDIR)/lib/systemd/system/fringe.service)
	$(foreach f,$(shell find examples -type f),install -D -m 0644 $(f) $(DESTDIR)$(PREFIX)/share/fringe/$(f);)
	$(if $(wildcard examples/fringe.conf),test -e $(DESTDIR)/etc/fringe/fringe.conf || install -D -m 0644 examples/fringe.conf $(DESTDIR)/etc/fringe/fringe.conf)

clean: ## remove build/
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
