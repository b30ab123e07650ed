"""SFTP transport against a real SFTP server on a loopback port: asyncssh's server, run by the
test in a background thread, with ed25519 keys generated for each test. The server's folder
(``server.root``) is what the clearinghouse sees; the simulated clearinghouse reads our 837s
from it and writes its answers into it, as a real one would.

PROVENANCE: the claims come from tests/claims/support.py (invented people and identifiers).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncssh
import duckdb
import pytest

from revcycle.claims.emit import emit_claims
from revcycle.claims.model import Payer
from revcycle.config import SftpConfig, SftpConfigError, sftp_from_env
from revcycle.extracts.load import LoadStatus
from revcycle.inbox import load_inbox
from revcycle.paths import WorkArea
from revcycle.sim import answer_outbox
from revcycle.transport import (
    AuthenticationError,
    HostKeyError,
    collect,
    deliver,
    transport_status,
)
from tests.claims.support import NOW, SUBMITTER, institutional_claim, professional_claim

OTHER_PAYER = Payer(payer_id="60054", name="Other Mutual")
FEE_SCHEDULES = {"87726": Decimal("62.50"), "60054": Decimal("55.00")}
SIM_DAY = date(2026, 11, 20)
PATIENT_WORDS = ("Smith", "John", "Emma", "W123456789")  # from tests/claims/support.py


# --------------------------------------------------------------------------------------------
# The server


@dataclass
class ServerState:
    """Shared with the server's SFTP sessions: what they wrote, and planned interruptions."""

    interrupt_uploads: int = 0  # break this many uploads, each after INTERRUPT_AFTER bytes
    interrupt_downloads: int = 0  # break this many downloads, at their first read
    writes: list[str] = field(default_factory=list)  # paths written, one entry per request
    opened_for_write: list[str] = field(default_factory=list)


INTERRUPT_AFTER = 400


class RecordingSFTPServer(asyncssh.SFTPServer):
    """asyncssh's SFTP server in a chroot, recording writes and dropping the connection in
    the middle of an upload when told to (as a network failure would)."""

    def __init__(self, chan: asyncssh.SSHServerChannel, root: Path, state: ServerState) -> None:
        super().__init__(chan, chroot=str(root).encode())
        self.state = state

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> Any:
        if pflags & asyncssh.FXF_WRITE:
            self.state.opened_for_write.append(path.decode())
        return super().open(path, pflags, attrs)

    def read(self, file_obj: Any, offset: int, size: int) -> Any:
        if self.state.interrupt_downloads and "/inbound/" in str(file_obj.name):
            self.state.interrupt_downloads -= 1
            self.connection.abort()
            raise asyncssh.SFTPConnectionLost("connection dropped by the test")
        return super().read(file_obj, offset, size)

    def write(self, file_obj: Any, offset: int, data: bytes) -> Any:
        self.state.writes.append(str(file_obj.name))
        if self.state.interrupt_uploads and offset + len(data) > INTERRUPT_AFTER:
            self.state.interrupt_uploads -= 1
            super().write(file_obj, offset, data[: max(INTERRUPT_AFTER - offset, 0)])
            file_obj.flush()
            self.connection.abort()  # the connection drops mid-file
            raise asyncssh.SFTPConnectionLost("connection dropped by the test")
        return super().write(file_obj, offset, data)


class _Tracking(asyncssh.SSHServer):
    def __init__(self, connections: set[asyncssh.SSHServerConnection]) -> None:
        self.connections = connections
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.connections.discard(self.conn)


