from __future__ import annotations

from pathlib import Path

import pytest

from epoch_site.config import ConfigError, load_config, substitute_env
from epoch_site.durations import Duration

ORIGINAL_CONFIG = """
server:
  applicationConnectors:
    - type: http
      port: 8080
  adminConnectors:
    - type: http
      port: 8081
  applicationContextPath: /
  requestLog:
    appenders: []
logging:
  level: INFO
  loggers:
    com.phonepe.epoch: DEBUG
  appenders:
    - type: console
      threshold: ALL
metrics:
  frequency: 1 minute
zookeeper:
  connectionString: ${ZK_CONNECTION_STRING}
  nameSpace: epoch
drove:
  endpoints:
    - http://drove1.local:4000
    - http://drove2.local:4000/
  username: ${DROVE_USERNAME:-admin}
  password: ${DROVE_PASSWORD:-password}
  rpcRetryCount: 3
  rpcRetryInterval: 10ms
userAuth:
  enabled: true
  users:
    - username: ops
      password: s3cret
      role: read_write
  cachingPolicy: maximumSize=500, expireAfterAccess=30m
notify:
  type: MAIL
  smtpServer: smtp.local
  port: 2525
  fromAddress: epoch@example.com
  defaultEmails: [ops@example.com]
options:
  cleanupJobInterval: 30m
  numRunsPerJob: 20
"""


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    base = {"EPOCH_DATA_DIR": str(tmp_path / "data"), "HOST": "node1.local"}
    return {**base, **values}


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return str(path)


class TestEmbeddedDefault:
    def test_no_zookeeper_means_embedded_single_node(self, tmp_path: Path) -> None:
        config = load_config(env(tmp_path))
        assert config.embedded
        assert config.zookeeper.connection_string is None
        assert config.server.app_port == 8080
        assert config.server.admin_port == 8081

    def test_without_drove_endpoint_uses_the_built_in_simulator(self, tmp_path: Path) -> None:
        config = load_config(env(tmp_path))
        assert config.drove.embedded_simulator_port == 7070
        assert config.drove.endpoints == ("http://127.0.0.1:7070",)
        assert config.drove.app_name == "epoch"

    def test_default_users_are_admin_and_guest(self, tmp_path: Path) -> None:
        users = {u.username: u for u in load_config(env(tmp_path)).auth.users}
        assert (users["admin"].password, users["admin"].role) == ("admin", "READ_WRITE")
        assert (users["guest"].password, users["guest"].role) == ("guest", "READ_ONLY")

    def test_admin_and_guest_passwords_come_from_the_environment(self, tmp_path: Path) -> None:
        config = load_config(env(tmp_path, ADMIN_PASSWORD="s3cret", GUEST_PASSWORD="look"))
        users = {u.username: u.password for u in config.auth.users}
        assert users == {"admin": "s3cret", "guest": "look"}

    def test_built_in_retention_options_match_the_original_image(self, tmp_path: Path) -> None:
        options = load_config(env(tmp_path)).options
        assert options.cleanup_job_interval == Duration(30, "minutes")
        assert options.num_runs_per_job == 20

    def test_secret_key_is_kept_across_restarts(self, tmp_path: Path) -> None:
        first = load_config(env(tmp_path)).secret_key
        assert len(first) >= 40
        assert load_config(env(tmp_path)).secret_key == first

    def test_ports_can_be_moved_for_several_nodes_on_one_host(self, tmp_path: Path) -> None:
        config = load_config(env(tmp_path, EPOCH_PORT="9000", EPOCH_ADMIN_PORT="9001"))
        assert (config.server.app_port, config.server.admin_port) == (9000, 9001)


