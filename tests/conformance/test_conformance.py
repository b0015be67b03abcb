"""The conformance suite in CI: every test of guests/conformance, on A64, A32 and T32, as dom0 and
as a dom0less domU, under xenhvc and under real Xen 4.17 in QEMU; any difference fails.
Deliberate differences would be listed in tests/oracle-deviations.toml (with a reason)."""
import difflib
import shutil

import pytest

from xenhvc.conformance import run_matrix

pytestmark = pytest.mark.skipif(shutil.which("qemu-system-aarch64") is None,
                                reason="qemu-system-aarch64 is not installed (run scripts/setup.sh)")


@pytest.fixture(scope="module")
def rows():
    return run_matrix(("a64", "a32", "t32"), (0, 1), jobs=2)


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
@pytest.mark.parametrize("domid", [0, 1])
def test_model_matches_real_xen(rows, isa, domid):
    mine = [r for r in rows if r.isa == isa and r.domid == domid]
    assert len(mine) > 60  # the suite really ran (list_tests found the guest's tests)
    differ = [r for r in mine if not r.identical]
    report = "\n".join(
        f"--- {r.test}\n" + "\n".join(difflib.unified_diff(r.xen.splitlines(), r.model.splitlines(), "xen", "xenhvc",
                                                          lineterm=""))
        for r in differ)
    assert not differ, f"{len(differ)} of {len(mine)} tests differ from real Xen:\n{report}"


def test_every_test_reports_success_under_real_xen(rows):
    """The guests check Xen's documented answers themselves; real Xen must pass them all."""
    failures = [(r.isa, r.domid, r.test) for r in rows
                if r.test != "(summary)" and "Test result: FAILURE" in r.xen and r.domid == 0]
    assert not failures
