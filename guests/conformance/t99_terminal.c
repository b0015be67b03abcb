/* terminal tests: they end the domain, so they run only alone (xtest=<name>) */
#include "xt.h"

static void shut(const char *name, unsigned int reason)
{
    rt_printf("sched_op(SCHEDOP_shutdown, {reason=%s})\n", name);
    long r = rt_shutdown(reason);
    rt_show("sched_op(SCHEDOP_shutdown) returned", r);
    rt_fail("shutdown returned");
}

XTEST_F(sched_op, shutdown_poweroff, XT_TERMINAL) { shut("poweroff", 0); }
XTEST_F(sched_op, shutdown_reboot, XT_TERMINAL) { shut("reboot", 1); }
XTEST_F(sched_op, shutdown_crash, XT_TERMINAL) { shut("crash", 3); }
XTEST_F(sched_op, shutdown_watchdog, XT_TERMINAL) { shut("watchdog", 4); }
XTEST_F(sched_op, shutdown_unknown_reason, XT_TERMINAL) { shut("99", 99); }

XTEST_F(sched_op, shutdown_code_crash_then_poweroff, XT_TERMINAL)
{
    u8 *b = xt_clear(8);
    put32(b, 3);
    rt_show("sched_op(SCHEDOP_shutdown_code, {reason=crash})", HYPERVISOR_sched_op(SCHEDOP_shutdown_code, b));
    shut("poweroff", 0);
}

XTEST_F(sched_op, watchdog_fires, XT_TERMINAL)
{
    u8 *b = xt_clear(8);
    put32(b + 4, 0);
    rt_printf("sched_op(SCHEDOP_watchdog, {id=0, timeout=0})\n");
    rt_flush();
    /* The timer fires asynchronously on real Xen: whether the guest runs on after the call before
     * it does depends on timing, so nothing is printed between the call and the shutdown. */
    (void)HYPERVISOR_sched_op(SCHEDOP_watchdog, b);
    for (volatile unsigned long i = 0; i < 100000000UL; i++)
        ;
    rt_fail("watchdog did not fire");
}

XTEST_F(psci, system_off, XT_TERMINAL)
{
    struct smccc_res res;
    rt_printf("PSCI_SYSTEM_OFF\n");
    rt_flush();
    smccc(0x84000008, 0, 0, 0, 0, 0, 0, 0, &res);
    rt_printf("PSCI_SYSTEM_OFF returned a0=%#lx\n", res.a0);
    rt_fail("returned");
}

XTEST_F(psci, system_reset, XT_TERMINAL)
{
    struct smccc_res res;
    rt_printf("PSCI_SYSTEM_RESET\n");
    rt_flush();
    smccc(0x84000009, 0, 0, 0, 0, 0, 0, 0, &res);
    rt_printf("PSCI_SYSTEM_RESET returned a0=%#lx\n", res.a0);
    rt_fail("returned");
}
