"""uvicorn's access log without the ids in URLs.

A request line such as ``GET /v1/patients/<FHIR id>/similar?ref=Encounter/<id>`` or
``GET /v1/sources/DocumentReference/<id>?cited_by=<request id>`` named a patient and a source in the
access log, which any operator reads. This filter rewrites the path of each access record to the
route's template (``/v1/patients/{patient_id}/similar``) and keeps only the query's parameter
names (``?kind=…&ref=…``); a path that matches no route is logged as ``(unmatched)``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

from starlette.applications import Starlette

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


class AccessLogPaths(logging.Filter):
    """A filter for the ``uvicorn.access`` logger: paths as route templates, query values dropped."""

    def __init__(self, app: Starlette) -> None:
        super().__init__()
        self.app = app

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn: '%s - "%s %s HTTP/%s" %d' % (client, method, path with query, version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], self.template(args[2]), args[3], args[4])
        return True

    def template(self, path_with_query: str) -> str:
        path, _, query = path_with_query.partition("?")
        shown = "(unmatched)"
        for route in self.app.routes:
            regex = getattr(route, "path_regex", None)
            if regex is not None and regex.match(path):
                shown = getattr(route, "path", shown) or shown
                if "{" not in shown and shown != path:  # a mount (static assets): its prefix only
                    shown = shown.rstrip("/") + "/…"
                break
        if query:
            names = sorted({k if _PARAM_NAME.fullmatch(k) else "…" for k, _ in parse_qsl(query, True)})
            shown += "?" + "&".join(f"{name}=…" for name in names)
        return shown
