"""The weight of a page before its features: its HTML and the scripts and styles it links,
as served (identity, gzip, brotli). Shared by the page-weight test and
bench/bench_page_weight.py. Sizes are deterministic: no timing."""

import re

ENCODINGS = ("identity", "gzip", "br")
# <script src=...> and <link rel="stylesheet" href=...> (either attribute order).
_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", re.I)
_LINK = re.compile(r"<link\b[^>]*>", re.I)
_HREF = re.compile(r"\bhref=\"([^\"]+)\"", re.I)


def page_assets(html):
    """The scripts and style sheets a page links, in order, each once."""
    found = _SCRIPT.findall(html)
    for tag in _LINK.findall(html):
        if re.search(r"\brel=\"?stylesheet", tag, re.I) and (href := _HREF.search(tag)):
            found.append(href.group(1))
    return list(dict.fromkeys(u.replace("&amp;", "&") for u in found))


def weigh(client, path, headers=None):
    """{encoding: bytes} of the page at ``path`` plus its assets, with the page and each asset
    as {encoding: bytes} under ``parts`` (the Flask test client, or anything with .get)."""
    parts = {}
    html = None
    for encoding in ENCODINGS:
        response = client.get(path, headers={**(headers or {}), "Accept-Encoding": encoding})
        assert response.status_code == 200, (path, response.status_code)
        body = response.get_data()
        response.close()
        parts.setdefault(path, {})[encoding] = len(body)
        if encoding == "identity":
            html = body.decode("utf-8")
    for url in page_assets(html):
        for encoding in ENCODINGS:
            response = client.get(url, headers={"Accept-Encoding": encoding})
            assert response.status_code == 200, (url, response.status_code)
            parts.setdefault(url, {})[encoding] = len(response.get_data())
            response.close()
    total = {e: sum(sizes[e] for sizes in parts.values()) for e in ENCODINGS}
    return {"total": total, "parts": parts}
