"""The regime language: pydantic models of a regime file, validated strictly.

A regime says which behaviours citizens have, which sources record them, how each record
moves the score (rules), which tiers the score puts a citizen in, which sanctions follow and
which privileges they deny, how redress works, how citizens adapt and what they know of the
rules. Every component is a table with a ``name``; unknown keys are rejected.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Day = Annotated[int, Field(ge=0, le=100_000)]
Points = Annotated[int, Field(ge=-30_000, le=30_000)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]

SEX = ("male", "female")
AGE_BANDS = ("0-14", "15-59", "60-64", "65+")
REGIONS = ("urban", "rural")
TRANSPARENCY_KNOWLEDGE = {"secret": 0.2, "partial": 0.6, "published": 1.0}


GROUPS = ("han", "minority")  # the demographic groups of the census (credsim.population)


def _pair(value: object) -> object:
    """A TOML array of two items is a knot: the strict tuple type wants a tuple."""
    return tuple(value) if isinstance(value, list) else value


Knot = Annotated[
    tuple[Annotated[int, Field(ge=0, le=100_000)], Annotated[float, Field(ge=0, le=1000)]],
    BeforeValidator(_pair),
]


def _check_schedule(knots: list) -> list:
    days = [d for d, _ in knots]
    if days != sorted(days) or len(set(days)) != len(days):
        raise ValueError("schedule days must be strictly increasing")
    return knots


Schedule = Annotated[list[Knot], AfterValidator(_check_schedule)]


def _province_names() -> set[str]:
    from credsim.facts import china

    return {k for k in china()["population"]["provinces"] if k not in ("source", "active_military")}


class Strict(BaseModel):
    """Base: unknown keys are errors, values are validated on assignment too, and types are
    strict: a boolean or a string is not a number, and NaN or infinity is no number at all."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, strict=True, allow_inf_nan=False
    )


class Score(Strict):
    """The score every citizen starts with and the bounds it is clamped to."""

    initial: Points = 1000
    min: Points = 0
    max: Points = 1300

    @model_validator(mode="after")
    def _ordered(self) -> Score:
        if not self.min <= self.initial <= self.max:
            raise ValueError(
                f"need min <= initial <= max, got {self.min}, {self.initial}, {self.max}"
            )
        return self


Response = Literal["deterred", "chilled", "boosted", "unchanged"]
# the built-in kinds of behaviour and how sanctions change them (``adaptation``): scored
# infractions and debts are deterred, speech is chilled, patriotic purchases are boosted
KINDS: dict[str, Response] = {
    "infraction": "deterred",
    "speech": "chilled",
    "purchase": "boosted",
    "debt": "deterred",
    "civic": "unchanged",
}


class Kind(Strict):
    """A kind of behaviour beyond the built-in ones, and how sanctions change it."""

    name: Name
    response: Response = Field(
        description="deterred (as infractions), chilled (as speech), boosted (as patriotic "
        "purchases) or unchanged"
    )


class Behaviour(Strict):
    """Something citizens do, at a base daily probability scaled by their propensity."""

    name: Name
    kind: Name = Field(
        "infraction",
        description="infraction, speech, purchase, debt, civic, or a kind declared in kinds",
    )
    rate: Probability = Field(description="base daily probability per citizen")
    propensity: bool = Field(True, description="scaled by the citizen's propensity multiplier")
    urban_factor: Annotated[float, Field(ge=0, le=100)] = 1.0
    rural_factor: Annotated[float, Field(ge=0, le=100)] = 1.0
    who: Literal["all", "adults", "children"] = Field(
        "all", description="who does it (children are 0-14)"
    )
    schedule: Schedule = Field(
        default_factory=list,
        description="[day, factor] knots: the rate is multiplied by a factor interpolated "
        "linearly between knots (constant beyond the first and last)",
    )
    label: str = ""


class Rollout(Strict):
    """From which day a component is active in a region ("urban", "rural", "all"): a source
    records, a rule scores, a sanction lists, a privilege is checked against the lists, a
    green lane serves its tier, a redress demand is made."""

    region: Literal["all", "urban", "rural"] = "all"
    day: Day = 0


