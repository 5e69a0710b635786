"""Client histories in Jepsen's sense, and the file formats they are read from and written to.

A client records every operation twice: when it *invokes* it and when it learns the
outcome, which is one of

- ``ok``: it took effect, exactly once, somewhere between the two records;
- ``fail``: it certainly did not take effect (it is dropped before checking);
- ``info``: the outcome is unknown (a timeout, a lost connection): it may have taken
  effect at any time after its invocation, or never. An invocation with no completion
  at all, at the end of a history, counts as ``info``.

A checker works on :class:`Operation` (an invocation paired with its completion), which
:func:`operations` builds from the :class:`Event` records a reader returns.

Three formats are read (:data:`FORMATS`):

``jepsen``
    Jepsen's log of one register, as in the etcd histories Porcupine ships: lines
    ``INFO  jepsen.util - PROCESS<TAB>:TYPE<TAB>:F<TAB>VALUE`` with ``F`` one of read,
    write, cas. Every other line is noise. A ``:fail :cas`` is a definite answer (the value
    was not FROM), kept as a cas whose output is ``False``; a ``:fail`` read did not happen.
``jepsen-kv``
    Jepsen's EDN-like maps, one per line, as in Porcupine's key-value histories:
    ``{:process P, :type :invoke|:ok|:fail|:info, :f :get|:put|:append, :key "K", :value ...}``.
``jsonl``
    The project's own ``history.jsonl``, one JSON object per line::

        {"index": 0, "process": 3, "type": "invoke", "f": "write", "key": null, "value": 4, "time": 1500000}

    ``index`` counts the lines from 0; ``process`` is an integer or a string naming the
    client; ``type`` is invoke, ok, fail or info; ``f`` is one of :data:`FUNCTIONS`;
    ``key`` is null for a single register or counter, else a string or an integer;
    ``time`` is integer nanoseconds (any common origin), non-decreasing line by line.
    ``value``: a read or get invocation carries null and its ok the value read (null: the
    register is absent; a kv key that was never written reads ``""``); write, put, append
    and add carry their argument on both lines; a cas carries ``[FROM, TO]`` on its
    invocation and on its ok (it swapped). As in Jepsen's etcd logs, a cas ``fail`` whose
    value is ``false`` is a definite answer, "compared and did not swap" (the value was
    not FROM), and is checked as such; any other ``fail`` did not happen.
    :func:`write_jsonl` writes it; reading what it wrote gives the same events.

In the two Jepsen formats no times are recorded: the line number stands for the time,
which keeps the order of events, all a linearizability check needs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from vocab.errors import SubnetError

__all__ = [
    "COMPLETIONS",
    "FORMATS",
    "FUNCTIONS",
    "Event",
    "HistoryError",
    "Operation",
    "Recorder",
    "event_to_json",
    "infer_format",
    "operations",
    "read_history",
    "read_jepsen",
    "read_jepsen_kv",
    "read_jsonl",
    "write_jsonl",
]

FUNCTIONS = ("read", "write", "cas", "get", "put", "append", "add", "incr")
"""The functions a history may hold: register (read, write, cas), kv (get, put, append),
counter (add, incr: an add whose ok carries the value after it, read)."""

TYPES = ("invoke", "ok", "fail", "info")
COMPLETIONS = ("ok", "fail", "info")
FORMATS = ("jepsen", "jepsen-kv", "jsonl")


class HistoryError(SubnetError, ValueError):
    """A history that cannot be read: the message names the file, the line and the fault."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem


Process = int | str
Key = str | int | None


@dataclass(frozen=True)
class Event:
    """One record of a history: an invocation or a completion."""

    index: int
    process: Process
    type: str
    f: str
    key: Key
    value: Any
    time: int
    line: int | None = None
    """The line of the file it was read from (for error messages), if any."""


@dataclass(frozen=True)
class Operation:
    """An invocation paired with its completion.

    ``ret`` is ``None`` when the outcome is unknown (``info``, or no completion at all): the
    operation may take effect at any time after ``call``, or never, and ``output`` is
    ``None`` (nothing was observed).
    """

    index: int
    """The index of the invocation event: the name a checker's evidence uses."""
    process: Process
    f: str
    key: Key
    input: Any
    output: Any
    call: int
    ret: int | None

    @property
    def known(self) -> bool:
        return self.ret is not None

    def describe(self) -> str:
        """A short human reading: ``#12 p3 write 4 -> ok``, ``#15 p1 read -> 3``."""
        key = "" if self.key is None else f" [{self.key!r}]"
        arg = "" if self.input is None else f" {_show(self.input)}"
        if self.ret is None:
            outcome = "info (unknown)"
        elif self.f in ("read", "get"):
            outcome = _show(self.output)
        elif self.f == "cas":
            outcome = "swapped" if self.output else "not swapped"
        else:
            outcome = "ok"
        return f"#{self.index} p{self.process} {self.f}{key}{arg} -> {outcome}"


