"""Xen's public ABI as data: numbers, errno values, sub-ops, struct layouts. No engine imports."""
