"""Monitoring beyond the audit trail: embedding drift (drift.py)."""
