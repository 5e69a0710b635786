"""Tokens to the AST: a recursive-descent parser for Sui Move 2024.

Binary operators follow the Move compiler's precedence table (``||`` lowest, then
``&&``, comparisons, ``as``, ``|``, ``^``, ``&``, shifts, ``+ -``, ``* / %``), so
``a + b as u64`` casts the sum and ``x as u64 == y`` compares the cast, as in Move.
Type arguments in an expression are read only when ``<`` touches the name
(``f<u64>(x)``), the rule the Move parser uses to tell them from ``a < b``.

Both module forms are accepted (``module a::m { ... }`` and the 2024 file-level
``module a::m;``), as are members marked ``#[test]`` / ``#[test_only]``, which the
parser drops because packages are built without tests.
"""

from __future__ import annotations

from move.codes import error
from move.source import CompileError, Loc
from move.syntax import ast as A
from move.syntax.lexer import T, Token, tokenize

BINARY_PRECEDENCE = {
    "==>": 1,
    "||": 3,
    "&&": 4,
    "==": 5,
    "!=": 5,
    "<": 5,
    ">": 5,
    "<=": 5,
    ">=": 5,
    "as": 6,
    "..": 7,
    "|": 8,
    "^": 9,
    "&": 10,
    "<<": 11,
    ">>": 11,
    "+": 12,
    "-": 12,
    "*": 13,
    "/": 13,
    "%": 13,
}

MAX_DEPTH = 200
"""Nesting deeper than this is refused rather than overflowing Python's stack."""

SKIPPED_ATTRIBUTES = ("test", "test_only")


def parse_file(source: str, file: str = "<input>") -> A.FileAst:
    """Parse one ``.move`` file into its modules; raises ``CompileError``."""
    return Parser(tokenize(source, file), source, file).file_ast()


