"""The few Python classes of the Candid value model; everything else is a built-in type.

``Some`` exists because ``opt opt null`` has three distinct values (``None``,
``Some(None)``, ``Some(Some(None))``) that a bare ``None`` cannot tell apart. ``Variant``
keeps a variant case apart from a one-field record. ``FuncRef`` is a plain
``(Principal, method)`` tuple with names.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

from vocab.principal import Principal

__all__ = ["Some", "Variant", "FuncRef", "unwrap_opt", "float32"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Some(Generic[T]):
    """A present ``opt`` value; an absent one is ``None``."""

    value: T

    def __repr__(self) -> str:
        return f"Some({self.value!r})"


@dataclass(frozen=True, slots=True)
class Variant:
    """A variant value: the case's tag (field name, or numeric id if unnamed) and payload.

    A case of type ``null`` has payload ``None``: ``Variant("nil")``.
    """

    tag: str | int
    value: Any = None

    def __repr__(self) -> str:
        if self.value is None:
            return f"Variant({self.tag!r})"
        return f"Variant({self.tag!r}, {self.value!r})"


class FuncRef(NamedTuple):
    """A function reference: a method of a service."""

    service: Principal
    method: str


def unwrap_opt(value: Any) -> Any:
    """``Some(x)`` -> ``x``; ``None`` stays ``None``: for callers that do not care."""
    return value.value if isinstance(value, Some) else value


def float32(value: float) -> float:
    """``value`` rounded to the nearest float32, as decoding a float32 would give it."""
    if math.isnan(value) or math.isinf(value):
        return value
    return struct.unpack("<f", struct.pack("<f", value))[0]
