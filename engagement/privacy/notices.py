"""What a form tells the person whose data it collects, at collection (GDPR art. 13): who holds the data, why,
on what basis, for how long, their rights and whom to ask. templates/_privacy_notice.html shows it; the privacy
notice page (/confidentialite, engagement/pages/legal.yml) says the same at length.

The four built-in workflows have their own wording; any other workflow, written by organizers, gets a generic
notice naming its title (the workflow language has no key for it, on purpose: the platform answers for it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr

from engagement.config import Retention, Settings
from engagement.i18n import N_, Phrase
from engagement.pages import legal
from engagement.workflow.spec import StateSpec, WorkflowSpec, localize

PRIVACY_PAGE = legal.path(legal.PRIVACY)
CONTACT_PAGE = legal.path(legal.CONTACT)
# Field types that collect something about a person (a consent box: a choice about their data); a choice, a
# number or a yes/no box alone does not make a step need the notice.
PERSONAL_TYPES = frozenset({"text", "textarea", "email", "phone", "address", "postal_code", "country", "date",
                            "password", "consent"})

MEMBER_BASIS = Phrase(N_(
    "your membership: a political movement may process its members' data for its legitimate activities (GDPR "
    "art. 9(2)(d)), and never passes it on outside without their consent"))
VISITOR_BASIS = Phrase(N_(
    "your consent, given by sending this form, for the request you make (GDPR art. 6(1)(a) and 9(2)(a)); you may "
    "withdraw it at any time"))
SIGNUP_BASIS = Phrase(N_(
    "the membership you ask for: a political movement may process its members' data for its legitimate activities "
    "(GDPR art. 9(2)(d)); the newsletter only with your consent, withdrawn in one click"))


@dataclass(frozen=True)
class Notice:
    """The notice of one form, its texts to be read in the reader's language (``Phrase.render``)."""

    controller: str
    purpose: Phrase
    basis: Phrase
    retention: Phrase
    dpo_email: str | None  # None: the contact page
    is_member: bool  # the reader has an account: their own data is at /account/data, its deletion at /account
    privacy_page: str = PRIVACY_PAGE
    contact_page: str = CONTACT_PAGE


@dataclass(frozen=True)
class Wording:
    """What a known form says; ``also``: its steps without personal fields that still record something."""

    purpose: Phrase
    retention: Callable[[Retention, bool], Phrase]
    basis: Phrase | None = None  # None: the member's or the visitor's, whoever reads
    also: tuple[str, ...] = ()


def duration(days: int) -> Phrase:
    """``days`` in whole years when it is, else in days."""
    if days % 365 == 0:
        years = days // 365
        return Phrase(N_("%(num)d year") if years == 1 else N_("%(num)d years"), {"num": years})
    return Phrase(N_("%(num)d day") if days == 1 else N_("%(num)d days"), {"num": days})


def _kept(policy: Retention, member: bool) -> Phrase:
    if member:
        return Phrase(N_("as long as you are a member; an account unused for %(inactive)s is erased, after a "
                         "warning"), {"inactive": duration(policy.inactive_member_days)})
    return Phrase(N_("%(anonymous)s after your last answer, then erased"),
                  {"anonymous": duration(policy.anonymous_days)})


def _signup_kept(policy: Retention, _member: bool) -> Phrase:
    return Phrase(N_("an account not activated within %(unactivated)s is erased; an activated one is kept as long as "
                     "you are a member, and erased after %(inactive)s without a login, once we warned you"),
                  {"unactivated": duration(policy.unactivated_days), "inactive": duration(policy.inactive_member_days)})


def _invitation_kept(policy: Retention, member: bool) -> Phrase:
    # The sending instance and the mail go with the friend's address (retention.forget_friend), and so do an
    # anonymous sender's own name and address.
    if not member:
        return Phrase(N_("your message, your name and address, your friend's address and first name: %(friend)s, "
                         "then only a fingerprint of your friend's address, so that nobody invites them again too "
                         "often"), {"friend": duration(policy.invitation_friend_days)})
    return Phrase(N_("your message, your friend's address and first name: %(friend)s, then only a fingerprint of the "
                     "address, so that nobody invites them again too often; your name and address: %(yours)s"),
                  {"friend": duration(policy.invitation_friend_days),
                   "yours": Phrase(N_("as long as you are a member"))})


