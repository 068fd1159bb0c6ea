"""Least privilege, proven: the policies Terraform renders for each component role, replayed against moto.

The iam module is planned (real Terraform, offline provider) and each role's inline policy is read from the plan.
Then, in moto with IAM enforcement on (`set_initial_no_auth_action_count`), each component assumes its role and
makes its own S3 object calls: every call it needs succeeds, calls outside its scope are AccessDenied.

moto derives the resource ARN only for S3 object requests; for s3:ListBucket (the `s3:prefix` condition) and for
Glue and Athena it checks against "*". Those calls are therefore evaluated with moto's own policy evaluator
(`moto.iam.access_control.IAMPolicy`) on the exact ARNs and condition values AWS authorizes them against;
condition operators other than StringEquals (which moto 5.2 ignores) are evaluated by `_conditions_hold`.
The KMS key policy names the role ARNs, unknown until apply; its statements are checked by checkov.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count
from moto.iam.access_control import IAMPolicy, PermissionResult

from .conftest import copy_tree, make_root_dir, run_terraform

pytestmark = pytest.mark.terraform

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"  # the region of the offline provider override
BUCKETS = {
    "raw": "lake-raw",
    "processed": "lake-processed",
    "athena_results": "lake-athena-results",
    "artifacts": "lake-artifacts",
}
DATABASE = "lake_dev"
WORKGROUP = "lake-dev"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"

HARNESS = f"""
module "iam" {{
  source = "../modules/iam"

  name_prefix               = "lake-dev"
  aws_account_id            = "{ACCOUNT}"
  raw_bucket_arn            = "arn:aws:s3:::{BUCKETS["raw"]}"
  processed_bucket_arn      = "arn:aws:s3:::{BUCKETS["processed"]}"
  athena_results_bucket_arn = "arn:aws:s3:::{BUCKETS["athena_results"]}"
  artifacts_bucket_arn      = "arn:aws:s3:::{BUCKETS["artifacts"]}"
  kms_key_arn               = "{KMS_KEY}"
  glue_database_name        = "{DATABASE}"
  datasets                  = ["orders", "customers"]
  athena_workgroup_name     = "{WORKGROUP}"
}}
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, terraform_env: dict[str, str]) -> dict:
    """Plan of the iam module: {'policies': {component: policy}, 'trust': {component: trust policy}}."""
    tree = copy_tree(tmp_path_factory.mktemp("iam"))
    harness = tree / "iam_harness"
    harness.mkdir()
    (harness / "main.tf").write_text(HARNESS)
    make_root_dir(harness, local_backend=True)
    run_terraform(terraform_env, harness, "init", "-input=false", "-no-color")
    run_terraform(terraform_env, harness, "plan", "-input=false", "-no-color", "-refresh=false", "-out=iam.tfplan")
    plan = json.loads(run_terraform(terraform_env, harness, "show", "-json", "iam.tfplan").stdout)
    resources = {
        r["address"]: r["values"] for r in plan["planned_values"]["root_module"]["child_modules"][0]["resources"]
    }
    components = ("ingest", "crawler", "transform", "analyst")
    return {
        "policies": {
            c: json.loads(resources[f'module.iam.aws_iam_role_policy.this["{c}"]']["policy"]) for c in components
        },
        "trust": {
            c: json.loads(resources[f'module.iam.aws_iam_role.this["{c}"]']["assume_role_policy"]) for c in components
        },
    }


def test_no_wildcard_actions_and_star_resources_only_where_unavoidable(rendered: dict) -> None:
    for component, policy in rendered["policies"].items():
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert statement["Effect"] == "Allow"
            assert all("*" not in a for a in actions), f"{component}: wildcard action in {statement['Sid']}"
            if "*" in statement["Resource"]:
                # CloudWatch PutMetricData has no resource-level permissions; it is pinned to the Glue namespace.
                assert actions == ["cloudwatch:PutMetricData"], f"{component}: {statement['Sid']} on *"
                assert statement["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Glue"}}


