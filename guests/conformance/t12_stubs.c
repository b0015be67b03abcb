/* The out-of-line stubs `xenhvc stubs --form outline --lang asm` generates, called as ordinary
 * AAPCS functions (arguments on the stack where AAPCS puts them), including privcmd_call and the
 * 5-argument hypfs_op, whose 5th argument an A32/T32 stub must load into r4. */
#define RT_OUTLINE_STUBS
#include "xt.h"

#define XEN_HYPFS_OP_get_version 0
#define XEN_HYPFS_OP_read 1

static const char extra_path[] = "/buildinfo/version/extra";

static void show_hypfs_read(long r)
{
    rt_show("  result", r);
    if (r == 0)
        rt_printf("  type = %u, content_len = %u, content = \"%s\"\n", xt_buf[512],
                  get32(xt_buf + 516), (const char *)(xt_buf + 524));
}

XTEST(stubs, outline_xen_version)
{
    rt_show("HYPERVISOR_xen_version(XENVER_version, NULL)", HYPERVISOR_xen_version(XENVER_version, 0));
    memset(xt_buf, 0, 32);
    rt_show("HYPERVISOR_xen_version(XENVER_extraversion, buf)", HYPERVISOR_xen_version(XENVER_extraversion, xt_buf));
    rt_showstr("  extraversion", (const char *)xt_buf, 16);
    rt_show("HYPERVISOR_xen_version(XENVER_pagesize, buf)", HYPERVISOR_xen_version(XENVER_pagesize, xt_buf));
}

XTEST(stubs, outline_console_io)
{
    static const char msg[] = "written through the out-of-line console_io stub\n";
    rt_flush();
    rt_show("HYPERVISOR_console_io(CONSOLEIO_write)",
            HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, (void *)msg));
}

XTEST(stubs, outline_five_arguments)
{
    memset(xt_buf, 0, 1024);
    memcpy(xt_buf, extra_path, sizeof(extra_path));
    rt_show("HYPERVISOR_hypfs_op(XEN_HYPFS_OP_get_version, NULL, 0, NULL, 0)",
            HYPERVISOR_hypfs_op(XEN_HYPFS_OP_get_version, 0, 0, 0, 0));
    rt_printf("HYPERVISOR_hypfs_op(XEN_HYPFS_OP_read, path, len, buf, 64):\n");
    show_hypfs_read(HYPERVISOR_hypfs_op(XEN_HYPFS_OP_read, xt_buf, sizeof(extra_path), xt_buf + 512, 64));
}

XTEST(stubs, privcmd_call_arities)
{
    memset(xt_buf, 0, 1024);
    memcpy(xt_buf, extra_path, sizeof(extra_path));
    rt_show("privcmd_call(xen_version, XENVER_version)", privcmd_call(__HYPERVISOR_xen_version, 0, 0, 0, 0, 0));
    rt_show("privcmd_call(xen_version, XENVER_pagesize, NULL)",
            privcmd_call(__HYPERVISOR_xen_version, XENVER_pagesize, 0, 0, 0, 0));
    rt_show("privcmd_call(sched_op, SCHEDOP_yield, NULL)", privcmd_call(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0));
    rt_printf("privcmd_call(hypfs_op, XEN_HYPFS_OP_read, path, len, buf, 64):\n");
    show_hypfs_read(privcmd_call(__HYPERVISOR_hypfs_op, XEN_HYPFS_OP_read, (unsigned long)xt_buf,
                                 sizeof(extra_path), (unsigned long)(xt_buf + 512), 64));
    rt_show("xen_hypercall5(99, 1, 2, 3, 4, 5)", xen_hypercall5(99, 1, 2, 3, 4, 5));
}
