"""``qcert lint`` and ``qcert inspect``: exit statuses and the JSON contracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qcertlib.cli import main
from tests.conftest import real_cert_path

from .certgen import der, issue, pem, throwaway_ca

AT = "2026-11-21T00:00:00Z"
INSPECT_KEYS = {
    "kind",
    "qualified",
    "qscd",
    "qc_type",
    "afirma_class",
    "given_name",
    "surnames",
    "nif",
    "email",
    "entity_name",
    "entity_nif",
    "system_name",
    "issuer",
    "policies",
    "not_before",
    "not_after",
    "days_left",
    "renewal_window_open",
    "key_type",
    "key_size",
    "sha256",
}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner(env={"COLUMNS": "250"}).invoke(main, list(args))
    return result.exit_code, result.output


def test_lint_json_contract_and_exit_1_on_errors() -> None:
    path = real_cert_path("accv-real-sello-organo-consell-insular-menorca.pem")
    code, out = _run("lint", str(path), "--format", "json", "--at", AT)
    data = json.loads(out)
    assert code == 1
    assert set(data) == {"profile", "ok", "findings"}
    assert data["profile"] == "eorgan-seal"
    assert data["ok"] is False
    assert all(set(f) == {"code", "severity", "field", "message"} for f in data["findings"])
    assert {"code": "rfc3739.pkix_qc_syntax_v1_present", "severity": "ERROR"}.items() <= next(
        f for f in data["findings"] if f["code"] == "rfc3739.pkix_qc_syntax_v1_present"
    ).items()


def test_lint_exit_0_with_profile_option(tmp_path: Path) -> None:
    path = real_cert_path("fnmt-test-eidas-certificado-pruebas-99999999R.pem")
    code, out = _run("lint", str(path), "--profile", "citizen-fnmt", "--format", "json")
    assert code == 0
    assert json.loads(out)["ok"] is True
    code, out = _run("lint", str(path))
    assert code == 0
    assert "profile: citizen-fnmt" in out
    assert "OK" in out


def test_lint_text_lists_findings(tmp_path: Path) -> None:
    path = tmp_path / "seal.der"
    path.write_bytes(der(issue("eorgan-seal")))
    code, out = _run("lint", str(path), "--profile", "citizen")
    assert code == 1
    assert "profile: citizen" in out
    assert "NOT OK" in out
    assert "profile.holder_kind_mismatch" in out


@pytest.mark.parametrize(
    "content", [b"", b"hello", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]
)
def test_unreadable_input_exits_2(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.pem"
    path.write_bytes(content)
    for command in ("lint", "inspect"):
        code, out = _run(command, str(path))
        assert code == 2, (command, out)
        assert "Error:" in out


def test_missing_file_and_unknown_profile_exit_2(tmp_path: Path) -> None:
    assert _run("lint", str(tmp_path / "none.pem"))[0] == 2
    assert _run("inspect", str(tmp_path / "none.pem"))[0] == 2
    path = real_cert_path("accv-accvca-120.pem")
    assert _run("lint", str(path), "--profile", "no-such-profile")[0] == 2


def test_inspect_json_single_certificate() -> None:
    path = real_cert_path("accv-real-sello-organo-consell-insular-menorca.pem")
    code, out = _run("inspect", str(path), "--format", "json", "--at", AT)
    assert code == 0
    data = json.loads(out)
    assert isinstance(data, dict)
    assert set(data) >= INSPECT_KEYS
    assert (data["kind"], data["afirma_class"], data["entity_nif"]) == ("seal", 8, "S0733002J")
    assert data["not_after"] == "2025-02-21T11:59:00Z"
    assert data["days_left"] < 0
    assert data["renewal_window_open"] is False


def test_inspect_json_chain_is_a_list(tmp_path: Path) -> None:
    path = tmp_path / "chain.pem"
    path.write_bytes(pem(issue("citizen")) + pem(throwaway_ca().cert))
    code, out = _run("inspect", str(path), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert isinstance(data, list)
    assert len(data) == 2
    assert [d["kind"] for d in data] == ["citizen", "other"]
    assert data[0]["nif"] == "12345678Z"
    assert data[1]["afirma_class"] is None


def test_inspect_text_chain(tmp_path: Path) -> None:
    path = tmp_path / "chain.pem"
    path.write_bytes(pem(issue("eorgan-seal")) + pem(throwaway_ca().cert))
    code, out = _run("inspect", str(path))
    assert code == 0
    assert "certificate 1 of 2" in out
    assert "certificate 2 of 2" in out
    assert "seal" in out


def test_bad_at_is_a_usage_error() -> None:
    path = real_cert_path("accv-accvca-120.pem")
    assert _run("inspect", str(path), "--at", "yesterday")[0] == 2
