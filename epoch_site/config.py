"""Epoch's configuration: the original's YAML file, ``${ENV}`` substitution and environment overrides.

``load_config(environ)`` is the single entry point. It returns a frozen ``EpochConfig`` or raises
``ConfigError`` whose message names the key and the problem; start-up turns that into one line on
stderr and a non-zero exit. Unknown keys only log a warning so that the original's files (with their
``server``, ``logging`` and ``metrics`` blocks) load unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from epoch_site.config_reader import ConfigError, Reader
from epoch_site.durations import Duration

__all__ = ["ConfigError", "EpochConfig", "load_config"]

log = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "default_config.yml"
APP_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]+")
ZK_CONNECTION_PATTERN = re.compile(
    r"[A-Za-z0-9._\-]+(:\d{1,5})?(,[A-Za-z0-9._\-]+(:\d{1,5})?)*(/[A-Za-z0-9._\-/]*)?"
)
ROLES = ("READ_WRITE", "READ_ONLY")
DEFAULT_PASSWORDS = {"admin": "admin", "guest": "guest"}
DEFAULT_SIMULATOR_PORT = 7070


@dataclass(frozen=True)
class ServerConfig:
    app_port: int = 8080
    admin_port: int = 8081


@dataclass(frozen=True)
class ZooKeeperConfig:
    connection_string: str | None
    namespace: str = "epoch"
    session_timeout: Duration = Duration(10, "seconds")

    @property
    def embedded(self) -> bool:
        return not self.connection_string


@dataclass(frozen=True)
class DroveConfig:
    endpoints: tuple[str, ...]
    app_name: str
    embedded_simulator_port: int | None = None  # set when Epoch starts its own Drove simulator
    insecure: bool = False
    check_interval: Duration = Duration(1, "seconds")
    connection_timeout: Duration = Duration(1, "seconds")
    operation_timeout: Duration = Duration(1, "seconds")
    username: str | None = None
    password: str | None = None
    rpc_retry_count: int = 10
    rpc_retry_interval: Duration = Duration(3, "seconds")
    cluster_op_spec: Mapping[str, Any] = field(
        default_factory=lambda: {
            "timeout": "300 seconds",
            "parallelism": 1,
            "failureStrategy": "STOP",
        }
    )


@dataclass(frozen=True)
class UserSpec:
    username: str
    password: str
    role: str  # READ_WRITE or READ_ONLY


@dataclass(frozen=True)
class AuthConfig:
    enabled: bool
    users: tuple[UserSpec, ...] = ()


@dataclass(frozen=True)
class NotifyConfig:
    type: str = "BLACKHOLE"
    smtp_server: str | None = None
    port: int = 25
    tls: bool = False
    username: str | None = None
    password: str | None = None
    default_emails: tuple[str, ...] = ()
    from_name: str | None = None
    from_address: str | None = None
    disable_for_successful_runs: bool = False


@dataclass(frozen=True)
class OptionsConfig:
    cleanup_job_interval: Duration = Duration(5, "minutes")
    num_runs_per_job: int = 5
    time_zone: str = "UTC"
    missing_task_timeout: Duration = Duration(10, "minutes")
    misfire_grace_period: Duration = Duration(10, "minutes")
    task_poll_interval: Duration = Duration(3, "seconds")


@dataclass(frozen=True)
class RoutingConfig:
    connect_timeout: Duration = Duration(2, "seconds")
    read_timeout: Duration = Duration(30, "seconds")


@dataclass(frozen=True)
class EpochConfig:
    server: ServerConfig
    zookeeper: ZooKeeperConfig
    drove: DroveConfig
    auth: AuthConfig
    notify: NotifyConfig
    options: OptionsConfig
    routing: RoutingConfig
    logging_level: str
    logger_levels: Mapping[str, str]
    node_name: str
    advertise_url: str
    secret_key: str
    database_url: str | None
    db_path: Path
    data_dir: Path
    debug: bool
    config_path: Path

    @property
    def embedded(self) -> bool:
        return self.zookeeper.embedded


def load_config(environ: Mapping[str, str] | None = None) -> EpochConfig:
    """Read the config file named by ``CONFIG_FILE_PATH`` (else the built-in one) and the environment."""
    env = _with_password_aliases(dict(os.environ if environ is None else environ))
    path = _config_path(env)
    reader = Reader(_parse_yaml(substitute_env(_read_text(path), env), path))
    config = _build(reader, env, path)
    reader.warn_unknown_keys()
    return config


def substitute_env(text: str, env: Mapping[str, str]) -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}``; ``$${VAR}`` stays a literal ``${VAR}``."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(0)[1:]
        name, default = match.group(2), match.group(4)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise ConfigError(f"${{{name}}}: environment variable {name} is not set and has no default")

    return re.sub(r"(\$)?\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", replace, text)


def _with_password_aliases(env: dict[str, str]) -> dict[str, str]:
    # The original's entry point exported ADMIN_PASSWORD/GUEST_PASSWORD under these names.
    if "ADMIN_PASSWORD" in env:
        env.setdefault("EPOCH_ADMIN_PASSWORD", env["ADMIN_PASSWORD"])
    if "GUEST_PASSWORD" in env:
        env.setdefault("EPOCH_GUEST_PASSWORD", env["GUEST_PASSWORD"])
    return env


def _config_path(env: Mapping[str, str]) -> Path:
    given = env.get("CONFIG_FILE_PATH")
    if not given:
        return DEFAULT_CONFIG_PATH
    path = Path(given)
    if not path.is_file():
        raise ConfigError(f"CONFIG_FILE_PATH: config file '{given}' does not exist")
    return path


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"CONFIG_FILE_PATH: cannot read '{path}': {error}") from error


def _parse_yaml(text: str, path: Path) -> dict[str, Any]:
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"CONFIG_FILE_PATH: '{path}' is not valid YAML: {error}") from error
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        raise ConfigError(f"CONFIG_FILE_PATH: '{path}' must hold a mapping of keys")
    return tree


def _build(reader: Reader, env: Mapping[str, str], path: Path) -> EpochConfig:
    reader.accept_any("server", "metrics", "logging.appenders", "userAuth.cachingPolicy")
    server = _server(reader)
    zookeeper = _zookeeper(reader)
    data_dir = Path(env.get("EPOCH_DATA_DIR") or BASE_DIR / "data")
    auth = _auth(reader, env)
    return EpochConfig(
        server=server,
        zookeeper=zookeeper,
        drove=_drove(reader, env, zookeeper.embedded),
        auth=auth,
        notify=_notify(reader),
        options=_options(reader, env),
        routing=_routing(reader),
        logging_level=_log_level(reader.text("logging.level", "INFO") or "INFO", "logging.level"),
        logger_levels=_logger_levels(reader),
        node_name=env.get("EPOCH_NODE_NAME") or env.get("HOST") or socket.gethostname(),
        advertise_url=_advertise_url(env, server.app_port),
        secret_key=_secret_key(reader, env, zookeeper, auth, data_dir),
        database_url=env.get("DATABASE_URL") or None,
        db_path=Path(env.get("EPOCH_DB_PATH") or data_dir / "epoch.sqlite3"),
        data_dir=data_dir,
        debug=env.get("DEBUG", "0").strip() not in ("", "0"),
        config_path=path,
    )


def _server(reader: Reader) -> ServerConfig:
    return ServerConfig(
        app_port=_connector_port(reader, "applicationConnectors", 8080),
        admin_port=_connector_port(reader, "adminConnectors", 8081),
    )


def _connector_port(reader: Reader, name: str, default: int) -> int:
    connectors = reader.raw(f"server.{name}")
    if connectors is None:
        return default
    key = f"server.{name}[0].port"
    if not isinstance(connectors, list) or not connectors or not isinstance(connectors[0], dict):
        raise ConfigError(f"server.{name}: expected a list of connectors with a port")
    port = connectors[0].get("port", default)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError(f"{key}: expected a port number 1-65535, got {port!r}")
    return port


def _zookeeper(reader: Reader) -> ZooKeeperConfig:
    connection = (reader.text("zookeeper.connectionString") or "").strip() or None
    if connection is not None and not ZK_CONNECTION_PATTERN.fullmatch(connection):
        raise ConfigError(
            f"zookeeper.connectionString: '{connection}' is not a ZooKeeper connection string "
            "such as 'zk1:2181,zk2:2181' or 'zk1:2181/chroot'"
        )
    namespace = reader.text("zookeeper.nameSpace", "epoch") or "epoch"
    if not APP_NAME_PATTERN.fullmatch(namespace):
        raise ConfigError(f"zookeeper.nameSpace: '{namespace}' must match [a-zA-Z0-9_-]+")
    timeout = reader.duration("zookeeper.sessionTimeout", Duration(10, "seconds"))
    return ZooKeeperConfig(connection, namespace, timeout)


def _drove(reader: Reader, env: Mapping[str, str], embedded: bool) -> DroveConfig:
    endpoints = _drove_endpoints(reader)
    simulator_port = None
    if not endpoints:
        if not embedded:
            raise ConfigError(
                "drove.endpoints: at least one Drove endpoint is required "
                "(set DROVE_ENDPOINT, or drove.endpoints in the config file)"
            )
        simulator_port = _int_env(env, "EPOCH_SIMULATOR_PORT", DEFAULT_SIMULATOR_PORT)
        endpoints = (f"http://127.0.0.1:{simulator_port}",)
    username = reader.text("drove.username") or None
    password = reader.text("drove.password") or None
    retry_count = reader.integer("drove.rpcRetryCount", 10, minimum=0) or 10
    retry_interval = _duration_env(env, "EPOCH_DROVE_RETRY_INTERVAL", "drove.rpcRetryInterval")
    return DroveConfig(
        endpoints=endpoints,
        app_name=_app_name(reader, env, embedded),
        embedded_simulator_port=simulator_port,
        insecure=reader.flag("drove.insecure", False),
        check_interval=reader.duration("drove.checkInterval", Duration(1, "seconds")),
        connection_timeout=reader.duration("drove.connectionTimeout", Duration(1, "seconds")),
        operation_timeout=reader.duration("drove.operationTimeout", Duration(1, "seconds")),
        username=username if username and password else None,
        password=password if username and password else None,
        rpc_retry_count=retry_count,
        rpc_retry_interval=retry_interval
        or reader.duration("drove.rpcRetryInterval", Duration(3, "seconds")),
        cluster_op_spec=_cluster_op_spec(reader),
    )


def _drove_endpoints(reader: Reader) -> tuple[str, ...]:
    raw = reader.raw("drove.endpoints")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError("drove.endpoints: expected a list of Drove URLs")
    # DROVE_ENDPOINT may list several endpoints, comma-separated, inside one entry.
    parts = [part.strip() for item in raw for part in str(item or "").split(",")]
    return tuple(_drove_url(part) for part in parts if part)


def _drove_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"drove.endpoints: '{text}' is not an http(s) URL such as http://drove:4000"
        )
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError as error:
        raise ConfigError(f"drove.endpoints: '{text}' has an invalid port") from error
    return text.rstrip("/")


def _app_name(reader: Reader, env: Mapping[str, str], embedded: bool) -> str:
    name = (
        env.get("DROVE_APP_NAME") or reader.text("drove.appName") or ("epoch" if embedded else "")
    )
    if not name:
        raise ConfigError(
            "DROVE_APP_NAME: required (Drove injects it); it names Epoch's tasks on Drove"
        )
    if not APP_NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"DROVE_APP_NAME: '{name}' must match [a-zA-Z0-9_-]+")
    return name


def _cluster_op_spec(reader: Reader) -> dict[str, Any]:
    timeout = reader.duration("drove.clusterOpSpec.timeout", Duration(300, "seconds"))
    parallelism = reader.integer("drove.clusterOpSpec.parallelism", 1, minimum=1)
    strategy = (reader.text("drove.clusterOpSpec.failureStrategy", "STOP") or "STOP").upper()
    if strategy not in ("STOP", "ROLLBACK"):
        raise ConfigError(
            f"drove.clusterOpSpec.failureStrategy: '{strategy}' must be STOP or ROLLBACK"
        )
    return {"timeout": str(timeout), "parallelism": parallelism, "failureStrategy": strategy}


def _auth(reader: Reader, env: Mapping[str, str]) -> AuthConfig:
    if reader.raw("userAuth") is None:
        return AuthConfig(enabled=False)
    enabled = reader.flag("userAuth.enabled", False)
    raw_users = reader.raw("userAuth.users") or []
    if not isinstance(raw_users, list):
        raise ConfigError("userAuth.users: expected a list of {username, password, role}")
    users = [_user(item, index) for index, item in enumerate(raw_users)]
    names = {user.username for user in users}
    # ADMIN_PASSWORD / GUEST_PASSWORD add the two standard users to a config that lacks them;
    # a config that leaves them out and sets neither variable gets no such users.
    for username, role in (("admin", "READ_WRITE"), ("guest", "READ_ONLY")):
        password = env.get(f"EPOCH_{username.upper()}_PASSWORD")
        if enabled and password and username not in names:
            users.append(UserSpec(username, password, role))
    return AuthConfig(enabled=enabled, users=tuple(users))


def _user(item: object, index: int) -> UserSpec:
    key = f"userAuth.users[{index}]"
    if not isinstance(item, dict):
        raise ConfigError(f"{key}: expected {{username, password, role}}")
    username, password = item.get("username"), item.get("password")
    for name, value in (("username", username), ("password", password)):
        if not isinstance(value, str | int) or not 1 <= len(str(value)) <= 255:
            raise ConfigError(f"{key}.{name}: must be 1-255 characters")
    role = str(item.get("role", "")).upper()
    if role not in ROLES:
        raise ConfigError(f"{key}.role: '{item.get('role')}' must be READ_WRITE or READ_ONLY")
    return UserSpec(str(username), str(password), role)


def _notify(reader: Reader) -> NotifyConfig:
    if reader.raw("notify") is None:
        return NotifyConfig()
    kind = (reader.text("notify.type", "BLACKHOLE") or "BLACKHOLE").upper()
    if kind not in ("MAIL", "BLACKHOLE"):
        raise ConfigError(f"notify.type: '{kind}' must be MAIL or BLACKHOLE")
    config = NotifyConfig(
        type=kind,
        smtp_server=reader.text("notify.smtpServer"),
        port=reader.integer("notify.port", 25, minimum=0) or 25,
        tls=reader.flag("notify.tls", False),
        username=reader.text("notify.username"),
        password=reader.text("notify.password"),
        default_emails=tuple(reader.str_list("notify.defaultEmails")),
        from_name=reader.text("notify.fromName"),
        from_address=reader.text("notify.fromAddress"),
        disable_for_successful_runs=reader.flag("notify.disableForSuccessfulRuns", False),
    )
    if kind == "MAIL" and not config.smtp_server:
        raise ConfigError("notify.smtpServer: required when notify.type is MAIL")
    if kind == "MAIL" and not config.from_address:
        raise ConfigError("notify.fromAddress: required when notify.type is MAIL")
    return config


def _options(reader: Reader, env: Mapping[str, str]) -> OptionsConfig:
    defaults = OptionsConfig()
    runs = _int_env(env, "EPOCH_RUNS_PER_JOB", None)
    if runs is None:
        runs = reader.integer("options.numRunsPerJob", 5, minimum=0)
    return OptionsConfig(
        cleanup_job_interval=_duration_env(
            env, "EPOCH_CLEANUP_INTERVAL", "options.cleanupJobInterval"
        )
        or reader.duration("options.cleanupJobInterval", defaults.cleanup_job_interval),
        num_runs_per_job=runs or 5,
        time_zone=_time_zone(reader.text("options.timeZone"), env),
        missing_task_timeout=reader.duration(
            "options.missingTaskTimeout", defaults.missing_task_timeout
        ),
        misfire_grace_period=reader.duration(
            "options.misfireGracePeriod", defaults.misfire_grace_period
        ),
        task_poll_interval=_duration_env(
            env, "EPOCH_TASK_POLL_INTERVAL", "options.taskPollInterval"
        )
        or reader.duration("options.taskPollInterval", defaults.task_poll_interval),
    )


def _routing(reader: Reader) -> RoutingConfig:
    return RoutingConfig(
        connect_timeout=reader.duration("routing.connectTimeout", Duration(2, "seconds")),
        read_timeout=reader.duration("routing.readTimeout", Duration(30, "seconds")),
    )


def _time_zone(configured: str | None, env: Mapping[str, str]) -> str:
    if configured:
        return _checked_zone(configured, "options.timeZone")
    if env.get("TZ"):
        return _checked_zone(env["TZ"].lstrip(":"), "TZ")
    return _system_zone()


def _checked_zone(name: str, key: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(
            f"{key}: '{name}' is not an IANA time zone such as Europe/London"
        ) from error
    return name


def _system_zone() -> str:
    timezone_file = Path("/etc/timezone")
    if timezone_file.is_file():
        name = timezone_file.read_text(encoding="utf-8").strip()
        if name:
            return _checked_zone(name, "/etc/timezone")
    localtime = Path("/etc/localtime")
    if localtime.is_symlink() and "zoneinfo/" in str(localtime.readlink()):
        return str(localtime.readlink()).split("zoneinfo/", 1)[1]
    return "UTC"


def _log_level(level: str, key: str) -> str:
    level = level.upper()
    if level not in ("TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "OFF", "ALL"):
        raise ConfigError(f"{key}: '{level}' is not a log level (DEBUG, INFO, WARN, ERROR)")
    return {"TRACE": "DEBUG", "ALL": "DEBUG", "WARN": "WARNING", "OFF": "CRITICAL"}.get(
        level, level
    )


def _logger_levels(reader: Reader) -> dict[str, str]:
    loggers = reader.raw("logging.loggers") or {}
    if not isinstance(loggers, dict):
        raise ConfigError("logging.loggers: expected a mapping of logger name to level")
    levels = {}
    for name, value in loggers.items():
        level = value.get("level") if isinstance(value, dict) else value
        levels[str(name)] = _log_level(str(level), f"logging.loggers.{name}")
    return levels


def _advertise_url(env: Mapping[str, str], app_port: int) -> str:
    given = env.get("EPOCH_ADVERTISE_URL")
    if given:
        parts = urlsplit(given)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"EPOCH_ADVERTISE_URL: '{given}' is not an http(s) URL")
        return given.rstrip("/")
    port_key = f"PORT_{app_port}"
    port_text = env.get(port_key, str(app_port))
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"{port_key}: '{port_text}' is not a port number")
    host = env.get("HOST") or socket.getfqdn()
    return f"http://{host}:{int(port_text)}"


def _secret_key(
    reader: Reader,
    env: Mapping[str, str],
    zookeeper: ZooKeeperConfig,
    auth: AuthConfig,
    data_dir: Path,
) -> str:
    given = env.get("EPOCH_SECRET_KEY") or reader.text("security.secretKey")
    if given:
        return given
    if zookeeper.embedded:
        return _stored_secret(data_dir / "secret_key")
    log.warning(
        "No EPOCH_SECRET_KEY set: deriving the session key from the cluster configuration; "
        "set EPOCH_SECRET_KEY to the same random value on every node"
    )
    material = [zookeeper.connection_string or "", zookeeper.namespace]
    material += [f"{u.username}:{u.password}:{u.role}" for u in auth.users]
    return hashlib.sha256("\n".join(material).encode()).hexdigest()


def _stored_secret(path: Path) -> str:
    # A single node keeps one random key across restarts so that logins survive them.
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key, encoding="utf-8")
    path.chmod(0o600)
    return key


def _int_env(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    text = env.get(name)
    if not text:
        return default
    if not text.strip().isdigit():
        raise ConfigError(f"{name}: '{text}' is not a whole number")
    return int(text)


def _duration_env(env: Mapping[str, str], name: str, key: str) -> Duration | None:
    text = env.get(name)
    if not text:
        return None
    try:
        return Duration.parse(text)
    except ValueError as error:
        raise ConfigError(f"{name} ({key}): {error}") from error
