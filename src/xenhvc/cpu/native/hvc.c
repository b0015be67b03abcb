/* The hypercall trap entry's fast path: the UC_HOOK_INTR callback, in C.

   Every exception Unicorn raises comes here first. A Xen hypercall (HVC #0xEA1) whose answer
   the model has already given for the same number and arguments, and marked as depending on
   nothing else and changing nothing (Xen.pure), is answered from that memo: the result goes to
   x0/r0 and the guest goes on, without a call into Python. Everything else, and everything
   while the Python side has the fast path disabled (an interrupt or a timer that could need
   attention, a domain that is not simply running; the hook is not used at all with a debug
   build or forced preemption), goes to the Python hook (cpu/trap.py) unchanged. The Python
   side keeps `enabled` current (FastPath.allow) at the exit of this hook's Python half and at
   the entry of its other hooks; the memo holds only what the model put there.

   While tracing, a memo entry also stands for the trace record the model made for that call
   (so it matches only at the same PC too), and each answer from the memo is logged as a run of
   repeats of that entry; the Python side turns the log into records before any record of its
   own, and when the log is full the call goes to Python, which empties it.

   The same hook answers an AArch64 guest's counter reads (CNTVCT_EL0/CNTPCT_EL0, which the
   loader rewrote into UDFs, cpu/sysreg.py): Linux reads the counter thousands of times a
   second. The count is Xen's system time in ticks, from the same monotonic clock as the
   model's, and only while the Python side says nothing could need its attention at that
   point (no interrupt the vGIC could signal, no edge waiting, the domain running) and only
   before the next Xen timer's deadline; from it on, the read goes to Python, which fires the
   timer there.

   Under the same condition it answers the SMCCC calls (HVC #0) the model marks as depending on
   nothing but their function id and changing nothing (Vsmc.pure: the Spectre workarounds, which
   Linux makes on every entry from and return to user space, and which real Xen answers in its
   entry code), from a memo of the registers the model wrote the first time. */
#include <stdint.h>
#include <stddef.h>
#include <time.h>

typedef int (*uc_reg_read_t)(void *uc, int regid, void *value);
typedef int (*uc_reg_write_t)(void *uc, int regid, const void *value);
typedef int (*uc_mem_read_t)(void *uc, uint64_t address, void *bytes, size_t size);
typedef void (*uc_intr_cb_t)(void *uc, uint32_t intno, void *user_data);
typedef int (*uc_vmem_read_t)(void *uc, uint64_t address, int prot, void *bytes, size_t size);

#define XEN_HYPERCALL_TAG 0xEA1u
#define A64_HVC_MASK 0xFFE0001Fu
#define A64_HVC_BITS 0xD4000002u
#define MEMO_SIZE 16
#define SMCCC_MEMO_SIZE 4
#define SMCCC_REGS 4
#define LOG_SIZE 1024
#define UC_PROT_EXEC 4
#define XZR 31

struct xenhvc_memo {
    uint64_t used, nr, a0, a1, pc;
    int64_t result;
};

struct xenhvc_smccc_memo {     /* an SMCCC call by function id: the registers the model wrote */
    uint32_t used, fid, nwrite, pad;
    int32_t reg[SMCCC_REGS];
    uint64_t value[SMCCC_REGS];
};

struct xenhvc_repeat {          /* `count` answers in a row from memo entry `slot` */
    uint32_t slot, count;
};

struct xenhvc_fastpath {
    uc_reg_read_t reg_read;
    uc_reg_write_t reg_write;
    uc_mem_read_t mem_read;
    uc_intr_cb_t slow;          /* the Python hook */
    int32_t excp_hvc;           /* Unicorn's exception number for HVC */
    int32_t enabled;            /* kept by Python: 0 sends every trap to it */
    int32_t pc_reg, nr_reg, a0_reg, a1_reg, result_reg;
    int32_t syndrome_reg;       /* >= 0: the HVC immediate is in it (AArch32 HSR.ISS) */
    int32_t sctlr_reg;          /* else: SCTLR_EL1 through this CP-register id; MMU on: slow */
    int32_t tracing;            /* log each answer (and match the PC too) */
    uint64_t word_mask;
    uint64_t hits;              /* hypercalls answered here (statistics, tests) */
    struct xenhvc_memo memo[MEMO_SIZE];
    uint32_t log_len, pad;      /* emptied by Python */
    struct xenhvc_repeat log[LOG_SIZE];
    /* counter reads */
    uc_vmem_read_t vmem_read;
    int32_t excp_udef;          /* Unicorn's exception number for an undefined instruction */
    int32_t until_deadline;     /* kept by Python: counter reads and pure SMCCC calls answered here
                                   until deadline_ns; 0 sends them all to it */
    int64_t base_ns;            /* Xen system time = CLOCK_MONOTONIC + base_ns */
    int64_t deadline_ns;        /* the next Xen timer (system time): from it on, Python */
    uint32_t udf_bits, udf_mask;    /* the UDFs that read the count (Rt in bits 4:0) */
    uint32_t ns_per_tick, pad2;
    int32_t xreg[31];           /* Unicorn's ids of x0..x30 (the PC is pc_reg) */
    int32_t pad3;
    uint64_t counter_reads;     /* answered here (statistics, tests) */
    struct xenhvc_smccc_memo smccc[SMCCC_MEMO_SIZE];
    int32_t fid_reg, pad4;      /* x0/r0: the SMCCC function id */
    uint64_t smccc_hits;        /* answered here (statistics, tests) */
};

/* Xen's system time now, if the Python side lets this hook answer before the next Xen timer
   and that timer is not due: 1 and *ns; else 0. */
