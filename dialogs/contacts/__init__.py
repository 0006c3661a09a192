"""The competence bank: find a consenting colleague by competence and municipality; manage yourself.

Privacy rules live here as much as in storage: only entries with consent are ever shown or
counted (the index holds nothing else), nothing is answered in Teams when the tenant is unknown,
and everything about oneself (add, see, change, erase) happens in a personal chat only.

The rooms: `capability` (the handlers), `answers` (who was found, as a card and as text),
`self_service` (the add/change and erase dialogs, "visa mina uppgifter"), `texts` (every word).
"""

from dialogs.contacts.answers import (
    contact_card,
    contact_text,
    reply_with_contacts,
    taught_contact_answer,
    teams_chat_url,
    tel_url,
)
from dialogs.contacts.capability import CompetenceBank, may_see_contacts
from dialogs.contacts.texts import Texts, describe_contact_import

__all__ = [
    "CompetenceBank",
    "Texts",
    "contact_card",
    "contact_text",
    "describe_contact_import",
    "may_see_contacts",
    "reply_with_contacts",
    "taught_contact_answer",
    "teams_chat_url",
    "tel_url",
]
