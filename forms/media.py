"""The media library's forms: an upload (file and alt text), and the cover choice of events, committees, pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, StopValidation

from engagement.media.models import Media
from engagement.media.service import MAX_BYTES, MAX_PIXELS, MediaRefused
from forms.messages import DEFAULT_MESSAGES
from forms.text import TextForm

ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
MAX_ALT = 300
REFUSALS = {  # the service's refusal code -> the message shown next to the file input
    "empty": _l("The file is empty: choose an image."),
    "too_large": _l("The image is larger than %(mib)d MB: make it smaller, then send it again."),
    "type": _l("Only JPEG, PNG, WebP and GIF images are accepted (their content is checked, not their name)."),
    "too_many_pixels": _l("The image has more than %(megapixels)d million pixels: make it smaller, "
                          "then send it again."),
    "truncated": _l("The image is incomplete or damaged: export it again, then send it."),
}
GONE = _l("This image is no longer in the media library: choose another one, or none.")


class UploadForm(TextForm):
    """An image for the library and its text alternative (what a screen reader says instead of the image)."""

    image = FileField(_l("Image"), validators=[FileRequired(DEFAULT_MESSAGES["required"])],
                      description=_l("JPEG, PNG, WebP or GIF, at most %(mib)d MB.", mib=MAX_BYTES // 2**20),
                      render_kw={"accept": ACCEPT})
    alt = StringField(_l("Text alternative"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
                      validators=[DataRequired(DEFAULT_MESSAGES["required"]),
                                  Length(max=MAX_ALT, message=_l("At most %(max)d characters."))],
                      description=_l("What the image shows, for people who cannot see it (read by screen "
                                     "readers, shown if the image does not load)."),
                      render_kw={"maxlength": MAX_ALT})

    def report(self, refusal: MediaRefused) -> None:
        """Put the service's refusal next to the file input."""
        message = str(REFUSALS.get(refusal.code, DEFAULT_MESSAGES["invalid"]))
        message %= {"mib": MAX_BYTES // 2**20, "megapixels": MAX_PIXELS // 1_000_000}
        self.image.errors = [*self.image.errors, message]


def label(media: Media) -> str:
    """How an image is named in a choice: its text alternative, its file name and size."""
    return f"{media.alt or media.original_name} ({media.original_name}, {media.width}×{media.height})"


class CoverField(SelectField):
    """A cover from the media library, or none; a chosen id must exist (the lookup is passed in by ``bind``)."""

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        super().__init__(label or _l("Cover image"), validate_choice=False, default="",
                         description=_l("Shown at the top of the page and on its card in lists."), **kwargs)
        self.exists: Callable[[int], bool] = lambda _media_id: False

    def bind(self, library: Sequence[Media], exists: Callable[[int], bool]) -> None:
        """Offer ``library`` (most recent first; the current cover among them) and check ids with ``exists``."""
        self.choices = [("", str(_l("None"))), *((str(m.id), label(m)) for m in library)]
        self.exists = exists

    def pre_validate(self, form: Any) -> None:
        if self.data and not (str(self.data).isdigit() and self.exists(int(self.data))):
            raise StopValidation(str(GONE))

    @property
    def media_id(self) -> int | None:
        return int(self.data) if self.data else None


class CoverForm(TextForm):
    """The cover of a committee or a content page (events choose theirs in their own form)."""

    cover = CoverField()
