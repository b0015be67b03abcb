"""Event-channel state of a domain and the port operations (xen/common/event_channel.c,
event_2l.c, event_fifo.c, xen/include/xen/event.h), for one domain with one vCPU.

Ports live in buckets of 64 (EVTCHNS_PER_BUCKET): ``valid_evtchns`` grows a bucket at a time as
evtchn_allocate_port does, and a port is valid (port_is_valid) below it. Port 0 is ECS_RESERVED.
Pending/mask bits live in the guest-visible shared_info (2-level ABI) or, once the guest called
EVTCHNOP_init_control, in the guest's FIFO event array and control block.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

from .shared_info import (BITS_PER_EVTCHN_WORD, EVTCHN_MASK, EVTCHN_PENDING, PENDING_SEL, UPCALL_PENDING,
                          shared_bits, vcpu_info_bits)

if TYPE_CHECKING:
    from .context import GuestMemory
    from .domain import Domain

EVTCHNS_PER_BUCKET = 64
#: 2-level ABI: BITS_PER_EVTCHN_WORD squared (xen_ulong_t is 64-bit on Arm)
EVTCHN_2L_NR_CHANNELS = BITS_PER_EVTCHN_WORD * BITS_PER_EVTCHN_WORD
EVTCHN_FIFO_LINK_BITS = 17
EVTCHN_FIFO_NR_CHANNELS = 1 << EVTCHN_FIFO_LINK_BITS
EVTCHN_FIFO_LINK_MASK = EVTCHN_FIFO_NR_CHANNELS - 1
EVTCHN_FIFO_PENDING, EVTCHN_FIFO_MASKED, EVTCHN_FIFO_LINKED, EVTCHN_FIFO_BUSY = 31, 30, 29, 28
EVTCHN_FIFO_PRIORITY_DEFAULT = 7
EVTCHN_FIFO_PRIORITY_MIN = 15
EVTCHN_FIFO_CONTROL_BLOCK_SIZE = 72  # uint32 ready, _rsvd, head[16]
EVTCHN_FIFO_WORDS_PER_PAGE = 1024
EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES = EVTCHN_FIFO_NR_CHANNELS // EVTCHN_FIFO_WORDS_PER_PAGE
#: max_evtchn_port at domain creation: dom0 -1 (clamped to INT_MAX), dom0less domUs 1023
#: (xen/arch/arm/domain_build.c)
DOM0_MAX_EVTCHN_PORT = 0x7FFFFFFF
DOMU_MAX_EVTCHN_PORT = 1023
#: d->nr_pirqs on Arm: min(NR_IRQS + extra, nr_irqs) = NR_IRQS = 1024 for every domain
NR_PIRQS = 1024


class Virq(IntEnum):
    """xen/include/public/xen.h VIRQ_*; NR_VIRQS = 24."""

    VIRQ_TIMER = 0
    VIRQ_DEBUG = 1
    VIRQ_CONSOLE = 2
    VIRQ_DOM_EXC = 3
    VIRQ_TBUF = 4
    VIRQ_DEBUGGER = 6
    VIRQ_XENOPROF = 7
    VIRQ_CON_RING = 8
    VIRQ_PCPU_STATE = 9
    VIRQ_MEM_EVENT = 10
    VIRQ_ARGO = 11
    VIRQ_ENOMEM = 12
    VIRQ_XENPMU = 13
    VIRQ_ARCH_0 = 16
    VIRQ_ARCH_7 = 23


NR_VIRQS = 24
#: virq_is_global answers false only for these; VIRQ_ARCH_* are global on Arm (arch_virq_is_global)
PER_VCPU_VIRQS = frozenset({Virq.VIRQ_TIMER, Virq.VIRQ_DEBUG, Virq.VIRQ_XENOPROF, Virq.VIRQ_XENPMU})


def virq_is_global(virq: int) -> bool:
    return virq not in PER_VCPU_VIRQS


class ECS(IntEnum):
    FREE = 0
    RESERVED = 1
    UNBOUND = 2
    INTERDOMAIN = 3
    PIRQ = 4
    VIRQ = 5
    IPI = 6


@dataclass
class Channel:
    port: int
    state: ECS = ECS.FREE
    notify_vcpu_id: int = 0
    #: ECS_UNBOUND: remote_domid; ECS_INTERDOMAIN: remote domain id and port
    remote_dom: int = 0
    remote_port: int = 0
    virq: int = 0
    pirq: int = 0
    #: FIFO: priority, and "pending while its event word was missing"
    priority: int = EVTCHN_FIFO_PRIORITY_DEFAULT
    last_priority: int = 0
    pending: bool = False

    @property
    def usable(self) -> bool:
        """evtchn_usable: no Xen consumers exist in the model, so state > ECS_RESERVED."""
        return self.state > ECS.RESERVED


@dataclass
class Fifo:
    """d->evtchn_fifo plus vCPU0's control block (single vCPU)."""

    control_gpa: int | None = None
    event_array: list[int] = field(default_factory=list)  # GFNs of the event-array pages
    tails: list[int] = field(default_factory=lambda: [0] * (EVTCHN_FIFO_PRIORITY_MIN + 1))

    @property
    def num_evtchns(self) -> int:
        return len(self.event_array) * EVTCHN_FIFO_WORDS_PER_PAGE


