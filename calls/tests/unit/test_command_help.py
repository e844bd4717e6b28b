"""Every flag of every management command of ours says what it does and its default."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import get_commands, load_command_class

OUR_APPS = ("calls", "assistants", "calls.tooling")
# Django's own options, on every command: documented by Django.
DJANGO_OPTIONS = {
    "help",
    "version",
    "verbosity",
    "settings",
    "pythonpath",
    "traceback",
    "no_color",
    "force_color",
    "skip_checks",
}


def our_commands() -> list[str]:
    return sorted(name for name, app in get_commands().items() if app in OUR_APPS)


def actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from actions(sub)
        elif action.dest not in DJANGO_OPTIONS:
            yield action


def test_it_has_commands_to_check() -> None:
    assert {"assistants", "calls", "simulate_call", "serve_info"} <= set(our_commands())


def test_it_keeps_the_dev_commands_in_the_devtools_app() -> None:
    commands = get_commands()
    dev = ["bench", "demo_call", "realtime_simulator", "seed_calls"]
    dev += ["simulate_call", "tool_echo_server"]
    assert {name: commands.get(name) for name in dev} == dict.fromkeys(
        dev, "calls.tooling"
    )
    for name in ("serve", "serve_info", "calls", "purge_calls", "export_calls"):
        assert commands[name] == "calls"


@pytest.mark.parametrize("name", our_commands())
def test_it_documents_every_flag_and_its_default(name: str) -> None:
    command: Any = load_command_class(get_commands()[name], name)
    parser = command.create_parser("manage.py", name)
    for action in actions(parser):
        flag = "/".join(action.option_strings) or action.dest
        assert action.help and action.help != argparse.SUPPRESS, f"{name} {flag}"
        has_default = action.default not in (None, False, argparse.SUPPRESS)
        if (
            action.option_strings
            and has_default
            and not isinstance(action.default, list)
        ):
            assert "default" in action.help.lower(), f"{name} {flag}: say the default"
