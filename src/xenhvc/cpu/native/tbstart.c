/* Unicorn 2.1.4's exit check at the start of every translated block, made inline as QEMU's own.

   Unicorn begins each block it translates with a call, helper_check_exit_request(uc, 0), that
   returns at once unless the vCPU's icount_decr word is negative (uc_emu_stop, an interrupt, an
   instruction count): x86-64 code of the shape

       48 bf <uc, 8 bytes>    movabs rdi, uc                ; or, uc within 2 GB of the code,
                                                            ; 48 8d 3d <disp32>  lea rdi, [rip + disp32]
       33 f6                  xor    esi, esi
       e8 <rel32>             call   helper_check_exit_request
                                                            ; or, the helper out of a rel32 call's
                                                            ; reach, ff 15 <disp32>  call [rip + disp32]

   QEMU tests the word inline instead (its gen_tb_start). This rewrites each such call in the
   code Unicorn has generated into the same test, in the same 14 to 18 bytes:

       83 bd <disp32> 00      cmp    dword [rbp + disp32], 0   ; rbp is TCG's env; the word
       79 <rel8>              jns    over                      ; is at env + disp32
       e8 <rel32>             call   stub                      ; rdi = uc, esi = 0, jmp helper
       (a nop of 0 to 4 bytes)
                            over:

   so the helper is called exactly when it would act, with the same arguments and a return
   address in the same guest instruction's code (it uses that address to find the guest PC).
   A tight guest loop ran 25-35% faster here. Unicorn calls the same helper after a load or
   store in AArch32 code (cpu/exitcheck.py): those calls are rewritten the same way.

   Run from an edge-generated hook, which Unicorn calls after each block it translates (outside
   any block's execution): the code generated since the last call, [scanned, code_gen_ptr), is
   searched; after a flush or a region change (code_gen_buffer moved, or code_gen_ptr below
   where the search stopped) the search starts again at code_gen_buffer. cpu/tbstart.py finds
   the fields and checks the helper's code before installing it. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define LONGEST 18           /* movabs, xor, indirect call */
#define SHORTEST 14          /* lea, xor, direct call: the inline test's own length */
#define STUB_SIZE 4096
#define NEAR ((1LL << 31) - (1LL << 20))  /* within a rel32 call's reach, with room to spare */

struct xenhvc_tbstart {
    uint8_t **code_gen_buffer;   /* &tcg_ctx->code_gen_buffer */
    uint8_t **code_gen_ptr;      /* &tcg_ctx->code_gen_ptr */
    uint8_t *lo, *hi;            /* the code buffer's mapping (read, write, execute) */
    uint8_t *helper;             /* helper_check_exit_request */
    uint64_t uc;
    int32_t icount_disp;         /* the vCPU's icount_decr word, from env */
    int32_t pad;
    uint8_t *stub;
    uint8_t *buffer_seen, *scanned;
    uint64_t rewritten;          /* calls rewritten so far */
};

