"""Which learning library for the student: LightGBM against scikit-learn on the same line features.

    python bench/bench_learners.py --cleaneval ../shared/labels/boilerplate_lines_dev.jsonl.gz \
        --dragnet ../shared/labels/boilerplate_lines_dragnet.jsonl.gz

Each learner is trained on one set's training split and scored (macro line-F1 of the line decisions alone,
no doc stage) on both validation splits: CE->DN and DN->CE are the cross-set figures. Also: training time
for both sets, and the time to predict one 20-line page (the student's batch when documents come one by
one). scikit-learn is not a prox dependency: its rows are skipped when it is not installed.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cleaneval", default="../shared/labels/boilerplate_lines_dev.jsonl.gz")
    parser.add_argument("--dragnet", default="../shared/labels/boilerplate_lines_dragnet.jsonl.gz")
    args = parser.parse_args()
    for path in (args.cleaneval, args.dragnet):
        if not os.path.exists(path):
            print(f"skipped: {path} is absent (the labelled sets are in ../shared/labels/)")
            return

    import lightgbm

    from prox.distill.sources import from_labelled
    from prox.distill.student import LINE_PARAMS, LINE_ROUNDS, _line_matrix
    from prox.labels import read_labelled
    from prox.metrics import Confusion

    splits = {name: read_labelled(path, "lines").split() for name, path in (("CE", args.cleaneval), ("DN", args.dragnet))}
    matrices = {(name, part): _line_matrix(from_labelled(splits[name][i].items).pages)
                for name in splits for part, i in (("train", 0), ("validation", 1))}

    def lightgbm_fit(x, y, w):
        model = lightgbm.train({**LINE_PARAMS, "num_threads": os.cpu_count()}, lightgbm.Dataset(x, y, weight=w), LINE_ROUNDS)
        return lambda rows: model.predict(rows, num_threads=1)

    learners = {"LightGBM": lightgbm_fit}
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        def boosting_fit(x, y, w):
            model = HistGradientBoostingClassifier(max_leaf_nodes=LINE_PARAMS["num_leaves"], learning_rate=LINE_PARAMS["learning_rate"],
                                                   max_iter=LINE_ROUNDS, min_samples_leaf=LINE_PARAMS["min_data_in_leaf"],
                                                   l2_regularization=LINE_PARAMS["lambda_l2"], early_stopping=False, random_state=0)
            model.fit(x, y, sample_weight=w)
            return lambda rows: model.predict_proba(rows)[:, 1]

        def logistic_fit(x, y, w):
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x, y, logisticregression__sample_weight=w)
            return lambda rows: model.predict_proba(rows)[:, 1]

        learners.update({"scikit-learn HistGradientBoosting": boosting_fit, "scikit-learn logistic regression": logistic_fit})
    except ImportError:
        print("scikit-learn is not installed: its rows are skipped")

    page = matrices["CE", "validation"][0][:20]
    print(f"  {'learner':34} {'CE->CE':>7} {'CE->DN':>7} {'DN->CE':>7} {'DN->DN':>7} {'train s':>8} {'20 lines ms':>12}")
    for name, fit in learners.items():
        figures, seconds = [], 0.0
        for train in ("CE", "DN"):
            start = time.perf_counter()
            predict = fit(*matrices[train, "train"])
            seconds += time.perf_counter() - start
            for test in ("CE", "DN"):
                x, y, _ = matrices[test, "validation"]
                figures.append(Confusion().add((predict(x) >= 0.5).tolist(), (y > 0).tolist()).macro_f1)
        start = time.perf_counter()
        for _ in range(50):
            predict(page)
        per_page = (time.perf_counter() - start) / 50 * 1000
        print(f"  {name:34} " + " ".join(f"{f:7.3f}" for f in figures) + f" {seconds:8.1f} {per_page:12.2f}")


if __name__ == "__main__":
    main()
