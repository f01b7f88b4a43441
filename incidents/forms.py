"""Reading the fields of incident pages' forms (requisitions, measures): each problem is
recorded under its field, in the page's language, for the form to show beside it."""

from datetime import datetime

from flask_babel import gettext as _

from emergency.vocabulary import LOCAL_ZONE


def local_time(text, problems, field, required=True):
    """An aware time from a datetime-local field (Beijing time), recording problems."""
    text = (text or "").strip()
    if not text:
        if required:
            problems[field] = [_("Required.")]
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        problems[field] = [_("Give a date and time.")]
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_ZONE)
