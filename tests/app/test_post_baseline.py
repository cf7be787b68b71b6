"""Compare-by offers baseline characteristics; one known only after the procedure needs
the explicit "post-baseline, descriptive only" option, and then the page, its exports
and the command line's JSON name the immortal-time bias."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from analytics.model.schema import ADSL, is_baseline
from analytics.model.view import IMMORTAL_TIME, View
from analytics.report.cli import main
from tests.helpers import ROOT

POST = "TECHSFL"


def test_the_model_marks_what_is_known_only_after_day_0():
    after = {c.name for c in ADSL.columns if not c.baseline}
    assert {"TECHSFL", "DTHFL", "DTHCAUS", "EOSSTT", "XARTERY", "ACDURD"} <= after
    assert not after & {"SEX", "AGE", "DIALFL", "RUTHCAT", "SITEID", "ENRLDT"}
    assert is_baseline("AN_EXTRACTS_OWN_COLUMN")


def test_a_link_comparing_by_a_post_baseline_column_needs_the_option():
    refused = View.from_text(f"compare={POST}")
    assert refused.compare is None
    assert "immortal-time bias" in refused.problems[0]
    allowed = View.from_text(f"compare={POST}&postbaseline=true")
    assert (allowed.compare, allowed.post_baseline, allowed.problems) == (POST, True, ())
    assert View.from_text(allowed.url_query()) == allowed
    assert IMMORTAL_TIME in allowed.describe()
    assert "immortal" not in View.from_text("compare=SEX").describe()


def run(**query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page("pages/afs.py")
    at.run()
    assert not at.exception
    return at


def test_the_sidebar_offers_baseline_characteristics_unless_asked():
    at = run()
    offered = at.selectbox(key="compare").options
    assert "Sex" in offered
    assert not any("Technical success" in o for o in offered)
    at.toggle(key="postbaseline").set_value(True).run()
    assert "Technical success (post-baseline)" in at.selectbox(key="compare").options
    at.selectbox(key="compare").set_value(POST).run()
    said = " ".join(w.value for w in at.main.warning)
    assert f"Compared by Technical success, {IMMORTAL_TIME}." in said
    assert IMMORTAL_TIME in " ".join(c.value for c in at.main.caption)  # the view line
    # turning the option off takes the comparison away with it
    at.toggle(key="postbaseline").set_value(False).run()
    assert at.selectbox(key="compare").value is None
    assert at.session_state["_dva_context"].view.compare is None


def test_a_link_without_the_option_is_named_not_followed():
    at = run(compare=POST)
    assert at.session_state["_dva_context"].view.compare is None
    assert any("immortal-time bias" in w.value for w in at.main.warning)
    at = run(compare=POST, postbaseline="true")
    assert at.session_state["_dva_context"].view.compare == POST


def test_the_json_names_the_bias(capsys):
    assert main(["summary", "--by", POST]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any("immortal-time bias" in n for n in out["cohort"]["notes"])
    assert "postbaseline=true" in out["cohort"]["view_query"]
    assert main(["summary", "--by", "SEX"]) == 0
    assert not any("immortal" in n for n in json.loads(capsys.readouterr().out)["cohort"]["notes"])
