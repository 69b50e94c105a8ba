"""Any concurrent.futures.Executor works: Dask's, on a local cluster bound to 127.0.0.1
(the ``dask`` extra). The stage records cross to the workers as plain data."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from qcertlib.batch import BatchJob, BatchSigner
from tests.batch.conftest import Seal, make_inputs
from tests.conftest import require_tool


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_dask_local_cluster_executor(seal: Seal, tmp_path: Path, processes: bool) -> None:
    distributed: Any = importlib.import_module("distributed")  # the optional "dask" extra
    openssl = require_tool("openssl")["openssl"]
    inputs = make_inputs(tmp_path / "in", "cades", 40)
    jobs = [BatchJob.into(p, tmp_path / "out", "cades") for p in inputs]
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=processes,
            protocol="tcp",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = client.get_executor()
        results = list(BatchSigner(seal.backend(), executor=executor).sign_all(jobs))
    assert all(r.ok for r in results), {r.error for r in results}
    for src in inputs[::8]:
        proc = subprocess.run(
            [openssl, "cms", "-verify", "-binary", "-inform", "DER",
             "-in", str(tmp_path / "out" / f"{src.name}.p7s"), "-content", str(src),
             "-CAfile", str(seal.root_pem), "-purpose", "any", "-out", "/dev/null"],
            capture_output=True, check=False,
        )  # fmt: skip
        assert proc.returncode == 0