def _show(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, tuple):
        return "[" + " ".join(_show(item) for item in value) + "]"
    return json.dumps(value) if isinstance(value, str) else str(value)


# --- pairing -------------------------------------------------------------------------


def operations(events: Sequence[Event], source: str = "<history>") -> list[Operation]:
    """Pair each invocation with its process's next completion.

    ``fail`` operations are dropped (they did not happen), except a cas whose failure is
    the definite answer "the value was not FROM" (its output is ``False``, decided by the
    reader). A process may have one operation outstanding; a completion without an
    invocation, a second invocation while one is outstanding, or a completion whose
    function differs from its invocation's is an error naming the line.
    """
    pending: dict[Process, Event] = {}
    result: list[tuple[int, Operation]] = []
    for event in events:
        if event.type == "invoke":
            if event.process in pending:
                first = pending[event.process]
                raise HistoryError(
                    source,
                    event.line,
                    f"process {event.process} invokes {event.f} while its {first.f} (line {first.line}) "
                    "has not completed",
                )
            pending[event.process] = event
            continue
        invoke = pending.pop(event.process, None)
        if invoke is None:
            raise HistoryError(
                source, event.line, f"{event.type} {event.f} for process {event.process} with no invocation"
            )
        if invoke.f != event.f or invoke.key != event.key:
            raise HistoryError(
                source,
                event.line,
                f"process {event.process} completes {event.f} {event.key!r} but invoked {invoke.f} "
                f"{invoke.key!r} (line {invoke.line})",
            )
        if event.time < invoke.time:
            raise HistoryError(source, event.line, "completion before its invocation in time")
        if event.type == "fail":
            if invoke.f == "cas" and event.value is False:
                result.append((invoke.index, _operation(invoke, False, event.time)))
            continue
        if event.type == "info":
            if invoke.f not in ("read", "get"):  # an unknown read constrains nothing
                result.append((invoke.index, _operation(invoke, None, None)))
            continue
        result.append((invoke.index, _operation(invoke, _output(invoke, event, source), event.time)))
    for invoke in pending.values():
        if invoke.f not in ("read", "get"):
            result.append((invoke.index, _operation(invoke, None, None)))
    result.sort(key=lambda item: item[0])
    return [op for _, op in result]


def _operation(invoke: Event, output: Any, ret: int | None) -> Operation:
    value = invoke.value
    if invoke.f == "cas":
        value = tuple(value)
    return Operation(
        index=invoke.index,
        process=invoke.process,
        f=invoke.f,
        key=invoke.key,
        input=None if invoke.f in ("read", "get") else value,
        output=output,
        call=invoke.time,
        ret=ret,
    )


def _output(invoke: Event, ok: Event, source: str) -> Any:
    if invoke.f in ("read", "get", "incr"):
        return ok.value
    if invoke.f == "cas":
        if ok.value is None or ok.value is True or list(ok.value) == list(invoke.value):
            return True
        raise HistoryError(source, ok.line, f"a cas ok carries {ok.value!r}, not its invocation's [FROM, TO]")
    return None


# --- Jepsen's etcd register log ------------------------------------------------------

_JEPSEN_LINE = re.compile(r"^INFO\s+jepsen\.util\s+-\s+(\d+)\t:(\w+)\t:(\w+)\t(.*)$")
_CAS_VALUE = re.compile(r"^\[(-?\d+) (-?\d+)\]$")


def read_jepsen(path: str | Path) -> list[Event]:
    """Read a Jepsen register log (the ``etcd/`` conformance format); other lines are noise."""
    source = str(path)
    events: list[Event] = []
    for number, text in _lines(path):
        match = _JEPSEN_LINE.match(text.rstrip("\r"))
        if match is None:
            continue
        process, kind, f, raw = int(match[1]), match[2], match[3], match[4].strip()
        if kind not in TYPES:
            raise HistoryError(source, number, f"unknown type :{kind} (expected one of {', '.join(TYPES)})")
        if f not in ("read", "write", "cas"):
            raise HistoryError(source, number, f"unknown function :{f} for a register (read, write, cas)")
        value: Any
        if kind == "info" or (kind == "fail" and f == "read"):
            value = None
        elif f == "read":
            value = None if raw == "nil" else _jepsen_int(source, number, raw)
        elif f == "write":
            value = _jepsen_int(source, number, raw)
        else:
            cas = _CAS_VALUE.match(raw)
            if cas is None:
                raise HistoryError(source, number, f"a cas value is [FROM TO], not {raw!r}")
            value = [int(cas[1]), int(cas[2])]
            if kind == "fail":
                value = False  # the compare failed: a definite answer
        events.append(Event(len(events), process, kind, f, None, value, number, number))
    if not events:
        raise HistoryError(
            source, None, "no Jepsen operation lines (INFO  jepsen.util - P<TAB>:type<TAB>:f<TAB>value)"
        )
    return events


