"""Candid subtyping: the relation decoders use, and the upgrade report ``didc check`` gives.

``SubtypeChecker`` decides ``t1 <: t2`` coinductively (recursive types are assumed to be
subtypes while they are being compared). Assumptions made under a comparison that fails
are withdrawn with it, so a memo entry never rests on a refuted assumption.

Two relations come out of one walk. The strict one is the specification's. The lenient
one also admits variants whose extra cases might not occur in a given value: the decoder
uses it under ``opt`` to know whether trying the value is worth it, since only the value
tells whether its case is one the expected type has.

``check_subtype`` walks the same rules but collects every incompatibility with the path
that leads to it (method, input or return type, record field...), the way ``didc check``
reports an upgrade that would break clients.
"""

from __future__ import annotations

from dataclasses import dataclass

from vocab.candid.errors import CandidTypeError
from vocab.candid.types import (
    FuncType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VarType,
    VecType,
    is_null_like,
    resolve,
    tuple_record,
)

MAX_TYPE_DEPTH = 2000
"""Nesting of type comparisons; deeper (hostile) type tables are refused."""


class SubtypeChecker:
    """Decides subtyping between types, remembering proven pairs across calls."""

    def __init__(self) -> None:
        self._proven: dict[tuple[int, int, bool], tuple[Type, Type]] = {}
        self._trail: list[tuple[int, int, bool]] = []
        # Assumptions only ever make a comparison succeed, so a failure found under any
        # assumptions is a failure outright and can be remembered for good.
        self._refuted: dict[tuple[int, int, bool], tuple[Type, Type]] = {}

    def is_subtype(self, t1: Type, t2: Type, lenient: bool = False) -> bool:
        """``t1 <: t2``; with ``lenient``, extra variant cases in ``t1`` are tolerated."""
        return self._sub(t1, t2, lenient, 0)

    def _rollback(self, mark: int) -> None:
        trail = self._trail
        proven = self._proven
        while len(trail) > mark:
            del proven[trail.pop()]

    def _sub(self, t1: Type, t2: Type, lenient: bool, depth: int) -> bool:
        if t1 is t2:
            return True
        if depth > MAX_TYPE_DEPTH:
            raise CandidTypeError("types nest too deeply to be compared")
        if isinstance(t1, VarType) or isinstance(t2, VarType):
            key = (id(t1), id(t2), lenient)
            if key in self._proven:
                return True
            if key in self._refuted:
                return False
            mark = len(self._trail)
            self._proven[key] = (t1, t2)
            self._trail.append(key)
            ok = self._sub(resolve(t1), resolve(t2), lenient, depth + 1)
            if not ok:
                self._rollback(mark)
                self._refuted[key] = (t1, t2)
            return ok
        return self._structural(t1, t2, lenient, depth + 1)

    def _structural(self, a: Type, b: Type, lenient: bool, depth: int) -> bool:
        if isinstance(b, PrimType) and b.name == "reserved":
            return True
        if isinstance(a, PrimType) and a.name == "empty":
            return True
        if isinstance(b, OptType):
            # null, reserved, opt t and any t are all subtypes of opt t': either by the
            # ordinary rules or by the special rules that make a misfit read as null.
            return True
        if isinstance(a, PrimType):
            if isinstance(b, PrimType):
                return a.name == b.name or (a.name == "nat" and b.name == "int")
            return False
        if isinstance(a, ServiceType) and isinstance(b, PrimType):
            return b.name == "principal"
        if type(a) is not type(b):
            return False
        if isinstance(a, VecType):
            return self._sub(a.inner, b.inner, lenient, depth)  # type: ignore[attr-defined]
        if isinstance(a, RecordType):
            assert isinstance(b, RecordType)
            have = {f.id: f for f in a.fields}
            for expected in b.fields:
                found = have.get(expected.id)
                if found is None:
                    if not is_null_like(expected.type):
                        return False
                elif not self._sub(found.type, expected.type, lenient, depth):
                    return False
            return True
        if isinstance(a, VariantType):
            assert isinstance(b, VariantType)
            cases = {f.id: f for f in b.fields}
            for case in a.fields:
                target = cases.get(case.id)
                if target is None:
                    if not lenient:
                        return False
                elif not self._sub(case.type, target.type, lenient, depth):
                    return False
            return True
        if isinstance(a, FuncType):
            assert isinstance(b, FuncType)
            return self._func(a, b, depth)
        if isinstance(a, ServiceType):
            assert isinstance(b, ServiceType)
            for name, wanted in b.methods:
                method = a.method(name)
                if method is None or not self._sub(method, wanted, False, depth):
                    return False
            return True
        return False

    def _func(self, a: FuncType, b: FuncType, depth: int) -> bool:
        if a.modes != b.modes:
            return False
        # Arguments are contravariant and read like a tuple record: extra arguments the
        # caller (b) passes are ignored, arguments it omits must be optional.
        for index, wanted in enumerate(a.args):
            if index < len(b.args):
                if not self._sub(b.args[index], wanted, False, depth):
                    return False
            elif not is_null_like(wanted):
                return False
        for index, promised in enumerate(b.results):
            if index < len(a.results):
                if not self._sub(a.results[index], promised, False, depth):
                    return False
            elif not is_null_like(promised):
                return False
        return True


