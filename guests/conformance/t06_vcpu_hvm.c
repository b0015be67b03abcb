/* vcpu_op (24) and hvm_op (34) */
#include "xt.h"

static long vop(int cmd, unsigned int vcpu, void *arg) { return HYPERVISOR_vcpu_op(cmd, vcpu, arg); }

XTEST(vcpu_op, rejected_ops)
{
    static const int cmds[] = { 0 /* up */, 2 /* is_up */, 4 /* get_runstate_info */,
                                6 /* set_periodic_timer */, 7, 8, 9, 14, 15, 99 };
    for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        long r = vop(cmds[i], 0, xt_clear(64));
        rt_showf(r, "vcpu_op(%d, 0, buf)", cmds[i]);
        EXPECT_EQ(r, -22);
    }
}

XTEST(vcpu_op, bad_vcpu)
{
    static const unsigned int ids[] = { 1, 999, 0xffffffffu };
    for (unsigned int i = 0; i < 3; i++) {
        long r = vop(10, ids[i], xt_clear(16));
        rt_showf(r, "vcpu_op(VCPUOP_register_vcpu_info, %u, buf)", ids[i]);
        EXPECT_EQ(r, -2);
    }
}

XTEST(vcpu_op, register_vcpu_info_bad_pointer)
{
    long r = vop(10, 0, NOT_MAPPED);
    rt_show("vcpu_op(VCPUOP_register_vcpu_info, 0, unmapped)", r);
    EXPECT_EQ(r, -14);
}

XTEST(vcpu_op, register_vcpu_info_bad_offset)
{
    u8 *b = xt_clear(16);
    put32(b + 8, 4095);
    long r = vop(10, 0, b);
    rt_show("vcpu_op(VCPUOP_register_vcpu_info, 0, {mfn=0, offset=4095})", r);
    put32(b + 8, 4);
    long r2 = vop(10, 0, b);
    rt_show("vcpu_op(VCPUOP_register_vcpu_info, 0, {mfn=0, offset=4})", r2);
}

XTEST(vcpu_op, register_vcpu_info_not_ram)
{
    long r = vop(10, 0, xt_clear(16));
    rt_show("vcpu_op(VCPUOP_register_vcpu_info, 0, {mfn=0, offset=0})", r);
}

XTEST(vcpu_op, register_runstate_memory_area)
{
    long r = vop(5, 0, NOT_MAPPED);
    rt_show("vcpu_op(VCPUOP_register_runstate_memory_area, 0, unmapped)", r);
    long r2 = vop(5, 0, xt_clear(16));
    rt_show("vcpu_op(VCPUOP_register_runstate_memory_area, 0, {addr=NULL})", r2);
    EXPECT_EQ(r, -14);
}

/* ---- hvm_op ---- */
#define HVMOP_set_param 0
#define HVMOP_get_param 1

static long param(ulong op, u16 dom, u32 index, u64 *value)
{
    u8 *b = xt_clear(16);
    put16(b, dom);
    put32(b + 4, index);
    put64(b + 8, *value);
    long r = HYPERVISOR_hvm_op(op, b);
    *value = get64(b + 8);
    return r;
}

XTEST(hvm_op, get_params)
{
    static const u32 idx[] = { 0, 1, 2, 17, 18, 28 };
    for (unsigned int i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        u64 v = 0;
        long r = param(HVMOP_get_param, DOMID_SELF, idx[i], &v);
        rt_printf("hvm_op(HVMOP_get_param, {DOMID_SELF, index=%u}) = %ld%s%s, value = %#llx\n", idx[i], r,
                  r ? " " : "", r ? rt_errname(r) : "", v);
    }
}

XTEST(hvm_op, get_param_bad_index)
{
    static const u32 idx[] = { 3, 99, 1000 };
    for (unsigned int i = 0; i < 3; i++) {
        u64 v = 0;
        long r = param(HVMOP_get_param, DOMID_SELF, idx[i], &v);
        rt_showf(r, "hvm_op(HVMOP_get_param, {DOMID_SELF, index=%u})", idx[i]);
        EXPECT_EQ(r, -22);
    }
}

XTEST(hvm_op, get_param_no_domain)
{
    u64 v = 0;
    long r = param(HVMOP_get_param, 5, 2, &v);
    rt_show("hvm_op(HVMOP_get_param, {domid=5, index=2})", r);
    EXPECT_EQ(r, -3);
}

XTEST(hvm_op, set_param_own)
{
    static const u32 idx[] = { 2, 18, 99 };
    for (unsigned int i = 0; i < 3; i++) {
        u64 v = 7;
        long r = param(HVMOP_set_param, DOMID_SELF, idx[i], &v);
        rt_showf(r, "hvm_op(HVMOP_set_param, {DOMID_SELF, index=%u, value=7})", idx[i]);
    }
}

XTEST(hvm_op, bad_pointer)
{
    long r = HYPERVISOR_hvm_op(HVMOP_get_param, NOT_MAPPED);
    rt_show("hvm_op(HVMOP_get_param, unmapped)", r);
    long r2 = HYPERVISOR_hvm_op(HVMOP_set_param, NOT_MAPPED);
    rt_show("hvm_op(HVMOP_set_param, unmapped)", r2);
    EXPECT_EQ(r, -14);
    EXPECT_EQ(r2, -14);
}

XTEST(hvm_op, guest_request_vm_event)
{
    long r = HYPERVISOR_hvm_op(24, xt_clear(16));
    rt_show("hvm_op(HVMOP_guest_request_vm_event, buf)", r);
    long r2 = HYPERVISOR_hvm_op(24, 0);
    rt_show("hvm_op(HVMOP_guest_request_vm_event, NULL)", r2);
    EXPECT_EQ(r, -22);
}

XTEST(hvm_op, unknown)
{
    static const ulong ops[] = { 2, 5, 99 };
    for (unsigned int i = 0; i < 3; i++) {
        long r = HYPERVISOR_hvm_op(ops[i], xt_clear(64));
        rt_showf(r, "hvm_op(%lu, buf)", ops[i]);
        EXPECT_EQ(r, -38);
    }
}
