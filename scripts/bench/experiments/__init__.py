"""What-if variants of our stack for `python -m scripts.bench --experiment NAME`.

Each experiment is a directory with a `sitecustomize.py` that is put first on the
PYTHONPATH of our stack's processes only (the baseline is left alone), so a change
to a third-party library's behaviour can be measured before anyone decides to make
it part of the product. A run with an experiment is labelled as such in the report;
its numbers are not the product's.
"""
from pathlib import Path

EXPERIMENTS = {p.name.replace("_", "-"): p for p in Path(__file__).parent.iterdir() if (p / "sitecustomize.py").exists()}
