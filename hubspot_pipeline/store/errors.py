"""Errors raised by the store. Messages name what to fix and never carry secrets."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class DestinationError(StoreError):
    """The export destination is misconfigured or unreachable (raised before anything is written)."""


class ManifestError(StoreError):
    """A table's manifest is missing or does not match the objects it names."""