def is_subtype(t1: Type, t2: Type) -> bool:
    """``t1 <: t2`` per the Candid specification."""
    return SubtypeChecker().is_subtype(t1, t2)


# -- the upgrade report ---------------------------------------------------------------


@dataclass(frozen=True)
class Incompatibility:
    """One way the new interface breaks the old one; ``path`` leads from outside in."""

    path: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        if not self.path:
            return self.message
        return " > ".join(self.path) + ": " + self.message


class _Reporter:
    def __init__(self) -> None:
        self.checker = SubtypeChecker()
        self.assumed: set[tuple[int, int]] = set()
        self.keep: list[tuple[Type, Type]] = []
        self.errors: list[Incompatibility] = []
        self.warnings: list[Incompatibility] = []

    def error(self, path: list[str], message: str) -> None:
        self.errors.append(Incompatibility(tuple(path), message))

    def walk(self, t1: Type, t2: Type, path: list[str], is_input: bool, depth: int = 0) -> None:
        if t1 is t2:
            return
        if depth > MAX_TYPE_DEPTH:
            self.error(path, "types nest too deeply to be compared")
            return
        if isinstance(t1, VarType) or isinstance(t2, VarType):
            key = (id(t1), id(t2))
            if key in self.assumed:
                return
            self.assumed.add(key)
            self.keep.append((t1, t2))
            before = len(self.errors)
            self.walk(resolve(t1), resolve(t2), path, is_input, depth + 1)
            if len(self.errors) > before:
                self.assumed.discard(key)
            return
        self._structural(t1, t2, path, is_input, depth + 1)

    def _structural(self, a: Type, b: Type, path: list[str], is_input: bool, depth: int) -> None:
        if isinstance(b, PrimType) and b.name == "reserved":
            return
        if isinstance(a, PrimType) and a.name == "empty":
            return
        if (
            isinstance(a, PrimType)
            and isinstance(b, PrimType)
            and (a.name == b.name or (a.name == "nat" and b.name == "int"))
        ):
            return
        if isinstance(a, ServiceType) and isinstance(b, PrimType) and b.name == "principal":
            return
        if isinstance(b, OptType):
            self._opt(a, b, path)
            return
        if isinstance(a, VecType) and isinstance(b, VecType):
            self.walk(a.inner, b.inner, path, is_input, depth)
            return
        if isinstance(a, RecordType) and isinstance(b, RecordType):
            have = {f.id: f for f in a.fields}
            for expected in b.fields:
                found = have.get(expected.id)
                if found is not None:
                    self.walk(
                        found.type,
                        expected.type,
                        [*path, f"record field {expected.label}"],
                        is_input,
                        depth,
                    )
                elif not is_null_like(expected.type):
                    if is_input:
                        message = (
                            f"new service requires field {expected.label} (type "
                            f"{expected.type}), which old callers don't provide and is not "
                            "optional"
                        )
                    else:
                        message = (
                            f"new type is missing required field {expected.label} (type "
                            f"{expected.type}), which is expected by the old type and is not "
                            "optional"
                        )
                    self.error(path, message)
            return
        if isinstance(a, VariantType) and isinstance(b, VariantType):
            cases = {f.id: f for f in b.fields}
            for case in a.fields:
                target = cases.get(case.id)
                if target is not None:
                    self.walk(
                        case.type,
                        target.type,
                        [*path, f"variant field {case.label}"],
                        is_input,
                        depth,
                    )
                elif is_input:
                    self.error(
                        path,
                        f"old callers may send variant case {case.label}, which the new "
                        "service no longer handles",
                    )
                else:
                    self.error(
                        path,
                        f"new variant has field {case.label} that does not exist in the old type",
                    )
            return
        if isinstance(a, ServiceType) and isinstance(b, ServiceType):
            for name, wanted in b.methods:
                method = a.method(name)
                if method is None:
                    self.error(
                        path,
                        f'method "{name}" is expected by the old interface but missing in the new one',
                    )
                else:
                    self.walk(method, wanted, [*path, f'method "{name}"'], False, depth)
            return
        if isinstance(a, FuncType) and isinstance(b, FuncType):
            if a.modes != b.modes:
                old = " ".join(b.modes) or "update"
                new = " ".join(a.modes) or "update"
                self.error(path, f"function annotation changed from {old} to {new}")
            self._params(b.args, a.args, path, "input", True, depth)
            self._params(a.results, b.results, path, "return", False, depth)
            return
        self.error(path, f"{a} is not a subtype of {b}")

    def _opt(self, a: Type, b: OptType, path: list[str]) -> None:
        ordinary = False
        if isinstance(a, PrimType) and a.name in ("null", "reserved"):
            ordinary = True
        elif isinstance(a, OptType):
            ordinary = self.checker.is_subtype(a.inner, b.inner)
        else:
            ordinary = not is_null_like(b.inner) and self.checker.is_subtype(a, b.inner)
        if not ordinary:
            self.warnings.append(
                Incompatibility(
                    tuple(path),
                    f"{a} <: {b} only by the special rule for opt: values that do not fit "
                    "will read as null, so the interfaces have diverged",
                )
            )

    def _params(
        self,
        sub: tuple[Type, ...],
        sup: tuple[Type, ...],
        path: list[str],
        label: str,
        is_input: bool,
        depth: int,
    ) -> None:
        if len(sub) == 1 and len(sup) == 1:
            self.walk(sub[0], sup[0], [*path, f"{label} type"], is_input, depth)
            return
        if len(sub) == len(sup):
            segment = f"{label} types"
        elif is_input:
            segment = (
                f"{label} types (old has {len(sub)} arg{'' if len(sub) == 1 else 's'}, new has {len(sup)})"
            )
        else:
            segment = (
                f"{label} types (old has {len(sup)} value{'' if len(sup) == 1 else 's'}, new has {len(sub)})"
            )
        self.walk(tuple_record(*sub), tuple_record(*sup), [*path, segment], is_input, depth)


