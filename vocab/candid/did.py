"""Candid service descriptions (.did files): type definitions and the main service.

A .did file tells a client how to call a canister: which methods exist, what arguments
they take and what they return, and (for a service constructor) what installing it
takes. ``parse_did`` checks it the way the reference tooling does: every name defined,
no definition that is only an alias of itself, every method a function, and the main
service a service.

Imports are refused with a clear error: this simulator reads one file at a time, and a
silently missing import would mean silently wrong types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vocab.candid.errors import CandidError, CandidSyntaxError
from vocab.candid.lexer import KEYWORDS, quote_name
from vocab.candid.limits import retry_with_stack
from vocab.candid.parser import Parser
from vocab.candid.types import (
    FuncType,
    OptType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VarType,
    VecType,
    func_signature_text,
    resolve,
    service_body_text,
    tuple_text,
    type_to_text,
)

__all__ = ["ServiceDescription", "parse_did", "load_did"]


@dataclass
class ServiceDescription:
    """A parsed .did file.

    ``types`` are the named definitions, in the file's order. ``service`` is the main
    service type (None if the file declares none); ``init_args`` are a service
    constructor's installation arguments (None if it is not a constructor).
    """

    types: dict[str, VarType] = field(default_factory=dict)
    service: ServiceType | None = None
    init_args: tuple[Type, ...] | None = None
    init_arg_names: tuple[str | None, ...] = ()
    name: str | None = None

    @property
    def methods(self) -> dict[str, FuncType]:
        """Method name to function type, sorted by name."""
        if self.service is None:
            return {}
        return {name: _as_func(t) for name, t in self.service.methods}

    def method(self, name: str) -> FuncType:
        """The function type of a method; the error lists the methods there are."""
        if self.service is None:
            raise CandidError("the interface declares no service, so it has no methods")
        found = self.service.method(name)
        if found is None:
            known = ", ".join(self.methods) or "none"
            raise CandidError(f"the service has no method {name!r} (methods: {known})")
        return _as_func(found)

    def lookup(self, name: str) -> Type:
        """A named type definition."""
        var = self.types.get(name)
        if var is None:
            raise CandidError(f"the interface defines no type {name!r}")
        return var

    def to_did(self) -> str:
        """The description as .did text (types first, then the service)."""
        lines = [f"type {quote_name(name)} = {type_to_text(var.target)};" for name, var in self.types.items()]  # type: ignore[arg-type]
        if self.service is not None:
            head = "service"
            if self.name:
                head += f" {self.name}"
            head += " : "
            if self.init_args is not None:
                head += f"{tuple_text(self.init_args, self.init_arg_names)} -> "
            if self.service.methods:
                body = ["{"]
                for method_name, method in self.service.methods:
                    signature = (
                        func_signature_text(method) if isinstance(method, FuncType) else type_to_text(method)
                    )
                    body.append(f"  {quote_name(method_name)} : {signature};")
                body.append("}")
                lines.append(head + "\n".join(body))
            else:
                lines.append(head + service_body_text(self.service))
        return "\n".join(lines) + "\n"


def _as_func(t: Type) -> FuncType:
    resolved = resolve(t)
    if not isinstance(resolved, FuncType):
        raise CandidError(f"{t} is not a function type")
    return resolved


def parse_did(source: str) -> ServiceDescription:
    """Parse and check a .did service description."""
    if not isinstance(source, str):
        raise CandidSyntaxError(f"a service description is a string, not {type(source).__name__}")
    try:
        return retry_with_stack(lambda: _parse(source))
    except RecursionError:
        raise CandidSyntaxError("the service description nests too deeply") from None


def load_did(path: str) -> ServiceDescription:
    try:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CandidError(f"cannot read {path}: {exc}") from None
    try:
        return parse_did(source)
    except CandidError as exc:
        raise type(exc)(f"{path}: {exc}") from None


def _parse(source: str) -> ServiceDescription:
    parser = Parser(source)
    scope = parser.scope
    service_refs: list[tuple[Type, int]] = []
    description = ServiceDescription()
    while parser.at_word("type") or parser.at_word("import"):
        if parser.at_word("import"):
            raise parser.error("imports are not supported: put the imported definitions in this file")
        parser.next()
        ident = parser.expect("id", "a type name")
        if not isinstance(ident.value, str) or ident.value in KEYWORDS:
            raise parser.error(f"{ident.value} is a keyword, not a type name", ident)
        parser.expect("=")
        scope.define(ident.value, parser.datatype(), ident.pos, source)
        parser.expect(";", "';' after the type definition")
    actor_token = None
    if parser.at_word("service"):
        actor_token = parser.next()
        if parser.peek().kind == "id" and parser.peek(1).kind == ":":
            description.name = parser.next().value  # type: ignore[assignment]
        parser.expect(":", "':' after service")
        if parser.at("("):
            init, names = parser.tuptype()
            parser.expect("->", "'->' after the installation arguments")
            description.init_args = init
            description.init_arg_names = names
        if parser.at("{"):
            actor: Type = parser.actortype()
        else:
            token = parser.expect("id", "a service type or its name")
            actor = scope.ref(token.value, token.pos)  # type: ignore[arg-type]
        service_refs.append((actor, actor_token.pos))
        if parser.at(";"):
            parser.next()
    if not parser.at("eof"):
        raise parser.error(
            f"expected a type definition or the service, found {parser.describe(parser.peek())}"
        )
    scope.check(source)
    for name, var in scope.vars.items():
        _check_services(var.target, source, scope.defined_at.get(name))  # type: ignore[arg-type]
    description.types = {name: scope.vars[name] for name in scope.defined_at}
    if service_refs:
        actor, pos = service_refs[0]
        resolved = resolve(actor)
        if not isinstance(resolved, ServiceType):
            raise CandidSyntaxError(f"the main service has type {actor}, not a service", pos, source)
        _check_services(resolved, source, pos)
        description.service = resolved
    return description


def _check_services(t: Type, source: str, pos: int | None) -> None:
    """Every method of a service type written in the file must be a function."""
    pending = [t]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen or isinstance(current, VarType):
            continue
        seen.add(id(current))
        if isinstance(current, ServiceType):
            for name, method in current.methods:
                if not isinstance(resolve(method), FuncType):
                    raise CandidSyntaxError(
                        f"method {name!r} has type {method}, which is not a function type",
                        pos,
                        source,
                    )
                pending.append(method)
        for child in _children(current):
            pending.append(child)


def _children(t: Type) -> list[Type]:
    if isinstance(t, (OptType, VecType)):
        return [t.inner]
    if isinstance(t, (RecordType, VariantType)):
        return [item.type for item in t.fields]
    if isinstance(t, FuncType):
        return [*t.args, *t.results]
    if isinstance(t, ServiceType):
        return [method for _, method in t.methods]
    return []