class Source(Strict):
    """A data holder that records behaviours: camera, court, transit, social media..."""

    name: Name
    kind: Literal[
        "camera", "court", "transit", "social_media", "purchase", "employer", "school", "generic"
    ] = "generic"
    observes: dict[Name, Probability] = Field(
        description="behaviour name -> probability that one act is recorded where covered"
    )
    coverage_urban: Probability = 1.0
    coverage_rural: Probability = 1.0
    coverage_province: dict[str, Probability] = Field(
        default_factory=dict, description="province name -> coverage multiplier"
    )
    delay: Annotated[int, Field(ge=0, le=365)] = 0
    shares: bool = Field(True, description="records reach the score only if the source shares")
    false_match: Probability = Field(
        0.0, description="probability that a record is put on a lookalike (cameras)"
    )
    false_match_group: dict[str, Annotated[float, Field(ge=0, le=1000)]] = Field(
        default_factory=dict, description="demographic group -> false-match rate multiplier"
    )
    false_match_female: Annotated[float, Field(ge=0, le=1000)] = Field(
        1.0, description="false-match multiplier for women relative to men"
    )
    rollout: list[Rollout] = Field(default_factory=lambda: [Rollout()], min_length=1)
    label: str = ""


class Redress(Strict):
    """A demand made of a citizen (delete, apologise, repay) and how it is judged."""

    demand: Literal["apologise", "delete_posts", "repay", "appeal"] = "apologise"
    comply: Probability = Field(0.5, description="probability the citizen complies")
    respond_days: Annotated[float, Field(ge=1, le=3650)] = Field(
        14, description="mean days until the citizen complies"
    )
    accept: Probability = Field(0.5, description="probability compliance is accepted (opaque)")
    delay: Annotated[int, Field(ge=0, le=365)] = Field(
        0, description="days from acceptance to effect (delisting)"
    )
    rollout: list[Rollout] = Field(
        default_factory=lambda: [Rollout()],
        min_length=1,
        description="from which day, by region, the demand is made (before it, no redress)",
    )


class Rule(Strict):
    """How a record of a behaviour moves the score, and the sanction it may start."""

    name: Name | None = None
    behaviour: Name
    delta: Points = 0
    sanction: Name | None = Field(None, description="a sanction this record starts directly")
    rollout: list[Rollout] = Field(default_factory=lambda: [Rollout()], min_length=1)
    redress: Redress | None = Field(None, description="a demand whose acceptance refunds delta")

    @property
    def key(self) -> str:
        return self.name or self.behaviour


class Tier(Strict):
    """A band of the score; tiers are listed top first, each from its ``min`` upward."""

    name: Name
    min: Points | None = Field(None, description="lowest score in the tier; none for the last")
    label: str = ""


class Privilege(Strict):
    """Something a citizen may try to do, which sanctions can deny."""

    name: Name
    attempts_urban: Annotated[float, Field(ge=0, le=365)] = Field(
        1.0, description="attempts per citizen-year in cities"
    )
    attempts_rural: Annotated[float, Field(ge=0, le=365)] = Field(
        0.5, description="attempts per citizen-year in the countryside"
    )
    who: Literal["all", "adults", "children"] = "adults"
    schedule: Schedule = Field(
        default_factory=list, description="[day, factor] knots scaling the attempt rates over time"
    )
    rollout: list[Rollout] = Field(
        default_factory=lambda: [Rollout()],
        min_length=1,
        description="from which day, by region, sanctions deny this privilege (before it, a "
        "listed citizen's attempts go through)",
    )
    label: str = ""


class Sanction(Strict):
    """A list a citizen is put on: by tier (score) or by a rule's record."""

    name: Name
    tier: Name | None = Field(None, description="tier (or any tier below it) that triggers it")
    privileges: list[Name] = Field(default_factory=list)
    duration: Annotated[int, Field(ge=1, le=36_500)] = Field(
        365, description="term of a listing in days (the longest term where duration_min is set)"
    )
    duration_min: Annotated[int, Field(ge=1, le=36_500)] | None = Field(
        None,
        description="shortest term: each listing's term is drawn uniformly from duration_min "
        "to duration days (keyed by citizen, sanction and start day)",
    )
    renewal: Literal["if_still_in_tier", "if_new_record", "never", "always"] = Field(
        "if_still_in_tier",
        description="at term: renewed while the score is still in the tier, only if a new "
        "qualifying record arrived during the term, never, or always",
    )
    permanent: bool = Field(False, description="once untrustworthy, always restricted")
    ceiling: Points | None = Field(None, description="score ceiling for life once listed")
    relist_below: Points | None = Field(
        None,
        description="a citizen marked for life by this sanction is listed again whenever a "
        "deduction leaves the score below this bar (instead of the tier's threshold)",
    )
    rollout: list[Rollout] = Field(
        default_factory=lambda: [Rollout()],
        description="from which day, by region, the sanction starts listings",
    )
    spillover: dict[Literal["children", "household"], list[Name]] = Field(
        default_factory=dict, description="family members -> privileges denied to them"
    )
    redress: Redress | None = None
    label: str = ""


