"""The wire codec: msgpack messages in length-prefixed frames.

A frame is a 4-byte big-endian length followed by that many bytes of msgpack: the array
``[protocol_version, tag, fields]``. Everything a peer sends is untrusted, so decoding is
bounded (frame size, msgpack limits) and every failure is a ``CodecError``; nothing else
escapes, whatever the bytes.

Messages are frozen dataclasses registered by tag. Their fields are validated on decode
against the dataclass annotations, which may use: ``int``, ``bool``, ``str``, ``bytes``,
``Principal``, ``SignedEnvelope``, ``SignedTransaction``, another ``Message``, ``list[T]``,
``tuple[T, ...]``, ``dict[str, T]``, ``T | None``, and unions of classes that tell their own
wire form apart (``wire_matches``: ``vocab.ingress_message.IngressMessage``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar

import msgpack

from vocab.envelope import SignedEnvelope
from vocab.errors import CodecError, EnvelopeError, OversizedFrame, PrincipalError
from vocab.principal import Principal
from vocab.sui.certificate import CertifiedTransaction
from vocab.sui.signed import SignedTransaction

PROTOCOL_VERSION = 1
HEADER_BYTES = 4
DEFAULT_MAX_FRAME = 8 * 1024 * 1024
"""Large enough for a 2 MiB ingress message or a 1 MiB Wasm chunk with room to spare."""

_REGISTRY: dict[str, type[Message]] = {}

M = TypeVar("M", bound="Message")


class Message:
    """Base of every wire message; subclasses are frozen dataclasses with a unique TAG."""

    TAG: ClassVar[str] = ""
    SHARED_DECODE: ClassVar[bool] = False
    """True for a deeply immutable message that arrives in identical copies (a block
    proposal relayed by every replica that votes for it): ``decode_body`` then hands
    every copy of the same bytes the one object it decoded first (``SharedDecodes``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        tag = cls.__dict__.get("TAG")
        if not tag:
            return
        if tag in _REGISTRY and _REGISTRY[tag] is not cls:
            raise TypeError(f"wire tag {tag!r} is used by {_REGISTRY[tag].__name__} already")
        _REGISTRY[tag] = cls

    def to_wire(self) -> dict[str, Any]:
        names = _FIELD_NAMES.get(type(self))
        if names is None:
            names = _FIELD_NAMES[type(self)] = tuple(field.name for field in dataclasses.fields(self))  # type: ignore[arg-type]
        return {name: _to_wire(getattr(self, name)) for name in names}

    @classmethod
    def from_wire(cls: type[M], fields: Any) -> M:
        """The message a decoded map describes, every field checked against its annotation.

        A reader compiled once per class (``_class_reader``) decodes well-formed maps;
        anything it does not accept as it is, it leaves to ``_checked_from_wire``, which
        says exactly what is wrong (or accepts what the reader is too strict for)."""
        reader = _CLASS_READERS.get(cls)
        if reader is None:
            reader = _CLASS_READERS[cls] = _class_reader(cls)
        try:
            return reader(fields)
        except Exception:
            return cls._checked_from_wire(fields)

    @classmethod
    def _checked_from_wire(cls: type[M], fields: Any) -> M:
        if not isinstance(fields, dict):
            raise CodecError(f"{cls.__name__}: fields must be a map, got {type(fields).__name__}")
        hints = _hints(cls)
        unknown = sorted(str(key) for key in fields if key not in hints)
        if unknown:
            raise CodecError(f"{cls.__name__}: unknown fields {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            if field.name in fields:
                values[field.name] = _from_wire(
                    fields[field.name], hints[field.name], f"{cls.__name__}.{field.name}"
                )
            elif field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING:
                continue
            else:
                raise CodecError(f"{cls.__name__}: missing field {field.name}")
        try:
            return cls(**values)
        except (ValueError, TypeError) as exc:
            raise CodecError(f"{cls.__name__}: {exc}") from exc


_HINT_CACHE: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINT_CACHE:
        _HINT_CACHE[cls] = typing.get_type_hints(cls)
    return _HINT_CACHE[cls]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
"""Each message class's field names, in declaration order."""

_PLAIN = frozenset({bytes, int, str, bool, type(None)})
"""Values that are their own wire form."""


def _to_wire(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Message):
        return value.to_wire()
    if isinstance(value, Principal):
        return value.raw
    if isinstance(value, (SignedEnvelope, SignedTransaction, CertifiedTransaction)):
        return value.to_wire()
    if isinstance(value, (list, tuple)):
        return [_to_wire(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_wire(item) for key, item in value.items()}
    return value


def _from_wire(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        non_none = [option for option in options if option is not type(None)]
        if len(non_none) == 1:
            return _from_wire(value, non_none[0], where)
        for option in non_none:
            matches = getattr(option, "wire_matches", None)
            if matches is None:
                raise TypeError(f"{where}: {option!r} cannot tell its wire form apart in a union")
            if matches(value):
                return _from_wire(value, option, where)
        names = " or ".join(option.__name__ for option in non_none)
        raise CodecError(f"{where}: expected {names}")
    if origin is list or origin is tuple:
        if not isinstance(value, list):
            raise CodecError(f"{where}: expected an array, got {type(value).__name__}")
        (item_hint, *_rest) = typing.get_args(hint)
        items = [_from_wire(item, item_hint, f"{where}[{index}]") for index, item in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        key_hint, item_hint = typing.get_args(hint)
        if not isinstance(value, dict):
            raise CodecError(f"{where}: expected a map, got {type(value).__name__}")
        out = {}
        for key, item in value.items():
            out[_from_wire(key, key_hint, f"{where} key")] = _from_wire(item, item_hint, f"{where}[{key!r}]")
        return out
    if hint is bool:
        if not isinstance(value, bool):
            raise CodecError(f"{where}: expected a boolean, got {type(value).__name__}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CodecError(f"{where}: expected an integer, got {type(value).__name__}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise CodecError(f"{where}: expected text, got {type(value).__name__}")
        return value
    if hint is bytes:
        if not isinstance(value, bytes):
            raise CodecError(f"{where}: expected a blob, got {type(value).__name__}")
        return value
    if hint is Principal:
        if not isinstance(value, bytes):
            raise CodecError(f"{where}: expected a principal blob, got {type(value).__name__}")
        try:
            return Principal(value)
        except PrincipalError as exc:
            raise CodecError(f"{where}: {exc}") from exc
    if hint is SignedEnvelope:
        try:
            return SignedEnvelope.from_wire(value)
        except EnvelopeError as exc:
            raise CodecError(f"{where}: {exc.message}") from exc
    if hint is SignedTransaction:
        return SignedTransaction.from_wire(value)
    if hint is CertifiedTransaction:
        return CertifiedTransaction.from_wire(value)
    if isinstance(hint, type) and issubclass(hint, Message):
        return hint.from_wire(value)
    if hint is Any:
        return value
    raise TypeError(f"{where}: unsupported wire type {hint!r}")


# -- compiled readers ---------------------------------------------------------------------
#
# ``_from_wire`` interprets a field's annotation at every value it reads, and names the
# place of each value (``Block.payload[12]``) in case it is wrong. A reader compiled once
# per annotation does the same checks on exact types only and raises ``_Refused`` (or lets
# a constructor's error through) at the first thing it does not accept; the message's
# ``from_wire`` then reads the whole map again with ``_from_wire``, which names the fault.
# So a well-formed message is read without the interpretation, and a malformed one gets
# the same error as ever.

Reader = Callable[[Any], Any]


class _Refused(Exception):
    """A compiled reader met something it does not accept as it is."""


_READERS: dict[Any, Reader] = {}
"""A reader per field annotation (a message class as an annotation: its ``from_wire``)."""
_CLASS_READERS: dict[type, Reader] = {}
"""A reader per message class, of its map of fields."""


def _refuse(value: Any) -> Any:
    raise _Refused


def _exact(kind: type) -> Reader:
    def read(value: Any) -> Any:
        if type(value) is not kind:
            raise _Refused
        return value

    return read


def _principal(value: Any) -> Principal:
    if type(value) is not bytes:
        raise _Refused
    return Principal(value)


def _identity(value: Any) -> Any:
    return value


def _reader(hint: Any) -> Reader:
    found = _READERS.get(hint)
    if found is None:
        found = _READERS[hint] = _compile(hint)
    return found


def _compile(hint: Any) -> Reader:
    """The reader of values annotated ``hint`` (one that refuses everything if ``hint`` is
    not a form ``_from_wire`` reads: that one then raises its TypeError)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        nullable = type(None) in options
        non_none = [option for option in options if option is not type(None)]
        if len(non_none) == 1:
            inner = _reader(non_none[0])
            if nullable:
                return lambda value: None if value is None else inner(value)
            return inner
        if not all(hasattr(option, "wire_matches") for option in non_none):
            return _refuse
        choices = [(option.wire_matches, _reader(option)) for option in non_none]

        def read_union(value: Any) -> Any:
            if value is None and nullable:
                return None
            for matches, read in choices:
                if matches(value):
                    return read(value)
            raise _Refused

        return read_union
    if origin is list or origin is tuple:
        item = _reader(typing.get_args(hint)[0])
        if origin is list:
            return lambda value: [item(x) for x in value] if type(value) is list else _refuse(value)
        return lambda value: tuple([item(x) for x in value]) if type(value) is list else _refuse(value)
    if origin is dict:
        key_hint, item_hint = typing.get_args(hint)
        read_key, read_item = _reader(key_hint), _reader(item_hint)

        def read_dict(value: Any) -> Any:
            if type(value) is not dict:
                raise _Refused
            return {read_key(key): read_item(item) for key, item in value.items()}

        return read_dict
    if hint in (bool, int, str, bytes):
        return _exact(hint)
    if hint is Principal:
        return _principal
    if hint in (SignedEnvelope, SignedTransaction, CertifiedTransaction):
        return hint.from_wire
    if isinstance(hint, type) and issubclass(hint, Message):
        return hint.from_wire
    if hint is Any:
        return _identity
    return _refuse


def _class_reader(cls: type[Message]) -> Reader:
    hints = _hints(cls)
    known = frozenset(hints)
    plan = [
        (
            field.name,
            _reader(hints[field.name]),
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING,
        )
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
    ]

    def read(fields: Any) -> Any:
        if type(fields) is not dict or not known.issuperset(fields):
            raise _Refused
        values = {}
        for name, read_field, required in plan:
            if name in fields:
                values[name] = read_field(fields[name])
            elif required:
                raise _Refused
        return cls(**values)

    return read


# -- frames --------------------------------------------------------------------------------


def encode_message(message: Message) -> bytes:
    """One frame holding the message."""
    if not message.TAG or _REGISTRY.get(message.TAG) is not type(message):
        raise TypeError(f"{type(message).__name__} is not a registered wire message")
    if message.SHARED_DECODE:
        # Immutable and relayed: encoded (or received) once, its frame is kept with it.
        frame = message.__dict__.get("_frame")
        if frame is None:
            frame = _frame_of(message)
            object.__setattr__(message, "_frame", frame)
        return frame
    return _frame_of(message)


def _frame_of(message: Message) -> bytes:
    body = msgpack.packb([PROTOCOL_VERSION, message.TAG, message.to_wire()], use_bin_type=True)
    return len(body).to_bytes(HEADER_BYTES, "big") + body


class SharedDecodes:
    """The messages decoded lately from large bodies, by the SHA-256 of their bytes.

    Hashing a body is far cheaper than decoding it again (msgpack, then every field
    checked and every envelope rebuilt) and computing the hashes its objects memoize: a
    replica gets each block proposal from its proposer and again from each peer that
    voted for it, byte for byte the same. Only ``SHARED_DECODE`` messages are kept,
    since the holders of the first copy share the object; bounded to ``limit`` entries."""

    MIN_BYTES = 1024

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._by_digest: dict[bytes, Message] = {}
        self.hits = 0

    def get(self, body: bytes) -> tuple[bytes | None, Message | None]:
        if len(body) < self.MIN_BYTES:
            return None, None
        digest = hashlib.sha256(body).digest()
        found = self._by_digest.get(digest)
        if found is not None:
            self.hits += 1
        return digest, found

    def put(self, digest: bytes, message: Message) -> None:
        if not message.SHARED_DECODE:
            return
        if len(self._by_digest) >= self.limit:
            self._by_digest.pop(next(iter(self._by_digest)))
        self._by_digest[digest] = message


SHARED = SharedDecodes()
"""The process's one memory of shared decodes (a replica process decodes for one replica)."""


def decode_body(body: bytes, max_frame: int = DEFAULT_MAX_FRAME) -> Message:
    """Decode a frame's body (without its length header); identical large bodies of a
    ``SHARED_DECODE`` kind decode once (``SHARED``)."""
    digest, found = SHARED.get(body)
    if found is not None:
        return found
    message = _decode_body(body, max_frame)
    if message.SHARED_DECODE:
        object.__setattr__(message, "_frame", len(body).to_bytes(HEADER_BYTES, "big") + body)
        if digest is not None:
            SHARED.put(digest, message)
    return message


def _decode_body(body: bytes, max_frame: int) -> Message:
    try:
        decoded = msgpack.unpackb(
            body,
            raw=False,
            use_list=True,
            strict_map_key=True,
            max_str_len=max_frame,
            max_bin_len=max_frame,
            max_array_len=max_frame,
            max_map_len=max_frame,
            max_ext_len=0,
        )
    except (msgpack.UnpackException, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CodecError(f"frame body is not valid msgpack: {type(exc).__name__}: {exc}") from exc
    if not isinstance(decoded, list) or len(decoded) != 3:
        raise CodecError("frame body must be [version, tag, fields]")
    version, tag, fields = decoded
    if version != PROTOCOL_VERSION or isinstance(version, bool):
        raise CodecError(f"unsupported protocol version {version!r}, this replica speaks {PROTOCOL_VERSION}")
    if not isinstance(tag, str) or tag not in _REGISTRY:
        raise CodecError(f"unknown message tag {tag!r}")
    try:
        return _REGISTRY[tag].from_wire(fields)
    except RecursionError as exc:
        raise CodecError(f"{tag}: nested too deeply") from exc


def decode_frame(frame: bytes, max_frame: int = DEFAULT_MAX_FRAME) -> Message:
    """Decode exactly one complete frame; truncated or trailing bytes are errors."""
    if len(frame) < HEADER_BYTES:
        raise CodecError(f"truncated frame: {len(frame)} bytes, the header alone is {HEADER_BYTES}")
    length = int.from_bytes(frame[:HEADER_BYTES], "big")
    if length > max_frame:
        raise CodecError(f"oversized frame: {length} bytes, the limit is {max_frame}")
    body = frame[HEADER_BYTES:]
    if len(body) < length:
        raise CodecError(f"truncated frame: {len(body)} of {length} body bytes")
    if len(body) > length:
        raise CodecError(f"{len(body) - length} bytes after the end of the frame")
    return decode_body(body, max_frame)


class FrameDecoder:
    """Incremental decoder for a byte stream: feed bytes, take the complete messages.

    After a CodecError the stream is unusable (framing is lost); the connection must be
    dropped, which is what a replica does with a peer that sends garbage.
    """

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()
        self._failed = False

    def feed(self, data: bytes | bytearray) -> Iterator[Message]:
        if self._failed:
            raise CodecError("stream already failed; drop the connection")
        self._buffer += data
        while len(self._buffer) >= HEADER_BYTES:
            length = int.from_bytes(self._buffer[:HEADER_BYTES], "big")
            if length > self.max_frame:
                self._failed = True
                raise OversizedFrame(length, self.max_frame)
            if len(self._buffer) < HEADER_BYTES + length:
                return
            body = bytes(self._buffer[HEADER_BYTES : HEADER_BYTES + length])
            del self._buffer[: HEADER_BYTES + length]
            try:
                yield decode_body(body, self.max_frame)
            except CodecError:
                self._failed = True
                raise

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)


def registered_tags() -> list[str]:
    return sorted(_REGISTRY)


def message_class(tag: str) -> type[Message]:
    return _REGISTRY[tag]
