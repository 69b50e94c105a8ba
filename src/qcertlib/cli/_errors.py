"""How CLI commands turn qcertlib errors into a message and an exit status.

Exit status everywhere: 1 for a refusal (e.g. the CA refusing an issuance, when a
command declares it), 2 for input that cannot be read or any other
:class:`~qcertlib.errors.QcertError`; a :class:`ValueError` is a usage error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

__all__ = ["Failure", "exit_on_errors", "failure"]

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """Unreadable input, wrong PIN, refused operation: exit status 2."""

    exit_code = 2


def failure(exc: Exception) -> Failure:
    """A :class:`Failure` naming the error's type and message."""
    return Failure(f"{type(exc).__name__}: {exc}")


def exit_on_errors(*, refusals: tuple[type[Exception], ...] = ()) -> Callable[[F], F]:
    """Decorate a command: errors in *refusals* print ``refused: …`` and exit 1, other
    :class:`~qcertlib.errors.QcertError` print ``error: …`` and exit 2, and a
    :class:`ValueError` becomes a usage error."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from qcertlib.errors import QcertError

            try:
                return func(*args, **kwargs)
            except refusals as exc:
                click.echo(f"refused: {exc}", err=True)
                raise SystemExit(1) from None
            except QcertError as exc:
                click.echo(f"error: {exc.message}", err=True)
                raise SystemExit(2) from None
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None

        return wrapper  # type: ignore[return-value]

    return decorate
