"""The redaction rule for files put before the jury (backend/jury/_files.py): what a party
may hide in a photo's or a PDF's metadata never reaches a juror, and a PDF whose text names
a party is withheld with a reason."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader

from backend.jury import Identity, redact_file
from tests.support.jury_files import SECRETS, pdf_with_metadata, photo_with_metadata, readable

BUYER = Identity(label="claimant", address="0x" + "ab" * 20, names=("Lena Fischer",),
                 contacts=("lena.fischer@example.de",))
SELLER = Identity(label="respondent", address="0x" + "cd" * 20, names=("Wang Jianguo",),
                  contacts=("+86 138 0013 8000",))
PEOPLE = (BUYER, SELLER)


def _scan(data: bytes) -> list[str]:
    """Every secret found in ``data``."""
    texts = readable(data)
    return [s for s in SECRETS if any(s.lower() in t for t in texts)]


def test_a_jpeg_keeps_its_pixels_and_loses_every_tag() -> None:
    original = photo_with_metadata()
    assert _scan(original)
    got = redact_file(original, "image/jpeg", PEOPLE)
    assert got.shown and got.media_type == "image/jpeg" and got.content is not None
    assert _scan(got.content) == []
    with Image.open(io.BytesIO(got.content)) as img:
        assert img.size == (48, 64)  # turned upright by its orientation, then the tag dropped
        assert not img.getexif() and "comment" not in img.info and "xmp" not in img.info
        r, g, b = img.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert r > 150 and g < 90 and b < 90


def test_a_png_loses_its_text_chunks() -> None:
    got = redact_file(photo_with_metadata("PNG"), "image/png", PEOPLE)
    assert got.shown and got.media_type == "image/png" and got.content is not None
    assert _scan(got.content) == []
    with Image.open(io.BytesIO(got.content)) as img:
        assert not img.getexif() and not getattr(img, "text", {})


def test_a_pdf_is_rebuilt_without_metadata_attachments_or_annotations() -> None:
    original = pdf_with_metadata("The 40 LED panels arrived cracked on 2026-11-02.")
    got = redact_file(original, "application/pdf", PEOPLE)
    assert got.shown and got.media_type == "application/pdf" and got.content is not None
    assert _scan(got.content) == []
    reader = PdfReader(io.BytesIO(got.content))
    assert "LED panels arrived cracked" in reader.pages[0].extract_text()
    [picture] = reader.pages[0].images  # the photo is kept, re-encoded without its EXIF
    assert picture.image is not None and not picture.image.getexif()
    assert not reader.metadata and "/Metadata" not in reader.trailer["/Root"]  # type: ignore[operator]
    assert "/Names" not in reader.trailer["/Root"] and "/Annots" not in reader.pages[0]  # type: ignore[operator]
    assert "/OpenAction" not in reader.trailer["/Root"]  # type: ignore[operator]


def test_a_pdf_whose_text_names_a_party_is_withheld_with_a_reason() -> None:
    for text in ("Invoice to Lena Fischer", "Reply to lena.fischer@example.de",
                 "Seller wallet 0x" + "cd" * 20, "Call +49 30 1234 5678"):
        got = redact_file(pdf_with_metadata(text), "application/pdf", PEOPLE)
        assert not got.shown and got.content is None and got.reason is not None, text
        assert "names a party" in got.reason[0] and "当事人" in got.reason[1]


def test_other_files_are_withheld_and_text_is_masked() -> None:
    got = redact_file(b"PK\x03\x04 an archive", "application/zip", PEOPLE)
    assert not got.shown and got.reason is not None and "not shown" in got.reason[0]
    broken = redact_file(b"\xff\xd8\xff not really a jpeg", "image/jpeg", PEOPLE)
    assert not broken.shown and broken.reason is not None
    assert "could not be read" in broken.reason[0]
    text = redact_file(b"Lena Fischer wrote to Wang Jianguo", "text/plain", PEOPLE)
    assert text.content == b"[claimant] wrote to [respondent]"


def test_a_broken_pdf_is_withheld_never_an_error() -> None:
    original = pdf_with_metadata("The 40 LED panels arrived cracked.")
    for broken in (original[:len(original) // 2], b"%PDF-1.7\n" + b"\x00" * 64,
                   original.replace(b"/Pages", b"/Pagez")):
        got = redact_file(broken, "application/pdf", PEOPLE)
        assert not got.shown and got.reason is not None
