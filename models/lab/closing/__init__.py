"""The closing model's lab: the labelled set (build_dataset), fine-tuning (train), the detectors side by
side (evaluate). Serving code: models/closing/."""
