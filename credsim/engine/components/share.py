"""Sharing: records reach the score from sharing sources, delayed ones on the day they
arrive; records put on the wrong citizen are counted here."""

from __future__ import annotations

from credsim.engine.loop import Component, Figure, Headline


class Share(Component):
    """Gathers the records that reach the score today."""

    name = "share"
    config = "sources (schema.Source): shares, delay"
    phases = ("share",)
    figures = (
        Figure(
            "records_{item}",
            "records shared",
            "records",
            "flow",
            "records of this behaviour that reached the score today",
            (10, 2),
            "behaviours",
            "records",
        ),
        Figure(
            "misattributed",
            "records put on the wrong citizen",
            "records",
            "flow",
            "shared records that a source put on a citizen who did not act",
            (12, 0),
            None,
            "misattributed",
            "#868e96",
        ),
    )

    headlines = (
        Headline(
            "misattributed_records",
            "Records put on the wrong citizen",
            "whole_run",
            "records",
            "Records put on the wrong citizen (e.g. a camera's false match).",
            (8, 0),
            how="sum",
            of="misattributed",
        ),
    )

    def share(self, day: int) -> None:
        ctx = self.ctx
        batches = ctx.records + ctx.pending.pop(day, [])
        batches.sort(key=lambda r: (r.behaviour, r.source))
        ctx.batches = batches
        for r in batches:
            self.m.add(f"records_{self.c.behaviours[r.behaviour]}", r.citizen.size)
            if r.mis.any():
                self.m.add("misattributed", int(r.mis.sum()))
                self.m.group_flow("misattributed", r.citizen[r.mis])
