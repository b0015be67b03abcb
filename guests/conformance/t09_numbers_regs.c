/* hypercall numbers outside the Arm table, the deprecated rows, register state after hypercalls */
#include "xt.h"

static int in_arm_table(unsigned int nr)
{
    static const u8 t[] = { 6, 7, 12, 13, 16, 17, 18, 19, 20, 21, 24, 27, 29, 32, 33, 34, 35, 36, 42 };
    for (unsigned int i = 0; i < sizeof(t); i++)
        if (t[i] == nr)
            return 1;
    return 0;
}

static void absent(unsigned int lo, unsigned int hi)
{
    for (unsigned int nr = lo; nr < hi; nr++) {
        if (in_arm_table(nr))
            continue;
        long r = xen_hypercall5(nr, 0, 0, 0, 0, 0);
        rt_showf(r, "hypercall %u", nr);
        EXPECT_EQ(r, -38);
    }
}

XTEST(numbers, absent_0_to_42) { absent(0, 43); }
XTEST(numbers, absent_43_to_63) { absent(43, 64); }

XTEST(numbers, large)
{
    static const ulong nrs[] = { 64, 99, 255, 0x10000, 0x7fffffff, 0xffffffffUL };
    for (unsigned int i = 0; i < 6; i++) {
        long r = xen_hypercall5(nrs[i], 0, 0, 0, 0, 0);
        rt_showf(r, "hypercall %#lx", nrs[i]);
        EXPECT_EQ(r, -38);
    }
}

XTEST(numbers, upper_bits)
{
    if (!XT_64BIT) {
        rt_skip("64-bit registers only");
        return;
    }
    /* x16 is compared as a whole: 0x1_00000011 is not xen_version */
    long r = xen_hypercall5((ulong)((u64)1 << 32 | __HYPERVISOR_xen_version), 0, 0, 0, 0, 0);
    rt_show("hypercall 0x100000011 (xen_version | 1 << 32)", r);
    EXPECT_EQ(r, -38);
}

XTEST(numbers, deprecated)
{
    static const unsigned int nrs[] = { __HYPERVISOR_sched_op_compat, __HYPERVISOR_event_channel_op_compat,
                                        __HYPERVISOR_physdev_op_compat };
    for (unsigned int i = 0; i < 3; i++) {
        long r = xen_hypercall5(nrs[i], 0, (ulong)xt_clear(64), 0, 0, 0);
        rt_showf(r, "hypercall %u (deprecated)", nrs[i]);
        EXPECT_EQ(r, -38);
    }
}

/* ---- registers ---- */
#if defined(__aarch64__)
#define NREGS 30
#define NRREG 16
#define RNAME "x"
static void hvc_regs(ulong *r) { rt_hvc_regs(r); }
#else
#define NREGS 13
#define NRREG 12
#define RNAME "r"
#if defined(__thumb__)
static void hvc_regs(ulong *r) { rt_hvc_regs_thumb(r); }
#else
static void hvc_regs(ulong *r) { rt_hvc_regs_arm(r); }
#endif
#endif

static ulong pattern(unsigned int i)
{
    return (ulong)0x1111111111111111ULL * (i % 15 + 1) + i;
}

/* x0..x4 = args, x16/r12 = nr, every other register a pattern; report what changed */
static void regs_after(const char *what, ulong nr, ulong a0, ulong a1, ulong a2, int hide_a)
{
    ulong in[NREGS], outr[NREGS];
    for (unsigned int i = 0; i < NREGS; i++)
        in[i] = pattern(i);
    in[0] = a0;
    in[1] = a1;
    in[2] = a2;
    in[NRREG] = nr;
    memcpy(outr, in, sizeof(in));
    hvc_regs(outr);
    long r = (long)outr[0];
    rt_show(what, r);
    unsigned int changed = 0;
    for (unsigned int i = 1; i < NREGS; i++) {
        if (outr[i] == in[i])
            continue;
        changed++;
        if (i <= 2 && hide_a)
            rt_printf("  " RNAME "%u changed\n", i);
        else
            rt_printf("  " RNAME "%u: %#lx -> %#lx\n", i, in[i], outr[i]);
    }
    if (!changed)
        rt_printf("  " RNAME "1-" RNAME "%u unchanged\n", NREGS - 1);
}

XTEST(regs, after_xen_version)
{
    regs_after(RNAME "0 after xen_version(XENVER_version)", __HYPERVISOR_xen_version, 0, pattern(1),
               pattern(2), 0);
}

XTEST(regs, after_enosys)
{
    regs_after(RNAME "0 after hypercall 99", 99, pattern(0), pattern(1), pattern(2), 0);
}

XTEST(regs, after_deprecated)
{
    regs_after(RNAME "0 after hypercall 6 (sched_op_compat)", 6, 0, 0, pattern(2), 0);
}

XTEST(regs, after_console_io)
{
    static const char msg[] = "regs: console_io write\n";
    rt_flush();
    regs_after(RNAME "0 after console_io(CONSOLEIO_write, 23, msg)", __HYPERVISOR_console_io, 0,
               sizeof(msg) - 1, (ulong)msg, 1);
}

XTEST(regs, after_sched_op_yield)
{
    regs_after(RNAME "0 after sched_op(SCHEDOP_yield, NULL)", __HYPERVISOR_sched_op, 0, 0, pattern(2), 0);
}

XTEST(regs, after_einval)
{
    regs_after(RNAME "0 after xen_version(XENVER_pagesize, buf)", __HYPERVISOR_xen_version, 7,
               (ulong)xt_clear(8), pattern(2), 1);
}

/* ---- ID registers: Xen traps them (HCR_EL2.TID3) and answers from its guest_cpuinfo ---- */
XTEST(idregs, id_aa64pfr0)
{
#if defined(__aarch64__)
    ulong v;
    __asm__ volatile("mrs %0, id_aa64pfr0_el1" : "=r"(v));
    rt_printf("ID_AA64PFR0_EL1 = 0x%lx\n", v);
#else
    rt_skip("AArch64 only");
#endif
}
