"""Values of the batch core: jobs, results, formats and statuses (private module).

All plain, frozen and picklable, so they can cross process (or machine) boundaries.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BatchFormat", "BatchJob", "BatchResult", "BatchStatus"]


class BatchFormat(enum.Enum):
    """The signature format of a batch job."""

    PADES = "pades"
    """PDF in, signed PDF out (same name)."""
    CADES = "cades"
    """Any file in, detached CAdES signature out (the input's name plus ``.p7s``)."""
    XADES = "xades"
    """XML in, XML with an enveloped XAdES signature out (same name)."""

    @classmethod
    def parse(cls, text: str | BatchFormat) -> BatchFormat:
        """``"pades"`` / ``"CAdES"`` ... -> the format (:class:`ValueError` if unknown)."""
        if isinstance(text, BatchFormat):
            return text
        norm = text.strip().lower()
        for fmt in cls:
            if fmt.value == norm:
                return fmt
        raise ValueError(f"unknown batch format {text!r}; use pades, cades or xades")

    def output_name(self, input_name: str) -> str:
        """The output file name for an input file name (CAdES adds ``.p7s``)."""
        return f"{input_name}.p7s" if self is BatchFormat.CADES else input_name


class BatchStatus(enum.Enum):
    """What happened to one document."""

    OK = "ok"
    """Signed; the output exists."""
    FAILED = "failed"
    """Not signed; see the error message. No output was written."""
    SKIPPED = "skipped"
    """Not signed in this run: the output already existed and validated (resume), or
    the batch stopped after an earlier error."""


def _as_path(value: Any) -> Path:
    return value if isinstance(value, Path) else Path(value)


@dataclass(frozen=True, slots=True)
class BatchJob:
    """One document to sign: where it is, where the signed output goes, which format."""

    input: Path
    output: Path
    format: BatchFormat

    def __post_init__(self) -> None:
        object.__setattr__(self, "input", _as_path(self.input))
        object.__setattr__(self, "output", _as_path(self.output))
        object.__setattr__(self, "format", BatchFormat.parse(self.format))
        if self.input.absolute() == self.output.absolute():
            raise ValueError(f"the output of {self.input} must not be the input itself")

    @classmethod
    def into(cls, input: str | Path, out_dir: str | Path, format: BatchFormat | str) -> BatchJob:
        """A job whose output goes to ``out_dir`` under the input's name (CAdES adds ``.p7s``)."""
        fmt = BatchFormat.parse(format)
        src = _as_path(input)
        return cls(src, _as_path(out_dir) / fmt.output_name(src.name), fmt)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The outcome of one job.

    ``digest`` is the hex SHA-256 (or the batch's digest algorithm) of the input
    document, so a report line can be matched with the file that was signed;
    ``seconds`` is the time spent on this document in the prepare and finish stages
    (its share of the signing stage included).
    """

    input: Path
    output: Path
    status: BatchStatus
    error: str | None = None
    digest: str | None = None
    seconds: float = field(default=0.0, compare=False)

    @property
    def ok(self) -> bool:
        """True when the document was signed in this run."""
        return self.status is BatchStatus.OK

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (paths as strings)."""
        return {
            "input": str(self.input),
            "output": str(self.output),
            "status": self.status.value,
            "error": self.error,
            "digest": self.digest,
            "seconds": round(self.seconds, 6),
        }
