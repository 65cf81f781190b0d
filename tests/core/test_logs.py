"""Log options: the kubelet's tail, limitBytes, since and timestamps over an output file's bytes,
the request validator, and the follow step function (chunking never changes the answer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyinterlink.core._logs import (
    LogFollower,
    LogRequestError,
    check_log_struct,
    follow_log,
    format_log_time,
    log_opts_errors,
    log_struct_errors,
    log_window,
    select_log,
    tail_start,
)
from pyinterlink.core._wire import ContainerLogOpts, LogStruct

NOW = datetime(2026, 11, 23, 16, 4, 16, 123456, tzinfo=UTC)
UID = "7c0d2f3e-1a9b-4c6d-8e2f-3a4b5c6d7e8f"


def lines_of(data: bytes) -> list[bytes]:
    """The reference model: lines end with \\n; trailing bytes after the last \\n are a line."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def opts(**kwargs: object) -> ContainerLogOpts:
    return ContainerLogOpts(**kwargs)  # type: ignore[arg-type]


# Output with many newlines, empty lines and no trailing newline, in a few bytes.
log_bytes = st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\n\n", b" \xc3\xa9", b"\r"])).map(
    b"".join
)


# --- tail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "tail", "expected"),
    [
        (b"a\nb\nc\n", 1, b"c\n"),
        (b"a\nb\nc\n", 2, b"b\nc\n"),
        (b"a\nb\nc", 1, b"c"),  # a final line without newline counts
        (b"a\nb\nc", 2, b"b\nc"),
        (b"a\n\n", 1, b"\n"),  # an empty line is a line
        (b"a\nb\n", 5, b"a\nb\n"),
        (b"", 3, b""),
        (b"a\nb\n", 0, b"a\nb\n"),  # 0 is unset on the wire
    ],
)
def test_tail_keeps_exactly_the_last_lines(data: bytes, tail: int, expected: bytes) -> None:
    assert select_log(data, opts(tail=tail), now=NOW, mtime=NOW) == expected


@given(log_bytes, st.integers(min_value=1, max_value=20))
def test_tail_is_the_last_n_lines_of_the_reference_model(data: bytes, n: int) -> None:
    out = select_log(data, opts(tail=n), now=NOW, mtime=NOW)
    assert lines_of(out) == lines_of(data)[-n:]
    assert data.endswith(out)
    assert tail_start(data, n) == len(data) - len(out)


def test_upstream_tail_would_keep_one_line_too_many() -> None:
    # Upstream: lines = output.split("\n"); lines[len-Tail-1:], each + "\n".
    data = b"a\nb\nc"
    parts = data.decode().split("\n")
    upstream = "".join(line + "\n" for line in parts[len(parts) - 1 - 1 :]).encode()
    assert upstream == b"b\nc\n"  # two lines for --tail=1
    assert select_log(data, opts(tail=1), now=NOW, mtime=NOW) == b"c"


# --- limitBytes ----------------------------------------------------------------------------


@given(log_bytes, st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=5))
def test_limit_cuts_after_tail_at_the_exact_byte(data: bytes, limit: int, n: int) -> None:
    tailed = select_log(data, opts(tail=n), now=NOW, mtime=NOW)
    out = select_log(data, opts(tail=n, limit_bytes=limit), now=NOW, mtime=NOW)
    assert out == tailed[:limit]
    assert len(out) == min(limit, len(tailed))


def test_limit_keeps_the_first_bytes_not_the_last() -> None:
    assert select_log(b"hello\nworld\n", opts(limit_bytes=7), now=NOW, mtime=NOW) == b"hello\nw"


# --- since and timestamps ------------------------------------------------------------------


def test_since_keeps_a_file_modified_since_whole_and_drops_an_older_one() -> None:
    data = b"old\nnew\n"
    recent = NOW - timedelta(seconds=5)
    assert select_log(data, opts(since_seconds=10), now=NOW, mtime=recent) == data
    assert select_log(data, opts(since_seconds=2), now=NOW, mtime=recent) == b""
    assert select_log(data, opts(since_time=recent), now=NOW, mtime=recent) == data
    later = recent + timedelta(microseconds=1)
    assert select_log(data, opts(since_time=later), now=NOW, mtime=recent) == b""


def test_since_is_the_later_of_the_two_like_the_kubelet() -> None:
    window = log_window(opts(since_seconds=60, since_time=NOW - timedelta(hours=1)), now=NOW)
    assert window.since == NOW - timedelta(seconds=60)
    window = log_window(opts(since_seconds=60, since_time=NOW - timedelta(seconds=1)), now=NOW)
    assert window.since == NOW - timedelta(seconds=1)
    assert log_window(opts(), now=NOW).since is None


def test_timestamps_prefix_every_line_with_the_kubelets_fixed_format() -> None:
    when = datetime(2026, 1, 2, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=1)))
    assert format_log_time(when) == "2026-01-02T03:05:06.000007000Z"
    out = select_log(b"a\n\nb", opts(timestamps=True), now=NOW, mtime=when)
    stamp = b"2026-01-02T03:05:06.000007000Z "
    assert out == stamp + b"a\n" + stamp + b"\n" + stamp + b"b"
    assert select_log(b"", opts(timestamps=True), now=NOW, mtime=when) == b""


def test_the_byte_limit_counts_the_timestamps_like_the_kubelet() -> None:
    out = select_log(b"a\nb\n", opts(timestamps=True, limit_bytes=33), now=NOW, mtime=NOW)
    assert out == format_log_time(NOW).encode() + b" a\n"


def test_without_a_modification_time_since_and_timestamps_do_not_apply() -> None:
    data = b"a\n"
    assert select_log(data, opts(since_seconds=1, timestamps=True), now=NOW, mtime=None) == data


