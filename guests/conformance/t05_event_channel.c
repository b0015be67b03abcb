/* event_channel_op (32) */
#include "xt.h"

#define EVTCHNOP_bind_virq 1
#define EVTCHNOP_close 3
#define EVTCHNOP_send 4
#define EVTCHNOP_status 5
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_bind_ipi 7
#define EVTCHNOP_bind_vcpu 8
#define EVTCHNOP_unmask 9
#define EVTCHNOP_set_priority 13

static long eop(int cmd, void *arg) { return HYPERVISOR_event_channel_op(cmd, arg); }

static long port_op(int cmd, u32 port)
{
    u8 b[8] __attribute__((aligned(8)));
    memset(b, 0, sizeof(b));
    put32(b, port);
    return eop(cmd, b);
}

static void status(u32 port)
{
    u8 *b = xt_clear(24);
    put16(b, DOMID_SELF);
    put32(b + 4, port);
    long r = eop(EVTCHNOP_status, b);
    rt_printf("  status(port %u) = %ld%s%s, status = %u, vcpu = %u\n", port, r, r ? " " : "",
              r ? rt_errname(r) : "", get32(b + 8), get32(b + 12));
}

XTEST(event_channel_op, alloc_unbound_and_close)
{
    u8 *b = xt_clear(8);
    put16(b, DOMID_SELF);
    put16(b + 2, DOMID_SELF);
    long r = eop(EVTCHNOP_alloc_unbound, b);
    u32 port = get32(b + 4);
    rt_show("event_channel_op(EVTCHNOP_alloc_unbound, {dom=SELF, remote_dom=SELF})", r);
    rt_printf("  port = %u\n", port);
    status(port);
    long c = port_op(EVTCHNOP_close, port);
    rt_show("event_channel_op(EVTCHNOP_close, {port})", c);
    status(port);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(c, 0);
}

XTEST(event_channel_op, alloc_unbound_no_domain)
{
    u8 *b = xt_clear(8);
    put16(b, 5);
    put16(b + 2, DOMID_SELF);
    long r = eop(EVTCHNOP_alloc_unbound, b);
    rt_show("event_channel_op(EVTCHNOP_alloc_unbound, {dom=5})", r);
    EXPECT_EQ(r, -3);
}

XTEST(event_channel_op, bind_ipi_send_close)
{
    u8 *b = xt_clear(8);
    long r = eop(EVTCHNOP_bind_ipi, b);
    u32 port = get32(b + 4);
    rt_show("event_channel_op(EVTCHNOP_bind_ipi, {vcpu=0})", r);
    rt_printf("  port = %u\n", port);
    status(port);
    rt_show("event_channel_op(EVTCHNOP_send, {port})", port_op(EVTCHNOP_send, port));
    rt_show("event_channel_op(EVTCHNOP_unmask, {port})", port_op(EVTCHNOP_unmask, port));
    rt_show("event_channel_op(EVTCHNOP_close, {port})", port_op(EVTCHNOP_close, port));
    EXPECT_EQ(r, 0);
}

XTEST(event_channel_op, bind_ipi_bad_vcpu)
{
    u8 *b = xt_clear(8);
    put32(b, 5);
    long r = eop(EVTCHNOP_bind_ipi, b);
    rt_show("event_channel_op(EVTCHNOP_bind_ipi, {vcpu=5})", r);
    EXPECT_EQ(r, -2);
}

XTEST(event_channel_op, bind_virq)
{
    u8 *b = xt_clear(12);
    put32(b, 0);                /* VIRQ_TIMER */
    long r = eop(EVTCHNOP_bind_virq, b);
    u32 port = get32(b + 8);
    rt_show("event_channel_op(EVTCHNOP_bind_virq, {virq=VIRQ_TIMER, vcpu=0})", r);
    rt_printf("  port = %u\n", port);
    status(port);
    if (r == 0)
        rt_show("event_channel_op(EVTCHNOP_close, {port})", port_op(EVTCHNOP_close, port));
}

XTEST(event_channel_op, bind_virq_bad)
{
    u8 *b = xt_clear(12);
    put32(b, 99);
    long r = eop(EVTCHNOP_bind_virq, b);
    rt_show("event_channel_op(EVTCHNOP_bind_virq, {virq=99})", r);
    put32(b, 0);
    put32(b + 4, 7);
    long r2 = eop(EVTCHNOP_bind_virq, b);
    rt_show("event_channel_op(EVTCHNOP_bind_virq, {virq=VIRQ_TIMER, vcpu=7})", r2);
    EXPECT_EQ(r, -22);
}

XTEST(event_channel_op, bad_ports)
{
    static const u32 ports[] = { 0, 4095, 100000 };
    static const int cmds[] = { EVTCHNOP_close, EVTCHNOP_send, EVTCHNOP_unmask };
    static const char *const names[] = { "close", "send", "unmask" };
    for (unsigned int c = 0; c < 3; c++)
        for (unsigned int i = 0; i < 3; i++) {
            long r = port_op(cmds[c], ports[i]);
            rt_showf(r, "event_channel_op(EVTCHNOP_%s, {port=%u})", names[c], ports[i]);
        }
    status(0);
    status(100000);
}

XTEST(event_channel_op, bind_vcpu_bad_port)
{
    u8 *b = xt_clear(8);
    put32(b, 4095);
    long r = eop(EVTCHNOP_bind_vcpu, b);
    rt_show("event_channel_op(EVTCHNOP_bind_vcpu, {port=4095, vcpu=0})", r);
}

XTEST(event_channel_op, set_priority)
{
    u8 *b = xt_clear(8);
    put32(b, 1);
    put32(b + 4, 3);
    long r = eop(EVTCHNOP_set_priority, b);
    rt_show("event_channel_op(EVTCHNOP_set_priority, {port=1, priority=3})", r);
}

XTEST(event_channel_op, bad_pointer)
{
    static const int cmds[] = { 1, 3, 4, 5, 6, 7 };
    for (unsigned int i = 0; i < 6; i++) {
        long r = eop(cmds[i], NOT_MAPPED);
        rt_showf(r, "event_channel_op(%d, unmapped)", cmds[i]);
        EXPECT_EQ(r, -14);
    }
}

XTEST(event_channel_op, unknown)
{
    static const int cmds[] = { 15, 99, -1 };
    for (unsigned int i = 0; i < 3; i++) {
        long r = eop(cmds[i], xt_clear(32));
        rt_showf(r, "event_channel_op(%d, buf)", cmds[i]);
        EXPECT_EQ(r, -38);
    }
}
