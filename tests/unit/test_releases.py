"""A week's release (pure): every figure over one population of at least k people, each
lever only from its parts that meet k, noise on every shown figure scaled to one person's
largest effect, and a reason for every hidden one. The attacks on raw computations come
first, then the same numbers through :func:`release_tree`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import levers as model
from shared.domain.release_figures import (
    FIGURE_BOUNDS,
    FIGURES,
    PersonWeek,
    Population,
    PulseSums,
    budget_share,
    clamp,
    rollup,
)
from shared.domain.releases import noise_scale, release_tree
from shared.releases.noise import OpenDPNoise, privacy_loss
from shared.settings import Settings

K = 5
EPSILON = 50.0  # teams of 5 to 8 pass the noise bound (its own test uses the default)
ORG = "org"


class ExactNoise:
    """No noise: shows what a release would give away without it."""

    def laplace(self, value: float, scale: float) -> float:
        return value

    def margin(self, scale: float, alpha: float) -> float:
        return 0.0


class OffsetNoise:
    """Deterministic noise of exactly its scale, recording every draw."""

    def __init__(self) -> None:
        self.scales: list[float] = []

    def laplace(self, value: float, scale: float) -> float:
        self.scales.append(scale)
        return value + scale

    def margin(self, scale: float, alpha: float) -> float:
        return scale


def _pulse(answers: list[dict[str, int]]) -> PulseSums:
    item_sum = [sum(a.get(i, 0) for a in answers) for i in model.ITEMS]
    item_n = [sum(1 for a in answers if i in a) for i in model.ITEMS]
    scales = [model.safety_scale(a) for a in answers]
    safety = [model.likert_to_100(s) for s in scales if s is not None]
    return PulseSums(len(safety), sum(safety), item_sum, item_n)


SAFE = {item: 5 for item in model.ITEMS}


def _team(people: list[PersonWeek], answers: list[dict[str, int]]) -> Population:
    population = Population()
    for person in people:
        population.add_person(person)
    population.add_pulse(_pulse(answers))
    return population


def test_blend_halves_leak_on_the_raw_computation_and_not_in_a_release():
    calendar = (80.0, 30.0, 40.0, 0.0, 0.0, 0)  # one person's heavy calendar
    answers = [{**SAFE, "workload": 3}] * 5
    raw = model.WeekSums(calendar_people=1, pressure=80.0, members=5)
    raw.item_sum = [sum(a[i] for a in answers) for i in model.ITEMS]
    raw.item_n = [5] * len(model.ITEMS)
    lever = model.levers_of(raw)["time_pressure"]
    workload_item = raw.item("workload")[0]
    assert lever.n == 5 and lever.value is not None and workload_item is not None
    assert round((lever.value - 0.4 * (100 - workload_item)) / 0.6, 1) == 80.0  # the leak
    people = [PersonWeek(calendar=calendar)] + [PersonWeek()] * 4
    out = release_tree(ORG, {}, {ORG: _team(people, answers)}, K, EPSILON, ExactNoise())[ORG]
    pressure = out["levers"]["time_pressure"]
    assert pressure["parts"] == ["item:workload"]
    assert pressure["value"] == round(100 - workload_item, 1)  # the survey half only
    assert out["figures"]["calendar_pressure"] == {
        "value": None, "n": None, "suppressed": True, "margin": None, "reason": "fewer_than_k",
    }  # fmt: skip
    assert out["time_pressure_components"]["meeting_share"] is None


def test_respondents_never_exceed_members():
    out = release_tree(
        ORG, {}, {ORG: _team([PersonWeek(actions=1)] * 6, [SAFE] * 7)}, K, EPSILON, ExactNoise()
    )[ORG]
    assert out["members"] == 6
    assert out["pulse_items"]["workload"]["n"] == 6
    assert out["levers"]["psychological_safety"]["n"] == 6
    assert out["levers"]["psychological_safety"]["suppressed"] is False


def test_a_sub_team_beside_too_few_direct_members_hides_the_parent():
    children = {ORG: ["parent"], "parent": ["sub"]}
    own = {
        "parent": _team([PersonWeek(actions=1)], [SAFE]),
        "sub": _team([PersonWeek(actions=2)] * 4 + [PersonWeek()] * 1, [SAFE] * 5),
    }
    out = release_tree(ORG, children, own, K, EPSILON, ExactNoise())
    assert out["sub"]["levers"]["participation"]["suppressed"] is False
    assert out["parent"]["levers"]["participation"]["reason"] == "protects_smaller_group"
    assert out["parent"]["members"] is None


def test_no_data_and_too_few_have_their_reasons():
    out = release_tree(ORG, {}, {ORG: _team([PersonWeek()] * 3, [])}, K, EPSILON, ExactNoise())
    assert out[ORG]["levers"]["participation"]["reason"] == "fewer_than_k"
    assert out[ORG]["levers"]["psychological_safety"]["reason"] == "no_data"


def test_noise_is_opendps_and_spends_the_figures_share_of_the_budget():
    scale = noise_scale("participation", 10, EPSILON)
    assert privacy_loss(scale, 100.0 / 10) <= EPSILON * budget_share("participation") + 1e-9
    assert sum(budget_share(f) for f in FIGURES) == pytest.approx(1.0)
    noise = OpenDPNoise()
    draws = {noise.laplace(50.0, scale) for _ in range(20)}
    assert len(draws) == 20  # fresh noise each draw: hence drawn once, at release
    assert abs(noise.margin(scale, 0.1) - 2.302585 * scale) < 1e-3 * scale


people_weeks = st.builds(
    PersonWeek,
    actions=st.integers(0, 30),
    stretched=st.booleans(),
    asked=st.booleans(),
    visible=st.integers(0, 5),
    rewarded=st.integers(0, 5),
    feedback=st.integers(0, 3),
    output_only=st.integers(0, 3),
    calendar=st.none() | st.tuples(
        st.floats(0, 100), st.floats(0, 40), st.just(40.0), st.floats(0, 40), st.floats(0, 30),
        st.integers(0, 30),
    ),
)  # fmt: skip
answers = st.dictionaries(st.sampled_from(model.ITEMS), st.integers(1, 7), min_size=1)


@st.composite
def trees(draw: st.DrawFn) -> tuple[dict[str, list[str]], dict[str, Population]]:
    """A random team tree below the organisation and each team's own eligible members."""
    count = draw(st.integers(1, 6))
    children: dict[str, list[str]] = {ORG: []}
    for i in range(count):
        parent = draw(st.sampled_from([ORG] + [f"t{j}" for j in range(i)]))
        children.setdefault(parent, []).append(f"t{i}")
    own = {}
    for i in range(count):
        people = draw(st.lists(people_weeks, max_size=9))
        own[f"t{i}"] = _team(people, draw(st.lists(answers, max_size=9)))
    return children, own


