"""Failures of xenhvc itself, one exception tree. What the *guest* sees is never an exception:
it is a value in its registers (a negative Xen errno) or an injected exception."""


class XenhvcError(Exception):
    """Root of every harness failure; the CLI prints ``xenhvc: <message>`` and exits with ``exit_code``."""

    exit_code = 70


class UsageError(XenhvcError):
    exit_code = 2


class ImageError(XenhvcError):
    """The image is not one xenhvc (or Xen) can boot."""

    exit_code = 3


class ToolMissingError(XenhvcError):
    """An external tool (QEMU, Xen, a cross compiler) is not installed."""

    exit_code = 69


class NotModelledError(XenhvcError):
    """The guest needs a part of the machine or of Xen that xenhvc does not model yet."""

    exit_code = 40