class SftpTestServer:
    """An SFTP server on 127.0.0.1, in its own thread and event loop."""

    def __init__(self, root: Path, keys: Path) -> None:
        self.root = root
        self.state = ServerState()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key_path = keys / "id_ed25519"
        self.client_key.write_private_key(self.client_key_path)
        self.client_key_path.chmod(0o600)
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="sftp-test-server", daemon=True
        )
        self._thread.start()
        authorized = asyncssh.import_authorized_keys(self.client_key.export_public_key().decode())

        async def listen() -> asyncssh.SSHAcceptor:
            return await asyncssh.listen(
                "127.0.0.1",
                0,
                server_host_keys=[self.host_key],
                authorized_client_keys=authorized,
                server_factory=lambda: _Tracking(self._connections),
                sftp_factory=lambda chan: RecordingSFTPServer(chan, self.root, self.state),
                allow_scp=False,
            )

        self._acceptor = self._run(listen())
        self.port = self._acceptor.get_port()
        self.known_hosts = keys / "known_hosts"
        self.known_hosts.write_text(
            f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode()}"
        )

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def config(self, **changes: Any) -> SftpConfig:
        config = SftpConfig(
            host="127.0.0.1",
            port=self.port,
            user="billing",
            key_path=self.client_key_path,
            host_key=self.host_key.export_public_key().decode().strip(),
            attempts=3,
            backoff_seconds=0.01,
            timeout_seconds=10,
        )
        return replace(config, **changes)

    def files(self, folder: str) -> list[str]:
        """Names in a server folder (hidden ones included), sorted."""
        return sorted(p.name for p in (self.root / folder).iterdir() if p.is_file())

    def stop(self) -> None:
        async def shutdown() -> None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            for conn in list(self._connections):
                conn.close()
                await conn.wait_closed()

        self._run(shutdown())
        self._run(self._loop.shutdown_asyncgens())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()
        self._loop.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SftpTestServer]:
    root = tmp_path / "clearinghouse"
    for folder in ("outbound", "inbound/999", "inbound/277ca", "inbound/835", "inbound/271"):
        (root / folder).mkdir(parents=True)
    keys = tmp_path / "keys"
    keys.mkdir()
    running = SftpTestServer(root, keys)
    try:
        yield running
    finally:
        running.stop()
    assert not any(t.name == "sftp-test-server" for t in threading.enumerate())


# --------------------------------------------------------------------------------------------
# Our side


def billed_area(root: Path, *, files: int = 3) -> WorkArea:
    """A work area whose outbox holds real 837 files (emit_claims into a fresh warehouse):
    an 837P and an 837I for one payer, and an 837P for another."""
    area = WorkArea(root)
    area.warehouse_dir.mkdir(parents=True)
    claims = [
        professional_claim("C0000000000000001"),
        institutional_claim("C1000000000000001"),
        professional_claim("C0000000000000002", payer=OTHER_PAYER),
    ][:files]
    with duckdb.connect(str(area.warehouse)) as con:
        result = emit_claims(con, claims, area.outbox / "837", SUBMITTER, NOW)
    assert len(result.files) == files
    return area


def outbox_files(area: WorkArea) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((area.outbox / "837").glob("*.x12"))}


def tracked(area: WorkArea) -> dict[str, tuple[str, int, str | None]]:
    """Outbound file -> (state, attempts, last error)."""
    return {
        f.file_name: (f.state, f.attempts, f.last_error)
        for f in transport_status(area)
        if f.direction == "outbound"
    }


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# Tests


def test_full_cycle_through_the_sftp_server(
    server: SftpTestServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="revcycle.transport")
    area = billed_area(tmp_path / "data")
    ours = outbox_files(area)
    config = server.config()

    delivered = deliver(area, config)

    assert sorted(delivered.sent) == sorted(ours)
    assert server.files("outbound") == sorted(ours)  # no temporary file left behind
    for name, data in ours.items():
        assert (server.root / "outbound" / name).read_bytes() == data
    assert {name: row[:2] for name, row in tracked(area).items()} == {
        name: ("sent", 1) for name in ours
    }

    # The clearinghouse answers what it sees in its own folder, into its inbound folders.
    answered = answer_outbox(
        server.root / "outbound",
        server.root / "inbound",
        FEE_SCHEDULES,
        seed=11,
        today=SIM_DAY,
    )
    assert sorted(answered.files_answered) == sorted(ours)
    written = {kind: sorted(p.name for p in paths) for kind, paths in answered.files.items()}
    assert written["999"] and written["277ca"] and written["835"]

    collected = collect(area, config)

    assert not collected.failed
    assert collected.missing_folders == ()
    by_kind: dict[str, list[str]] = {}
    for transfer in collected.files:
        by_kind.setdefault(transfer.kind, []).append(transfer.file_name)
    assert {kind: sorted(names) for kind, names in by_kind.items()} == {
        kind: names for kind, names in written.items() if names
    }
    for kind, names in written.items():
        assert server.files(f"inbound/{kind}") == []  # moved out of the way ...
        assert server.files(f"inbound/{kind}/processed") == names  # ... to processed/
        for name in names:  # byte for byte what the clearinghouse wrote
            local = area.inbox / kind / name
            assert (
                local.read_bytes()
                == (server.root / "inbound" / kind / "processed" / name).read_bytes()
            )
            assert local.stat().st_mode & 0o777 == 0o600
        assert not [p for p in (area.inbox / kind).iterdir() if p.name.startswith(".")]

    outcomes = load_inbox(area.inbox, area.warehouse, area.archive, area.quarantine)

    statuses = {(o.kind, o.outcome.file_name): o.outcome.status for o in outcomes}
    duplicates = {(t.kind, t.local_name) for t in collected.duplicates}
    assert len(statuses) == len(collected.files)
    for key, status in statuses.items():
        assert status is (LoadStatus.SKIPPED if key in duplicates else LoadStatus.LOADED), key

    # The 999s are in: the next deliver uploads nothing and marks every file acknowledged.
    writes_before = len(server.state.writes)
    again = deliver(area, config)
    assert again.sent == ()
    assert sorted(again.acknowledged) == sorted(ours)
    assert len(server.state.writes) == writes_before
    assert {name: row[0] for name, row in tracked(area).items()} == {
        name: "acknowledged" for name in ours
    }
    # Nothing new on the server: collect finds nothing (processed/ is a folder, not a file).
    assert collect(area, config).files == ()

    logged = caplog.text
    assert all(name in logged for name in ours)  # progress names the files ...
    assert not any(word in logged for word in PATIENT_WORDS)  # ... and never patient data


