"""libical 3 (the parser under Evolution/GNOME) through ctypes, for interop tests.

Debian's libical3 package ships only shared libraries (no validator binary), so this
module calls them directly: ``icalparser_parse_string`` + ``icalrestriction_check``,
then collects the ``X-LIC-ERROR`` properties libical inserts where it rejected
something (libical drops such properties, as libical-based clients would), and
expands every VEVENT with ``icalcomponent_foreach_recurrence`` (RRULE/RDATE/EXDATE).

Usage: ``python tests/interop/libical.py FILE [FROM TO]`` prints the same JSON shape
as check_icaljs.mjs with ``problems`` = the X-LIC-ERROR messages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache

__all__ = ["LibicalResult", "available", "check"]


class _Time(ctypes.Structure):
    """struct icaltimetype (libical 3: no is_utc member)."""

    _fields_ = [
        ("year", ctypes.c_int),
        ("month", ctypes.c_int),
        ("day", ctypes.c_int),
        ("hour", ctypes.c_int),
        ("minute", ctypes.c_int),
        ("second", ctypes.c_int),
        ("is_date", ctypes.c_int),
        ("is_daylight", ctypes.c_int),
        ("zone", ctypes.c_void_p),
    ]


class _Span(ctypes.Structure):
    """struct icaltime_span."""

    _fields_ = [
        ("start", ctypes.c_int64),
        ("end", ctypes.c_int64),
        ("is_busy", ctypes.c_int),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    None, ctypes.c_void_p, ctypes.POINTER(_Span), ctypes.c_void_p
)


@dataclass
class LibicalResult:
    """Normalised events plus libical's complaints about one iCalendar object."""

    events: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@cache
def _lib() -> ctypes.CDLL | None:
    """Load libical.so.3 once and declare the functions used; None if absent."""
    name = ctypes.util.find_library("ical") or "libical.so.3"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    sigs = {
        "icalparser_parse_string": (ctypes.c_void_p, [ctypes.c_char_p]),
        "icalrestriction_check": (ctypes.c_int, [ctypes.c_void_p]),
        "icalcomponent_free": (None, [ctypes.c_void_p]),
        "icalcomponent_isa": (ctypes.c_int, [ctypes.c_void_p]),
        "icalcomponent_string_to_kind": (ctypes.c_int, [ctypes.c_char_p]),
        "icalproperty_string_to_kind": (ctypes.c_int, [ctypes.c_char_p]),
        "icalcomponent_get_first_component": (
            ctypes.c_void_p,
            [ctypes.c_void_p, ctypes.c_int],
        ),
        "icalcomponent_get_next_component": (
            ctypes.c_void_p,
            [ctypes.c_void_p, ctypes.c_int],
        ),
        "icalcomponent_get_first_property": (
            ctypes.c_void_p,
            [ctypes.c_void_p, ctypes.c_int],
        ),
        "icalcomponent_get_next_property": (
            ctypes.c_void_p,
            [ctypes.c_void_p, ctypes.c_int],
        ),
        "icalproperty_get_xlicerror": (ctypes.c_char_p, [ctypes.c_void_p]),
        "icalproperty_get_value_as_string": (ctypes.c_char_p, [ctypes.c_void_p]),
        "icalcomponent_get_uid": (ctypes.c_char_p, [ctypes.c_void_p]),
        "icalcomponent_get_summary": (ctypes.c_char_p, [ctypes.c_void_p]),
        "icalcomponent_get_dtstart": (_Time, [ctypes.c_void_p]),
        "icalcomponent_get_dtend": (_Time, [ctypes.c_void_p]),
        "icalcomponent_get_recurrenceid": (_Time, [ctypes.c_void_p]),
        "icaltime_as_timet_with_zone": (ctypes.c_int64, [_Time, ctypes.c_void_p]),
        "icaltimezone_get_utc_timezone": (ctypes.c_void_p, []),
        "icalcomponent_foreach_recurrence": (
            None,
            [ctypes.c_void_p, _Time, _Time, _CALLBACK, ctypes.c_void_p],
        ),
        "icalerror_set_errors_are_fatal": (None, [ctypes.c_int]),
    }
    for fname, (restype, argtypes) in sigs.items():
        func = getattr(lib, fname)
        func.restype = restype
        func.argtypes = argtypes
    # A build with ICAL_ERRORS_ARE_FATAL would abort() the test process on bad input.
    lib.icalerror_set_errors_are_fatal(0)
    return lib


def available() -> bool:
    """True when libical.so.3 can be loaded."""
    return _lib() is not None


def _kinds(lib: ctypes.CDLL) -> dict[str, int]:
    """Enum values looked up at run time (no libical-dev headers needed)."""
    comp = lib.icalcomponent_string_to_kind
    prop = lib.icalproperty_string_to_kind
    return {
        "ANY": comp(b"ANY"),
        "VEVENT": comp(b"VEVENT"),
        "ANYPROP": prop(b"ANY"),
        "X-LIC-ERROR": prop(b"X-LIC-ERROR"),
        "STATUS": prop(b"STATUS"),
        "RECURRENCE-ID": prop(b"RECURRENCE-ID"),
    }


def _children(lib: ctypes.CDLL, comp: int, kind: int) -> list[int]:
    """Direct subcomponents, collected first (libical's iterator is per parent)."""
    out = []
    child = lib.icalcomponent_get_first_component(comp, kind)
    while child:
        out.append(child)
        child = lib.icalcomponent_get_next_component(comp, kind)
    return out


