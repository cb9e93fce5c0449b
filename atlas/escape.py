"""Making data text inert where it meets a renderer: Markdown (st.markdown, st.info) and HTML.

Agency and program names come from a community's files and may hold anything, so every place that
renders them as Markdown or HTML passes them through here first.
"""

from __future__ import annotations

import html as _html
import math
import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")
# GFM turns a bare `http://`, `www.` or `name@host` into a link after escapes are read, so a backslash
# cannot stop it; an invisible WORD JOINER (U+2060) inside the trigger does, and the text reads the same.
_AUTOLINK = re.compile(r"(?<=[a-z])(?=:/)|(?<=www)(?=\.)|(?=@)", re.I)
WORD_JOINER = "\u2060"


def markdown(text: object) -> str:
    """Text shown literally by a Markdown renderer: every Markdown and HTML character backslashed, and
    bare URLs and e-mail addresses kept from becoming links."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, str(text)))


def html(text: object) -> str:
    """Text shown literally inside HTML or a plotly label (quotes too, so it is safe in attributes);
    a missing value (None, NaN, pandas NA) is the empty string."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or type(text).__name__ == "NAType":
        return ""
    # `&#34;`, not `&quot;`: plotly decodes numeric references but shows `&quot;` as it is
    return _html.escape(str(text), quote=True).replace("&quot;", "&#34;")
