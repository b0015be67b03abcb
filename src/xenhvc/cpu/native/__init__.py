"""xenhvc's native Unicorn hooks (clock.c, hvc.c), reached through ctypes.

Both are installed once, before the guest first runs, with Unicorn's C functions passed in as
pointers:

- ``CodeClock``: a block hook that counts the guest code run, the clock of --deterministic runs.
- ``FastPath``: the interrupt hook; answers a hypercall or SMCCC call the model marked pure from
  a memo of its own earlier answers, and an AArch64 guest's counter reads from the clock, and
  hands everything else to the Python trap entry (cpu/trap.py), through the binding's
  ``uccallback`` (so an exception in the Python side stops the run and is raised by emu_start
  as with any other hook).

- ``InlineExitChecks`` (tbstart.c): an edge-generated hook that rewrites Unicorn's call to its
  exit check at the start of each translated block into QEMU's inline test (cpu/tbstart.py).

And two that are not hooks: ``WallTimer`` (timer.c), the run's time limit, which stops the
emulator as Unicorn's own emu_start timeout does, without its thread that polls the clock every
2 microseconds; and ``match_words`` (scan.c), the loader's scan of a kernel image for the words
it rewrites.

``native_hooks_available()`` is False when the extension was not built or the Unicorn binding
has another layout; the machine then uses Python hooks only."""
from __future__ import annotations

import ctypes
import weakref
from dataclasses import dataclass
from typing import Callable

from unicorn import UC_HOOK_BLOCK, UC_HOOK_EDGE_GENERATED, UC_HOOK_INTR, Uc

from ..binding import uccallback
from ..binding import uclib as _uclib

try:
    from . import _native
except ImportError:  # pragma: no cover - built without a C compiler
    _native = None

IntrCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p)
VmemRead = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)
UC_PROT_EXEC = 4
MEMO_SIZE = 16
SMCCC_MEMO_SIZE, SMCCC_REGS = 4, 4
LOG_SIZE = 1024
_lib: ctypes.CDLL | None | bool = None  # False: looked for, not usable


def native_hooks_available(uc: Uc) -> bool:
    return (_native is not None and _uclib is not None and uccallback is not None
            and getattr(uc, "_uch", None) is not None and _layouts_match())


#: every function of the extension xenhvc calls: a build that lacks one (made before it was
#: added) is not used at all
SYMBOLS = ("xenhvc_clock_size", "xenhvc_fastpath_size", "xenhvc_tbstart_size", "xenhvc_clock_block",
           "xenhvc_hvc_hook", "xenhvc_match_words", "xenhvc_timer_new", "xenhvc_timer_arm", "xenhvc_timer_disarm",
           "xenhvc_timer_free", "xenhvc_tbstart_init", "xenhvc_tbstart_free", "xenhvc_tbstart_edge")


def _library() -> ctypes.CDLL | None:
    """The extension as a library, or None without it (or with a stale build of it)."""
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(_native.__file__) if _native is not None else None
        if lib is None or not all(hasattr(lib, name) for name in SYMBOLS):
            _lib = False
            return None
        for fn in (lib.xenhvc_clock_size, lib.xenhvc_fastpath_size, lib.xenhvc_tbstart_size):
            fn.restype = ctypes.c_size_t
        lib.xenhvc_match_words.restype = ctypes.c_size_t
        lib.xenhvc_match_words.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                                           ctypes.c_void_p, ctypes.c_size_t]
        lib.xenhvc_timer_new.restype = ctypes.c_void_p
        lib.xenhvc_timer_new.argtypes = [ctypes.c_void_p]
        lib.xenhvc_timer_arm.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64]
        lib.xenhvc_timer_disarm.argtypes = [ctypes.c_void_p]
        lib.xenhvc_timer_free.argtypes = [ctypes.c_void_p]
        _lib = lib
    return _lib or None


