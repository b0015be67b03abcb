/* grant_table_op (20): GNTTABOP_copy and map/unmap_grant_ref of a domain's own grants, and
 * GNTTABOP_cache_flush. The domain maps grant frame 0 over a page of its own, writes v1 entries
 * granting its own pages to itself, and copies and maps through them. Prints statuses and byte
 * comparisons only. */
#include "xt.h"

#define XENMEM_add_to_physmap 7
#define XENMAPSPACE_grant_table 1
#define GNTTABOP_map_grant_ref 0
#define GNTTABOP_unmap_grant_ref 1
#define GNTTABOP_copy 5
#define GNTMAP_device_map 1
#define GNTMAP_host_map 2
#define GNTMAP_readonly 4
#define GTF_permit_access 1
#define GTF_readonly 4
#define GNTCOPY_source_gref 1
#define GNTCOPY_dest_gref 2
#define PG 4096

static u8 gt_page[PG] __attribute__((aligned(PG)));      /* grant frame 1 goes here */
/* frame 0 may already be mapped elsewhere (memory_op.add_to_physmap_unsupported_space): use frame 1 */
#define R(n) (512u + (n))
static u8 granted[3][PG] __attribute__((aligned(PG)));   /* pages granted to ourselves */
static u8 plain[PG] __attribute__((aligned(PG)));        /* a page copied to and from by GFN */
static u8 alias[3][PG] __attribute__((aligned(PG)));     /* host_addr of grant mappings */
static long setup_rc = 1;
static int own_domid = -1;

static ulong gfn(const void *p) { return (ulong)p >> 12; }
static u8 *entry(unsigned int ref) { return gt_page + 8 * (ref - 512); }
static void grant(unsigned int ref, u16 flags, u16 domid, const void *page)
{
    put16(entry(ref) + 2, domid);
    put32(entry(ref) + 4, (u32)gfn(page));
    put16(entry(ref), flags);
}

/* one gnttab_copy: source/dest {u (ref or gmfn), domid, offset}, len, flags -> status */
struct cp { u64 src; u16 sdom, soff; u64 dst; u16 ddom, doff, len, flags; };
static int copy_n(const struct cp *c, unsigned int n, long *rc)
{
    u8 *b = xt_clear(40 * n);
    for (unsigned int i = 0; i < n; i++) {
        u8 *e = b + 40 * i;
        put64(e, c[i].src); put16(e + 8, c[i].sdom); put16(e + 10, c[i].soff);
        put64(e + 16, c[i].dst); put16(e + 24, c[i].ddom); put16(e + 26, c[i].doff);
        put16(e + 32, c[i].len); put16(e + 34, c[i].flags); put16(e + 36, 0x5555);
    }
    *rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, b, n);
    return (short)get16(b + 36);
}
static int copy1(struct cp c, long *rc) { return copy_n(&c, 1, rc); }

static void fill(u8 *p, u8 seed) { for (unsigned int i = 0; i < PG; i++) p[i] = (u8)(seed + i * 7); }

static int setup(void)
{
    if (setup_rc == 1) {
        u8 *b = xt_clear(24);
        put16(b, DOMID_SELF);
        put32(b + 4, XENMAPSPACE_grant_table);
        put64(b + 8, 1);
        put64(b + 16, gfn(gt_page));
        setup_rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, b);
        if (!setup_rc) {
            /* our own domid: the one a grant entry must name for a copy through it to work */
            fill(granted[0], 1);
            for (int d = 0; d < 16 && own_domid < 0; d++) {
                long rc;
                grant(R(1), GTF_permit_access, (u16)d, granted[0]);
                if (copy1((struct cp){ R(1), DOMID_SELF, 0, gfn(plain), DOMID_SELF, 0, 8,
                                       GNTCOPY_source_gref }, &rc) == 0 && rc == 0)
                    own_domid = d;
            }
            put16(entry(R(1)), 0);
        }
    }
    rt_show("  memory_op(XENMEM_add_to_physmap, {space=grant_table, idx=1})", setup_rc);
    rt_printf("  own domid found = %s\n", own_domid >= 0 ? "yes" : "no");
    if (setup_rc || own_domid < 0) {
        rt_skip("no grant table");
        return -1;
    }
    return 0;
}

