"""Rasa NLU component: a keyword/regex net that forces `report_unsafe`.

Missing an unsafe report is the worst error the assistant can make, so when the
patterns in data/safety/patterns.yml match, the intent becomes report_unsafe
whatever the statistical classifier said. Runs last in the pipeline.
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
    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyNetClassifier":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        from bot.safety import detect  # deferred: no file I/O at import time

        for message in messages:
            text: Optional[str] = message.get("text")
            if not text or text.startswith("/"):
                continue
            categories = detect(text)
            if not categories:
                continue
            message.set("safety_categories", categories, add_to_output=True)
            current = message.get("intent") or {}
            if current.get("name") == UNSAFE_INTENT:
                continue
            forced = {"name": UNSAFE_INTENT, "confidence": 1.0}
            ranking = [r for r in (message.get("intent_ranking") or []) if r.get("name") != UNSAFE_INTENT]
            message.set("intent", forced, add_to_output=True)
            message.set("intent_ranking", [forced] + ranking, add_to_output=True)
        return messages