class GreenLane(Strict):
    """Rewards for a top tier: faster service, deposits waived; counted as benefits."""

    tier: Name
    uses_per_year: Annotated[float, Field(ge=0, le=365)] = 4.0
    rollout: list[Rollout] = Field(
        default_factory=lambda: [Rollout()],
        min_length=1,
        description="from which day, by region, the lane serves its tier",
    )
    label: str = ""


class Amnesty(Strict):
    """A credit-repair campaign: on one day, every listing of its sanctions is lifted."""

    name: Name
    day: Annotated[int, Field(ge=0, description="the day the listings are lifted")]
    sanctions: list[Name] = Field(
        default_factory=list, description="sanctions lifted (none named: every sanction)"
    )
    label: str = ""


class Adaptation(Strict):
    """How citizens change after sanctions they suffer or see (multipliers on rates)."""

    enabled: bool = True
    deterrence_own: Probability = Field(0.5, description="infraction cut after own sanction")
    deterrence_household: Probability = Field(0.2, description="cut after a household sanction")
    chilling_own: Probability = Field(0.7, description="posting cut after own sanction")
    chilling_household: Probability = Field(0.3, description="posting cut after household's")
    patriotic_boost: Annotated[float, Field(ge=0, le=5)] = Field(
        0.5, description="rise in patriotic purchases after own sanction"
    )
    province_sensitivity: Annotated[float, Field(ge=0, le=1000)] = Field(
        20.0, description="general deterrence per unit share of the province sanctioned"
    )


class Life(Strict):
    """The life course: citizens age day by day, are born and die at the rates of credsim's
    facts (``[life]`` of ``credsim/facts/china.toml``); off unless ``enabled``."""

    enabled: bool = Field(False, description="citizens age, are born and die")
    family_marks_follow: bool = Field(
        False,
        description=(
            "a child restricted through family when it turns 15 stays, for life, under the "
            "sanctions that spill over to the household's children"
        ),
    )
    fertility: Annotated[float, Field(ge=0, le=10)] = Field(
        1.0, description="multiplier of the age-specific fertility rates (1: the facts)"
    )
    mortality: Annotated[float, Field(ge=0, le=10)] = Field(
        1.0, description="multiplier of the death rates at every age (1: the facts)"
    )


class Meta(Strict):
    """Name, description and sources of the regime as a whole."""

    name: Name = "custom"
    description: str = ""
    transparency: Literal["secret", "partial", "published"] = "published"
    start_date: str | None = Field(
        None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="calendar date of day 0 (YYYY-MM-DD)"
    )
    calibration: dict[str, float] = Field(default_factory=dict)


