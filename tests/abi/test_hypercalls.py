"""The Arm table as data, and the table and the handlers agreeing (design principle 1)."""
import pytest

from xenhvc.abi import structs
from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import ARM_TABLE, NR_HYPERCALLS, ArmHandler, Hypercall, coerce_arg
from xenhvc.hypervisor.handlers import HANDLERS

# The 4.17 Arm table (hypercall-defs.c, column "arm"), with hypercall_args_arm arities.
EXPECTED = {6: ("dep", 2), 7: ("do", 1), 12: ("do", 2), 13: ("do", 2), 16: ("dep", 1), 17: ("do", 2),
            18: ("do", 3), 19: ("dep", 1), 20: ("do", 3), 21: ("do", 2), 24: ("do", 3), 27: ("do", 1),
            29: ("do", 2), 32: ("do", 2), 33: ("do", 2), 34: ("do", 2), 35: ("do", 1), 36: ("do", 1),
            42: ("do", 5)}
# Rows of the Arm table whose handlers come with later work (issue 4). They answer -ENOSYS and
# say so on Xen's log; this list must shrink, never grow.
NOT_MODELLED_YET: set[int] = set()


def test_arm_table_matches_xen_4_17():
    assert {nr: (s.handler.value, s.arity) for nr, s in ARM_TABLE.items()} == EXPECTED


def test_every_row_has_a_handler_or_is_listed_as_not_modelled():
    for nr, spec in ARM_TABLE.items():
        if nr in NOT_MODELLED_YET:
            assert nr not in HANDLERS, f"{spec.name} is modelled now: take it off NOT_MODELLED_YET"
        else:
            assert nr in HANDLERS, f"{spec.name} has no handler"
            assert HANDLERS[nr].hypercall == nr


def test_handlers_only_for_table_rows():
    assert set(HANDLERS) <= set(ARM_TABLE)


def test_numbers_are_xen_h():
    assert Hypercall.xen_version == 17 and Hypercall.hypfs_op == 42 and Hypercall.arch_7 == 55
    assert NR_HYPERCALLS == 43


@pytest.mark.parametrize("nr", sorted(set(range(0, 64)) - set(EXPECTED)) + [0x10000, 2**32 + 17, 2**64 - 1])
def test_numbers_outside_the_arm_table_are_enosys(dom0, nr):
    assert dom0.call(nr, 1, 2, 3, 4, 5) == -Errno.ENOSYS


@pytest.mark.parametrize("nr", [6, 16, 19])
def test_deprecated_rows_are_enosys(dom0, nr):
    assert dom0.call(nr, 0, 0) == -Errno.ENOSYS


def test_not_modelled_rows_answer_enosys_and_say_so(dom0, monkeypatch):
    from xenhvc.hypervisor import xen

    monkeypatch.delitem(xen._ENTRIES, Hypercall.grant_table_op)  # every row is modelled now: pretend one is not
    assert dom0.call(Hypercall.grant_table_op, 0, 0, 0) == -Errno.ENOSYS
    assert any("grant_table_op is not modelled yet" in line for line in dom0.log)  # warn defaults to log


def test_parameter_casts():
    assert coerce_arg("int", 0xFFFFFFFF_FFFFFFFF) == -1
    assert coerce_arg("int", 0x1_00000005) == 5
    assert coerce_arg("uint", 0xFFFFFFFF_00000007) == 7
    assert coerce_arg("ulong", 0xFFFFFFFF_00000007) == 0xFFFFFFFF_00000007


def test_struct_sizes_match_the_public_headers():
    # sizes from xen-arm-abi.md section 5.2 (compiled from the 4.17 headers)
    assert structs.sched_poll.size == 24
    assert structs.sched_shutdown.size == 4
    assert structs.sched_remote_shutdown.size == 8
    assert structs.xen_feature_info.size == 8
    assert structs.xen_platform_parameters.size == 8


def test_errno_values():
    assert (Errno.EPERM, Errno.EFAULT, Errno.EINVAL, Errno.ENOSYS, Errno.ENOBUFS) == (1, 14, 22, 38, 105)


def test_arm_handler_kinds():
    assert {s.handler for s in ARM_TABLE.values()} == {ArmHandler.DO, ArmHandler.DEP}
