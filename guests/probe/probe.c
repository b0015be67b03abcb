/*
 * probe.c - ask real Xen (4.17, Arm) what its hypercalls return, and print it
 * through console_io(CONSOLEIO_write), one plain-ASCII line per observation.
 *
 * Runs as dom0 (the hardware domain) in EL1 with the MMU off, so guest virtual
 * address == IPA. Built with -mgeneral-regs-only -mstrict-align (no FP/SIMD,
 * no unaligned accesses: with the MMU off data accesses are Device memory).
 */
typedef unsigned long u64;
typedef long s64;
typedef unsigned int u32;
typedef int s32;
typedef unsigned char u8;

#define HYPERVISOR_set_timer_op   15
#define HYPERVISOR_xen_version    17
#define HYPERVISOR_console_io     18
#define HYPERVISOR_sched_op       29
#define HYPERVISOR_xenpmu_op      40
#define HYPERVISOR_arch_1         49

#define CONSOLEIO_write 0
#define CONSOLEIO_read  1

#define SCHEDOP_yield           0
#define SCHEDOP_shutdown        2
#define SCHEDOP_poll            3
#define SCHEDOP_remote_shutdown 4
#define SCHEDOP_shutdown_code   5
#define SCHEDOP_watchdog        6
#define SCHEDOP_pin_override    7

#define SHUTDOWN_poweroff 0

/* ------------------------------------------------------------------ */
/* hypercalls                                                           */

static inline s64 hcall5(u64 nr, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4)
{
    register u64 x16 asm("x16") = nr;
    register u64 x0 asm("x0") = a0;
    register u64 x1 asm("x1") = a1;
    register u64 x2 asm("x2") = a2;
    register u64 x3 asm("x3") = a3;
    register u64 x4 asm("x4") = a4;
    /* Treat x1..x4 and x16 as clobbered, as the ABI says. */
    asm volatile("hvc #0xea1"
                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x16)
                 :
                 : "memory");
    return (s64)x0;
}
#define hcall(nr, a0, a1, a2) hcall5((nr), (u64)(a0), (u64)(a1), (u64)(a2), 0, 0)

struct smccc_res { u64 a0, a1, a2, a3; };

static void smccc(u64 fid, u64 arg1, struct smccc_res *res)
{
    register u64 x0 asm("x0") = fid;
    register u64 x1 asm("x1") = arg1;
    register u64 x2 asm("x2") = 0;
    register u64 x3 asm("x3") = 0;
    asm volatile("hvc #0"
                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                 :
                 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
                   "x13", "x14", "x15", "x16", "x17", "memory");
    res->a0 = x0; res->a1 = x1; res->a2 = x2; res->a3 = x3;
}

/* ------------------------------------------------------------------ */
/* freestanding helpers                                                 */

#include "probe-print.h"

static void head(const char *name, s64 arg, s64 r)
{
    ps(name);
    ps("(");
    pdec(arg);
    ps(") = ");
    pret(r);
}

/* ------------------------------------------------------------------ */
/* xen_version                                                          */

static s64 xv(int cmd, void *arg)
{
    return hcall(HYPERVISOR_xen_version, cmd, arg, 0);
}

/* second call with a 0xa5-filled buffer: report how many bytes Xen wrote */
static void xv_extent(int cmd, const void *init, unsigned int init_len)
{
    memset(buf, FILL, sizeof(buf));
    if (init_len)
        memcpy(buf, init, init_len);
    s64 r = xv(cmd, buf);
    ps("  xen_version(");
    pdec(cmd);
    ps(") again with buffer filled with 0xa5: ret=");
    pret(r);
    ps(" bytes written=");
    pdec(touched());
    flush();
}

