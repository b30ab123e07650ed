"""Clearinghouse transport over SFTP: deliver our 837 files, collect the answers.

What the CLI (``revcycle transport deliver|collect|status``) and the flows call::

    deliver(area, config)   # every published 837 not delivered yet -> the remote outbound folder
    collect(area, config)   # remote 999 / 277CA / 835 / 271 folders -> data/inbox/<kind>/
    transport_status(area)  # what ops.transport_files says

``config`` is a :class:`revcycle.config.SftpConfig` (``sftp_from_env()`` when omitted). The
client is asyncssh; authentication is by key only (no password, agent or ``~/.ssh/config``),
and the server's host key is always checked, against a known_hosts file or a pinned key.

Every file is tracked in ``ops.transport_files`` (one row per outbound file; one per inbound
download), committed at each change of state:

- outbound ``waiting`` (found in the outbox, not on the server yet; ``last_error`` says why if
  an attempt failed) -> ``sent`` (on the server under its final name) -> ``acknowledged`` (a
  999 for it has been loaded); ``failed`` when this call's attempts are used up, or when the
  server holds a *different* file under the same name (never overwritten): a failed file is
  tried again on the next call. ``attempts`` counts upload attempts over all calls.
- inbound ``received`` (new content, placed in ``data/inbox/<kind>/``) or ``duplicate`` (its
  sha256 was collected or loaded before; ``duplicate_of`` names the first file). Duplicates
  are placed in the inbox too, under a name that overwrites nothing: the inbox loader skips
  them by content and archives them, so nothing posts twice and the copy is kept.

Deliver, per file, never half a file and never twice:

1. if the final remote name exists: the same size and sha256 -> mark ``sent`` (an earlier
   call uploaded it and stopped before recording); different -> ``failed``, not overwritten;
2. upload to the hidden temporary name ``.<name>.part``, fsync when the server offers it;
3. verify the temporary file (see ``verify`` below), then rename it to ``<name>`` with the
   standard SFTP rename, which never replaces an existing file; 4. record ``sent``.

A failed or interrupted attempt (connection lost, server error, verification mismatch) is
retried at once on a new connection, up to ``attempts`` times with exponential backoff, then
on the next call. Verification (``REVCYCLE_SFTP_VERIFY``): ``sha256`` (default) reads the
remote file back and hashes it: SFTP has no standard checksum command (OpenSSH offers none),
and 837 files are small, so reading back is the one check that works on any server. ``size``
compares sizes only, for drop folders the clearinghouse makes write-only.

Acknowledged: a 999 answers a functional group (AK1*02 = our GS06), and every 837 file we
write holds one interchange with one group whose control number is never reused. A file is
acknowledged when ``raw.x12_ack_999_transactions`` holds a claim acknowledgement (functional
id HC) of the group ``ops.submissions`` recorded for the file (:func:`acknowledged_files`),
whatever its verdict (accepted or rejected: ``marts`` say which). A file acknowledged before
it was marked sent (delivered by other means, e.g. the simulation reading the outbox) is marked
acknowledged and not uploaded.

Collect, per remote file: skip dot-names (other writers' temporary files) and folders; refuse
a listed name holding a path separator (recorded failed, nothing done on the server: a
listing of ``/etc/passwd`` or ``a/../../outbound/x`` must not reach outside the folder);
download to a hidden ``.collect-<name>.part`` in the inbox folder (the loader skips dot-files),
fsync, then publish it with a hard link, which fails rather than overwrite: a name already
taken becomes ``<stem>.2<suffix>``. Then record it, then (``REVCYCLE_SFTP_AFTER_DOWNLOAD``)
move the remote file to ``<inbound folder>/processed/`` (default), delete it, or keep it. A
remote file already collected (same path, size and modification time) is not downloaded again:
only the after-download step is retried. A missing remote inbound folder is reported, not an
error (a clearinghouse may not send every kind).

Calls hold the warehouse open (read-write) for their whole run: DuckDB lets one process write
at a time, so two transport runs can never interleave. Messages name files and counts only:
never patient data.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import posixpath
import re
import stat
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import asyncssh
import duckdb

from revcycle.config import SftpConfig, sftp_from_env
from revcycle.extracts.load import ensure_warehouse, sha256_of
from revcycle.paths import WorkArea

log = logging.getLogger(__name__)

TABLE = "ops.transport_files"
OUTBOUND = "outbound"
INBOUND = "inbound"
OUTBOUND_KIND = "837"
_CHUNK = 1 << 18  # SFTP servers commonly cap a read or write request at 256 KiB
_REMOTE_TEMP_PREFIX = "."
_REMOTE_TEMP_SUFFIX = ".part"
_LOCAL_TEMP_PREFIX = ".collect-"
_FILE_MODE = 0o600
_FOLDER_MODE = 0o700
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

_DDL = f"""
create schema if not exists ops;
create table if not exists {TABLE} (
    transport_id varchar primary key,
    direction varchar not null,
    kind varchar not null,
    file_name varchar not null,
    local_name varchar,
    remote_path varchar not null,
    sha256 varchar not null,
    size_bytes bigint not null,
    remote_mtime bigint,
    state varchar not null,
    attempts integer not null,
    last_error varchar,
    duplicate_of varchar,
    created_at timestamp not null,
    updated_at timestamp not null,
    transferred_at timestamp,
    acknowledged_at timestamp
);
"""


class FileState(StrEnum):
    WAITING = "waiting"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"
    RECEIVED = "received"
    DUPLICATE = "duplicate"


class TransportError(RuntimeError):
    """The transport could not do its job; the message says what and where."""


class HostKeyError(TransportError):
    """The server's host key is not the trusted one: nothing was exchanged."""


class AuthenticationError(TransportError):
    """The server refused our key."""


class TransportConnectionError(TransportError):
    """The server could not be reached, or the SFTP session could not start."""


class TransportSetupError(TransportError):
    """Our side is not set up: the private key or the known_hosts file cannot be read."""


class _RemoteConflictError(TransportError):
    """The server holds a different file under our file's name."""


class _TransferCheckError(TransportError):
    """A transferred file does not match what was sent or listed (retryable)."""


@dataclass(frozen=True)
class FileTransfer:
    """What happened to one file in one call (file names only, never content)."""

    direction: str
    kind: str
    file_name: str
    outcome: str  # a FileState value, or "already_on_server" for an outbound file found there
    attempts: int = 0
    local_name: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    files: tuple[FileTransfer, ...]

    def _names(self, *outcomes: str) -> tuple[str, ...]:
        return tuple(f.file_name for f in self.files if f.outcome in outcomes)

    @property
    def sent(self) -> tuple[str, ...]:
        """Files on the server now (uploaded, or found complete there)."""
        return self._names(FileState.SENT, "already_on_server")

    @property
    def failed(self) -> tuple[str, ...]:
        return self._names(FileState.FAILED)

    @property
    def acknowledged(self) -> tuple[str, ...]:
        """Files found acknowledged by a 999 in this call."""
        return self._names(FileState.ACKNOWLEDGED)


@dataclass(frozen=True)
class CollectResult:
    files: tuple[FileTransfer, ...]
    missing_folders: tuple[str, ...] = ()
    already_collected: int = 0  # remote files seen again (kept on the server, or not moved)

    @property
    def received(self) -> tuple[FileTransfer, ...]:
        return tuple(f for f in self.files if f.outcome == FileState.RECEIVED)

    @property
    def duplicates(self) -> tuple[FileTransfer, ...]:
        return tuple(f for f in self.files if f.outcome == FileState.DUPLICATE)

    @property
    def failed(self) -> tuple[FileTransfer, ...]:
        return tuple(f for f in self.files if f.outcome == FileState.FAILED)


@dataclass(frozen=True)
class TrackedFile:
    """One row of ``ops.transport_files``."""

    direction: str
    kind: str
    file_name: str
    local_name: str | None
    remote_path: str
    sha256: str
    size_bytes: int
    state: str
    attempts: int
    last_error: str | None
    duplicate_of: str | None
    created_at: datetime
    updated_at: datetime
    transferred_at: datetime | None
    acknowledged_at: datetime | None


OnFile = Callable[[FileTransfer], None]


# --------------------------------------------------------------------------------------------
# Warehouse


def ensure_transport_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``ops.transport_files`` when missing."""
    con.execute(_DDL)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as every ops table


def _control_number_key(column: str) -> str:
    """The dbt macro ``control_number_key``: compare control numbers without leading zeros."""
    return (
        f"case when nullif(trim({column}), '') is null then null "
        f"else coalesce(nullif(ltrim(trim({column}), '0'), ''), '0') end"
    )


def acknowledged_files(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the 837 files a loaded 999 acknowledges (accepted or rejected): a claim
    acknowledgement (AK1 functional id HC, or none) of the group control number
    ``ops.submissions`` recorded for the file. Our group numbers are never reused and each
    file holds one group, so the group identifies the file (and its interchange)."""
    rows = con.execute(
        f"""
        select distinct submissions.file_name
        from ops.submissions as submissions
        inner join raw.x12_ack_999_transactions as acks
            on {_control_number_key("acks.acknowledged_group_control_number")}
                = {_control_number_key("submissions.group_control_number")}
        where coalesce(acks.functional_id, 'HC') = 'HC'
        """
    ).fetchall()
    return {str(name) for (name,) in rows}


