"""Languages: Chinese first, English on request; catalogues live beside each package.

Messages of domain errors and of input validation are written in English where they arise
(services import no Flask; marshmallow has its own English texts) and translated when the
answer is made, by ``translate_message``: the emergency catalogue holds them under the
context ``error``, those with values as templates (``no team %(team_id)s``) that are matched
against the English text; a value inside one is translated too when the catalogue knows it
(``no member 5`` → 找不到队员 5).
"""

import functools
import re
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, has_request_context, request, session
from flask_babel import Babel, gettext, pgettext

from emergency.vocabulary import LOCAL_ZONE_NAME, field_label, local_minute

LANGUAGES = ("zh", "en")
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("emergency", "registry", "plans", "risk", "hazards", "incidents", "alerts", "prices",
            "maps")

babel = Babel()


def translation_dirs():
    """Every translations folder of our packages and their sub-packages (merged by Babel)."""
    found = []
    for package in PACKAGES:
        found.extend(sorted(str(p) for p in (ROOT / package).glob("**/translations")
                            if p.is_dir()))
    return found


def compile_catalogues():
    """Compile .po files whose .mo is missing or older (cheap when up to date)."""

    for folder in translation_dirs():
        for po in Path(folder).glob("*/LC_MESSAGES/*.po"):
            mo = po.with_suffix(".mo")
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            with po.open("rb") as src:
                catalogue = read_po(src)
            with mo.open("wb") as dst:
                write_mo(dst, catalogue)


def select_locale():
    """?lang= (remembered in the session), else the session's choice, else the browser's
    Accept-Language (Chinese when it accepts both), else the default (Chinese)."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    for tag, _quality in request.accept_languages:  # most preferred first
        if tag.split("-")[0].lower() in LANGUAGES:
            return tag.split("-")[0].lower()
    return current_app.config["BABEL_DEFAULT_LOCALE"]


# The context of error and validation messages in the catalogue.
ERROR_CONTEXT = "error"
# ``%(fields)s`` holds field keys ("deaths, location"), shown by their labels.
# Placeholders whose values are names people chose (a user called "admin" stays "admin");
# the values of others (a status, a role, a kind of record) are translated when known.
VERBATIM = {"username", "name", "names", "code", "path", "key", "where", "HEADER", "input"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def message_pattern(msgid):
    """A message template (``no team %(team_id)s``) as a regular expression matching the
    English text it makes, or None when it has no placeholder or nothing but placeholders."""
    parts, names, position = [], [], 0
    for match in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[position:match.start()]))
        if match.group(0) == "%%":
            parts.append("%")
        else:
            names.append(match.group(1))
            parts.append(f"(?P<g{len(names) - 1}>.+?)")
        position = match.end()
    parts.append(re.escape(msgid[position:]))
    if not names or not re.search(r"[^\W\d_]", _PLACEHOLDER.sub("", msgid)):
        return None
    return re.compile("".join(parts), re.DOTALL), names


ERROR_CATALOGUE = ROOT / "emergency" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def error_templates():
    """(pattern, names, msgid) of every error message template in the emergency catalogue
    (the one catalogue of error messages), the most specific (longest fixed text) first."""
    return _error_templates(ERROR_CATALOGUE.stat().st_mtime)


@functools.cache
def _error_templates(_mtime):
    """error_templates() for one version of the catalogue (apps are made once per test)."""
    found = {}
    with ERROR_CATALOGUE.open("rb") as src:
        for message in read_po(src):
            if message.context == ERROR_CONTEXT and isinstance(message.id, str):
                compiled = message_pattern(message.id)
                if compiled:
                    found[message.id] = compiled
    fixed = lambda msgid: len(_PLACEHOLDER.sub("", msgid))  # noqa: E731
    return [(pattern, names, msgid) for msgid, (pattern, names)
            in sorted(found.items(), key=lambda item: -fixed(item[0]))]


def translate_message(text, _depth=0):
    """An English error or validation message in the request's language, field keys in it
    by their labels (unchanged outside a request or when the catalogue does not know it)."""
    if not isinstance(text, str) or not text or not has_request_context():
        return text
    translated = pgettext(ERROR_CONTEXT, text)
    if translated == text:
        # A message marked with plain gettext where it was raised, but raised outside any
        # request (a background job's import): its translation has no "error" context.
        translated = gettext(text)
    if translated != text or _depth > 1:
        return translated
    for pattern, names, msgid in current_app.extensions["emergency.error_templates"]:
        match = pattern.fullmatch(text)
        if match:
            values = {name: _value(name, match.group(f"g{i}"), _depth)
                      for i, name in enumerate(names)}
            return pgettext(ERROR_CONTEXT, msgid) % values
    return text


def _value(name, text, depth):
    """A value inside a message, in the request's language: field keys (``%(fields)s``,
    a list) by their labels, names as they are, other words translated when known."""
    if name == "fields":
        return pgettext("list separator", ", ").join(field_label(key.strip())
                                                     for key in text.split(","))
    return text if name in VERBATIM else translate_message(text, depth + 1)


def init_app(app):
    """Bind Flask-Babel with every package's catalogue."""
    compile_catalogues()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs())
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", LOCAL_ZONE_NAME)
    babel.init_app(app, locale_selector=select_locale)
    # The one way pages show a time: Beijing time, "YYYY-MM-DD HH:mm" ({{ t|local_time }}).
    app.add_template_filter(local_minute, "local_time")
    app.extensions["emergency.error_templates"] = error_templates()
