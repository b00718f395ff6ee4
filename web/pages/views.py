"""Content pages: ``/pages/<slug>`` once published, and the site's own pages at ``/<slug>`` (the privacy notice,
the legal notice, the membership terms, the volunteer charter, contact: engagement/pages/legal.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template
from sqlalchemy import select

from engagement.generations import page_tag
from engagement.pages import legal
from engagement.pages.models import ContentPage
from engagement.pages.service import blocks
from web.db import db
from web.public import public

bp = Blueprint("pages", __name__)


@bp.get("/pages/<slug>")
@public(tags=(page_tag("{slug}"),))
def show(slug: str) -> Any:
    if slug in legal.SLUGS:
        return redirect(legal.path(slug), code=301)  # one address each, the one the footer links
    page = db().scalar(select(ContentPage).where(ContentPage.slug == slug, ContentPage.is_published.is_(True)))
    if page is None:
        abort(404)
    return _render(page)


def site_page(slug: str) -> Any:
    """One of the site's own pages: always there (its built-in text while no row exists), published or not."""
    return _render(legal.shown(db(), slug))


def _render(page: ContentPage) -> str:
    return render_template("pages/page.html", page=page, blocks=blocks(page.body or ""))


for _slug in legal.SLUGS:
    bp.add_url_rule(f"/{_slug}", f"site_{_slug.replace('-', '_')}", public(tags=(page_tag("{slug}"),))(site_page),
                    defaults={"slug": _slug})
