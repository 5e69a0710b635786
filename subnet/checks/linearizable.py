"""A linearizability checker: Wing and Gong's search with Lowe's just-in-time linearization.

A history is linearizable when every completed operation can be given one instant between
its invocation and its completion such that, taken in that order, the operations are a
legal run of a sequential model. The search (as in Porcupine) keeps the invocations and
completions in one time-ordered list; it tries to linearize, at the front, an operation
whose invocation comes before the first completion still in the list, and backtracks when
it reaches a completion whose operation it has not placed. Lowe's memoization prunes the
search: a (set of linearized operations, model state) pair already explored is not
explored again; the set is an integer bitset.

P-compositionality: a model whose keys are independent (all three here) is checked one
key at a time, since a history is linearizable iff each key's sub-history is.

An operation whose outcome is unknown (``info``) completes "never": it may be placed at any
point after its invocation, and placing it after everything else is the same as never.
Reads whose outcome is unknown are dropped before (they constrain nothing).

The search is exponential in the worst case, so it runs within a :class:`Budget` of steps
and, optionally, seconds; past it the verdict is ``unknown`` with the reason, never a
guess. The step budget is deterministic (the same verdict on any machine); the seconds
budget is for interactive use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from subnet.checks.history import HistoryError, Key, Operation

__all__ = [
    "MODELS",
    "Budget",
    "Model",
    "Verdict",
    "check_linearizable",
    "infer_model",
]

VALID = "valid"
INVALID = "invalid"
UNKNOWN = "unknown"

Step = Callable[[Any, Operation], "tuple[bool, Any]"]


@dataclass(frozen=True)
class Model:
    """A sequential specification: an initial state and a step function.

    ``step(state, op)`` returns whether ``op`` may take effect in ``state`` with the output
    it returned, and the state after it. For an operation whose outcome is unknown
    (``op.ret is None``) any output is allowed. States must be hashable (the memo).
    """

    name: str
    functions: tuple[str, ...]
    initial: Any
    step: Step


def _register_step(state: Any, op: Operation) -> tuple[bool, Any]:
    if op.f == "read":
        return op.output == state, state
    if op.f == "write":
        return True, op.input
    expected, new = op.input  # cas
    if op.ret is None:
        return True, new if state == expected else state
    if op.output:
        return state == expected, new
    return state != expected, state


def _kv_step(state: str, op: Operation) -> tuple[bool, str]:
    if op.f == "get":
        return (op.output if op.output is not None else "") == state, state
    if op.f == "put":
        return True, op.input
    return True, state + op.input  # append


def _counter_step(state: int, op: Operation) -> tuple[bool, int]:
    if op.f == "read":
        return op.output == state, state
    if op.f == "incr":  # add, answering the value after it
        return op.ret is None or op.output == state + op.input, state + op.input
    return True, state + op.input  # add


MODELS: dict[str, Model] = {
    "register": Model("register", ("read", "write", "cas"), None, _register_step),
    "kv": Model("kv", ("get", "put", "append"), "", _kv_step),
    "counter": Model("counter", ("add", "incr", "read"), 0, _counter_step),
}
"""``register``: read, write, compare-and-set, absent (``None``) at first; ``kv``: get, put,
append on strings, ``""`` at first; ``counter``: add, incr (an add that answers the value after it) and read on an integer, 0
at first."""


def infer_model(ops: Sequence[Operation]) -> str:
    """The model a history's functions call for: kv if it gets, puts or appends, counter if it
    adds, else register (read, write, cas)."""
    functions = {op.f for op in ops}
    if functions & {"get", "put", "append"}:
        return "kv"
    if functions & {"add", "incr"}:
        return "counter"
    return "register"


@dataclass(frozen=True)
class Budget:
    """How much search a check may spend: steps in total over all keys, and wall seconds."""

    max_steps: int | None = 5_000_000
    timeout: float | None = None


@dataclass
class Verdict:
    """The outcome of a check, with evidence.

    For ``invalid``: ``key`` is the key whose sub-history fails; ``linearized`` the longest
    partial linearization the search reached (operations in their linearization order),
    ``state`` the model state after it, ``unplaced`` the operations that could take effect
    next there and of which none can (each is illegal in that state or leads only to states
    already refuted), and ``blocking`` the operation whose completion the search could not
    pass; ``why`` says for each unplaced operation (by index) whether the model refuses it
    in ``state`` or every continuation after it fails later. For ``unknown``: ``reason``
    says which budget ran out where.
    """

    result: str
    model: str
    operations: int
    keys: int
    steps: int = 0
    reason: str | None = None
    key: Key = None
    linearized: list[Operation] = field(default_factory=list)
    unplaced: list[Operation] = field(default_factory=list)
    blocking: Operation | None = None
    state: Any = None
    why: dict[int, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 linearizable, 1 not, 2 unknown (the `subnet check` convention)."""
        return {VALID: 0, INVALID: 1}.get(self.result, 2)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "verdict": self.result,
            "model": self.model,
            "operations": self.operations,
            "keys": self.keys,
            "steps": self.steps,
        }
        if self.reason is not None:
            data["reason"] = self.reason
        if self.result == INVALID:
            data["key"] = self.key
            data["state"] = list(self.state) if isinstance(self.state, tuple) else self.state
            data["linearized"] = [_op_json(op) for op in self.linearized]
            data["unplaced"] = [{**_op_json(op), "why": self.why.get(op.index)} for op in self.unplaced]
            data["blocking"] = _op_json(self.blocking) if self.blocking is not None else None
        return data


