"""The tax receipt as a PDF: the document a donor keeps to claim the reduction of CGI art. 200.

French only (a French tax document, never translated). Deterministic: equal data give equal bytes, so a
receipt downloaded again later is the very file that was mailed (the creation date is the issue date, the
file id a hash of the content). Fonts are the vendored DejaVu Sans (``fonts/``): fpdf2's core fonts are
Latin-1 only and lack the narrow no-break space French amounts use, and a server has no system font we can
rely on. fpdf2 parses a font anew for each document: its font object carries that document's glyph subset
and is subset in place when the file is written, so it cannot be shared between renders.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

from babel.dates import format_date
from fpdf import FPDF, FontFace

from engagement.donations.amounts import money
from engagement.donations.documents import ReceiptData

FONTS = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVuSans"
MARGIN = 15  # mm, all round: with the blocks below, a receipt of about 20 lines holds on one A4 page
NNBSP, NBSP = "\u202f", "\u00a0"  # narrow no-break space (before ; : ! ?, between thousands), no-break space

TITLE = "Reçu au titre des dons et cotisations versés à un parti ou groupement politique"
LEGAL_BASIS = (
    f"Article 11-4 de la loi n°{NBSP}88-227 du 11{NBSP}mars 1988{NNBSP}; article 200 du code général des impôts"
)
CERTIFICATIONS = (
    "L’association de financement certifie que le versement ouvre droit à la réduction d’impôt"
    f" prévue à l’article 200 du code général des impôts, dans la limite de 20{NBSP}% du revenu imposable.",
    "Le donateur certifie que ce versement provient de ses deniers personnels et qu’il est une personne physique.",
    "Les dons et cotisations d’une même personne physique à un ou plusieurs partis politiques ne peuvent excéder"
    f" 7{NNBSP}500{NBSP}€ par an (article 11-4 de la loi n°{NBSP}88-227).",
)
KINDS = {"gift": "Don", "membership": "Cotisation"}
COLUMNS, ROW = (70, 40), 5.4  # mm: the table of lines (date received, amount) and the height of one line
SIGNATURE_WIDTH, SIGNATURE_LINE, PARAGRAPH_LINE = 80, 5, 4  # mm
SMALL_CAPS = FontFace(family=FAMILY, emphasis="BOLD", size_pt=8)


def render(data: ReceiptData) -> bytes:
    """The receipt as PDF bytes (A4 portrait; the lines table flows onto further pages, its heading repeated)."""
    pdf = _ReceiptPDF(data)
    _title(pdf, data)
    _parties(pdf, data)
    _payments(pdf, data)
    _certification(pdf, data)
    return bytes(pdf.output())


def receipt_number(data: ReceiptData) -> str:
    return f"Reçu n°{NBSP}{data.number}"


def euros(cents: int) -> str:
    """4000_00 -> "4 000,00 €": a receipt is a French tax document, in French whatever the donor's language."""
    return money(cents, "fr")


def long_date(day: date) -> str:
    """7 décembre 2026; the first of a month is "1er", as French writes it (Babel would print "1")."""
    text = format_date(day, "long", locale="fr_FR")
    return text.replace("1", "1er", 1) if day.day == 1 else text


class _ReceiptPDF(FPDF):
    """A4 portrait with the receipt's number at the foot of each page and atop every page after the first."""

    def __init__(self, data: ReceiptData) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.receipt = data
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 5)
        self.add_font(FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_compression(True)
        # No donor data here: the metadata is what file managers and search indexes show.
        self.set_title(receipt_number(data))
        self.set_author(data.beneficiary.name)
        self.set_lang("fr-FR")
        self.set_creator("Engagement")
        self.set_creation_date(datetime.combine(data.issued_on, time(), tzinfo=UTC))
        self.add_page()

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(FAMILY, "", 8)
            self.cell(0, 5, f"{receipt_number(self.receipt)} (suite)", new_x="LMARGIN", new_y="NEXT")
            self.ln(3)

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.set_font(FAMILY, "", 8)
        self.cell(0, 5, f"{receipt_number(self.receipt)} — page {self.page_no()}/{{nb}}", align="C")


def _title(pdf: FPDF, data: ReceiptData) -> None:
    pdf.set_font(FAMILY, "B", 11)
    pdf.multi_cell(0, 5.5, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 8)
    pdf.multi_cell(0, 4, LEGAL_BASIS, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    top = pdf.get_y()
    pdf.set_font(FAMILY, "B", 16)
    pdf.cell(0, 8, receipt_number(data))
    pdf.set_xy(pdf.l_margin, top)
    pdf.set_font(FAMILY, "", 10)
    pdf.cell(0, 8, f"Délivré le {long_date(data.issued_on)}", align="R", new_x="LMARGIN", new_y="NEXT")
    _rule(pdf)


def _parties(pdf: FPDF, data: ReceiptData) -> None:
    """The beneficiary (left) and the donor (right), side by side."""
    half = (pdf.epw - 10) / 2
    top = pdf.get_y()
    beneficiary = data.beneficiary
    _block(pdf, pdf.l_margin, top, half, "BÉNÉFICIAIRE", beneficiary.name, (*beneficiary.address, beneficiary.approval))
    left_bottom = pdf.get_y()
    name = f"{data.first_name} {data.last_name}"
    _block(pdf, pdf.l_margin + half + 10, top, half, "DONATEUR", name, data.address)
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()))
    _rule(pdf)