def _refresh_acknowledgements(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Mark outbound files acknowledged when their 999 is in; returns the names marked."""
    acknowledged = acknowledged_files(con)
    if not acknowledged:
        return []
    pending = con.execute(
        f"select file_name from {TABLE} where direction = ? and state <> ? order by file_name",
        [OUTBOUND, FileState.ACKNOWLEDGED.value],
    ).fetchall()
    names = [str(name) for (name,) in pending if name in acknowledged]
    now = _now()
    for name in names:
        con.execute(
            f"update {TABLE} set state = ?, acknowledged_at = ?, updated_at = ?, "
            "last_error = null where transport_id = ?",
            [FileState.ACKNOWLEDGED.value, now, now, _outbound_id(name)],
        )
    return names


def _outbound_id(file_name: str) -> str:
    return f"out:{file_name}"


@contextmanager
def _warehouse(area: WorkArea) -> Iterator[duckdb.DuckDBPyConnection]:
    area.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(area.warehouse)) as con:
        ensure_warehouse(con)  # ops.submissions and raw.x12_ack_999_transactions
        ensure_transport_table(con)
        yield con


def _set(con: duckdb.DuckDBPyConnection, transport_id: str, **values: Any) -> None:
    values["updated_at"] = _now()
    assignments = ", ".join(f"{column} = ?" for column in values)
    con.execute(
        f"update {TABLE} set {assignments} where transport_id = ?",
        [*values.values(), transport_id],
    )


# --------------------------------------------------------------------------------------------
# Connection


def _trusted_host_keys(config: SftpConfig) -> Any:
    """What asyncssh's ``known_hosts`` takes: a known_hosts file, or (trusted keys, CA keys,
    revoked keys) for a pinned key. Never None (None would turn checking off)."""
    if config.host_key:
        try:
            key = asyncssh.import_public_key(config.host_key)
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise TransportSetupError(
                f"REVCYCLE_SFTP_HOST_KEY is not an OpenSSH public key ({exc})"
            ) from None
        return ([key], [], [])
    known_hosts = config.known_hosts
    if known_hosts is None:  # SftpConfig refuses this already; never fall through to None
        raise TransportSetupError("no host key to check the server against")
    if not known_hosts.is_file():
        raise TransportSetupError(
            f"known_hosts file {known_hosts} does not exist (REVCYCLE_SFTP_KNOWN_HOSTS)"
        )
    return str(known_hosts)


def _client_key(config: SftpConfig) -> asyncssh.SSHKey:
    try:
        return asyncssh.read_private_key(config.key_path, config.key_passphrase)
    except FileNotFoundError:
        raise TransportSetupError(
            f"private key {config.key_path} does not exist (REVCYCLE_SFTP_KEY)"
        ) from None
    except (asyncssh.KeyImportError, OSError, ValueError) as exc:
        raise TransportSetupError(
            f"cannot read the private key {config.key_path} (REVCYCLE_SFTP_KEY): {exc}"
            + ("" if config.key_passphrase else "; if it is encrypted, set its passphrase")
        ) from None


class _Session:
    """One SSH connection with its SFTP client, opened on demand and reopened after a lost
    connection."""

    def __init__(self, config: SftpConfig) -> None:
        self.config = config
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self.where = f"{config.user}@{config.host}:{config.port}"

    async def sftp(self) -> asyncssh.SFTPClient:
        if self._sftp is None:
            await self._open()
        assert self._sftp is not None
        return self._sftp

    async def _open(self) -> None:
        config = self.config
        try:
            conn = await asyncssh.connect(
                config.host,
                config.port,
                username=config.user,
                client_keys=[_client_key(config)],
                known_hosts=_trusted_host_keys(config),
                preferred_auth="publickey",  # key authentication only
                agent_path=None,
                password=None,
                config=None,  # ~/.ssh/config could weaken host checking; ours is explicit
                connect_timeout=config.timeout_seconds,
                login_timeout=config.timeout_seconds,
            )
        except asyncssh.HostKeyNotVerifiable:
            raise HostKeyError(
                f"the SFTP server {config.host}:{config.port} presented a host key that does "
                f"not match {config.host_key_source}: refusing to connect. If the "
                "clearinghouse changed its key, confirm the new key with them out of band "
                "before trusting it"
            ) from None
        except asyncssh.PermissionDenied:
            raise AuthenticationError(
                f"the SFTP server refused key authentication for {self.where} with the key "
                f"{config.key_path} (REVCYCLE_SFTP_KEY): is its public key registered with "
                "the clearinghouse for this user?"
            ) from None
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            raise TransportConnectionError(
                f"cannot connect to the SFTP server {config.host}:{config.port}: {_describe(exc)}"
            ) from None
        try:
            sftp = await conn.start_sftp_client()
        except (OSError, asyncssh.Error, TimeoutError) as exc:
            conn.abort()
            await conn.wait_closed()
            raise TransportConnectionError(
                f"{self.where} accepted the login but not an SFTP session: {_describe(exc)}"
            ) from None
        self._conn, self._sftp = conn, sftp

    async def open_with_retries(self) -> asyncssh.SFTPClient:
        """Connect, retrying a refused or lost connection (never a host key or key refusal)."""
        for attempt in range(1, self.config.attempts + 1):
            try:
                return await self.sftp()
            except TransportConnectionError as exc:
                if attempt == self.config.attempts:
                    raise
                log.warning("%s (attempt %d of %d)", exc, attempt, self.config.attempts)
                await asyncio.sleep(_backoff(self.config, attempt))
        raise AssertionError("attempts is at least 1")  # pragma: no cover

    async def reset(self) -> None:
        """Drop the connection after a failure; the next :meth:`sftp` reconnects."""
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.abort()
            await conn.wait_closed()

    async def close(self) -> None:
        sftp, conn, self._conn, self._sftp = self._sftp, self._conn, None, None
        if sftp is not None:
            sftp.exit()
        if conn is not None:
            conn.close()
            await conn.wait_closed()


def _backoff(config: SftpConfig, attempt: int) -> float:
    return float(config.backoff_seconds * 2 ** (attempt - 1))


def _describe(exc: BaseException) -> str:
    """One line for an error: its type and reason (servers' reasons name paths, not data)."""
    reason = str(getattr(exc, "reason", "") or exc).strip().splitlines()
    text = reason[0] if reason else ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


# Worth another attempt on a new connection. Host key, key and setup errors are not.
_RETRYABLE = (
    asyncssh.Error,
    OSError,
    TimeoutError,
    TransportConnectionError,
    _TransferCheckError,
)


async def _stat_or_none(sftp: asyncssh.SFTPClient, path: str) -> asyncssh.SFTPAttrs | None:
    try:
        return await sftp.stat(path)
    except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
        return None


async def _remote_sha256(sftp: asyncssh.SFTPClient, path: str) -> str:
    digest = hashlib.sha256()
    async with sftp.open(path, "rb") as remote:
        offset = 0
        while True:
            chunk = await remote.read(_CHUNK, offset)
            if not chunk:
                break
            data = chunk if isinstance(chunk, bytes) else chunk.encode()
            digest.update(data)
            offset += len(data)
    return digest.hexdigest()


async def _same_content(
    sftp: asyncssh.SFTPClient,
    path: str,
    attrs: asyncssh.SFTPAttrs,
    size: int,
    sha256: str,
    verify: str,
) -> bool:
    if attrs.size != size:
        return False
    return verify == "size" or await _remote_sha256(sftp, path) == sha256


# --------------------------------------------------------------------------------------------
# Deliver


def _register_outbox(con: duckdb.DuckDBPyConnection, outbox: Path, remote_dir: str) -> None:
    """Record every published 837 not tracked yet as ``waiting``. Published means a final
    ``*.x12`` name: the writer's temporary files are hidden."""
    if not outbox.is_dir():
        return
    known = {str(name) for (name,) in con.execute(
        f"select file_name from {TABLE} where direction = ?", [OUTBOUND]
    ).fetchall()}  # fmt: skip
    now = _now()
    for path in sorted(outbox.glob("*.x12")):
        if path.name.startswith(".") or not path.is_file() or path.name in known:
            continue
        con.execute(
            f"insert into {TABLE} (transport_id, direction, kind, file_name, remote_path, "
            "sha256, size_bytes, state, attempts, created_at, updated_at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            [
                _outbound_id(path.name),
                OUTBOUND,
                OUTBOUND_KIND,
                path.name,
                posixpath.join(remote_dir, path.name),
                sha256_of(path),
                path.stat().st_size,
                FileState.WAITING.value,
                now,
                now,
            ],
        )


