"""A labelled form field as every form of the pages writes it (the case page's steps, the
award editor, the institution's registers, the neutral's disclosure): one helper, so each
control has its ``<label for>``, its ``name`` and, with a hint, ``aria-describedby`` alike.
"""

from __future__ import annotations

from .desk import e as _e

__all__ = ["field"]


def field(form: str, name: str, label: str, control: str, hint: str = "") -> str:
    """``control`` with ``{id}`` where its ``id="<form>-<name>" name="<name>"`` goes (and
    ``aria-describedby`` naming the hint when there is one); the label and hint are text."""
    fid = f"{form}-{name}"
    hint_html = f'<small id="{fid}-hint" class="muted">{_e(hint)}</small>' if hint else ""
    described = f' aria-describedby="{fid}-hint"' if hint else ""
    return (f'<div class="field"><label for="{fid}">{_e(label)}</label>'
            + control.replace("{id}", f'id="{fid}" name="{name}"{described}')
            + hint_html + "</div>")
