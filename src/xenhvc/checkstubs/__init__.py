"""``xenhvc check-stubs``: run each hypercall stub of a binary in isolation and check it against
the ABI (argument order, number register, HVC immediate, callee-saved registers, stack, result).

    from xenhvc.checkstubs import check_file
    reports = check_file("stubs.o")
"""
from .analyze import StubReport, analyze, expected_from_name
from .binary import Function, Program, load_program, select_stubs
from .check import check_bytes, check_file

__all__ = ["check_file", "check_bytes", "StubReport", "analyze", "expected_from_name", "Function", "Program",
           "load_program", "select_stubs"]
