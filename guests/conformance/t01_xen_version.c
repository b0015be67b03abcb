/* xen_version (17): every sub-op */
#include "xt.h"
u8 xt_buf[4096] __attribute__((aligned(16)));

XTEST(xen_version, version)
{
    long r = HYPERVISOR_xen_version(XENVER_version, 0);
    rt_show("xen_version(XENVER_version, NULL)", r);
    EXPECT_EQ(r, 0x40011);
}

static void strop(int cmd, const char *name, unsigned int len)
{
    char label[64];
    memset(xt_buf, 0xa5, sizeof(xt_buf));
    long r = HYPERVISOR_xen_version(cmd, xt_buf);
    unsigned int n = sizeof(xt_buf);
    while (n && xt_buf[n - 1] == 0xa5)
        n--;
    memcpy(label, "xen_version(", 12);
    memcpy(label + 12, name, strlen(name) + 1);
    rt_show(label, r);
    rt_showstr("  string", (const char *)xt_buf, len);
    rt_printf("  bytes written = %u\n", n);
    EXPECT_EQ(r, 0);
    EXPECT_EQ(n, len);
}

XTEST(xen_version, extraversion) { strop(XENVER_extraversion, "XENVER_extraversion)", 16); }
XTEST(xen_version, capabilities) { strop(XENVER_capabilities, "XENVER_capabilities)", 1024); }
XTEST(xen_version, changeset) { strop(XENVER_changeset, "XENVER_changeset)", 64); }
XTEST(xen_version, commandline) { strop(XENVER_commandline, "XENVER_commandline)", 1024); }

XTEST(xen_version, compile_info)
{
    u8 *b = xt_clear(256);
    long r = HYPERVISOR_xen_version(XENVER_compile_info, b);
    rt_show("xen_version(XENVER_compile_info)", r);
    rt_showstr("  compiler", (char *)b, 64);
    rt_showstr("  compile_by", (char *)b + 64, 16);
    rt_showstr("  compile_domain", (char *)b + 80, 32);
    rt_showstr("  compile_date", (char *)b + 112, 32);
    EXPECT_EQ(r, 0);
}

XTEST(xen_version, platform_parameters)
{
    u8 *b = xt_clear(16);
    long r = HYPERVISOR_xen_version(XENVER_platform_parameters, b);
    rt_show("xen_version(XENVER_platform_parameters)", r);
    rt_printf("  virt_start = %#llx\n", get64(b));
    EXPECT_EQ(r, 0);
}

XTEST(xen_version, get_features_0)
{
    u8 *b = xt_clear(16);
    long r = HYPERVISOR_xen_version(XENVER_get_features, b);
    rt_show("xen_version(XENVER_get_features, {submap_idx=0})", r);
    rt_printf("  submap = %#x\n", get32(b + 4));
    EXPECT_EQ(r, 0);
}

XTEST(xen_version, get_features_1)
{
    u8 *b = xt_clear(16);
    put32(b, 1);
    long r = HYPERVISOR_xen_version(XENVER_get_features, b);
    rt_show("xen_version(XENVER_get_features, {submap_idx=1})", r);
    rt_hexdump("  buffer", b, 8);
    EXPECT_EQ(r, -22);
}

XTEST(xen_version, pagesize_null)
{
    long r = HYPERVISOR_xen_version(XENVER_pagesize, 0);
    rt_show("xen_version(XENVER_pagesize, NULL)", r);
    EXPECT_EQ(r, 4096);
}

XTEST(xen_version, pagesize_nonnull)
{
    long r = HYPERVISOR_xen_version(XENVER_pagesize, xt_clear(8));
    rt_show("xen_version(XENVER_pagesize, buf)", r);
    EXPECT_EQ(r, -22);
}

XTEST(xen_version, guest_handle)
{
    u8 *b = xt_clear(32);
    long r = HYPERVISOR_xen_version(XENVER_guest_handle, b);
    rt_show("xen_version(XENVER_guest_handle)", r);
    rt_hexdump("  handle", b, 16);
    EXPECT_EQ(r, 0);
}

XTEST(xen_version, build_id_null)
{
    long r = HYPERVISOR_xen_version(XENVER_build_id, 0);
    rt_show("xen_version(XENVER_build_id, NULL)", r);
    EXPECT(r > 0);
}

XTEST(xen_version, build_id)
{
    u8 *b = xt_clear(1024);
    put32(b, 1016);
    long r = HYPERVISOR_xen_version(XENVER_build_id, b);
    rt_show("xen_version(XENVER_build_id, {len=1016})", r);
    rt_printf("  len after = %u\n", get32(b));
    rt_hexdump("  id", b + 4, r > 0 && r <= 64 ? (unsigned int)r : 8);
    EXPECT(r > 0);
}

XTEST(xen_version, build_id_small)
{
    u8 *b = xt_clear(64);
    put32(b, 4);
    long r = HYPERVISOR_xen_version(XENVER_build_id, b);
    rt_show("xen_version(XENVER_build_id, {len=4})", r);
    EXPECT_EQ(r, -105);
}

XTEST(xen_version, build_id_zero_len)
{
    long r = HYPERVISOR_xen_version(XENVER_build_id, xt_clear(64));
    rt_show("xen_version(XENVER_build_id, {len=0})", r);
    EXPECT_EQ(r, -22);
}

XTEST(xen_version, unknown_subops)
{
    static const int cmds[] = { 11, 12, 13, 14, 15, 0x7fffffff, -1 };
    for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        long r = HYPERVISOR_xen_version(cmds[i], xt_clear(64));
        rt_printf("xen_version(%d) = %ld (%s), buffer untouched: %s\n", cmds[i], r, rt_errname(r),
                  get64(xt_buf) == 0 ? "yes" : "no");
        EXPECT_EQ(r, -38);
    }
}

XTEST(xen_version, bad_pointer)
{
    static const int cmds[] = { 1, 2, 3, 4, 5, 6, 8, 9, 10 };
    for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        long r = HYPERVISOR_xen_version(cmds[i], NOT_MAPPED);
        rt_showf(r, "xen_version(%d, unmapped)", cmds[i]);
        EXPECT_EQ(r, -14);
    }
}

XTEST(xen_version, cmd_upper_bits)
{
    if (!XT_64BIT) {
        rt_skip("64-bit registers only");
        return;
    }
    /* int cmd: Xen uses the low 32 bits of x0 */
    long r = xen_hypercall5(__HYPERVISOR_xen_version, (ulong)((u64)1 << 32 | XENVER_pagesize), 0, 0, 0, 0);
    rt_show("xen_version(0x100000007, NULL)", r);
    EXPECT_EQ(r, 4096);
}
