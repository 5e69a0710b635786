"""Checkers of what clients saw: histories in Jepsen's sense and the verdicts on them.

- ``history``: the vocabulary (invoke, then ok, fail or info) and the file formats it is
  read from (Jepsen's register log, Jepsen's kv maps, the project's ``history.jsonl``);
- ``linearizable``: a linearizability checker (Wing-Gong with Lowe's memoization,
  P-compositional per key) for register, kv and counter models, whose verdict is valid,
  invalid (with the operations involved) or unknown (a budget ran out, with the reason);
- ``durability``: every acknowledged write is in the final chain, exactly once.

`subnet check linearizable|durability` are the commands over them.
"""

__all__ = ["durability", "history", "linearizable"]
