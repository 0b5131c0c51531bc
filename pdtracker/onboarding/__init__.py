"""Onboarding a college from spreadsheets: people, enterprises and training records.

The reading layer (errors, checkdigits, values, kindmap, reading, headers, rows)
is pure; planning and applying (plan, apply) work on the database; the views and
the CLI are thin. The blueprint lives in ``views`` and is registered by the
factory, so importing the pure modules never imports Flask.
"""