async def _upload(
    sftp: asyncssh.SFTPClient, local: Path, remote_dir: str, size: int, sha256: str, verify: str
) -> bool:
    """Put ``local`` on the server as ``remote_dir/<name>``; False when it was there already."""
    final = posixpath.join(remote_dir, local.name)
    temp = posixpath.join(remote_dir, f"{_REMOTE_TEMP_PREFIX}{local.name}{_REMOTE_TEMP_SUFFIX}")
    existing = await _stat_or_none(sftp, final)
    if existing is not None:
        if await _same_content(sftp, final, existing, size, sha256, verify):
            return False
        raise _RemoteConflictError(
            f"{final} already exists on the server with different content: not overwritten "
            "(ask the clearinghouse about it, then remove one of the two)"
        )
    # "wb": create or truncate, so a temporary file left by an interrupted upload restarts.
    async with sftp.open(temp, "wb", attrs=asyncssh.SFTPAttrs(permissions=_FILE_MODE)) as remote:
        with local.open("rb") as source:
            offset = 0
            while chunk := source.read(_CHUNK):
                await remote.write(chunk, offset)
                offset += len(chunk)
        # A server without fsync still publishes a complete file with its rename.
        with contextlib.suppress(asyncssh.SFTPOpUnsupported):
            await remote.fsync()
    uploaded = await sftp.stat(temp)
    if not await _same_content(sftp, temp, uploaded, size, sha256, verify):
        raise _TransferCheckError(f"{temp} does not match {local.name} after upload")
    try:
        await sftp.rename(temp, final)  # the standard rename never replaces a file
    except asyncssh.SFTPError:
        appeared = await _stat_or_none(sftp, final)
        if appeared is None:
            raise
        # Someone else put the file there meanwhile: ours is surplus, theirs decides.
        await sftp.remove(temp)
        if await _same_content(sftp, final, appeared, size, sha256, verify):
            return False
        raise _RemoteConflictError(
            f"{final} appeared on the server with different content during the upload: "
            "not overwritten"
        ) from None
    return True


