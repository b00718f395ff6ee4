"""Content pages (``/pages/<slug>``): a title and plain-text paragraphs, once published."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from engagement.pages.models import ContentPage
from web.db import db
from web.public import public

bp = Blueprint("pages", __name__)


@bp.get("/pages/<slug>")
@public()
def show(slug: str) -> Any:
    page = db().scalar(select(ContentPage).where(ContentPage.slug == slug, ContentPage.is_published.is_(True)))
    if page is None:
        abort(404)
    paragraphs = [p.strip() for p in page.body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return render_template("pages/page.html", page=page, paragraphs=paragraphs)
