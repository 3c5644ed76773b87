"""A campaign is found by its name typed in either Unicode form, whichever form an older doe
stored it in (a real SQLite file and a real PostgreSQL database)."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest
import sqlalchemy as sa

from doe import Campaign
from doe.errors import StorageError
from doe.storage import schema as s
from doe.storage.accounts import AccountStore
from doe.storage.sql import SqlStore

COMPOSED = "Café-Kampagne"
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)
_CONFIG = {"name": "draft", "seed": 1, "parameters": [{"name": "x", "type": "continuous", "bounds": [0.0, 1.0]}],
           "objectives": [{"name": "ce", "goal": "maximize"}]}


def _store_name_as_typed(store_url: str, name: str, stored: str) -> None:
    """Rename campaign ``name`` to ``stored`` as it is, as an older doe stored a name as typed."""
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(sa.update(s.campaigns).where(s.campaigns.c.name == name).values(name=stored))
    engine.dispose()


def _stored_names(store_url: str) -> list[str]:
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        names = list(conn.execute(sa.select(s.campaigns.c.name).order_by(s.campaigns.c.id)).scalars())
    engine.dispose()
    return names


def test_a_name_stored_decomposed_is_found_typed_composed(store_url: str) -> None:
    """Found by a probe: a campaign an older doe stored as 'Cafe' + U+0301 was not found by
    'Café' typed on a keyboard, while a new campaign of that name was refused as taken."""
    Campaign.from_config({**_CONFIG, "name": "old"}, storage=store_url)
    _store_name_as_typed(store_url, "old", DECOMPOSED)
    campaign = Campaign.load(COMPOSED, storage=store_url)
    campaign.record(pd.DataFrame([{"x": 0.5, "ce": 90.0}]))
    assert Campaign.load(DECOMPOSED, storage=store_url).history()["ce"].tolist() == [90.0]
    with pytest.raises(StorageError, match="only in upper and lower case or in how its characters are written"):
        Campaign.from_config({**_CONFIG, "name": COMPOSED}, storage=store_url)
    # a campaign that learns from it names it composed, as a new configuration is written
    learner = Campaign.from_config({**_CONFIG, "name": "learner", "learn_from": [COMPOSED]}, storage=store_url)
    assert learner.config.learn_from == (COMPOSED,)
    store = SqlStore.open(store_url)
    accounts = AccountStore(store)
    accounts.add_user("ana", "engineer", password_hash=None, actor="test")
    assert accounts.add_member(COMPOSED, "ana", actor="test")
    assert _stored_names(store_url) == [DECOMPOSED, "learner"]


def test_a_name_stored_in_a_mixed_form_is_found_typed_in_either(store_url: str) -> None:
    """'Ǖ' decomposed only in part (U+00DC + U+0304) is neither form: found typed in both."""
    mixed = "Probe-\u00dc\u0304"
    Campaign.from_config({**_CONFIG, "name": "old"}, storage=store_url)
    _store_name_as_typed(store_url, "old", mixed)
    for typed in (unicodedata.normalize("NFC", mixed), unicodedata.normalize("NFD", mixed)):
        assert Campaign.load(typed, storage=store_url).config_version == 1


def test_two_stored_spellings_of_one_name_are_each_found_exactly_and_not_guessed(store_url: str) -> None:
    """An older doe let 'Café' be stored twice, composed and decomposed: each opens by its own
    spelling, and a third spelling that is both is refused rather than given to one of them."""
    mixed, other = "Probe-\u00dc\u0304", "Probe-U\u0308\u0304"
    Campaign.from_config({**_CONFIG, "name": "one"}, storage=store_url)
    Campaign.from_config({**_CONFIG, "name": "two"}, storage=store_url)
    _store_name_as_typed(store_url, "one", mixed)
    _store_name_as_typed(store_url, "two", other)
    Campaign.load(mixed, storage=store_url).record(pd.DataFrame([{"x": 0.1, "ce": 1.0}]))
    assert Campaign.load(other, storage=store_url).history().empty
    with pytest.raises(StorageError, match=r"is the name of 2 campaigns stored in different Unicode spellings"):
        Campaign.load(unicodedata.normalize("NFC", mixed), storage=store_url)


def test_an_import_stores_its_name_composed(store_url: str) -> None:
    """Found by a probe: an export holding a decomposed name (as an older doe exported it) was
    imported as it was, and then not found by the name typed on a keyboard."""
    data = Campaign.from_config(_CONFIG, storage=":memory:").export_json() | {"name": DECOMPOSED}
    imported = Campaign.import_json(data, storage=store_url)
    assert imported.name == COMPOSED
    assert _stored_names(store_url) == [COMPOSED]
    assert Campaign.load(COMPOSED, storage=store_url).config.name == COMPOSED
    with pytest.raises(StorageError, match="only in upper and lower case or in how its characters are written"):
        Campaign.import_json(data | {"name": "café-kampagne"}, storage=store_url)


def test_the_cli_opens_a_name_stored_decomposed_typed_composed(cli_in_folder) -> None:  # type: ignore[no-untyped-def]
    Campaign.from_config({**_CONFIG, "name": "old"}, storage=cli_in_folder.url)
    _store_name_as_typed(cli_in_folder.url, "old", DECOMPOSED)
    result = cli_in_folder("status", "--campaign", COMPOSED)
    assert "Kampagne" in result.output
