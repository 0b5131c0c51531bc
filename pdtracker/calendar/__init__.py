"""Calendar feeds: the iCalendar builder (ics.py), importing, and the feed blueprint.

The ``calendar`` blueprint lives in ``views`` (the subscribe page and the teacher,
department and public feeds over HTTP) and is registered by the factory, so the
pure modules (ics.py, ics_import.py, fetch.py) import without Flask views or models.
"""
