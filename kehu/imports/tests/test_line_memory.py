"""`engine.LineMemory`: the file state of earlier rows (key -> first line) behaves like a dict of
the keys' hashes, through growth, for any keys."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.imports.engine import LineMemory

keys = st.one_of(
    st.text(max_size=12),
    st.tuples(st.sampled_from(["phone", "email", "name"]), st.text(max_size=12)),
    st.integers(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), keys), max_size=400))
def test_line_memory_acts_like_a_dict_of_first_lines(operations: list[tuple[bool, object]]) -> None:
    memory = LineMemory(capacity=4)  # small: grows several times
    model: dict[int, int] = {}
    for line, (store, key) in enumerate(operations, start=2):
        h = hash(key) or 1
        if store:
            assert memory.setdefault(key, line) == model.setdefault(h, line)
        else:
            assert memory.get(key) == model.get(h)
        assert len(memory) == len(model)


def test_line_memory_keeps_the_first_line_of_each_key_at_scale() -> None:
    memory = LineMemory()
    for line in range(2, 50_002):
        assert memory.setdefault(("phone", f"+86138{line:08d}"), line) == line
    for line in range(2, 50_002, 7):
        assert memory.setdefault(("phone", f"+86138{line:08d}"), line + 1) == line
        assert memory.get(("phone", f"+86138{line:08d}")) == line
    assert memory.get(("phone", "+8613800000100 ")) is None
    assert memory.get(("email", "+8613800000100")) is None
    assert len(memory) == 50_000
