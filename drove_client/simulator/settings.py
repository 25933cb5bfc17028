"""The simulated cluster's knobs: timing, capacity, users and the switches for older Drove builds.

``SimSettings`` is deliberately mutable: the control interface flips switches (maintenance, the
delete storage error, Drove 1.30 behaviour) while the simulator runs. Times are in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Drove's user roles: config name -> role string.
ROLES = {
    "EXTERNAL_ROOT": "DROVE_EXTERNAL_ROOT",
    "EXTERNAL_READ_WRITE": "DROVE_EXTERNAL_READ_WRITE",
    "EXTERNAL_READ_ONLY": "DROVE_EXTERNAL_READ_ONLY",
    "DROVE_EXTERNAL_MAINTENANCE": "DROVE_EXTERNAL_MAINTENANCE",
}
# Roles allowed to run task operations (CREATE and KILL).
OPERATION_ROLES = frozenset({"EXTERNAL_ROOT", "EXTERNAL_READ_WRITE"})

OUTCOMES = (
    "success",
    "fail",
    "pull-failure",
    "start-failure",
    "vanish",
    "lost",
    "never-scheduled",
)


@dataclass(frozen=True)
class SimUser:
    username: str
    password: str
    role: str = "EXTERNAL_ROOT"  # a key of ROLES

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown Drove role {self.role!r}; expected one of {sorted(ROLES)}")

    @classmethod
    def parse(cls, text: str) -> SimUser:
        """``name:password[:ROLE]`` as given on the command line (role defaults to root)."""
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise ValueError(f"expected name:password[:ROLE], got {text!r}")
        return cls(*parts)


@dataclass
class SimSettings:
    # Timing: executors report each state change after step_s; the run itself lasts run_s.
    step_s: float = 0.2
    first_report_s: float | None = None  # delay of the first report after CREATE (None: step_s)
    run_s: float = 1.0  # default time in RUNNING (env DROVE_SIM_DURATION overrides per task)
    snapshot_s: float = 1.0  # "updated" refresh while RUNNING (Drove: every 20 s)
    report_pending: bool = False  # report PENDING before PROVISIONING
    default_outcome: str = "success"
    # Cluster size and policies (engine checks, drove-api.md §4.1).
    cpus: int = 12
    memory_mb: int = 65536
    numa_cores: int | None = None  # cores per NUMA node (None: one node with every core)
    executor_tags: frozenset[str] = frozenset()
    mount_whitelist: tuple[str, ...] | None = None  # None: any host directory may be mounted
    args_enabled: bool = True
    devices_enabled: bool = False
    # Switches: current Drove by default, the Drove 1.30 behaviour when flipped.
    placement_required: bool = True  # missing placementPolicy -> 500 (1.30: accepted as ANY)
    run_failed_state: bool = True  # start failures end RUN_FAILED (1.30: RUN_COMPLETED)
    validation_status: int = 400  # 422: answer validation failures as {"errors": [...]}
    delete_fails: bool = False  # DELETE answers the storage-error envelope
    maintenance: bool = False
    deployed_apps: frozenset[str] | None = None  # None: every source app counts as deployed
    # Retention of finished records (Drove: 2 days, checked hourly).
    retention_age_s: float = 2 * 24 * 3600.0
    retention_interval_s: float = 3600.0
    # Users: empty means authentication is off (everyone is root, credentials ignored).
    users: dict[str, SimUser] = field(default_factory=dict)
    max_logged_requests: int = 10_000

    @property
    def first_report_delay_s(self) -> float:
        return self.step_s if self.first_report_s is None else self.first_report_s

    @property
    def cores_per_node(self) -> int:
        return max(1, min(self.numa_cores or self.cpus, self.cpus)) if self.cpus > 0 else 1

    def add_users(self, *users: SimUser) -> None:
        for user in users:
            self.users[user.username] = user
