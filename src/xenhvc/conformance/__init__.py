"""The Arm conformance suite: the guests in guests/conformance run under the model and under real
Xen 4.17 in QEMU, and every test's transcript is compared."""
from .matrix import Row, run_matrix
from .guests import ISAS, conformance_image, list_tests

__all__ = ["Row", "run_matrix", "ISAS", "conformance_image", "list_tests"]
