"""The generated evidence and documents of the story: real formats the server sniffs."""

from __future__ import annotations

import io

from backend.demo.common import fmt_amount

__all__ = ["ANSWER", "award_document", "make_chat_log", "make_invoice_pdf", "make_photo_jpeg",
           "statement_of_claim"]

def make_invoice_pdf(order_id: int, amount: int) -> bytes:
    """The seller's commercial invoice (PDF, reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(f"Commercial invoice, order {order_id}")
    y = 800
    for line in (
        "Shenzhen Brightway Lighting Co., Ltd. - Commercial Invoice",
        f"Order {order_id} - buyer: L. Fischer, Hamburg, Germany",
        "Item: 40 x LED panel 60x60 cm, 4000 K, 40 W (model BW-6060-40)",
        f"Total: {fmt_amount(amount)} (stablecoin, paid into escrow)",
        "Incoterms: DAP Hamburg. Packing: 4 cartons, foam corners.",
    ):
        c.drawString(60, y, line)
        y -= 22
    c.showPage()
    c.save()
    return buf.getvalue()


def make_photo_jpeg() -> bytes:
    """The buyer's photo of a cracked panel (JPEG, Pillow)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 240), (236, 236, 240))
    d = ImageDraw.Draw(img)
    d.rectangle((40, 30, 280, 210), outline=(90, 90, 100), width=4)
    d.line((60, 50, 150, 130, 120, 200), fill=(20, 20, 20), width=3)
    d.line((150, 130, 250, 90), fill=(20, 20, 20), width=2)
    d.text((46, 214), "BW-6060-40  carton 3/4  cracked", fill=(160, 0, 0))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=80)
    return out.getvalue()


def make_chat_log(order_id: int) -> bytes:
    """The buyer's export of the chat with the seller (plain text, both languages)."""
    return (
        f"Chat export, order {order_id} (times UTC)\n"
        "2026-11-02 09:14 buyer: 12 of the 40 panels arrived cracked; photos attached.\n"
        "2026-11-02 16:40 seller: 您好，我们的包装符合标准。Packing met the standard.\n"
        "2026-11-03 08:05 buyer: The cartons were intact, the panels were not.\n"
        "2026-11-03 10:22 seller: We can offer 10% back.\n"
    ).encode()


def statement_of_claim(order_id: int) -> bytes:
    """The buyer's statement, whose hash the filing signs."""
    return (b"Statement of claim: 12 of 40 LED panels (order %d) arrived cracked; "
            b"the goods are not as described. I ask a partial refund of 240 tUSD." % order_id)


ANSWER = (b"Answer: the panels left our factory intact and were packed to standard; "
          b"any damage happened in transit. We accept a refund for the 12 cracked "
          b"panels at most.")


def award_document(order_id: int, case_id: str, to_buyer: int, to_seller: int,
                   compensation: int) -> bytes:
    """The reasoned award (Markdown) whose hash the signed ``Award`` names."""
    return (
        f"# Award / 裁决书\n\nCase {case_id}, escrow order {order_id}.\n\n"
        "## Reasons / 理由\n\nThe buyer's photo and chat log show that 12 of 40 panels "
        "arrived cracked in intact cartons; the seller's invoice shows the panels were sold "
        "as fit for installation. The goods were not as described for 12 panels. The "
        "seller's answer (transit damage) is not supported by any carrier report.\n\n"
        "## Decision / 裁决\n\n"
        f"- Partial refund to the buyer / 部分退款: {fmt_amount(to_buyer)}\n"
        f"- Payment to the seller / 支付卖方: {fmt_amount(to_seller)}\n"
        f"- Compensation from the seller's guarantee / 保证金赔偿: {fmt_amount(compensation)}"
        "\n"
    ).encode()
