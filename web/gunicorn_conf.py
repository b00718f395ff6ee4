"""gunicorn's settings for `engagement serve` (``--config python:web.gunicorn_conf``); GUNICORN_CMD_ARGS
and the command line override them.

Oversized requests are gunicorn's to refuse, before any Python of ours runs (docs/security.md):
Flask bounds the body (MAX_CONTENT_LENGTH in web/app.py), gunicorn the request line and the headers.
"""

from typing import Any

# The request line (method, path and query string): 400 beyond it. Our longest URLs are signed links
# (about 200 characters) and search queries; 4094 is gunicorn's default, kept on purpose.
limit_request_line = 4094
# Header fields per request: browsers send about 15, proxies add a few. (gunicorn's default is 100.)
limit_request_fields = 50
# Bytes of one header field: the session cookie and a long User-Agent fit well within it.
limit_request_field_size = 8190


def post_worker_init(worker: Any) -> None:
    """Embedded, each served process sweeps the outbox for what no process delivered (web/relays.py)."""
    from web.relays import start_sweeper

    start_sweeper(worker.wsgi)
