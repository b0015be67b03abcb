/* The guest clock of --deterministic runs: a block hook that counts the bytes of guest code run,
   block by block, as the emulator runs them. A Python block hook would cost about a microsecond
   per block; this costs a call. It is installed only in --deterministic runs, before anything is
   translated (a block hook applies to blocks translated after it). */
#include <stddef.h>
#include <stdint.h>

struct xenhvc_clock {
    uint64_t executed;        /* bytes of guest code run */
};

void xenhvc_clock_block(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    struct xenhvc_clock *clock = user_data;

    (void)uc;
    (void)address;
    clock->executed += size;
}

/* For the Python side to check its ctypes mirror of the struct. */
size_t xenhvc_clock_size(void)
{
    return sizeof(struct xenhvc_clock);
}
