"""The WSGI entry point: ``gunicorn web.wsgi:app``."""

import sys

from engagement.config import ConfigError
from web.app import create_app

try:
    app = create_app()
except ConfigError as exc:  # one clear line, no traceback; exit code 4 makes gunicorn stop ("App failed to load")
    print(f"engagement: {exc}", file=sys.stderr)
    sys.exit(4)
