"""Past a route's rate limit: 429 with Retry-After, a page that says to wait (JSON for the endpoints scripts call)."""

from __future__ import annotations

from tests.functional.helpers import text

WAIT = "Trop de tentatives. Patientez un instant avant de réessayer."


def test_a_form_past_its_limit_answers_a_page_that_says_to_wait(client):
    client.get("/password/reset")
    answers = [client.post("/password/reset", {"email": f"nobody{n}@example.org"}, page="/password/reset").status_code
               for n in range(6)]
    assert answers == [200] * 5 + [429]  # "5 per minute" per client
    response = client.post("/password/reset", {"email": "nobody@example.org"}, page="/password/reset")
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 60
    assert WAIT in text(response.get_data(as_text=True))


def test_the_json_endpoints_answer_json_past_their_limit(client):
    for path in ("/api/cities?postal_code=94320", "/api/search?q=lyon"):
        statuses = [client.client.get(path).status_code for _ in range(121)]
        assert statuses[:120] == [200] * 120 and statuses[120] == 429, path  # "120 per minute" per client
        response = client.client.get(path)
        assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 60
        assert response.is_json and response.get_json() == {
            "error": "Too Many Requests", "message": WAIT}


def test_an_unknown_api_path_answers_json_too(client):
    response = client.client.get("/api/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"] == "Not Found"
