"""Epoch's Quartz cron evaluator against croniter and cron-converter, on the shared Quartz cases.

Run from the repository root (prints figures; never a CI gate)::

    .venv/bin/python -m bench.cron_bench [--rounds 30] [--json]

It loads ``<repo>/../shared/cron-vectors/quartz-vectors.jsonl`` (answers of the real Quartz 2.3.2)
and reports, in one run:

1. **Exact fraction.** For each valid case, does a library give every fire time Quartz gave
   (``t1 = next after start``, ``t(k+1) = next after tk``, the list ending where Quartz's ends)?
   A case a library cannot parse, even after conversion, counts as wrong. For Epoch the share of
   all cases whose validity matches is shown too.
2. **Speed.** Next-fire computations per second of Epoch's ``CronExpression.next_fire_after`` and
   of croniter's ``get_next`` on the same cases (those croniter parses), the same start instants
   and the same number of calls per case, with timezone-aware datetimes in and out. Parsing and
   croniter's object construction happen before the clock starts. Headline: the ratio
   Epoch/croniter over warm rounds; the first pass (Epoch with empty caches, zone offsets sampled
   on first use) is shown too.

Conversions, only as far as each library goes:

* croniter 7 (seconds first, optional year): day-of-week numbers move from Quartz's 1-7
  (Sunday = 1) to croniter's 0-6 (Sunday = 0) in values, ranges, steps, ``n#k`` and ``nL``
  (croniter writes ``L<n>``); Quartz's lone ``L`` (Saturday) becomes ``6``. Everything else is
  passed unchanged; croniter rejects what it does not know (``LW``, ``L-n``, ...).
* cron-converter 2 (five Unix fields, minute resolution): only expressions whose second field is
  ``0`` and whose year is absent or ``*``; ``?`` becomes ``*``, day-of-week numbers move as above;
  ``L``, ``W`` and ``#`` are left as they are, and cron-converter rejects them.

Absolute rates depend on the machine; compare the ratio and the fractions.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cron_converter import Cron
from croniter import croniter

from scheduler.core.cron import CronExpression, CronSyntaxError
from scheduler.core.cron_zone import zone_clock

VECTORS = Path(__file__).resolve().parents[1] / ".." / "shared" / "cron-vectors"
CURRENT_YEAR = 2026  # no shared case depends on the year; a fixed one keeps runs comparable


@dataclass
class Case:
    expression: str
    zone: ZoneInfo
    start: datetime
    count: int
    expected: list[int]
    valid: bool
    croniter_text: str = ""
    croniter_fires: list[int] | None = None


def load_cases(path: Path) -> list[Case]:
    cases = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            raw: dict[str, Any] = json.loads(line)
            zone = ZoneInfo(raw["tz"])
            start = datetime.fromtimestamp(raw["start_ms"] / 1000, zone)
            expected = raw.get("next_ms", [])
            cases.append(Case(raw["expr"], zone, start, raw["n"], expected, raw["valid"]))
    return cases


def to_ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def fire_list(next_after: Callable[[datetime], datetime | None], case: Case) -> list[int]:
    """Up to ``case.count`` fire times, each the next after the previous; stops at None."""
    fires, current = [], case.start
    for _ in range(case.count):
        following = next_after(current)
        if following is None:
            break
        fires.append(to_ms(following))
        current = following
    return fires


# Epoch ----------------------------------------------------------------------------------------


def epoch_fires(case: Case) -> list[int] | None:
    try:
        cron = CronExpression.parse(case.expression, current_year=CURRENT_YEAR)
    except CronSyntaxError:
        return None
    return fire_list(lambda after: cron.next_fire_after(after, case.zone), case)


def epoch_validity_matches(case: Case) -> bool:
    try:
        CronExpression.parse(case.expression, current_year=CURRENT_YEAR)
    except CronSyntaxError:
        return not case.valid
    return case.valid


# Conversions ----------------------------------------------------------------------------------


DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def shift_day_of_week(element: str) -> str:
    """One Quartz day-of-week element in 0-6 numbering (Sunday = 0), as croniter writes it."""
    if element == "L":
        return "6"  # Quartz's lone L is Saturday
    last = re.fullmatch(r"(\d|[A-Z]{3})L", element)
    if last:
        day = last.group(1)
        return f"L{DAY_NAMES.index(day) if day in DAY_NAMES else int(day) - 1}"
    value, hash_sign, nth = element.partition("#")
    if hash_sign:
        return f"{shift_numbers(value)}#{nth}"
    head, slash, step = element.partition("/")
    return shift_numbers(head) + slash + step


def shift_numbers(text: str) -> str:
    return re.sub(r"\d+", lambda number: str(int(number.group()) - 1), text)


def convert_day_of_week(field_text: str) -> str:
    if field_text in ("?", "*"):
        return field_text
    return ",".join(shift_day_of_week(element) for element in field_text.split(","))


def to_croniter(expression: str) -> str:
    fields = expression.upper().split()
    if len(fields) in (6, 7):
        fields[5] = convert_day_of_week(fields[5])
    return " ".join(fields)


def to_cron_converter(expression: str) -> str | None:
    fields = expression.upper().split()
    if len(fields) not in (6, 7) or fields[0] != "0" or fields[6:] not in ([], ["*"]):
        return None
    day_of_week = convert_day_of_week(fields[5]).replace("?", "*")
    return " ".join([*fields[1:4], fields[4].replace("?", "*"), day_of_week])


# croniter -------------------------------------------------------------------------------------


def new_croniter(case: Case) -> Any:
    return croniter(case.croniter_text, case.start, ret_type=datetime, second_at_beginning=True)


def croniter_fires(case: Case) -> list[int] | None:
    try:
        iterator = new_croniter(case)
    except Exception:  # noqa: BLE001 - any rejection means croniter cannot parse the case
        return None
    fires = []
    for _ in range(case.count):
        try:
            fires.append(to_ms(iterator.get_next(datetime)))
        except Exception:  # noqa: BLE001 - croniter ends a schedule by raising
            break
    return fires


def cron_converter_fires(case: Case) -> list[int] | None:
    text = to_cron_converter(case.expression)
    if text is None:
        return None
    try:
        schedule = Cron(text).schedule(case.start)
    except Exception:  # noqa: BLE001 - any rejection means the case cannot be expressed
        return None
    fires = []
    for _ in range(case.count):
        try:
            fires.append(to_ms(schedule.next()))
        except Exception:  # noqa: BLE001 - cron-converter ends a schedule by raising
            break
    return fires


# Speed ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    calls: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds


def time_epoch(work: Sequence[tuple[Case, int]]) -> Timing:
    crons = [CronExpression.parse(c.expression, current_year=CURRENT_YEAR) for c, _ in work]
    calls = 0
    gc.disable()
    started = time.perf_counter()
    for cron, (case, steps) in zip(crons, work, strict=True):
        current: datetime | None = case.start
        for _ in range(steps):
            assert current is not None
            current = cron.next_fire_after(current, case.zone)
        calls += steps
    elapsed = time.perf_counter() - started
    gc.enable()
    return Timing(calls, elapsed)


def time_croniter(work: Sequence[tuple[Case, int]]) -> Timing:
    iterators = [new_croniter(case) for case, _ in work]
    calls = 0
    gc.disable()
    started = time.perf_counter()
    for iterator, (_, steps) in zip(iterators, work, strict=True):
        for _ in range(steps):
            iterator.get_next(datetime)
        calls += steps
    elapsed = time.perf_counter() - started
    gc.enable()
    return Timing(calls, elapsed)


def total(timings: Sequence[Timing]) -> Timing:
    return Timing(sum(t.calls for t in timings), sum(t.seconds for t in timings))


# Report ---------------------------------------------------------------------------------------


def fraction(hits: int, cases: int) -> float:
    return round(hits / cases, 4) if cases else 0.0


def exactness(valid: Sequence[Case], fires: Callable[[Case], list[int] | None]) -> tuple[int, int]:
    results = [fires(case) for case in valid]
    parsed = sum(result is not None for result in results)
    exact = sum(result == case.expected for result, case in zip(results, valid, strict=True))
    return exact, parsed


def prepare_croniter(valid: Sequence[Case]) -> list[tuple[Case, int]]:
    """Record croniter's fires; the speed work is every case it parses, as many calls as both answer."""
    work = []
    for case in valid:
        case.croniter_text = to_croniter(case.expression)
        case.croniter_fires = croniter_fires(case)
        if case.croniter_fires is None:
            continue
        steps = min(len(case.croniter_fires), len(case.expected))
        if steps:
            work.append((case, steps))
    return work


