"""Members with addresses, a committee, and waiting for a campaign: shared by the campaign tests."""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engagement.accounts.models import User
from engagement.campaigns.models import Campaign
from engagement.committees import service as committees
from engagement.db import transaction, utcnow
from engagement.mail.models import MailMessage
from tests.functional.helpers import text

PARIS = {"street": "3 rue du Port", "postal_code": "75011", "city": "75111", "city_name": "Paris", "country": "FR"}
THIAIS = {"street": "1 place de la Mairie", "postal_code": "94320", "city": "94073", "city_name": "Thiais",
          "country": "FR"}


def members(app: Any, *people: tuple[str, dict[str, str]]) -> list[int]:
    """Active accounts (no password: none logs in) at these addresses, which set their department; each asked for
    the newsletter (campaigns to ``all`` reach them)."""
    with transaction(app.extensions["engagement"].sessions) as session:
        rows = [User(email=email, first_name=email.split("@")[0].title(), activated_at=utcnow(), address=address,
                     has_newsletter=True) for email, address in people]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def committee(app: Any, name: str, host_id: int, *follower_ids: int) -> str:
    """An approved committee hosted by ``host_id`` and followed by ``follower_ids``; its slug."""
    with transaction(app.extensions["engagement"].sessions) as session:
        row = committees.propose(session, name=name, description="", address=PARIS, creator_id=host_id, now=utcnow())
        session.flush()
        committees.decide(session, row, True, utcnow())
        for user_id in follower_ids:
            committees.follow(session, row, user_id, utcnow())
        return row.slug


def finished(factory: sessionmaker[Session], campaign_id: int, timeout: float = 15.0) -> Campaign:
    """The campaign once the campaigns queue (a background thread, embedded) has finished it."""
    deadline = time.monotonic() + timeout
    while True:
        with factory() as session:
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            if campaign.finished_at is not None:
                return campaign
        assert time.monotonic() < deadline, f"campaign {campaign_id} not finished in {timeout} s"
        time.sleep(0.05)


def messages(factory: sessionmaker[Session], campaign_id: int) -> dict[str, str]:
    """Each recipient's address and the status of their message."""
    with factory() as session:
        rows = session.scalars(select(MailMessage).where(MailMessage.campaign_id == campaign_id))
        return {row.to[0]: row.status for row in rows}


def campaign_id(response: Any) -> int:
    """The id in the ``Location`` of the answer to a confirmation (a 303 to the campaign page)."""
    found = re.fullmatch(r"/organizer/campaigns/(\d+)", response.headers.get("Location", ""))
    assert response.status_code == 303 and found, (response.status_code, response.headers.get("Location"))
    return int(found.group(1))


def draft_id(response: Any) -> int:
    """The id in the ``Location`` of the answer to the compose form (a 303 to the draft's preview)."""
    found = re.fullmatch(r"/organizer/campaigns/(\d+)/preview", response.headers.get("Location", ""))
    assert response.status_code == 303 and found, (response.status_code, response.headers.get("Location"))
    return int(found.group(1))


def _audience(fields: dict[str, str]) -> str:
    """The audience spec, also from the older form's (kind, select) pair: department + 75 -> department:75."""
    kind = fields.pop("audience", "all")
    values = {name: fields.pop(name, "") for name in ("committee", "department", "event")}
    return f"{kind}:{values[kind]}" if values.get(kind) else kind


def compose(client: Any, **fields: str) -> Any:
    """Open the compose form and submit it with these fields (a draft; nothing is queued)."""
    client.get("/organizer/campaigns/new")
    data = {"subject": "Nouvelles du mouvement", "body": "Bonjour,\r\n\r\nOn se retrouve samedi.",
            "sender_name": "Olivia Orga", **fields}
    data["audience"] = _audience(data)
    response = client.post("/organizer/campaigns/new", data)
    assert "Traceback" not in text(client.last_html)
    return response


def confirm(client: Any, draft: int, **fields: str) -> Any:
    """Open the draft's confirmation page and confirm the audience it states (``fields`` override)."""
    client.get(f"/organizer/campaigns/{draft}/confirm")
    assert 'data-testid="count"' in client.last_html, text(client.last_html)[:2000]
    return client.post(f"/organizer/campaigns/{draft}/confirm",
                       {"audience": client.hidden("audience"), "confirm": "y", "send_at": "", **fields})


def write(client: Any, action: str = "send", **fields: str) -> Any:
    """Compose a campaign; with ``action`` "send", also confirm it (the answer: a 303 to its page)."""
    response = compose(client, **fields)
    if action != "send" or response.status_code != 303:
        return response
    return confirm(client, draft_id(response))
