"""flask --app booking …: the commands an operator runs (README "Operator commands").

Each command parses its options, calls one service with ``Actor.command_line()`` inside
``one_transaction`` (committed once at the end; a refusal is rolled back and shown as a
plain message with exit code 1) and prints the result.
"""
from __future__ import annotations

from flask import Flask

from . import accounts, data, desk, mail


def register(app: Flask) -> None:
    for module in (accounts, data, desk, mail):
        for command in module.COMMANDS:
            app.cli.add_command(command)