async def _deliver_file(
    session: _Session,
    con: duckdb.DuckDBPyConnection,
    outbox: Path,
    file_name: str,
    sha256: str,
    attempts_before: int,
) -> FileTransfer:
    config = session.config
    transport_id = _outbound_id(file_name)
    local = outbox / file_name

    def failed(reason: str, attempts: int) -> FileTransfer:
        _set(con, transport_id, state=FileState.FAILED.value, last_error=reason)
        log.error("not delivered: %s", reason)
        return FileTransfer(
            OUTBOUND, OUTBOUND_KIND, file_name, FileState.FAILED, attempts, None, reason
        )

    if not local.is_file():
        return failed(f"{file_name} is no longer in the outbox {outbox}", attempts_before)
    size = local.stat().st_size
    if sha256_of(local) != sha256:
        return failed(
            f"{file_name} changed in the outbox since it was recorded: not sent", attempts_before
        )
    attempts = attempts_before
    error = ""
    for attempt in range(1, config.attempts + 1):
        attempts += 1
        _set(con, transport_id, attempts=attempts)
        try:
            sftp = await session.sftp()
            uploaded = await _upload(sftp, local, config.outbound_dir, size, sha256, config.verify)
        except _RemoteConflictError as exc:
            return failed(str(exc), attempts)
        except (HostKeyError, AuthenticationError, TransportSetupError) as exc:
            failed(str(exc), attempts)
            raise
        except _RETRYABLE as exc:
            error = f"upload of {file_name} failed: {_describe(exc)}"
            _set(con, transport_id, last_error=error)
            log.warning("%s (attempt %d of %d)", error, attempt, config.attempts)
            await session.reset()
            if attempt < config.attempts:
                await asyncio.sleep(_backoff(config, attempt))
            continue
        _set(
            con,
            transport_id,
            state=FileState.SENT.value,
            last_error=None,
            transferred_at=_now(),
        )
        if uploaded:
            log.info("sent %s (%d bytes)", file_name, size)
            return FileTransfer(OUTBOUND, OUTBOUND_KIND, file_name, FileState.SENT, attempts)
        log.info("%s was already on the server, complete: marked sent", file_name)
        return FileTransfer(
            OUTBOUND,
            OUTBOUND_KIND,
            file_name,
            "already_on_server",
            attempts,
            detail="already on the server (same size and content): not uploaded again",
        )
    return failed(f"{error} ({config.attempts} attempts; tried again next time)", attempts)


