"""Users, groups, logins and tokens, in the words an administrator uses."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from auth.passwords import hash_password, needs_rehash, verify_password
from auth.tokens import mint_token, token_digest
from dms.actor import Actor
from dms.audit import service as audit
from dms.base import utcnow
from dms.errors import (
    Conflict,
    InvalidCredentials,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationFailed,
)
from dms.identity.models import AccessToken, Group, GroupMembership, LoginFailure, User
from dms.names import same_name, without_controls
from dms.serialise import queue_behind_name

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,149}$")
MIN_PASSWORD_LENGTH = 8

log = logging.getLogger("kartoteka.login")


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 10
    window: timedelta = timedelta(minutes=15)
    token_ttl: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    user: User
    expires_at: datetime


async def _hash(password: str) -> str:
    # Argon2 is deliberately slow CPU work: keep it off the event loop.
    return await anyio.to_thread.run_sync(hash_password, password)


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only administrators manage users and groups")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"a password has at least {MIN_PASSWORD_LENGTH} characters", field="password")


async def create_user(
    session: AsyncSession,
    actor: Actor,
    username: str,
    *,
    password: str | None = None,
    is_admin: bool = False,
    display_name: str = "",
    email: str | None = None,
) -> User:
    _require_admin(actor)
    if not USERNAME.match(username):
        raise ValidationFailed(
            "a username is ASCII letters (no diacritics), digits and . _ @ - (up to 150), starting with a letter"
            " or digit",
            field="username",
        )
    if password is not None:
        _check_password(password)
    # Before the first statement: no transaction, so no write lock, is held through Argon2.
    password_hash = await _hash(password) if password is not None else None
    if await session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict(f"the username {username!r} is taken", field="username")
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        is_admin=is_admin,
        password_hash=password_hash,
    )
    session.add(user)
    await session.flush()
    audit.record(session, actor, "user.created", object_type="User", object_id=user.id, admin=is_admin)
    return user


async def user_by_name(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


async def set_password(session: AsyncSession, actor: Actor, username: str, password: str) -> User:
    _check_password(password)
    # Before the first statement: no transaction, so no write lock, is held through Argon2.
    password_hash = await _hash(password)
    user = await user_by_name(session, username)
    if not actor.is_admin and actor.user_id != user.id:
        raise PermissionDenied("you may change only your own password")
    user.password_hash = password_hash
    await revoke_all_tokens(session, user.id)
    audit.record(session, actor, "user.password_changed", object_type="User", object_id=user.id)
    return user


async def disable_user(session: AsyncSession, actor: Actor, username: str) -> User:
    _require_admin(actor)
    user = await user_by_name(session, username)
    user.is_active = False
    revoked = await revoke_all_tokens(session, user.id)
    audit.record(session, actor, "user.disabled", object_type="User", object_id=user.id, tokens_revoked=revoked)
    return user


async def enable_user(session: AsyncSession, actor: Actor, username: str) -> User:
    """Let a disabled user log in again (a mistaken disable, an employee back); their old tokens
    stay revoked."""
    _require_admin(actor)
    user = await user_by_name(session, username)
    if not user.is_active:
        user.is_active = True
        audit.record(session, actor, "user.enabled", object_type="User", object_id=user.id)
    return user


async def list_users(session: AsyncSession, actor: Actor) -> list[User]:
    _require_admin(actor)
    return list((await session.scalars(select(User).order_by(User.username))).all())


async def revoke_all_tokens(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def create_group(session: AsyncSession, actor: Actor, name: str) -> Group:
    _require_admin(actor)
    name = name.strip()
    if not name or len(name) > 150:
        raise ValidationFailed("a group name has 1 to 150 characters", field="name")
    if any(same_name(name, existing) for existing in (await session.scalars(select(Group.name))).all()):
        raise Conflict(f"the group {name!r} exists", field="name")
    group = Group(name=name)
    session.add(group)
    await session.flush()
    audit.record(session, actor, "group.created", object_type="Group", object_id=group.id)
    return group


async def group_by_name(session: AsyncSession, name: str) -> Group:
    # Named as an administrator types it: any case, either Unicode form. Groups made before names
    # were compared so ("Łódź" and "łódź") are told apart by the exact name only.
    groups = [g for g in (await session.scalars(select(Group).order_by(Group.id))).all() if same_name(g.name, name)]
    exact = [g for g in groups if g.name == name]
    if len(exact) == 1 or len(groups) == 1:
        return (exact or groups)[0]
    if groups:
        raise Conflict(
            f"several groups are named so: {', '.join(g.name for g in groups)}; give the exact name", field="group"
        )
    raise NotFound(f"no group {name!r}", field="group")


async def add_member(session: AsyncSession, actor: Actor, group_name: str, username: str) -> bool:
    """Put the user into the group; False when they were in it already."""
    _require_admin(actor)
    group = await group_by_name(session, group_name)
    user = await user_by_name(session, username)
    exists = await session.scalar(
        select(GroupMembership.group_id).where(GroupMembership.group_id == group.id, GroupMembership.user_id == user.id)
    )
    if exists is not None:
        return False
    session.add(GroupMembership(group_id=group.id, user_id=user.id))
    audit.record(session, actor, "group.member_added", object_type="Group", object_id=group.id, user=username)
    return True


async def remove_member(session: AsyncSession, actor: Actor, group_name: str, username: str) -> bool:
    """Take the user out of the group; False when they were not in it."""
    _require_admin(actor)
    group = await group_by_name(session, group_name)
    user = await user_by_name(session, username)
    removed = await session.execute(
        delete(GroupMembership).where(GroupMembership.group_id == group.id, GroupMembership.user_id == user.id)
    )
    if not getattr(removed, "rowcount", 0):
        return False
    audit.record(session, actor, "group.member_removed", object_type="Group", object_id=group.id, user=username)
    return True


async def log_in(
    session: AsyncSession, username: str, password: str, *, address: str, policy: LoginPolicy
) -> IssuedToken:
    """Check the password and issue a token; the same refusal for an unknown user and a bad password.

    Failures are counted per (username, address) pair: after `policy.max_failures` within the window
    that pair is refused (even with the right password) until the window has passed.

    The password is checked between two short transactions, not inside one: Argon2 takes a tenth
    of a second and more on purpose, and a writing transaction holds SQLite's one write lock, so
    every check-in, upload and download waited behind each login. The attempt is counted as a
    failure before the check and the count taken back when it succeeds, so guesses sent at once
    still see each other.
    """
    now = utcnow()
    key = without_controls(username).lower()[:150]  # it is stored: PostgreSQL cannot store a NUL
    # One attempt per pair at a time, else guesses sent at once all pass the count below.
    await queue_behind_name(session, f"login {key} {address}")
    recent_failures = await session.scalar(
        select(func.count())
        .select_from(LoginFailure)
        .where(
            LoginFailure.username == key,
            LoginFailure.address == address,
            LoginFailure.at > now - policy.window,
        )
    )
    if (recent_failures or 0) >= policy.max_failures:
        audit.record(session, None, "login.throttled", address=address, username=key)
        log.warning("login refused: too many failures", extra={"username": key, "address": address})
        await session.commit()
        raise TooManyAttempts()
    user = await session.scalar(select(User).where(func.lower(User.username) == key))
    checked_hash = user.password_hash if user else None
    session.add(LoginFailure(username=key, address=address, at=now))
    await session.commit()

    matches = await anyio.to_thread.run_sync(verify_password, checked_hash, password)
    rehashed = await _hash(password) if matches and checked_hash and needs_rehash(checked_hash) else None

    # The user as now: disabled, or given another password, while the password was checked.
    user = (
        await session.scalar(select(User).where(User.id == user.id).execution_options(populate_existing=True))
        if user
        else None
    )
    if not matches or user is None or not user.is_active or user.password_hash != checked_hash:
        audit.record(session, None, "login.failed", address=address, username=key)
        log.warning("login failed", extra={"username": key, "address": address})
        # Committed before refusing: counting the failure is the point of recording it.
        await session.commit()
        raise InvalidCredentials()
    if rehashed is not None:
        user.password_hash = rehashed
    token, digest = mint_token()
    expires_at = now + policy.token_ttl
    session.add(AccessToken(user_id=user.id, digest=digest, created_at=now, expires_at=expires_at))
    await session.execute(delete(LoginFailure).where(LoginFailure.username == key, LoginFailure.address == address))
    # The user is who acted: their logins show among everything else they did.
    who = Actor(user_id=user.id, username=user.username, is_admin=user.is_admin, address=address)
    audit.record(session, who, "login.succeeded", object_type="User", object_id=user.id, address=address)
    return IssuedToken(token=token, user=user, expires_at=expires_at)


async def actor_for_token(session: AsyncSession, token: str, *, address: str | None = None) -> Actor | None:
    """The actor a bearer token stands for; None when unknown, expired, revoked, or the user is disabled."""
    row = (
        await session.execute(
            select(AccessToken.id, User.id, User.username, User.is_admin)
            .join(User, User.id == AccessToken.user_id)
            .where(
                AccessToken.digest == token_digest(token),
                AccessToken.revoked_at.is_(None),
                AccessToken.expires_at > utcnow(),
                User.is_active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    token_id, user_id, username, is_admin = row
    return Actor(user_id=user_id, username=username, is_admin=is_admin, address=address, token_id=token_id)


async def log_out(session: AsyncSession, actor: Actor) -> None:
    if actor.token_id is None:
        return
    await session.execute(update(AccessToken).where(AccessToken.id == actor.token_id).values(revoked_at=utcnow()))
    audit.record(session, actor, "token.revoked", object_type="User", object_id=actor.user_id)
