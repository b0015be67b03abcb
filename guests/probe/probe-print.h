/* probe-print.h - the line printer shared by the probe guests (probe.c for AArch64, probe32.c
 * for AArch32): words are register-sized; output goes through console_io via the including
 * file's hcall(). Included once, after hcall() is defined. */
typedef unsigned long word;
typedef long sword;
#define WORD_BITS ((int)(8 * sizeof(word)))

void *memset(void *d, int c, unsigned long n)
{
    u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

/* ------------------------------------------------------------------ */
/* line printer                                                         */

static char line[1024];
static unsigned int pos;
static u8 buf[1024] __attribute__((aligned(16)));

static void putc_(char c)
{
    if (pos < sizeof(line) - 1)
        line[pos++] = c;
}

static void ps(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void flush(void)
{
    putc_('\n');
    hcall(HYPERVISOR_console_io, CONSOLEIO_write, pos, line);
    pos = 0;
}

static const char hexd[] = "0123456789abcdef";

static void phex(word v)         /* 0x + minimal digits */
{
    int i = WORD_BITS - 4;
    ps("0x");
    while (i > 0 && ((v >> i) & 0xf) == 0)
        i -= 4;
    for (; i >= 0; i -= 4)
        putc_(hexd[(v >> i) & 0xf]);
}

static void phexw(word v)        /* 0x + all digits of a register */
{
    ps("0x");
    for (int i = WORD_BITS - 4; i >= 0; i -= 4)
        putc_(hexd[(v >> i) & 0xf]);
}

static void pdec(sword v)
{
    char t[24];
    int n = 0;
    word u = v < 0 ? -(word)v : (word)v;
    if (v < 0)
        putc_('-');
    do {
        t[n++] = '0' + u % 10;
        u /= 10;
    } while (u);
    while (n)
        putc_(t[--n]);
}

/* return value: hex, and the signed decimal if negative */
static void pret(sword r)
{
    phex((word)r);
    if (r < 0) {
        ps(" (");
        pdec(r);
        ps(")");
    }
}

static void pbytes(const u8 *p, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++) {
        if (i)
            putc_(' ');
        putc_(hexd[p[i] >> 4]);
        putc_(hexd[p[i] & 0xf]);
    }
}

/* a NUL-terminated string of at most max bytes, quoted, non-printables escaped */
static void pstr(const u8 *p, unsigned int max)
{
    putc_('"');
    for (unsigned int i = 0; i < max && p[i]; i++) {
        u8 c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            putc_(c);
        } else {
            putc_('\\');
            putc_('x');
            putc_(hexd[c >> 4]);
            putc_(hexd[c & 0xf]);
        }
    }
    putc_('"');
}

/* how many leading bytes of buf Xen touched: buf pre-filled with 0xa5 */
#define FILL 0xa5
static unsigned int touched(void)
{
    unsigned int n = sizeof(buf);
    while (n && buf[n - 1] == FILL)
        n--;
    return n;
}
