"""Declared configuration: every key with its default, type and description."""

import json
import os
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet


@dataclass(frozen=True)
class Setting:
    """One configuration key, its default and what it means."""

    name: str
    default: object
    description: str
    kind: type = str
    secret: bool = False


SETTINGS = [
    Setting("DATABASE_URL", None,
            "sqlite:///path.sqlite (SpatiaLite) or postgresql+psycopg://... (PostGIS). "
            "Unset: instance/emergency.sqlite."),
    Setting("SECRET_KEY", None, "Signs session cookies. Unset in development: generated once "
            "into the instance folder.", secret=True),
    Setting("EMERGENCY_DATA_KEY", None, "Key (urlsafe base64, 32 bytes) for personal data "
            "encrypted at rest. Unset in development: generated once into the instance folder.",
            secret=True),
    Setting("MAX_CONTENT_LENGTH", 64 * 1024 * 1024, "Largest accepted request body in bytes; "
            "larger bodies get 413.", int),
    Setting("MAX_JSON_BYTES", 8 * 1024 * 1024, "Largest accepted JSON body in bytes (also "
            "for chunked bodies without a length); larger ones get 413.", int),
    Setting("JSON_MAX_DEPTH", 32, "Deepest nesting of objects and arrays accepted in a JSON "
            "body (a GeoJSON MultiPolygon needs 5).", int),
    Setting("JSON_MAX_OBJECT_KEYS", 1000, "Most members of one JSON object in a body "
            "(arrays such as coordinates are bounded by MAX_JSON_BYTES).", int),
    Setting("PHOTO_MAX_BYTES", 10 * 1024 * 1024, "Largest accepted photo upload in bytes.", int),
    Setting("UPLOAD_FOLDER", None, "Local folder of the `folder` file store, and where "
            "`emergency files import` finds the files older versions kept on disk. "
            "Unset: instance/uploads.", str),
    Setting("FILE_STORE", "database", "Where photos and other kept uploads live, shared by "
            "every app host: database (chunks in a table, either backend), s3 (an "
            "S3-compatible object store, S3_* settings) or folder (UPLOAD_FOLDER on this host "
            "only: a single host).", str),
    Setting("FILE_CHUNK_BYTES", 256 * 1024, "Size of the pieces a file is stored (database "
            "store) and streamed in, so a large file never sits in memory whole.", int),
    Setting("S3_ENDPOINT_URL", "", "Endpoint of the S3-compatible store (e.g. "
            "http://minio.local:9000); empty: AWS's own.", str),
    Setting("S3_BUCKET", "", "Bucket of the s3 file store (it must exist).", str),
    Setting("S3_PREFIX", "", "Prefix of every object name in the bucket (e.g. emergency/).",
            str),
    Setting("S3_REGION", "", "Region of the bucket (empty: boto3's default).", str),
    Setting("S3_ACCESS_KEY_ID", "", "Access key of the s3 file store (empty: boto3's own "
            "credential chain: environment, instance role).", str, secret=True),
    Setting("S3_SECRET_ACCESS_KEY", "", "Secret key of the s3 file store.", str, secret=True),
    Setting("DATABASE_READ_URL", "", "Optional postgresql+psycopg://... of a streaming "
            "replica: map layers, tiles and list pages read from it, except for a user within "
            "READ_AFTER_WRITE_SECONDS of their last write and in requests that write. Empty: "
            "every read on the primary.", str),
    Setting("READ_AFTER_WRITE_SECONDS", 5, "After a user's last write, their reads stay on "
            "the primary this long (read-your-own-writes while the replica catches up).", int),
    Setting("DB_POOL_SIZE", 10, "Connections kept open per process (PostGIS).", int),
    Setting("SQLITE_BUSY_TIMEOUT_MS", 30000, "How long a SpatiaLite writer waits for the lock.",
            int),
    Setting("SQLITE_MMAP_BYTES", 1 << 30, "SpatiaLite: bytes of the database file read through a "
            "memory map (address space, not memory in use); 0 turns it off.", int),
    Setting("TOKEN_DEFAULT_DAYS", 90, "Lifetime of an API token when --days is not given.", int),
    Setting("LOGIN_MAX_FAILURES", 5, "Failed sign-ins of one user name from one client "
            "address (within LOGIN_WINDOW_SECONDS) before that pair is backed off (429 with "
            "Retry-After); other addresses are not affected.", int),
    Setting("LOGIN_ACCOUNT_MAX_FAILURES", 50, "Failed sign-ins of one user name from all "
            "addresses before it is backed off for addresses it never signed in from "
            "(distributed guessing); addresses with a recent successful sign-in are spared.",
            int),
    Setting("LOGIN_ADDRESS_MAX_FAILURES", 10, "Failed sign-ins from one client address over "
            "all user names before that address is backed off (password sprays).", int),
    Setting("LOGIN_BACKOFF_SECONDS", 30, "First wait after a limit is reached; it doubles "
            "with each further failure.", int),
    Setting("LOGIN_BACKOFF_MAX_SECONDS", 300, "Longest wait a back-off can reach.", int),
    Setting("LOGIN_WINDOW_SECONDS", 900, "Window for counting failed sign-ins (a success "
            "from the same pair, account or address also starts the count afresh).", int),
    Setting("LOGIN_KNOWN_ADDRESS_DAYS", 30, "An address a user signed in from this recently "
            "is spared the account-wide limit.", int),
    Setting("LOGIN_HASH_CONCURRENCY", 2, "Password hashes (argon2, ~0.2 s of CPU each) "
            "computed at once per process; more sign-ins wait.", int),
    Setting("LOGIN_HASH_WAIT_SECONDS", 2, "How long a sign-in waits for a hashing slot before "
            "it gets 503 with Retry-After.", int),
    Setting("SESSION_MAX_HOURS", 24, "A browser session ends this long after sign-in, "
            "whatever its activity.", int),
    Setting("SESSION_COOKIE_SECURE", False, "Send the session cookie only over HTTPS "
            "(set true behind a TLS proxy).", bool),
    Setting("PROXY_FIX_HOPS", 0, "Number of reverse proxies in front of the app whose "
            "X-Forwarded-* headers are trusted.", int),
    Setting("BABEL_DEFAULT_LOCALE", "zh", "Language of the pages when the user has not chosen "
            "one (zh or en).", str),
    Setting("BASEMAP_TILE_URL", "", "Tile URL template for the base map (e.g. an intranet "
            "tile server). Empty: area boundaries serve as the base.", str),
    Setting("BASEMAP_ATTRIBUTION", "", "Attribution shown for BASEMAP_TILE_URL.", str),
    Setting("INCIDENT_COMPENSATION_RATES", {}, "Overrides of the compensation rate table "
            "(yuan), e.g. {\"local_daily_wage\": \"320.00\"}; JSON in "
            "the environment, a dict in instance/config.py. Defaults and sources: "
            "docs/incidents.md.", dict),
    Setting("INCIDENT_REPORT_MINUTES", 30, "Minutes after an incident is opened by which its "
            "initial information report (首报) is due; later it is report_overdue (the State "
            "Council's 30-minute rule for major events; docs/incidents.md).", int),
    Setting("MEASURE_ORDER_PREFIX", "渝应急决", "Issuer's prefix of the numbers of emergency "
            "measures' decisions (决定书): PREFIX〔YEAR〕N号, N counting up within the year.", str),
    Setting("PLAN_FILING_DAYS", 20, "Days after a plan version is published by which its "
            "filing (备案) with the higher authority must be recorded; later the plan is "
            "filing_overdue (docs/plans.md).", int),
    Setting("REQUIRE_INSURED_DISPATCH", False, "Refuse (instead of warn) dispatching a team "
            "with uninsured members.", bool),
    Setting("RISK_RUN_INLINE", False, "Run risk assessments inside the request that starts "
            "them instead of queueing a job for a worker (tests that share one session).", bool),
    Setting("RISK_RUN_MAX_SECONDS", 3600, "A run still queued or running this long after it "
            "was queued is taken as interrupted (its process died) and marked failed when the "
            "next run starts.", int),
    Setting("JOB_LEASE_SECONDS", 60, "A job whose worker has sent no heartbeat for this long "
            "(it died: SIGKILL, a lost host) is put back on the queue for another worker; "
            "workers beat every quarter of it.", int),
    Setting("JOB_CONCURRENCY", 2, "Jobs one worker runs at once when `emergency worker` is "
            "not given --concurrency (this also bounds concurrent risk runs per worker).", int),
    Setting("JOB_POLL_SECONDS", 1.0, "How often a worker looks for newly queued job "
            "records to put on the queue.", float),
    Setting("JOB_RUNNER", "serve", "serve: `emergency serve` starts a worker of its own "
            "beside the web workers; external: it does not, run `emergency worker` "
            "(required for several app hosts on one SpatiaLite file; recommended on "
            "PostGIS with separate worker hosts).", str),
    Setting("RISK_MAX_ACTIVE_RUNS", 2, "Risk assessments queued or running at once (all "
            "processes); one more is refused with 429 until one finishes.", int),
    Setting("RISK_LAYER_MAX_BYTES", 512 * 1024 * 1024, "Largest accepted risk layer upload "
            "(POST /layers) in bytes; it streams to disk, never held in memory.", int),
    Setting("IMPORT_JOB_MIN_BYTES", 8 * 1024 * 1024, "An import sent from a page (risk "
            "layers, rosters, price sheets) larger than this many bytes runs as a background "
            "job followed on /jobs; the API does so with ?async=1 (docs/operations.md).", int),
    Setting("UPLOAD_MAX_UNCOMPRESSED_BYTES", 512 * 1024 * 1024, "Largest total size of the "
            "files inside an uploaded zip (zipped Shapefile), read from the archive's "
            "directory before anything is extracted; larger archives get 413.", int),
    Setting("GEOJSON_MAX_BYTES", 128 * 1024 * 1024, "Largest uploaded GeoJSON file (it is "
            "parsed whole to check it, up to 4x its size in memory); larger get 413 and may "
            "come as a GeoPackage or zipped Shapefile.", int),
    Setting("UPLOAD_MAX_COMPRESSION_RATIO", 100, "Largest size-to-compressed-size ratio of one "
            "member (over 1 MiB) of an uploaded zip or .xlsx; a zip bomb has ~1000.", int),
    Setting("XLSX_MAX_UNCOMPRESSED_BYTES", 128 * 1024 * 1024, "Largest total size of the XML "
            "inside an uploaded .xlsx (a 200,000-row roster has ~40 MB); larger get 413.", int),
    Setting("XLSX_MAX_CELLS", 2_000_000, "Largest sheet of an uploaded .xlsx, as rows x "
            "columns up to its farthest cell (the reader allocates every cell of that "
            "rectangle, ~32 bytes each); counted from the cells' positions before reading.",
            int),
    Setting("PHOTO_MAX_PIXELS", 24_000_000, "Largest photo in pixels (width x height, read "
            "from the image header before decoding; 24 MP = 6000 x 4000); larger get 413.",
            int),
    Setting("HAZARD_DUE_REPORTED_HOURS", "2,24", "Hours to verify a new hazard report: "
            "MAJOR,GENERAL (the law asks for verification at once)."),
    Setting("HAZARD_DUE_VERIFIED_HOURS", "24,72", "Hours from verification to the start of "
            "rectification: MAJOR,GENERAL."),
    Setting("HAZARD_DUE_RECTIFYING_HOURS", "168,720", "Hours to finish rectifying a hazard: "
            "MAJOR,GENERAL."),
    Setting("HAZARD_DUE_RECTIFIED_HOURS", "24,72", "Hours to re-inspect and close a rectified "
            "hazard: MAJOR,GENERAL."),
    Setting("EVENTS_MAX_STREAMS_PER_WORKER", 200, "Live event streams (GET /api/v1/events) "
            "one worker process serves at once; one more gets 503 with Retry-After and the "
            "browser retries. `emergency serve` gives each gthread worker this many threads on "
            "top of --threads, so streams never take the threads of ordinary requests; sync "
            "workers serve no streams (see docs/operations.md, Live events).", int),
    Setting("EVENTS_HEARTBEAT_SECONDS", 15, "Seconds between two heartbeats (`: ping`) of a "
            "live event stream; each also checks that the user's session or token still "
            "holds.", int),
    Setting("EVENTS_STREAM_MAX_SECONDS", 900, "A live event stream ends after this long (at "
            "a heartbeat); the client reconnects with Last-Event-ID and loses nothing.", int),
    Setting("IDEMPOTENCY_KEEP_DAYS", 30, "Days a POST's answer stays stored under its "
            "Idempotency-Key (a retry within them gets it again); a daily job forgets older "
            "ones. Long enough for a phone that queued a report offline for weeks.", int),
    Setting("SERVED_BBOX", "73.4,3.8,135.1,53.6", "The served region as minlon,minlat,maxlon,"
            "maxlat (WGS-84): team and organisation locations outside it are refused (a "
            "swapped latitude and longitude is named). Default: China's extent."),
    Setting("CAP_SENDER", "cq-emergency@example.gov.cn", "The CAP 1.2 ``sender`` of the "
            "warnings this bureau publishes (and of the references of their Updates and "
            "Cancels)."),
    Setting("CAP_IDENTIFIER_PREFIX", "cn-cq-emergency", "Start of the CAP identifier of each "
            "published version of a warning: PREFIX-<warning id>-<version>."),
    Setting("PRICE_BASELINE_DAYS", 30, "Price anomaly warning: days before the latest day "
            "whose daily prices (median over markets) give a commodity's baseline (their "
            "median); a commodity's own setting overrides it (docs/prices.md).", int),
    Setting("PRICE_ALERT_RATIO", 0.2, "Price anomaly warning: an alert is raised when the "
            "latest daily price exceeds the baseline by more than this fraction (0.2 = 20 %); "
            "a commodity's own setting overrides it.", float),
    Setting("PRICE_BASELINE_MIN_DAYS", 5, "Price anomaly warning: fewest days with prices "
            "in the baseline period for a baseline to count (fewer: no evaluation).", int),
    Setting("PRICE_IMPORT_MAX_BYTES", 16 * 1024 * 1024, "Largest price observation file "
            "(.xlsx or .csv) accepted by the import.", int),
    Setting("PRICE_IMPORT_MAX_ROWS", 200_000, "Most rows of one price observation import.",
            int),
]
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


