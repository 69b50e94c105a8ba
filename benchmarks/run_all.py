"""Run every ``bench_*.py`` in this folder, one after the other, in fresh processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    scripts = sorted(here.glob("bench_*.py"))
    status = 0
    for script in scripts:
        print(f"\n### {script.name}", flush=True)
        status |= subprocess.call([sys.executable, str(script), *sys.argv[1:]])
    if not scripts:
        print("no benchmarks yet")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
