"""Batch reports: a JSON file per batch and a summary of the results."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qcertlib._io import write_atomic
from qcertlib.batch._model import BatchResult, BatchStatus

__all__ = ["BatchSummary", "summarize", "write_report"]


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """Counts and timing of a batch."""

    total: int
    ok: int
    failed: int
    skipped: int
    seconds: float

    @property
    def documents_per_second(self) -> float:
        """Signed documents per second of wall-clock time (0 when no time passed)."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "total": self.total,
            "ok": self.ok,
            "failed": self.failed,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "documents_per_second": round(self.documents_per_second, 1),
        }


def summarize(results: Iterable[BatchResult], seconds: float = 0.0) -> BatchSummary:
    """Count the results by status; ``seconds`` is the batch's wall-clock time."""
    counts = dict.fromkeys(BatchStatus, 0)
    for r in results:
        counts[r.status] += 1
    return BatchSummary(
        total=sum(counts.values()),
        ok=counts[BatchStatus.OK],
        failed=counts[BatchStatus.FAILED],
        skipped=counts[BatchStatus.SKIPPED],
        seconds=seconds,
    )


def write_report(
    path: str | os.PathLike[str],
    results: Iterable[BatchResult],
    *,
    seconds: float = 0.0,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the JSON report of a batch (atomically) and return its path.

    The file holds ``{"created": ..., "summary": {...}, "documents": [...]}`` with
    one entry per document: input, output, status (ok / failed / skipped), error,
    digest (hex hash of the input) and seconds. ``extra`` adds top-level keys
    (e.g. the format and level).
    """
    docs = list(results)
    report: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **(extra or {}),
        "summary": summarize(docs, seconds).to_dict(),
        "documents": [r.to_dict() for r in docs],
    }
    data = json.dumps(report, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    return write_atomic(path, data, mode=0o644)
