"""CloudWatch Logs with the real `aws logs` CLI: groups, streams, events in and out, filter patterns,
retention, the service's errors, and events that survive `kill -9`."""
import json
import time


from conftest import Skiff, module_server


server = module_server("logs", provisioning_delay=0.2)


def now_ms():
    return int(time.time() * 1000)


def refused(result, code):
    return result.returncode != 0 and code in result.stderr


def test_groups_streams_and_events_round_trip_through_the_cli(server):
    server.aws("logs", "create-log-group", "--log-group-name", "/app/web")
    assert refused(server.aws("logs", "create-log-group", "--log-group-name", "/app/web", check=False), "ResourceAlreadyExistsException")
    assert refused(server.aws("logs", "create-log-group", "--log-group-name", "no spaces", check=False), "InvalidParameterException")
    groups = server.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/app/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/app/web"]
    assert groups[0]["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/app/web:*" and groups[0]["storedBytes"] == 0

    server.aws("logs", "create-log-stream", "--log-group-name", "/app/web", "--log-stream-name", "pod-1")
    missing = server.aws("logs", "put-log-events", "--log-group-name", "/app/web", "--log-stream-name", "pod-2",
                         "--log-events", f"timestamp={now_ms()},message=x", check=False)
    assert refused(missing, "ResourceNotFoundException") and "The specified log stream does not exist." in missing.stderr
    start = now_ms() - 10_000
    events = [{"timestamp": start + i * 1000, "message": json.dumps({"level": "error" if i % 3 == 0 else "info", "n": i, "path": f"/items/{i}"})}
              for i in range(9)]
    put = server.aws("logs", "put-log-events", "--log-group-name", "/app/web", "--log-stream-name", "pod-1",
                     "--log-events", json.dumps(events))
    assert "nextSequenceToken" in put and "rejectedLogEventsInfo" not in put
    unordered = server.aws("logs", "put-log-events", "--log-group-name", "/app/web", "--log-stream-name", "pod-1",
                           "--log-events", json.dumps(list(reversed(events))), check=False)
    assert refused(unordered, "InvalidParameterException") and "chronological order" in unordered.stderr

    got = server.aws("logs", "get-log-events", "--log-group-name", "/app/web", "--log-stream-name", "pod-1", "--start-from-head",
                     "--limit", "4")
    assert [json.loads(e["message"])["n"] for e in got["events"]] == [0, 1, 2, 3]
    following = server.aws("logs", "get-log-events", "--log-group-name", "/app/web", "--log-stream-name", "pod-1",
                           "--next-token", got["nextForwardToken"])
    assert [json.loads(e["message"])["n"] for e in following["events"]] == [4, 5, 6, 7, 8]

    def filtered(*args):
        return [json.loads(e["message"])["n"] for e in server.aws("logs", "filter-log-events", "--log-group-name", "/app/web", *args)["events"]]

    assert filtered("--filter-pattern", "error") == [0, 3, 6]
    assert filtered("--filter-pattern", '{ $.level = "error" && $.n > 2 }') == [3, 6]
    assert filtered("--filter-pattern", '"/items/5"') == [5]
    assert filtered("--filter-pattern", "?error ?\"/items/1\"") == [0, 1, 3, 6]
    assert filtered("--start-time", str(start + 7000)) == [7, 8]
    # The CLI pages through every result, a page at a time.
    assert filtered("--page-size", "2") == list(range(9))
    bad = server.aws("logs", "filter-log-events", "--log-group-name", "/app/web", "--filter-pattern", "{ $.n > }", check=False)
    assert refused(bad, "InvalidParameterException")

    streams = server.aws("logs", "describe-log-streams", "--log-group-name", "/app/web")["logStreams"]
    assert streams[0]["logStreamName"] == "pod-1" and streams[0]["firstEventTimestamp"] == start
    assert streams[0]["lastEventTimestamp"] == start + 8000 and streams[0]["storedBytes"] > 0


def test_retention_expires_old_events_and_deleting_a_group_deletes_its_events(server):
    server.aws("logs", "create-log-group", "--log-group-name", "short-lived")
    server.aws("logs", "create-log-stream", "--log-group-name", "short-lived", "--log-stream-name", "s")
    two_days_ago = now_ms() - 2 * 86_400_000
    server.aws("logs", "put-log-events", "--log-group-name", "short-lived", "--log-stream-name", "s",
               "--log-events", f"timestamp={two_days_ago},message=old")
    server.aws("logs", "put-log-events", "--log-group-name", "short-lived", "--log-stream-name", "s",
               "--log-events", f"timestamp={now_ms()},message=new")
    assert refused(server.aws("logs", "put-retention-policy", "--log-group-name", "short-lived", "--retention-in-days", "2", check=False),
                   "InvalidParameterException")
    server.aws("logs", "put-retention-policy", "--log-group-name", "short-lived", "--retention-in-days", "1")
    messages = [e["message"] for e in server.aws("logs", "filter-log-events", "--log-group-name", "short-lived")["events"]]
    assert messages == ["new"]
    group = server.aws("logs", "describe-log-groups", "--log-group-name-prefix", "short-lived")["logGroups"][0]
    assert group["retentionInDays"] == 1
    server.aws("logs", "delete-log-group", "--log-group-name", "short-lived")
    assert refused(server.aws("logs", "filter-log-events", "--log-group-name", "short-lived", check=False), "ResourceNotFoundException")


def test_acknowledged_events_survive_kill_9(tmp_path):
    skiff = Skiff(tmp_path / "data").start()
    skiff.aws("logs", "create-log-group", "--log-group-name", "durable")
    skiff.aws("logs", "create-log-stream", "--log-group-name", "durable", "--log-stream-name", "s")
    for i in range(20):
        skiff.aws("logs", "put-log-events", "--log-group-name", "durable", "--log-stream-name", "s",
                  "--log-events", f"timestamp={now_ms()},message=event-{i}")
    skiff.kill()
    skiff.start()
    try:
        events = skiff.aws("logs", "filter-log-events", "--log-group-name", "durable")["events"]
        assert [e["message"] for e in events] == [f"event-{i}" for i in range(20)]
    finally:
        skiff.stop()
