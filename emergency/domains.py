"""The application's domains, in layer order, wired with plain imports: the composition root.

This is the one list of what the app is made of. ``create_app`` registers each domain's JSON
and HTML blueprints from it, the command line its command groups, the demo its steps, and
migrations and backups its tables. The layers, lowest first (tests/test_architecture.py
holds them): core (emergency's own modules) < platform (auth, audit, geo, spatial) <
registry, plans < operations (risk, hazards, incidents) < maps < this composition root.
"""

from dataclasses import dataclass
from types import ModuleType

import alerts.api
import alerts.cli
import alerts.demo
import alerts.models
import alerts.public
import alerts.tasks
import alerts.views
import hazards.api
import hazards.cli
import hazards.demo
import hazards.disasters.api
import hazards.disasters.demo
import hazards.disasters.models
import hazards.disasters.views
import hazards.models
import hazards.tasks
import hazards.views
import incidents.api
import incidents.claims.views
import incidents.demo
import incidents.inbox.views
import incidents.measures.api
import incidents.measures.models
import incidents.measures.views
import incidents.models
import incidents.reports.models
import incidents.reports.views
import incidents.views
import maps.api
import maps.ogc.views
import maps.views
import plans.api
import plans.demo
import plans.models
import plans.training.api
import plans.training.demo
import plans.training.models
import plans.training.views
import plans.views
import prices.api
import prices.demo
import prices.filejobs
import prices.models
import prices.views
import registry.api
import registry.cli
import registry.demo
import registry.filejobs
import registry.lists
import registry.models
import registry.tasks
import registry.views
import risk.api
import risk.cli
import risk.demo
import risk.jobs
import risk.models
import risk.views
from emergency import idempotency
from emergency.audit import api as audit_api
from emergency.audit import models as audit_models
from emergency.audit import views as audit_views
from emergency.auth import api as auth_api
from emergency.auth import cli as auth_cli
from emergency.auth import demo as auth_demo
from emergency.auth import models as auth_models
from emergency.auth import views as auth_views
from emergency.events import api as events_api
from emergency.events import models as events_models
from emergency.events import tasks as events_tasks
from emergency.files import cli as files_cli
from emergency.files import models as files_models
from emergency.geo import api as geo_api
from emergency.geo import cli as geo_cli
from emergency.geo import demo as geo_demo
from emergency.geo import models as geo_models
from emergency.jobs import api as jobs_api
from emergency.jobs import cli as jobs_cli
from emergency.jobs import models as jobs_models
from emergency.jobs import views as jobs_views


@dataclass(frozen=True)
class Domain:
    """What one domain adds to the app."""

    name: str
    models: tuple[ModuleType, ...] = ()
    api: ModuleType | None = None  # defines ``blp``, a flask-smorest Blueprint
    views: tuple[ModuleType, ...] = ()  # each defines ``bp`` and optionally ``NAV``
    commands: tuple = ()  # click command groups
    demo: tuple = ()  # demo steps: step(session) -> lines to print
    jobs: tuple = ()  # background work: emergency.jobs.kinds.JobKind and Periodic


DOMAINS = (
    Domain("core", models=(idempotency,), jobs=idempotency.JOBS),
    # The file store every host shares (photos and other kept uploads).
    Domain("files", models=(files_models,), commands=(files_cli.files,)),
    Domain("geo", models=(geo_models,), api=geo_api, commands=(geo_cli.areas, geo_cli.grids),
           demo=(geo_demo.load_areas,)),
    Domain("audit", models=(audit_models,), api=audit_api, views=(audit_views,)),
    Domain("events", models=(events_models,), api=events_api, jobs=events_tasks.JOBS),
    # Background jobs: the records their owners follow, the worker command, the jobs page.
    Domain("jobs", models=(jobs_models,), api=jobs_api, views=(jobs_views,),
           commands=(jobs_cli.worker,)),
    Domain("auth", models=(auth_models,), api=auth_api, views=(auth_views,),
           commands=(auth_cli.users, auth_cli.tokens), demo=(auth_demo.load_users,)),
    Domain("registry", models=(registry.models,), api=registry.api,
           views=(registry.lists, registry.views),
           commands=(registry.cli.cli,), demo=(registry.demo.load_registry,),
           jobs=registry.filejobs.JOBS + registry.tasks.JOBS),
    Domain("plans", models=(plans.models,), api=plans.api, views=(plans.views,),
           demo=(plans.demo.load_plans, plans.demo.load_filings)),
    # Officials' legal training: a sub-package of plans with a blueprint of its own.
    Domain("training", models=(plans.training.models,), api=plans.training.api,
           views=(plans.training.views,), demo=(plans.training.demo.load_training,)),
    Domain("hazards", models=(hazards.models,), api=hazards.api, views=(hazards.views,),
           commands=(hazards.cli.cli,), demo=(hazards.demo.load_hazards,), jobs=hazards.tasks.JOBS),
    # Direct disaster reports (灾情直报): a sub-package of hazards with a blueprint of its own.
    Domain("disasters", models=(hazards.disasters.models,), api=hazards.disasters.api,
           views=(hazards.disasters.views,), demo=(hazards.disasters.demo.load_disasters,)),
    Domain("incidents", models=(incidents.models, incidents.reports.models),
           api=incidents.api,
           views=(incidents.views, incidents.claims.views, incidents.inbox.views,
                  incidents.reports.views),
           demo=(incidents.demo.load_incidents,)),
    # Emergency measures (应急处置措施) and their decisions: a sub-package of incidents.
    Domain("measures", models=(incidents.measures.models,), api=incidents.measures.api,
           views=(incidents.measures.views,), demo=(incidents.demo.load_measures,)),
    Domain("alerts", models=(alerts.models,), api=alerts.api, views=(alerts.views,),
           commands=(alerts.cli.cli,), demo=(alerts.demo.load_warnings,), jobs=alerts.tasks.JOBS),
    # Prices in emergencies (价格异常预警): observations, anomaly alerts, complaints.
    Domain("prices", models=(prices.models,), api=prices.api, views=(prices.views,),
           demo=(prices.demo.load_prices,), jobs=prices.filejobs.JOBS),
    # The public side of warnings (no sign-in): GeoJSON, Atom and CAP feeds and the page.
    Domain("public_warnings", api=alerts.public, views=(alerts.public,)),
    Domain("risk", models=(risk.models,), api=risk.api, views=(risk.views,),
           commands=(risk.cli.cli,), demo=(risk.demo.load_risk,), jobs=risk.jobs.JOBS),
    Domain("maps", api=maps.api, views=(maps.views,)),
    # OGC API – Features at /ogc for GIS clients (QGIS, GDAL, ArcGIS Pro).
    Domain("ogc", views=(maps.ogc.views,)),
)


def declared_jobs():
    """Every domain's kinds of job and periodic tasks."""
    return [item for domain in DOMAINS for item in domain.jobs]


def demo_steps():
    """Every domain's demo steps, in order (each safe to run again)."""
    return [step for domain in DOMAINS for step in domain.demo]


def metadata():
    """The metadata holding every domain's tables (imported above)."""
    from emergency.db import Base

    return Base.metadata