def _block(pdf: FPDF, x: float, y: float, width: float, heading: str, name: str, lines: tuple[str, ...]) -> None:
    pdf.set_xy(x, y)
    with pdf.use_font_face(SMALL_CAPS):
        pdf.multi_cell(width, 4.5, heading, align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "B", 10)
    pdf.multi_cell(width, 5, name, align="L", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "", 9.5)
    for line in lines:
        pdf.multi_cell(width, 4.5, line, align="L", new_x="LEFT", new_y="NEXT")


def _payments(pdf: FPDF, data: ReceiptData) -> None:
    with pdf.use_font_face(SMALL_CAPS):
        pdf.cell(0, 4.5, "VERSEMENT", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 10)
    pdf.cell(0, 5.5, f"Nature du versement{NNBSP}: {KINDS[data.kind]}", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5.5, f"Mode de versement{NNBSP}: {data.method}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _table_heading(pdf)
    for index, line in enumerate(data.lines, start=1):
        if pdf.will_page_break(ROW * (2 if index == len(data.lines) else 1)):  # the total never stands alone
            pdf.add_page()
            _table_heading(pdf)
        _table_row(pdf, long_date(line.received_on), euros(line.amount_cents))
    pdf.set_line_width(0.4)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + sum(COLUMNS), pdf.get_y())
    pdf.set_font(FAMILY, "B", 10)
    _table_row(pdf, "Total", euros(data.total_cents), rule=False)
    pdf.ln(5)


def _table_heading(pdf: FPDF) -> None:
    pdf.set_font(FAMILY, "B", 10)
    pdf.set_line_width(0.4)
    _table_row(pdf, "Date de réception", "Montant")
    pdf.set_font(FAMILY, "", 10)


def _table_row(pdf: FPDF, when: str, amount: str, rule: bool = True) -> None:
    """One line of the table, written with cell(): multi_cell would print a no-break space as a plain one."""
    pdf.cell(COLUMNS[0], ROW, when)
    pdf.cell(COLUMNS[1], ROW, amount, align="R", new_x="LMARGIN", new_y="NEXT")
    if rule:
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + sum(COLUMNS), pdf.get_y())
    pdf.set_line_width(0.15)


def _certification(pdf: FPDF, data: ReceiptData) -> None:
    """The certifications and the signature, kept together on one page."""
    pdf.set_font(FAMILY, "", 8.5)
    height = sum(_height(pdf, text) + 1.5 for text in CERTIFICATIONS) + 4 + 3 * SIGNATURE_LINE
    if pdf.will_page_break(height):
        pdf.add_page()
    for text in CERTIFICATIONS:
        pdf.multi_cell(0, PARAGRAPH_LINE, text, align="J", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    pdf.ln(4)
    pdf.set_x(pdf.w - pdf.r_margin - SIGNATURE_WIDTH)
    for style, text in (
        ("", f"Fait le {long_date(data.issued_on)}"),
        ("B", "Le trésorier"),
        ("", data.beneficiary.treasurer),
    ):
        pdf.set_font(FAMILY, style, 10)
        pdf.multi_cell(SIGNATURE_WIDTH, SIGNATURE_LINE, text, align="L", new_x="LEFT", new_y="NEXT")


def _height(pdf: FPDF, text: str) -> float:
    height = pdf.multi_cell(0, PARAGRAPH_LINE, text, align="J", dry_run=True, output="HEIGHT")
    assert isinstance(height, float)
    return height


def _rule(pdf: FPDF) -> None:
    pdf.ln(3)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)