def match_words(buf, offset: int, count: int, patterns: tuple[tuple[int, int], ...]) -> list[int] | None:
    """Indexes of the ``count`` little-endian words of ``buf`` (bytes, or a writable buffer such as
    guest RAM) from ``offset`` with ``word & mask == bits`` for one of ``patterns`` ((mask, bits)
    pairs); None without the extension."""
    lib = _library()
    if lib is None:
        return None
    assert 0 <= offset and offset + 4 * count <= len(buf)
    if isinstance(buf, bytes):
        base, keep = ctypes.cast(ctypes.c_char_p(buf), ctypes.c_void_p).value, buf
    else:  # read in place, not copied
        keep = (ctypes.c_char * len(buf)).from_buffer(buf)
        base = ctypes.addressof(keep)
    flat = (ctypes.c_uint32 * (2 * len(patterns)))(*(v for pattern in patterns for v in pattern))
    cap = max(1024, count // 256)
    try:
        while True:
            out = (ctypes.c_uint32 * cap)()
            found = lib.xenhvc_match_words(base + offset, count, flat, len(patterns), out, cap)
            if found <= cap:
                return out[:found]
            cap = found
    finally:
        del keep


def _layouts_match() -> bool:
    """The extension is there and its structs have the ctypes mirrors' sizes (a stale build
    would not)."""
    lib = _library()
    return (lib is not None and lib.xenhvc_clock_size() == ctypes.sizeof(_ClockState)
            and lib.xenhvc_fastpath_size() == ctypes.sizeof(_FastPathState)
            and lib.xenhvc_tbstart_size() == ctypes.sizeof(_TbStartState))


def _fn(f) -> int:
    return ctypes.cast(f, ctypes.c_void_p).value


def _hook_add(uc: Uc, kind: int, callback, state: ctypes.Structure) -> int:
    handle = ctypes.c_size_t()
    status = _uclib.uc_hook_add(uc._uch, ctypes.byref(handle), kind, ctypes.cast(callback, ctypes.c_void_p),
                                ctypes.cast(ctypes.pointer(state), ctypes.c_void_p),
                                ctypes.c_uint64(1), ctypes.c_uint64(0))
    if status != 0:
        raise RuntimeError(f"uc_hook_add failed ({status})")
    return handle.value


class _ClockState(ctypes.Structure):
    """struct xenhvc_clock in clock.c."""
    _fields_ = [("executed", ctypes.c_uint64)]


class CodeClock:
    """Counts the guest code run. Install before the guest first runs: a block hook applies only
    to blocks translated after it is added."""

    def __init__(self, uc: Uc):
        self.state = _ClockState(0)
        self.handle = _hook_add(uc, UC_HOOK_BLOCK, _library().xenhvc_clock_block, self.state)

    @property
    def executed(self) -> int:
        """Bytes of guest code run so far (whole blocks, as the emulator ran them)."""
        return self.state.executed


class _TbStartState(ctypes.Structure):
    """struct xenhvc_tbstart in tbstart.c."""
    _fields_ = [("code_gen_buffer", ctypes.c_void_p), ("code_gen_ptr", ctypes.c_void_p), ("lo", ctypes.c_void_p),
                ("hi", ctypes.c_void_p), ("helper", ctypes.c_void_p), ("uc", ctypes.c_uint64),
                ("icount_disp", ctypes.c_int32), ("pad", ctypes.c_int32), ("stub", ctypes.c_void_p),
                ("buffer_seen", ctypes.c_void_p), ("scanned", ctypes.c_void_p), ("rewritten", ctypes.c_uint64)]


@dataclass(frozen=True)
class ExitCheckSite:
    """Where Unicorn's exit check and the fields around it are in this process (cpu/tbstart.py
    finds them): the helper, the vCPU's icount_decr word as a displacement from TCG's env
    register, TCG's code_gen_buffer and code_gen_ptr fields, and the code buffer's mapping."""
    helper: int
    icount_disp: int
    code_gen_buffer_field: int
    code_gen_ptr_field: int
    lo: int
    hi: int


class InlineExitChecks:
    """Rewrites the exit-check call at the start of each block Unicorn translates, from the
    next block translated on (tbstart.c). Construct it only through cpu/tbstart.py."""

    def __init__(self, uc: Uc, site: ExitCheckSite):
        lib = _library()
        self.state = _TbStartState(site.code_gen_buffer_field, site.code_gen_ptr_field, site.lo, site.hi,
                                   site.helper, uc._uch.value, site.icount_disp)
        if lib.xenhvc_tbstart_init(ctypes.byref(self.state)) != 0:
            raise RuntimeError("no page for the exit-check stub near the code buffer")
        # the stub's page goes with the engine: once the Uc object is gone no block runs
        weakref.finalize(uc, lib.xenhvc_tbstart_free, ctypes.byref(self.state))
        self.handle = _hook_add(uc, UC_HOOK_EDGE_GENERATED, lib.xenhvc_tbstart_edge, self.state)

    @property
    def rewritten(self) -> int:
        """Calls rewritten so far."""
        return self.state.rewritten


class _Memo(ctypes.Structure):
    _fields_ = [("used", ctypes.c_uint64), ("nr", ctypes.c_uint64), ("a0", ctypes.c_uint64),
                ("a1", ctypes.c_uint64), ("pc", ctypes.c_uint64), ("result", ctypes.c_int64)]


class _SmcccMemo(ctypes.Structure):
    _fields_ = [("used", ctypes.c_uint32), ("fid", ctypes.c_uint32), ("nwrite", ctypes.c_uint32),
                ("pad", ctypes.c_uint32), ("reg", ctypes.c_int32 * SMCCC_REGS), ("value", ctypes.c_uint64 * SMCCC_REGS)]


class _Repeat(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_uint32), ("count", ctypes.c_uint32)]


