"""/docs and /redoc offline (issue 28, item 8): every script, style and icon they name is served by
the app itself, from assets shipped in an installed wheel; a real uvicorn over the small world."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from carecite.settings import Settings

pytestmark = pytest.mark.slow


_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""", re.I)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_every_asset_from_the_app_itself(small_api: tuple[Settings, str], page: str) -> None:
    _, base = small_api
    html = httpx.get(f"{base}{page}", timeout=60)
    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    refs = [a or b for a, b in _ASSET.findall(html.text)]
    assert refs, html.text
    external = [r for r in refs if re.match(r"(?:[a-z]+:)?//", r, re.I)]
    assert not external, f"{page} loads from another host: {external}"
    assert "googleapis" not in html.text and "jsdelivr" not in html.text and "cdn" not in html.text.lower()
    scripts = [r for r in refs if r.endswith(".js")]
    assert scripts, refs
    for ref in refs:
        asset = httpx.get(urljoin(f"{base}{page}", ref), timeout=60)
        assert asset.status_code == 200, ref
    for ref in scripts:  # the real bundles, not stubs
        assert len(httpx.get(urljoin(f"{base}{page}", ref), timeout=60).content) > 500_000, ref


def test_docs_assets_ship_inside_an_installed_package() -> None:
    import fastapi_offline

    static = Path(fastapi_offline.__file__).parent / "static"
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"} <= {
        p.name for p in static.iterdir()
    }
