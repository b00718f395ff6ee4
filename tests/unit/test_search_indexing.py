"""Indexing follows the database after commit, on both engines: the local index, and Algolia (the real
client against the loopback fake) with the local index kept alongside."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.committees.models import Committee
from engagement.config import load_settings
from engagement.core import Core, bootstrap
from engagement.db import Base, transaction, utcnow
from engagement.events.models import Event
from engagement.outbox import InProcessRelay, OutboxMessage, relay_pending
from engagement.pages.models import ContentPage
from engagement.search import service
from engagement.search.port import Query
from engagement.workflow import definitions
from tests.fakes.algolia import FakeAlgolia
from tests.search_data import LYON, PARIS, commit, committee, event, found, page


class Deployment:
    """A wired core on a fresh database, with the fake Algolia when the engine is ``algolia``."""

    def __init__(self, core: Core, fake: FakeAlgolia | None) -> None:
        self.core, self.fake, self.sessions = core, fake, core.sessions

    def in_algolia(self) -> set[str]:
        return set(self.fake.objects("engagement")) if self.fake else set()

    def search_rows(self) -> list[OutboxMessage]:
        with self.sessions() as session:
            return list(session.scalars(select(OutboxMessage).where(OutboxMessage.topic == service.TOPIC)))


@pytest.fixture(params=["local", "algolia"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    monkeypatch.setattr(definitions, "_ACTIVE", {})
    monkeypatch.setattr(definitions, "_VERSIONS", {})
    env = {"ENGAGEMENT_ENV": "test", "ENGAGEMENT_INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "test-secret-key",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'engagement.db'}"}
    fake = FakeAlgolia().start() if request.param == "algolia" else None
    if fake is not None:
        env.update(ALGOLIA_APP_ID=fake.app_id, ALGOLIA_API_KEY=fake.api_key, ALGOLIA_HOSTS=fake.host)
    core = bootstrap(load_settings(env))
    Base.metadata.create_all(core.engine)
    yield Deployment(core, fake)
    InProcessRelay.drain()
    core.engine.dispose()
    service.configure(None)
    if fake is not None:
        fake.stop()


def test_an_approved_committee_is_found_after_commit_whatever_the_accents(deployment: Deployment) -> None:
    sessions = deployment.sessions
    committee_id = commit(sessions, lambda s: s.add(row := committee("Comité Événements Presqu'île")) or row)
    assert found(sessions, "evenement") == ["Comité Événements Presqu'île"]
    assert found(sessions, "COMITÉ PRESQ") == ["Comité Événements Presqu'île"]
    assert found(sessions, "lyon 6900") == ["Comité Événements Presqu'île"]  # city and postal code, as prefixes
    assert found(sessions, "marseille") == []
    if deployment.fake:
        assert deployment.in_algolia() == {f"committee-{committee_id}"}
        assert service.search(sessions, Query("evenement", utcnow())).engine == "algolia"


def test_a_found_record_says_where_it_lies(deployment: Deployment) -> None:
    sessions = deployment.sessions
    rows = [committee("Comité Terreaux", address=LYON), event("Réunion Rivoli", address=PARIS),
            event("Réunion en ligne", online=True)]
    commit(sessions, lambda s: s.add_all(rows))
    hits = {hit["title"]: hit for kind in ("committee", "event")
            for hit in service.search(sessions, Query("", utcnow(), kind=kind)).hits}
    assert set(hits) == {"Comité Terreaux", "Réunion Rivoli", "Réunion en ligne"}
    assert hits["Comité Terreaux"]["_geoloc"] == pytest.approx({"lat": 45.77, "lng": 4.83}, abs=0.01)
    assert hits["Réunion Rivoli"]["_geoloc"] == pytest.approx({"lat": 48.86, "lng": 2.35}, abs=0.01)
    assert hits["Comité Terreaux"]["geo_precision"] == hits["Réunion Rivoli"]["geo_precision"] == "commune"
    assert "_geoloc" not in hits["Réunion en ligne"] and "geo_precision" not in hits["Réunion en ligne"]


def test_a_pending_committee_is_indexed_when_approved_and_leaves_when_refused(deployment: Deployment) -> None:
    sessions = deployment.sessions
    committee_id = commit(sessions, lambda s: s.add(row := committee("Comité Croix-Rousse", status="pending")) or row)
    assert found(sessions, "croix") == []
    commit(sessions, lambda s: setattr(s.get(Committee, committee_id), "status", "approved"))
    assert found(sessions, "croix") == ["Comité Croix-Rousse"]
    commit(sessions, lambda s: setattr(s.get(Committee, committee_id), "status", "refused"))
    assert found(sessions, "croix") == []
    if deployment.fake:
        assert deployment.fake.deleted[-1] == f"committee-{committee_id}"


def test_an_update_replaces_the_record(deployment: Deployment) -> None:
    sessions = deployment.sessions
    event_id = commit(sessions, lambda s: s.add(row := event("Réunion publique")) or row)
    commit(sessions, lambda s: setattr(s.get(Event, event_id), "name", "Débat sur l'hôpital"))
    assert found(sessions, "reunion") == []
    assert found(sessions, "hopital") == ["Débat sur l'hôpital"]
    if deployment.fake:
        assert deployment.fake.objects("engagement")[f"event-{event_id}"]["title"] == "Débat sur l'hôpital"


def test_a_deletion_removes_the_record(deployment: Deployment) -> None:
    sessions = deployment.sessions
    page_id = commit(sessions, lambda s: s.add(row := page("Nos propositions", "nos-propositions")) or row)
    assert found(sessions, "propo") == ["Nos propositions"]
    commit(sessions, lambda s: s.delete(s.get(ContentPage, page_id)))
    assert found(sessions, "propo") == []
    if deployment.fake:
        assert deployment.in_algolia() == set() and deployment.fake.deleted == [f"page-{page_id}"]


def test_a_rolled_back_transaction_indexes_nothing(deployment: Deployment) -> None:
    sessions = deployment.sessions
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        session.add(committee("Comité fantôme"))
        session.flush()  # the row, and its outbox row, were written ...
        raise RuntimeError("... and are rolled back")
    InProcessRelay.drain()
    assert deployment.search_rows() == []
    if deployment.fake:
        assert deployment.fake.saved == [] and deployment.fake.calls == 0  # not one write reached Algolia
    assert found(sessions, "fantome") == []


def test_cancelled_and_finished_events_are_not_found(deployment: Deployment) -> None:
    sessions = deployment.sessions
    event_id = commit(sessions, lambda s: s.add(row := event("Porte-à-porte")) or row)
    commit(sessions, lambda s: s.add(event("Porte-à-porte d'hier", days=-1)))
    assert found(sessions, "porte") == ["Porte-à-porte"]
    commit(sessions, lambda s: setattr(s.get(Event, event_id), "status", "cancelled"))
    assert found(sessions, "porte") == []


def test_an_event_that_ends_while_indexed_is_no_longer_found(deployment: Deployment) -> None:
    sessions = deployment.sessions
    commit(sessions, lambda s: s.add(event("Formation militante", days=0.01)))
    later = utcnow() + timedelta(days=1)
    assert [h["title"] for h in service.search(sessions, Query("formation", utcnow())).hits] == ["Formation militante"]
    assert service.search(sessions, Query("formation", later)).hits == []


def test_filters_by_type_and_department(deployment: Deployment) -> None:
    sessions = deployment.sessions
    commit(sessions, lambda s: s.add_all([committee("Comité Santé Lyon", address=LYON),
                                          committee("Comité Santé Paris", address=PARIS),
                                          event("Santé : réunion", address=PARIS),
                                          page("La santé pour tous", "sante")]))
    assert sorted(found(sessions, "sante")) == ["Comité Santé Lyon", "Comité Santé Paris", "La santé pour tous",
                                               "Santé : réunion"]
    assert sorted(found(sessions, "sante", kind="committee")) == ["Comité Santé Lyon", "Comité Santé Paris"]
    assert sorted(found(sessions, "sante", department="75")) == ["Comité Santé Paris", "Santé : réunion"]
    assert found(sessions, "sante", kind="event", department="69") == []
    assert found(sessions, "", kind="page") == ["La santé pour tous"]


def test_an_unpublished_page_is_not_found(deployment: Deployment) -> None:
    sessions = deployment.sessions
    page_id = commit(sessions, lambda s: s.add(row := page("Brouillon", "brouillon", published=False)) or row)
    assert found(sessions, "brouillon") == []
    commit(sessions, lambda s: setattr(s.get(ContentPage, page_id), "is_published", True))
    assert found(sessions, "brouillon") == ["Brouillon"]


def test_a_change_that_no_record_shows_queues_no_indexing(deployment: Deployment) -> None:
    sessions = deployment.sessions
    event_id = commit(sessions, lambda s: s.add(row := event("Conférence")) or row)
    before = len(deployment.search_rows())
    commit(sessions, lambda s: setattr(s.get(Event, event_id), "seats_taken", 3))
    assert len(deployment.search_rows()) == before == 1


def test_algolia_down_the_site_searches_locally_and_catches_up_afterwards(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(definitions, "_ACTIVE", {})
    monkeypatch.setattr(definitions, "_VERSIONS", {})
    with FakeAlgolia() as fake:
        core = bootstrap(load_settings({
            "ENGAGEMENT_ENV": "test", "ENGAGEMENT_INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "k",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'engagement.db'}", "ALGOLIA_APP_ID": fake.app_id,
            "ALGOLIA_API_KEY": fake.api_key, "ALGOLIA_HOSTS": fake.host}))
        Base.metadata.create_all(core.engine)
        try:
            for outage in ("refuse", "503"):
                fake.down(outage)
                committee_id = commit(core.sessions, lambda s, o=outage: s.add(row := committee(f"Comité {o}")) or row)
                with core.sessions() as session:  # the change committed; its indexing waits
                    row = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
                    assert row is not None and row.delivered_at is None and row.attempts == 1 and row.last_error
                answer = service.search(core.sessions, Query(outage, utcnow()))
                assert [h["title"] for h in answer.hits] == [f"Comité {outage}"]  # the local index answers
                assert answer.engine == "local" and answer.degraded
                assert f"committee-{committee_id}" not in fake.objects("engagement")

                fake.up()
                assert relay_pending(core.sessions, core.relay) == 1  # the retry (the beat's sweep, or the CLI)
                InProcessRelay.drain()
                assert f"committee-{committee_id}" in fake.objects("engagement")
                with core.sessions() as session:
                    assert session.get(OutboxMessage, row.id).delivered_at is not None
                service.configure(service.algolia())  # the breaker closes (it would after 30 s)
                assert service.search(core.sessions, Query(outage, utcnow())).engine == "algolia"
        finally:
            InProcessRelay.drain()
            core.engine.dispose()
            service.configure(None)


def test_reindex_rebuilds_both_engines_and_drops_what_is_gone(deployment: Deployment) -> None:
    sessions = deployment.sessions
    for engine in service.engines(sessions):  # records no row stands for (written before a restore, say)
        engine.save([{"objectID": "committee-999", "kind": "committee", "title": "Fantôme", "expires_at": 4102444800}])
    with transaction(sessions) as session:  # rows written behind the hooks' back (a bulk import)
        session.execute(Committee.__table__.insert(), [
            {"slug": f"c{n}", "name": f"Comité {n}", "description": "", "address": LYON, "postal_code": "69001",
             "department": "69", "status": "approved", "created_at": utcnow()} for n in range(5)])
    assert found(sessions, "comite") == []
    progress: list[int] = []
    written = service.reindex(sessions, batch=2, progress=progress.append)
    assert written == {engine.name: 5 for engine in service.engines(sessions)}
    assert progress == [2, 2, 1] * len(written)
    assert sorted(found(sessions, "comite")) == [f"Comité {n}" for n in range(5)]
    assert found(sessions, "fantome") == []
    if deployment.fake:
        assert "committee-999" not in deployment.in_algolia() and len(deployment.in_algolia()) == 5
        assert deployment.fake.settings("engagement")["attributesForFaceting"] == ["filterOnly(kind)",
                                                                                   "filterOnly(department)"]


def test_a_reindex_into_an_empty_index_leaves_it_in_step_with_later_changes(deployment: Deployment) -> None:
    # Into an empty SQLite index the rows are loaded in bulk and FTS5 rebuilt from them (its insert
    # trigger is dropped meanwhile): afterwards, inserts, updates and deletes must be indexed again.
    sessions = deployment.sessions
    with transaction(sessions) as session:  # behind the hooks' back: nothing indexed yet
        session.execute(Committee.__table__.insert(), [
            {"slug": f"c{n}", "name": f"Comité Écologie {n}", "description": "", "address": LYON,
             "postal_code": "69001", "department": "69", "status": "approved", "created_at": utcnow()}
            for n in range(3)])
    assert found(sessions, "ecologie") == []
    assert service.reindex(sessions, batch=2)["local"] == 3
    assert sorted(found(sessions, "ecol")) == [f"Comité Écologie {n}" for n in range(3)]
    commit(sessions, lambda session: session.add(committee("Comité Transition")))
    assert found(sessions, "transition") == ["Comité Transition"]  # the insert trigger is back

    def rename(session: Session) -> None:
        row = session.scalar(select(Committee).where(Committee.slug == "c0"))
        row.name = "Comité Solidarité"

    commit(sessions, rename)
    assert sorted(found(sessions, "ecologie")) == ["Comité Écologie 1", "Comité Écologie 2"]
    assert found(sessions, "solidarite") == ["Comité Solidarité"]
    commit(sessions, lambda session: session.delete(session.scalar(select(Committee).where(Committee.slug == "c1"))))
    assert found(sessions, "ecologie") == ["Comité Écologie 2"]
