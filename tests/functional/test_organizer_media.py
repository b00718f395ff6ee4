"""The media library: organizers upload images (checked by content), delete them, and choose covers that the
public pages show through the image macro (width, height, srcset, sizes, lazy loading, Open Graph)."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from engagement import PROJECT_ROOT, demo
from engagement.committees.models import Committee
from engagement.events.models import Event
from engagement.media import service
from engagement.media.models import Media
from engagement.pages.models import ContentPage
from tests.functional.helpers import count, selected_option, text
from tests.functional.invitation_steps import log_in, make_user
from tests.functional.test_organizer_events import EVENT

ORGANIZER = "orga@example.org"
IMAGE_URL = re.compile(r"/media/[0-9a-f]{2}/[0-9a-f]{64}\.jpg\?[^\" ]*s=[A-Za-z0-9_-]{22}")


def jpeg(width: int = 1200, height: int = 800, seed: int = 1) -> bytes:
    import pyvips

    noise = pyvips.Image.gaussnoise(width, height, sigma=30, mean=128, seed=seed).cast("uchar")
    return bytes(noise.bandjoin([noise, noise]).copy(interpretation="srgb").jpegsave_buffer(Q=85))


def png_bomb(side: int = 10_000) -> bytes:
    """A PNG whose header promises side x side grey pixels (100 megapixels): a few hundred bytes on the wire."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress(b"\0" * (side + 1) * 16)  # the first rows only: the header alone must refuse it
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


@pytest.fixture
def organizer(app, client):
    make_user(app, ORGANIZER, role="organizer", first_name="Olivia", last_name="Orga")
    log_in(client, ORGANIZER)
    return client


def upload(client, data: bytes, *, filename: str = "affiche.jpg", alt: str = "Une foule place de la République"):
    return client.post("/organizer/media", {"image": (io.BytesIO(data), filename), "alt": alt},
                       page="/organizer/media", content_type="multipart/form-data")


def stored_files(settings) -> list[Path]:
    root = Path(settings.media_storage_url.removeprefix("file://"))
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def error_next_to(page: str, field_id: str) -> str | None:
    found = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', page)
    return text(found.group(1)) if found else None


def img_tags(page: str) -> list[str]:
    return re.findall(r'<img class="media-image"[^>]*>', page)


def attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'\s{name}="([^"]*)"', tag)
    return text(found.group(1)) if found else None


def add_image(app, data: bytes | None = None, alt: str = "Affiche") -> int:
    from engagement.db import transaction

    with transaction(app.extensions["engagement"].sessions) as session:
        return service.upload(session, data or jpeg(), filename="affiche.jpg", uploaded_by_id=None, alt=alt).id


# --- uploading --------------------------------------------------------------------------------------

def test_an_uploaded_image_is_stored_and_listed_with_its_size_and_type(organizer, read, settings):
    response = upload(organizer, jpeg(1200, 800))
    assert response.status_code == 303, text(organizer.last_html)[:2000]
    row = read().scalars(select(Media)).one()
    assert (row.width, row.height, row.content_type, row.alt) == (1200, 800, "image/jpeg",
                                                                   "Une foule place de la République")
    assert row.original_name == "affiche.jpg" and row.placeholder.startswith("data:image/jpeg;base64,")
    assert [p.relative_to(p.parent.parent).as_posix() for p in stored_files(settings)] == [row.key]
    page = text(organizer.get(response.headers["Location"]).get_data(as_text=True))
    assert "Image ajoutée à la bibliothèque." in page
    listed = re.search(rf'<tr id="media-{row.id}".*?</tr>', page, re.S)
    assert listed is not None
    assert "1200×800" in listed.group(0) and "JPEG" in listed.group(0) and "affiche.jpg" in listed.group(0)
    thumbnail = img_tags(listed.group(0))[0]
    assert IMAGE_URL.fullmatch(attribute(thumbnail, "src") or "")
    assert (attribute(thumbnail, "width"), attribute(thumbnail, "height")) == ("160", "160")
    assert attribute(thumbnail, "alt") == "Une foule place de la République"


