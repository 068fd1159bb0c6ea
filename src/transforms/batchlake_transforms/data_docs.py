"""Great Expectations Data Docs for one validation, rendered to work offline.

GX 1.24 writes Data Docs pages that load jQuery, Bootstrap, bootstrap-table, Font Awesome, Vega… from public CDNs and
a logo from GX's S3 bucket: offline (or in a locked-down network) the pages are unstyled and the index tables stay
empty. `write_data_docs` builds the site for one run's validation result, ships the vendored copies of those files
next to it (`static/vendor/`, from the package's `data_docs_static/`) and rewrites every CDN URL to a relative path.
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # no network calls from GX

import great_expectations as gx
from batchlake_core.storage import LocalObjectStore, ObjectStore
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from batchlake_transforms.quality import QualityResult

DATA_DOCS_DIR = "data_docs"
VENDOR_DIR = "static/vendor"
SITE_NAME = "batchlake"
VENDORED = Path(__file__).with_name("data_docs_static")  # package data, see data_docs_static/README.md

# The remote files GX 1.24's page templates reference -> the vendored copy (relative to static/vendor/).
CDN_FILES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker/js/bootstrap-datepicker.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "bootstrap-dark/bootstrap-prefers-dark.min.css"
    ),
}
# GX's logo (remote, with a tracking query string) -> the copy GX itself ships in every site's static/images/.
REMOTE_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/[^\"')\s]+")
LOCAL_LOGO = "static/images/logo-long.png"
_SITE_STATIC = re.compile(r"(?P<attr>href|src)=(?P<quote>[\"'])(?:\./|(?:\.\./)+)static/")
# What loads by itself in a page: <script src>, <link href> (style sheets, icons), <img src>, CSS url(...).
_ASSET_REFERENCE = re.compile(
    r"<script[^>]*\ssrc=[\"']?(?P<script>[^\"'\s>]+)"
    r"|<link[^>]*\shref=[\"']?(?P<link>[^\"'\s>]+)"
    r"|<img[^>]*\ssrc=[\"']?(?P<img>[^\"'\s>]+)"
    r"|url\(\s*[\"']?(?P<css>[^\"')\s]+)",
    re.IGNORECASE,
)


def remote_asset_references(html: str) -> list[str]:
    """URLs of scripts, style sheets, icons, images and CSS `url()`s in a page that would be fetched from a network."""
    found = (next(v for v in m.groupdict().values() if v) for m in _ASSET_REFERENCE.finditer(html))
    return [url for url in found if url.startswith(("http://", "https://", "//"))]


def make_offline(html: str, site_root: str) -> str:
    """Rewrite a page's CDN and logo URLs to the vendored files; `site_root` is the page's relative path to the root."""
    for url, local in CDN_FILES.items():
        html = html.replace(f'"{url}"', f'"{site_root}{VENDOR_DIR}/{local}"')
    # GX writes `../../../static/...` in validation pages, which sit 4 folders deep: point them at the real root.
    html = _SITE_STATIC.sub(lambda m: f"{m['attr']}={m['quote']}{site_root}static/", html)
    return REMOTE_LOGO.sub(site_root + LOCAL_LOGO, html)


def _validation_key(quality: QualityResult) -> ValidationResultIdentifier:
    result = quality.gx_result
    run_id = result.meta["run_id"]
    if not isinstance(run_id, RunIdentifier):
        run_id = RunIdentifier(**run_id)
    return ValidationResultIdentifier(ExpectationSuiteIdentifier(name=result.suite_name), run_id, result.batch_id)


def build_site(quality: QualityResult, site_dir: Path) -> Path:
    """GX Data Docs (index, suite page, validation page) for this validation, in `site_dir`. Returns the index."""
    if quality.gx_result is None:
        raise ValueError("this QualityResult has no Great Expectations result to render (no expectations were run)")
    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    result = quality.gx_result
    context.suites.add(
        gx.ExpectationSuite(name=result.suite_name, expectations=[r.expectation_config for r in result.results])
    )
    context.validation_results_store.set(_validation_key(quality), result)
    context.build_data_docs(site_names=[SITE_NAME])
    shutil.copytree(VENDORED, site_dir / VENDOR_DIR, dirs_exist_ok=True)
    for page in [*site_dir.rglob("*.html"), *(site_dir / "static" / "styles").glob("*.css")]:
        depth = len(page.relative_to(site_dir).parts) - 1
        page.write_text(make_offline(page.read_text(encoding="utf-8"), "../" * depth), encoding="utf-8")
    return site_dir / "index.html"


def write_data_docs(quality: QualityResult, report_dir: str, store: ObjectStore | None = None) -> str | None:
    """Data Docs of this run's validation under `<report_dir>/data_docs/`, readable offline.

    `report_dir` is the run's report folder (local path or `s3://`); `store` writes there (default: local folder).
    Returns the index page's path relative to `report_dir` (`data_docs/index.html`, what the HTML report links), or
    None when no expectation ran.
    """
    if quality.gx_result is None:
        return None
    store = store or LocalObjectStore()
    with tempfile.TemporaryDirectory(prefix="batchlake-data-docs-") as tmp:
        site = Path(tmp) / DATA_DOCS_DIR
        index = build_site(quality, site)
        for path in sorted(p for p in site.rglob("*") if p.is_file()):
            relative = path.relative_to(tmp).as_posix()
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
                content_type += "; charset=utf-8"
            store.put_bytes(f"{report_dir.rstrip('/')}/{relative}", path.read_bytes(), content_type)
        return index.relative_to(tmp).as_posix()
