"""The coaching topics (intent names from the intent contract) and labels."""
from __future__ import annotations

COACHING_TOPICS = (
    "ask_proactive",
    "ask_feedback",
    "ask_expectations",
    "ask_communication",
    "ask_relationship",
    "ask_first_impression",
    "ask_job_after_internship",
    "ask_motivation",
    "ask_confidence",
    "ask_mistake",
    "ask_reliability",
    "ask_learning_goals",
)

# Shown as buttons by ask_capabilities and the fallback: the three core themes first.
MAIN_TOPICS = ("ask_proactive", "ask_feedback", "ask_expectations", "ask_learning_goals")

PHASES = ("before", "during", "after")
CONTENT_PHASES = PHASES + ("any",)
CONTENT_LEERWEGEN = ("BOL", "BBL", "any")

PHASE_LABELS = {
    "before": "Voor mijn stage",
    "during": "Tijdens mijn stage",
    "after": "Einde van mijn stage",
}
