"""Compiled loops (Numba) for the steps whose order matters record by record."""

from __future__ import annotations

import numpy as np

from credsim.compiled_cache import njit
from credsim.engine.keyed import subkey, unit

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


# The acts' uniforms are cut into intervals at powers of R = sqrt(2): interval j < DEEPEST is
# [R**-(j+1), R**-j), and interval DEEPEST is [0, R**-DEEPEST) = [0, 2**-12).
DEEPEST = 24
_EDGE = 2.0 ** (-0.5 * np.arange(DEEPEST + 2))  # R**-j
LEVEL_LOWER = np.append(_EDGE[1 : DEEPEST + 1], 0.0)  # interval j's lower edge
LEVEL_WIDTH = np.append(_EDGE[:DEEPEST] - _EDGE[1 : DEEPEST + 1], _EDGE[DEEPEST])
# probability of interval j given none deeper: its width over the mass at or above its edge
LEVEL_CHANCE = np.append(LEVEL_WIDTH[:DEEPEST] / (1.0 - LEVEL_LOWER[:DEEPEST]), _EDGE[DEEPEST])
LEVEL_CHANCE[0] = 1.0
LEVEL_LOG = np.log1p(-np.minimum(LEVEL_CHANCE, 0.5))  # unused where the chance is 1


def empty_chances(sizes: np.ndarray) -> np.ndarray:
    """[bucket, interval]: the chance that a bucket of that size has no citizen drawn in the
    interval, ``(1 - chance) ** size``: a first skip draw at or below it ends the interval
    without a logarithm (the same outcome as the skip it stands for)."""
    return np.exp(np.outer(np.asarray(sizes, dtype=np.float64), LEVEL_LOG)) * (LEVEL_CHANCE < 1)


_DEBRUIJN, _S58 = np.uint64(0x03F79D71B4CB0A89), np.uint64(58)
_BIT_INDEX = np.zeros(64, dtype=np.int64)  # de Bruijn: (lowest bit * _DEBRUIJN) >> 58 -> bit
for _b in range(64):
    _BIT_INDEX[((1 << _b) * 0x03F79D71B4CB0A89 & (2**64 - 1)) >> 58] = _b
_SKIP_SALT = np.uint64(0x5851F42D4C957F2D)  # the skip draws' key, apart from the citizens'
_SENSE, _MATCH, _LOOK = 0, 1, 2  # what a record's uniform decides (lookalike draws from 2)


@njit(cache=True, nogil=True)
def sample_acts(
    key,
    day,
    offset,
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
    layout,
    out,
    mark,
    empty,
    gone_on=False,
):  # pragma: no cover
    """Acts of one behaviour on one day; returns (acts written to ``out``, baseline acts).

    Each citizen ``i`` has a keyed uniform ``V_i`` for the day; it acts when ``V_i < p_i``,
    its own daily probability (its rate, place, propensity and adaptation). So an act is a
    function of (seed, behaviour, citizen, day) alone, and raising a rate only adds acts.

    The citizens with ``V_i`` below a bucket's bound ``q = qrate * top`` are found without
    visiting the others. [0, 1) is cut into intervals at powers of sqrt(2) (``LEVEL_LOWER``,
    ``LEVEL_WIDTH``) down to [0, 2**-16); from the deepest interval up to the one that holds
    ``q``, the citizens of each are drawn by geometric skips over the bucket (keyed by day,
    bucket and interval) with the probability of that interval given none deeper
    (``LEVEL_CHANCE``), and a citizen drawn in more than one keeps the deepest (``mark``, one
    bit per position, left all zero). Within its interval, ``V_i`` is placed by the citizen's
    own keyed uniform. Each citizen then lies in each interval with exactly that interval's
    probability, independently of the others, and the draws of an interval do not depend on
    ``q``: a larger bound enumerates more intervals and keeps every candidate of the smaller
    one with the same ``V_i``.

    ``words`` holds every citizen in propensity-bucket order (index, propensity and
    demographics in one uint64); a behaviour that ignores propensity walks the citizens in
    index order instead, reading ``demo``. The baseline counts acts without adaptation on the
    same uniforms. With ``gone_on``, citizens whose flags carry ``GONE`` (not yet born, or
    dead: the life course) never act. The acts are written to ``out`` as words (those of a
    behaviour without propensity in citizen order, through ``mark``). ``empty[b]``
    (``empty_chances`` of the bucket sizes, the last row for all citizens) lets an interval
    with no citizen drawn end without a logarithm.
    """
    k = 0
    base = 0
    nb = bounds.size - 1 if uses_m else 1
    kday = subkey(key, day)
    kskip = subkey(key ^ _SKIP_SALT, day)
    seen = np.empty(1024, dtype=np.int64)  # position * 64 + interval, in the order drawn
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
        shallowest = np.int64(np.floor(-2.0 * np.log2(q)))
        if shallowest > DEEPEST:
            shallowest = DEEPEST
        empty_b = empty[b if uses_m else empty.shape[0] - 1]
        seen, n_seen = _candidates(kskip, b, start, end, shallowest, empty_b, mark, seen)
        k, base = _test_candidates(
            kday, offset, q, seen, n_seen, words, demo, flags, prov_factor, place, adapt,
            rate, uses_m, adapt_on, gone_on, layout, out, mark, cw, cf, k, base,
        )  # fmt: skip
    if not uses_m:  # the acts in citizen order, as the score phase reads them best
        k = _marked_in_order(mark, demo, out, k)
    return k, base


