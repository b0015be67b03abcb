"""Guest-side hypercall stubs generated from the ABI table: ``xenhvc stubs``.

    from xenhvc.stubs import generate
    text = generate("a32", "outline", "asm")   # HYPERVISOR_<name>, xen_hypercall5, privcmd_call
"""
from .generate import FORMS, ISAS, LANGS, generate

__all__ = ["generate", "ISAS", "FORMS", "LANGS"]
