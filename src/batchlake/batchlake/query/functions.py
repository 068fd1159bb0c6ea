"""Athena (Trino) functions DuckDB does not have, as DuckDB macros created in every local session.

Only functions whose meaning is certain are here; anything else fails with DuckDB's "function does not exist"
rather than giving a different answer. Functions taking lambdas are rewritten on the syntax tree instead
(`transpile.py`): DuckDB macros cannot take lambda arguments.
"""

from __future__ import annotations

_URL = "^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?://(?:[^@/?#]*@)?([^/:?#]*)(?::([0-9]+))?)?([^?#]*)(?:\\?([^#]*))?(?:#(.*))?$"

ATHENA_MACROS = {
    "every": "(x) AS bool_and(x)",
    "map_agg": "(k, v) AS map_from_entries(list(struct_pack(k := k, v := v)))",
    "codepoint": "(s) AS unicode(s)",
    "hamming_distance": "(a, b) AS hamming(a, b)",
    "with_timezone": "(ts, zone) AS timezone(zone, ts)",
    "json_size": (
        "(j, p) AS CASE json_type(j, p) WHEN 'ARRAY' THEN json_array_length(j, p) "
        "WHEN 'OBJECT' THEN len(json_keys(j, p)) ELSE 0 END"
    ),
    "json_array_contains": "(j, v) AS list_contains(json_extract_string(j, '$[*]'), CAST(v AS VARCHAR))",
    "to_iso8601": (
        "(x) AS CASE WHEN typeof(x) = 'DATE' THEN strftime(x, '%Y-%m-%d') ELSE strftime(x, '%Y-%m-%dT%H:%M:%S.%g') END"
    ),
    "url_extract_protocol": f"(u) AS nullif(regexp_extract(u, '{_URL}', 1), '')",
    "url_extract_host": f"(u) AS nullif(regexp_extract(u, '{_URL}', 2), '')",
    "url_extract_port": f"(u) AS TRY_CAST(nullif(regexp_extract(u, '{_URL}', 3), '') AS BIGINT)",
    "url_extract_path": f"(u) AS regexp_extract(u, '{_URL}', 4)",
    "url_extract_query": f"(u) AS nullif(regexp_extract(u, '{_URL}', 5), '')",
    "url_extract_fragment": f"(u) AS nullif(regexp_extract(u, '{_URL}', 6), '')",
    "url_extract_parameter": (
        f"(u, name) AS url_decode(nullif(regexp_extract('&' || regexp_extract(u, '{_URL}', 5) || '&', "
        "'&' || name || '=([^&]*)&', 1), ''))"
    ),
}


def create_statements(schema: str = "main") -> list[str]:
    return [f"CREATE OR REPLACE MACRO {schema}.{name}{body}" for name, body in ATHENA_MACROS.items()]
