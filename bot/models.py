"""SQLAlchemy 1.4 models of the application database.

Rasa's SQL tracker store owns a table named `events`; nothing here may use it.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

# A student's own words (and words about them) are encrypted at rest (bot/crypto.py).
from bot.crypto import DeterministicEncryptedText, EncryptedText

Base = declarative_base()

ROLES = ("student", "supervisor", "coordinator")
LEERWEGEN = ("BOL", "BBL")
PHASES = ("before", "during", "after")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    external_id = Column(String(64), nullable=False, unique=True)
    role = Column(String(16), nullable=False)
    name = Column(String(200), nullable=False)
    email = Column(String(254))
    password_hash = Column(String(255))
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="ck_users_role"),)

    internship = relationship(
        "Internship",
        foreign_keys="Internship.student_id",
        uselist=False,
        back_populates="student",
    )

    @property
    def first_name(self) -> str:
        return (self.name or "").split(" ")[0]


class Internship(Base):
    """Links a student to a workplace supervisor (one current internship each)."""

    __tablename__ = "internships"

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True)
    supervisor_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    company = Column(String(200))
    leerweg = Column(String(3))
    start_date = Column(Date)
    end_date = Column(Date)

    student = relationship("User", foreign_keys=[student_id], back_populates="internship")
    supervisor = relationship("User", foreign_keys=[supervisor_id])


class Reflection(Base):
    """One weekly reflection per student per ISO week (e.g. 2026-W48)."""

    __tablename__ = "reflections"

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    iso_week = Column(String(8), nullable=False)
    went_well = Column(EncryptedText)
    difficult = Column(EncryptedText)
    feedback = Column(EncryptedText)
    initiative = Column(EncryptedText)
    next_goal = Column(EncryptedText)
    mood = Column(Integer)
    # comma-separated names of the answers the student chose to share
    shared_fields = Column(String(200), nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("student_id", "iso_week", name="uq_reflection_student_week"),
        CheckConstraint("mood IS NULL OR (mood BETWEEN 1 AND 5)", name="ck_reflection_mood"),
    )

    student = relationship("User")
    comments = relationship("SupervisorComment", cascade="all, delete-orphan", back_populates="reflection")
    receipts = relationship("ReadReceipt", cascade="all, delete-orphan", back_populates="reflection")


class Goal(Base):
    """A goal for a week: from a reflection or a coaching micro-goal."""

    __tablename__ = "goals"

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    # deterministic: looked up with == and part of uq_goal_once_per_week
    text = Column(DeterministicEncryptedText, nullable=False)
    source = Column(String(40), nullable=False)  # "reflection" or a topic intent name
    iso_week = Column(String(8), nullable=False)  # the week the goal is for
    outcome = Column(EncryptedText)
    outcome_at = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("student_id", "iso_week", "text", name="uq_goal_once_per_week"),)


class SupervisorComment(Base):
    __tablename__ = "supervisor_comments"

    id = Column(Integer, primary_key=True)
    reflection_id = Column(Integer, ForeignKey("reflections.id", ondelete="CASCADE"), nullable=False, index=True)
    supervisor_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    text = Column(EncryptedText, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    delivered_at = Column(DateTime)

    reflection = relationship("Reflection", back_populates="comments")
    supervisor = relationship("User")


class ReadReceipt(Base):
    __tablename__ = "read_receipts"

    id = Column(Integer, primary_key=True)
    reflection_id = Column(Integer, ForeignKey("reflections.id", ondelete="CASCADE"), nullable=False)
    supervisor_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    read_at = Column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("reflection_id", "supervisor_id", name="uq_read_once"),)

    reflection = relationship("Reflection", back_populates="receipts")


class ContentTopic(Base):
    __tablename__ = "content_topics"

    topic = Column(String(40), primary_key=True)
    label = Column(String(30), nullable=False)


class ContentVersion(Base):
    """One version of the advice for topic x phase x leerweg.

    At most one version per key is `published`; older ones are `archived`
    (rollback re-publishes one of them), new edits start as `draft`.
    """

    __tablename__ = "content_versions"

    id = Column(Integer, primary_key=True)
    topic = Column(String(40), ForeignKey("content_topics.topic", ondelete="CASCADE"), nullable=False)
    phase = Column(String(8), nullable=False)  # before/during/after/any
    leerweg = Column(String(3), nullable=False)  # BOL/BBL/any
    version = Column(Integer, nullable=False)
    status = Column(String(10), nullable=False, default="draft")
    body = Column(Text, nullable=False)  # JSON: acknowledge, tips, why, micro_goal, related
    author = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    published_at = Column(DateTime)

    __table_args__ = (
        UniqueConstraint("topic", "phase", "leerweg", "version", name="uq_content_version"),
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="ck_content_status"),
    )


class ContentRevision(Base):
    """A single counter bumped on every publish/rollback: cheap cache invalidation."""

    __tablename__ = "content_revision"

    id = Column(Integer, primary_key=True)
    revision = Column(Integer, nullable=False, default=0)
    changed_at = Column(DateTime, nullable=False, default=utcnow)


class SafetyReport(Base):
    """An unsafe situation a student reported. Visible to school coordinators only."""

    __tablename__ = "safety_reports"

    id = Column(Integer, primary_key=True)
    student_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    conversation_id = Column(String(128))
    categories = Column(String(200), nullable=False, default="")
    message = Column(EncryptedText, nullable=False)
    details = Column(EncryptedText)
    status = Column(String(16), nullable=False, default="new")
    coordinator_note = Column(EncryptedText)
    handled_by = Column(String(200))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint("status IN ('new', 'acknowledged', 'closed')", name="ck_safety_status"),
    )


class AuditEvent(Base):
    """Who did what with a student's data, and when (see bot/audit.py).

    Never holds the content of a reflection or report: only ids, weeks and, for a
    data request, its date and a short reason. actor_user_id is NULL when an
    operator ran a command on the server (actor_label then says e.g. "cli").
    """

    __tablename__ = "audit_events"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor_user_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"))
    actor_label = Column(String(200), nullable=False)
    actor_role = Column(String(16), nullable=False)
    action = Column(String(40), nullable=False)
    student_user_id = Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    detail = Column(Text)  # JSON object with ids/weeks only, see bot.audit.DETAIL_KEYS


class UnansweredQuestion(Base):
    """What the assistant could not answer, stored without the student's identity."""

    __tablename__ = "unanswered_questions"

    id = Column(Integer, primary_key=True)
    # deterministic: the coordinators' view groups equal questions (GROUP BY text)
    text = Column(DeterministicEncryptedText, nullable=False)
    predicted_intent = Column(String(60))
    confidence = Column(Float)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class TopicRequest(Base):
    """Anonymous counter of asked topics, for the coordinators' weekly overview."""

    __tablename__ = "topic_requests"

    id = Column(Integer, primary_key=True)
    topic = Column(String(40), nullable=False)
    iso_week = Column(String(8), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class PortalSession(Base):
    """One portal login. The browser's signed cookie holds a random token; only its
    SHA-256 is stored, so a copy of the database cannot be used to log in. Logging
    out deletes the row, which makes a copied cookie worthless at once."""

    __tablename__ = "portal_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False, index=True)


class UsedChatToken(Base):
    """The id (`jti`) of every validly signed chat token presented to the chat channel:
    a token opens at most one chat (bot.tokens.redeem_chat_token). The primary key
    makes a second use fail, also across Rasa replicas sharing this database. No
    student id: a random id and the token's own expiry, after which the row is
    pruned (the token is refused as expired by then anyway)."""

    __tablename__ = "used_chat_tokens"

    jti = Column(String(64), primary_key=True)
    expires_at = Column(DateTime, nullable=False, index=True)
