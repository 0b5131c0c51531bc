"""Every area's models in one registry, for Alembic and the tests (re-exports only)."""

from pdtracker.activities.models import Activity, ActivityKind, EvidenceFile
from pdtracker.audit import AuditEntry
from pdtracker.auth.models import LoginAttempt, Role, User, UserRole
from pdtracker.calendar.models import FeedState, FeedToken
from pdtracker.events.models import Event, ImportSource, Registration
from pdtracker.notifications.models import (
    Notification,
    NotificationPreference,
    SchedulerHeartbeat,
    SchedulerRun,
)
from pdtracker.onboarding.models import ActivationToken, ImportMapping, KindSynonym
from pdtracker.org.models import Department, Institution, TeacherProfile
from pdtracker.papers.models import Paper
from pdtracker.placements.market_models import (
    AttendanceDay,
    DepartmentSector,
    EnterpriseMentor,
    MentorAssessment,
    PlacementOffer,
    PlacementRequest,
)
from pdtracker.placements.models import Enterprise, Placement
from pdtracker.progress.models import Evaluation, StoredRuleset
from pdtracker.progress.standings_models import TeacherStanding
from pdtracker.recognition.models import (
    Decision,
    FormalCheck,
    Objection,
    PanelVote,
    Recognition,
    RecognitionApplication,
    RecognitionBasis,
    RecognitionBasisFile,
    RecognitionChange,
    RecognitionRound,
    RoundReviewer,
)

__all__ = [
    "ActivationToken",
    "Activity",
    "ActivityKind",
    "AttendanceDay",
    "AuditEntry",
    "Decision",
    "Department",
    "DepartmentSector",
    "Enterprise",
    "EnterpriseMentor",
    "Evaluation",
    "Event",
    "EvidenceFile",
    "FeedState",
    "FeedToken",
    "FormalCheck",
    "ImportMapping",
    "ImportSource",
    "Institution",
    "KindSynonym",
    "LoginAttempt",
    "MentorAssessment",
    "Notification",
    "NotificationPreference",
    "Paper",
    "Objection",
    "PanelVote",
    "Placement",
    "PlacementOffer",
    "PlacementRequest",
    "Recognition",
    "RecognitionApplication",
    "RecognitionBasis",
    "RecognitionBasisFile",
    "RecognitionChange",
    "RecognitionRound",
    "Registration",
    "Role",
    "RoundReviewer",
    "SchedulerHeartbeat",
    "SchedulerRun",
    "StoredRuleset",
    "TeacherProfile",
    "TeacherStanding",
    "User",
    "UserRole",
]