@dataclass
class EvtchnState:
    max_evtchn_port: int
    valid_evtchns: int = EVTCHNS_PER_BUCKET
    channels: list[Channel] = field(default_factory=list)
    active_evtchns: int = 0
    virq_to_evtchn: list[int] = field(default_factory=lambda: [0] * NR_VIRQS)
    pirq_to_evtchn: dict[int, int] = field(default_factory=dict)
    next_evtchn: int = 0
    fifo: Fifo | None = None

    def __post_init__(self) -> None:
        if not self.channels:  # evtchn_init: bucket 0, port 0 reserved
            self.channels = [Channel(p) for p in range(EVTCHNS_PER_BUCKET)]
            self.channels[0].state = ECS.RESERVED

    # -- ports -------------------------------------------------------------------------------------
    def max_evtchns(self) -> int:
        return EVTCHN_FIFO_NR_CHANNELS if self.fifo is not None else EVTCHN_2L_NR_CHANNELS

    def port_is_valid(self, port: int) -> bool:
        return 0 <= port < self.valid_evtchns

    def get(self, port: int) -> Channel | None:
        """_evtchn_from_port."""
        return self.channels[port] if self.port_is_valid(port) else None

    def allocate_port(self, port: int, is_busy=lambda port: False) -> int:
        """evtchn_allocate_port: 0, -ENOSPC or -EBUSY."""
        if port > self.max_evtchn_port or port >= self.max_evtchns():
            return -28  # ENOSPC
        if self.port_is_valid(port):
            if self.channels[port].state != ECS.FREE or is_busy(port):
                return -16  # EBUSY
        else:
            while port >= self.valid_evtchns:
                base = self.valid_evtchns
                self.channels.extend(Channel(base + i) for i in range(EVTCHNS_PER_BUCKET))
                self.valid_evtchns += EVTCHNS_PER_BUCKET
        self.active_evtchns += 1
        return 0

    def get_free_port(self, is_busy=lambda port: False) -> int:
        port = 0
        while port <= self.max_evtchn_port:
            rc = self.allocate_port(port, is_busy)
            if rc == 0:
                return port
            if rc != -16:
                return rc
            port += 1
        return -28

    def check_free_port(self, port: int) -> None:
        if self.port_is_valid(port) and self.channels[port].state == ECS.FREE:
            self.active_evtchns -= 1

    def has_active(self) -> bool:
        return self.active_evtchns > 0


def evtchn_state(d: Domain) -> EvtchnState:
    """The domain's event channels, created as evtchn_init does on first use."""
    if d.evtchn is None:
        d.evtchn = EvtchnState(DOM0_MAX_EVTCHN_PORT if d.privileged else DOMU_MAX_EVTCHN_PORT)
    return d.evtchn


