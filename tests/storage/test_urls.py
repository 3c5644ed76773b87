"""Database URLs in messages: every password hidden, nothing else changed (doe/storage/urls.py),
checked on the text and on a real PostgreSQL server's errors."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.engine import make_url

from doe.campaign import Campaign
from doe.errors import StorageError
from doe.storage.sql import SqlStore, close_all
from doe.storage.urls import mask_secrets, mask_url, pg_connection, where_texts

SECRET = "S3cret-in-the-query"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql+psycopg://doe:pw@db.lab:5432/doe", "postgresql+psycopg://doe:***@db.lab:5432/doe"),
    (f"postgresql+psycopg://doe@db.lab/doe?password={SECRET}", "postgresql+psycopg://doe@db.lab/doe?password=***"),
    (f"postgresql+psycopg://doe:pw@/doe?host=/run/pg&port=5433&password={SECRET}&passfile=/home/a/.pgpass",
     "postgresql+psycopg://doe:***@/doe?host=%2Frun%2Fpg&passfile=***&password=***&port=5433"),
    ("sqlite:////data/lab.sqlite3", "sqlite:////data/lab.sqlite3"),
    # not a URL SQLAlchemy reads: masked as text
    (f"postgresql+psycopg://doe:pw@db.lab:notaport/doe?password={SECRET}",
     "postgresql+psycopg://doe:***@db.lab:notaport/doe?password=***"),
])
def test_mask_url_hides_the_password_of_the_user_part_and_of_the_query(url: str, shown: str) -> None:
    assert mask_url(url) == shown
    assert "pw" not in shown.replace("passfile", "") and SECRET not in shown


def test_the_app_caption_masks_through_the_same_function() -> None:
    from doe.ui import entry

    assert entry.mask_url is mask_url


def test_a_short_password_is_blanked_only_inside_the_url_never_inside_words() -> None:
    url = "postgresql+psycopg://doe:doe@127.0.0.1:5432/nodb"
    message = f'connection to {url} failed: FATAL:  database "nodb" does not exist'
    assert mask_secrets(message, url) == ('connection to postgresql+psycopg://doe:***@127.0.0.1:5432/nodb failed: '
                                          'FATAL:  database "nodb" does not exist')
    # a long one is blanked wherever it stands, as are password= options of a conninfo
    assert mask_secrets(f"bad {SECRET} and password='x y' password=abc", f"postgresql://u:{SECRET}@h/d") == \
        "bad *** and password=*** password=***"


def test_the_connection_for_pg_tools_keeps_the_query_and_leaves_the_password_out() -> None:
    connection = pg_connection(make_url(f"postgresql+psycopg://doe:pw@/lab?host=/run/pg&port=5433&sslmode=require"
                                        f"&password={SECRET}"))
    assert sorted(connection.conninfo.split()) == ["dbname=lab", "host=/run/pg", "port=5433", "sslmode=require",
                                                   "user=doe"]
    assert connection.password == SECRET  # the query's password wins, as in SQLAlchemy's dialect
    with pytest.raises(StorageError, match=r"invalid connection option \"nonsense\"") as caught:
        pg_connection(make_url(f"postgresql://doe@h/lab?nonsense=1&password={SECRET}"))
    assert SECRET not in str(caught.value)


def _nodb(postgres_url: str, password: str, in_query: bool) -> str:
    url = make_url(postgres_url).set(database="nodb_S3cretPW", password=None if in_query else password)
    if in_query:
        url = url.update_query_dict({"password": password})
    return url.render_as_string(hide_password=False)


def test_a_postgres_error_keeps_its_words_and_hides_the_password(postgres_url: str) -> None:
    """The driver's message had every 'doe' of it replaced ('does' became '***s') for the
    password 'doe'; a password given as ?password= was shown in full."""
    with pytest.raises(StorageError) as short:
        SqlStore.open(_nodb(postgres_url, "doe", in_query=False))
    assert 'database "nodb_S3cretPW" does not exist' in str(short.value)
    assert ":***@" in str(short.value) and "***s" not in str(short.value)
    with pytest.raises(StorageError) as query:
        SqlStore.open(_nodb(postgres_url, SECRET, in_query=True))
    assert SECRET not in str(query.value) and "password=***" in str(query.value)


def test_a_postgres_password_in_the_query_stays_out_of_logs_and_reprs(postgres_database: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    url = make_url(postgres_database).update_query_dict({"password": SECRET}).render_as_string(hide_password=False)
    with caplog.at_level(logging.INFO, logger="doe"):
        campaign = Campaign.from_config("hfo2-ncm85", storage=url, name="line", actor="lead")
    assert "created campaign 'line'" in caplog.text and "password=***" in caplog.text
    assert SECRET not in caplog.text
    assert SECRET not in repr(campaign) and SECRET not in repr(campaign.store)
    close_all()


def test_the_module_is_what_the_engine_and_the_cli_mask_with() -> None:
    from doe.cli import common
    from doe.storage import engine

    assert engine.mask_url is mask_url
    assert common.masked(f"postgresql://u@h/d?password={SECRET}") == "postgresql://u@h/d?password=***"


def test_the_where_texts_of_a_postgres_url_are_its_masked_and_plain_forms() -> None:
    url = "postgresql+psycopg://doe:s3cret-pw@db.lab.internal:5432/doe"
    texts = where_texts(url)
    assert texts[0] == url and mask_url(url) in texts and "doe" not in texts  # a short name stays in the words
    sqlite = where_texts("sqlite:////srv/doe/lab.sqlite3")
    assert "/srv/doe/lab.sqlite3" in sqlite and where_texts("sqlite://") == ("sqlite://",)