@settings(max_examples=60, deadline=None)
@given(trees(), people_weeks, answers, st.integers(3, 7))
def test_no_figure_leaves_without_noise_scaled_to_one_person(tree, extra, answer, k):
    """Two releases that differ by exactly one person (a member and their answer): every
    figure either is hidden, or is over at least k people and carries noise whose scale is
    one person's largest effect on it over that figure's share of the budget."""
    children, own = tree
    target = sorted(own)[0]
    with_one = dict(own)
    with_one[target] = own[target] + _team([extra], [answer])
    for populations in (own, with_one):
        noise = OffsetNoise()
        out = release_tree(ORG, children, populations, k, EPSILON, noise)
        totals = rollup(ORG, children, populations)
        shown = 0
        for node, release in out.items():
            for figure, cell in release["figures"].items():
                if cell["suppressed"]:
                    assert cell["value"] is None and cell["n"] is None and cell["reason"]
                    continue
                shown += 1
                exact, n = totals[node].figure(figure)
                assert n >= k and cell["n"] == n and exact is not None
                low, high = FIGURE_BOUNDS[figure]
                scale = (high - low) / n / (EPSILON * budget_share(figure))
                expected = round(clamp(exact + scale, figure), 2 if high <= 20 else 1)
                assert abs(cell["value"] - expected) < 1e-9
            for lever in release["levers"].values():
                assert lever["suppressed"] or (lever["n"] >= k and lever["parts"])
        assert len(noise.scales) == shown


