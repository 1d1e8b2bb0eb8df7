"""A server that cannot start skips its tests locally but fails them on CI."""

import pytest

from tests.servers import server_unavailable


@pytest.mark.parametrize("ci", ["true", "TRUE", "True"])
def test_an_unavailable_server_fails_the_test_on_ci(monkeypatch: pytest.MonkeyPatch, ci: str):
    monkeypatch.setenv("CI", ci)

    with pytest.raises(pytest.fail.Exception, match="no weed"):
        server_unavailable("no weed")


@pytest.mark.parametrize("ci", [None, "", "false", "1"])
def test_an_unavailable_server_skips_the_test_elsewhere(monkeypatch: pytest.MonkeyPatch, ci: str | None):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)

    with pytest.raises(pytest.skip.Exception, match="no weed"):
        server_unavailable("no weed")
