"""Calendar feeds: iCalendar builder (ics.py) and, later, the feed blueprint."""
