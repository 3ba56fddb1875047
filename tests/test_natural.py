"""Natural order: numbers inside names count as numbers."""

from __future__ import annotations

from inspector.model.natural import natural_key, natural_sorted


def test_numbers_in_names_sort_as_numbers() -> None:
    names = ["hx-perf-10", "hx-perf-2", "hx-perf-1", "hx-perf-20", "hx-perf-3"]
    assert natural_sorted(names) == [
        "hx-perf-1",
        "hx-perf-2",
        "hx-perf-3",
        "hx-perf-10",
        "hx-perf-20",
    ]


def test_case_is_ignored_and_ties_are_stable() -> None:
    assert natural_sorted(["b", "A", "a", "B"]) == ["A", "a", "B", "b"]
    assert natural_sorted(["a1", "a01"]) == natural_sorted(["a01", "a1"])


def test_digits_and_text_compare_without_errors() -> None:
    names = ["10", "a", "2", "a2b", "a2", "", "eth0", "veth10", "veth9a"]
    assert natural_sorted(names) == ["", "2", "10", "a", "a2", "a2b", "eth0", "veth9a", "veth10"]
    assert natural_key("172.17.0.10") > natural_key("172.17.0.9")