def _registration_kept(policy: Retention, member: bool) -> Phrase:
    if member:
        return _kept(policy, member)
    return Phrase(N_("your answers to this form: %(anonymous)s after your last answer; your name and address on "
                     "the registration: %(guest)s after the event, then only the count of participants"),
                  {"anonymous": duration(policy.anonymous_days), "guest": duration(policy.event_guest_days)})


WORDINGS: dict[str, Wording] = {
    "signup": Wording(Phrase(N_("create your member account and connect you with your local committee")),
                      _signup_kept, basis=SIGNUP_BASIS),
    "invitation": Wording(Phrase(N_("compose your message and send it to your friend, with you in copy")),
                          _invitation_kept),
    "event_registration": Wording(Phrase(N_("register you for the event and pass your details on to its organizers")),
                                  _registration_kept, also=("confirm", "full")),
    "volunteer": Wording(Phrase(N_("organise your volunteering with the local team")), _kept),
    # Forms of the site itself, not workflows: always filled in by a member.
    "profile": Wording(Phrase(N_("manage your membership and, if you ask for it, send you the newsletter")), _kept),
    "committee": Wording(Phrase(N_("review your proposal, then publish the committee with you as its host")), _kept),
    "follow": Wording(Phrase(N_("send you the news of this committee: its hosts and the organizers may write to "
                                "its followers")), _kept),
}


def controller(settings: Settings) -> str:
    """Who answers for the data: PRIVACY_CONTROLLER, else the name mail is sent under."""
    return settings.privacy_controller or parseaddr(settings.mail_sender)[0] or "Engagement"


def asks_personal_data(spec: WorkflowSpec, state: StateSpec) -> bool:
    """Whether the step's page collects personal data: a field of a personal type, or the review that sends them,
    or a step the workflow's wording names (a one-click confirmation)."""
    if any(f.type in PERSONAL_TYPES for f in state.fields):
        return True
    if state.name in (WORDINGS[spec.id].also if spec.id in WORDINGS else ()):
        return True
    return state.review and any(f.type in PERSONAL_TYPES for s in spec.states.values() for f in s.fields)


def for_step(settings: Settings, spec: WorkflowSpec, state: StateSpec, *, member: bool,
             locale: str) -> Notice | None:
    """The notice a workflow step shows, or None when the step collects no personal data."""
    if state.final or not asks_personal_data(spec, state):
        return None
    wording = WORDINGS.get(spec.id) or Wording(
        Phrase(N_("process your answers to the form “%(title)s”"), {"title": localize(spec.title, locale)}), _kept)
    return _notice(settings, wording, member)


def for_form(settings: Settings, kind: str) -> Notice:
    """The notice of one of the site's own forms (``profile``, ``committee``, ``follow``, ``event_registration``),
    all for members."""
    return _notice(settings, WORDINGS[kind], member=True)


def _notice(settings: Settings, wording: Wording, member: bool) -> Notice:
    basis = wording.basis or (MEMBER_BASIS if member else VISITOR_BASIS)
    return Notice(controller(settings), wording.purpose, basis, wording.retention(settings.retention, member),
                  settings.privacy_dpo_email, member)


_policy: list[Retention] = [Retention()]  # the deployment's, once configured


def configure(settings: Settings) -> None:
    """At start-up: the periods mails state (``policy``) and the markers of the site's own pages."""
    _policy[0] = settings.retention
    legal.configure(page_values(settings))


def policy() -> Retention:
    """The retention periods in force, for what states them outside a request (an invitation mail)."""
    return _policy[0]


def _french(days: int) -> str:
    if days % 365 == 0:
        return f"{days // 365}\u00a0an" + ("s" if days > 365 else "")
    return f"{days}\u00a0jour" + ("s" if days > 1 else "")


def page_values(settings: Settings) -> dict[str, str]:
    """What the site's own pages (legal.yml, in French) say in place of their markers: the retention periods,
    and the controller and the data protection officer when they are configured."""
    policy = settings.retention
    values = {"{unactivated}": _french(policy.unactivated_days), "{anonymous}": _french(policy.anonymous_days),
              "{friend}": _french(policy.invitation_friend_days), "{inactive}": _french(policy.inactive_member_days),
              "{warning}": _french(policy.warning_days), "{guest}": _french(policy.event_guest_days),
              "{mail}": _french(policy.mail_days)}
    if settings.privacy_controller:
        values["[nom de l’association]"] = settings.privacy_controller
    if settings.privacy_dpo_email:
        values["[adresse e-mail du DPO]"] = settings.privacy_dpo_email
    return values
