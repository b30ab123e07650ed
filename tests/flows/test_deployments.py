"""The scheduled deployments: deployments/prefect.yaml read into the nightly cycle and the
hourly inbox poll, and the real thing: a local Prefect server, `revcycle serve` registering
both deployments on it as the file says, a triggered nightly run completing in the served
work area, and the same file registered with `prefect deploy` on a process work pool.

The real tests start their own processes (server, serve, prefect CLI) with an explicit
environment: tests/conftest.py points this process's Prefect at a private home for the
in-process harness, which must not leak into them. Every process is stopped by PID
(SIGTERM, then SIGKILL), and so is anything it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from revcycle.deployments import (
    DeploymentConfigError,
    PrefectServerError,
    check_prefect_server,
    load_deployment_specs,
    load_flow,
    runner_deployment,
)
from revcycle.paths import project_root
from tests.conftest import AS_OF

BIN = Path(sys.executable).parent
PROJECT = project_root()
YAML = PROJECT / "deployments" / "prefect.yaml"
NIGHTLY = "revenue-cycle/nightly"
HOURLY = "reconcile-inbox/hourly"


# --------------------------------------------------------------------------------------------
# The file


def test_prefect_yaml_declares_the_nightly_cycle_and_the_hourly_inbox_poll() -> None:
    from flows.revenue_cycle import reconcile_inbox, revenue_cycle

    specs = {spec.name: spec for spec in load_deployment_specs(YAML)}

    assert set(specs) == {"nightly", "hourly"}
    nightly, hourly = specs["nightly"], specs["hourly"]
    assert nightly.entrypoint == "flows/revenue_cycle.py:revenue_cycle"
    assert hourly.entrypoint == "flows/revenue_cycle.py:reconcile_inbox"
    assert [s.cron for s in nightly.schedules] == ["0 2 * * *"]
    assert [s.cron for s in hourly.schedules] == ["0 * * * *"]
    timezones = {s.timezone for spec in specs.values() for s in spec.schedules}
    assert len(timezones) == 1 and ZoneInfo(str(timezones.pop()))  # one real time zone
    assert all(s.active for spec in specs.values() for s in spec.schedules)
    # No data_dir: runs use the work area of the process running them. No simulated payers.
    assert nightly.parameters == {"data_dir": None, "simulate_partners": False}
    assert hourly.parameters == {"data_dir": None}
    assert {spec.work_pool for spec in specs.values()} == {"revcycle"}
    assert all(spec.description and "revcycle" in spec.tags for spec in specs.values())

    # The entrypoints are the flows themselves, and what prefect.serve gets is the file's word.
    assert load_flow(nightly) is revenue_cycle
    assert load_flow(hourly) is reconcile_inbox
    served = runner_deployment(nightly, revenue_cycle)
    assert served.name == "nightly" and served.entrypoint == nightly.entrypoint
    assert served.parameters == {"data_dir": None, "simulate_partners": False}
    assert [(s.schedule.cron, s.schedule.timezone) for s in served.schedules] == [
        ("0 2 * * *", nightly.schedules[0].timezone)
    ]
    assert served.work_pool_name is None  # served deployments run in the serving process


_MINIMAL = """
deployments:
  - name: nightly
    entrypoint: flows/revenue_cycle.py:revenue_cycle
    {extra}
    schedules:
      - cron: "0 2 * * *"
        timezone: {timezone}
