"""Worker configuration, read once from the environment. The variables are plugin-host's (same names,
defaults and bounds), so one .env serves both; SB_WORKER_GROUP is the one Python addition."""
from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from typing import Final, Mapping

from . import protocol

DEFAULT_UNKNOWN_COMMAND_REPLY: Final = "Unknown command {prefix}{command}. Send {prefix}help to see what I can do."
_GROUP_RE = re.compile(r"[a-z0-9]{1,16}\Z")
_INSTANCE_RE = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


class ConfigError(Exception):
    """HOST_BAD_CONFIG: lists every problem."""

    code = "HOST_BAD_CONFIG"

    def __init__(self, problems: list[str]):
        super().__init__("invalid worker configuration: " + "; ".join(problems))
        self.problems = problems


@dataclass
class WorkerConfig:
    bot: str = "bot"
    instance: str = field(default_factory=lambda: f"py-{re.sub(r'[^A-Za-z0-9_-]', '-', socket.gethostname())[:40]}-{os.getpid()}")
    servers: list[str] = field(default_factory=lambda: ["nats://127.0.0.1:4222"])
    creds_file: str | None = None
    user: str | None = None
    password: str | None = None
    token: str | None = None
    partitions: int = protocol.DEFAULT_PARTITIONS
    group: str | None = None
    """None: join plugin-host's own consumers (sb_host_<bot>_p<n>); the worker is one more member of
    that fleet and must serve the same plugins. A name ([a-z0-9]{1,16}): a fleet of its own with its
    own consumers (sb_group_<group>_<bot>_p<n>) that sees every event, beside plugin-host."""
    concurrency: int | None = None
    """Events in flight at once per worker; None = ``partitions`` (a lone worker owns them all), as plugin-host."""
    handler_timeout_ms: int = 10_000
    ack_wait_ms: int = 30_000
    max_deliver: int = 5
    backoff_ms: list[int] = field(default_factory=lambda: [1_000, 5_000, 15_000, 30_000])
    shutdown_grace_ms: int = 10_000
    admins: list[str] = field(default_factory=list)
    command_prefix: str = "/"
    unknown_command_reply: str | None = None
    """None: plugin-host's default text when group is None, disabled ("") in a group of its own."""
    plugins_enabled_by_default: bool = True
    fetch_timeout_ms: int = 2_000
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    """/healthz, /readyz, /metrics; None = no HTTP (from_env: PLUGIN_HOST_HTTP_PORT, default 9102, 0 = any free port)."""
    partition_ownership: bool = True
    """Split the partitions with the other workers of the consumer set (PROTOCOL.md §6.2.1): announce
    this worker on ``sb.plugin-host.<bot>.presence.<set>`` (set ``host`` without a group, else the group)
    and pull only the partitions it owns. False: pull every partition (the old behaviour)."""
    presence_interval_ms: int = protocol.DEFAULT_PRESENCE_INTERVAL_MS
    """How often this worker announces itself (100..60000 ms); it counts as gone after 3 silent intervals."""

    def __post_init__(self) -> None:
        if self.concurrency is None and isinstance(self.partitions, int) and not isinstance(self.partitions, bool):
            self.concurrency = min(max(self.partitions, 1), 1024)
        self.validate()

    @property
    def consumer_set(self) -> str:
        """The presence set of this worker: ``host`` (plugin-host's consumers) or its group."""
        return protocol.HOST_CONSUMER_SET if self.group is None else self.group

    @property
    def router_reply(self) -> str:
        if self.unknown_command_reply is not None:
            return self.unknown_command_reply
        return DEFAULT_UNKNOWN_COMMAND_REPLY if self.group is None else ""

    def validate(self) -> None:
        p: list[str] = []
        if not protocol.is_bot_name(self.bot):
            p.append(f"SB_BOT must match {protocol.BOT_NAME_PATTERN}")
        if not isinstance(self.instance, str) or not _INSTANCE_RE.match(self.instance):
            p.append("PLUGIN_HOST_INSTANCE must match [A-Za-z0-9_-]{1,64}")
        if not isinstance(self.servers, list) or not self.servers or not all(isinstance(s, str) and s for s in self.servers):
            p.append("NATS_URL must list at least one server")
        if self.group is not None and (not isinstance(self.group, str) or not _GROUP_RE.match(self.group)):
            p.append("SB_WORKER_GROUP must match [a-z0-9]{1,16}")
        elif self.group == protocol.HOST_CONSUMER_SET:
            p.append("SB_WORKER_GROUP must not be host (the presence set of plugin-host's own consumers)")
        for name, v, lo, hi in (("SB_PARTITIONS", self.partitions, 1, protocol.MAX_PARTITIONS),
                                ("PLUGIN_HOST_CONCURRENCY", self.concurrency, 1, 1024),
                                ("PLUGIN_HOST_HANDLER_TIMEOUT_MS", self.handler_timeout_ms, 10, 3_600_000),
                                ("PLUGIN_HOST_ACK_WAIT_MS", self.ack_wait_ms, 1_000, 3_600_000),
                                ("PLUGIN_HOST_MAX_DELIVER", self.max_deliver, 1, 100),
                                ("PLUGIN_HOST_SHUTDOWN_GRACE_MS", self.shutdown_grace_ms, 0, 600_000),
                                ("SB_FETCH_TIMEOUT_MS", self.fetch_timeout_ms, 100, 60_000),
                                ("PLUGIN_HOST_PRESENCE_INTERVAL_MS", self.presence_interval_ms, 100, 60_000)):
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                p.append(f"{name} must be an integer {lo}..{hi}")
        if (not isinstance(self.backoff_ms, list) or not self.backoff_ms or len(self.backoff_ms) > 100
                or not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 3_600_000 for b in self.backoff_ms)):
            p.append("PLUGIN_HOST_BACKOFF_MS must be 1..100 comma-separated integers 0..3600000")
        if not isinstance(self.admins, list) or not all(isinstance(a, str) and re.match(r"05[0-9a-f]{64}\Z", a) for a in self.admins):
            p.append("PLUGIN_HOST_ADMINS must be Session IDs (05 + 64 lowercase hex)")
        if not isinstance(self.partition_ownership, bool):
            p.append("PLUGIN_HOST_PARTITION_OWNERSHIP must be true or false")
        if self.http_port is not None and (not isinstance(self.http_port, int) or not 0 <= self.http_port <= 65535):
            p.append("PLUGIN_HOST_HTTP_PORT must be an integer 0..65535")
        if not isinstance(self.command_prefix, str) or not re.match(r"\S{1,4}\Z", self.command_prefix):
            p.append("PLUGIN_HOST_COMMAND_PREFIX must be 1..4 non-space characters")
        if self.unknown_command_reply is not None and (not isinstance(self.unknown_command_reply, str) or len(self.unknown_command_reply) > 1_000):
            p.append("PLUGIN_HOST_UNKNOWN_COMMAND_REPLY must be at most 1000 characters")
        if not p and self.handler_timeout_ms >= self.ack_wait_ms:
            p.append("PLUGIN_HOST_HANDLER_TIMEOUT_MS must be below PLUGIN_HOST_ACK_WAIT_MS (or a slow handler's event is redelivered while it runs)")
        if p:
            raise ConfigError(p)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerConfig:
        env = os.environ if env is None else env
        problems: list[str] = []

        def s(name: str) -> str | None:
            v = env.get(name)
            return None if v is None or v == "" else v

        def secret(name: str) -> str | None:
            f = s(f"{name}_FILE")
            if f is not None:
                try:
                    with open(f, encoding="utf-8") as fh:
                        return fh.read().strip()
                except OSError:
                    problems.append(f"{name}_FILE: cannot read the file")
                    return None
            return s(name)

        def lst(name: str) -> list[str] | None:
            v = env.get(name)
            return None if v is None else [x.strip() for x in v.split(",") if x.strip()]

        def integer(name: str, default: int) -> int:
            v = s(name)
            if v is None:
                return default
            if not re.match(r"-?\d+\Z", v.strip()):
                problems.append(f"{name} must be an integer")
                return default
            return int(v)

        def boolean(name: str, default: bool) -> bool:
            v = s(name)
            if v is None:
                return default
            if re.match(r"(1|true|yes|on)\Z", v, re.I):
                return True
            if re.match(r"(0|false|no|off)\Z", v, re.I):
                return False
            problems.append(f"{name} must be true or false")
            return default

        backoff = []
        for b in lst("PLUGIN_HOST_BACKOFF_MS") or ["1000", "5000", "15000", "30000"]:
            if re.match(r"\d+\Z", b):
                backoff.append(int(b))
            else:
                problems.append("PLUGIN_HOST_BACKOFF_MS must be comma-separated integers")
        partitions = integer("SB_PARTITIONS", protocol.DEFAULT_PARTITIONS)
        kwargs = dict(
            bot=env.get("SB_BOT", "bot"),
            servers=lst("NATS_URL") or ["nats://127.0.0.1:4222"],
            creds_file=s("NATS_CREDS_FILE"),
            user=s("NATS_USER"),
            password=secret("NATS_PASSWORD"),
            token=secret("NATS_TOKEN"),
            partitions=partitions,
            group=s("SB_WORKER_GROUP"),
            # Default: as many events at once as there are partitions (a lone worker owns them all).
            concurrency=integer("PLUGIN_HOST_CONCURRENCY", partitions),
            handler_timeout_ms=integer("PLUGIN_HOST_HANDLER_TIMEOUT_MS", 10_000),
            ack_wait_ms=integer("PLUGIN_HOST_ACK_WAIT_MS", 30_000),
            max_deliver=integer("PLUGIN_HOST_MAX_DELIVER", 5),
            backoff_ms=backoff,
            shutdown_grace_ms=integer("PLUGIN_HOST_SHUTDOWN_GRACE_MS", 10_000),
            admins=lst("PLUGIN_HOST_ADMINS") or [],
            command_prefix=env.get("PLUGIN_HOST_COMMAND_PREFIX", "/"),
            unknown_command_reply=env.get("PLUGIN_HOST_UNKNOWN_COMMAND_REPLY"),
            plugins_enabled_by_default=boolean("PLUGIN_HOST_PLUGINS_ENABLED_BY_DEFAULT", True),
            fetch_timeout_ms=integer("SB_FETCH_TIMEOUT_MS", 2_000),
            http_host=env.get("PLUGIN_HOST_HTTP_HOST", "127.0.0.1"),
            http_port=integer("PLUGIN_HOST_HTTP_PORT", 9102),
            partition_ownership=boolean("PLUGIN_HOST_PARTITION_OWNERSHIP", True),
            presence_interval_ms=integer("PLUGIN_HOST_PRESENCE_INTERVAL_MS", protocol.DEFAULT_PRESENCE_INTERVAL_MS),
        )
        if s("PLUGIN_HOST_INSTANCE") is not None:
            kwargs["instance"] = env["PLUGIN_HOST_INSTANCE"]
        try:
            config = cls(**kwargs)  # type: ignore[arg-type]
        except ConfigError as err:
            raise ConfigError(problems + err.problems) from None
        if problems:
            raise ConfigError(problems)
        return config


def consumer_name(bot: str, partition: int, group: str | None) -> str:
    """plugin-host's ``sb_host_<bot>_p<n>``, or ``sb_group_<group>_<bot>_p<n>`` for a group of its own."""
    if group is None:
        return protocol.plugin_host_consumer(bot, partition)
    if not _GROUP_RE.match(group):
        raise protocol.ProtocolError("PROTOCOL_BAD_NAME", "group must match [a-z0-9]{1,16}")
    return f"sb_group_{group}_{protocol.plugin_host_consumer(bot, partition)[len('sb_host_'):]}"