static int before_deadline(struct xenhvc_fastpath *f, int64_t *ns)
{
    struct timespec now;

    if (!f->until_deadline)
        return 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    *ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + f->base_ns;
    return *ns < f->deadline_ns;
}

/* The count for a counter-read UDF at the PC, written to its Rt, and the PC stepped past it;
   0 (nothing changed) if the instruction is anything else or the next timer is due. */
static int counter_read(void *uc, struct xenhvc_fastpath *f)
{
    uint64_t pc = 0, value;
    uint32_t insn = 0;
    int64_t ns;

    if (f->reg_read(uc, f->pc_reg, &pc) || f->vmem_read(uc, pc, UC_PROT_EXEC, &insn, 4)
        || (insn & f->udf_mask) != f->udf_bits || !before_deadline(f, &ns))
        return 0;
    value = (uint64_t)ns / f->ns_per_tick;
    if ((insn & 31) != XZR && f->reg_write(uc, f->xreg[insn & 31], &value))
        return 0;
    pc += 4;
    if (f->reg_write(uc, f->pc_reg, &pc))
        return 0;
    f->counter_reads++;
    return 1;
}

/* Log an answer from memo entry `slot`; 0 if the log is full. */
static int log_answer(struct xenhvc_fastpath *f, uint32_t slot)
{
    struct xenhvc_repeat *last = f->log_len ? &f->log[f->log_len - 1] : NULL;

    if (last != NULL && last->slot == slot && last->count != UINT32_MAX) {
        last->count++;
        return 1;
    }
    if (f->log_len == LOG_SIZE)
        return 0;
    f->log[f->log_len].slot = slot;
    f->log[f->log_len].count = 1;
    f->log_len++;
    return 1;
}

struct a64_cp_reg {             /* uc_arm64_cp_reg */
    uint32_t crn, crm, op0, op1, op2;
    uint64_t val;
};

static int hvc_immediate(void *uc, struct xenhvc_fastpath *f, uint64_t pc, uint32_t *imm)
{
    if (f->syndrome_reg >= 0) {
        uint64_t syndrome = 0;
        if (f->reg_read(uc, f->syndrome_reg, &syndrome))
            return -1;
        *imm = syndrome & 0xFFFF;
        return 0;
    }
    struct a64_cp_reg sctlr = {1, 0, 3, 0, 0, 0};  /* SCTLR_EL1 */
    uint32_t insn = 0;
    if (f->reg_read(uc, f->sctlr_reg, &sctlr))
        return -1;
    /* MMU on: the PC is virtual, read through the vCPU's own translation */
    if ((sctlr.val & 1) ? f->vmem_read(uc, pc - 4, UC_PROT_EXEC, &insn, 4) : f->mem_read(uc, pc - 4, &insn, 4))
        return -1;
    if ((insn & A64_HVC_MASK) != A64_HVC_BITS)
        return -1;
    *imm = (insn >> 5) & 0xFFFF;
    return 0;
}

/* A pure SMCCC call answered from the memo; 0 if it is not there or a timer is due. */
static int smccc_answer(void *uc, struct xenhvc_fastpath *f)
{
    uint64_t x0 = 0;
    int64_t ns;

    if (!before_deadline(f, &ns) || f->reg_read(uc, f->fid_reg, &x0))
        return 0;
    for (int i = 0; i < SMCCC_MEMO_SIZE; i++) {
        struct xenhvc_smccc_memo *m = &f->smccc[i];
        if (!m->used || m->fid != (uint32_t)x0)
            continue;
        for (uint32_t r = 0; r < m->nwrite; r++)
            if (f->reg_write(uc, m->reg[r], &m->value[r]))
                return 0;
        f->smccc_hits++;
        return 1;
    }
    return 0;
}

void xenhvc_hvc_hook(void *uc, uint32_t intno, void *user_data)
{
    struct xenhvc_fastpath *f = user_data;
    uint64_t pc = 0, nr = 0, a0 = 0, a1 = 0;
    uint32_t imm;

    if (intno == (uint32_t)f->excp_udef && f->until_deadline && counter_read(uc, f))
        return;
    if (intno != (uint32_t)f->excp_hvc || !(f->enabled || f->until_deadline))
        goto slow;
    if (f->reg_read(uc, f->pc_reg, &pc) || hvc_immediate(uc, f, pc, &imm))
        goto slow;
    if (imm == 0) {
        if (smccc_answer(uc, f))
            return;
        goto slow;
    }
    if (imm != XEN_HYPERCALL_TAG || !f->enabled || f->reg_read(uc, f->nr_reg, &nr) ||
        f->reg_read(uc, f->a0_reg, &a0) || f->reg_read(uc, f->a1_reg, &a1))
        goto slow;
    for (int i = 0; i < MEMO_SIZE; i++) {
        struct xenhvc_memo *m = &f->memo[i];
        if (m->used && m->nr == nr && m->a0 == (a0 & f->word_mask) && m->a1 == (a1 & f->word_mask)
            && (!f->tracing || m->pc == pc)) {
            uint64_t result = (uint64_t)m->result & f->word_mask;
            if (f->reg_write(uc, f->result_reg, &result))
                goto slow;
            if (f->tracing && !log_answer(f, (uint32_t)i))
                goto slow;  /* the log is full: Python empties it and answers (the same) */
            f->hits++;
            return;
        }
    }
slow:
    f->slow(uc, intno, NULL);
}

/* For the Python side to check its ctypes mirror of the struct. */
size_t xenhvc_fastpath_size(void)
{
    return sizeof(struct xenhvc_fastpath);
}