def test_interrupted_upload_is_retried_and_sent_once(
    server: SftpTestServer, tmp_path: Path
) -> None:
    area = billed_area(tmp_path / "data", files=1)
    ((name, data),) = outbox_files(area).items()
    assert len(data) > 2 * INTERRUPT_AFTER
    server.state.interrupt_uploads = 1

    result = deliver(area, server.config())

    assert result.sent == (name,)
    assert tracked(area) == {name: ("sent", 2, None)}
    assert server.files("outbound") == [name]  # complete, once, and no temporary file
    assert (server.root / "outbound" / name).read_bytes() == data
    temp = f"outbound/.{name}.part"  # as the client named it
    assert server.state.opened_for_write == [temp, temp]  # uploaded twice under the temp name

    # Delivering again sends nothing.
    opened = len(server.state.opened_for_write)
    assert deliver(area, server.config()).files == ()
    assert len(server.state.opened_for_write) == opened


def test_upload_failing_every_attempt_is_retried_on_the_next_call(
    server: SftpTestServer, tmp_path: Path
) -> None:
    area = billed_area(tmp_path / "data", files=1)
    ((name, data),) = outbox_files(area).items()
    server.state.interrupt_uploads = 2

    first = deliver(area, server.config(attempts=2))

    assert first.failed == (name,)
    state, attempts, error = tracked(area)[name]
    assert (state, attempts) == ("failed", 2)
    assert error is not None and name in error and "attempts" in error
    assert name not in server.files("outbound")  # the clearinghouse never saw half a file

    second = deliver(area, server.config(attempts=2))

    assert second.sent == (name,)
    assert tracked(area) == {name: ("sent", 3, None)}
    assert server.files("outbound") == [name]
    assert (server.root / "outbound" / name).read_bytes() == data


def test_file_already_on_the_server_is_marked_sent_not_uploaded_again(
    server: SftpTestServer, tmp_path: Path
) -> None:
    """An earlier call renamed the file into place and stopped before recording it."""
    area = billed_area(tmp_path / "data", files=2)
    first, second = outbox_files(area)
    shutil.copyfile(area.outbox / "837" / first, server.root / "outbound" / first)
    (server.root / "outbound" / second).write_bytes(b"ISA*someone else's file~")

    result = deliver(area, server.config())

    (already,) = [f for f in result.files if f.file_name == first]
    assert already.outcome == "already_on_server"
    assert result.failed == (second,)
    assert server.state.opened_for_write == []  # nothing uploaded at all
    states = tracked(area)
    assert states[first] == ("sent", 1, None)
    assert states[second][0] == "failed"
    assert "different content" in str(states[second][2])
    assert (server.root / "outbound" / second).read_bytes() == b"ISA*someone else's file~"


