"""``--web.config.file``: TLS, client certificates and basic auth for the exporter.

The file is Prometheus exporter-toolkit's (docs/exporter.md), so one file serves cnet and
the node exporter alike: ``tls_server_config`` (``cert_file``, ``key_file``,
``client_auth_type``, ``client_ca_file``, ``min_version``, ``max_version``) and
``basic_auth_users`` (user: bcrypt hash).  Everything is checked when the exporter starts
(certificates loaded, hashes parsed): a mistake is one line naming the file, not a
server that refuses every scrape.  A key cnet does not implement is refused rather than
ignored, so a setting never silently does nothing.  Relative paths are relative to the
file's directory, as in exporter-toolkit.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_FILE_BYTES = 1 << 20
"""A web config is a few lines; anything this large is not one."""

TLS_KEYS = frozenset(
    {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version"}
)
TOP_KEYS = frozenset({"tls_server_config", "basic_auth_users"})

CLIENT_AUTH: Mapping[str, ssl.VerifyMode] = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
UNVERIFIED_CLIENT_AUTH = frozenset({"RequestClientCert", "RequireAnyClientCert"})
"""exporter-toolkit's modes that accept a certificate without checking it: Python's ssl
cannot ask for one without verifying it, and cnet would not want to."""

TLS_VERSIONS: Mapping[str, ssl.TLSVersion] = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


class WebConfigError(Exception):
    """A web config cnet cannot use; the message is one line that names the file."""


@dataclass(frozen=True)
class TlsConfig:
    cert_file: str
    key_file: str
    client_auth_type: str = "NoClientCert"
    client_ca_file: str | None = None
    min_version: str = "TLS12"
    max_version: str | None = None


@dataclass(frozen=True)
class WebConfig:
    path: str
    tls: TlsConfig | None = None
    users: Mapping[str, bytes] = field(default_factory=dict)
    """User name -> bcrypt hash; empty: no basic auth."""


def load_web_config(path: str) -> WebConfig:
    """The file, checked; WebConfigError (one line naming ``path``) when it is unusable."""

    def fail(why: str) -> WebConfigError:
        return WebConfigError(f"{path}: {why}")

    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(f"cannot read it: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise fail(f"larger than {MAX_FILE_BYTES} bytes: not a web config")
    data = _parse_yaml(raw, fail)
    if data is None:
        return WebConfig(path)
    if not isinstance(data, dict):
        raise fail("not a YAML mapping of tls_server_config and basic_auth_users")
    _known(data, TOP_KEYS, "", fail)
    base = os.path.dirname(os.path.abspath(path))
    tls = _tls(data.get("tls_server_config"), base, fail)
    users = _users(data.get("basic_auth_users"), fail)
    config = WebConfig(path, tls, users)
    if tls is not None:
        ssl_context(config)  # unreadable or mismatched files fail now, not at a scrape
    return config


def _parse_yaml(raw: bytes, fail: Any) -> Any:
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise fail(f"not valid YAML{where}: {problem}") from None


def _known(data: dict[Any, Any], allowed: frozenset[str], within: str, fail: Any) -> None:
    for key in data:
        if key not in allowed:
            raise fail(f"unknown key {within}{key!r} (cnet reads {', '.join(sorted(allowed))})")


def _text(data: dict[Any, Any], key: str, fail: Any) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise fail(f"tls_server_config.{key} must be a non-empty string")
    return value


def _tls(data: Any, base: str, fail: Any) -> TlsConfig | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise fail("tls_server_config must be a mapping")
    _known(data, TLS_KEYS, "tls_server_config.", fail)
    cert, key = _text(data, "cert_file", fail), _text(data, "key_file", fail)
    if cert is None or key is None:
        raise fail(f"tls_server_config needs {'cert_file' if cert is None else 'key_file'}")
    auth = _text(data, "client_auth_type", fail) or "NoClientCert"
    if auth in UNVERIFIED_CLIENT_AUTH:
        raise fail(
            f"client_auth_type {auth} accepts unverified certificates: cnet supports "
            "NoClientCert, VerifyClientCertIfGiven and RequireAndVerifyClientCert"
        )
    if auth not in CLIENT_AUTH:
        raise fail(f"unknown client_auth_type {auth!r} (one of {', '.join(CLIENT_AUTH)})")
    ca = _text(data, "client_ca_file", fail)
    if auth != "NoClientCert" and ca is None:
        raise fail(f"client_auth_type {auth} needs client_ca_file")
    if auth == "NoClientCert" and ca is not None:
        raise fail("client_ca_file is set but client_auth_type is NoClientCert")
    versions = [_text(data, k, fail) for k in ("min_version", "max_version")]
    for v in versions:
        if v is not None and v not in TLS_VERSIONS:
            raise fail(f"unknown TLS version {v!r} (one of {', '.join(TLS_VERSIONS)})")

    def here(p: str) -> str:
        return os.path.join(base, p)

    return TlsConfig(
        cert_file=here(cert),
        key_file=here(key),
        client_auth_type=auth,
        client_ca_file=here(ca) if ca is not None else None,
        min_version=versions[0] or "TLS12",
        max_version=versions[1],
    )


def _users(data: Any, fail: Any) -> dict[str, bytes]:
    import bcrypt

    if data is None:
        return {}
    if not isinstance(data, dict):
        raise fail("basic_auth_users must be a mapping of user names to bcrypt hashes")
    users: dict[str, bytes] = {}
    for user, hashed in data.items():
        if not isinstance(user, str) or not user or ":" in user:
            raise fail(f"basic_auth_users: bad user name {user!r}")
        if not isinstance(hashed, str) or not hashed.startswith(BCRYPT_PREFIXES):
            raise fail(f"basic_auth_users.{user}: not a bcrypt hash (htpasswd -nBC 10 {user})")
        try:
            bcrypt.checkpw(b"", hashed.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise fail(f"basic_auth_users.{user}: not a valid bcrypt hash") from None
        users[user] = hashed.encode("ascii")
    return users


def ssl_context(config: WebConfig) -> ssl.SSLContext | None:
    """The server's TLS context for ``config`` (None: plain HTTP); WebConfigError when a
    certificate, key or CA file cannot be loaded."""
    tls = config.tls
    if tls is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = TLS_VERSIONS[tls.min_version]
    if tls.max_version is not None:
        ctx.maximum_version = TLS_VERSIONS[tls.max_version]
    try:
        ctx.load_cert_chain(tls.cert_file, tls.key_file)
    except (OSError, ssl.SSLError) as exc:
        raise WebConfigError(
            f"{config.path}: cannot load cert_file {tls.cert_file} with key_file "
            f"{tls.key_file}: {_reason(exc)}"
        ) from None
    ctx.verify_mode = CLIENT_AUTH[tls.client_auth_type]
    if tls.client_ca_file is not None:
        try:
            ctx.load_verify_locations(cafile=tls.client_ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise WebConfigError(
                f"{config.path}: cannot load client_ca_file {tls.client_ca_file}: {_reason(exc)}"
            ) from None
    return ctx


def _reason(exc: OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return str(exc.reason or exc)
    return str(exc.strerror or exc)
