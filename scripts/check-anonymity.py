#!/usr/bin/env python3
"""Cross-checks `evident anonymity check` against pyCANON on the same tables.

Usage: check-anonymity.py EVIDENT WORKDIR   (run by scripts/ci-anonymity.sh, which makes a
virtual environment with a pinned pycanon; this script installs nothing.)

For each table it runs `evident anonymity check FILE --quasi ... --sensitive ... --json` and
pyCANON's k_anonymity, l_diversity, entropy_l_diversity and t_closeness, and asserts:

- k and distinct l are equal;
- entropy l: pyCANON returns int(min exp(H)), Evident the real number; they agree when
  pyCANON's is Evident's rounded down (or one less when exp(H) is an integer that floating
  point put a hair below it);
- t: pyCANON uses equal distance for a string attribute and ordered distance (ranks of the
  distinct values, 1/(m-1)) for a numeric one, both as Li et al. 2007 define them, the same
  as Evident's (ordered when the sensitive column is --numeric): equal within 1e-9.

The tables: Machanavajjhala et al.'s 4-anonymous hospital table, two seeded random tables
(categorical and numeric sensitive attribute), and Evident's own --target-k output of each
(one of them generalizing ZIP codes along a declared hierarchy).
"""

import json
import math
import os
import random
import subprocess
import sys

import pandas as pd
from pycanon import anonymity

HOSPITAL = """zip,age,nationality,condition
130**,<30,*,Heart Disease
130**,<30,*,Heart Disease
130**,<30,*,Viral Infection
130**,<30,*,Viral Infection
1485*,>=40,*,Cancer
1485*,>=40,*,Heart Disease
1485*,>=40,*,Viral Infection
1485*,>=40,*,Viral Infection
130**,3*,*,Cancer
130**,3*,*,Cancer
130**,3*,*,Cancer
130**,3*,*,Cancer
"""


