"""The pages and their menu: grouped in sections so that the whole menu shows at once,
in the sidebar and, in presentation mode, across the top (four menus, not a row of
fourteen links cut short by "more")."""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

# (file, title, icon); the URL path of each page is its file name (afs, patency ...).
PAGES = (
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/afs.py", "Amputation-free survival", ":material/monitor_heart:"),
    ("pages/primary_endpoint.py", "Primary endpoint", ":material/flag:"),
    ("pages/design.py", "Trial design", ":material/science:"),
    ("pages/evidence.py", "Published evidence", ":material/menu_book:"),
    ("pages/patency.py", "Patency", ":material/conversion_path:"),
    ("pages/subgroups.py", "Subgroups", ":material/account_tree:"),
    ("pages/wounds.py", "Wounds and Rutherford", ":material/healing:"),
    ("pages/patients.py", "Patients and procedure", ":material/groups:"),
    ("pages/sites.py", "Sites", ":material/location_on:"),
    ("pages/audit.py", "NICE audit", ":material/fact_check:"),
    ("pages/report.py", "Committee report", ":material/slideshow:"),
    ("pages/data.py", "Data", ":material/database:"),
    ("pages/glossary.py", "Glossary", ":material/dictionary:"),
)
SECTIONS = {
    "Outcomes": ("pages/overview.py", "pages/afs.py", "pages/primary_endpoint.py",
                 "pages/patency.py"),
    "Patients": ("pages/subgroups.py", "pages/wounds.py", "pages/patients.py",
                 "pages/sites.py", "pages/audit.py"),
    "Evidence and design": ("pages/evidence.py", "pages/design.py"),
    "Report and data": ("pages/report.py", "pages/data.py", "pages/glossary.py"),
}
DATA_PAGE = "pages/data.py"


def navigation(presentation: bool, only_data: bool = False) -> StreamlitPage:
    """The menu of every page (only the Data page when the data cannot be opened)."""
    pages = {
        path: st.Page(path, title=title, icon=icon, default=i == 0 or only_data)
        for i, (path, title, icon) in enumerate(PAGES)
        if not only_data or path == DATA_PAGE
    }
    menu = {
        section: [pages[p] for p in paths if p in pages] for section, paths in SECTIONS.items()
    }
    return st.navigation(
        {section: items for section, items in menu.items() if items},
        position="top" if presentation else "sidebar",
        expanded=True,
    )
