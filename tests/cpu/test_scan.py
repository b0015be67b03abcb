"""The loader's word scan (cpu/native/scan.c through sysreg.candidate_words) finds what a plain
loop finds: at any offset, and when there are more matches than its first buffer holds."""
import random
import struct

import pytest

from xenhvc.cpu import sysreg
from xenhvc.cpu.aarch64 import _PATCH_PATTERNS
from xenhvc.cpu.native import match_words

PATTERNS = (*_PATCH_PATTERNS, *sysreg.A32_TIMER_PATTERNS)


def _reference(data: bytes, offset: int, count: int, patterns) -> list[int]:
    words = struct.unpack_from(f"<{count}I", data, offset)
    return [i for i, w in enumerate(words) if any(w & m == b for m, b in patterns)]


def _image(n_words: int, every: int, seed: int) -> bytes:
    rng = random.Random(seed)
    words = [rng.getrandbits(32) for _ in range(n_words)]
    for i in range(0, n_words, every):  # plant matches of each pattern
        mask, bits = PATTERNS[i % len(PATTERNS)]
        words[i] = bits | (rng.getrandbits(32) & ~mask & 0xFFFFFFFF)
    return struct.pack(f"<{n_words}I", *words)


@pytest.mark.skipif(match_words(b"\0" * 4, 0, 1, PATTERNS) is None, reason="built without the C extension")
@pytest.mark.parametrize("offset", [0, 1, 2, 3])
@pytest.mark.parametrize("every", [7, 50_000])  # 7: more matches than the first buffer's 1024
def test_native_scan_matches_a_plain_loop(offset, every):
    data = _image(1 << 16, every, seed=offset)
    count = (len(data) - offset) // 4
    expected = _reference(data, offset, count, PATTERNS)
    assert expected  # the planted words at least
    assert match_words(data, offset, count, PATTERNS) == expected
    assert sysreg.candidate_words(data, offset, count, PATTERNS) == expected


def test_small_images_take_the_plain_loop():
    data = _image(100, 7, seed=9)
    assert sysreg.candidate_words(data, 0, 100, PATTERNS) == _reference(data, 0, 100, PATTERNS)
