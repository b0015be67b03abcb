/* The event-channel upcall: shared_info and vcpu_info mapped, ports bound to
 * ourselves, sends that raise the event-channel PPI through the GIC into the
 * IRQ vector. Prints counts and pending bits, never addresses. */
#include "xt.h"

#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_close 3
#define EVTCHNOP_send 4
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_bind_ipi 7
#define EVTCHNOP_unmask 9
#define VCPUOP_register_vcpu_info 10
#define XENMEM_add_to_physmap 7
#define XENMAPSPACE_shared_info 0
#define SCHEDOP_block 1
#define SI_PENDING 48              /* shared_info.evtchn_pending[] */
#define SI_MASK (48 + 512)         /* shared_info.evtchn_mask[] */
#define VI_UPCALL_PENDING 0
#define VI_PENDING_SEL 8
#define PRIO 0xa0

static u8 shinfo_page[4096] __attribute__((aligned(4096)));
static u8 vcpu_page[4096] __attribute__((aligned(4096)));
static volatile u8 *const si = shinfo_page;
static volatile u8 *const vi = vcpu_page;   /* vcpu_info at offset 0 */

static int ready;
static long map_rc, reg_rc, gic_rc;
static u32 ppi;

/* what the IRQ handler saw */
#define MAX_SEEN 4
static volatile u32 nirq;
static volatile u32 seen_id[MAX_SEEN], seen_upcall[MAX_SEEN], seen_sel[MAX_SEEN], seen_port[MAX_SEEN];
static volatile u32 watch_port;
static volatile int handler_clears;

static int bit(volatile u8 *base, u32 n) { return (base[n / 8] >> (n % 8)) & 1; }
static void set_bit(volatile u8 *base, u32 n, int v)
{
    if (v)
        base[n / 8] |= 1u << (n % 8);
    else
        base[n / 8] &= ~(1u << (n % 8));
}
static int sel_any(void)
{
    for (unsigned int i = 0; i < 8; i++)
        if (vi[VI_PENDING_SEL + i])
            return 1;
    return 0;
}
static void clear_upcall(void)
{
    vi[VI_UPCALL_PENDING] = 0;
    for (unsigned int i = 0; i < 8; i++)
        vi[VI_PENDING_SEL + i] = 0;
}

static void upcall_irq(void)
{
    u32 id = rt_gic_ack();
    u32 n = nirq;
    if (n < MAX_SEEN) {
        seen_id[n] = id;
        seen_upcall[n] = vi[VI_UPCALL_PENDING];
        seen_sel[n] = sel_any();
        seen_port[n] = watch_port ? (u32)bit(si + SI_PENDING, watch_port) : 0;
    }
    nirq = n + 1;
    if (handler_clears) {
        clear_upcall();
        if (watch_port)
            set_bit(si + SI_PENDING, watch_port, 0);
    }
    if (id != 1023)
        rt_gic_eoi(id);
}

static void show_irqs(const char *when)
{
    rt_printf("  %s: irqs = %u\n", when, nirq);
    for (u32 i = 0; i < nirq && i < MAX_SEEN; i++)
        rt_printf("    irq %u: intid = %s, upcall_pending = %u, pending_sel != 0: %u, port pending: %u\n", i,
                  seen_id[i] == ppi ? "evtchn ppi" : seen_id[i] == 1023 ? "1023" : "other",
                  seen_upcall[i], seen_sel[i], seen_port[i]);
    nirq = 0;
}

static long eop(int cmd, void *arg) { return HYPERVISOR_event_channel_op(cmd, arg); }
static long port_op(int cmd, u32 port)
{
    u8 b[8] __attribute__((aligned(8)));
    memset(b, 0, sizeof(b));
    put32(b, port);
    return eop(cmd, b);
}

/* Map shared_info and vcpu_info once; every test then starts with IRQs masked,
 * the PPI enabled and drained, and nothing pending. */