async def deliver_async(
    area: WorkArea, config: SftpConfig, *, on_file: OnFile | None = None
) -> DeliveryResult:
    """Upload every published outbox 837 not delivered yet (see the module docstring)."""
    outbox = area.outbox / "837"
    transfers: list[FileTransfer] = []

    def report(transfer: FileTransfer) -> None:
        transfers.append(transfer)
        if on_file is not None:
            on_file(transfer)

    with _warehouse(area) as con:
        _register_outbox(con, outbox, config.outbound_dir)
        for name in _refresh_acknowledgements(con):
            report(FileTransfer(OUTBOUND, OUTBOUND_KIND, name, FileState.ACKNOWLEDGED))
        pending = con.execute(
            f"select file_name, sha256, attempts from {TABLE} "
            "where direction = ? and state in (?, ?) order by file_name",
            [OUTBOUND, FileState.WAITING.value, FileState.FAILED.value],
        ).fetchall()
        if not pending:
            return DeliveryResult(tuple(transfers))
        session = _Session(config)
        try:
            sftp = await session.open_with_retries()
            if await _stat_or_none(sftp, config.outbound_dir) is None:
                raise TransportError(
                    f"the remote outbound folder {config.outbound_dir} does not exist on "
                    f"{session.where} (REVCYCLE_SFTP_OUTBOUND_DIR)"
                )
            log.info("delivering %d file(s) to %s", len(pending), session.where)
            for file_name, sha256, attempts in pending:
                report(
                    await _deliver_file(
                        session, con, outbox, str(file_name), str(sha256), int(attempts)
                    )
                )
        except (asyncssh.Error, OSError, TimeoutError) as exc:  # outside any file's retries
            raise TransportError(f"delivery stopped: {_describe(exc)}") from exc
        finally:
            await session.close()
    return DeliveryResult(tuple(transfers))


def deliver(
    area: WorkArea, config: SftpConfig | None = None, *, on_file: OnFile | None = None
) -> DeliveryResult:
    """:func:`deliver_async` for synchronous callers (the CLI, Prefect tasks)."""
    return asyncio.run(deliver_async(area, config or sftp_from_env(), on_file=on_file))


# --------------------------------------------------------------------------------------------
# Collect


def _plain_remote_name(name: str) -> bool:
    """True for a name a folder listing can hold: no path separator (``/``, or ``\\`` for
    servers on Windows), no NUL, not ``.`` or ``..``. A server that lists ``../outbound/x`` or
    ``/etc/passwd`` must not make us download, move or delete a file outside the folder."""
    return bool(name) and name not in (".", "..") and not any(c in name for c in "/\\\0")


def _local_name(remote_name: str) -> str | None:
    """A safe local file name for a remote one (letters, digits, ``._-``; no leading dot),
    or None when nothing usable is left."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", remote_name).lstrip("._-")
    return cleaned if cleaned and _SAFE_NAME.fullmatch(cleaned) else None


def _publish(temp: Path, folder: Path, name: str) -> str:
    """Give ``temp`` the final ``name`` in ``folder`` without ever replacing a file (a hard
    link fails when the name is taken; then ``<stem>.2<suffix>``, ``.3`` ...)."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    candidate, n = name, 1
    while True:
        try:
            os.link(temp, folder / candidate)
            break
        except FileExistsError:
            n += 1
            candidate = f"{stem}.{n}.{suffix}" if dot else f"{stem}.{n}"
    temp.unlink()
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return candidate