def measure(args: argparse.Namespace) -> dict[str, Any]:
    cases = load_cases(args.vectors)
    valid = [case for case in cases if case.valid]
    work = prepare_croniter(valid)
    zone_clock.cache_clear()  # the first pass starts with no zone offsets sampled
    first_epoch, first_croniter = time_epoch(work), time_croniter(work)
    epoch_rounds = [time_epoch(work) for _ in range(args.rounds)]
    croniter_rounds = [time_croniter(work) for _ in range(args.rounds)]
    ours, theirs = total(epoch_rounds), total(croniter_rounds)
    exact, _ = exactness(valid, epoch_fires)
    croniter_exact = sum(case.croniter_fires == case.expected for case in valid)
    croniter_parsed = sum(case.croniter_fires is not None for case in valid)
    converter_exact, converter_parsed = exactness(valid, cron_converter_fires)
    return {
        "cases": len(cases),
        "valid_cases": len(valid),
        "exact_fraction": fraction(exact, len(valid)),
        "validity_fraction": fraction(sum(map(epoch_validity_matches, cases)), len(cases)),
        "croniter_exact_fraction": fraction(croniter_exact, len(valid)),
        "croniter_parsed_fraction": fraction(croniter_parsed, len(valid)),
        "cron_converter_exact_fraction": fraction(converter_exact, len(valid)),
        "cron_converter_parsed_fraction": fraction(converter_parsed, len(valid)),
        "speed_cases": len(work),
        "calls_per_round": ours.calls // args.rounds,
        "rounds": args.rounds,
        "epoch_fires_per_s": round(ours.per_second),
        "croniter_fires_per_s": round(theirs.per_second),
        "ratio_vs_croniter": round(ours.per_second / theirs.per_second, 2),
        "first_pass_ratio_vs_croniter": round(
            first_epoch.per_second / first_croniter.per_second, 2
        ),
    }


