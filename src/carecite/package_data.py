"""Files that ship inside the package (wheel package data), found beside the code and never through
the repository, so an installed wheel answers exactly as a checkout does."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    """A folder kept at the repository root (where the design card puts it) and force-included into
    the wheel beside the code: the wheel's copy when installed, the root's in a checkout."""
    inside = PACKAGE_DIR / name
    return inside if inside.is_dir() else PACKAGE_DIR.parents[1] / name


# Prompt templates (*.md); their hash goes into every answer and audit record.
PROMPTS_DIR = _shipped("prompts")
# The committed, deterministic synthetic world: FHIR bundles, users.json, gold.jsonl, manifest.json.
COMMITTED_WORLD = _shipped("synthetic_data")
# Question sets written by independent authors (issue 25), frozen by hash.
QUESTION_SETS = _shipped("question_sets")
