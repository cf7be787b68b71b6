"""The data model and the values that describe a view of it.

Enters: nothing but the code itself. Leaves: the tables, columns, types, codes and
clinical labels of the project's data model (`schema`), the filter state and the
view (filters, compare-by and options: one frozen value with a URL form), and the
provenance every result carries (`provenance`). Every other step imports from here;
this step imports from no other.
"""