class TestClusterMode:
    def cluster_env(self, tmp_path: Path, **values: str) -> dict[str, str]:
        base = {
            "ZK_CONNECTION_STRING": "zk1:2181,zk2:2181/epoch-prod",
            "DROVE_ENDPOINT": "http://drove-a:4000,http://drove-b:4000",
            "DROVE_APP_NAME": "epoch-1",
        }
        return env(tmp_path, **{**base, **values})

    def test_comma_separated_drove_endpoints(self, tmp_path: Path) -> None:
        config = load_config(self.cluster_env(tmp_path))
        assert not config.embedded
        assert config.drove.endpoints == ("http://drove-a:4000", "http://drove-b:4000")
        assert config.drove.embedded_simulator_port is None
        assert (config.drove.username, config.drove.password) == ("admin", "password")

    def test_advertise_url_uses_drove_port_mapping(self, tmp_path: Path) -> None:
        config = load_config(self.cluster_env(tmp_path, PORT_8080="31234"))
        assert config.advertise_url == "http://node1.local:31234"

    def test_advertise_url_defaults_to_host_and_app_port(self, tmp_path: Path) -> None:
        assert load_config(self.cluster_env(tmp_path)).advertise_url == "http://node1.local:8080"

    def test_explicit_advertise_url_wins(self, tmp_path: Path) -> None:
        config = load_config(self.cluster_env(tmp_path, EPOCH_ADVERTISE_URL="https://e1:443/"))
        assert config.advertise_url == "https://e1:443"

    def test_derived_secret_key_is_the_same_on_every_node(self, tmp_path: Path) -> None:
        first = load_config(self.cluster_env(tmp_path / "a")).secret_key
        second = load_config(self.cluster_env(tmp_path / "b", HOST="node2")).secret_key
        assert first == second

    def test_explicit_secret_key(self, tmp_path: Path) -> None:
        config = load_config(self.cluster_env(tmp_path, EPOCH_SECRET_KEY="shared-by-all"))
        assert config.secret_key == "shared-by-all"