@njit(cache=True, nogil=True)
def _candidates(kskip, b, start, end, shallowest, empty_b, mark, seen):  # pragma: no cover
    """Draw the candidates of bucket ``b`` (positions ``start`` to ``end``) in each interval
    from the deepest up to ``shallowest``, each citizen once (``mark``); (``seen``, count)
    with ``seen[i]`` = position * 64 + interval, in the order drawn (``seen`` may grow)."""
    n_seen = 0
    for j in range(DEEPEST, shallowest - 1, -1):
        c = LEVEL_CHANCE[j]
        lc = LEVEL_LOG[j]
        klev = subkey(kskip, b * 64 + j)
        if c < 1.0 and unit(klev, 0) <= empty_b[j]:
            continue  # the first skip goes past the bucket's end: nobody in this interval
        pos = start - 1
        draw = 0
        while True:
            if c >= 1.0:
                pos += 1
            else:
                u = unit(klev, draw)
                draw += 1
                if u <= 0.0:
                    break
                pos += 1 + np.int64(np.floor(np.log(u) / lc))
            if pos >= end:
                break
            byte = pos >> 3
            bit = np.uint8(1 << (pos & 7))
            if mark[byte] & bit:
                continue  # drawn in a deeper interval: its uniform lies there
            mark[byte] |= bit
            if n_seen == seen.size:
                grown = np.empty(2 * seen.size, dtype=np.int64)
                grown[:n_seen] = seen
                seen = grown
            seen[n_seen] = pos * 64 + j
            n_seen += 1
    return seen, n_seen


