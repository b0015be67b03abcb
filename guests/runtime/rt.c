/*
 * rt.c - console printf, FDT bootargs, exception reports, test runner.
 */
#include "rt.h"

typedef struct { ulong r[16]; } rt_jmp_buf;
int rt_setjmp(rt_jmp_buf *b) __attribute__((returns_twice));
void rt_longjmp(rt_jmp_buf *b, int v) __attribute__((noreturn));

/* ------------------------------------------------------------------ libc */

void *memset(void *d, int c, unsigned long n)
{
    volatile u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    volatile u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, unsigned long n)
{
    const u8 *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return 0;
}

unsigned long strlen(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (u8)*a - (u8)*b;
}

/* ------------------------------------------------------------------ console */

static char line[512];
static unsigned int pos;

void rt_flush(void)
{
    if (pos)
        HYPERVISOR_console_io(0 /* CONSOLEIO_write */, pos, line);
    pos = 0;
}

static void out(char c)
{
    line[pos++] = c;
    if (c == '\n' || pos == sizeof(line))
        rt_flush();
}

static void outs(const char *s)
{
    while (*s)
        out(*s++);
}

/* 64-bit divide by 10 without libgcc */
static u64 divmod10(u64 n, unsigned int *rem)
{
    u64 q = 0, r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= 10) {
            r -= 10;
            q |= (u64)1 << i;
        }
    }
    *rem = (unsigned int)r;
    return q;
}

static void outnum(u64 v, int base, int neg, int width, char padc)
{
    char t[24];
    int n = 0;
    do {
        unsigned int d;
        if (base == 16) {
            d = v & 0xf;
            v >>= 4;
        } else {
            v = divmod10(v, &d);
        }
        t[n++] = "0123456789abcdef"[d];
    } while (v);
    if (neg)
        out('-');
    for (int w = n + neg; w < width; w++)
        out(padc);
    while (n)
        out(t[--n]);
}

void rt_vprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out(*fmt);
            continue;
        }
        fmt++;
        int alt = 0, width = 0, lng = 0;
        char padc = ' ';
        if (*fmt == '#') {
            alt = 1;
            fmt++;
        }
        if (*fmt == '0') {
            padc = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            lng++;
            fmt++;
        }
        u64 u;
        s64 s;
        switch (*fmt) {
        case 'd':
            s = lng >= 2 ? va_arg(ap, s64) : lng ? va_arg(ap, long) : va_arg(ap, int);
            outnum(s < 0 ? -(u64)s : (u64)s, 10, s < 0, width, padc);
            break;
        case 'u':
        case 'x':
            u = lng >= 2 ? va_arg(ap, u64) : lng ? va_arg(ap, ulong) : va_arg(ap, unsigned int);
            if (*fmt == 'x' && alt)
                outs("0x");
            outnum(u, *fmt == 'x' ? 16 : 10, 0, width, padc);
            break;
        case 's': {
            const char *p = va_arg(ap, const char *);
            outs(p ? p : "(null)");
            break;
        }
        case 'c':
            out((char)va_arg(ap, int));
            break;
        case '%':
            out('%');
            break;
        default:
            out('%');
            out(*fmt);
            break;
        }
    }
}

void rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
}

static const struct { short n; const char *name; } errnames[] = {
    {1, "EPERM"}, {2, "ENOENT"}, {3, "ESRCH"}, {5, "EIO"}, {6, "ENXIO"}, {7, "E2BIG"},
    {9, "EBADF"}, {11, "EAGAIN"}, {12, "ENOMEM"}, {13, "EACCES"}, {14, "EFAULT"},
    {16, "EBUSY"}, {17, "EEXIST"}, {19, "ENODEV"}, {20, "ENOTDIR"}, {21, "EISDIR"},
    {22, "EINVAL"}, {28, "ENOSPC"}, {34, "ERANGE"}, {38, "ENOSYS"}, {61, "ENODATA"},
    {75, "EOVERFLOW"}, {95, "EOPNOTSUPP"}, {105, "ENOBUFS"},
};

