"""Guest-visible struct layouts (little endian; one layout serves AArch32 and AArch64 guests,
xen/include/public/arch-arm.h). Sizes checked in tests against the public headers' values."""
import struct

sched_shutdown = struct.Struct("<I")  # unsigned int reason
sched_poll = struct.Struct("<QI4xQ")  # XEN_GUEST_HANDLE(evtchn_port_t) ports; unsigned nr_ports; uint64 timeout
sched_remote_shutdown = struct.Struct("<H2xI")  # domid_t domain_id; unsigned int reason
sched_watchdog = struct.Struct("<II")  # uint32 id; uint32 timeout
sched_pin_override = struct.Struct("<i")  # int32 pcpu
xen_feature_info = struct.Struct("<II")  # unsigned submap_idx; uint32 submap
xen_platform_parameters = struct.Struct("<Q")  # xen_ulong_t virt_start
xen_build_id = struct.Struct("<I")  # uint32 len; unsigned char buf[]
evtchn_port = struct.Struct("<I")
