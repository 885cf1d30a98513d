"""The fonts certificate.pdf embeds: found once, registered once, always embedded.

Why: a PDF that names a font without embedding it shows boxes wherever that font is
missing; reportlab never embeds its standard fonts (Helvetica, Courier) or its CID font
STSong-Light. So the certificate uses TrueType fonts only, which reportlab embeds as
subsets: Bitstream Vera (shipped inside reportlab, so always there) for the English text,
and a CJK TrueType font with glyf outlines for the Chinese text (CFF-based
OpenType such as Noto CJK is refused by reportlab).

Where the CJK font comes from, in order: the path the caller gives (the service's
``CHAINARB_PDF_FONT``), else the first of `CJK_FONT_CANDIDATES` that exists (Debian's
fonts-wqy-zenhei, which .ci/run installs). A given path that is not a usable font is an
error that says what to do. When none is given and none is installed, the certificate is
still built, honestly: every font in it embedded, the Chinese half replaced by one English
line saying it was left out and why (index.html carries both languages in any case).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

__all__ = ["CJK_FONT_CANDIDATES", "LATIN", "FontError", "PdfFonts", "pdf_fonts"]

CJK_FONT_CANDIDATES: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),  # Debian fonts-wqy-zenhei
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),  # fonts-wqy-microhei
    (Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 0),  # fonts-arphic-uming
)
"""(file, sub-font index): TrueType (glyf) CJK fonts of common distributions."""

_VERA = Path(reportlab.__file__).parent / "fonts"
LATIN = "chainarb-Vera"
"""The registered name of the English text's font (Bitstream Vera, shipped in reportlab)."""


class FontError(ValueError):
    """The configured PDF font cannot be used (the message says how to fix it)."""


@dataclass(frozen=True)
class PdfFonts:
    """Registered font names: ``latin``/``bold`` for English, ``cjk`` for Chinese (None:
    none available, the Chinese half is left out), ``mono`` for hashes and addresses (the
    Latin font: the certificate's digest must be text the verifier finds in the PDF)."""

    latin: str
    bold: str
    cjk: str | None
    mono: str
    cjk_source: str  # the CJK font file, for the certificate's colophon ("" when none)


def _register(name: str, path: Path, index: int = 0) -> str:
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
    return name


def pdf_fonts(cjk_font: Path | None = None) -> PdfFonts:
    """Register the certificate's fonts and name them.

    Raises:
        FontError: ``cjk_font`` was given but is missing or is not a TrueType font with
            glyf outlines that covers Chinese.
    """
    latin = _register(LATIN, _VERA / "Vera.ttf")
    bold = _register("chainarb-VeraBd", _VERA / "VeraBd.ttf")
    if cjk_font is not None:
        chosen: tuple[Path, int] | None = (Path(cjk_font), 0)
        if not Path(cjk_font).is_file():
            raise FontError(
                f"PDF font {cjk_font}: no such file. Give a TrueType (.ttf/.ttc) font with "
                "Chinese glyphs, e.g. /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc from "
                "Debian's fonts-wqy-zenhei, or unset it to use an installed one")
    else:
        chosen = next(((p, i) for p, i in CJK_FONT_CANDIDATES if p.is_file()), None)
    if chosen is None:
        return PdfFonts(latin=latin, bold=bold, cjk=None, mono=latin, cjk_source="")
    path, index = chosen
    tag = "chainarb-cjk-" + hashlib.sha256(f"{path}#{index}".encode()).hexdigest()[:8]
    try:
        # One face only: reportlab parses the whole collection per face (~2 s for
        # wqy-zenhei.ttc, once per process); hashes are ASCII and take the Latin font.
        cjk = _register(tag, path, index)
    except (TTFError, OSError) as exc:
        raise FontError(
            f"PDF font {path}: reportlab cannot embed it ({exc}). Give a TrueType font "
            "with glyf outlines (CFF-based OpenType such as Noto CJK is not supported), "
            "e.g. Debian's fonts-wqy-zenhei") from exc
    font = pdfmetrics.getFont(cjk)
    if not isinstance(font, TTFont) or not font.face.charToGlyph.get(ord("证")):
        raise FontError(f"PDF font {path}: it has no Chinese glyphs (no 证); give a CJK font "
                        "such as Debian's fonts-wqy-zenhei")
    return PdfFonts(latin=latin, bold=bold, cjk=cjk, mono=latin, cjk_source=path.name)
