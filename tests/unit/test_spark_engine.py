"""The same queries on Apache Spark: every statement of the query module, transpiled from
DuckDB's dialect by SQLGlot, gives what DuckDB gives, on registries with studies, sites,
visits and adverse events.

Spark runs in local mode in this process's JVM (Debian's OpenJDK, which `make test`
installs); one session serves the module.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from analytics.analyses.subgroup_counts import subgroup_counts
from analytics.analyses.subgroup_model import source_column, subgroup_variables
from analytics.model.basket import KINDS, Basket
from analytics.model.filters import FilterState
from analytics.model.view import View
from analytics.report.summary import summarize, summary_json
from analytics.store import EngineError, Store, spark_available
from analytics.store import spark as spark_engine
from analytics.store.spark import to_spark
from data.generate_registry import main as generate_registry
from pack.build import build_pack
from tests.helpers import ROOT, demo_registry

pytestmark = pytest.mark.slow

VIEWS = ("", "DIALFL=N", "AGE>=65&SEX=M&compare=DIABFL", "SITEID!=001&compare=SEX")


# --- the translation itself (no JVM) ---------------------------------------------------


def test_translation_renames_the_tables_a_store_registered_and_keeps_the_parameters():
    sql = 'SELECT "SEX" AS GRP, count(*) AS N FROM adsl WHERE "AGE" >= ? GROUP BY ALL'
    out = to_spark(sql, (("adsl", "dva_x_adsl"),))
    assert "FROM dva_x_adsl" in out
    assert "`AGE` >= ?" in out
    assert "adsl " not in out.replace("dva_x_adsl", "")


def test_translation_keeps_duckdbs_order_of_missing_values():
    # DuckDB sorts missing values last, Spark first: a transpiled ORDER BY must say so,
    # or a missing group would move to the top of every table
    out = to_spark("SELECT v FROM adsl ORDER BY v")
    assert out.endswith("ORDER BY v NULLS LAST")


def test_translation_leaves_a_table_of_another_schema_alone():
    out = to_spark("SELECT * FROM other.adsl", (("adsl", "dva_x_adsl"),))
    assert "other.adsl" in out


def test_asking_for_spark_without_pyspark_says_what_to_install(monkeypatch):
    monkeypatch.setattr(spark_engine, "spark_available", lambda: False)
    with pytest.raises(EngineError, match=r"requirements-spark\.txt"):
        spark_engine.spark_session()


def test_an_unknown_engine_is_refused_by_name(demo_store):
    with pytest.raises(EngineError, match="'sqlite'"):
        Store(demo_store.path, engine="sqlite")


# --- DuckDB against Spark ---------------------------------------------------------------


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    if not spark_available():
        pytest.fail("PySpark is not installed: `make test` installs requirements-spark.txt")
    folder = demo_registry(tmp_path_factory.mktemp("registry") / "demo-registry")
    duck = Store.open(folder)
    spark = Store.open(folder, engine="spark")
    yield duck, spark
    spark.close()
    duck.close()


def test_the_spark_store_reads_its_own_views_and_removes_them_on_close(engines):
    duck, spark = engines
    assert spark.engine == "spark"
    assert duck.engine == "duckdb"
    other = Store(spark.path, engine="spark")
    tables = other._spark
    assert tables is not None
    assert tables.folder.is_dir()
    names = {v for _, v in tables.views}
    assert names.isdisjoint(v for _, v in spark._spark.views)
    other.close()
    assert not tables.folder.exists()
    session = spark_engine.spark_session()
    assert names.isdisjoint(t.name for t in session.catalog.listTables())


@pytest.mark.parametrize("query", VIEWS)
def test_counts_levels_and_survival_rows_agree(engines, query):
    duck, spark = engines
    view = View.from_text(query)
    filters = view.filters
    assert spark.count(filters) == duck.count(filters) > 0
    for column in ("SEX", "SITEID", "STUDYID", "RUTHCAT"):
        assert spark.group_sizes(filters, column) == duck.group_sizes(filters, column)
        assert spark.levels(column) == duck.levels(column)
    assert spark.value_range("AGE") == duck.value_range("AGE")
    assert spark.distinct_counts(["SITEID", "BMI"]) == duck.distinct_counts(["SITEID", "BMI"])
    for by in (None, view.compare or "DIALFL"):
        ours = spark.tte_counts_many(filters, ["AFS", "LS", "OS", "PP"], by=by)
        theirs = duck.tte_counts_many(filters, ["AFS", "LS", "OS", "PP"], by=by)
        assert len(theirs) > 0
        pd.testing.assert_frame_equal(ours, theirs)
    d_cohort, s_cohort = duck.cohort(filters), spark.cohort(filters)
    for table in ("adsl", "adtte", "visits", "adae"):
        pd.testing.assert_frame_equal(getattr(s_cohort, table), getattr(d_cohort, table))


@pytest.mark.parametrize("query", VIEWS[:2])
def test_the_summary_json_is_the_same_on_both_engines(engines, query):
    duck, spark = engines
    view = View.from_text(query)
    options = {"by": "DIABFL", "reference": "N", "bayes_endpoint": "AFS"}
    ours = summary_json(summarize(spark, view.filters, **options))
    theirs = summary_json(summarize(duck, view.filters, **options))
    assert ours == theirs
    assert theirs["comparison"]


def _card_parts(content) -> dict[str, object]:
    return {
        "title": content.title,
        "view": content.view_line,
        "withheld": content.withheld,
        "methods": content.methods,
        "tables": [(t.caption, t.frame.to_dict("split")) for t in content.tables],
        "chart": None
        if content.chart is None
        else (
            content.chart.series,
            None if content.chart.at_risk is None else content.chart.at_risk.to_dict("split"),
        ),
        "figure": None if content.figure is None else content.figure.to_json(),
    }


@pytest.mark.parametrize("query", VIEWS[1:3])
def test_every_card_of_the_pack_is_the_same_on_both_engines(engines, query):
    """Every kind of card: Tables 1 and 2, subgroups, sites, wounds, Rutherford, safety,
    deaths, the audit... each table cell, curve point and figure the same."""
    duck, spark = engines
    view = View.from_text(query)
    basket = Basket.standard(view, kinds=[k for k in KINDS if not k.startswith("design")])
    ours = build_pack(spark, basket, render=False).contents
    theirs = build_pack(duck, basket, render=False).contents
    assert len(ours) == len(theirs) == len(basket.cards)
    for mine, reference in zip(ours, theirs, strict=True):
        assert _card_parts(mine) == _card_parts(reference), mine.card.kind
    assert sum(len(c.tables) for c in theirs) > 10


def test_the_command_line_runs_on_spark_and_prints_the_same_json(tmp_path):
    args = ["--filter", "DIALFL=N", "--by", "SEX", "--landmark", "183"]

    def summary(*extra: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "analytics", "summary", *args, *extra],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        doc: dict = json.loads(done.stdout)
        return doc

    assert summary("--engine", "spark") == summary("--engine", "duckdb")


def test_the_command_line_names_a_spark_master_it_cannot_reach():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analytics",
            "summary",
            "--engine",
            "spark",
            "--spark-master",
            "nonsense://nowhere",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    assert "nonsense://nowhere" in done.stderr
    assert "Traceback" not in done.stderr


def test_filters_the_spark_store_is_given_are_bound_not_written_into_the_sql(engines):
    duck, spark = engines
    hostile = FilterState.parse(["SEX=M' OR '1'='1"])
    assert spark.count(hostile) == duck.count(hostile) == 0


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated registry: 4,000 patients, 12 sites in 3 study folders, with missing
    values, losses to follow-up and site effects."""
    folder = tmp_path_factory.mktemp("generated") / "registry"
    assert generate_registry(
        ["--patients", "4000", "--sites", "12", "--studies", "3", "--seed", "11",
         "--out", str(folder)]
    ) == 0  # fmt: skip
    duck = Store.open(folder)
    spark = Store.open(folder, engine="spark")
    yield duck, spark
    spark.close()
    duck.close()


@pytest.mark.parametrize("query", ["", "DIALFL=N&AGE>=60", "STUDYID=SYNTH-REG-02"])
def test_a_generated_registry_has_the_same_survival_and_subgroup_counts(generated, query):
    duck, spark = generated
    filters = View.from_text(query).filters
    assert spark.count(filters) == duck.count(filters) > 100
    endpoints = duck.endpoints()
    assert {"AFS", "LS", "OS"} <= set(endpoints)
    for by in (None, "SITEID", "STUDYID"):
        pd.testing.assert_frame_equal(
            spark.tte_counts_many(filters, endpoints, by=by),
            duck.tte_counts_many(filters, endpoints, by=by),
        )
    columns = duck.subject_columns()
    variables = [v for v in subgroup_variables(columns, ["SITEID"]) if source_column(v) in columns]
    assert len(variables) >= 5
    for variable in variables:
        for code in ("AFS", "LS"):
            theirs = subgroup_counts(duck, filters, code, variable)
            assert theirs["N"].sum() == duck.tte_counts(filters, code)["N"].sum()
            pd.testing.assert_frame_equal(subgroup_counts(spark, filters, code, variable), theirs)
