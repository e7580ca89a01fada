"""Bearer JWTs checked against a JWKS, and the dev signing key ``carecite token mint`` uses.

Validation (RFC 7519 / 8725): the algorithm must be RS256 or ES256 and match the JWKS key named by
``kid``; signature, ``iss``, ``aud``, ``exp`` and ``nbf`` are checked (``exp`` and ``sub`` required).
The carecite user is ``fhirUser`` when present (``Practitioner/<user id>`` or a bare id), else ``sub``.

The dev key is an ES256 (P-256) private key generated once in ``<data_dir>/api/signing-key.pem``
(mode 0600); its public half is published as ``<data_dir>/api/jwks.json``, the default JWKS when
``CARECITE_API_JWKS`` is empty. Production deployments point ``CARECITE_API_JWKS`` at their
identity provider's JWKS URL instead and never mint.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from carecite.api.errors import ApiError, missing_token, unauthorized
from carecite.api.scopes import Scopes
from carecite.settings import Settings
from carecite.text.storable import storable

ALGORITHMS = ["RS256", "ES256"]


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says: a carecite user id and what the token's scopes allow."""

    user_id: str
    scopes: Scopes
    token_id: str | None


# --------------------------------------------------------------------------- the dev key
def key_dir(settings: Settings) -> Path:
    return settings.data_dir / "api"


def dev_jwks_path(settings: Settings) -> Path:
    return key_dir(settings) / "jwks.json"


def ensure_dev_key(settings: Settings) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """The dev signing key and its ``kid``, generated (and the JWKS published) on first use."""
    folder = key_dir(settings)
    pem = folder / "signing-key.pem"
    if pem.is_file():
        key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{pem} is not an EC private key")
    else:
        folder.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        data = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(pem, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    kid = _thumbprint(jwk)
    jwks = {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "ES256"}]}
    path = dev_jwks_path(settings)
    if not path.is_file() or json.loads(path.read_text()) != jwks:
        path.write_text(json.dumps(jwks, indent=2) + "\n")
    return key, kid


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: a stable key id."""
    import base64
    import hashlib

    members = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def mint_token(
    settings: Settings,
    user_id: str,
    scopes: list[str],
    *,
    ttl_s: int | None = None,
    patient: str | None = None,
    audience: str | None = None,
    not_before_s: int = 0,
) -> str:
    """A dev token for ``user_id`` signed with the data dir's key (for local use and tests)."""
    key, kid = ensure_dev_key(settings)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": settings.api_issuer,
        "aud": audience or settings.api_audience,
        "sub": user_id,
        "iat": now,
        "nbf": now + not_before_s,
        "exp": now + (settings.api_token_ttl_s if ttl_s is None else ttl_s),
        "jti": str(uuid.uuid4()),
        "scope": " ".join(scopes),
    }
    if patient:
        claims["patient"] = patient
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


# --------------------------------------------------------------------------- verification
class TokenVerifier:
    """Validates bearer tokens against the configured JWKS (file or URL), re-read when keys rotate."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        source = settings.api_jwks or ""
        self._url = source if source.startswith(("http://", "https://")) else None
        self._file = None if self._url else Path(source) if source else dev_jwks_path(settings)
        if self._file is not None and not source:
            ensure_dev_key(settings)  # the dev JWKS exists before the first token is minted
        self._client = jwt.PyJWKClient(self._url, cache_keys=True) if self._url else None
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._keys: dict[str, jwt.PyJWK] = {}

    def _file_keys(self) -> dict[str, jwt.PyJWK]:
        assert self._file is not None
        with self._lock:
            try:
                stamp = self._file.stat().st_mtime
            except OSError:
                return {}
            if stamp != self._stamp:
                data = json.loads(self._file.read_text())
                self._keys = {k.key_id or "": k for k in jwt.PyJWKSet.from_dict(data).keys}
                self._stamp = stamp
            return self._keys

    def _key(self, token: str) -> jwt.PyJWK:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            raise unauthorized("the token's algorithm is not accepted (RS256 or ES256)")
        kid = str(header.get("kid") or "")
        if self._client is not None:
            return self._client.get_signing_key(kid)
        keys = self._file_keys()
        key = keys.get(kid) if kid else (next(iter(keys.values())) if len(keys) == 1 else None)
        if key is None:
            raise unauthorized("the token was not signed by a known key")
        return key

    def verify(self, authorization: str | None) -> Principal:
        if not authorization:
            raise missing_token()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise missing_token()
        s = self.settings
        try:
            key = self._key(token.strip())
            claims: dict[str, Any] = jwt.decode(
                token.strip(),
                key,
                algorithms=[key.algorithm_name] if key.algorithm_name in ALGORITHMS else ALGORITHMS,
                audience=s.api_audience,
                issuer=s.api_issuer,
                leeway=s.api_leeway_s,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except ApiError:
            raise
        except jwt.ExpiredSignatureError:
            raise unauthorized("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise unauthorized("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise unauthorized("the token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("the token is from another issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise unauthorized(f"the token lacks the {exc.claim} claim") from None
        except (jwt.PyJWTError, ValueError):
            raise unauthorized("the token is malformed or its signature does not verify") from None
        for claim in NUMERIC_DATE_CLAIMS:  # RFC 7519: a NumericDate is a JSON number, never a string
            value = claims.get(claim)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise unauthorized(f"the token's {claim} is not a number (RFC 7519 NumericDate)")
        user = storable(_user_of(claims))  # a NUL or lone surrogate in a claim never reaches a store
        if not user:
            raise unauthorized("the token names no user")
        patient = claims.get("patient")
        return Principal(
            user_id=user,
            scopes=Scopes.parse(
                claims.get("scope") or claims.get("scp"), storable(str(patient)) if patient else None
            ),
            token_id=str(claims["jti"]) if claims.get("jti") else None,
        )


NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")


def _user_of(claims: dict[str, Any]) -> str:
    fhir_user = claims.get("fhirUser")
    if isinstance(fhir_user, str) and fhir_user.strip():
        return fhir_user.rstrip("/").rsplit("/", 1)[-1]
    sub = claims.get("sub")
    return sub.strip() if isinstance(sub, str) else ""
