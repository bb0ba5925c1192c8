#!/usr/bin/env python3
"""The three analyses of `imh-exam analyze`, as a Python analyst would write them with pandas,
numpy, statsmodels, scikit-learn and krippendorff: the reference `benches/analyze.rs` times the
Rust command against (the whole process, CSV in, JSON out).

    analyze_reference.py items --responses R.csv --key K.csv
    analyze_reference.py agreement --ratings X.csv --min-score 0 --max-score 3
    analyze_reference.py dif --responses R.csv --key K.csv --groups G.csv --focal F --reference R

It computes the same statistics with the same definitions (docs/statistics.md): the headline
numbers agree with the Rust report to rounding. It checks the files as far as pandas makes it
natural (required columns, scores on the scale, a rater scoring a response twice) but does not
report every problem by line as the Rust command does. Needs:
`pip install pandas numpy statsmodels scikit-learn krippendorff`.
"""

import argparse
import json
import sys

import krippendorff
import numpy as np
import pandas as pd
from scipy.stats import chi2, f as f_dist
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.inter_rater import fleiss_kappa


def num(x):
    """A finite float, or None for an undefined statistic."""
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


def ratio(a, b):
    return num(a / b) if b else None


# ---------------------------------------------------------------- items


def load_form(responses_path, key_path):
    r = pd.read_csv(responses_path, dtype=str, keep_default_na=False, skipinitialspace=True)
    k = pd.read_csv(key_path, dtype=str, keep_default_na=False, skipinitialspace=True)
    if r.columns[0] != "candidate" or list(k.columns[:2]) != ["item", "key"]:
        sys.exit("bad header")
    items = list(r.columns[1:])
    k = k.set_index("item").loc[items]
    if r["candidate"].duplicated().any():
        sys.exit("a candidate twice")
    letters = r[items].apply(lambda c: c.str.strip().str.upper())
    # Option index per cell, -1 omitted.
    codes = np.full(letters.shape, -1, dtype=np.int8)
    for i, letter in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
        codes[(letters == letter).to_numpy()] = i
    if ((codes < 0) & (letters != "").to_numpy()).any():
        sys.exit("an answer that is not a letter")
    accepted = np.array(
        [sum(1 << ("ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(x.strip().upper())) for x in key.split("|"))
         for key in k["key"]]
    )
    options = np.maximum(codes.max(axis=0) + 1, np.floor(np.log2(accepted)).astype(int) + 1)
    right = (codes >= 0) & ((accepted[None, :] >> np.maximum(codes, 0)) & 1).astype(bool)
    domains = k["domain"].tolist() if "domain" in k.columns else [""] * len(items)
    return r["candidate"].to_numpy(), items, codes, right.astype(np.int8), options, accepted, domains


def score_stats(x):
    """Form statistics of a candidates × items 0/1 table."""
    n, k = x.shape
    t = x.sum(axis=1)
    out = {"candidates": n, "items": k, "mean": None, "sd": None, "kr20": None, "kr21": None,
           "alpha": None, "alpha_low": None, "alpha_high": None, "sem": None}
    if n:
        out["mean"] = num(t.mean())
    if n > 1:
        out["sd"] = num(t.std(ddof=1))
    var_pop = t.var() if n else 0
    if k > 1 and n > 1 and var_pop > 0:
        p = x.mean(axis=0)
        out["kr20"] = num(k / (k - 1) * (1 - (p * (1 - p)).sum() / var_pop))
        m = t.mean()
        out["kr21"] = num(k / (k - 1) * (1 - m * (k - m) / (k * var_pop)))
        alpha = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / t.var(ddof=1))
        out["alpha"] = num(alpha)
        d1, d2 = n - 1, (n - 1) * (k - 1)
        out["alpha_low"] = num(1 - (1 - alpha) * f_dist.ppf(0.975, d1, d2))
        out["alpha_high"] = num(1 - (1 - alpha) * f_dist.ppf(0.025, d1, d2))
        out["sem"] = num(t.std(ddof=1) * np.sqrt(1 - alpha)) if alpha <= 1 else None
    out["distribution"] = np.bincount(t, minlength=k + 1).tolist()
    return out


def corr(x, y):
    """Pearson r of each column of x with y."""
    xc = x - x.mean(axis=0)
    yc = y - y.mean()
    den = np.sqrt((xc**2).sum(axis=0) * (yc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc[:, None]).sum(axis=0) / den


def items_report(args):
    _, items, codes, right, options, accepted, domains = load_form(args.responses, args.key)
    n, k = right.shape
    t = right.sum(axis=1).astype(float)
    g = int(np.floor(0.27 * n + 0.5))
    order = np.argsort(-t, kind="stable")
    upper, lower = order[:g], order[n - g:]
    p = right.mean(axis=0)
    pbis = corr(right.astype(float), t)
    rest = t[:, None] - right
    pbis_rest = np.array([np.corrcoef(right[:, i], rest[:, i])[0, 1] for i in range(k)])
    v = right.var(axis=0, ddof=1)
    total_v = t.var(ddof=1)
    report = {"form": score_stats(right), "group_27": g, "domains": [], "items": []}
    for d in sorted(set(x for x in domains if x)):
        cols = [i for i, x in enumerate(domains) if x == d]
        report["domains"].append({"domain": d, **score_stats(right[:, cols])})
    for i, item in enumerate(items):
        rest_var = (rest[:, i]).var(ddof=1)
        aid = (k - 1) / (k - 2) * (1 - (v.sum() - v[i]) / rest_var) if k > 2 and rest_var else None
        stats = {
            "item": item, "domain": domains[i] or None, "n": n,
            "omitted": int((codes[:, i] < 0).sum()), "p": num(p[i]), "pbis": num(pbis[i]),
            "pbis_rest": num(pbis_rest[i]),
            "disc_27": num(right[upper, i].mean() - right[lower, i].mean()) if g else None,
            "alpha_if_deleted": num(aid), "options": [], "flags": [],
        }
        chose = codes[:, i][:, None] == np.arange(options[i])[None, :]
        opbis = corr(chose.astype(float), t)
        for o in range(options[i]):
            letter = chr(ord("A") + o)
            count = int(chose[:, o].sum())
            stats["options"].append({
                "option": letter, "key": bool(accepted[i] >> o & 1), "count": count,
                "proportion": ratio(count, n),
                "upper": num(chose[upper, o].mean()) if g else None,
                "lower": num(chose[lower, o].mean()) if g else None,
                "pbis": num(opbis[o]),
            })
        flags = stats["flags"]
        if stats["p"] is not None and stats["p"] < 0.30:
            flags.append("hard")
        if stats["p"] is not None and stats["p"] > 0.95:
            flags.append("easy")
        if stats["pbis_rest"] is not None and stats["pbis_rest"] < 0.15:
            flags.append("low_discrimination")
        for o in stats["options"]:
            if not o["key"] and o["pbis"] is not None and o["pbis"] > 0:
                flags.append("distractor_positive:" + o["option"])
        for o in stats["options"]:
            if not o["key"] and o["proportion"] is not None and o["proportion"] < 0.02:
                flags.append("distractor_rare:" + o["option"])
        report["items"].append(stats)
    return report


# ---------------------------------------------------------------- agreement


def kappa(m, weights):
    """Cohen's kappa of a confusion matrix with agreement weights."""
    n = m.sum()
    expected = np.outer(m.sum(axis=1), m.sum(axis=0)) / n
    po, pe = (weights * m).sum() / n, (weights * expected).sum() / n
    return (po - pe) / (1 - pe) if pe != 1 else None


def kappa_se(m, k):
    """Fleiss, Cohen & Everitt (1969) standard error of unweighted kappa."""
    n = m.sum()
    p = m / n
    r, c = p.sum(axis=1), p.sum(axis=0)
    pe = (r * c).sum()
    if pe >= 1:
        return None
    diag = (np.diag(p) * (1 - (r + c) * (1 - k)) ** 2).sum()
    off = p * (c[:, None] + r[None, :]) ** 2
    np.fill_diagonal(off, 0)
    var = (diag + (1 - k) ** 2 * off.sum() - (k - pe * (1 - k)) ** 2) / (n * (1 - pe) ** 2)
    return np.sqrt(var) if var >= 0 else None


def icc(m, scores):
    """ICC(2,1) and ICC(3,1) of the two readings (Shrout & Fleiss 1979), from the matrix."""
    n, k = m.sum(), 2
    if n < 2:
        return None, None
    a, b = np.meshgrid(scores, scores, indexing="ij")
    sa, sb = (m * a).sum(), (m * b).sum()
    grand = (sa + sb) / (2 * n)
    ss_total = (m * ((a - grand) ** 2 + (b - grand) ** 2)).sum()
    ss_rows = k * (m * ((a + b) / 2 - grand) ** 2).sum()
    ss_cols = n * ((sa / n - grand) ** 2 + (sb / n - grand) ** 2)
    ss_err = ss_total - ss_rows - ss_cols
    bms, jms, ems = ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))
    return (ratio(bms - ems, bms + (k - 1) * ems + k * (jms - ems) / n),
            ratio(bms - ems, bms + (k - 1) * ems))


