"""Settings that come from the environment, with defaults for the simulated clearinghouse.

Until a real clearinghouse exists, every 837 goes to revcycle's simulated one (ISA15 ``T``).
A billing office sets its own identities with the variables below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal, cast

from revcycle.x12.envelope import SubmitterConfig


def submitter_from_env() -> SubmitterConfig:
    env = os.environ.get
    return SubmitterConfig(
        submitter_name=env("REVCYCLE_SUBMITTER_NAME", "REVCYCLE BILLING OFFICE"),
        submitter_id=env("REVCYCLE_SUBMITTER_ID", "REVCYCLE01"),
        contact_name=env("REVCYCLE_CONTACT_NAME", "BILLING DESK"),
        contact_phone=env("REVCYCLE_CONTACT_PHONE", "9165550100"),
        receiver_name=env("REVCYCLE_RECEIVER_NAME", "REVCYCLE SIMULATED CLEARINGHOUSE"),
        receiver_id=env("REVCYCLE_RECEIVER_ID", "RCSIMCH"),
        usage_indicator=env("REVCYCLE_ISA15", "T"),
    )


# --------------------------------------------------------------------------------------------
# Clearinghouse transport (SFTP): see revcycle.transport and the README's settings table.

SFTP_INBOUND_KINDS = ("999", "277ca", "835", "271")
"""The answers collected from the clearinghouse, one remote folder each (``data/inbox/<kind>/``
locally). 271 files are collected now; the inbox loader reads them once eligibility comes."""

AfterDownload = Literal["move", "delete", "keep"]
VerifyMode = Literal["sha256", "size"]
_AFTER_DOWNLOAD: tuple[AfterDownload, ...] = ("move", "delete", "keep")
_VERIFY: tuple[VerifyMode, ...] = ("sha256", "size")


class SftpConfigError(ValueError):
    """The SFTP settings are missing or inconsistent; the message names the variable."""


@dataclass(frozen=True)
class SftpConfig:
    """Where and how to reach the clearinghouse's SFTP server.

    Key authentication only (no password, no agent, no ``~/.ssh/config``). The server's host
    key is always checked, against ``known_hosts`` (an OpenSSH known_hosts file) or a pinned
    ``host_key`` (its public key, ``ssh-ed25519 AAAA...``): one of them must be set, never
    neither. Remote folders are relative to the login folder unless absolute.
    """

    host: str
    user: str
    key_path: Path
    port: int = 22
    known_hosts: Path | None = None
    host_key: str | None = None
    key_passphrase: str | None = field(default=None, repr=False)
    outbound_dir: str = "outbound"
    inbound_dirs: Mapping[str, str] = field(
        default_factory=lambda: {kind: f"inbound/{kind}" for kind in SFTP_INBOUND_KINDS}
    )
    after_download: AfterDownload = "move"
    processed_dir: str = "processed"
    verify: VerifyMode = "sha256"
    attempts: int = 3
    backoff_seconds: float = 2.0
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.host:
            raise SftpConfigError("no SFTP host (REVCYCLE_SFTP_HOST)")
        if not self.user:
            raise SftpConfigError("no SFTP user (REVCYCLE_SFTP_USER)")
        if not 0 < self.port < 65536:
            raise SftpConfigError(f"SFTP port {self.port} is not a port (REVCYCLE_SFTP_PORT)")
        if self.known_hosts is None and not self.host_key:
            raise SftpConfigError(
                "no host key to check the clearinghouse's server against: set "
                "REVCYCLE_SFTP_KNOWN_HOSTS (a known_hosts file) or REVCYCLE_SFTP_HOST_KEY "
                "(its public key); host key checking is never turned off"
            )
        if self.known_hosts is not None and self.host_key:
            raise SftpConfigError(
                "set REVCYCLE_SFTP_KNOWN_HOSTS or REVCYCLE_SFTP_HOST_KEY, not both"
            )
        if not self.outbound_dir:
            raise SftpConfigError("no remote outbound folder (REVCYCLE_SFTP_OUTBOUND_DIR)")
        unknown = sorted(set(self.inbound_dirs) - set(SFTP_INBOUND_KINDS))
        if unknown:
            raise SftpConfigError(f"unknown inbound kind(s): {', '.join(unknown)}")
        if self.after_download not in _AFTER_DOWNLOAD:
            raise SftpConfigError(
                f"REVCYCLE_SFTP_AFTER_DOWNLOAD must be one of {', '.join(_AFTER_DOWNLOAD)}"
            )
        processed = PurePosixPath(self.processed_dir)
        if not self.processed_dir or processed.is_absolute() or ".." in processed.parts:
            raise SftpConfigError(
                "REVCYCLE_SFTP_PROCESSED_DIR must be a folder name inside each inbound folder"
            )
        if self.verify not in _VERIFY:
            raise SftpConfigError(f"REVCYCLE_SFTP_VERIFY must be one of {', '.join(_VERIFY)}")
        if self.attempts < 1:
            raise SftpConfigError("REVCYCLE_SFTP_ATTEMPTS must be at least 1")
        if self.backoff_seconds < 0 or self.timeout_seconds <= 0:
            raise SftpConfigError("SFTP backoff and timeout must be positive")

    @property
    def host_key_source(self) -> str:
        """Where the trusted host key comes from, for messages."""
        if self.host_key:
            return "the pinned key REVCYCLE_SFTP_HOST_KEY"
        return f"the known_hosts file {self.known_hosts}"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise SftpConfigError(f"{name} must be a whole number, not {raw!r}") from None


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SftpConfigError(f"{name} must be a number, not {raw!r}") from None


def sftp_from_env() -> SftpConfig:
    """The SFTP settings from ``REVCYCLE_SFTP_*`` variables (README, "Settings").

    Without ``REVCYCLE_SFTP_KNOWN_HOSTS`` or ``REVCYCLE_SFTP_HOST_KEY``, ``~/.ssh/known_hosts``
    is used when it exists (as ssh does); otherwise this refuses, naming both variables."""
    env = os.environ.get
    missing = [
        name
        for name in ("REVCYCLE_SFTP_HOST", "REVCYCLE_SFTP_USER", "REVCYCLE_SFTP_KEY")
        if not env(name, "").strip()
    ]
    if missing:
        raise SftpConfigError(f"SFTP transport is not configured: set {', '.join(missing)}")
    known_hosts_value = env("REVCYCLE_SFTP_KNOWN_HOSTS", "").strip()
    host_key = env("REVCYCLE_SFTP_HOST_KEY", "").strip() or None
    known_hosts = Path(known_hosts_value).expanduser() if known_hosts_value else None
    if known_hosts is None and host_key is None:
        default = Path("~/.ssh/known_hosts").expanduser()
        known_hosts = default if default.is_file() else None
    inbound = {
        kind: env(f"REVCYCLE_SFTP_INBOUND_{kind.upper()}_DIR", f"inbound/{kind}").strip()
        for kind in SFTP_INBOUND_KINDS
    }
    return SftpConfig(
        host=env("REVCYCLE_SFTP_HOST", "").strip(),
        port=_env_int("REVCYCLE_SFTP_PORT", 22),
        user=env("REVCYCLE_SFTP_USER", "").strip(),
        key_path=Path(env("REVCYCLE_SFTP_KEY", "").strip()).expanduser(),
        key_passphrase=env("REVCYCLE_SFTP_KEY_PASSPHRASE") or None,
        known_hosts=known_hosts,
        host_key=host_key,
        outbound_dir=env("REVCYCLE_SFTP_OUTBOUND_DIR", "outbound").strip(),
        inbound_dirs={kind: folder for kind, folder in inbound.items() if folder},
        after_download=cast(AfterDownload, env("REVCYCLE_SFTP_AFTER_DOWNLOAD", "move").strip()),
        processed_dir=env("REVCYCLE_SFTP_PROCESSED_DIR", "processed").strip(),
        verify=cast(VerifyMode, env("REVCYCLE_SFTP_VERIFY", "sha256").strip()),
        attempts=_env_int("REVCYCLE_SFTP_ATTEMPTS", 3),
        backoff_seconds=_env_float("REVCYCLE_SFTP_BACKOFF_SECONDS", 2.0),
        timeout_seconds=_env_float("REVCYCLE_SFTP_TIMEOUT_SECONDS", 30.0),
    )
