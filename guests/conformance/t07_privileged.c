/* vm_assist (21), physdev_op (33), platform_op (7), sysctl (35), domctl (36),
 * xsm_op (27), hypfs_op (42) */
#include "xt.h"

XTEST(vm_assist, runstate_update_flag)
{
    long r = HYPERVISOR_vm_assist(0 /* enable */, 5 /* VMASST_TYPE_runstate_update_flag */);
    rt_show("vm_assist(VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag)", r);
    long r2 = HYPERVISOR_vm_assist(1 /* disable */, 5);
    rt_show("vm_assist(VMASST_CMD_disable, VMASST_TYPE_runstate_update_flag)", r2);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(r2, 0);
}

XTEST(vm_assist, bad_type)
{
    static const unsigned int types[] = { 0, 1, 2, 3, 4, 32, 0xffffffffu };
    for (unsigned int i = 0; i < 7; i++) {
        long r = HYPERVISOR_vm_assist(0, types[i]);
        rt_showf(r, "vm_assist(VMASST_CMD_enable, %u)", types[i]);
        EXPECT_EQ(r, -22);
    }
}

XTEST(vm_assist, bad_cmd)
{
    long r = HYPERVISOR_vm_assist(2, 5);
    rt_show("vm_assist(2, VMASST_TYPE_runstate_update_flag)", r);
    EXPECT_EQ(r, -38);
}

XTEST(physdev_op, every_cmd_enosys)
{
    static const int cmds[] = { 0, 1, 4, 12, 25, 26, 99 };
    for (unsigned int i = 0; i < 7; i++) {
        long r = HYPERVISOR_physdev_op(cmds[i], xt_clear(64));
        rt_showf(r, "physdev_op(%d, buf)", cmds[i]);
        EXPECT_EQ(r, -38);
    }
    long r = HYPERVISOR_physdev_op(25, NOT_MAPPED);
    rt_show("physdev_op(PHYSDEVOP_pci_device_add, unmapped)", r);
}

/* ---- platform_op ---- */
#define XENPF_INTERFACE_VERSION 0x03000001

XTEST(platform_op, bad_interface_version)
{
    u8 *b = xt_clear(256);
    put32(b, 62);               /* XENPF_settime64 */
    put32(b + 4, 0x03000000);
    long r = HYPERVISOR_platform_op(b);
    rt_show("platform_op({cmd=XENPF_settime64, interface_version=0x03000000})", r);
    EXPECT_EQ(r, -13);
}

XTEST(platform_op, unknown_cmd)
{
    u8 *b = xt_clear(256);
    put32(b, 99);
    put32(b + 4, XENPF_INTERFACE_VERSION);
    long r = HYPERVISOR_platform_op(b);
    rt_show("platform_op({cmd=99, interface_version=XENPF_INTERFACE_VERSION})", r);
    EXPECT_EQ(r, -38);
}

XTEST(platform_op, bad_pointer)
{
    long r = HYPERVISOR_platform_op(NOT_MAPPED);
    rt_show("platform_op(unmapped)", r);
    EXPECT_EQ(r, -14);
}

/* ---- sysctl ---- */
#define XEN_SYSCTL_INTERFACE_VERSION 0x15

XTEST(sysctl, bad_interface_version)
{
    u8 *b = xt_clear(256);
    put32(b, 4);
    put32(b + 4, 0x14);
    long r = HYPERVISOR_sysctl(b);
    rt_show("sysctl({cmd=XEN_SYSCTL_sched_id, interface_version=0x14})", r);
    EXPECT_EQ(r, -13);
}

XTEST(sysctl, sched_id)
{
    u8 *b = xt_clear(256);
    put32(b, 4);
    put32(b + 4, XEN_SYSCTL_INTERFACE_VERSION);
    long r = HYPERVISOR_sysctl(b);
    rt_show("sysctl({cmd=XEN_SYSCTL_sched_id})", r);
    rt_printf("  sched_id = %u\n", get32(b + 8));
}

XTEST(sysctl, unknown_cmd)
{
    u8 *b = xt_clear(256);
    put32(b, 999);
    put32(b + 4, XEN_SYSCTL_INTERFACE_VERSION);
    long r = HYPERVISOR_sysctl(b);
    rt_show("sysctl({cmd=999})", r);
    EXPECT_EQ(r, -38);
}

XTEST(sysctl, bad_pointer)
{
    long r = HYPERVISOR_sysctl(NOT_MAPPED);
    rt_show("sysctl(unmapped)", r);
    EXPECT_EQ(r, -14);
}

/* ---- domctl ---- */
#define XEN_DOMCTL_INTERFACE_VERSION 0x15

XTEST(domctl, bad_interface_version)
{
    u8 *b = xt_clear(512);
    put32(b, 5);
    put32(b + 4, 0x14);
    long r = HYPERVISOR_domctl(b);
    rt_show("domctl({cmd=XEN_DOMCTL_getdomaininfo, interface_version=0x14})", r);
    EXPECT_EQ(r, -13);
}