class Events:
    """The port operations of one domain over its guest memory (d->evtchn_port_ops)."""

    def __init__(self, d: Domain, mem: GuestMemory):
        self.d, self.mem, self.st = d, mem, evtchn_state(d)

    # -- 2-level ---------------------------------------------------------------------------------
    def _pending(self):
        return shared_bits(self.d, self.mem, EVTCHN_PENDING)

    def _mask(self):
        return shared_bits(self.d, self.mem, EVTCHN_MASK)

    def mark_events_pending(self) -> None:
        """vcpu_mark_events_pending: set evtchn_upcall_pending; the 0->1 edge injects the PPI."""
        if not vcpu_info_bits(self.d, self.mem, UPCALL_PENDING).set(0):
            self.d.evtchn_irq_raised += 1  # vgic_inject_irq(evtchn_irq), which also wakes the vCPU
            self.d.blocked = False

    def set_pending(self, chn: Channel) -> None:
        """evtchn_port_set_pending (for vCPU0, the only vCPU)."""
        if not chn.usable:
            return
        if self.st.fifo is not None:
            self._fifo_set_pending(chn)
            return
        port = chn.port
        if self._pending().set(port):
            return
        if not self._mask().test(port) and \
                not vcpu_info_bits(self.d, self.mem, PENDING_SEL).set(port // BITS_PER_EVTCHN_WORD):
            self.mark_events_pending()

    def clear_pending(self, chn: Channel) -> None:
        if not chn.usable:
            return
        if self.st.fifo is not None:
            word = self._word(chn.port)
            if word is not None:
                self._word_set(word, EVTCHN_FIFO_PENDING, False)
            return
        self._pending().set(chn.port, False)

    def unmask(self, chn: Channel) -> None:
        if not chn.usable:
            return
        if self.st.fifo is not None:
            word = self._word(chn.port)
            if word is None:
                return
            self._word_set(word, EVTCHN_FIFO_MASKED, False)
            if self._word_test(word, EVTCHN_FIFO_PENDING):
                self._fifo_set_pending(chn)
            return
        port = chn.port
        if self._mask().set(port, False) and self._pending().test(port) and \
                not vcpu_info_bits(self.d, self.mem, PENDING_SEL).set(port // BITS_PER_EVTCHN_WORD):
            self.mark_events_pending()

    def is_pending(self, chn: Channel) -> bool:
        if not chn.usable:
            return False
        if self.st.fifo is not None:
            word = self._word(chn.port)
            return word is not None and self._word_test(word, EVTCHN_FIFO_PENDING)
        return chn.port < EVTCHN_2L_NR_CHANNELS and self._pending().test(chn.port)

    def is_masked(self, chn: Channel) -> bool:
        if not chn.usable:
            return True
        if self.st.fifo is not None:
            word = self._word(chn.port)
            return word is None or self._word_test(word, EVTCHN_FIFO_MASKED)
        return chn.port >= EVTCHN_2L_NR_CHANNELS or self._mask().test(chn.port)

    def poll(self, port: int) -> int:
        """evtchn_port_poll: -EINVAL for an invalid port, else 1 if pending, 0 if not."""
        chn = self.st.get(port)
        if chn is None:
            return -22
        return int(chn.usable and self.is_pending(chn))

    # -- FIFO --------------------------------------------------------------------------------------
    def _word(self, port: int) -> int | None:
        fifo = self.st.fifo
        if fifo is None or port >= fifo.num_evtchns:
            return None
        return (fifo.event_array[port // EVTCHN_FIFO_WORDS_PER_PAGE] << 12) + 4 * (port % EVTCHN_FIFO_WORDS_PER_PAGE)

    def _word_test(self, gpa: int, bit: int) -> bool:
        return bool(struct.unpack("<I", self.mem.read_phys(gpa, 4))[0] >> bit & 1)

    def _word_set(self, gpa: int, bit: int, value: bool = True) -> bool:
        (w,) = struct.unpack("<I", self.mem.read_phys(gpa, 4))
        old = bool(w >> bit & 1)
        self.mem.write_phys(gpa, struct.pack("<I", w | 1 << bit if value else w & ~(1 << bit)))
        return old

    def is_busy(self, port: int) -> bool:
        word = self._word(port)
        return word is not None and self._word_test(word, EVTCHN_FIFO_LINKED)

    def _fifo_set_pending(self, chn: Channel) -> None:
        """evtchn_fifo_set_pending for the one vCPU (no lock retries are possible)."""
        fifo = self.st.fifo
        assert fifo is not None
        word = self._word(chn.port)
        if word is None:
            chn.pending = True
            return
        if fifo.control_gpa is None:
            return
        linked = True
        q, old_q = chn.priority, chn.last_priority
        check_pollers = not self._word_set(word, EVTCHN_FIFO_PENDING)
        if not self._word_test(word, EVTCHN_FIFO_MASKED) and not self._word_set(word, EVTCHN_FIFO_LINKED):
            if fifo.tails[old_q] == chn.port:
                fifo.tails[old_q] = 0
            chn.last_priority = q
            linked = False
            tail = fifo.tails[q]
            if tail:
                tail_word = self._word(tail)
                if tail_word is not None and self._word_test(tail_word, EVTCHN_FIFO_LINKED):
                    (w,) = struct.unpack("<I", self.mem.read_phys(tail_word, 4))
                    self.mem.write_phys(tail_word, struct.pack("<I", (w & ~EVTCHN_FIFO_LINK_MASK) | chn.port))
                    linked = True
            if not linked:
                self.mem.write_phys(fifo.control_gpa + 8 + 4 * q, struct.pack("<I", chn.port))
            fifo.tails[q] = chn.port
        if not linked:
            (ready,) = struct.unpack("<I", self.mem.read_phys(fifo.control_gpa, 4))
            if not ready >> q & 1:
                self.mem.write_phys(fifo.control_gpa, struct.pack("<I", ready | 1 << q))
                self.mark_events_pending()
        del check_pollers  # pollers are woken through mark_events_pending in the model

    # -- closing ----------------------------------------------------------------------------------
    def free(self, chn: Channel) -> None:
        """evtchn_free."""
        self.clear_pending(chn)
        self.st.active_evtchns -= 1
        chn.state = ECS.FREE
        chn.notify_vcpu_id = 0
