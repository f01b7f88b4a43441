"""Translation catalogues: they parse, never disagree once merged, and cover every UI string."""

import ast
import io
import re
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template_string

from emergency import i18n
from emergency.vocabulary import FIELD_LABELS

# Call names used for UI strings in our code; the spec says where the context and message are.
KEYWORDS = {
    "_": None, "_l": None, "gettext": None, "lazy_gettext": None,
    "ngettext": (1, 2), "lazy_ngettext": (1, 2),
    "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2), "_pl": ((1, "c"), 2),
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


# Error and validation messages: services write them in English (they import no Flask) and
# emergency.i18n.translate_message translates them from the emergency catalogue (context
# "error"), matching templates such as "no team %(team_id)s" against the text.
ERROR_CLASSES = {"Invalid", "NotFound", "Conflict", "Forbidden", "Unauthorized", "TooMany",
                 "BadBody", "DomainError", "ValidationError"}
VALIDATORS = {"Regexp", "Length", "Range", "OneOf", "Equal", "ContainsOnly", "NoneOf"}
PROBLEM_DICTS = {"problems", "errors", "bad"}


def _expr_name(expr):
    """A placeholder name for an expression inside an f-string (``team_id``, ``status``)."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Subscript):
        key = expr.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return _expr_name(expr.value)
    if isinstance(expr, ast.Call):
        return _expr_name(expr.args[0] if expr.args else expr.func)
    if isinstance(expr, ast.BoolOp):
        return _expr_name(expr.values[0])
    if isinstance(expr, ast.BinOp):
        return _expr_name(expr.left)
    return "value"


def error_msgid(node):
    """The catalogue msgid of a string literal or f-string (values become ``%(name)s``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value  # looked up as it is: not a template
    if isinstance(node, ast.JoinedStr):
        parts, names = [], []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(value.value.replace("%", "%%"))
                continue
            name = re.sub(r"\W+", "_", _expr_name(value.value)).strip("_") or "value"
            while name in names:
                name += "_"
            names.append(name)
            parts.append(f"%({name})s")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = error_msgid(node.left), error_msgid(node.right)
        if left is not None and right is None and _joined(node.right):
            right = "%(fields)s"  # "invalid user: " + ", ".join(problems): field keys
        if left is not None and right is not None:
            return left + right
    return None


def _joined(node):
    """True for ``", ".join(...)``."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join")


def _texts(node, found):
    """Message literals in an argument: the literal itself, or inside dicts and lists."""
    msgid = error_msgid(node)
    if msgid is not None:
        if re.search(r"[^\W\d_]", msgid):
            found.append((node.lineno, msgid))
        return
    if isinstance(node, ast.Dict):
        children = node.values
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        children = node.elts
    elif isinstance(node, ast.ListComp | ast.GeneratorExp):
        children = [node.elt]
    elif isinstance(node, ast.DictComp):
        children = [node.value]
    elif isinstance(node, ast.IfExp):
        children = [node.body, node.orelse]
    elif isinstance(node, ast.BoolOp):
        children = node.values
    else:
        children = []
    for child in children:
        _texts(child, found)


def error_texts(source):
    """(line, msgid) of every message a module gives a domain error, an error response, a
    marshmallow ValidationError or validator, or a ``problems[field] = [...]`` entry."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            name = _expr_name(node.func)
            if name in ERROR_CLASSES:
                for arg in node.args:
                    _texts(arg, found)
            elif name == "error_response":
                for arg in node.args[2:]:
                    _texts(arg, found)
            elif name in VALIDATORS:
                for keyword in node.keywords:
                    if keyword.arg == "error":
                        _texts(keyword.value, found)
        elif isinstance(node, ast.Assign):
            target = node.targets[0]
            if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                    and target.value.id in PROBLEM_DICTS) or (
                    isinstance(target, ast.Name) and target.id in ("message", "problem")):
                _texts(node.value, found)
    return found


def all_error_texts():
    """(file, line, msgid) of the error messages in every package's Python code."""
    found = []
    for package in i18n.PACKAGES:
        for path in sorted((i18n.ROOT / package).rglob("*.py")):
            if "translations" in path.parts:
                continue
            for lineno, msgid in error_texts(path.read_text(encoding="utf-8")):
                found.append((str(path.relative_to(i18n.ROOT)), lineno, msgid))
    return found


def test_every_error_message_has_a_chinese_translation():
    """Each message a service, schema or route gives an error is in the error catalogue."""
    known = {message.id for _po, catalogue in _zh_catalogues() for message in catalogue
             if message.context == i18n.ERROR_CONTEXT and message.id and _text(message)}
    found = all_error_texts()
    assert len(found) > 200, "extraction found suspiciously few error messages"
    missing = sorted({f"{file}:{line} {msgid!r}" for file, line, msgid in found
                      if msgid not in known})
    assert not missing, "no Chinese error message for:\n" + "\n".join(missing)


def test_error_templates_keep_their_placeholders():
    """A template's translation uses exactly the placeholders of its English text."""
    wrong = []
    for _po, catalogue in _zh_catalogues():
        for message in catalogue:
            if message.context == i18n.ERROR_CONTEXT and message.id and _text(message):
                names = set(re.findall(r"%\((\w+)\)s", message.id))
                if names != set(re.findall(r"%\((\w+)\)s", _text(message))):
                    wrong.append(message.id)
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_every_input_field_has_a_label(app):
    """Every field of the API's input (bodies and query strings) has the label messages use."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    names = set()

    def walk(schema, seen):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return
            seen.add(name)
            schema = schemas[name]
        for key, child in (schema.get("properties") or {}).items():
            names.add(key)
            walk(child, seen)
        for child in [schema.get("items"), *schema.get("allOf", []),
                      *schema.get("oneOf", []), *schema.get("anyOf", [])]:
            if isinstance(child, dict):
                walk(child, seen)

    for operations in spec["paths"].values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            names.update(p["name"] for p in operation.get("parameters", [])
                         if p.get("in") == "query")
            for content in (operation.get("requestBody") or {}).get("content", {}).values():
                walk(content["schema"], set())
    assert len(names) > 100
    unlabelled = sorted(names - set(FIELD_LABELS))
    assert not unlabelled, f"input fields without a label in FIELD_LABELS: {unlabelled}"
