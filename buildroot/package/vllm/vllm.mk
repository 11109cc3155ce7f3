################################################################################
#
# vllm
#
################################################################################

# No source to build: PyTorch and vLLM cannot be cross-built by Buildroot.
# The package installs Python (selected in Config.in), the first-boot setup
# that pip-installs vLLM into /var/lib/vllm/venv, and the systemd units.
VLLM_LICENSE = Apache-2.0

VLLM_CUSTOM_MODEL_PATH = $(call qstrip,$(BR2_PACKAGE_VLLM_CUSTOM_MODEL_PATH))

define VLLM_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(VLLM_PKGDIR)/vllm-setup \
		$(TARGET_DIR)/usr/libexec/vllm/vllm-setup
	$(INSTALL) -d -m 0755 $(TARGET_DIR)/etc/vllm
	$(SHELL) $(VLLM_PKGDIR)/vllm-env.sh $(BR2_CONFIG) $(TARGET_DIR)/etc/vllm/vllm.env
endef

ifneq ($(VLLM_CUSTOM_MODEL_PATH),)
define VLLM_INSTALL_CUSTOM_MODEL
	test -d '$(VLLM_CUSTOM_MODEL_PATH)' || { \
		echo "vllm: BR2_PACKAGE_VLLM_CUSTOM_MODEL_PATH: '$(VLLM_CUSTOM_MODEL_PATH)' is not a directory" >&2; \
		exit 1; }
	$(INSTALL) -d -m 0755 $(TARGET_DIR)/var/lib/vllm/models
	cp -dpfr '$(VLLM_CUSTOM_MODEL_PATH)'/. $(TARGET_DIR)/var/lib/vllm/models/
endef
VLLM_POST_INSTALL_TARGET_HOOKS += VLLM_INSTALL_CUSTOM_MODEL

define VLLM_PERMISSIONS
	/var/lib/vllm r 0750 vllm vllm - - - - -
endef
endif

define VLLM_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(VLLM_PKGDIR)/vllm.service \
		$(TARGET_DIR)/usr/lib/systemd/system/vllm.service
	$(INSTALL) -D -m 0644 $(VLLM_PKGDIR)/vllm-setup.service \
		$(TARGET_DIR)/usr/lib/systemd/system/vllm-setup.service
endef

define VLLM_USERS
	vllm -1 vllm -1 * /var/lib/vllm - - vLLM server
endef

$(eval $(generic-package))
