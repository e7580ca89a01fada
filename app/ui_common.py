"""What every page shares: the cached stores and pipeline, and the demo sign-in in the sidebar.

Layout only. Decisions about what to show live in ``carecite.ui`` (unit-tested); access,
answers and the audit trail come from carecite's public API.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from sqlmodel import Session

from carecite.settings import Settings
from carecite.ui.people import UserCard, facility_names, list_users, picker_labels, user_card

if TYPE_CHECKING:
    from carecite.answering.pipeline import Pipeline
    from carecite.audit import AuditLog
    from carecite.stores import Stores

USER_KEY = "user_id"  # the signed-in user, shared by every page
_PICKER_KEY = "signin_picker"


def settings() -> Settings:
    return Settings()


def data_dir() -> str:
    return str(settings().data_dir.resolve())


@st.cache_resource(show_spinner=False)
def get_stores(data_dir: str) -> Stores:
    from carecite.stores import Stores

    return Stores(Settings(data_dir=Path(data_dir)))


@st.cache_resource(show_spinner=False)
def get_pipeline(data_dir: str) -> Pipeline:
    from carecite.privacy.log_redaction import configure_logging
    from carecite.wiring import build_pipeline

    pipeline = build_pipeline(Settings(data_dir=Path(data_dir)), stores=get_stores(data_dir))
    configure_logging(pipeline.redactor)  # the UI's logs carry no PHI either
    return pipeline


@st.cache_resource(show_spinner=False)
def warm_models(data_dir: str) -> threading.Thread:
    """Load the models once, when the app starts, in the background: the page renders at once and
    the first question finds the embedding model, the indexes and Presidio ready."""
    # Building the pipeline (Presidio, spaCy) happens in the thread too, not in the page's first run.
    thread = threading.Thread(target=lambda: _warm(data_dir), name="carecite-warm-up", daemon=True)
    thread.start()
    return thread


def _warm(data_dir: str) -> None:
    try:
        get_pipeline(data_dir).warm()
    except Exception as exc:  # a store that is down: the page says so; the log gets one line
        from carecite.store_errors import store_fault_line

        line = store_fault_line(exc, settings(), "the first question will retry", address=False)
        if line is None:
            raise
        logging.getLogger("carecite.ui").warning("warm-up skipped: %s", line)


@st.cache_resource(show_spinner=False)
def get_audit(data_dir: str) -> AuditLog:
    from carecite.audit import AuditLog

    return AuditLog(get_stores(data_dir).engine)


@contextmanager
def store_faults() -> Iterator[None]:
    """Around a whole page: a store that is down, or dies while the page runs (PostgreSQL, a Chroma
    server), becomes one message naming it and what to do, and the page stops; never a traceback.
    Anything else is not ours to reinterpret. (``st.stop`` and reruns are not ``Exception``s.)"""
    try:
        yield
    except Exception as exc:
        from carecite.store_errors import store_fault_line

        line = store_fault_line(
            exc, settings(), "ask your administrator to start it, then reload this page", address=False
        )
        if line is None:
            raise
        st.error(line[0].upper() + line[1:], icon="🔌")
        st.stop()


def has_data(s: Settings) -> bool:
    """Whether there is a system of record to open (a data dir's SQLite file, or a database URL)."""
    return (s.data_dir / "carecite.sqlite").is_file() or s.database_url is not None


def require_data() -> str:
    """The data dir, or stop the page with how to build one."""
    d = settings().data_dir
    if not has_data(settings()):
        st.error(
            f"No carecite data at `{d}`. Build the demo data with `carecite demo` or `carecite ingest synthetic`."
        )
        st.stop()
    warm_models(str(d.resolve()))
    return str(d.resolve())


def session(data_dir: str) -> Session:
    return Session(get_stores(data_dir).engine)


def sign_in(data_dir: str) -> UserCard | None:
    """The demo sign-in: a user picker in the sidebar showing role, facilities and what they may see."""
    with session(data_dir) as s:
        users = list_users(s)
        names = facility_names(s)
    cards = {u.id: user_card(u, names) for u in users}
    ids = [None, *cards]
    user_labels = picker_labels({uid: f"{c.name} · {c.role_words}" for uid, c in cards.items()})
    # Widget state does not survive a page switch; the signed-in user (USER_KEY) does.
    if st.session_state.get(_PICKER_KEY) is None and st.session_state.get(USER_KEY) in cards:
        st.session_state[_PICKER_KEY] = st.session_state[USER_KEY]
    with st.sidebar:
        st.markdown("### Sign in (demo)")
        chosen = st.selectbox(
            "User",
            ids,
            key=_PICKER_KEY,
            format_func=lambda uid: "— choose a user —" if uid is None else user_labels[uid],
            help="A demo stand-in for single sign-on: pick who you are.",
        )
        st.session_state[USER_KEY] = chosen
        if chosen is None:
            return None
        card = cards[chosen]
        st.markdown(f"**{card.role_words}** · `{card.user_id}`")
        st.caption("Facilities: " + (", ".join(card.facilities) or "none"))
        for line in card.may_see:
            st.caption("• " + line)
        return card
