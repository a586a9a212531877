"""Settings read once from the environment; the only place that reads os.environ."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = Path("var")
    gateway_id: str = "gateway-local"
    gateway_name: str = ""
    gateway_location: str = ""
    latitude: float | None = None
    longitude: float | None = None
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    files_root: Path = Path("var/files")
    max_jobs_per_gateway: int = 1000
    max_concurrent_jobs: int = 5
    heartbeat_seconds: float = 5.0
    offline_after_seconds: float = 30.0
    jwt_secret: str = field(default="", repr=False)
    pool_size: int = 8
    list_cache_pages: int = 512  # encoded GET /jobs pages kept (0: none; the API bench reads uncached)
    execution_retention_days: float = 30.0
    log_json: bool | None = None
    # The worker's resource sampler (docs/operations.md): every this many seconds (0: off), an alert
    # at or above a threshold (percent used), cleared below the threshold minus the margin.
    resource_sample_seconds: float = 30.0
    cpu_alert_percent: float = 90.0
    memory_alert_percent: float = 90.0
    disk_alert_percent: float = 90.0
    alert_clear_margin: float = 5.0

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        data_dir = Path(env.get("SCHEDULER_DATA_DIR", "var")).resolve()
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=data_dir,
            gateway_id=env.get("SCHEDULER_GATEWAY_ID", "gateway-local"),
            gateway_name=env.get("SCHEDULER_GATEWAY_NAME", ""),
            gateway_location=env.get("SCHEDULER_GATEWAY_LOCATION", ""),
            latitude=_float("SCHEDULER_LATITUDE", None),
            longitude=_float("SCHEDULER_LONGITUDE", None),
            mqtt_url=env.get("MQTT_URL", "mqtt://127.0.0.1:1883"),
            files_root=Path(env.get("SCHEDULER_FILES_ROOT", str(data_dir / "files"))).resolve(),
            max_jobs_per_gateway=int(env.get("SCHEDULER_MAX_JOBS_PER_GATEWAY", "1000")),
            max_concurrent_jobs=int(env.get("SCHEDULER_MAX_CONCURRENT_JOBS", "5")),
            heartbeat_seconds=float(env.get("SCHEDULER_HEARTBEAT_SECONDS", "5")),
            offline_after_seconds=float(env.get("SCHEDULER_OFFLINE_AFTER_SECONDS", "30")),
            jwt_secret=env.get("SCHEDULER_JWT_SECRET", ""),
            pool_size=int(env.get("SCHEDULER_DB_POOL_SIZE", "8")),
            list_cache_pages=int(env.get("SCHEDULER_LIST_CACHE_PAGES", "512")),
            execution_retention_days=float(env.get("SCHEDULER_EXECUTION_RETENTION_DAYS", "30")),
            resource_sample_seconds=float(env.get("SCHEDULER_RESOURCE_SAMPLE_SECONDS", "30")),
            cpu_alert_percent=float(env.get("SCHEDULER_CPU_ALERT_PERCENT", "90")),
            memory_alert_percent=float(env.get("SCHEDULER_MEMORY_ALERT_PERCENT", "90")),
            disk_alert_percent=float(env.get("SCHEDULER_DISK_ALERT_PERCENT", "90")),
            alert_clear_margin=float(env.get("SCHEDULER_ALERT_CLEAR_MARGIN", "5")),
        )

    def alert_thresholds(self) -> dict[str, float]:
        return {"cpu": self.cpu_alert_percent, "memory": self.memory_alert_percent, "disk": self.disk_alert_percent}

    def secret(self) -> str:
        """The JWT signing secret: the configured one, else one kept in the data directory so
        that `token issue` and `serve` on the same machine agree."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
