"""uvicorn's access log (issue 28, item 8): route templates and parameter names, never the patient
ids, source refs or request ids a URL carries; a real uvicorn over the small world."""

from __future__ import annotations

import logging

import httpx
import pytest

from carecite.settings import Settings

pytestmark = pytest.mark.slow
PATIENT = "be8bdec0-19b8-5c70-8ace-89922887fb7e"  # patient-00001.json
USER = "cc-ben"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_access_log_names_routes_never_patient_ids_or_source_refs(small_api: tuple[Settings, str]) -> None:
    from carecite.api.auth import mint_token

    settings, base = small_api
    auth = {"Authorization": f"Bearer {mint_token(settings, USER, ['user/*.rs'])}"}
    lines = _Lines()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(lines)
    try:
        with httpx.Client(base_url=base, headers=auth, timeout=120) as http:
            http.get(
                f"/v1/patients/{PATIENT}/similar",
                params={"kind": "note", "ref": "DocumentReference/doc-secret-1"},
            )
            http.get("/v1/sources/DocumentReference/doc-secret-2", params={"cited_by": "req-secret-3"})
            http.get(f"/v1/sources/Task%2F{PATIENT}")
            http.get(f"/nowhere/{PATIENT}")
            http.get("/healthz", params={PATIENT: "1"})
    finally:
        access.removeHandler(lines)
    logged = "\n".join(lines.lines)
    assert len(lines.lines) == 5, logged
    for secret in (PATIENT, "doc-secret-1", "doc-secret-2", "req-secret-3", "DocumentReference"):
        assert secret not in logged, logged
    assert '"GET /v1/patients/{patient_id}/similar?kind=…&ref=… HTTP/1.1" 403' in logged
    assert '"GET /v1/sources/{source_id:path}?cited_by=… HTTP/1.1" 403' in logged
    assert '"GET (unmatched) HTTP/1.1" 404' in logged
    assert '"GET /healthz?…=… HTTP/1.1" 200' in logged
