"""Generate the bundled DEMO dataset: synthetic customer-support tickets for intent labeling.

DEMO DATA ONLY: every ticket is assembled from templates by this script with a fixed seed;
no real customer wrote any of it, and every name, order number, e-mail address, phone number
and card number in it is made up (``example.com`` addresses, 555 phone numbers, a published
test card number). Re-running the script reproduces the files byte for byte:

    .venv/bin/python -m demo.generate_sample

Outputs, under ``demo/data/``:

- ``support_tickets.jsonl``: the sample, one JSON object per line with ``ticket_id``,
  ``text``, ``channel`` and ``created_at``. Tickets vary (greetings, details, order numbers,
  product areas, sign-offs, typos, some personal data to redact), so few are exact copies:
  only the deliberate resubmissions in ``RESUBMITTED``. Some tickets mix two intents on
  purpose (``MIXED``): annotators disagree on them. A handful of rows are deliberately bad
  (``BAD_ROWS``) and are quarantined with a reason during ingestion: a truncated JSON line,
  a missing text, a date in the wrong format and an oversized text at acquisition; an
  unknown channel and a legacy ticket id by the raw suite's warnings (2 of about 150 rows,
  below the suite's 5% threshold, so no gate opens for them).
- ``support_tickets.truth.jsonl``: the simulation's hidden ground truth, one
  ``{"ticket_id", "intent", "ambiguous_with"}`` per ticket (``ambiguous_with`` is the
  second intent of a mixed ticket, else null). The demo's simulated annotators
  (``demo/annotators.py``) answer from it; the pipeline never reads it.
- ``support_tickets.gold.jsonl``: ``GOLD_COUNT`` gold answers ``{"ticket_id", "label"}``,
  unambiguous tickets that reach annotation, which the pipeline loads as gold items.

The labels are those of ``demo/guidelines/support-intent.v1.yaml``: billing, bug, account,
feature_request and other.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20261127
COUNT = 160
GOLD_COUNT = 18
DATA = Path(__file__).parent / "data"
OUT = DATA / "support_tickets.jsonl"
TRUTH = DATA / "support_tickets.truth.jsonl"
GOLD = DATA / "support_tickets.gold.jsonl"
LABELS = ("billing", "bug", "account", "feature_request", "other")

TEMPLATES = {
    "billing": [
        "I was charged twice for my {plan} plan in {month}.",
        "Where can I download the invoice for {month}?",
        "My refund for order {order} has not arrived yet.",
        "Why did the price of my {plan} subscription go up?",
        "Please remove the extra charge from {month} on my card.",
        "Can I switch from monthly to yearly billing on the {plan} plan?",
        "The invoice for order {order} has the wrong company address.",
        "How do I change the credit card you bill for the {plan} plan?",
    ],
    "bug": [
        "The app crashes when I open {area}.",
        "Exporting {area} to {fmt} produces an empty file.",
        "The login button does nothing on {device}.",
        "Notifications arrive twice on {device}.",
        "{Area} shows an error 500 since this morning.",
        "Search in {area} returns nothing, even for words I can see on screen.",
        "Dates in {area} are shown one day off on {device}.",
        "Attachments over 2 MB fail to upload from {device}.",
    ],
    "account": [
        "How do I change the e-mail address on my account?",
        "I cannot reset my password, the link has expired.",
        "Please delete my account and all my data.",
        "How do I add a colleague to our {plan} workspace?",
        "Two-factor codes stopped working after I got a new {device_kind}.",
        "Can I transfer ownership of the workspace to {name}?",
        "I am locked out after too many login attempts.",
        "How do I give {name} read-only access to {area}?",
    ],
    "feature_request": [
        "Could you add a dark mode to {area}?",
        "It would be great to export {area} as {fmt}.",
        "Please support single sign-on on the {plan} plan.",
        "Can we schedule reports to be e-mailed every Monday?",
        "I'd love keyboard shortcuts in {area}.",
        "Please add a {lang} translation of the app.",
        "An API endpoint for {area} would save us hours every week.",
        "Could {area} remember my filters between sessions?",
    ],
    "other": [
        "Thanks, your support team was very helpful last week.",
        "Do you have an office in {city}?",
        "Are you hiring in {city}?",
        "Just wanted to say {area} looks great since the redesign.",
        "Is there a student discount?",
        "Will you be at the trade fair in {city} this year?",
        "Who should I talk to about a partnership?",
        "Can you recommend a consultant in {city} who knows your product?",
    ],
}

DETAILS = {
    "billing": [
        "It shows up twice on my bank statement.",
        "Our accounting team needs it by Friday.",
        "I paid with the card ending in 4242.",
        "Nothing changed on our side.",
    ],
    "bug": [
        "I already tried logging out and in again.",
        "It started after the last update.",
        "Clearing the cache did not help.",
        "My colleague sees the same thing.",
    ],
    "account": [
        "I still have access to my old e-mail.",
        "I am the admin of our workspace.",
        "Nobody else in the team has this problem.",
        "We set the account up last year.",
    ],
    "feature_request": [
        "Several people on my team asked for it.",
        "Other tools we use already have this.",
        "We would happily test a beta.",
        "This would help us a lot.",
    ],
    "other": [
        "No rush at all.",
        "Keep up the good work.",
        "Just curious.",
        "A friend recommended you.",
    ],
}

# Tickets that mix two intents: (text, the intent the guideline picks, the other one).
MIXED = [
    (
        "The app crashes every time I open the invoice for {month}, and I think I was "
        "charged twice.",
        "bug",
        "billing",
    ),
    ("I can't log in since my card was declined for the {plan} plan.", "account", "billing"),
    (
        "Could you add a way to download all invoices at once? Right now I click each one.",
        "feature_request",
        "billing",
    ),
    (
        "Export to {fmt} takes minutes and then times out; a progress bar would be nice.",
        "bug",
        "feature_request",
    ),
    ("{Name} can't see {area} since I added them to our {plan} workspace.", "account", "bug"),
    ("Is there a discount if we move 20 seats to the {plan} plan?", "billing", "other"),
    ("{Area} is confusing since the redesign, can you bring back the old layout?",
     "feature_request", "bug"),
    ("Password reset e-mails never arrive. Is your mail server down?", "account", "bug"),
    (
        "Why does the {plan} plan not include single sign-on? We need it for the whole team.",
        "feature_request",
        "billing",
    ),
    ("I was logged out and now my {plan} trial shows as expired.", "account", "billing"),
    ("Your status page says all good but {area} won't load. Are you hiring, by the way?", "bug",
     "other"),
    ("Can I get a refund for {month}? {Area} was unusable for a week.", "billing", "bug"),
]  # fmt: skip

GREETINGS = ["", "", "Hi,", "Hello,", "Hi team,", "Hello support,", "Hey there!", "Good morning,"]
FILLERS = ["", "", "", "This is urgent.", "Thanks in advance.", "Sorry if this was asked before."]
SIGN_OFFS = ["", "", "Thanks", "Thank you!", "Cheers,", "Best regards,", "Kind regards,"]
# "Renée" is spelled in decomposed Unicode (NFD), as some keyboards send it: normalization fixes it.
NAMES = ["Maria", "Jon", "Aiko", "Priya", "Tomasz", "Lena", "Omar", "Rene\u0301e", "Diego", "Ngozi"]
VALUES = {
    "plan": ["Basic", "Pro", "Team", "Enterprise"],
    "month": ["January", "March", "June", "September", "October", "November"],
    "area": ["the dashboard", "settings", "the reports view", "the inbox", "the calendar"],
    "fmt": ["CSV", "PDF", "Excel"],
    "device": ["Android", "my iPhone", "the web app", "Windows", "macOS"],
    "device_kind": ["phone", "laptop", "tablet"],
    "city": ["Berlin", "Lisbon", "Toronto", "Nairobi", "Osaka"],
    "lang": ["Portuguese", "Japanese", "Polish", "Swahili"],
    "name": NAMES,
}
CHANNELS = ["email", "chat", "web_form"]
# Personal data the pre-processing step redacts (all of it fictional).
PII = [
    "You can reach me at {first}.{last}@example.com.",
    "Call me back on +1 555 01{n:02d} 23{n:02d}.",
    "My card is 4111 1111 1111 1111.",
]
LAST_NAMES = ["Silva", "Okafor", "Tanaka", "Novak", "Berg"]

# Deliberate resubmissions: (ticket number, ticket number it repeats word for word).
RESUBMITTED = {41: 40, 97: 12, 133: 132}
# Deliberately bad rows, by ticket number: what is wrong with each.
BAD_ROWS = {
    23: "truncated_json",
    58: "missing_text",
    77: "bad_date",
    101: "too_long",
    119: "unknown_channel",
    146: "legacy_id",
}


def _typo(rng: random.Random, text: str) -> str:
    """Swap two letters inside one longer word, as fast typists do."""
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not long_words:
        return text
    i = rng.choice(long_words)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def _fill(rng: random.Random, template: str) -> str:
    values = {key: rng.choice(options) for key, options in VALUES.items()}
    values["order"] = f"{rng.choice('ABCDE')}-{rng.randrange(1000, 99999)}"
    values |= {key.capitalize(): value[:1].upper() + value[1:] for key, value in values.items()}
    return template.format(**values)


def _text(rng: random.Random, core: str, intent: str, *, with_pii: bool) -> str:
    parts = [rng.choice(GREETINGS), core]
    if rng.random() < 0.45:
        parts.append(rng.choice(DETAILS[intent]))
    if rng.random() < 0.08 and with_pii:
        n = rng.randrange(100)
        first, last = rng.choice(NAMES).lower(), rng.choice(LAST_NAMES).lower()
        parts.append(rng.choice(PII).format(first=first, last=last, n=n))
    parts.append(rng.choice(FILLERS))
    sign_off = rng.choice(SIGN_OFFS)
    if sign_off:
        parts.append(f"{sign_off} {rng.choice(NAMES)}" if sign_off.endswith(",") else sign_off)
    text = (" " if rng.random() < 0.9 else "  ").join(part for part in parts if part)
    if rng.random() < 0.2:
        text = _typo(rng, text)
    if rng.random() < 0.1:
        text = text.lower()
    return text


def generate_with_truth(
    seed: int = SEED, count: int = COUNT
) -> tuple[list[dict[str, str | None]], list[dict[str, str | None]]]:
    """Return the demo tickets and the hidden intent of each (``ambiguous_with`` if mixed).

    The tickets are the JSON objects of the sample's lines, except the truncated one, whose
    object holds the broken line under ``"_raw_line"``.
    """
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    intents = sorted(TEMPLATES)
    tickets: list[dict[str, str | None]] = []
    truth: list[dict[str, str | None]] = []
    for number in range(1, count + 1):
        ticket_id = f"T{number:05d}"
        if rng.random() < 0.1:
            template, intent, other = rng.choice(MIXED)
        else:
            intent, other = rng.choice(intents), None
            template = rng.choice(TEMPLATES[intent])
        text = _text(rng, _fill(rng, template), intent, with_pii=number not in BAD_ROWS)
        created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 50))
        channel = rng.choice(CHANNELS)
        if number in RESUBMITTED:
            original = RESUBMITTED[number]
            text = str(tickets[original - 1]["text"])
            intent = truth[original - 1]["intent"]
            other = truth[original - 1]["ambiguous_with"]
        ticket: dict[str, str | None] = {
            "ticket_id": ticket_id,
            "text": text,
            "channel": channel,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        problem = BAD_ROWS.get(number)
        if problem == "missing_text":
            ticket["text"] = None
        elif problem == "bad_date":
            ticket["created_at"] = created.strftime("%d/%m/%Y %H:%M")
        elif problem == "too_long":
            log = "".join(f"ERROR worker-{i}: sync failed, retrying in 30 s\n" for i in range(60))
            ticket["text"] = f"{text} Here is the full log:\n{log}"
        elif problem == "unknown_channel":
            ticket["channel"] = "fax"
        elif problem == "legacy_id":
            ticket["ticket_id"] = f"TK-{number:04d}"
        elif problem == "truncated_json":
            line = json.dumps(ticket, ensure_ascii=False)
            ticket = {"ticket_id": ticket_id, "_raw_line": line[: len(line) // 2]}
        tickets.append(ticket)
        truth.append({"ticket_id": ticket["ticket_id"], "intent": intent, "ambiguous_with": other})
    return tickets, truth


def generate(seed: int = SEED, count: int = COUNT) -> list[dict[str, str | None]]:
    """Return the demo tickets (the hidden intents are left out)."""
    return generate_with_truth(seed, count)[0]


def pick_gold(
    truth: list[dict[str, str | None]], seed: int = SEED, count: int = GOLD_COUNT
) -> list[dict[str, str]]:
    """Choose ``count`` unambiguous tickets that reach annotation, spread over the labels."""
    excluded = set(BAD_ROWS) | set(RESUBMITTED) | set(RESUBMITTED.values())
    by_label: dict[str, list[str]] = {label: [] for label in LABELS}
    for number, row in enumerate(truth, start=1):
        if number not in excluded and row["ambiguous_with"] is None:
            by_label[str(row["intent"])].append(str(row["ticket_id"]))
    rng = random.Random(seed + 1)
    chosen: list[dict[str, str]] = []
    for index, label in enumerate(LABELS):
        share = count // len(LABELS) + (1 if index < count % len(LABELS) else 0)
        chosen += [{"ticket_id": t, "label": label} for t in rng.sample(by_label[label], share)]
    return sorted(chosen, key=lambda row: row["ticket_id"])


def _line(row: dict[str, str | None]) -> str:
    return row["_raw_line"] if "_raw_line" in row else json.dumps(row, ensure_ascii=False)


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    tickets, truth = generate_with_truth()
    gold = pick_gold(truth)
    _write(OUT, [_line(ticket) for ticket in tickets])
    _write(TRUTH, [json.dumps(row) for row in truth])
    _write(GOLD, [json.dumps(row) for row in gold])
    mixed = sum(1 for row in truth if row["ambiguous_with"])
    print(
        f"DEMO DATA: wrote {len(tickets)} tickets ({mixed} with mixed intents, "
        f"{len(BAD_ROWS)} deliberately bad, {len(RESUBMITTED)} resubmitted) to {OUT}, "
        f"their hidden intents to {TRUTH.name} and {len(gold)} gold answers to {GOLD.name}"
    )


if __name__ == "__main__":
    main()