def test_the_accuracy_table_in_the_docs_is_the_codes():
    from pathlib import Path

    from shared.releases.accuracy import accuracy_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "privacy.md").read_text()
    table = doc.split("<!-- accuracy:start -->\n")[1].split("<!-- accuracy:end -->")[0]
    assert table.strip() == accuracy_table(Settings().privacy_epsilon).strip(), (
        "docs/privacy.md is out of date: paste `compound releases accuracy`"
    )


def test_release_settings_are_read_and_checked():
    import pytest

    from shared.settings import Settings, SettingsError

    settings = Settings.from_env(
        {"COMPOUND_PRIVACY_EPSILON": "2.5", "COMPOUND_RELEASE_GRACE_HOURS": "6"}
    )
    assert settings.privacy_epsilon == 2.5 and settings.release_grace_hours == 6
    assert Settings.from_env({}).privacy_epsilon == 10.0
    for bad in ("0", "-1", "nan", "inf", "ten"):
        with pytest.raises(SettingsError, match="COMPOUND_PRIVACY_EPSILON"):
            Settings.from_env({"COMPOUND_PRIVACY_EPSILON": bad})
    with pytest.raises(SettingsError, match="COMPOUND_RELEASE_GRACE_HOURS"):
        Settings.from_env({"COMPOUND_RELEASE_GRACE_HOURS": "-1"})


def test_noise_does_not_nudge():
    """A released lever past its nudge threshold nudges only when its margin is small."""
    from types import SimpleNamespace

    from shared.releases.reads import NUDGE_MAX_MARGIN, node_weeks

    people = [PersonWeek()] * 30  # nobody acted: participation 0, under its threshold
    release = release_tree(ORG, {}, {ORG: _team(people, [])}, K, EPSILON, ExactNoise())[ORG]

    def nudges(margin: float) -> list[str]:
        cell = {**release["levers"]["participation"], "margin": margin}
        levers = {**release["levers"], "participation": cell}
        row = SimpleNamespace(k=K, release={**release, "levers": levers})
        week = node_weeks({(ORG, 100): row}, ORG, 100, 100)[0]
        return [n["rule"] for n in week["nudges"]]

    assert nudges(NUDGE_MAX_MARGIN)
    assert nudges(NUDGE_MAX_MARGIN + 0.1) == []


@pytest.mark.parametrize(
    ("size", "part", "detail"),
    [(5, False, False), (6, False, False), (7, True, False),
     (22, True, False), (23, True, True), (100, True, True)],
)  # fmt: skip
def test_nothing_noisier_than_half_its_scale_is_published(size: int, part: bool, detail: bool):
    default = Settings().privacy_epsilon  # the product's default budget
    team = _team([PersonWeek(actions=1)] * size, [SAFE] * size)
    out = release_tree(ORG, {}, {ORG: team}, 1, default, ExactNoise())[ORG]  # k = 1: noise only
    participation = out["levers"]["participation"]
    item = out["pulse_items"]["ps1_mistakes_held_against"]
    for cell, shown in ((participation, part), (item, detail)):
        assert cell["suppressed"] is not shown
        assert cell["reason"] == (None if shown else "too_noisy")
    assert out["levers"]["psychological_safety"]["reason"] == (None if part else "too_noisy")
