"""The Bot Framework edge: everything that speaks Bot Framework below the dialogs.

`wire` (fast JSON and HTTP for activities), `identity` (who is writing: e-mail / UPN from the
member lookup, cached), `auth` (authentication with reused connector
clients), `state` (botbuilder's Storage on our database) and `manifest` (the Teams app package).
A move to the Microsoft 365 Agents SDK replaces this package, plus the dialogs' use of
`TurnContext` and `ComponentDialog`.
"""
