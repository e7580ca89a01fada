"""What people see, as plain typed functions: the Streamlit pages' content (html, declines, people,
header, sources, review, quality, live) and the terminal's Rich rendering (terminal, terminal_report).

No Streamlit import here: the pages in app/ only lay things out, so every decision about *what* to
show is unit-tested. Nothing here decides access; rules come from where they live (``access``,
``retrieval.records``, ``records.tables``, ``evaluation.gold``).
"""
