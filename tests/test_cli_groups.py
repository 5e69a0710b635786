"""The `subnet` command imports only the module of the command it runs: the map from
command to module must say exactly what the modules register, and the parser built for
one command must parse that command as the full parser does."""

from __future__ import annotations

import argparse
import importlib

import pytest

from subnet import cli


def registered(module: str) -> set[str]:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    importlib.import_module(module).register(subparsers)
    return set(subparsers.choices)


def test_the_map_names_every_command_of_every_module_and_nothing_else() -> None:
    seen: dict[str, str] = {}
    for module in cli.COMMAND_GROUPS:
        for command in registered(module):
            assert command not in seen, f"{command} registered by {seen.get(command)} and {module}"
            seen[command] = module
    assert seen == cli.GROUP_OF_COMMAND
    assert set(cli.GROUP_OF_COMMAND.values()) == set(cli.COMMAND_GROUPS)


@pytest.mark.parametrize(
    "argv",
    [
        ["canister", "call", "hello", "greet", '("a")', "--output", "json"],
        ["start", "--background", "--replicas", "4", "--port", "4943", "--block-time", "50"],
        ["sim", "--replicas", "4", "--seed", "1", "--duration", "20", "--output", "json"],
        ["client", "call", "--package", "0x2", "--module", "m", "--function", "f"],
        ["deploy", "hello", "--yes"],
    ],
)
def test_the_parser_for_one_command_parses_as_the_full_one(argv: list[str]) -> None:
    assert cli.groups_for(argv) == (cli.GROUP_OF_COMMAND[argv[0]],)
    one = vars(cli.build_parser(cli.groups_for(argv)).parse_args(argv))
    full = vars(cli.build_parser().parse_args(argv))
    assert one == full


@pytest.mark.parametrize("argv", [[], ["--help"], ["--identity", "alice", "canister", "list"], ["nonsense"]])
def test_anything_else_gets_the_full_parser(argv: list[str]) -> None:
    assert cli.groups_for(argv) == cli.COMMAND_GROUPS


def test_an_unknown_command_is_named_with_every_choice(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        cli.main(["nonsense"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nonsense'" in err
    for command in cli.GROUP_OF_COMMAND:
        assert repr(command) in err
