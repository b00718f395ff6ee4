"""gunicorn settings of bench/pingback_flood.py: each worker writes its counts as it exits."""

from web.gunicorn_conf import limit_request_field_size, limit_request_fields, limit_request_line  # noqa: F401


def worker_exit(_server: object, _worker: object) -> None:
    from bench.pingback_app import write_counts

    write_counts()
