"""Compensation claims for dispatches and requisitions: rates, review, payment, ledger."""

import io
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import distinct, func, select
from sqlalchemy.exc import IntegrityError

from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER, ORG_ADMIN
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Forbidden, Invalid
from emergency.exports import append_row
from emergency.vocabulary import LOCAL_ZONE, local_minute
from incidents import dispatch as dispatches
from incidents import onscene
from incidents import service as incidents
from incidents.models import (
    ITEM_KINDS,
    Compensation,
    CompensationItem,
    DispatchCheckin,
    Incident,
)
from registry.models import Organisation, RescueTeam

FEN = Decimal("0.01")
REVIEW_DECISIONS = {"approve": "approved", "reject": "rejected"}
SUBMITTERS = (ADMIN, DISPATCHER, ORG_ADMIN)
# Limits of a claim's lines, within the columns (amounts and totals are Numeric(14, 2)).
MAX_ITEMS, MAX_QUANTITY, MAX_PRICE = 200, Decimal(10**7), Decimal(10**9)
MAX_AMOUNT = Decimal(10**12)

# Default rate table (yuan), after Shanxi Province's rules for compensating social emergency
# forces as cited in issue 7: personnel subsidy at twice the local daily wage per person-day,
# meals 100 元 per person-day, lodging up to 300 元 per person-night.
# LOCAL_DAILY_WAGE is an assumption to replace with the district's published average wage
# (annual average wage of urban employees / 365); override all of them with the
# INCIDENT_COMPENSATION_RATES setting.
DEFAULT_RATES = {
    "local_daily_wage": "300.00",
    "personnel_wage_multiple": "2",
    "meals_per_person_day": "100.00",
    "lodging_per_person_night": "300.00",
}


def money(value):
    """A Decimal rounded to the fen (half up), never a float."""
    return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)


def rates(overrides=None):
    """The rate table: defaults with any configured overrides, as Decimals."""
    table = {**DEFAULT_RATES, **(overrides or {})}
    return {k: Decimal(str(v)) for k, v in table.items()}


def prefill(session, user, dispatch_id, rate_overrides=None, now=None):
    """Pre-filled personnel, meals and lodging items of a dispatch: person-days from the
    members' check-ins, else the members requested × the whole days of the dispatch."""
    dispatch = dispatches.dispatch_or_404(session, dispatch_id)
    dispatches.check_dispatch_read(session, user, dispatch)
    table = rates(rate_overrides)
    days = dispatches.duration_days(dispatch, now)
    members = dispatch.members_requested
    checked = onscene.person_days(session, dispatch)
    if checked is None:
        person_days = Decimal(days * members)
        person_nights = Decimal(max(days - 1, 0) * members)
        basis = f"{members} members × {days} days"
        nights = f"{members} members × {days - 1} nights"
    else:
        # Each member's calendar days on scene; a night away between each two of them.
        members = session.scalar(select(func.count(distinct(DispatchCheckin.member_id)))
                                 .where(DispatchCheckin.dispatch_id == dispatch.id))
        person_days = Decimal(checked)
        person_nights = Decimal(max(checked - members, 0))
        basis = f"{person_days} person-days from check-ins"
        nights = f"{person_nights} person-nights"
    items = [
        {"kind": "personnel", "quantity": person_days,
         "unit_price": money(table["local_daily_wage"] * table["personnel_wage_multiple"]),
         "note": f"{basis}, {table['personnel_wage_multiple']} × daily wage"},
        {"kind": "meals", "quantity": person_days,
         "unit_price": money(table["meals_per_person_day"]), "note": basis},
    ]
    if person_nights:
        items.append({"kind": "lodging", "quantity": person_nights,
                      "unit_price": money(table["lodging_per_person_night"]),
                      "note": f"{nights} (maximum rate)"})
    for item in items:
        item["amount"] = money(item["quantity"] * item["unit_price"])
    return {"dispatch_id": dispatch.id, "days": days, "members": members,
            "person_days": person_days, "from_checkins": checked is not None,
            "rates": {k: str(v) for k, v in table.items()}, "items": items,
            "total": money(sum(i["amount"] for i in items))}


