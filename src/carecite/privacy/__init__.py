"""carecite.privacy: PHI detection, redaction and pseudonymisation (Presidio-based).

Presidio's email recognizer uses tldextract, which fetches the public-suffix list over the network
unless this variable is set before presidio is imported; every privacy module imports this package
first, so setting it here covers them all. ``PRESIDIO_DEVICE`` likewise: without it, importing
presidio_analyzer imports torch (seconds on a cold start) only to look for a CUDA device; spaCy's
small model runs on the CPU anyway.
"""

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("PRESIDIO_DEVICE", "cpu")
