"""Candidates by encoding agree with the ABI's HVC encodings, at the ISA's alignment only."""
import pytest

from xenhvc.arch import aarch32, aarch64
from xenhvc.scan.find import find_candidates

ENC = {"a64": aarch64.ARCH.hvc[0], "a32": aarch32.ARCH.hvc[0], "t32": aarch32.ARCH.hvc[1]}


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
@pytest.mark.parametrize("imm", [0, 1, 0xEA1, 0x1234, 0xFFFF])
def test_every_immediate_is_found_and_decoded(isa, imm):
    data = b"\0" * 8 + ENC[isa].encode(imm) + b"\0" * 4
    assert find_candidates(data, isa) == [(8, imm)]


@pytest.mark.parametrize("isa", ["a64", "a32"])
def test_misaligned_words_are_not_instructions(isa):
    data = b"\0" * 2 + ENC[isa].encode(0xEA1) + b"\0" * 6
    assert find_candidates(data, isa) == []
    assert find_candidates(data, isa, base=2) == [(2, 0xEA1)]  # aligned as an address


def test_t32_at_both_halfword_phases():
    hvc = ENC["t32"].encode(0xEA1)
    data = b"\0" * 2 + hvc + b"\0" * 2 + hvc + b"\0" * 3 + hvc + b"\0"
    assert find_candidates(data, "t32") == [(2, 0xEA1), (8, 0xEA1)]


def test_other_states_encodings_do_not_match():
    assert find_candidates(ENC["a32"].encode(0xEA1), "t32") == []
    assert find_candidates(ENC["t32"].encode(0xEA1), "a32") == []
    assert find_candidates(ENC["a64"].encode(0xEA1), "a32") == []
    # A32 HVC with a condition other than AL is UNPREDICTABLE: not a call site
    assert find_candidates((0x0140EA71).to_bytes(4, "little"), "a32") == []
