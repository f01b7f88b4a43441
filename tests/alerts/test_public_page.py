"""The public warnings page /public/warnings: no sign-in, Chinese first, level colours with
their names, data as JSON (no inline script), printable, English with ?lang=en."""

import json
import re

from tests.alerts.conftest import step, warning_body


def _data(html):
    """The page's JSON for its script."""
    found = re.search(r'<script type="application/json" id="public-warnings-data">(.*?)</script>',
                      html, re.S)
    return json.loads(found.group(1))


def test_page_lists_active_warnings_in_chinese_without_sign_in(client, place, people,
                                                               published):
    draft = client.post("/api/v1/warnings", json=warning_body(place, title="未发布的草稿"),
                        headers=people["author"][1]).get_json()
    response = client.get("/public/warnings", headers={"Accept": "text/html"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "生效中的预警" in html and "红色预警" in html
    assert published["title"] in html and "测试区、测试街道" in html
    assert f'id="w{published["id"]}"' in html and f'id="w{draft["id"]}"' not in html
    assert "未发布的草稿" not in html
    assert "level-badge level-red" in html  # colour and its name together
    assert f'/api/v1/public/warnings/{published["id"]}.cap' in html
    data = _data(html)
    assert [f["id"] for f in data["warnings"]["features"]] == [published["id"]]
    assert data["districts"]["features"][0]["properties"]["name"] == "测试区"
    # Scripts are files of this origin; the only inline script element is the JSON.
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all("src=" in s or 'type="application/json"' in s for s in scripts), scripts
    assert "nonce-" not in response.headers["Content-Security-Policy"]
    css = client.get("/public/warnings/static/alerts/public.css")
    assert "@media print" in css.get_data(as_text=True)
    css.close()


def test_page_says_when_nothing_is_in_force_and_speaks_english(client, place, people,
                                                               published):
    assert step(client, people["admin"][1], published["id"], "lifted", "雨停").status_code == 200
    html = client.get("/public/warnings").get_data(as_text=True)
    assert 'id="no-warnings"' in html and "当前没有生效的预警" in html
    english = client.get("/public/warnings?lang=en").get_data(as_text=True)
    assert "No warning is in force." in english and "Warnings in force" in english


def test_page_escapes_titles(client, place, people, draft):
    title = '</script><script>alert(1)</script>'
    assert client.patch(f"/api/v1/warnings/{draft['id']}", json={"title": title},
                        headers=people["author"][1]).status_code == 200
    assert step(client, people["admin"][1], draft["id"], "approved").status_code == 200
    assert step(client, people["planner"][1], draft["id"], "published").status_code == 200
    html = client.get("/public/warnings").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert _data(html)["warnings"]["features"][0]["properties"]["title"] == title
