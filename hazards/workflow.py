"""Who may take which step of a hazard report, and how long each stage may last."""

from dataclasses import dataclass
from datetime import timedelta

from emergency.auth.roles import ADMIN, GRID_STAFF, PLANNER

# The closed loop 上报 → 核实 → 整改 → 复查 → 销号, plus rejection of unfounded reports.
TRANSITIONS = {
    "reported": ("verified", "rejected"),
    "verified": ("rectifying", "rejected"),
    "rectifying": ("rectified",),
    "rectified": ("closed",),
    "closed": (),
    "rejected": (),
}
FINAL = ("closed", "rejected")
GRID_STAFF_STEPS = ("rectifying", "rectified")
WORKFLOW_ROLES = (ADMIN, PLANNER)

# Config keys holding "major,general" hours for the stage a report is in.
DUE_KEYS = {
    "reported": "HAZARD_DUE_REPORTED_HOURS",
    "verified": "HAZARD_DUE_VERIFIED_HOURS",
    "rectifying": "HAZARD_DUE_RECTIFYING_HOURS",
    "rectified": "HAZARD_DUE_RECTIFIED_HOURS",
}
DEFAULT_HOURS = {
    "reported": (2, 24),
    "verified": (24, 72),
    "rectifying": (168, 720),
    "rectified": (24, 72),
}


def may_step(role, to):
    """True when a role may in principle record a step to ``to`` (scopes checked elsewhere)."""
    return role in WORKFLOW_ROLES or (role == GRID_STAFF and to in GRID_STAFF_STEPS)


def _parse_pair(name, raw):
    """'2,24' → (2.0, 24.0): hours for major and general hazards."""
    try:
        major, general = (float(v) for v in str(raw).split(","))
    except ValueError:
        raise ValueError(f"{name} must be 'MAJOR_HOURS,GENERAL_HOURS', not {raw!r}") from None
    if major <= 0 or general <= 0:
        raise ValueError(f"{name} hours must be positive")
    return major, general


@dataclass(frozen=True)
class DuePolicy:
    """Hours allowed per stage and severity."""

    hours: dict

    @classmethod
    def from_config(cls, config):
        """Read the policy from a config mapping (defaults for missing keys)."""
        hours = {}
        for stage, key in DUE_KEYS.items():
            raw = config.get(key)
            hours[stage] = _parse_pair(key, raw) if raw else DEFAULT_HOURS[stage]
        return cls(hours)

    def due(self, status, severity, start):
        """The deadline of a stage that began at ``start``; None for final states."""
        if status not in self.hours:
            return None
        major, general = self.hours[status]
        return start + timedelta(hours=major if severity == "major" else general)


DEFAULT_POLICY = DuePolicy(DEFAULT_HOURS)
