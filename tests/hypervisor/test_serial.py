"""Xen's serial console input (hypervisor/serial.py): stdin feeds serial_rx_ring, each arrival
raises dom0's VIRQ_CONSOLE (if bound), CONSOLEIO_read takes from the ring."""
import io

from xenhvc.abi.console import ConsoleIO
from xenhvc.abi.hypercalls import Hypercall
from xenhvc.hypervisor.evtchn import Virq, evtchn_state
from xenhvc.hypervisor.serial import SERIAL_RX_SIZE, SerialRx

from tests.conftest import Model


class Typed:
    """A console source: bytes arriving in pieces, then end of file."""

    def __init__(self, *pieces: bytes):
        self.pieces = list(pieces)
        self.eof = False

    def read(self, limit: int) -> bytes:
        if not self.pieces:
            self.eof = True
            return b""
        data, rest = self.pieces[0][:limit], self.pieces[0][limit:]
        if rest:
            self.pieces[0] = rest
        else:
            self.pieces.pop(0)
        return data


def test_the_ring_takes_only_what_fits_so_nothing_is_lost():
    rx = SerialRx(Typed(b"x" * 300))
    assert rx.poll() and len(rx.ring) == SERIAL_RX_SIZE
    # CONSOLEIO_read gives what the ring holds; each read refills it from the console
    assert [len(rx.read(1000)) for _ in range(3)] == [128, 128, 44]
    assert rx.read(10) == b"" and not rx.open


def test_input_raises_virq_console_once_bound():
    m = Model(0, console_in=Typed(b"ls\n", b"pwd\n"))
    m.xen.poll_console()  # nothing bound yet: the bytes wait in the ring
    st = evtchn_state(m.xen.domain)
    port = m.put(m.buf, (2).to_bytes(4, "little") + (0).to_bytes(4, "little"))  # bind_virq {virq=2, vcpu=0}
    assert m.call(Hypercall.event_channel_op, 1, port) == 0  # EVTCHNOP_bind_virq
    bound = st.virq_to_evtchn[Virq.VIRQ_CONSOLE]
    assert bound
    raised = m.xen.domain.evtchn_irq_raised
    m.xen.poll_console()
    assert m.xen.domain.evtchn_irq_raised == raised + 1  # the upcall edge: the port is pending
    assert m.call(Hypercall.console_io, ConsoleIO.CONSOLEIO_read, 16, m.buf) == 7
    assert m.get(m.buf, 7) == b"ls\npwd\n"


def test_a_domu_never_gets_the_console():
    m = Model(1, console_in=Typed(b"x"))
    m.xen.poll_console()
    assert m.xen.domain.evtchn_irq_raised == 0
