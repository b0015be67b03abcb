"""xenhvc: the Xen 4.17 Arm hypercall interface, run on real guest machine code."""
from .errors import ImageError, NotModelledError, UsageError, XenhvcError
from .loader.image import KernelImage, parse_image, read_image
from .session import RunConfig, RunResult, run_image
from .stop import ExitCode, StopKind, StopReason
from .trace import TraceRecord

__version__ = "0.1.0"
__all__ = ["run_image", "RunConfig", "RunResult", "read_image", "parse_image", "KernelImage", "StopReason",
           "StopKind", "ExitCode", "TraceRecord", "XenhvcError", "ImageError", "UsageError", "NotModelledError"]