XTEST(grants, copy_roundtrip)
{
    if (setup())
        return;
    long rc;
    int st;
    fill(granted[0], 3);
    memset(plain, 0, PG);
    grant(R(8), GTF_permit_access, (u16)own_domid, granted[0]);
    st = copy1((struct cp){ R(8), DOMID_SELF, 16, gfn(plain), DOMID_SELF, 32, 256, GNTCOPY_source_gref }, &rc);
    rt_printf("  copy gref(DOMID_SELF)+16 -> gmfn+32, 256: rc = %ld, status = %d, bytes %s, flags after = %#x\n",
              rc, st, memcmp(plain + 32, granted[0] + 16, 256) ? "differ" : "arrived",
              get16(entry(R(8))));
    rt_printf("  untouched around = %s\n", plain[31] == 0 && plain[288] == 0 ? "yes" : "no");
    fill(plain, 9);
    st = copy1((struct cp){ gfn(plain), DOMID_SELF, 0, R(8), (u16)own_domid, 0, PG,
                            GNTCOPY_dest_gref }, &rc);
    rt_printf("  copy gmfn -> gref(own domid), 4096: rc = %ld, status = %d, bytes %s, flags after = %#x\n",
              rc, st, memcmp(plain, granted[0], PG) ? "differ" : "arrived", get16(entry(R(8))));
    fill(granted[1], 5);
    grant(R(9), GTF_permit_access, (u16)own_domid, granted[1]);
    st = copy1((struct cp){ R(9), DOMID_SELF, 100, R(8), DOMID_SELF, 200, 1000,
                            GNTCOPY_source_gref | GNTCOPY_dest_gref }, &rc);
    rt_printf("  copy gref -> gref, 1000: rc = %ld, status = %d, bytes %s\n", rc, st,
              memcmp(granted[0] + 200, granted[1] + 100, 1000) ? "differ" : "arrived");
    st = copy1((struct cp){ gfn(plain), DOMID_SELF, 0, gfn(granted[2]), DOMID_SELF, 0, 0, 0 }, &rc);
    rt_printf("  copy gmfn -> gmfn, len 0: rc = %ld, status = %d\n", rc, st);
    fill(plain, 11);
    st = copy1((struct cp){ gfn(plain), DOMID_SELF, 1, gfn(granted[2]), DOMID_SELF, 2, 4000, 0 }, &rc);
    rt_printf("  copy gmfn -> gmfn, 4000: rc = %ld, status = %d, bytes %s\n", rc, st,
              memcmp(granted[2] + 2, plain + 1, 4000) ? "differ" : "arrived");
    put16(entry(R(8)), 0);
    put16(entry(R(9)), 0);
}

XTEST(grants, copy_readonly_grant)
{
    if (setup())
        return;
    long rc;
    int st;
    fill(granted[0], 13);
    grant(R(10), GTF_permit_access | GTF_readonly, (u16)own_domid, granted[0]);
    st = copy1((struct cp){ R(10), DOMID_SELF, 0, gfn(plain), DOMID_SELF, 0, 64, GNTCOPY_source_gref }, &rc);
    rt_printf("  read from r/o grant: rc = %ld, status = %d, bytes %s\n", rc, st,
              memcmp(plain, granted[0], 64) ? "differ" : "arrived");
    st = copy1((struct cp){ gfn(plain), DOMID_SELF, 0, R(10), DOMID_SELF, 0, 64, GNTCOPY_dest_gref }, &rc);
    rt_printf("  write to r/o grant: rc = %ld, status = %d, flags after = %#x\n", rc, st, get16(entry(R(10))));
    put16(entry(R(10)), 0);
}

