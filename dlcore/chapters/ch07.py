"""Chapter 7 (CNN layers): the chapter's photograph and kernels (numpy only).

The convolutions and poolings the chapter shows are ``dlcore.conv`` and ``dlcore.pooling`` calls
on these inputs; the figures and the explorer are in :mod:`dlcore.explorers.ch07`.
"""
from __future__ import annotations

from dlcore.chapters.images import (CHANNELS, DEFAULT_CUSTOM, KERNEL_CHOICES, MAX_KERNELS, kernel_bank,
                                    load_input, parse_custom_kernel, random_kernels)

__all__ = ["CHANNELS", "DEFAULT_CUSTOM", "KERNEL_CHOICES", "MAX_KERNELS", "kernel_bank", "load_input",
           "parse_custom_kernel", "random_kernels"]