def pair_stats(m, scores):
    """Agreement of first readings (rows) with second readings (columns)."""
    n = int(m.sum())
    keys = ["exact", "adjacent", "kappa", "kappa_se", "kappa_low", "kappa_high", "kappa_linear",
            "kappa_quadratic", "icc_2_1", "icc_3_1"]
    out = {"pairs": n} | dict.fromkeys(keys)
    if n:
        i, j = np.meshgrid(scores, scores, indexing="ij")
        d = np.abs(i - j)
        top = max(len(scores) - 1, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            k = kappa(m, (d == 0).astype(float))
            se = kappa_se(m, k) if k is not None else None
            out |= {
                "exact": num(np.trace(m) / n), "adjacent": num(m[d <= 1].sum() / n),
                "kappa": num(k), "kappa_se": num(se),
                "kappa_low": num(k - 1.96 * se) if se is not None else None,
                "kappa_high": num(k + 1.96 * se) if se is not None else None,
                "kappa_linear": num(kappa(m, 1 - d / top)),
                "kappa_quadratic": num(kappa(m, 1 - d**2 / top**2)),
            }
            out["icc_2_1"], out["icc_3_1"] = icc(m, scores)
    out["confusion"] = m.astype(int).tolist()
    return out


def confusions(group, a, b, groups, points):
    """One confusion matrix per group: groups × points × points."""
    m = np.zeros((groups, points, points))
    np.add.at(m, (group, a, b), 1)
    return m


def alphas(counts):
    """Krippendorff's alpha, ordinal and interval, of a units × categories count table."""
    pairable = counts[counts.sum(axis=1) >= 2]
    if len(pairable) == 0:
        return None, None
    out = []
    for level in ("ordinal", "interval"):
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(num(krippendorff.alpha(value_counts=pairable, level_of_measurement=level)))
    return tuple(out)


def agreement_report(args):
    x = pd.read_csv(args.ratings, skipinitialspace=True,
                    dtype={"response": "category", "rater": "category", "item": "category",
                           "score": "int64"})
    scores = np.arange(args.min_score, args.max_score + 1)
    points = len(scores)
    if not x["score"].between(args.min_score, args.max_score).all():
        sys.exit("a score off the scale")
    unit = x["response"].cat.codes.to_numpy()
    rater = x["rater"].cat.codes.to_numpy()
    raters = x["rater"].cat.categories
    if pd.Series(unit.astype(np.int64) * len(raters) + rater).duplicated().any():
        sys.exit("a rater scored a response twice")
    category = x["score"].to_numpy() - args.min_score
    reading = x.groupby(unit, sort=False).cumcount().to_numpy()
    units = unit.max() + 1
    first = np.full(units, -1)
    second = np.full(units, -1)
    first[unit[reading == 0]] = np.flatnonzero(reading == 0)
    second[unit[reading == 1]] = np.flatnonzero(reading == 1)
    paired = second >= 0
    ia, ib = first[paired], second[paired]
    a, b = category[ia], category[ib]

    counts = np.zeros((units, points))
    np.add.at(counts, (unit, category), 1)
    alpha_ordinal, alpha_interval = alphas(counts)
    m = counts.sum(axis=1)
    fk = num(fleiss_kappa(counts)) if m.min() == m.max() and m[0] >= 2 else None

    overall = pair_stats(confusions(np.zeros_like(a), a, b, 1, points)[0], scores)
    # The library's kappas, which the matrix formulas above reproduce.
    overall["kappa"] = num(cohen_kappa_score(a, b))
    overall["kappa_linear"] = num(cohen_kappa_score(a, b, weights="linear"))
    overall["kappa_quadratic"] = num(cohen_kappa_score(a, b, weights="quadratic"))
    report = {"min_score": args.min_score, "max_score": args.max_score, "ratings": len(x),
              "responses": int(units), **overall,
              "alpha_ordinal": alpha_ordinal, "alpha_interval": alpha_interval,
              "fleiss_kappa": fk, "raters": [], "items": [], "rater_pairs": [], "days": []}

    # Per rater: own score minus the other reading's, over the pairs they are in.
    sides = pd.DataFrame({"rater": np.concatenate([rater[ia], rater[ib]]),
                          "diff": np.concatenate([a - b, b - a])})
    by_pair = sides.groupby("rater")["diff"].agg(
        pairs="size", severity="mean", exact=lambda d: (d == 0).mean())
    by_rater = x.groupby(rater)["score"].agg(scored="size", mean="mean").join(by_pair)
    for r, row in by_rater.iterrows():
        report["raters"].append({
            "rater": raters[r], "scored": int(row["scored"]), "mean": num(row["mean"]),
            "pairs": int(row["pairs"]) if row["pairs"] == row["pairs"] else 0,
            "severity": num(row["severity"]), "exact": num(row["exact"]),
            "validity": 0, "accuracy": None,
        })

    if "item" in x.columns:
        item = x["item"].cat.codes.to_numpy()
        names = x["item"].cat.categories
        unit_item = item[first]
        per_item = confusions(unit_item[paired], a, b, len(names), points)
        ratings = np.bincount(item, minlength=len(names))
        for i, name in enumerate(names):
            ao, ai = alphas(counts[unit_item == i])
            report["items"].append({
                "item": name, "ratings": int(ratings[i]),
                "responses": int((unit_item == i).sum()), **pair_stats(per_item[i], scores),
                "alpha_ordinal": ao, "alpha_interval": ai,
            })

    # Each unordered pair of raters, rows the lower-numbered rater's scores.
    ra, rb = rater[ia], rater[ib]
    swap = ra > rb
    lo, hi = np.where(swap, rb, ra), np.where(swap, ra, rb)
    pair = lo * len(raters) + hi
    used, index = np.unique(pair, return_inverse=True)
    per_pair = confusions(index, np.where(swap, b, a), np.where(swap, a, b), len(used), points)
    for i, p in enumerate(used):
        report["rater_pairs"].append({
            "rater_a": raters[p // len(raters)], "rater_b": raters[p % len(raters)],
            **pair_stats(per_pair[i], scores),
        })
    return report


# ---------------------------------------------------------------- dif


def dif_report(args):
    candidates, items, _, right, _, _, _ = load_form(args.responses, args.key)
    g = pd.read_csv(args.groups, dtype=str, keep_default_na=False, skipinitialspace=True)
    group = g.set_index("candidate")["group"].reindex(candidates)
    if group.isna().any():
        sys.exit("a candidate without a group")
    focal = (group == args.focal).to_numpy()
    reference = (group == args.reference).to_numpy()
    keep = focal | reference
    right, focal = right[keep], focal[keep]
    t = right.sum(axis=1)
    strata = t.max() + 1
    report = {"reference_group": args.reference, "focal_group": args.focal,
              "reference": int(reference.sum()), "focal": int(focal.sum()), "items": []}
    for i, item in enumerate(items):
        # rows (reference, focal) × columns (right, wrong), one 2×2 table per total score.
        tables = np.zeros((2, 2, strata))
        np.add.at(tables, (focal.astype(int), 1 - right[:, i], t), 1)
        size = tables.sum(axis=(0, 1))
        both = (tables.sum(axis=1) > 0).all(axis=0)
        tables = tables[:, :, (size >= 2) & both]
        out = {"item": item, "strata": tables.shape[2], "reference": int(tables[0].sum()),
               "focal": int(tables[1].sum()), "alpha_mh": None, "chi2_mh": None,
               "p_value": None, "d_dif": None, "d_dif_se": None, "ets_class": None}
        if tables.shape[2]:
            st = StratifiedTable(tables)
            with np.errstate(invalid="ignore", divide="ignore"):
                alpha = st.oddsratio_pooled
                test = st.test_null_odds(correction=True)
                se = st.logodds_pooled_se
            # The upper tail directly: statsmodels' 1 − cdf rounds small p-values to 0.
            p_value = chi2.sf(test.statistic, 1)
            out["chi2_mh"], out["p_value"] = num(test.statistic), num(p_value)
            if alpha and np.isfinite(alpha):
                d = -2.35 * np.log(alpha)
                d_se = 2.35 * se
                out |= {"alpha_mh": num(alpha), "d_dif": num(d), "d_dif_se": num(d_se)}
                if abs(d) < 1 or p_value >= 0.05:
                    out["ets_class"] = "A"
                else:
                    c = "C" if abs(d) >= 1.5 and (abs(d) - 1) / d_se > 1.645 else "B"
                    out["ets_class"] = c + ("+" if d > 0 else "-")
        report["items"].append(out)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("items")
    p.add_argument("--responses", required=True)
    p.add_argument("--key", required=True)
    p = sub.add_parser("agreement")
    p.add_argument("--ratings", required=True)
    p.add_argument("--min-score", type=int, required=True)
    p.add_argument("--max-score", type=int, required=True)
    p = sub.add_parser("dif")
    p.add_argument("--responses", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--groups", required=True)
    p.add_argument("--focal", required=True)
    p.add_argument("--reference", required=True)
    args = parser.parse_args()
    report = {"items": items_report, "agreement": agreement_report, "dif": dif_report}[
        args.command](args)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
