"""Rasa's LogisticRegressionClassifier, safe for messages without features.

Rasa 3.6's component hands scikit-learn a matrix with zero columns when a message
has no sparse features (an empty or whitespace-only message, or one made only of
characters the featurizers drop), and scikit-learn raises, so the whole turn fails
and the student gets no answer. Such messages get no intent here, exactly as
DIETClassifier does; the FallbackClassifier then turns that into `nlu_fallback`.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier as RasaLogisticRegressionClassifier,
)
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LogisticRegressionClassifier(RasaLogisticRegressionClassifier):
    def _classifiable(self, message: Message) -> bool:
        expected = getattr(self.clf, "n_features_in_", None)
        if expected is None:  # untrained: nothing to predict with
            return False
        try:
            features = self._create_X([message])
        except (ValueError, TypeError, AttributeError):
            return False
        return features.shape[1] == expected

    def process(self, messages: List[Message]) -> List[Message]:
        classifiable = []
        for message in messages:
            if self._classifiable(message):
                classifiable.append(message)
            else:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        if classifiable:
            super().process(classifiable)
        return messages
