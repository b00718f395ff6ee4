"""MAIL_SENDER is one mailbox ("Name <address>" or a bare address) whose address mail reaches: production
refuses to start without it or with anything else, in one line naming the variable (issue #23)."""

from __future__ import annotations

import pytest

from engagement.config import ConfigError, load_settings

PRODUCTION = {"ENGAGEMENT_ENV": "production", "ENGAGEMENT_INSTANCE_DIR": "", "SECRET_KEY": "s" * 48,
              "DATABASE_URL": "sqlite://", "SITE_URL": "https://agir.example.org"}
DEVELOPMENT = {"ENGAGEMENT_ENV": "development", "ENGAGEMENT_INSTANCE_DIR": "", "SECRET_KEY": "s" * 48,
               "DATABASE_URL": "sqlite://"}

UNREACHABLE = ["x@localhost", "ne-pas-repondre@engagement.local", "Agir <x@foo.example>", "x@mail.internal"]
MALFORMED = [
    "Evil <a@b.fr>, c@d.fr", "a@b.fr, c@d.fr", "a@b.fr c@d.fr",  # more than one
    "Evil <a@b.fr", "<>", "Le mouvement", "Le mouvement <>", "x@",  # not a mailbox
    "security@paypal.com <ne-pas-repondre@agir.example.org>",  # a name holding an address
    '"Paypal <x@paypal.com>" <ne-pas-repondre@agir.example.org>',
    "=?utf-8?q?=3Cx=40paypal.com=3E?= <ne-pas-repondre@agir.example.org>",  # an encoded word
    "Le\u202emouvement <ne-pas-repondre@agir.example.org>",  # a bidi override
]


def test_production_without_mail_sender_refuses_to_load():
    with pytest.raises(ConfigError, match=r"^MAIL_SENDER is required when ENGAGEMENT_ENV=production"):
        load_settings(PRODUCTION)


@pytest.mark.parametrize("value", UNREACHABLE + MALFORMED)
def test_production_refuses_a_sender_that_is_not_one_reachable_mailbox_naming_the_variable(value):
    with pytest.raises(ConfigError, match=r"^MAIL_SENDER must be one address mail reaches") as refused:
        load_settings({**PRODUCTION, "MAIL_SENDER": value})
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("value", MALFORMED)
def test_outside_production_a_sender_must_still_be_one_mailbox(value):
    with pytest.raises(ConfigError, match=r"^MAIL_SENDER must be one address"):
        load_settings({**DEVELOPMENT, "MAIL_SENDER": value})


@pytest.mark.parametrize("value", UNREACHABLE)
def test_outside_production_a_local_sender_is_allowed(value):
    """Nothing leaves a development machine (the outbox backend), so its sender may be a local name."""
    assert load_settings({**DEVELOPMENT, "MAIL_SENDER": value}).mail_sender == value


@pytest.mark.parametrize("value", [
    "Le mouvement <ne-pas-repondre@agir.example.org>", "ne-pas-repondre@agir.example.org",
    '"Agir, ensemble" <contact@agir.example.org>', " Zoé d’Arc <zoe@exemple.fr> ",
])
def test_one_reachable_mailbox_is_kept_as_written(value):
    assert load_settings({**PRODUCTION, "MAIL_SENDER": value}).mail_sender == value.strip()


def test_outside_production_the_default_sender_stays():
    assert load_settings(DEVELOPMENT).mail_sender == "Engagement <ne-pas-repondre@engagement.local>"
    assert load_settings({**DEVELOPMENT, "ENGAGEMENT_ENV": "test"}).mail_sender.endswith("@engagement.local>")


@pytest.mark.parametrize("value", ["dpo@localhost", "dpo@cnil.example", "dpo@foo.internal", "dpo@a.b"])
def test_the_dpo_address_follows_the_same_rule(value):
    """PRIVACY_DPO_EMAIL is printed in every form's privacy notice: an address no mail reaches is refused."""
    with pytest.raises(ConfigError, match=r"^PRIVACY_DPO_EMAIL must be an email address"):
        load_settings({**PRODUCTION, "MAIL_SENDER": "ne-pas-repondre@agir.example.org", "PRIVACY_DPO_EMAIL": value})