class _FastPathState(ctypes.Structure):
    """struct xenhvc_fastpath in hvc.c."""
    _fields_ = [("reg_read", ctypes.c_void_p), ("reg_write", ctypes.c_void_p), ("mem_read", ctypes.c_void_p),
                ("slow", ctypes.c_void_p), ("excp_hvc", ctypes.c_int32), ("enabled", ctypes.c_int32),
                ("pc_reg", ctypes.c_int32), ("nr_reg", ctypes.c_int32), ("a0_reg", ctypes.c_int32),
                ("a1_reg", ctypes.c_int32), ("result_reg", ctypes.c_int32), ("syndrome_reg", ctypes.c_int32),
                ("sctlr_reg", ctypes.c_int32), ("tracing", ctypes.c_int32), ("word_mask", ctypes.c_uint64),
                ("hits", ctypes.c_uint64), ("memo", _Memo * MEMO_SIZE), ("log_len", ctypes.c_uint32),
                ("pad", ctypes.c_uint32), ("log", _Repeat * LOG_SIZE),
                ("vmem_read", ctypes.c_void_p), ("excp_udef", ctypes.c_int32), ("until_deadline", ctypes.c_int32),
                ("base_ns", ctypes.c_int64), ("deadline_ns", ctypes.c_int64), ("udf_bits", ctypes.c_uint32),
                ("udf_mask", ctypes.c_uint32), ("ns_per_tick", ctypes.c_uint32), ("pad2", ctypes.c_uint32),
                ("xreg", ctypes.c_int32 * 31), ("pad3", ctypes.c_int32), ("counter_reads", ctypes.c_uint64),
                ("smccc", _SmcccMemo * SMCCC_MEMO_SIZE), ("fid_reg", ctypes.c_int32), ("pad4", ctypes.c_int32),
                ("smccc_hits", ctypes.c_uint64)]


@dataclass(frozen=True)
class CounterReads:
    """What the interrupt hook needs to answer an AArch64 guest's counter reads: the UDFs that
    stand for them (``insn & udf_mask == udf_bits``, Rt in bits 4:0), the counter's tick, and
    the registers x0..x30 (the PC is the hook's own)."""
    excp_udef: int
    udf_bits: int
    udf_mask: int
    ns_per_tick: int
    xregs: tuple[int, ...]  # x0..x30


