"""Availability polls for a working group, and the meeting booked from one (issue 8 items 2–6).

"planera spånarmöte för Civilsamhälle" starts a short dialog (title, length, place, candidate
slots written in Swedish or proposed by the bot, last day to answer). The poll card goes to the
group's chat and to each member personally; the shared card is updated in place after every
answer. Members who have not answered are nudged through the reminders capability. At the
deadline, or when everyone has answered, the coordinator gets the ranked result with a "Boka"
button per slot; booking announces the meeting, sends each member an invite (.ics served by the
bot, plus an Outlook on the web link) and schedules the meeting reminders.

The rooms: `capability` (what a member writes or presses), `planning` (the dialog), `cards`,
`invitations` (.ics and Outlook link), `proposals` (the bot's own slots), `outbox` (what the
capability sends on its own), `deadlines` (closing due polls), `texts` (every word).
"""

from dialogs.polls.capability import Polls
from dialogs.polls.texts import Texts

__all__ = ["Polls", "Texts"]
