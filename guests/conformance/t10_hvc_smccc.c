/* wrong HVC immediates (Xen injects an undefined-instruction exception) and SMCCC/PSCI over hvc #0 */
#include "xt.h"

#if defined(__aarch64__)
#define BAD(imm) extern void rt_bad_hvc_##imm(void);                                   \
    XTEST(hvc, imm_##imm)                                                              \
    {                                                                                  \
        unsigned int before = rt_exceptions;                                           \
        rt_expect_fault(rt_bad_hvc_##imm, 0);                                          \
        rt_printf("hvc #" #imm ": exceptions taken = %u\n", rt_exceptions - before);   \
        EXPECT_EQ(rt_exceptions - before, 1);                                          \
    }
#else
#define BAD1(imm, st, th) extern void rt_bad_hvc_##st##_##imm(void);                   \
    XTEST(hvc, imm_##imm##_##st)                                                       \
    {                                                                                  \
        unsigned int before = rt_exceptions;                                           \
        rt_expect_fault(rt_bad_hvc_##st##_##imm, th);                                  \
        rt_printf("hvc #" #imm " (" #st "): exceptions taken = %u\n", rt_exceptions - before); \
        EXPECT_EQ(rt_exceptions - before, 1);                                          \
    }
#if defined(__thumb__)
#define BAD(imm) BAD1(imm, thumb, 1)
#else
#define BAD(imm) BAD1(imm, arm, 0)
#endif
#endif

BAD(0x0001)
BAD(0x0ea0)
BAD(0x0ea2)
BAD(0x1234)
BAD(0xfffe)
BAD(0xffff)
#if !defined(__aarch64__)
#if defined(__thumb__)
BAD1(0x1234, arm, 0)
#else
BAD1(0x1234, thumb, 1)
#endif
#endif

/* ---- SMCCC ---- */
static void smc(const char *what, ulong fid, ulong a1, ulong a2, ulong a3)
{
    struct smccc_res res;
    smccc(fid, a1, a2, a3, 0, 0, 0, 0, &res);
    rt_printf("%s: fid=%#lx a1=%#lx -> a0=%#lx a1=%#lx a2=%#lx a3=%#lx\n", what, fid, a1, res.a0, res.a1,
              res.a2, res.a3);
}

XTEST(smccc, version)
{
    struct smccc_res res;
    smccc(0x80000000, 0, 0, 0, 0, 0, 0, 0, &res);
    rt_printf("SMCCC_VERSION -> a0=%#lx\n", res.a0);
    EXPECT_EQ(res.a0, 0x10001);
}

XTEST(smccc, arch_features)
{
    static const ulong q[] = { 0x80000000, 0x80000001, 0x80008000, 0x80007fff, 0x80003fff, 0x12345678 };
    for (unsigned int i = 0; i < 6; i++)
        smc("SMCCC_ARCH_FEATURES", 0x80000001, q[i], 0, 0);
}

XTEST(smccc, arch_workarounds)
{
    smc("SMCCC_ARCH_WORKAROUND_1", 0x80008000, 0x5555, 0x6666, 0x7777);
    smc("SMCCC_ARCH_WORKAROUND_2", 0x80007fff, 1, 0, 0);
    smc("SMCCC_ARCH_WORKAROUND_3", 0x80003fff, 0, 0, 0);
}

XTEST(smccc, hypervisor_service)
{
    smc("Xen call count", 0x8500ff00, 0, 0, 0);
    smc("Xen UID", 0x8500ff01, 0, 0, 0);
    smc("Xen revision", 0x8500ff03, 0, 0, 0);
}

XTEST(smccc, standard_service)
{
    smc("standard service call count", 0x8400ff00, 0, 0, 0);
    smc("standard service UID", 0x8400ff01, 0, 0, 0);
    smc("standard service revision", 0x8400ff03, 0, 0, 0);
}

XTEST(smccc, unknown)
{
    smc("unknown", 0x12345678, 0, 0, 0);
    smc("owner 6 (OEM)", 0x86000000, 0, 0, 0);
    smc("SiP", 0x82000000, 0, 0, 0);
    smc("trusted OS", 0xbf000000, 0, 0, 0);
    smc("yielding call", 0x04000000, 0, 0, 0);
}

XTEST(psci, version)
{
    struct smccc_res res;
    smccc(0x84000000, 0, 0, 0, 0, 0, 0, 0, &res);
    rt_printf("PSCI_VERSION -> a0=%#lx\n", res.a0);
    EXPECT_EQ(res.a0, 0x10001);
}

XTEST(psci, features)
{
    static const ulong q[] = { 0x84000000, 0x84000001, 0x84000002, 0x84000003, 0x84000004, 0x84000006,
                               0x84000008, 0x84000009, 0x8400000a, 0x8400000e, 0xc4000001, 0xc4000003,
                               0x80000000, 0x12345678 };
    for (unsigned int i = 0; i < sizeof(q) / sizeof(q[0]); i++)
        smc("PSCI_FEATURES", 0x8400000a, q[i], 0, 0);
}

XTEST(psci, migrate_info_type)
{
    smc("PSCI_MIGRATE_INFO_TYPE", 0x84000006, 0, 0, 0);
}

XTEST(psci, affinity_info)
{
    smc("PSCI_AFFINITY_INFO(0, 0)", 0x84000004, 0, 0, 0);
    smc("PSCI_AFFINITY_INFO(5, 0)", 0x84000004, 5, 0, 0);
    smc("PSCI_AFFINITY_INFO(0, 1)", 0x84000004, 0, 1, 0);
}

XTEST(psci, cpu_on_errors)
{
    smc("PSCI_CPU_ON(cpu 0, already on)", 0x84000003, 0, 0x1000, 0);
    smc("PSCI_CPU_ON(cpu 5, no such cpu)", 0x84000003, 5, 0x1000, 0);
    smc("PSCI_0_1 CPU_ON(cpu 5)", 2, 5, 0x1000, 0);
}

XTEST(psci, smc64_ids)
{
    smc("PSCI_CPU_ON (SMC64, cpu 5)", 0xc4000003, 5, 0x1000, 0);
    smc("PSCI_AFFINITY_INFO (SMC64)", 0xc4000004, 0, 0, 0);
}
