"""Sampling the staff checks under load (policies/check_sampling.py): when it is on, and which texts it keeps."""
from __future__ import annotations

import subprocess
import sys

import pytest

from sales_assistant.config.settings import ConfigError, load_settings
from sales_assistant.policies.check_sampling import SampleUnderLag, kept, sampling

RULE = SampleUnderLag(lag_s=60, keep=0.25)
IDS = [f"om_{i:06d}" for i in range(20_000)]


def test_sampling_is_on_only_past_the_lag_and_only_when_chosen():
    assert not sampling(None, 3600.0)  # off by default, however far behind
    assert not sampling(RULE, None)  # nothing waits
    assert not sampling(RULE, 60.0)
    assert sampling(RULE, 60.5)


def test_the_kept_share_is_close_to_the_setting():
    for keep in (0.01, 0.25, 0.5, 0.9):
        share = sum(kept(i, keep) for i in IDS) / len(IDS)
        assert abs(share - keep) < 0.015, (keep, share)
    assert all(kept(i, 1.0) for i in IDS)


def test_a_smaller_share_keeps_a_subset_of_a_larger_one():
    small, large = {i for i in IDS if kept(i, 0.1)}, {i for i in IDS if kept(i, 0.3)}
    assert small and small < large


def test_the_same_ids_are_kept_in_another_process():
    """Python's `hash` is salted per process; a replay or another check actor must keep the same texts."""
    code = ("from sales_assistant.policies.check_sampling import kept; "
            f"print(','.join(i for i in {IDS[:500]!r} if kept(i, 0.25)))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345"}).stdout.strip().split(",")
    assert other == [i for i in IDS[:500] if kept(i, 0.25)]


def test_the_setting_is_off_by_default_and_bad_values_are_refused_naming_the_field():
    assert load_settings().nlp.check_sample_under_lag is None
    got = load_settings(nlp={"check_sample_under_lag": {"lag_s": 30, "keep": 0.5}}).nlp.check_sample_under_lag
    assert got.to_policy() == SampleUnderLag(30, 0.5)
    for bad in ({"lag_s": 0, "keep": 0.5}, {"lag_s": 30, "keep": 0}, {"lag_s": 30, "keep": 1.5}):
        with pytest.raises(ConfigError, match="nlp.check_sample_under_lag"):
            load_settings(nlp={"check_sample_under_lag": bad})
