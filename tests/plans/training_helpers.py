"""Helpers of the training tests: officials, courses and sign-in sheets."""

import io

from openpyxl import Workbook


def add_official(client, headers, name, department="测试区应急管理局", leader=False, **extra):
    """Create an official through the API; its JSON."""
    response = client.post("/api/v1/officials", json={
        "name": name, "department": department, "position": "科员", "leader": leader,
        **extra}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_course(client, headers, title, mandatory_for=None, hours=4, topic="law"):
    """Create a course through the API; its JSON."""
    response = client.post("/api/v1/courses", json={
        "title": title, "topic": topic, "hours": hours, "mandatory_for": mandatory_for},
        headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def attend(client, headers, course_id, official_ids, held_on, passed=True):
    """Record attendance; the response."""
    return client.post(f"/api/v1/courses/{course_id}/attendance", json={
        "official_ids": official_ids, "held_on": held_on, "passed": passed}, headers=headers)


def sheet(rows, header=("姓名", "部门", "是否合格")):
    """An .xlsx sign-in sheet (bytes) with a header row."""
    book = Workbook()
    ws = book.active
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
