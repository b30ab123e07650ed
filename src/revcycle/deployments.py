"""The scheduled deployments (the nightly cycle, the hourly inbox poll), served with Prefect.

``deployments/prefect.yaml`` is the one place their schedules, parameters, tags and
descriptions live: ``prefect deploy`` reads it to register them on a work pool, and
``revcycle serve`` reads it here to serve them from one process (``flow.to_deployment`` +
``prefect.serve``). The reader is deliberately strict: a key it does not know (an interval
schedule, a concurrency limit...) is an error rather than something the two routes would
silently treat differently; teach it here first.

Serving needs a Prefect server that outlives the process (``PREFECT_API_URL``): without one,
Prefect would start a temporary server that disappears, schedules and history with it, when
the process stops. :func:`check_prefect_server` says so instead.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from revcycle.paths import project_root

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.flows import Flow

SERVER_HINT = (
    "start one with `prefect server start --host 127.0.0.1` (in another terminal) and "
    "`export PREFECT_API_URL=http://127.0.0.1:4200/api`"
)

_PLACEHOLDER = re.compile(r"{{\s*([\w.\-\[\]$]+)\s*}}")
_DEPLOYMENT_KEYS = frozenset(
    {"name", "entrypoint", "description", "tags", "parameters", "schedules", "work_pool"}
)
_SCHEDULE_KEYS = frozenset({"cron", "timezone", "active", "parameters", "slug", "day_or"})


class DeploymentConfigError(ValueError):
    """deployments/prefect.yaml says something revcycle cannot serve (file and deployment named)."""


class PrefectServerError(RuntimeError):
    """No Prefect server to serve against."""


@dataclass(frozen=True)
class CronSchedule:
    cron: str
    timezone: str | None = None
    active: bool = True
    day_or: bool = True
    slug: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment as prefect.yaml declares it."""

    name: str
    entrypoint: str  # "<file relative to the project root>:<flow function>"
    description: str | None
    tags: tuple[str, ...]
    parameters: Mapping[str, Any]
    schedules: tuple[CronSchedule, ...]
    work_pool: str | None  # for `prefect deploy`; serving needs none

    @property
    def flow_path(self) -> str:
        return self.entrypoint.rsplit(":", 1)[0]

    @property
    def flow_function(self) -> str:
        return self.entrypoint.rsplit(":", 1)[1]


def deployments_file() -> Path:
    return project_root() / "deployments" / "prefect.yaml"


# --------------------------------------------------------------------------------------------
# Reading prefect.yaml