static int setup(void)
{
    rt_irq_disable();
    if (!ready) {
        u8 *b = xt_clear(24);
        put16(b, DOMID_SELF);
        put32(b + 4, XENMAPSPACE_shared_info);
        put64(b + 16, (ulong)shinfo_page >> 12);
        map_rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, b);
        b = xt_clear(16);
        put64(b, (ulong)vcpu_page >> 12);
        reg_rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, b);
        gic_rc = rt_gic_init();
        ppi = rt_evtchn_ppi();
        if (!ppi)                   /* a dom0less domU gets no /hypervisor node */
            ppi = 31;               /* GUEST_EVTCHN_PPI */
        rt_irq_handler = upcall_irq;
        ready = 1;
    }
    rt_show("  memory_op(XENMEM_add_to_physmap, {space=shared_info})", map_rc);
    rt_show("  vcpu_op(VCPUOP_register_vcpu_info, 0, {own page})", reg_rc);
    rt_printf("  gic = %ld, event-channel ppi = %u\n", gic_rc, ppi);
    if (map_rc || reg_rc || gic_rc || !ppi) {
        rt_skip("no shared_info, vcpu_info or GIC");
        return -1;
    }
    rt_gic_set_pmr(0xff);
    rt_gic_enable(ppi, PRIO);
    u32 drained = 0;
    for (u32 id; (id = rt_gic_ack()) != 1023 && drained < 8; drained++)
        rt_gic_eoi(id);
    clear_upcall();
    for (unsigned int i = 0; i < 512; i++)
        si[SI_PENDING + i] = 0;
    nirq = 0;
    watch_port = 0;
    handler_clears = 1;
    return 0;
}

static void teardown(void)
{
    rt_irq_disable();
    rt_gic_set_pmr(0xff);
    watch_port = 0;
}

static u32 bind_ipi(void)
{
    u8 *b = xt_clear(8);
    long r = eop(EVTCHNOP_bind_ipi, b);
    rt_show("  event_channel_op(EVTCHNOP_bind_ipi, {vcpu=0})", r);
    return r ? 0 : get32(b + 4);
}

static void show_state(const char *when, u32 port)
{
    rt_printf("  %s: upcall_pending = %u, pending_sel != 0: %u, port pending = %u, masked = %u\n", when,
              vi[VI_UPCALL_PENDING], sel_any(), bit(si + SI_PENDING, port), bit(si + SI_MASK, port));
}

XTEST(upcall, loopback_send)
{
    if (setup())
        return;
    u8 *b = xt_clear(8);
    put16(b, DOMID_SELF);
    put16(b + 2, DOMID_SELF);
    long r = eop(EVTCHNOP_alloc_unbound, b);
    u32 remote = get32(b + 4);
    rt_show("  event_channel_op(EVTCHNOP_alloc_unbound, {dom=SELF, remote_dom=SELF})", r);
    b = xt_clear(12);
    put16(b, DOMID_SELF);
    put32(b + 4, remote);
    long r2 = eop(EVTCHNOP_bind_interdomain, b);
    u32 local = get32(b + 8);
    rt_show("  event_channel_op(EVTCHNOP_bind_interdomain, {remote_dom=SELF, remote_port})", r2);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(r2, 0);
    watch_port = remote;
    rt_show("  event_channel_op(EVTCHNOP_send, {local port})", port_op(EVTCHNOP_send, local));
    show_state("after send (IRQs masked)", remote);
    rt_printf("  local port pending = %u\n", bit(si + SI_PENDING, local));
    show_irqs("before unmasking");
    rt_irq_enable();
    rt_irq_disable();
    show_irqs("after unmasking");
    show_state("after the handler", remote);
    port_op(EVTCHNOP_close, local);
    port_op(EVTCHNOP_close, remote);
    teardown();
}

XTEST(upcall, ipi_send_unmasked)
{
    if (setup())
        return;
    u32 port = bind_ipi();
    watch_port = port;
    rt_irq_enable();
    long r = port_op(EVTCHNOP_send, port);
    u32 n = nirq;
    rt_irq_disable();
    rt_show("  event_channel_op(EVTCHNOP_send, {port}) with IRQs unmasked", r);
    rt_printf("  irqs right after the hypercall = %u\n", n);
    show_irqs("after masking");
    show_state("after the handler", port);
    EXPECT_EQ(n, 1);
    port_op(EVTCHNOP_close, port);
    teardown();
}

