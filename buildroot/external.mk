# Every package of the Cube external tree.
include $(sort $(wildcard $(BR2_EXTERNAL_CUBE_PATH)/package/*/*.mk))