def load_deployment_specs(path: Path | None = None) -> tuple[DeploymentSpec, ...]:
    """Read the deployments of ``path`` (default deployments/prefect.yaml), with environment
    placeholders ("{{ $NAME }}") resolved as ``prefect deploy`` resolves them."""
    import yaml  # type: ignore[import-untyped]  # (PyYAML comes with Prefect; no stubs here)
    from prefect.utilities.templating import apply_values

    source = path or deployments_file()
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DeploymentConfigError(f"{source}: cannot read it ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("deployments"), list):
        raise DeploymentConfigError(f"{source}: no list of deployments")
    # Only "{{ $NAME }}" (environment) placeholders resolve here; the rest stay, and are
    # reported below.
    resolved = apply_values(raw["deployments"], {}, remove_notset=False)
    if not isinstance(resolved, list):  # (cannot happen: a list stays a list)
        raise DeploymentConfigError(f"{source}: no list of deployments")
    specs = tuple(_deployment(source, index, item) for index, item in enumerate(resolved))
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise DeploymentConfigError(f"{source}: deployment names repeat: {names}")
    return specs


def _deployment(source: Path, index: int, item: object) -> DeploymentSpec:
    where = f"{source}, deployment #{index + 1}"
    if not isinstance(item, dict):
        raise DeploymentConfigError(f"{where}: not a mapping")
    name = item.get("name")
    if isinstance(name, str) and name:
        where = f"{source}, deployment {name!r}"
    else:
        raise DeploymentConfigError(f"{where}: no name")
    unknown = sorted(set(item) - _DEPLOYMENT_KEYS)
    if unknown:
        raise DeploymentConfigError(
            f"{where}: {', '.join(unknown)} not supported by `revcycle serve` "
            "(src/revcycle/deployments.py)"
        )
    _no_placeholders(where, item)
    entrypoint = item.get("entrypoint")
    if not isinstance(entrypoint, str) or not re.fullmatch(r"[\w./-]+\.py:\w+", entrypoint):
        raise DeploymentConfigError(f"{where}: entrypoint must be <file.py>:<flow function>")
    description = item.get("description")
    if description is not None and not isinstance(description, str):
        raise DeploymentConfigError(f"{where}: description must be text")
    tags = item.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DeploymentConfigError(f"{where}: tags must be a list of text")
    parameters = item.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise DeploymentConfigError(f"{where}: parameters must be a mapping")
    schedules = item.get("schedules") or []
    if not isinstance(schedules, list):
        raise DeploymentConfigError(f"{where}: schedules must be a list")
    work_pool = item.get("work_pool") or {}
    pool_name = work_pool.get("name") if isinstance(work_pool, dict) else None
    if pool_name is not None and not isinstance(pool_name, str):
        raise DeploymentConfigError(f"{where}: work_pool.name must be text")
    return DeploymentSpec(
        name=name,
        entrypoint=entrypoint,
        description=description,
        tags=tuple(tags),
        parameters=dict(parameters),
        schedules=tuple(_schedule(where, s) for s in schedules),
        work_pool=pool_name,
    )


def _schedule(where: str, item: object) -> CronSchedule:
    if not isinstance(item, dict) or not isinstance(item.get("cron"), str):
        raise DeploymentConfigError(f"{where}: each schedule needs a cron string")
    unknown = sorted(set(item) - _SCHEDULE_KEYS)
    if unknown:
        raise DeploymentConfigError(
            f"{where}: schedule keys {', '.join(unknown)} not supported by `revcycle serve` "
            "(cron schedules only)"
        )
    timezone, slug = item.get("timezone"), item.get("slug")
    active, day_or = item.get("active", True), item.get("day_or", True)
    parameters = item.get("parameters") or {}
    if not (
        (timezone is None or isinstance(timezone, str))
        and (slug is None or isinstance(slug, str))
        and isinstance(active, bool)
        and isinstance(day_or, bool)
        and isinstance(parameters, dict)
    ):
        raise DeploymentConfigError(f"{where}: schedule {item['cron']!r} has a malformed value")
    return CronSchedule(
        cron=item["cron"],
        timezone=timezone,
        active=active,
        day_or=day_or,
        slug=slug,
        parameters=dict(parameters),
    )


def _no_placeholders(where: str, value: object) -> None:
    if isinstance(value, str):
        if found := _PLACEHOLDER.search(value):
            raise DeploymentConfigError(
                f"{where}: {found.group(0)} is not set (only environment placeholders, "
                "{{ $NAME }}, resolve, and only when NAME is set)"
            )
    elif isinstance(value, dict):
        for item in value.values():
            _no_placeholders(where, item)
    elif isinstance(value, list):
        for item in value:
            _no_placeholders(where, item)


# --------------------------------------------------------------------------------------------
# Flows and runner deployments


def load_flow(spec: DeploymentSpec, root: Path | None = None) -> Flow[..., Any]:
    """Import the flow an entrypoint names, as the module it is (flows/revenue_cycle.py is
    ``flows.revenue_cycle``, the same module `revcycle run` uses)."""
    from prefect.flows import Flow

    base = (root or project_root()).resolve()
    file = (base / spec.flow_path).resolve()
    if not file.is_file() or not file.is_relative_to(base):
        raise DeploymentConfigError(
            f"deployment {spec.name!r}: {spec.flow_path} is not a file of the project {base}"
        )
    if str(base) not in sys.path:
        sys.path.insert(0, str(base))
    module_name = ".".join(file.relative_to(base).with_suffix("").parts)
    module = importlib.import_module(module_name)
    candidate = getattr(module, spec.flow_function, None)
    if not isinstance(candidate, Flow):
        raise DeploymentConfigError(
            f"deployment {spec.name!r}: {spec.entrypoint} is not a Prefect flow"
        )
    flow: Flow[..., Any] = candidate
    return flow


def runner_deployment(spec: DeploymentSpec, flow: Flow[..., Any]) -> RunnerDeployment:
    """The deployment ``prefect.serve`` registers: exactly what prefect.yaml says, without the
    work pool (a served deployment's runs execute where the serving process runs)."""
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron

    accepted = set(flow.parameters.properties)
    for names in (spec.parameters, *(s.parameters for s in spec.schedules)):
        unknown = sorted(set(names) - accepted)
        if unknown:
            raise DeploymentConfigError(
                f"deployment {spec.name!r}: {flow.name} has no parameter {', '.join(unknown)} "
                f"(it takes {', '.join(sorted(accepted))})"
            )
    deployment = flow.to_deployment(
        name=spec.name,
        description=spec.description,
        tags=list(spec.tags),
        parameters=dict(spec.parameters),
        schedules=[
            Cron(
                s.cron,
                timezone=s.timezone,
                day_or=s.day_or,
                active=s.active,
                parameters=dict(s.parameters),
                slug=s.slug,
            )
            for s in spec.schedules
        ],
    )
    if not isinstance(deployment, RunnerDeployment):  # (async flows only; ours are sync)
        raise DeploymentConfigError(f"deployment {spec.name!r}: {flow.name} is an async flow")
    return deployment


def full_name(spec: DeploymentSpec, flow: Flow[..., Any]) -> str:
    """``<flow name>/<deployment name>``, as `prefect deployment run` takes it."""
    return f"{flow.name}/{spec.name}"


# --------------------------------------------------------------------------------------------
# The server


def check_prefect_server(api_url: str | None) -> str:
    """Return ``api_url`` when a Prefect server answers there; otherwise say what to do."""
    if not api_url:
        raise PrefectServerError(
            "serving scheduled runs needs a Prefect server, and PREFECT_API_URL is not set "
            "(a temporary server would vanish with this process, schedules and run history "
            f"with it): {SERVER_HINT}"
        )
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY

    with SyncPrefectClient(
        api_url, auth_string=PREFECT_API_AUTH_STRING.value(), api_key=PREFECT_API_KEY.value()
    ) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise PrefectServerError(
            f"no Prefect server answers at {api_url} "
            f"({type(problem).__name__}: {problem}): {SERVER_HINT}, or correct PREFECT_API_URL"
        )
    return api_url


def configured_api_url() -> str | None:
    """The API URL Prefect will use: PREFECT_API_URL from the environment or the profile."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def ui_url() -> str | None:
    from prefect.settings import get_current_settings

    return get_current_settings().ui_url or None


def serve(deployments: Sequence[RunnerDeployment], *, limit: int | None) -> None:
    """Register the deployments and run their flow runs until SIGINT/SIGTERM; their schedules
    are paused when serving stops (so no run is scheduled with nobody to run it)."""
    import prefect

    prefect.serve(*deployments, limit=limit, print_starting_message=False)
