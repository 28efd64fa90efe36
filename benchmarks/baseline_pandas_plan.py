"""The straightforward script elksxl plan is measured against: pandas + phonenumbers + str.format.

Usage: python benchmarks/baseline_pandas_plan.py WORKBOOK
"""

from __future__ import annotations

import json
import math
import sys

import pandas as pd
import phonenumbers

TEMPLATE = "Hej {Förnamn}! Påminnelse: din tid är {Datum}. Belopp att betala: {Belopp} kr."


def main(path: str) -> None:
    frame = pd.read_excel(path, sheet_name=0, dtype=object)
    seen: set[str] = set()
    messages, problems = [], []
    for index, row in frame.iterrows():
        raw = row["Telefon"]
        try:
            if isinstance(raw, float):
                raw = str(int(raw))
            number = phonenumbers.parse(str(raw), "SE")
            if not phonenumbers.is_valid_number(number):
                raise ValueError("invalid")
        except Exception as exc:
            problems.append({"row": int(index) + 2, "reason": str(exc)})
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 in seen:
            continue
        seen.add(e164)
        text = TEMPLATE.format(**row.to_dict())
        parts = 1 if len(text) <= 160 else math.ceil(len(text) / 153)
        messages.append({"row": int(index) + 2, "to": e164, "text": text, "parts": parts})
    print(json.dumps({"messages": messages, "problems": problems}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
