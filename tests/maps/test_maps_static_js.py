"""The maps' JavaScript lives in static files (maps/static/maps/*.js), never in Python strings,
and those files keep the pages' rules: strict mode, text written with textContent, no code
built from strings. A small lint of our own (the project has no JS toolchain)."""

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

MAPS = Path(__file__).resolve().parents[2] / "maps"
SCRIPTS = sorted((MAPS / "static" / "maps").glob("*.js"))
# What JavaScript looks like inside a Python string.
JS_IN_TEXT = re.compile(r"\bfunction\s*\w*\s*\([^)]*\)\s*\{|=>\s*\{|\bvar\s+\w+\s*=|\bL\.\w+\(")
# Ways a script turns text into markup or code.
UNSAFE = re.compile(r"\.(?:inner|outer)HTML\s*=[^=]|insertAdjacentHTML|document\.write|"
                    r"\beval\s*\(|new\s+Function\s*\(|setTimeout\(\s*['\"]")


def javascript_in_strings(source):
    """(line, start of text) of each Python string constant in ``source`` holding JavaScript."""
    return [(node.lineno, node.value.strip()[:40]) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and JS_IN_TEXT.search(node.value)]


def test_no_javascript_in_python_strings():
    found = {str(p.relative_to(MAPS)): hits for p in MAPS.rglob("*.py")
             if (hits := javascript_in_strings(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_the_check_finds_javascript_in_a_string():
    assert javascript_in_strings('ICON = """\nfunction (cluster) {\n  return 1;\n}\n"""')
    assert not javascript_in_strings('LABEL = "a function (of the map) draws it"')


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_static_scripts_are_strict_and_never_build_markup_or_code(script):
    text = script.read_text(encoding="utf-8")
    assert "'use strict';" in text
    assert [line.strip() for line in text.splitlines() if UNSAFE.search(line)] == []


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_static_scripts_parse(script):
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("Node.js is not installed: syntax not checked")
    checked = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