def test_the_same_image_twice_is_one_row(organizer, read):
    image = jpeg()
    assert upload(organizer, image).status_code == 303
    assert upload(organizer, image, filename="copie.jpg").status_code == 303
    assert count(read(), Media) == 1


def test_the_file_input_offers_images_only(organizer):
    page = organizer.get("/organizer/media").get_data(as_text=True)
    file_input = re.search(r'<input[^>]*name="image"[^>]*>', page)
    assert file_input and 'accept="image/jpeg,image/png,image/webp,image/gif"' in file_input.group(0)
    assert 'enctype="multipart/form-data"' in page


REFUSED = {
    "empty": (b"", "Le fichier est vide\u00a0: choisissez une image."),
    "type": (b"%PDF-1.7\n" + b"x" * 2000, "Seules les images JPEG, PNG, WebP et GIF sont acceptées "
                                         "(leur contenu est vérifié, pas leur nom)."),
    "too_many_pixels": (png_bomb(), "L’image a plus de 40 millions de pixels\u00a0: réduisez-la, puis envoyez-la "
                                    "de nouveau."),
    "truncated": (jpeg()[:6000], "L’image est incomplète ou abîmée\u00a0: exportez-la de nouveau, puis envoyez-la."),
    "too_large": (b"\xff\xd8\xff" + b"\0" * service.MAX_BYTES, "L’image dépasse 15 Mo\u00a0: réduisez-la, puis "
                                                                "envoyez-la de nouveau."),
}


@pytest.mark.parametrize("code", sorted(REFUSED))
def test_each_refusal_is_explained_next_to_the_file_and_nothing_is_stored(organizer, read, settings, code):
    data, message = REFUSED[code]
    response = upload(organizer, data, filename="image.jpg", alt="Mon texte gardé")
    assert response.status_code == 422
    page = organizer.last_html
    assert error_next_to(page, "image") == message
    assert re.search(r'<input[^>]*name="alt"[^>]*value="Mon texte gardé"', text(page))
    assert count(read(), Media) == 0 and stored_files(settings) == []


def test_a_body_far_over_the_limit_gets_the_same_message_not_a_bare_413(organizer, read):
    response = upload(organizer, b"\xff\xd8\xff" + b"\0" * (service.MAX_BYTES + 200_000))
    assert response.status_code == 413
    assert error_next_to(organizer.last_html, "image") == REFUSED["too_large"][1]
    assert count(read(), Media) == 0


def test_an_image_over_the_app_wide_limit_but_under_the_librarys_is_taken(organizer, read):
    big = jpeg(2400, 1600, seed=7)
    assert len(big) > 1024 * 1024  # over MAX_CONTENT_LENGTH: the upload route raises it for itself only
    assert upload(organizer, big).status_code == 303
    assert read().scalars(select(Media.width)).one() == 2400


def test_the_text_alternative_is_required(organizer, read):
    response = upload(organizer, jpeg(), alt="   ")
    assert response.status_code == 422
    assert error_next_to(organizer.last_html, "alt") == "Ce champ est obligatoire."
    assert count(read(), Media) == 0


def test_a_missing_file_is_asked_for(organizer, read):
    response = organizer.post("/organizer/media", {"alt": "Sans fichier"}, page="/organizer/media",
                              content_type="multipart/form-data")
    assert response.status_code == 422
    assert error_next_to(organizer.last_html, "image") == "Ce champ est obligatoire."


