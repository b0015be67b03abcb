"""do_deprecated_hypercall (xen/arch/arm/traps.c): the ``dep`` rows of the Arm table log and
answer -ENOSYS."""
from ...abi.errno import Errno
from ...abi.hypercalls import ARM_TABLE, ArmHandler, hypercall_name
from ..context import HypercallContext
from . import Handler


def _deprecated(nr: int):
    def do_deprecated_hypercall(ctx: HypercallContext, *args: int) -> int:
        return -Errno.ENOSYS

    return do_deprecated_hypercall


HANDLERS = [Handler(spec.number, _deprecated(spec.number)) for spec in ARM_TABLE.values()
            if spec.handler is ArmHandler.DEP]