def _op_json(op: Operation) -> dict[str, Any]:
    return {
        "index": op.index,
        "process": op.process,
        "f": op.f,
        "key": op.key,
        "input": list(op.input) if isinstance(op.input, tuple) else op.input,
        "output": op.output,
        "call": op.call,
        "return": op.ret,
        "describe": op.describe(),
    }


class _OutOfBudget(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_linearizable(
    ops: Sequence[Operation],
    model: str | Model = "register",
    budget: Budget | None = None,
    source: str = "<history>",
) -> Verdict:
    """Decide whether ``ops`` (from :func:`subnet.checks.history.operations`) is linearizable.

    Raises :class:`HistoryError` when an operation's function is not one of the model's.
    """
    chosen = MODELS[model] if isinstance(model, str) else model
    budget = budget or Budget()
    for op in ops:
        if op.f not in chosen.functions:
            raise HistoryError(
                source,
                None,
                f"operation #{op.index} ({op.f}) is not a function of the {chosen.name} model "
                f"({', '.join(chosen.functions)}); is the model right?",
            )
    partitions: dict[Key, list[Operation]] = {}
    for op in ops:
        partitions.setdefault(op.key, []).append(op)
    keys = sorted(partitions, key=lambda k: (k is not None, type(k).__name__, str(k)))
    deadline = time.monotonic() + budget.timeout if budget.timeout is not None else None
    search = _Search(chosen, budget.max_steps, deadline)
    for index, key in enumerate(keys):
        try:
            verdict = search.run(partitions[key])
        except _OutOfBudget as exc:
            left = len(keys) - index - 1
            where = "" if len(keys) == 1 else f" on key {key!r} ({len(partitions[key])} operations)"
            rest = f"; {left} more key(s) not checked" if left else ""
            return Verdict(
                UNKNOWN,
                chosen.name,
                len(ops),
                len(keys),
                steps=search.steps,
                reason=f"{exc.reason}{where}{rest}",
                key=key,
            )
        if verdict is not None:
            verdict.operations = len(ops)
            verdict.keys = len(keys)
            verdict.key = key
            verdict.steps = search.steps
            return verdict
    return Verdict(VALID, chosen.name, len(ops), len(keys), steps=search.steps)


class _Search:
    """The search over one key's operations; ``steps`` accumulates over keys."""

    def __init__(self, model: Model, max_steps: int | None, deadline: float | None) -> None:
        self.model = model
        self.max_steps = max_steps
        self.deadline = deadline
        self.steps = 0

    def run(self, ops: list[Operation]) -> Verdict | None:
        """None if linearizable, else an ``invalid`` verdict with its evidence."""
        n = len(ops)
        if n == 0:
            return None
        # Entries: the call of op i is 2i, its return 2i + 1; HEAD is the sentinel 2n.
        never = max((op.ret for op in ops if op.ret is not None), default=0)
        never = max(never, max(op.call for op in ops)) + 1
        order = sorted(
            range(2 * n),
            key=lambda e: (
                ops[e >> 1].call
                if e % 2 == 0
                else (ops[e >> 1].ret if ops[e >> 1].ret is not None else never),
                e % 2,  # at the same time a call comes first: the two overlap
                e >> 1,
            ),
        )
        head = 2 * n
        nxt = [-1] * (2 * n + 1)
        prv = [-1] * (2 * n + 1)
        previous = head
        for entry in order:
            nxt[previous] = entry
            prv[entry] = previous
            previous = entry

        def lift(call: int) -> None:
            nxt[prv[call]] = nxt[call]
            prv[nxt[call]] = prv[call]
            ret = call + 1
            nxt[prv[ret]] = nxt[ret]
            if nxt[ret] != -1:
                prv[nxt[ret]] = prv[ret]

        def unlift(call: int) -> None:
            ret = call + 1
            nxt[prv[ret]] = ret
            if nxt[ret] != -1:
                prv[nxt[ret]] = ret
            nxt[prv[call]] = call
            prv[nxt[call]] = call

        step = self.model.step
        state = self.model.initial
        # Lowe's memo: configurations already explored (or on the current path). A
        # configuration is the set of operations linearized and the model state, with one
        # refinement for operations whose outcome is unknown: every one of them applied is
        # available since its invocation and has no deadline, so two that do the same
        # (the same function and argument) are interchangeable, and only how many of each
        # kind were applied matters. ``known`` is the bitset of known-outcome operations
        # placed; ``applied`` counts the unknown ones of each kind in one mixed-radix
        # integer (kind c is digit c). Without this a counter with a few dozen timed-out
        # adds explodes (2^k subsets for k of them).
        known = 0
        applied = 0
        bits = [0] * n
        weights = [0] * n
        kinds: dict[tuple[str, Any], list[int]] = {}
        for i, op in enumerate(ops):
            if op.ret is not None:
                bits[i] = 1 << i
            else:
                kinds.setdefault((op.f, op.input), []).append(i)
        radix = 1
        for members in kinds.values():
            for i in members:
                weights[i] = radix
            radix *= len(members) + 1
        # Done when every operation with a known outcome is placed: the unknown ones left
        # may take effect after everything, which is the same as never.
        known_mask = sum(bits)
        seen: set[tuple[int, int, Any]] = set()
        calls: list[tuple[int, Any]] = []
        best_depth = -1
        best: tuple[list[int], Any, list[int], int] = ([], state, [], 0)
        steps = self.steps
        limit = self.max_steps
        deadline = self.deadline
        entry = nxt[head]
        while known != known_mask:
            steps += 1
            if limit is not None and steps > limit:
                self.steps = steps - 1
                raise _OutOfBudget(f"the search exceeded its budget of {limit} steps")
            if deadline is not None and steps & 0x3FF == 0 and time.monotonic() > deadline:
                self.steps = steps
                raise _OutOfBudget("the search exceeded its time budget")
            if entry % 2 == 0:
                i = entry >> 1
                legal, after = step(state, ops[i])
                if legal:
                    memo = (known | bits[i], applied + weights[i], after)
                    if memo not in seen:
                        seen.add(memo)
                        calls.append((entry, state))
                        state = after
                        known |= bits[i]
                        applied += weights[i]
                        lift(entry)
                        entry = nxt[head]
                        continue
                entry = nxt[entry]
            else:
                if len(calls) > best_depth:
                    best_depth = len(calls)
                    frontier = []
                    walk = nxt[head]
                    while walk != entry:
                        if walk % 2 == 0:
                            frontier.append(walk >> 1)
                        walk = nxt[walk]
                    best = ([call >> 1 for call, _ in calls], state, frontier, entry >> 1)
                if not calls:
                    break
                entry, state = calls.pop()
                known &= ~bits[entry >> 1]
                applied -= weights[entry >> 1]
                unlift(entry)
                entry = nxt[entry]
        self.steps = steps
        if known == known_mask:
            return None
        placed, at_state, frontier, blocking = best
        why = {}
        for i in frontier:
            legal, after = step(at_state, ops[i])
            why[ops[i].index] = (
                f"the {self.model.name} model refuses it in state {_show_state(at_state)}"
                if not legal
                else f"it leaves state {_show_state(after)}, from which the rest cannot be ordered"
            )
        return Verdict(
            INVALID,
            self.model.name,
            n,
            1,
            reason=f"operation #{ops[blocking].index} must take effect before it returned, "
            f"and no order of the operations concurrent with it allows that",
            linearized=[ops[i] for i in placed],
            unplaced=[ops[i] for i in frontier],
            blocking=ops[blocking],
            state=at_state,
            why=why,
        )


def _show_state(state: Any) -> str:
    return "absent" if state is None else repr(state)
