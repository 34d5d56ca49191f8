"""Trains the optional naive Bayes classifier (kameng.safety.classifier) on the DEV part of the scam
corpus only, normalised with the seeded rules' variants, and writes src/kameng/safety/scam_model.json.
The held-out part is never read here. Run: `.venv/bin/python bench/scam_train.py`."""

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from scam_eval import load, setup_django  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(os.environ.get("SCAM_EVAL_DB") or str(Path(tmp) / "scam_train.sqlite3"))
        from kameng.safety import classifier, scam
        from kameng.safety.normalize import normalize

        variants = scam.current_rules().variants
        rows = [
            (normalize(r["text"], variants=variants).squeezed, r["label"] == "scam")
            for r in load("dev.jsonl")
        ]
        model = classifier.train(rows)
    classifier.MODEL.write_text(
        json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(f"{len(model['weights'])} features from {model['trained_on']} dev messages -> {classifier.MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
