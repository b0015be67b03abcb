"""do_multicall (xen/common/multicall.c) with Arm's arch_do_multicall_call and
check_multicall_32bit_clean (xen/arch/arm/traps.c)."""
from __future__ import annotations

import struct

from ...abi.errno import Errno
from ...abi.hypercalls import NR_HYPERCALLS, Hypercall, spec_for
from ...abi.sched import Shutdown
from ..context import HypercallContext
from . import Handler

multicall_entry = struct.Struct("<QQ6Q")  # xen_ulong_t op, result, args[6]: 64 bytes on arm32 and arm64
RESULT_OFFSET = 8


def do_multicall(ctx: HypercallContext, call_list: int, nr_calls: int) -> int:
    d = ctx.domain
    if d.in_multicall:
        return -Errno.EINVAL  # "Multicall reentry is disallowed"
    d.in_multicall = True
    preempted_at = None
    try:
        for i in range(nr_calls):
            entry = call_list + i * multicall_entry.size
            if i and ctx.preempt_check():
                preempted_at = entry
                break
            op, result, *args = ctx.read_struct(entry, multicall_entry)
            if op >= NR_HYPERCALLS:
                result = -Errno.ENOSYS
            elif ctx.arch.word_bits == 32 and _dirty(ctx, op, args):
                pass  # the domain is crashing; result is left as the guest wrote it
            else:
                ctx.clear_mc_continuation()
                result = ctx.call(op, tuple(args[:5]))
            if ctx.build.debug:  # the caller may depend only on 'result'
                ctx.mem.copy_to_guest(entry, b"\xaa" * multicall_entry.size)
            sub = ctx.take_mc_continuation()
            if sub is not None:  # the sub-call was preempted: its entry carries the continuation
                new_args = list(sub) + args[len(sub):]
                ctx.mem.copy_to_guest(entry, multicall_entry.pack(op, result & (2**64 - 1), *new_args))
                preempted_at = entry
                break
            ctx.mem.copy_to_guest(entry + RESULT_OFFSET, struct.pack("<q", result))
            ctx.notes.append(f"[{i}] {result}")
    finally:
        d.in_multicall = False
    if preempted_at is not None:
        done = (preempted_at - call_list) // multicall_entry.size
        return ctx.create_continuation(Hypercall.multicall, preempted_at, nr_calls - done)
    return 0


def _dirty(ctx: HypercallContext, op: int, args: list[int]) -> bool:
    spec = spec_for(op)
    arity = spec.arity if spec is not None else 0
    for i in range(arity):
        if args[i] >> 32:
            ctx.log(f"d{ctx.domain.domid}v0: multicall argument {i} is not 32-bit clean {args[i]:x}")
            ctx.domain.shutdown(Shutdown.SHUTDOWN_crash)
            return True
    return False


HANDLER = Handler(Hypercall.multicall, do_multicall)
