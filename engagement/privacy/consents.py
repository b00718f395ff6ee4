"""Consent records: each consent given or withdrawn, with the words shown, the version of the text they linked
and how it was given, so that the movement can show what a person agreed to and when (GDPR art. 7(1)).

Consents are collected by any workflow: a ``consent`` field, or a ``boolean`` field named after an opt-in
(``newsletter``, ``contact``), is recorded when its step is submitted (``collected``, registered with the
engine). A member then gives or withdraws them from their account, their profile or an unsubscribe link.
A person's current answer for a kind is their latest row (``current``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engagement.accounts.models import User
from engagement.accounts.signup import SIGNUP
from engagement.mail import suppression
from engagement.pages import legal
from engagement.pages import service as pages
from engagement.privacy.models import ConsentRecord, ConsentText
from engagement.workflow import definitions
from engagement.workflow.models import WorkflowInstance
from engagement.workflow.registry import REGISTRY, Submission
from engagement.workflow.spec import FieldSpec, WorkflowSpec, localize

NEWSLETTER = "newsletter"
OPT_INS = (NEWSLETTER, "contact")  # boolean fields by these names are consents; a member gives them again at will
TERMS = "terms"  # the membership terms: withdrawing them is leaving, that is deleting the account
PAGE_KINDS = {legal.MEMBERSHIP_TERMS: TERMS, legal.VOLUNTEER_CHARTER: "charter"}  # a consent is to its document
REGISTRY.opt_ins.update(OPT_INS)  # the workflow checker refuses such a box ticked in advance


class ConsentError(ValueError):
    """A change the account page does not make: ``code`` is ``terms`` (leaving is deleting the account) or
    ``not_given_here`` (a form's consent is given again by filling that form)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def kind_of(spec: WorkflowSpec, field: FieldSpec) -> str | None:
    """What ``field`` consents to, if it is a consent: the document it links for the site's own terms (the
    membership terms are ``terms`` in every workflow), the newsletter for the sign-up's box (what campaigns read),
    else the workflow's field (a petition's "newsletter" box is the petition's news); None for any other field."""
    if field.type == "boolean":  # the sign-up's newsletter box is the newsletter; another form's is its own
        if field.name not in OPT_INS:
            return None
        return field.name if spec.id == SIGNUP else f"{spec.id}.{field.name}"[:64]
    if field.type != "consent":
        return None
    slug = _site_slug(field.link)
    return PAGE_KINDS.get(slug or "") or f"{spec.id}.{field.name}"[:64]


def _site_slug(link: str | None) -> str | None:
    """The slug of the site's own page a link names (``/conditions-d-adhesion``), else None."""
    path = (link or "").split("#", 1)[0].split("?", 1)[0].strip("/")
    return path if path in legal.SLUGS else None


def linked_page(session: Session, document: str | None) -> tuple[str, str] | None:
    """The current title and body of the content page ``document`` names; None when it names none."""
    path = (document or "").split("#", 1)[0].split("?", 1)[0]
    if (slug := _site_slug(path)) is not None:
        page = legal.shown(session, slug)
    elif path.startswith("/pages/") and (found := pages.by_slug(session, path.removeprefix("/pages/"))):
        page = found
    else:
        return None
    return page.title, page.body


def _version(words: str, page: tuple[str, str] | None) -> str:
    text = f"{page[0]}\n\n{page[1]}" if page is not None else None
    return hashlib.sha256(words.encode() + (b"\x00" + text.encode() if text is not None else b"")).hexdigest()


def version(session: Session, words: str, document: str | None) -> str:
    """SHA-256 (hex) of the words shown and of the linked page's current text: a new text, a new version."""
    return _version(words, linked_page(session, document))


def record(session: Session, *, kind: str, given: bool, text: str, document: str | None, method: str, locale: str,
           now: datetime, user_id: int | None = None, instance_id: int | None = None) -> ConsentRecord:
    """Append one consent given or withdrawn (``text``: the words shown, in the language shown), keeping the text
    of its version the first time it is recorded."""
    document = document[:255] if document else None
    page = linked_page(session, document)
    row = ConsentRecord(user_id=user_id, instance_id=instance_id, kind=kind[:64], given=given, text=text,
                        document=document, version=_version(text, page), method=method[:100],
                        locale=locale[:8], at=now)
    _keep_text(session, row, page)
    session.add(row)
    return row


def _keep_text(session: Session, row: ConsentRecord, page: tuple[str, str] | None) -> None:
    if session.get(ConsentText, row.version) is not None:
        return
    try:
        with session.begin_nested():  # another request may keep the same version at the same moment
            session.add(ConsentText(version=row.version, text=row.text, document=row.document,
                                    document_title=page[0][:255] if page else None,
                                    document_body=page[1] if page else None, first_shown_at=row.at))
    except IntegrityError:
        pass  # it is kept: by the other request


def texts(session: Session, versions: Iterable[str]) -> dict[str, ConsentText]:
    """The kept text of each of ``versions`` (a version recorded before texts were kept has none)."""
    wanted = sorted(set(versions))
    return {t.version: t for t in session.scalars(select(ConsentText).where(ConsentText.version.in_(wanted)))}


def newsletter_words(session: Session, locale: str, fallback: str) -> str:
    """The newsletter's own words, whatever the page it is given on: the sign-up form's box in ``locale``, else
    ``fallback`` (the same sentence, translated by the caller)."""
    flow = definitions.active(session, SIGNUP)
    field = flow.spec.fields.get(NEWSLETTER) if flow else None
    return (localize(field.label, locale) if field else "") or fallback


class NewsletterState(NamedTuple):
    given: bool  # campaigns to ``all`` may write to them (given, and no unsubscribe link followed since)
    refused: bool  # their mailbox bounced or complained: no mail goes, whatever they consent to


def newsletter_state(session: Session, user: User) -> NewsletterState:
    """Where a member's newsletter stands for the campaigns, which also read the suppression list."""
    stops = suppression.reasons(session, user.email)
    return NewsletterState(bool(user.has_newsletter) and "unsubscribed" not in stops,
                           bool(stops & set(suppression.BLOCKS_ALL)))


def history(session: Session, user_id: int) -> list[ConsentRecord]:
    """Every consent row of a member, oldest first: their own and those of the forms they filled (a sign-up's
    consents are given before its account exists)."""
    theirs = select(WorkflowInstance.id).where(WorkflowInstance.actor_id == user_id)
    return list(session.scalars(select(ConsentRecord).where(
        or_(ConsentRecord.user_id == user_id, ConsentRecord.instance_id.in_(theirs))).order_by(ConsentRecord.id)))


class Standing(NamedTuple):
    """The latest answer of a kind, as the account page shows it."""

    kind: str
    text: str
    given: bool
    at: datetime
    method: str


_THEIRS = select(WorkflowInstance.id).where(WorkflowInstance.actor_id == bindparam("user_id"))
_STANDINGS = select(ConsentRecord.kind, ConsentRecord.text, ConsentRecord.given, ConsentRecord.at,
                    ConsentRecord.method).where(or_(ConsentRecord.user_id == bindparam("user_id"),
                                                    ConsentRecord.instance_id.in_(_THEIRS))).order_by(ConsentRecord.id)


def standings(session: Session, user_id: int) -> list[Standing]:
    """``current``, reading only the columns shown (a statement built once): the latest of each kind, in the order
    they were first given."""
    latest: dict[str, Standing] = {}
    # On the connection: plain rows, without the ORM's setup of each statement (a read: nothing to flush first)
    for row in session.connection().execute(_STANDINGS, {"user_id": user_id}):
        latest[row.kind] = Standing(*row)
    return list(latest.values())


def current(session: Session, user_id: int) -> list[ConsentRecord]:
    """The latest row of each kind of a member's consents, in the order they were first given."""
    latest: dict[str, ConsentRecord] = {}
    for row in history(session, user_id):
        latest[row.kind] = row
    return list(latest.values())


def _latest(session: Session, user: User, kind: str) -> ConsentRecord | None:
    return next((row for row in current(session, user.id) if row.kind == kind), None)


def change(session: Session, user: User, kind: str, given: bool, *, text: str, method: str, locale: str,
           now: datetime, document: str | None = None) -> ConsentRecord | None:
    """Record that ``user`` gives or withdraws ``kind`` (the newsletter also on the account, which every later
    campaign to ``all`` reads, and giving it lifts an unsubscribe link's entry on the suppression list); None when
    it already stood so (a second click records nothing)."""
    if kind == NEWSLETTER:
        standing: bool | None = bool(user.has_newsletter)
        if given and suppression.resubscribe(session, user.email):
            standing = False  # an unsubscribe link had stopped it: giving it back is a new consent
        user.has_newsletter = given
    else:
        latest = _latest(session, user, kind)
        standing = latest.given if latest is not None else None
    if standing == given:
        return None
    return record(session, kind=kind, given=given, text=text, document=document, method=method, locale=locale,
                  now=now, user_id=user.id)


def give(session: Session, user: User, kind: str, *, text: str, locale: str, now: datetime) -> ConsentRecord | None:
    """Give an opt-in again from the account page (``text``: the newsletter's words when no sign-up form holds
    them); LookupError for a kind the member was never asked, ConsentError for one that only its form gives."""
    return _from_account(session, user, kind, True, text=text, locale=locale, now=now)


def withdraw(session: Session, user: User, kind: str, *, text: str, locale: str,
             now: datetime) -> ConsentRecord | None:
    """Withdraw a consent from the account page (``text``: the newsletter's words when no sign-up form holds
    them); LookupError for a kind the member was never asked, ConsentError for the membership terms."""
    return _from_account(session, user, kind, False, text=text, locale=locale, now=now)


def _from_account(session: Session, user: User, kind: str, given: bool, *, text: str, locale: str,
                  now: datetime) -> ConsentRecord | None:
    rows = [row for row in history(session, user.id) if row.kind == kind]
    if not rows and kind != NEWSLETTER:
        raise LookupError(kind)
    if given and kind not in OPT_INS:
        raise ConsentError("not_given_here")
    if not given and kind == TERMS:
        raise ConsentError(TERMS)
    if kind == NEWSLETTER:
        words, document = newsletter_words(session, locale, text), None
    else:  # the words of the form that asked it (a record's words are the consent's, never a page's)
        asked = next((row for row in reversed(rows) if row.method.startswith("form:")), rows[-1])
        words, document = asked.text, asked.document
    return change(session, user, kind, given, text=words, method="account", locale=locale, now=now,
                  document=document)


def unsubscribed(session: Session, member_id: int, email_hash: str, *, text: str, locale: str,
                 now: datetime) -> ConsentRecord | None:
    """A campaign's unsubscribe link was followed: the member it names withdraws the newsletter, provided the
    address the link was signed for (``email_hash``) is theirs (the id in a link is not signed). ``text``: the
    newsletter's words when no sign-up form holds them (the record names the consent, the method how)."""
    user = session.get(User, member_id)
    if user is None or suppression.digest(user.email) != email_hash:
        return None
    return change(session, user, NEWSLETTER, False, text=newsletter_words(session, locale, text),
                  method="unsubscribe", locale=locale, now=now)


@REGISTRY.on_submit
def collected(submission: Submission) -> None:
    """Record the consents a submitted step collected, given or not; the same answer submitted again by the
    same instance (Back, then forward) is not recorded twice."""
    asked = {kind: field for field in submission.state.fields
             if (kind := kind_of(submission.spec, field)) and isinstance(submission.answers.get(field.name), bool)}
    if not asked:
        return
    instance = submission.instance
    before: dict[str, ConsentRecord] = {}
    for row in submission.session.scalars(select(ConsentRecord).where(
            ConsentRecord.instance_id == instance.id, ConsentRecord.kind.in_(list(asked))).order_by(ConsentRecord.id)):
        before[row.kind] = row
    for kind, field in asked.items():
        given, words = bool(submission.answers[field.name]), localize(field.label, submission.locale) or field.name
        last = before.get(kind)
        if last is not None and last.given == given and last.version == version(submission.session, words,
                                                                                  field.link):
            continue
        record(submission.session, kind=kind, given=given, text=words, document=field.link,
               method=f"form:{submission.spec.id}/{submission.state.name}", locale=submission.locale,
               now=submission.now, user_id=getattr(submission.actor, "id", None), instance_id=instance.id)
