/*
 * probe32.c - the AArch32 counterpart of probe.c: ask real Xen (4.17, Arm)
 * what its hypercalls return to a 32-bit guest, and print it through
 * console_io(CONSOLEIO_write), one plain-ASCII line per observation.
 *
 * Built twice by build32.sh: -marm (probe-a32.zImage) and -mthumb
 * (probe-t32.zImage); probe32.S (entry, exception entries) is shared.
 * Runs as dom0 in SVC mode with the MMU off (VA == IPA), so no unaligned
 * accesses (-mno-unaligned-access) and no FP/SIMD (-mgeneral-regs-only).
 * The printing helpers are copied from probe.c, narrowed to 32 bits (no
 * 64-bit division: nothing links libgcc).
 */
typedef unsigned int u32;
typedef int s32;
typedef unsigned short u16;
typedef unsigned char u8;

#ifndef PROBE_NAME
#define PROBE_NAME "probe-a32"
#endif

#ifdef __thumb__
#define C_STATE "Thumb"
#else
#define C_STATE "ARM"
#endif

#define HYPERVISOR_set_timer_op   15
#define HYPERVISOR_xen_version    17
#define HYPERVISOR_console_io     18
#define HYPERVISOR_sched_op       29

#define CONSOLEIO_write 0
#define SCHEDOP_shutdown 2
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_crash    3

/* ------------------------------------------------------------------ */
/* hypercalls: number in r12, arguments r0..r4, result r0                */

static inline s32 hcall5(u32 nr, u32 a0, u32 a1, u32 a2, u32 a3, u32 a4)
{
    register u32 r12 asm("r12") = nr;
    register u32 r0 asm("r0") = a0;
    register u32 r1 asm("r1") = a1;
    register u32 r2 asm("r2") = a2;
    register u32 r3 asm("r3") = a3;
    register u32 r4 asm("r4") = a4;
    /* r1..r4 and r12 treated as clobbered, as the ABI says */
    asm volatile("hvc #0xea1"
                 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r12)
                 :
                 : "memory");
    return (s32)r0;
}
#define hcall(nr, a0, a1, a2) hcall5((nr), (u32)(a0), (u32)(a1), (u32)(a2), 0, 0)

struct smccc_res { u32 a0, a1, a2, a3; };

static void smccc(u32 fid, u32 arg1, struct smccc_res *res)
{
    register u32 r0 asm("r0") = fid;
    register u32 r1 asm("r1") = arg1;
    register u32 r2 asm("r2") = 0;
    register u32 r3 asm("r3") = 0;
    asm volatile("hvc #0"
                 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3)
                 :
                 : "r4", "r5", "r6", "r8", "r9", "r10", "r12", "lr", "memory");
    res->a0 = r0; res->a1 = r1; res->a2 = r2; res->a3 = r3;
}

/* ------------------------------------------------------------------ */
/* freestanding helpers                                                 */

#include "probe-print.h"

