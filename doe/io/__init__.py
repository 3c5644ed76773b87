"""Tables in and out of files: CSV and Excel (``.xlsx``), and campaign exports as JSON.

Reading (:func:`read_table`, :mod:`doe.io.reading`) maps the file's columns onto the
campaign's names, strips units from headers such as ``anneal_temperature_c [C]``,
``anneal_temperature (C)`` or ``anneal_time / min``, checks them against the campaign's units
and converts the few that convert unambiguously (K -> C, s/min/h, fraction <-> %). It returns
the raw mapped table; :func:`doe.domain.validate_experiments` checks every cell afterwards.
CSV text (:mod:`doe.io.delimited`, its quotes checked by :mod:`doe.io.quotes`) and workbooks
(:mod:`doe.io.workbook`, with openpyxl) are read apart; a cell that would be read other than
the file shows it is refused, naming its row and column.

Writing (:func:`write_table`, :func:`table_bytes`, :mod:`doe.io.writing`) neutralises
spreadsheet formula injection (:mod:`doe.io.cells`). Campaign JSON: :mod:`doe.io.campaign_json`.

No database code here: pandas and openpyxl only.
"""

from doe.io.campaign_json import MAX_JSON_BYTES, campaign_from_json, campaign_to_json
from doe.io.cells import neutralise, unneutralise
from doe.io.reading import MAX_BYTES, FileFormat, read_table
from doe.io.writing import table_bytes, write_table

__all__ = [
    "MAX_BYTES",
    "MAX_JSON_BYTES",
    "FileFormat",
    "campaign_from_json",
    "campaign_to_json",
    "neutralise",
    "read_table",
    "table_bytes",
    "unneutralise",
    "write_table",
]
