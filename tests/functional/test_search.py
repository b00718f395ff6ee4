"""/search without JavaScript, /api/search for the script, the content pages, and `engagement search reindex`."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from engagement.config import Settings
from engagement.db import make_engine, make_session_factory, transaction
from tests.functional.helpers import text
from tests.search_data import LYON, PARIS, commit, committee, event, found, page
from web.cli import main


@pytest.fixture
def sessions(app: Any) -> sessionmaker[Session]:
    """The app's own sessions: what they commit is indexed, as in production."""
    return app.extensions["engagement"].sessions


@pytest.fixture
def indexed(sessions: sessionmaker[Session]) -> None:
    commit(sessions, lambda s: s.add_all([
        committee("Comité Écologie Lyon", address=LYON, description="Des actions pour le climat."),
        committee("Comité Écologie Paris", address=PARIS),
        event("Événement : marche pour le climat", address=PARIS),
        event("Atelier écologie en ligne", online=True),
        page("Nos propositions pour l'écologie", "nos-propositions", body="Le climat d'abord.\n\nPuis le reste."),
    ]))


def test_the_page_renders_results_without_javascript(client: Any, indexed: None) -> None:
    response = client.get("/search?q=evenement")
    assert response.status_code == 200
    page_text = text(client.last_html)
    assert "Événement : marche pour le climat" in page_text
    assert "Comité Écologie" not in page_text
    assert 'href="/events/evenement-' in client.last_html
    assert "Résultats pour «\u00a0evenement\u00a0»" in page_text or "Results for “evenement”" in page_text
    assert "<script>" not in client.last_html  # the enhancement is an external file (no inline script)
    assert "/static/js/search.js" in client.last_html


def test_accents_and_case_do_not_matter_and_words_are_prefixes(client: Any, indexed: None) -> None:
    for typed in ("ECOLO", "écolo", "ecologie lyo"):
        client.get(f"/search?q={typed}")
        assert "Comité Écologie Lyon" in text(client.last_html), typed


def test_filters_by_type_and_department(client: Any, indexed: None) -> None:
    client.get("/search?q=ecologie&type=committee")
    shown = text(client.last_html)
    assert "Comité Écologie Lyon" in shown and "Comité Écologie Paris" in shown
    assert "Atelier écologie en ligne" not in shown and "Nos propositions" not in shown
    client.get("/search?q=ecologie&department=69")
    shown = text(client.last_html)
    assert "Comité Écologie Lyon" in shown and "Comité Écologie Paris" not in shown
    client.get("/search?q=ecologie&department=99")
    assert 'aria-invalid="true"' in client.last_html  # not a department: said so, and not applied
    assert "Comité Écologie Paris" in text(client.last_html)


def test_an_empty_search_invites_to_type(client: Any, indexed: None) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    assert 'id="search-results"' in client.last_html and 'class="card"' not in client.last_html


def test_the_json_endpoint_answers_the_same_search_in_the_language_asked(client: Any, indexed: None) -> None:
    response = client.get("/api/search?q=climat&lang=en")
    assert response.status_code == 200
    body = response.get_json()
    titles = {r["title"]: r for r in body["results"]}
    assert set(titles) == {"Comité Écologie Lyon", "Événement : marche pour le climat",
                           "Nos propositions pour l'écologie"}
    assert titles["Événement : marche pour le climat"]["kind_label"] == "Event"
    assert titles["Événement : marche pour le climat"]["place"] == "75004 Paris 4e Arrondissement"
    assert titles["Nos propositions pour l'écologie"]["url"] == "/pages/nos-propositions"
    assert body["status"] == "Results for “climat”." and body["has_more"] is False
    assert "public" in response.headers["Cache-Control"] and "max-age=30" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers  # cacheable: nothing personal in it
    assert "X-RateLimit-Limit" in response.headers
    french = client.get("/api/search?q=atelier&type=event&lang=fr").get_json()
    assert [r["kind_label"] for r in french["results"]] == ["Événement"]
    assert french["results"][0]["place"] == "En ligne" and " à " in french["results"][0]["when"]


def test_a_content_page_is_shown_when_published(client: Any, indexed: None) -> None:
    assert client.get("/pages/nos-propositions").status_code == 200
    assert "<p>Puis le reste.</p>" in client.last_html
    assert client.get("/pages/unknown").status_code == 404


def test_the_json_endpoint_is_rate_limited(client: Any, indexed: None) -> None:
    statuses = [client.get("/api/search?q=x").status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120 and statuses[120] == 429


def test_reindex_indexes_what_was_written_behind_the_hooks(env: dict[str, str], settings: Settings,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(settings.database_url)
    plain = make_session_factory(engine)  # not bootstrapped: nothing it writes is indexed
    with transaction(plain) as session:
        session.add_all([committee(f"Comité Santé {n}") for n in range(3)] + [page("Santé", "sante")])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert found(plain, "sante") == []
    result = CliRunner().invoke(main, ["search", "reindex", "--batch", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "local: 4 record(s) indexed" in result.stderr
    assert sorted(found(plain, "sante")) == ["Comité Santé 0", "Comité Santé 1", "Comité Santé 2", "Santé"]
    engine.dispose()
