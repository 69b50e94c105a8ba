"""``python -m qcertlib`` runs the ``qcert`` command."""

from qcertlib.cli import main

main()
