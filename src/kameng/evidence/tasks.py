from django_tasks import task

from .checks import run_check


@task()
def check_chains_task(requested_by: str) -> int:
    """The full chain check in the background (a page must not wait minutes); returns the problems."""
    _check, problems = run_check(requested_by=requested_by)
    return len(problems)
