"""A heap's committed state in one shared memory file, which the live heap maps privately.

The committed heap is kept in an anonymous shared-memory file (``memfd``): the host reads
and writes it through a shared mapping (``address``), and the instance's live heap is
mapped over the same file *privately* (``map_private``). A page the live heap has not
written since it was mapped is the file's own page: the heap takes no memory of its own
for it. A page it writes becomes a private copy (the kernel's copy-on-write): that copy is
the live page, the file still holds the committed one. So the heap costs one copy plus the
pages written since they were last given back (``release``), not two full copies.

Where the platform has no ``memfd_create`` and ``MAP_FIXED`` (not Linux), the file is a
temporary file and the live heap is not mapped over it: the file is then a second full
copy, as the committed heap used to be, and everything else works the same.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
import tempfile

_LINUX = sys.platform.startswith("linux") and hasattr(os, "memfd_create")
_MAP_FAILED = ctypes.c_void_p(-1).value
_MADV_DONTNEED = 4
_MAP_FIXED = 0x10

if _LINUX:
    _libc = ctypes.CDLL(None, use_errno=True)
    _mmap = _libc.mmap
    _mmap.argtypes = (
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_long,
    )
    _mmap.restype = ctypes.c_void_p
    _munmap = _libc.munmap
    _munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    _munmap.restype = ctypes.c_int
    _madvise = _libc.madvise
    _madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    _madvise.restype = ctypes.c_int

PAGE = mmap.PAGESIZE


def _raise_descriptor_limit() -> None:
    """Each heap keeps a file descriptor: let the process have as many as it may (the soft
    limit is often 1,024, the hard one far more)."""
    try:
        import resource
    except ImportError:  # not Unix
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            pass


_raise_descriptor_limit()


class HeapBacking:
    """The committed heap: ``length`` bytes (zeros when new) in a shared-memory file."""

    def __init__(self, length: int) -> None:
        if _LINUX:
            self._fd = os.memfd_create("subnet-heap", os.MFD_CLOEXEC)
        else:
            handle, name = tempfile.mkstemp(prefix="subnet-heap-")
            os.unlink(name)
            self._fd = handle
        self.length = 0
        self._mapped = 0
        self._python_maps: list[mmap.mmap] = []
        self.address = 0
        self.resize(length)

    def resize(self, length: int) -> None:
        """Make the file ``length`` bytes (it only grows; new bytes are zero) and map it
        (the address may change)."""
        if self.address and length <= self.length:
            return
        size = max(length, PAGE)
        os.ftruncate(self._fd, size)
        self._unmap()
        if _LINUX:
            got = _mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, self._fd, 0)
            if got == _MAP_FAILED or got is None:
                raise OSError(
                    ctypes.get_errno(), f"cannot map the committed heap: {os.strerror(ctypes.get_errno())}"
                )
            self.address = got
        else:  # kept open: views of an older mapping may still be read
            mapping = mmap.mmap(self._fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            self._python_maps.append(mapping)
            self.address = ctypes.addressof(ctypes.c_char.from_buffer(mapping))
        self._mapped = size
        self.length = length

    def view(self) -> memoryview:
        """The committed bytes, read-only, without a copy (valid until the next resize)."""
        if not self.length:
            return memoryview(b"")
        array = (ctypes.c_char * self.length).from_address(self.address)
        return memoryview(array).cast("B").toreadonly()

    def map_private(self, base: int, start: int, end: int) -> bool:
        """Map the file's ``[start, end)`` privately over ``base + start`` (the live heap's
        pages there become the file's until written). False where this cannot be done
        (not Linux): the caller keeps its own copy there."""
        if not _LINUX or end <= start:
            return _LINUX
        assert start % PAGE == 0 and end % PAGE == 0 and base % PAGE == 0
        got = _mmap(
            base + start,
            end - start,
            mmap.PROT_READ | mmap.PROT_WRITE,
            mmap.MAP_PRIVATE | _MAP_FIXED,
            self._fd,
            start,
        )
        if got == _MAP_FAILED or got != base + start:
            raise OSError(
                ctypes.get_errno(),
                f"cannot map the committed heap over the live heap: {os.strerror(ctypes.get_errno())}",
            )
        return True

    @staticmethod
    def release(base: int, length: int) -> None:
        """Give the live heap's private pages in ``[base, base + length)`` back: they read
        as the file's again. Only when the live heap equals the committed one there."""
        if _LINUX and length:
            _madvise(base, length, _MADV_DONTNEED)

    def _unmap(self) -> None:
        if _LINUX and self.address:
            _munmap(self.address, self._mapped)
        self.address = 0

    def close(self) -> None:
        self._unmap()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except OSError:
            pass


__all__ = ["PAGE", "HeapBacking"]
