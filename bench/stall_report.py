"""The GUI-stall probe's report (``python -m bench.gui_stall``): a table of the steps, then,
for every step that stalled the GUI thread for more than half the limit, where the time went
in the step and in each of its longest stalls.
"""

from __future__ import annotations

from collections import Counter

from bench.stall_probe import LIMIT_MS, TICK_MS, Collection, LateTick, Step, heaviest

#: The longest stalls of a step that the report takes apart, one by one.
STALLS_SHOWN = 3


def render(steps: list[Step], header: list[str]) -> str:
    """The results as Markdown: the table, then where the time goes in each slow step."""
    lines = [*header, ""]
    lines += [
        "| # | Step | Max GUI stall (ms) | Slowest sync call (ms) | Wait for result (ms) | "
        f"≤ {LIMIT_MS:.0f} ms |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for number, step in enumerate(steps, 1):
        sync = f"{step.sync_ms:.0f} ({step.sync_what})" if step.sync_what else "—"
        verdict = step.verdict if not step.problem else f"ERROR: {step.problem}"
        verdict += f" — {step.note}" if step.note else ""
        lines.append(
            f"| {number} | {step.name} | {step.stall_ms:.0f} | {sync} | {step.wait_ms:.0f} | "
            f"{verdict} |"
        )
    slow = [s for s in steps if s.stall_ms > LIMIT_MS / 2]
    if slow:
        lines += [
            "",
            f"## Where the time goes in stalls over {LIMIT_MS / 2:.0f} ms",
            "",
            "Sampled every 2 ms while a tick was more than 30 ms late (the GUI thread's Python "
            "stack, innermost first; `[library]` is the frame below the console's own), and "
            "every garbage collection of 5 ms or more (`gc.callbacks`): first over the whole "
            f"step, then in each of its {STALLS_SHOWN} longest stalls.",
            "",
        ]
        for step in slow:
            lines += _step_apart(step)
    return "\n".join(lines).rstrip() + "\n"


def _step_apart(step: Step) -> list[str]:
    over_limit = sum(1 for late in step.stalls if late.ms > LIMIT_MS)
    counted = (
        f"; {len(step.stalls)} stalls of {LIMIT_MS / 2:.0f} ms or more, {over_limit} over "
        f"{LIMIT_MS:.0f} ms"
        if step.stalls
        else ""
    )
    lines = [f"**{step.name}** — stall {step.stall_ms:.0f} ms{counted}"]
    lines += [f"- GUI thread: `{place}` ≈ {ms:.0f} ms" for place, ms in step.gui]
    lines += [f"- meanwhile, other thread: `{p}` ≈ {ms:.0f} ms" for p, ms in step.others]
    lines += _collections(step.collections)
    for late in step.stalls[:STALLS_SHOWN]:
        lines += _stall_apart(late, step)
    lines.append("")
    return lines


def _stall_apart(late: LateTick, step: Step) -> list[str]:
    blocked = max(0.0, late.ms + TICK_MS - late.on_cpu_ms - late.runnable_ms)
    lines = [
        f"- a stall of {late.ms:.0f} ms, {late.since - step.began:.1f} s into the step; the GUI "
        f"thread on a CPU {late.on_cpu_ms:.0f} ms, waiting for a CPU {late.runnable_ms:.0f} ms, "
        f"blocked (the GIL, a lock, the disk) {blocked:.0f} ms:"
    ]
    lines += [f"  - GUI thread: `{place}` ≈ {ms:.0f} ms" for place, ms in heaviest(late.gui, 2)]
    lines += [
        f"  - meanwhile, other thread: `{place}` ≈ {ms:.0f} ms"
        for place, ms in heaviest(late.others, 2)
    ]
    lines += ["  " + line for line in _collections(late.collections(step.collections))]
    return lines


def _collections(seen: list[Collection]) -> list[str]:
    """Each collection, or for more than three a summary of them."""
    holds = "(it holds the GIL: no Python runs on the GUI thread meanwhile)"
    if len(seen) <= 3:
        return [
            f"- Python garbage collection (generation {c.generation}) on {c.thread}: "
            f"{c.ms:.0f} ms {holds}"
            for c in seen
        ]
    generations = Counter(c.generation for c in seen)
    threads = sorted({c.thread for c in seen})
    each = ", ".join(f"generation {g}: {n}" for g, n in sorted(generations.items()))
    return [
        f"- {len(seen)} Python garbage collections of 5 ms or more ({each}) on "
        f"{' and '.join(threads)}: the longest {max(c.ms for c in seen):.0f} ms, "
        f"{sum(c.ms for c in seen):.0f} ms in all {holds.replace('it holds', 'each holds')}"
    ]


__all__ = ["STALLS_SHOWN", "render"]
