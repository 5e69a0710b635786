"""subnet: the orchestration on top of the replicas (``node``) and the user side
(``client``), both built on the shared vocabulary (``vocab``).

- ``sim``: a whole subnet in one process, in virtual time, reproducible from a seed;
- ``processes``: the process backend, one OS process per replica (start, stop, status);
- ``checks``: checkers of client histories (linearizability), with their file formats;
- ``cli`` and ``commands``: the `subnet` command (argument parsing and printing only);
- ``demo``: `make demo`; ``pocket``: a PocketIC-style API over one execution environment;
- ``scenario``: fault-injection experiments from TOML files, their checks and results;
- ``samples``: the Motoko sources the demo and the benchmarks deploy.
"""

__all__ = ["checks", "cli", "commands", "demo", "pocket", "processes", "samples", "scenario", "sim"]
