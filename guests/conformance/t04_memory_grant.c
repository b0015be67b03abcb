/* memory_op (12) and grant_table_op (20) */
#include "xt.h"

#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_maximum_ram_page 2
#define XENMEM_current_reservation 3
#define XENMEM_maximum_reservation 4
#define XENMEM_add_to_physmap 7
#define XENMEM_maximum_gpfn 14

static long mop(ulong cmd, void *arg) { return HYPERVISOR_memory_op(cmd, arg); }

XTEST(memory_op, current_reservation)
{
    u8 *b = xt_clear(8);
    put16(b, DOMID_SELF);
    xt_show_count("memory_op(XENMEM_current_reservation, DOMID_SELF)", mop(XENMEM_current_reservation, b));
}

XTEST(memory_op, maximum_reservation)
{
    u8 *b = xt_clear(8);
    put16(b, DOMID_SELF);
    xt_show_count("memory_op(XENMEM_maximum_reservation, DOMID_SELF)", mop(XENMEM_maximum_reservation, b));
}

XTEST(memory_op, reservation_no_domain)
{
    u8 *b = xt_clear(8);
    put16(b, 5);
    long r = mop(XENMEM_current_reservation, b);
    rt_show("memory_op(XENMEM_current_reservation, domid 5)", r);
    EXPECT_EQ(r, -3);
}