def _jepsen_int(source: str, line: int, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise HistoryError(source, line, f"expected an integer or nil, not {raw!r}") from None


# --- Jepsen's EDN-like kv maps -------------------------------------------------------

_KV_LINE = re.compile(
    r"^\{:process (\d+), :type :(\w+), :f :(\w+), :key \"((?:[^\"\\]|\\.)*)\", :value (nil|\"((?:[^\"\\]|\\.)*)\")\}$"
)


def read_jepsen_kv(path: str | Path) -> list[Event]:
    """Read Jepsen's kv maps (the ``kv/`` conformance format), one per non-blank line."""
    source = str(path)
    events: list[Event] = []
    for number, text in _lines(path):
        text = text.strip()
        if not text:
            continue
        match = _KV_LINE.match(text)
        if match is None:
            raise HistoryError(
                source, number, 'not a kv map {:process P, :type :T, :f :F, :key "K", :value nil|"V"}'
            )
        kind, f = match[2], match[3]
        if kind not in TYPES:
            raise HistoryError(source, number, f"unknown type :{kind} (expected one of {', '.join(TYPES)})")
        if f not in ("get", "put", "append"):
            raise HistoryError(source, number, f"unknown function :{f} for kv (get, put, append)")
        value = None if match[5] == "nil" else _unescape(match[6])
        key = _unescape(match[4])
        events.append(Event(len(events), int(match[1]), kind, f, key, value, number, number))
    return events


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), text)


# --- the project's history.jsonl -----------------------------------------------------

_FIELDS = ("index", "process", "type", "f", "key", "value", "time")


def read_jsonl(path: str | Path) -> list[Event]:
    """Read a ``history.jsonl`` (the format in this module's docstring); blank lines are skipped."""
    source = str(path)
    events: list[Event] = []
    last_time: int | None = None
    for number, text in _lines(path):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise HistoryError(source, number, f"not JSON: {exc.msg} (column {exc.colno})") from None
        if not isinstance(record, dict):
            raise HistoryError(source, number, "a line holds one JSON object")
        missing = [name for name in _FIELDS if name not in record]
        if missing:
            raise HistoryError(source, number, f"missing field(s): {', '.join(missing)}")
        extra = sorted(set(record) - set(_FIELDS))
        if extra:
            raise HistoryError(source, number, f"unknown field(s): {', '.join(extra)}")
        index, process, kind, f, key, value, time = (record[name] for name in _FIELDS)
        if type(index) is not int or index != len(events):
            raise HistoryError(source, number, f"index is {index!r}, expected {len(events)}")
        if type(process) not in (int, str):
            raise HistoryError(source, number, f"process is an integer or a string, not {process!r}")
        if kind not in TYPES:
            raise HistoryError(source, number, f"type is {kind!r}, not one of {', '.join(TYPES)}")
        if f not in FUNCTIONS:
            raise HistoryError(source, number, f"f is {f!r}, not one of {', '.join(FUNCTIONS)}")
        if key is not None and type(key) not in (int, str):
            raise HistoryError(source, number, f"key is null, a string or an integer, not {key!r}")
        if type(time) is not int or time < 0:
            raise HistoryError(source, number, f"time is integer nanoseconds, not {time!r}")
        if last_time is not None and time < last_time:
            raise HistoryError(source, number, f"time {time} goes back (the line before says {last_time})")
        last_time = time
        _check_value(source, number, kind, f, value)
        events.append(Event(index, process, kind, f, key, value, time, number))
    return events


def _check_value(source: str, line: int, kind: str, f: str, value: Any) -> None:
    if kind in ("fail", "info"):
        return
    if f == "cas":
        if not (isinstance(value, list) and len(value) == 2):
            raise HistoryError(source, line, f"a cas value is [FROM, TO], not {value!r}")
        if any(isinstance(item, (dict, list)) for item in value):
            raise HistoryError(source, line, f"cas FROM and TO are scalars, not {value!r}")
        return
    elif f in ("read", "get"):
        if kind == "invoke" and value is not None:
            raise HistoryError(source, line, f"a {f} invocation carries null, not {value!r}")
    elif f == "add":
        if type(value) is not int:
            raise HistoryError(source, line, f"add takes an integer, not {value!r}")
    elif f == "append" and not isinstance(value, str):
        raise HistoryError(source, line, f"append takes a string, not {value!r}")
    if isinstance(value, (dict, list)) and f != "cas":
        raise HistoryError(source, line, f"a {f} value is a scalar, not {value!r}")


