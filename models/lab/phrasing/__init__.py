"""The phrasing checker's lab: the fluency threshold, calibrated on our own good sales messages
(calibrate). Serving code: models/phrasing/."""
