"""NLP models, one folder per task behind one small interface each; chosen by config.

Every model loads from local files only: nothing here downloads weights or data at run time.
"""
