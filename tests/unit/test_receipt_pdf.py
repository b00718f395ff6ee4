"""The tax receipt PDF (engagement.donations.receipt_pdf): what it says, read back from the file; byte-identical
for equal data, in any process; metadata without donor data; a long yearly receipt flowing onto a second page.

The text is read back with pypdf when the venv has it, else with poppler's pdftotext; without either, the tests
that read text skip with the reason (the others parse the few raw bytes they need themselves).
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from babel.numbers import format_currency

from engagement.donations.documents import Beneficiary, ReceiptData, ReceiptLine
from engagement.donations.receipt_pdf import euros, long_date, render

ROOT = Path(__file__).resolve().parents[2]
NBSP, NNBSP = "\u00a0", "\u202f"
BENEFICIARY = Beneficiary(
    name="Association de financement du mouvement Engagement",
    address=("12 rue de la République", "75011 Paris"),
    approval="Agrément de la CNCCFP n° 2024-17 du 3 avril 2024",
    treasurer="Hélène Garnier-Lévêque",
)


def receipt(**changes: Any) -> ReceiptData:
    """A one-off gift of 4 000 € by Zoé N'Diaye-Lefèvre, numbered 2026-000123 and issued on 7 December 2026."""
    values: dict[str, Any] = {
        "number": "2026-000123",
        "issued_on": date(2026, 12, 7),
        "kind": "gift",
        "first_name": "Zoé",
        "last_name": "N'Diaye-Lefèvre",
        "address": ("Résidence Œdipe, 4 allée des Tilleuls", "69003 Lyon"),
        "lines": (ReceiptLine(date(2026, 12, 5), 400_000),),
        "beneficiary": BENEFICIARY,
    }
    return ReceiptData(**{**values, **changes})


