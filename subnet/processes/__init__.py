"""The process backend as a library: a local subnet of one OS process per replica.

- ``layout``: the subnet's files (genesis, node keys, per-replica directories);
- ``launcher``: spawn, signal, stop and find replica processes;
- ``ports``: which ports are taken, and by whom, before anything is spawned;
- ``supervision``: start a whole subnet and wait until it answers, or keep it in the
  foreground;
- ``status``: ask every replica for its status, wait for catch-up.

The `subnet start | stop | status` commands (``subnet.commands.local``), the demo, the
benchmarks and the process tests all use these modules.
"""

__all__ = ["launcher", "layout", "ports", "status", "supervision"]
