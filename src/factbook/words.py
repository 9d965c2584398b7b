"""factbook's own words in the language of the edition being rendered (its catalogue), else as written."""

from __future__ import annotations

from .dates import SPEECH


def gettext(message: str, **values: object) -> str:
    """Return message in the edition's language, its %(name)s placeholders filled from values."""
    speech = SPEECH.get()
    text = speech.gettext(message) if speech is not None else message
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    """Return the form of a message for the count n in the edition's language, %(num)s filled with n."""
    speech = SPEECH.get()
    if speech is not None and speech.ngettext is not None:
        text = speech.ngettext(singular, plural, n)
    else:
        text = singular if n == 1 else plural
    return text % {"num": n, **values}


def joined(items: list[str]) -> str:
    """Return items as one phrase: 'events and programmes', 'a and b and c' ('and' in the language)."""
    if not items:
        return ""
    text = items[0]
    for item in items[1:]:
        text = gettext("%(first)s and %(second)s", first=text, second=item)
    return text