@njit(cache=True, nogil=True)
def _test_candidates(
    kday, offset, q, seen, n_seen, words, demo, flags, prov_factor, place, adapt, rate,
    uses_m, adapt_on, gone_on, layout, out, mark, cw, cf, k, base,
):  # pragma: no cover  # fmt: skip
    """Test the candidates in chunks: gather their words, then their flags (independent
    loads overlap), then each one's uniform against its probability; clears their ``mark``
    bits, writes acts to ``out`` from ``k`` (or, without propensity, marks them in citizen
    order) and returns the new (k, base)."""
    u_shift, a_shift, p_shift, p_mask = layout[0], layout[1], layout[4], layout[5]
    for c0 in range(0, n_seen, CHUNK):
        m = min(CHUNK, n_seen - c0)
        for i in range(m):
            pos = seen[c0 + i] >> 6
            mark[pos >> 3] &= ~np.uint8(1 << (pos & 7))
            if uses_m:
                cw[i] = words[pos]
            else:
                cw[i] = np.uint64(pos) | (np.uint64(demo[pos]) << _S48)
        if adapt_on or gone_on:
            for i in range(m):
                cf[i] = flags[np.int64(cw[i] & _ID)]
        for i in range(m):
            if gone_on and cf[i] & 8:  # GONE (credsim.engine.layout): not born, or dead
                continue
            j = seen[c0 + i] & 63
            w = cw[i]
            cid = np.int64(w & _ID)
            v = LEVEL_LOWER[j] + unit(kday, cid + offset) * LEVEL_WIDTH[j]
            if v >= q:
                continue
            d = np.int64(w >> _S48)
            p = rate * place[(d >> u_shift) & 1, 1 if ((d >> a_shift) & 3) == 0 else 0]
            if uses_m:
                p *= half(np.int64((w >> _S32) & _HALF))
            if v < p:
                base += 1
            if adapt_on:
                p *= adapt[(cf[i] >> 5) & 3] * prov_factor[(d >> p_shift) & p_mask]
            if v < p:
                if not uses_m:  # in citizen order, below: mark it
                    mark[cid >> 3] |= np.uint8(1 << (cid & 7))
                    continue
                if k < out.size:
                    out[k] = w
                k += 1
    return k, base


@njit(cache=True, nogil=True)
def _marked_in_order(mark, demo, out, k):  # pragma: no cover
    """Write the marked positions to ``out`` from ``k`` as words, in citizen order, clearing
    ``mark``; returns the new k."""
    words64 = mark.view(np.uint64)
    for wi in range(words64.size):
        x = words64[wi]
        if x == 0:
            continue
        words64[wi] = 0
        while x:
            low = x & (~x + np.uint64(1))  # the lowest set bit
            pos = wi * 64 + _BIT_INDEX[np.int64((low * _DEBRUIJN) >> _S58)]
            x ^= low
            if k < out.size:
                out[k] = np.uint64(pos) | (np.uint64(demo[pos]) << _S48)
            k += 1
    return k


@njit(cache=True, nogil=True)
def sense_acts(
    key,
    day,
    offset,
    acts,
    demo,
    coverage,
    rollout,
    p,
    false_match,
    fm_any,
    province_start,
    layout,
    out_citizen,
    out_actor,
    out_mis,
):  # pragma: no cover
    """Records one source makes of one behaviour's acts; cameras may misidentify.

    Every decision is keyed by (source and behaviour, citizen, day): whether the act is
    recorded, whether the record is put on someone else, and the draws of that lookalike.
    A misidentified record is put on a lookalike: another citizen of the actor's province,
    drawn uniformly among those of the same sex and demographic group (by rejection, up to
    ``LOOKALIKE_DRAWS`` draws, else the first drawn). Returns the number of records written.
    ``layout`` is the demographic bit layout (``population.layout_array``).
    """
    k = 0
    kday = subkey(key, day)
    u_shift, g_shift, g_mask, p_shift, p_mask = (
        layout[0],
        layout[2],
        layout[3],
        layout[4],
        layout[5],
    )
    same = 1 | (g_mask << g_shift)  # the sex bit and the group bits
    for i in range(acts.size):
        w = acts[i]
        a = np.int64(w & _ID)
        d = np.int64(w >> _S48)
        urban = (d >> u_shift) & 1
        prov = (d >> p_shift) & p_mask
        prob = p * coverage[prov, urban] if day >= rollout[urban] else 0.0
        g = (a + offset) << 7
        if unit(kday, g + _SENSE) < prob:
            cit = a
            mis = False
            if fm_any:
                if unit(kday, g + _MATCH) < false_match[(d >> g_shift) & g_mask, d & 1]:
                    lo = province_start[prov]
                    size = province_start[prov + 1] - lo
                    if size > 1:
                        # a lookalike: another citizen of the province, of the same sex and
                        # group where one is found within a few draws
                        look = -1
                        for t in range(LOOKALIKE_DRAWS):
                            u = unit(kday, g + _LOOK + t)
                            x = lo + np.int64(u * (size - 1))
                            if x >= a:
                                x += 1
                            if look < 0:
                                look = x
                            if (demo[x] & same) == (d & same):
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
