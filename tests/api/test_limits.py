"""Request limits at the HTTP edge (issue 28, item 8): request headers over the cap get 431 before
anything parses them; a real uvicorn over the small world."""

from __future__ import annotations

import httpx
import pytest

from carecite.settings import Settings

pytestmark = pytest.mark.slow


def test_oversized_headers_get_431_before_the_token_is_parsed(small_api: tuple[Settings, str]) -> None:
    settings, base = small_api
    huge = "Bearer " + "a" * (5 * 1024 * 1024)  # 5 MB
    resp = httpx.post(f"{base}/v1/ask", json={"question": "x"}, headers={"Authorization": huge}, timeout=60)
    assert resp.status_code == 431, resp.text[:200]
    assert resp.json()["error"]["code"] == "headers_too_large"
    many = {f"X-Pad-{i}": "b" * 1000 for i in range(20)}  # 20 KB over many headers: also over the cap
    assert httpx.get(f"{base}/healthz", headers=many, timeout=60).status_code == 431
    ordinary = {"X-Pad": "c" * 8000}  # a big JWT's worth of header stays within the cap
    assert httpx.get(f"{base}/healthz", headers=ordinary, timeout=60).status_code == 200
    assert settings.api_max_header_bytes == 16_384