async def _download(sftp: asyncssh.SFTPClient, remote_path: str, temp: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    with os.fdopen(fd, "wb") as out:
        async with sftp.open(remote_path, "rb") as remote:
            while True:
                chunk = await remote.read(_CHUNK, size)
                if not chunk:
                    break
                data = chunk if isinstance(chunk, bytes) else chunk.encode()
                out.write(data)
                digest.update(data)
                size += len(data)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _first_with_content(con: duckdb.DuckDBPyConnection, sha256: str) -> str | None:
    """The file first collected (or loaded) with these bytes, if any."""
    found = con.execute(
        f"select file_name from {TABLE} where direction = ? and sha256 = ? "
        "order by created_at limit 1",
        [INBOUND, sha256],
    ).fetchall()
    if found:
        return str(found[0][0])
    loaded = con.execute(
        "select file_name from ops.load_manifest where sha256 = ? order by loaded_at limit 1",
        [sha256],
    ).fetchall()
    return str(loaded[0][0]) if loaded else None


def _already_collected(
    con: duckdb.DuckDBPyConnection, remote_path: str, size: int, mtime: int | None
) -> bool:
    if mtime is None:
        return False  # without a modification time a re-delivery cannot be told apart
    found = con.execute(
        f"select count(*) from {TABLE} where direction = ? and remote_path = ? "
        "and size_bytes = ? and remote_mtime = ?",
        [INBOUND, remote_path, size, mtime],
    ).fetchall()
    return bool(found[0][0])


async def _after_download(session: _Session, remote_dir: str, name: str) -> None:
    """Move (or delete) a collected remote file. A failure is only a warning: the file is
    collected and recorded, and the next collect recognises it and tries again."""
    if session.config.after_download == "keep":
        return
    try:
        await _move_or_delete(await session.sftp(), session.config, remote_dir, name)
    except _RETRYABLE as exc:
        log.warning(
            "collected %s but could not %s it on the server: %s",
            posixpath.join(remote_dir, name),
            session.config.after_download,
            _describe(exc),
        )
        await session.reset()


async def _move_or_delete(
    sftp: asyncssh.SFTPClient, config: SftpConfig, remote_dir: str, name: str
) -> None:
    remote_path = posixpath.join(remote_dir, name)
    if config.after_download == "delete":
        await sftp.remove(remote_path)
        return
    processed = posixpath.join(remote_dir, config.processed_dir)
    await sftp.makedirs(processed, exist_ok=True)
    target = posixpath.join(processed, name)
    if await _stat_or_none(sftp, target) is not None:  # collected twice under one name
        target = f"{target}.{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    await sftp.rename(remote_path, target)


async def _collect_file(
    session: _Session,
    con: duckdb.DuckDBPyConnection,
    kind: str,
    remote_dir: str,
    name: str,
    attrs: asyncssh.SFTPAttrs,
    folder: Path,
) -> FileTransfer | None:
    """Download one remote file into ``folder``; None when it was collected before."""
    config = session.config
    if not _plain_remote_name(name):
        reason = (
            f"{remote_dir}: the listing holds {name!r}, which is not a plain file name (a path "
            "separator or ..); not collected, nothing done on the server"
        )
        log.error("not collected: %s", reason)
        return FileTransfer(INBOUND, kind, name, FileState.FAILED, 0, None, reason)
    remote_path = posixpath.join(remote_dir, name)
    listed_size = int(attrs.size or 0)
    mtime = int(attrs.mtime) if attrs.mtime is not None else None
    local_name = _local_name(name)
    if local_name is None:
        reason = f"{remote_path}: a file name that cannot be used locally; left on the server"
        log.error("not collected: %s", reason)
        return FileTransfer(INBOUND, kind, name, FileState.FAILED, 0, None, reason)
    if _already_collected(con, remote_path, listed_size, mtime):
        await _after_download(session, remote_dir, name)
        return None
    temp = folder / f"{_LOCAL_TEMP_PREFIX}{local_name}{_REMOTE_TEMP_SUFFIX}"
    error = ""
    for attempt in range(1, config.attempts + 1):
        try:
            sftp = await session.sftp()
            sha256, size = await _download(sftp, remote_path, temp)
            now_attrs = await sftp.stat(remote_path)
            if size != now_attrs.size or size != listed_size or now_attrs.mtime != attrs.mtime:
                raise _TransferCheckError(f"{remote_path} changed while being downloaded")
        except (HostKeyError, AuthenticationError, TransportSetupError):
            temp.unlink(missing_ok=True)
            raise
        except _RETRYABLE as exc:
            temp.unlink(missing_ok=True)
            error = f"download of {remote_path} failed: {_describe(exc)}"
            log.warning("%s (attempt %d of %d)", error, attempt, config.attempts)
            await session.reset()
            if attempt < config.attempts:
                await asyncio.sleep(_backoff(config, attempt))
            continue
        break
    else:
        reason = f"{error} ({config.attempts} attempts; left on the server for the next collect)"
        log.error("not collected: %s", reason)
        return FileTransfer(INBOUND, kind, name, FileState.FAILED, config.attempts, None, reason)

    duplicate_of = _first_with_content(con, sha256)
    stored_as = _publish(temp, folder, local_name)
    state = FileState.DUPLICATE if duplicate_of else FileState.RECEIVED
    now = _now()
    con.execute(
        f"insert into {TABLE} (transport_id, direction, kind, file_name, local_name, "
        "remote_path, sha256, size_bytes, remote_mtime, state, attempts, duplicate_of, "
        "created_at, updated_at, transferred_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            f"in:{uuid.uuid4().hex}",
            INBOUND,
            kind,
            name,
            stored_as,
            remote_path,
            sha256,
            size,
            mtime,
            state.value,
            attempt,
            duplicate_of,
            now,
            now,
            now,
        ],
    )
    if duplicate_of:
        log.info("collected %s %s: same content as %s (loaded once)", kind, name, duplicate_of)
    else:
        log.info("collected %s %s (%d bytes) as %s", kind, name, size, stored_as)
    detail = f"same content as {duplicate_of}" if duplicate_of else None
    await _after_download(session, remote_dir, name)
    return FileTransfer(INBOUND, kind, name, state, attempt, stored_as, detail)