static void put32(u8 *p, u32 v)
{
    p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static u32 get32(const u8 *p)
{
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/* ------------------------------------------------------------------ */
/* 1. xen_version                                                       */

static s32 xv(int cmd, void *arg)
{
    return hcall(HYPERVISOR_xen_version, cmd, arg, 0);
}

static void probe_xen_version(void)
{
    s32 r;

    r = xv(0, 0);
    ps("xen_version(0) = ");
    pret(r);
    ps(" (major ");
    pdec(r >> 16);
    ps(", minor ");
    pdec(r & 0xffff);
    ps(")");
    flush();

    memset(buf, FILL, sizeof(buf));
    r = xv(5, buf);
    ps("xen_version(5) = ");
    pret(r);
    ps(" buf=");
    pbytes(buf, 8);
    ps(" bytes written=");
    pdec(touched());
    flush();

    memset(buf, FILL, sizeof(buf));
    put32(buf, 0);                      /* submap_idx = 0 */
    r = xv(6, buf);
    ps("xen_version(6) submap_idx=0 = ");
    pret(r);
    ps(" buf=");
    pbytes(buf, 8);
    ps(" submap=");
    phex(get32(buf + 4));
    ps(" bytes written=");
    pdec(touched());
    flush();

    r = xv(7, 0);
    ps("xen_version(7) arg=NULL = ");
    pret(r);
    flush();

    memset(buf, 0, sizeof(buf));
    r = xv(3, buf);
    ps("xen_version(3) = ");
    pret(r);
    ps(" buf=");
    pstr(buf, sizeof(buf));
    flush();
}

/* ------------------------------------------------------------------ */
/* 2. registers after a hypercall                                       */

static void probe_regs(void)
{
    u32 out[6];
    asm volatile(
        "mov  r0, #0\n"
        "ldr  r1, =0x11111111\n"
        "ldr  r2, =0x22222222\n"
        "ldr  r3, =0x33333333\n"
        "ldr  r4, =0x44444444\n"
        "mov  r12, #17\n"
        "hvc  #0xea1\n"
        "str  r0, [%0]\n"
        "str  r1, [%0, #4]\n"
        "str  r2, [%0, #8]\n"
        "str  r3, [%0, #12]\n"
        "str  r4, [%0, #16]\n"
        "str  r12, [%0, #20]\n"
        "b    1f\n"
        ".ltorg\n"
        "1:\n"
        :
        : "r"(out)
        : "r0", "r1", "r2", "r3", "r4", "r12", "memory");
    ps("regs after xen_version(0) with r1..r4=0x11111111,0x22222222,0x33333333,0x44444444 r12=17:");
    flush();
    static const char rn[6][4] = { "r0", "r1", "r2", "r3", "r4", "r12" };
    for (int i = 0; i < 6; i++) {
        ps("  ");
        ps(rn[i]);
        ps("=");
        phexw(out[i]);
        flush();
    }
}

/* ------------------------------------------------------------------ */
/* 3. console_io                                                        */

static void probe_console_io(void)
{
    s32 r;

    r = hcall(HYPERVISOR_console_io, CONSOLEIO_write, 0, buf);
    ps("console_io(0 write, count=0) = ");
    pret(r);
    flush();

    r = hcall(HYPERVISOR_console_io, CONSOLEIO_write, 4, 0x1);
    ps("console_io(0 write, count=4, buf=0x1) = ");
    pret(r);
    flush();
}

/* ------------------------------------------------------------------ */
/* 4. unknown numbers                                                   */

static void probe_numbers(void)
{
    static const u32 nrs[] = { 15, 43, 99 };
    for (unsigned int i = 0; i < 3; i++) {
        s32 r = hcall(nrs[i], 0, 0, 0);
        ps("hypercall(");
        phex(nrs[i]);
        ps(") = ");
        pret(r);
        flush();
    }

    /* r12 = 17 | 0x100: xen_version with junk above the low byte */
    u32 out[2];
    asm volatile(
        "mov  r0, #0\n"
        "mov  r1, #0\n"
        "mov  r12, #0x111\n"
        "hvc  #0xea1\n"
        "str  r0, [%0]\n"
        "str  r12, [%0, #4]\n"
        :
        : "r"(out)
        : "r0", "r1", "r2", "r3", "r4", "r12", "memory");
    ps("hypercall(r12=0x111, r0=0) = ");
    pret((s32)out[0]);
    ps(" r12 after=");
    phex(out[1]);
    flush();
}

/* ------------------------------------------------------------------ */
/* 5. SMCCC / PSCI over hvc #0                                          */

static void smc_line(u32 fid, u32 a1, int show_a1)
{
    struct smccc_res res;
    smccc(fid, a1, &res);
    ps("smccc(r0=");
    phex(fid);
    if (show_a1) {
        ps(", r1=");
        phex(a1);
    }
    ps(") r0=");
    phex(res.a0);
    if ((s32)res.a0 < 0) {
        ps(" (");
        pdec((s32)res.a0);
        ps(")");
    }
    ps(" r1=");
    phex(res.a1);
    ps(" r2=");
    phex(res.a2);
    ps(" r3=");
    phex(res.a3);
    flush();
}

static void probe_smccc(void)
{
    smc_line(0x80000000, 0, 0);             /* SMCCC_VERSION */
    smc_line(0x80000001, 0x80008000, 1);    /* ARCH_FEATURES(WORKAROUND_1) */
    smc_line(0x80000001, 0x80007fff, 1);    /* ARCH_FEATURES(WORKAROUND_2) */
    smc_line(0x84000000, 0, 0);             /* PSCI_VERSION */
    static const u32 feats[] = { 0x84000000, 0x84000008, 0xc4000003, 0x12345678 };
    for (unsigned int i = 0; i < 4; i++)
        smc_line(0x8400000a, feats[i], 1);  /* PSCI_FEATURES */
    smc_line(0x84000006, 0, 0);             /* MIGRATE_INFO_TYPE */
    smc_line(0x8500ff00, 0, 0);             /* hypervisor service call count */
    smc_line(0x8500ff01, 0, 0);             /* hypervisor service UID */
    smc_line(0xc4000003, 0, 0);             /* SMC64 CPU_ON from a 32-bit guest */
    smc_line(0x80008000, 0x5555, 1);        /* ARCH_WORKAROUND_1 itself */
    smc_line(0x12345678, 0, 0);             /* unknown */
}

/* ------------------------------------------------------------------ */
/* 6. wrong HVC immediate -> Undefined Instruction                      */

extern char undef_entry_arm[], undef_entry_thumb[];
extern char exc_entry_0x00[], exc_entry_0x08[], exc_entry_0x0c[], exc_entry_0x10[],
            exc_entry_0x14[], exc_entry_0x18[], exc_entry_0x1c[];
extern u32 vecarea[], vecarea_end[];
extern char bad_hvc_arm_insn[], bad_hvc_arm_after[];
extern char bad_hvc_thumb_insn[], bad_hvc_thumb_after[];
extern char bad_hvc_inline_insn[], bad_hvc_inline_after[];
void bad_hvc_arm(void);
void bad_hvc_thumb(void);

static volatile u32 cur_hvc;        /* address of the faulting hvc */
static volatile u32 cur_resume;     /* where to resume, | 1 for Thumb */
static volatile u32 undef_count;
#define SPSR_UND_MARK 0x200001d7u       /* C, Abort mode, A I F */
#define SPSR_SVC_MARK 0x100001d1u       /* V, FIQ mode, A I F */

static u32 arm_b(u32 from, u32 to)
{
    return 0xea000000u | (((to - from - 8) >> 2) & 0xffffff);
}

static u32 read_sctlr(void)
{
    u32 v;
    asm volatile("mrc p15, 0, %0, c1, c0, 0" : "=r"(v));
    return v;
}

/*
 * The table V (32-byte aligned) is put so that the word at V+4,
 * "b undef_entry_arm" = 0xeaffe0NN, has the low half-word 0xe0NN: executed in
 * Thumb state that is "b.n V+8+2*NN", where a Thumb "ldr.w pc, [pc, #4]"
 * sends it to undef_entry_thumb. This needs undef_entry_arm = V+12-0x8000+4*NN.
 */
static u32 setup_vectors(void)
{
    u32 ua = (u32)undef_entry_arm;
    u32 v = (ua - 12 + 0x8000 - 4 * 64) & ~31u;
    u32 nn = (ua - 12 + 0x8000 - v) / 4;       /* 64..71 */
    u32 lo = (u32)vecarea, hi = (u32)vecarea_end;

    ps("vectors: undef_entry_arm=");
    phex(ua);
    ps(" undef_entry_thumb=");
    phex((u32)undef_entry_thumb);
    ps(" table=");
    phex(v);
    if (v < lo || v + 0x400 > hi) {
        ps(" ERROR: outside vecarea ");
        phex(lo);
        ps("-");
        phex(hi);
        flush();
        return 0;
    }
    flush();

    u32 *t = (u32 *)v;
    t[0] = arm_b(v + 0x00, (u32)exc_entry_0x00);
    t[1] = arm_b(v + 0x04, ua);
    t[2] = arm_b(v + 0x08, (u32)exc_entry_0x08);
    t[3] = arm_b(v + 0x0c, (u32)exc_entry_0x0c);
    t[4] = arm_b(v + 0x10, (u32)exc_entry_0x10);
    t[5] = arm_b(v + 0x14, (u32)exc_entry_0x14);
    t[6] = arm_b(v + 0x18, (u32)exc_entry_0x18);
    t[7] = arm_b(v + 0x1c, (u32)exc_entry_0x1c);
    if ((t[1] & 0xfffffc00u) != 0xeaffe000u || (t[1] & 0x3ff) != nn) {
        ps("vectors: ERROR: undef entry word ");
        phex(t[1]);
        flush();
        return 0;
    }
    /* Thumb stub at S = V+8+2*NN: ldr.w pc, [pc, #4]; literal at Align(S+4,4)+4 */
    u32 s = v + 8 + 2 * nn;
    u16 *h = (u16 *)s;
    h[0] = 0xf8df;
    h[1] = 0xf004;
    u32 lit = ((s + 4) & ~3u) + 4;
    *(u32 *)lit = (u32)undef_entry_thumb | 1;   /* already | 1 (.thumb_func) */

    asm volatile("dsb\n"
                 "mcr p15, 0, %0, c7, c5, 0\n"      /* ICIALLU */
                 "dsb\n"
                 "isb\n" : : "r"(0) : "memory");

    u32 sctlr = read_sctlr();
    ps("SCTLR=");
    phex(sctlr);
    ps(" (V=");
    pdec((sctlr >> 13) & 1);
    ps(" TE=");
    pdec((sctlr >> 30) & 1);
    ps(" EE=");
    pdec((sctlr >> 25) & 1);
    ps(")");
    flush();
    if (sctlr & (1u << 13)) {
        sctlr &= ~(1u << 13);
        asm volatile("mcr p15, 0, %0, c1, c0, 0\nisb" : : "r"(sctlr) : "memory");
    }
    asm volatile("mcr p15, 0, %0, c12, c0, 0\nisb" : : "r"(v) : "memory");
    u32 vbar;
    asm volatile("mrc p15, 0, %0, c12, c0, 0" : "=r"(vbar));
    ps("VBAR=");
    phex(vbar);
    ps(" undef vector word=");
    phex(t[1]);
    ps(" thumb stub at ");
    phex(s);
    flush();
    return v;
}

/* called from undef_common (Undefined mode) */
u32 probe_undef(u32 entered_thumb, u32 cpsr, u32 spsr, u32 lr, u32 spsr_svc)
{
    undef_count++;
    ps("  undef: CPSR.M=");
    phex(cpsr & 0x1f);
    ps(" CPSR=");
    phex(cpsr);
    ps(" SPSR_und=");
    phex(spsr);
    ps(" (T=");
    pdec((spsr >> 5) & 1);
    ps(" M=");
    phex(spsr & 0x1f);
    ps(") SPSR_svc=");
    phex(spsr_svc);
    flush();
    ps("  undef: LR_und=");
    phex(lr);
    ps(" LR_und-&hvc=");
    pdec((s32)(lr - cur_hvc));
    ps(" handler entered in ");
    ps(entered_thumb ? "Thumb" : "ARM");
    ps(" state (CPSR.T=");
    pdec(entered_thumb ? 1 : 0);
    ps(")");
    flush();
    return cur_resume;
}

/* any other exception: report and end the run */
void probe_other(u32 vec, u32 cpsr, u32 spsr, u32 lr)
{
    ps("unexpected exception: vector=VBAR+");
    phex(vec);
    ps(" CPSR=");
    phex(cpsr);
    ps(" SPSR=");
    phex(spsr);
    ps(" LR=");
    phex(lr);
    flush();
    memset(buf, 0, 16);
    put32(buf, SHUTDOWN_crash);
    hcall(HYPERVISOR_sched_op, SCHEDOP_shutdown, buf, 0);
    for (;;)
        ;
}

/* the hvc in the C code's own instruction set; noinline/noclone: one copy of the labels */
static void __attribute__((noinline, noclone)) bad_hvc_inline(void)
{
    asm volatile(".globl bad_hvc_inline_insn, bad_hvc_inline_after\n"
                 "bad_hvc_inline_insn: hvc #0x1234\n"
                 "bad_hvc_inline_after:\n"
                 ::: "r0", "r1", "r2", "r3", "r12", "memory", "cc");
}

static void bad_hvc_case(int thumb, const char *what, void (*fn)(void),
                         const char *insn, const char *after)
{
    u32 before = undef_count;
    cur_hvc = (u32)insn & ~1u;
    cur_resume = ((u32)after & ~1u) | (thumb ? 1 : 0);
    ps("hvc #0x1234 in ");
    ps(thumb ? "Thumb" : "ARM");
    ps(" state: ");
    ps(what);
    ps(", hvc at ");
    phex(cur_hvc);
    ps(", resume at ");
    phex(cur_resume);
    flush();
    /*
     * Markers, to see which SPSR the handler reads. Under the QEMU 7.2 oracle
     * the handler reads the SVC marker as SPSR_und and SPSR_svc as 0, though
     * Xen 4.17 stores the old CPSR in regs->spsr_und and its arm64 exit path
     * writes that to SPSR_und: apparently QEMU TCG keeps the current AArch32
     * mode's SPSR apart from the banked copies EL2 reads and writes.
     */
    u32 cpsr, m_und = SPSR_UND_MARK, m_svc = SPSR_SVC_MARK;
    asm volatile("cps #0x1b\n"
                 "msr spsr_fsxc, %0\n"
                 "cps #0x13\n"
                 "msr spsr_fsxc, %1\n"
                 "isb\n" : : "r"(m_und), "r"(m_svc) : "memory");
    ps("  before: SPSR_und set to ");
    phex(m_und);
    ps(", SPSR_svc set to ");
    phex(m_svc);
    flush();
    fn();
    asm volatile("mrs %0, cpsr" : "=r"(cpsr));
    ps("  after ");
    ps(what);
    ps(": ");
    if (undef_count == before)
        ps("hvc #0x1234 returned WITHOUT an exception");
    else
        ps("resumed after the hvc");
    ps(", CPSR=");
    phex(cpsr);
    flush();
}

static void probe_bad_hvc(void)
{
    if (!setup_vectors())
        return;
#ifdef __thumb__
    bad_hvc_case(0, "bad_hvc_arm() (ARM function via blx)", bad_hvc_arm,
                 bad_hvc_arm_insn, bad_hvc_arm_after);
    bad_hvc_case(1, "inline Thumb hvc", bad_hvc_inline,
                 bad_hvc_inline_insn, bad_hvc_inline_after);
#else
    bad_hvc_case(0, "inline ARM hvc", bad_hvc_inline,
                 bad_hvc_inline_insn, bad_hvc_inline_after);
    bad_hvc_case(1, "bad_hvc_thumb() (Thumb function via blx)", bad_hvc_thumb,
                 bad_hvc_thumb_insn, bad_hvc_thumb_after);
#endif
}

/* ------------------------------------------------------------------ */

void probe_main(u32 dtb, u32 load, u32 link)
{
    u32 cpsr;
    asm volatile("mrs %0, cpsr" : "=r"(cpsr));
    ps(PROBE_NAME ": start (C code in " C_STATE " state), loaded at ");
    phex(load);
    ps(", linked at ");
    phex(link);
    ps(", dtb at ");
    phex(dtb);
    ps(", CPSR=");
    phex(cpsr);
    if (load != link)
        ps(" WARNING: load address differs from link address");
    flush();

    probe_xen_version();
    probe_regs();
    probe_console_io();
    probe_numbers();
    probe_smccc();
    probe_bad_hvc();

    ps(PROBE_NAME ": done, sched_op(2 shutdown, {reason=poweroff})");
    flush();
    memset(buf, 0, 16);
    put32(buf, SHUTDOWN_poweroff);
    s32 r = hcall(HYPERVISOR_sched_op, SCHEDOP_shutdown, buf, 0);
    ps("sched_op(2 shutdown) returned ");
    pret(r);
    flush();
    for (;;)
        ;
}