class Parser:
    def __init__(self, tokens: list[Token], source: str, file: str) -> None:
        self.toks = tokens
        self.pos = 0
        self.file = file
        self.sources = {file: source}
        self.depth = 0
        self.splits: list[tuple[int, Token]] = []
        """Every ``>>`` split so far (position, original token), to undo on backtracking."""

    # -- token helpers -------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def at(self, text: str) -> bool:
        t = self.tok
        return t.text == text and t.kind in (T.PUNCT, T.IDENT)

    def at_ident(self) -> bool:
        return self.tok.kind == T.IDENT

    def advance(self) -> Token:
        t = self.tok
        if t.kind != T.EOF:
            self.pos += 1
        return t

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.advance()
            return True
        return False

    def fail(self, expected: str, tok: Token | None = None) -> CompileError:
        t = tok or self.tok
        shown = "end of file" if t.kind == T.EOF else f"'{t.text}'"
        return error(t.loc, "E01002", f"Unexpected {shown}. Expected {expected}", self.sources)

    def expect(self, text: str) -> Token:
        if text == ">" and self.at(">>"):
            return self.split_gt()
        if not self.at(text):
            raise self.fail(f"'{text}'")
        return self.advance()

    def split_gt(self) -> Token:
        """Take the first ``>`` of a ``>>`` (closing two type-argument lists)."""
        t = self.tok
        first = Token(T.PUNCT, ">", t.loc, t.loc.col + 1)
        rest = Token(T.PUNCT, ">", Loc(t.loc.file, t.loc.line, t.loc.col + 1), t.end)
        self.splits.append((self.pos, t))
        self.toks[self.pos] = rest
        return first

    def ident(self, what: str = "an identifier") -> A.Name:
        t = self.tok
        if t.kind != T.IDENT:
            raise self.fail(what)
        self.advance()
        return A.Name(t.text, t.loc)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise error(self.tok.loc, "E01002", "the expression nests too deeply", self.sources)

    def leave(self) -> None:
        self.depth -= 1

    def comma_list(self, close: str, item: object) -> list[object]:
        """Items separated by ``,`` (a trailing comma allowed) up to and including ``close``."""
        assert callable(item)
        out: list[object] = []
        while not self.at(close):
            out.append(item())
            if not self.accept(","):
                break
        self.expect(close)
        return out

    # -- file and module -----------------------------------------------------------------------

    def file_ast(self) -> A.FileAst:
        modules: list[A.ModuleDef] = []
        while self.tok.kind != T.EOF:
            attrs = self.attributes()
            if self.at("address"):
                raise error(
                    self.tok.loc,
                    "E02004",
                    "'address' blocks are not supported; write 'module addr::name'",
                    self.sources,
                )
            if not self.at("module"):
                raise self.fail("'module'")
            module = self.module(attrs)
            if not _skipped(attrs):
                modules.append(module)
        return A.FileAst(modules, self.file)

    def attributes(self) -> list[A.Attribute]:
        attrs: list[A.Attribute] = []
        while self.at("#"):
            self.advance()
            self.expect("[")
            while True:
                name = self.ident("an attribute name")
                args: list[str] = []
                if self.accept("("):
                    depth = 1
                    while depth and self.tok.kind != T.EOF:
                        t = self.advance()
                        if t.text == "(" and t.kind == T.PUNCT:
                            depth += 1
                        elif t.text == ")" and t.kind == T.PUNCT:
                            depth -= 1
                            if not depth:
                                break
                        if t.kind != T.PUNCT or t.text not in (",",):
                            args.append(t.text)
                    if depth:
                        raise self.fail("')'")
                elif self.accept("="):
                    args.append(self.advance().text)
                attrs.append(A.Attribute(name.text, args, name.loc))
                if not self.accept(","):
                    break
            self.expect("]")
        return attrs

    def module_address(self) -> A.Name | int:
        t = self.tok
        if t.kind == T.NUMBER:
            self.advance()
            assert isinstance(t.value, int)
            return t.value
        return self.ident("an address")

    def module(self, attrs: list[A.Attribute]) -> A.ModuleDef:
        start = self.expect("module")
        address = self.module_address()
        self.expect("::")
        name = self.ident("a module name")
        mod = A.ModuleDef(address, name, [], [], [], [], [], [], start.loc, self.file, attrs)
        if self.accept(";"):
            while self.tok.kind != T.EOF:
                if self.at("module") or (self.at("#") and self._attributes_then_module()):
                    raise error(
                        self.tok.loc,
                        "E02004",
                        "a file with a 'module a::m;' declaration holds only that module",
                        self.sources,
                    )
                self.member(mod)
            return mod
        self.expect("{")
        while not self.at("}"):
            if self.tok.kind == T.EOF:
                raise self.fail("'}'")
            self.member(mod)
        self.expect("}")
        return mod

    def _attributes_then_module(self) -> bool:
        save = self.pos
        try:
            self.attributes()
            return self.at("module")
        except CompileError:
            return False
        finally:
            self.pos = save

    def member(self, mod: A.ModuleDef) -> None:
        attrs = self.attributes()
        skip = _skipped(attrs)
        start = self.tok
        if self.at("use") or (self.at("public") and self.peek().is_("use")):
            public = self.accept("public")
            use = self.use_decl(start.loc, public)
            if not skip:
                if isinstance(use, A.UseFunDecl):
                    mod.use_funs.append(use)
                else:
                    mod.uses.append(use)
            return
        if self.at("friend"):
            self.advance()
            path = self.path()
            self.expect(";")
            mod.friends.append(A.FriendDecl(path, start.loc))
            return
        if self.at("const"):
            self.advance()
            name = self.ident("a constant name")
            self.expect(":")
            ty = self.type_()
            self.expect("=")
            value = self.exp()
            self.expect(";")
            if not skip:
                mod.constants.append(A.ConstDef(name, ty, value, start.loc, attrs))
            return
        visibility = "private"
        entry = native = macro = public_struct = False
        while True:
            if self.at("public"):
                if visibility != "private":
                    raise error(self.tok.loc, "E02016", "duplicate visibility modifier", self.sources)
                self.advance()
                visibility = "public"
                if self.at("(") and self.peek().kind == T.IDENT:
                    self.advance()
                    which = self.ident("'package' or 'friend'")
                    if which.text not in ("package", "friend"):
                        raise error(
                            which.loc,
                            "E02016",
                            f"expected 'public(package)' or 'public(friend)', found 'public({which.text})'",
                            self.sources,
                        )
                    visibility = which.text
                    self.expect(")")
                public_struct = True
            elif self.at("entry"):
                entry = True
                self.advance()
            elif self.at("native"):
                native = True
                self.advance()
            elif self.at("macro"):
                macro = True
                self.advance()
            else:
                break
        if self.at("struct"):
            if entry or macro or visibility not in ("private", "public"):
                raise error(start.loc, "E01003", "a struct takes only 'public' and 'native'", self.sources)
            s = self.struct(start.loc, native, attrs)
            s.public = public_struct
            if not skip:
                mod.structs.append(s)
            return
        if self.at("enum"):
            if entry or macro or native or visibility not in ("private", "public"):
                raise error(start.loc, "E01003", "an enum takes only 'public'", self.sources)
            en = self.enum(start.loc, attrs)
            en.public = public_struct
            if not skip:
                mod.enums.append(en)
            return
        if self.at("fun"):
            f = self.function(start.loc, visibility, entry, native, macro, attrs)
            if not skip:
                mod.functions.append(f)
            return
        raise self.fail("a module member: 'use', 'const', 'struct', 'enum', 'fun' or 'friend'")

    # -- use ----------------------------------------------------------------------------------

    def use_decl(self, loc: Loc, public: bool) -> A.UseDecl | A.UseFunDecl:
        self.expect("use")
        if self.at("fun"):
            self.advance()
            function = self.path()
            self.expect("as")
            type_name = self.path()
            self.expect(".")
            method = self.ident("a method name")
            self.expect(";")
            return A.UseFunDecl(function, type_name, method, public, loc)
        if public:
            raise error(loc, "E02016", "only 'use fun' declarations can be 'public'", self.sources)
        address = self.module_address()
        self.expect("::")
        items: list[A.UseItem] = []
        if self.accept("{"):
            for _ in self.comma_list("}", lambda: self.use_module_item(address, items)):
                pass
        else:
            self.use_module_item(address, items)
        self.expect(";")
        return A.UseDecl(items, loc)

    def use_module_item(self, address: A.Name | int, items: list[A.UseItem]) -> None:
        module = self.ident("a module name")
        if self.accept("::"):
            if self.accept("{"):
                self.comma_list("}", lambda: items.append(self.use_member(address, module)))
            else:
                items.append(self.use_member(address, module))
            return
        alias = self.ident("an alias") if self.accept("as") else None
        items.append(A.UseItem(address, module, None, alias, module.loc))

    def use_member(self, address: A.Name | int, module: A.Name) -> A.UseItem:
        member = self.ident("a module member")
        alias = self.ident("an alias") if self.accept("as") else None
        if member.text == "Self":
            return A.UseItem(address, module, None, alias, member.loc)
        return A.UseItem(address, module, member, alias, member.loc)

    # -- structs and functions -----------------------------------------------------------------

    def type_params(self) -> list[A.TypeParamAst]:
        if not self.accept("<"):
            return []

        def one() -> A.TypeParamAst:
            phantom = self.accept("phantom")
            name = self.ident("a type parameter")
            constraints: list[A.Name] = []
            if self.accept(":"):
                constraints.append(self.ident("an ability"))
                while self.accept("+"):
                    constraints.append(self.ident("an ability"))
            return A.TypeParamAst(name, constraints, phantom)

        return self.comma_list(">", one)  # type: ignore[return-value]

    def abilities(self) -> list[A.Name]:
        out = [self.ident("an ability")]
        while self.accept(","):
            if not self.at_ident() or self.tok.text not in ("copy", "drop", "store", "key"):
                break
            out.append(self.ident("an ability"))
        return out

    def struct(self, loc: Loc, native: bool, attrs: list[A.Attribute]) -> A.StructDef:
        self.expect("struct")
        name = self.ident("a struct name")
        tps = self.type_params()
        abilities: list[A.Name] = []
        if self.accept("has"):
            abilities = self.abilities()
        fields: list[tuple[A.Name, A.TypeAst]] = []
        positional = False
        if native:
            self.expect(";")
            return A.StructDef(name, tps, abilities, fields, False, True, loc, attrs)
        if self.accept("("):
            positional = True
            types = self.comma_list(")", self.type_)
            for i, ty in enumerate(types):
                assert isinstance(ty, A.TypeAst)
                fields.append((A.Name(str(i), ty.loc), ty))
        else:
            self.expect("{")

            def field() -> None:
                fname = self.ident("a field name")
                self.expect(":")
                fields.append((fname, self.type_()))

            self.comma_list("}", field)
        if self.accept("has"):
            if abilities:
                raise error(self.tok.loc, "E02008", "abilities are declared twice", self.sources)
            abilities = self.abilities()
            self.expect(";")
        elif positional:
            self.accept(";")
        return A.StructDef(name, tps, abilities, fields, positional, False, loc, attrs)

    def enum(self, loc: Loc, attrs: list[A.Attribute]) -> A.EnumDef:
        self.expect("enum")
        name = self.ident("an enum name")
        tps = self.type_params()
        abilities: list[A.Name] = []
        if self.accept("has"):
            abilities = self.abilities()
        self.expect("{")
        variants: list[A.VariantDef] = []

        def variant() -> None:
            vname = self.ident("a variant name")
            fields: list[tuple[A.Name, A.TypeAst]] = []
            positional = False
            if self.accept("("):
                positional = True
                for i, ty in enumerate(self.comma_list(")", self.type_)):
                    assert isinstance(ty, A.TypeAst)
                    fields.append((A.Name(str(i), ty.loc), ty))
            elif self.accept("{"):

                def field() -> None:
                    fname = self.ident("a field name")
                    self.expect(":")
                    fields.append((fname, self.type_()))

                self.comma_list("}", field)
            variants.append(A.VariantDef(vname, fields, positional, vname.loc))

        self.comma_list("}", variant)
        if self.accept("has"):
            if abilities:
                raise error(self.tok.loc, "E02022", "abilities are declared twice", self.sources)
            abilities = self.abilities()
            self.expect(";")
        return A.EnumDef(name, tps, abilities, variants, loc, attrs)

    def function(
        self,
        loc: Loc,
        visibility: str,
        entry: bool,
        native: bool,
        macro: bool,
        attrs: list[A.Attribute],
    ) -> A.FunDef:
        self.expect("fun")
        name = self.ident("a function name")
        tps = self.type_params()
        self.expect("(")

        def param() -> A.Param:
            mutable = self.accept("mut")
            pname = self.ident("a parameter name")
            self.expect(":")
            return A.Param(pname, self.type_(), mutable)

        params = self.comma_list(")", param)
        ret = self.type_() if self.accept(":") else None
        if self.at("acquires"):
            self.advance()
            self.path()
            while self.accept(","):
                self.path()
        body: A.BlockExp | None = None
        if native:
            self.expect(";")
        else:
            body = self.block()
        return A.FunDef(name, visibility, entry, native, tps, params, ret, body, loc, attrs, macro)  # type: ignore[arg-type]

    # -- types ---------------------------------------------------------------------------------

    def type_(self) -> A.TypeAst:
        t = self.tok
        self.enter()
        try:
            if self.at("&") or self.at("&mut"):
                mutable = self.advance().text == "&mut"
                return A.RefTypeAst(t.loc, mutable, self.type_())
            if self.at("&&"):
                raise self.fail("a type")
            if self.accept("("):
                items = self.comma_list(")", self.type_)
                return A.TupleTypeAst(t.loc, items)  # type: ignore[arg-type]
            if self.at("|") or self.at("||"):
                params: list[A.TypeAst] = []
                if self.advance().text == "|":
                    while not self.at("|"):
                        params.append(self.type_())
                        if not self.accept(","):
                            break
                    self.expect("|")
                ret = self.type_() if self.accept("->") else None
                return A.FunTypeAst(t.loc, params, ret)
            path = self.path()
            args: list[A.TypeAst] = []
            if self.accept("<"):
                args = self.comma_list(">", self.type_)  # type: ignore[assignment]
            return A.NamedType(t.loc, path, args)
        finally:
            self.leave()

    def path(self) -> A.Path:
        t = self.tok
        address: int | None = None
        parts: list[A.Name] = []
        if t.kind == T.NUMBER:
            if not self.peek().is_("::"):
                raise self.fail("a name")
            self.advance()
            assert isinstance(t.value, int)
            address = t.value
            self.expect("::")
        parts.append(self.ident("a name"))
        while self.at("::"):
            self.advance()
            parts.append(self.ident("a name"))
        return A.Path(parts, t.loc, address)

    def type_args_adjacent(self) -> list[A.TypeAst] | None:
        """``<T, U>`` right after a name in an expression, or None (then ``<`` is less-than)."""
        if not self.at("<") or self.tok.loc.col != self.toks[self.pos - 1].end:
            return None
        if self.toks[self.pos - 1].loc.line != self.tok.loc.line:
            return None
        save = self.pos
        splits = len(self.splits)
        try:
            self.advance()
            args = self.comma_list(">", self.type_)
        except CompileError:
            self.pos = save
            while len(self.splits) > splits:
                at, original = self.splits.pop()
                self.toks[at] = original
            return None
        return args  # type: ignore[return-value]

    # -- blocks and statements -----------------------------------------------------------------

    def block(self) -> A.BlockExp:
        start = self.expect("{")
        self.enter()
        items: list[A.LetStmt | A.ExpStmt | A.UseDecl] = []
        result: A.Exp | None = None
        end: Loc | None = None
        while not self.at("}"):
            if self.tok.kind == T.EOF:
                raise self.fail("'}'")
            if self.at("use"):
                use = self.use_decl(self.tok.loc, False)
                if isinstance(use, A.UseFunDecl):
                    raise error(
                        use.loc, "E02017", "'use fun' inside a function is not supported", self.sources
                    )
                items.append(use)
                continue
            if self.at("let"):
                items.append(self.let())
                end = self.expect(";").loc
                continue
            if self.at(";"):
                end = self.advance().loc
                continue
            e = self.exp()
            if self.at(";"):
                end = self.advance().loc
                items.append(A.ExpStmt(e, e.loc))
                continue
            if self.at("}"):
                result = e
                break
            if _ends_in_block(e):
                # `if (c) { .. }` / `while (..) { .. }` followed by more statements
                items.append(A.ExpStmt(e, e.loc))
                end = None
                continue
            raise self.fail("';' or '}'")
        close = self.expect("}")
        self.leave()
        if result is None and end is None:
            end = close.loc
        return A.BlockExp(start.loc, items, result, end)

    def let(self) -> A.LetStmt:
        start = self.expect("let")
        pattern = self.pattern()
        ty = self.type_() if self.accept(":") else None
        value = self.exp() if self.accept("=") else None
        return A.LetStmt(pattern, ty, value, start.loc)

    def pattern(self) -> A.Pattern:
        """A pattern, with ``|`` alternatives (``match`` arms and ``let``)."""
        first = self.pattern_at()
        if not self.at("|"):
            return first
        items = [first]
        while self.accept("|"):
            items.append(self.pattern_at())
        return A.OrPat(first.loc, items)

    def pattern_at(self) -> A.Pattern:
        t = self.tok
        if t.kind == T.IDENT and self.peek().is_("@") and t.text not in ("mut", "_"):
            self.advance()
            self.advance()
            return A.AtPat(t.loc, t.text, self.pattern_at())
        return self.pattern_primary()

    def pattern_primary(self) -> A.Pattern:
        t = self.tok
        self.enter()
        try:
            if t.kind == T.NUMBER:
                self.advance()
                assert isinstance(t.value, int)
                return A.LitPat(t.loc, A.NumLit(t.loc, t.value, t.suffix))
            if t.kind == T.IDENT and t.text in ("true", "false"):
                self.advance()
                return A.LitPat(t.loc, A.BoolLit(t.loc, t.text == "true"))
            if self.at("@"):
                return A.LitPat(t.loc, self.term())
            if self.accept("("):
                items = self.comma_list(")", self.pattern)
                if len(items) == 1:
                    return items[0]  # type: ignore[return-value]
                return A.TuplePat(t.loc, items)  # type: ignore[arg-type]
            if self.accept("mut"):
                name = self.ident("a variable name")
                return A.BindPat(t.loc, name.text, True)
            if t.kind == T.IDENT and t.text == "_" and not self.peek().is_("::"):
                self.advance()
                return A.WildPat(t.loc)
            path = self.path()
            type_args: list[A.TypeAst] | None = None
            if self.at("<"):
                self.advance()
                type_args = self.comma_list(">", self.type_)  # type: ignore[assignment]
            if self.at("{") or self.at("("):
                return self.unpack_pattern(t, path, type_args)
            if len(path.parts) != 1 or path.address is not None or type_args is not None:
                return A.UnpackPat(t.loc, path, type_args, [], False, False, braces=False)
            return A.BindPat(t.loc, path.parts[0].text)
        finally:
            self.leave()

    def unpack_pattern(self, t: Token, path: A.Path, type_args: list[A.TypeAst] | None) -> A.UnpackPat:
        positional = self.advance().text == "("
        fields: list[tuple[A.Name, A.Pattern]] = []
        tail: list[A.Pattern] = []
        rest = False
        close = ")" if positional else "}"
        index = 0
        while not self.at(close):
            if self.at(".."):
                dots = self.advance()
                if rest:
                    raise error(dots.loc, "E03015", "'..' may appear only once in a pattern", self.sources)
                rest = True
                if not positional and not self.at(close):
                    self.accept(",")
                    if not self.at(close):
                        raise self.fail("'}' after '..'")
            elif positional:
                sub = self.pattern()
                if rest:
                    tail.append(sub)
                else:
                    fields.append((A.Name(str(index), sub.loc), sub))
                    index += 1
            else:
                mutable = self.accept("mut")
                fname = self.ident("a field name")
                if self.accept(":"):
                    if mutable:
                        raise self.fail("',' or '}'")
                    fields.append((fname, self.pattern()))
                else:
                    fields.append((fname, A.BindPat(fname.loc, fname.text, mutable)))
            if not self.accept(","):
                break
        self.expect(close)
        return A.UnpackPat(t.loc, path, type_args, fields, positional, rest, tail)

    # -- expressions ---------------------------------------------------------------------------

    def exp(self) -> A.Exp:
        self.enter()
        try:
            lhs = self.binary(1)
            if self.at("="):
                eq = self.advance()
                rhs = self.exp()
                _check_lvalue(lhs, eq, self)
                return A.AssignExp(lhs.loc, lhs, rhs)
            return lhs
        finally:
            self.leave()

    def binary(self, min_prec: int) -> A.Exp:
        lhs = self.unary()
        while True:
            t = self.tok
            op = t.text
            if t.kind not in (T.PUNCT, T.IDENT) or op not in BINARY_PRECEDENCE:
                return lhs
            if t.kind == T.IDENT and op != "as":
                return lhs
            prec = BINARY_PRECEDENCE[op]
            if prec < min_prec:
                return lhs
            self.advance()
            if op == "as":
                lhs = A.CastExp(lhs.loc, lhs, self.type_())
                continue
            if op in ("..", "==>"):
                raise error(t.loc, "E01002", f"'{op}' is only allowed in specifications", self.sources)
            self.enter()
            try:
                rhs = self.binary(prec + 1)
            finally:
                self.leave()
            lhs = A.BinaryExp(lhs.loc, op, lhs, rhs, t.loc)

    def unary(self) -> A.Exp:
        t = self.tok
        self.enter()
        try:
            if self.at("!"):
                self.advance()
                return A.UnaryExp(t.loc, "!", self.unary())
            if self.at("&mut") or self.at("&"):
                mutable = self.advance().text == "&mut"
                return A.BorrowExp(t.loc, mutable, self.unary())
            if self.at("&&"):
                # `&&x`: a borrow of a borrow, refused later; split for a clear message
                raise error(t.loc, "E01002", "Unexpected '&&'. Expected an expression", self.sources)
            if self.at("*"):
                self.advance()
                return A.DerefExp(t.loc, self.unary())
            if (self.at("move") or self.at("copy")) and self.peek().kind == T.IDENT:
                is_move = self.advance().text == "move"
                return A.MoveCopyExp(t.loc, is_move, self.ident("a variable name"))
            return self.dot_chain(self.term())
        finally:
            self.leave()

    def dot_chain(self, base: A.Exp) -> A.Exp:
        while True:
            if self.at("."):
                self.advance()
                t = self.tok
                if t.kind == T.NUMBER and not t.suffix:
                    # positional field `s.0`
                    self.advance()
                    base = A.DotExp(base.loc, base, A.Name(str(t.value), t.loc))
                    continue
                name = self.ident("a field or method name")
                type_args: list[A.TypeAst] | None = None
                is_macro = False
                if self.at("!") and self.tok.loc.col == name.loc.col + len(name.text):
                    self.advance()
                    is_macro = True
                    if not self.at("<") and not self.at("("):
                        raise self.fail("'(' after a macro method name")
                if self.at("<") and self.peek(-1).end == self.tok.loc.col:
                    type_args = self.type_args_adjacent()
                if self.at("("):
                    self.advance()
                    args = self.comma_list(")", self.exp)
                    base = A.MethodCallExp(base.loc, base, name, type_args, args, is_macro)  # type: ignore[arg-type]
                    continue
                if type_args is not None:
                    raise self.fail("'('")
                base = A.DotExp(base.loc, base, name)
                continue
            if self.at("["):
                self.advance()
                index = self.exp()
                self.expect("]")
                base = A.IndexExp(base.loc, base, index)
                continue
            return base

    def term(self) -> A.Exp:
        t = self.tok
        if t.kind == T.NUMBER:
            self.advance()
            assert isinstance(t.value, int)
            return A.NumLit(t.loc, t.value, t.suffix)
        if t.kind == T.BYTES:
            self.advance()
            assert isinstance(t.value, bytes)
            return A.BytesLit(t.loc, t.value)
        if t.kind == T.LABEL:
            self.advance()
            self.expect(":")
            assert isinstance(t.value, str)
            if self.at("loop"):
                loop = self.term()
                assert isinstance(loop, A.LoopExp)
                loop.label = t.value
                return loop
            if self.at("while"):
                w = self.term()
                assert isinstance(w, A.WhileExp)
                w.label = t.value
                return w
            if self.at("{"):
                return A.LabeledBlockExp(t.loc, t.value, self.block())
            raise self.fail("'loop', 'while' or '{' after a label")
        if t.kind == T.PUNCT:
            if t.text == "@":
                self.advance()
                a = self.tok
                if a.kind == T.NUMBER:
                    self.advance()
                    assert isinstance(a.value, int)
                    if a.suffix:
                        raise error(a.loc, "E01005", "an address literal takes no type suffix", self.sources)
                    if a.value >= 1 << 256:
                        raise error(a.loc, "E01005", "the address does not fit in 32 bytes", self.sources)
                    return A.AddressLit(t.loc, a.value, None)
                if a.kind == T.IDENT:
                    self.advance()
                    return A.AddressLit(t.loc, None, a.text)
                raise self.fail("an address after '@'")
            if t.text == "(":
                self.advance()
                if self.accept(")"):
                    return A.UnitLit(t.loc)
                first = self.exp()
                if self.accept(":"):
                    ty = self.type_()
                    self.expect(")")
                    return A.AnnotExp(t.loc, first, ty)
                if self.accept(")"):
                    return first
                self.expect(",")
                rest = self.comma_list(")", self.exp)
                return A.TupleExp(t.loc, [first, *rest])  # type: ignore[list-item]
            if t.text == "{":
                return self.block()
            if t.text in ("|", "||"):
                return self.lambda_exp()
            raise self.fail("an expression")
        if t.kind != T.IDENT:
            raise self.fail("an expression")
        word = t.text
        if word in ("true", "false"):
            self.advance()
            return A.BoolLit(t.loc, word == "true")
        if word == "if":
            self.advance()
            self.expect("(")
            cond = self.exp()
            self.expect(")")
            then = self.exp()
            otherwise = self.exp() if self.accept("else") else None
            return A.IfExp(t.loc, cond, then, otherwise)
        if word == "while":
            self.advance()
            self.expect("(")
            cond = self.exp()
            self.expect(")")
            return A.WhileExp(t.loc, cond, self.exp())
        if word == "loop":
            self.advance()
            return A.LoopExp(t.loc, self.exp())
        if word == "return":
            self.advance()
            label = None
            if self.tok.kind == T.LABEL:
                label = str(self.advance().value)
            value = None if self._at_exp_end() else self.exp()
            return A.ReturnExp(t.loc, value, label)
        if word == "match" and self.peek().is_("("):
            return self.match_exp()
        if word == "abort":
            self.advance()
            code = None if self._at_exp_end() else self.exp()
            return A.AbortExp(t.loc, code)
        if word in ("break", "continue"):
            self.advance()
            label = None
            if self.tok.kind == T.LABEL:
                label = str(self.advance().value)
            if word == "continue":
                return A.ContinueExp(t.loc, label)
            value = None if self._at_exp_end() else self.exp()
            return A.BreakExp(t.loc, label, value)
        if word == "vector" and (self.peek().is_("[") or self.peek().is_("<")):
            self.advance()
            type_arg: A.TypeAst | None = None
            if self.accept("<"):
                type_arg = self.type_()
                self.expect(">")
            self.expect("[")
            items = self.comma_list("]", self.exp)
            return A.VectorExp(t.loc, type_arg, items)  # type: ignore[arg-type]
        if word == "let":
            raise error(
                t.loc, "E01002", "'let' is a statement: it goes at the start of a block item", self.sources
            )
        path = self.path()
        if self.at("!") and self.tok.loc.col == self.toks[self.pos - 1].end:
            self.advance()
            macro_targs = self.type_args_adjacent() if self.at("<") else None
            self.expect("(")
            args = self.comma_list(")", self.exp)
            return A.CallExp(t.loc, path, macro_targs, args, macro=True)  # type: ignore[arg-type]
        type_args = self.type_args_adjacent()
        if self.at("("):
            self.advance()
            args = self.comma_list(")", self.exp)
            return A.CallExp(t.loc, path, type_args, args)  # type: ignore[arg-type]
        if self.at("{") and _looks_like_pack(path):
            self.advance()
            fields: list[tuple[A.Name, A.Exp]] = []

            def field() -> None:
                fname = self.ident("a field name")
                if self.accept(":"):
                    fields.append((fname, self.exp()))
                else:
                    fields.append((fname, A.NameExp(fname.loc, A.Path([fname], fname.loc))))

            self.comma_list("}", field)
            return A.PackExp(t.loc, path, type_args, fields)
        return A.NameExp(t.loc, path, type_args)

    def match_exp(self) -> A.MatchExp:
        start = self.advance()
        self.expect("(")
        subject = self.exp()
        self.expect(")")
        self.expect("{")
        arms: list[A.MatchArm] = []
        while not self.at("}"):
            if self.tok.kind == T.EOF:
                raise self.fail("'}'")
            pattern = self.pattern()
            guard = None
            if self.accept("if"):
                self.expect("(")
                guard = self.exp()
                self.expect(")")
            self.expect("=>")
            body = self.exp()
            arms.append(A.MatchArm(pattern, guard, body, pattern.loc))
            if not self.accept(",") and not self.at("}") and not _ends_in_block(body):
                raise self.fail("',' or '}'")
        self.expect("}")
        if not arms:
            raise error(start.loc, "E04029", "A 'match' needs at least one arm", self.sources)
        return A.MatchExp(start.loc, subject, arms)

    def lambda_exp(self) -> A.LambdaExp:
        start = self.advance()
        params: list[tuple[A.Pattern, A.TypeAst | None]] = []
        if start.text == "|":
            while not self.at("|"):
                pat = self.pattern_at()
                ty = self.type_() if self.accept(":") else None
                params.append((pat, ty))
                if not self.accept(","):
                    break
            self.expect("|")
        ret = None
        if self.accept("->"):
            ret = self.type_()
            if not self.at("{"):
                raise self.fail("'{' after a lambda's return type")
        body = self.exp()
        return A.LambdaExp(start.loc, params, body, ret)

    def _at_exp_end(self) -> bool:
        return self.tok.kind == T.EOF or any(self.at(x) for x in (";", "}", ")", ",", "]", "else"))


