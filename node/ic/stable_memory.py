"""A canister's stable memory: sparse, transactional, and cheap to hash.

Stable memory can be hundreds of GiB in size but is mostly zeros, so it is held as a map from
64 KiB page index to page contents; absent pages read as zeros. Every write during a message
first saves the page it touches into an undo log, so that a message that traps can put back
exactly the pages it changed (and the size it grew to) without copying the whole memory.

A page object, once stored, is never written in place by a later message: the first write
of a message to a page replaces it with a copy (the undo log keeps the old object), and a
write outside a message copies too. So a page map copied at one moment (``committed_view``)
stays that moment's contents while execution goes on, without copying any page: queries
read such a view on another thread (``node.ic.query_instances``).
"""

from __future__ import annotations

import hashlib

PAGE_SIZE = 65536
_ZERO_PAGE = bytes(PAGE_SIZE)


class StableMemory:
    """Stable memory with an undo log for the message in flight."""

    __slots__ = ("_pages", "size_pages", "_undo", "_undo_size", "_digest", "_private")

    def __init__(self, size_pages: int = 0, pages: dict[int, bytearray] | None = None) -> None:
        self._pages: dict[int, bytearray] = pages if pages is not None else {}
        self.size_pages = size_pages
        self._undo: dict[int, bytearray | None] | None = None
        self._undo_size = size_pages
        self._digest: bytes | None = None
        self._private: set[int] = set()
        """Pages written outside a message since the last ``committed_view``: no view has
        them, so they are written in place."""

    # -- transactions ----------------------------------------------------------------------

    def begin(self) -> None:
        """Start recording an undo log; nested transactions are not needed by execution."""
        self._undo = {}
        self._undo_size = self.size_pages

    def commit(self) -> None:
        if self._undo:
            self._digest = None
        if self.size_pages != self._undo_size:
            self._digest = None
        self._undo = None

    def rollback(self) -> None:
        if self._undo is None:
            return
        for index, old in self._undo.items():
            if old is None:
                self._pages.pop(index, None)
            else:
                self._pages[index] = old
        self.size_pages = self._undo_size
        self._undo = None

    @property
    def in_transaction(self) -> bool:
        return self._undo is not None

    # -- access ----------------------------------------------------------------------------

    @property
    def size_bytes(self) -> int:
        return self.size_pages * PAGE_SIZE

    def grow(self, pages: int, max_pages: int) -> int:
        """Grow by ``pages``; the previous size in pages, or -1 when over ``max_pages``."""
        old = self.size_pages
        if pages < 0 or old + pages > max_pages:
            return -1
        self.size_pages = old + pages
        if self._undo is None:
            self._digest = None
        return old

    def read(self, offset: int, size: int) -> bytes:
        if offset + size > self.size_bytes:
            raise IndexError("stable memory out of bounds")
        out = bytearray()
        pages = self._pages
        while size > 0:
            index, within = divmod(offset, PAGE_SIZE)
            take = min(size, PAGE_SIZE - within)
            page = pages.get(index)
            out += page[within : within + take] if page is not None else bytes(take)
            offset += take
            size -= take
        return bytes(out)

    def write(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        size = len(data)
        if offset + size > self.size_bytes:
            raise IndexError("stable memory out of bounds")
        view = memoryview(data)
        pages = self._pages
        undo = self._undo
        pos = 0
        while pos < size:
            index, within = divmod(offset + pos, PAGE_SIZE)
            take = min(size - pos, PAGE_SIZE - within)
            page = pages.get(index)
            if page is None or (index not in undo if undo is not None else index not in self._private):
                # copy on write: the stored object stays as it was (in the undo log, or in
                # a view someone took); only a page this message (or, outside a message,
                # this memory since the last view) made is written in place
                if undo is not None:
                    undo.setdefault(index, page)
                else:
                    self._private.add(index)
                page = bytearray(page) if page is not None else bytearray(PAGE_SIZE)
                pages[index] = page
            page[within : within + take] = view[pos : pos + take]
            pos += take
        if undo is None:
            self._digest = None

    def to_bytes(self) -> bytes:
        return self.read(0, self.size_bytes)

    @classmethod
    def from_bytes(cls, data: bytes) -> StableMemory:
        """Stable memory holding ``data``, padded with zeros to whole pages."""
        size_pages = (len(data) + PAGE_SIZE - 1) // PAGE_SIZE
        memory = cls(size_pages)
        memory.write(0, data)
        return memory

    def copy(self) -> StableMemory:
        """An independent copy (snapshots keep their own stable memory)."""
        if self._undo is not None:
            raise RuntimeError("cannot copy stable memory in the middle of a message")
        clone = StableMemory(self.size_pages, {i: bytearray(p) for i, p in self._pages.items()})
        clone._digest = self._digest
        return clone

    def committed_view(self) -> StableMemory:
        """The committed contents as an independent stable memory that shares the page
        objects (none is written in place again, see the module's docstring): O(pages in
        use) and no page copied. In the middle of a message the view is the state before
        it (the undo log's pages and size)."""
        self._private.clear()  # the view shares them from now on
        pages = dict(self._pages)
        size = self.size_pages
        if self._undo is not None:
            for index, old in self._undo.items():
                if old is None:
                    pages.pop(index, None)
                else:
                    pages[index] = old
            size = self._undo_size
        return StableMemory(size, pages)

    def digest(self) -> bytes:
        """SHA-256 over size and the non-zero pages in index order, independent of sparsity."""
        if self._digest is None or self._undo is not None:
            h = hashlib.sha256()
            h.update(self.size_pages.to_bytes(8, "big"))
            for index in sorted(self._pages):
                page = self._pages[index]
                if index >= self.size_pages or page == _ZERO_PAGE:
                    continue
                h.update(index.to_bytes(8, "big"))
                h.update(page)
            value = h.digest()
            if self._undo is not None:
                return value
            self._digest = value
        return self._digest
