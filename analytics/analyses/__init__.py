"""The analyses of this field, each computed once for a view of the store.

Enters: the store and a view (filters, compare-by, options). Leaves: frozen results
for amputation-free survival, limb salvage and survival, patency, the primary
endpoint, subgroups, Tables 1 and 2, outcomes, wounds and Rutherford class at visits,
safety, sites, the NICE audit, the published evidence and the trial design. The
pages and the command line call the same functions, so their numbers agree.
"""
