"""Imported by the batch fork server before it forks any worker.

Installs the process-wide filter for cryptography's DSA deprecation warning (see
:mod:`qcertlib._compat`; the fork server and its workers are qcertlib's own processes),
then imports what every worker needs, so workers start without re-importing pyHanko
and signxml.
"""

from __future__ import annotations

import contextlib
import importlib

from qcertlib._compat import ignore_dsa_deprecation

ignore_dsa_deprecation()

for _name in (
    "qcertlib.batch._stages",
    "qcertlib.signing.cades",
    "qcertlib.signing.pades",
    "qcertlib.signing.xades",
    "qcertlib.validation.pdf",
    "qcertlib.validation.xml",
    "pyhanko.sign.signers",
    "signxml.xades",
):
    # an optional extra that is not installed is reported by the stage needing it
    with contextlib.suppress(ImportError):
        importlib.import_module(_name)
