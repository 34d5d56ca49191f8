"""An optional naive Bayes classifier over the normalised text's character pairs, trained on the DEV
part of bench/scam_corpus by bench/scam_train.py and shipped as scam_model.json beside this file.
Off unless settings.KAMENG_SCAM_CLASSIFIER is true: the rules alone meet the target, and the corpus
it learns from was written by the same hand as the rules (see bench/README.md for both figures).

It adds at most WEIGHT to a message's score, in proportion to how far above even odds it puts the
message, before the question and warning factors apply."""

import json
import math
from functools import lru_cache
from pathlib import Path

MODEL = Path(__file__).resolve().parent / "scam_model.json"
WEIGHT = 3.0


def features(squeezed: str) -> set[str]:
    """Single characters and pairs inside each clause (the clauses are "|"-separated)."""
    found = set()
    for clause in squeezed.split("|"):
        found.update(clause)
        found.update(clause[i : i + 2] for i in range(len(clause) - 1))
    return found


@lru_cache(maxsize=1)
def model() -> dict:
    return json.loads(MODEL.read_text(encoding="utf-8"))


def probability(squeezed: str) -> float:
    m = model()
    weights = m["weights"]
    logit = m["prior"] + sum(weights.get(f, 0.0) for f in features(squeezed))
    logit = max(-30.0, min(30.0, logit))
    return 1 / (1 + math.exp(-logit))


def bonus(squeezed: str) -> float:
    return round(WEIGHT * max(0.0, probability(squeezed) - 0.5) * 2, 2)


def train(rows: list[tuple[str, bool]], *, min_count: int = 2) -> dict:
    """Bernoulli naive Bayes with add-one smoothing; rows are (squeezed text, is scam). Only features
    seen at least `min_count` times are kept, as log-likelihood ratios of their presence."""
    counts = {True: {}, False: {}}
    totals = {True: 0, False: 0}
    for text, label in rows:
        totals[label] += 1
        for f in features(text):
            counts[label][f] = counts[label].get(f, 0) + 1
    weights = {}
    for f in set(counts[True]) | set(counts[False]):
        seen_scam, seen_normal = counts[True].get(f, 0), counts[False].get(f, 0)
        if seen_scam + seen_normal < min_count:
            continue
        p_scam = (seen_scam + 1) / (totals[True] + 2)
        p_normal = (seen_normal + 1) / (totals[False] + 2)
        weights[f] = round(math.log(p_scam / p_normal), 4)
    prior = math.log((totals[True] + 1) / (totals[False] + 1))
    return {
        "prior": round(prior, 4),
        "weights": dict(sorted(weights.items())),
        "trained_on": totals[True] + totals[False],
    }
