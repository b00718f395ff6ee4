"""Headers that views share: a page about one person is never stored by a browser or a proxy."""

from __future__ import annotations

NO_STORE = {"Cache-Control": "no-store"}
NO_STORE_NOINDEX = {**NO_STORE, "X-Robots-Tag": "noindex"}  # a page reached from a mail's link: no search engine
