"""Development tools: the stored outbox mailbox (never registered in production)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template

from engagement.mail import service as mail
from engagement.mail.models import attachment_content
from web.db import db

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/mailbox")
def mailbox() -> str:
    return render_template("dev/mailbox.html", messages=mail.recent(db(), limit=100))


@bp.get("/mailbox/<int:message_id>")
def message(message_id: int) -> str:
    found = mail.one(db(), message_id)
    if found is None:
        abort(404)
    return render_template("dev/message.html", message=found)


@bp.get("/mailbox/<int:message_id>/attachments/<int:index>")
def attachment(message_id: int, index: int) -> Response:
    found = mail.one(db(), message_id)
    if found is None or not 0 <= index < len(found.attachments or []):
        abort(404)
    item = (found.attachments or [])[index]
    return Response(attachment_content(item), mimetype=item["content_type"].split(";")[0],
                    headers={"Content-Disposition": f'attachment; filename="{item["filename"]}"'})
