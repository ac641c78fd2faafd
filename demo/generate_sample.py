"""Generate the bundled DEMO dataset: synthetic customer-support tickets for intent labeling.

DEMO DATA ONLY: every ticket is generated from templates by this script with a fixed seed;
no real customer wrote any of it. Re-running the script reproduces the file byte for byte:

    .venv/bin/python -m demo.generate_sample

Output: ``demo/data/support_tickets.jsonl``, one JSON object per line with ``ticket_id``,
``text``, ``channel`` and ``created_at``. The labeling task is intent classification with the
labels billing, bug, account, feature_request and other.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261127
COUNT = 300
OUT = Path(__file__).parent / "data" / "support_tickets.jsonl"

TEMPLATES = {
    "billing": [
        "I was charged twice for my {plan} plan this month",
        "Where can I download the invoice for {month}?",
        "My refund for order {order} has not arrived yet",
        "Why did my {plan} subscription price go up?",
        "Please cancel the extra charge on my card from {month}",
    ],
    "bug": [
        "The app crashes when I open {screen}",
        "Export to {fmt} produces an empty file",
        "Login button does nothing on {device}",
        "Notifications arrive twice on {device}",
        "The {screen} page shows an error 500 since this morning",
    ],
    "account": [
        "How do I change the e-mail address on my account?",
        "I cannot reset my password, the link expired",
        "Please delete my account and all my data",
        "How do I add a colleague to our {plan} workspace?",
        "Two-factor codes stopped working on my {device}",
    ],
    "feature_request": [
        "Could you add a dark mode to {screen}?",
        "It would be great to export reports as {fmt}",
        "Please support single sign-on for the {plan} plan",
        "Can we schedule reports to be sent every {month}?",
        "I'd love keyboard shortcuts in {screen}",
    ],
    "other": [
        "Thanks, the support team was very helpful",
        "Do you have an office in {city}?",
        "Are you hiring in {city}?",
        "Just wanted to say the new {screen} looks great",
        "Is there a student discount for the {plan} plan?",
    ],
}
FILLERS = {
    "plan": ["Basic", "Pro", "Team", "Enterprise"],
    "month": ["January", "March", "June", "September", "November"],
    "order": ["A-1042", "B-2291", "C-3310", "D-4478"],
    "screen": ["the dashboard", "settings", "the reports view", "the inbox"],
    "fmt": ["CSV", "PDF", "Excel"],
    "device": ["Android", "iPhone", "the web app", "Windows"],
    "city": ["Berlin", "Lisbon", "Toronto", "Nairobi"],
}
CHANNELS = ["email", "chat", "web_form"]


def generate(seed: int = SEED, count: int = COUNT) -> list[dict[str, str]]:
    """Return ``count`` demo tickets; the intent used to generate each is not included."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    tickets = []
    for index in range(count):
        intent = rng.choice(sorted(TEMPLATES))
        template = rng.choice(TEMPLATES[intent])
        text = template.format(**{key: rng.choice(values) for key, values in FILLERS.items()})
        created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 50))
        tickets.append(
            {
                "ticket_id": f"T{index + 1:05d}",
                "text": text,
                "channel": rng.choice(CHANNELS),
                "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    return tickets


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as handle:
        for ticket in generate():
            handle.write(json.dumps(ticket, ensure_ascii=False) + "\n")
    print(f"wrote {COUNT} demo tickets to {OUT}")


if __name__ == "__main__":
    main()
