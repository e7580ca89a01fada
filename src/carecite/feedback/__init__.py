"""Feedback on answers: flags tied to the sources behind them (flags.py)."""