"""


@pytest.mark.parametrize(
    ("extra", "timezone", "problem"),
    [
        ("concurrency_limit: 1", "UTC", "concurrency_limit not supported"),
        ("parameters: {dat_dir: /x}", "UTC", "has no parameter dat_dir"),
        ("", '"{{ $REVCYCLE_TEST_UNSET_TZ }}"', "is not set"),
        ("", '"{{ prefect.variables.tz }}"', "is not set"),
    ],
)
def test_serve_refuses_what_it_would_not_honour(
    tmp_path: Path, extra: str, timezone: str, problem: str
) -> None:
    from flows.revenue_cycle import revenue_cycle

    path = tmp_path / "prefect.yaml"
    path.write_text(_MINIMAL.format(extra=extra, timezone=timezone), encoding="utf-8")
    with pytest.raises(DeploymentConfigError, match=problem):
        for spec in load_deployment_specs(path):
            runner_deployment(spec, revenue_cycle)


def test_interval_schedules_and_environment_placeholders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "prefect.yaml"
    path.write_text(
        _MINIMAL.format(extra="", timezone='"{{ $REVCYCLE_TEST_TZ }}"'), encoding="utf-8"
    )
    monkeypatch.setenv("REVCYCLE_TEST_TZ", "America/Chicago")
    (spec,) = load_deployment_specs(path)
    assert spec.schedules[0].timezone == "America/Chicago"  # as `prefect deploy` resolves it

    path.write_text(
        _MINIMAL.replace('cron: "0 2 * * *"', "interval: 3600").format(extra="", timezone="UTC"),
        encoding="utf-8",
    )
    with pytest.raises(DeploymentConfigError, match="cron"):
        load_deployment_specs(path)


def test_serve_needs_a_prefect_server_and_says_how_to_start_one() -> None:
    with pytest.raises(PrefectServerError, match=r"prefect server start --host 127\.0\.0\.1"):
        check_prefect_server(None)
    with pytest.raises(PrefectServerError, match="no Prefect server answers"):
        check_prefect_server(f"http://127.0.0.1:{_free_port()}/api")


def test_serve_command_without_a_server_fails_with_the_way_out(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "revcycle"), "serve"],
        env=_env(tmp_path / "cli-prefect", REVCYCLE_DATA_DIR=str(tmp_path / "data")),
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert "PREFECT_API_URL is not set" in message
    assert "prefect server start --host 127.0.0.1" in message


# --------------------------------------------------------------------------------------------
# The real thing


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`prefect server start` on a free loopback port, with its own home; yields the API URL."""
    root = tmp_path_factory.mktemp("prefect_server")
    port = _free_port()
    with _process(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=_env(root / "home", PREFECT_SERVER_UI_ENABLED="false"),  # the API is enough here
        log=root / "server.log",
    ) as server:
        url = f"http://127.0.0.1:{port}/api"
        _wait_until(
            lambda: _healthy(url),
            what=f"the Prefect server on {url}",
            process=server,
            log=root / "server.log",
            seconds=240,
        )
        yield url