XTEST(grants, copy_bad)
{
    if (setup())
        return;
    long rc;
    int st;
    grant(R(8), GTF_permit_access, (u16)own_domid, granted[0]);
    grant(R(11), GTF_permit_access, (u16)(own_domid + 1), granted[0]);
    static const struct { const char *what; struct cp c; } cases[] = {
        { "gref 100000", { 100000, DOMID_SELF, 0, 0, DOMID_SELF, 0, 8, GNTCOPY_source_gref } },
        { "gref 1024 (beyond frame 1)", { 1024, DOMID_SELF, 0, 0, DOMID_SELF, 0, 8, GNTCOPY_source_gref } },
        { "unused gref", { R(20), DOMID_SELF, 0, 0, DOMID_SELF, 0, 8, GNTCOPY_source_gref } },
        { "gref granted to another domid", { R(11), DOMID_SELF, 0, 0, DOMID_SELF, 0, 8, GNTCOPY_source_gref } },
        { "source offset 4000, len 200", { R(8), DOMID_SELF, 4000, 0, DOMID_SELF, 0, 200, GNTCOPY_source_gref } },
        { "dest offset 4095, len 2", { R(8), DOMID_SELF, 0, 0, DOMID_SELF, 4095, 2, GNTCOPY_source_gref } },
        { "len 4097", { R(8), DOMID_SELF, 0, 0, DOMID_SELF, 0, 4097, GNTCOPY_source_gref } },
        { "gmfn source with domid 0", { 0, 0, 0, R(8), DOMID_SELF, 0, 8, GNTCOPY_dest_gref } },
        { "gref source in domain 5", { R(8), 5, 0, 0, DOMID_SELF, 0, 8, GNTCOPY_source_gref } },
        { "gref source in DOMID_IO", { R(8), 0x7ff1, 0, 0, DOMID_SELF, 0, 8, GNTCOPY_source_gref } },
        { "gmfn source not RAM", { 0x10, DOMID_SELF, 0, R(8), DOMID_SELF, 0, 8, GNTCOPY_dest_gref } },
        { "gmfn dest not RAM", { R(8), DOMID_SELF, 0, 0x10, DOMID_SELF, 0, 8, GNTCOPY_source_gref } },
    };
    for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cp c = cases[i].c;
        if (!(c.flags & GNTCOPY_dest_gref) && c.dst == 0)
            c.dst = gfn(plain);
        if (!(c.flags & GNTCOPY_source_gref) && c.src == 0)
            c.src = gfn(plain);
        st = copy1(c, &rc);
        rt_printf("  copy, %s: rc = %ld, status = %d\n", cases[i].what, rc, st);
    }
    rt_printf("  flags after = %#x\n", get16(entry(R(8))));
    struct cp two[3] = {
        { R(20), DOMID_SELF, 0, gfn(plain), DOMID_SELF, 0, 8, GNTCOPY_source_gref },
        { R(8), DOMID_SELF, 0, gfn(plain), DOMID_SELF, 0, 8, GNTCOPY_source_gref },
        { R(8), DOMID_SELF, 4090, gfn(plain), DOMID_SELF, 0, 8, GNTCOPY_source_gref },
    };
    u8 *b = xt_buf;
    copy_n(two, 3, &rc);
    rt_printf("  batch of 3: rc = %ld, statuses = %d %d %d\n", rc, (short)get16(b + 36),
              (short)get16(b + 76), (short)get16(b + 116));
    rc = HYPERVISOR_grant_table_op(GNTTABOP_copy, NOT_MAPPED, 1);
    rt_show("  copy, unmapped op", rc);
    put16(entry(R(8)), 0);
    put16(entry(R(11)), 0);
}

/* map_grant_ref {host_addr, flags, ref, dom} -> status, handle */
static int map1(void *host, u32 flags, u32 ref, u16 dom, long *rc, u32 *handle, int *bus)
{
    u8 *b = xt_clear(32);
    put64(b, (ulong)host);
    put32(b + 8, flags);
    put32(b + 12, ref);
    put16(b + 16, dom);
    put16(b + 18, 0x5555);
    put32(b + 20, 0xdeadbeef);
    *rc = HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, b, 1);
    *handle = get32(b + 20);
    *bus = get64(b + 24) != 0;
    return (short)get16(b + 18);
}

static int unmap1(void *host, u32 handle, long *rc)
{
    u8 *b = xt_clear(24);
    put64(b, (ulong)host);
    put32(b + 16, handle);
    put16(b + 20, 0x5555);
    *rc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, b, 1);
    return (short)get16(b + 20);
}

XTEST(grants, map_own_grant)
{
    if (setup())
        return;
    long rc;
    u32 h = 0;
    int bus, st;
    fill(granted[1], 17);
    fill(alias[0], 19);
    grant(R(12), GTF_permit_access, (u16)own_domid, granted[1]);
    st = map1(alias[0], GNTMAP_host_map, R(12), DOMID_SELF, &rc, &h, &bus);
    rt_printf("  map, dom DOMID_SELF: rc = %ld, status = %d\n", rc, st);
    st = map1(alias[0], GNTMAP_host_map, R(12), (u16)own_domid, &rc, &h, &bus);
    rt_printf("  map, own domid: rc = %ld, status = %d, handle = %u, dev_bus_addr set = %d, flags after = %#x\n",
              rc, st, h, bus, get16(entry(R(12))));
    if (st == 0) {
        rt_printf("  alias reads granted page = %s\n", memcmp(alias[0], granted[1], PG) ? "no" : "yes");
        *(volatile u8 *)&alias[0][123] = 0xa5;   /* volatile: the two arrays may alias now */
        rt_printf("  write through alias seen = %s\n", *(volatile u8 *)&granted[1][123] == 0xa5 ? "yes" : "no");
        st = unmap1(alias[1], h, &rc);
        rt_printf("  unmap, wrong host_addr: rc = %ld, status = %d\n", rc, st);
        st = unmap1(alias[0], h, &rc);
        rt_printf("  unmap: rc = %ld, status = %d, flags after = %#x\n", rc, st, get16(entry(R(12))));
        st = unmap1(alias[0], h, &rc);
        rt_printf("  unmap again: rc = %ld, status = %d\n", rc, st);
    }
    st = unmap1(alias[0], 12345, &rc);
    rt_printf("  unmap handle 12345: rc = %ld, status = %d\n", rc, st);
    st = unmap1(alias[0], 3, &rc);
    rt_printf("  unmap handle 3: rc = %ld, status = %d\n", rc, st);
    put16(entry(R(12)), 0);
}

