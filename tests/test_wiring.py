"""Wiring: the redactor is built without importing transformers or torch (seconds of a cold ask),
and both stay importable afterwards."""

from __future__ import annotations

import subprocess
import sys


def test_building_the_redactor_redacts_without_importing_transformers_or_torch() -> None:
    code = (
        "import sys\n"
        "from carecite.wiring import build_redactor\n"
        "out = build_redactor().redact('Call Jane Doe at 555-341-3425.')\n"
        "assert 'Jane Doe' not in out and '555-341-3425' not in out, out\n"
        "assert 'transformers' not in sys.modules and 'torch' not in sys.modules\n"
        "import transformers  # still importable for a configured cross-encoder\n"
        "import torch  # and for bulk encoding\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-800:]
