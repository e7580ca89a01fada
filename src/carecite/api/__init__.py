"""The HTTP API (`carecite serve`): FastAPI over the same Pipeline the CLI and the UI use.

Thin by design: modules here authenticate, limit, translate errors and serialise. Every decision
about who sees what lives in ``carecite.access``; answering and retrieval in ``carecite.answering``
and ``carecite.retrieval``. See docs/api.md.
"""