def test_an_upload_without_its_csrf_token_is_refused(organizer, read):
    response = organizer.client.post("/organizer/media", data={"image": (io.BytesIO(jpeg()), "a.jpg"), "alt": "x"},
                                     content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Votre session a expiré" in text(response.get_data(as_text=True))
    assert count(read(), Media) == 0


def test_uploads_are_limited_per_account(organizer, read, monkeypatch):
    monkeypatch.setattr("web.organizer.media.UPLOAD_LIMIT", "2 per hour")
    assert [upload(organizer, jpeg(seed=n)).status_code for n in (1, 2, 3)] == [303, 303, 429]
    assert "Vous avez envoyé beaucoup d’images" in text(organizer.last_html)
    assert count(read(), Media) == 2


def test_members_are_refused_and_visitors_sent_to_log_in(app, client, new_client, read):
    media_id = add_image(app)
    visitor = new_client()
    assert visitor.get("/organizer/media").status_code == 302
    make_user(app, "membre@example.org")
    log_in(client, "membre@example.org")
    for url in ("/organizer/media", f"/organizer/media/{media_id}/delete", "/organizer/pages",
                "/organizer/pages/qui-sommes-nous/cover", "/organizer/committees/x/cover"):
        assert client.get(url).status_code == 403, url
    response = client.post("/organizer/media", {"image": (io.BytesIO(jpeg(seed=3)), "a.jpg"), "alt": "x"},
                           page="/", content_type="multipart/form-data")
    assert response.status_code == 403
    assert client.post(f"/organizer/media/{media_id}/delete", {}, page="/").status_code == 403
    assert count(read(), Media) == 1


# --- deleting ---------------------------------------------------------------------------------------

def test_deleting_asks_first_then_removes_the_image_and_the_covers_showing_it(app, organizer, read, settings):
    media_id = add_image(app, alt="Affiche du meeting")
    organizer.get("/organizer/events/new")
    assert organizer.post("/organizer/events/new", {**EVENT, "cover": str(media_id)}).status_code == 303
    page = text(organizer.get(f"/organizer/media/{media_id}/delete").get_data(as_text=True))
    assert "Réunion publique" in page and "Cette action est définitive." in page
    assert count(read(), Media) == 1  # asking deleted nothing
    response = organizer.post(f"/organizer/media/{media_id}/delete", {})
    assert response.status_code == 303 and response.headers["Location"] == "/organizer/media"
    assert count(read(), Media) == 0 and stored_files(settings) == []
    assert read().scalars(select(Event.cover_media_id)).one() is None
    assert organizer.get(f"/organizer/media/{media_id}/delete").status_code == 404


# --- covers -----------------------------------------------------------------------------------------

def test_an_event_gets_its_cover_from_the_library(app, organizer, read):
    older, newer = add_image(app, jpeg(seed=1), "Ancienne"), add_image(app, jpeg(seed=2), "Récente")
    page = organizer.get("/organizer/events/new").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="([^"]*)"', re.search(r'<select[^>]*name="cover".*?</select>',
                                                                   page, re.S).group(0))
    assert options == ["", str(newer), str(older)]  # none, then the most recent first
    assert organizer.post("/organizer/events/new", {**EVENT, "cover": str(older)}).status_code == 303
    event = read().scalars(select(Event)).one()
    assert event.cover_media_id == older
    organizer.get(f"/organizer/events/{event.slug}/edit")
    assert selected_option(organizer.last_html, "cover") == str(older)
    assert organizer.post(f"/organizer/events/{event.slug}/edit", {**EVENT, "cover": ""}).status_code == 303
    assert read().scalars(select(Event.cover_media_id)).one() is None


@pytest.mark.parametrize("value", ["999", "abc", "-1"])
def test_a_cover_that_is_not_in_the_library_is_refused(app, organizer, read, value):
    add_image(app)
    organizer.get("/organizer/events/new")
    response = organizer.post("/organizer/events/new", {**EVENT, "cover": value})
    assert response.status_code == 422
    assert error_next_to(organizer.last_html, "cover") == ("Cette image n’est plus dans la bibliothèque\u00a0: "
                                                           "choisissez-en une autre, ou aucune.")
    assert count(read(), Event) == 0


