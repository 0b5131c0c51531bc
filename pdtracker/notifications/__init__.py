"""Notifications: the outbox, delivery preferences, the in-app page and scheduler runs.

The blueprint lives in ``views`` and is registered by the factory, so importing
a module of this package never loads the pages as a side effect.
"""
