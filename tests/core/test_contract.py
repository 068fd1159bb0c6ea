"""Dataset contracts: the repo's contracts load; each mistake is one line naming the file and the field."""

from __future__ import annotations

import pytest
import yaml
from batchlake_core.contract import ContractError, expand_env, load_contract, load_contracts


def test_repo_contracts_load_with_their_defaults(repo_root):
    contracts = load_contracts(repo_root / "pipelines")
    assert sorted(contracts) == ["customers", "orders"]
    orders = contracts["orders"]
    assert orders.dedupe_key == ["order_id"] and orders.order_by == "updated_at"
    assert [p.name for p in orders.schema.partition_keys] == ["order_date"]
    for contract in contracts.values():
        for sql in contract.sql:
            assert (repo_root / sql).is_file(), sql


def write(tmp_path, name, data):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


@pytest.fixture
def orders(repo_root):
    return yaml.safe_load((repo_root / "pipelines" / "orders.yaml").read_text())


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda d: d["source"].pop("primary_key"), "source.primary_key", "Field required"),
        (lambda d: d["source"].update(concurrency=0), "source.concurrency", "greater than or equal to 1"),
        (lambda d: d["source"].update(auth={"type": "bearer", "token": "s3cr3t"}), "source.auth.bearer.token", ""),
        (lambda d: d["source"].update(auth={"type": "magic"}), "source.auth", "does not match any of the expected"),
        (lambda d: d["schema"]["columns"][0].update(type="bigintt"), "schema.columns.0.type", "unknown type"),
        (lambda d: d["schema"]["columns"].append({"name": "status", "type": "string"}), "schema", "duplicate"),
        (
            lambda d: d["schema"]["columns"].append({"name": "shipping", "type": "string"}),
            "schema",
            "column shipping_country reads shipping.country, inside column shipping's source shipping",
        ),
        (
            lambda d: d["schema"]["columns"].insert(0, {"name": "ship", "type": "string", "source": "shipping"}),
            "schema",
            "column shipping_country reads shipping.country, inside column ship's source shipping",
        ),
        (lambda d: d["quality"].append({"expect": "in_set", "column": "status"}), "quality.8", "needs values"),
        (lambda d: d["quality"].append({"expect": "not_null", "column": "x", "severity": "fatal"}), "quality.8", ""),
        (
            lambda d: d.update(unexpected_key=1),
            "unexpected_key",
            "unknown field; known fields: dataset, description, owner, quality, schedule, schema, source, sql, "
            "transform",
        ),
        # Names that reach Spark only after the ingest: raw field names where columns are meant, unknown columns.
        (lambda d: d["source"].update(primary_key=["orderId"]), "transform", "dedupe key orderId is not a column"),
        (
            lambda d: d["source"]["incremental"].update(cursor_field="updatedAt"),
            "transform",
            "order_by updatedAt is not a column",
        ),
        (
            lambda d: d["quality"].append({"expect": "not_null", "column": "nope"}),
            "quality",
            "names nope, not a column",
        ),
        (lambda d: d["schema"]["columns"][5].update(type="decimal(40,2)"), "schema.columns.5.type", "unknown type"),
        (lambda d: d.update(dataset="Orders!"), "dataset", "should match pattern"),
    ],
)
def test_mistakes_are_one_line_naming_file_and_field(tmp_path, orders, mutate, field, message):
    mutate(orders)
    with pytest.raises(ContractError) as err:
        load_contract(write(tmp_path, "orders", orders))
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{tmp_path}/orders.yaml: field '{field}")
    assert message in text


def test_literal_secret_is_refused_and_not_echoed(tmp_path, orders):
    orders["source"]["auth"] = {"type": "bearer", "token": {"env": "TOKEN", "secrets_manager": "also"}}
    with pytest.raises(ContractError, match="exactly one of env, secrets_manager, ssm_parameter"):
        load_contract(write(tmp_path, "orders", orders))


def test_invalid_yaml_names_the_line(tmp_path):
    with pytest.raises(ContractError, match=r"orders.yaml: line 2 invalid YAML"):
        load_contract(write(tmp_path, "orders", "dataset: orders\n  owner: misindented\n"))


def test_file_name_must_match_dataset(tmp_path, orders):
    with pytest.raises(ContractError, match="field 'dataset': is 'orders' but the file is named 'sales'"):
        load_contract(write(tmp_path, "sales", orders))


def test_env_expansion(monkeypatch):
    monkeypatch.setenv("API_HOST", "api.example.com")
    assert expand_env("https://${API_HOST}/v1") == "https://api.example.com/v1"
    assert expand_env("${MISSING_VAR:-http://localhost}") == "http://localhost"
    with pytest.raises(ContractError, match="MISSING_VAR is not set"):
        expand_env("${MISSING_VAR}")


def test_a_reference_names_a_column_of_its_dataset(tmp_path, repo_root, orders):
    """Checked when the folder is loaded, before any run: not a Spark error after the ingest."""
    assert orders["quality"][7]["expect"] == "references"
    orders["quality"][7]["dataset_column"] = "custid"
    write(tmp_path, "orders", orders)
    write(tmp_path, "customers", (repo_root / "pipelines" / "customers.yaml").read_text())
    with pytest.raises(ContractError) as raised:
        load_contracts(tmp_path)
    assert (
        "orders.yaml: field 'quality.7.dataset_column': customers has no column custid (columns: customer_id,"
        in str(raised.value)
    )


def test_a_reference_to_a_dataset_of_another_folder_loads(tmp_path, orders):
    """Another team's dataset, published to the same lake: its contract is not here, and the run reads its table."""
    write(tmp_path, "orders", orders)
    assert load_contracts(tmp_path)["orders"].quality[7].dataset == "customers"
