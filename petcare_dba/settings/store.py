"""Declared settings: the app's own server, its metadata store and pool, and the UI.

One part of the registry (`settings.registry` joins the parts); each entry is a `Setting`.
"""

from __future__ import annotations

from petcare_dba.settings.declaration import Setting, default_data_dir

# The store prefix names a schema and the roles <prefix>_owner/_app/_login: PostgreSQL keeps 63
# bytes of a name, so the prefix keeps 6 for "_owner"; pg_ and the system schemas are taken.
STORE_PREFIX_MAX = 63 - len("_owner")
STORE_PREFIX_PATTERN = (
    rf"(?!pg_)(?!(?:public|information_schema)$)[a-z][a-z0-9_]{{0,{STORE_PREFIX_MAX - 1}}}"
)

DECLARED: tuple[Setting, ...] = (
    Setting(
        "data_dir",
        default_data_dir(),
        "Directory for the embedded PostgreSQL data, the key "
        "file, backups and generated secrets. Default: /var/lib/petcare-dba when run as "
        "root, else the user's data directory (~/.local/share/petcare-dba on Linux).",
        "server",
    ),
    Setting(
        "database_url",
        "",
        "PostgreSQL URL of the metadata store (owner/admin role). Empty: "
        "use the embedded server in data_dir.",
        "server",
        secret=True,
    ),
    Setting(
        "store_prefix",
        "petcare",
        "Names this deployment in the metadata store: its schema and the roles <prefix>_owner, "
        "<prefix>_app and <prefix>_login, its migration lock and, unless cache_namespace is set, "
        f"its cache channel. A lower-case letter then lower-case letters, digits or _ (at most "
        f"{STORE_PREFIX_MAX}, not pg_..., public or information_schema). Two deployments sharing "
        "one PostgreSQL cluster or one database need different prefixes; changing it on an "
        "existing deployment starts an empty store.",
        "server",
        pattern=STORE_PREFIX_PATTERN,
    ),
    Setting(
        "runtime_password",
        "",
        "Password of the <store_prefix>_login role the app runs as. Empty: "
        "generated once into data_dir/secrets.",
        "server",
        secret=True,
    ),
    Setting(
        "embedded_port",
        54329,
        "TCP port of the embedded PostgreSQL (listens on 127.0.0.1 only).",
        "server",
        int,
    ),
    Setting("host", "127.0.0.1", "Address the web app listens on.", "server"),
    Setting("port", 8501, "Port the web app listens on.", "server", int),
    Setting(
        "demo_scale",
        1,
        "Size of the demo database: 1 is ~100k rows in the largest table; 100 reaches 10 million.",
        "server",
        int,
    ),
    Setting(
        "demo_enabled",
        True,
        "Create and register the demo database `petcare` on `up`.",
        "server",
        bool,
    ),
    Setting(
        "demo_workload",
        True,
        "While `up` serves, run a light simulated clinic workload (bookings, payments, "
        "reports, an occasional slow report and lock wait) on the demo database `petcare` only, "
        "so monitoring shows real data from the first minute. Never touches other connections.",
        "server",
        bool,
    ),
    Setting(
        "demo_workload_rate",
        2.0,
        "Statements per second the demo workload sends (on average, one at a time).",
        "server",
        float,
        bounds=(0.1, 50.0),
    ),
    Setting(
        "admin_password",
        "",
        "Password for the first admin on first start. Empty: a random "
        "one is generated and printed once.",
        "server",
        secret=True,
    ),
    Setting("pool_min_size", 1, "Minimum connections in the metadata pool.", "pool", int),
    Setting("pool_max_size", 10, "Maximum connections in the metadata pool.", "pool", int),
    Setting(
        "pool_timeout_s",
        10.0,
        "Seconds a request waits for a free metadata connection before a 'busy, retry' error.",
        "pool",
        float,
    ),
    Setting("connect_timeout_s", 10, "libpq connect_timeout for every connection.", "pool", int),
    Setting(
        "settings_refresh_s",
        5,
        "Seconds between two looks of each app and worker process at the settings an admin "
        "changed at run time (Settings page, `petcare-dba settings set`). A change applies "
        "without a restart: at once on the instance that made it, on the others as soon as the "
        "cache's invalidation bus tells them, and within this long when a signal is lost.",
        "server",
        int,
        bounds=(1, 3600),
    ),
    Setting(
        "default_language",
        "en",
        "Language when the browser's is not supported.",
        "ui",
        choices=("en", "pt-BR"),
    ),
)
