from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles

from auth import passwords


@pytest.fixture
def production_hashing() -> Iterator[None]:
    """The hasher the application runs with, not the cheap one the suite installs (tests/conftest.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher())
        yield


def test_passwords_are_hashed_with_rfc_9106_argon2id(production_hashing: None) -> None:
    hashed = passwords.hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert extract_parameters(hashed) == profiles.RFC_9106_LOW_MEMORY
    assert passwords.verify_password(hashed, "correct horse")
    assert not passwords.needs_rehash(hashed)


def test_a_hash_is_salted() -> None:
    assert passwords.hash_password("correct horse") != passwords.hash_password("correct horse")


@pytest.mark.parametrize("attempt", ["Correct horse", "correct horse ", ""])
def test_another_password_does_not_verify(attempt: str) -> None:
    assert not passwords.verify_password(passwords.hash_password("correct horse"), attempt)


@pytest.mark.parametrize("stored", [None, "", "not-a-hash", "$argon2id$v=19$broken"])
def test_a_missing_or_damaged_hash_verifies_nothing(stored: str | None) -> None:
    assert not passwords.verify_password(stored, "kartoteka-dummy-password")


def test_a_hash_made_with_weaker_parameters_needs_rehashing(production_hashing: None) -> None:
    weak = PasswordHasher.from_parameters(profiles.CHEAPEST).hash("correct horse")
    assert passwords.verify_password(weak, "correct horse")
    assert passwords.needs_rehash(weak)
