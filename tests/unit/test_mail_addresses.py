"""The one address rule (engagement.mail.addresses) and the names and subjects put in mail headers
(engagement.mail.headers): what every entry point refuses, and what a From display name may hold."""

from __future__ import annotations

import unicodedata
from email import headerregistry
from email.utils import parseaddr

import pytest

from engagement.accounts.service import AccountError, create_user
from engagement.core import Core
from engagement.db import transaction
from engagement.mail import addresses, headers
from engagement.mail import service as mail

# Reserved or special-use names no mail reaches (RFC 2606, 6761, 6762, 7686), a domain without a dot, and
# what is not an address at all.
REFUSED = ["x@localhost", "x@foo.test", "x@bar.local", "x@example.invalid", "x@foo.onion", "x@home.arpa",
           "x@intranet", "x@[192.0.2.1]", "x@192.0.2.1", "x", "x@", "@example.org", "a b@example.org",
           '"x"@example.org', "x@example.org, y@example.org", "x@-example.org", "x" * 65 + "@example.org",
           "x@" + "a" * 250 + ".org",
           # Reserved for documentation or private use, or never delegated (RFC 2606, 9476; ICANN's .internal and
           # name-collision list), a one-letter or numeric top-level domain (none exists)
           "x@foo.example", "x@example", "x@FOO.Example", "x@foo.alt", "x@foo.internal", "x@foo.corp", "x@nas.lan",
           "x@box.home", "x@pc.localdomain", "x@a.b", "x@foo.private", "x@foo.intranet", "x@mail.home.arpa",
           "x@sub.localhost", "x@ｆｏｏ．ｅｘａｍｐｌｅ", "x@foo.123"]


@pytest.mark.parametrize("value", REFUSED)
def test_the_rule_refuses_what_no_mail_reaches_without_naming_it(value):
    with pytest.raises(addresses.AddressError) as refused:
        addresses.checked(value)
    assert value not in str(refused.value)
    assert not addresses.reaches(value)


@pytest.mark.parametrize(("value", "normalized"), [
    (" Camille@Example.ORG ", "Camille@example.org"),  # the domain lower-cased, the mailbox kept as written
    ("hote.paris@demo.example.org", "hote.paris@demo.example.org"),  # the demo's and the tests' domains
    ("lou+engagement@sub.example.com", "lou+engagement@sub.example.com"),
    ("zoé@exemple.fr", "zoé@exemple.fr"),
    ("x@bücher.de", "x@bücher.de"),
    ("x@example.net", "x@example.net"),  # documentation domains under a real top-level domain: kept
    ("x@mail.example.com", "x@mail.example.com"),
    ("x@home.corp.fr", "x@home.corp.fr"),  # a reserved name as a label under a real top-level domain
    ("x@lan.internal.co", "x@lan.internal.co"),
    ("x@xn--e1afmicgd0h.xn--p1ai", "x@приморье.рф"),  # an internationalized top-level domain
])
def test_the_rule_accepts_and_normalizes_addresses_mail_reaches(value, normalized):
    assert addresses.checked(value) == normalized and addresses.reaches(value)


@pytest.mark.parametrize(("value", "kind"), [
    ("x@sub.localhost", "domain"), ("x@foo.home.arpa", "domain"), ("x@foo.example", "domain"), ("x@a.b", "domain"),
    ("x@intranet", "domain"), ("x@ＬＯＣＡＬＨＯＳＴ", "domain"), ("x@foo.internal", "domain"),
    ("x@foo。lan", "domain"),
    ("x" * 65 + "@example.org", "mailbox_length"), ("é" * 65 + "@example.org", "mailbox_length"),
    ("x" * 64 + "@" + ".".join(["d" * 60] * 4) + ".org", "length"),
    ("x@", "syntax"), ("x", "syntax"), ("a b@example.org", "syntax"), ("x@-example.org", "syntax"),
    ("x@[192.0.2.1]", "syntax"),
])
def test_a_refusal_says_which_part_is_wrong(value, kind):
    """What a form tells the visitor: the domain cannot receive mail, the mailbox or the address is too long."""
    with pytest.raises(addresses.AddressError) as refused:
        addresses.checked(value)
    assert refused.value.kind == kind


@pytest.mark.parametrize("value", ["x@localhost", "x@foo.test", "x@bar.local", "x@example.invalid"])
def test_an_account_is_never_created_at_an_address_no_mail_reaches(core: Core, value):
    with transaction(core.sessions) as session, pytest.raises(AccountError) as refused:
        create_user(session, value)
    assert "mail" in str(refused.value) and value not in str(refused.value)


def test_an_account_is_created_lower_cased(core: Core):
    with transaction(core.sessions) as session:
        assert create_user(session, " Lou.Martin@Example.ORG ").email == "lou.martin@example.org"


def test_the_mailer_refuses_by_the_same_rule(core: Core):
    for value in ("x@localhost", "x@foo.test", "x@bar.local", "x@example.invalid"):
        with pytest.raises(mail.AddressError):
            mail.clean_addresses([value])


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def forbidden(display: str) -> list[str]:
    """What a display name must not hold: address syntax, control, format (bidi) characters, line breaks."""
    return [c for c in display if c in '<>@"\r\n' or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]


