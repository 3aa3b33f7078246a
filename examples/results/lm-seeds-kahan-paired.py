"""Paired comparison of bf16-kahan against bf16-sr (and of both against fp32) per learning rate, from lm-summary.csv.

Run: python3 examples/results/lm-seeds-kahan-paired.py examples/results/lm-seeds-kahan/lm-summary.csv
diff = 100 (ppl_a / ppl_b - 1) per seed; 'yes *' when |mean| > t(0.975, k-1) * sd / sqrt(k) (paired t-test, 95%,
two-sided), as LmReport marks the differences against FP32.
"""
import csv
import math
import statistics
import sys

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}  # t(0.975, k-1), keyed by k-1


def main(path):
    ppl = {}
    for row in csv.DictReader(open(path)):
        if row["diverged_at_step"] not in ("0", ""):
            continue
        ppl[(float(row["lr_multiplier"]), row["strategy"], int(row["seed"]))] = float(row["perplexity"])
    rates = sorted({k[0] for k in ppl})
    print("| lr x | pair | seeds | diff % (mean +- sd) | exceeds seed spread |")
    print("| --- | --- | --- | --- | --- |")
    for x in rates:
        for a, b in (("bf16-kahan", "bf16-sr"), ("bf16-kahan", "fp32"), ("bf16-sr", "fp32")):
            seeds = sorted(s for (r, st, s) in ppl if r == x and st == a and (x, b, s) in ppl)
            d = [100 * (ppl[(x, a, s)] / ppl[(x, b, s)] - 1) for s in seeds]
            if not d:
                continue
            mean = statistics.mean(d)
            if len(d) < 2:
                print(f"| {x} | {a} vs {b} | {len(d)} | {mean:+.2f} | n/a |")
                continue
            sd = statistics.stdev(d)
            star = abs(mean) > T975[len(d) - 1] * sd / math.sqrt(len(d))
            print(f"| {x} | {a} vs {b} | {len(d)} | {mean:+.2f} +- {sd:.2f} | {'yes *' if star else 'no'} |")


if __name__ == "__main__":
    main(sys.argv[1])