def test_glue_roles_trust_only_glue_in_this_account(rendered: dict) -> None:
    for component in ("ingest", "crawler", "transform"):
        (statement,) = rendered["trust"][component]["Statement"]
        assert statement["Principal"] == {"Service": "glue.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def _conditions_hold(condition: dict, values: dict[str, str]) -> bool:
    """IAM StringEquals / StringLike (moto 5.2 evaluates only StringEquals and ignores the others)."""
    for operator, keys in condition.items():
        for key, expected in keys.items():
            expected = expected if isinstance(expected, list) else [expected]
            actual = values.get(key)
            if actual is None:
                return False
            if operator == "StringLike":
                matched = any(fnmatchcase(actual, pattern) for pattern in expected)  # IAM wildcards: * and ?
            elif operator == "StringEquals":
                matched = actual in expected
            else:
                raise AssertionError(f"condition operator {operator} is not evaluated by this test: add it")
            if not matched:
                return False
    return True


def _permitted(policy: dict, action: str, resources: list[str], conditions: dict[str, str] | None = None) -> bool:
    """Allowed on every resource: moto's evaluator matches action and resource per statement, then its conditions."""
    for resource in resources:
        allowed = False
        for statement in policy["Statement"]:
            bare = {k: v for k, v in statement.items() if k != "Condition"}
            evaluator = IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": [bare]}))
            if evaluator.is_action_permitted(action, resource) != PermissionResult.PERMITTED:
                continue
            if _conditions_hold(statement.get("Condition", {}), conditions or {}):
                allowed = True
        if not allowed:
            return False
    return True


def _glue(table: str | None = None) -> list[str]:
    base = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    arns = [f"{base}:catalog", f"{base}:database/{DATABASE}"]
    return [*arns, f"{base}:table/{DATABASE}/{table}"] if table else arns


WORKGROUP_ARN = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/{WORKGROUP}"

# (component, action, resources, conditions, allowed?): the catalog, query and listing calls of each component.
EVALUATED_CALLS = [
    ("ingest", "s3:ListBucket", [f"arn:aws:s3:::{BUCKETS['raw']}"], {"s3:prefix": "state/orders/"}, True),
    ("ingest", "s3:ListBucket", [f"arn:aws:s3:::{BUCKETS['processed']}"], {"s3:prefix": "processed/"}, False),
    ("ingest", "glue:CreateTable", _glue("raw_orders"), None, False),
    ("ingest", "athena:StartQueryExecution", [WORKGROUP_ARN], None, False),
    ("crawler", "s3:ListBucket", [f"arn:aws:s3:::{BUCKETS['raw']}"], {"s3:prefix": "raw/orders/"}, True),
    ("crawler", "s3:ListBucket", [f"arn:aws:s3:::{BUCKETS['raw']}"], {"s3:prefix": "state/orders/"}, False),
    ("crawler", "glue:GetTable", _glue("raw_orders"), None, True),
    ("crawler", "glue:CreateTable", _glue("raw_orders"), None, True),
    ("crawler", "glue:UpdateTable", _glue("raw_customers"), None, True),
    ("crawler", "glue:BatchCreatePartition", _glue("raw_orders"), None, True),
    ("crawler", "glue:CreateTable", _glue("orders"), None, False),
    ("crawler", "glue:DeleteTable", _glue("raw_orders"), None, False),
    ("crawler", "glue:DeleteDatabase", _glue(), None, False),
    ("transform", "s3:ListBucket", [f"arn:aws:s3:::{BUCKETS['raw']}"], {"s3:prefix": "raw/orders/"}, True),
    ("transform", "s3:ListBucket", [f"arn:aws:s3:::{BUCKETS['processed']}"], {"s3:prefix": "processed/orders/"}, True),
    ("transform", "glue:GetPartitions", _glue("raw_orders"), None, True),
    ("transform", "glue:CreateTable", _glue("orders"), None, True),
    ("transform", "glue:BatchCreatePartition", _glue("orders"), None, True),
    ("transform", "glue:BatchDeletePartition", _glue("customers"), None, True),
    ("transform", "glue:UpdateTable", _glue("raw_orders"), None, False),
    ("transform", "glue:CreateTable", _glue("unknown_dataset"), None, False),
    ("transform", "glue:DeleteTable", _glue("orders"), None, False),
    ("analyst", "athena:StartQueryExecution", [WORKGROUP_ARN], None, True),
    ("analyst", "athena:GetQueryResults", [WORKGROUP_ARN], None, True),
    ("analyst", "athena:StartQueryExecution", [WORKGROUP_ARN.replace(WORKGROUP, "primary")], None, False),
    ("analyst", "athena:DeleteWorkGroup", [WORKGROUP_ARN], None, False),
    ("analyst", "glue:GetTable", _glue("orders"), None, True),
    ("analyst", "glue:GetPartitions", _glue("customers"), None, True),
    ("analyst", "glue:GetTable", _glue("raw_orders"), None, False),
    ("analyst", "glue:CreateTable", _glue("orders"), None, False),
    ("analyst", "s3:ListBucket", [f"arn:aws:s3:::{BUCKETS['processed']}"], {"s3:prefix": "processed/orders/"}, True),
    ("analyst", "s3:ListBucket", [f"arn:aws:s3:::{BUCKETS['raw']}"], {"s3:prefix": "raw/"}, False),
    ("analyst", "kms:Decrypt", [KMS_KEY], None, True),
    ("analyst", "kms:Decrypt", [KMS_KEY.replace("1111", "9999")], None, False),
]


@pytest.mark.parametrize(("component", "action", "resources", "conditions", "allowed"), EVALUATED_CALLS)
def test_catalog_query_and_listing_calls(
    rendered: dict, component: str, action: str, resources: list[str], conditions: dict | None, allowed: bool
) -> None:
    assert _permitted(rendered["policies"][component], action, resources, conditions) is allowed


# (component, operation, bucket zone, key, allowed?): the S3 object calls of each component, replayed in moto.
S3_CALLS = [
    ("ingest", "put", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r1/part-00000.jsonl.gz", True),
    ("ingest", "put", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r1/_manifest.json", True),
    ("ingest", "put", "raw", "state/orders/cursor.json", True),
    ("ingest", "get", "raw", "state/orders/cursor.json", True),
    ("ingest", "get", "artifacts", "artifacts/contracts/orders/0123456789abcdef/orders.yaml", True),
    ("ingest", "get", "processed", "processed/orders/order_date=2026-11-24/part-0.parquet", False),
    ("ingest", "put", "processed", "processed/orders/order_date=2026-11-24/part-0.parquet", False),
    ("ingest", "delete", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r0/part-00000.jsonl.gz", False),
    ("ingest", "put", "artifacts", "artifacts/batchlake-ingest/0.1.0/x/evil.whl", False),
    ("crawler", "get", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r0/part-00000.jsonl.gz", True),
    ("crawler", "delete", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r0/part-00000.jsonl.gz", False),
    ("crawler", "put", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r9/part-00000.jsonl.gz", False),
    ("crawler", "get", "raw", "state/orders/cursor.json", False),
    ("crawler", "get", "processed", "processed/orders/order_date=2026-11-24/part-0.parquet", False),
    ("transform", "get", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r0/part-00000.jsonl.gz", True),
    ("transform", "get", "artifacts", "artifacts/contracts/orders/0123456789abcdef/orders.yaml", True),
    ("transform", "put", "raw", "state/orders/bookmark.json", True),
    ("transform", "put", "processed", "staging/orders/run_id=r1/order_date=2026-11-24/part-0.parquet", True),
    ("transform", "put", "processed", "quarantine/orders/run_id=r1/part-0.json", True),
    ("transform", "put", "processed", "reports/orders/r1/summary.json", True),
    ("transform", "put", "processed", "processed/orders/order_date=2026-11-24/part-1.parquet", True),
    ("transform", "delete", "processed", "processed/orders/order_date=2026-11-24/part-0.parquet", True),
    ("transform", "put", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r9/part-00000.jsonl.gz", False),
    ("transform", "delete", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r0/part-00000.jsonl.gz", False),
    ("transform", "put", "artifacts", "artifacts/batchlake-transforms/0.1.0/x/evil.whl", False),
    ("analyst", "get", "processed", "processed/orders/order_date=2026-11-24/part-1.parquet", True),
    ("analyst", "get", "processed", "reports/orders/r1/summary.json", True),
    ("analyst", "put", "athena_results", "athena-results/q1.csv", True),
    ("analyst", "get", "athena_results", "athena-results/q1.csv", True),
    ("analyst", "put", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r9/part-00000.jsonl.gz", False),
    ("analyst", "get", "raw", "raw/orders/ingest_date=2026-11-24/run_id=r0/part-00000.jsonl.gz", False),
    ("analyst", "put", "processed", "processed/orders/order_date=2026-11-24/part-9.parquet", False),
    ("analyst", "delete", "processed", "processed/orders/order_date=2026-11-24/part-1.parquet", False),
    ("analyst", "get", "processed", "quarantine/orders/run_id=r1/part-0.json", False),
]
SEEDED = [
    ("raw", "raw/orders/ingest_date=2026-11-24/run_id=r0/part-00000.jsonl.gz"),
    ("raw", "state/orders/cursor.json"),
    ("artifacts", "artifacts/contracts/orders/0123456789abcdef/orders.yaml"),
    ("processed", "processed/orders/order_date=2026-11-24/part-0.parquet"),
    ("processed", "quarantine/orders/run_id=r1/part-0.json"),
]


def test_s3_calls_replayed_in_moto_with_iam_enforced(rendered: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    components = list(rendered["policies"])
    # Administrative set-up before enforcement starts: buckets, seeded objects, roles, one AssumeRole per role.
    setup_calls = len(BUCKETS) + len(SEEDED) + 3 * len(components)

    @mock_aws
    @set_initial_no_auth_action_count(setup_calls)
    def scenario() -> list[str]:
        admin_s3 = boto3.client("s3", region_name=REGION)
        for name in BUCKETS.values():
            admin_s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        for zone, key in SEEDED:
            admin_s3.put_object(Bucket=BUCKETS[zone], Key=key, Body=b"seed")
        iam, sts = boto3.client("iam", region_name=REGION), boto3.client("sts", region_name=REGION)
        clients = {}
        for c in components:
            role = iam.create_role(RoleName=f"lake-dev-{c}", AssumeRolePolicyDocument=json.dumps(rendered["trust"][c]))
            iam.put_role_policy(
                RoleName=f"lake-dev-{c}", PolicyName=f"lake-dev-{c}", PolicyDocument=json.dumps(rendered["policies"][c])
            )
            creds = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName=c)["Credentials"]
            clients[c] = boto3.client(
                "s3",
                region_name=REGION,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
        wrong = []
        for component, op, zone, key, allowed in S3_CALLS:
            s3, bucket = clients[component], BUCKETS[zone]
            try:
                if op == "put":
                    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
                elif op == "get":
                    s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                else:
                    s3.delete_object(Bucket=bucket, Key=key)
                succeeded = True
            except ClientError as e:
                assert e.response["Error"]["Code"] == "AccessDenied", f"{component} {op} {key}: {e}"
                succeeded = False
            if succeeded is not allowed:
                wrong.append(f"{component} {op} s3://{bucket}/{key}: {'allowed' if succeeded else 'denied'}")
        return wrong

    assert scenario() == []


def test_harness_uses_the_module_from_the_repo() -> None:
    assert "../modules/iam" in HARNESS and Path(__file__).parents[2].joinpath("modules/iam/main.tf").is_file()