class FastPath:
    """The interrupt hook with the pure-hypercall memo in front of ``slow`` (the Python trap
    entry, called as slow(intno)).

    With ``on_repeat`` (a traced run), each memo entry carries the trace record of its call and
    the hook logs its answers; ``drain`` hands them to on_repeat(record, count), in order, and
    must be called before the Python side records anything itself."""

    def __init__(self, uc: Uc, slow: Callable[[int], None], *, excp_hvc: int, pc: int, nr: int, args: tuple[int, int],
                 result: int, syndrome: int | None, sctlr_cp: int, word_mask: int, fid: int,
                 on_repeat: Callable[[object, int], None] | None = None, counter: CounterReads | None = None):
        self._callback = uccallback(uc, IntrCallback)(lambda _uc, intno, _ud: slow(intno))
        self.state = _FastPathState(_fn(_uclib.uc_reg_read), _fn(_uclib.uc_reg_write), _fn(_uclib.uc_mem_read),
                                    _fn(self._callback), excp_hvc, 0, pc, nr, args[0], args[1], result,
                                    -1 if syndrome is None else syndrome, sctlr_cp, int(on_repeat is not None),
                                    word_mask, 0)
        state = self.state
        state.excp_udef = -1
        state.vmem_read = _fn(_uclib.uc_vmem_read)
        state.fid_reg = fid
        if counter is not None:
            state.excp_udef, state.udf_bits, state.udf_mask = counter.excp_udef, counter.udf_bits, counter.udf_mask
            state.ns_per_tick = counter.ns_per_tick
            state.xreg[:] = counter.xregs
        self.handle = _hook_add(uc, UC_HOOK_INTR, _library().xenhvc_hvc_hook, self.state)
        self._next = self._next_smccc = 0
        self._allowed: tuple = (False, None)
        self.on_repeat = on_repeat
        #: the trace record each memo entry stands for (traced runs)
        self.records: list[object] = [None] * MEMO_SIZE

    @property
    def tracing(self) -> bool:
        return self.on_repeat is not None

    def drain(self) -> None:
        """Hand the logged answers to on_repeat, oldest first, and empty the log."""
        state = self.state
        n = state.log_len
        if not n:
            return
        state.log_len = 0
        records = self.records
        for run in state.log[:n]:
            self.on_repeat(records[run.slot], run.count)

    @property
    def hits(self) -> int:
        return self.state.hits

    @property
    def counter_reads(self) -> int:
        return self.state.counter_reads

    @property
    def smccc_hits(self) -> int:
        return self.state.smccc_hits

    def allow(self, memo: bool, until: tuple[int, int | None] | None = None) -> None:
        """What the hook may answer until told otherwise: pure hypercalls from the memo; and,
        with ``until`` = (base_ns, deadline_ns), counter reads and pure SMCCC calls, while Xen
        system time (CLOCK_MONOTONIC + base_ns) is before the next Xen timer at deadline_ns
        (None: no timer). The C side's fields are written only when this changes."""
        if (memo, until) == self._allowed:
            return
        self._allowed = (memo, until)
        state = self.state
        state.enabled = int(memo)
        if until is None:
            state.until_deadline = 0
        else:
            base_ns, deadline_ns = until
            state.base_ns = base_ns
            state.deadline_ns = (1 << 63) - 1 if deadline_ns is None else deadline_ns
            state.until_deadline = 1

    def remember_smccc(self, fid: int, writes: dict[int, int]) -> None:
        """The model's answer to SMCCC function ``fid``, which depends on nothing else and changed
        nothing but ``writes`` (Unicorn register id -> value)."""
        assert len(writes) <= SMCCC_REGS
        smccc = self.state.smccc
        if any(m.used and m.fid == fid for m in smccc):
            return
        m = smccc[self._next_smccc]
        self._next_smccc = (self._next_smccc + 1) % SMCCC_MEMO_SIZE
        m.used, m.fid, m.nwrite = 1, fid, len(writes)
        for i, (reg, value) in enumerate(writes.items()):
            m.reg[i], m.value[i] = reg, value

    def remember(self, nr: int, a0: int, a1: int, result: int, pc: int = 0, record: object = None) -> None:
        """The model's answer for (nr, a0, a1), which depends on nothing else and changed nothing;
        traced, also the PC of the trap (the address after the HVC) and the call's record."""
        memo = self.state.memo
        for m in memo:
            if m.used and (m.nr, m.a0, m.a1) == (nr, a0, a1) and (not self.tracing or m.pc == pc):
                return
        self.drain()  # the log may name the entry replaced
        slot = self._next
        self._next = (slot + 1) % MEMO_SIZE
        m = memo[slot]
        m.used, m.nr, m.a0, m.a1, m.pc, m.result = 1, nr, a0, a1, pc, result
        self.records[slot] = record


class CodeFetch:
    """The instruction word at a guest virtual address as the vCPU fetches it: one call to
    Unicorn's uc_vmem_read (UC_PROT_EXEC, through the vCPU's current translation), where a walk
    in Python reads the translation registers and the tables. Calling it gives the word, or None
    where the address does not translate."""

    def __init__(self, uc: Uc):
        self._uch = uc._uch
        self._read = VmemRead(_fn(_uclib.uc_vmem_read))
        self._word = ctypes.c_uint32()
        self._at = ctypes.addressof(self._word)

    @staticmethod
    def available(uc: Uc) -> bool:
        return _uclib is not None and getattr(uc, "_uch", None) is not None and hasattr(_uclib, "uc_vmem_read")

    def __call__(self, va: int) -> int | None:
        if self._read(self._uch, va, UC_PROT_EXEC, self._at, 4):
            return None
        return self._word.value


class WallTimer:
    """Stops ``uc``'s emulation after a number of microseconds unless disarmed first: around
    each emu_start, ``arm(us)`` before and ``disarm()`` after (True if it fired). One sleeping
    thread per timer, ended when the timer is collected."""

    def __init__(self, uc: Uc):
        lib = _library()
        self.uc = uc
        self._timer = lib.xenhvc_timer_new(_fn(_uclib.uc_emu_stop))
        if not self._timer:
            raise RuntimeError("cannot start the timer thread")
        self._finalizer = weakref.finalize(self, lib.xenhvc_timer_free, self._timer)

    def arm(self, us: int) -> None:
        _lib.xenhvc_timer_arm(self._timer, self.uc._uch, us)

    def disarm(self) -> bool:
        return bool(_lib.xenhvc_timer_disarm(self._timer))