# --- validation ----------------------------------------------------------------------------


def test_valid_options_have_no_errors() -> None:
    assert log_opts_errors(opts(tail=3, limit_bytes=10, follow=True, timestamps=True)) == ()


@pytest.mark.parametrize(
    ("options", "path", "reason"),
    [
        (opts(tail=-1), "Opts.Tail", "must be greater than or equal to 0"),
        (opts(limit_bytes=-1), "Opts.Bytes", "must be greater than 0"),
        (opts(since_seconds=-5), "Opts.SinceSeconds", "must be greater than 0"),
        (
            opts(since_seconds=5, since_time=NOW),
            "Opts.SinceTime",
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        ),
        (opts(previous=True), "Opts.Previous", "previous terminated container not found"),
    ],
)
def test_invalid_options_are_named_with_their_wire_field(
    options: ContainerLogOpts, path: str, reason: str
) -> None:
    errors = log_opts_errors(options)
    assert len(errors) == 1
    assert isinstance(errors[0], LogRequestError)
    assert errors[0].path == path
    assert errors[0].reason.startswith(reason)
    assert errors[0].status_hint == 400


def test_tail_with_limit_is_kubernetes_valid_and_refused_only_when_upstream_strict() -> None:
    both = opts(tail=2, limit_bytes=10)
    assert log_opts_errors(both) == ()
    [error] = log_opts_errors(both, upstream=True)
    assert error.path == "Opts.Bytes"


def test_log_struct_names_must_be_safe_file_names() -> None:
    good = LogStruct(namespace="default", pod_uid=UID, container_name="main", opts=opts())
    assert log_struct_errors(good) == ()
    check_log_struct(good)
    bad = LogStruct(
        namespace="../x", pod_uid="not-a-uid", container_name="Main", opts=opts(tail=-2)
    )
    paths = [error.path for error in log_struct_errors(bad)]
    assert paths == ["Namespace", "PodUID", "ContainerName", "Opts.Tail"]
    with pytest.raises(LogRequestError, match="Namespace"):
        check_log_struct(bad)


# --- follow --------------------------------------------------------------------------------


def follow_in_chunks(
    data: bytes, cut: int, sizes: list[int], options: ContainerLogOpts
) -> tuple[bytes, LogFollower]:
    """Follow a file that holds data[:cut] at the request and gains the rest in chunks."""
    sent, follower = follow_log(data[:cut], options, now=NOW, mtime=NOW)
    rest = data[cut:]
    for size in [*sizes, len(rest)]:
        chunk, rest = rest[:size], rest[size:]
        assert follower.offset == len(data) - len(rest) - len(chunk)
        out, follower = follower.feed(chunk, now=NOW)
        sent += out
    out, follower = follower.finish(now=NOW)
    return sent + out, follower


@given(
    log_bytes,
    st.data(),
    st.integers(min_value=0, max_value=6),
    st.integers(min_value=0, max_value=30),
    st.booleans(),
)
def test_following_in_any_chunks_sends_what_reading_the_end_result_sends(
    data: bytes, draw: st.DataObject, tail: int, limit: int, timestamps: bool
) -> None:
    cut = draw.draw(st.integers(min_value=0, max_value=len(data)))
    sizes = draw.draw(st.lists(st.integers(min_value=0, max_value=8), max_size=8))
    options = opts(tail=tail, limit_bytes=limit, timestamps=timestamps, follow=True)
    sent, follower = follow_in_chunks(data, cut, sizes, options)
    # Tail counts lines of the file as it was at the request; the rest follows whole.
    start = tail_start(data[:cut], tail or None)
    assert sent == select_log(
        data[start:], opts(limit_bytes=limit, timestamps=timestamps), now=NOW, mtime=NOW
    )
    assert follower.offset == len(data)
    assert follower.done == (limit > 0 and len(sent) == limit)


def test_follow_sends_whole_lines_and_holds_a_partial_one() -> None:
    sent, follower = follow_log(b"a\nhal", opts(follow=True), now=NOW, mtime=NOW)
    assert (sent, follower.pending, follower.offset) == (b"a\n", b"hal", 5)
    out, follower = follower.feed(b"f", now=NOW)
    assert out == b""
    out, follower = follower.feed(b" done\nx", now=NOW)
    assert out == b"half done\n"
    out, follower = follower.finish(now=NOW)
    assert (out, follower.pending) == (b"x", b"")


def test_follow_stamps_new_lines_with_the_time_they_were_read() -> None:
    old = NOW - timedelta(minutes=5)
    sent, follower = follow_log(b"a\n", opts(follow=True, timestamps=True), now=NOW, mtime=old)
    assert sent == format_log_time(old).encode() + b" a\n"
    out, _ = follower.feed(b"b\n", now=NOW)
    assert out == format_log_time(NOW).encode() + b" b\n"


def test_follow_with_since_skips_the_old_file_but_sends_what_comes_next() -> None:
    old = NOW - timedelta(minutes=5)
    sent, follower = follow_log(b"old\n", opts(follow=True, since_seconds=60), now=NOW, mtime=old)
    assert sent == b""
    out, _ = follower.feed(b"new\n", now=NOW + timedelta(seconds=1))
    assert out == b"new\n"


def test_follow_is_done_at_the_byte_limit_and_sends_nothing_more() -> None:
    sent, follower = follow_log(b"abc\n", opts(follow=True, limit_bytes=6), now=NOW, mtime=NOW)
    assert (sent, follower.done) == (b"abc\n", False)
    out, follower = follower.feed(b"defg\n", now=NOW)
    assert (out, follower.done) == (b"de", True)
    out, follower = follower.feed(b"more\n", now=NOW)
    assert (out, follower.offset) == (b"", 14)
    assert follower.finish(now=NOW)[0] == b""
