"""``python -m qcertlib.cli``."""

from qcertlib.cli import main

main()
