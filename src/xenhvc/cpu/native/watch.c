/* The unmask watch of cpu/irq.py, filtered natively.

   While an interrupt is signalled but masked, cpu/irq.py needs to run at the first basic block
   after the guest unmasks IRQs. A Python block hook costs about a microsecond per block, and
   adding one only when needed means flushing Unicorn's translation cache (blocks translated
   earlier carry no call to it), which for a Linux kernel costs tens of milliseconds a time.
   So this block hook is installed once, before anything is translated, and stays: when the
   watch is not armed it counts the block's code and returns; when armed it reads the one
   register holding the IRQ mask bit and calls the Python hook only when that bit is clear.
   The count of code run is the clock of --deterministic runs.

   Unicorn's functions come in as pointers (from the library the Python binding loaded), so this
   links against nothing. */
#include <stddef.h>
#include <stdint.h>

typedef int (*uc_reg_read_t)(void *uc, int regid, void *value);
typedef void (*uc_block_cb_t)(void *uc, uint64_t address, uint32_t size, void *user_data);

struct xenhvc_watch {
    uc_reg_read_t reg_read;   /* Unicorn's uc_reg_read */
    uc_block_cb_t on_unmask;  /* the Python hook */
    int32_t reg;              /* PSTATE (AArch64) or CPSR (AArch32) */
    int32_t armed;            /* set and cleared by Python */
    uint64_t mask;            /* the I bit of that register */
    uint64_t blocks;          /* blocks seen while armed (statistics) */
    uint64_t executed;        /* bytes of guest code run, block by block (--deterministic's clock) */
};

void xenhvc_watch_block(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct xenhvc_watch *w = user_data;
    uint64_t value = 0;

    w->executed += size;
    if (!w->armed)
        return;
    w->blocks++;
    if (w->reg_read(uc, w->reg, &value) != 0 || (value & w->mask))
        return;
    w->on_unmask(uc, address, size, 0);
}

/* For the Python side to check its ctypes mirror of the struct. */
size_t xenhvc_watch_size(void)
{
    return sizeof(struct xenhvc_watch);
}
