################################################################################
#
# cube-agent
#
################################################################################

# Source: the cube-hal checkout this external tree belongs to, with the
# "local" site method. The agent and the tools that launch and attest the
# image come from one tree and change together, so the image must carry the
# agent of that exact tree, edits included: a pinned release tarball could
# not follow it, and there is no published release of the agent to pin.
# Build from another checkout (e.g. when this tree is cube-hal's embedded
# copy, written outside any checkout) with
#   make CUBE_HAL_DIR=/path/to/cube-hal
CUBE_HAL_DIR ?= $(realpath $(BR2_EXTERNAL_CUBE_PATH)/..)
CUBE_AGENT_VERSION = local
CUBE_AGENT_SITE = $(CUBE_HAL_DIR)
CUBE_AGENT_SITE_METHOD = local
CUBE_AGENT_LICENSE = Apache-2.0
CUBE_AGENT_GOMOD = github.com/ultravioletrs/cube-hal
CUBE_AGENT_BUILD_TARGETS = agent/cmd/cube-agent
CUBE_AGENT_LDFLAGS = -s -w
# A static, pure-Go binary: no libc dependency inside the VM.
CUBE_AGENT_GO_ENV = CGO_ENABLED=0

# Never copy Buildroot's output directory (the default ./output of a
# checkout, or wherever O= points inside it) or build products back into the
# build directory.
CUBE_AGENT_OUTPUT_IN_SRC = \
	$(patsubst $(CUBE_HAL_DIR)/%,%,$(filter $(CUBE_HAL_DIR)/%,$(realpath $(BASE_DIR))))
CUBE_AGENT_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude=/output/ --exclude=/dist/ --exclude=/cube-hal --exclude=/vendor/ \
	--exclude=/overlay/ \
	$(if $(CUBE_AGENT_OUTPUT_IN_SRC),--exclude=/$(CUBE_AGENT_OUTPUT_IN_SRC)/)

define CUBE_AGENT_CHECK_SRCDIR
	@test -f $(CUBE_HAL_DIR)/go.mod -a -d $(CUBE_HAL_DIR)/agent/cmd/cube-agent || { \
		echo "cube-agent: '$(CUBE_HAL_DIR)' is not a cube-hal checkout (no go.mod and agent/cmd/cube-agent)." >&2; \
		echo "cube-agent: build with: make CUBE_HAL_DIR=/path/to/cube-hal" >&2; \
		exit 1; }
endef
CUBE_AGENT_PRE_RSYNC_HOOKS += CUBE_AGENT_CHECK_SRCDIR

# Go modules. Buildroot's Go infrastructure vendors a package's modules when
# it downloads the package's tarball; a local package is never downloaded,
# so it is vendored here, before every build (a rebuild after go.mod changed
# then stays consistent). Modules come first from the build host's own Go
# module cache, the one `go build` in the checkout filled: with it the build
# works offline. What is missing there comes from $(GOPROXY), or from the
# public proxy when that is unset. Override CUBE_AGENT_GOPROXY to change the
# order.
CUBE_AGENT_HOST_GOMODCACHE ?= \
	$(or $(GOMODCACHE),$(addsuffix /pkg/mod,$(or $(firstword $(subst :, ,$(GOPATH))),$(HOME)/go)))
CUBE_AGENT_GOPROXY ?= \
	file://$(CUBE_AGENT_HOST_GOMODCACHE)/cache/download,$(or $(GOPROXY),https://proxy.golang.org)

# go.mod may name a newer patch release than Buildroot's Go (say go 1.26.8
# against 1.26.6), which GOTOOLCHAIN=local refuses. Patch releases never
# change the language, so the build copy is relaxed to Buildroot's version
# when only the patch number differs; a newer minor release still fails,
# with Go's own message.
define CUBE_AGENT_GO_DIRECTIVE_FIXUP
	want=$$(sed -n 's/^go \([0-9.]*\).*/\1/p' $(@D)/go.mod); \
	have=$(GO_VERSION); \
	if [ "$${want%.*}" = "$${have%.*}" ] && \
		[ "$$(printf '%s\n%s\n' "$$want" "$$have" | sort -V | tail -n 1)" != "$$have" ]; then \
		echo "cube-agent: go.mod asks for go $$want, building with go $$have"; \
		cd $(@D) && $(HOST_GO_COMMON_ENV) GOFLAGS=-mod=mod \
			$(GO_BIN) mod edit -go=$$have -toolchain=none; \
	fi
endef

define CUBE_AGENT_VENDOR_MODULES
	cd $(@D) && $(HOST_GO_COMMON_ENV) GOFLAGS=-mod=mod \
		GOPROXY="$(CUBE_AGENT_GOPROXY)" \
		$(GO_BIN) mod vendor
endef
CUBE_AGENT_PRE_BUILD_HOOKS += CUBE_AGENT_GO_DIRECTIVE_FIXUP CUBE_AGENT_VENDOR_MODULES

# /etc/cube/agent.env: every option, written by a script from the .config
# (tested on its own, see agent-env.sh). It may hold the certs token: 0600.
define CUBE_AGENT_INSTALL_ENV_FILE
	$(INSTALL) -d -m 0755 $(TARGET_DIR)/etc/cube
	$(SHELL) $(CUBE_AGENT_PKGDIR)/agent-env.sh $(BR2_CONFIG) $(TARGET_DIR)/etc/cube/agent.env
	$(INSTALL) -d -m 0700 $(TARGET_DIR)/var/lib/cube
endef
CUBE_AGENT_POST_INSTALL_TARGET_HOOKS += CUBE_AGENT_INSTALL_ENV_FILE

define CUBE_AGENT_PERMISSIONS
	/etc/cube/agent.env f 0600 0 0 - - - - -
	/var/lib/cube d 0700 0 0 - - - - -
endef

define CUBE_AGENT_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(CUBE_AGENT_PKGDIR)/cube-agent.service \
		$(TARGET_DIR)/usr/lib/systemd/system/cube-agent.service
endef

define CUBE_AGENT_INSTALL_INIT_SYSV
	$(INSTALL) -D -m 0755 $(CUBE_AGENT_PKGDIR)/S95cube-agent \
		$(TARGET_DIR)/etc/init.d/S95cube-agent
endef

$(eval $(golang-package))
