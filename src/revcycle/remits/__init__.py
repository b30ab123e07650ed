"""Remittances and acknowledgments in: 835, 999 and 277CA files read into the documented tables.

See ``docs/remittance-tables.md`` for the tables; :mod:`.parse_835` and :mod:`.parse_acks`
read the files, :mod:`.tables` defines the rows, the DuckDB column types and the writers.
"""

from revcycle.remits.parse_835 import Remit835Tables, parse_835, parse_835_file
from revcycle.remits.parse_acks import parse_277ca, parse_999
from revcycle.remits.tables import TABLE_COLUMNS, write_tables

__all__ = [
    "TABLE_COLUMNS",
    "Remit835Tables",
    "parse_277ca",
    "parse_835",
    "parse_835_file",
    "parse_999",
    "write_tables",
]
