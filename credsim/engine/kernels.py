"""Compiled loops (Numba) for the steps whose order matters record by record."""

from __future__ import annotations

import numpy as np

from credsim.compiled_cache import njit

LOOKALIKE_DRAWS = 64  # draws to find a lookalike of the same sex and group
CHUNK = 128  # candidates drawn, then gathered, then tested together
# fields of a citizen word (see credsim.engine.sampling.propensity_buckets); unsigned
# constants keep the arithmetic in integers
_ID, _HALF, _S32, _S48 = np.uint64(0xFFFFFFFF), np.uint64(0xFFFF), np.uint64(32), np.uint64(48)


@njit(cache=True, nogil=True)
def half(h):  # pragma: no cover
    """The value of an IEEE half-precision float given as its 16 bits (positive, finite)."""
    e = (h >> 10) & 31
    m = h & 1023
    if e == 0:
        return m * 2.0**-24
    return (1.0 + m / 1024.0) * 2.0 ** (e - 15)


@njit(cache=True, nogil=True)
def _next(rng, pos, q, lq):  # pragma: no cover
    """The next success after ``pos`` in a Bernoulli(q) sequence (geometric skip)."""
    if q >= 1.0:
        return pos + 1
    u = rng.random()
    if u <= 0.0:
        return np.int64(1) << 62
    return pos + 1 + np.int64(np.floor(np.log(u) / lq))


@njit(cache=True, nogil=True)
def sample_acts(
    rng,
    words,
    bounds,
    top,
    demo,
    flags,
    prov_factor,
    place,
    adapt,
    rate,
    qrate,
    uses_m,
    adapt_on,
    out,
):  # pragma: no cover
    """Acts of one behaviour on one day; returns (acts written to ``out``, baseline acts).

    ``words`` holds every citizen in propensity-bucket order (index, propensity and
    demographics in one uint64); a behaviour that ignores propensity walks the citizens in
    index order instead, reading ``demo``. Candidates come by geometric skips at the bucket's bound
    ``q = qrate * top`` (one bound over all citizens when the behaviour ignores propensity);
    each is kept with probability ``p / q`` where ``p`` is the citizen's own rate (thinning),
    so the acts are exactly Bernoulli(p) per citizen. The baseline counts acts without
    adaptation on the same draws. The acts are written to ``out`` as words.

    The loop runs in chunks of ``CHUNK`` candidates: first the draws (each candidate's
    thinning uniform, then the skip to the next, as one pass would draw them), then the
    citizens' words are gathered, then tested. The gathers are independent loads, so the
    processor overlaps their cache misses instead of waiting for each in turn.
    """
    k = 0
    base = 0
    nb = bounds.size - 1 if uses_m else 1
    cpos = np.empty(CHUNK, dtype=np.int64)
    cu = np.empty(CHUNK, dtype=np.float64)
    cw = np.empty(CHUNK, dtype=np.uint64)
    cf = np.empty(CHUNK, dtype=np.uint8)
    for b in range(nb):
        if uses_m:
            start, end, m_top = bounds[b], bounds[b + 1], top[b]
        else:  # every citizen at one bound, in index order (demographics read in order)
            start, end, m_top = 0, demo.size, 1.0
        q = qrate * m_top
        if q > 1.0:
            q = 1.0
        if q <= 0.0:
            continue
        lq = np.log1p(-q) if q < 1.0 else 0.0
        pos = _next(rng, start - 1, q, lq)
        while pos < end:
            m = 0
            while pos < end and m < CHUNK:
                cpos[m] = pos
                cu[m] = rng.random() * q
                m += 1
                pos = _next(rng, pos, q, lq)
            if uses_m:
                for j in range(m):
                    cw[j] = words[cpos[j]]
            else:
                for j in range(m):
                    cw[j] = np.uint64(cpos[j]) | (np.uint64(demo[cpos[j]]) << _S48)
            if adapt_on:
                for j in range(m):
                    cf[j] = flags[np.int64(cw[j] & _ID)]
            for j in range(m):
                w = cw[j]
                u = cu[j]
                d = np.int64(w >> _S48)
                p = rate * place[(d >> 1) & 1, 1 if ((d >> 2) & 3) == 0 else 0]
                if uses_m:
                    p *= half(np.int64((w >> _S32) & _HALF))
                if u < p:
                    base += 1
                if adapt_on:
                    p *= adapt[(cf[j] >> 5) & 3] * prov_factor[(d >> 7) & 31]
                if u < p:
                    if k < out.size:
                        out[k] = w
                    k += 1
    return k, base


