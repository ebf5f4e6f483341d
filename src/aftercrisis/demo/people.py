"""Made-up people for the demo: names, 999-prefixed test NHS numbers, contact details."""

from __future__ import annotations

import datetime as dt
import random

from nhs_number import calculate_checksum

GIVEN = {
    "female": [
        "Amara",
        "Beth",
        "Chloe",
        "Deborah",
        "Ella",
        "Fatima",
        "Grace",
        "Hannah",
        "Ines",
        "Jade",
        "Kerry",
        "Leah",
        "Maya",
        "Nadia",
        "Olivia",
        "Priya",
        "Rosa",
        "Sophie",
        "Tanisha",
        "Zoe",
    ],
    "male": [
        "Aaron",
        "Ben",
        "Callum",
        "Daniel",
        "Emeka",
        "Farhan",
        "George",
        "Harry",
        "Imran",
        "Jack",
        "Kwame",
        "Liam",
        "Mohammed",
        "Nathan",
        "Oscar",
        "Patrick",
        "Ravi",
        "Samuel",
        "Tom",
        "Yusuf",
    ],
}
FAMILY = [
    "Adeyemi",
    "Ahmed",
    "Baker",
    "Brown",
    "Campbell",
    "Clarke",
    "Davies",
    "Evans",
    "Green",
    "Hall",
    "Hughes",
    "Islam",
    "Jones",
    "Khan",
    "Lewis",
    "Mensah",
    "Murphy",
    "Nowak",
    "Okafor",
    "Patel",
    "Roberts",
    "Shah",
    "Smith",
    "Taylor",
    "Thomas",
    "Walker",
    "Williams",
    "Wilson",
    "Wright",
    "Young",
]
STREETS = [
    "Albert Road",
    "Church Street",
    "Grove Lane",
    "High Street",
    "Mill Road",
    "Park Avenue",
    "Station Road",
    "Victoria Street",
]
POSTCODES = {"CAM": "NW1", "ISL": "N7", "HAR": "N15", "ENF": "EN1", "BRI": "BN2", "SLO": "SL1"}


class TestNhsNumbers:
    """Valid NHS numbers from the 999 range, which is reserved for testing and never issued."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def next(self) -> str:
        while True:
            body = f"999{self._rng.randrange(10**6):06d}"
            check = calculate_checksum(body)
            number = f"{body}{check}"
            if check is not None and check != 10 and number not in self._used:
                self._used.add(number)
                return number


def identity(
    rng: random.Random, numbers: TestNhsNumbers, *, sex: str, age: int, on: dt.date, site: str
) -> dict[str, object]:
    given = rng.choice(GIVEN[sex])
    family = rng.choice(FAMILY)
    born = on - dt.timedelta(days=int(age * 365.25) + rng.randrange(365))
    return {
        "nhs_number": numbers.next(),
        "given_name": given,
        "family_name": family,
        "date_of_birth": born,
        "address": f"{rng.randrange(1, 200)} {rng.choice(STREETS)}",
        "postcode": f"{POSTCODES.get(site, 'N1')} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
        "phone": f"07700 900{rng.randrange(1000):03d}",  # Ofcom's drama range: never a real number
        "email": f"{given.lower()}.{family.lower()}@example.org",
    }