static void probe_xen_version(void)
{
    s64 r;

    r = xv(0, 0);
    head("xen_version", 0, r);
    ps(" (major ");
    pdec(r >> 16);
    ps(", minor ");
    pdec(r & 0xffff);
    ps(")");
    flush();

    /* string sub-ops */
    static const int strops[] = { 1, 3, 4, 9 };
    for (unsigned int i = 0; i < 4; i++) {
        int cmd = strops[i];
        memset(buf, 0, sizeof(buf));
        r = xv(cmd, buf);
        head("xen_version", cmd, r);
        ps(" buf=");
        pstr(buf, sizeof(buf));
        flush();
        xv_extent(cmd, 0, 0);
    }

    /* 2 compile_info: compiler[64] compile_by[16] compile_domain[32] compile_date[32] */
    memset(buf, 0, sizeof(buf));
    r = xv(2, buf);
    head("xen_version", 2, r);
    flush();
    {
        static const unsigned int off[] = { 0, 64, 80, 112 };
        static const unsigned int len[] = { 64, 16, 32, 32 };
        static const char names[4][16] = { "compiler", "compile_by",
                                           "compile_domain", "compile_date" };
        for (unsigned int i = 0; i < 4; i++) {
            ps("  ");
            ps(names[i]);
            ps("[");
            pdec(len[i]);
            ps("]=");
            pstr(buf + off[i], len[i]);
            flush();
            ps("  ");
            ps(names[i]);
            ps(" hex: ");
            pbytes(buf + off[i], len[i]);
            flush();
        }
    }
    xv_extent(2, 0, 0);

    /* 5 platform_parameters */
    memset(buf, 0, sizeof(buf));
    r = xv(5, buf);
    head("xen_version", 5, r);
    ps(" buf=");
    pbytes(buf, 8);
    flush();
    xv_extent(5, 0, 0);

    /* 6 get_features, submap_idx 0 and 1 */
    for (u32 idx = 0; idx < 2; idx++) {
        memset(buf, 0, sizeof(buf));
        buf[0] = (u8)idx;
        r = xv(6, buf);
        ps("xen_version(6) submap_idx=");
        pdec(idx);
        ps(" = ");
        pret(r);
        ps(" buf=");
        pbytes(buf, 8);
        ps(" submap=");
        phex((u64)buf[4] | (u64)buf[5] << 8 | (u64)buf[6] << 16 | (u64)buf[7] << 24);
        flush();
        u8 init[4] = { (u8)idx, 0, 0, 0 };
        xv_extent(6, init, 4);
    }

    /* 7 pagesize */
    r = xv(7, 0);
    ps("xen_version(7) arg=NULL = ");
    pret(r);
    flush();
    memset(buf, 0, sizeof(buf));
    r = xv(7, buf);
    ps("xen_version(7) arg=buf = ");
    pret(r);
    ps(" buf=");
    pbytes(buf, 8);
    flush();

    /* 8 guest_handle */
    memset(buf, 0, sizeof(buf));
    r = xv(8, buf);
    head("xen_version", 8, r);
    ps(" buf=");
    pbytes(buf, 16);
    flush();
    xv_extent(8, 0, 0);

    /* 10 build_id */
    r = xv(10, 0);
    ps("xen_version(10) arg=NULL = ");
    pret(r);
    flush();
    memset(buf, 0, sizeof(buf));
    buf[0] = 1016 & 0xff;
    buf[1] = 1016 >> 8;
    r = xv(10, buf);
    ps("xen_version(10) len=1016 = ");
    pret(r);
    ps(" len_after=");
    pdec((u32)buf[0] | (u32)buf[1] << 8 | (u32)buf[2] << 16 | (u32)buf[3] << 24);
    ps(" buf=");
    pbytes(buf + 4, (r > 0 && r <= 1016) ? (unsigned int)r : 32);
    flush();
    {
        u8 init[4] = { 1016 & 0xff, 1016 >> 8, 0, 0 };
        xv_extent(10, init, 4);
    }
    {
        u8 small[4] = { 4, 0, 0, 0 };
        memset(buf, 0, sizeof(buf));
        memcpy(buf, small, 4);
        r = xv(10, buf);
        ps("xen_version(10) len=4 = ");
        pret(r);
        flush();
        memset(buf, 0, sizeof(buf));
        r = xv(10, buf);
        ps("xen_version(10) len=0 = ");
        pret(r);
        flush();
    }

    /* 11, 12, 0x7fffffff: return value (buffer given, first bytes shown) */
    static const int others[] = { 11, 12, 0x7fffffff };
    for (unsigned int i = 0; i < 3; i++) {
        memset(buf, 0, sizeof(buf));
        r = xv(others[i], buf);
        ps("xen_version(");
        phex((u64)others[i]);
        ps(") = ");
        pret(r);
        ps(" buf[0..15]=");
        pbytes(buf, 16);
        flush();
    }
}

