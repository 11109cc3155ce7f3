################################################################################
#
# ollama
#
################################################################################

# Ollama's prebuilt release: building it (Go plus llama.cpp's C++ with CMake
# for every GPU runtime) is not something Buildroot's infrastructures can do.
# No .hash file yet: Buildroot warns and carries on; add one with the
# archive's sha256 (published beside it) to have the download checked.
OLLAMA_VERSION = 0.12.3
OLLAMA_SITE = https://github.com/ollama/ollama/releases/download/v$(OLLAMA_VERSION)
ifeq ($(BR2_aarch64),y)
OLLAMA_ARCH = arm64
else
OLLAMA_ARCH = amd64
endif
OLLAMA_SOURCE = ollama-linux-$(OLLAMA_ARCH).tgz
OLLAMA_LICENSE = MIT

ifeq ($(BR2_PACKAGE_OLLAMA_GPU_AMD),y)
OLLAMA_EXTRA_DOWNLOADS = ollama-linux-$(OLLAMA_ARCH)-rocm.tgz
endif

# The archives hold bin/ and lib/ at their top, with no directory to strip.
define OLLAMA_EXTRACT_CMDS
	$(foreach f,$(OLLAMA_SOURCE) $(OLLAMA_EXTRA_DOWNLOADS),\
		$(call suitable-extractor,$(f)) $(OLLAMA_DL_DIR)/$(f) | \
			$(TAR) -C $(@D) $(TAR_OPTIONS) -$(sep))
endef

# Ollama finds its runtime libraries in ../lib/ollama from its binary. The
# CPU libraries are always installed; the CUDA and ROCm ones (gigabytes, and
# the root filesystem lives in RAM) only with the matching GPU support.
define OLLAMA_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/bin/ollama $(TARGET_DIR)/usr/bin/ollama
	$(INSTALL) -d -m 0755 $(TARGET_DIR)/usr/lib/ollama
	find $(@D)/lib/ollama -mindepth 1 -maxdepth 1 ! -type d \
		-exec cp -dpf {} $(TARGET_DIR)/usr/lib/ollama/ \;
	$(if $(BR2_PACKAGE_OLLAMA_GPU_NVIDIA),\
		for d in $(@D)/lib/ollama/cuda_*; do \
			[ -d "$$d" ] && cp -dpfr "$$d" $(TARGET_DIR)/usr/lib/ollama/; \
		done)
	$(if $(BR2_PACKAGE_OLLAMA_GPU_AMD),\
		cp -dpfr $(@D)/lib/ollama/rocm $(TARGET_DIR)/usr/lib/ollama/)
	$(INSTALL) -D -m 0755 $(OLLAMA_PKGDIR)/pull-models \
		$(TARGET_DIR)/usr/libexec/ollama/pull-models
	$(INSTALL) -d -m 0755 $(TARGET_DIR)/etc/ollama
	$(SHELL) $(OLLAMA_PKGDIR)/models-list.sh $(BR2_CONFIG) $(TARGET_DIR)/etc/ollama/models
endef

define OLLAMA_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(OLLAMA_PKGDIR)/ollama.service \
		$(TARGET_DIR)/usr/lib/systemd/system/ollama.service
	$(INSTALL) -D -m 0644 $(OLLAMA_PKGDIR)/ollama-models.service \
		$(TARGET_DIR)/usr/lib/systemd/system/ollama-models.service
endef

define OLLAMA_USERS
	ollama -1 ollama -1 * /var/lib/ollama - - Ollama LLM server
endef

ifeq ($(BR2_PACKAGE_OLLAMA_GPU_AMD),y)
define OLLAMA_LINUX_CONFIG_FIXUPS
	$(call KCONFIG_ENABLE_OPT,CONFIG_DRM)
	$(call KCONFIG_ENABLE_OPT,CONFIG_DRM_AMDGPU)
	$(call KCONFIG_ENABLE_OPT,CONFIG_HSA_AMD)
endef
endif

$(eval $(generic-package))