static void put32(uint8_t *p, int32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static int near(const uint8_t *a, const uint8_t *b)
{
    long long d = (long long)((intptr_t)a - (intptr_t)b);
    return d < NEAR && d > -NEAR;
}

/* The stub (movabs rdi, uc; xor esi, esi; movabs rax, helper; jmp rax) in a page of its own,
   close enough to the code buffer for a rel32 call from anywhere in it. 0 on success. */
int xenhvc_tbstart_init(struct xenhvc_tbstart *s)
{
    uint8_t *page = NULL;

    if (s->hi - s->lo >= NEAR)
        return -1;
    for (intptr_t step = 1; step <= 4096 && page == NULL; step++) {
        for (int side = 0; side < 2 && page == NULL; side++) {
            uint8_t *hint = side ? s->hi + step * 0x10000 : s->lo - step * 0x10000;
            void *p = mmap(hint, STUB_SIZE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (p == MAP_FAILED)
                continue;
            if (near(p, s->lo) && near(p, s->hi))
                page = p;
            else
                munmap(p, STUB_SIZE);
        }
    }
    if (page == NULL)
        return -1;
    uint8_t *q = page;
    *q++ = 0x48; *q++ = 0xbf; put64(q, s->uc); q += 8;                        /* movabs rdi, uc */
    *q++ = 0x33; *q++ = 0xf6;                                                 /* xor esi, esi */
    *q++ = 0x48; *q++ = 0xb8; put64(q, (uint64_t)(uintptr_t)s->helper); q += 8; /* movabs rax, helper */
    *q++ = 0xff; *q++ = 0xe0;                                                 /* jmp rax */
    if (mprotect(page, STUB_SIZE, PROT_READ | PROT_EXEC) != 0) {
        munmap(page, STUB_SIZE);
        return -1;
    }
    s->stub = page;
    return 0;
}

void xenhvc_tbstart_free(struct xenhvc_tbstart *s)
{
    if (s->stub != NULL)
        munmap(s->stub, STUB_SIZE);
    s->stub = NULL;
}

/* The length of the call to the helper at ``at`` (after the head), or 0 if it is not one. */
static int call_length(const struct xenhvc_tbstart *s, const uint8_t *at, const uint8_t *end)
{
    int32_t disp;
    uint64_t target;

    if (end - at >= 5 && at[0] == 0xe8) {                 /* call rel32 */
        memcpy(&disp, at + 1, 4);
        return at + 5 + disp == s->helper ? 5 : 0;
    }
    if (end - at >= 6 && at[0] == 0xff && at[1] == 0x15) { /* call [rip + disp32] */
        const uint8_t *slot;
        memcpy(&disp, at + 2, 4);
        slot = at + 6 + disp;
        if (slot < s->lo || slot + 8 > s->hi)
            return 0;
        memcpy(&target, slot, 8);
        return target == (uint64_t)(uintptr_t)s->helper ? 6 : 0;
    }
    return 0;
}

/* Where the instruction that loads uc into rdi begins, ending at ``x`` (not before ``floor``),
   or NULL if there is none. */
static uint8_t *uc_load(const struct xenhvc_tbstart *s, uint8_t *x, const uint8_t *floor)
{
    int32_t disp;
    uint64_t value;

    if (x - floor >= 10 && x[-10] == 0x48 && x[-9] == 0xbf) {                 /* movabs rdi, imm64 */
        memcpy(&value, x - 8, 8);
        if (value == s->uc)
            return x - 10;
    }
    if (x - floor >= 7 && x[-7] == 0x48 && x[-6] == 0x8d && x[-5] == 0x3d) { /* lea rdi, [rip+d] */
        memcpy(&disp, x - 4, 4);
        if ((uint64_t)(uintptr_t)(x + disp) == s->uc)
            return x - 7;
    }
    return NULL;
}

static void rewrite(struct xenhvc_tbstart *s, uint8_t *at, int len)
{
    static const uint8_t nops[5][4] = {{0}, {0x90}, {0x66, 0x90}, {0x0f, 0x1f, 0x00}, {0x0f, 0x1f, 0x40, 0x00}};
    uint8_t code[LONGEST];
    uint8_t *q = code;

    *q++ = 0x83; *q++ = 0xbd; put32(q, s->icount_disp); q += 4; *q++ = 0x00; /* cmp dword [rbp+d], 0 */
    *q++ = 0x79; *q++ = (uint8_t)(len - 9);                                  /* jns over */
    *q++ = 0xe8; put32(q, (int32_t)(s->stub - (at + 14))); q += 4;           /* call stub */
    memcpy(q, nops[len - SHORTEST], (size_t)(len - SHORTEST));                /* nop */
    memcpy(at, code, (size_t)len);
    s->rewritten++;
}

/* uc_hook_edge_gen_t */
void xenhvc_tbstart_edge(void *uc, void *cur, void *prev, void *user_data)
{
    struct xenhvc_tbstart *s = user_data;
    uint8_t *buf = *s->code_gen_buffer, *end = *s->code_gen_ptr;

    (void)uc;
    (void)cur;
    (void)prev;
    if (s->stub == NULL || buf < s->lo || end > s->hi || end < buf)
        return;
    if (buf != s->buffer_seen || end < s->scanned || s->scanned < buf) {
        s->buffer_seen = buf;
        s->scanned = buf;
    }
    /* xor esi, esi is 33 f6: look for the f6 (rare in TCG's code, and memchr is faster than
       memmem) and check the byte before it */
    for (uint8_t *p = s->scanned + 1; end - p > 1;) {
        uint8_t *f6 = memchr(p, 0xf6, (size_t)(end - p)), *x, *at;
        int call;
        if (f6 == NULL)
            break;
        p = f6 + 1;
        x = f6 - 1;
        if (*x != 0x33)
            continue;
        call = call_length(s, x + 2, end);
        at = call ? uc_load(s, x, buf) : NULL;
        if (at != NULL && near(s->stub, at)) {
            rewrite(s, at, (int)(x + 2 + call - at));
            p = x + 2 + call;
        }
    }
    s->scanned = end;
}

/* For the Python side to check its ctypes mirror of the struct. */
size_t xenhvc_tbstart_size(void)
{
    return sizeof(struct xenhvc_tbstart);
}
