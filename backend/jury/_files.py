"""What a juror may see of a file put before the jury: the redaction rule for files (pure).

Rule (docs/jury.md §4, ``FILE_RULE``): a juror never receives a party's original bytes.

* **Photos** (JPEG, PNG, WebP, GIF) are decoded and re-encoded from their pixels alone
  (turned upright by their EXIF orientation first): no EXIF (camera, owner, GPS), XMP,
  IPTC, ICC profile, comment or text chunk survives, since none is copied. JPEG stays JPEG;
  the others become PNG (first frame).
* **PDFs** are rebuilt page by page: the document information and XMP metadata, embedded
  files, JavaScript and open actions, forms, every annotation (links, comments) and each
  page's own metadata are left behind; each JPEG picture inside is re-encoded from its
  pixels. The text layer is then read: a PDF whose text still names a party, a contact or
  an address (what ``redact`` would mask) is withheld, since text cannot be masked in
  place.
* **Text files** pass ``redact`` like the statement of claim.
* Anything else (video, archives, office files) is withheld.

A withheld file is never sent; the juror reads why (``reason`` in English and Chinese), and
the party may put a redacted copy before the jury instead. What a picture shows (a label
photographed with a name on it) cannot be read here: the rule says so (``notRead``).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageOps, UnidentifiedImageError

from ._redact import FILE_RULE, Identity, redact

__all__ = ["FILE_RULE", "MAX_PIXELS", "JurorFile", "redact_file"]

MAX_PIXELS = 40_000_000  # a 40-megapixel photo; beyond it a decompression bomb is refused
MAX_PDF_PAGES = 200
_IMAGE_FORMATS = {"JPEG": ("JPEG", "image/jpeg"), "PNG": ("PNG", "image/png"),
                  "WEBP": ("PNG", "image/png"), "GIF": ("PNG", "image/png")}


@dataclass(frozen=True)
class JurorFile:
    """A file as the jury may see it: ``content`` of ``media_type``, or withheld for
    ``reason`` (English, Chinese); ``removed``: what was taken out."""

    content: bytes | None
    media_type: str | None
    reason: tuple[str, str] | None = None
    removed: tuple[str, ...] = field(default=())

    @property
    def shown(self) -> bool:
        return self.content is not None


def _withheld(en: str, zh: str) -> JurorFile:
    return JurorFile(content=None, media_type=None, reason=(en, zh))


NAMES_A_PARTY = ("the file names a party, a contact or an address in its text; it is "
                 "withheld (the party may put a redacted copy before the jury)",
                 "该文件文本中含有当事人姓名、联系方式或地址，不予展示（当事人可提交经遮蔽的副本）")
NOT_SHOWN_KIND = ("files of this kind are not shown to jurors (only photos, PDFs and text)",
                  "此类文件不向评审员展示（仅限照片、PDF 与文本）")
UNREADABLE = ("the file could not be read and cleaned; it is withheld",
              "该文件无法读取与清理，不予展示")


def _clean_image(img: Image.Image, fmt: str) -> bytes:
    """The pixels alone, re-encoded: a new image carries none of the original's info."""
    img = ImageOps.exif_transpose(img) or img
    mode = "RGB" if fmt == "JPEG" else ("RGBA" if "A" in img.getbands() else "RGB")
    if img.mode not in ("RGB", "RGBA", "L") or (fmt == "JPEG" and img.mode != "RGB"):
        img = img.convert(mode)
    clean = Image.frombytes(img.mode, img.size, img.tobytes())
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=90)
    else:
        clean.save(out, "PNG")
    return out.getvalue()


def _image(content: bytes) -> JurorFile:
    try:
        with Image.open(io.BytesIO(content)) as img:
            kind = _IMAGE_FORMATS.get(img.format or "")
            if kind is None:
                return _withheld(*NOT_SHOWN_KIND)
            if img.width * img.height > MAX_PIXELS:
                return _withheld("the picture is too large to be cleaned; it is withheld",
                                 "图片过大，无法清理，不予展示")
            img.seek(0)
            data = _clean_image(img, kind[0])
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return _withheld(*UNREADABLE)
    return JurorFile(content=data, media_type=kind[1],
                     removed=("EXIF (camera, owner, GPS)", "XMP", "IPTC", "ICC profile",
                              "comments and text chunks"))


_PDF_ROOT_KEPT = ("/Type", "/Pages")
_PDF_PAGE_DROPPED = ("/Annots", "/AA", "/Metadata", "/PieceInfo", "/Thumb", "/B")


def _pdf(content: bytes, identities: Sequence[Identity]) -> JurorFile:
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError
    from pypdf.generic import NameObject

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted or len(reader.pages) > MAX_PDF_PAGES:
            return _withheld(*UNREADABLE)
        writer = PdfWriter()
        for page in reader.pages:
            for key in _PDF_PAGE_DROPPED:  # before the copy: nothing they name is copied
                if key in page:
                    del page[NameObject(key)]
            writer.add_page(page)
        text = []
        for page in writer.pages:
            for picture in page.images:
                if picture.image is not None and picture.image.format == "JPEG":
                    picture.replace(Image.open(io.BytesIO(_clean_image(picture.image, "JPEG"))))
            text.append(page.extract_text() or "")
        writer.metadata = None  # no document information dictionary at all
        for key in list(writer.root_object):
            if key not in _PDF_ROOT_KEPT:
                del writer.root_object[key]
        writer.compress_identical_objects(remove_unreferenced=True)  # nothing unreferenced left
        out = io.BytesIO()
        writer.write(out)
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError,
            IndexError, RecursionError, ZeroDivisionError):  # a hostile PDF: withheld
        return _withheld(*UNREADABLE)
    joined = "\n".join(text)
    if redact(joined, identities) != joined:
        return _withheld(*NAMES_A_PARTY)
    return JurorFile(content=out.getvalue(), media_type="application/pdf",
                     removed=("document information and XMP metadata", "embedded files",
                              "JavaScript and actions", "forms", "annotations and links",
                              "picture metadata"))


def redact_file(content: bytes, media_type: str, identities: Iterable[Identity]) -> JurorFile:
    """``content`` (of the sniffed ``media_type``) as a juror may see it, or withheld."""
    people = list(identities)
    if media_type.startswith("image/"):
        return _image(content)
    if media_type == "application/pdf":
        return _pdf(content, people)
    if media_type == "text/plain":
        text = content.decode("utf-8", errors="replace")
        return JurorFile(content=redact(text, people).encode(), media_type="text/plain",
                         removed=("names, addresses and contacts (masked)",))
    return _withheld(*NOT_SHOWN_KIND)
