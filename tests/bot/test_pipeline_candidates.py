"""The comparison candidates stay comparable with what is served."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = ROOT / "scripts" / "pipelines"


def pipeline(path: Path) -> list:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["pipeline"]


def test_the_chosen_candidate_is_the_served_pipeline():
    # The README's config.yml row is reproduced by `make nlu-compare` through this
    # candidate; if the two drift apart, that row no longer describes the product.
    assert pipeline(CANDIDATES / "spacy_lemma_logreg_safetynet.yml") == pipeline(ROOT / "config.yml")


def test_the_no_spacy_candidate_differs_only_in_tokenisation():
    served = pipeline(ROOT / "config.yml")
    without_spacy = pipeline(CANDIDATES / "charngram_logreg_safetynet.yml")
    assert without_spacy[0] == {"name": "WhitespaceTokenizer"}
    assert without_spacy[1:] == [c for c in served if c["name"] not in {"SpacyNLP", "SpacyTokenizer"}]


def test_every_candidate_ends_with_the_safety_net():
    for path in sorted(CANDIDATES.glob("*.yml")):
        names = [c["name"] for c in pipeline(path)]
        if "safetynet" in path.stem:
            assert names[-1] == "bot.nlu.safety_net.SafetyNetClassifier", path.name
