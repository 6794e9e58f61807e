"""A worker's memory: how much it holds, and giving back what a big request freed.

After a photo or a spreadsheet has been processed, its pixels and rows are freed, but glibc's
allocator keeps freed memory in the arena of the thread that used it, for that thread's next
allocation: a worker that processed six photos at once stayed at 660 MB (issue 17).
``release_memory`` asks glibc to return it (``malloc_trim``); elsewhere it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim this way
        return None
    return trim


def release_memory() -> None:
    """Return the memory freed by this process's threads to the system, where glibc allows it."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def resident_mib() -> float:
    """This process's resident memory (VmRSS) in MiB; 0 where /proc is not there."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024