XTEST(grants, map_bad)
{
    if (setup())
        return;
    long rc;
    u32 h;
    int bus, st;
    grant(R(13), GTF_permit_access, (u16)own_domid, granted[2]);
    grant(R(14), GTF_permit_access, (u16)(own_domid + 1), granted[2]);
    st = map1(alias[2], 0, R(13), (u16)own_domid, &rc, &h, &bus);
    rt_printf("  map, flags 0: status = %d\n", st);
    st = map1(alias[2], GNTMAP_host_map | GNTMAP_device_map, R(13), (u16)own_domid, &rc, &h, &bus);
    rt_printf("  map, host|device: status = %d\n", st);
    st = map1(alias[2], GNTMAP_host_map, R(20), (u16)own_domid, &rc, &h, &bus);
    rt_printf("  map, unused gref: status = %d\n", st);
    st = map1(alias[2], GNTMAP_host_map, R(14), (u16)own_domid, &rc, &h, &bus);
    rt_printf("  map, gref for another domid: status = %d\n", st);
    st = map1(alias[2], GNTMAP_host_map, 100000, (u16)own_domid, &rc, &h, &bus);
    rt_printf("  map, gref 100000: status = %d\n", st);
    st = map1(alias[2], GNTMAP_host_map, R(13), 5, &rc, &h, &bus);
    rt_printf("  map, dom 5: status = %d, flags after = %#x\n", st, get16(entry(R(13))));
    rc = HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, NOT_MAPPED, 1);
    rt_show("  map, unmapped op", rc);
    rc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, NOT_MAPPED, 1);
    rt_show("  unmap, unmapped op", rc);
    put16(entry(R(13)), 0);
    put16(entry(R(14)), 0);
}

/* GNTTABOP_cache_flush: {u64 dev_bus_addr (or ref); u16 offset, length; u32 op}. dev_bus_addr is a
 * machine address: a direct-mapped dom0 knows its own; a domU cannot, so it only gets the answers
 * that do not depend on where Xen put its memory (dom0's bank is 0x70000000-0x78000000 in both). */
#define GNTTABOP_cache_flush 12
#define GNTTAB_CACHE_CLEAN 1
#define GNTTAB_CACHE_INVAL 2
#define GNTTAB_CACHE_SOURCE_GREF 0x80000000u
#define XENFEAT_direct_mapped 17
struct cf { u64 a; u16 offset, length; u32 op; };
static long flush_n(const struct cf *c, unsigned int n, u32 opaque)
{
    u8 *b = xt_clear(16 * n);
    for (unsigned int i = 0; i < n; i++) {
        put64(b + 16 * i, c[i].a);
        put16(b + 16 * i + 8, c[i].offset);
        put16(b + 16 * i + 10, c[i].length);
        put32(b + 16 * i + 12, c[i].op);
    }
    return HYPERVISOR_grant_table_op(GNTTABOP_cache_flush | opaque, b, n);
}
static long flush1(u64 a, u16 offset, u16 length, u32 op)
{
    struct cf c = { a, offset, length, op };
    return flush_n(&c, 1, 0);
}

