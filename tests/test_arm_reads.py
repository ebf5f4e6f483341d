"""The arm leaves the database only through the randomisation selectors, which ask the one policy rule.

A new read of an allocation's arm anywhere else fails here, so it is covered without anyone remembering.
"""

from __future__ import annotations

import ast
from pathlib import Path

import aftercrisis

SOURCE = Path(aftercrisis.__file__).parent
# The randomisation app owns allocations; analysis and design work on datasets and simulations; the
# demo builds its trial through the services.
ALLOWED = ("randomisation/", "analysis/", "design/", "demo/")


def _arm_reads(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        # allocation.arm, participant.allocation.arm, an_allocation.arm
        if isinstance(node, ast.Attribute) and node.attr == "arm":
            owner = ast.unparse(node.value).lower()
            if "allocation" in owner:
                found.append((node.lineno, ast.unparse(node)))
        # filter(participant__allocation__arm=…), Q(allocation__arm=…), values("allocation__arm")
        elif isinstance(node, ast.keyword) and node.arg and node.arg.endswith("allocation__arm"):
            found.append((node.value.lineno, node.arg))
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and "allocation__arm" in node.value
        ):
            found.append((node.lineno, node.value))
        # Allocation.objects.filter(arm=…), allocations.values_list("participant_id", "arm")
        elif (
            isinstance(node, ast.Call)
            and "allocation" in ast.unparse(node.func).lower()
            and (
                any(k.arg == "arm" for k in node.keywords)
                or any(isinstance(a, ast.Constant) and a.value == "arm" for a in node.args)
            )
        ):
            found.append((node.lineno, ast.unparse(node.func)))
    return found


def test_the_arm_is_read_only_through_the_randomisation_selectors():
    outside = []
    for path in sorted(SOURCE.rglob("*.py")):
        where = path.relative_to(SOURCE).as_posix()
        if where.startswith(ALLOWED) or "/migrations/" in where:
            continue
        for line, text in _arm_reads(ast.parse(path.read_text(), filename=str(path))):
            outside.append(f"{where}:{line}: {text}")
    assert not outside, "read the arm through aftercrisis.randomisation.selectors:\n" + "\n".join(outside)


def test_the_check_finds_each_kind_of_read():
    reads = _arm_reads(
        ast.parse(
            "p.allocation.arm\n"
            "Session.objects.filter(participant__allocation__arm=code)\n"
            "rows.values('participant__allocation__arm')\n"
            "Allocation.objects.filter(arm=code).values_list('participant_id', 'arm')\n"
            "allocations.values('arm').annotate(n=Count('pk'))\n"
            "protocol.intervention.arm\n"
        )
    )
    assert sorted(line for line, _ in reads) == [1, 2, 3, 4, 4, 5]
