"""Input for the python-json workload: build N records, then serialise and
parse them three times, as a service handling JSON payloads does."""
import json
import sys

ROUND_TRIPS = 3

count = int(sys.argv[1])
records = [{"id": i, "name": f"user{i}", "tags": ["a", "b", str(i % 7)],
            "score": i * 0.5, "active": i % 3 == 0} for i in range(count)]
for _ in range(ROUND_TRIPS):
    records = json.loads(json.dumps(records))
