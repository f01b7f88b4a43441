"""Translation catalogues: they parse, never disagree once merged, and cover every UI string."""

import io
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template_string

from emergency import i18n

# Call names used for UI strings in our code; the spec says where the context and message are.
KEYWORDS = {
    "_": None, "_l": None, "gettext": None, "lazy_gettext": None,
    "ngettext": (1, 2), "lazy_ngettext": (1, 2),
    "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2),
}
JINJA = "jinja2.ext:babel_extract"


def _po_files():
    """Every .po file Flask-Babel merges, in merge order."""
    files = []
    for folder in i18n.translation_dirs():
        files.extend(sorted(Path(folder).glob("*/LC_MESSAGES/*.po")))
    return files


def _read(po):
    """Parse one catalogue, failing on syntax errors instead of skipping them."""
    with po.open("rb") as src:
        return read_po(src, abort_invalid=True)


def _key(message):
    """(context, singular msgid) — what gettext looks a message up by."""
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def _text(message):
    """The (first) translation of a message."""
    return message.string if isinstance(message.string, str) else message.string[0]


def _zh_catalogues():
    """(path, catalogue) for every Chinese catalogue."""
    return [(po, _read(po)) for po in _po_files() if po.parts[-3] == "zh"]


def _ui_strings():
    """(file, line, context, msgid) of every translatable literal in our code and templates."""
    found = []
    for package in i18n.PACKAGES:
        for path in sorted((i18n.ROOT / package).rglob("*")):
            if not path.is_file() or {"static", "translations", "node_modules"} & set(path.parts):
                continue
            if path.suffix == ".py":
                method, options = "python", {}
            elif path.suffix == ".html" and "templates" in path.parts:
                # silent=false: a template Jinja cannot parse must fail here, not be skipped.
                method, options = JINJA, {"silent": "false"}
            else:
                continue
            with path.open("rb") as src:
                for lineno, message, _comments, context in extract(
                        method, src, keywords=KEYWORDS, options=options):
                    msgid = message if isinstance(message, str) else message[0]
                    found.append((str(path.relative_to(i18n.ROOT)), lineno, context, msgid))
    return found


def test_every_catalogue_parses_and_compiles():
    """Each .po file is valid gettext and compiles to a .mo."""
    files = _po_files()
    assert any(po.parts[-3] == "zh" for po in files)
    for po in files:
        catalogue = _read(po)
        assert len(catalogue) > 0, f"{po} has no messages"
        write_mo(io.BytesIO(), catalogue)


def test_no_two_catalogues_translate_a_message_differently():
    """Merged into one domain, a (context, msgid) must mean the same Chinese in every package."""
    translations = defaultdict(dict)
    for po, catalogue in _zh_catalogues():
        for message in catalogue:
            if message.id and _text(message):
                translations[_key(message)][str(po.relative_to(i18n.ROOT))] = _text(message)
    conflicts = [f"{key}: {where}" for key, where in sorted(translations.items(), key=str)
                 if len(set(where.values())) > 1]
    assert not conflicts, ("same message, different Chinese (use one term, or pgettext with a "
                           "context):\n" + "\n".join(conflicts))


def test_every_ui_string_has_a_chinese_translation():
    """Every literal wrapped in _()/_l()/gettext()/pgettext() is translated in some catalogue."""
    known = {_key(message) for _po, catalogue in _zh_catalogues()
             for message in catalogue if message.id and _text(message)}
    strings = _ui_strings()
    assert len(strings) > 100, "extraction found suspiciously few strings"
    missing = sorted({f"{file}:{line} {context!r} {msgid!r}"
                      for file, line, context, msgid in strings if (context, msgid) not in known})
    assert not missing, "no Chinese translation for:\n" + "\n".join(missing)


@pytest.fixture
def babel_app():
    """A bare Flask app with only our merged catalogues (no database)."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", BABEL_DEFAULT_LOCALE="zh")
    i18n.init_app(app)
    return app


def test_contexts_keep_each_package_meaning_after_merging(babel_app):
    """The same English word shows each package's own Chinese, in Python and in templates."""
    from flask_babel import gettext, pgettext

    with babel_app.test_request_context("/?lang=zh"):
        assert pgettext("hazard status", "Closed") == "已销号"
        assert pgettext("incident status", "Closed") == "已结束"
        assert gettext("Role") == "角色"
        assert pgettext("layer role", "Role") == "类型"
        assert render_template_string(
            "{{ pgettext('hazard status', 'Closed') }}|{{ _('Role') }}|"
            "{{ pgettext('member', 'Name') }}"
        ) == "已销号|角色|姓名"