/* ------------------------------------------------------------------ */
/* console_io                                                           */

static void probe_console_io(void)
{
    s64 r;

    memset(buf, 0, sizeof(buf));
    r = hcall(HYPERVISOR_console_io, CONSOLEIO_read, 16, buf);
    ps("console_io(1 read, count=16) = ");
    pret(r);
    ps(" buf=");
    pbytes(buf, 16);
    flush();

    r = hcall(HYPERVISOR_console_io, 2, 16, buf);
    ps("console_io(2, count=16) = ");
    pret(r);
    flush();

    r = hcall(HYPERVISOR_console_io, CONSOLEIO_write, 0, buf);
    ps("console_io(0 write, count=0) = ");
    pret(r);
    flush();

    r = hcall(HYPERVISOR_console_io, CONSOLEIO_write, 4, 0x1UL);
    ps("console_io(0 write, count=4, buf=0x1) = ");
    pret(r);
    flush();

    r = hcall(HYPERVISOR_console_io, CONSOLEIO_write, 4, 0xffffffff0000UL);
    ps("console_io(0 write, count=4, buf=0xffffffff0000) = ");
    pret(r);
    flush();

    /* IPA 0: QEMU virt's flash, device memory in dom0's 1:1 p2m, not RAM */
    r = hcall(HYPERVISOR_console_io, CONSOLEIO_write, 4, 0);
    ps("console_io(0 write, count=4, buf=0x0) = ");
    pret(r);
    flush();
}

/* ------------------------------------------------------------------ */
/* sched_op                                                             */

static s64 sop(int cmd, void *arg)
{
    return hcall(HYPERVISOR_sched_op, cmd, arg, 0);
}