XTEST(domctl, getdomaininfo_self)
{
    u8 *b = xt_clear(512);
    put32(b, 5);
    put32(b + 4, XEN_DOMCTL_INTERFACE_VERSION);
    put16(b + 8, 0);
    long r = HYPERVISOR_domctl(b);
    rt_show("domctl({cmd=XEN_DOMCTL_getdomaininfo, domain=0})", r);
    rt_printf("  u.getdomaininfo.domain = %u\n", get16(b + 16));
}

XTEST(domctl, no_domain)
{
    u8 *b = xt_clear(512);
    put32(b, 5);
    put32(b + 4, XEN_DOMCTL_INTERFACE_VERSION);
    put16(b + 8, 5);
    long r = HYPERVISOR_domctl(b);
    rt_show("domctl({cmd=XEN_DOMCTL_getdomaininfo, domain=5})", r);
}

XTEST(domctl, unknown_cmd)
{
    u8 *b = xt_clear(512);
    put32(b, 9999);
    put32(b + 4, XEN_DOMCTL_INTERFACE_VERSION);
    put16(b + 8, 0);
    long r = HYPERVISOR_domctl(b);
    rt_show("domctl({cmd=9999, domain=0})", r);
}

XTEST(domctl, bad_pointer)
{
    long r = HYPERVISOR_domctl(NOT_MAPPED);
    rt_show("domctl(unmapped)", r);
    EXPECT_EQ(r, -14);
}

/* ---- xsm_op ---- */
XTEST(xsm_op, silo_enosys)
{
    long r = HYPERVISOR_xsm_op(xt_clear(64));
    rt_show("xsm_op(zeroed buffer)", r);
    long r2 = HYPERVISOR_xsm_op(0);
    rt_show("xsm_op(NULL)", r2);
    long r3 = HYPERVISOR_xsm_op(NOT_MAPPED);
    rt_show("xsm_op(unmapped)", r3);
    EXPECT_EQ(r, -38);
}

/* ---- hypfs_op ---- */
XTEST(hypfs_op, get_version)
{
    long r = HYPERVISOR_hypfs_op(0, 0, 0, 0, 0);
    rt_show("hypfs_op(XEN_HYPFS_OP_get_version, NULL, 0, NULL, 0)", r);
    long r2 = HYPERVISOR_hypfs_op(0, 0, 1, 0, 0);
    rt_show("hypfs_op(XEN_HYPFS_OP_get_version, NULL, 1, NULL, 0)", r2);
    EXPECT_EQ(r, 1);
}

static long hypfs_read(const char *path, u8 *buf, unsigned long len)
{
    return HYPERVISOR_hypfs_op(1 /* XEN_HYPFS_OP_read */, (void *)path, strlen(path) + 1, buf, len);
}

XTEST(hypfs_op, read_version)
{
    static const char *const paths[] = { "/buildinfo/version/major", "/buildinfo/version/minor",
                                         "/buildinfo/version/extra" };
    for (unsigned int i = 0; i < 3; i++) {
        u8 *b = xt_clear(256);
        long r = hypfs_read(paths[i], b, 256);
        rt_printf("hypfs_op(XEN_HYPFS_OP_read, \"%s\", buf, 256) = %ld%s%s\n", paths[i], r, r ? " " : "",
                  r ? rt_errname(r) : "");
        rt_printf("  type = %u, encoding = %u, content_len = %u, max_write_len = %u\n", b[0], b[1],
                  get32(b + 4), get32(b + 8));
        rt_hexdump("  content", b + 12, get32(b + 4) < 16 ? get32(b + 4) : 16);
    }
}

XTEST(hypfs_op, read_errors)
{
    u8 *b = xt_clear(256);
    rt_show("hypfs_op(XEN_HYPFS_OP_read, \"/no/such/entry\", buf, 256)", hypfs_read("/no/such/entry", b, 256));
    rt_show("hypfs_op(XEN_HYPFS_OP_read, \"/buildinfo/version/major\", buf, 4)",
            hypfs_read("/buildinfo/version/major", b, 4));
    rt_show("hypfs_op(XEN_HYPFS_OP_read, unmapped path, 8, buf, 256)",
            HYPERVISOR_hypfs_op(1, NOT_MAPPED, 8, b, 256));
    rt_show("hypfs_op(XEN_HYPFS_OP_read, \"/buildinfo/version/major\", unmapped, 256)",
            hypfs_read("/buildinfo/version/major", NOT_MAPPED, 256));
}

XTEST(hypfs_op, write_readonly)
{
    static const char path[] = "/buildinfo/version/major";
    u8 *b = xt_clear(16);
    put32(b, 5);
    long r = HYPERVISOR_hypfs_op(2 /* XEN_HYPFS_OP_write_contents */, (void *)path, sizeof(path), b, 4);
    rt_show("hypfs_op(XEN_HYPFS_OP_write_contents, \"/buildinfo/version/major\", buf, 4)", r);
}

XTEST(hypfs_op, unknown)
{
    static const unsigned int cmds[] = { 3, 99 };
    for (unsigned int i = 0; i < 2; i++) {
        long r = HYPERVISOR_hypfs_op(cmds[i], 0, 0, 0, 0);
        rt_showf(r, "hypfs_op(%u, NULL, 0, NULL, 0)", cmds[i]);
    }
}
