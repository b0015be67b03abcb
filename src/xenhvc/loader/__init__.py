"""Guest images and the domain builder: formats, placement in guest RAM, the guest's device tree."""
from .image import KernelImage, Segment, parse_image, read_image
from .place import GuestLayout, MemoryBank, place_domain

__all__ = ["KernelImage", "Segment", "parse_image", "read_image", "GuestLayout", "MemoryBank", "place_domain"]
