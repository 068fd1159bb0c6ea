"""Contract tests: a real `terraform plan` of terraform/ per workspace, over the repo's pipelines/*.yaml.

Every dataset gets its crawler, ingest and transform jobs, workflow with triggers and named queries, and the
root outputs exactly the names the CLI reads (batchlake.terraform.REQUIRED_OUTPUTS). data_lake and artifacts
are swapped for stand-ins with the same interface (their S3 resource types are not in the offline provider).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import hcl2
import pytest
import yaml
from batchlake.terraform import PER_DATASET_OUTPUTS, REQUIRED_OUTPUTS

from .conftest import REPO, copy_tree, cut_newer_arguments, make_root_dir, run_terraform, write_fake_manifest

pytestmark = pytest.mark.terraform

WORKSPACES = ("dev", "staging", "prod")
STANDINS = Path(__file__).parent / "fixtures" / "standins"
CONTRACTS = {p.stem: yaml.safe_load(p.read_text()) for p in sorted((REPO / "pipelines").glob("*.yaml"))}


def _hcl(path: Path) -> dict:
    with path.open() as f:
        return hcl2.load(f)


def _interface(folder: Path) -> tuple[set[str], set[str]]:
    variables = {n for b in _hcl(folder / "variables.tf").get("variable", []) for n in b}
    outputs = {n for b in _hcl(folder / "outputs.tf").get("output", []) for n in b}
    return variables, outputs


@pytest.mark.parametrize("module", ["data_lake", "artifacts"])
def test_standins_have_the_modules_interface(module: str, tmp_path: Path) -> None:
    shutil.copytree(STANDINS / module, tmp_path / module)
    shutil.copyfile(REPO / "modules" / module / "variables.tf", tmp_path / module / "variables.tf")
    assert _interface(tmp_path / module) == _interface(REPO / "modules" / module)


def test_every_sql_file_a_contract_lists_exists() -> None:
    missing = [f"{d}: {p}" for d, c in CONTRACTS.items() for p in c.get("sql", []) if not (REPO / p).is_file()]
    assert not missing, f"contracts list SQL files that do not exist (the root makes named queries of them): {missing}"


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory, terraform_env: dict[str, str]) -> dict[str, dict]:
    """`terraform show -json` of a plan of each workspace."""
    missing = [p for c in CONTRACTS.values() for p in c.get("sql", []) if not (REPO / p).is_file()]
    if missing:
        pytest.fail(f"cannot plan: contracts list SQL files that do not exist: {missing}")
    tree = copy_tree(tmp_path_factory.mktemp("root"))
    cut_newer_arguments(tree)
    write_fake_manifest(tree / "dist")
    _PLANNED_TREE["dist"] = str(tree / "dist")
    for module in ("data_lake", "artifacts"):
        shutil.copytree(STANDINS / module, tree / "standins" / module)
        shutil.copyfile(REPO / "modules" / module / "variables.tf", tree / "standins" / module / "variables.tf")
    root = tree / "terraform"
    make_root_dir(root, local_backend=True)
    (root / "offline_standins_override.tf").write_text(
        'module "data_lake" {\n  source = "../standins/data_lake"\n}\n\n'
        'module "artifacts" {\n  source = "../standins/artifacts"\n}\n'
    )
    run_terraform(terraform_env, root, "init", "-input=false", "-no-color")
    result = {}
    for ws in WORKSPACES:
        run_terraform(terraform_env, root, "workspace", "new", ws)
        run_terraform(
            terraform_env, root, "plan", "-input=false", "-no-color", "-refresh=false",
            f"-var-file=workspaces/{ws}.tfvars", f"-out={ws}.tfplan",
        )  # fmt: skip
        result[ws] = json.loads(run_terraform(terraform_env, root, "show", "-json", f"{ws}.tfplan").stdout)
    result["_root"] = str(root)
    return result


def _resources(plan: dict) -> dict[str, dict]:
    found = {}

    def walk(module: dict) -> None:
        for r in module.get("resources", []):
            found[r["address"]] = r["values"]
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan["planned_values"]["root_module"])
    return found


@pytest.mark.parametrize("workspace", WORKSPACES)
def test_every_dataset_gets_its_pipeline(plans: dict[str, dict], workspace: str) -> None:
    resources = _resources(plans[workspace])
    prefix = f"batchlake-{workspace}"
    assert CONTRACTS, "no contracts in pipelines/"
    for dataset, contract in CONTRACTS.items():
        crawler = resources[f'module.glue_catalog.aws_glue_crawler.raw["{dataset}"]']
        assert crawler["name"] == f"{prefix}-raw-{dataset}"
        assert crawler["table_prefix"] == "raw_"
        assert crawler["database_name"] == f"batchlake_{workspace}"
        assert crawler["s3_target"][0]["path"] == f"s3://{prefix}-{_account(workspace)}-eu-west-1-raw/raw/{dataset}/"
        assert crawler["recrawl_policy"][0]["recrawl_behavior"] == "CRAWL_NEW_FOLDERS_ONLY"
        assert crawler["security_configuration"] == f"{prefix}-glue"

        ingest = resources[f'module.glue_pipeline.aws_glue_job.ingest["{dataset}"]']
        assert ingest["command"][0]["name"] == "glueetl"  # Python 3.11, as the wheels require (ADR 0405)
        assert ingest["glue_version"] == "5.0"
        args = ingest["default_arguments"]
        assert args["--dataset"] == dataset
        assert {"--contract_uri", "--raw_bucket", "--kms_key_arn"} <= set(args)
        assert args["--contract_uri"].endswith(f"/{dataset}.yaml")
        assert "/artifacts/contracts/" in args["--contract_uri"]
        assert [w.rsplit("/", 1)[1] for w in args["--additional-python-modules"].split(",")] == [
            "batchlake_core-0.1.0-py3-none-any.whl",
            "batchlake_ingest-0.1.0-py3-none-any.whl",
        ]
        assert ingest["command"][0]["script_location"].endswith(
            "/batchlake-ingest/0.1.0/" + _sha16("batchlake-ingest", "script") + "/glue_entry.py"
        )

        transform = resources[f'module.glue_pipeline.aws_glue_job.transform["{dataset}"]']
        assert transform["glue_version"] == "5.0"
        assert transform["command"][0]["name"] == "glueetl"
        targs = transform["default_arguments"]
        for param in (
            "--dataset",
            "--contract_uri",
            "--raw_bucket",
            "--processed_bucket",
            "--database",
            "--kms_key_arn",
        ):
            assert param in targs, param
        assert targs["--job-bookmark-option"] == "job-bookmark-enable"
        wheels = targs["--additional-python-modules"].split(",")
        assert [w.rsplit("/", 1)[1] for w in wheels] == [
            "batchlake_core-0.1.0-py3-none-any.whl",
            "batchlake_transforms-0.1.0-py3-none-any.whl",
        ]
        assert all(w.startswith(f"s3://{prefix}-{_account(workspace)}-eu-west-1-artifacts/artifacts/") for w in wheels)
        assert transform["command"][0]["script_location"].endswith("/glue_entry.py")
        assert "/batchlake-transforms/0.1.0/" in transform["command"][0]["script_location"]

        assert resources[f'module.glue_pipeline.aws_glue_workflow.this["{dataset}"]']["name"] == f"{prefix}-{dataset}"
        start = resources[f'module.glue_pipeline.aws_glue_trigger.start["{dataset}"]']
        assert start["type"] == ("SCHEDULED" if contract.get("schedule") else "ON_DEMAND")
        assert start["schedule"] == contract.get("schedule")
        assert start["actions"][0]["job_name"] == f"{prefix}-ingest-{dataset}"
        crawl = resources[f'module.glue_pipeline.aws_glue_trigger.crawl_raw["{dataset}"]']
        assert crawl["predicate"][0]["conditions"][0]["job_name"] == f"{prefix}-ingest-{dataset}"
        assert crawl["actions"][0]["crawler_name"] == f"{prefix}-raw-{dataset}"
        then = resources[f'module.glue_pipeline.aws_glue_trigger.transform["{dataset}"]']
        assert then["predicate"][0]["conditions"][0]["crawler_name"] == f"{prefix}-raw-{dataset}"
        assert then["actions"][0]["job_name"] == f"{prefix}-transform-{dataset}"
        for trigger in (start, crawl, then):  # tagged like the jobs, for a module reused without default_tags
            assert trigger["tags"]["batchlake:dataset"] == dataset

        for sql_path in contract.get("sql", []):
            query = resources[f'module.athena.aws_athena_named_query.this["{dataset}/{Path(sql_path).stem}"]']
            assert query["query"] == (REPO / sql_path).read_text()
            assert query["workgroup"] == prefix

    named = [a for a in resources if a.startswith("module.athena.aws_athena_named_query.this[")]
    assert len(named) == sum(len(c.get("sql", [])) for c in CONTRACTS.values())


def _sha16(name: str, kind: str) -> str:
    manifest = json.loads((Path(_PLANNED_TREE["dist"]) / "manifest.json").read_text())["artifacts"]
    return next(a["sha256"][:16] for a in manifest if a["name"] == name and a["kind"] == kind)


_PLANNED_TREE: dict[str, str] = {}


def _account(workspace: str) -> str:
    return _hcl(REPO / "terraform" / "workspaces" / f"{workspace}.tfvars")["aws_account_id"].strip('"')


@pytest.mark.parametrize("workspace", WORKSPACES)
def test_outputs_are_the_names_the_cli_reads(plans: dict[str, dict], workspace: str) -> None:
    outputs = {k: v.get("value") for k, v in plans[workspace]["planned_values"]["outputs"].items()}
    assert set(REQUIRED_OUTPUTS) <= set(outputs)
    prefix = f"batchlake-{workspace}"
    bucket_prefix = f"{prefix}-{_account(workspace)}-eu-west-1"
    assert outputs["raw_bucket_name"] == f"{bucket_prefix}-raw"
    assert outputs["processed_bucket_name"] == f"{bucket_prefix}-processed"
    assert outputs["athena_results_bucket_name"] == f"{bucket_prefix}-athena-results"
    assert outputs["artifacts_bucket_name"] == f"{bucket_prefix}-artifacts"
    assert outputs["glue_database_name"] == f"batchlake_{workspace}"
    assert outputs["athena_workgroup_name"] == prefix
    for name in PER_DATASET_OUTPUTS:
        assert set(outputs[name]) == set(CONTRACTS), name
    resources = _resources(plans[workspace])
    for dataset in CONTRACTS:
        assert (
            outputs["ingest_job_names"][dataset]
            == resources[f'module.glue_pipeline.aws_glue_job.ingest["{dataset}"]']["name"]
        )
        assert (
            outputs["transform_job_names"][dataset]
            == resources[f'module.glue_pipeline.aws_glue_job.transform["{dataset}"]']["name"]
        )
        assert (
            outputs["crawler_names"][dataset]
            == resources[f'module.glue_catalog.aws_glue_crawler.raw["{dataset}"]']["name"]
        )
        assert (
            outputs["workflow_names"][dataset]
            == resources[f'module.glue_pipeline.aws_glue_workflow.this["{dataset}"]']["name"]
        )


def test_workspace_values_must_match_the_workspace(plans: dict[str, dict], terraform_env: dict[str, str]) -> None:
    root = Path(plans["_root"])
    run_terraform(terraform_env, root, "workspace", "select", "dev")
    proc = run_terraform(
        terraform_env, root, "plan", "-input=false", "-no-color", "-var-file=workspaces/prod.tfvars", check=False
    )
    assert proc.returncode != 0
    assert "The selected workspace is dev but the values file is for prod" in proc.stderr
