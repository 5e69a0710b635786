"""`subnet candid ...`: Candid at the command line, shaped after `didc`.

``encode`` turns Candid text into a hex message, ``decode`` a hex message into text,
``check`` tells whether a new .did file can replace an old one without breaking
clients, ``test`` runs conformance files, and ``hash`` gives a field name's id. Types
come from ``--types '(text, nat)'`` or from a method of a .did file.
"""

from __future__ import annotations

import argparse
import json
import sys

from subnet.commands.options import add_output_option
from vocab.candid import (
    CandidError,
    Type,
    decode_to_text,
    encode_text,
    idl_hash,
    load_did,
    parse_types,
)
from vocab.candid.subtype import format_report, subtype_report
from vocab.candid.testsuite import describe_assertion, run_files


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("candid", help="encode, decode and check Candid (like didc)")
    commands = parser.add_subparsers(dest="candid_command", metavar="SUBCOMMAND")
    commands.required = True

    encode = commands.add_parser("encode", help="Candid text to a hex message")
    encode.add_argument("text", metavar="TEXT", help="the arguments, e.g. '(\"Sam\", 42)'")
    _add_type_options(encode, default_side="args")
    encode.set_defaults(handler=_encode)

    decode = commands.add_parser("decode", help="a hex message to Candid text")
    decode.add_argument("hex", metavar="HEX", help="the message in hex ('-' reads stdin)")
    _add_type_options(decode, default_side="results")
    decode.set_defaults(handler=_decode)

    check = commands.add_parser(
        "check", help="is NEW a subtype of OLD, i.e. can NEW replace OLD without breaking clients?"
    )
    check.add_argument("new", metavar="NEW.did")
    check.add_argument("old", metavar="OLD.did")
    add_output_option(check)
    check.set_defaults(handler=_check)

    test = commands.add_parser("test", help="run Candid conformance files (*.test.did)")
    test.add_argument("files", metavar="FILE.test.did", nargs="+")
    add_output_option(test)
    test.set_defaults(handler=_test)

    hash_ = commands.add_parser("hash", help="the numeric id of a field or case name")
    hash_.add_argument("name", metavar="NAME")
    hash_.set_defaults(handler=_hash)


def _add_type_options(parser: argparse.ArgumentParser, default_side: str) -> None:
    parser.add_argument("--types", "-t", metavar="TYPES", help="argument types, e.g. '(text, nat)'")
    parser.add_argument("--did", "-d", metavar="FILE", help="a .did file whose method gives the types")
    parser.add_argument("--method", "-m", metavar="NAME", help="the method of --did to use")
    side = parser.add_mutually_exclusive_group()
    side.add_argument(
        "--args",
        dest="side",
        action="store_const",
        const="args",
        help="use the method's argument types" + (" (the default)" if default_side == "args" else ""),
    )
    side.add_argument(
        "--results",
        dest="side",
        action="store_const",
        const="results",
        help="use the method's result types" + (" (the default)" if default_side == "results" else ""),
    )
    parser.set_defaults(side=default_side)


def _types(args: argparse.Namespace) -> list[Type] | None:
    if args.types and (args.did or args.method):
        raise CandidError("give either --types or --did with --method, not both")
    if args.types:
        return parse_types(args.types)
    if args.did or args.method:
        if not (args.did and args.method):
            raise CandidError("--did and --method go together")
        method = load_did(args.did).method(args.method)
        return list(method.args if args.side == "args" else method.results)
    return None


def _hex_input(text: str) -> bytes:
    if text == "-":
        text = sys.stdin.read()
    compact = "".join(text.split())
    if compact.startswith(("0x", "0X")):
        compact = compact[2:]
    try:
        return bytes.fromhex(compact)
    except ValueError:
        shown = compact if len(compact) <= 40 else compact[:37] + "..."
        raise CandidError(f"not a hex message: {shown!r}") from None


def _encode(args: argparse.Namespace) -> int:
    print(encode_text(args.text, _types(args)).hex())
    return 0


def _decode(args: argparse.Namespace) -> int:
    print(decode_to_text(_hex_input(args.hex), _types(args)))
    return 0


def _check(args: argparse.Namespace) -> int:
    new = load_did(args.new)
    old = load_did(args.old)
    if new.service is None:
        raise CandidError(f"{args.new} declares no service")
    if old.service is None:
        raise CandidError(f"{args.old} declares no service")
    errors, warnings = subtype_report(new.service, old.service)
    if args.output == "json":
        print(
            json.dumps(
                {
                    "compatible": not errors,
                    "errors": [str(item) for item in errors],
                    "warnings": [str(item) for item in warnings],
                },
                ensure_ascii=False,
            )
        )
        return 1 if errors else 0
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if errors:
        print(f"{args.new} is not compatible with {args.old}:")
        print(format_report(errors))
        return 1
    print(f"{args.new} is compatible with {args.old}")
    return 0


def _test(args: argparse.Namespace) -> int:
    results = run_files(args.files)
    failed = [(assertion, outcome) for assertion, outcome in results if not outcome.passed]
    passed = len(results) - len(failed)
    if args.output == "json":
        print(
            json.dumps(
                {
                    "passed": passed,
                    "failed": len(failed),
                    "failures": [
                        {"name": a.name, "assertion": describe_assertion(a), "detail": o.detail}
                        for a, o in failed
                    ],
                },
                ensure_ascii=False,
            )
        )
    else:
        for assertion, outcome in failed:
            print(f"FAIL {assertion.name}")
            print(f"  {describe_assertion(assertion)}")
            print(f"  {outcome.detail}")
        print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


def _hash(args: argparse.Namespace) -> int:
    print(idl_hash(args.name))
    return 0
