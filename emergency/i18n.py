"""Languages: Chinese first, English on request; catalogues live beside each package."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import current_app, request, session
from flask_babel import Babel

from emergency.vocabulary import LOCAL_ZONE_NAME

LANGUAGES = ("zh", "en")
ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("emergency", "registry", "plans", "risk", "hazards", "incidents", "maps")

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
    """?lang= (remembered in the session), else the session's choice, else the default."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    return session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app):
    """Bind Flask-Babel with every package's catalogue."""
    compile_catalogues()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs())
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", LOCAL_ZONE_NAME)
    babel.init_app(app, locale_selector=select_locale)
