"""Counts of whole-day times grouped on one integer key (2 * time + event) are the counts
grouped on the pair: the same rows, types and order, for every view and endpoint."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.model.filters import FilterState
from analytics.store import queries

VIEWS = ([], ["DIALFL=N"], ["AGE>=65", "SEX=M"], ["AGE>=200"])


@pytest.mark.parametrize("filters", VIEWS)
def test_one_integer_key_gives_the_counts_of_the_pair(demo_store, filters):
    assert demo_store._whole_days  # the demo's times are whole days
    subject = demo_store.subject_where(FilterState.parse(filters))
    slot = demo_store._endpoint_slot
    slots = [(code, slot[code]) for code in sorted(slot)]
    columns = demo_store.column_types["adsl"]
    fast = queries.tte_counts(demo_store.cursor(), subject, slots, None, columns, True)
    pair = queries.tte_counts(demo_store.cursor(), subject, slots, None, columns, False)
    pd.testing.assert_frame_equal(fast, pair)
    if filters != ["AGE>=200"]:
        assert set(fast["EVENT"]) == {0, 1}
        assert fast["N"].sum() > 0
    else:
        assert fast.empty