class ConfigError(ValueError):
    """A configuration value that cannot be used."""


def _coerce(setting, raw):
    """Turn a raw environment string into the setting's type."""
    if setting.kind is bool:
        if isinstance(raw, bool):
            return raw
        value = str(raw).strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{setting.name} must be true or false, not {raw!r}")
    if setting.kind is dict:
        if isinstance(raw, dict):
            return raw
        try:
            value = json.loads(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{setting.name} must be a JSON object, not {raw!r}") from None
        if not isinstance(value, dict):
            raise ConfigError(f"{setting.name} must be a JSON object")
        return value
    if setting.kind is int:
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{setting.name} must be an integer, not {raw!r}") from None
    if setting.kind is float:
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{setting.name} must be a number, not {raw!r}") from None
    return raw


def _bbox(raw):
    """SERVED_BBOX text (or a sequence) as a (minlon, minlat, maxlon, maxlat) tuple of floats."""
    try:
        parts = tuple(float(p) for p in (raw.split(",") if isinstance(raw, str) else raw))
    except (TypeError, ValueError):
        parts = ()
    if len(parts) != 4 or not (-180 <= parts[0] < parts[2] <= 180
                               and -90 <= parts[1] < parts[3] <= 90):
        raise ConfigError(f"SERVED_BBOX must be minlon,minlat,maxlon,maxlat, not {raw!r}")
    return parts


def _instance_secret(instance_path, filename, make):
    """Read a development secret from the instance folder, creating it once."""
    path = Path(instance_path) / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
        warnings.warn(f"generated a development secret in {path}; set it in the environment "
                      "for production", RuntimeWarning, stacklevel=2)
    return path.read_text().strip()


def load(app, test_config=None):
    """Fill app.config from defaults, the instance file, the environment and test_config."""
    for setting in SETTINGS:
        # Flask predefines some keys (MAX_CONTENT_LENGTH) as None: ours take precedence.
        if app.config.get(setting.name) is None:
            app.config[setting.name] = setting.default
    app.config.from_pyfile("config.py", silent=True)
    for setting in SETTINGS:
        if setting.name in os.environ:
            app.config[setting.name] = os.environ[setting.name]
    if test_config:
        app.config.update(test_config)
    for setting in SETTINGS:
        if app.config[setting.name] is not None:
            app.config[setting.name] = _coerce(setting, app.config[setting.name])
    validate(app)


def validate(app):
    """Check values and fill the development defaults that depend on the instance folder."""
    cfg = app.config
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'emergency.sqlite'}"
    url = cfg["DATABASE_URL"]
    if not (url.startswith("sqlite:///") or url.startswith("postgresql")):
        raise ConfigError("DATABASE_URL must be sqlite:///FILE or postgresql+psycopg://...")
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = _instance_secret(app.instance_path, "secret_key",
                                             lambda: secrets.token_urlsafe(32))
    if not cfg["EMERGENCY_DATA_KEY"]:
        cfg["EMERGENCY_DATA_KEY"] = _instance_secret(
            app.instance_path, "data_key", lambda: Fernet.generate_key().decode())
    if not cfg["UPLOAD_FOLDER"]:
        cfg["UPLOAD_FOLDER"] = str(Path(app.instance_path) / "uploads")
    if cfg["JOB_RUNNER"] not in {"serve", "external"}:
        raise ConfigError("JOB_RUNNER must be serve or external")
    if cfg["FILE_STORE"] not in {"database", "s3", "folder"}:
        raise ConfigError("FILE_STORE must be database, s3 or folder")
    if cfg["FILE_STORE"] == "s3" and not cfg["S3_BUCKET"]:
        raise ConfigError("FILE_STORE=s3 needs S3_BUCKET")
    if cfg["DATABASE_READ_URL"] and not (cfg["DATABASE_READ_URL"].startswith("postgresql")
                                         and url.startswith("postgresql")):
        raise ConfigError("DATABASE_READ_URL is a PostgreSQL replica of a PostgreSQL "
                          "DATABASE_URL (postgresql+psycopg://...)")
    if cfg["BABEL_DEFAULT_LOCALE"] not in {"zh", "en"}:
        raise ConfigError("BABEL_DEFAULT_LOCALE must be zh or en")
    cfg["SERVED_BBOX"] = _bbox(cfg["SERVED_BBOX"])
    for name in ("MAX_CONTENT_LENGTH", "MAX_JSON_BYTES", "JSON_MAX_DEPTH",
                 "JSON_MAX_OBJECT_KEYS", "PHOTO_MAX_BYTES", "DB_POOL_SIZE",
                 "EVENTS_HEARTBEAT_SECONDS", "EVENTS_STREAM_MAX_SECONDS", "FILE_CHUNK_BYTES",
                 "INCIDENT_REPORT_MINUTES", "PLAN_FILING_DAYS", "JOB_LEASE_SECONDS",
                 "JOB_CONCURRENCY", "JOB_POLL_SECONDS", "IDEMPOTENCY_KEEP_DAYS"):
        if cfg[name] <= 0:
            raise ConfigError(f"{name} must be positive")