def test_committees_and_pages_get_their_cover(app, organizer, read):
    demo.load(app.extensions["engagement"].sessions, PROJECT_ROOT / "workflows")
    media_id = add_image(app, jpeg(seed=9), "Nouvelle couverture")
    for url, model, where in (("/organizer/committees/comite-paris-centre/cover", Committee,
                               Committee.slug == "comite-paris-centre"),
                              ("/organizer/pages/qui-sommes-nous/cover", ContentPage,
                               ContentPage.slug == "qui-sommes-nous")):
        organizer.get(url)
        assert organizer.post(url, {"cover": "12345"}).status_code == 422
        assert organizer.post(url, {"cover": str(media_id)}).status_code == 303
        assert read().scalars(select(model.cover_media_id).where(where)).one() == media_id
    assert "Nouvelle couverture" in text(organizer.get("/organizer/pages").get_data(as_text=True))


def test_a_detail_page_shows_its_cover_as_a_hero_with_open_graph(app, organizer, read, settings):
    media_id = add_image(app, jpeg(1600, 900), "Le public de la réunion")
    organizer.get("/organizer/events/new")
    organizer.post("/organizer/events/new", {**EVENT, "cover": str(media_id)})
    slug = read().scalars(select(Event.slug)).one()
    page = organizer.get(f"/events/{slug}").get_data(as_text=True)
    og = re.search(r'<meta property="og:image" content="([^"]+)">', page)
    assert og and og.group(1).startswith(settings.site_url + "/media/")
    assert "?w=1200&h=630&fit=cover&q=70&s=" in text(og.group(1))  # the og preset, signed
    hero = img_tags(page)[0]
    assert (attribute(hero, "width"), attribute(hero, "height")) == ("640", "360")
    assert attribute(hero, "sizes") and attribute(hero, "fetchpriority") == "high"
    assert attribute(hero, "loading") is None and attribute(hero, "alt") == "Le public de la réunion"
    assert [w.split()[-1] for w in (attribute(hero, "srcset") or "").split(", ")] == ["640w", "1200w"]
    placeholder = re.search(r'<img class="media-placeholder"[^>]*>', page)
    assert placeholder and 'alt=""' in placeholder.group(0) and 'aria-hidden="true"' in placeholder.group(0)
    assert "style=" not in re.search(r'<span class="media.*?</span>', page, re.S).group(0)


def test_lists_show_cards_loaded_lazily_and_pages_without_cover_have_no_image(app, organizer, read):
    media_id = add_image(app, jpeg(1600, 900))
    organizer.get("/organizer/events/new")
    organizer.post("/organizer/events/new", {**EVENT, "cover": str(media_id)})
    organizer.post("/organizer/events/new", {**EVENT, "name": "Sans couverture"}, page="/organizer/events/new")
    home = organizer.get("/").get_data(as_text=True)
    cards = img_tags(home)
    assert len(cards) == 1
    assert attribute(cards[0], "loading") == "lazy" and attribute(cards[0], "decoding") == "async"
    assert (attribute(cards[0], "width"), attribute(cards[0], "height")) == ("400", "225")
    assert [w.split()[-1] for w in (attribute(cards[0], "srcset") or "").split(", ")] == ["400w", "800w"]
    first_card = img_tags(organizer.get("/events").get_data(as_text=True))[0]  # at the top: fetched at once
    assert attribute(first_card, "loading") is None and attribute(first_card, "fetchpriority") is None
    slug = read().scalars(select(Event.slug).where(Event.name == "Sans couverture")).one()
    bare = organizer.get(f"/events/{slug}").get_data(as_text=True)
    assert img_tags(bare) == [] and "og:image" not in bare


def test_the_demo_gives_the_home_page_twelve_covers_once(app, read):
    sessions = app.extensions["engagement"].sessions
    first = demo.load(sessions, PROJECT_ROOT / "workflows")
    assert "covers: 14 attached" in first
    images = count(read(), Media)
    assert "covers: unchanged" in demo.load(sessions, PROJECT_ROOT / "workflows")
    assert count(read(), Media) == images == 14
    home = app.test_client().get("/").get_data(as_text=True)
    assert len(img_tags(home)) == 12 and len({attribute(t, "src") for t in img_tags(home)}) == 12
