"""Developer sessions; ``scripts/check`` runs the same tools in one venv for CI."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.default_venv_backend = "venv"


@nox.session
def lint(session: nox.Session) -> None:
    """ruff format --check and ruff check."""
    session.install("ruff")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src, tests and benchmarks."""
    session.install("-e", ".[dev]")
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite with branch coverage (third-party tools: scripts/dev-setup)."""
    session.install("-e", ".[test]")
    session.run("pytest", "--cov", "--cov-report=term", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Sphinx, warnings as errors."""
    session.install("-e", ".[dev]")
    session.run("sphinx-build", "-W", "-b", "html", "docs", "docs/_build/html")


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark under benchmarks/ (each prints ours next to its baselines)."""
    session.install("-e", ".[all]")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
