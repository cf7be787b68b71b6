"""Streamlit helpers shared by app.py and the pages; no data access of their own."""
