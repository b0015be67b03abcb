/* sched_op (29) */
#include "xt.h"

static long sop(int cmd, void *arg) { return HYPERVISOR_sched_op(cmd, arg); }

XTEST(sched_op, yield)
{
    long r = sop(SCHEDOP_yield, 0);
    rt_show("sched_op(SCHEDOP_yield, NULL)", r);
    EXPECT_EQ(r, 0);
}

XTEST(sched_op, shutdown_code_poweroff)
{
    u8 *b = xt_clear(8);
    put32(b, 0);
    long r = sop(SCHEDOP_shutdown_code, b);
    rt_show("sched_op(SCHEDOP_shutdown_code, {reason=poweroff})", r);
    EXPECT_EQ(r, 0);
}

XTEST(sched_op, shutdown_code_bad_pointer)
{
    long r = sop(SCHEDOP_shutdown_code, NOT_MAPPED);
    rt_show("sched_op(SCHEDOP_shutdown_code, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(sched_op, shutdown_bad_pointer)
{
    long r = sop(SCHEDOP_shutdown, NOT_MAPPED);
    rt_show("sched_op(SCHEDOP_shutdown, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(sched_op, remote_shutdown_no_domain)
{
    u8 *b = xt_clear(8);
    put16(b, 5);
    long r = sop(SCHEDOP_remote_shutdown, b);
    rt_show("sched_op(SCHEDOP_remote_shutdown, {domid=5, reason=0})", r);
    EXPECT_EQ(r, -3);
}

XTEST(sched_op, remote_shutdown_bad_pointer)
{
    long r = sop(SCHEDOP_remote_shutdown, NOT_MAPPED);
    rt_show("sched_op(SCHEDOP_remote_shutdown, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(sched_op, poll_too_many_ports)
{
    u8 *b = xt_clear(64);
    put64(b, (ulong)(b + 32));
    put32(b + 8, 200);
    long r = sop(SCHEDOP_poll, b);
    rt_show("sched_op(SCHEDOP_poll, {nr_ports=200})", r);
    EXPECT_EQ(r, -22);
}

XTEST(sched_op, poll_bad_port)
{
    u8 *b = xt_clear(64);
    put64(b, (ulong)(b + 32));
    put32(b + 8, 1);
    put32(b + 32, 100000);
    long r = sop(SCHEDOP_poll, b);
    rt_show("sched_op(SCHEDOP_poll, {ports={100000}, nr_ports=1})", r);
    EXPECT_EQ(r, -22);
}

XTEST(sched_op, poll_bad_port_list)
{
    u8 *b = xt_clear(64);
    put64(b, 1);
    put32(b + 8, 1);
    long r = sop(SCHEDOP_poll, b);
    rt_show("sched_op(SCHEDOP_poll, {ports=unmapped, nr_ports=1})", r);
    EXPECT_EQ(r, -14);
}

XTEST(sched_op, poll_bad_pointer)
{
    long r = sop(SCHEDOP_poll, NOT_MAPPED);
    rt_show("sched_op(SCHEDOP_poll, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(sched_op, watchdog_bad_id)
{
    u8 *b = xt_clear(8);
    put32(b, 99);
    long r = sop(SCHEDOP_watchdog, b);
    rt_show("sched_op(SCHEDOP_watchdog, {id=99, timeout=0})", r);
    put32(b, 2);
    long r2 = sop(SCHEDOP_watchdog, b);
    rt_show("sched_op(SCHEDOP_watchdog, {id=2 (unused), timeout=0})", r2);
    EXPECT_EQ(r, -22);
    EXPECT_EQ(r2, -22);
}

XTEST(sched_op, watchdog_set_and_stop)
{
    u8 *b = xt_clear(8);
    put32(b + 4, 1000);
    long id = sop(SCHEDOP_watchdog, b);
    rt_show("sched_op(SCHEDOP_watchdog, {id=0, timeout=1000})", id);
    put32(b, (u32)id);
    put32(b + 4, 0);
    long r = sop(SCHEDOP_watchdog, b);
    rt_show("sched_op(SCHEDOP_watchdog, {id=<returned>, timeout=0})", r);
    EXPECT(id > 0);
    EXPECT_EQ(r, 0);
}

XTEST(sched_op, watchdog_bad_pointer)
{
    long r = sop(SCHEDOP_watchdog, NOT_MAPPED);
    rt_show("sched_op(SCHEDOP_watchdog, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(sched_op, pin_override)
{
    u8 *b = xt_clear(8);
    put32(b, 0xffffffffu);
    long r = sop(SCHEDOP_pin_override, b);
    rt_show("sched_op(SCHEDOP_pin_override, {pcpu=-1})", r);
    put32(b, 5);
    long r2 = sop(SCHEDOP_pin_override, b);
    rt_show("sched_op(SCHEDOP_pin_override, {pcpu=5})", r2);
}

XTEST(sched_op, unknown)
{
    static const int cmds[] = { 8, 99, -1 };
    for (unsigned int i = 0; i < 3; i++) {
        long r = sop(cmds[i], xt_clear(16));
        rt_showf(r, "sched_op(%d, buf)", cmds[i]);
        EXPECT_EQ(r, -38);
    }
}
