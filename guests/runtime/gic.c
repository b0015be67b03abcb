/*
 * gic.c - a tiny GICv3 driver for the xenhvc guest runtime: find the
 * distributor and redistributor in the device tree, wake the redistributor,
 * enable the system-register CPU interface and group 1, and enable, prioritise,
 * acknowledge and end one SGI/PPI at a time. One CPU, MMU off.
 */
#include "rt.h"

#define GICD_CTLR 0x0000
#define GICD_CTLR_ARE_NS (1u << 4)
#define GICD_CTLR_ENABLE_G1A (1u << 1)
#define GICR_WAKER 0x0014
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1u << 2)
#define GICR_SGI 0x10000
#define GICR_IGROUPR0 (GICR_SGI + 0x0080)
#define GICR_ISENABLER0 (GICR_SGI + 0x0100)
#define GICR_ICENABLER0 (GICR_SGI + 0x0180)
#define GICR_IPRIORITYR0 (GICR_SGI + 0x0400)

/* ICC registers: the AArch64 name and the AArch32 (p15, 0, CRn, CRm, opc2) encoding */
#define ICC_PMR "S3_0_C4_C6_0", "c4, c6, 0"
#define ICC_IAR1 "S3_0_C12_C12_0", "c12, c12, 0"
#define ICC_EOIR1 "S3_0_C12_C12_1", "c12, c12, 1"
#define ICC_BPR1 "S3_0_C12_C12_3", "c12, c12, 3"
#define ICC_SRE "S3_0_C12_C12_5", "c12, c12, 5"
#define ICC_IGRPEN1 "S3_0_C12_C12_7", "c12, c12, 7"

#if defined(__aarch64__)
#define ICC_RD_(a64, a32) ({ ulong __v; __asm__ volatile("mrs %0, " a64 : "=r"(__v) :: "memory"); __v; })
#define ICC_WR_(a64, a32, x) __asm__ volatile("msr " a64 ", %0\n\tisb" :: "r"((ulong)(x)) : "memory")
#else
#define ICC_RD_(a64, a32) ({ ulong __v; __asm__ volatile("mrc p15, 0, %0, " a32 : "=r"(__v) :: "memory"); __v; })
#define ICC_WR_(a64, a32, x) __asm__ volatile("mcr p15, 0, %0, " a32 "\n\tisb" :: "r"((ulong)(x)) : "memory")
#endif
#define ICC_RD(reg) ICC_RD_(reg)
#define ICC_WR(reg, x) ICC_WR_(reg, x)

static ulong gicd, gicr;

static inline u32 rd32(ulong a) { return *(volatile u32 *)a; }
static inline void wr32(ulong a, u32 v) { *(volatile u32 *)a = v; }
static inline void wr8(ulong a, u8 v) { *(volatile u8 *)a = v; }
static ulong be64(const u8 *p) { return (ulong)(((u64)rt_be32(p) << 32) | rt_be32(p + 4)); }

int rt_gic_init(void)
{
    u32 len;
    const u8 *reg = rt_fdt_find(0, "arm,gic-v3", "reg", &len);
    if (!reg || len < 32)
        return -1;
    gicd = be64(reg);               /* #address-cells = #size-cells = 2 */
    gicr = be64(reg + 16);
    wr32(gicr + GICR_WAKER, rd32(gicr + GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
    while (rd32(gicr + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP)
        ;
    wr32(gicd + GICD_CTLR, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A);
    ICC_WR(ICC_SRE, ICC_RD(ICC_SRE) | 1);
    ICC_WR(ICC_PMR, 0xff);
    ICC_WR(ICC_BPR1, 0);
    ICC_WR(ICC_IGRPEN1, 1);
    return 0;
}

u32 rt_evtchn_ppi(void)
{
    u32 len;
    const u8 *irq = rt_fdt_find("hypervisor", 0, "interrupts", &len);
    if (!irq || len < 12)
        return 0;
    return rt_be32(irq + 4) + (rt_be32(irq) == 1 ? 16 : 32);   /* PPI or SPI */
}

void rt_gic_enable(u32 intid, u32 prio)
{
    wr32(gicr + GICR_IGROUPR0, rd32(gicr + GICR_IGROUPR0) | 1u << intid);
    wr8(gicr + GICR_IPRIORITYR0 + intid, prio);
    wr32(gicr + GICR_ISENABLER0, 1u << intid);
}

void rt_gic_disable(u32 intid) { wr32(gicr + GICR_ICENABLER0, 1u << intid); }
u32 rt_gic_ack(void) { return ICC_RD(ICC_IAR1) & 0xffffff; }
void rt_gic_eoi(u32 intid) { ICC_WR(ICC_EOIR1, intid); }
void rt_gic_set_pmr(u32 pmr) { ICC_WR(ICC_PMR, pmr); }
u32 rt_gic_pmr(void) { return ICC_RD(ICC_PMR); }
