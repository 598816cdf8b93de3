"""`bench nlp` rewrites only the sections of the tasks and sets it ran in benchmarks/nlp_results.md."""
from __future__ import annotations

from pathlib import Path

from sales_assistant.benchmarks.nlp import results_markdown

CLOSING = {"task": "closing", "model": "learned", "dataset": "test", "n": 720, "threshold": 0.98,
           "needs_answer_recall": 0.994, "closing_recall": 0.949, "accuracy": 0.971, "reached_model_share": 0.15,
           "items_per_second": 1165.0}
CSC = {"task": "csc", "model": "ngram", "dataset": "sighan2015", "n": 707, "precision": 0.914, "recall": 0.198,
       "f1": 0.326, "char_precision": 0.868, "char_recall": 0.207, "char_f1": 0.334, "false_alarm_rate": 0.021,
       "items_per_second": 598.0}


def test_a_closing_run_keeps_the_typo_section_and_replaces_its_own():
    first = results_markdown("", [CLOSING, CSC], "2026-12-02")
    assert "--task closing` on test (2026-12-02)" in first and "| csc | ngram | sighan2015 |" in first

    second = results_markdown(first, [{**CLOSING, "needs_answer_recall": 1.0}], "2026-12-05")
    assert "| csc | ngram | sighan2015 |" in second  # kept as it was
    assert "--task closing` on test (2026-12-05)" in second and "2026-12-02)" in second.split("--task csc")[1]
    assert "| 100.0% |" in second and "| 99.4% |" not in second  # the closing rows were rewritten, once
    assert second.count("<!-- bench nlp: closing on test -->") == 1


def test_another_data_set_gets_a_section_of_its_own_and_a_rerun_changes_nothing_else():
    base = results_markdown("", [CLOSING], "2026-12-05")
    fresh = results_markdown(base, [{**CLOSING, "dataset": "fresh-r4"}], "2026-12-05")
    assert fresh.startswith(base) and "<!-- bench nlp: closing on fresh-r4 -->" in fresh
    assert results_markdown(fresh, [CLOSING], "2026-12-05") == fresh


def test_the_results_file_as_committed_is_read_back_whole():
    committed = (Path(__file__).parents[2] / "benchmarks" / "nlp_results.md").read_text(encoding="utf-8")
    assert results_markdown(committed, [], "2026-12-05") == committed
    assert committed.count("<!-- bench nlp: ") == 3