def subtype_report(new: Type, old: Type) -> tuple[list[Incompatibility], list[Incompatibility]]:
    """Every way ``new <: old`` fails (errors), and where only the special opt rule holds."""
    reporter = _Reporter()
    reporter.walk(new, old, [], False)
    return reporter.errors, reporter.warnings


def check_subtype(new: object, old: object) -> list[str]:
    """Compare two service descriptions: every method, argument and field that breaks.

    ``new`` and ``old`` are ``ServiceDescription``s (or service types). The result is
    empty when clients of ``old`` keep working against ``new``.
    """
    errors, _ = subtype_report(_service_of(new, "new"), _service_of(old, "old"))
    return [str(item) for item in errors]


def _service_of(description: object, which: str) -> Type:
    service = getattr(description, "service", description)
    if service is None:
        raise CandidTypeError(f"the {which} interface has no main service type")
    if not isinstance(service, Type):
        raise CandidTypeError(f"the {which} interface is not a Candid service: {description!r}")
    return service


def format_report(items: list[Incompatibility]) -> str:
    """Group incompatibilities by their path, as an indented outline."""
    root: dict = {}

    def node(path: tuple[str, ...]) -> dict:
        current = root
        for segment in path:
            current = current.setdefault(segment, {})
        return current

    for item in items:
        node(item.path).setdefault("\0messages", []).append(item.message)

    lines: list[str] = []

    def render(current: dict, indent: int) -> None:
        pad = "  " * indent
        for message in current.get("\0messages", []):
            lines.append(f"{pad}- {message}")
        for key, child in current.items():
            if key == "\0messages":
                continue
            messages = child.get("\0messages", [])
            if len(child) == 1 and len(messages) == 1:
                lines.append(f"{pad}{key}: {messages[0]}")
            else:
                lines.append(f"{pad}{key}:")
                render(child, indent + 1)

    render(root, 0)
    return "\n".join(lines)