@pytest.mark.timeout(1200)
def test_served_deployments_match_the_file_and_a_triggered_nightly_run_completes(
    prefect_server: str, tmp_path: Path
) -> None:
    from revcycle.extracts.generate import generate_extract

    data = tmp_path / "data"
    generate_extract(
        out_dir=data / "extracts",
        answer_key_dir=data / "answer_keys",
        encounters=200,
        seed=3,
        as_of=AS_OF,
    )
    specs = {spec.name: spec for spec in load_deployment_specs(YAML)}
    log = tmp_path / "serve.log"

    with (
        _process(
            [str(BIN / "revcycle"), "serve"],
            env=_env(
                tmp_path / "serve-prefect",
                PREFECT_API_URL=prefect_server,
                REVCYCLE_DATA_DIR=str(data),
                PREFECT_RUNNER_POLL_FREQUENCY="2",  # (default 10 s) start the run sooner
            ),
            log=log,
        ) as serve,
        _client(prefect_server) as client,
    ):
        deployments = _wait_until(
            lambda: _read_deployments(client),
            what="both deployments on the server",
            process=serve,
            log=log,
            seconds=240,
        )

        for name, deployment in deployments.items():
            spec = specs[name.split("/")[1]]
            assert deployment.entrypoint == spec.entrypoint
            assert deployment.parameters == dict(spec.parameters)
            assert deployment.tags == list(spec.tags)
            assert deployment.description == spec.description
            assert deployment.work_pool_name is None
            assert [
                (s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules
            ] == [(s.cron, s.timezone, True) for s in spec.schedules]

        # One nightly run, now, for the extract's date (the scrubber's "today").
        run = client.create_flow_run_from_deployment(
            deployments[NIGHTLY].id, parameters={"as_of": AS_OF.isoformat()}
        )
        final = _wait_until(
            lambda: _final_state(client, run.id),
            what=f"flow run {run.id} to finish",
            process=serve,
            log=log,
            seconds=900,
        )
        assert final.is_completed(), f"{final.name}: {final.message}\n{_tail(log)}"
        finished = client.read_flow_run(run.id)
        assert finished.parameters == {
            "data_dir": None,
            "simulate_partners": False,
            "as_of": AS_OF.isoformat(),
        }

    # With data_dir unset, the run worked in serve's work area (REVCYCLE_DATA_DIR): the extract
    # loaded, the claims built and the ready ones written to 837 files, every one recorded.
    files = sorted((data / "outbox" / "837").glob("*.x12"))
    assert files and any("_837P_" in f.name for f in files)
    with duckdb.connect(str(data / "warehouse" / "revcycle.duckdb"), read_only=True) as con:
        loaded = con.execute(
            "select count(*) from ops.load_manifest where status = 'loaded' and table_name "
            "not like 'x12_%'"
        ).fetchone()
        claims = con.execute("select count(*) from marts.fct_claims").fetchone()
        sent = con.execute(
            "select count(distinct file_name), count(*) filter (where is_claim_level) "
            "from marts.fct_claim_submissions"
        ).fetchone()
    assert loaded == (7,) and claims == (200,)
    assert sent is not None and sent[0] == len(files) and sent[1] > 0

    # Serving stopped: the schedules are paused, so nothing falls due with nobody to run it.
    with _client(prefect_server) as client:
        after = _read_deployments(client)
    assert after is not None
    assert all(d.paused or not any(s.active for s in d.schedules) for d in after.values()), {
        name: (d.paused, [s.active for s in d.schedules]) for name, d in after.items()
    }


@pytest.mark.timeout(600)
def test_prefect_deploy_registers_the_same_deployments_on_a_work_pool(
    prefect_server: str, tmp_path: Path
) -> None:
    env = _env(tmp_path / "cli-prefect", PREFECT_API_URL=prefect_server)
    for command in (
        ["work-pool", "create", "revcycle", "--type", "process"],
        ["--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml"],
    ):
        done = subprocess.run(
            [str(BIN / "prefect"), *command],
            env=env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    specs = {spec.name: spec for spec in load_deployment_specs(YAML)}
    with _client(prefect_server) as client:
        deployments = _read_deployments(client)
    assert deployments is not None
    for name, deployment in deployments.items():
        spec = specs[name.split("/")[1]]
        assert deployment.work_pool_name == "revcycle"
        assert deployment.entrypoint == spec.entrypoint
        assert deployment.parameters == dict(spec.parameters)
        assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
            (s.cron, s.timezone) for s in spec.schedules
        ]
        assert not deployment.paused
        # Workers run the flows from the folder `prefect deploy` ran in: the project root.
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": str(PROJECT)}}
        ]


# --------------------------------------------------------------------------------------------
# Helpers


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(prefect_home: Path, **extra: str) -> dict[str, str]:
    """This machine's environment without any Prefect or revcycle setting of this process,
    plus a Prefect home of the subprocess's own."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "REVCYCLE_"))
    }
    prefect_home.mkdir(parents=True, exist_ok=True)
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        **extra,
    )
    return env


@contextmanager
def _process(
    args: list[str], *, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, wait, SIGKILL: the process by its PID, then whatever it started by theirs."""
    children = _descendants(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
    for pid in children:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if not _alive(pid):
                break
            os.kill(pid, sig)
            deadline = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
    left = [pid for pid in children if _alive(pid)]
    assert not left, f"processes left behind: {left}"


def _descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found += kids
        frontier += kids
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _healthy(url: str) -> bool | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/health", timeout=5) as response:
            return response.status == 200 or None
    except OSError:
        return None


def _wait_until(
    probe: Any, *, what: str, process: subprocess.Popen[bytes], log: Path, seconds: float
) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(
                f"{process.args!r} exited ({process.returncode}) waiting for {what}:\n" + _tail(log)
            )
        time.sleep(1)
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}:\n{_tail(log)}")


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def _client(api_url: str) -> Iterator[Any]:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        yield client


def _read_deployments(client: Any) -> dict[str, Any] | None:
    from prefect.exceptions import ObjectNotFound

    try:
        return {name: client.read_deployment_by_name(name) for name in (NIGHTLY, HOURLY)}
    except ObjectNotFound:
        return None


def _final_state(client: Any, flow_run_id: Any) -> Any:
    state = client.read_flow_run(flow_run_id).state
    return state if state is not None and state.is_final() else None
