"""Every setting of Kartoteka, read from `KARTOTEKA_*` environment variables (and CLI flags)."""

from __future__ import annotations

import difflib
import json
import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dms.times import DEFAULT_BUSINESS_ZONE

_PUBLIC_URL = re.compile(r"https?://[^/?#\s]+(/[^?#\s]*)?")
_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
#: The shortest signing key accepted: a short one can be guessed, and a link forged with it.
MIN_SECRET_KEY_LENGTH = 16


class Settings(BaseSettings):
    """The one settings object; nothing outside `kartoteka/` reads the environment."""

    # populate_by_name: settings with an older name too are still set by their field name in code.
    model_config = SettingsConfigDict(env_prefix="KARTOTEKA_", extra="ignore", populate_by_name=True)

    data_dir: Path = Path("data")
    database_url: str | None = None
    storage_url: str | None = None
    index_dir: Path | None = None
    secret_key: str | None = Field(default=None, min_length=MIN_SECRET_KEY_LENGTH)

    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_secure: bool = True
    s3_region: str | None = None
    # Where clients reach the S3 endpoint, when not where the server does (compose: the server at
    # minio:9000, a browser at localhost:9000): presigned URLs (staged uploads, redirected
    # downloads) name this host, and their signatures cover it.
    s3_public_endpoint: str | None = None

    max_upload_bytes: int = Field(default=2 * 1024**3, gt=0)
    # How long a check-out lasts unless renewed: seconds (900) or a duration (PT15M, 00:15:00);
    # unset, until checked in, cancelled or broken. KARTOTEKA_LOCK_TTL_SECONDS is its older name.
    lock_ttl: timedelta | None = Field(
        default=None, validation_alias=AliasChoices("KARTOTEKA_LOCK_TTL", "KARTOTEKA_LOCK_TTL_SECONDS")
    )
    token_ttl_seconds: int = Field(default=12 * 3600, gt=0)
    download_url_ttl_seconds: int = Field(default=3600, gt=0)
    staged_upload_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    download_redirect_to_storage: bool = False

    max_query_depth: int = Field(default=12, gt=0)
    max_query_tokens: int = Field(default=5000, gt=0)
    max_query_bytes: int = Field(default=100_000, gt=0)
    # Fields an answer may hold once every page and list is full (schema/query_cost.py). The dearest
    # client queries estimate below: a full card with pages of 50 cases, events and documents
    # about 39 000, an address book of 20 cards with their people and how to reach them about
    # 63 000, documents(first: 100) with version, lock and counterparty about 3 800, search(first:
    # 100) with highlights and facets about 4 400. Strawberry resolves some 25 000 fields a second
    # on a small machine: 100 000 is a few seconds at worst, while two connections of 100 nested
    # under 29 aliases estimate 880 000 (a 16 MB answer that took 35 s and held the database pool).
    max_query_cost: int = Field(default=100_000, gt=0)
    max_page_size: int = Field(default=100, gt=0)
    default_page_size: int = Field(default=50, gt=0)

    login_max_failures: int = Field(default=10, gt=0)
    login_window_seconds: int = Field(default=15 * 60, gt=0)

    embedded_indexer: bool = True
    indexer_poll_seconds: float = Field(default=0.5, gt=0, allow_inf_nan=False)
    # Addresses of reverse proxies whose X-Forwarded-For/-Proto to believe (comma-separated, or
    # "*"); unset: none, and every client is the address it connects from.
    forwarded_allow_ips: str | None = None
    # The address clients reach the server at (https://dms.example.com, or with a path under
    # which a proxy serves it): download and upload links start with it. Unset: the address each
    # request came to, as its Host header says.
    public_url: str | None = None
    # How long a stopping server lets transfers still running finish before it closes them.
    shutdown_grace_seconds: float = Field(default=30.0, ge=0, allow_inf_nan=False)
    # A request body that sends nothing for this long is refused with 408 and its connection closed.
    body_idle_timeout_seconds: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    # Each is a process started when needed, capped at 1 GiB: parsers run outside the server.
    extraction_workers: int = Field(default_factory=lambda: min(2, os.cpu_count() or 1), gt=0, le=64)

    # A JSON list, or origins separated by commas.
    cors_origins: Annotated[list[str], NoDecode] = []
    introspection: bool = True
    # None: same-origin only, plus the hash of GraphiQL's inline script (kartoteka/security_headers.py).
    content_security_policy: str | None = None
    # The company's time zone: where months and years start for event and case numbers.
    time_zone: str = DEFAULT_BUSINESS_ZONE
    log_level: LogLevel = "INFO"
    # /metrics: on by default (counts and timings, no data); with a token, scrapes must present it.
    metrics_enabled: bool = True
    metrics_token: str | None = None

    @field_validator("data_dir", "index_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError as exc:
                    raise ValueError("not a JSON list of origins") from exc
            else:
                value = [origin.strip() for origin in text.split(",") if origin.strip()]
        if isinstance(value, list):
            for origin in value:
                if not isinstance(origin, str) or not (origin == "*" or _ORIGIN.match(origin)):
                    raise ValueError(f"{origin!r} is not an origin such as https://crm.example.com")
        return value

    @field_validator("public_url", mode="after")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if not _PUBLIC_URL.fullmatch(url):
            raise ValueError(f"{value!r} is not an address such as https://dms.example.com (no query, no fragment)")
        return url

    @field_validator("lock_ttl", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        # An environment variable is text, and pydantic reads a bare number of seconds only as a number.
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            try:
                return float(text)
            except ValueError:
                return text
        return value

    @field_validator("lock_ttl", mode="after")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be longer than 0 s: seconds (900) or a duration (PT15M, 00:15:00)")
        return value

    @field_validator("time_zone", mode="after")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a time zone such as Europe/Warsaw") from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        # Lower case (`info`) has always been accepted; logging's own names are upper case.
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _default_page_within_the_maximum(self) -> Settings:
        if self.default_page_size > self.max_page_size:
            # Every list asked for without `first` would be refused for a size the client never sent.
            raise ValueError(
                f"KARTOTEKA_DEFAULT_PAGE_SIZE ({self.default_page_size}) is above "
                f"KARTOTEKA_MAX_PAGE_SIZE ({self.max_page_size})"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'kartoteka.sqlite3'}"

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or (self.data_dir / "blobs").as_uri()

    @property
    def resolved_index_dir(self) -> Path:
        return self.index_dir or self.data_dir / "index"

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(seconds=self.token_ttl_seconds)

    @property
    def download_url_ttl(self) -> timedelta:
        return timedelta(seconds=self.download_url_ttl_seconds)

    def resolved_secret_key(self) -> str:
        """The signing key: the configured one, else one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            key = path.read_text().strip()
            if len(key) < MIN_SECRET_KEY_LENGTH:
                # An empty file (a full disk, an interrupted copy) would sign links anyone can forge.
                raise ValueError(
                    f"the key file {path} holds {len(key)} characters, fewer than {MIN_SECRET_KEY_LENGTH}: "
                    "restore it from a backup, or delete it to have a new one made (links issued "
                    "before then stop working)"
                )
            return key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Created with 0600 so the key never becomes world-readable, even for a moment.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as out:
            out.write(key)
        return key


def describe_invalid(error: ValidationError) -> str:
    """One line naming each rejected environment variable with pydantic's reason."""
    return "; ".join(
        f"{_variable(str(detail['loc'][0]))}: {detail['msg']}" if detail["loc"] else detail["msg"]
        for detail in error.errors(include_url=False)
    )


def _variable(name: str) -> str:
    """The environment variable of a setting named by its field or by its alias (already in full);
    of a setting's several names, the one the environment sets."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    name = name.upper()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices) and name in alias.choices:
            return next((str(c) for c in alias.choices if str(c) in os.environ), name)
    return name if name.startswith(prefix) else prefix + name


def setting_variables() -> list[str]:
    """Every environment variable that sets something, older names included."""
    names = []
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names += [str(c) for c in alias.choices] if isinstance(alias, AliasChoices) else [_variable(field_name)]
    return names


def misspelt_settings(environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """(name, the setting it was likely meant to be) for each KARTOTEKA_ variable that is no setting
    but nearly one (`KARTOTEKA_DATABSE_URL`): ignored, it would leave the default in force, quietly
    (an empty SQLite database, an open /metrics). Other KARTOTEKA_ names (a script's own) pass."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    known = setting_variables()
    found = []
    for name in sorted(environ):
        if name.upper().startswith(prefix) and name.upper() not in known:
            close = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.9)
            if close:
                found.append((name, close[0]))
    return found
