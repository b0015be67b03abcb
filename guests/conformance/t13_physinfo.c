/* sysctl (35) XEN_SYSCTL_physinfo and domctl (36) XEN_DOMCTL_getdomaininfo, field by field.
 * The buffers are filled with 0xa5 first so what Xen zeroes (its memset) and what it leaves
 * alone (the rest of the union) show. Values that change from boot to boot (free pages, CPU
 * time) or with the guest image (shared_info's MFN: 0x7ffdd with the A64 Image, just past the
 * boot module with a zImage, so it moves as the image grows) are printed only as a relation. */
#include "xt.h"

#define XEN_SYSCTL_INTERFACE_VERSION 0x15
#define XEN_DOMCTL_INTERFACE_VERSION 0x15
#define XEN_SYSCTL_physinfo 3
#define XEN_DOMCTL_getdomaininfo 5

static u8 *xt_fill(unsigned int n)
{
    memset(xt_buf, 0xa5, n);
    return xt_buf;
}

XTEST(sysctl, physinfo)
{
    u8 *b = xt_fill(256);
    put32(b, XEN_SYSCTL_physinfo);
    put32(b + 4, XEN_SYSCTL_INTERFACE_VERSION);
    long r = HYPERVISOR_sysctl(b);
    rt_show("sysctl({cmd=XEN_SYSCTL_physinfo})", r);
    if (r)
        return;
    const u8 *pi = b + 8;
    rt_printf("  cmd = %u, interface_version = 0x%x\n", get32(b), get32(b + 4));
    rt_printf("  threads_per_core = %u, cores_per_socket = %u\n", get32(pi), get32(pi + 4));
    rt_printf("  nr_cpus = %u, max_cpu_id = %u\n", get32(pi + 8), get32(pi + 12));
    rt_printf("  nr_nodes = %u, max_node_id = %u\n", get32(pi + 16), get32(pi + 20));
    rt_printf("  cpu_khz = %u\n", get32(pi + 24));
    rt_printf("  capabilities = 0x%x, arch_capabilities = 0x%x, pad = 0x%x\n", get32(pi + 28),
              get32(pi + 32), get32(pi + 36));
    u64 total = get64(pi + 40), free = get64(pi + 48);
    rt_printf("  total_pages = 0x%lx\n", (unsigned long)total);
    rt_printf("  free_pages: %s, %s\n", free ? "nonzero" : "zero",
              free <= total ? "<= total_pages" : "> total_pages");
    rt_printf("  scrub_pages = 0x%lx, outstanding_pages = 0x%lx\n", (unsigned long)get64(pi + 56),
              (unsigned long)get64(pi + 64));
    rt_printf("  max_mfn = 0x%lx\n", (unsigned long)get64(pi + 72));
    rt_hexdump("  hw_cap", pi + 80, 32);
    rt_hexdump("  rest of the union", pi + 112, 16);
    rt_hexdump("  past struct xen_sysctl", b + 136, 8);
    EXPECT_EQ(get32(b), XEN_SYSCTL_physinfo);
}

/* physinfo's max_mfn, or 0 when sysctl is refused */
static u64 xt_max_mfn(void)
{
    u8 *b = xt_clear(256);
    put32(b, XEN_SYSCTL_physinfo);
    put32(b + 4, XEN_SYSCTL_INTERFACE_VERSION);
    return HYPERVISOR_sysctl(b) ? 0 : get64(b + 8 + 72);
}

XTEST(domctl, getdomaininfo_fields)
{
    u64 max_mfn = xt_max_mfn();
    u8 *b = xt_fill(256);
    put32(b, XEN_DOMCTL_getdomaininfo);
    put32(b + 4, XEN_DOMCTL_INTERFACE_VERSION);
    put16(b + 8, 0);
    long r = HYPERVISOR_domctl(b);
    rt_show("domctl({cmd=XEN_DOMCTL_getdomaininfo, domain=0})", r);
    if (r)
        return;
    const u8 *gi = b + 16;
    rt_printf("  cmd = %u, interface_version = 0x%x, domain = %u\n", get32(b), get32(b + 4), get16(b + 8));
    rt_hexdump("  header pad", b + 10, 6);
    rt_printf("  domain = %u, pad1 = 0x%x, flags = 0x%x\n", get16(gi), get16(gi + 2), get32(gi + 4));
    rt_printf("  tot_pages = 0x%lx, max_pages = 0x%lx\n", (unsigned long)get64(gi + 8),
              (unsigned long)get64(gi + 16));
    rt_printf("  outstanding_pages = 0x%lx, shr_pages = 0x%lx, paged_pages = 0x%lx\n",
              (unsigned long)get64(gi + 24), (unsigned long)get64(gi + 32), (unsigned long)get64(gi + 40));
    u64 frame = get64(gi + 48);
    rt_printf("  shared_info_frame: %s, %s\n", frame ? "nonzero" : "zero",
              frame <= max_mfn ? "<= physinfo max_mfn" : "> physinfo max_mfn");
    rt_printf("  cpu_time: %s\n", get64(gi + 56) ? "nonzero" : "zero");
    rt_printf("  nr_online_vcpus = %u, max_vcpu_id = %u, ssidref = 0x%x\n", get32(gi + 64),
              get32(gi + 68), get32(gi + 72));
    rt_hexdump("  handle", gi + 76, 16);
    rt_printf("  cpupool = %u, gpaddr_bits = %u\n", get32(gi + 92), gi[96]);
    rt_hexdump("  pad2", gi + 97, 7);
    rt_printf("  arch_config: gic_version = %u, tee_type = %u, nr_spis = %u, clock_frequency = %u\n",
              gi[104], get16(gi + 106), get32(gi + 108), get32(gi + 112));
    rt_hexdump("  rest of the union", gi + 116, 12);
    rt_hexdump("  past struct xen_domctl", b + 144, 8);
}
