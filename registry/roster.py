"""Team rosters as .xlsx: all-or-nothing import and masked export. No Flask here."""

import io
import re

from openpyxl import Workbook
from python_calamine import CalamineError, CalamineWorkbook
from sqlalchemy import select

from emergency import sheets, uploads
from emergency.audit import service as audit
from emergency.errors import Invalid
from emergency.exports import append_row
from emergency.spatial import bulk
from registry import validators as v
from registry.members import check_reveal, member_dicts, person_problems, sealed_person
from registry.models import TeamMember
from registry.service import check_read, check_write, team_org_id

HEADERS = {"name": "name", "姓名": "name", "id_number": "id_number", "身份证号": "id_number",
           "身份证号码": "id_number", "phone": "phone", "手机号": "phone", "手机号码": "phone",
           "skills": "skills", "技能": "skills"}
REQUIRED = ("name", "id_number", "phone")
MAX_ROWS = 200_000
CHUNK = 5_000
SKILL_SPLIT = re.compile(r"[,，;；、|]")


def _read_rows(fileobj):
    """[(spreadsheet row number, {field: text})] of the first sheet, or Invalid."""
    # calamine (Rust) reads a 10^5-row roster ~25x faster than openpyxl's read-only mode, but
    # allocates the sheet's whole rectangle at once: its size is checked first.
    data = fileobj.read()
    uploads.check_xlsx(data)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = book.get_sheet_by_index(0).iter_rows()
        found = sheets.records(rows, HEADERS, MAX_ROWS, required=REQUIRED)
    except (CalamineError, ValueError, OSError, IndexError, TypeError) as exc:
        raise uploads.unreadable(".xlsx", exc) from None
    return [(number, {k: sheets.text(v) for k, v in cells.items()})
            for number, cells in found]


def _row_problems(cells):
    """{field: [message]} for one roster row."""
    problems = person_problems(cells["id_number"], cells["phone"])
    if not cells["name"]:
        problems["name"] = ["required"]
    elif len(cells["name"]) > 100:
        problems["name"] = ["at most 100 characters"]
    return problems


def import_roster(session, cipher, user, team_id, fileobj):
    """Add every row of an .xlsx roster to a team, or none: 422 lists each bad row and field."""
    org_id = team_org_id(session, team_id)
    check_write(user, org_id)
    if fileobj is None:
        raise Invalid("upload an .xlsx file in the field 'file'", {"file": ["required"]})
    records = _read_rows(fileobj)
    if not records:
        raise Invalid("the roster has no rows", {"file": ["no member rows"]})
    bad, seen, valid = [], {}, []
    for number, cells in records:
        problems = _row_problems(cells)
        if "id_number" not in problems:
            key = v.normalise_id(cells["id_number"])
            if key in seen:
                problems["id_number"] = [f"same person as row {seen[key]}"]
            else:
                seen[key] = number
        if problems:
            bad.append({"row": number, "fields": problems})
        else:
            valid.append((number, cells))
    hashes = {}
    if not bad:
        hashes = {number: cipher.lookup_hash(v.normalise_id(cells["id_number"]))
                  for number, cells in valid}
        existing = set(session.scalars(select(TeamMember.person_hash)
                                       .where(TeamMember.team_id == team_id)))
        bad = [{"row": n, "fields": {"id_number": ["already a member of this team"]}}
               for n, _c in valid if hashes[n] in existing]
    if bad:
        raise Invalid(f"{len(bad)} bad row(s); nothing was imported",
                      {"rows": bad[:1000], "bad_rows": [b["row"] for b in bad]})
    # Sealed and inserted in chunks: memory stays bounded.
    for start in range(0, len(valid), CHUNK):
        payload = []
        for number, cells in valid[start:start + CHUNK]:
            skills = [s.strip() for s in SKILL_SPLIT.split(cells.get("skills", ""))
                      if s.strip()]
            payload.append({"team_id": team_id, "name": cells["name"], "skills": skills,
                            **sealed_person(cipher, cells["id_number"], cells["phone"],
                                            hashes[number])})
        # Not a plain executemany: on PostGIS each of its statements would fire the team
        # readiness trigger of migration 0008 (see spatial.bulk.insert_many).
        bulk.insert_many(session, TeamMember.__table__, payload)
    audit.record(session, "member.import", "team", team_id, {"rows": len(valid)})
    session.flush()
    return len(valid)


EXPORT_COLUMNS = ("name", "id_number", "phone", "skills", "insured_today",
                  "valid_certificates", "training_hours_this_year")
EXPORT_TITLES = ("姓名 name", "身份证号 id_number", "手机号 phone", "技能 skills",
                 "今日在保 insured_today", "有效证书 valid_certificates",
                 "本年培训学时 training_hours")


def export_roster(session, cipher, user, team_id, reveal=False):
    """A team's roster as .xlsx bytes: masked unless revealed by an allowed role (audited)."""
    org_id = team_org_id(session, team_id)
    check_read(user, org_id)
    if reveal:
        check_reveal(user, org_id)
    members = list(session.scalars(select(TeamMember).where(TeamMember.team_id == team_id)
                                   .order_by(TeamMember.id)))
    records = member_dicts(session, cipher, user, members, org_id, reveal)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("roster")
    sheet.append(list(EXPORT_TITLES))
    for r in records:
        append_row(sheet, [r["name"], r["id_number"], r["phone"], "、".join(r["skills"]),
                           "yes" if r["insured_today"] else "no", r["valid_certificates"],
                           r["training_hours_this_year"]])
    audit.record(session, "member.export", "team", team_id,
                 {"rows": len(records), "revealed": bool(reveal)})
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
