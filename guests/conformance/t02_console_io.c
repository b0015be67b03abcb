/* console_io (18) */
#include "xt.h"

XTEST(console_io, write)
{
    static const char msg[] = "console_io: this line was written with one CONSOLEIO_write\n";
    rt_flush();
    long r = HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, (void *)msg);
    rt_show("console_io(CONSOLEIO_write, 60, msg)", r);
    EXPECT_EQ(r, 0);
}

XTEST(console_io, write_zero_count)
{
    long r = HYPERVISOR_console_io(CONSOLEIO_write, 0, xt_buf);
    rt_show("console_io(CONSOLEIO_write, 0, buf)", r);
    EXPECT_EQ(r, 0);
}

XTEST(console_io, write_bad_pointer)
{
    long r = HYPERVISOR_console_io(CONSOLEIO_write, 4, NOT_MAPPED);
    rt_show("console_io(CONSOLEIO_write, 4, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(console_io, write_huge_count_bad_pointer)
{
    long r = HYPERVISOR_console_io(CONSOLEIO_write, 0xffffffffu, NOT_MAPPED);
    rt_show("console_io(CONSOLEIO_write, 0xffffffff, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(console_io, read)
{
    memset(xt_buf, 0, 32);
    long r = HYPERVISOR_console_io(CONSOLEIO_read, 16, xt_buf);
    rt_show("console_io(CONSOLEIO_read, 16, buf)", r);
    rt_hexdump("  buffer", xt_buf, 16);
    EXPECT_EQ(r, 0);
}

XTEST(console_io, read_zero_count)
{
    long r = HYPERVISOR_console_io(CONSOLEIO_read, 0, xt_buf);
    rt_show("console_io(CONSOLEIO_read, 0, buf)", r);
    EXPECT_EQ(r, 0);
}

XTEST(console_io, read_huge_count)
{
    long r = HYPERVISOR_console_io(CONSOLEIO_read, 0x80000000u, xt_buf);
    rt_show("console_io(CONSOLEIO_read, 0x80000000, buf)", r);
    EXPECT_EQ(r, -7);
}

XTEST(console_io, read_bad_pointer)
{
    long r = HYPERVISOR_console_io(CONSOLEIO_read, 16, NOT_MAPPED);
    rt_show("console_io(CONSOLEIO_read, 16, unmapped)", r);
}

XTEST(console_io, bad_cmd)
{
    static const unsigned int cmds[] = { 2, 3, 0x80000000u, 0xffffffffu };
    for (unsigned int i = 0; i < 4; i++) {
        long r = HYPERVISOR_console_io(cmds[i], 16, xt_buf);
        rt_showf(r, "console_io(%#x, 16, buf)", cmds[i]);
        EXPECT_EQ(r, -38);
    }
}
