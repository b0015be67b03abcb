"""Generate a C header of inline hypercall wrappers for freestanding guests (A64, A32, T32).

``python -m xenhvc.guestgen --isa a64|a32|t32 -o FILE`` writes one ``static inline long
HYPERVISOR_<name>(...)`` per row of the 4.17 Arm table (:data:`xenhvc.abi.hypercalls.ARM_TABLE`),
a generic ``xen_hypercall5``, ``__HYPERVISOR_*`` numbers and an ``smccc()`` for ``hvc #0``.
"""
from __future__ import annotations

from .header import ISAS, generate_header

__all__ = ["ISAS", "generate_header"]
