"""Filing (备案) of published plans with the higher authority, and when it is overdue.

Each published version is filed once: a plan whose version in force was published more than
PLAN_FILING_DAYS calendar days ago (Beijing time) and has no filing for that version is
``filing_overdue``. Revising and republishing a plan makes a new version to file.
No Flask here: the days come from the running app's configuration (or the default).
"""

from datetime import datetime, time, timedelta

from sqlalchemy import and_, exists, not_, select, tuple_

from emergency.errors import Conflict, Invalid
from emergency.uploads import setting
from emergency.vocabulary import LOCAL_ZONE
from plans.models import Plan, PlanFiling


def filing_days():
    """PLAN_FILING_DAYS of the running app (the declared default outside one)."""
    return setting("PLAN_FILING_DAYS")


def in_force(plan):
    """True when the plan has a published version in force (not archived)."""
    return plan.published_version is not None and plan.status != "archived"


def published_on(plan):
    """The local calendar day the version in force was published, or None."""
    if not in_force(plan) or plan.published_at is None:
        return None
    return plan.published_at.astimezone(LOCAL_ZONE).date()


def due_on(plan, days):
    """The last day to file the version in force, or None when nothing is in force."""
    day = published_on(plan)
    return day + timedelta(days=days) if day else None


def _filed():
    """SQL: the plan's version in force has a filing."""
    return exists().where(PlanFiling.plan_id == Plan.id,
                          PlanFiling.version == Plan.published_version)


def overdue_filter(today, days, overdue=True):
    """SQL: plans whose filing is overdue on ``today`` (or, with ``overdue=False``, not)."""
    # Overdue when today > published day + days, i.e. published before the local midnight
    # that starts the day ``days`` days ago.
    cutoff = datetime.combine(today - timedelta(days=days), time(0), LOCAL_ZONE)
    late = and_(Plan.published_version.is_not(None), Plan.status != "archived",
                Plan.published_at < cutoff, not_(_filed()))
    return late if overdue else not_(late)


def filings_for(session, plans):
    """{(plan_id, version): PlanFiling} of the versions in force of ``plans`` (one query)."""
    keys = [(p.id, p.published_version) for p in plans if in_force(p)]
    if not keys:
        return {}
    rows = session.scalars(select(PlanFiling).where(
        tuple_(PlanFiling.plan_id, PlanFiling.version).in_(keys)))
    return {(f.plan_id, f.version): f for f in rows}


def filing_dict(row):
    """A filing as the API shows it (None for none)."""
    if row is None:
        return None
    return {"version": row.version, "authority": row.authority, "filed_on": row.filed_on,
            "number": row.number, "recorded_by": row.recorded_by,
            "recorded_at": row.recorded_at}


def fields(session, plan, today, filings=None):
    """The filing fields of a plan's JSON: ``filing``, ``filing_due_on``, ``filing_overdue``."""
    days = filing_days()
    if filings is None:
        filings = filings_for(session, [plan])
    row = filings.get((plan.id, plan.published_version)) if in_force(plan) else None
    deadline = due_on(plan, days)
    return {"filing": filing_dict(row), "filing_due_on": deadline,
            "filing_overdue": bool(deadline and row is None and today > deadline)}


def list_filings(session, plan_id):
    """Every filing of a plan, newest version first."""
    return list(session.scalars(select(PlanFiling).where(PlanFiling.plan_id == plan_id)
                                .order_by(PlanFiling.version.desc())))


def record_filing(session, plan, authority, filed_on, number, today, actor=None):
    """Record the filing of the plan's version in force: (filing, created).

    Only a plan with a published version in force may be filed (Conflict otherwise);
    ``filed_on`` lies between its publication and today (Invalid otherwise). The same filing
    again is answered with the stored one; a different one for a filed version is a Conflict.
    """
    if not in_force(plan):
        raise Conflict("only a published plan can be filed")
    problems = {}
    authority, number = (authority or "").strip(), (number or "").strip()
    if not authority:
        problems["authority"] = ["required"]
    if not number:
        problems["number"] = ["required"]
    published = published_on(plan)
    if filed_on > today:
        problems["filed_on"] = ["may not be in the future"]
    elif published and filed_on < published:
        problems["filed_on"] = ["may not be before the plan was published"]
    if problems:
        raise Invalid("invalid filing", problems)
    existing = session.get(PlanFiling, (plan.id, plan.published_version))
    if existing is not None:
        if (existing.authority, existing.number, existing.filed_on) == (authority, number,
                                                                        filed_on):
            return existing, False
        raise Conflict("this version of the plan is already filed")
    row = PlanFiling(plan_id=plan.id, version=plan.published_version, authority=authority,
                     filed_on=filed_on, number=number, recorded_by=actor or "")
    session.add(row)
    session.flush()
    return row, True


def filed_filter(filed=True):
    """SQL: plans whose version in force is filed (or, with ``filed=False``, in force and
    not filed yet)."""
    return and_(Plan.published_version.is_not(None), Plan.status != "archived",
                _filed() if filed else not_(_filed()))