def _looks_like_pack(path: A.Path) -> bool:
    """``S { .. }`` packs when the last name starts upper case (Move's struct naming); a
    lower-case name before ``{`` is a value followed by a block (``if (x) y { .. }`` never
    happens in valid Move, but ``while (cond) { .. }`` does and is handled above)."""
    last = path.parts[-1].text
    return last[:1].isupper()


def _skipped(attrs: list[A.Attribute]) -> bool:
    return any(a.name in SKIPPED_ATTRIBUTES for a in attrs)


def _ends_in_block(e: A.Exp) -> bool:
    if isinstance(e, A.BlockExp | A.LabeledBlockExp):
        return True
    if isinstance(e, A.IfExp):
        return _ends_in_block(e.otherwise if e.otherwise is not None else e.then)
    if isinstance(e, A.WhileExp | A.LoopExp):
        return _ends_in_block(e.body)
    return isinstance(e, A.MatchExp)


def _check_lvalue(lhs: A.Exp, eq: Token, parser: Parser) -> None:
    """The left of ``=``: a name, ``*e``, a field, ``_``, an unpack, or a tuple of those."""
    if isinstance(lhs, A.NameExp | A.DerefExp | A.DotExp | A.PackExp | A.IndexExp):
        return
    if isinstance(lhs, A.TupleExp):
        for item in lhs.items:
            _check_lvalue(item, eq, parser)
        return
    raise error(
        lhs.loc,
        "E01009",
        "Invalid assignment syntax. Expected: a local, a field write, or a deconstructing assignment",
        parser.sources,
    )
