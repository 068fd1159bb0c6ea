"""checkov over modules/ (with their examples) and terraform/: zero failed checks; every skip is inline with a reason.

checkov runs from its own venv, .venv-checkov (its `hcl2` module clashes with python-hcl2 in .venv), created
here from requirements/checkov-constraints.txt on first use (`make checkov-venv` does the same).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.terraform

CHECKOV_VENV = REPO / ".venv-checkov"
CONSTRAINTS = REPO / "requirements" / "checkov-constraints.txt"


def _pinned_version() -> str:
    for line in CONSTRAINTS.read_text().splitlines():
        if line.startswith("checkov=="):
            return line.split("==")[1]
    raise AssertionError(f"{CONSTRAINTS} pins no checkov version")


@pytest.fixture(scope="module")
def checkov() -> Path:
    binary = CHECKOV_VENV / "bin" / "checkov"
    version = _pinned_version()
    if binary.exists():
        current = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False).stdout.strip()
        if current == version:
            return binary
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(CHECKOV_VENV)], check=True)
    pip = [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    proc = subprocess.run([*pip, "-c", str(CONSTRAINTS), f"checkov=={version}"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"checkov=={version} is not installable here (no package index?): {proc.stderr[-300:]}")
    return binary


@pytest.fixture(scope="module")
def report(checkov: Path) -> dict:
    proc = subprocess.run(
        [str(checkov), "-d", "modules", "-d", "terraform", "--framework", "terraform", "--skip-download", "-o", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    # One JSON document per -d folder, printed one after the other: merge them.
    decoder, text, pos = json.JSONDecoder(), proc.stdout, 0
    merged: dict = {"results": {"passed_checks": [], "failed_checks": [], "skipped_checks": []}, "parsing_errors": 0}
    while pos < len(text.rstrip()):
        doc, end = decoder.raw_decode(text, pos)
        pos = end + (len(text[end:]) - len(text[end:].lstrip()))
        for report in doc if isinstance(doc, list) else [doc]:
            for kind in merged["results"]:
                merged["results"][kind] += report["results"].get(kind, [])
            merged["parsing_errors"] += report["summary"]["parsing_errors"]
    assert merged["results"]["passed_checks"], f"checkov printed no results: {proc.stderr[-500:]}"
    return merged


def test_no_failed_checks(report: dict) -> None:
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in report["results"]["failed_checks"]]
    assert not failed, "checkov findings:\n" + "\n".join(failed)
    assert report["parsing_errors"] == 0
    assert len(report["results"]["passed_checks"]) > 100  # it really checked the modules and the root


def test_every_skip_is_inline_with_a_reason(report: dict) -> None:
    for check in report["results"]["skipped_checks"]:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} is skipped without a reason"
    assert not (REPO / ".checkov.yaml").exists() and not (REPO / ".checkov.yml").exists(), "no global skips"