const char *rt_errname(long r)
{
    for (unsigned int i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
        if (-r == errnames[i].n)
            return errnames[i].name;
    return "?";
}

void rt_show(const char *label, long r)
{
    if (r < 0 && r > -4096)
        rt_printf("%s = %ld (%s)\n", label, r, rt_errname(r));
    else
        rt_printf("%s = %#lx\n", label, (ulong)r);
}

void rt_showf(long r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    if (r < 0 && r > -4096)
        rt_printf(" = %ld (%s)\n", r, rt_errname(r));
    else
        rt_printf(" = %#lx\n", (ulong)r);
}

void rt_hexdump(const char *label, const void *p, unsigned int n)
{
    const u8 *b = p;
    rt_printf("%s:", label);
    for (unsigned int i = 0; i < n; i++)
        rt_printf(" %02x", b[i]);
    rt_printf("\n");
}

void rt_showstr(const char *label, const char *s, unsigned int max)
{
    rt_printf("%s = \"", label);
    for (unsigned int i = 0; i < max && s[i]; i++) {
        u8 c = (u8)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            out((char)c);
        else
            rt_printf("\\x%02x", c);
    }
    rt_printf("\"\n");
}

/* ------------------------------------------------------------------ FDT */

static u32 be32(const u8 *p)
{
    return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

u32 rt_be32(const void *p) { return be32(p); }

ulong rt_dtb;

static int has_string(const char *list, u32 len, const char *s)
{
    u32 n = strlen(s), off = 0;
    while (off < len) {
        if (!strcmp(list + off, s))
            return 1;
        off += strlen(list + off) + 1;
    }
    (void)n;
    return 0;
}

const u8 *rt_fdt_find(const char *name, const char *compat, const char *prop, u32 *len)
{
    const u8 *f = (const u8 *)rt_dtb;
    if (!f || be32(f) != 0xd00dfeed)
        return 0;
    const u8 *st = f + be32(f + 8), *strs = f + be32(f + 12);
    u32 size = be32(f + 36), off = 0;
    int depth = 0, name_ok = 0, compat_ok = 0;
    const u8 *found = 0;
    u32 found_len = 0;
    while (off + 4 <= size) {
        u32 tok = be32(st + off);
        off += 4;
        if (tok == 1) {                         /* FDT_BEGIN_NODE */
            const char *n = (const char *)st + off;
            depth++;
            if (depth == 2) {
                name_ok = !name || !memcmp(n, name, strlen(name));
                compat_ok = !compat;
                found = 0;
            }
            off += (strlen(n) + 1 + 3) & ~3u;
        } else if (tok == 2) {                  /* FDT_END_NODE */
            if (depth == 2 && name_ok && compat_ok && found) {
                *len = found_len;
                return found;
            }
            depth--;
        } else if (tok == 3) {                  /* FDT_PROP */
            u32 plen = be32(st + off), nameoff = be32(st + off + 4);
            const u8 *val = st + off + 8;
            const char *pname = (const char *)strs + nameoff;
            if (depth == 2) {
                if (compat && !strcmp(pname, "compatible") && has_string((const char *)val, plen, compat))
                    compat_ok = 1;
                if (!strcmp(pname, prop)) {
                    found = val;
                    found_len = plen;
                }
            }
            off += 8 + ((plen + 3) & ~3u);
        } else if (tok == 4) {
            continue;
        } else {
            break;
        }
    }
    return 0;
}

const char *rt_fdt_bootargs(ulong dtb)
{
    const u8 *f = (const u8 *)dtb;
    if (!f || be32(f) != 0xd00dfeed)
        return 0;
    const u8 *st = f + be32(f + 8), *strs = f + be32(f + 12);
    u32 size = be32(f + 36);
    u32 off = 0;
    int depth = 0, in_chosen = 0;
    while (off + 4 <= size) {
        u32 tok = be32(st + off);
        off += 4;
        if (tok == 1) {                         /* FDT_BEGIN_NODE */
            const char *name = (const char *)st + off;
            depth++;
            if (depth == 2 && !strcmp(name, "chosen"))
                in_chosen = 1;
            off += (strlen(name) + 1 + 3) & ~3u;
        } else if (tok == 2) {                  /* FDT_END_NODE */
            if (depth == 2)
                in_chosen = 0;
            depth--;
        } else if (tok == 3) {                  /* FDT_PROP */
            u32 len = be32(st + off), nameoff = be32(st + off + 4);
            const char *val = (const char *)st + off + 8;
            if (in_chosen && depth == 2 && !strcmp((const char *)strs + nameoff, "bootargs"))
                return val;
            off += 8 + ((len + 3) & ~3u);
        } else if (tok == 4) {                  /* FDT_NOP */
            continue;
        } else {
            break;                              /* FDT_END or garbage */
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ results, exceptions */

static enum rt_result result;
static rt_jmp_buf test_jmp;
static int in_test;
volatile ulong rt_fault_insn;
volatile int rt_fault_thumb;
volatile unsigned int rt_exceptions;

void rt_fail(const char *what)
{
    rt_printf("  check failed: %s\n", what);
    if (result < RT_FAILURE)
        result = RT_FAILURE;
}

void rt_skip(const char *why)
{
    rt_printf("  skip: %s\n", why);
    if (result == RT_SUCCESS)
        result = RT_SKIP;
}

void rt_expect_fault(void (*fn)(void), int thumb)
{
    rt_fault_insn = (ulong)fn & ~(ulong)1;
    rt_fault_thumb = thumb;
    fn();
    rt_fault_insn = 0;
}

static void abort_test(void) __attribute__((noreturn));
static void abort_test(void)
{
    rt_flush();
    if (in_test)
        rt_longjmp(&test_jmp, 1);
    rt_printf("Test result: ERROR\n");
    rt_poweroff();
}

void (*volatile rt_irq_handler)(void);

static void irq_dispatch(void)
{
    if (rt_irq_handler) {
        rt_irq_handler();
        return;
    }
    u32 id = rt_gic_ack();
    rt_printf("irq: unexpected, intid=%u\n", id);
    if (id != 1023)
        rt_gic_eoi(id);
}


#if defined(__aarch64__)
/* frame: x0..x30 at [0..30], elr [31], spsr [32], esr [33] */
void rt_exception64(ulong *frame, ulong off)
{
    ulong esr = frame[33], elr = frame[31];
    if ((off & 0x180) == 0x080) {       /* IRQ, from any source */
        irq_dispatch();
        return;
    }
    rt_exceptions++;
    if (rt_fault_insn && off == 0x200) {
        rt_printf("exception: class=%#lx syndrome=%#lx return=%ld\n", esr >> 26, esr,
                  (long)(elr - rt_fault_insn));
        frame[31] = rt_fault_insn + 4;
        rt_fault_insn = 0;
        return;
    }
    rt_printf("exception: unexpected, vector=%#lx class=%#lx syndrome=%#lx\n", off, esr >> 26, esr);
    frame[31] = (ulong)abort_test;
    frame[32] = 0x3c5;                  /* EL1h, DAIF masked */
}
#else
/* from the IRQ vector, in IRQ mode (start-a32.S returns with rfe) */
void rt_irq32(void)
{
    irq_dispatch();
}

static const char *const modes[8] = {
    "reset", "und", "svc", "pabt", "dabt", "hyp", "irq", "fiq"
};

/* frame: r0..r12, lr of the exception mode; returns where to resume (| 1: Thumb) */
ulong rt_exception32(ulong *frame, ulong off)
{
    ulong lr = frame[13];
    rt_exceptions++;
    if (rt_fault_insn && off == 0x04) {
        rt_printf("exception: class=%s syndrome=0x0 return=%ld\n", modes[1],
                  (long)(lr - rt_fault_insn));
        ulong resume = (rt_fault_insn + 4) | (rt_fault_thumb ? 1 : 0);
        rt_fault_insn = 0;
        return resume;
    }
    rt_printf("exception: unexpected, class=%s\n", modes[(off >> 2) & 7]);
    return (ulong)abort_test;
}
#endif

/* ------------------------------------------------------------------ shutdown */

long rt_shutdown(unsigned int reason)
{
    u32 arg[1] = { reason };
    rt_flush();
    return HYPERVISOR_sched_op(2 /* SCHEDOP_shutdown */, arg);
}

void rt_poweroff(void)
{
    rt_shutdown(0);
    for (;;)
        ;
}

/* ------------------------------------------------------------------ runner */

extern const struct xtest __xtests_start[], __xtests_end[];

static const char *const result_names[] = { "SUCCESS", "SKIP", "FAILURE", "ERROR" };

static enum rt_result run_one(const struct xtest *t)
{
    result = RT_SUCCESS;
    rt_fault_insn = 0;
    in_test = 1;
    if (rt_setjmp(&test_jmp) == 0)
        t->fn();
    else if (result < RT_ERROR)
        result = RT_ERROR;
    in_test = 0;
    rt_printf("Test result: %s\n", result_names[result]);
    return result;
}

/* the value of "xtest=" in bootargs, copied into buf */
static int xtest_arg(const char *args, char *buf, unsigned int max)
{
    const char *p = args;
    while (p && *p) {
        while (*p == ' ')
            p++;
        if (!memcmp(p, "xtest=", 6)) {
            unsigned int n = 0;
            p += 6;
            while (*p && *p != ' ' && n < max - 1)
                buf[n++] = *p++;
            buf[n] = 0;
            return 1;
        }
        while (*p && *p != ' ')
            p++;
    }
    return 0;
}

void rt_main(ulong dtb)
{
    static char sel[128];
    rt_dtb = dtb;
    const char *args = rt_fdt_bootargs(dtb);
    if (!xtest_arg(args, sel, sizeof(sel))) {
        rt_printf("xenhvc conformance (" RT_ISA "): no xtest= in bootargs, running xtest=all\n");
        memcpy(sel, "all", 4);
    }
    const struct xtest *t;
    if (!strcmp(sel, "list")) {
        for (t = __xtests_start; t < __xtests_end; t++)
            rt_printf("%s%s\n", t->name, (t->flags & XT_TERMINAL) ? " (terminal)" : "");
    } else if (!strcmp(sel, "all")) {
        unsigned int n[4] = { 0, 0, 0, 0 };
        rt_printf("xenhvc conformance (" RT_ISA "): xtest=all\n");
        for (t = __xtests_start; t < __xtests_end; t++) {
            if (t->flags & XT_TERMINAL)
                continue;
            rt_printf("TEST %s\n", t->name);
            n[run_one(t)]++;
        }
        rt_printf("xtest summary: %u success, %u skip, %u failure, %u error\n", n[0], n[1], n[2], n[3]);
    } else {
        for (t = __xtests_start; t < __xtests_end; t++)
            if (!strcmp(t->name, sel))
                break;
        if (t == __xtests_end) {
            rt_printf("no test named %s\n", sel);
            rt_printf("Test result: ERROR\n");
        } else {
            rt_printf("TEST %s\n", t->name);
            run_one(t);
        }
    }
    rt_poweroff();
}
