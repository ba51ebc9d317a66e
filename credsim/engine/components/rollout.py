"""Rollout: rules apply from their rollout day, urban and rural apart; sources record from
theirs (``Compiled.source_rollout``, read by the sensing kernel)."""

from __future__ import annotations

from credsim.engine.context import Records
from credsim.engine.loop import Component


class Rollout(Component):
    """Holds back the records a rule does not yet take where the citizen lives."""

    name = "rollout"
    config = "rules.rollout, sources.rollout (schema.Rollout)"
    phases = ("share",)

    def active(self) -> bool:
        return bool(self.c.rules) and int(self.c.rule_rollout.max()) > 0

    def share(self, day: int) -> None:
        """Records a rule does not yet take (before its rollout day where the citizen lives)."""
        c, ctx = self.c, self.ctx
        for i, r in enumerate(ctx.batches):
            for ri in c.rules_of[r.behaviour]:
                if c.rule_rollout[ri].max() > day:
                    urban = self.s.bits(r.citizen, "urban")
                    keep = day >= c.rule_rollout[ri, urban]
                    ctx.gated[(i, ri)] = Records(
                        r.citizen[keep], r.actor[keep], r.behaviour, r.source, r.mis[keep]
                    )
