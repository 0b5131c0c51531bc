"""Delivery preferences: each person's channel (e-mail and in-app, in-app, off) per kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select

from pdtracker.auth.models import User
from pdtracker.extensions import db
from pdtracker.notifications.models import (
    Channel,
    NotificationKind,
    NotificationPreference,
)


def channels_for(pairs: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Channel]:
    """Each (user, kind)'s chosen channel, e-mail and in-app by default (one query)."""
    pairs = set(pairs)
    users = {user_id for user_id, _ in pairs}
    chosen = {
        (p.user_id, p.kind): Channel(p.channel)
        for p in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id.in_(users)
            )
        )
    }
    return {pair: chosen.get(pair, Channel.EMAIL_AND_APP) for pair in pairs}


def preferences_of(user: User) -> dict[NotificationKind, Channel]:
    """The user's channel for every kind."""
    chosen = channels_for((user.id, str(kind)) for kind in NotificationKind)
    return {kind: chosen[(user.id, str(kind))] for kind in NotificationKind}


def set_preferences(user: User, choices: Mapping[NotificationKind, Channel]) -> None:
    """Store the user's channels (the default is stored too: it is explicit then)."""
    current = {
        p.kind: p
        for p in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id == user.id
            )
        )
    }
    for kind, channel in choices.items():
        row = current.get(str(kind))
        if row is None:
            db.session.add(
                NotificationPreference(
                    user_id=user.id, kind=str(kind), channel=channel.value
                )
            )
        else:
            row.channel = channel.value
    db.session.flush()
