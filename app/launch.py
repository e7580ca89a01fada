"""Start the Streamlit UI with its models already loading (``carecite demo`` runs this).

Streamlit runs a page only when a browser connects, so the background warm-up
(``ui_common.warm_models``: embedding model, indexes, Presidio + spaCy) used to start with the first
page, and a question asked at once waited for it. Here it starts with the server, in the server
process: ``st.cache_resource`` is process-wide, so the page's own ``warm_models`` / ``get_pipeline``
calls find the same thread and pipeline.

Usage: ``python app/launch.py run app/Home.py [streamlit options]`` (the arguments of
``streamlit``).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def start_warm_up() -> threading.Thread | None:
    """The app's own warm-up thread, started now (None when there is no data to open yet)."""
    import ui_common

    if not ui_common.has_data(ui_common.settings()):
        return None  # the page says how to build the data dir
    return ui_common.warm_models(ui_common.data_dir())


def main() -> int:
    from streamlit.web import cli

    start_warm_up()
    return int(cli.main() or 0)


if __name__ == "__main__":
    sys.exit(main())
