"""Writes the data bench/default_algorithm.ts compares algorithms on: scikit-learn's
bundled tables (no download) and wa_churn, each split train/valid three times
(seeds 0, 1, 2; stratified for classes), as CSVs under OUT/<name>/<seed>/.

usage: python3 bench/default_algorithm.py SHARED_DATA_DIR OUT_DIR
"""
import os, sys
import pandas as pd
from sklearn import datasets
from sklearn.model_selection import train_test_split

data_dir, out = sys.argv[1], sys.argv[2]

def bundled(loader, target="target", rename=None):
    b = loader(as_frame=True)
    df = b.frame.copy()
    if rename:
        df[target] = df[target].map(rename)
    return df

tables = {
    # name: (frame, target, stratify)
    "wa_churn": (pd.read_csv(os.path.join(data_dir, "wa_churn.csv")), "churn", True),
    "breast_cancer": (bundled(datasets.load_breast_cancer, rename={0: "malignant", 1: "benign"}), "target", True),
    "wine": (bundled(datasets.load_wine, rename={0: "a", 1: "b", 2: "c"}), "target", True),
    "digits": (bundled(datasets.load_digits, rename={i: f"d{i}" for i in range(10)}), "target", True),
    "diabetes": (bundled(datasets.load_diabetes), "target", False),
}
for name, (df, target, strat) in tables.items():
    for seed in (0, 1, 2):
        tr, va = train_test_split(df, test_size=0.25, random_state=seed,
                                  stratify=df[target] if strat else None)
        d = os.path.join(out, name, str(seed))
        os.makedirs(d, exist_ok=True)
        tr.to_csv(os.path.join(d, "train.csv"), index=False)
        va.to_csv(os.path.join(d, "valid.csv"), index=False)
    print(f"{name}: {len(df)} rows, target {target}")
