"""Attempts and denials: restricted citizens try their privileges (keyed by citizen, day,
privilege) and every denied attempt is counted; attempts by everyone else succeed and are
counted in aggregate. A privilege is denied only where and from when it has rolled out (its
``rollout``); before that a listed citizen's attempt goes through."""

from __future__ import annotations

import numpy as np

from credsim.engine.loop import Component, Figure, Headline, LedgerKind, Series


class Attempts(Component):
    """Counts restricted citizens' denied attempts, and everyone else's attempts in aggregate."""

    name = "attempts"
    config = "privileges (schema.Privilege): attempts_rural, attempts_urban, who, schedule, rollout"
    columns = ("denied_ever",)
    phases = ("attempt",)
    figures = (
        Figure(
            "denied_citizens_{item}",
            "citizens ever denied",
            "citizens",
            "level",
            "citizens denied this privilege at least once since day 0",
            (4, 0),
            "privileges",
            "denied",
        ),
        Figure(
            "attempts_{item}",
            "attempts",
            "attempts",
            "flow",
            "attempts to use this privilege today, allowed or denied",
            (13, 0),
            "privileges",
            "denied",
        ),
        Figure(
            "denied_{item}",
            "denied attempts",
            "attempts",
            "flow",
            "attempts to use this privilege that a sanction denied today",
            (13, 1),
            "privileges",
            "denied",
        ),
        Figure(
            "wrongly_denied_{item}",
            "wrongly denied attempts",
            "attempts",
            "flow",
            "attempts to use this privilege denied today only by wrongful listings (the "
            "citizen's own, or a relative's that spills over to them)",
            (13, 2),
            "privileges",
            "denied",
        ),
        Figure(
            "denied_spillover",
            "denied through family",
            "attempts",
            "flow",
            "denied attempts by citizens whom only a relative's sanction restricts",
            (14, 0),
            None,
            "denied",
        ),
    )
    series = (
        Series("denied", "denied attempts", "#495057"),
        Series("wrongly_denied", "wrongly denied attempts", "#e64980"),
    )
    headlines = (
        Headline(
            "denied_{item}",
            "Refused attempts: {label}",
            "whole_run",
            "attempts",
            "Attempts to use '{label}' that were refused.",
            (9, 0),
            how="sum",
            of="denied_{item}",
            per="privileges",
        ),
        Headline(
            "wrongly_denied_{item}",
            "Wrongly refused attempts: {label}",
            "whole_run",
            "attempts",
            "Attempts to use '{label}' refused only by wrongful listings (the citizen's own, or "
            "a relative's that spills over to them).",
            (9, 2),
            how="sum",
            of="wrongly_denied_{item}",
            per="privileges",
        ),
        Headline(
            "denied_citizens_{item}",
            "Citizens refused: {label}",
            "whole_run",
            "citizens",
            "Distinct citizens refused '{label}' at least once.",
            (9, 1),
            of="denied_citizens_{item}",
            per="privileges",
        ),
    )
    ledger = (LedgerKind("denied", "{day}: denied {privilege}{wrongly}"),)

    @classmethod
    def keys(cls, c) -> list[str]:
        return ["attempt", "attempt/allowed"]

    def active(self) -> bool:
        return bool(self.c.privileges)

    def attempt(self, day: int) -> None:
        """Restricted citizens try their privileges; every denied attempt is counted."""
        from credsim.engine.keyed import binomial, uniforms

        c, s, m = self.c, self.s, self.m
        keys = self.shard.keys
        rates = c.attempt_rates(day)  # [privilege, rural/urban], daily probabilities
        ids = s.restricted_ids
        if ids.size:
            ids = ids[(s.sanction[ids] | s.spill[ids]) != 0]
            s.restricted_ids = ids
        denied_total = np.zeros(len(c.privileges), dtype=np.int64)
        passed = np.zeros(len(c.privileges), dtype=np.int64)  # before the privilege's rollout
        if ids.size:
            urban = s.bits(ids, "urban")
            child = s.child(ids).astype(np.int64)
            own = c.own_privileges(s.sanction[ids])
            mask = own | c.spill_privileges(s.spill[ids], child)
            # what rightful listings alone deny: the rest is denied only by wrongful ones
            rightful = mask
            if s.wrong or s.spill_wrong:
                sanction, spill = s.sanction[ids], s.spill[ids]
                own_right = sanction & ~s.mask_of(s.wrong, ids, sanction.dtype)
                spill_right = spill & ~s.mask_of(s.spill_wrong, ids, spill.dtype)
                rightful = c.own_privileges(own_right) | c.spill_privileges(spill_right, child)
            gids = s.gid(ids)
            u = np.stack([uniforms(keys["attempt"], gids, day, code) for code in c.privilege_codes])
            # [privilege, citizen]: denied to them, of an age that attempts it, and attempted
            hit = ((mask[None, :] >> c.privilege_bits[:, None]) & 1).astype(bool)
            hit &= c.who_allows[:, child]
            hit &= u < rates[:, urban]
            if int(c.privilege_rollout.max()) > day:
                # before a privilege's rollout where the citizen lives, the attempt goes through
                rolled = day >= c.privilege_rollout[:, urban]
                passed = (hit & ~rolled).sum(axis=1)
                hit &= rolled
            for p in np.flatnonzero(hit.any(axis=1)):
                name = c.privileges[p]
                who_ids = ids[hit[p]]
                denied_total[p] = who_ids.size
                m.add(f"denied_{name}", who_ids.size)
                bit = s.denied_ever.dtype.type(1) << s.denied_ever.dtype.type(p)
                by_spill = (own[hit[p]] & bit) == 0
                m.add("denied_spillover", int(by_spill.sum()))
                m.group_flow("denied", who_ids)
                fresh = (s.denied_ever[who_ids] & bit) == 0
                m.add(f"denied_citizens_{name}", int(fresh.sum()))
                s.denied_ever[who_ids] |= bit
                wrongly = (rightful[hit[p]] & bit) == 0
                if wrongly.any():
                    m.add(f"wrongly_denied_{name}", int(wrongly.sum()))
                    m.group_flow("wrongly_denied", who_ids[wrongly])
                if s.ledger.active:
                    s.ledger.add(
                        "denied",
                        day,
                        s.gid(who_ids),
                        privilege=int(p),
                        before=s.score[who_ids],
                        misattributed=wrongly if wrongly.any() else False,
                    )
        # attempts by everyone else succeed; their number is drawn in aggregate
        restricted = np.bincount(s.bits(ids, "urban"), minlength=2) if ids.size else 0
        allowed = np.maximum(m.eligible_matrix - restricted, 0)
        key = keys["attempt/allowed"]
        for p, name in enumerate(c.privileges):
            code = c.privilege_codes[p]
            n_ok = sum(
                binomial(
                    key, int(allowed[p, u]), float(rates[p, u]), code, self.shard.shard, day, u
                )
                for u in (0, 1)
            )
            m.add(f"attempts_{name}", n_ok + int(denied_total[p]) + int(passed[p]))
