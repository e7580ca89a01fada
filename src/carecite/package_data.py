"""Files that ship inside the package (wheel package data), found beside the code and never through
the repository, so an installed wheel answers exactly as a checkout does."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# Prompt templates (*.md); their hash goes into every answer and audit record.
PROMPTS_DIR = PACKAGE_DIR / "prompts"
# The committed, deterministic synthetic world: FHIR bundles, users.json, gold.jsonl, manifest.json.
COMMITTED_WORLD = PACKAGE_DIR / "synthetic_data"
