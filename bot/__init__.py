"""Stagecoach: a Dutch coaching assistant for MBO interns (Rasa 3.6)."""
