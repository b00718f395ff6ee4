"""A content page's edit form: its title and its plain-text body (engagement.pages.service owns the rules)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from engagement.pages.service import BODY_MAX, TITLE_MAX
from forms.messages import DEFAULT_MESSAGES
from forms.text import TextForm

AT_MOST = _l("At most %(max)d characters.")


class PageForm(TextForm):
    """What organizers change on a page; its address (slug) stays."""

    title = StringField(_l("Title"), validators=[DataRequired(DEFAULT_MESSAGES["required"]),
                                                 Length(max=TITLE_MAX, message=AT_MOST)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(DEFAULT_MESSAGES["required"]),
                                                 Length(max=BODY_MAX, message=AT_MOST)],
                         description=_l("Plain text. Leave a blank line between paragraphs; start a line with "
                                        "“## ” for a heading, and each line of a list with “- ”."),
                         render_kw={"rows": 24})
