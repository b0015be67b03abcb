/* multicall (13): entries {xen_ulong_t op, result, args[6]} = 64 bytes on Arm */
#include "xt.h"

static u8 *entry(unsigned int i, u64 op, u64 a0, u64 a1)
{
    u8 *e = xt_buf + 64 * i;
    memset(e, 0, 64);
    put64(e, op);
    put64(e + 8, 0x5a5a5a5a);
    put64(e + 16, a0);
    put64(e + 24, a1);
    return e;
}

static void results(unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        long long res = (long long)get64(xt_buf + 64 * i + 8);
        if (res < 0 && res > -4096)
            rt_printf("  entry %u result = %lld (%s)\n", i, res, rt_errname((long)res));
        else
            rt_printf("  entry %u result = %#llx\n", i, (u64)res);
    }
}

XTEST(multicall, xen_version)
{
    entry(0, __HYPERVISOR_xen_version, 0, 0);
    long r = HYPERVISOR_multicall(xt_buf, 1);
    rt_show("multicall([xen_version(XENVER_version, NULL)], 1)", r);
    results(1);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(get64(xt_buf + 8), 0x40011);
}

XTEST(multicall, three_entries)
{
    entry(0, __HYPERVISOR_xen_version, XENVER_pagesize, 0);
    entry(1, __HYPERVISOR_sched_op, SCHEDOP_yield, 0);
    entry(2, __HYPERVISOR_xen_version, XENVER_pagesize, 1);
    long r = HYPERVISOR_multicall(xt_buf, 3);
    rt_show("multicall([xen_version(pagesize, NULL), sched_op(yield), xen_version(pagesize, 1)], 3)", r);
    results(3);
    EXPECT_EQ(r, 0);
}

XTEST(multicall, bad_ops)
{
    entry(0, 99, 0, 0);
    entry(1, 43, 0, 0);
    entry(2, 15, 0, 0);
    entry(3, 6, 0, 0);
    long r = HYPERVISOR_multicall(xt_buf, 4);
    rt_show("multicall([op 99, op 43, set_timer_op, sched_op_compat], 4)", r);
    results(4);
    EXPECT_EQ(r, 0);
}

XTEST(multicall, nested)
{
    entry(0, __HYPERVISOR_multicall, 0, 0);
    long r = HYPERVISOR_multicall(xt_buf, 1);
    rt_show("multicall([multicall(NULL, 0)], 1)", r);
    results(1);
}

XTEST(multicall, zero_calls)
{
    long r = HYPERVISOR_multicall(NOT_MAPPED, 0);
    rt_show("multicall(unmapped, 0)", r);
    EXPECT_EQ(r, 0);
}

XTEST(multicall, bad_pointer)
{
    long r = HYPERVISOR_multicall(NOT_MAPPED, 1);
    rt_show("multicall(unmapped, 1)", r);
    EXPECT_EQ(r, -14);
}
