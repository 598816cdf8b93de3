"""The lab: what makes and measures the shipped models, and never runs in the product.

One folder per task, beside its serving folder in models/: build the data sets, train, tune and
calibrate (they write the artifacts that serving loads: weights, vocabularies, fitted parameters),
and evaluate on held-out or external data (`sales-assistant bench nlp` runs the evaluations).
The lab imports serving code, so that it measures exactly what runs; serving never imports the lab.
"""