def monthly(count: int, cents: int = 2_500) -> tuple[ReceiptLine, ...]:
    """A monthly donor's instalments, one on the 5th of each month from January 2026 on."""
    return tuple(ReceiptLine(date(2026 + i // 12, 1 + i % 12, 5), cents) for i in range(count))


def flat(text: str) -> str:
    """Every run of white space (no-break spaces included) as one space: how readers differ, not what was written."""
    return re.sub(r"\s+", " ", text).strip()


def pages_text(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page, as a PDF reader extracts it."""
    try:
        from pypdf import PdfReader
    except ImportError:
        pass
    else:
        return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]
    if shutil.which("pdftotext"):
        path = tmp_path / "receipt.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
        return out.stdout.decode("utf-8").split("\f")[:-1]
    pytest.skip("no PDF text extractor: neither pypdf in the venv nor pdftotext (poppler-utils) on the PATH")


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def info(pdf: bytes) -> dict[str, str]:
    """The document information dictionary (fpdf2 writes it uncompressed: UTF-16 hex strings or plain ones)."""
    found = re.search(rb"trailer\s*<<.*?/Info (\d+) 0 R", pdf, re.DOTALL)
    assert found
    body = re.search(rb"\n" + found.group(1) + rb" 0 obj\s*<<(.*?)>>\s*endobj", pdf, re.DOTALL)
    assert body
    values = {}
    for key, hexa, plain in re.findall(rb"/(\w+) (?:<feff([0-9a-fA-F]*)>|\(((?:[^()\\]|\\.)*)\))", body.group(1)):
        text = bytes.fromhex(hexa.decode()).decode("utf-16-be") if hexa else plain.decode("latin-1")
        values[key.decode()] = text
    return values


def test_receipt_names_its_number_parties_payment_and_certifications(tmp_path: Path) -> None:
    (page,) = pages_text(render(receipt()), tmp_path)
    text = flat(page)
    for expected in (
        "Reçu au titre des dons et cotisations versés à un parti ou groupement politique",
        "Article 11-4 de la loi n° 88-227 du 11 mars 1988 ; article 200 du code général des impôts",
        "Reçu n° 2026-000123",
        "Délivré le 7 décembre 2026",
        "BÉNÉFICIAIRE",
        "Association de financement du mouvement Engagement",
        "12 rue de la République 75011 Paris",
        "Agrément de la CNCCFP n° 2024-17 du 3 avril 2024",
        "DONATEUR",
        "Zoé N'Diaye-Lefèvre",
        "Résidence Œdipe, 4 allée des Tilleuls 69003 Lyon",
        "Nature du versement : Don",
        "Mode de versement : carte bancaire",
        "5 décembre 2026 4 000,00 €",
        "Total 4 000,00 €",
        "L’association de financement certifie que le versement ouvre droit à la réduction d’impôt prévue à"
        " l’article 200 du code général des impôts, dans la limite de 20 % du revenu imposable.",
        "Le donateur certifie que ce versement provient de ses deniers personnels et qu’il est une personne physique.",
        "Les dons et cotisations d’une même personne physique à un ou plusieurs partis politiques ne peuvent"
        " excéder 7 500 € par an (article 11-4 de la loi n° 88-227).",
        "Fait le 7 décembre 2026 Le trésorier Hélène Garnier-Lévêque",
    ):
        assert expected in text


def test_monthly_donors_yearly_receipt_lists_each_instalment_then_the_total(tmp_path: Path) -> None:
    lines = (*monthly(11), ReceiptLine(date(2026, 12, 1), 123_456))
    (page,) = pages_text(render(receipt(kind="membership", lines=lines)), tmp_path)
    text = flat(page)
    assert "Nature du versement : Cotisation" in text
    months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre")
    rows = [f"5 {month} 2026 25,00 €" for month in months] + ["1er décembre 2026 1 234,56 €", "Total 1 509,56 €"]
    assert " ".join(rows) in text  # every instalment, in order, and the total last


def test_amounts_are_written_as_babel_writes_french() -> None:
    assert euros(400_000) == "4\u202f000,00\u00a0€" == format_currency(Decimal("4000"), "EUR", locale="fr_FR")
    assert euros(1_234_567_89) == "1\u202f234\u202f567,89\u00a0€"
    assert euros(5) == "0,05\u00a0€"
    assert [long_date(date(2026, 12, 7)), long_date(date(2026, 1, 1)), long_date(date(2026, 1, 11))] == [
        "7 décembre 2026", "1er janvier 2026", "11 janvier 2026"]


def test_amounts_and_number_keep_their_no_break_spaces_in_the_pdf() -> None:
    pytest.importorskip("pypdf", reason="pypdf is not in the venv (pdftotext writes no-break spaces as plain ones)")
    from pypdf import PdfReader

    data = receipt(lines=(*monthly(2), ReceiptLine(date(2026, 3, 5), 400_000)))
    text = PdfReader(BytesIO(render(data))).pages[0].extract_text()
    assert f"Reçu n°{NBSP}2026-000123" in text
    assert f"25,00{NBSP}€" in text
    assert f"4{NNBSP}000,00{NBSP}€" in text
    assert f"Total 4{NNBSP}050,00{NBSP}€" in text
    assert f"Nature du versement{NNBSP}: Don" in text
    assert f"7{NNBSP}500" in text  # wrapped paragraphs keep the narrow one (fpdf2 writes U+00A0 there as a space)


@pytest.mark.parametrize(("first_name", "last_name", "street"), [
    ("Zoé", "N'Diaye-Lefèvre", "Résidence Œdipe, 4 allée des Tilleuls"),
    ("Œdipe", "d’Aubigné-Çelik", "Île-de-France, 2 rue Ñandú"),
])
def test_accents_and_apostrophes_in_names_survive(tmp_path: Path, first_name: str, last_name: str, street: str) -> None:
    data = receipt(first_name=first_name, last_name=last_name, address=(street, "69003 Lyon"))
    (page,) = pages_text(render(data), tmp_path)
    assert f"{first_name} {last_name}" in flat(page)
    assert f"{street} 69003 Lyon" in flat(page)


def test_equal_receipts_are_byte_identical_in_any_process() -> None:
    data = receipt(kind="membership", lines=monthly(12))
    first = render(data)
    assert render(data) == first
    # Mailed by a worker, downloaded later from a web process: another interpreter, another hash seed.
    child = subprocess.run(
        [sys.executable, "-c", "import pickle, sys; from engagement.donations.receipt_pdf import render;"
         " sys.stdout.buffer.write(render(pickle.load(sys.stdin.buffer)))"],
        input=pickle.dumps(data), capture_output=True, check=True, cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "4242"},
    )
    assert child.stdout == first
    assert render(replace(data, number="2026-000124")) != first


def test_metadata_names_the_receipt_and_the_association_never_the_donor() -> None:
    pdf = render(receipt())
    meta = info(pdf)
    assert meta["Title"] == f"Reçu n°{NBSP}2026-000123"
    assert meta["Author"] == BENEFICIARY.name
    assert meta["CreationDate"] == "D:20261207000000Z"  # the issue date, not the time of rendering
    assert b"/Metadata" not in pdf  # no XMP stream either
    donor = ("Zoé", "N'Diaye", "Lefèvre", "Œdipe", "Tilleuls", "69003", "Lyon")
    assert not [word for word in donor for value in meta.values() if word in value]


def test_streams_are_compressed_and_fonts_subset() -> None:
    pdf = render(receipt(lines=monthly(12)))
    streams = re.findall(rb"<<([^<>]*)>>\s*stream\n(.{8})", pdf, re.DOTALL)
    plain = [start for head, start in streams if b"/FlateDecode" not in head]
    assert len(streams) > len(plain) and all(start == b"/CIDInit" for start in plain)  # fpdf2 leaves ToUnicode plain
    assert pdf.count(b"/FontFile2") == 2  # regular and bold, embedded
    assert len(pdf) < 100_000  # subsets: the two vendored fonts weigh 1.4 MB


def test_twenty_lines_hold_on_one_page() -> None:
    assert page_count(render(receipt(lines=monthly(20)))) == 1


def test_forty_lines_flow_onto_a_second_page_with_the_heading_repeated(tmp_path: Path) -> None:
    data = receipt(kind="membership", lines=monthly(40))
    pdf = render(data)
    assert page_count(pdf) == 2
    first, second = (flat(text) for text in pages_text(pdf, tmp_path))
    assert first.startswith("Reçu au titre des dons") and "Reçu n° 2026-000123 — page 1/2" in first
    assert "5 janvier 2026 25,00 €" in first and "Total" not in first
    assert second.startswith("Reçu n° 2026-000123 (suite)")
    assert "Date de réception" in second and "Montant" in second
    assert "5 avril 2029 25,00 € Total 1 000,00 €" in second  # the 40th instalment, then the total
    assert "Le trésorier" in second and "Reçu n° 2026-000123 — page 2/2" in second
    shown = re.findall(r"\d+ \w+ \d{4} 25,00 €", first + " " + second)
    assert len(shown) == 40  # no instalment lost or repeated at the break


def test_render_time_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    """Not a check: the median time of one receipt (a monthly donor's, 12 lines), for the benchmark record."""
    data = receipt(kind="membership", lines=monthly(12))
    render(data)  # warm: imports, Babel's locale data
    times = []
    for _ in range(50):
        start = time.perf_counter()
        render(data)
        times.append(time.perf_counter() - start)
    with capsys.disabled():
        print(f"\nreceipt_pdf.render, 12 lines: median {statistics.median(times) * 1000:.1f} ms over 50")
