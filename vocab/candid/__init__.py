"""Candid, the Internet Computer's interface description language, in plain Python.

Binary messages (``encode``, ``decode``), textual values (``parse_value_text``,
``encode_text``, ``decode_to_text``; ``decode_to_text(..., dfx="pp")`` prints byte for
byte as dfx does, see ``vocab.candid.pretty``), service descriptions (``parse_did``) and upgrade
checks (``check_subtype``). It imports nothing from ``node`` or ``client``: both sides of
a call use this one package.

The value model: which Python value stands for which Candid value
=================================================================

===========================  ================================================================
Candid                       Python
===========================  ================================================================
``null``                     ``None``
``bool``                     ``bool``
``nat``, ``int``, ``nat8``   ``int`` (range-checked for the fixed-size types)
  ... ``int64``
``float32``, ``float64``     ``float`` (a float32 decodes to the exact float32 value)
``text``                     ``str``
``reserved``                 ``None`` (any value is accepted when encoding)
``empty``                    no value
``principal``                ``vocab.principal.Principal`` (a textual ``str`` is accepted
                             when encoding)
``opt T``                    ``None`` or ``Some(value)``; when encoding, a bare value is
                             accepted where unambiguous (``T`` is not null, opt or reserved)
``vec nat8`` / ``blob``      ``bytes`` (a list of ints is accepted when encoding)
``vec T``                    ``list``
``record {...}``             ``dict`` keyed by field name, or by numeric id where the type
                             gives no name (tuples: ``{0: a, 1: b}``; a tuple or list is
                             accepted when encoding a tuple record)
``variant {...}``            ``Variant(tag, value)``, tag as for record keys; when encoding,
                             ``{tag: value}`` or, for a null case, just ``"tag"`` also work
``func (...) -> (...)``      ``FuncRef(service: Principal, method: str)``, a named tuple
``service {...}``            ``Principal``
===========================  ================================================================

Types are objects from ``vocab.candid.types`` (``NAT``, ``TEXT``, ``OptType(NAT)``,
``record({"name": TEXT})``...) or parsed from text with ``parse_types("(text, nat)")``.

Errors are ``vocab.errors.CandidError`` (subclasses in ``vocab.candid.errors``); a
decoding error names the byte offset, a text error the line and column.
"""

from __future__ import annotations

from vocab.candid.decoder import decode, decode_with_types
from vocab.candid.did import ServiceDescription, load_did, parse_did
from vocab.candid.encoder import encode
from vocab.candid.errors import *  # noqa: F403 (the errors, types and values are public whole)
from vocab.candid.errors import __all__ as _error_names
from vocab.candid.header import read_header
from vocab.candid.limits import DecodeLimits
from vocab.candid.parser import parse_types
from vocab.candid.subtype import check_subtype, is_subtype, subtype_report
from vocab.candid.text import (
    decode_to_text,
    encode_text,
    format_args,
    format_value,
    parse_value_text,
)
from vocab.candid.types import *  # noqa: F403
from vocab.candid.types import __all__ as _type_names
from vocab.candid.values import *  # noqa: F403
from vocab.candid.values import __all__ as _value_names

__all__ = [
    "encode",
    "decode",
    "decode_with_types",
    "read_header",
    "parse_value_text",
    "encode_text",
    "decode_to_text",
    "format_value",
    "format_args",
    "parse_types",
    "parse_did",
    "load_did",
    "ServiceDescription",
    "check_subtype",
    "is_subtype",
    "subtype_report",
    "DecodeLimits",
    *_error_names,
    *_type_names,
    *_value_names,
]
