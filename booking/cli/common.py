"""What every command shares: one transaction per command and refusals shown as plain messages."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click
from flask_babel import force_locale

from ..extensions import db
from ..services.errors import DomainError


def fail(error: DomainError) -> NoReturn:
    """Stop a command with the domain's message (exit code 1), in English like the rest of the
    commands' output (outside a request the messages would take the default locale, Japanese)."""
    with force_locale("en"):
        # On a terminal there are no highlighted fields: say what is wrong with each option.
        if error.fields:
            raise click.ClickException(" ".join(str(text) for text in error.fields.values()))
        raise click.ClickException(str(error.message))


@contextmanager
def one_transaction() -> Iterator[None]:
    """The command's act in one transaction: committed when the block ends, rolled back on a
    refusal (shown with ``fail``) or any other error."""
    try:
        yield
    except DomainError as error:
        db.session.rollback()
        fail(error)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