def test_a_file_collected_twice_is_loaded_once(server: SftpTestServer, tmp_path: Path) -> None:
    area = billed_area(tmp_path / "data", files=1)
    # The clearinghouse's answers, written straight into its inbound folders.
    answered = answer_outbox(
        area.outbox, server.root / "inbound", FEE_SCHEDULES, seed=11, today=SIM_DAY
    )
    (ack,) = answered.files_999
    ack_bytes = ack.read_bytes()
    config = server.config()
    first = collect(area, config)
    assert [t.outcome for t in first.files if t.kind == "999"] == ["received"]

    # Delivered again: the same name and bytes (a new upload, so a new time), and the same
    # bytes under another name. Nothing is loaded in between: the first copy is still in the
    # local inbox and must not be overwritten.
    processed = server.root / "inbound" / "999" / "processed" / ack.name
    again = server.root / "inbound" / "999" / ack.name
    shutil.copyfile(processed, again)
    stamp = processed.stat().st_mtime + 60
    os.utime(again, (stamp, stamp))
    shutil.copyfile(processed, server.root / "inbound" / "999" / "RESENT_999.x12")

    second = collect(area, config)

    duplicates = sorted((t.file_name, t.local_name, t.detail) for t in second.duplicates)
    stem = ack.name.removesuffix(".x12")
    assert duplicates == sorted(
        [
            ("RESENT_999.x12", "RESENT_999.x12", f"same content as {ack.name}"),
            (ack.name, f"{stem}.2.x12", f"same content as {ack.name}"),
        ]
    )
    assert second.received == ()
    local = sorted(p.name for p in (area.inbox / "999").iterdir() if p.is_file())
    assert local == sorted([ack.name, f"{stem}.2.x12", "RESENT_999.x12"])
    assert {sha((area.inbox / "999" / n).read_bytes()) for n in local} == {sha(ack_bytes)}
    # The second same-name copy did not replace the first one in processed/ either.
    assert len(server.files("inbound/999/processed")) == 3

    outcomes = [
        o.outcome
        for o in load_inbox(area.inbox, area.warehouse, area.archive, area.quarantine)
        if o.kind == "999"
    ]
    assert sorted(o.status for o in outcomes) == ["loaded", "skipped", "skipped"]
    with duckdb.connect(str(area.warehouse), read_only=True) as con:
        acks = con.execute(
            "select count(distinct _source_file), count(*) from raw.x12_ack_999_transactions"
        ).fetchall()
        rows = con.execute(
            "select state, count(*) from ops.transport_files "
            "where direction = 'inbound' and kind = '999' group by all order by 1"
        ).fetchall()
    assert acks[0][0] == 1 and acks[0][1] > 0
    assert rows == [("duplicate", 2), ("received", 1)]


def test_interrupted_download_is_retried(server: SftpTestServer, tmp_path: Path) -> None:
    area = billed_area(tmp_path / "data", files=1)
    answered = answer_outbox(
        area.outbox, server.root / "inbound", FEE_SCHEDULES, seed=11, today=SIM_DAY
    )
    (ack,) = answered.files_999
    ack_bytes = ack.read_bytes()
    server.state.interrupt_downloads = 1

    result = collect(area, server.config())

    (first, *_) = result.files  # 999s are collected first
    assert (first.file_name, first.outcome, first.attempts) == (ack.name, "received", 2)
    assert (area.inbox / "999" / ack.name).read_bytes() == ack_bytes
    assert not result.failed
    assert not [p for p in (area.inbox / "999").iterdir() if p.name.startswith(".")]


def test_after_download_keep_collects_each_file_once(
    server: SftpTestServer, tmp_path: Path
) -> None:
    area = billed_area(tmp_path / "data", files=1)
    answer_outbox(area.outbox, server.root / "inbound", FEE_SCHEDULES, seed=11, today=SIM_DAY)
    config = server.config(after_download="keep")
    on_server = server.files("inbound/999")

    first = collect(area, config)
    second = collect(area, config)

    assert first.files and not first.duplicates
    assert second.files == () and second.already_collected == len(first.files)
    assert server.files("inbound/999") == on_server  # kept where they were


def test_wrong_host_key_is_refused(server: SftpTestServer, tmp_path: Path) -> None:
    area = billed_area(tmp_path / "data", files=1)
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()

    with pytest.raises(HostKeyError, match="does not match the pinned key"):
        deliver(area, server.config(host_key=impostor))

    wrong_known_hosts = tmp_path / "keys" / "wrong_known_hosts"
    wrong_known_hosts.write_text(f"[127.0.0.1]:{server.port} {impostor}")
    with pytest.raises(HostKeyError, match=f"known_hosts file {wrong_known_hosts}"):
        collect(area, server.config(host_key=None, known_hosts=wrong_known_hosts))

    assert server.files("outbound") == []
    assert [row[:2] for row in tracked(area).values()] == [("waiting", 0)]
    # The right key, from a known_hosts file, works.
    ok = deliver(area, server.config(host_key=None, known_hosts=server.known_hosts))
    assert len(ok.sent) == 1


