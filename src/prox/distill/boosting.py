"""How the student's trees are grown: LightGBM's parameters for the line and doc models, and training them with progress.

The parameters are deterministic on any machine (one seed, LightGBM's ``deterministic`` mode), so a recipe remade
elsewhere gives the same trees.
"""

from __future__ import annotations

from prox.errors import MissingExtra

LINE_PARAMS = {  # chosen on CleanEval -> Dragnet and back (docs/benchmarks.md); deterministic on any machine
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 7, "min_data_in_leaf": 100, "feature_fraction": 0.8,
    "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0, "seed": 0, "deterministic": True,
    "force_row_wise": True, "verbosity": -1,
}
LINE_ROUNDS = 300
DOC_PARAMS = {  # doc sets are small (hundreds of documents): shallow trees, many per leaf
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 4, "min_data_in_leaf": 10, "feature_fraction": 0.8,
    "lambda_l2": 5.0, "seed": 0, "deterministic": True, "force_row_wise": True, "verbosity": -1,
}
DOC_ROUNDS = 150


def boost(lightgbm, params: dict, data, rounds: int, name: str):
    """``lightgbm.train``, reporting each boosting round to :mod:`prox.progress` (a display shows it)."""
    from prox import progress

    with progress.stage(name, rounds):
        return lightgbm.train(params, data, rounds, callbacks=[lambda env: progress.advance(1)])


def lightgbm_or_explain():
    try:
        import lightgbm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra("the student needs LightGBM: pip install 'prox-refine[distill]'") from exc
    return lightgbm
