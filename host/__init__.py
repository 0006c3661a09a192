"""The host around the bot: settings, the HTTP app, logging and the command line."""
