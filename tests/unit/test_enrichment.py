"""What the notifier adds to every alert: the owner and the priority reason, built once per set of reasons."""
from sales_assistant.connectors.i18n import explain
from sales_assistant.connectors.sinks import Enricher
from sales_assistant.core.roster import Role, Roster, Staff
from sales_assistant.policies.priority import DEFAULT_RULES, score

ROSTER = Roster({"s1": Staff("s1", "董森", Role.SALES, team="east")})


def alert(i: int, text: str | None, waited: int | None = 5, stage: str = "pre_sales", level: str = "green") -> dict:
    return {"alert_id": f"R{i}/m/0", "room_id": f"R{i}", "owner_id": "s1" if i % 2 else "nobody", "stage": stage,
            "level": level, "waited_minutes": waited, "last_text": text}


def expected(a: dict, lang: str) -> str:
    return explain(score(DEFAULT_RULES, waited_minutes=a["waited_minutes"], stage=a["stage"], texts=[a["last_text"]],
                         level=a["level"]), lang)


def test_each_alert_says_why_in_its_own_words_even_when_the_reasons_repeat():
    texts = ["在吗？价格是多少？", "报价多少钱", "价格是多少？", "我要退款，尽快！", "好的", None, "折扣款怎么算", "PRICE 价钱"]
    alerts = [alert(i, t, waited, stage, level) for i, (t, waited, stage, level) in enumerate(
        (t, w, s, lv) for t in texts for w in (0, 5, 30, None) for s in ("pre_sales", "after_sales")
        for lv in ("green", "red"))]
    for lang in ("zh", "en"):
        enrich = Enricher(DEFAULT_RULES, lang)
        for _ in range(2):  # the second pass answers from what it remembered
            for a in alerts:
                assert enrich(a, ROSTER)["priority_why"] == expected(a, lang)
    quote, price = Enricher()(alert(1, "报价多少钱"), ROSTER), Enricher()(alert(1, "价格多少"), ROSTER)
    assert "报价" in quote["priority_why"] and "价格" in price["priority_why"]  # the same reasons, other words


def test_the_alert_keeps_its_fields_and_gains_the_owner_in_order():
    a = alert(1, "在吗？")
    out = Enricher()(a, ROSTER)
    assert list(out) == [*a, "owner_name", "team", "priority_why"]
    assert (out["owner_name"], out["team"]) == ("董森", "east") and out == a | {k: out[k] for k in list(out)[-3:]}
    assert Enricher()(alert(2, "在吗？"), ROSTER)["owner_name"] is None


def test_its_memory_is_bounded():
    enrich = Enricher()
    for minutes in range(Enricher.KEPT + 10):
        enrich(alert(1, "在吗？", waited=minutes), ROSTER)
    assert len(enrich._said) <= Enricher.KEPT