@pytest.mark.parametrize("name", [
    "Paypal Security <security@paypal.com>",
    '"Paypal Security" <security@paypal.com>',
    f"Pay{BIDI}pal\x00 Sec\u202eurity\r\nBcc: victim@example.org",
    "security@paypal.com",
    "Paypal\u2028Security\t\x1b[31m",
])
def test_a_sender_name_keeps_no_address_control_or_bidi_character(name):
    display, address = parseaddr(mail.sender(name))
    assert address == "ne-pas-repondre@engagement.local"  # always the platform's
    assert display == "Engagement" or display.endswith(" (via Engagement)")
    assert forbidden(display) == [] and "paypal.com" not in display
    assert "Paypal" in display or display == "Engagement"


def test_a_sender_name_made_only_of_what_is_removed_leaves_the_platform_alone():
    assert parseaddr(mail.sender("<security@paypal.com>")) == ("Engagement", "ne-pas-repondre@engagement.local")
    assert parseaddr(mail.sender("\u202e\u2066 \x00")) == ("Engagement", "ne-pas-repondre@engagement.local")


def test_a_long_name_is_cut_with_an_ellipsis_and_the_platform_still_shows():
    display, _address = parseaddr(mail.sender("Marie-Christine Delacroix-Beaumont de la Tour d'Auvergne"))
    name = display.removesuffix(" (via Engagement)")
    assert len(name) == headers.NAME_LENGTH and name.endswith("…")
    assert name.startswith("Marie-Christine Delacroix-Beaumont")


def test_an_ordinary_name_is_kept_as_written():
    assert parseaddr(mail.sender("  Zoé   d'Arc-Hélène ")) == ("Zoé d'Arc-Hélène (via Engagement)",
                                                             "ne-pas-repondre@engagement.local")


def test_the_sender_is_a_header_an_email_library_parses_back():
    value = mail.sender("Zoé, \"la\" (présidente)")
    parsed = headerregistry.HeaderRegistry()("From", value)
    [address] = parsed.addresses
    assert address.addr_spec == "ne-pas-repondre@engagement.local"
    assert address.display_name == "Zoé, la (présidente) (via Engagement)"


@pytest.mark.parametrize(("subject", "expected"), [
    ("Bonjour\r\nBcc: victim@example.org", "Bonjour Bcc: victim@example.org"),
    (f"Un mot {BIDI}pour\x00 toi", "Un mot pour toi"),
    ("  Réunion\tsamedi  ", "Réunion samedi"),
])
def test_a_subject_keeps_no_control_or_bidi_character(subject, expected):
    assert headers.text(subject) == expected


# Encoded words (RFC 2047) that a mail client would decode into something the filters never saw.
ENCODED = ["=?utf-8?q?=3Csecurity=40paypal.fr=3E?=", "=?UTF-8?B?PHNlY3VyaXR5QHBheXBhbC5mcj4=?=",
           "=?iso-8859-1*fr?Q?=E2=80=AE?=", "=?utf-8?q?a b?=", "=?=?utf-8?q?x?=utf-8?q?=3C?=",
           "=\u200b?utf-8?q?=3C?=", "＝？utf-8？q？=3C？＝"]


@pytest.mark.parametrize("word", ENCODED)
def test_a_name_keeps_no_encoded_word_a_client_would_decode(word):
    display, address = parseaddr(mail.sender(f"{word} Camille"))
    assert address == "ne-pas-repondre@engagement.local"
    assert display == "Camille (via Engagement)"
    assert "=?" not in mail.sender(word) and parseaddr(mail.sender(word))[0] == "Engagement"


@pytest.mark.parametrize("word", ENCODED[:-1])
def test_a_subject_keeps_no_encoded_word_a_client_would_decode(word):
    assert headers.text(f"Réunion {word} samedi") == "Réunion samedi"


def test_a_subject_keeps_an_equals_sign_or_a_question_mark_that_encodes_nothing():
    assert headers.text("2 + 2 =? Réponse ?= samedi") == "2 + 2 =? Réponse ?= samedi"


@pytest.mark.parametrize(("name", "expected"), [
    ("support＠paypal.com Du﹫․com Camille", "Camille"),  # look-alike at signs, one-dot leader: NFKC makes them @ .
    ("Camille ＜security＞ ＂Paypal＂", "Camille security Paypal"),  # full-width < > "
    ("Paypal.com Security", "Security"),  # a word shaped like a domain name
    ("(paypal.fr) ｐａｙｐａｌ．ｆｒ paypal。fr www.pаypal.com Security", "Security"),
    ("xn--pypal-4ve.com Security", "Security"),
])
def test_a_name_keeps_no_look_alike_at_sign_nor_domain_name(name, expected):
    assert headers.name(name) == expected


@pytest.mark.parametrize("name", ["J.-P. Dupont", "J.R.R. Tolkien", "M. Dupont", "Anne-Sophie d’Arc", "A.B.C.",
                                  "Zoé 3.14", "Jean Dupont Jr.", "Dr. No"])
def test_a_name_with_initials_or_dots_that_name_no_domain_is_kept(name):
    assert headers.name(name) == name
