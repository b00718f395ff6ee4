"""The real app for bench/pingback_flood.py, with per-worker counts written when the worker exits.

Counted here, outside the app: ``refused`` by the shield, ``dispatched`` (Flask's request_started)
and ``pingbacks_dispatched`` (those of them with a pingback's marks, which must stay at zero).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flask import request, request_started

from web.app import create_app
from web.shield import is_pingback

app = create_app()
counts = {"dispatched": 0, "pingbacks_dispatched": 0}


def _dispatched(_sender: object, **_extra: object) -> None:
    counts["dispatched"] += 1
    if is_pingback(request.environ):
        counts["pingbacks_dispatched"] += 1


request_started.connect(_dispatched, app)


def write_counts() -> None:
    """Called by gunicorn's worker_exit hook (bench/pingback_gunicorn.py)."""
    folder = Path(os.environ["BENCH_COUNTS_DIR"])
    (folder / f"{os.getpid()}.json").write_text(json.dumps({**counts, "refused": app.wsgi_app.refused}))
