"""Builds the project's Dutch spaCy pipeline into build/spacy-nl.

There is no downloadable Dutch model on these machines, so the pipeline is
spacy.blank("nl") (Dutch tokenizer rules) plus a lookup lemmatizer whose tables
come from spacy-lookups-data; the tables are saved inside the pipeline, so the
running assistant needs no download and no lookups package.
"""
import sys
from pathlib import Path

import spacy

TARGET = Path(sys.argv[1] if len(sys.argv) > 1 else "build/spacy-nl")


def main() -> None:
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(TARGET)
    doc = spacy.load(TARGET)("begeleiders vroegen")
    print(f"spaCy pipeline saved to {TARGET}: {[(t.text, t.lemma_) for t in doc]}")


if __name__ == "__main__":
    main()