@njit(cache=True, nogil=True)
def sense_acts(
    rng,
    acts,
    demo,
    coverage,
    rollout,
    day,
    p,
    false_match,
    fm_any,
    province_start,
    out_citizen,
    out_actor,
    out_mis,
):  # pragma: no cover
    """Records one source makes of one behaviour's acts; cameras may misidentify.

    A misidentified record is put on a lookalike: another citizen of the actor's province,
    drawn uniformly among those of the same sex and demographic group (by rejection, up to
    ``LOOKALIKE_DRAWS`` draws, else the first drawn). Returns the number of records written.
    """
    k = 0
    for i in range(acts.size):
        w = acts[i]
        a = np.int64(w & _ID)
        d = np.int64(w >> _S48)
        urban = (d >> 1) & 1
        prov = (d >> 7) & 31
        prob = p * coverage[prov, urban] if day >= rollout[urban] else 0.0
        if rng.random() < prob:
            cit = a
            mis = False
            if fm_any:
                if rng.random() < false_match[(d >> 4) & 7, d & 1]:
                    lo = province_start[prov]
                    size = province_start[prov + 1] - lo
                    if size > 1:
                        # a lookalike: another citizen of the province, of the same sex and
                        # group where one is found within a few draws
                        look = -1
                        for _ in range(LOOKALIKE_DRAWS):
                            x = lo + np.int64(rng.random() * (size - 1))
                            if x >= a:
                                x += 1
                            if look < 0:
                                look = x
                            if (demo[x] & 0x71) == (d & 0x71):  # sex bit and group bits
                                look = x
                                break
                        cit = look
                        mis = True
            out_citizen[k] = cit
            out_actor[k] = a
            out_mis[k] = mis
            k += 1
    return k


@njit(cache=True, nogil=True)
def apply_records(
    score,
    flags,
    ids,
    delta,
    lo,
    hi,
    marked_bit,
    ceiling,
    hist,
    smin,
    width,
    tier_bounds,
    tier_counts,
    before,
    after,
):  # pragma: no cover
    """Apply one rule's delta to its records in order, clamped; keep histogram and tiers.

    Records of the same citizen apply one after another. ``tier_bounds`` are the tiers'
    lower bounds in ascending order; ``tier_counts`` is indexed top tier first. Returns the
    total change of the score sum. Scores are loaded a chunk ahead (into ``before``, then
    read again in order), so their cache misses overlap.
    """
    total = 0
    nt = tier_bounds.size
    for i in range(ids.size):
        if i % CHUNK == 0:  # load the chunk's scores first: independent loads overlap
            for j in range(i, min(i + CHUNK, ids.size)):
                before[j] = score[ids[j]]
        c = ids[i]
        b = np.int64(score[c])
        top = hi
        if ceiling < hi and flags[c] & marked_bit:
            top = ceiling
        a = b + delta
        if a < lo:
            a = lo
        if a > top:
            a = top
        before[i] = b
        after[i] = a
        if a != b:
            score[c] = a
            total += a - b
            hist[(b - smin) // width] -= 1
            hist[(a - smin) // width] += 1
            tb = 0
            ta = 0
            for j in range(nt):
                if b >= tier_bounds[j]:
                    tb += 1
                if a >= tier_bounds[j]:
                    ta += 1
            if ta != tb:
                tier_counts[nt - tb] -= 1
                tier_counts[nt - ta] += 1
    return total


@njit(cache=True, nogil=True)
def unpack_propensity(words, out):  # pragma: no cover
    """Every citizen's propensity bits (half precision) from the words, by citizen index."""
    for i in range(words.size):
        w = words[i]
        out[np.int64(w & _ID)] = np.uint16((w >> _S32) & _HALF)
