"""Realistic contact files for the benchmarks: 100,000 rows of mixed number formats.

Deterministic (seeded), so every run measures the same bytes.
"""

import csv
import io
import random
from collections.abc import Callable, Iterator
from pathlib import Path

from openpyxl import Workbook

HEADER = ["phone_number", "customer_name", "email", "loan_amount", "product", "city", "notes"]
FIRST = ["Priya", "Rahul", "Ananya", "Vikram", "Jordan", "Morgan", "Alex", "Sam", "Maria", "Wei"]
LAST = ["Sharma", "Mehra", "Iyer", "Rao", "Lee", "Kim", "Rivera", "Patel", "Garcia", "Chen"]
PRODUCTS = ["home_loan", "car_loan", "personal_loan", "credit_card"]
CITIES = ["Mumbai", "Bengaluru", "San Francisco", "London", "Pune", "Austin", "Delhi"]
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _indian_mobile(rng: random.Random) -> str:
    return str(rng.choice("6789")) + "".join(rng.choice("0123456789") for _ in range(9))


def _us_number(rng: random.Random) -> str:
    area = rng.choice(["415", "650", "212", "646", "512", "305", "617", "206"])
    return area + str(rng.randint(200, 999)) + f"{rng.randint(0, 9999):04d}"


def phone_cell(rng: random.Random) -> str:
    """A phone cell as contact lists really hold them (caller region: India)."""
    roll = rng.random()
    mobile = _indian_mobile(rng)
    us = _us_number(rng)
    # Seed 000's Indian list and seed 001's US list, about half each, as people type them.
    forms = [
        (0.14, lambda: mobile),
        (0.09, lambda: f"+91{mobile}"),
        (0.07, lambda: f"+91 {mobile[:5]} {mobile[5:]}"),
        (0.05, lambda: f"0{mobile[:5]} {mobile[5:]}"),
        (0.05, lambda: f"91{mobile}"),  # a spreadsheet dropped the +
        (0.03, lambda: f"{mobile[:3]}.{mobile[3:6]}.{mobile[6:]}"),
        (0.12, lambda: f"+1 ({us[:3]}) {us[3:6]}-{us[6:]}"),
        (0.10, lambda: f"+1-{us[:3]}-{us[3:6]}-{us[6:]}"),
        (0.08, lambda: f"1{us}"),
        (0.06, lambda: f"+1{us}"),
        (0.04, lambda: f"00 1 {us[:3]} {us[3:6]} {us[6:]}"),
        (0.03, lambda: f"+44 20 7946 {rng.randint(0, 9999):04d}"),
        (0.02, lambda: f"tel:+91-{mobile}"),
        (0.01, lambda: f"+91 {mobile}".translate(ARABIC_INDIC)),
        (0.01, lambda: f"+1 900 {rng.randint(200, 999)} {rng.randint(0, 9999):04d}"),  # premium
        (0.01, lambda: ""),
        (0.02, lambda: str(rng.randint(1000, 99999999))),  # too short / junk
    ]
    for weight, make in forms:
        roll -= weight
        if roll < 0:
            return make()
    return mobile


def us_phone_cell(rng: random.Random) -> str:
    """Seed 001's kind of list: US numbers only, as people type them (caller in the US)."""
    us = _us_number(rng)
    forms = [
        us,
        f"+1{us}",
        f"1{us}",
        f"+1 ({us[:3]}) {us[3:6]}-{us[6:]}",
        f"({us[:3]}) {us[3:6]}-{us[6:]}",
        f"{us[:3]}-{us[3:6]}-{us[6:]}",
    ]
    return rng.choice(forms)


def contact_rows(
    rows: int, seed: int = 7, cell: Callable[[random.Random], str] = phone_cell
) -> Iterator[list[str]]:
    rng = random.Random(seed)
    recent: list[str] = []
    for index in range(rows):
        if recent and rng.random() < 0.01:
            phone = rng.choice(recent)  # a duplicate
        else:
            phone = cell(rng)
            recent = [*recent[-50:], phone]
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        yield [
            phone,
            name,
            f"{name.lower().replace(' ', '.')}{index}@example.com",
            str(rng.randint(10, 5000) * 1000),
            rng.choice(PRODUCTS),
            rng.choice(CITIES),
            "follow up on application" if rng.random() < 0.3 else "",
        ]


def write_csv(path: Path, rows: int, cell: Callable[[random.Random], str] = phone_cell) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(contact_rows(rows, cell=cell))
        path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: int) -> Path:
    """As an office suite saves it: numeric-looking cells stored as numbers."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Contacts")
        sheet.append(HEADER)
        for row in contact_rows(rows):
            cells: list[object] = list(row)
            if row[0].isdigit():
                cells[0] = int(row[0])
            cells[3] = int(row[3])
            sheet.append(cells)
        workbook.save(path)
    return path


def write_wide_csv(path: Path, target_bytes: int = 10 * 1024 * 1024 - 4096) -> Path:
    """A file at the 10 MB limit with long rows: 60 variable columns of text."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = random.Random(11)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["phone_number", *(f"field_{i}" for i in range(60))])
        while buffer.tell() < target_bytes - 2048:
            writer.writerow(
                [f"+91{_indian_mobile(rng)}", *(f"value {rng.random():.12f}" for _ in range(60))]
            )
        path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
