# The rootfs overlay that holds what `cube-hal certs` generates (keys,
# certificates, authorized_keys): configs/cube_defconfig names it in
# BR2_ROOTFS_OVERLAY as $(CUBE_HAL_OVERLAY). By default it is the overlay/
# directory of the cube-hal checkout this tree belongs to; cube-hal passes
# its workspace overlay with `make CUBE_HAL_OVERLAY=DIR`.
CUBE_HAL_OVERLAY ?= $(BR2_EXTERNAL_CUBE_PATH)/../overlay

# Every package of the Cube external tree.
include $(sort $(wildcard $(BR2_EXTERNAL_CUBE_PATH)/package/*/*.mk))
