"""The local Spark session's JVM: HotSpot's optimizing compiler (C2) skips the code that runs per query, not per row."""

from __future__ import annotations

import re

import pytest
from batchlake_transforms import spark as spark_module
from batchlake_transforms.spark import add_jit_directives, diagnostic_command

pytestmark = pytest.mark.spark


def c2_excluded_patterns(spark) -> list[set[str]]:
    """Per directive in the JVM's stack that excludes its methods from C2: the method patterns it matches."""
    printed = diagnostic_command(spark, "compilerDirectivesPrint")
    directives = []
    for block in printed.split("Directive:")[1:]:
        c2 = block.split("c2 directives:")[1]
        if re.search(r"\bExclude:true\b", c2):
            matching = re.search(r"matching: (.*)", block).group(1)
            directives.append(set(matching.split(", ")))
    return directives


def test_the_session_jvm_excludes_planning_code_from_c2_once(spark):
    add_jit_directives(spark)  # again: the session already added them, so this adds nothing
    (patterns,) = c2_excluded_patterns(spark)
    assert {"org/codehaus/*.*", "org/apache/spark/sql/catalyst/optimizer/*.*", "java/io/Object*.*"} <= patterns
    # Nothing that runs per row: the generated code, expressions, JSON parsing, Parquet.
    assert not any(p.startswith(("org/apache/spark/sql/catalyst/expressions", "org/apache/parquet")) for p in patterns)


def test_directives_the_jvm_refuses_are_an_error(spark, tmp_path, monkeypatch):
    broken = tmp_path / "directives.json"
    broken.write_text("[ { c2: { Exclude: true } } ]")  # no `match`
    monkeypatch.setattr(spark_module, "JIT_DIRECTIVES", broken)
    monkeypatch.setattr(spark_module, "JIT_DIRECTIVES_PROPERTY", "batchlake.test.brokenDirectives")
    before = c2_excluded_patterns(spark)
    refused = r"(?s)the JVM refused .*directives.json: .*missing required match.*Parsing of compiler directives failed"
    with pytest.raises(RuntimeError, match=refused):
        add_jit_directives(spark)
    assert c2_excluded_patterns(spark) == before