def _is_regular_file(attrs: asyncssh.SFTPAttrs) -> bool:
    if attrs.permissions is not None:
        return stat.S_ISREG(attrs.permissions)
    return attrs.type == asyncssh.FILEXFER_TYPE_REGULAR


async def _list_folder(
    session: _Session, remote_dir: str
) -> list[tuple[str, asyncssh.SFTPAttrs]] | None:
    """The regular files of a remote folder by name, without dot-names (other writers'
    temporary files); None when the folder does not exist."""
    config = session.config
    for attempt in range(1, config.attempts + 1):
        try:
            entries = await (await session.sftp()).readdir(remote_dir)
        except (asyncssh.SFTPNoSuchFile, asyncssh.SFTPNoSuchPath):
            return None
        except _RETRYABLE as exc:
            if attempt == config.attempts:
                raise TransportConnectionError(
                    f"cannot list the remote folder {remote_dir}: {_describe(exc)}"
                ) from None
            log.warning(
                "listing %s failed: %s (attempt %d of %d)",
                remote_dir,
                _describe(exc),
                attempt,
                config.attempts,
            )
            await session.reset()
            await asyncio.sleep(_backoff(config, attempt))
            continue
        files = [
            (entry.filename, entry.attrs)
            for entry in entries
            if isinstance(entry.filename, str)
            and not entry.filename.startswith(".")
            and _is_regular_file(entry.attrs)
        ]
        return sorted(files, key=lambda item: item[0])
    raise AssertionError("attempts is at least 1")  # pragma: no cover


async def collect_async(
    area: WorkArea, config: SftpConfig, *, on_file: OnFile | None = None
) -> CollectResult:
    """Download new files from the remote inbound folders (see the module docstring)."""
    transfers: list[FileTransfer] = []
    missing: list[str] = []
    seen_again = 0
    with _warehouse(area) as con:
        session = _Session(config)
        try:
            await session.open_with_retries()
            for kind, remote_dir in config.inbound_dirs.items():
                folder = area.inbox / kind
                folder.mkdir(parents=True, exist_ok=True)
                folder.chmod(_FOLDER_MODE)
                for stale in folder.glob(f"{_LOCAL_TEMP_PREFIX}*{_REMOTE_TEMP_SUFFIX}"):
                    stale.unlink()  # an interrupted earlier collect (we hold the warehouse)
                files = await _list_folder(session, remote_dir)
                if files is None:
                    log.info("remote folder %s (%s) does not exist: skipped", remote_dir, kind)
                    missing.append(remote_dir)
                    continue
                for name, attrs in files:
                    transfer = await _collect_file(
                        session, con, kind, remote_dir, name, attrs, folder
                    )
                    if transfer is None:
                        seen_again += 1
                        continue
                    transfers.append(transfer)
                    if on_file is not None:
                        on_file(transfer)
        except (asyncssh.Error, OSError, TimeoutError) as exc:  # outside any file's retries
            raise TransportError(f"collect stopped: {_describe(exc)}") from exc
        finally:
            await session.close()
    return CollectResult(tuple(transfers), tuple(missing), seen_again)


def collect(
    area: WorkArea, config: SftpConfig | None = None, *, on_file: OnFile | None = None
) -> CollectResult:
    """:func:`collect_async` for synchronous callers (the CLI, Prefect tasks)."""
    return asyncio.run(collect_async(area, config or sftp_from_env(), on_file=on_file))


# --------------------------------------------------------------------------------------------
# Status


def transport_status(area: WorkArea) -> list[TrackedFile]:
    """Every tracked file, outbound first, after marking newly acknowledged files."""
    with _warehouse(area) as con:
        _refresh_acknowledgements(con)
        rows = con.execute(
            "select direction, kind, file_name, local_name, remote_path, sha256, size_bytes, "
            "state, attempts, last_error, duplicate_of, created_at, updated_at, "
            f"transferred_at, acknowledged_at from {TABLE} "
            "order by direction desc, created_at, file_name"
        ).fetchall()
    return [TrackedFile(*row) for row in rows]


__all__ = [
    "INBOUND",
    "OUTBOUND",
    "TABLE",
    "AuthenticationError",
    "CollectResult",
    "DeliveryResult",
    "FileState",
    "FileTransfer",
    "HostKeyError",
    "TrackedFile",
    "TransportConnectionError",
    "TransportError",
    "TransportSetupError",
    "acknowledged_files",
    "collect",
    "collect_async",
    "deliver",
    "deliver_async",
    "ensure_transport_table",
    "transport_status",
]