class TestOriginalConfigFile:
    def test_original_file_loads_unchanged(self, tmp_path: Path) -> None:
        path = write_config(tmp_path, ORIGINAL_CONFIG)
        config = load_config(
            env(tmp_path, CONFIG_FILE_PATH=path, ZK_CONNECTION_STRING="zk:2181", DROVE_APP_NAME="e")
        )
        assert config.zookeeper.connection_string == "zk:2181"
        assert config.drove.endpoints == ("http://drove1.local:4000", "http://drove2.local:4000")
        assert config.drove.rpc_retry_count == 3
        assert config.drove.rpc_retry_interval == Duration(10, "milliseconds")
        assert config.notify.type == "MAIL"
        assert config.notify.port == 2525
        assert config.notify.default_emails == ("ops@example.com",)
        assert config.options.cleanup_job_interval == Duration(30, "minutes")
        assert config.logger_levels == {"com.phonepe.epoch": "DEBUG"}

    def test_users_of_the_file_with_role_in_any_case(self, tmp_path: Path) -> None:
        path = write_config(tmp_path, ORIGINAL_CONFIG)
        config = load_config(
            env(tmp_path, CONFIG_FILE_PATH=path, ZK_CONNECTION_STRING="zk:2181", DROVE_APP_NAME="e")
        )
        assert [(u.username, u.role) for u in config.auth.users] == [("ops", "READ_WRITE")]

    def test_drove_endpoint_not_needed_with_an_injected_config(self, tmp_path: Path) -> None:
        path = write_config(tmp_path, ORIGINAL_CONFIG)
        config = load_config(
            env(tmp_path, CONFIG_FILE_PATH=path, ZK_CONNECTION_STRING="zk:2181", DROVE_APP_NAME="e")
        )
        assert "DROVE_ENDPOINT" not in config.config_path.read_text()
        assert config.drove.endpoints

    def test_unknown_keys_are_warned_about_not_fatal(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        path = write_config(tmp_path, "zookeeper: {}\nsurprise:\n  deep: 1\noptions:\n  oops: 2\n")
        load_config(env(tmp_path, CONFIG_FILE_PATH=path))
        assert "surprise" in caplog.text
        assert "options.oops" in caplog.text

    def test_user_auth_block_absent_disables_authentication(self, tmp_path: Path) -> None:
        path = write_config(tmp_path, "logging:\n  level: INFO\n")
        assert not load_config(env(tmp_path, CONFIG_FILE_PATH=path)).auth.enabled

    def test_environment_overrides_for_operational_knobs(self, tmp_path: Path) -> None:
        config = load_config(
            env(
                tmp_path,
                EPOCH_CLEANUP_INTERVAL="2 seconds",
                EPOCH_RUNS_PER_JOB="7",
                EPOCH_TASK_POLL_INTERVAL="500ms",
                EPOCH_DROVE_RETRY_INTERVAL="10ms",
            )
        )
        assert config.options.cleanup_job_interval == Duration(2, "seconds")
        assert config.options.num_runs_per_job == 7
        assert config.options.task_poll_interval == Duration(500, "milliseconds")
        assert config.drove.rpc_retry_interval == Duration(10, "milliseconds")


class TestSubstitution:
    def test_variable_default_and_literal(self) -> None:
        text = "a: ${ZK}\nb: ${X:-d}\nc: $${ZK}"
        assert substitute_env(text, {"ZK": "zk:2181"}) == "a: zk:2181\nb: d\nc: ${ZK}"

    def test_undefined_variable_without_default_names_it(self) -> None:
        with pytest.raises(ConfigError, match=r"\$\{Y\}: environment variable Y is not set"):
            substitute_env("a: ${Y}", {})


class TestBadConfiguration:
    @pytest.mark.parametrize(
        ("values", "message"),
        [
            ({"CONFIG_FILE_PATH": "/nonexistent/epoch.yml"}, "CONFIG_FILE_PATH: config file"),
            ({"ZK_CONNECTION_STRING": "zk 1:2181"}, "zookeeper.connectionString: 'zk 1:2181'"),
            ({"ZK_CONNECTION_STRING": "zk:port"}, "zookeeper.connectionString"),
            ({"DROVE_ENDPOINT": "drove:4000"}, "drove.endpoints: 'drove:4000' is not an http"),
            ({"DROVE_ENDPOINT": "ftp://drove"}, "drove.endpoints: 'ftp://drove'"),
            ({"PORT_8080": "abc"}, "PORT_8080: 'abc' is not a port"),
            ({"DROVE_APP_NAME": "epoch.test"}, "DROVE_APP_NAME: 'epoch.test' must match"),
            (
                {"ZK_CONNECTION_STRING": "zk:2181", "DROVE_ENDPOINT": "http://d"},
                "DROVE_APP_NAME: required",
            ),
            (
                {"ZK_CONNECTION_STRING": "zk:2181", "DROVE_APP_NAME": "e"},
                "drove.endpoints: at least one",
            ),
            ({"EPOCH_RUNS_PER_JOB": "many"}, "EPOCH_RUNS_PER_JOB: 'many' is not a whole number"),
            (
                {"EPOCH_CLEANUP_INTERVAL": "30"},
                "EPOCH_CLEANUP_INTERVAL (options.cleanupJobInterval)",
            ),
            ({"TZ": "Mars/Olympus"}, "TZ: 'Mars/Olympus' is not an IANA time zone"),
            ({"EPOCH_ADVERTISE_URL": "node1:8080"}, "EPOCH_ADVERTISE_URL"),
        ],
    )
    def test_bad_environment_names_the_key(
        self, tmp_path: Path, values: dict[str, str], message: str
    ) -> None:
        with pytest.raises(ConfigError) as error:
            load_config(env(tmp_path, **values))
        assert message in str(error.value)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("options:\n  numRunsPerJob: lots\n", "options.numRunsPerJob: expected a whole number"),
            (
                "options:\n  cleanupJobInterval: 30\n",
                "options.cleanupJobInterval: expected a duration",
            ),
            ("drove:\n  insecure: maybe\n", "drove.insecure: expected true or false"),
            ("drove:\n  endpoints: http://x\n", "drove.endpoints: expected a list"),
            (
                "userAuth:\n  enabled: true\n  users:\n    - {username: a, password: b, role: GOD}\n",
                "userAuth.users[0].role: 'GOD'",
            ),
            ("notify:\n  type: MAIL\n", "notify.smtpServer: required"),
            ("notify:\n  type: PIGEON\n", "notify.type: 'PIGEON'"),
            (
                "server:\n  applicationConnectors:\n    - port: 99999\n",
                "server.applicationConnectors[0].port",
            ),
            ("logging:\n  level: LOUD\n", "logging.level: 'LOUD'"),
            ("zookeeper: [1, 2\n", "is not valid YAML"),
            ("- just\n- a list\n", "must hold a mapping"),
        ],
    )
    def test_bad_file_names_the_key(self, tmp_path: Path, text: str, message: str) -> None:
        path = write_config(tmp_path, text)
        with pytest.raises(ConfigError) as error:
            load_config(env(tmp_path, CONFIG_FILE_PATH=path))
        assert message in str(error.value)