def test_key_authentication_failure_is_clear(server: SftpTestServer, tmp_path: Path) -> None:
    area = billed_area(tmp_path / "data", files=1)
    stranger = tmp_path / "keys" / "stranger"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(stranger)

    with pytest.raises(AuthenticationError, match=rf"refused key authentication.*{stranger}"):
        deliver(area, server.config(key_path=stranger))
    assert server.files("outbound") == []


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith("REVCYCLE_SFTP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/known_hosts here
    with pytest.raises(SftpConfigError, match="REVCYCLE_SFTP_HOST, REVCYCLE_SFTP_USER"):
        sftp_from_env()
    monkeypatch.setenv("REVCYCLE_SFTP_HOST", "sftp.example.com")
    monkeypatch.setenv("REVCYCLE_SFTP_USER", "billing")
    monkeypatch.setenv("REVCYCLE_SFTP_KEY", str(tmp_path / "id_ed25519"))
    with pytest.raises(SftpConfigError, match="never turned off"):
        sftp_from_env()  # neither a known_hosts file nor a pinned key: refused

    monkeypatch.setenv("REVCYCLE_SFTP_KNOWN_HOSTS", str(tmp_path / "known_hosts"))
    monkeypatch.setenv("REVCYCLE_SFTP_PORT", "2222")
    monkeypatch.setenv("REVCYCLE_SFTP_INBOUND_271_DIR", "")
    monkeypatch.setenv("REVCYCLE_SFTP_INBOUND_835_DIR", "/era")
    monkeypatch.setenv("REVCYCLE_SFTP_AFTER_DOWNLOAD", "delete")
    config = sftp_from_env()
    assert (config.port, config.known_hosts, config.host_key) == (
        2222,
        tmp_path / "known_hosts",
        None,
    )
    assert dict(config.inbound_dirs) == {
        "999": "inbound/999",
        "277ca": "inbound/277ca",
        "835": "/era",
    }
    assert (config.outbound_dir, config.after_download, config.verify) == (
        "outbound",
        "delete",
        "sha256",
    )
    monkeypatch.setenv("REVCYCLE_SFTP_AFTER_DOWNLOAD", "shred")
    with pytest.raises(SftpConfigError, match="REVCYCLE_SFTP_AFTER_DOWNLOAD"):
        sftp_from_env()


def test_cli_deliver_and_status(
    server: SftpTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`revcycle transport ...` in-process (a subprocess per command costs seconds here)."""
    from typer.testing import CliRunner

    from revcycle.cli import app

    area = billed_area(tmp_path / "data", files=2)
    for name in list(os.environ):
        if name.startswith("REVCYCLE_SFTP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/known_hosts here
    env = {
        "REVCYCLE_SFTP_HOST": "127.0.0.1",
        "REVCYCLE_SFTP_PORT": str(server.port),
        "REVCYCLE_SFTP_USER": "billing",
        "REVCYCLE_SFTP_KEY": str(server.client_key_path),
        "REVCYCLE_SFTP_KNOWN_HOSTS": str(server.known_hosts),
    }

    def revcycle(*args: str, **changes: str | None) -> Any:
        return CliRunner().invoke(
            app,
            ["transport", *args, "--data-dir", str(area.root)],
            env={**env, **changes},
            catch_exceptions=False,
        )

    delivered = revcycle("deliver")
    assert delivered.exit_code == 0, delivered.output
    assert "2 file(s) delivered, 0 failed" in delivered.stdout
    status = revcycle("status")
    assert status.exit_code == 0, status.output
    assert "2 837 file(s) without a 999 yet" in status.stdout
    assert all(f"{name} sent, 1 attempt(s)" in status.stdout for name in outbox_files(area))

    refused = revcycle("collect", REVCYCLE_SFTP_KNOWN_HOSTS=None)
    assert refused.exit_code == 1
    assert "REVCYCLE_SFTP_KNOWN_HOSTS" in refused.stderr
