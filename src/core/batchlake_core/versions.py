"""Installed versions of batchlake's packages, recorded with every run's outputs (lineage)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_versions(names: tuple[str, ...]) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions
