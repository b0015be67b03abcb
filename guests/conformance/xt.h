/* xt.h - shared by the conformance tests: Xen public ABI constants they use. */
#ifndef XENHVC_XT_H
#define XENHVC_XT_H
#include "rt.h"

#define DOMID_SELF 0x7ff0
#define NOT_MAPPED ((void *)0x1)   /* a guest address Xen cannot copy to or from */

#define XENVER_version 0
#define XENVER_extraversion 1
#define XENVER_compile_info 2
#define XENVER_capabilities 3
#define XENVER_changeset 4
#define XENVER_platform_parameters 5
#define XENVER_get_features 6
#define XENVER_pagesize 7
#define XENVER_guest_handle 8
#define XENVER_commandline 9
#define XENVER_build_id 10

#define CONSOLEIO_write 0
#define CONSOLEIO_read 1

#define SCHEDOP_yield 0
#define SCHEDOP_block 1
#define SCHEDOP_shutdown 2
#define SCHEDOP_poll 3
#define SCHEDOP_remote_shutdown 4
#define SCHEDOP_shutdown_code 5
#define SCHEDOP_watchdog 6
#define SCHEDOP_pin_override 7

/* a scratch buffer, 8-byte aligned (tests may reuse it freely) */
extern u8 xt_buf[4096] __attribute__((aligned(16)));
static inline void put32(void *p, u32 v) { u8 *b = p; b[0] = v; b[1] = v >> 8; b[2] = v >> 16; b[3] = v >> 24; }
static inline void put16(void *p, u16 v) { u8 *b = p; b[0] = v; b[1] = v >> 8; }
static inline void put64(void *p, u64 v) { put32(p, (u32)v); put32((u8 *)p + 4, (u32)(v >> 32)); }
static inline u32 get32(const void *p) { const u8 *b = p; return b[0] | b[1] << 8 | b[2] << 16 | (u32)b[3] << 24; }
static inline u16 get16(const void *p) { const u8 *b = p; return b[0] | b[1] << 8; }
static inline u64 get64(const void *p) { return get32(p) | (u64)get32((const u8 *)p + 4) << 32; }
static inline void *xt_clear(unsigned int n) { memset(xt_buf, 0, n); return xt_buf; }
/* a count Xen returns whose value is a memory size: print only its sign */
static inline void xt_show_count(const char *label, long r)
{
    if (r < 0)
        rt_show(label, r);
    else
        rt_printf("%s = %s\n", label, r ? "positive" : "0");
}
#if defined(__aarch64__)
#define XT_64BIT 1
#else
#define XT_64BIT 0
#endif
#endif