def requisition_prefill(session, user, requisition_id, now=None):
    """Pre-filled lines of a requisition's claim: the use of the property over its whole
    days (unit price left to fill in) and, if it was lost, its valuation; if it came back
    damaged, a damage line to price."""
    requisition = dispatches.get_requisition(session, user, requisition_id)
    end = requisition.returned_at or requisition.ends_at or now or utcnow()
    hours = max((end - requisition.starts_at) / timedelta(hours=1), 0)
    days = max(1, -(-int(hours * 60) // (24 * 60)))
    quantity = Decimal(str(requisition.quantity))
    items = [{"kind": "property", "quantity": money(quantity * days),
              "unit_price": money(0), "note": f"{quantity} × {days} days of use"}]
    if requisition.return_condition == "lost":
        items.append({"kind": "property", "quantity": Decimal(1),
                      "unit_price": money(requisition.valuation), "note": "lost: valuation"})
    elif requisition.return_condition == "damaged":
        items.append({"kind": "equipment_damage", "quantity": Decimal(1),
                      "unit_price": money(0), "note": "damage: repair cost"})
    for item in items:
        item["amount"] = money(item["quantity"] * item["unit_price"])
    return {"requisition_id": requisition.id, "days": days, "quantity": quantity,
            "condition": requisition.return_condition, "items": items,
            "total": money(sum(i["amount"] for i in items))}


def _decimal(value):
    """A finite Decimal from a number or numeric text (floats through their text), or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _items(raw_items):
    """Validate claim items and compute each amount exactly."""
    if not raw_items:
        raise Invalid("a claim needs at least one item", {"items": ["empty"]})
    if len(raw_items) > MAX_ITEMS:
        raise Invalid("too many items", {"items": [f"at most {MAX_ITEMS}"]})
    errors, items = {}, []
    for index, raw in enumerate(raw_items):
        kind = raw.get("kind")
        quantity, price = _decimal(raw.get("quantity")), _decimal(raw.get("unit_price"))
        problems = {}
        note = raw.get("note") or ""
        if kind not in ITEM_KINDS:
            problems["kind"] = [f"one of {', '.join(ITEM_KINDS)}"]
        if quantity is None or not 0 < quantity <= MAX_QUANTITY:
            problems["quantity"] = [f"must be > 0 and at most {MAX_QUANTITY}"]
        if price is None or not 0 <= price <= MAX_PRICE:
            problems["unit_price"] = [f"must be >= 0 and at most {MAX_PRICE}"]
        elif quantity is not None and quantity * price >= MAX_AMOUNT:
            problems["unit_price"] = [f"the amount must stay below {MAX_AMOUNT}"]
        if not isinstance(note, str) or len(note) > 500:
            problems["note"] = ["text of at most 500 characters"]
        if problems:
            errors[str(index)] = problems
            continue
        items.append({"kind": kind, "quantity": quantity, "unit_price": money(price),
                      "amount": money(quantity * price), "note": note})
    if errors:
        raise Invalid("invalid claim items", {"items": errors})
    if sum(i["amount"] for i in items) >= MAX_AMOUNT:
        raise Invalid("the claim's total is too large", {"items": [f"below {MAX_AMOUNT}"]})
    return items


def _store(session, claim, items):
    """Insert a claim with its items; a second open claim for the same source is a 409."""
    claim.total = money(sum((i["amount"] for i in items), Decimal(0)))
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
            for item in items:
                session.add(CompensationItem(compensation_id=claim.id, **item))
            session.flush()
    except IntegrityError:
        raise Conflict("an open claim already exists for it", code="claim_exists") from None
    incidents._event(session, claim.incident_id, claim.submitted_by, "compensation",
                     compensation_id=claim.id, total=str(claim.total), status="submitted")
    return claim


def open_claim_id(session, **source):
    """The id of a claim for this source that is not rejected, or None."""
    column, value = next(iter(source.items()))
    return session.scalar(select(Compensation.id).where(
        getattr(Compensation, column) == value, Compensation.status != "rejected"))


def open_claim(session, user, dispatch_id=None, requisition_id=None):
    """The id of the open (not rejected) claim of a dispatch or requisition the user may
    read, or None: where a retried submission is sent instead of a second claim."""
    source = {"dispatch_id": dispatch_id} if dispatch_id is not None else \
        {"requisition_id": requisition_id}
    claim_id = open_claim_id(session, **source)
    if claim_id is None:
        return None
    check_claim_read(session, user, claim_or_404(session, claim_id))
    return claim_id


def claim_for_dispatch(session, user, dispatch_id, items):
    """Submit a claim for a dispatch (dispatcher, admin, or its organisation's admin)."""
    dispatch = dispatches.dispatch_or_404(session, dispatch_id)
    dispatches.check_dispatch_read(session, user, dispatch)
    if user.role not in SUBMITTERS:
        raise Forbidden(f"role {user.role} may not submit claims")
    if dispatch.accepted_at is None:
        raise Conflict("only dispatches that were accepted can be compensated")
    existing = open_claim_id(session, dispatch_id=dispatch_id)
    if existing:
        raise Conflict(f"claim {existing} is already open for this dispatch",
                       code="claim_exists")
    org_name = session.scalar(select(Organisation.name).where(Organisation.id ==
                                                              dispatch.org_id))
    claim = Compensation(incident_id=dispatch.incident_id, dispatch_id=dispatch.id,
                         org_id=dispatch.org_id, claimant=org_name or "", status="submitted",
                         submitted_by=user.username, submitted_at=utcnow())
    return _store(session, claim, _items(items))


def claim_for_requisition(session, user, requisition_id, items):
    """Submit a claim for requisitioned property (bureau dispatcher or admin)."""
    if user.role not in (ADMIN, DISPATCHER):
        raise Forbidden("requisition claims are submitted by the bureau")
    requisition = dispatches.requisition_or_404(session, requisition_id)
    incidents.check_incident_id(session, user, requisition.incident_id)
    existing = open_claim_id(session, requisition_id=requisition_id)
    if existing:
        raise Conflict(f"claim {existing} is already open for this requisition",
                       code="claim_exists")
    claim = Compensation(incident_id=requisition.incident_id, requisition_id=requisition.id,
                         claimant=requisition.owner_name, status="submitted",
                         submitted_by=user.username, submitted_at=utcnow())
    return _store(session, claim, _items(items))


def claim_or_404(session, claim_id, lock=False):
    """The claim, or NotFound."""
    return get_or_404(session, Compensation, claim_id, "compensation", lock=lock)


def check_claim_read(session, user, claim):
    """Bureau roles read the claims of the incidents in their district (all when not
    scoped); an org_admin their organisation's."""
    if user.role in BUREAU:
        incidents.check_incident_id(session, user, claim.incident_id)
        return
    if user.role == ORG_ADMIN and claim.org_id and user.org_id == claim.org_id:
        return
    raise Forbidden("not your organisation's claim")


def review(session, user, claim_id, decision, note=""):
    """Approve or reject a submitted claim, or decide an appealed one (admin): a rejection
    needs its reason, the one who submitted a claim never reviews it (four eyes), and an
    appeal is decided by an administrator other than the one who rejected the claim."""
    if user.role != ADMIN:
        raise Forbidden("claims are reviewed by the bureau administrator")
    if decision not in REVIEW_DECISIONS:
        raise Invalid("unknown decision", {"decision": [" or ".join(REVIEW_DECISIONS)]})
    note = (note or "").strip()
    claim = claim_or_404(session, claim_id, lock=True)
    if claim.submitted_by == user.username:
        raise Forbidden("you submitted this claim: another administrator must review it",
                        code="four_eyes")
    if claim.status not in ("submitted", "appealed"):
        raise Conflict(f"the claim is {claim.status}, not submitted")
    if claim.status == "appealed" and claim.rejected_by == user.username:
        raise Forbidden("you rejected this claim: another administrator decides its appeal",
                        code="appeal_same_reviewer")
    if decision == "reject" and not note:
        raise Invalid("a rejection needs its reason", {"note": ["required when rejecting"]},
                      code="reason_required")
    appeal = claim.status == "appealed"
    claim.status = REVIEW_DECISIONS[decision]
    claim.review_note, claim.reviewed_by, claim.reviewed_at = note or "", user.username, utcnow()
    incidents._event(session, claim.incident_id, user.username, "compensation",
                     compensation_id=claim.id, status=claim.status, note=note,
                     **({"appeal_decision": True} if appeal else {}))
    session.flush()
    return claim


def may_appeal(user, claim):
    """Whether the user is the claimant: who submitted it, or the claiming organisation's
    admin."""
    if user.role == ORG_ADMIN:
        return bool(claim.org_id) and user.org_id == claim.org_id
    return user.role in SUBMITTERS and claim.submitted_by == user.username


def appeal(session, user, claim_id, reason):
    """Appeal a rejected claim (救济), once, with a reason: it goes back for a decision by
    an administrator other than the one who rejected it."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    claim = claim_or_404(session, claim_id, lock=True)
    check_claim_read(session, user, claim)
    # The claim's state first (whoever may read it may see it), then who the claimant is.
    if claim.appealed_at is not None:
        raise Conflict("this claim was appealed already", code="appealed_once")
    if claim.status != "rejected":
        raise Conflict(f"the claim is {claim.status}: only a rejected claim can be appealed",
                       code="not_rejected")
    if not may_appeal(user, claim):
        raise Forbidden("only the claimant may appeal", code="not_claimant")
    if not reason:
        raise Invalid("an appeal needs its reason", {"reason": ["required"]},
                      code="reason_required")
    if len(reason) > 4000:
        raise Invalid("the reason is too long", {"reason": ["at most 4000 characters"]})
    if open_claim_id(session, **({"dispatch_id": claim.dispatch_id} if claim.dispatch_id
                                 else {"requisition_id": claim.requisition_id})):
        raise Conflict("another claim is open for the same source", code="claim_exists")
    claim.rejected_by, claim.rejected_at = claim.reviewed_by, claim.reviewed_at
    claim.rejection_note = claim.review_note
    claim.reviewed_by = claim.reviewed_at = None
    claim.review_note = ""
    claim.status, claim.appeal_reason = "appealed", reason
    claim.appealed_by, claim.appealed_at = user.username, utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("another claim is open for the same source",
                       code="claim_exists") from None
    incidents._event(session, claim.incident_id, user.username, "compensation",
                     compensation_id=claim.id, status="appealed", note=reason)
    session.flush()
    return claim


def pay(session, user, claim_id, note=""):
    """Record the payment of an approved claim (admin)."""
    if user.role != ADMIN:
        raise Forbidden("payments are recorded by the bureau administrator")
    claim = claim_or_404(session, claim_id, lock=True)
    if claim.status != "approved":
        raise Conflict(f"the claim is {claim.status}, not approved")
    claim.status, claim.paid_by, claim.paid_at = "paid", user.username, utcnow()
    incidents._event(session, claim.incident_id, user.username, "compensation",
                     compensation_id=claim.id, status="paid", note=note)
    session.flush()
    return claim


def claim_dict(session, claim):
    """A claim with its items, as the API shows it."""
    items = session.scalars(select(CompensationItem).where(
        CompensationItem.compensation_id == claim.id).order_by(CompensationItem.id))
    return {"id": claim.id, "incident_id": claim.incident_id,
            "dispatch_id": claim.dispatch_id, "requisition_id": claim.requisition_id,
            "org_id": claim.org_id, "claimant": claim.claimant, "total": money(claim.total),
            "status": claim.status, "submitted_by": claim.submitted_by,
            "submitted_at": claim.submitted_at, "reviewed_by": claim.reviewed_by,
            "reviewed_at": claim.reviewed_at, "review_note": claim.review_note,
            "paid_by": claim.paid_by, "paid_at": claim.paid_at,
            "rejected_by": claim.rejected_by, "rejected_at": claim.rejected_at,
            "rejection_note": claim.rejection_note, "appeal_reason": claim.appeal_reason,
            "appealed_by": claim.appealed_by, "appealed_at": claim.appealed_at,
            "items": [{"id": i.id, "kind": i.kind, "quantity": i.quantity,
                       "unit_price": money(i.unit_price), "amount": money(i.amount),
                       "note": i.note} for i in items]}


def get_claim(session, user, claim_id):
    """One claim within the user's scope."""
    claim = claim_or_404(session, claim_id)
    check_claim_read(session, user, claim)
    return claim_dict(session, claim)


def _day_start(day):
    """Midnight (Beijing time) at the start of a date, as an aware time."""
    return datetime.combine(day, time(0), LOCAL_ZONE)


def ledger_scope(session, user):
    """WHERE clauses keeping the claims a user may read (org_admin: their organisation's)."""
    c = Compensation.__table__
    if user.role == ORG_ADMIN:
        return [c.c.org_id == (user.org_id or -1)]
    if user.role not in BUREAU:
        raise Forbidden("the compensation ledger is for bureau staff")
    if incidents.district_scoped(user):
        return [c.c.incident_id.in_(incidents.incidents_in_district(session, user))]
    return []


def ledger(session, user, status=None, date_from=None, date_to=None, org_id=None,
           incident_id=None, limit=1000, offset=0):
    """Claims in scope (newest first), with sums per organisation and per incident."""
    c = Compensation.__table__
    where = ledger_scope(session, user)
    if status:
        where.append(c.c.status == status)
    if date_from:
        where.append(c.c.submitted_at >= _day_start(date_from))
    if date_to:
        where.append(c.c.submitted_at < _day_start(date_to + timedelta(days=1)))
    if org_id is not None:
        where.append(c.c.org_id == org_id)
    if incident_id is not None:
        where.append(c.c.incident_id == incident_id)
    # Sums over every claim the filters keep, not only this page (rejected ones count for
    # nothing); summed here, exactly, from the Decimal column on both backends.
    amounts = session.execute(select(c.c.status, c.c.total).where(*where)).all()
    total = len(amounts)
    claimed = money(sum((t for s, t in amounts if s != "rejected"), Decimal(0)))
    paid = money(sum((t for s, t in amounts if s == "paid"), Decimal(0)))
    claims = session.scalars(select(Compensation).where(*where)
                             .order_by(Compensation.submitted_at.desc(), Compensation.id.desc())
                             .limit(limit).offset(offset)).all()
    titles = dict(session.execute(select(Incident.id, Incident.title).where(
        Incident.id.in_({cl.incident_id for cl in claims}))).all()) if claims else {}
    items = []
    by_org, by_incident = {}, {}
    for claim in claims:
        record = claim_dict(session, claim)
        record["incident_title"] = titles.get(claim.incident_id, "")
        items.append(record)
        if claim.status == "rejected":
            continue
        for key, bucket in ((claim.claimant, by_org),
                            (f"{claim.incident_id} {record['incident_title']}", by_incident)):
            entry = bucket.setdefault(key, {"claims": 0, "total": Decimal("0.00"),
                                            "paid": Decimal("0.00")})
            entry["claims"] += 1
            entry["total"] += record["total"]
            if claim.status == "paid":
                entry["paid"] += record["total"]
    return {"items": items, "total": total, "sum": claimed, "paid": paid,
            "by_organisation": [{"claimant": k, **v} for k, v in sorted(by_org.items())],
            "by_incident": [{"incident": k, **v} for k, v in sorted(by_incident.items())]}


def ledger_xlsx(book):
    """The ledger as an .xlsx workbook (claims, items, per organisation, per incident)."""
    from openpyxl import Workbook  # loaded by the spreadsheet exports only

    wb = Workbook()
    ws = wb.active
    ws.title = "claims"
    ws.append(["id", "incident", "claimant", "source", "status", "submitted_at (UTC+8)",
               "paid_at (UTC+8)", "total (yuan)", "submitted_by", "rejected_by",
               "rejected_at (UTC+8)", "rejection note", "appealed_by", "appealed_at (UTC+8)",
               "appeal reason", "decided_by", "decided_at (UTC+8)", "decision note"])
    for c in book["items"]:
        source = f"dispatch {c['dispatch_id']}" if c["dispatch_id"] else \
            f"requisition {c['requisition_id']}"
        append_row(ws, [c["id"], f"{c['incident_id']} {c['incident_title']}", c["claimant"],
                        source, c["status"], local_minute(c["submitted_at"]),
                        local_minute(c["paid_at"]), c["total"], c["submitted_by"],
                        c["rejected_by"], local_minute(c["rejected_at"]),
                        c["rejection_note"], c["appealed_by"], local_minute(c["appealed_at"]),
                        c["appeal_reason"], c["reviewed_by"], local_minute(c["reviewed_at"]),
                        c["review_note"]])
    items = wb.create_sheet("items")
    items.append(["claim", "kind", "quantity", "unit_price", "amount", "note"])
    for c in book["items"]:
        for i in c["items"]:
            append_row(items, [c["id"], i["kind"], i["quantity"], i["unit_price"],
                               i["amount"], i["note"]])
    for title, rows, key in (("by_organisation", book["by_organisation"], "claimant"),
                             ("by_incident", book["by_incident"], "incident")):
        sheet = wb.create_sheet(title)
        sheet.append([key, "claims", "total (yuan)", "paid (yuan)"])
        for row in rows:
            append_row(sheet, [row[key], row["claims"], row["total"], row["paid"]])
    for sheet in wb.worksheets:
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "0.00"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def team_name(session, team_id):
    """A team's name (for pages)."""
    return session.scalar(select(RescueTeam.name).where(RescueTeam.id == team_id))