def event_to_json(event: Event) -> str:
    """One ``history.jsonl`` line (without the newline) for ``event``."""
    value = list(event.value) if isinstance(event.value, tuple) else event.value
    record = {
        "index": event.index,
        "process": event.process,
        "type": event.type,
        "f": event.f,
        "key": event.key,
        "value": value,
        "time": event.time,
    }
    return json.dumps(record, separators=(", ", ": "))


def write_jsonl(target: str | Path | TextIO, events: Iterable[Event]) -> None:
    """Write ``events`` as ``history.jsonl`` to a path or an open text file."""
    if isinstance(target, (str, Path)):
        with open(target, "w", encoding="utf-8") as handle:
            write_jsonl(handle, events)
        return
    for event in events:
        target.write(event_to_json(event) + "\n")


class Recorder:
    """Collects a client history as a workload runs: ``invoke`` when a client sends an
    operation, ``complete`` when it learns the outcome; ``events`` is then what
    :func:`write_jsonl` writes. It refuses what :func:`operations` would refuse (a second
    invocation by a busy process, a completion with nothing outstanding, time going back),
    so a workload's bug shows where it happens, not when the history is read."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._pending: dict[Process, Event] = {}

    def invoke(self, process: Process, f: str, value: Any, time: int, key: Key = None) -> Event:
        if f not in FUNCTIONS:
            raise ValueError(f"unknown function {f!r} (one of {', '.join(FUNCTIONS)})")
        if process in self._pending:
            raise ValueError(f"process {process} invokes {f} with {self._pending[process].f} outstanding")
        event = self._append(process, "invoke", f, key, value, time)
        self._pending[process] = event
        return event

    def complete(self, process: Process, kind: str, value: Any, time: int) -> Event:
        """Record the outcome ``kind`` (ok, fail or info) of ``process``'s outstanding operation."""
        if kind not in COMPLETIONS:
            raise ValueError(f"a completion is one of {', '.join(COMPLETIONS)}, not {kind!r}")
        invoke = self._pending.pop(process, None)
        if invoke is None:
            raise ValueError(f"process {process} has no operation outstanding")
        return self._append(process, kind, invoke.f, invoke.key, value, time)

    def _append(self, process: Process, kind: str, f: str, key: Key, value: Any, time: int) -> Event:
        if self.events and time < self.events[-1].time:
            raise ValueError(f"time {time} goes back (the last event is at {self.events[-1].time})")
        event = Event(len(self.events), process, kind, f, key, value, time)
        self.events.append(event)
        return event


# --- dispatch ------------------------------------------------------------------------

_READERS = {"jepsen": read_jepsen, "jepsen-kv": read_jepsen_kv, "jsonl": read_jsonl}


def read_history(path: str | Path, fmt: str) -> list[Event]:
    """Read ``path`` in format ``fmt`` (one of :data:`FORMATS`)."""
    reader = _READERS.get(fmt)
    if reader is None:
        raise HistoryError(str(path), None, f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return reader(path)


def infer_format(path: str | Path) -> str:
    """The format of ``path`` judged by its first non-blank line: ``{"`` is jsonl, ``{:`` is
    jepsen-kv, a Jepsen log line is jepsen; anything else is an error asking for a format."""
    for number, text in _lines(path):
        text = text.strip()
        if not text:
            continue
        if text.startswith('{"'):
            return "jsonl"
        if text.startswith("{:"):
            return "jepsen-kv"
        if text.startswith("INFO") and "jepsen" in text:
            return "jepsen"
        raise HistoryError(
            str(path), number, f"cannot tell the format from this line; give --format ({', '.join(FORMATS)})"
        )
    raise HistoryError(str(path), None, "the file is empty: no history to check")


def _lines(path: str | Path) -> list[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8") as handle:
            return list(enumerate(handle.read().splitlines(), start=1))
    except FileNotFoundError:
        raise HistoryError(str(path), None, "no such file") from None
    except IsADirectoryError:
        raise HistoryError(str(path), None, "is a directory, not a history file") from None
    except UnicodeDecodeError as exc:
        raise HistoryError(str(path), None, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise HistoryError(str(path), None, f"cannot be read: {exc.strerror}") from None
