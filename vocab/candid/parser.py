"""A recursive-descent parser for Candid text: types, values, and the statements around them.

Values parse to a small syntax tree (``TextValue`` nodes) rather than to Python values,
because the meaning of a literal depends on the type it is read at: ``42`` may be a
``nat8`` or an ``int``, ``null`` an absent ``opt`` or a ``reserved``. ``vocab.candid.text``
gives the tree its meaning at a type. Types parse to ``vocab.candid.types`` objects with
named references left as ``VarType``s in a ``TypeScope`` until every definition is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vocab.candid.errors import CandidError, CandidSyntaxError, CandidTypeError
from vocab.candid.lexer import KEYWORDS, Token, tokenize
from vocab.candid.limits import MAX_DEPTH, retry_with_stack
from vocab.candid.types import (
    BLOB,
    MAX_FIELD_ID,
    NULL,
    PRIMS,
    Field,
    FuncType,
    OptType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VarType,
    VecType,
    idl_hash,
)
from vocab.errors import PrincipalError
from vocab.principal import Principal

# -- the value syntax tree -------------------------------------------------------------


@dataclass(slots=True)
class TextValue:
    pos: int


@dataclass(slots=True)
class TNumber(TextValue):
    value: int | str  # int for integer literals, normalized source text for floats
    is_float: bool


@dataclass(slots=True)
class TBool(TextValue):
    value: bool


@dataclass(slots=True)
class TNull(TextValue):
    pass


@dataclass(slots=True)
class TText(TextValue):
    data: bytes


@dataclass(slots=True)
class TOpt(TextValue):
    value: TextValue


@dataclass(slots=True)
class TVec(TextValue):
    items: list[TextValue]


@dataclass(slots=True)
class TBlob(TextValue):
    data: bytes


@dataclass(slots=True)
class TField:
    id: int
    name: str | None
    value: TextValue
    pos: int


@dataclass(slots=True)
class TRecord(TextValue):
    fields: list[TField]


@dataclass(slots=True)
class TVariant(TextValue):
    field: TField


@dataclass(slots=True)
class TPrincipal(TextValue):
    principal: Principal


@dataclass(slots=True)
class TService(TextValue):
    principal: Principal


@dataclass(slots=True)
class TFunc(TextValue):
    principal: Principal
    method: str


@dataclass(slots=True)
class TAnnotated(TextValue):
    value: TextValue
    type: Type


# -- named types ------------------------------------------------------------------------


class TypeScope:
    """The type names of one parse; references are bound when their definition arrives."""

    def __init__(self, known: dict[str, VarType] | None = None) -> None:
        self.vars: dict[str, VarType] = dict(known or {})
        self.first_use: dict[str, int] = {}
        self.defined_at: dict[str, int] = {}

    def ref(self, name: str, pos: int) -> Type:
        var = self.vars.get(name)
        if var is None:
            prim = PRIMS.get(name)
            if prim is not None:
                return prim
            var = VarType(name)
            self.vars[name] = var
        self.first_use.setdefault(name, pos)
        return var

    def define(self, name: str, t: Type, pos: int, source: str) -> None:
        if name in PRIMS:
            raise CandidSyntaxError(f"cannot redefine the primitive type {name}", pos, source)
        var = self.vars.get(name)
        if var is None:
            var = VarType(name)
            self.vars[name] = var
        if name in self.defined_at or var.target is not None:
            raise CandidSyntaxError(f"type {name} is defined twice", pos, source)
        var.target = t
        self.defined_at[name] = pos

    def check(self, source: str) -> None:
        """Every used name is defined, and no definition is only a name for itself."""
        for name, var in self.vars.items():
            if var.target is None:
                raise CandidSyntaxError(f"type {name} is not defined", self.first_use.get(name), source)
        for name, var in self.vars.items():
            seen = {id(var)}
            current: Type = var.target  # type: ignore[assignment]
            while isinstance(current, VarType):
                if id(current) in seen:
                    raise CandidSyntaxError(
                        f"type {name} is defined only in terms of itself (a cyclic alias)",
                        self.defined_at.get(name),
                        source,
                    )
                seen.add(id(current))
                current = current.target  # type: ignore[assignment]


# -- the parser ----------------------------------------------------------------------------

_MODES = ("query", "oneway", "composite_query")


class Parser:
    """Parses one source text; ``scope`` holds its type names."""

    def __init__(self, source: str, scope: TypeScope | None = None) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.scope = scope if scope is not None else TypeScope()
        self.depth = 0

    # ---- token helpers

    def peek(self, ahead: int = 0) -> Token:
        index = min(self.index + ahead, len(self.tokens) - 1)
        return self.tokens[index]

    def next(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def error(self, message: str, token: Token | None = None) -> CandidSyntaxError:
        token = token or self.peek()
        return CandidSyntaxError(message, token.pos, self.source)

    @staticmethod
    def describe(token: Token) -> str:
        if token.kind == "eof":
            return "the end of the input"
        if token.kind == "id":
            return f"{'keyword' if token.value in KEYWORDS else 'identifier'} {token.value}"
        if token.kind == "text":
            return "a text literal"
        if token.kind in ("nat", "float"):
            return "a number"
        return f"'{token.kind}'"

    def expect(self, kind: str, what: str | None = None) -> Token:
        token = self.peek()
        if token.kind != kind:
            raise self.error(f"expected {what or repr(kind)}, found {self.describe(token)}")
        return self.next()

    def at(self, kind: str) -> bool:
        return self.peek().kind == kind

    def at_word(self, word: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "id" and token.value == word

    def expect_word(self, word: str) -> Token:
        if not self.at_word(word):
            raise self.error(f"expected {word}, found {self.describe(self.peek())}")
        return self.next()

    def expect_end(self) -> None:
        if not self.at("eof"):
            raise self.error(f"unexpected {self.describe(self.peek())} after the end")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"nesting deeper than {MAX_DEPTH} levels")

    def leave(self) -> None:
        self.depth -= 1

    def text_of(self, token: Token) -> str:
        assert isinstance(token.value, bytes)
        try:
            return token.value.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error("text literal is not valid UTF-8", token) from None

    # ---- labels and names

    def at_label(self) -> bool:
        token = self.peek()
        return token.kind in ("nat", "text") or (token.kind == "id" and token.value not in KEYWORDS)

    def label(self) -> tuple[int, str | None, int]:
        """A field label: a number, an identifier or a quoted name; (id, name, pos)."""
        token = self.next()
        if token.kind == "nat":
            assert isinstance(token.value, int)
            if token.value > MAX_FIELD_ID:
                raise self.error(f"field id {token.value} exceeds 2^32-1", token)
            return token.value, None, token.pos
        if token.kind == "id" and token.value not in KEYWORDS:
            assert isinstance(token.value, str)
            return idl_hash(token.value), token.value, token.pos
        if token.kind == "text":
            name = self.text_of(token)
            return idl_hash(name), name, token.pos
        raise self.error(f"expected a field name or number, found {self.describe(token)}", token)

    def name(self, what: str) -> str:
        token = self.next()
        if token.kind == "id" and token.value not in KEYWORDS:
            assert isinstance(token.value, str)
            return token.value
        if token.kind == "text":
            return self.text_of(token)
        raise self.error(f"expected {what}, found {self.describe(token)}", token)

    # ---- types

    def datatype(self) -> Type:
        token = self.peek()
        if token.kind != "id":
            raise self.error(f"expected a type, found {self.describe(token)}")
        word = token.value
        assert isinstance(word, str)
        if word not in KEYWORDS:
            self.next()
            return self.scope.ref(word, token.pos)
        self.enter()
        try:
            self.next()
            if word == "opt":
                return OptType(self.datatype())
            if word == "vec":
                return VecType(self.datatype())
            if word == "blob":
                return BLOB
            if word == "null":
                return NULL
            if word == "principal":
                return PRIMS["principal"]
            if word == "record":
                return self.record_type(token)
            if word == "variant":
                return self.variant_type(token)
            if word == "func":
                return self.functype()
            if word == "service":
                return self.actortype()
            raise self.error(f"expected a type, found keyword {word}", token)
        finally:
            self.leave()

    def _fields(self, fields: list[Field], token: Token, record: bool) -> Type:
        try:
            return RecordType(tuple(fields)) if record else VariantType(tuple(fields))
        except CandidError as exc:
            raise self.error(str(exc), token) from None

    def record_type(self, token: Token) -> Type:
        self.expect("{")
        fields: list[Field] = []
        next_id = 0
        while not self.at("}"):
            if self.at_label() and self.peek(1).kind == ":":
                field_id, name, _ = self.label()
                self.next()
                fields.append(Field(field_id, name, self.datatype()))
            else:
                field_id = next_id
                if field_id > MAX_FIELD_ID:
                    raise self.error("tuple field id exceeds 2^32-1")
                fields.append(Field(field_id, None, self.datatype()))
            next_id = field_id + 1
            if not self.at(";"):
                break
            self.next()
        self.expect("}", "';' or '}'")
        return self._fields(fields, token, True)

    def variant_type(self, token: Token) -> Type:
        self.expect("{")
        fields: list[Field] = []
        while not self.at("}"):
            field_id, name, _ = self.label()
            if self.at(":"):
                self.next()
                fields.append(Field(field_id, name, self.datatype()))
            else:
                fields.append(Field(field_id, name, NULL))
            if not self.at(";"):
                break
            self.next()
        self.expect("}", "';' or '}'")
        return self._fields(fields, token, False)

    def tuptype(self) -> tuple[tuple[Type, ...], tuple[str | None, ...]]:
        """``(name : type, type, ...)``: the types and their (documentary) names."""
        self.expect("(")
        types: list[Type] = []
        names: list[str | None] = []
        while not self.at(")"):
            token = self.peek()
            if (
                token.kind in ("id", "text")
                and self.peek(1).kind == ":"
                and not (token.kind == "id" and token.value in KEYWORDS)
            ):
                name = self.name("an argument name")
                if name in names:
                    raise self.error(f"argument name {name!r} is used twice", token)
                self.next()
                names.append(name)
            else:
                names.append(None)
            types.append(self.datatype())
            if not self.at(","):
                break
            self.next()
        self.expect(")", "',' or ')'")
        if not any(names):
            names = []
        return tuple(types), tuple(names)

    def functype(self) -> FuncType:
        start = self.peek()
        args, arg_names = self.tuptype()
        self.expect("->")
        results, result_names = self.tuptype()
        modes: list[str] = []
        while self.peek().kind == "id" and self.peek().value in _MODES:
            token = self.next()
            if token.value in modes:
                raise self.error(f"annotation {token.value} is given twice", token)
            modes.append(token.value)  # type: ignore[arg-type]
        if "oneway" in modes and results:
            raise self.error("a oneway function has no results", start)
        return FuncType(args, results, tuple(modes), arg_names, result_names)

    def actortype(self) -> ServiceType:
        start = self.expect("{")
        methods: list[tuple[str, Type]] = []
        seen: set[str] = set()
        while not self.at("}"):
            token = self.peek()
            name = self.name("a method name")
            if name in seen:
                raise self.error(f"method {name!r} is declared twice", token)
            seen.add(name)
            self.expect(":")
            if self.at("("):
                methods.append((name, self.functype()))
            else:
                ref = self.expect("id", "a function type or its name")
                if ref.value in KEYWORDS:
                    raise self.error("expected a function type or its name", ref)
                methods.append((name, self.scope.ref(ref.value, ref.pos)))  # type: ignore[arg-type]
            if not self.at(";"):
                break
            self.next()
        self.expect("}", "';' or '}'")
        try:
            return ServiceType(tuple(methods))
        except CandidError as exc:
            raise self.error(str(exc), start) from None

    # ---- values

    def args(self) -> list[TextValue]:
        """``(v, v : t, ...)``."""
        self.expect("(", "'(' to start the argument list")
        values: list[TextValue] = []
        while not self.at(")"):
            values.append(self.annval())
            if not self.at(","):
                break
            self.next()
        self.expect(")", "',' or ')'")
        return values

    def annval(self) -> TextValue:
        value = self.value()
        if self.at(":"):
            token = self.next()
            return TAnnotated(token.pos, value, self.datatype())
        return value

    def _principal(self, token: Token) -> Principal:
        text = self.text_of(token)
        try:
            return Principal.from_text(text)
        except PrincipalError as exc:
            raise self.error(f"bad principal: {exc}", token) from None

    def value(self) -> TextValue:
        token = self.peek()
        kind = token.kind
        if kind in ("nat", "float"):
            self.next()
            return TNumber(token.pos, token.value, kind == "float")  # type: ignore[arg-type]
        if kind in ("+", "-"):
            self.next()
            number = self.peek()
            if number.kind in ("nat", "float"):
                self.next()
                if number.kind == "nat":
                    value = number.value if kind == "+" else -number.value  # type: ignore[operator]
                    return TNumber(token.pos, value, False)  # type: ignore[arg-type]
                return TNumber(token.pos, kind + str(number.value), True)
            if number.kind == "id" and number.value in ("inf", "infinity"):
                self.next()
                return TNumber(token.pos, kind + "inf", True)
            raise self.error(f"expected a number after {kind}")
        if kind == "text":
            self.next()
            return TText(token.pos, token.value)  # type: ignore[arg-type]
        if kind == "(":
            self.next()
            self.enter()
            inner = self.annval()
            self.leave()
            self.expect(")")
            return inner
        if kind != "id":
            raise self.error(f"expected a value, found {self.describe(token)}")
        word = token.value
        if word in ("true", "false"):
            self.next()
            return TBool(token.pos, word == "true")
        if word == "null":
            self.next()
            return TNull(token.pos)
        if word in ("nan", "inf", "infinity"):
            self.next()
            return TNumber(token.pos, str(word), True)
        self.enter()
        try:
            return self._compound(token, word)  # type: ignore[arg-type]
        finally:
            self.leave()

    def _compound(self, token: Token, word: str) -> TextValue:
        if word == "opt":
            self.next()
            return TOpt(token.pos, self.value())
        if word == "vec":
            self.next()
            self.expect("{")
            items: list[TextValue] = []
            while not self.at("}"):
                items.append(self.annval())
                if not self.at(";"):
                    break
                self.next()
            self.expect("}", "';' or '}'")
            return TVec(token.pos, items)
        if word == "blob":
            self.next()
            data = self.expect("text", "a text literal after blob")
            return TBlob(token.pos, data.value)  # type: ignore[arg-type]
        if word == "record":
            self.next()
            return self._record_value(token)
        if word == "variant":
            self.next()
            self.expect("{")
            if self.at("}"):
                raise self.error("a variant value has exactly one field")
            field_id, name, pos = self.label()
            if self.at("="):
                self.next()
                value = self.annval()
            else:
                value = TNull(pos)
            if self.at(";"):
                self.next()
            self.expect("}", "'}' (a variant value has exactly one field)")
            return TVariant(token.pos, TField(field_id, name, value, pos))
        if word in ("service", "principal"):
            self.next()
            text = self.expect("text", f"a quoted principal after {word}")
            principal = self._principal(text)
            if word == "service":
                return TService(token.pos, principal)
            return TPrincipal(token.pos, principal)
        if word == "func":
            self.next()
            text = self.expect("text", "a quoted principal after func")
            principal = self._principal(text)
            self.expect(".", "'.' between the service and the method")
            method = self.name("a method name")
            return TFunc(token.pos, principal, method)
        raise self.error(f"expected a value, found {self.describe(token)}", token)

    def _record_value(self, token: Token) -> TRecord:
        self.expect("{")
        fields: list[TField] = []
        seen: set[int] = set()
        next_id = 0
        while not self.at("}"):
            if self.at_label() and self.peek(1).kind == "=":
                field_id, name, pos = self.label()
                self.next()
            else:
                field_id, name, pos = next_id, None, self.peek().pos
            if field_id in seen:
                raise CandidSyntaxError(f"record field {name or field_id} is given twice", pos, self.source)
            seen.add(field_id)
            fields.append(TField(field_id, name, self.annval(), pos))
            next_id = field_id + 1
            if not self.at(";"):
                break
            self.next()
        self.expect("}", "';' or '}'")
        return TRecord(token.pos, fields)


# -- entry points for type text ------------------------------------------------------------


def scope_of(env: Mapping[str, Type] | None) -> TypeScope | None:
    """A scope that knows the names of ``env`` (``None`` when there are none)."""
    if not env:
        return None
    known: dict[str, VarType] = {}
    for name, t in env.items():
        known[name] = t if isinstance(t, VarType) else VarType(name, t)
    return TypeScope(known)


def parse_types(text: str, env: Mapping[str, Type] | None = None) -> list[Type]:
    """Parse an argument type list like ``(text, opt nat)`` (parentheses optional)."""
    if not isinstance(text, str):
        raise CandidSyntaxError(f"Candid types must be a string, not {type(text).__name__}")

    def parse() -> list[Type]:
        parser = Parser(text, scope_of(env))
        if parser.at("("):
            types, _ = parser.tuptype()
            result = list(types)
        else:
            result = [parser.datatype()]
            while parser.at(","):
                parser.next()
                result.append(parser.datatype())
        parser.expect_end()
        parser.scope.check(text)
        return result

    try:
        return retry_with_stack(parse)
    except RecursionError:
        raise CandidSyntaxError("the type nests too deeply") from None


def argument_types(types: Sequence[Type] | str) -> list[Type]:
    """The argument types as a list; Candid text such as ``"(text, nat)"`` is parsed."""
    if isinstance(types, str):
        return parse_types(types)
    if isinstance(types, Type):
        raise CandidTypeError("types is a sequence of Candid types, one per argument")
    checked = list(types)
    for index, t in enumerate(checked):
        if not isinstance(t, Type):
            raise CandidTypeError(f"argument type {index} is not a Candid type: {t!r}")
    return checked
