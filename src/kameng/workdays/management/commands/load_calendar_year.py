from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kameng.workdays.services import load_year_from_text


class Command(BaseCommand):
    help = (
        "Load a year's holiday schedule from a text file "
        "(lines like '2027-01-01 holiday 元旦' / '2027-02-07 workday 春节调休')."
    )

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument("--note", default="")

    def handle(self, *args, year: int, file: Path, note: str, **options):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {file}: {error}") from error
        try:
            _calendar_year, schedule = load_year_from_text(year=year, text=text, note=note)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            f"loaded {year}: {len(schedule.holidays)} holidays, {len(schedule.workdays)} make-up workdays"
        )
