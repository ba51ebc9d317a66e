"""A validated regime turned into the arrays and tables the day loop reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from credsim.engine.keyed import name_code
from credsim.engine.layout import mask_dtype
from credsim.metrics import GROUP_METRICS, ORGANISATION_GROUP_LEVELS, TIE_GROUP_FLOWS
from credsim.population import demo_layout, layout_array
from credsim.regime.schema import KINDS as BUILT_IN_KINDS
from credsim.regime.schema import TIE_KINDS, TRANSPARENCY_KNOWLEDGE, Regime, Rollout

NO_LIMIT = np.iinfo(np.int16).max
KINDS = tuple(BUILT_IN_KINDS)  # the built-in kinds of behaviour; a regime may declare more


def _rollout_day(rollout: list[Rollout]) -> np.ndarray:
    """First active day for [rural, urban] (a huge day where never active)."""
    out = np.array([10**9, 10**9], dtype=np.int64)
    for r in rollout:
        for u in (0, 1) if r.region == "all" else ((1,) if r.region == "urban" else (0,)):
            out[u] = min(out[u], r.day)
    return out


def _factor(schedule: list, day: int) -> float:
    """Piecewise-linear interpolation of [day, factor] knots; 1.0 without knots."""
    if not schedule:
        return 1.0
    days = [d for d, _ in schedule]
    return float(np.interp(day, days, [f for _, f in schedule]))


def max_factor(schedule: list) -> float:
    """The largest factor a schedule reaches (at least 1)."""
    return max([1.0] if not schedule else [f for _, f in schedule])


@dataclass
class Compiled:
    """Everything the engine needs from a regime, as plain numbers."""

    regime: Regime
    provinces: tuple[str, ...]
    groups: tuple[str, ...]

    def __post_init__(self) -> None:
        r = self.regime
        self.layout = demo_layout(len(self.groups), len(self.provinces))
        self.layout_array = layout_array(self.layout)
        self.behaviours = [b.name for b in r.behaviours]
        self.sources = [s.name for s in r.sources]
        self.rules = [x.key for x in r.rules]
        self.tiers = [t.name for t in r.tiers] or ["all"]
        self.privileges = [p.name for p in r.privileges]
        self.sanctions = [s.name for s in r.sanctions]
        self.amnesties = [a.name for a in r.amnesties]
        self.life_course = r.life_course
        self.score_min, self.score_max, self.score_initial = (
            r.score.min,
            r.score.max,
            r.score.initial,
        )
        # Tier k holds scores >= tier_min[k] (top first); the last tier has no lower bound.
        mins = [t.min for t in r.tiers[:-1]]
        self.tier_bounds = np.array(sorted(mins), dtype=np.int64)  # ascending, for searchsorted
        self.n_tiers = len(self.tiers)
        self._behaviours(r)
        self._sources(r)
        self._rules(r)
        self._privileges(r)
        self._sanctions(r)
        self._adaptation(r)
        self._organisations(r)

    def _organisations(self, r: Regime) -> None:
        """Organisations: the lists their figures are per, and the ledger's reasons."""
        o = r.organisations
        self.organisations = ["organisations"] if o is not None else []
        self.ratings, self.corporate_lists, self.sectors = r.ratings, r.corporate_lists, r.sectors
        # the ledger's rule labels: the regime's rules, then each list's reasons ("list/why")
        self.ledger_rules = list(self.rules)
        for x in o.lists if o is not None else []:
            whys = [*x.behaviours, *(f"from_{y.name}" for y in o.lists if y.then == x.name)]
            self.ledger_rules += [f"{x.name}/{why}" for why in (*whys, "repair", "term")]

    def _behaviours(self, r: Regime) -> None:
        """Behaviours: kinds and [behaviour, urban, child] rate factors."""
        # behaviours
        self.kinds = r.kind_names()
        self.kind = np.array([self.kinds.index(b.kind) for b in r.behaviours], dtype=np.int64)
        # [behaviour, urban, child] rate factors
        self.place_factor = np.ones((len(r.behaviours), 2, 2))
        for i, b in enumerate(r.behaviours):
            self.place_factor[i, 0, :] = b.rural_factor
            self.place_factor[i, 1, :] = b.urban_factor
            if b.who == "adults":
                self.place_factor[i, :, 1] = 0.0
            elif b.who == "children":
                self.place_factor[i, :, 0] = 0.0

    def _sources(self, r: Regime) -> None:
        """Sources: who observes what, where, from when, with which errors."""
        # sources: who observes what, with which probability
        self.observers: list[list[tuple[int, float]]] = [[] for _ in r.behaviours]
        for si, s in enumerate(r.sources):
            for bname, p in s.observes.items():
                self.observers[self.behaviours.index(bname)].append((si, p))
        nprov = len(self.provinces)
        self.coverage = np.ones((len(r.sources), nprov, 2))
        self.source_rollout = np.zeros((len(r.sources), 2), dtype=np.int64)
        ng = 1 << self.layout["group"][1]  # every value the group bits can hold
        self.false_match = np.zeros((len(r.sources), ng, 2))  # [source, group, sex]
        for si, s in enumerate(r.sources):
            self.coverage[si, :, 0] = s.coverage_rural
            self.coverage[si, :, 1] = s.coverage_urban
            for pname, f in s.coverage_province.items():
                self.coverage[si, self.provinces.index(pname), :] *= f
            self.source_rollout[si] = _rollout_day(s.rollout)
            for g in range(ng):
                gname = self.groups[g] if g < len(self.groups) else None
                fm = s.false_match * s.false_match_group.get(gname, 1.0) if gname else 0.0
                self.false_match[si, g, 0] = min(1.0, fm)
                self.false_match[si, g, 1] = min(1.0, fm * s.false_match_female)
        self.false_match_any = self.false_match.reshape(len(r.sources), -1).max(axis=1) > 0

    def _rules(self, r: Regime) -> None:
        """Rules by behaviour: deltas, the sanction each starts, rollout."""
        # rules by behaviour
        self.rules_of: list[list[int]] = [[] for _ in r.behaviours]
        for ri, x in enumerate(r.rules):
            self.rules_of[self.behaviours.index(x.behaviour)].append(ri)
        self.rule_delta = np.array([x.delta for x in r.rules], dtype=np.int64)
        self.rule_sanction = np.array(
            [self.sanctions.index(x.sanction) if x.sanction else -1 for x in r.rules],
            dtype=np.int64,
        )
        self.rule_rollout = np.array(
            [_rollout_day(x.rollout) for x in r.rules], dtype=np.int64
        ).reshape(-1, 2)

    def _privileges(self, r: Regime) -> None:
        """Privileges: attempt rates, who attempts, keys."""
        # privileges: daily attempt probability [privilege, urban], and who attempts
        self.attempt_rate = np.array(
            [[p.attempts_rural / 365.0, p.attempts_urban / 365.0] for p in r.privileges]
        ).reshape(-1, 2)
        self.attempt_who = [p.who for p in r.privileges]
        self._scheduled = any(p.schedule for p in r.privileges)
        pdt = np.uint16 if len(r.privileges) <= 16 else mask_dtype(len(r.privileges))
        self.privilege_bits = np.arange(len(r.privileges), dtype=pdt)
        # the key of each privilege's attempts: its name, so that adding another privilege
        # changes no draw of this one
        self.privilege_codes = [name_code(f"privilege/{p.name}") for p in r.privileges]
        # [privilege, is_child]: whether citizens of that age attempt the privilege
        self.who_allows = np.array(
            [[w != "children", w != "adults"] for w in self.attempt_who], dtype=bool
        ).reshape(-1, 2)
        # [privilege, rural/urban]: first day sanctions deny the privilege there
        self.privilege_rollout = np.array(
            [_rollout_day(p.rollout) for p in r.privileges], dtype=np.int64
        ).reshape(-1, 2)

    def _sanctions(self, r: Regime) -> None:
        """Sanctions: triggers, masks of privileges denied, durations, marks."""
        # sanctions
        ns = len(r.sanctions)
        pdt = self.privilege_bits.dtype.type
        self.sanction_tier = np.array(
            [self.tiers.index(s.tier) if s.tier else -1 for s in r.sanctions], dtype=np.int64
        )
        # sanction bits -> privileges denied, for up to 8 sanctions (else bit by bit)
        self.own_mask = np.zeros(256, dtype=pdt)
        self.spill_mask = np.zeros((256, 2), dtype=pdt)  # spill bits, child -> privileges
        priv_bits = np.zeros(ns, dtype=pdt)
        spill_house = np.zeros(ns, dtype=pdt)
        spill_child = np.zeros(ns, dtype=pdt)
        for k, s in enumerate(r.sanctions):
            for p in s.privileges:
                priv_bits[k] |= pdt(1) << pdt(self.privileges.index(p))
            for p in s.spillover.get("household", []):
                spill_house[k] |= pdt(1) << pdt(self.privileges.index(p))
            for p in s.spillover.get("children", []):
                spill_child[k] |= pdt(1) << pdt(self.privileges.index(p))
        for bits in range(256):
            for k in range(min(ns, 8)):
                if bits >> k & 1:
                    self.own_mask[bits] |= priv_bits[k]
                    self.spill_mask[bits, 0] |= spill_house[k]
                    self.spill_mask[bits, 1] |= spill_house[k] | spill_child[k]
        self.spill_house, self.spill_child = spill_house, spill_child
        self.priv_bits = priv_bits
        triggers = [int(t) for t in self.sanction_tier if t >= 0]
        self.lowest_trigger = min(triggers) if triggers else self.n_tiers
        self.trigger_below = self._upper(self.lowest_trigger) if triggers else self.score_min
        self.has_spillover = bool((spill_house | spill_child).any())
        self.duration = np.array([s.duration for s in r.sanctions], dtype=np.int64)
        # shortest term: equal to duration unless terms are drawn ("for up to a year")
        self.duration_min = np.array(
            [s.duration if s.duration_min is None else s.duration_min for s in r.sanctions],
            dtype=np.int64,
        )
        self.sanction_codes = [name_code(f"sanction/{s.name}") for s in r.sanctions]
        self.sanction_rollout = np.array(
            [_rollout_day(s.rollout) for s in r.sanctions], dtype=np.int64
        ).reshape(-1, 2)
        # the bar a citizen marked for life by a sanction is listed again below (0: none)
        self.relist_below = np.array(
            [s.relist_below if s.relist_below is not None else 0 for s in r.sanctions],
            dtype=np.int64,
        )
        self.renewal = [s.renewal for s in r.sanctions]
        self.permanent = np.array([s.permanent for s in r.sanctions], dtype=bool)
        # a sanction that marks for life: never lifts, or caps the score ever after
        self.marks = np.array(
            [s.permanent or s.ceiling is not None for s in r.sanctions], dtype=bool
        )
        self.ceiling = np.array(
            [s.ceiling if s.ceiling is not None else NO_LIMIT for s in r.sanctions], dtype=np.int64
        )
        self.lifetime_ceiling = int(self.ceiling.min()) if ns else NO_LIMIT
        # tier threshold a tier-triggered sanction is measured against (lowest score not in it)
        self.sanction_threshold = np.array(
            [self._upper(int(t)) if t >= 0 else 0 for t in self.sanction_tier], dtype=np.int64
        )

    def _adaptation(self, r: Regime) -> None:
        """Adaptation, green lanes and the keys of redress demands."""
        # adaptation: rate multipliers [kind, level], level 0 none, 1 household, 2 own, 3 ties
        a = r.adaptation
        know = TRANSPARENCY_KNOWLEDGE[r.regime.transparency]
        responses = r.responses()
        self.adapt = np.ones((len(responses), 4))  # level 3: a tie's listing (components.ties)
        t = r.ties if r.ties is not None and r.ties.enabled else None
        self.ties = ["ties"] if t is not None else []
        self.tie_kinds = list(TIE_KINDS) if t is not None else []
        self.group_metrics = GROUP_METRICS + (TIE_GROUP_FLOWS if t is not None else ())
        if r.organisations is not None:  # credsim.engine.components.organisations
            self.group_metrics += ORGANISATION_GROUP_LEVELS
        # general deterrence per unit share of the province sanctioned, by kind
        self.province_sensitivity = np.zeros(len(responses))
        if a.enabled:
            # Knowing the rules sharpens deterrence of scored acts; not knowing them chills
            # speech more broadly (an assumption, stated in the model description).
            fear = 2.0 - know
            rows = {
                "deterred": [1, 1 - a.deterrence_household * know, 1 - a.deterrence_own * know],
                "chilled": [
                    1,
                    1 - min(1.0, a.chilling_household * fear),
                    1 - min(1.0, a.chilling_own * fear),
                ],
                "boosted": [1, 1 + a.patriotic_boost / 2, 1 + a.patriotic_boost],
                "unchanged": [1, 1, 1],
            }
            # level 3, a tie's listing (credsim.engine.components.ties), shaped like the
            # household's
            tie = {
                "deterred": 1 - t.deterrence * know if t else 1.0,
                "chilled": 1 - min(1.0, t.chilling * fear) if t else 1.0,
                "boosted": 1.0,
                "unchanged": 1.0,
            }
            sensitivity = {"deterred": know, "chilled": fear, "boosted": 0, "unchanged": 0}
            for i, x in enumerate(responses):
                self.adapt[i] = rows[x] + [tie[x]]
                self.province_sensitivity[i] = a.province_sensitivity * sensitivity[x]
        self.adapt_max = self.adapt.max(axis=1)
        self.adaptation = a.enabled
        self.green = [
            (name_code(f"green/{g.tier}/{i}"), self.tiers.index(g.tier), g.uses_per_year / 365.0)
            for i, g in enumerate(r.green_lanes)
        ]
        # [lane, rural/urban]: first day each lane serves its tier there
        self.green_rollout = np.array(
            [_rollout_day(g.rollout) for g in r.green_lanes], dtype=np.int64
        ).reshape(-1, 2)
        # the key of each redress demand: the sanction's or the rule's name
        self.redress_codes = {
            ("sanction", k): name_code(f"sanction/{x.name}") for k, x in enumerate(r.sanctions)
        }
        self.redress_codes |= {
            ("rule", k): name_code(f"rule/{x.key}") for k, x in enumerate(r.rules)
        }
        # first day [rural, urban] each redress demand is made, by target
        self.redress_rollout = {
            ("sanction", k): _rollout_day(x.redress.rollout)
            for k, x in enumerate(r.sanctions)
            if x.redress is not None
        }
        self.redress_rollout |= {
            ("rule", k): _rollout_day(x.redress.rollout)
            for k, x in enumerate(r.rules)
            if x.redress is not None
        }

    def own_privileges(self, sanction: np.ndarray) -> np.ndarray:
        """The privileges (a mask) that these sanction masks deny their holders."""
        if len(self.sanctions) <= 8:
            return self.own_mask[sanction]
        return self._or_bits(sanction, self.priv_bits)

    def spill_privileges(self, spill: np.ndarray, child: np.ndarray) -> np.ndarray:
        """The privileges (a mask) relatives' sanctions ``spill`` deny (children: ``child``)."""
        if len(self.sanctions) <= 8:
            return self.spill_mask[spill, child]
        return self._or_bits(spill, self.spill_house) | np.where(
            child.astype(bool), self._or_bits(spill, self.spill_child), 0
        ).astype(self.priv_bits.dtype)

    def _or_bits(self, mask: np.ndarray, per_bit: np.ndarray) -> np.ndarray:
        out = np.zeros(mask.size, dtype=per_bit.dtype)
        for k in range(per_bit.size):
            has = ((mask >> mask.dtype.type(k)) & 1).astype(bool)
            out[has] |= per_bit[k]
        return out

    def behaviour_factor(self, b: int, day: int) -> float:
        """The schedule factor of behaviour ``b`` on ``day`` (1 without a schedule)."""
        return _factor(self.regime.behaviours[b].schedule, day)

    def attempt_rates(self, day: int) -> np.ndarray:
        """Daily attempt probabilities [privilege, rural/urban] on ``day``, schedules applied."""
        if not self._scheduled:
            return self.attempt_rate
        f = np.array([_factor(p.schedule, day) for p in self.regime.privileges])
        return np.minimum(1.0, self.attempt_rate * f[:, None])

    def _upper(self, tier: int) -> int:
        """The lowest score that is above tier ``tier`` (tiers are listed top first)."""
        return int(self.regime.tiers[tier - 1].min) if tier > 0 else self.score_max + 1

    def tier_of(self, score: np.ndarray) -> np.ndarray:
        """Tier index (0 = top) of each score."""
        return (
            len(self.tier_bounds) - np.searchsorted(self.tier_bounds, score, side="right")
        ).astype(np.int64)