XTEST(upcall, masked_port)
{
    if (setup())
        return;
    u32 port = bind_ipi();
    watch_port = port;
    set_bit(si + SI_MASK, port, 1);
    rt_irq_enable();
    rt_show("  event_channel_op(EVTCHNOP_send, {masked port})", port_op(EVTCHNOP_send, port));
    u32 n = nirq;
    show_state("after send", port);
    rt_printf("  irqs = %u\n", n);
    rt_show("  event_channel_op(EVTCHNOP_unmask, {port})", port_op(EVTCHNOP_unmask, port));
    n = nirq;
    rt_irq_disable();
    rt_printf("  irqs right after the unmask = %u\n", n);
    show_irqs("after masking");
    show_state("after the handler", port);
    port_op(EVTCHNOP_close, port);
    teardown();
}

XTEST(upcall, no_edge_while_upcall_pending)
{
    if (setup())
        return;
    u32 port = bind_ipi();
    watch_port = port;
    handler_clears = 0;             /* leave evtchn_upcall_pending set */
    rt_irq_enable();
    port_op(EVTCHNOP_send, port);
    rt_printf("  first send: irqs = %u\n", nirq);
    set_bit(si + SI_PENDING, port, 0);
    port_op(EVTCHNOP_send, port);
    rt_printf("  second send (upcall_pending still set): irqs = %u\n", nirq);
    clear_upcall();
    set_bit(si + SI_PENDING, port, 0);
    port_op(EVTCHNOP_send, port);
    rt_printf("  third send (after clearing upcall_pending): irqs = %u\n", nirq);
    rt_irq_disable();
    show_irqs("total");
    port_op(EVTCHNOP_close, port);
    teardown();
}

XTEST(upcall, gic_disabled_then_enabled)
{
    if (setup())
        return;
    u32 port = bind_ipi();
    watch_port = port;
    rt_gic_disable(ppi);
    rt_irq_enable();
    port_op(EVTCHNOP_send, port);
    rt_printf("  send with the PPI disabled at the GIC: irqs = %u\n", nirq);
    rt_gic_enable(ppi, PRIO);
    /* Xen takes it right after the enabling store, the model at the next hypercall */
    HYPERVISOR_xen_version(XENVER_version, 0);
    rt_irq_disable();
    show_irqs("after enabling it and a hypercall");
    port_op(EVTCHNOP_close, port);
    teardown();
}

XTEST(upcall, priority_mask)
{
    if (setup())
        return;
    u32 port = bind_ipi();
    watch_port = port;
    rt_gic_set_pmr(0x80);           /* below the PPI's priority 0xa0: masked */
    rt_printf("  pmr = %#lx\n", (ulong)rt_gic_pmr());
    rt_irq_enable();
    port_op(EVTCHNOP_send, port);
    rt_printf("  send with PMR 0x80: irqs = %u\n", nirq);
    rt_gic_set_pmr(0xff);
    u32 n = nirq;
    rt_irq_disable();
    rt_printf("  pmr = %#lx\n", (ulong)rt_gic_pmr());
    rt_printf("  irqs right after raising PMR = %u\n", n);
    show_irqs("after masking");
    port_op(EVTCHNOP_close, port);
    teardown();
}

XTEST(upcall, block_wakes)
{
    if (setup())
        return;
    u32 port = bind_ipi();
    watch_port = port;
    port_op(EVTCHNOP_send, port);
    show_state("after send (IRQs masked)", port);
    long r = HYPERVISOR_sched_op(SCHEDOP_block, 0);
    u32 n = nirq;
    int masked = rt_irq_masked();
    rt_irq_disable();
    rt_show("  sched_op(SCHEDOP_block, NULL) with an event pending", r);
    rt_printf("  IRQs masked after it = %d, irqs = %u\n", masked, n);
    show_irqs("after masking");
    port_op(EVTCHNOP_close, port);
    teardown();
}

XTEST(upcall, wfi_wakes)
{
    if (setup())
        return;
    u32 port = bind_ipi();
    watch_port = port;
    port_op(EVTCHNOP_send, port);
    rt_wfi();                       /* an interrupt is pending: WFI returns, IRQs stay masked */
    rt_printf("  after wfi (IRQs masked): irqs = %u\n", nirq);
    rt_irq_enable();
    rt_irq_disable();
    show_irqs("after unmasking");
    port_op(EVTCHNOP_close, port);
    teardown();
}