class Regime(Strict):
    """A whole regime, cross-checked: every reference names a declared component."""

    regime: Meta = Field(default_factory=Meta)
    score: Score = Field(default_factory=Score)
    kinds: list[Kind] | None = Field(
        None, description="kinds of behaviour beyond infraction, speech, purchase, debt, civic"
    )
    behaviours: list[Behaviour] = Field(min_length=1, max_length=64)
    sources: list[Source] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list, max_length=255)
    tiers: list[Tier] = Field(default_factory=list, max_length=16)
    privileges: list[Privilege] = Field(default_factory=list)
    sanctions: list[Sanction] = Field(default_factory=list)
    green_lanes: list[GreenLane] = Field(default_factory=list, max_length=8)
    amnesties: list[Amnesty] = Field(
        default_factory=list, max_length=64, description="credit-repair campaigns"
    )
    adaptation: Adaptation = Field(default_factory=lambda: Adaptation(enabled=False))
    life: Life | None = Field(None, description="the life course (none: a frozen population)")

    @model_validator(mode="after")
    def _references(self) -> Regime:
        problems: list[str] = []

        def unique(kind: str, names: list[str]) -> None:
            seen: set[str] = set()
            for n in names:
                if n in seen:
                    problems.append(f"{kind}: name {n!r} declared twice")
                seen.add(n)

        behaviours = [b.name for b in self.behaviours]
        unique("behaviours", behaviours)
        kinds = self.kind_names()
        unique("kinds", kinds)
        for i, b in enumerate(self.behaviours):
            if b.kind not in kinds:
                known = ", ".join(repr(k) for k in kinds[:-1]) + f" or {kinds[-1]!r}"
                problems.append(f"behaviours[{i}].kind: Input should be {known}")
        unique("sources", [s.name for s in self.sources])
        unique("rules", [r.key for r in self.rules])
        unique("tiers", [t.name for t in self.tiers])
        unique("privileges", [p.name for p in self.privileges])
        unique("sanctions", [s.name for s in self.sanctions])
        tiers = [t.name for t in self.tiers]
        privileges = [p.name for p in self.privileges]
        sanctions = [s.name for s in self.sanctions]
        provinces = _province_names()
        for i, s in enumerate(self.sources):
            for name in s.coverage_province:
                if name not in provinces:
                    problems.append(f"sources[{i}].coverage_province: unknown province {name!r}")
            for b in s.observes:
                if b not in behaviours:
                    problems.append(f"sources[{i}].observes: unknown behaviour {b!r}")
            for g in s.false_match_group:
                if g not in GROUPS:
                    problems.append(
                        f"sources[{i}].false_match_group: unknown group {g!r} "
                        f"(groups: {', '.join(GROUPS)})"
                    )
        for i, r in enumerate(self.rules):
            if r.behaviour not in behaviours:
                problems.append(f"rules[{i}].behaviour: unknown behaviour {r.behaviour!r}")
            if r.sanction is not None and r.sanction not in sanctions:
                problems.append(f"rules[{i}].sanction: unknown sanction {r.sanction!r}")
        for i, t in enumerate(self.tiers):
            last = i == len(self.tiers) - 1
            if t.min is not None and not self.score.min <= t.min <= self.score.max:
                problems.append(
                    f"tiers[{i}].min: {t.min} is outside the score range "
                    f"{self.score.min} to {self.score.max}"
                )
            if t.min is None and not last:
                problems.append(f"tiers[{i}].min: required for every tier but the last")
            if i > 0 and t.min is not None and self.tiers[i - 1].min is not None:
                if t.min >= self.tiers[i - 1].min:
                    problems.append(
                        f"tiers[{i}].min: tiers go from the top down, so {t.min} must be "
                        f"below {self.tiers[i - 1].min}"
                    )
        for i, s in enumerate(self.sanctions):
            if s.tier is not None and s.tier not in tiers:
                problems.append(f"sanctions[{i}].tier: unknown tier {s.tier!r}")
            if s.tier is not None and tiers and s.tier == tiers[0] and len(tiers) > 1:
                problems.append(f"sanctions[{i}].tier: the top tier cannot trigger a sanction")
            for p in s.privileges:
                if p not in privileges:
                    problems.append(f"sanctions[{i}].privileges: unknown privilege {p!r}")
            for who, ps in s.spillover.items():
                for p in ps:
                    if p not in privileges:
                        problems.append(f"sanctions[{i}].spillover.{who}: unknown privilege {p!r}")
            if s.duration_min is not None and s.duration_min > s.duration:
                problems.append(
                    f"sanctions[{i}].duration_min: {s.duration_min} is longer than duration "
                    f"{s.duration}"
                )
            if s.relist_below is not None and s.ceiling is None and not s.permanent:
                problems.append(
                    f"sanctions[{i}].relist_below: needs a lifetime mark (ceiling or permanent)"
                )
            if s.tier is None and not any(r.sanction == s.name for r in self.rules):
                problems.append(f"sanctions[{i}]: {s.name!r} has no tier and no rule starts it")
        for i, g in enumerate(self.green_lanes):
            if g.tier not in tiers:
                problems.append(f"green_lanes[{i}].tier: unknown tier {g.tier!r}")
        unique("amnesties", [a.name for a in self.amnesties])
        for i, a in enumerate(self.amnesties):
            for k in a.sanctions:
                if k not in sanctions:
                    problems.append(f"amnesties[{i}].sanctions: unknown sanction {k!r}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def life_course(self) -> list[str]:
        """``["life"]`` when the life course is on (the list its figures are per), else []."""
        return ["life"] if self.life is not None and self.life.enabled else []

    # Lookups used by the engine and reports.
    def kind_names(self) -> list[str]:
        """The kinds of behaviour: the built-in ones, then those the regime declares."""
        return list(KINDS) + [k.name for k in self.kinds or ()]

    def responses(self) -> list[Response]:
        """How sanctions change each kind of behaviour (in ``kind_names`` order)."""
        return list(KINDS.values()) + [k.response for k in self.kinds or ()]

    def index(self, kind: str, name: str) -> int:
        """Position of the component called ``name`` in the list ``kind``."""
        items = getattr(self, kind)
        keys = [r.key if kind == "rules" else r.name for r in items]
        return keys.index(name)
