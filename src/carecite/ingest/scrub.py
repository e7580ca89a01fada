"""Index-text scrubbing lives with the identity it scrubs: ``carecite.privacy.identity``."""

from carecite.privacy.identity import PLACEHOLDERS, PatientIdentity, scrub_identifiers

__all__ = ["PLACEHOLDERS", "PatientIdentity", "scrub_identifiers"]