def report(f: dict[str, Any]) -> None:
    print(f"\nCron benchmark: {f['valid_cases']} valid shared Quartz cases ({f['cases']} in all)")
    print("  Fire lists exactly as Quartz (share of valid cases)")
    print(f"    Epoch           {f['exact_fraction']}  (validity matches {f['validity_fraction']})")
    print(
        f"    croniter        {f['croniter_exact_fraction']}"
        f"  (parses {f['croniter_parsed_fraction']} after conversion)"
    )
    print(
        f"    cron-converter  {f['cron_converter_exact_fraction']}"
        f"  (parses {f['cron_converter_parsed_fraction']} after conversion)"
    )
    print(
        f"  Speed on the {f['speed_cases']} cases croniter parses"
        f" ({f['calls_per_round']} next-fire calls a round, {f['rounds']} rounds)"
    )
    print(f"    Epoch {f['epoch_fires_per_s']}/s, croniter {f['croniter_fires_per_s']}/s")
    print(f"    ratio Epoch/croniter  {f['ratio_vs_croniter']}  (target >= 1, stretch 2)")
    print(f"    first pass, Epoch with empty caches  {f['first_pass_ratio_vs_croniter']}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds per library")
    parser.add_argument(
        "--vectors", type=Path, default=VECTORS / "quartz-vectors.jsonl", help="JSONL cases"
    )
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    figures = measure(args)
    report(figures)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
