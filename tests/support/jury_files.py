"""Files that hide the parties in their metadata, and a reader that finds every string in
a file (tests of the redaction rule for files, docs/jury.md §4)."""

from __future__ import annotations

import io

from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import FreeText
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, TextStringObject

SECRETS = ("Lena Fischer", "lena.fischer@example.de", "Wang Jianguo", "abababab",
           "52.5200", "Canon", "Brightway")


def readable(data: bytes) -> list[str]:
    """``data`` as text every way a reader could find a name in it: as Latin-1 and UTF-16,
    and for a PDF every object with its strings decoded and its streams inflated."""
    texts = [data.decode("latin-1"), data.decode("utf-16-be", errors="ignore")]
    if data.startswith(b"%PDF"):
        from pypdf.generic import IndirectObject, StreamObject

        reader = PdfReader(io.BytesIO(data))
        for num in range(1, int(reader.trailer["/Size"])):  # type: ignore[call-overload]
            obj = reader.get_object(IndirectObject(num, 0, reader))
            texts.append(str(obj))
            if isinstance(obj, StreamObject):
                texts.append(obj.get_data().decode("latin-1"))
        texts.append(str(reader.trailer))
    return [t.lower() for t in texts]


def photo_with_metadata(fmt: str = "JPEG") -> bytes:
    """A photo whose EXIF names the owner and camera and holds GPS, with an XMP packet and a
    comment naming the seller."""
    img = Image.new("RGB", (64, 48), (200, 40, 40))
    exif = Image.Exif()
    exif[0x013B] = "Lena Fischer"  # Artist
    exif[0x010F] = "Canon"  # Make
    exif[0x8298] = "lena.fischer@example.de"  # Copyright
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    exif.get_ifd(0x8825)[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    exif.get_ifd(0x8825)[1] = "N"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>Wang Jianguo, Brightway '
           b'52.5200</dc:creator></x:xmpmeta>')
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, "JPEG", exif=exif, xmp=xmp, comment=b"Wang Jianguo's shop")
    else:
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Author", "Lena Fischer, lena.fischer@example.de")
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        img.save(out, "PNG", exif=exif, pnginfo=info)
    return out.getvalue()


def pdf_with_metadata(text: str) -> bytes:
    """A one-page PDF (reportlab) showing ``text``, whose metadata, XMP, attachment, link and
    comment name the parties."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setAuthor("Lena Fischer")
    c.setSubject("lena.fischer@example.de")
    c.drawString(72, 720, text)
    c.drawImage(ImageReader(io.BytesIO(photo_with_metadata())), 72, 400, 96, 128)
    c.linkURL("mailto:lena.fischer@example.de", (72, 700, 200, 712))
    c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    writer.add_metadata({"/Creator": "Wang Jianguo Brightway"})
    writer.add_attachment("contacts.txt", b"Wang Jianguo +86 138 0013 8000")
    writer.root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"),
        NameObject("/JS"): TextStringObject("app.alert('Lena Fischer');")})
    writer.add_annotation(0, FreeText(text="call Wang Jianguo", rect=(50, 550, 200, 650)))
    xmp = DecodedStreamObject()
    xmp.set_data(b"<x:xmpmeta><dc:creator>Wang Jianguo, Brightway</dc:creator></x:xmpmeta>")
    writer.root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert "canon" in " ".join(readable(data)), "the fixture hides the parties in metadata"
    return data
