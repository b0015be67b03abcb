/*
 * rt.h - the xenhvc freestanding guest runtime (A64, A32, Thumb-2).
 *
 * Tests are registered with XTEST(group, name) { ... } and print what they
 * observe with rt_printf (never addresses, timings or memory sizes), check it
 * with EXPECT*, and end with a result line printed by the runner.
 */
#ifndef XENHVC_RT_H
#define XENHVC_RT_H

#include <stdarg.h>

typedef unsigned long ulong;
typedef unsigned long long u64;
typedef long long s64;
typedef unsigned int u32;
typedef int s32;
typedef unsigned short u16;
typedef unsigned char u8;

#if defined(__aarch64__)
#include "hypercall-a64.h"
#define RT_ISA "a64"
#elif defined(__thumb__)
#include "hypercall-t32.h"
#define RT_ISA "t32"
#else
#include "hypercall-a32.h"
#define RT_ISA "a32"
#endif

/* ---- console and formatting ---- */
void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_vprintf(const char *fmt, va_list ap);
void rt_flush(void);
/* "label = <value>": hex for >= 0, "-N (ENAME)" for a negative errno */
void rt_show(const char *label, long r);
const char *rt_errname(long r);
/* the same with a printf-formatted label */
void rt_showf(long r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rt_hexdump(const char *label, const void *p, unsigned int n);
void rt_showstr(const char *label, const char *s, unsigned int max);

/* ---- freestanding libc bits ---- */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
int memcmp(const void *a, const void *b, unsigned long n);
unsigned long strlen(const char *s);
int strcmp(const char *a, const char *b);

/* ---- device tree ---- */
const char *rt_fdt_bootargs(ulong dtb);
extern ulong rt_dtb;                       /* the DTB the guest was booted with */
u32 rt_be32(const void *p);
/* property `prop` of the first top-level node whose name starts with `name`
 * (if not 0) and whose compatible list holds `compat` (if not 0) */
const u8 *rt_fdt_find(const char *name, const char *compat, const char *prop, u32 *len);

/* ---- interrupts (gic.c): GICv3 with system-register CPU interface ---- */
extern void (*volatile rt_irq_handler)(void);  /* called from the IRQ vector */
int rt_gic_init(void);                     /* 0, or -1 without a GICv3 in the DT */
u32 rt_evtchn_ppi(void);                   /* INTID from /hypervisor interrupts, 0 if none */
void rt_gic_enable(u32 intid, u32 prio);
void rt_gic_disable(u32 intid);
u32 rt_gic_ack(void);                      /* ICC_IAR1: INTID or 1023 */
void rt_gic_eoi(u32 intid);                /* ICC_EOIR1 */
void rt_gic_set_pmr(u32 pmr);
u32 rt_gic_pmr(void);
#if defined(__aarch64__)
static inline void rt_irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void rt_irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static inline int rt_irq_masked(void)
{ ulong v; __asm__ volatile("mrs %0, daif" : "=r"(v) :: "memory"); return (v >> 7) & 1; }
#else
static inline void rt_irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void rt_irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline int rt_irq_masked(void)
{ ulong v; __asm__ volatile("mrs %0, cpsr" : "=r"(v) :: "memory"); return (v >> 7) & 1; }
#endif
static inline void rt_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

/* ---- results ---- */
enum rt_result { RT_SUCCESS, RT_SKIP, RT_FAILURE, RT_ERROR };
void rt_fail(const char *what);
void rt_skip(const char *why);
#define EXPECT(cond) do { if (!(cond)) rt_fail(#cond); } while (0)
#define EXPECT_EQ(a, b) do { long __a = (long)(a), __b = (long)(b); \
    if (__a != __b) { rt_printf("  expected %s == %s (0x%lx), got 0x%lx\n", #a, #b, \
                                (ulong)__b, (ulong)__a); rt_fail(#a); } } while (0)

/* ---- tests ---- */
#define XT_TERMINAL 1u   /* ends the domain: run only alone (xtest=<name>) */
struct xtest {
    const char *name;
    void (*fn)(void);
    unsigned long flags;
};
#define XTEST_F(group, tname, fl)                                              \
    static void xt_##group##__##tname(void);                                   \
    static const struct xtest xt_desc_##group##__##tname                        \
        __attribute__((used, section(".xtests"), aligned(sizeof(void *)))) =   \
        { #group "." #tname, xt_##group##__##tname, (fl) };                    \
    static void xt_##group##__##tname(void)
#define XTEST(group, tname) XTEST_F(group, tname, 0)

/* ---- exceptions ---- */
/* Before a deliberate exception: where the faulting instruction is. The
 * handler prints "exception: class=... syndrome=... return=..." and resumes
 * after it. Any other exception ends the current test with ERROR. */
extern volatile ulong rt_fault_insn;
extern volatile int rt_fault_thumb;
extern volatile unsigned int rt_exceptions;
void rt_expect_fault(void (*fn)(void), int thumb);

/* ---- shutdown ---- */
long rt_shutdown(unsigned int reason);     /* SCHEDOP_shutdown */
void rt_poweroff(void) __attribute__((noreturn));

/* ---- assembly helpers ---- */
#if defined(__aarch64__)
void rt_hvc_regs(unsigned long regs[30]);
#else
void rt_hvc_regs_arm(unsigned long regs[13]);
void rt_hvc_regs_thumb(unsigned long regs[13]);
#endif

#endif
