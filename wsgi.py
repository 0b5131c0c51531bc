"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

from pdtracker import create_app

app = create_app()
