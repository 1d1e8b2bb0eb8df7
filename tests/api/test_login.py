"""Logging in and out, token lifetime, disabled users and throttling — from the refused side too."""

from __future__ import annotations

from dms.actor import SYSTEM
from dms.identity import service as identity
from tests.conftest import PASSWORD, Client, logged_in, make_user

LOGIN = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token user { username } userErrors { code message } } }"


async def test_login_returns_a_token_that_identifies_the_user(alice):
    me = await alice.gql("{ me { username } }")
    assert me.data == {"me": {"username": "alice"}}


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(db, anonymous):
    await make_user(db, "carol")
    wrong_password = await anonymous.gql(LOGIN, u="carol", p="not the password")
    unknown_user = await anonymous.gql(LOGIN, u="nobody", p="not the password")
    assert wrong_password.payload("login") == unknown_user.payload("login")
    assert wrong_password.codes("login") == ["INVALID_CREDENTIALS"]
    assert wrong_password.payload("login")["token"] is None


async def test_repeated_failures_lock_the_pair_even_for_the_right_password(db, anonymous, settings):
    await make_user(db, "carol")
    for _ in range(settings.login_max_failures):
        await anonymous.gql(LOGIN, u="carol", p="guess")
    throttled = await anonymous.gql(LOGIN, u="carol", p=PASSWORD)
    assert throttled.codes("login") == ["RATE_LIMITED"]


async def test_logout_revokes_the_token(alice):
    result = await alice.gql("mutation { logout { ok userErrors { code } } }")
    assert result.payload("logout")["ok"] is True
    after = await alice.gql("{ me { username } documents { totalCount } }")
    assert after.error_codes == ["UNAUTHENTICATED"]


async def test_disabling_a_user_revokes_their_tokens(alice, db):
    async with db.sessions() as session:
        await identity.disable_user(session, SYSTEM, "alice")
        await session.commit()
    after = await alice.gql("{ me { username } documents { totalCount } }")
    assert after.error_codes == ["UNAUTHENTICATED"]


async def test_an_invented_token_is_anonymous(http):
    client = Client(http, token="kt_invented")
    result = await client.gql("{ documents { totalCount } }")
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_an_expired_token_is_anonymous(db, http, services):
    from datetime import timedelta

    from sqlalchemy import update

    from dms.base import utcnow
    from dms.identity.models import AccessToken

    await make_user(db, "dave")
    client = await logged_in(http, "dave")
    async with db.sessions() as session:
        await session.execute(update(AccessToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    assert (await client.gql("{ documents { totalCount } }")).error_codes == ["UNAUTHENTICATED"]


async def test_logins_are_audited_with_the_client_address(alice, admin):
    log = await admin.gql(
        '{ auditLog(filter: {action: "login.succeeded"}) { edges { node { address actor { username } } } } }'
    )
    addresses = {edge["node"]["address"] for edge in log.data["auditLog"]["edges"]}
    assert addresses == {"127.0.0.9"}
    # Each login is its user's own act, among the rest of what they did.
    assert sorted(edge["node"]["actor"]["username"] for edge in log.data["auditLog"]["edges"]) == ["admin", "alice"]


async def test_me_is_null_for_an_anonymous_request(anonymous):
    result = await anonymous.gql("{ me { username } }")
    assert result.data == {"me": None}


async def test_guesses_sent_at_once_are_all_counted(db, anonymous, settings):
    import asyncio

    await make_user(db, "carol")
    answers = await asyncio.gather(*(anonymous.gql(LOGIN, u="carol", p=f"guess {i}") for i in range(8)))
    codes = sorted(answer.codes("login")[0] for answer in answers)
    assert codes == ["INVALID_CREDENTIALS"] * settings.login_max_failures + ["RATE_LIMITED"] * (
        8 - settings.login_max_failures
    )
    assert (await anonymous.gql(LOGIN, u="carol", p=PASSWORD)).codes("login") == ["RATE_LIMITED"]


async def test_a_login_holds_no_write_lock_while_the_password_is_checked(db, anonymous, monkeypatch):
    import asyncio

    import anyio.from_thread

    from dms.audit import service as audit

    await make_user(db, "carol")
    checked = identity.verify_password
    others_wrote: list[bool] = []

    async def another_write() -> None:
        # On SQLite a writer waits for the one write lock: while a login held it, this timed out.
        async with asyncio.timeout(5), db.write_sessions() as session:
            audit.record(session, SYSTEM, "test.meanwhile")
            await session.commit()
        others_wrote.append(True)

    def verify_while_another_writes(password_hash: str | None, password: str) -> bool:
        anyio.from_thread.run(another_write)
        return checked(password_hash, password)

    monkeypatch.setattr(identity, "verify_password", verify_while_another_writes)
    assert (await anonymous.gql(LOGIN, u="carol", p="wrong")).codes("login") == ["INVALID_CREDENTIALS"]
    assert (await anonymous.gql(LOGIN, u="carol", p=PASSWORD)).payload("login")["token"]
    assert others_wrote == [True, True]


async def test_a_user_disabled_while_their_password_is_checked_gets_no_token(db, anonymous, monkeypatch):
    import anyio.from_thread

    await make_user(db, "carol")
    checked = identity.verify_password

    async def disable() -> None:
        async with db.write_sessions() as session:
            await identity.disable_user(session, SYSTEM, "carol")
            await session.commit()

    def verify_while_disabled(password_hash: str | None, password: str) -> bool:
        anyio.from_thread.run(disable)
        return checked(password_hash, password)

    monkeypatch.setattr(identity, "verify_password", verify_while_disabled)
    refused = await anonymous.gql(LOGIN, u="carol", p=PASSWORD)
    assert refused.codes("login") == ["INVALID_CREDENTIALS"] and refused.payload("login")["token"] is None
