"""The install options `deploy` and `canister install` share, as dfx declares them for both
(``InstallModeOpt`` and its neighbours). A module of its own, apart from
``subnet.commands.options``, so that commands that never install do not import the
deploy workflow."""

from __future__ import annotations

import argparse
from pathlib import Path

from client.deploy import INSTALL_MODES, InstallOptions

__all__ = ["add_install_options", "install_options"]


def add_install_options(parser: argparse.ArgumentParser) -> None:
    """The install options of `deploy` and `canister install`, as dfx's ``InstallModeOpt``
    and its neighbours declare them for both commands."""
    parser.add_argument(
        "--mode",
        "-m",
        choices=INSTALL_MODES,
        default="auto",
        help="auto: install if the canister is empty, else upgrade (default)",
    )
    parser.add_argument(
        "--argument", default="()", metavar="'(...)'", help="init/post_upgrade argument, Candid text"
    )
    parser.add_argument(
        "--skip-pre-upgrade",
        action="store_true",
        help="skip the pre_upgrade hook on upgrade (mode upgrade or auto)",
    )
    parser.add_argument(
        "--wasm-memory-persistence",
        choices=("keep", "replace"),
        help="keep or replace the Wasm memory on upgrade (mode upgrade or auto; default: keep when "
        "the installed module has enhanced orthogonal persistence)",
    )
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="upgrade despite a failed Candid check or stable-type warnings; reinstall without asking",
    )
    parser.add_argument(
        "--upgrade-unchanged",
        action="store_true",
        help="upgrade even when the installed module is the same (skipped by default, as dfx does)",
    )


def install_options(args: argparse.Namespace, wasm: Path | None = None) -> InstallOptions:
    """What ``add_install_options`` parsed."""
    return InstallOptions(
        mode=args.mode,
        argument=args.argument,
        wasm=wasm,
        skip_pre_upgrade=args.skip_pre_upgrade,
        wasm_memory_persistence=args.wasm_memory_persistence,
        yes=args.yes,
        upgrade_unchanged=args.upgrade_unchanged,
    )
