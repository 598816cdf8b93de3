"""The notifier's sinks get the service's time zone from the settings, and only from there."""
import pytest

from sales_assistant.actors.notifier import SinkSpec, sink_specs
from sales_assistant.config.settings import load_settings


def test_every_sink_gets_the_configured_time_zone(tmp_path):
    settings = load_settings(data_dir=tmp_path, timezone="America/New_York", sinks=["console", "jsonl", "lark"])
    specs = sink_specs(settings)
    assert [s.name for s in specs] == ["console", "jsonl", "lark"]
    assert {s.tz for s in specs} == {"America/New_York"}
    assert specs[0].build().tz == "America/New_York"  # what the console prints its times in


def test_a_sink_without_a_time_zone_is_refused():
    with pytest.raises(TypeError, match="tz"):
        SinkSpec("console")


def test_a_sink_asked_for_a_capability_it_does_not_declare_says_which():
    import pytest

    from sales_assistant.connectors.sinks import NullSink, Sink, UndeclaredCapability

    sink = NullSink()
    assert not sink.caps.max_waiting
    with pytest.raises(UndeclaredCapability, match="max_waiting"):
        sink.deliver_catch_up(None, [], 0, "card")
    with pytest.raises(TypeError):  # a sink that cannot deliver one alert is not a sink
        type("Mute", (Sink,), {})()
