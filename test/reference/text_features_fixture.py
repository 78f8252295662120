"""A tiny folder in TAC's data/ layout for test/text/features.test.ts, written the way TAC's
scripts write theirs: float16 image embeddings (a GPU CLIP's encode_image), the float64 template
mean of the nouns, np.savetxt float labels, int64 cached k-means preds, float16 retrieved text,
and a WordNetNouns.csv with a header and a quoted entry. expected.json holds the values as
float64 (float16 -> float32 is exact).

Run:  /usr/bin/python3 test/reference/text_features_fixture.py
"""
import csv
import json
import os

import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "text", "tac")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
N, D, M = 6, 4, 5
images = rng.normal(0, 1, (N, D)).astype(np.float16)
images[0, 0] = np.float16(65504)  # largest float16
images[0, 1] = np.float16(6e-8)   # a subnormal
nouns = rng.normal(0, 1, (M, D))  # float64, as np.zeros(...) += ... in text_embedding.py
labels = np.array([3, 0, 1, 1, 2, 0])
preds = np.array([1, 0, 0, 1, 1, 0], dtype=np.int64)
retrieved = rng.normal(0, 1, (N, D)).astype(np.float16)
np.save(os.path.join(out, "TOY_image_embedding_train.npy"), images)
np.save(os.path.join(out, "nouns_embedding_ensemble.npy"), nouns)
np.savetxt(os.path.join(out, "TOY_labels_train.txt"), labels)
np.save(os.path.join(out, "TOY_image_2cluster.npy"), preds)
np.save(os.path.join(out, "TOY_retrieved_nouns_embedding.npy"), retrieved)
words = ["entity", "physical entity", 'say "hi", twice', "dog", "Greenland Sea"]
with open(os.path.join(out, "WordNetNouns.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["word", "definition"])
    for word in words:
        w.writerow([word, "a definition, with a comma"])
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({
        "images": images.astype(np.float64).ravel().tolist(),
        "nouns": nouns.astype(np.float32).astype(np.float64).ravel().tolist(),
        "labels": labels.tolist(),
        "preds": preds.tolist(),
        "retrieved": retrieved.astype(np.float64).ravel().tolist(),
        "lemmas": words,
    }, f)
