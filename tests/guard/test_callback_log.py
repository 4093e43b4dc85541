"""Failed callbacks in the log: once with the traceback, then counted, capped per minute."""

from __future__ import annotations

import logging

import pytest

from guard.callback_log import MAX_MESSAGE, CallbackLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def boom(message: str = "wall-regions: expected a list") -> ValueError:
    try:
        raise ValueError(message)
    except ValueError as err:
        return err


@pytest.fixture
def clock() -> Clock:
    return Clock()


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test.callbacks"]


def make(clock: Clock, **kw: float) -> CallbackLog:
    return CallbackLog(logging.getLogger("test.callbacks"), clock=clock, **kw)  # type: ignore[arg-type]


def test_the_first_failure_has_its_traceback_repeats_are_one_counted_line(
        caplog: pytest.LogCaptureFixture, clock: Clock) -> None:
    caplog.set_level(logging.ERROR)
    log = make(clock, interval=60)
    for _ in range(500):
        log.failed(boom(), callback="wall-panel.children")
    first = lines(caplog)
    assert len(first) == 1
    assert "Traceback (most recent call last)" in first[0] and "in boom" in first[0]
    assert "wall-panel.children" in first[0] and "ValueError: wall-regions: expected a list" in first[0]
    clock.now += 61
    log.failed(boom(), callback="wall-panel.children")
    later = lines(caplog)[1:]
    assert len(later) == 1 and "500 more times" in later[0] and "Traceback" not in later[0]


def test_distinct_callbacks_types_and_messages_each_get_their_line(
        caplog: pytest.LogCaptureFixture, clock: Clock) -> None:
    caplog.set_level(logging.ERROR)
    log = make(clock)
    log.failed(boom("a"), callback="one.children")
    log.failed(boom("a"), callback="two.children")
    log.failed(boom("b"), callback="one.children")
    log.failed(KeyError("a"), callback="one.children")
    log.failed(boom("a"), callback="one.children")
    assert len(lines(caplog)) == 4


def test_lines_are_capped_per_minute_and_the_next_minute_says_how_many_were_held(
        caplog: pytest.LogCaptureFixture, clock: Clock) -> None:
    caplog.set_level(logging.ERROR)
    log = make(clock, per_minute=10)
    for n in range(1000):   # a fuzzer: a new message each time
        log.failed(boom(f"bad value {n}"), callback="wall-panel.children")
    assert len(lines(caplog)) == 10
    clock.now += 60
    log.failed(boom("after the flood"), callback="wall-panel.children")
    tail = lines(caplog)[10:]
    assert tail[0] == "callback failures: 990 log lines held back in the last minute"
    assert "after the flood" in tail[1]


def test_a_huge_message_is_cut_in_the_log(caplog: pytest.LogCaptureFixture, clock: Clock) -> None:
    caplog.set_level(logging.ERROR)
    make(clock).failed(boom("x" * 5_000_000), callback="wall-panel.children")
    text = caplog.text
    assert len(text) < 5 * MAX_MESSAGE + 2000 and "(5000000 characters)" in text


def test_a_chained_cause_is_in_the_first_traceback(caplog: pytest.LogCaptureFixture, clock: Clock) -> None:
    caplog.set_level(logging.ERROR)
    try:
        try:
            {}["region"]
        except KeyError as inner:
            raise RuntimeError("panel failed") from inner
    except RuntimeError as err:
        make(clock).failed(err, callback="wall-panel.children")
    (line,) = lines(caplog)
    stack = line.split("\n", 1)[1]   # after the summary line: the cause first, as Python prints it
    assert stack.index("KeyError: 'region'") < stack.index("The above exception led to") \
        < stack.index("RuntimeError: panel failed")


def test_outside_a_request_the_callback_is_unknown(caplog: pytest.LogCaptureFixture, clock: Clock) -> None:
    caplog.set_level(logging.ERROR)
    make(clock).failed(boom())
    assert lines(caplog)[0].startswith("callback ? failed")