XTEST(memory_op, reservation_bad_pointer)
{
    long r = mop(XENMEM_current_reservation, NOT_MAPPED);
    rt_show("memory_op(XENMEM_current_reservation, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(memory_op, maximum_ram_page_and_gpfn)
{
    xt_show_count("memory_op(XENMEM_maximum_ram_page, NULL)", mop(XENMEM_maximum_ram_page, 0));
    u8 *b = xt_clear(8);
    put16(b, DOMID_SELF);
    xt_show_count("memory_op(XENMEM_maximum_gpfn, DOMID_SELF)", mop(XENMEM_maximum_gpfn, b));
}

XTEST(memory_op, continuation_bits)
{
    u8 *b = xt_clear(8);
    put16(b, DOMID_SELF);
    xt_show_count("memory_op(XENMEM_current_reservation | 1 << 6, DOMID_SELF)",
                  mop(XENMEM_current_reservation | 1 << 6, b));
}

XTEST(memory_op, decrease_reservation_bad_extents)
{
    u8 *b = xt_clear(32);
    put64(b, 1);                /* extent_start: unmapped */
    put64(b + 8, 1);            /* nr_extents */
    put16(b + 24, DOMID_SELF);
    long r = mop(XENMEM_decrease_reservation, b);
    rt_show("memory_op(XENMEM_decrease_reservation, {extent_start=unmapped, nr_extents=1})", r);
    EXPECT_EQ(r, 0);
}

XTEST(memory_op, increase_reservation_zero)
{
    u8 *b = xt_clear(32);
    put16(b + 24, DOMID_SELF);
    long r = mop(XENMEM_increase_reservation, b);
    rt_show("memory_op(XENMEM_increase_reservation, {nr_extents=0})", r);
    EXPECT_EQ(r, 0);
}

XTEST(memory_op, add_to_physmap_unsupported_space)
{
    static const u32 spaces[] = { 1 /* gmfn */, 99 };
    for (unsigned int i = 0; i < 2; i++) {
        u8 *b = xt_clear(24);
        put16(b, DOMID_SELF);
        put32(b + 4, spaces[i]);
        put64(b + 16, 0x100000);
        long r = mop(XENMEM_add_to_physmap, b);
        rt_showf(r, "memory_op(XENMEM_add_to_physmap, {space=%u})", spaces[i]);
    }
}

XTEST(memory_op, add_to_physmap_bad_pointer)
{
    long r = mop(XENMEM_add_to_physmap, NOT_MAPPED);
    rt_show("memory_op(XENMEM_add_to_physmap, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(memory_op, unknown)
{
    static const ulong cmds[] = { 30, 40, 63 };
    for (unsigned int i = 0; i < 3; i++) {
        long r = mop(cmds[i], xt_clear(64));
        rt_showf(r, "memory_op(%lu, buf)", cmds[i]);
        EXPECT_EQ(r, -38);
    }
}

/* ---- grant_table_op ---- */
#define GNTTABOP_setup_table 2
#define GNTTABOP_query_size 6
#define GNTTABOP_set_version 8
#define GNTTABOP_get_version 10

static long gop(unsigned int cmd, void *arg, unsigned int n) { return HYPERVISOR_grant_table_op(cmd, arg, n); }

XTEST(grant_table_op, query_size)
{
    u8 *b = xt_clear(16);
    put16(b, DOMID_SELF);
    long r = gop(GNTTABOP_query_size, b, 1);
    rt_show("grant_table_op(GNTTABOP_query_size, {dom=DOMID_SELF}, 1)", r);
    rt_printf("  nr_frames = %u, max_nr_frames = %u, status = %d\n", get32(b + 4), get32(b + 8),
              (short)get16(b + 12));
    EXPECT_EQ(r, 0);
}

XTEST(grant_table_op, query_size_no_domain)
{
    u8 *b = xt_clear(16);
    put16(b, 5);
    long r = gop(GNTTABOP_query_size, b, 1);
    rt_show("grant_table_op(GNTTABOP_query_size, {dom=5}, 1)", r);
    rt_printf("  status = %d\n", (short)get16(b + 12));
}

XTEST(grant_table_op, query_size_bad_pointer)
{
    long r = gop(GNTTABOP_query_size, NOT_MAPPED, 1);
    rt_show("grant_table_op(GNTTABOP_query_size, unmapped, 1)", r);
    EXPECT_EQ(r, -14);
}

XTEST(grant_table_op, setup_table_count_2)
{
    long r = gop(GNTTABOP_setup_table, xt_clear(64), 2);
    rt_show("grant_table_op(GNTTABOP_setup_table, buf, 2)", r);
    EXPECT_EQ(r, -22);
}

XTEST(grant_table_op, setup_table_too_many_frames)
{
    u8 *b = xt_clear(64);
    put16(b, DOMID_SELF);
    put32(b + 4, 100000);
    put64(b + 16, (ulong)(b + 32));
    long r = gop(GNTTABOP_setup_table, b, 1);
    rt_show("grant_table_op(GNTTABOP_setup_table, {nr_frames=100000}, 1)", r);
    rt_printf("  status = %d\n", (short)get16(b + 8));
}

XTEST(grant_table_op, get_version)
{
    u8 *b = xt_clear(8);
    put16(b, DOMID_SELF);
    long r = gop(GNTTABOP_get_version, b, 1);
    rt_show("grant_table_op(GNTTABOP_get_version, {dom=DOMID_SELF}, 1)", r);
    rt_printf("  version = %u\n", get32(b + 4));
    EXPECT_EQ(r, 0);
}

XTEST(grant_table_op, set_version)
{
    u8 *b = xt_clear(8);
    put32(b, 2);
    long r = gop(GNTTABOP_set_version, b, 1);
    rt_show("grant_table_op(GNTTABOP_set_version, {version=2}, 1)", r);
    rt_printf("  version after = %u\n", get32(b));
    put32(b, 1);
    r = gop(GNTTABOP_set_version, b, 1);
    rt_show("grant_table_op(GNTTABOP_set_version, {version=1}, 1)", r);
    rt_printf("  version after = %u\n", get32(b));
}

XTEST(grant_table_op, negative_count)
{
    long r = gop(GNTTABOP_query_size, xt_clear(16), 0x80000000u);
    rt_show("grant_table_op(GNTTABOP_query_size, buf, 0x80000000)", r);
    EXPECT_EQ(r, -22);
}

XTEST(grant_table_op, opaque_bits)
{
    u8 *b = xt_clear(16);
    put16(b, DOMID_SELF);
    long r = gop(GNTTABOP_query_size | 1u << 12, b, 1);
    rt_show("grant_table_op(GNTTABOP_query_size | 1 << 12, buf, 1)", r);
    EXPECT_EQ(r, -22);
}

XTEST(grant_table_op, unknown)
{
    static const unsigned int cmds[] = { 13, 99 };
    for (unsigned int i = 0; i < 2; i++) {
        long r = gop(cmds[i], xt_clear(64), 1);
        rt_showf(r, "grant_table_op(%u, buf, 1)", cmds[i]);
        EXPECT_EQ(r, -38);
    }
}
