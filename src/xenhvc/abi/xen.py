"""xen/include/public/xen.h: domain ids and constants shared by several hypercalls."""

DOMID_FIRST_RESERVED = 0x7FF0
DOMID_SELF = 0x7FF0
DOMID_IO = 0x7FF1
DOMID_XEN = 0x7FF2
DOMID_COW = 0x7FF3
DOMID_INVALID = 0x7FF4
DOMID_IDLE = 0x7FFF

XEN_PAGE_SIZE = 4096
#: XEN_HYPERCALL_TAG, the HVC immediate of a Xen hypercall (xen/include/public/arch-arm.h).
XEN_HYPERCALL_TAG = 0xEA1
#: The SMCCC immediate.
SMCCC_HVC_IMM = 0
#: Value a Xen debug build writes into clobbered argument registers.
DEBUG_POISON = 0xDEADBEEF
