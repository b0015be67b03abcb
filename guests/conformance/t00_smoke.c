#include "xt.h"
u8 xt_buf[4096] __attribute__((aligned(16)));

XTEST(xen_version, version)
{
    long r = HYPERVISOR_xen_version(XENVER_version, 0);
    rt_show("xen_version(XENVER_version, NULL)", r);
    EXPECT_EQ(r, 0x40011);
}
