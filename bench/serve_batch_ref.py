#!/usr/bin/python3
"""bench:serve-batch's reference: the FastAPI + scikit-learn service of
../shared/reference/fastapi_ref.py (its model, encoding and imputation, imported
as they are) given a batch: POST /predict_batch takes a JSON list of records and
answers one prediction and probability per record, scored as one DataFrame.

env: REF_TRAIN, REF_TARGET (as fastapi_ref.py), REF_DIR (the reference folder).
Run: uvicorn --app-dir bench serve_batch_ref:app
"""
import os, sys
sys.path.insert(0, os.environ.get("REF_DIR", "../shared/reference"))
import pandas as pd
from fastapi import Request
from fastapi_ref import app, cats, columns, medians, model, positive


@app.post("/predict_batch")
async def predict_batch(request: Request):
    records = await request.json()
    frame = pd.DataFrame(records)
    rows = pd.get_dummies(frame, columns=[c for c in cats if c in frame.columns], dummy_na=True)
    rows = rows.reindex(columns=columns, fill_value=0).fillna(medians)
    p = model.predict_proba(rows.values.astype(float))[:, 1]
    return {"predictions": [{"prediction": positive if q >= 0.5 else "other", "probability": float(q)} for q in p]}
