"""A worker's memory: how much it holds, and giving back what a big request freed.

After a photo or a spreadsheet has been processed, its pixels and rows are freed, but glibc's
allocator keeps freed memory in the arena of the thread that used it, for that thread's next
allocation: a worker that processed six photos at once stayed at 660 MB (issue 17). Once it has
freed one big block, glibc even raises the size from which it maps blocks of their own (up to
32 MB) and how much free memory it keeps at the top of a heap (up to 64 MB per thread).

``hand_back_big_blocks`` (called when a gunicorn worker starts) fixes both sizes, so that every
block of a megabyte or more is mapped on its own and returned to the system when it is freed;
``release_memory`` returns what is left over (``malloc_trim``). Elsewhere than glibc both do
nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable
from functools import cache

#: mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Blocks from this size up are mapped on their own, and unmapped when freed.
BIG_BLOCK = 1024 * 1024
#: Free memory kept at the top of a heap before it is returned.
KEPT_AT_TOP = 8 * 1024 * 1024


@cache
def _glibc(function: str) -> Callable[..., int] | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        found: Callable[..., int] = getattr(ctypes.CDLL(name), function)
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do this way
        return None
    return found


def hand_back_big_blocks() -> None:
    """Have glibc map every block of BIG_BLOCK or more on its own and keep at most KEPT_AT_TOP free."""
    mallopt = _glibc("mallopt")
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, BIG_BLOCK)
        mallopt(_M_TRIM_THRESHOLD, KEPT_AT_TOP)


def release_memory() -> None:
    """Return the memory freed by this process's threads to the system, where glibc allows it."""
    trim = _glibc("malloc_trim")
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