def _errors(lib: ctypes.CDLL, comp: int, kinds: dict[str, int]) -> list[str]:
    """Every X-LIC-ERROR message in the tree, in document order."""
    out = []
    prop = lib.icalcomponent_get_first_property(comp, kinds["X-LIC-ERROR"])
    while prop:
        out.append((lib.icalproperty_get_xlicerror(prop) or b"").decode())
        prop = lib.icalcomponent_get_next_property(comp, kinds["X-LIC-ERROR"])
    for child in _children(lib, comp, kinds["ANY"]):
        out.extend(_errors(lib, child, kinds))
    return out


def _text(value: bytes | None) -> str | None:
    """libical's char* (UTF-8) as str."""
    return None if value is None else value.decode("utf-8")


def _window_time(day: date, utc: int) -> _Time:
    """A UTC midnight icaltimetype for the expansion window."""
    return _Time(day.year, day.month, day.day, 0, 0, 0, 0, 0, utc)


def _fmt_timet(seconds: int, all_day: bool) -> str:
    """time_t as the normalised string (DATE values come back as UTC midnight)."""
    moment = datetime.fromtimestamp(seconds, UTC)
    if all_day:
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _as_timet(lib: ctypes.CDLL, value: _Time, utc: int) -> int:
    """An icaltimetype in its own zone (UTC when floating) as time_t."""
    return lib.icaltime_as_timet_with_zone(value, value.zone or utc)


def _event_occurrences(
    lib: ctypes.CDLL, comp: int, kinds: dict[str, int], window: tuple[date, date]
) -> list[dict]:
    """Occurrences of one VEVENT inside the window, as normalised dicts."""
    utc = lib.icaltimezone_get_utc_timezone()
    start = lib.icalcomponent_get_dtstart(comp)
    if start.year == 0:
        return []
    all_day = bool(start.is_date)
    end = lib.icalcomponent_get_dtend(comp)
    # libical pads DATE spans to 23:59:59, so take the length from DTSTART/DTEND.
    if end.year == 0:
        length = 86400 if all_day else 0
    else:
        length = _as_timet(lib, end, utc) - _as_timet(lib, start, utc)
    status_prop = lib.icalcomponent_get_first_property(comp, kinds["STATUS"])
    status = (
        _text(lib.icalproperty_get_value_as_string(status_prop))
        if status_prop
        else None
    )
    recurring = bool(lib.icalcomponent_get_first_property(comp, kinds["RECURRENCE-ID"]))
    uid = _text(lib.icalcomponent_get_uid(comp))
    summary = _text(lib.icalcomponent_get_summary(comp))
    rrule = lib.icalproperty_string_to_kind(b"RRULE")
    rdate = lib.icalproperty_string_to_kind(b"RDATE")
    is_series = any(
        lib.icalcomponent_get_first_property(comp, k) for k in (rrule, rdate)
    )
    starts: list[int] = []

    def collect(_comp: int, span: ctypes.POINTER(_Span), _data: int) -> None:
        starts.append(span.contents.start)

    callback = _CALLBACK(collect)
    lib.icalcomponent_foreach_recurrence(
        comp,
        _window_time(window[0], utc),
        _window_time(window[1], utc),
        callback,
        None,
    )
    out = []
    for begin in sorted(set(starts)):
        if recurring:
            rid = lib.icalcomponent_get_recurrenceid(comp)
            recurrence_id = _fmt_timet(_as_timet(lib, rid, utc), bool(rid.is_date))
        else:
            recurrence_id = _fmt_timet(begin, all_day) if is_series else None
        out.append(
            {
                "uid": uid,
                "recurrence_id": recurrence_id,
                "start_utc": _fmt_timet(begin, all_day),
                "end_utc": _fmt_timet(begin + length, all_day),
                "all_day": all_day,
                "status": status,
                "summary": summary,
            }
        )
    return out


def check(
    data: bytes | str,
    window: tuple[date, date] = (date(1970, 1, 1), date(2100, 1, 1)),
) -> LibicalResult:
    """Parse with libical; return expanded events and de-duplicated X-LIC-ERRORs."""
    lib = _lib()
    if lib is None:
        raise RuntimeError("libical.so.3 is not installed")
    if isinstance(data, str):
        data = data.encode("utf-8")
    kinds = _kinds(lib)
    root = lib.icalparser_parse_string(data)
    if not root:
        return LibicalResult(errors=["icalparser_parse_string returned NULL"])
    try:
        lib.icalrestriction_check(root)
        # libical repeats some messages (once per pass); keep the first of each.
        errors = list(dict.fromkeys(_errors(lib, root, kinds)))
        events = []
        for comp in _children(lib, root, kinds["VEVENT"]):
            events.extend(_event_occurrences(lib, comp, kinds, window))
    finally:
        lib.icalcomponent_free(root)
    events.sort(key=lambda e: (e["uid"] or "", e["start_utc"]))
    return LibicalResult(events=events, errors=errors)


def _main(argv: list[str]) -> int:
    """Command line: FILE [FROM TO] -> JSON on stdout."""
    if not available():
        print("libical.so.3 is not installed", file=sys.stderr)
        return 2
    window = (date(1970, 1, 1), date(2100, 1, 1))
    if len(argv) == 3:
        window = (date.fromisoformat(argv[1]), date.fromisoformat(argv[2]))
    with open(argv[0], "rb") as fh:
        result = check(fh.read(), window)
    out = {"events": result.events, "problems": result.errors}
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