XTEST(grants, cache_flush)
{
    const u64 own = (ulong)plain, far = 1ull << 40, dom0_ram = 0x70000000;
    rt_show("  Linux's probe {0, offset 0, length 0, op 0}", flush1(0, 0, 0, 0));
    rt_show("  length 0, CLEAN, 1<<40", flush1(far, 0, 0, GNTTAB_CACHE_CLEAN));
    rt_show("  length 8, op 0, 1<<40", flush1(far, 0, 8, 0));
    rt_show("  count 0, unmapped op", HYPERVISOR_grant_table_op(GNTTABOP_cache_flush, NOT_MAPPED, 0));
    rt_show("  count 1, unmapped op", HYPERVISOR_grant_table_op(GNTTABOP_cache_flush, NOT_MAPPED, 1));
    rt_show("  op 4", flush1(own, 0, 8, 4));
    rt_show("  op SOURCE_GREF|CLEAN, ref 0", flush1(0, 0, 8, GNTTAB_CACHE_SOURCE_GREF | GNTTAB_CACHE_CLEAN));
    rt_show("  offset 4096, length 0", flush1(own, 4096, 0, GNTTAB_CACHE_CLEAN));
    rt_show("  length 4097", flush1(own, 0, 4097, GNTTAB_CACHE_CLEAN));
    rt_show("  offset 4000, length 200", flush1(own, 4000, 200, GNTTAB_CACHE_CLEAN));
    static const u64 not_ram[] = { 0x10000, 0x08000000, 0x3ffff000, 0x80000000, 1ull << 40, ~0ull };
    for (unsigned int i = 0; i < sizeof(not_ram) / sizeof(not_ram[0]); i++)
        rt_showf(flush1(not_ram[i], 0, 8, GNTTAB_CACHE_CLEAN), "  %#llx (not RAM), CLEAN",
                 (unsigned long long)not_ram[i]);
    rt_show("  dom0's first page, CLEAN", flush1(dom0_ram, 0, 8, GNTTAB_CACHE_CLEAN));
    rt_show("  dom0's last page, CLEAN|INVAL", flush1(0x77fff000, 0, 4096, GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL));
    struct cf c = { far, 0, 0, GNTTAB_CACHE_CLEAN };
    rt_show("  cmd | 1 << 12, length 0", flush_n(&c, 1, 1u << 12));
    rt_show("  cmd | 1 << 12, count 0", flush_n(&c, 0, 1u << 12));
    c = (struct cf){ dom0_ram, 0, 8, GNTTAB_CACHE_INVAL };
    rt_show("  cmd | 1 << 12, dom0's first page", flush_n(&c, 1, 1u << 12));
    struct cf b1[3] = { { 0, 0, 0, 0 }, { dom0_ram, 0, 8, GNTTAB_CACHE_CLEAN }, { far, 0, 0, GNTTAB_CACHE_CLEAN } };
    rt_show("  batch probe, dom0's page, length 0", flush_n(b1, 3, 0));
    struct cf b2[3] = { { 0, 0, 0, 0 }, { far, 0, 0, 4 }, { far, 0, 8, GNTTAB_CACHE_CLEAN } };
    rt_show("  batch probe, op 4, not RAM", flush_n(b2, 3, 0));

    u8 *f = xt_clear(8);
    HYPERVISOR_xen_version(XENVER_get_features, f);
    if (!(get32(f + 4) & 1u << XENFEAT_direct_mapped)) {
        rt_printf("  not direct-mapped: no machine addresses of its own\n");
        return;
    }
    rt_show("  own page, CLEAN", flush1(own, 0, 4096, GNTTAB_CACHE_CLEAN));
    rt_show("  own page, INVAL 16+32", flush1(own, 16, 32, GNTTAB_CACHE_INVAL));
    rt_show("  own page, CLEAN|INVAL 4095+1", flush1(own, 4095, 1, GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL));
    rt_show("  own page + 0x123, CLEAN", flush1(own + 0x123, 0, 8, GNTTAB_CACHE_CLEAN));
    static const u64 no_owner[] = { 0x40000000, 0x60000000, 0x78000000, 0x7ffff000 };
    for (unsigned int i = 0; i < sizeof(no_owner) / sizeof(no_owner[0]); i++)
        rt_showf(flush1(no_owner[i], 0, 8, GNTTAB_CACHE_CLEAN), "  %#llx (no owner), CLEAN",
                 (unsigned long long)no_owner[i]);
    struct cf b3[2] = { { own, 0, 8, GNTTAB_CACHE_CLEAN }, { far, 0, 0, GNTTAB_CACHE_CLEAN } };
    rt_show("  cmd | 1 << 12, own page then length 0", flush_n(b3, 2, 1u << 12));
    struct cf b4[3] = { { own, 0, 8, GNTTAB_CACHE_CLEAN }, { 0x60000000, 0, 8, GNTTAB_CACHE_CLEAN },
                        { own, 0, 8, GNTTAB_CACHE_CLEAN } };
    rt_show("  batch own, no owner, own", flush_n(b4, 3, 0));
    struct cf b5[3] = { { own, 0, 8, GNTTAB_CACHE_CLEAN }, { 0, 0, 0, 0 }, { own, 8, 8, GNTTAB_CACHE_INVAL } };
    rt_show("  batch own, probe, own", flush_n(b5, 3, 0));
}
