"""Organizer forms for events: the event itself (times typed in its own time zone), and a mail to its people.

The form checks what the core cannot see (presence, parsing, lengths, the offered lists); the core's
``check`` keeps the rules of what an event may be, and its refusals are shown next to the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateTimeLocalField, Field, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import URLField
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError

from engagement.events.models import CATEGORIES, MAX_DURATION_DAYS, Event
from engagement.events.service import EventError, EventInput
from forms import address
from forms.address import AddressField, CityLookup
from forms.media import CoverField
from forms.messages import DEFAULT_MESSAGES
from forms.text import TextForm

INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]  # the first renders the value
DEFAULT_TIMEZONE = "Europe/Paris"
TIMEZONES = {
    "Europe/Paris": _l("Metropolitan France, Corsica"),
    "America/Guadeloupe": _l("Guadeloupe, Saint-Martin, Saint-Barthélemy"),
    "America/Martinique": _l("Martinique"),
    "America/Cayenne": _l("French Guiana"),
    "Indian/Reunion": _l("Réunion"),
    "Indian/Mayotte": _l("Mayotte"),
    "Pacific/Noumea": _l("New Caledonia"),
    "Pacific/Tahiti": _l("French Polynesia (Tahiti)"),
    "America/Miquelon": _l("Saint-Pierre-et-Miquelon"),
}
CATEGORY_LABELS = {
    "meeting": _l("Meeting"), "canvassing": _l("Canvassing"), "debate": _l("Debate"), "training": _l("Training"),
    "conference": _l("Conference"), "convivial": _l("Get-together"), "online": _l("Online"),
}
assert set(CATEGORY_LABELS) == set(CATEGORIES)
AT_MOST = _l("At most %(max)d characters.")
REQUIRED = DEFAULT_MESSAGES["required"]
PLACE = _l("Give the address, or the link of an online event.")
PROBLEMS = {  # the core's refusal code -> (the input it is shown next to, the message)
    "name": ("name", _l("Give a name of at most 120 characters.")),
    "ends_before": ("ends", _l("The end must come after the beginning.")),
    "too_long": ("ends", _l("An event lasts at most %(days)d days.")),
    "place": ("address", PLACE),
    "capacity": ("capacity", _l("Enter a number of seats of at least 1, or leave empty for no limit.")),
    "category": ("category", DEFAULT_MESSAGES["choice"]),
    "timezone": ("timezone", DEFAULT_MESSAGES["choice"]),
    "online_url": ("online_url", _l("Enter a full link, starting with https://")),
    "committee": ("committee", _l("This committee cannot hold events: it is unknown or not approved.")),
}


def _lf(value: str | None) -> str | None:
    """Line ends as LF: browsers send CRLF, which would count twice against the length limits."""
    return value.replace("\r\n", "\n") if value else value


def _datetime_rule(_form: Any, field: Field) -> None:
    """Required, and a date with a time (the parser's own message replaced by ours)."""
    empty = not field.raw_data or not str(field.raw_data[0]).strip()
    if empty or field.process_errors or field.data is None:
        field.errors[:] = []
        raise StopValidation(str(REQUIRED if empty else _l("Enter a date and a time.")))


def _existing_time(form: Any, field: Field) -> None:
    """A local time the clocks skip (02:30 the night they go forward) does not exist: say so."""
    zone_name = form.timezone.data if form.timezone.data in TIMEZONES else DEFAULT_TIMEZONE
    if field.data is None:
        return
    zone = ZoneInfo(zone_name)
    if field.data.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != field.data:
        raise ValidationError(str(_l("This time does not exist on that day in this time zone (the clocks change).")))


def _capacity_rule(_form: Any, field: Field) -> None:
    """Empty means unlimited; otherwise a whole number (its range is the core's rule)."""
    if not field.raw_data or not str(field.raw_data[0]).strip():
        field.errors[:] = []
        field.data = None
        raise StopValidation()
    if field.process_errors:
        field.errors[:] = []
        raise StopValidation(str(DEFAULT_MESSAGES["integer"]))


def _offered(_form: Any, field: Field) -> None:
    if field.data not in {value for value, _label in field.choices}:
        raise StopValidation(str(DEFAULT_MESSAGES["choice"]))


def _place_rule(form: Any, field: AddressField) -> None:
    """An address, unless the event is online (then an address is optional, but checked when given)."""
    if address.is_empty(field):
        if (form.online_url.data or "").strip():
            raise StopValidation()
        raise StopValidation(str(PLACE))
    address.refuse_invalid(field)


class EventForm(TextForm):
    """An event as an organizer types it: local times in a chosen zone, a place or a link."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120, message=AT_MOST)],
                       render_kw={"maxlength": 120})
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000, message=AT_MOST)],
                                filters=[_lf], render_kw={"maxlength": 5000, "rows": 8})
    category = SelectField(_l("Category"), validate_choice=False, default="meeting", validators=[_offered])
    begins = DateTimeLocalField(_l("Begins"), format=INPUT_FORMATS, validators=[_datetime_rule, _existing_time])
    ends = DateTimeLocalField(_l("Ends"), format=INPUT_FORMATS, validators=[_datetime_rule, _existing_time])
    timezone = SelectField(_l("Time zone of these times"), validate_choice=False, default=DEFAULT_TIMEZONE,
                           validators=[_offered])
    online_url = URLField(_l("Link of the online event"), validators=[Optional(), Length(max=500, message=AT_MOST)],
                          description=_l("For an online event: the address is then optional."),
                          render_kw={"maxlength": 500, "placeholder": "https://"})
    address = AddressField(_l("Address"), validators=[_place_rule])
    capacity = IntegerField(_l("Seats"), validators=[_capacity_rule],
                            description=_l("Leave empty for no limit. Past the limit, people join the waitlist."),
                            render_kw={"min": 1, "inputmode": "numeric"})
    committee = SelectField(_l("Committee"), validate_choice=False, default="", validators=[_offered])
    cover = CoverField()

    def bind(self, locale: str, cities: CityLookup, committees: Sequence[tuple[int, str]]) -> EventForm:
        """Set the request's choices: labels in ``locale``, communes, the committees offered (id, name)."""
        self.address.bind(locale, cities)
        self.category.choices = [(key, str(CATEGORY_LABELS[key])) for key in CATEGORIES]
        self.timezone.choices = [(zone, f"{label} ({zone})") for zone, label in TIMEZONES.items()]
        self.committee.choices = [("", str(_l("None"))), *((str(i), name) for i, name in committees)]
        return self

    def report(self, error: EventError) -> None:
        """Put the core's refusal next to the input it is about."""
        name, message = PROBLEMS.get(error.code, ("name", DEFAULT_MESSAGES["invalid"]))
        target = self._fields[name]
        target.errors = [*target.errors, str(message) % {"days": MAX_DURATION_DAYS}]

    def to_input(self) -> EventInput:
        """The event for the core: local times made aware in the chosen zone, then UTC."""
        zone = ZoneInfo(self.timezone.data or DEFAULT_TIMEZONE)
        return EventInput(
            name=(self.name.data or "").strip(), description=(self.description.data or "").strip(),
            begins_at=_utc(self.begins.data, zone), ends_at=_utc(self.ends.data, zone),
            timezone=self.timezone.data or DEFAULT_TIMEZONE,
            address=None if address.is_empty(self.address) else address.parts(self.address),
            online_url=(self.online_url.data or "").strip() or None, capacity=self.capacity.data,
            category=self.category.data or "", committee_id=int(self.committee.data) if self.committee.data else None)


def _utc(local: datetime | None, zone: ZoneInfo) -> datetime:
    assert local is not None  # the form validated
    return local.replace(tzinfo=zone).astimezone(UTC)


def initial(event: Event) -> dict[str, Any]:
    """What the edit form shows of a saved event (times back in its own zone)."""
    zone = ZoneInfo(event.timezone)
    return {
        "name": event.name, "description": event.description, "category": event.category,
        "begins": event.begins_at.astimezone(zone).replace(tzinfo=None),
        "ends": event.ends_at.astimezone(zone).replace(tzinfo=None), "timezone": event.timezone,
        "online_url": event.online_url or "", "address": event.address or {"country": "FR"},
        "capacity": event.capacity, "committee": str(event.committee_id) if event.committee_id else "",
        "cover": str(event.cover_media_id) if event.cover_media_id else "",
    }


class ParticipantsMailForm(TextForm):
    """A message to the people of an event, sent as written."""

    subject = StringField(_l("Subject"), validators=[DataRequired(REQUIRED), Length(max=150, message=AT_MOST)],
                          render_kw={"maxlength": 150})
    body = TextAreaField(_l("Message"), validators=[DataRequired(REQUIRED), Length(max=10000, message=AT_MOST)],
                         filters=[_lf], render_kw={"maxlength": 10000, "rows": 12})
    include_waitlist = BooleanField(_l("Also write to the people on the waitlist"))


class ConfirmForm(TextForm):
    """A button and its CSRF token (cancelling an event)."""
