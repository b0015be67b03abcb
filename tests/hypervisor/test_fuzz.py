"""Random hypercalls never raise in the host and always answer what Xen could answer."""
from hypothesis import given, settings
from hypothesis import strategies as st

from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import ARM_TABLE

from tests.conftest import Model

U64 = st.integers(min_value=0, max_value=2**64 - 1)
NUMBERS = st.one_of(st.sampled_from(sorted(ARM_TABLE)), st.integers(min_value=0, max_value=2**64 - 1))


def argument(base: int):
    # mostly values near guest RAM, so pointers sometimes land on it
    return st.one_of(U64, st.integers(min_value=0, max_value=16), st.integers(min_value=base - 64, max_value=base + 0x11000))


@settings(max_examples=400, deadline=None)
@given(nr=NUMBERS, args=st.lists(argument(0x40000000), min_size=5, max_size=5), domid=st.sampled_from([0, 1]))
def test_random_hypercalls_answer_like_xen(nr, args, domid):
    model = Model(domid)
    result = model.call(nr, *args)
    assert isinstance(result, int)
    if result < 0:
        assert -result in Errno._value2member_map_
