"""The observer dom0's stored bytes are its source, assembled."""
from xenhvc.oracle.observer import OBSERVER_IMAGE, SOURCE
from xenhvc.testing import assemble_guest

from tests.oracle.conftest import needs_binutils


@needs_binutils
def test_observer_bytes_match_source():
    assert assemble_guest("a64", SOURCE) == OBSERVER_IMAGE
