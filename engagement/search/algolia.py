"""The Algolia engine, through the official client's synchronous API (``algoliasearch`` v4).

Writes raise on failure, so that the outbox row that asked for them stays pending and is retried
(with backoff) until Algolia answers again. The client quarantines a host that failed for five
minutes; when every host is quarantined we lift it before a write, so that a retry after an outage
reaches Algolia at once (the outbox's backoff already spaces the attempts).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from algoliasearch.http.hosts import Host, HostsCollection
from algoliasearch.search.client import SearchClientSync
from algoliasearch.search.config import SearchConfig

from engagement.search.port import Query, Results
from engagement.search.records import Record

RECORDS_PER_CALL = 1000  # records per API call (Algolia's advice: about 1,000 records or 10 MB)
SETTINGS = {
    "searchableAttributes": ["title", "city,postal_code", "summary"],
    "attributesForFaceting": ["filterOnly(kind)", "filterOnly(department)"],
    "customRanking": ["asc(begins_at)"],
    "attributesToHighlight": [],
    "queryType": "prefixAll",  # every word is a prefix, as in the local engine
}
READ_TIMEOUT_MS = 2000  # a search waits at most this long before the local engine answers instead
CONNECT_TIMEOUT_MS = 1000
WRITE_TIMEOUT_MS = 10000


def hosts_collection(hosts: tuple[str, ...]) -> HostsCollection | None:
    """``ALGOLIA_HOSTS`` (``http://127.0.0.1:8123,...``; the scheme defaults to https) as the client's hosts."""
    if not hosts:
        return None
    parsed = [urlsplit(host if "://" in host else f"https://{host}") for host in hosts]
    return HostsCollection([Host(url=p.hostname or "", scheme=p.scheme, port=p.port) for p in parsed])


class AlgoliaIndex:
    """One Algolia index holding every kind of record (``kind`` is a filter-only facet)."""

    name = "algolia"

    def __init__(self, app_id: str, api_key: str, index_name: str, hosts: tuple[str, ...] = ()) -> None:
        self.app_id, self.api_key, self.index_name, self.hosts = app_id, api_key, index_name, hosts
        self._local = threading.local()  # the client keeps per-call state: one client per thread

    def client(self) -> SearchClientSync:
        client = getattr(self._local, "client", None)
        if client is None:
            config = SearchConfig(self.app_id, self.api_key)
            config.read_timeout, config.connect_timeout = READ_TIMEOUT_MS, CONNECT_TIMEOUT_MS
            config.write_timeout = WRITE_TIMEOUT_MS
            config.hosts = hosts_collection(self.hosts)
            client = self._local.client = SearchClientSync.create_with_config(config)
        return client

    def revive_hosts(self) -> None:
        """Lift the client's quarantine when it holds every host (else a retry would not even try)."""
        hosts = self.client()._config.hosts  # the config we built
        every = (hosts.read() + hosts.write()) if hosts is not None else []
        if every and not any(host.up for host in every):
            for host in every:
                host.reset()

    def save(self, records: list[Record]) -> None:
        if records:
            self.revive_hosts()
            self.client().save_objects(self.index_name, records, batch_size=RECORDS_PER_CALL)

    def delete(self, object_ids: list[str]) -> None:
        if object_ids:
            self.revive_hosts()
            self.client().delete_objects(self.index_name, object_ids, batch_size=RECORDS_PER_CALL)

    def configure(self) -> None:
        """Push the index settings (searchable attributes, filters, ranking)."""
        self.revive_hosts()
        self.client().set_settings(self.index_name, SETTINGS)

    def rebuild(self, pages: Iterable[list[Record]]) -> int:
        """Fill a temporary copy and swap it in (``replace_all_objects``): searches never see a half index."""
        self.configure()
        count = 0

        def flatten() -> Iterator[Record]:
            nonlocal count
            for page in pages:
                count += len(page)
                yield from page

        self.client().replace_all_objects(self.index_name, flatten(), batch_size=RECORDS_PER_CALL)
        return count

    def search(self, query: Query) -> Results:
        self.revive_hosts()  # the breaker in service.search decides when to try again
        page = query.offset // query.limit
        params: dict[str, Any] = {"query": query.text.strip(), "filters": filters(query),
                                  "hitsPerPage": query.limit, "page": page}
        answer = self.client().search_single_index_with_http_info(self.index_name, params)
        body = json.loads(answer.raw_data or "{}")
        hits = [_record(hit) for hit in body.get("hits", [])]
        return Results(hits=hits, has_more=page + 1 < int(body.get("nbPages", 0)), engine=self.name)


def filters(query: Query) -> str:
    """Algolia's filter string: what has not expired, of the kind and department asked."""
    parts = [f"expires_at > {int(query.now.astimezone(UTC).timestamp())}"]
    if query.kind:
        parts.append(f"kind:{query.kind}")
    if query.department:
        parts.append(f'department:"{query.department}"')
    return " AND ".join(parts)


def _record(hit: dict[str, Any]) -> Record:
    return {key: value for key, value in hit.items() if not key.startswith("_") or key == "_geoloc"}
