"""Command groups of the `subnet` command: each module (``canister`` is a package, its
``arguments`` module) exposes ``register(subparsers)`` and ``subnet.cli`` lists them.
They parse arguments and print; the work is done by the libraries below (``client``,
``subnet.processes``, ``subnet.sim``). ``options`` declares the options several share (``install_options`` those of the two that
install code)."""

__all__ = [
    "build",
    "candid",
    "canister",
    "check",
    "deploy",
    "identity",
    "install_options",
    "local",
    "new",
    "options",
    "scenario",
    "sim",
    "sui_client",
    "sui_move",
]
