"""xen/include/public/version.h and features.h."""
from enum import IntEnum


class XenVer(IntEnum):
    XENVER_version = 0
    XENVER_extraversion = 1
    XENVER_compile_info = 2
    XENVER_capabilities = 3
    XENVER_changeset = 4
    XENVER_platform_parameters = 5
    XENVER_get_features = 6
    XENVER_pagesize = 7
    XENVER_guest_handle = 8
    XENVER_commandline = 9
    XENVER_build_id = 10


class XenFeat(IntEnum):
    XENFEAT_writable_page_tables = 0
    XENFEAT_auto_translated_physmap = 2
    XENFEAT_dom0 = 11
    XENFEAT_memory_op_vnode_supported = 13
    XENFEAT_ARM_SMCCC_supported = 14
    XENFEAT_not_direct_mapped = 16
    XENFEAT_direct_mapped = 17


# Buffer sizes of the string sub-ops.
XEN_EXTRAVERSION_LEN = 16
XEN_CAPABILITIES_INFO_LEN = 1024
XEN_CHANGESET_INFO_LEN = 64
XEN_COMMANDLINE_LEN = 1024
XEN_DOMAIN_HANDLE_LEN = 16
# xen_compile_info_t: compiler[64], compile_by[16], compile_domain[32], compile_date[32]
COMPILE_INFO_FIELDS = (64, 16, 32, 32)
XEN_DENY = "<denied>"