static void put32(u8 *p, u32 v)
{
    p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static void put64(u8 *p, u64 v)
{
    put32(p, (u32)v);
    put32(p + 4, (u32)(v >> 32));
}

static void probe_sched_op(void)
{
    s64 r;

    r = sop(SCHEDOP_yield, 0);
    ps("sched_op(0 yield, NULL) = ");
    pret(r);
    flush();

    memset(buf, 0, sizeof(buf));
    put32(buf, 3);
    r = sop(SCHEDOP_shutdown_code, buf);
    ps("sched_op(5 shutdown_code, {reason=3}) = ");
    pret(r);
    flush();

    r = sop(99, buf);
    ps("sched_op(99) = ");
    pret(r);
    flush();

    memset(buf, 0, sizeof(buf));
    buf[0] = 5;             /* domid_t domain_id = 5; unsigned reason (at 4) = 0 */
    r = sop(SCHEDOP_remote_shutdown, buf);
    ps("sched_op(4 remote_shutdown, {domid=5, reason=0}) = ");
    pret(r);
    flush();

    memset(buf, 0, sizeof(buf));
    put32(buf, (u32)-1);
    r = sop(SCHEDOP_pin_override, buf);
    ps("sched_op(7 pin_override, {pcpu=-1}) = ");
    pret(r);
    flush();

    /* struct sched_poll { ports handle @0; nr_ports @8; timeout @16 } */
    memset(buf, 0, sizeof(buf));
    put64(buf, (u64)(buf + 512));
    put32(buf + 8, 200);
    r = sop(SCHEDOP_poll, buf);
    ps("sched_op(3 poll, nr_ports=200) = ");
    pret(r);
    flush();

    r = sop(SCHEDOP_shutdown, (void *)0x1UL);
    ps("sched_op(2 shutdown, arg=0x1) = ");
    pret(r);
    flush();
}

/* ------------------------------------------------------------------ */
/* bad numbers and register preservation                                */

static void probe_numbers(void)
{
    static const u64 nrs[] = { 15, 43, 99, 0x10000 };
    for (unsigned int i = 0; i < 4; i++) {
        s64 r = hcall(nrs[i], 0, 0, 0);
        ps("hypercall(");
        phex(nrs[i]);
        ps(") = ");
        pret(r);
        flush();
    }

    u64 out[6];
    asm volatile(
        "mov  x0, #0\n"
        "ldr  x1, =0x1111111111111111\n"
        "ldr  x2, =0x2222222222222222\n"
        "ldr  x3, =0x3333333333333333\n"
        "ldr  x4, =0x4444444444444444\n"
        "mov  x16, #17\n"
        "hvc  #0xea1\n"
        "stp  x0, x1, [%0]\n"
        "stp  x2, x3, [%0, #16]\n"
        "stp  x4, x16, [%0, #32]\n"
        :
        : "r"(out)
        : "x0", "x1", "x2", "x3", "x4", "x16", "memory");
    ps("regs after xen_version(0) with x1..x4=0x1111..,0x2222..,0x3333..,0x4444.. x16=17: x0=");
    phex(out[0]);
    flush();
    static const char rn[5][4] = { "x1", "x2", "x3", "x4", "x16" };
    for (int i = 0; i < 5; i++) {
        ps("  ");
        ps(rn[i]);
        ps("=");
        phexw(out[i + 1]);
        flush();
    }
}

/* ------------------------------------------------------------------ */
/* SMCCC / PSCI over hvc #0                                              */

static void smc_line(u64 fid, u64 a1, int show_a1, int nres)
{
    struct smccc_res res;
    smccc(fid, a1, &res);
    ps("smccc(w0=");
    phex(fid);
    if (show_a1) {
        ps(", x1=");
        phex(a1);
    }
    ps(") x0=");
    phex(res.a0);
    if ((s32)res.a0 < 0 && (s32)res.a0 >= -9 && (res.a0 >> 32) == 0) {
        ps(" (w0 ");
        pdec((s32)res.a0);
        ps(")");
    } else if ((s64)res.a0 < 0) {
        ps(" (");
        pdec((s64)res.a0);
        ps(")");
    }
    if (nres > 1) {
        ps(" x1=");
        phex(res.a1);
        ps(" x2=");
        phex(res.a2);
        ps(" x3=");
        phex(res.a3);
    }
    flush();
}

static void probe_smccc(void)
{
    smc_line(0x80000000, 0, 0, 4);          /* SMCCC_VERSION */
    smc_line(0x80000001, 0x80008000, 1, 4); /* ARCH_FEATURES(WORKAROUND_1) */
    smc_line(0x80000001, 0x80007fff, 1, 4); /* ARCH_FEATURES(WORKAROUND_2) */
    smc_line(0x80000001, 0x80000000, 1, 4); /* ARCH_FEATURES(VERSION) */
    smc_line(0x84000000, 0, 0, 4);          /* PSCI_VERSION */
    static const u64 feats[] = { 0x84000000, 0x84000008, 0x84000009,
                                 0xC4000003, 0x8400000E, 0x12345678 };
    for (unsigned int i = 0; i < 6; i++)
        smc_line(0x8400000A, feats[i], 1, 4); /* PSCI_FEATURES */
    smc_line(0x84000006, 0, 0, 4);          /* MIGRATE_INFO_TYPE */
    smc_line(0x80008000, 0x5555, 1, 4);     /* ARCH_WORKAROUND_1 itself */
    smc_line(0x86000000, 0, 0, 4);          /* owner 6 (vendor hypervisor) */
    smc_line(0xC6000000, 0, 0, 4);
    smc_line(0x8600FF00, 0, 0, 4);          /* owner 6: call count? */
    smc_line(0x8600FF01, 0, 0, 4);          /* owner 6: UID? */
    smc_line(0x8600FF03, 0, 0, 4);          /* owner 6: revision? */
    /* Xen's ARM_SMCCC_OWNER_HYPERVISOR is 5 (asm/smccc.h) */
    smc_line(0x8500FF00, 0, 0, 4);          /* hypervisor service call count */
    smc_line(0x8500FF01, 0, 0, 4);          /* hypervisor service UID */
    smc_line(0x8500FF03, 0, 0, 4);          /* hypervisor service revision */
    smc_line(0x12345678, 0, 0, 4);          /* unknown */
}

/* ------------------------------------------------------------------ */

extern char bad_hvc_insn[];

void probe_main(u64 dtb, u64 load)
{
    ps("probe-a64: start, loaded at ");
    phex(load);
    ps(", linked at ");
    phex((u64)0x70000000);
    ps(", dtb at ");
    phex(dtb);
    if (load != 0x70000000)
        ps(" WARNING: load address differs from link address");
    flush();

    probe_xen_version();
    probe_console_io();
    probe_sched_op();
    probe_numbers();
    probe_smccc();

    ps("about to execute hvc #0x1234 at ");
    phex((u64)bad_hvc_insn);
    flush();
    asm volatile(".globl bad_hvc_insn\n"
                 "bad_hvc_insn: hvc #0x1234\n" ::: "memory");
    ps("hvc #0x1234 returned without an exception");
    flush();
    sop(SCHEDOP_shutdown, buf);
    for (;;)
        ;
}

void probe_exception(u64 vec, u64 esr, u64 elr, u64 spsr, u64 far, u64 sp)
{
    ps("exception: vector=VBAR+");
    phex(vec);
    ps(" ESR_EL1=");
    phex(esr);
    ps(" (EC=");
    phex(esr >> 26);
    ps(" IL=");
    pdec((esr >> 25) & 1);
    ps(" ISS=");
    phex(esr & 0x1ffffff);
    ps(")");
    flush();
    ps("  ELR_EL1=");
    phex(elr);
    ps(" ELR_EL1-&hvc=");
    pdec((s64)(elr - (u64)bad_hvc_insn));
    ps(" SPSR_EL1=");
    phex(spsr);
    ps(" FAR_EL1=");
    phex(far);
    ps(" SP=");
    phex(sp);
    flush();
    {
        u64 daif, cur;
        asm volatile("mrs %0, daif" : "=r"(daif));
        asm volatile("mrs %0, currentel" : "=r"(cur));
        ps("  in handler: DAIF=");
        phex(daif);
        ps(" CurrentEL=");
        phex(cur);
        flush();
    }

    /*
     * Last, because it ends the run: a watchdog with timeout 0 expires at
     * once (before the hypercall returns to the guest), and for the hardware
     * domain Xen turns that into a machine reboot -- or, since the
     * shutdown_code probe latched reason 3, into "Hardware Dom0 crashed".
     * Build with EXTRA_CFLAGS=-DPROBE_NO_WATCHDOG to skip it.
     */
    s64 r;
#ifndef PROBE_NO_WATCHDOG
    memset(buf, 0, sizeof(buf));
    r = sop(SCHEDOP_watchdog, buf);
    ps("sched_op(6 watchdog, {id=0, timeout=0}) = ");
    pret(r);
    flush();
    if (r > 0) {
        memset(buf, 0, sizeof(buf));
        put32(buf, (u32)r);
        r = sop(SCHEDOP_watchdog, buf);
        ps("sched_op(6 watchdog, {id=returned, timeout=0}) = ");
        pret(r);
        flush();
    }
#endif

    ps("probe-a64: done, sched_op(2 shutdown, {reason=poweroff})");
    flush();
    memset(buf, 0, sizeof(buf));
    put32(buf, SHUTDOWN_poweroff);
    r = sop(SCHEDOP_shutdown, buf);
    ps("sched_op(2 shutdown) returned ");
    pret(r);
    flush();
    for (;;)
        ;
}
