"""Rasa NLU component: a keyword/regex net that forces `report_unsafe`.

Missing an unsafe report is the worst error the assistant can make, so when the
patterns in data/safety/patterns.yml match, the intent becomes report_unsafe
whatever the statistical classifier said. Runs last in the pipeline.

Without a pattern match, a message for which the classifier still gives
report_unsafe at least `suspect_threshold` is marked `safety_suspected` and also
becomes report_unsafe: the dialogue then asks the student whether something is
wrong before any report is made (actions/safety.py), so a false suspicion costs one
question and a missed report costs nothing worse than before. Patterns of a
category marked `confirm_first` (soft signals such as "sorry voor alles") do the same.

A message longer than `confirm_above_words` words that the classifier alone (no
pattern) ranks report_unsafe is also asked about first: on long messages the
logistic regression's confidence says little (it gave 1.0 to ordinary stories about
a wedding day off or a dropped pallet), so an ordinary long story must not become a
report to the school without the student's "ja".
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.training_data.message import Message

UNSAFE_INTENT = "report_unsafe"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyNetClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # None: only the patterns force report_unsafe.
        return {"suspect_threshold": None, "confirm_above_words": None}

    def __init__(
        self, suspect_threshold: Optional[float] = None, confirm_above_words: Optional[int] = None
    ) -> None:
        self.suspect_threshold = suspect_threshold
        self.confirm_above_words = confirm_above_words

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyNetClassifier":
        return cls(config.get("suspect_threshold"), config.get("confirm_above_words"))

    def process(self, messages: List[Message]) -> List[Message]:
        from bot.safety import detect, split_by_certainty  # deferred: no file I/O at import time

        for message in messages:
            text: Optional[str] = message.get("text")
            if not text or text.startswith("/"):
                continue
            categories, signals = split_by_certainty(detect(text))
            if categories:
                message.set("safety_categories", categories, add_to_output=True)
            if (message.get("intent") or {}).get("name") == UNSAFE_INTENT:
                if not categories and self._too_long_to_trust(text):
                    message.set("safety_suspected", True, add_to_output=True)
                continue
            if categories:
                _force_unsafe(message, 1.0)
                continue
            if signals:
                message.set("safety_suspected", True, add_to_output=True)
                _force_unsafe(message, 1.0)
                continue
            unsafe_confidence = self._unsafe_confidence(message)
            if self.suspect_threshold is not None and unsafe_confidence >= self.suspect_threshold:
                message.set("safety_suspected", True, add_to_output=True)
                _force_unsafe(message, unsafe_confidence)
        return messages

    def _too_long_to_trust(self, text: str) -> bool:
        return self.confirm_above_words is not None and len(text.split()) > self.confirm_above_words

    @staticmethod
    def _unsafe_confidence(message: Message) -> float:
        ranking = message.get("intent_ranking") or []
        return next((r.get("confidence") or 0.0 for r in ranking if r.get("name") == UNSAFE_INTENT), 0.0)


def _force_unsafe(message: Message, confidence: float) -> None:
    forced = {"name": UNSAFE_INTENT, "confidence": confidence}
    ranking = [r for r in (message.get("intent_ranking") or []) if r.get("name") != UNSAFE_INTENT]
    message.set("intent", forced, add_to_output=True)
    message.set("intent_ranking", [forced] + ranking, add_to_output=True)
