"""The case page keeps its scored duplicate suggestions for a while (CASE_MATCHES_SECONDS):
a million-case base makes the search the page's largest cost. What must still show at once
does: a newly recorded duplicate, a "not the same person" decision."""

from __future__ import annotations

import pickle
from html import unescape

import pytest

from cases.extensions import cache
from cases.matching import candidates

from ..factories import make_case


@pytest.fixture
def kept(app, monkeypatch):  # noqa: ANN001, ANN201
    """Suggestions kept for five minutes, as in production; counts the real searches."""
    app.config["CASE_MATCHES_SECONDS"] = 300
    cache.clear()
    searches = []
    real = candidates._banded

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        searches.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(candidates, "_banded", counted)
    yield searches
    cache.clear()


def _page(client, case) -> str:  # noqa: ANN001
    return unescape(client.get(f"/cases/{case.id}").get_data(as_text=True))


def test_a_second_view_reuses_the_search(client, auth, caseworker, case, kept) -> None:
    twin = make_case(caseworker)
    auth.login(caseworker)
    first, second = _page(client, case), _page(client, case)
    assert twin.reference in first and twin.reference in second
    assert len(kept) == 1


def test_a_new_duplicate_shows_at_once(client, auth, caseworker, case, kept) -> None:
    auth.login(caseworker)
    assert "Possible duplicates" not in _page(client, case)
    twin = make_case(caseworker)
    assert twin.reference in _page(client, case)
    assert len(kept) == 2


def test_a_decision_shows_at_once(client, auth, caseworker, case, kept) -> None:
    twin = make_case(caseworker)
    auth.login(caseworker)
    assert f"/matching/cases/{case.id}/{twin.id}/not-same" in _page(client, case)
    client.post(f"/matching/cases/{case.id}/{twin.id}/not-same", data={"comment": "Other mother"})
    assert f"/matching/cases/{case.id}/{twin.id}/not-same" not in _page(client, case)


def test_no_name_reaches_the_cache(client, auth, caseworker, case, kept) -> None:
    make_case(caseworker)
    auth.login(caseworker)
    _page(client, case)
    stored = cache.cache._cache  # SimpleCache: key -> (expiry, pickled value)
    assert stored
    for key, (_, value) in stored.items():
        held = pickle.loads(value)  # noqa: S301 - our own cache, in a test
        assert key.startswith("matches:") and all(isinstance(i, int) for i in held)


def test_reasons_come_in_the_readers_language(client, auth, caseworker, case, kept) -> None:
    make_case(caseworker)
    auth.login(caseworker, lang="ar")
    arabic = _page(client, case)
    client.post("/language", data={"lang": "en"})
    english = _page(client, case)
    assert len(kept) == 1  # the second view was served from the kept ids
    assert "Possible duplicates" in english and "Possible duplicates" not in arabic