def random_table(path, rows, seed, numeric_sensitive):
    rng = random.Random(seed)
    races = ["white", "black", "asian", "native", "other"]
    with open(path, "w") as f:
        f.write("age,zip,sex,race,%s\n" % ("salary" if numeric_sensitive else "diagnosis"))
        for _ in range(rows):
            age = rng.randint(18, 90)
            zip_code = 13000 + rng.randint(0, 30) * 7
            sex = rng.choice("FM")
            race = rng.choice(races)
            # Skewed, so classes differ from the table.
            if numeric_sensitive:
                sensitive = str(rng.choice([20, 30, 30, 40, 45, 50, 60, 80, 120]) * 1000 + (age // 10) * 500)
            else:
                sensitive = rng.choice(["flu", "flu", "flu", "cold", "asthma", "cancer", "hiv", "diabetes"])
            f.write(f"{age},{zip_code},{sex},{race},{sensitive}\n")


def evident(binary, args, ok_codes=(0, 1)):
    done = subprocess.run([binary, "--quiet", "anonymity", "check", *args], capture_output=True, text=True)
    if done.returncode not in ok_codes:
        sys.exit(f"evident {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def compare(binary, name, path, quasi, sensitive, numeric_sensitive):
    args = [path, "--quasi", ",".join(quasi), "--sensitive", sensitive, "--json"]
    if numeric_sensitive:
        args += ["--numeric", sensitive]
    ours = json.loads(evident(binary, args))["measures"]
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    if numeric_sensitive:
        data[sensitive] = pd.to_numeric(data[sensitive])
    theirs = {
        "k": int(anonymity.k_anonymity(data, quasi)),
        "l": int(anonymity.l_diversity(data, quasi, [sensitive])),
        "entropy_l": int(anonymity.entropy_l_diversity(data, quasi, [sensitive])),
        "t": float(anonymity.t_closeness(data, quasi, [sensitive])),
    }
    problems = []
    if ours["k"] != theirs["k"]:
        problems.append(f"k: evident {ours['k']}, pycanon {theirs['k']}")
    if ours["distinct_l"] != theirs["l"]:
        problems.append(f"l: evident {ours['distinct_l']}, pycanon {theirs['l']}")
    e = ours["entropy_l"]
    nearest = round(e)
    floor_ok = theirs["entropy_l"] == math.floor(e)
    hair_below = abs(e - nearest) < 1e-9 and theirs["entropy_l"] in (nearest - 1, nearest)
    if not (floor_ok or hair_below):
        problems.append(f"entropy l: evident {e}, pycanon {theirs['entropy_l']}")
    if abs(ours["t"] - theirs["t"]) > 1e-9:
        problems.append(f"t: evident {ours['t']}, pycanon {theirs['t']}")
    distance = "ordered" if numeric_sensitive else "equal"
    print(
        f"{name}: {ours['rows']} rows, {ours['classes']} classes: k {ours['k']}/{theirs['k']}, "
        f"l {ours['distinct_l']}/{theirs['l']}, entropy l {e:.4f}/{theirs['entropy_l']}, "
        f"t ({distance}) {ours['t']:.6f}/{theirs['t']:.6f}  (evident/pycanon)"
    )
    return problems


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(work, exist_ok=True)
    hospital = os.path.join(work, "hospital.csv")
    with open(hospital, "w") as f:
        f.write(HOSPITAL)
    diagnoses = os.path.join(work, "diagnoses.csv")
    random_table(diagnoses, 2000, 7, numeric_sensitive=False)
    salaries = os.path.join(work, "salaries.csv")
    random_table(salaries, 1500, 11, numeric_sensitive=True)
    generalized = os.path.join(work, "diagnoses-k5.csv")
    evident(binary, [diagnoses, "--quasi", "age,zip,sex,race", "--numeric", "age,zip",
                     "--sensitive", "diagnosis", "--target-k", "5", "-o", generalized])
    zip_hierarchy = os.path.join(work, "zip-hierarchy.csv")
    with open(zip_hierarchy, "w") as f:
        for i in range(31):
            z = str(13000 + i * 7)
            f.write(f"{z},{z[:4]}*,{z[:3]}**,*\n")
    hierarchical = os.path.join(work, "diagnoses-k5-hierarchy.csv")
    evident(binary, [diagnoses, "--quasi", "age,zip,sex,race", "--numeric", "age",
                     "--hierarchy", f"zip={zip_hierarchy}",
                     "--sensitive", "diagnosis", "--target-k", "5", "-o", hierarchical])
    generalized_salaries = os.path.join(work, "salaries-k4.csv")
    evident(binary, [salaries, "--quasi", "age,zip,sex", "--numeric", "age,zip,salary",
                     "--sensitive", "salary", "--target-k", "4", "-o", generalized_salaries])
    qi4 = ["age", "zip", "sex", "race"]
    cases = [
        ("hospital (Machanavajjhala et al.)", hospital, ["zip", "age", "nationality"], "condition", False),
        ("random, categorical sensitive", diagnoses, qi4, "diagnosis", False),
        ("random, 2 quasi-identifiers", diagnoses, ["sex", "race"], "diagnosis", False),
        ("random, numeric sensitive", salaries, ["sex", "race"], "salary", True),
        ("evident --target-k 5 output", generalized, qi4, "diagnosis", False),
        ("evident --target-k 5 output with a ZIP hierarchy", hierarchical, qi4, "diagnosis", False),
        ("evident --target-k 4 output, numeric sensitive", generalized_salaries, ["age", "zip", "sex"], "salary", True),
    ]
    problems = []
    for case in cases:
        problems += [f"{case[0]}: {p}" for p in compare(binary, *case)]
    generalized_k = json.loads(evident(binary, [generalized, "--quasi", ",".join(qi4), "--sensitive", "diagnosis", "--json"]))
    if generalized_k["measures"]["k"] < 5:
        problems.append(f"the --target-k 5 output has k = {generalized_k['measures']['k']}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"{len(cases)} passed, 0 failed: evident matches pycanon on k, l, entropy l and t")


if __name__ == "__main__":
    main()
