"""`carecite token mint` and `carecite serve` as a user runs them (no world needed)."""

from __future__ import annotations

from pathlib import Path

import jwt
from typer.testing import CliRunner

from carecite.api.auth import TokenVerifier
from carecite.cli import app
from carecite.settings import Settings


def test_token_mint_prints_a_token_the_server_accepts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = CliRunner().invoke(
        app,
        [
            "--data-dir",
            str(data),
            "token",
            "mint",
            "--user",
            "md-farah",
            "--scope",
            "user/Observation.rs",
            "--ttl",
            "120",
        ],
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "md-farah" and claims["scope"] == "user/Observation.rs"
    assert claims["exp"] - claims["iat"] == 120
    who = TokenVerifier(Settings(data_dir=data)).verify(f"Bearer {token}")
    assert who.user_id == "md-farah" and who.scopes.user_types == frozenset({"Observation"})
    assert (data / "api" / "signing-key.pem").stat().st_mode & 0o077 == 0, "the private key is private"


def test_serve_without_data_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "empty"), "serve"])
    assert result.exit_code == 2
    assert "carecite ingest synthetic" in result.output and "Traceback" not in result.output
